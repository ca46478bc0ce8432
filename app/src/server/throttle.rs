//! Login throttling: failed attempts are counted per account and per client address in a
//! fixed window; past the limit, attempts are refused with `429 too_many_attempts` and a
//! `Retry-After` until the window ends. A successful login clears its account's count.
//!
//! One process keeps the counts in memory: a restart forgets them, which only ever lets an
//! attacker start over once per restart; the window is short enough for that. Several
//! processes share them through Redis (`TAPELINE_REDIS_URL`), so failures spread over the
//! processes are throttled as one; while Redis does not answer each process counts alone.

use super::shared::Shared;
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
    shared: Option<Shared>,
}

/// How long either key still waits (ms), 0 when neither is over its limit. KEYS: account,
/// client. ARGV: their limits.
const CHECK_LUA: &str = r#"
local wait = 0
for i = 1, 2 do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl > wait then wait = ttl end
  end
end
return wait
"#;

/// Counts a failure against both keys; the window starts with a key's first failure. KEYS:
/// account, client. ARGV: their windows (ms).
const FAILURE_LUA: &str = r#"
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[i]) end
end
return 1
"#;

fn script(cell: &'static std::sync::OnceLock<redis::Script>, lua: &str) -> &'static redis::Script {
    cell.get_or_init(|| redis::Script::new(lua))
}

impl LoginThrottle {
    pub fn new(per_account: Limit, per_client: Limit, shared: Option<Shared>) -> Self {
        Self { per_account, per_client, entries: Mutex::new(HashMap::new()), shared }
    }

    /// `Err(seconds)` when either the account or the client is over its limit.
    pub async fn check(&self, account: &str, client: &str) -> Result<(), u64> {
        if let Some(shared) = &self.shared {
            static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
            let mut invocation = script(&SCRIPT, CHECK_LUA).prepare_invoke();
            invocation
                .key(shared_key(&account_key(account)))
                .key(shared_key(&client_key(client)))
                .arg(self.per_account.max_failures)
                .arg(self.per_client.max_failures);
            if let Some(wait_ms) = shared.run::<i64>(&invocation).await {
                return match wait_ms {
                    ms if ms > 0 => Err(((ms + 999) / 1000) as u64),
                    _ => Ok(()),
                };
            }
        }
        self.check_here(account, client)
    }

    fn check_here(&self, account: &str, client: &str) -> Result<(), u64> {
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
    pub async fn record_failure(&self, account: &str, client: &str) {
        if let Some(shared) = &self.shared {
            static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
            let mut invocation = script(&SCRIPT, FAILURE_LUA).prepare_invoke();
            invocation
                .key(shared_key(&account_key(account)))
                .key(shared_key(&client_key(client)))
                .arg(self.per_account.window.as_millis() as u64)
                .arg(self.per_client.window.as_millis() as u64);
            if shared.run::<i64>(&invocation).await.is_some() {
                return;
            }
        }
        self.record_failure_here(account, client);
    }

    fn record_failure_here(&self, account: &str, client: &str) {
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
    pub async fn record_success(&self, account: &str) {
        self.entries.lock().expect("throttle lock").remove(&account_key(account));
        if let Some(shared) = &self.shared {
            static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
            let mut invocation = script(&SCRIPT, "return redis.call('DEL', KEYS[1])").prepare_invoke();
            invocation.key(shared_key(&account_key(account)));
            let _ = shared.run::<i64>(&invocation).await;
        }
    }
}

fn shared_key(key: &str) -> String {
    format!("tapeline:login:{key}")
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
            None,
        )
    }

    #[test]
    fn account_limit_applies_across_clients_and_is_case_insensitive() {
        let t = throttle();
        for ip in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
            assert!(t.check_here("Ann", ip).is_ok());
            t.record_failure_here("Ann", ip);
        }
        let wait = t.check_here("ann", "4.4.4.4").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(t.check_here("bob", "4.4.4.4").is_ok());
    }

    #[test]
    fn client_limit_applies_across_accounts() {
        let t = throttle();
        for name in ["a", "b", "c", "d", "e"] {
            t.record_failure_here(name, "9.9.9.9");
        }
        assert!(t.check_here("fresh", "9.9.9.9").is_err());
        assert!(t.check_here("fresh", "8.8.8.8").is_ok());
    }

    #[test]
    fn success_clears_the_account_count() {
        let t = throttle();
        for _ in 0..3 {
            t.record_failure_here("ann", "1.1.1.1");
        }
        assert!(t.check_here("ann", "2.2.2.2").is_err());
        t.entries.lock().unwrap().remove(&account_key("ann"));
        assert!(t.check_here("ann", "2.2.2.2").is_ok());
    }
}
