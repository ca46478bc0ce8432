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
//! Statements keep sqlx's `$1`-style parameters, so a query has one text for both backends;
//! they must appear in order (`$1` before `$2`), which [`SqliteReads::read`] checks.

use super::error::{Error, Result};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Params, Row};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Idle connections kept; more are opened while more threads read at once, and closed after.
const KEEP_IDLE: usize = 8;
/// Prepared statements kept per connection (the hot reads are a handful).
const STATEMENT_CACHE: usize = 64;
/// How long a read waits on a lock before it fails. Under WAL a reader only waits while a
/// checkpoint resets the log or after a crash's recovery: rare, and short.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// Read-only connections to one SQLite file, used on the caller's thread. Cheap to clone.
#[derive(Clone)]
pub struct SqliteReads {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
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
        let reads =
            SqliteReads { inner: Arc::new(Inner { path: path.to_owned(), idle: Mutex::new(Vec::new()), closed: AtomicBool::new(false) }) };
        let conn = reads.connect()?;
        reads.give_back(conn);
        Ok(reads)
    }

    fn connect(&self) -> Result<Connection> {
        // Not SQLITE_OPEN_READ_ONLY: a read-only connection cannot create the WAL's shared
        // memory file when no other connection has it open. `query_only` refuses writes instead.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.inner.path, flags).map_err(failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        conn.pragma_update(None, "query_only", true).map_err(failed)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < KEEP_IDLE {
            idle.push(conn);
        }
    }

    /// Refuses every later read (`503`), as [`super::Db::close`] does for the pool.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Runs `sql` with `params` on a connection of its own: `row` of the first row, or `None`
    /// when there is none.
    pub fn read<T>(&self, sql: &str, params: impl Params, row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>) -> Result<Option<T>> {
        self.with_statement(sql, |statement| statement.query_row(params, row).optional())
    }

    /// Runs `sql` with `params` and gives every row to `row`: their values in order.
    pub fn read_all<T>(&self, sql: &str, params: impl Params, row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>> {
        self.with_statement(sql, |statement| statement.query_map(params, row)?.collect())
    }

    /// Runs `run` on `sql` prepared (once per connection) on a connection of its own.
    fn with_statement<T>(&self, sql: &str, run: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> rusqlite::Result<T>) -> Result<T> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Database(sqlx::Error::PoolClosed));
        }
        let taken = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = prepare(&conn, sql).and_then(|mut statement| run(&mut statement).map_err(failed));
        // A failed read leaves the connection as it was (a statement is reset when dropped).
        self.give_back(conn);
        result
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

    #[test]
    fn a_write_is_refused() {
        let (_dir, reads, _writer) = database();
        let insert = reads.read("INSERT INTO t (id, name) VALUES ($1, 'x') RETURNING id", params![5], |row| row.get::<_, i64>(0));
        assert!(insert.unwrap_err().to_string().contains("readonly"));
        assert_eq!(name_of(&reads, 5).unwrap(), None);
    }

    #[test]
    fn after_close_every_read_is_unavailable() {
        let (_dir, reads, _writer) = database();
        reads.clone().close();
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
