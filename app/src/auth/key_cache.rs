//! Stored keys, remembered for a moment: what the key store (`keys`) reads from the database
//! to check a key (its secret's hash, level, expiry, revocation, limits and its owner's
//! account), kept in this process for at most
//! [`KeySettings::cache_ttl`](crate::server::config::KeySettings) so that a script's burst of
//! calls costs one query, not one per call.
//!
//! Only the stored facts are remembered, never a verdict: every request still verifies its
//! secret against the stored hash and checks revocation, expiry, suspension and limits, so a
//! wrong secret is refused whether or not the key is remembered.
//!
//! The guarantee of the scale-out issue holds with the cache on: a key revoked (or an account
//! suspended, a level or limit changed) is refused by this process on its very next request,
//! and by every other process within one second.
//! - In this process: whatever changes a key or an account calls [`KeyCache::forget_all`]
//!   after its write commits. Every entry carries the *generation* it was read in, and
//!   forgetting starts a new generation, so an entry read before the change — even one whose
//!   query was still in flight when the change committed — is never served after it.
//! - In other processes: the change is published through Redis when the processes share one
//!   (each process's subscriber forgets everything on the message), and in any case no entry
//!   outlives its time to live, which is at most one second (500 ms by default).
//!
//! Forgetting everything rather than one key keeps the rule obvious (every kind of change,
//! one call) and is cheap: changes are rare next to calls, and each key costs one query to
//! be remembered again.

use super::account::Account;
use moka::sync::Cache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the database holds about one key, as authentication reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// The key's owner.
    pub account: Account,
    pub name: String,
    /// The key's own level, as stored.
    pub level: i64,
    /// The keyed hash of the key's secret.
    pub secret_hash: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The key's own limits, when staff set them (`None`: the instance's defaults).
    pub rate_limit: Option<i64>,
    pub daily_quota: Option<i64>,
}

/// At most this many keys are remembered; past it, the least used are dropped first.
const CAPACITY: u64 = 50_000;

/// The redis channel on which processes tell each other that keys or accounts changed.
pub const CHANNEL: &str = "tapeline:keys-changed";

/// Recently read keys, by id. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct KeyCache {
    /// `None` when the operator turned the cache off (a time to live of 0).
    entries: Option<Cache<String, (u64, Arc<StoredKey>)>>,
    generation: AtomicU64,
}

impl KeyCache {
    /// A cache whose entries live `ttl`; `Duration::ZERO` remembers nothing.
    pub fn new(ttl: Duration) -> KeyCache {
        let entries = (!ttl.is_zero()).then(|| Cache::builder().max_capacity(CAPACITY).time_to_live(ttl).build());
        KeyCache { entries, generation: AtomicU64::new(0) }
    }

    /// The key `id`, if it was read within its time to live and nothing changed since.
    pub fn get(&self, id: &str) -> Option<Arc<StoredKey>> {
        let (generation, key) = self.entries.as_ref()?.get(id)?;
        (generation == self.generation()).then_some(key)
    }

    /// The current generation: read it *before* querying the database, and give it to
    /// [`KeyCache::remember`] with the answer.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers `key` as read in `generation`. An answer read before a change is kept under
    /// the old generation, which [`KeyCache::get`] never serves.
    pub fn remember(&self, id: &str, key: Arc<StoredKey>, generation: u64) {
        if let Some(entries) = &self.entries {
            if generation == self.generation() {
                entries.insert(id.to_owned(), (generation, key));
            }
        }
    }

    /// Forgets every key: call after any change to a key or an account commits.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }

    /// Whether the cache remembers anything at all.
    pub fn is_enabled(&self) -> bool {
        self.entries.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels::Role;

    fn key(name: &str) -> Arc<StoredKey> {
        Arc::new(StoredKey {
            account: Account {
                id: 1,
                username: "ada".into(),
                email: "ada@example.org".into(),
                role: Role::User,
                suspended_at: None,
                created_at: 0,
            },
            name: name.into(),
            level: 3,
            secret_hash: "h".into(),
            expires_at: 10,
            revoked_at: None,
            rate_limit: None,
            daily_quota: None,
        })
    }

    #[test]
    fn remembers_a_key_until_anything_changes() {
        let cache = KeyCache::new(Duration::from_secs(60));
        assert!(cache.get("k1").is_none());
        cache.remember("k1", key("one"), cache.generation());
        assert_eq!(cache.get("k1").unwrap().name, "one");
        cache.forget_all();
        assert!(cache.get("k1").is_none());
    }

    #[test]
    fn an_answer_read_before_a_change_is_never_served() {
        let cache = KeyCache::new(Duration::from_secs(60));
        let read_in = cache.generation();
        // The change commits and is announced while the query is in flight…
        cache.forget_all();
        // …and the stale answer arrives afterwards.
        cache.remember("k1", key("stale"), read_in);
        assert!(cache.get("k1").is_none());
        cache.remember("k1", key("fresh"), cache.generation());
        assert_eq!(cache.get("k1").unwrap().name, "fresh");
    }

    #[test]
    fn entries_expire() {
        let cache = KeyCache::new(Duration::from_millis(50));
        cache.remember("k1", key("one"), cache.generation());
        assert!(cache.get("k1").is_some());
        std::thread::sleep(Duration::from_millis(120));
        assert!(cache.get("k1").is_none());
    }

    #[test]
    fn a_zero_time_to_live_remembers_nothing() {
        let cache = KeyCache::new(Duration::ZERO);
        assert!(!cache.is_enabled());
        cache.remember("k1", key("one"), cache.generation());
        assert!(cache.get("k1").is_none());
    }
}
