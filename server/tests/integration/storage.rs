//! Storage settings both backends must honour.

use crate::common;

use app::levels::Role;
use common::{Auth, DbHandle, TestApp};
use http::StatusCode;
use serde_json::json;
use sqlx::Row;

backend_tests!(
    instance_secret_is_generated_once_and_kept,
    foreign_keys_are_enforced,
    one_connection_is_enough_for_every_change_that_reads_its_answer_back,
    a_transaction_gives_its_connection_back_whether_it_commits_or_fails,
);

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let app = TestApp::sqlite().await;
    let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(&app.state.db).await.unwrap().get(0);
    assert_eq!(mode, "wal");
    // WAL's recommended durability on every pooled connection: 1 is NORMAL (2, the default, FULL).
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = app.state.db.acquire().await.unwrap();
        let level: i64 = sqlx::query("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap().get(0);
        assert_eq!(level, 1);
        held.push(conn);
    }
}

/// The bundled SQLite is built without memory statistics (`.cargo/config.toml`'s
/// LIBSQLITE3_FLAGS): with them, every allocation SQLite makes takes one process-wide mutex
/// that the pool's connections contend for (see the README's profile).
#[tokio::test]
async fn sqlite_is_built_without_memory_statistics() {
    let app = TestApp::sqlite().await;
    let options: Vec<String> =
        sqlx::query("PRAGMA compile_options").fetch_all(&app.state.db).await.unwrap().iter().map(|row| row.get(0)).collect();
    assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
}

async fn instance_secret_is_generated_once_and_kept(app: TestApp) {
    let pepper = app.state.secrets.key_pepper.to_string();
    assert_eq!(pepper.len(), 64);
    assert!(pepper.chars().all(|c| c.is_ascii_hexdigit()));
    // Asking again (as every start does) returns the stored value, never a new one.
    let again = app.state.db.instance_secret("key_pepper", || "not this".into()).await.unwrap();
    assert_eq!(again, pepper);
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM server_secrets").fetch_one(&app.state.db).await.unwrap().get(0);
    assert_eq!(n, 1);
}

async fn foreign_keys_are_enforced(app: TestApp) {
    // Every pooled connection enforces them (SQLite has them off unless asked, per connection).
    for _ in 0..3 {
        let err = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, 999, 0, 0, 1)",
        )
        .bind(format!("{}", rand::random::<u64>()))
        .execute(&app.state.db)
        .await
        .unwrap_err();
        assert!(err.as_database_error().unwrap().is_foreign_key_violation(), "{err}");
    }
}

/// A connection PostgreSQL ended (a restart, an administrator, a proxy) fails the one query
/// that finds it, and is then dropped: the pool never hands it out again, even to queries
/// that follow at once (before any idle check would ping it). With the connection kept, the
/// pool's first-in-first-out order would give it to every other query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_ended_fails_once_and_is_never_handed_out_again() {
    let Some(app) = TestApp::postgres().await else { return };
    let db = &app.state.db;
    let pid = |row: sqlx::any::AnyRow| row.get::<i32, _>(0) as i64;
    // Two pooled connections: one to end, and one to end it from.
    let mut victim = db.acquire().await.unwrap();
    let mut other = db.acquire().await.unwrap();
    let ended = pid(sqlx::query("SELECT pg_backend_pid()").fetch_one(&mut *victim).await.unwrap());
    drop(victim);
    let done: bool = sqlx::query("SELECT pg_terminate_backend($1)").bind(ended as i32).fetch_one(&mut *other).await.unwrap().get(0);
    assert!(done, "PostgreSQL ended the connection");
    drop(other);

    let mut failures = 0;
    for _ in 0..6 {
        match sqlx::query("SELECT pg_backend_pid()").fetch_one(db).await {
            Ok(row) => assert_ne!(pid(row), ended, "the ended connection was handed out again"),
            Err(e) => {
                assert!(app::server::db::breaks_connection(&e), "{e}");
                failures += 1;
            }
        }
    }
    assert!(failures <= 1, "{failures} queries failed: the ended connection went back to the pool");
}

/// The smallest pool an operator may set (`TAPELINE_DATABASE_CONNECTIONS=1`) serves the
/// changes that commit a transaction and then read their answer back, or tell other
/// processes, without waiting on themselves: each gives its transaction's connection back
/// first. Held instead, the read back waited for the pool's only connection until the wait
/// timed out, and the change was answered 503 although it had been made.
async fn one_connection_is_enough_for_every_change_that_reads_its_answer_back(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let ann_id = app.user_id("ann").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "script" })).await;
    let root = app.staff("root", Role::Admin).await;
    // A restarted server over the same database, its pool one connection.
    let state = TestApp::state_with_connections(&app.url, common::test_config(), Some(1)).await;
    assert_eq!(state.db.pool_status().max, 1);
    let one = TestApp { router: tapeline_server::router(state.clone()), state, url: app.url.clone(), handle: DbHandle::Borrowed };
    let key_path = format!("/api/v1/admin/keys/{}", key.id);
    let user_path = format!("/api/v1/admin/users/{ann_id}");
    for (method, path, auth, body, expected) in [
        ("POST", "/api/v1/apikeys".to_owned(), Auth::Session(&ann), Some(json!({ "name": "another" })), StatusCode::CREATED),
        ("PATCH", key_path.clone(), Auth::Session(&root), Some(json!({ "rate_limit": 5, "reason": "too busy" })), StatusCode::OK),
        ("PATCH", user_path.clone(), Auth::Session(&root), Some(json!({ "role": "curator" })), StatusCode::OK),
        ("DELETE", format!("/api/v1/apikeys/{}", key.id), Auth::Session(&ann), None, StatusCode::NO_CONTENT),
        // Suspending ends ann's sessions: last.
        ("POST", format!("{user_path}/suspend"), Auth::Session(&root), Some(json!({ "reason": "a test" })), StatusCode::OK),
        ("POST", format!("{user_path}/unsuspend"), Auth::Session(&root), Some(json!({ "reason": "a test" })), StatusCode::OK),
    ] {
        let res = one.api(method, &path, auth, body).await;
        assert_eq!(res.status, expected, "{method} {path}: {}", res.text());
    }
    let user = one.api("GET", &user_path, Auth::Session(&root), None).await.json()["user"].clone();
    assert_eq!((user["role"].clone(), user["suspended_at"].clone()), (json!("curator"), serde_json::Value::Null));
}

/// `Db::transaction` on a pool of one connection: a change that fails leaves nothing behind
/// and the same connection serves the next statement (without it back, that statement
/// would wait for the pool until its timeout); a change that succeeds is kept.
async fn a_transaction_gives_its_connection_back_whether_it_commits_or_fails(app: TestApp) {
    let state = TestApp::state_with_connections(&app.url, common::test_config(), Some(1)).await;
    let db = &state.db;
    assert_eq!(db.pool_status().max, 1);
    let count = async |name: &str| -> i64 {
        sqlx::query("SELECT COUNT(*) FROM server_secrets WHERE name = $1").bind(name).fetch_one(db).await.unwrap().get(0)
    };
    let insert = "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, 'v', 0)";
    let failed = db
        .transaction(async |tx| {
            sqlx::query(insert).bind("half-done").execute(&mut **tx).await?;
            Err::<(), _>(app::server::Error::new(app::error::ErrorCode::Conflict, "the change failed half-way"))
        })
        .await
        .unwrap_err();
    assert_eq!(failed.into_problem().detail, "the change failed half-way");
    assert_eq!(count("half-done").await, 0, "the failed change was rolled back");
    // A statement that fails inside the change fails the whole change.
    let refused = db
        .transaction(async |tx| {
            sqlx::query(insert).bind("twice").execute(&mut **tx).await?;
            sqlx::query(insert).bind("twice").execute(&mut **tx).await?;
            Ok(())
        })
        .await;
    assert!(refused.is_err(), "the second insert breaks the primary key");
    assert_eq!(count("twice").await, 0);
    let n = db
        .transaction(async |tx| {
            sqlx::query(insert).bind("done").execute(&mut **tx).await?;
            Ok(sqlx::query("SELECT COUNT(*) FROM server_secrets").fetch_one(&mut **tx).await?.get::<i64, _>(0))
        })
        .await
        .unwrap();
    assert!(n >= 2, "the key pepper and the new row, read inside the change: {n}");
    assert_eq!(count("done").await, 1);
    assert_eq!(db.pool_status().open, 1);
}
