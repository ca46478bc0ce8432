//! Storage: one connection pool for either backend, migrations, and instance secrets.
//!
//! Tapeline runs on an embedded SQLite file by default and on PostgreSQL when the operator
//! gives a `postgres://` URL. Both are driven through sqlx's `Any` driver so that every
//! query is written once: queries use `$1`-style parameters (which SQLite also accepts),
//! timestamps are Unix seconds in `BIGINT` columns, and ids are 64-bit integers. Each
//! backend has its own migration folder (`migrations/sqlite`, `migrations/postgres`) for
//! the DDL that differs. The integration tests run every query against both.

use super::error::{Error, Result};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection, Executor, Row};
use std::time::Duration;

/// A pooled connection unused for longer than this is pinged before it is handed out.
const CHECK_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Which database engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared connection pool. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) without migrating.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::internal(format!(
                "unsupported database URL scheme (expected sqlite:// or postgres://): {}",
                redact_url(url)
            )));
        };
        // sqlx pings every idle connection before handing it out: a second round trip to the
        // database (its thread for SQLite, the network for PostgreSQL) on every query, a third
        // of a key-authenticated read's cost (see the README's profile). Only a connection that
        // sat unused for over a second is checked now, which still finds those a database
        // restart broke; under load, connections are idle for microseconds.
        let mut options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > CHECK_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            });
        if backend == Backend::Sqlite {
            // One writer at a time is SQLite's rule; a small pool keeps readers concurrent
            // under WAL without piling up writers waiting on the lock. `synchronous = NORMAL`
            // is WAL's recommended setting: a commit no longer waits for an fsync (the WAL is
            // synced at checkpoints), so a power cut — not a crash of the process — may lose
            // the last transactions, never corrupt the file.
            options = options.max_connections(8).after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;").await?;
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(16);
        }
        let pool = options.connect(url).await?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, it stays.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        Ok(Db { pool, backend })
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Returns the instance secret `name`, generating and storing it on first use.
    ///
    /// Concurrent first starts are safe: the insert does nothing when another process won
    /// the race, and everyone reads back the one stored value.
    pub async fn instance_secret(&self, name: &str, generate: impl FnOnce() -> String) -> Result<String> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(generate())
        .bind(now())
        .execute(&self.pool)
        .await?;
        let row: AnyRow = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }
}

/// The current time as Unix seconds, the unit of every timestamp column.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A stored timestamp (Unix seconds, UTC) as the API shows it: RFC 3339.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The name of the unique constraint a failed statement violated, if that is why it failed.
/// PostgreSQL names the constraint; SQLite names the column(s) in its message, so both are
/// matched against the constraint names of the migrations (`<table>_<column>_key`).
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    let db_err = err.as_database_error()?;
    if !db_err.is_unique_violation() {
        return None;
    }
    if let Some(name) = db_err.constraint() {
        return Some(name.to_owned());
    }
    // SQLite: "UNIQUE constraint failed: users.email"
    let msg = db_err.message();
    let cols = msg.rsplit(": ").next()?;
    Some(format!("{}_key", cols.replace('.', "_").replace(", ", "_")))
}

/// A database URL with any password removed, safe for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password_only() {
        assert_eq!(redact_url("postgres://tape:s3cret@db:5432/x"), "postgres://tape:***@db:5432/x");
        assert_eq!(redact_url("postgres://127.0.0.1/test"), "postgres://127.0.0.1/test");
        assert_eq!(redact_url("sqlite://data/tapeline.db"), "sqlite://data/tapeline.db");
    }
}
