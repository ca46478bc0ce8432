//! The in-process cache of stored keys (`app::auth::key_cache`), on both databases: it is
//! really used (a change nobody announces is not seen until the entry expires), yet every
//! change made through the service layer applies on the very next request of a remembered
//! key, other processes hear of it through Redis long before their entries expire, and no
//! entry outlives its time to live.

use crate::common;

use common::redis::RedisServer;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

backend_tests!(
    every_change_applies_to_a_remembered_key_on_its_very_next_request,
    a_change_nobody_announces_waits_for_the_entry_to_expire,
    other_processes_hear_of_a_change_through_redis,
    a_wrong_secret_is_refused_whether_or_not_the_key_is_remembered,
);

fn config(ttl: Duration) -> app::server::Config {
    let mut config = common::test_config();
    config.keys.cache_ttl = ttl;
    config
}

async fn whoami(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(token), None).await;
    (res.status, res.json())
}

/// Polls `whoami` until it answers `status`; how long that took, or `None` within `limit`.
async fn seen_within(app: &TestApp, token: &str, status: StatusCode, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if whoami(app, token).await.0 == status {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn every_change_applies_to_a_remembered_key_on_its_very_next_request(app: TestApp) {
    // A time to live far longer than the test: only the service layer's announcement can
    // make the process see each change.
    let app = TestApp::start(app.url.clone(), common::DbHandle::Borrowed, config(Duration::from_secs(3600))).await;
    assert!(app.state.key_cache.is_enabled());
    let ann = app.signed_up("ann").await;
    let ann_id = app.user_id("ann").await;
    let root = app.staff("root", app::levels::Role::Admin).await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "k", "level": 4 })).await;
    let (status, me) = whoami(&app, &key.token).await;
    assert_eq!((status, me["username"].clone()), (StatusCode::OK, json!("ann")));

    // The owner renames the account: the key's next answer has the new name.
    let res = app.api("PATCH", "/api/v1/account", Auth::Session(&ann), Some(json!({ "username": "ann2" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(whoami(&app, &key.token).await.1["username"], "ann2");

    // Staff give the key a rate of 1 a minute: the next call spends it, the one after is refused.
    let path = format!("/api/v1/admin/keys/{}", key.id);
    let res = app.api("PATCH", &path, Auth::Session(&root), Some(json!({ "rate_limit": 1, "reason": "test" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(whoami(&app, &key.token).await.0, StatusCode::OK);
    assert_eq!(whoami(&app, &key.token).await.1["code"], "rate_limited");
    let res = app.api("PATCH", &path, Auth::Session(&root), Some(json!({ "rate_limit": null, "reason": "test" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(whoami(&app, &key.token).await.0, StatusCode::OK, "the default rate again");

    // The owner is suspended, unsuspended, then given another role.
    let user = format!("/api/v1/admin/users/{ann_id}");
    let res = app.api("POST", &format!("{user}/suspend"), Auth::Session(&root), Some(json!({ "reason": "scraping" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(whoami(&app, &key.token).await.1["code"], "account_suspended");
    let res = app.api("POST", &format!("{user}/unsuspend"), Auth::Session(&root), Some(json!({ "reason": "sorry" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(whoami(&app, &key.token).await.0, StatusCode::OK);
    let res = app.api("PATCH", &user, Auth::Session(&root), Some(json!({ "role": "curator" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(whoami(&app, &key.token).await.1["role"], "curator");

    // Rotation with no grace period: the old key is refused at once; the new one works.
    let ann = app.login("ann2", "a long password").await.session_token().unwrap();
    let res = app.api("POST", &format!("/api/v1/apikeys/{}/rotate", key.id), Auth::Session(&ann), Some(json!({ "grace_period": 0 }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let (new_id, new_token) = (res.json()["id"].as_str().unwrap().to_owned(), res.json()["token"].as_str().unwrap().to_owned());
    assert_eq!(whoami(&app, &key.token).await.1["code"], "key_expired");
    assert_eq!(whoami(&app, &new_token).await.0, StatusCode::OK);

    // Revocation by staff.
    let res = app.api("DELETE", &format!("/api/v1/apikeys/{new_id}?reason=leaked"), Auth::Session(&root), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert_eq!(whoami(&app, &new_token).await.1["code"], "key_revoked");
}

async fn a_change_nobody_announces_waits_for_the_entry_to_expire(app: TestApp) {
    // Remembered for an hour: a change made behind the process's back is not seen…
    let long = TestApp::start(app.url.clone(), common::DbHandle::Borrowed, config(Duration::from_secs(3600))).await;
    let session = long.signed_up("ann").await;
    let key = long.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    assert_eq!(whoami(&long, &key.token).await.0, StatusCode::OK);
    long.exec_unannounced(&format!("UPDATE api_keys SET revoked_at = 1 WHERE id = '{}'", key.id)).await;
    assert_eq!(whoami(&long, &key.token).await.0, StatusCode::OK, "the cache answered, not the database");
    // …until the process forgets.
    long.state.key_cache.forget_all();
    assert_eq!(whoami(&long, &key.token).await.1["code"], "key_revoked");

    // With the default time to live, the same kind of change is seen within a second.
    let short = TestApp::start(app.url.clone(), common::DbHandle::Borrowed, config(app::server::config::DEFAULT_KEY_CACHE)).await;
    let other = short.create_key(Auth::Session(&session), json!({ "name": "k2" })).await;
    assert_eq!(whoami(&short, &other.token).await.0, StatusCode::OK);
    short.exec_unannounced(&format!("UPDATE api_keys SET revoked_at = 1 WHERE id = '{}'", other.id)).await;
    let took = seen_within(&short, &other.token, StatusCode::UNAUTHORIZED, Duration::from_secs(3)).await;
    assert!(took.is_some_and(|t| t <= app::server::config::MAX_KEY_CACHE), "refused after {took:?}");

    // Off: every request reads the database.
    let off = TestApp::start(app.url.clone(), common::DbHandle::Borrowed, config(Duration::ZERO)).await;
    assert!(!off.state.key_cache.is_enabled());
    let third = off.create_key(Auth::Session(&session), json!({ "name": "k3" })).await;
    assert_eq!(whoami(&off, &third.token).await.0, StatusCode::OK);
    off.exec_unannounced(&format!("UPDATE api_keys SET revoked_at = 1 WHERE id = '{}'", third.id)).await;
    assert_eq!(whoami(&off, &third.token).await.1["code"], "key_revoked");
}

async fn other_processes_hear_of_a_change_through_redis(app: TestApp) {
    let redis = RedisServer::start();
    // Entries that would live an hour: only Redis's message can explain a prompt refusal.
    let a = app.process(config(Duration::from_secs(3600)), &redis.url()).await;
    let b = app.process(config(Duration::from_secs(3600)), &redis.url()).await;
    let session = a.signed_up("ann").await;
    let key = a.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    // Both processes are subscribed once each has remembered the key and answered.
    let subscribed = Instant::now();
    while common::redis::subscribers(&redis, app::auth::key_cache::CHANNEL) < 2 {
        assert!(subscribed.elapsed() < Duration::from_secs(10), "the processes did not subscribe");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(whoami(&a, &key.token).await.0, StatusCode::OK);
    assert_eq!(whoami(&b, &key.token).await.0, StatusCode::OK);
    let res = a.api("DELETE", &format!("/api/v1/apikeys/{}", key.id), Auth::Session(&session), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(whoami(&a, &key.token).await.1["code"], "key_revoked", "at once where it was revoked");
    let took = seen_within(&b, &key.token, StatusCode::UNAUTHORIZED, Duration::from_secs(5)).await;
    assert!(took.is_some_and(|t| t < app::server::config::MAX_KEY_CACHE), "the other process refused it after {took:?}");
}

async fn a_wrong_secret_is_refused_whether_or_not_the_key_is_remembered(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    let last = if key.secret.ends_with('a') { 'b' } else { 'a' };
    let wrong = format!("{}{last}", &key.secret[..key.secret.len() - 1]);
    for _ in 0..2 {
        let res = app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, &wrong), None).await;
        assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_credentials")));
        assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, &key.secret), None).await.status, StatusCode::OK);
    }
}
