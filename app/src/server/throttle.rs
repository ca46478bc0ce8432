//! Login throttling: failed attempts are counted per account and per client address in a
//! fixed window; past the limit, attempts are refused with `429 too_many_attempts` and a
//! `Retry-After` until the window ends. A successful login clears its account's count.
//!
//! Kept in memory: a restart forgets the counts, which only ever lets an attacker start
//! over once per restart; the window is short enough that this is acceptable for one
//! process. (Several processes behind one balancer would each count separately.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits for one kind of key (account, or client address).
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max_failures: u32,
    pub window: Duration,
}

#[derive(Debug)]
pub struct LoginThrottle {
    per_account: Limit,
    per_client: Limit,
    entries: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginThrottle {
    pub fn new(per_account: Limit, per_client: Limit) -> Self {
        Self { per_account, per_client, entries: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds)` when either the account or the client is over its limit.
    pub fn check(&self, account: &str, client: &str) -> Result<(), u64> {
        let now = Instant::now();
        let entries = self.entries.lock().expect("throttle lock");
        let wait = |key: String, limit: Limit| -> Option<u64> {
            let (start, count) = entries.get(&key)?;
            let elapsed = now.duration_since(*start);
            (elapsed < limit.window && *count >= limit.max_failures)
                .then(|| (limit.window - elapsed).as_secs().max(1))
        };
        match (wait(account_key(account), self.per_account), wait(client_key(client), self.per_client)) {
            (None, None) => Ok(()),
            (a, c) => Err(a.unwrap_or(0).max(c.unwrap_or(0))),
        }
    }

    /// Counts one failed attempt against both the account and the client.
    pub fn record_failure(&self, account: &str, client: &str) {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("throttle lock");
        for (key, limit) in [(account_key(account), self.per_account), (client_key(client), self.per_client)] {
            let entry = entries.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= limit.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
        // Keep memory bounded: drop windows that have ended.
        if entries.len() > 10_000 {
            let longest = self.per_account.window.max(self.per_client.window);
            entries.retain(|_, (start, _)| now.duration_since(*start) < longest);
        }
    }

    /// A successful login clears the account's failures (not the client's).
    pub fn record_success(&self, account: &str) {
        self.entries.lock().expect("throttle lock").remove(&account_key(account));
    }
}

fn account_key(account: &str) -> String {
    format!("a:{}", account.trim().to_lowercase())
}

fn client_key(client: &str) -> String {
    format!("c:{client}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(
            Limit { max_failures: 3, window: Duration::from_secs(60) },
            Limit { max_failures: 5, window: Duration::from_secs(60) },
        )
    }

    #[test]
    fn account_limit_applies_across_clients_and_is_case_insensitive() {
        let t = throttle();
        for ip in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
            assert!(t.check("Ann", ip).is_ok());
            t.record_failure("Ann", ip);
        }
        let wait = t.check("ann", "4.4.4.4").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(t.check("bob", "4.4.4.4").is_ok());
    }

    #[test]
    fn client_limit_applies_across_accounts() {
        let t = throttle();
        for name in ["a", "b", "c", "d", "e"] {
            t.record_failure(name, "9.9.9.9");
        }
        assert!(t.check("fresh", "9.9.9.9").is_err());
        assert!(t.check("fresh", "8.8.8.8").is_ok());
    }

    #[test]
    fn success_clears_the_account_count() {
        let t = throttle();
        for _ in 0..3 {
            t.record_failure("ann", "1.1.1.1");
        }
        assert!(t.check("ann", "2.2.2.2").is_err());
        t.record_success("ann");
        assert!(t.check("ann", "2.2.2.2").is_ok());
    }
}
