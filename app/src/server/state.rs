//! The application state: built once at start-up, cloned into every handler and provided
//! to server functions as context by `leptos_routes`.

use super::db::Db;
use super::error::Result;
use super::password::Passwords;
use super::throttle::{Limit, LoginThrottle};
use crate::apikeys::usage::Usage;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;

/// Operator settings that the service layer needs (the command line owns parsing them).
#[derive(Clone, Debug)]
pub struct Config {
    /// The URL people reach this instance at, e.g. `https://tapeline.example.org`. When it
    /// is https, session cookies are `Secure`; its origin is accepted on state-changing
    /// requests besides the request's own `Host`.
    pub public_url: Option<String>,
    /// How long a browser session lives without being used.
    pub session_ttl: Duration,
    /// Failed logins allowed per account within the window.
    pub login_per_account: Limit,
    /// Failed logins allowed per client address within the window.
    pub login_per_client: Limit,
    /// How many password hashes may run at once.
    pub hash_concurrency: usize,
    /// API key limits.
    pub keys: KeySettings,
}

/// The operator's limits on API keys.
#[derive(Clone, Debug)]
pub struct KeySettings {
    /// Lifetime of a key created without an expiry.
    pub default_ttl: Duration,
    /// The longest lifetime a key may be given.
    pub max_ttl: Duration,
    /// Active (unrevoked, unexpired) keys one account may hold.
    pub max_per_user: u32,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(90 * 86_400),
            max_ttl: Duration::from_secs(365 * 86_400),
            max_per_user: 500,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: None,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            login_per_account: Limit { max_failures: 5, window: Duration::from_secs(15 * 60) },
            login_per_client: Limit { max_failures: 20, window: Duration::from_secs(15 * 60) },
            hash_concurrency: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            keys: KeySettings::default(),
        }
    }
}

impl Config {
    pub fn public_url_is_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

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
}

impl AppState {
    /// Builds the state over an already migrated database.
    pub async fn new(db: Db, config: Config, leptos_options: LeptosOptions) -> Result<Self> {
        let key_pepper = db.instance_secret("key_pepper", || random_hex(32)).await?;
        Ok(Self {
            passwords: Passwords::new(config.hash_concurrency)?,
            login_throttle: Arc::new(LoginThrottle::new(config.login_per_account, config.login_per_client)),
            secrets: InstanceSecrets { key_pepper: key_pepper.into() },
            usage: Arc::new(Usage::default()),
            config: Arc::new(config),
            leptos_options,
            db,
        })
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
