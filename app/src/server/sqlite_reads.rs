//! SQLite reads on the request's own thread.
//!
//! sqlx drives each SQLite connection from a thread of its own: a query is a message to that
//! thread and every row a message back, so a point read costs two or more thread switches on
//! top of SQLite's few microseconds. The route benchmark showed it: reading one set took
//! about twice as long as a request that touches no database (README, *Benchmarks*).
//!
//! [`SqliteReads`] keeps a few connections to the same file (opened on demand, kept while
//! idle) and runs a read to completion on the calling thread. That is safe for the reads it
//! is used for: under WAL a reader never waits for a writer, and each read is one indexed
//! statement of microseconds (a page of at most 200 rows). Writes, transactions and anything
//! that may wait on the write lock stay on sqlx's pool; a read sees every write committed
//! before it started, as on the pool. The connections are `query_only`: a statement that
//! tries to write fails.
//!
//! A read that runs longer than [`HOLD_THREAD_FOR`] (a search through a very large account,
//! say) is stopped by SQLite's progress handler and run again under tokio's `block_in_place`,
//! which first hands the thread's other tasks to another thread: a pathological read costs
//! its own request time, never everyone else's.
//!
//! Statements keep sqlx's `$1`-style parameters, so a query has one text for both backends;
//! they must appear in order (`$1` before `$2`), which every read checks.

use super::error::{Error, Result};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Params, Row};
use rusqlite::ErrorCode;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, RuntimeFlavor};

/// Idle connections kept; more are opened while more threads read at once, and closed after.
const KEEP_IDLE: usize = 8;
/// Prepared statements kept per connection (the hot reads are a handful).
const STATEMENT_CACHE: usize = 64;
/// How long a read waits on a lock before it fails. Under WAL a reader only waits while a
/// checkpoint resets the log or after a crash's recovery: rare, and short.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a read may hold the request's thread before it is moved to one allowed to block.
/// Every read made here normally takes microseconds (a page of 200 rows, a fraction of a
/// millisecond).
pub const HOLD_THREAD_FOR: Duration = Duration::from_millis(2);
/// SQLite runs the progress handler, which checks the time, every this many steps of its
/// virtual machine (tens of microseconds): often enough to stop on time, rarely enough to
/// cost nothing measurable.
const PROGRESS_STEPS: i32 = 10_000;

/// The clock the deadlines are kept in: nanoseconds since the first read.
static CLOCK_START: LazyLock<Instant> = LazyLock::new(Instant::now);

fn clock_ns() -> u64 {
    CLOCK_START.elapsed().as_nanos() as u64
}

/// Read-only connections to one SQLite file, used on the caller's thread. Cheap to clone.
#[derive(Clone)]
pub struct SqliteReads {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Reader>>,
    closed: AtomicBool,
    /// Reads that ran over [`HOLD_THREAD_FOR`] and were moved.
    moved: AtomicU64,
}

/// A connection and the deadline its progress handler enforces (see [`clock_ns`]).
struct Reader {
    conn: Connection,
    deadline: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqliteReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReads").field("path", &self.inner.path).finish()
    }
}

impl SqliteReads {
    /// Reads of the database file at `path`, which must exist (sqlx's pool created it).
    /// Opens one connection at once, so a file that cannot be read stops start-up here.
    pub fn open(path: &Path) -> Result<SqliteReads> {
        let inner = Inner { path: path.to_owned(), idle: Mutex::new(Vec::new()), closed: AtomicBool::new(false), moved: AtomicU64::new(0) };
        let reads = SqliteReads { inner: Arc::new(inner) };
        let reader = reads.connect()?;
        reads.give_back(reader);
        Ok(reads)
    }

    /// How many reads ran over [`HOLD_THREAD_FOR`] and were moved to a thread allowed to block.
    pub fn moved(&self) -> u64 {
        self.inner.moved.load(Ordering::Relaxed)
    }

    fn connect(&self) -> Result<Reader> {
        // Not SQLITE_OPEN_READ_ONLY: a read-only connection cannot create the WAL's shared
        // memory file when no other connection has it open. `query_only` refuses writes instead.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.inner.path, flags).map_err(failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        conn.pragma_update(None, "query_only", true).map_err(failed)?;
        // SQLite re-plans a statement whose parameter is a LIKE pattern every time that
        // parameter is bound again (the plan might use the pattern's prefix), which for a
        // cached statement is every run: a page of a listing parsed and planned its two
        // statements anew on every request, a sixth of its instructions. No read here can
        // use that plan (the pattern is matched against `LOWER(name)`, which no index holds),
        // and the query planner stability guarantee turns the re-planning off.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(failed)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let deadline = Arc::new(AtomicU64::new(u64::MAX));
        let watched = deadline.clone();
        // `true` interrupts the statement (SQLITE_INTERRUPT).
        conn.progress_handler(PROGRESS_STEPS, Some(move || clock_ns() > watched.load(Ordering::Relaxed))).map_err(failed)?;
        Ok(Reader { conn, deadline })
    }

    /// Keeps `reader` for the next read, unless enough are idle or the reads are closed (a
    /// read still running when [`SqliteReads::close`] emptied the list closes its connection
    /// when it ends).
    fn give_back(&self, reader: Reader) {
        let mut idle = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < KEEP_IDLE && !self.inner.closed.load(Ordering::Acquire) {
            idle.push(reader);
        }
    }

    /// Refuses every later read (`503`), as [`super::Db::close`] does for the pool.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Runs `sql` with `params` on a connection of its own: `row` of the first row, or `None`
    /// when there is none.
    pub fn read<T>(&self, sql: &str, params: impl Params + Copy, mut row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>) -> Result<Option<T>> {
        self.with_statement(sql, |statement| statement.query_row(params, &mut row).optional())
    }

    /// Runs `sql` with `params` and gives every row to `row`: their values in order.
    pub fn read_all<T>(&self, sql: &str, params: impl Params + Copy, mut row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>> {
        self.with_statement(sql, |statement| statement.query_map(params, &mut row)?.collect())
    }

    /// Runs `run` on `sql` prepared (once per connection) on a connection of its own; once
    /// more, where blocking is allowed, when it ran over [`HOLD_THREAD_FOR`].
    fn with_statement<T>(&self, sql: &str, mut run: impl FnMut(&mut rusqlite::CachedStatement<'_>) -> rusqlite::Result<T>) -> Result<T> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Database(sqlx::Error::PoolClosed));
        }
        let taken = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let reader = match taken {
            Some(reader) => reader,
            None => self.connect()?,
        };
        let mut attempt = |deadline: u64| {
            reader.deadline.store(deadline, Ordering::Relaxed);
            let mut statement = prepare(&reader.conn, sql)?;
            Ok(run(&mut statement))
        };
        let result = match attempt(clock_ns().saturating_add(HOLD_THREAD_FOR.as_nanos() as u64)) {
            Ok(Err(rusqlite::Error::SqliteFailure(e, _))) if e.code == ErrorCode::OperationInterrupted => {
                self.inner.moved.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(sql, "a read ran over the time it may hold the request's thread; it runs again where it may block");
                where_blocking_is_allowed(|| attempt(u64::MAX))
            }
            other => other,
        };
        // A failed read leaves the connection as it was (a statement is reset when dropped).
        self.give_back(reader);
        result.and_then(|answer| answer.map_err(failed))
    }
}

/// Runs `f` on this thread after tokio has handed its other tasks to another thread (on the
/// multi-thread runtime the server runs; elsewhere, such as a test's single thread, as is).
fn where_blocking_is_allowed<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn prepare<'c>(conn: &'c Connection, sql: &str) -> Result<rusqlite::CachedStatement<'c>> {
    let statement = conn.prepare_cached(sql).map_err(failed)?;
    check_parameter_order(&statement, sql)?;
    Ok(statement)
}

/// Checks, in debug builds (so in every test), that `row`'s columns are `names` in order.
/// Row types read their columns by position: a page of 50 sets spent a fifth of its
/// instructions finding columns by name.
pub fn debug_assert_columns(row: &Row<'_>, names: &[&str]) {
    debug_assert_eq!(row.as_ref().column_names(), names, "the columns a row type reads by position");
}

/// A column of stored JSON text (a set's measurements, a pattern's settings), parsed when it
/// is read here, and taken as it is from a JSON document (PostgreSQL's page of a listing,
/// where the database embedded it): one row type serves both.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromSql for Json<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?).map(Json).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// `$n` must be the n-th parameter to appear: SQLite numbers `$`-named parameters by first
/// appearance, and rusqlite binds by that number, so `$2 … $1` would swap the values. sqlx
/// matches `$n` to the n-th value itself; checking here keeps one query text valid for both.
fn check_parameter_order(statement: &rusqlite::CachedStatement<'_>, sql: &str) -> Result<()> {
    for i in 1..=statement.parameter_count() {
        let name = statement.parameter_name(i).unwrap_or("");
        let in_order = name.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) == Some(i);
        if !in_order {
            return Err(Error::internal(format!("parameter {name:?} is not number {i} in order of appearance: {sql}")));
        }
    }
    Ok(())
}

fn failed(e: rusqlite::Error) -> Error {
    Error::internal(format!("database error: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    fn database() -> (tempfile::TempDir, SqliteReads, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").unwrap();
        let reads = SqliteReads::open(&path).unwrap();
        (dir, reads, writer)
    }

    fn name_of(reads: &SqliteReads, id: i64) -> Result<Option<String>> {
        reads.read("SELECT name FROM t WHERE id = $1", params![id], |row| row.get(0))
    }

    #[test]
    fn reads_see_each_committed_write_and_none_when_nothing_matches() {
        let (_dir, reads, writer) = database();
        assert_eq!(name_of(&reads, 1).unwrap(), None);
        writer.execute("INSERT INTO t (id, name) VALUES (1, 'a')", []).unwrap();
        assert_eq!(name_of(&reads, 1).unwrap().as_deref(), Some("a"));
        writer.execute("UPDATE t SET name = 'b' WHERE id = 1", []).unwrap();
        assert_eq!(name_of(&reads, 1).unwrap().as_deref(), Some("b"));
    }

    #[test]
    fn parameters_bind_by_number_and_out_of_order_ones_are_refused() {
        let (_dir, reads, writer) = database();
        writer.execute("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')", []).unwrap();
        let both = reads.read("SELECT COUNT(*) FROM t WHERE id = $1 OR (id = $2 AND name = $3) OR id = $1", params![1, 2, "b"], |row| {
            row.get::<_, i64>(0)
        });
        assert_eq!(both.unwrap(), Some(2));
        let swapped = reads.read("SELECT name FROM t WHERE name = $2 AND id = $1", params![1, "a"], |row| row.get::<_, String>(0));
        let message = swapped.unwrap_err().to_string();
        assert!(message.contains("\"$2\" is not number 1"), "{message}");
    }

    #[test]
    fn every_row_is_read_in_order_and_json_columns_are_parsed() {
        let (_dir, reads, writer) = database();
        writer.execute(r#"INSERT INTO t (id, name) VALUES (1, '{"a":1.5}'), (2, '{"b":2}'), (3, 'not json')"#, []).unwrap();
        let sql = "SELECT name FROM t WHERE id <= $1 ORDER BY id DESC";
        let maps = reads.read_all(sql, params![2], |row| row.get::<_, Json<std::collections::BTreeMap<String, f64>>>(0));
        let maps: Vec<_> = maps.unwrap().into_iter().map(|m| m.0).collect();
        assert_eq!(maps, [[("b".to_owned(), 2.0)].into(), [("a".to_owned(), 1.5)].into()]);
        let unreadable = reads.read_all(sql, params![3], |row| row.get::<_, Json<std::collections::BTreeMap<String, f64>>>(0));
        assert!(unreadable.unwrap_err().to_string().contains("expected ident"));
    }

    #[test]
    fn a_finished_read_holds_no_snapshot_that_would_keep_the_log_from_being_checkpointed() {
        let (_dir, reads, writer) = database();
        writer.execute("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')", []).unwrap();
        assert_eq!(name_of(&reads, 1).unwrap().as_deref(), Some("a"));
        let all = reads.read_all("SELECT name FROM t WHERE id >= $1", params![1], |row| row.get::<_, String>(0));
        assert_eq!(all.unwrap().len(), 2);
        // Only the first row of the many this matches is read: the statement must still end.
        assert!(reads.read("SELECT name FROM t WHERE id >= $1", params![1], |row| row.get::<_, String>(0)).unwrap().is_some());
        // A TRUNCATE checkpoint must wait for every reader's snapshot to end: busy = 1 (after
        // the writer's busy timeout) when one is still open.
        let (busy, _, _): (i64, i64, i64) =
            writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).unwrap();
        assert_eq!(busy, 0, "a finished read left its snapshot open");
    }

    /// A read of `n` steps, each a row of a recursive count: a million take well over
    /// [`HOLD_THREAD_FOR`] on any machine.
    fn count_to(reads: &SqliteReads, n: i64) -> Result<Option<i64>> {
        let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $1) SELECT COUNT(*) FROM c";
        reads.read(sql, params![n], |row| row.get(0))
    }

    #[test]
    fn a_read_over_its_time_is_run_again_to_the_end_and_counted() {
        let (_dir, reads, _writer) = database();
        assert_eq!(count_to(&reads, 10).unwrap(), Some(10));
        assert_eq!(reads.moved(), 0, "a short read stays where it is");
        assert_eq!(count_to(&reads, 3_000_000).unwrap(), Some(3_000_000));
        assert_eq!(reads.moved(), 1);
        // The connection went back with no deadline left behind to trip the next read.
        assert_eq!(count_to(&reads, 10).unwrap(), Some(10));
        assert_eq!(reads.moved(), 1);
    }

    #[test]
    fn a_long_read_leaves_the_runtime_s_thread_to_the_other_tasks() {
        // One worker thread: a read that kept it would hold up every other task until it ended.
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (_dir, reads, _writer) = database();
        let order = Arc::new(Mutex::new(Vec::new()));
        runtime.block_on(async {
            let (long, log) = (reads.clone(), order.clone());
            let read = tokio::spawn(async move {
                let counted = count_to(&long, 5_000_000).unwrap();
                log.lock().unwrap().push("read");
                counted
            });
            let log = order.clone();
            let other = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                log.lock().unwrap().push("other");
            });
            other.await.unwrap();
            assert_eq!(read.await.unwrap(), Some(5_000_000));
        });
        assert_eq!(reads.moved(), 1);
        assert_eq!(*order.lock().unwrap(), ["other", "read"], "the other task waited for the read");
    }

    #[test]
    fn a_search_read_again_is_not_planned_again() {
        let (_dir, reads, writer) = database();
        writer.execute("INSERT INTO t (id, name) VALUES (1, 'Coat'), (2, 'Dress')", []).unwrap();
        let sql = "SELECT name FROM t WHERE LOWER(name) LIKE $1 ESCAPE '\\' ORDER BY id";
        for (pattern, found) in [("%co%", vec!["Coat"]), ("%%", vec!["Coat", "Dress"]), ("%ss%", vec!["Dress"])] {
            assert_eq!(reads.read_all(sql, params![pattern], |row| row.get::<_, String>(0)).unwrap(), found);
        }
        let reader = reads.inner.idle.lock().unwrap().pop().unwrap();
        let statement = reader.conn.prepare_cached(sql).unwrap();
        assert_eq!(statement.get_status(rusqlite::StatementStatus::RePrepare), 0, "the cached statement was planned again");
    }

    #[test]
    fn a_write_is_refused() {
        let (_dir, reads, _writer) = database();
        let insert = reads.read("INSERT INTO t (id, name) VALUES ($1, 'x') RETURNING id", params![5], |row| row.get::<_, i64>(0));
        assert!(insert.unwrap_err().to_string().contains("readonly"));
        assert_eq!(name_of(&reads, 5).unwrap(), None);
    }

    #[test]
    fn after_close_every_read_is_unavailable_and_no_connection_is_kept() {
        let (_dir, reads, _writer) = database();
        // A read running while the reads close gives its connection back afterwards.
        let during = reads.read("SELECT 1 WHERE $1", params![1], |_| {
            reads.close();
            Ok(())
        });
        assert_eq!(during.unwrap(), Some(()));
        assert_eq!(reads.inner.idle.lock().unwrap().len(), 0, "a connection was kept after close");
        assert!(matches!(name_of(&reads, 1), Err(Error::Database(sqlx::Error::PoolClosed))));
    }

    #[test]
    fn connections_are_reused_and_opened_while_others_are_in_use() {
        let (_dir, reads, writer) = database();
        writer.execute("INSERT INTO t (id, name) VALUES (1, 'a')", []).unwrap();
        // A read inside a read takes a second connection; both go back to the pool.
        let nested = reads.read("SELECT id FROM t WHERE id = $1", params![1], |row| {
            let id: i64 = row.get(0)?;
            Ok(name_of(&reads, id).unwrap())
        });
        assert_eq!(nested.unwrap().flatten().as_deref(), Some("a"));
        assert_eq!(reads.inner.idle.lock().unwrap().len(), 2);
    }
}
