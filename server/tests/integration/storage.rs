//! Storage settings both backends must honour.

use crate::common;

use common::TestApp;
use sqlx::Row;

backend_tests!(instance_secret_is_generated_once_and_kept, foreign_keys_are_enforced);

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let app = TestApp::sqlite().await;
    let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(&app.state.db.pool).await.unwrap().get(0);
    assert_eq!(mode, "wal");
    // WAL's recommended durability on every pooled connection: 1 is NORMAL (2, the default, FULL).
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = app.state.db.pool.acquire().await.unwrap();
        let level: i64 = sqlx::query("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap().get(0);
        assert_eq!(level, 1);
        held.push(conn);
    }
}

async fn instance_secret_is_generated_once_and_kept(app: TestApp) {
    let pepper = app.state.secrets.key_pepper.to_string();
    assert_eq!(pepper.len(), 64);
    assert!(pepper.chars().all(|c| c.is_ascii_hexdigit()));
    // Asking again (as every start does) returns the stored value, never a new one.
    let again = app.state.db.instance_secret("key_pepper", || "not this".into()).await.unwrap();
    assert_eq!(again, pepper);
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM server_secrets").fetch_one(&app.state.db.pool).await.unwrap().get(0);
    assert_eq!(n, 1);
}

async fn foreign_keys_are_enforced(app: TestApp) {
    // Every pooled connection enforces them (SQLite has them off unless asked, per connection).
    for _ in 0..3 {
        let err = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, 999, 0, 0, 1)",
        )
        .bind(format!("{}", rand::random::<u64>()))
        .execute(&app.state.db.pool)
        .await
        .unwrap_err();
        assert!(err.as_database_error().unwrap().is_foreign_key_violation(), "{err}");
    }
}
