//! Prometheus metrics through the real router, on both databases: requests by route template,
//! method and status; key checks by outcome; usage flushes; the database pool — rendered by
//! the `/metrics` route and parsed back as the exposition format.
//!
//! Each test records into a Prometheus recorder of its own, set as the default of the test's
//! thread (where the router's future runs, polled by `oneshot`), so its counts are exact
//! whatever the tests running beside it record.

use crate::common;

use axum::body::Body;
use common::{Auth, TestApp};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use metrics_exporter_prometheus::PrometheusRecorder;
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{PrometheusType, PrometheusValue};
use serde_json::json;
use std::collections::BTreeMap;
use tower::ServiceExt as _;

backend_tests!(requests_and_key_checks_are_counted_without_ids_in_labels, usage_flushes_and_the_pool_are_measured);

/// One parsed metric family: each sample's labels and its value (a histogram's count).
pub struct Family {
    pub kind: PrometheusType,
    pub samples: Vec<(BTreeMap<String, String>, f64)>,
}

/// Every family of an exposition, by name; panics unless the text parses.
pub fn parse(text: &str) -> BTreeMap<String, Family> {
    let exposition = parse_prometheus(text).unwrap_or_else(|e| panic!("not the exposition format ({e:?}):\n{text}"));
    exposition
        .families
        .into_iter()
        .map(|(name, family)| {
            let samples = family
                .iter_samples()
                .map(|sample| {
                    let labels = sample.get_labelset().unwrap();
                    let labels = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    let value = match &sample.value {
                        PrometheusValue::Counter(c) => c.value.as_f64(),
                        PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
                        PrometheusValue::Histogram(h) => h.count.expect("a histogram has a count") as f64,
                        PrometheusValue::Summary(s) => s.count.expect("a summary has a count") as f64,
                    };
                    (labels, value)
                })
                .collect();
            (name, Family { kind: family.family_type.clone(), samples })
        })
        .collect()
}

impl Family {
    /// The value of the sample with exactly these labels; 0 when there is none.
    pub fn value(&self, labels: &[(&str, &str)]) -> f64 {
        let wanted: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.samples.iter().find(|(l, _)| *l == wanted).map_or(0.0, |(_, v)| *v)
    }
}

/// `GET /metrics` from the metrics listener's router over `app`'s state, rendered by `recorder`.
async fn scrape(app: &TestApp, recorder: &PrometheusRecorder) -> BTreeMap<String, Family> {
    let router = tapeline_server::metrics::router(app.state.clone(), recorder.handle());
    let res = router.oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    parse(std::str::from_utf8(&body).unwrap())
}

async fn requests_and_key_checks_are_counted_without_ids_in_labels(app: TestApp) {
    let recorder = tapeline_server::metrics::recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let ann = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "script" })).await;
    for _ in 0..3 {
        assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    }
    let wrong_secret = "A".repeat(key.secret.len());
    let res = app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, &wrong_secret), None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // One call a minute: the second is refused. No calls a day: the first is.
    let slow = app.create_key(Auth::Session(&ann), json!({ "name": "slow" })).await;
    let none = app.create_key(Auth::Session(&ann), json!({ "name": "none" })).await;
    app.exec(&format!("UPDATE api_keys SET rate_limit = 1 WHERE id = '{}'", slow.id)).await;
    app.exec(&format!("UPDATE api_keys SET daily_quota = 0 WHERE id = '{}'", none.id)).await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&slow.token), None).await.status, StatusCode::OK);
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&slow.token), None).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!("rate_limited")));
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&none.token), None).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!("quota_exceeded")));

    let old = app.create_key(Auth::Session(&ann), json!({ "name": "old" })).await;
    app.exec(&format!("UPDATE api_keys SET expires_at = 1000 WHERE id = '{}'", old.id)).await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&old.token), None).await.json()["code"], "key_expired");
    let gone = app.create_key(Auth::Session(&ann), json!({ "name": "gone" })).await;
    let res = app.api("DELETE", &format!("/api/v1/apikeys/{}", gone.id), Auth::Session(&ann), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&gone.token), None).await.json()["code"], "key_revoked");
    let bob = app.signed_up("bob").await;
    let bobs = app.create_key(Auth::Session(&bob), json!({ "name": "bob's" })).await;
    app.exec("UPDATE users SET suspended_at = 1 WHERE username = 'bob'").await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&bobs.token), None).await.json()["code"], "account_suspended");

    // An id in the path is labelled by the route's template; a path no route matches, and a
    // method nobody defined, by one fixed label each.
    let res = app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(json!({ "name": "Me" }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let set_path = format!("/api/v1/sets/{}", res.json()["id"]);
    for _ in 0..2 {
        assert_eq!(app.api("GET", &set_path, Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    }
    let nowhere = format!("/no-such-page-{}", key.id);
    assert_eq!(app.get(&nowhere, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api("BREW", "/healthz", Auth::None, None).await.status, StatusCode::METHOD_NOT_ALLOWED);

    let families = scrape(&app, &recorder).await;
    let requests = &families["tapeline_http_requests_total"];
    assert_eq!(requests.kind, PrometheusType::Counter);
    let whoami = |status| requests.value(&[("route", "/api/v1/whoami"), ("method", "GET"), ("status", status)]);
    assert_eq!(whoami("200"), 4.0, "three calls of one key and the first of the limited one");
    assert_eq!(whoami("401"), 3.0, "wrong secret, expired, revoked");
    assert_eq!(whoami("403"), 1.0, "suspended");
    assert_eq!(whoami("429"), 2.0);
    assert_eq!(requests.value(&[("route", "/api/v1/sets/{id}"), ("method", "GET"), ("status", "200")]), 2.0);
    assert_eq!(requests.value(&[("route", "/api/v1/sets"), ("method", "POST"), ("status", "201")]), 1.0);
    assert_eq!(requests.value(&[("route", "unmatched"), ("method", "GET"), ("status", "404")]), 1.0);
    assert_eq!(requests.value(&[("route", "/healthz"), ("method", "other"), ("status", "405")]), 1.0);

    // The latency histogram has a series for every counted one, with the same count.
    let durations = &families["tapeline_http_request_duration_seconds"];
    assert_eq!(durations.kind, PrometheusType::Histogram);
    assert_eq!(durations.samples.len(), requests.samples.len());
    for (labels, count) in &requests.samples {
        let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(durations.value(&labels), *count, "{labels:?}");
    }

    let outcomes = &families["tapeline_key_auth_total"];
    let counted: BTreeMap<&str, f64> =
        outcomes.samples.iter().map(|(labels, value)| (labels["outcome"].as_str(), *value)).collect();
    let expected = [
        ("expired", 1.0),
        ("invalid", 1.0),
        ("ok", 6.0),
        ("quota_exceeded", 1.0),
        ("rate_limited", 1.0),
        ("revoked", 1.0),
        ("suspended", 1.0),
    ];
    assert_eq!(counted, BTreeMap::from(expected));

    // No label anywhere carries an id, a secret or a raw path.
    for (name, family) in &families {
        for (labels, _) in &family.samples {
            for value in labels.values() {
                for secret in [key.id.as_str(), key.secret.as_str(), &wrong_secret, &set_path, &nowhere] {
                    assert!(!value.contains(secret), "{name} has a label {value:?} with {secret:?} in it");
                }
            }
            if let Some(route) = labels.get("route") {
                assert!(route == "unmatched" || route.starts_with('/'), "{route}");
            }
        }
    }
}

async fn usage_flushes_and_the_pool_are_measured(app: TestApp) {
    let recorder = tapeline_server::metrics::recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    assert_eq!(tapeline_server::flush_usage(&app.state).await.unwrap(), 1, "one key's usage written");

    let families = scrape(&app, &recorder).await;
    let flushes = &families["tapeline_usage_flush_duration_seconds"];
    assert_eq!((flushes.kind.clone(), flushes.value(&[])), (PrometheusType::Histogram, 1.0));
    assert!(!families.contains_key("tapeline_usage_flush_failures_total"), "no failure yet");
    let pool = &families["tapeline_db_pool_connections"];
    assert_eq!(pool.kind, PrometheusType::Gauge);
    let (idle, in_use) = (pool.value(&[("state", "idle")]), pool.value(&[("state", "in_use")]));
    // How many are idle at the instant of the scrape depends on connections still being
    // handed back (seen: 0 idle, 2 in use); that the pool has connections, and no more than
    // its size, does not.
    assert!(idle >= 0.0 && in_use >= 0.0 && idle + in_use >= 1.0, "idle {idle}, in use {in_use}");
    assert!(idle + in_use <= app.state.db.pool_status().open as f64, "idle {idle} + in use {in_use}: at most the pool's size");
    let max = app.state.db.pool_status().max as f64;
    assert_eq!(families["tapeline_db_pool_max_connections"].value(&[]), max);

    // The database goes away: the next write fails, and is counted as failed.
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    app.state.db.close();
    assert!(tapeline_server::flush_usage(&app.state).await.is_err());
    let families = scrape(&app, &recorder).await;
    assert_eq!(families["tapeline_usage_flush_duration_seconds"].value(&[]), 2.0);
    let failures = &families["tapeline_usage_flush_failures_total"];
    assert_eq!((failures.kind.clone(), failures.value(&[])), (PrometheusType::Counter, 1.0));
}
