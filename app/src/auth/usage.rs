//! Per-key usage (calls and last use), counted in memory and written in batches.
//!
//! Authenticating a request must not wait on a database write, so each use only bumps an
//! in-memory counter; [`Usage::flush`] writes the counts every few seconds (started by the
//! server) and once more at graceful shutdown, so nothing is lost when the server stops
//! normally. Reads add the counts not yet written. (In the instant between a key's write and
//! its subtraction from memory a listing can count those calls twice; it never counts fewer.)

use crate::server::db::Db;
use crate::server::Result;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Usage {
    pending: Mutex<HashMap<String, Pending>>,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    calls: u64,
    last_used_at: i64,
}

impl Usage {
    /// Counts one authenticated request by `key_id` at `at` (Unix seconds).
    pub fn record(&self, key_id: &str, at: i64) {
        let mut pending = self.pending.lock().expect("usage lock");
        let entry = pending.entry(key_id.to_owned()).or_insert(Pending { calls: 0, last_used_at: at });
        entry.calls += 1;
        entry.last_used_at = entry.last_used_at.max(at);
    }

    /// Calls and last use of `key_id` not yet written to the database.
    pub fn pending(&self, key_id: &str) -> (u64, Option<i64>) {
        let pending = self.pending.lock().expect("usage lock");
        pending.get(key_id).map_or((0, None), |p| (p.calls, Some(p.last_used_at)))
    }

    /// Writes every pending count; returns how many keys were updated.
    ///
    /// Each key's count is subtracted from memory only once it is written, so a listing in
    /// the meantime never misses calls, and a database error leaves the rest for the next
    /// flush. Flushes must not overlap (the server runs one at a time).
    pub async fn flush(&self, db: &Db) -> Result<usize> {
        let batch: Vec<(String, Pending)> =
            self.pending.lock().expect("usage lock").iter().map(|(k, p)| (k.clone(), *p)).collect();
        for (key_id, written) in &batch {
            sqlx::query(
                "UPDATE api_keys SET calls = calls + $1, \
                 last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $2 THEN $2 ELSE last_used_at END \
                 WHERE id = $3",
            )
            .bind(written.calls as i64)
            .bind(written.last_used_at)
            .bind(key_id)
            .execute(&db.pool)
            .await?;
            let mut pending = self.pending.lock().expect("usage lock");
            if let Some(entry) = pending.get_mut(key_id) {
                entry.calls -= written.calls;
                if entry.calls == 0 {
                    pending.remove(key_id);
                }
            }
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_and_keeps_the_latest_use() {
        let u = Usage::default();
        u.record("a", 10);
        u.record("a", 30);
        u.record("a", 20);
        u.record("b", 5);
        assert_eq!(u.pending("a"), (3, Some(30)));
        assert_eq!(u.pending("b"), (1, Some(5)));
        assert_eq!(u.pending("c"), (0, None));
    }
}
