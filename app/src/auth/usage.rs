//! Per-key usage — calls accepted and refused per UTC day, and the last use — counted in
//! memory and written in batches.
//!
//! Authenticating a request must not wait on a database write, so each use only bumps an
//! in-memory counter; [`Usage::flush`] writes the counts every few seconds (started by the
//! server) and once more at graceful shutdown, so nothing is lost when the server stops
//! normally; a crash loses at most the counts since the last flush. Reads add the counts not
//! yet written, so they are exact at the moment they are given. (In the instant between a
//! key's write and its subtraction from memory a reader can count those calls twice; it never
//! counts fewer.)

use crate::audit::AuditKind;
use crate::server::db::{now, Db};
use crate::server::Result;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// A UTC day, as days since 1970-01-01.
pub type Day = i64;

/// The UTC day of a Unix time.
pub fn day_of(unix: i64) -> Day {
    unix.div_euclid(86_400)
}

/// A day as the API and the database write it: `YYYY-MM-DD`.
pub fn day_string(day: Day) -> String {
    time::OffsetDateTime::from_unix_timestamp(day * 86_400)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// The day of a `YYYY-MM-DD` string, as [`day_string`] writes it.
pub fn parse_day(text: &str) -> Option<Day> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp().div_euclid(86_400))
}

/// Calls accepted and refused on one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayCount {
    pub calls: u64,
    pub refused: u64,
}

#[derive(Debug, Default)]
pub struct Usage {
    pending: Mutex<HashMap<String, Pending>>,
}

#[derive(Clone, Debug, Default)]
struct Pending {
    days: BTreeMap<Day, DayCount>,
    last_used_at: Option<i64>,
}

impl Pending {
    fn calls(&self) -> u64 {
        self.days.values().map(|d| d.calls).sum()
    }

    fn is_empty(&self) -> bool {
        self.days.values().all(|d| d.calls == 0 && d.refused == 0)
    }
}

impl Usage {
    /// Counts one accepted request by `key_id` at `at` (Unix seconds).
    pub fn record(&self, key_id: &str, at: i64) {
        let mut pending = self.pending.lock().expect("usage lock");
        let entry = super::state_of(&mut pending, key_id);
        entry.days.entry(day_of(at)).or_default().calls += 1;
        entry.last_used_at = Some(entry.last_used_at.map_or(at, |last| last.max(at)));
    }

    /// Counts one request by `key_id` refused by its limits at `at`.
    pub fn record_refused(&self, key_id: &str, at: i64) {
        let mut pending = self.pending.lock().expect("usage lock");
        super::state_of(&mut pending, key_id).days.entry(day_of(at)).or_default().refused += 1;
    }

    /// Calls and last use of `key_id` not yet written to the database.
    pub fn pending(&self, key_id: &str) -> (u64, Option<i64>) {
        let pending = self.pending.lock().expect("usage lock");
        pending.get(key_id).map_or((0, None), |p| (p.calls(), p.last_used_at))
    }

    /// The counts of `key_id` per day not yet written to the database.
    pub fn pending_days(&self, key_id: &str) -> BTreeMap<Day, DayCount> {
        let pending = self.pending.lock().expect("usage lock");
        pending.get(key_id).map(|p| p.days.clone()).unwrap_or_default()
    }

    /// The counts per day of every key not yet written to the database (the operator's
    /// views across keys add them in).
    pub fn pending_all(&self) -> Vec<(String, BTreeMap<Day, DayCount>)> {
        let pending = self.pending.lock().expect("usage lock");
        pending.iter().map(|(k, p)| (k.clone(), p.days.clone())).collect()
    }

    /// Writes every pending count; returns how many keys were written.
    ///
    /// Each key is written in one transaction (its days and its totals), and subtracted from
    /// memory only once written, so a reader in the meantime never misses calls and a
    /// database error leaves the rest for the next flush. Flushes must not overlap (the
    /// server runs one at a time). A key deleted since its use is skipped.
    pub async fn flush(&self, db: &Db) -> Result<usize> {
        let batch: Vec<(String, Pending)> =
            self.pending.lock().expect("usage lock").iter().map(|(k, p)| (k.clone(), p.clone())).collect();
        for (key_id, written) in &batch {
            db.transaction(async |tx| {
                for (day, count) in &written.days {
                    sqlx::query(
                        "INSERT INTO api_key_usage (key_id, day, calls, refused) \
                         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = $1) \
                         ON CONFLICT (key_id, day) DO UPDATE SET calls = api_key_usage.calls + excluded.calls, \
                         refused = api_key_usage.refused + excluded.refused",
                    )
                    .bind(key_id)
                    .bind(day_string(*day))
                    .bind(count.calls as i64)
                    .bind(count.refused as i64)
                    .execute(&mut **tx)
                    .await?;
                }
                // The day a key first meets its limits goes into its owner's activity, once a day:
                // written here, in the batch, so a refused request itself never writes.
                for day in written.days.iter().filter(|(_, c)| c.refused > 0).map(|(day, _)| day) {
                    sqlx::query(
                        "INSERT INTO audit_events (user_id, kind, key_id, detail, created_at) \
                         SELECT k.user_id, $2, $1, $3, $4 FROM api_keys k WHERE k.id = $1 AND NOT EXISTS \
                         (SELECT 1 FROM audit_events WHERE key_id = $1 AND kind = $2 AND created_at >= $5)",
                    )
                    .bind(key_id)
                    .bind(AuditKind::KeyLimited.as_str())
                    .bind(format!("calls with this key were refused by its rate limit or daily quota on {}", day_string(*day)))
                    .bind(now())
                    .bind(day * 86_400)
                    .execute(&mut **tx)
                    .await?;
                }
                sqlx::query(
                    "UPDATE api_keys SET calls = calls + $1, \
                     last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $2 THEN $2 ELSE last_used_at END \
                     WHERE id = $3",
                )
                .bind(written.calls() as i64)
                .bind(written.last_used_at)
                .bind(key_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            })
            .await?;
            let mut pending = self.pending.lock().expect("usage lock");
            if let Some(entry) = pending.get_mut(key_id) {
                for (day, count) in &written.days {
                    if let Some(now) = entry.days.get_mut(day) {
                        now.calls -= count.calls;
                        now.refused -= count.refused;
                        if now.calls == 0 && now.refused == 0 {
                            entry.days.remove(day);
                        }
                    }
                }
                if entry.is_empty() {
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

    #[test]
    fn counts_per_utc_day_and_refusals_apart() {
        let u = Usage::default();
        let midnight = 20_000 * 86_400;
        u.record("a", midnight - 1);
        u.record("a", midnight);
        u.record("a", midnight + 5);
        u.record_refused("a", midnight + 6);
        let days = u.pending_days("a");
        assert_eq!(days[&19_999], DayCount { calls: 1, refused: 0 });
        assert_eq!(days[&20_000], DayCount { calls: 2, refused: 1 });
        assert_eq!(u.pending("a"), (3, Some(midnight + 5)), "refusals are not calls, nor a use");
        assert_eq!(day_string(20_000), "2024-10-04");
        assert_eq!(parse_day("2024-10-04"), Some(20_000));
        assert_eq!(parse_day("2024-13-04"), None);
        assert_eq!(day_of(-1), -1);
    }
}
