//! Storage: one connection pool for either backend, migrations, and instance secrets.
//!
//! Tapeline runs on an embedded SQLite file by default and on PostgreSQL when the operator
//! gives a `postgres://` URL. Both are driven through sqlx's `Any` driver so that every
//! query is written once: queries use `$1`-style parameters (which SQLite also accepts),
//! timestamps are Unix seconds in `BIGINT` columns, and ids are 64-bit integers. Each
//! backend has its own migration folder (`migrations/sqlite`, `migrations/postgres`) for
//! the DDL that differs. The integration tests run every query against both.
//!
//! On a SQLite file the hot reads (a set or a pattern by id, a page of a listing, a key the
//! key cache does not hold, a session) skip the pool: [`Db::sqlite_reads`] runs them on the request's own thread, with the same query
//! text (see [`super::sqlite_reads`] for why and when that is safe). On PostgreSQL a set or
//! a pattern by id is read through [`Db::coalesced`]: the reads waiting at the same moment
//! leave as one statement (see [`super::coalesce`]).

use super::coalesce::Coalescer;
use super::error::{server_ended_session, Error, Result};
use super::sqlite_reads::SqliteReads;
use deadpool::managed::{self, Metrics, RecycleResult};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::any::{AnyConnectOptions, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{Any, AnyConnection, ConnectOptions, Connection, Either, Execute, Executor, Row, SqlStr};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A pooled connection unused for longer than this is pinged before it is handed out.
const CHECK_IF_IDLE_FOR: Duration = Duration::from_secs(1);
/// How long a request waits for a connection (or for a new one to open) before it is
/// answered `503`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared connection pool. Cheap to clone.
///
/// Queries run on `&Db` (it is a sqlx [`Executor`]: each query takes a connection for its
/// length) or on a connection from [`Db::acquire`] when several statements must share one
/// (a transaction).
///
/// Why not sqlx's own pool: it pings every connection on its way back to the pool, from a
/// task spawned for the purpose — one more round trip to the database (to its thread for
/// SQLite, over the network for PostgreSQL) after every query, and two more thread
/// switches. Measured on the route benchmark, skipping that ping alone made a set's read
/// about a tenth faster on SQLite and a fifth on PostgreSQL (README, *Benchmarks*). Here a
/// connection goes back synchronously; one idle for over a second is pinged before it is
/// handed out again, and one whose query failed in a way that says the connection is gone
/// is dropped rather than handed out (see [`breaks_connection`]).
///
/// On a SQLite file, [`Db::sqlite_reads`] also runs hot reads on the request's own thread
/// (see [`SqliteReads`]); on PostgreSQL, [`Db::coalesced`] sends reads that wait at the same
/// moment as one statement (see [`Coalescer`]).
#[derive(Clone)]
pub struct Db {
    pool: managed::Pool<Connector>,
    pub backend: Backend,
    reads: Option<SqliteReads>,
    /// PostgreSQL's coalesced reads, one per statement (keyed by the statement text's
    /// address: each is a `&'static str`), started on first use.
    coalesced: Option<Arc<Mutex<HashMap<usize, Coalescer>>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("Db").field("backend", &self.backend).field("pool", &self.pool.status()).finish()
    }
}

/// A connection of the pool, returned to it when dropped.
pub type PooledConnection = managed::Object<Connector>;

/// Opens the pool's connections and decides whether an idle one may be handed out again.
#[derive(Debug)]
pub struct Connector {
    options: AnyConnectOptions,
    backend: Backend,
}

impl managed::Manager for Connector {
    type Type = AnyConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<AnyConnection, sqlx::Error> {
        let mut conn = self.options.connect().await?;
        if self.backend == Backend::Sqlite {
            // Per connection: foreign keys, waiting (rather than failing) while another
            // connection writes, and `synchronous = NORMAL`, WAL's recommended setting: a
            // commit no longer waits for an fsync (the WAL is synced at checkpoints), so a
            // power cut — not a crash of the process — may lose the last transactions,
            // never corrupt the file.
            conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;").await?;
        }
        Ok(conn)
    }

    async fn recycle(&self, conn: &mut AnyConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        // Under load a connection is idle for microseconds: checking it would be a round trip
        // per query for nothing. One that sat for over a second may have been cut (a database
        // restart, a proxy's idle timeout); one left inside a transaction (a request that
        // stopped half-way) has its queued rollback sent by the ping.
        if metrics.last_used() > CHECK_IF_IDLE_FOR || conn.is_in_transaction() {
            conn.ping().await?;
        }
        Ok(())
    }
}

/// Whether a failed query says that its connection can no longer be used: the network or
/// SQLite's thread is gone, or PostgreSQL ended the session. Such a connection is dropped,
/// not handed to the next query.
pub fn breaks_connection(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed)
        || server_ended_session(e)
}

fn pool_error(e: managed::PoolError<sqlx::Error>) -> sqlx::Error {
    match e {
        managed::PoolError::Backend(e) => e,
        managed::PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
        managed::PoolError::Closed => sqlx::Error::PoolClosed,
        managed::PoolError::NoRuntimeSpecified | managed::PoolError::PostCreateHook(_) => {
            sqlx::Error::Configuration("the connection pool is misconfigured".into())
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The most connections one process's pool opens when the operator does not say
/// (`TAPELINE_DATABASE_CONNECTIONS`).
///
/// - SQLite: 8. One writer at a time is SQLite's rule; a small pool keeps the pool's readers
///   concurrent under WAL without piling up writers waiting on the lock (the hot reads have
///   connections of their own, [`SqliteReads`]).
/// - PostgreSQL: two per core of this machine (deadpool's own default), at least two. A query
///   in PostgreSQL is CPU work on the database's cores; more of them at once than there are
///   cores to run them finish no sooner, they only take turns, and every one waits longer.
///   On the route benchmark a pool of 4 instead of 16 lowered the p99 of a page of 50 by
///   1.8–4.3 ms in every paired round and cost writes waiting on the disk about a quarter
///   (fewer commits share each flush of the log); the figures, and when to set more, are in
///   the README (*Storage*).
pub fn default_connections(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 8,
        Backend::Postgres => 2 * std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) without migrating, with the pool's
    /// default size ([`default_connections`]). One connection is opened at once, so an
    /// unreachable database or a bad URL stops start-up here.
    pub async fn connect(url: &str) -> Result<Db> {
        Db::connect_with(url, None).await
    }

    /// [`Db::connect`], the pool opening at most `connections` connections (the operator's
    /// `TAPELINE_DATABASE_CONNECTIONS`; `None`: [`default_connections`]).
    pub async fn connect_with(url: &str, connections: Option<usize>) -> Result<Db> {
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
        let options = AnyConnectOptions::from_str(url)?;
        let max_size = connections.unwrap_or_else(|| default_connections(backend)).max(1);
        let pool = managed::Pool::builder(Connector { options, backend })
            .max_size(max_size)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(ACQUIRE_TIMEOUT))
            .create_timeout(Some(ACQUIRE_TIMEOUT))
            .recycle_timeout(Some(ACQUIRE_TIMEOUT))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the connection pool: {e}")))?;
        let coalesced = (backend == Backend::Postgres).then(Default::default);
        let mut db = Db { pool, backend, reads: None, coalesced };
        let mut conn = db.acquire().await?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, it stays.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
            // The pool's first connection created the file. An in-memory database has no
            // file that other connections could open, so it keeps every query on the pool.
            let path = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.get_filename().to_owned();
            if path.is_file() {
                db.reads = Some(SqliteReads::open(&path)?);
            }
        }
        drop(conn);
        Ok(db)
    }

    /// A connection of its own, for statements that must share one; back to the pool when
    /// dropped. For a transaction, use [`Db::transaction`], which gives the connection back
    /// itself. Whoever holds one must drop it before anything else that waits (a query on the
    /// pool, Redis): a request holding one connection while it waits for another can wait on a
    /// pool whose every connection is held that way, until the wait times out.
    pub async fn acquire(&self) -> Result<PooledConnection, sqlx::Error> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Runs `work` in one transaction on a connection of its own, commits it, and gives the
    /// connection back to the pool before it returns, so that nothing the caller does next (a
    /// query on the pool, telling other processes through Redis) can wait while holding it.
    /// An error from `work` (or its future dropped) rolls the transaction back; the error is
    /// returned as it is.
    ///
    /// Every statement of the change goes through the transaction `work` gets; while it runs,
    /// `work` must wait on nothing else that may need a connection (a query on the pool).
    pub async fn transaction<T>(&self, work: impl AsyncFnOnce(&mut sqlx::Transaction<'_, Any>) -> Result<T>) -> Result<T> {
        let mut conn = self.acquire().await?;
        let mut tx = conn.begin().await?;
        let value = work(&mut tx).await?;
        tx.commit().await?;
        Ok(value) // the connection, dropped here, goes back to the pool before the caller goes on
    }

    /// Refuses every later query (`503`): for a process that is stopping, and for tests.
    pub fn close(&self) {
        self.pool.close();
        if let Some(reads) = &self.reads {
            reads.close();
        }
    }

    /// Reads on the calling thread, on a SQLite file; `None` on PostgreSQL. A service's hot
    /// read runs here when it can, on the pool otherwise, with one query text for both.
    pub fn sqlite_reads(&self) -> Option<&SqliteReads> {
        self.reads.as_ref()
    }

    /// On PostgreSQL, the reads of `sql` coalesced into one statement for the reads that wait
    /// at the same moment (see [`Coalescer`] for what `sql` must be); `None` on SQLite.
    pub fn coalesced(&self, sql: &'static str) -> Option<Coalescer> {
        let coalesced = self.coalesced.as_ref()?;
        let mut started = coalesced.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let reads = started.entry(sql.as_ptr() as usize).or_insert_with(|| {
            // The statements get the pool without this map, which holds their task's queue:
            // the task ends when the map goes, with the last `Db` sharing it.
            let db = Db { pool: self.pool.clone(), backend: self.backend, reads: None, coalesced: None };
            let statement = move |arrays: Vec<String>| -> BoxFuture<'static, Result<Vec<AnyRow>, sqlx::Error>> {
                let db = db.clone();
                Box::pin(async move {
                    let query = arrays.into_iter().fold(sqlx::query(sql), |query, array| query.bind(array));
                    query.fetch_all(&db).await
                })
            };
            // A read waits in the queue at most as long as a query waits for a connection.
            Coalescer::start(Arc::new(statement), ACQUIRE_TIMEOUT)
        });
        Some(reads.clone())
    }

    /// On PostgreSQL, the reads answered and the statements sent by every [`Coalescer`] so
    /// far: `(reads, statements)`; `None` on SQLite.
    pub fn coalesced_counts(&self) -> Option<(u64, u64)> {
        let coalesced = self.coalesced.as_ref()?.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(coalesced.values().map(Coalescer::counts).fold((0, 0), |(r, s), (reads, statements)| (r + reads, s + statements)))
    }

    /// Connections open, idle, and the most the pool opens: for the metrics.
    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus { open: status.size, idle: status.available, max: status.max_size }
    }

    /// Drops `conn` instead of returning it to the pool when `error` says it is broken.
    fn release_after(conn: PooledConnection, error: &sqlx::Error) {
        if breaks_connection(error) {
            drop(managed::Object::take(conn));
        }
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&mut *self.acquire().await?).await
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(self).await.is_ok()
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
        .execute(self)
        .await?;
        let row: AnyRow = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(self)
            .await?;
        Ok(row.try_get("value")?)
    }
}

/// What [`Db::pool_status`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    pub open: usize,
    pub idle: usize,
    pub max: usize,
}

/// `&Db` runs a query on a connection of the pool, taken for the query's length (as sqlx's
/// pool does for `&Pool`).
impl<'p> Executor<'p> for &'p Db {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        Box::pin(async_stream::try_stream! {
            let mut conn = self.acquire().await?;
            let mut failed = None;
            {
                let mut steps = conn.fetch_many(query);
                while let Some(step) = steps.next().await {
                    match step {
                        Ok(step) => yield step,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
            }
            if let Some(e) = failed {
                Db::release_after(conn, &e);
                Err(e)?;
            }
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        Box::pin(async move {
            let mut conn = self.acquire().await?;
            let result = conn.fetch_optional(query).await;
            if let Err(e) = &result {
                Db::release_after(conn, e);
            }
            result
        })
    }

    fn prepare_with<'e>(self, sql: SqlStr, parameters: &'e [AnyTypeInfo]) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'p: 'e,
    {
        Box::pin(async move { self.acquire().await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<Any>, sqlx::Error>>
    where
        'p: 'e,
    {
        Box::pin(async move { self.acquire().await?.describe(sql).await })
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
