//! The command line: `tapeline serve` (the default) and operator commands.

use crate::ServeSettings;
use anyhow::Context as _;
use app::accounts::service;
use app::admin::service as admin;
use app::apikeys::service as keys;
use app::auth::{Account, Principal};
use app::levels::Role;
use app::server::config::{DEFAULT_ANON_RATE, DEFAULT_KEY_QUOTA, DEFAULT_KEY_RATE};
use app::server::{Config, KeySettings};
use app::state::AppState;
use clap::{Args, Parser, Subcommand};
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Tapeline: an open backend for made-to-measure sewing.
///
/// Every option can also be given as the environment variable shown with it.
#[derive(Debug, Parser)]
#[command(name = "tapeline", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Directory for Tapeline's own files, including the default SQLite database
    /// (`tapeline.db`). Created when missing.
    #[arg(long, env = "TAPELINE_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    /// Default: a SQLite file in the data directory. Migrated on start.
    #[arg(long, env = "TAPELINE_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// The most connections one process opens to the database (1–1000). Default: 8 on
    /// SQLite; on PostgreSQL two per core of this machine. Several processes sharing one
    /// PostgreSQL must stay under its `max_connections` together.
    #[arg(long, env = "TAPELINE_DATABASE_CONNECTIONS", value_parser = clap::value_parser!(u16).range(1..=1000), global = true)]
    pub database_connections: Option<u16>,

    /// Lifetime of an API key created without an expiry (e.g. `90d`, `12h`).
    #[arg(long, env = "TAPELINE_KEY_DEFAULT_EXPIRY", default_value = "90d", value_parser = parse_duration, global = true)]
    pub key_default_expiry: i64,

    /// The longest lifetime an API key may be given.
    #[arg(long, env = "TAPELINE_KEY_MAX_EXPIRY", default_value = "365d", value_parser = parse_duration, global = true)]
    pub key_max_expiry: i64,

    /// How many active API keys one account may hold.
    #[arg(long, env = "TAPELINE_KEY_LIMIT", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub key_limit: u32,

    /// Whether API keys are held to their rate limit and daily quota: `on`, or `off` for a
    /// private instance (or one behind a gateway that limits already). Usage is counted
    /// either way; the anonymous limit stays.
    #[arg(long, env = "TAPELINE_KEY_LIMITS", default_value = "on", value_parser = parse_on_off, global = true)]
    pub key_limits: bool,

    /// Requests per minute an API key may make (its burst, too), unless staff set its own.
    #[arg(long, env = "TAPELINE_KEY_RATE_LIMIT", default_value_t = DEFAULT_KEY_RATE, value_parser = clap::value_parser!(u32).range(1..=MAX_RATE), global = true)]
    pub key_rate_limit: u32,

    /// Requests per UTC day an API key may make, unless staff set its own.
    #[arg(long, env = "TAPELINE_KEY_DAILY_QUOTA", default_value_t = DEFAULT_KEY_QUOTA, value_parser = clap::value_parser!(u32).range(1..=MAX_QUOTA), global = true)]
    pub key_daily_quota: u32,

    /// Requests per minute one client address may make to the API without an API key
    /// (public sets and patterns, curated sets, the catalogue, failed authentication).
    #[arg(long, env = "TAPELINE_ANON_RATE_LIMIT", default_value_t = DEFAULT_ANON_RATE, value_parser = clap::value_parser!(u32).range(1..=MAX_RATE), global = true)]
    pub anon_rate_limit: u32,

    /// How many milliseconds a process remembers an API key it read (0–1000; 0: not at all).
    /// A change to a key or an account is seen by the process that made it at once, by the
    /// others sharing its Redis within milliseconds, and by any other within this time.
    #[arg(long, env = "TAPELINE_KEY_CACHE_MS", default_value_t = DEFAULT_KEY_CACHE_MS, value_parser = clap::value_parser!(u64).range(0..=MAX_KEY_CACHE_MS), global = true)]
    pub key_cache_ms: u64,
}

/// `on` or `off`, nothing else (no `yes`, `1`, `true`: one spelling, so a typo is an error).
fn parse_on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("'{other}' is neither on nor off")),
    }
}

const MAX_RATE: i64 = app::server::config::MAX_RATE as i64;
const MAX_QUOTA: i64 = app::server::config::MAX_QUOTA as i64;
const DEFAULT_KEY_CACHE_MS: u64 = app::server::config::DEFAULT_KEY_CACHE.as_millis() as u64;
const MAX_KEY_CACHE_MS: u64 = app::server::config::MAX_KEY_CACHE.as_millis() as u64;

impl Global {
    /// The service settings these options describe, checked for consistency.
    pub fn config(&self) -> anyhow::Result<Config> {
        let (default, max) = (self.key_default_expiry, self.key_max_expiry);
        if max < 60 {
            anyhow::bail!("--key-max-expiry must be at least 60s");
        }
        if default < 60 || default > max {
            anyhow::bail!("--key-default-expiry must be between 60s and --key-max-expiry ({max}s); it is {default}s");
        }
        let secs = |s: i64| std::time::Duration::from_secs(s as u64);
        Ok(Config {
            keys: KeySettings {
                default_ttl: secs(default),
                max_ttl: secs(max),
                max_per_user: self.key_limit,
                enforce: self.key_limits,
                rate_per_minute: self.key_rate_limit,
                daily_quota: self.key_daily_quota,
                anon_rate_per_minute: self.anon_rate_limit,
                cache_ttl: std::time::Duration::from_millis(self.key_cache_ms),
            },
            ..Config::default()
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve(ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage API keys (for operators and scripted set-up).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The operator's console on the command line: usage across keys, key limits.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// The busiest keys over the last days, with their refused calls and limits.
    Top {
        /// The period, in UTC days up to and including today (1–365).
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// How many keys to show (1–200).
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Key actions.
    #[command(subcommand)]
    Keys(AdminKeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminKeysCommand {
    /// Set a key's own rate limit and daily quota (`default` returns one to the instance's
    /// default; 0 refuses every request). Written to the owner's audit log with the reason.
    Limit {
        /// The key's id (the 12 characters after `tpl_`).
        key_id: String,
        /// Requests per minute, or `default`.
        #[arg(long, value_parser = parse_limit)]
        rate: Option<LimitArg>,
        /// Requests per UTC day, or `default`.
        #[arg(long, value_parser = parse_limit)]
        quota: Option<LimitArg>,
        /// Why: the owner sees it in their activity.
        #[arg(long)]
        reason: String,
    },
}

/// A limit on the command line: a number, or `default`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitArg {
    Value(i64),
    Default,
}

fn parse_limit(text: &str) -> Result<LimitArg, String> {
    match text {
        "default" => Ok(LimitArg::Default),
        n => n.parse::<i64>().map(LimitArg::Value).map_err(|_| format!("'{n}' is neither a whole number nor 'default'")),
    }
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "TAPELINE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: Option<SocketAddr>,

    /// The URL people reach this instance at (e.g. `https://tapeline.example.org`). When it
    /// is https, session cookies are marked Secure. Default: none.
    #[arg(long, env = "TAPELINE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Address and port to serve Prometheus metrics on, at `/metrics` (e.g. `127.0.0.1:9464`).
    /// Default: none, no metrics. Keep it private: reachable by your Prometheus only, never
    /// by the public.
    #[arg(long, env = "TAPELINE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Redis (or Valkey) URL, `redis://[[user]:password@]host[:port][/db]`, for running
    /// several processes: rate limits, daily quotas and the log-in throttle are then shared
    /// by every process that is given the same URL. Default: none (one process, its own
    /// limits in memory).
    #[arg(long, env = "TAPELINE_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Reverse proxies in front of Tapeline whose `X-Forwarded-For` is believed, as a
    /// comma-separated list of addresses or ranges (e.g. `127.0.0.1,10.0.0.0/8`). A request
    /// from one of them is limited and throttled by the client address the proxies report.
    /// Default: none (the connection's own address).
    #[arg(long, env = "TAPELINE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// One trusted proxy: an address (one host) or a range such as `10.0.0.0/8`.
fn parse_proxy(item: &str) -> Result<ipnet::IpNet, String> {
    let item = item.trim();
    item.parse::<ipnet::IpNet>()
        .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{item}' is neither an address nor a range like 10.0.0.0/8"))
}

/// `127.0.0.1,10.0.0.0/8`: a comma-separated list of [`parse_proxy`] items.
fn parse_proxies(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    text.split(',').filter(|s| !s.trim().is_empty()).map(parse_proxy).collect()
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account (for operators and scripted set-up).
    Create(CreateUser),
    /// Suspend an account: its keys are refused and its sessions end.
    Suspend {
        username: String,
        /// Why: written to the owner's audit log and the operator log.
        #[arg(long)]
        reason: String,
    },
    /// Lift an account's suspension: its keys work again.
    Unsuspend {
        username: String,
        /// Why: written to the owner's audit log and the operator log.
        #[arg(long)]
        reason: String,
    },
    /// Change an account's role (user, curator, support or admin).
    Role {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
        /// Why (optional): written to the owner's audit log and the operator log.
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CreateUser {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: String,
    /// Read the password from the first line of standard input (required: passwords are
    /// never taken as arguments, which other users of the machine can see).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// The account's role.
    #[arg(long, default_value = "user", value_parser = parse_role)]
    pub role: Role,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key for a user and print only its token on standard output.
    Create(CreateKey),
    /// Revoke a key by id; it stops working on its next request.
    Revoke {
        /// The key's id (the 12 characters after `tpl_`).
        id: String,
        /// Why: written to the owner's audit log and the operator log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// List a user's keys that are not revoked.
    List {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateKey {
    /// The user the key belongs to.
    #[arg(long)]
    pub username: String,
    /// A name to recognise the key by.
    #[arg(long)]
    pub name: String,
    /// Access level 0–8, at most the user's role level.
    #[arg(long, default_value_t = 1)]
    pub level: i64,
    /// Lifetime: a number with a unit, e.g. `90s`, `30m`, `12h`, `7d` (default: the
    /// instance's default, 90 days).
    #[arg(long, value_parser = parse_duration)]
    pub expires_in: Option<i64>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// Seconds in a duration like `90s`, `30m`, `12h` or `7d`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("'{text}' is not a duration like 90s, 30m, 12h or 7d");
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad())?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    number.checked_mul(unit).ok_or_else(|| format!("'{text}' is too long"))
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(&cli.global, ServeArgs::default()).await,
        Some(Command::Serve(args)) => serve(&cli.global, args).await,
        Some(Command::Users(UsersCommand::Create(args))) => create_user(&cli.global, args).await,
        Some(Command::Users(command)) => manage_users(&cli.global, command).await,
        Some(Command::Keys(command)) => manage_keys(&cli.global, command).await,
        Some(Command::Admin(command)) => administer(&cli.global, command).await,
    }
}

async fn serve(global: &Global, args: ServeArgs) -> anyhow::Result<()> {
    let listen = match args.listen {
        Some(listen) => listen,
        None => std::env::var("TAPELINE_LISTEN")
            .unwrap_or_else(|_| "127.0.0.1:3000".into())
            .parse()
            .context("TAPELINE_LISTEN is not an address like 127.0.0.1:3000")?,
    };
    let public_url = args.public_url.or_else(|| std::env::var("TAPELINE_PUBLIC_URL").ok());
    let metrics_listen = match args.metrics_listen {
        Some(address) => Some(address),
        // Without `serve`, clap has not read the variable.
        None => match std::env::var("TAPELINE_METRICS_LISTEN") {
            Ok(text) => Some(
                text.parse().with_context(|| format!("TAPELINE_METRICS_LISTEN '{text}' is not an address like 127.0.0.1:9464"))?,
            ),
            Err(_) => None,
        },
    };
    let redis_url = args.redis_url.or_else(|| std::env::var("TAPELINE_REDIS_URL").ok());
    let trusted_proxies = match args.trusted_proxies {
        list if !list.is_empty() => list,
        // Without `serve`, clap has not read the variable.
        _ => match std::env::var("TAPELINE_TRUSTED_PROXIES") {
            Ok(text) => parse_proxies(&text).map_err(|e| anyhow::anyhow!("TAPELINE_TRUSTED_PROXIES: {e}"))?,
            Err(_) => Vec::new(),
        },
    };
    crate::serve(ServeSettings {
        listen,
        metrics_listen,
        redis_url,
        database_url: global.database_url.clone(),
        database_connections: global.database_connections.map(usize::from),
        data_dir: global.data_dir.clone(),
        config: Config { public_url, trusted_proxies, ..global.config()? },
    })
    .await
}

/// The service state for a one-off operator command.
async fn operator_state(global: &Global) -> anyhow::Result<AppState> {
    crate::build_state(&ServeSettings {
        listen: ([127, 0, 0, 1], 0).into(),
        metrics_listen: None,
        // The serving processes' Redis, when they share one: a revocation or suspension made
        // here is announced to them at once (see app::auth::key_cache).
        redis_url: std::env::var("TAPELINE_REDIS_URL").ok(),
        database_url: global.database_url.clone(),
        database_connections: global.database_connections.map(usize::from),
        data_dir: global.data_dir.clone(),
        config: global.config()?,
    })
    .await
}

/// A service error as one readable message, with every field error on its own line.
fn describe(e: app::server::Error) -> anyhow::Error {
    let p = e.into_problem();
    let fields: Vec<String> = p.errors.iter().map(|f| format!("\n  {}: {}", f.field, f.message)).collect();
    anyhow::anyhow!("{}{}", if fields.is_empty() { p.detail } else { p.title }, fields.concat())
}

async fn create_user(global: &Global, args: CreateUser) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let state = operator_state(global).await?;
    let account = service::create_account(
        &state,
        service::NewAccount { username: args.username, email: args.email, password, role: args.role },
    )
    .await
    .map_err(describe)?;
    println!("created user {} (id {}, role {})", account.username, account.id, account.role.as_str());
    Ok(())
}

/// Returns once a change to a key or an account made by this command applies on every
/// serving process's next request: at once when Redis carried the announcement to them, else
/// after the longest any process may remember a key (`app::auth::key_cache`), so that an
/// operator who revokes a key from the command line can rely on it when the command returns.
async fn in_force_everywhere(state: &AppState) {
    if !state.shared.as_ref().is_some_and(|shared| shared.is_up()) {
        tokio::time::sleep(app::server::config::MAX_KEY_CACHE).await;
    }
}

async fn account_named(state: &AppState, username: &str) -> anyhow::Result<Account> {
    service::find_by_username(state, username)
        .await
        .map_err(describe)?
        .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))
}

async fn manage_keys(global: &Global, command: KeysCommand) -> anyhow::Result<()> {
    let state = operator_state(global).await?;
    match command {
        KeysCommand::Create(args) => {
            // The operator creates on the user's behalf, with the user's own limits.
            let principal = Principal::from_session(account_named(&state, &args.username).await?);
            let request =
                keys::NewKey { name: args.name, level: Some(args.level), expires_in: args.expires_in, expires_at: None };
            let created = keys::create(&state, &principal, request).await.map_err(describe)?;
            // Only the token, so that `TOKEN=$(tapeline keys create …)` works.
            println!("{}", created.token);
        }
        KeysCommand::Revoke { id, reason } => {
            keys::revoke_by_operator(&state, &id, reason.as_deref()).await.map_err(describe)?;
            in_force_everywhere(&state).await;
            eprintln!("revoked key {id}");
        }
        KeysCommand::List { username } => {
            let account = account_named(&state, &username).await?;
            let list = keys::list_of(&state, account.id).await.map_err(describe)?;
            println!("{:<12}  {:<5}  {:<30}  {:<20}  {:>7}  NAME", "ID", "LEVEL", "EXPIRES", "LAST USED", "CALLS");
            for k in list {
                let expires = if k.expired { format!("{} (expired)", k.expires_at) } else { k.expires_at };
                let last_used = k.last_used_at.unwrap_or_else(|| "never".into());
                println!("{:<12}  {:<5}  {:<30}  {:<20}  {:>7}  {}", k.id, k.level, expires, last_used, k.calls, k.name);
            }
        }
    }
    Ok(())
}

async fn manage_users(global: &Global, command: UsersCommand) -> anyhow::Result<()> {
    let state = operator_state(global).await?;
    let actor = admin::Actor::Operator;
    let user = match &command {
        UsersCommand::Create(_) => unreachable!("handled by create_user"),
        UsersCommand::Suspend { username, .. } | UsersCommand::Unsuspend { username, .. } | UsersCommand::Role { username, .. } => {
            admin::user_named(&state, username).await.map_err(describe)?
        }
    };
    let done = match command {
        UsersCommand::Create(_) => unreachable!("handled by create_user"),
        UsersCommand::Suspend { reason, .. } => {
            admin::suspend(&state, &actor, user.id, admin::Reason { reason: Some(reason) }).await.map_err(describe)?
        }
        UsersCommand::Unsuspend { reason, .. } => {
            admin::unsuspend(&state, &actor, user.id, admin::Reason { reason: Some(reason) }).await.map_err(describe)?
        }
        UsersCommand::Role { role, reason, .. } => {
            let change = admin::RoleChange { role: role.as_str().to_owned(), reason };
            admin::set_role(&state, &actor, user.id, change).await.map_err(describe)?
        }
    };
    in_force_everywhere(&state).await;
    let state_text = match &done.suspended_at {
        Some(at) => format!("suspended since {at}"),
        None => "active".to_owned(),
    };
    println!("{}: role {}, {state_text}", done.username, done.role);
    Ok(())
}

async fn administer(global: &Global, command: AdminCommand) -> anyhow::Result<()> {
    let state = operator_state(global).await?;
    match command {
        AdminCommand::Top { days, limit } => {
            let query = admin::KeyQuery { sort: Some("calls".into()), days: Some(days), q: None, limit: Some(limit), offset: None };
            let page = admin::keys(&state, &admin::Actor::Operator, query).await.map_err(describe)?;
            println!("{} calls on the instance over {} days", page.instance_calls, page.days);
            println!(
                "{:<12}  {:<16}  {:<5}  {:>9}  {:>8}  {:>6}  {:>9}  {:>11}  NAME",
                "KEY", "OWNER", "LEVEL", "CALLS", "REFUSED", "SHARE", "RATE/MIN", "QUOTA/DAY"
            );
            for k in page.keys {
                let custom = if k.limits.custom { "*" } else { "" };
                println!(
                    "{:<12}  {:<16}  {:<5}  {:>9}  {:>8}  {:>5.1}%  {:>9}  {:>11}  {}{}",
                    k.id,
                    k.owner,
                    k.level,
                    k.calls,
                    k.refused,
                    k.share * 100.0,
                    k.limits.rate_limit,
                    k.limits.daily_quota,
                    k.name,
                    custom
                );
            }
        }
        AdminCommand::Keys(AdminKeysCommand::Limit { key_id, rate, quota, reason }) => {
            let value = |arg: Option<LimitArg>| {
                arg.map(|a| match a {
                    LimitArg::Value(n) => Some(n),
                    LimitArg::Default => None,
                })
            };
            let change = admin::LimitsChange { rate_limit: value(rate), daily_quota: value(quota), reason: Some(reason) };
            let key = admin::set_key_limits(&state, &admin::Actor::Operator, &key_id, change).await.map_err(describe)?;
            in_force_everywhere(&state).await;
            println!(
                "key {} ({}, {}): {} a minute, {} a day{}",
                key.id,
                key.name,
                key.owner,
                key.limits.rate_limit,
                key.limits.daily_quota,
                if key.limits.custom { " (set for this key)" } else { " (the defaults)" }
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        for bad in ["", "7", "d", "7w", "-7d", "7.5d", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
