//! Refusals that cut across resources, on both databases: a caller who can read an object
//! but not change it is told `403 level_too_low` (only objects it cannot read answer 404);
//! control characters in text fields are a 422 naming the field — never a 500 (PostgreSQL
//! cannot store U+0000 in text) and never stored; a JSON body that gives a key twice is a
//! 400 naming the key, never read as its last value.

use crate::common;

use app::levels::Role;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    readers_who_may_not_write_are_told_so,
    control_characters_are_refused_in_every_text_field,
    a_key_given_twice_is_refused_naming_it,
);

/// (status, code) of a response, for one-line assertions.
fn answer(res: &common::TestResponse) -> (u16, Value) {
    let code = if res.body.is_empty() { Value::Null } else { res.json()["code"].clone() };
    (res.status.as_u16(), code)
}

async fn readers_who_may_not_write_are_told_so(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let set = app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(json!({ "name": "mine", "notes": "n" }))).await.json();
    let pattern =
        app.api("POST", "/api/v1/patterns", Auth::Session(&ann), Some(json!({ "name": "p", "design": "aaron" }))).await.json();
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "ann's" })).await;
    let (set_path, pattern_path) = (format!("/api/v1/sets/{}", set["id"]), format!("/api/v1/patterns/{}", pattern["id"]));
    let key_path = format!("/api/v1/apikeys/{}", key.id);

    // The issue's example: a support key at level 6 reads anyone's set, but writes at 7.
    let support = app.staff("helper", Role::Support).await;
    let k6 = app.create_key(Auth::Session(&support), json!({ "name": "support 6", "level": 6 })).await.token;
    let too_low = (403, json!("level_too_low"));
    for path in [&set_path, &pattern_path] {
        assert_eq!(answer(&app.api("GET", path, Auth::Bearer(&k6), None).await).0, 200, "GET {path}");
        let res = app.api("PATCH", path, Auth::Bearer(&k6), Some(json!({ "notes": "changed" }))).await;
        assert_eq!(answer(&res), too_low, "PATCH {path}: {}", res.text());
        assert!(res.json()["detail"].as_str().unwrap().contains("level 7"), "{}", res.text());
        assert_eq!(answer(&app.api("DELETE", path, Auth::Bearer(&k6), None).await), too_low, "DELETE {path}");
    }
    // A level-6 key reads anyone's key but only level 8 revokes it.
    assert_eq!(answer(&app.api("GET", &key_path, Auth::Bearer(&k6), None).await).0, 200);
    let res = app.api("DELETE", &format!("{key_path}?reason=test"), Auth::Bearer(&k6), None).await;
    assert_eq!(answer(&res), too_low, "{}", res.text());
    // Nothing changed, and the key still works.
    assert_eq!(app.api("GET", &set_path, Auth::Session(&ann), None).await.json()["notes"], "n");
    assert_eq!(app.api("GET", &pattern_path, Auth::Session(&ann), None).await.json()["notes"], "");
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);

    // Callers who cannot read the object still get 404, exactly like a missing id.
    let bea = app.signed_up("bea").await;
    let k5 = app.create_key(Auth::Session(&support), json!({ "name": "support 5", "level": 5 })).await.token;
    for auth in [Auth::Session(&bea), Auth::Bearer(&k5)] {
        let res = app.api("DELETE", &format!("{key_path}?reason=test"), auth, None).await;
        assert_eq!(answer(&res), (404, json!("not_found")), "{}", res.text());
    }
    for path in [&set_path, &pattern_path] {
        let res = app.api("PATCH", path, Auth::Session(&bea), Some(json!({ "notes": "x" }))).await;
        assert_eq!(answer(&res), (404, json!("not_found")), "PATCH {path} by another user");
    }
    let missing = app.api("PATCH", "/api/v1/sets/999999", Auth::Bearer(&k6), Some(json!({ "notes": "x" }))).await;
    assert_eq!(answer(&missing), (404, json!("not_found")));
}

async fn control_characters_are_refused_in_every_text_field(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let admin = app.staff("root", Role::Admin).await;
    let me = Auth::Session(&ann);
    let count = |table: &'static str| {
        let app = &app;
        async move {
            use sqlx::Row;
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&app.state.db).await.unwrap();
            row.get::<i64, _>("n")
        }
    };
    let before = (count("measurement_sets").await, count("patterns").await, count("curated_sets").await, count("api_keys").await);

    // Each create, with one bad text field: a 422 naming exactly that field.
    let nul = "a\u{0}b";
    let cases: Vec<(&str, Auth, Value, &str)> = vec![
        ("/api/v1/sets", me, json!({ "name": "\u{0}" }), "name"),
        ("/api/v1/sets", me, json!({ "name": "ok", "notes": nul }), "notes"),
        ("/api/v1/sets", me, json!({ "name": "two\nlines" }), "name"),
        ("/api/v1/patterns", me, json!({ "name": nul, "design": "aaron" }), "name"),
        ("/api/v1/patterns", me, json!({ "name": "p", "design": "aaron", "notes": "esc\u{1b}[31m" }), "notes"),
        ("/api/v1/curated-sets", Auth::Session(&admin), json!({ "name": nul }), "name"),
        ("/api/v1/apikeys", me, json!({ "name": nul }), "name"),
    ];
    for (path, auth, body, field) in cases {
        let res = app.api("POST", path, auth, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "POST {path} {body}: {}", res.text());
        assert_eq!(res.json()["field"], field, "POST {path} {body}");
        assert!(res.json()["detail"].as_str().unwrap().contains("control character"), "{}", res.text());
    }
    let after = (count("measurement_sets").await, count("patterns").await, count("curated_sets").await, count("api_keys").await);
    assert_eq!(before, after, "nothing was stored");

    // Notes keep line breaks and tabs; a PATCH with a control character changes nothing.
    let set = app.api("POST", "/api/v1/sets", me, Some(json!({ "name": "ok", "notes": "line one\nline two\r\n\ttab" }))).await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.text());
    let path = format!("/api/v1/sets/{}", set.json()["id"]);
    let res = app.api("PATCH", &path, me, Some(json!({ "notes": "\u{0}" }))).await;
    assert_eq!((res.status, res.json()["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("notes")));
    assert_eq!(app.api("GET", &path, me, None).await.json()["notes"], "line one\nline two\r\n\ttab");

    // Text that is never stored is still never sent to the database as-is: search, a key id
    // in the path, a revocation reason, a log-in name.
    let res = app.api("GET", "/api/v1/sets?q=%00", me, None).await;
    assert_eq!((res.status, res.json()["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("q")));
    let res = app.api("GET", "/api/v1/curated-sets?q=a%00", Auth::None, None).await;
    assert_eq!((res.status, res.json()["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("q")));
    let res = app.api("GET", "/api/v1/apikeys/%00", me, None).await;
    assert_eq!(answer(&res), (404, json!("not_found")));
    let key = app.create_key(me, json!({ "name": "k" })).await;
    let res = app.api("DELETE", &format!("/api/v1/apikeys/{}?reason=%00", key.id), Auth::Session(&admin), None).await;
    assert_eq!((res.status, res.json()["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason")));
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK, "not revoked");
    let res = app.login("ann\u{0}", "a long password").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text());
    assert_eq!(res.json()["code"], "invalid_credentials");
}

async fn a_key_given_twice_is_refused_naming_it(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "script", "level": 3 })).await;
    let send = |method: &'static str, path: String, body: &'static str| {
        let (app, token) = (&app, key.token.clone());
        async move {
            let req = http::Request::builder()
                .method(method)
                .uri(path)
                .header(http::header::HOST, common::HOST)
                .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(body))
                .unwrap();
            app.send(req).await
        }
    };
    let set = send("POST", "/api/v1/sets".into(), r#"{"name": "mine", "measurements": {"chest": 900}}"#).await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.text());
    let path = format!("/api/v1/sets/{}", set.json()["id"]);

    let cases: [(&str, String, &str, &str); 4] = [
        ("POST", "/api/v1/sets".into(), r#"{"name": "a", "name": "b"}"#, "name"),
        ("PATCH", path.clone(), r#"{"measurements": {"chest": 900, "chest": 901}}"#, "measurements.chest"),
        ("PATCH", path.clone(), r#"{"notes": "x", "imperial": true, "notes": "y"}"#, "notes"),
        ("POST", "/api/v1/patterns".into(), r#"{"name": "p", "design": "aaron", "settings": {"ease": 1, "ease": 2}}"#, "settings.ease"),
    ];
    for (method, path, body, field) in cases {
        let res = send(method, path.clone(), body).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{method} {path} {body}: {}", res.text());
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        let problem = res.json();
        assert_eq!((problem["code"].as_str(), problem["field"].as_str()), (Some("malformed_request"), Some(field)), "{body}");
        assert!(problem["detail"].as_str().unwrap().contains(&format!("`{field}` more than once")), "{}", res.text());
    }
    // Nothing changed: one set, its measurement as first written, no pattern.
    let sets = send("GET", "/api/v1/sets".into(), "").await.json();
    assert_eq!(sets["sets"].as_array().map(Vec::len), Some(1), "{sets}");
    let stored = send("GET", path, "").await.json();
    assert_eq!((stored["measurements"]["chest"].as_f64(), stored["notes"].as_str()), (Some(900.0), Some("")));
    assert_eq!(send("GET", "/api/v1/patterns".into(), "").await.json()["patterns"], json!([]));
}
