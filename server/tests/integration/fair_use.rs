//! Fair use, on both databases: each key's per-minute rate and daily quota with the IETF
//! headers, `Tapeline-Key-Expires`, the per-address limit of anonymous calls, and exact
//! daily counts of accepted and refused calls.

use crate::common;

use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;

backend_tests!(
    a_key_is_limited_per_minute_with_standard_headers,
    a_key_is_limited_per_day_and_a_restart_does_not_reset_the_quota,
    anonymous_calls_are_limited_per_address,
    behind_a_trusted_proxy_each_client_is_limited_by_its_own_address,
);

/// The app of `app`'s database, restarted with these limits.
async fn with_limits(app: TestApp, rate: u32, quota: u32, anon: u32) -> TestApp {
    let mut config = common::test_config();
    config.keys.rate_per_minute = rate;
    config.keys.daily_quota = quota;
    config.keys.anon_rate_per_minute = anon;
    let state = TestApp::state(&app.url, config).await;
    TestApp { router: tapeline_server::router(state.clone()), state, url: app.url, handle: app.handle }
}

fn seconds_to_midnight() -> u64 {
    86_400 - app::server::db::now().rem_euclid(86_400) as u64
}

async fn a_key_is_limited_per_minute_with_standard_headers(app: TestApp) {
    let app = with_limits(app, 3, 1000, 1000).await;
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    let other = app.create_key(Auth::Session(&session), json!({ "name": "other" })).await;
    let day_reset = |header: &str| header.rsplit("t=").next().unwrap().parse::<u64>().unwrap();
    for remaining in [2, 1, 0] {
        let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("ratelimit-policy"), Some("\"minute\";q=3;w=60, \"day\";q=1000;w=86400"));
        let state = res.header("ratelimit").unwrap();
        let used = 3 - remaining;
        let prefix = format!("\"minute\";r={remaining};t={}, \"day\";r={};t=", used * 20, 1000 - used);
        assert!(state.starts_with(&prefix), "{state} (expected {prefix}…)");
        assert!(day_reset(state).abs_diff(seconds_to_midnight()) <= 2, "{state}");
        assert_eq!(res.header("tapeline-key-expires"), key.body["expires_at"].as_str());
        assert!(res.header("x-ratelimit-limit").is_none() && res.header("ratelimit-limit").is_none());
    }
    // Over the rate: 429 rate_limited, Retry-After in whole seconds, r=0 — and the key's
    // calls come back after Retry-After (20 s at 3 a minute: not waited for here).
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    let body = res.json();
    assert_eq!(body["code"], "rate_limited");
    let retry_after: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((19..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(body["retry_after"], retry_after);
    assert!(res.header("ratelimit").unwrap().starts_with("\"minute\";r=0;"), "{:?}", res.header("ratelimit"));
    assert!(res.header("tapeline-key-expires").is_some());
    // Refused calls do no work beyond authentication: a write is refused without effect.
    let res = app.api("POST", "/api/v1/apikeys", Auth::Bearer(&key.token), Some(json!({ "name": "x" }))).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Another key of the same owner is untouched; a session is not limited.
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&other.token), None).await.status, StatusCode::OK);
    let res = app.api("GET", "/api/v1/apikeys", Auth::Session(&session), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("ratelimit").is_none(), "sessions carry no key limits");
    let listed = res.json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "the refused POST created nothing");
    // The listing tells each key's calls today and its limits, before any flush.
    let listed_key = listed.as_array().unwrap().iter().find(|k| k["id"] == key.id.as_str()).unwrap();
    assert_eq!((listed_key["calls_today"].clone(), listed_key["refused_today"].clone()), (json!(3), json!(2)));
    assert_eq!(listed_key["limits"], json!({ "rate_limit": 3, "daily_quota": 1000, "custom": false }));
    let one = app.api("GET", &format!("/api/v1/apikeys/{}", other.id), Auth::Session(&session), None).await.json();
    assert_eq!((one["calls_today"].clone(), one["refused_today"].clone()), (json!(1), json!(0)));

    // Exact daily counts: 3 answered, 2 refused.
    let usage = app.api("GET", &format!("/api/v1/apikeys/{}/usage?days=1", key.id), Auth::Session(&session), None).await.json();
    assert_eq!((usage["days"][0]["calls"].clone(), usage["days"][0]["refused"].clone()), (json!(3), json!(2)));
    app.state.usage.flush(&app.state.db).await.unwrap();
    let usage = app.api("GET", &format!("/api/v1/apikeys/{}/usage?days=1", key.id), Auth::Session(&session), None).await.json();
    assert_eq!((usage["days"][0]["calls"].clone(), usage["days"][0]["refused"].clone()), (json!(3), json!(2)));

    // The owner's activity says the key met its limits today — once, however many flushes.
    for _ in 0..2 {
        app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
        app.state.usage.flush(&app.state.db).await.unwrap();
    }
    let log = app.api("GET", "/api/v1/account/audit", Auth::Session(&session), None).await.json();
    let limited: Vec<_> = log["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "key_limited").collect();
    assert_eq!(limited.len(), 1, "{log}");
    assert_eq!(limited[0]["key_id"], key.id.as_str());
}

async fn a_key_is_limited_per_day_and_a_restart_does_not_reset_the_quota(app: TestApp) {
    let app = with_limits(app, 1000, 4, 1000).await;
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    for _ in 0..3 {
        assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    }
    // A graceful stop writes the counts; the restarted process starts from them.
    app.state.usage.flush(&app.state.db).await.unwrap();
    let app = with_limits(app, 1000, 4, 1000).await;
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("ratelimit").unwrap().contains("\"day\";r=0;"), "{:?}", res.header("ratelimit"));
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.json()["code"], "quota_exceeded");
    let retry_after: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after.abs_diff(seconds_to_midnight()) <= 2, "Retry-After {retry_after} points at the next UTC midnight");
    // A key created later has a quota of its own.
    let fresh = app.create_key(Auth::Session(&session), json!({ "name": "fresh" })).await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&fresh.token), None).await.status, StatusCode::OK);
}

async fn anonymous_calls_are_limited_per_address(app: TestApp) {
    let app = with_limits(app, 1000, 1000, 3).await;
    for remaining in [2, 1, 0] {
        let res = app.api("GET", "/api/v1/measurements", Auth::None, None).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("ratelimit-policy"), Some("\"anonymous\";q=3;w=60"));
        assert!(res.header("ratelimit").unwrap().starts_with(&format!("\"anonymous\";r={remaining};")));
        assert!(res.header("tapeline-key-expires").is_none());
    }
    let res = app.api("GET", "/api/v1/curated-sets", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.json()["code"], "rate_limited");
    assert!(res.header("retry-after").is_some());
    // A valid key is not held to the address's limit...
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    // ... but failed authentication is: past the limit, a wrong secret is refused with 429.
    let res = app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, "wrongwrongwrongwrongwrongwrong12"), None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());

}

/// An anonymous call from `peer`, with `X-Forwarded-For: forwarded` when given.
async fn anonymous_from(app: &TestApp, peer: &str, forwarded: Option<&str>) -> StatusCode {
    let mut req = http::Request::get("/api/v1/measurements").header(http::header::HOST, "127.0.0.1");
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let mut req = req.body(axum::body::Body::empty()).unwrap();
    let addr: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
    app.send(req).await.status
}

async fn behind_a_trusted_proxy_each_client_is_limited_by_its_own_address(app: TestApp) {
    let mut config = common::test_config();
    config.keys.anon_rate_per_minute = 2;
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let state = TestApp::state(&app.url, config).await;
    let app = TestApp { router: tapeline_server::router(state.clone()), state, url: app.url, handle: app.handle };
    // Through the proxy: each client its own allowance, whatever it wrote before the proxy's hop.
    for _ in 0..2 {
        assert_eq!(anonymous_from(&app, "127.0.0.1", Some("6.6.6.6, 203.0.113.1")).await, StatusCode::OK);
    }
    assert_eq!(anonymous_from(&app, "127.0.0.1", Some("7.7.7.7, 203.0.113.1")).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(anonymous_from(&app, "127.0.0.1", Some("203.0.113.2")).await, StatusCode::OK, "another client");
    // Not through a trusted proxy: X-Forwarded-For is ignored, the connection's address counts.
    for spoofed in ["203.0.113.10", "203.0.113.11"] {
        assert_eq!(anonymous_from(&app, "198.51.100.9", Some(spoofed)).await, StatusCode::OK);
    }
    assert_eq!(anonymous_from(&app, "198.51.100.9", Some("203.0.113.12")).await, StatusCode::TOO_MANY_REQUESTS);
}
