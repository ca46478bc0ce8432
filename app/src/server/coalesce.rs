//! Reads of one row each, coalesced into one query on PostgreSQL.
//!
//! On PostgreSQL most of a set's read is not the query but its round trip: the server
//! writes to the socket, which wakes the database's backend on the other core; the backend
//! answers, which wakes the server again. In `perf` half of the server's time under the
//! route benchmark was the kernel doing exactly that, and the backend spent more CPU per
//! query than the server spent on the rest of the request (README, *Benchmarks*).
//!
//! A [`Coalescer`] sends the reads that wait at the same moment as one statement. Each read
//! is a row of integer values; the statement gets each column of values as one array and
//! `unnest`s them `WITH ORDINALITY`, so it answers every read's row at once, numbered by the
//! read (`n`, from 1), and a read whose row the statement does not return is answered
//! `None`. The statement keeps the reads' own conditions (the owner-or-staff filter is in
//! its `JOIN`), so what each caller may see is decided in SQL as before.
//!
//! At most [`in_flight`] statements (one per core) run at once: while they run, new reads
//! wait in the queue and leave together in the next statement. Under light load a read
//! therefore goes out at once, alone; under load the statements grow, up to
//! [`MOST_IN_ONE`] reads. A statement's failure is every one of its reads' failure. A read
//! whose caller has gone by the time its statement leaves is left out of it, and one that
//! waited longer than a query waits for a connection is answered `503` without being sent,
//! so that a database that stopped answering cannot leave reads queued behind it for
//! longer than the pool would have.

use super::error::{is_unavailable, Error, Result};
use futures_util::future::BoxFuture;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Statements in flight at once, for one kind of read: one per core, at least two.
pub fn in_flight() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}
/// The most reads one statement answers.
pub const MOST_IN_ONE: usize = 64;

struct Pending {
    values: Vec<i64>,
    queued: Instant,
    answer: oneshot::Sender<Result<Option<AnyRow>>>,
}

/// One kind of read (one statement), coalesced. Cheap to clone.
#[derive(Clone)]
pub struct Coalescer {
    queue: mpsc::UnboundedSender<Pending>,
    counts: Arc<Counts>,
}

/// Reads answered and statements sent so far, by one [`Coalescer`].
#[derive(Debug, Default)]
pub struct Counts {
    pub reads: AtomicU64,
    pub statements: AtomicU64,
}

impl std::fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer").finish_non_exhaustive()
    }
}

/// Runs the statement with these parameters (one array literal per value of a read, in
/// order) and returns its rows: each starts with the number `n` of the read it answers.
pub type Statement = Arc<dyn Fn(Vec<String>) -> BoxFuture<'static, Result<Vec<AnyRow>, sqlx::Error>> + Send + Sync>;

impl Coalescer {
    /// Starts the task that sends the reads as `statement`s (which `server::db` makes of a
    /// query text: one text parameter per value of a read, `$1::text::int8[]` …, and the
    /// read's number `n` first in each row); a read queued for longer than `most_wait` is
    /// answered `503` instead. The task ends when the last `Coalescer` is dropped.
    pub fn start(statement: Statement, most_wait: Duration) -> Coalescer {
        let (queue, waiting) = mpsc::unbounded_channel();
        let counts = Arc::<Counts>::default();
        tokio::spawn(send_statements(statement, most_wait, waiting, counts.clone()));
        Coalescer { queue, counts }
    }

    /// Reads answered and statements sent so far: `(reads, statements)`.
    pub fn counts(&self) -> (u64, u64) {
        (self.counts.reads.load(Relaxed), self.counts.statements.load(Relaxed))
    }

    /// The row `sql` returns for `values`, if any.
    pub async fn read(&self, values: Vec<i64>) -> Result<Option<AnyRow>> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Pending { values, queued: Instant::now(), answer })
            .map_err(|_| Error::internal("the coalesced reads have stopped"))?;
        answered.await.map_err(|_| Error::internal("a coalesced read was dropped"))?
    }
}

async fn send_statements(statement: Statement, most_wait: Duration, mut waiting: mpsc::UnboundedReceiver<Pending>, counts: Arc<Counts>) {
    let in_flight = Arc::new(Semaphore::new(in_flight()));
    loop {
        // A free slot first: while every slot is taken, reads gather in the queue.
        let Ok(slot) = in_flight.clone().acquire_owned().await else { return };
        let mut reads = Vec::new();
        while reads.is_empty() {
            let Some(first) = waiting.recv().await else { return };
            let mut gathered = vec![first];
            while gathered.len() < MOST_IN_ONE {
                match waiting.try_recv() {
                    Ok(read) => gathered.push(read),
                    Err(_) => break,
                }
            }
            reads = gathered.into_iter().filter_map(|read| still_wanted(read, most_wait)).collect();
        }
        counts.statements.fetch_add(1, Relaxed);
        counts.reads.fetch_add(reads.len() as u64, Relaxed);
        let statement = statement.clone();
        tokio::spawn(async move {
            answer(&statement, reads).await;
            drop(slot);
        });
    }
}

/// `read`, unless its caller has gone, or it has waited longer than `most_wait` (then it is
/// answered here, `503` as a query that got no connection in time).
fn still_wanted(read: Pending, most_wait: Duration) -> Option<Pending> {
    if read.answer.is_closed() {
        return None;
    }
    if read.queued.elapsed() > most_wait {
        let _ = read.answer.send(Err(sqlx::Error::PoolTimedOut.into()));
        return None;
    }
    Some(read)
}

/// Runs one statement for `reads` and answers each of them.
async fn answer(statement: &Statement, reads: Vec<Pending>) {
    let columns = reads.first().map_or(0, |read| read.values.len());
    debug_assert!(reads.iter().all(|read| read.values.len() == columns), "one statement, one number of values");
    let arrays = (0..columns)
        .map(|column| array_literal(reads.iter().map(|read| read.values.get(column).copied().unwrap_or_default())))
        .collect();
    let mut rows: Vec<Option<AnyRow>> = std::iter::repeat_with(|| None).take(reads.len()).collect();
    let placed = statement(arrays).await.and_then(|found| {
        found.into_iter().try_for_each(|row| {
            let n = row.try_get::<i64, _>(0)?;
            if let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| rows.get_mut(i)) {
                *slot = Some(row);
            }
            Ok(())
        })
    });
    match placed {
        Ok(()) => {
            for (read, row) in reads.into_iter().zip(rows) {
                let _ = read.answer.send(Ok(row));
            }
        }
        Err(e) => {
            for read in reads {
                let _ = read.answer.send(Err(shared_failure(&e)));
            }
        }
    }
}

/// `{1,2,3}`: PostgreSQL's text form of an array of integers.
fn array_literal(values: impl Iterator<Item = i64>) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("{");
    for (i, value) in values.enumerate() {
        let comma = if i > 0 { "," } else { "" };
        let _ = write!(text, "{comma}{value}");
    }
    text.push('}');
    text
}

/// The failure of a statement as each of its reads reports it: unavailable (`503`) when the
/// database is (by the rule every query's error follows, [`is_unavailable`]), an internal
/// error (`500`, logged) otherwise. Each read gets an error of its own: `sqlx::Error` is not
/// `Clone`.
fn shared_failure(e: &sqlx::Error) -> Error {
    match e {
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed.into(),
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut.into(),
        e if is_unavailable(e) => sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, e.to_string())).into(),
        e => Error::internal(format!("a coalesced read failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue's own rules, with a statement that answers no rows once let go and
    /// records how many reads each of its runs carried (what a statement does with a real
    /// database is tested through the router on PostgreSQL: `sets::reads_at_the_same_moment…`).
    #[tokio::test]
    async fn reads_that_waited_too_long_are_refused_and_abandoned_ones_are_not_sent() {
        let go = Arc::new(Semaphore::new(0));
        let carried = Arc::new(std::sync::Mutex::new(Vec::new()));
        let statement: Statement = {
            let (go, carried) = (go.clone(), carried.clone());
            Arc::new(move |arrays: Vec<String>| {
                let (go, carried) = (go.clone(), carried.clone());
                Box::pin(async move {
                    carried.lock().unwrap().push(arrays[0].split(',').count());
                    go.acquire().await.unwrap().forget();
                    Ok(Vec::new())
                })
            })
        };
        let reads = Coalescer::start(statement, Duration::from_millis(200));
        // Every slot taken by a statement that waits to be let go, one read each.
        let mut busy = Vec::new();
        for i in 0..in_flight() {
            busy.push(tokio::spawn({
                let reads = reads.clone();
                async move { reads.read(vec![i as i64]).await }
            }));
            while carried.lock().unwrap().len() <= i {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        // One read waits past the limit; then one, still young, is abandoned by its caller.
        let late = tokio::spawn({ let reads = reads.clone(); async move { reads.read(vec![100]).await } });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let abandoned = tokio::spawn({ let reads = reads.clone(); async move { reads.read(vec![101]).await } });
        tokio::time::sleep(Duration::from_millis(10)).await;
        abandoned.abort();
        tokio::time::sleep(Duration::from_millis(10)).await;
        go.add_permits(1000); // every statement from now on runs at once
        for read in busy {
            assert!(read.await.unwrap().unwrap().is_none());
        }
        let late = late.await.unwrap();
        assert!(matches!(late, Err(Error::Database(sqlx::Error::PoolTimedOut))), "{:?}", late.map(|row| row.is_some()));
        // A read after all that goes out alone, at once.
        assert!(reads.read(vec![102]).await.unwrap().is_none());
        let carried = carried.lock().unwrap().clone();
        assert_eq!(carried, vec![1; in_flight() + 1], "neither the late nor the abandoned read was sent");
        assert_eq!(reads.counts(), (in_flight() as u64 + 1, in_flight() as u64 + 1));
    }

    #[test]
    fn arrays_are_written_as_postgresql_reads_them() {
        assert_eq!(array_literal([1, -2, i64::MAX].into_iter()), "{1,-2,9223372036854775807}");
        assert_eq!(array_literal(std::iter::empty()), "{}");
    }
}
