//! API keys through the real router, on SQLite and PostgreSQL: every rule of the key
//! system (levels, expiry, revocation, ownership, credentials) and the REST error shape.

use crate::common;

use app::levels::Role;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;

backend_tests!(
    level_zero_is_a_valid_level_that_only_authenticates,
    expiry_defaults_and_bounds,
    a_level_zero_key_cannot_create_a_key,
    a_key_cannot_mint_a_stronger_or_longer_lived_key,
    a_session_cannot_grant_above_its_role,
    an_expired_key_is_refused_with_its_expiry,
    a_revoked_key_fails_on_the_very_next_request,
    another_users_key_answers_not_found,
    bad_credentials_are_401_never_500,
    a_lowered_role_lowers_its_keys,
    a_suspended_owners_keys_fail,
    the_secret_is_only_returned_at_creation,
    usage_is_counted_and_written_in_batches,
    the_per_user_cap_is_enforced,
    admins_revoke_anyones_key_with_a_reason,
    malformed_bodies_get_the_one_error_shape,
    whoami_reports_session_and_key,
);

async fn level_zero_is_a_valid_level_that_only_authenticates(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "probe", "level": 0 })).await;
    assert_eq!(key.body["level"], 0);
    assert_eq!(key.body["level_label"], "Authenticate only (whoami)");
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["level"], 0);
    let res = app.api("GET", "/api/v1/apikeys", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["code"], "level_too_low");
    assert_eq!(res.json()["detail"], "This needs access level 2; this API key acts at level 0.");
}

async fn expiry_defaults_and_bounds(app: TestApp) {
    let session = app.signed_up("ann").await;
    let auth = Auth::Session(&session);
    let now = app::server::db::now();
    let expiry_of = |key: &common::Key| {
        time::OffsetDateTime::parse(key.body["expires_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp()
    };
    // No expiry: the default, 90 days.
    let key = app.create_key(auth, json!({ "name": "default" })).await;
    assert!((expiry_of(&key) - (now + 90 * 86_400)).abs() <= 5);
    assert_eq!(key.body["level"], 1, "the default level is 1");
    // Exactly the maximum is fine; a second more is not.
    let key = app.create_key(auth, json!({ "name": "max", "expires_in": 365 * 86_400 })).await;
    assert!((expiry_of(&key) - (now + 365 * 86_400)).abs() <= 5);
    let cases = [
        (json!({ "name": "k", "expires_in": 365 * 86_400 + 1 }), "expiry_too_long", "expires_in"),
        (json!({ "name": "k", "expires_in": 59 }), "expiry_too_short", "expires_in"),
        (json!({ "name": "k", "expires_in": -5 }), "expiry_too_short", "expires_in"),
        (json!({ "name": "k", "expires_at": "2099-01-01T00:00:00Z" }), "expiry_too_long", "expires_at"),
        (json!({ "name": "k", "expires_at": "2001-01-01T00:00:00Z" }), "expiry_in_past", "expires_at"),
        (json!({ "name": "k", "expires_at": "next tuesday" }), "validation_failed", "expires_at"),
        (json!({ "name": "k", "expires_in": 3600, "expires_at": "2027-01-01T00:00:00Z" }), "validation_failed", "expires_at"),
    ];
    for (body, code, field) in cases {
        let res = app.api("POST", "/api/v1/apikeys", auth, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.text());
        assert_eq!(res.json()["code"], code, "{body}");
        assert_eq!(res.json()["field"], field, "{body}");
    }
    let in_a_month = app::server::db::rfc3339(now + 30 * 86_400);
    let key = app.create_key(auth, json!({ "name": "dated", "expires_at": in_a_month })).await;
    assert_eq!(key.body["expires_at"], in_a_month);
    // Only the three successful keys exist.
    assert_eq!(app.api("GET", "/api/v1/apikeys", auth, None).await.json().as_array().unwrap().len(), 3);
}

async fn a_level_zero_key_cannot_create_a_key(app: TestApp) {
    let session = app.signed_up("ann").await;
    for level in [0, 1, 3] {
        let key = app.create_key(Auth::Session(&session), json!({ "name": "weak", "level": level })).await;
        let res = app.api("POST", "/api/v1/apikeys", Auth::Bearer(&key.token), Some(json!({ "name": "x", "level": 0 }))).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "level {level}");
        assert_eq!(res.json()["code"], "level_too_low");
    }
    assert_eq!(app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await.json().as_array().unwrap().len(), 3);
}

async fn a_key_cannot_mint_a_stronger_or_longer_lived_key(app: TestApp) {
    let admin = app.staff("root", Role::Admin).await;
    let parent = app.create_key(Auth::Session(&admin), json!({ "name": "parent", "level": 4, "expires_in": 7 * 86_400 })).await;
    let by_key = Auth::Bearer(&parent.token);

    let res = app.api("POST", "/api/v1/apikeys", by_key, Some(json!({ "name": "child", "level": 5 }))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["code"], "level_above_creator");
    assert_eq!(res.json()["field"], "level");

    // The default expiry (90 days) would outlive the 7-day parent.
    let res = app.api("POST", "/api/v1/apikeys", by_key, Some(json!({ "name": "child", "level": 4 }))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["code"], "expiry_after_creator");

    let child = app.create_key(by_key, json!({ "name": "child", "level": 4, "expires_in": 6 * 86_400 })).await;
    assert_eq!(child.body["level"], 4);
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&child.token), None).await;
    assert_eq!(res.json()["level"], 4);
    // The audit log says which key made it.
    let log = audit_log(&app).await;
    assert!(log.iter().any(|(kind, key, detail, _)| kind == "key_created"
        && key.as_deref() == Some(child.id.as_str())
        && detail.contains(&format!("created with key {}", parent.id))));
}

async fn a_session_cannot_grant_above_its_role(app: TestApp) {
    let session = app.signed_up("ann").await;
    let res = app.api("POST", "/api/v1/apikeys", Auth::Session(&session), Some(json!({ "name": "k", "level": 5 }))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["code"], "level_above_creator");
    assert_eq!(res.json()["detail"], "You can create keys up to level 4; level 5 is above that.");
    for level in [9, -1, 300] {
        let res = app.api("POST", "/api/v1/apikeys", Auth::Session(&session), Some(json!({ "name": "k", "level": level }))).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "level {level}");
        assert_eq!(res.json()["code"], "unknown_level");
        assert_eq!(res.json()["field"], "level");
    }
}

async fn an_expired_key_is_refused_with_its_expiry(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "old" })).await;
    let past = app::server::db::now() - 10;
    app.exec(&format!("UPDATE api_keys SET expires_at = {past} WHERE id = '{}'", key.id)).await;
    for auth in [Auth::Bearer(&key.token), Auth::Basic(&key.id, &key.secret)] {
        let res = app.api("GET", "/api/v1/whoami", auth, None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.header("www-authenticate").is_some());
        let body = res.json();
        assert_eq!(body["code"], "key_expired");
        assert_eq!(body["expired_at"], app::server::db::rfc3339(past));
    }
    // Listed as expired, and the refused use is in the owner's audit log (once per hour).
    let list = app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await.json();
    assert_eq!(list[0]["expired"], true);
    let log = audit_log(&app).await;
    assert_eq!(log.iter().filter(|(kind, ..)| kind == "key_use_refused").count(), 1);
}

async fn a_revoked_key_fails_on_the_very_next_request(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 4 })).await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    // A key may revoke itself.
    let res = app.api("DELETE", &format!("/api/v1/apikeys/{}", key.id), Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["code"], "key_revoked");
    let res = app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, &key.secret), None).await;
    assert_eq!(res.json()["code"], "key_revoked");
    // Gone from the list, still readable by id with its revocation time; revoking again is harmless.
    assert_eq!(app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await.json(), json!([]));
    let res = app.api("GET", &format!("/api/v1/apikeys/{}", key.id), Auth::Session(&session), None).await;
    assert!(res.json()["revoked_at"].is_string());
    let res = app.api("DELETE", &format!("/api/v1/apikeys/{}", key.id), Auth::Session(&session), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let log = audit_log(&app).await;
    assert_eq!(log.iter().filter(|(kind, ..)| kind == "key_revoked").count(), 1);
}

async fn another_users_key_answers_not_found(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "ann's" })).await;
    let bea_key = app.create_key(Auth::Session(&bea), json!({ "name": "bea's", "level": 4 })).await;
    let path = format!("/api/v1/apikeys/{}", key.id);
    for auth in [Auth::Session(&bea), Auth::Bearer(&bea_key.token)] {
        for method in ["GET", "DELETE"] {
            let res = app.api(method, &path, auth, None).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{method}");
            assert_eq!(res.json()["code"], "not_found");
        }
    }
    // The same answer as for a key that does not exist at all.
    let res = app.api("GET", "/api/v1/apikeys/nosuchkey123", Auth::Session(&bea), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Ann's key still works, and Bea's list holds only her own key.
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    let list = app.api("GET", "/api/v1/apikeys", Auth::Session(&bea), None).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "bea's");
}

async fn bad_credentials_are_401_never_500(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    let unknown = app::auth::token::generate();
    let mut typo = key.token.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let wrong_secret = "A".repeat(32);
    let cases: Vec<(&str, Auth)> = vec![
        ("wrong secret (Basic)", Auth::Basic(&key.id, &wrong_secret)),
        ("bad checksum", Auth::Bearer(&typo)),
        ("unknown id", Auth::Bearer(&unknown.token)),
        ("unknown id (Basic)", Auth::Basic(&unknown.id, &unknown.secret)),
        ("empty Bearer", Auth::Header("Bearer")),
        ("Bearer garbage", Auth::Header("Bearer tpl_!!!")),
        ("unknown scheme", Auth::Header("Token abc")),
        ("Basic not base64", Auth::Header("Basic ***")),
        ("Basic without colon", Auth::Header("Basic YWJj")),
        ("Basic token as user", Auth::Basic(&key.token, "")),
        ("empty header", Auth::Header("")),
    ];
    for (what, auth) in cases {
        let res = app.api("GET", "/api/v1/whoami", auth, None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}: {}", res.text());
        assert_eq!(res.json()["code"], "invalid_credentials", "{what}");
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert!(res.header("www-authenticate").unwrap().contains("Bearer"), "{what}");
    }
    // No credentials at all: a different code, still 401.
    let res = app.api("GET", "/api/v1/whoami", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["code"], "not_authenticated");
    // A malformed header is never a silent fall back to the session.
    let res = app
        .send(
            http::Request::get("/api/v1/whoami")
                .header("host", common::HOST)
                .header("cookie", format!("tapeline_session={session}"))
                .header("authorization", "Bearer nope")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

async fn a_lowered_role_lowers_its_keys(app: TestApp) {
    let admin = app.staff("root", Role::Admin).await;
    let key = app.create_key(Auth::Session(&admin), json!({ "name": "ops", "level": 8 })).await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.json()["level"], 8);
    app.exec("UPDATE users SET role = 'curator' WHERE username = 'root'").await;
    let me = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.json();
    assert_eq!(me["level"], 5);
    assert_eq!(me["key"]["level"], 8, "the key's own level is unchanged");
    app.exec("UPDATE users SET role = 'user' WHERE username = 'root'").await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.json()["level"], 4);
}

async fn a_suspended_owners_keys_fail(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    app.exec("UPDATE users SET suspended_at = 1 WHERE username = 'ann'").await;
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["code"], "account_suspended");
}

async fn the_secret_is_only_returned_at_creation(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    assert!(key.token.starts_with("tpl_") && key.token.contains(&key.secret) && key.token.contains(&key.id));
    assert_eq!(key.body["prefix"], format!("tpl_{}", key.id));
    for path in ["/api/v1/apikeys".to_owned(), format!("/api/v1/apikeys/{}", key.id)] {
        let res = app.api("GET", &path, Auth::Bearer(&key.token), None).await;
        let text = res.text();
        assert!(!text.contains(&key.secret), "{path} leaks the secret");
        assert!(!text.contains("token") && !text.contains("secret"), "{path}: {text}");
    }
    // The database holds only the keyed hash.
    use sqlx::Row;
    let stored: String = sqlx::query("SELECT secret_hash FROM api_keys").fetch_one(&app.state.db).await.unwrap().get(0);
    assert_eq!(stored, app.state.secrets.key_hasher.hash(&key.secret));
    assert!(!stored.contains(&key.secret));
}

async fn usage_is_counted_and_written_in_batches(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 2 })).await;
    let fresh = app.api("GET", &format!("/api/v1/apikeys/{}", key.id), Auth::Session(&session), None).await.json();
    assert_eq!(fresh["calls"], 0);
    assert_eq!(fresh["last_used_at"], serde_json::Value::Null);
    for _ in 0..3 {
        assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    }
    use sqlx::Row;
    let stored = |app: &TestApp| {
        let db = app.state.db.clone();
        let id = key.id.clone();
        async move {
            sqlx::query("SELECT calls FROM api_keys WHERE id = $1").bind(id).fetch_one(&db).await.unwrap().get::<i64, _>(0)
        }
    };
    assert_eq!(stored(&app).await, 0, "no database write per request");
    let listed = app.api("GET", &format!("/api/v1/apikeys/{}", key.id), Auth::Session(&session), None).await.json();
    assert_eq!(listed["calls"], 3, "reads include counts not yet written");
    assert!(listed["last_used_at"].is_string());
    assert_eq!(app.state.usage.flush(&app.state.db).await.unwrap(), 1);
    assert_eq!(stored(&app).await, 3);
    assert_eq!(app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await.json()[0]["calls"], 3);
}

async fn the_per_user_cap_is_enforced(app: TestApp) {
    let mut config = common::test_config();
    config.keys.max_per_user = 2;
    let state = TestApp::state(&app.url, config).await;
    let app = TestApp { router: tapeline_server::router(state.clone()), state, url: app.url.clone(), handle: app.handle };
    let session = app.signed_up("ann").await;
    let first = app.create_key(Auth::Session(&session), json!({ "name": "1" })).await;
    app.create_key(Auth::Session(&session), json!({ "name": "2" })).await;
    let res = app.api("POST", "/api/v1/apikeys", Auth::Session(&session), Some(json!({ "name": "3" }))).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(res.json()["code"], "key_limit_reached");
    // Revoking one frees a place.
    app.api("DELETE", &format!("/api/v1/apikeys/{}", first.id), Auth::Session(&session), None).await;
    app.create_key(Auth::Session(&session), json!({ "name": "3" })).await;
}

async fn admins_revoke_anyones_key_with_a_reason(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "leaked" })).await;
    let support = app.staff("helper", Role::Support).await;
    let path = format!("/api/v1/apikeys/{}", key.id);
    // Support (7) reads anyone's key (6) but may not revoke it (8): told so, not "not found".
    let res = app.api("DELETE", &path, Auth::Session(&support), None).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("level_too_low")));
    // A curator (5) cannot read other people's keys: for them it does not exist.
    let curator = app.staff("curie", Role::Curator).await;
    assert_eq!(app.api("DELETE", &path, Auth::Session(&curator), None).await.status, StatusCode::NOT_FOUND);
    let admin = app.staff("root", Role::Admin).await;
    let res = app.api("DELETE", &path, Auth::Session(&admin), None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["field"], "reason");
    let res = app.api("DELETE", &format!("{path}?reason=found%20in%20a%20public%20repo"), Auth::Session(&admin), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.json()["code"], "key_revoked");
    let log = audit_log(&app).await;
    assert!(log.iter().any(|(kind, _, detail, _)| kind == "key_revoked" && detail == "key “leaked” revoked by root: found in a public repo"));
    // Unknown query parameters are refused, not ignored.
    let res = app.api("DELETE", &format!("{path}?reasn=typo"), Auth::Session(&admin), None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["field"], "reasn");
}

async fn malformed_bodies_get_the_one_error_shape(app: TestApp) {
    let session = app.signed_up("ann").await;
    let post = |body: axum::body::Body, content_type: Option<&'static str>| {
        let mut req = http::Request::post("/api/v1/apikeys")
            .header("host", common::HOST)
            .header("origin", format!("http://{}", common::HOST))
            .header("cookie", format!("tapeline_session={session}"));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.body(body).unwrap()
    };
    let cases: Vec<(axum::body::Body, Option<&'static str>, StatusCode, &str)> = vec![
        ("{\"name\": \"k\"".into(), Some("application/json"), StatusCode::BAD_REQUEST, "malformed_request"),
        ("{\"name\": \"k\"}".into(), None, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("name=k".into(), Some("application/x-www-form-urlencoded"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (format!("{{\"name\": \"{}\"}}", "x".repeat(100 * 1024)).into(), Some("application/json"), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ("[1, 2]".into(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("{\"name\": 5}".into(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("{\"level\": 1}".into(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("{\"name\": \"k\", \"level\": \"x\"}".into(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("{\"name\": \"   \"}".into(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (format!("{{\"name\": \"{}\"}}", "x".repeat(101)).into(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
    ];
    for (body, content_type, status, code) in cases {
        let res = app.send(post(body, content_type)).await;
        assert_eq!(res.status, status, "{code}: {}", res.text());
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert_eq!(res.json()["code"], code);
    }
    // Fields named: a mistyped one, a missing one, a wrong type, every unknown one.
    let named = |body: serde_json::Value| {
        let app = &app;
        let session = session.clone();
        async move { app.api("POST", "/api/v1/apikeys", Auth::Session(&session), Some(body)).await.json() }
    };
    assert_eq!(named(json!({ "level": 1 })).await["field"], "name");
    assert_eq!(named(json!({ "name": "k", "level": "x" })).await["field"], "level");
    let unknown = named(json!({ "name": "k", "levle": 1, "expires": 3 })).await;
    let fields: Vec<&str> = unknown["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["levle", "expires"], "in the order they were sent");
    // Nothing was created by any of these.
    assert_eq!(app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await.json(), json!([]));
}

async fn whoami_reports_session_and_key(app: TestApp) {
    let session = app.signed_up("ann").await;
    let me = app.api("GET", "/api/v1/whoami", Auth::Session(&session), None).await.json();
    assert_eq!(me, json!({ "username": "ann", "role": "user", "level": 4, "auth": "session", "key": null }));
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 2 })).await;
    let me = app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, &key.secret), None).await.json();
    assert_eq!(me["auth"], "key");
    assert_eq!(me["level"], 2);
    assert_eq!(me["key"]["id"], key.id.as_str());
    assert_eq!(me["key"]["name"], "k");
    assert_eq!(me["key"]["expires_at"], key.body["expires_at"]);
}

/// The newest entries of the first account's audit log, as (kind, key id, detail, at).
async fn audit_log(app: &TestApp) -> Vec<(String, Option<String>, String, String)> {
    app::audit::read(&app.state.db, 1, app::audit::Order::NewestFirst, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind.as_str().to_owned(), e.key_id, e.detail, e.at))
        .collect()
}
