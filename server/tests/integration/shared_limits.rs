//! Several processes sharing their limits through Redis (`TAPELINE_REDIS_URL`), on both
//! databases: two application states over one database and one private `redis-server`, as two
//! `tapeline serve` processes would be. A key's rate and quota and the log-in throttle hold
//! exactly across them; when Redis stops, each keeps serving on its own limits, `/healthz`
//! says so, and the sharing comes back with Redis.

use crate::common;

use common::redis::RedisServer;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;

backend_tests!(
    a_key_s_rate_and_quota_hold_exactly_across_processes,
    log_in_failures_spread_over_processes_are_throttled_as_one,
    without_redis_each_process_keeps_serving_on_its_own_limits_and_recovers,
    one_round_trip_per_request_and_a_redis_restart_keeps_the_day_s_count,
);

/// `INFO commandstats` of the test's Redis: calls per command.
fn command_calls(redis: &RedisServer, command: &str) -> u64 {
    let out = std::process::Command::new("redis-cli").args(["-p", &redis.port.to_string(), "INFO", "commandstats"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with(&format!("cmdstat_{command}:")))
        .and_then(|l| l.split("calls=").nth(1))
        .and_then(|v| v.split(',').next())
        .map(|v| v.parse().unwrap())
        .unwrap_or(0)
}

fn config(rate: u32, quota: u32) -> app::server::Config {
    let mut config = common::test_config();
    config.keys.rate_per_minute = rate;
    config.keys.daily_quota = quota;
    config
}

async fn a_key_s_rate_and_quota_hold_exactly_across_processes(app: TestApp) {
    let redis = RedisServer::start();
    let a = app.process(config(4, 1000), &redis.url()).await;
    let b = app.process(config(4, 1000), &redis.url()).await;
    let session = a.signed_up("ann").await;
    let key = a.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    // Alternating between the processes: exactly 4 answered, the burst counted as one.
    for (i, remaining) in [3, 2, 1, 0].into_iter().enumerate() {
        let process = if i % 2 == 0 { &a } else { &b };
        let res = process.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
        assert_eq!(res.status, StatusCode::OK, "call {i}");
        let state = res.header("ratelimit").unwrap();
        assert!(state.starts_with(&format!("\"minute\";r={remaining};")), "call {i}: {state}");
    }
    for process in [&a, &b] {
        let res = process.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
        assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!("rate_limited")));
    }
    // The daily quota: another key, a quota of 5, spread over both processes.
    let quota_a = a.process(config(1000, 5), &redis.url()).await;
    let quota_b = a.process(config(1000, 5), &redis.url()).await;
    let daily = a.create_key(Auth::Session(&session), json!({ "name": "daily" })).await;
    let mut answered = 0;
    for i in 0..8 {
        let process = if i % 2 == 0 { &quota_a } else { &quota_b };
        let res = process.api("GET", "/api/v1/whoami", Auth::Bearer(&daily.token), None).await;
        match res.status {
            StatusCode::OK => answered += 1,
            _ => assert_eq!(res.json()["code"], "quota_exceeded", "call {i}"),
        }
    }
    assert_eq!(answered, 5, "exactly the quota, across processes");
    // Every process's usage adds up exactly.
    for process in [&a, &b, &quota_a, &quota_b] {
        process.state.usage.flush(&process.state.db).await.unwrap();
    }
    let usage = a.api("GET", &format!("/api/v1/apikeys/{}/usage?days=1", daily.id), Auth::Session(&session), None).await.json();
    assert_eq!((usage["days"][0]["calls"].clone(), usage["days"][0]["refused"].clone()), (json!(5), json!(3)));
    drop(app);
}

async fn log_in_failures_spread_over_processes_are_throttled_as_one(app: TestApp) {
    let redis = RedisServer::start();
    let mut config = common::test_config();
    config.login_per_account.max_failures = 3;
    let a = app.process(config.clone(), &redis.url()).await;
    let b = app.process(config, &redis.url()).await;
    a.signed_up("ann").await;
    for process in [&a, &b, &a] {
        let res = process.login("ann", "not the password").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text());
    }
    // The fourth try, on the other process, is throttled — even with the right password.
    let res = b.login("ann", "a long password").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    assert!(res.header("retry-after").is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
    drop(app);
}

async fn without_redis_each_process_keeps_serving_on_its_own_limits_and_recovers(app: TestApp) {
    let mut redis = RedisServer::start();
    let a = app.process(config(3, 1000), &redis.url()).await;
    let b = app.process(config(3, 1000), &redis.url()).await;
    let health = a.get("/healthz", None).await;
    assert_eq!(health.json(), json!({ "status": "ok", "database": "ok", "redis": "ok" }));
    let session = a.signed_up("ann").await;
    let key = a.create_key(Auth::Session(&session), json!({ "name": "k" })).await;

    redis.stop();
    // Each process now limits on its own: 3 a minute on each, 6 in all.
    for process in [&a, &b] {
        for i in 0..3 {
            let res = process.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
            assert_eq!(res.status, StatusCode::OK, "call {i} while Redis is down");
        }
        let res = process.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    }
    let health = a.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK, "Redis down is not the process down");
    assert_eq!(health.json()["redis"], "unreachable");
    // Log-ins go on too.
    assert_eq!(b.login("ann", "a long password").await.status, StatusCode::OK);

    redis.resume();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if a.get("/healthz", None).await.json()["redis"] == "ok" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "Redis came back but the process did not notice");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Process b has not asked Redis since it went down; requests try it again at most once a
    // second, so after a second b is back on the shared limits by itself.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // Shared again (Redis restarted empty): a fresh key's burst holds across processes.
    let fresh = a.create_key(Auth::Session(&session), json!({ "name": "fresh" })).await;
    let statuses: Vec<u16> = {
        let mut s = Vec::new();
        for i in 0..4 {
            let process = if i % 2 == 0 { &a } else { &b };
            s.push(process.api("GET", "/api/v1/whoami", Auth::Bearer(&fresh.token), None).await.status.as_u16());
        }
        s
    };
    assert_eq!(statuses, [200, 200, 200, 429]);
    drop(app);
}

async fn one_round_trip_per_request_and_a_redis_restart_keeps_the_day_s_count(app: TestApp) {
    let mut redis = RedisServer::start();
    let a = app.process(config(1000, 6), &redis.url()).await;
    let session = a.signed_up("ann").await;
    let key = a.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    // The first call loads the script; from then on each request is one EVALSHA, nothing else.
    assert_eq!(a.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    let before = command_calls(&redis, "evalsha");
    for _ in 0..2 {
        assert_eq!(a.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    }
    assert_eq!(command_calls(&redis, "evalsha") - before, 2, "one round trip per request");
    assert_eq!(command_calls(&redis, "eval"), 0);
    // Redis restarts empty mid-day: the day's 3 calls come back from the database (those
    // written, and those still in this process's memory), so 3 more and no more.
    a.state.usage.flush(&a.state.db).await.unwrap();
    redis.stop();
    redis.resume();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut answered = 0;
    for _ in 0..5 {
        if a.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status == StatusCode::OK {
            answered += 1;
        }
    }
    assert_eq!(answered, 3, "the quota of 6 holds across a Redis restart");
    drop(app);
}
