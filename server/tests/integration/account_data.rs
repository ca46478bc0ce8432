//! The account's own data: profile, password change, export and deletion, through the real
//! router on SQLite and PostgreSQL.

use crate::common;

use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;
use sqlx::Row;

backend_tests!(
    profile_reads_and_changes,
    password_change_needs_the_current_password_and_ends_other_sessions,
    export_holds_everything_and_no_secret,
    deleting_an_account_removes_everything_and_stops_its_keys,
);

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(id).fetch_one(&app.state.db).await.unwrap().get::<i64, _>(0)
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    app::accounts::service::find_by_username(&app.state, username).await.unwrap().unwrap().id
}

async fn profile_reads_and_changes(app: TestApp) {
    let ann = app.signed_up("ann").await;
    app.signed_up("bea").await;
    let auth = Auth::Session(&ann);
    let profile = app.api("GET", "/api/v1/account", auth, None).await.json();
    assert_eq!((profile["username"].as_str(), profile["email"].as_str()), (Some("ann"), Some("ann@example.org")));
    assert_eq!((profile["role"].as_str(), profile["role_level"].as_u64()), (Some("user"), Some(4)));

    let res = app.api("PATCH", "/api/v1/account", auth, Some(json!({ "username": " Ann.L ", "email": "ANN@example.net" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!((res.json()["username"].as_str(), res.json()["email"].as_str()), (Some("ann.l"), Some("ann@example.net")));
    assert_eq!(app.login("ann.l", "a long password").await.status, StatusCode::OK, "log in with the new name");
    assert_eq!(app.me(&ann).await["username"], "ann.l", "the session follows the account");

    for (body, status, field, code) in [
        (json!({ "username": "bea" }), 409, "username", "username_taken"),
        (json!({ "email": "bea@example.org" }), 409, "email", "email_taken"),
        (json!({ "username": "x", "email": "nope" }), 422, "username", "validation_failed"),
        (json!({ "role": "admin" }), 422, "role", "validation_failed"),
    ] {
        let res = app.api("PATCH", "/api/v1/account", auth, Some(body.clone())).await;
        assert_eq!(res.status.as_u16(), status, "{body}: {}", res.text());
        let problem = res.json();
        assert_eq!(problem["code"], code, "{body}");
        let fields: Vec<&str> = match problem["errors"].as_array() {
            Some(errors) => errors.iter().map(|e| e["field"].as_str().unwrap()).collect(),
            None => vec![problem["field"].as_str().unwrap()],
        };
        assert_eq!(fields[0], field, "{body}");
    }
    let res = app.api("PATCH", "/api/v1/account", auth, Some(json!({ "username": "x", "email": "nope" }))).await;
    assert_eq!(res.json()["errors"].as_array().unwrap().len(), 2, "both bad fields named");
    assert_eq!(app.api("GET", "/api/v1/account", auth, None).await.json()["username"], "ann.l", "nothing changed");
    let log = app.api("GET", "/api/v1/account/export", auth, None).await.json()["audit_events"].clone();
    assert_eq!(log[0]["kind"], "profile_changed");
    assert!(log[0]["detail"].as_str().unwrap().contains("ann → ann.l"), "{log}");
}

async fn password_change_needs_the_current_password_and_ends_other_sessions(app: TestApp) {
    let here = app.signed_up("ann").await;
    let elsewhere = app.login("ann", "a long password").await.session_token().unwrap();
    let path = "/api/v1/account/password";
    let change = |current: &str, new: &str| Some(json!({ "current_password": current, "new_password": new }));

    // A wrong current password: the request is well formed, the proof is wrong — 403.
    let res = app.api("POST", path, Auth::Session(&here), change("wrong password", "a new long password")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!((res.json()["code"].as_str(), res.json()["field"].as_str()), (Some("wrong_password"), Some("current_password")));
    let res = app.api("POST", path, Auth::Session(&here), change("", "short")).await;
    let body = res.json();
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["current_password", "new_password"]);
    let res = app.api("POST", path, Auth::Session(&here), Some(json!({ "new_password": "a new long password" }))).await;
    assert_eq!((res.status, res.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password")));
    assert_eq!(app.login("ann", "a long password").await.status, StatusCode::OK, "still the old password");

    // Levels: a key needs 4.
    let three = app.create_key(Auth::Session(&here), json!({ "name": "three", "level": 3 })).await;
    let four = app.create_key(Auth::Session(&here), json!({ "name": "four", "level": 4 })).await;
    let res = app.api("POST", path, Auth::Bearer(&three.token), change("a long password", "a new long password")).await;
    assert_eq!((res.status, res.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("level_too_low")));
    assert_eq!(app.api("POST", path, Auth::None, change("a long password", "x")).await.status, StatusCode::UNAUTHORIZED);

    let res = app.api("POST", path, Auth::Session(&here), change("a long password", "a new long password")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert_eq!(app.me(&here).await["username"], "ann", "this session stays");
    assert_eq!(app.me(&elsewhere).await, serde_json::Value::Null, "the other session ended");
    assert_eq!(app.login("ann", "a long password").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ann", "a new long password").await.status, StatusCode::OK);
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&four.token), None).await.status, StatusCode::OK, "keys keep working");

    // With a level-4 key: allowed, and it signs every session out.
    let res = app.api("POST", path, Auth::Bearer(&four.token), change("a new long password", "a third long password")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert_eq!(app.me(&here).await, serde_json::Value::Null);

    // Guessing the current password is throttled like log-ins.
    let fresh = app.login("ann", "a third long password").await.session_token().unwrap();
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = app.api("POST", path, Auth::Session(&fresh), change("guess", "a fourth long password")).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let res = app.api("POST", path, Auth::Session(&fresh), change("guess", "a fourth long password")).await;
    assert!(res.header("retry-after").is_some());
    let kinds: Vec<String> = app.api("GET", "/api/v1/account/export", Auth::Bearer(&four.token), None).await.json()["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "password_changed").count(), 2, "{kinds:?}");
}

async fn export_holds_everything_and_no_secret(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    let auth = Auth::Session(&ann);
    let set = app.api("POST", "/api/v1/sets", auth, Some(json!({ "name": "me", "measurements": { "waist": 700 } }))).await.json();
    let set2 = app.api("POST", "/api/v1/sets", auth, Some(json!({ "name": "mum", "public": true }))).await.json();
    let pattern = app.api("POST", "/api/v1/patterns", auth, Some(json!({ "name": "shirt", "design": "aaron", "set_id": set["id"], "settings": { "sa": 10 } }))).await.json();
    app.api("POST", "/api/v1/sets", Auth::Session(&bea), Some(json!({ "name": "bea's" }))).await;
    let reader = app.create_key(auth, json!({ "name": "reader", "level": 2 })).await;
    let low = app.create_key(auth, json!({ "name": "low", "level": 1 })).await;
    let gone = app.create_key(auth, json!({ "name": "gone", "level": 3 })).await;
    app.api("DELETE", &format!("/api/v1/apikeys/{}", gone.id), auth, None).await;

    let res = app.api("GET", "/api/v1/account/export", Auth::Bearer(&low.token), None).await;
    assert_eq!((res.status, res.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("level_too_low")));
    let res = app.api("GET", "/api/v1/account/export", Auth::Bearer(&reader.token), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let disposition = res.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment; filename=\"tapeline-ann-") && disposition.ends_with(".json\""), "{disposition}");
    let export = res.json();
    assert_eq!(export["format"], "tapeline-export/1");
    assert_eq!(export["account"]["username"], "ann");
    assert_eq!(export["sets"], json!([set, set2]));
    assert_eq!(export["patterns"], json!([pattern]));
    let mut keys: Vec<(&str, bool)> = export["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap(), k["revoked_at"].is_string()))
        .collect();
    keys.sort();
    assert_eq!(keys, [("gone", true), ("low", false), ("reader", false)], "revoked keys too");
    let kinds: Vec<&str> = export["audit_events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["key_created", "key_created", "key_created", "key_revoked"]);

    // No secret of any kind, anywhere in the document.
    let text = res.text();
    for key in [&reader, &low, &gone] {
        assert!(!text.contains(&key.secret) && !text.contains(&key.token), "a key secret leaked");
    }
    assert!(!text.contains(&ann), "the session token leaked");
    assert!(!text.contains("$argon2"), "the password hash leaked");
    assert!(!text.contains("a long password"));
    assert!(!text.contains("bea"), "another user's data leaked");
}

async fn deleting_an_account_removes_everything_and_stops_its_keys(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    let auth = Auth::Session(&ann);
    let id = user_id(&app, "ann").await;
    let set = app.api("POST", "/api/v1/sets", auth, Some(json!({ "name": "me", "public": true }))).await.json();
    app.api("POST", "/api/v1/patterns", auth, Some(json!({ "name": "shirt", "design": "aaron", "set_id": set["id"] }))).await;
    let key = app.create_key(auth, json!({ "name": "script", "level": 4 })).await;
    let other_session = app.login("ann", "a long password").await.session_token().unwrap();
    let beas = app.api("POST", "/api/v1/sets", Auth::Session(&bea), Some(json!({ "name": "bea's" }))).await.json();
    // bea's pattern uses ann's public set: it stays, unlinked.
    let beas_pattern = app.api("POST", "/api/v1/patterns", Auth::Session(&bea), Some(json!({ "name": "p", "design": "aaron", "set_id": set["id"] }))).await.json();
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);

    // Not through the REST API, not even with a level-4 key.
    let res = app.api("DELETE", "/api/v1/account", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    // A wrong or missing password deletes nothing.
    for (password, status) in [("not my password", StatusCode::FORBIDDEN), ("", StatusCode::UNPROCESSABLE_ENTITY)] {
        let res = app.form("/ui/account/delete", &[("password", password)], Some(&ann)).await;
        assert_eq!(res.status, status, "{}", res.text());
        assert_eq!(res.json()["field"], "password");
    }
    assert_eq!(app.user_count().await, 2);

    let res = app.form("/ui/account/delete", &[("password", "a long password")], Some(&ann)).await;
    assert!(res.status.is_success() || res.status.is_redirection(), "{} {}", res.status, res.text());
    assert_eq!(res.session_token(), None, "the cookie is cleared");

    // The key fails on the very next request, and every session is gone.
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!((res.status, res.json()["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
    assert_eq!(app.me(&ann).await, serde_json::Value::Null);
    assert_eq!(app.me(&other_session).await, serde_json::Value::Null);
    assert_eq!(app.api("GET", &format!("/api/v1/public/sets/{}", set["id"]), Auth::None, None).await.status, StatusCode::NOT_FOUND);
    for table in ["users WHERE id", "measurement_sets WHERE user_id", "patterns WHERE user_id", "api_keys WHERE user_id", "sessions WHERE user_id", "audit_events WHERE user_id"] {
        assert_eq!(count(&app, &format!("SELECT COUNT(*) FROM {table} = $1"), id).await, 0, "{table}");
    }
    // Nobody else lost anything.
    assert_eq!(app.api("GET", &format!("/api/v1/sets/{}", beas["id"]), Auth::Session(&bea), None).await.status, StatusCode::OK);
    let p = app.api("GET", &format!("/api/v1/patterns/{}", beas_pattern["id"]), Auth::Session(&bea), None).await.json();
    assert_eq!(p["set_id"], serde_json::Value::Null);
    assert_eq!(app.user_count().await, 1);
    // The name is free again.
    assert_eq!(app.signup("ann", "ann@example.org", "a long password").await.status, StatusCode::OK);
}
