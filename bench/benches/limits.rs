//! What fair use costs a key-authenticated request, measured in one run:
//!
//! - the limiter alone: one GCRA + daily-quota check in memory, for one hot key and spread
//!   over 10,000 keys (the per-key state is one hash-map entry);
//! - a whole key-authenticated request (`GET /api/v1/whoami` with a Bearer token) through the
//!   real router on a real SQLite file, with key limits on and with them off
//!   (`TAPELINE_KEY_LIMITS=off`), on the same machine in the same run — the difference is what
//!   checking the limits and writing their headers adds per request (each measured twice,
//!   alternately, to show the noise of a shared machine);
//! - the same request with the limits shared through Redis (`TAPELINE_REDIS_URL`, a private
//!   `redis-server` started here on a free port), and the Redis check alone: the cost of the
//!   round trip per request.

use app::auth::limits::{now_us, KeyPolicy, Limiter};
use app::levels::Role;
use app::server::config::{MAX_QUOTA, MAX_RATE};
use app::server::Config;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{header, Request, StatusCode};
use std::hint::black_box;
use tower::ServiceExt as _;

fn limiter(c: &mut Criterion) {
    let limiter = Limiter::default();
    let policy = KeyPolicy { per_minute: MAX_RATE, per_day: MAX_QUOTA };
    limiter.check_key("hot", policy, now_us(), Some(0));
    c.bench_function("limiter: one key's check (GCRA + quota)", |b| {
        b.iter(|| black_box(limiter.check_key(black_box("hot"), policy, now_us(), None)))
    });
    let keys: Vec<String> = (0..10_000).map(|i| format!("key{i:08}")).collect();
    for key in &keys {
        limiter.check_key(key, policy, now_us(), Some(0));
    }
    let mut next = 0;
    c.bench_function("limiter: check spread over 10,000 keys", |b| {
        b.iter(|| {
            next = (next + 1) % keys.len();
            black_box(limiter.check_key(&keys[next], policy, now_us(), None))
        })
    });
    c.bench_function("limiter: anonymous check per address", |b| {
        b.iter(|| black_box(limiter.check_anonymous(black_box("192.0.2.1"), MAX_RATE, now_us())))
    });
}

/// A private `redis-server` on a free port, keeping nothing on disk; killed on drop.
struct Redis(std::process::Child, u16);

impl Redis {
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/setup.sh)");
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Redis(child, port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.1)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A router over a fresh SQLite file, and a token of a key in it.
fn app(rt: &tokio::runtime::Runtime, dir: &std::path::Path, enforce: bool, redis_url: Option<String>) -> (axum::Router, String) {
    let mut config = Config::default();
    config.keys.enforce = enforce;
    // Never refused: the benchmark measures checking the limits, not refusals.
    config.keys.rate_per_minute = MAX_RATE;
    config.keys.daily_quota = MAX_QUOTA;
    let settings = tapeline_server::ServeSettings {
        listen: ([127, 0, 0, 1], 0).into(),
        metrics_listen: None,
        redis_url,
        database_url: None,
        database_connections: None,
        data_dir: dir.to_path_buf(),
        config,
    };
    rt.block_on(async {
        let state = tapeline_server::build_state(&settings).await.expect("state");
        let account = app::accounts::service::create_account(
            &state,
            app::accounts::service::NewAccount {
                username: "bench".into(),
                email: "bench@example.org".into(),
                password: "a long password".into(),
                role: Role::User,
            },
        )
        .await
        .expect("account");
        let principal = app::auth::Principal::from_session(account);
        let key = app::apikeys::service::create(
            &state,
            &principal,
            app::apikeys::service::NewKey { name: "bench".into(), level: Some(1), expires_in: None, expires_at: None },
        )
        .await
        .expect("key");
        (tapeline_server::router(state), key.token)
    })
}

fn whoami(rt: &tokio::runtime::Runtime, router: &axum::Router, token: &str) {
    let req = Request::get("/api/v1/whoami")
        .header(header::HOST, "127.0.0.1")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = rt.block_on(router.clone().oneshot(req)).unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

fn requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let on_dir = tempfile::tempdir().unwrap();
    let off_dir = tempfile::tempdir().unwrap();
    let shared_dir = tempfile::tempdir().unwrap();
    let redis = Redis::start();
    let (on, on_token) = app(&rt, on_dir.path(), true, None);
    let (off, off_token) = app(&rt, off_dir.path(), false, None);
    let (shared, shared_token) = app(&rt, shared_dir.path(), true, Some(redis.url()));
    let mut group = c.benchmark_group("GET /api/v1/whoami with a key (real router, SQLite)");
    group.bench_function("key limits on", |b| b.iter(|| whoami(&rt, &on, &on_token)));
    group.bench_function("key limits off", |b| b.iter(|| whoami(&rt, &off, &off_token)));
    group.bench_function("key limits on (again)", |b| b.iter(|| whoami(&rt, &on, &on_token)));
    group.bench_function("key limits off (again)", |b| b.iter(|| whoami(&rt, &off, &off_token)));
    group.bench_function("key limits on, shared through Redis", |b| b.iter(|| whoami(&rt, &shared, &shared_token)));
    group.finish();

    // The Redis check alone: one EVALSHA round trip on loopback.
    let _runtime = rt.enter(); // the connection manager spawns its task on it
    let shared = app::server::shared::Shared::connect(&redis.url()).unwrap();
    let limiter = Limiter::new(Some(shared));
    let policy = KeyPolicy { per_minute: MAX_RATE, per_day: MAX_QUOTA };
    rt.block_on(limiter.check_key_shared("bench", policy, now_us(), Some(0)));
    c.bench_function("limiter: one key's check in Redis (one round trip)", |b| {
        b.iter(|| {
            let answer = rt.block_on(limiter.check_key_shared("bench", policy, now_us(), None));
            assert!(matches!(answer, Some(app::auth::limits::SharedCheck::Done(_))));
        })
    });
}

criterion_group!(benches, limiter, requests);
criterion_main!(benches);
