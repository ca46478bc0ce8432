//! The operator's settings that the service layer reads (the command line owns parsing and
//! checking them; see `server/src/cli.rs`).

use super::throttle::Limit;
use std::time::Duration;

/// Operator settings that the service layer needs (the command line owns parsing them).
#[derive(Clone, Debug)]
pub struct Config {
    /// The URL people reach this instance at, e.g. `https://tapeline.example.org`. When it
    /// is https, session cookies are `Secure`; its origin is accepted on state-changing
    /// requests besides the request's own `Host`.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`TAPELINE_TRUSTED_PROXIES`):
    /// a request from one of these takes its client's address from that header.
    pub trusted_proxies: Vec<ipnet::IpNet>,
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
    /// Whether keys are held to their rate and quota at all (`TAPELINE_KEY_LIMITS=off` for a
    /// private instance, or one behind a gateway that limits already). Usage is counted
    /// either way.
    pub enforce: bool,
    /// Requests per minute a key may make, unless staff set its own.
    pub rate_per_minute: u32,
    /// Requests per UTC day a key may make, unless staff set its own.
    pub daily_quota: u32,
    /// Requests per minute one client address may make to the API without a valid key.
    pub anon_rate_per_minute: u32,
    /// How long a process remembers a key it read (`TAPELINE_KEY_CACHE`, at most
    /// [`MAX_KEY_CACHE`]; zero: not at all).
    pub cache_ttl: Duration,
}

/// The defaults of the fair-use limits: what a hobby instance on a small machine carries
/// without noticing (see the README for the reasoning).
pub const DEFAULT_KEY_RATE: u32 = 60;
pub const DEFAULT_KEY_QUOTA: u32 = 10_000;
pub const DEFAULT_ANON_RATE: u32 = 60;

/// How long a process remembers a key it read, by default.
pub const DEFAULT_KEY_CACHE: Duration = Duration::from_millis(500);
/// The longest a key may be remembered: a revoked key is refused everywhere within a second.
pub const MAX_KEY_CACHE: Duration = Duration::from_secs(1);

/// The largest per-minute rate accepted, for the instance or one key (a million a minute is
/// more than one process serves).
pub const MAX_RATE: u32 = 1_000_000;
/// The largest daily quota accepted, for the instance or one key.
pub const MAX_QUOTA: u32 = 1_000_000_000;

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(90 * 86_400),
            max_ttl: Duration::from_secs(365 * 86_400),
            max_per_user: 500,
            enforce: true,
            rate_per_minute: DEFAULT_KEY_RATE,
            daily_quota: DEFAULT_KEY_QUOTA,
            anon_rate_per_minute: DEFAULT_ANON_RATE,
            cache_ttl: DEFAULT_KEY_CACHE,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: None,
            trusted_proxies: Vec::new(),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            login_per_account: Limit { max_failures: 5, window: Duration::from_secs(15 * 60) },
            login_per_client: Limit { max_failures: 20, window: Duration::from_secs(15 * 60) },
            // Half the cores: a flood of log-ins never has every core hashing.
            hash_concurrency: std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            keys: KeySettings::default(),
        }
    }
}

impl Config {
    /// Whether the instance is reached over https (`TAPELINE_PUBLIC_URL`; the scheme in any
    /// case): session cookies are then `Secure` and answers carry HSTS.
    pub fn public_url_is_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")))
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn https_is_recognised_in_any_case() {
        let with = |url: Option<&str>| Config { public_url: url.map(str::to_owned), ..Config::default() };
        assert!(with(Some("https://tapeline.example.org")).public_url_is_https());
        assert!(with(Some("HTTPS://x")).public_url_is_https());
        assert!(!with(Some("http://localhost:3000")).public_url_is_https());
        assert!(!with(Some("https:")).public_url_is_https());
        assert!(!with(None).public_url_is_https());
    }
}
