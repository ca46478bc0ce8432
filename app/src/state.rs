//! The application state: built once at start-up, cloned into every handler and provided
//! to server functions as context by `leptos_routes`.
//!
//! It sits above the infrastructure (`server`) and authentication (`auth`), whose parts it
//! holds, and below the resources, whose services take `&AppState`.

use crate::auth::key_cache::{self, KeyCache};
use crate::auth::limits::Limiter;
use crate::auth::token::SecretHasher;
use crate::auth::usage::Usage;
use crate::auth::AuthState;
use crate::server::db::Db;
use crate::server::error::Result;
use crate::server::password::Passwords;
use crate::server::shared::Shared;
use crate::server::throttle::LoginThrottle;
use crate::server::Config;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Secrets generated once per instance and stored in the database.
#[derive(Clone)]
pub struct InstanceSecrets {
    /// Server-side pepper for API key hashes (HMAC-SHA256 key), 32 random bytes hex-encoded.
    pub key_pepper: Arc<str>,
    /// The keyed hash of API key secrets under that pepper, prepared once.
    pub key_hasher: SecretHasher,
}

impl std::fmt::Debug for InstanceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstanceSecrets { .. }")
    }
}

/// The application state: one allocation shared by every request. A clone is one reference
/// count: axum and Leptos clone the state several times per request (each extractor and
/// middleware that takes it), and cloning a dozen fields each time cost a fifth of a
/// key-authenticated request's CPU (see the README's profile). Fields are reached through
/// `Deref` (`state.db`).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Parts>);

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Parts {
    pub db: Db,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    pub passwords: Passwords,
    pub login_throttle: Arc<LoginThrottle>,
    pub secrets: InstanceSecrets,
    /// API key usage not yet written to the database.
    pub usage: Arc<Usage>,
    /// Fair-use limits of this process (shared through Redis when configured).
    pub limiter: Arc<Limiter>,
    /// Keys read a moment ago (see [`key_cache`] for the guarantee it keeps).
    pub key_cache: Arc<KeyCache>,
    /// Redis, when several processes share their limits (`TAPELINE_REDIS_URL`).
    pub shared: Option<Shared>,
}

impl AppState {
    /// Builds the state over an already migrated database, on one process's own limits.
    pub async fn new(db: Db, config: Config, leptos_options: LeptosOptions) -> Result<Self> {
        Self::with_shared(db, config, leptos_options, None).await
    }

    /// Builds the state; with `shared`, limits and the log-in throttle live in Redis.
    pub async fn with_shared(db: Db, config: Config, leptos_options: LeptosOptions, shared: Option<Shared>) -> Result<Self> {
        let key_pepper = db.instance_secret("key_pepper", || random_hex(32)).await?;
        Ok(Self(Arc::new(Parts {
            passwords: Passwords::new(config.hash_concurrency)?,
            login_throttle: Arc::new(LoginThrottle::new(config.login_per_account, config.login_per_client, shared.clone())),
            secrets: InstanceSecrets { key_hasher: SecretHasher::new(key_pepper.as_bytes()), key_pepper: key_pepper.into() },
            usage: Arc::new(Usage::default()),
            limiter: Arc::new(Limiter::new(shared.clone())),
            key_cache: Arc::new(KeyCache::new(config.keys.cache_ttl)),
            shared,
            config: Arc::new(config),
            leptos_options,
            db,
        })))
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// The parts that extractors and Leptos take from the state by type.
macro_rules! from_ref {
    ($($field:ident: $type:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $type {
            fn from_ref(state: &AppState) -> $type {
                state.$field.clone()
            }
        })*
    };
}
from_ref!(db: Db, config: Arc<Config>, leptos_options: LeptosOptions, shared: Option<Shared>);

impl AuthState for AppState {
    fn db(&self) -> &Db {
        &self.db
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn key_hasher(&self) -> &SecretHasher {
        &self.secrets.key_hasher
    }

    fn usage(&self) -> &Usage {
        &self.usage
    }

    fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    fn key_cache(&self) -> &KeyCache {
        &self.key_cache
    }
}

impl AppState {
    /// Says that a key or an account changed (revoked, suspended, a level, role, limit or
    /// expiry changed, deleted): call after the change commits. This process forgets the keys
    /// it remembers at once, and so do the others sharing its Redis, when there is one (else
    /// their entries' time to live bounds the delay).
    pub async fn keys_changed(&self) {
        self.key_cache.forget_all();
        if let Some(shared) = &self.shared {
            shared.publish(key_cache::CHANNEL, "*").await;
        }
    }

    /// Forgets the remembered keys whenever another process says keys changed; runs until the
    /// process stops (a no-op without Redis).
    pub async fn follow_key_changes(&self) {
        if let Some(shared) = &self.shared {
            let cache = self.key_cache.clone();
            shared.subscribe(key_cache::CHANNEL, move || cache.forget_all()).await;
        }
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
