//! The application state: built once at start-up, cloned into every handler and provided
//! to server functions as context by `leptos_routes`.
//!
//! It sits above the infrastructure (`server`) and authentication (`auth`), whose parts it
//! holds, and below the resources, whose services take `&AppState`.

use crate::auth::limits::Limiter;
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
}

impl std::fmt::Debug for InstanceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstanceSecrets { .. }")
    }
}

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
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
        Ok(Self {
            passwords: Passwords::new(config.hash_concurrency)?,
            login_throttle: Arc::new(LoginThrottle::new(config.login_per_account, config.login_per_client, shared.clone())),
            secrets: InstanceSecrets { key_pepper: key_pepper.into() },
            usage: Arc::new(Usage::default()),
            limiter: Arc::new(Limiter::new(shared.clone())),
            shared,
            config: Arc::new(config),
            leptos_options,
            db,
        })
    }
}

impl AuthState for AppState {
    fn db(&self) -> &Db {
        &self.db
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn key_pepper(&self) -> &[u8] {
        self.secrets.key_pepper.as_bytes()
    }

    fn usage(&self) -> &Usage {
        &self.usage
    }

    fn limiter(&self) -> &Limiter {
        &self.limiter
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
