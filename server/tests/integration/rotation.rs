//! Regenerating a key (`POST /api/v1/apikeys/{id}/rotate`), on both databases: the new key
//! keeps the name, level and lifetime; the old one lives for the grace period; the creation
//! rules still hold; bad input changes nothing.

use crate::common;

use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;

backend_tests!(rotation_with_grace_zero_refuses_the_old_key_at_once, rotation_with_grace_keeps_both_keys_working, bad_rotations_are_refused_and_change_nothing);

fn unix(rfc3339: &serde_json::Value) -> i64 {
    time::OffsetDateTime::parse(rfc3339.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp()
}

async fn rotation_with_grace_zero_refuses_the_old_key_at_once(app: TestApp) {
    let session = app.signed_up("ann").await;
    let old = app.create_key(Auth::Session(&session), json!({ "name": "sync script", "level": 3, "expires_in": 30 * 86_400 })).await;
    let res = app.api("POST", &format!("/api/v1/apikeys/{}/rotate", old.id), Auth::Session(&session), Some(json!({ "grace_period": 0 }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let new = res.json();
    assert_eq!((new["name"].clone(), new["level"].clone()), (json!("sync script"), json!(3)));
    assert_ne!(new["id"], old.id.as_str());
    let lifetime = unix(&new["expires_at"]) - unix(&new["created_at"]);
    assert!((30 * 86_400 - 2..=30 * 86_400).contains(&lifetime), "the old key's lifetime: {lifetime}");
    // The old key is refused on its very next request; the new one works.
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&old.token), None).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::UNAUTHORIZED, json!("key_expired")));
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(new["token"].as_str().unwrap()), None).await;
    assert_eq!(res.status, StatusCode::OK);
    // The owner's activity says what happened: the rotation, then the old key's refused use.
    let log = app.api("GET", "/api/v1/account/audit", Auth::Session(&session), None).await.json();
    assert_eq!(log["events"][0]["kind"], "key_use_refused", "{log}");
    assert_eq!(log["events"][1]["kind"], "key_rotated", "{log}");
    assert_eq!(log["events"][1]["key_id"], new["id"]);
    assert!(log["events"][1]["detail"].as_str().unwrap().contains(&old.id));
}

async fn rotation_with_grace_keeps_both_keys_working(app: TestApp) {
    let session = app.signed_up("ann").await;
    let old = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 4 })).await;
    // The key rotates itself (level 4 manages keys), with an hour of grace and a shorter life.
    let res = app
        .api("POST", &format!("/api/v1/apikeys/{}/rotate", old.id), Auth::Bearer(&old.token), Some(json!({ "grace_period": 3600, "expires_in": 86_400 })))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let new = res.json();
    assert_eq!(unix(&new["expires_at"]) - unix(&new["created_at"]), 86_400);
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&old.token), None).await.status, StatusCode::OK);
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(new["token"].as_str().unwrap()), None).await.status, StatusCode::OK);
    let listed = app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await.json();
    let old_listed = listed.as_array().unwrap().iter().find(|k| k["id"] == old.id.as_str()).unwrap().clone();
    let left = unix(&old_listed["expires_at"]) - app::server::db::now();
    assert!((3590..=3600).contains(&left), "the old key expires with the grace: {left}");
    assert_eq!(listed.as_array().unwrap().len(), 2, "both keys are listed with their expiries");
    // A key cannot rotate itself into a longer-lived key than itself.
    let res = app
        .api("POST", &format!("/api/v1/apikeys/{}/rotate", old.id), Auth::Bearer(&old.token), Some(json!({ "grace_period": 0, "expires_in": 30 * 86_400 })))
        .await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("expiry_after_creator")));
}

async fn bad_rotations_are_refused_and_change_nothing(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    let path = format!("/api/v1/apikeys/{}/rotate", key.id);
    for (body, field) in [
        (json!({ "grace_period": -1 }), "grace_period"),
        (json!({ "grace_period": 604_801 }), "grace_period"),
        (json!({ "grace_period": "an hour" }), "grace_period"),
        (json!({ "grace_period": 1.5 }), "grace_period"),
        (json!({ "grace_period": 0, "expires_in": 10 }), "expires_in"),
        (json!({ "grace_period": 0, "graceperiod": 5 }), "graceperiod"),
        (json!({}), "grace_period"),
    ] {
        let res = app.api("POST", &path, Auth::Session(&session), Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.text());
        assert_eq!(res.json()["field"], field, "{body}");
    }
    let keys = app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await.json();
    assert_eq!(keys.as_array().unwrap().len(), 1, "nothing was created");
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK, "nothing expired");
    // Only the owner rotates a key: staff who can see it are told so; others find nothing.
    let admin = app.staff("root", app::levels::Role::Admin).await;
    let res = app.api("POST", &path, Auth::Session(&admin), Some(json!({ "grace_period": 0 }))).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("level_too_low")));
    let bea = app.signed_up("bea").await;
    assert_eq!(app.api("POST", &path, Auth::Session(&bea), Some(json!({ "grace_period": 0 }))).await.status, StatusCode::NOT_FOUND);
    let k3 = app.create_key(Auth::Session(&session), json!({ "name": "k3", "level": 3 })).await;
    let res = app.api("POST", &path, Auth::Bearer(&k3.token), Some(json!({ "grace_period": 0 }))).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("level_too_low")));
    // A revoked key cannot be rotated.
    app.api("DELETE", &format!("/api/v1/apikeys/{}", key.id), Auth::Session(&session), None).await;
    let res = app.api("POST", &path, Auth::Session(&session), Some(json!({ "grace_period": 0 }))).await;
    assert_eq!((res.status, res.json()["code"].clone(), res.json()["field"].clone()), (StatusCode::CONFLICT, json!("conflict"), json!("id")));
}
