//! The command line: `tapeline serve` (the default) and operator commands.

use crate::ServeSettings;
use anyhow::Context as _;
use app::accounts::service;
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

    /// Lifetime of an API key created without an expiry (e.g. `90d`, `12h`).
    #[arg(long, env = "TAPELINE_KEY_DEFAULT_EXPIRY", default_value = "90d", value_parser = parse_duration, global = true)]
    pub key_default_expiry: i64,

    /// The longest lifetime an API key may be given.
    #[arg(long, env = "TAPELINE_KEY_MAX_EXPIRY", default_value = "365d", value_parser = parse_duration, global = true)]
    pub key_max_expiry: i64,

    /// How many active API keys one account may hold.
    #[arg(long, env = "TAPELINE_KEY_LIMIT", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub key_limit: u32,

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
}

/// The largest per-minute rate accepted (a million a minute is more than one process serves).
const MAX_RATE: i64 = 1_000_000;
/// The largest daily quota accepted.
const MAX_QUOTA: i64 = 1_000_000_000;

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
                rate_per_minute: self.key_rate_limit,
                daily_quota: self.key_daily_quota,
                anon_rate_per_minute: self.anon_rate_limit,
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
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account (for operators and scripted set-up).
    Create(CreateUser),
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
        Some(Command::Keys(command)) => manage_keys(&cli.global, command).await,
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
    crate::serve(ServeSettings {
        listen,
        metrics_listen,
        database_url: global.database_url.clone(),
        data_dir: global.data_dir.clone(),
        config: Config { public_url, ..global.config()? },
    })
    .await
}

/// The service state for a one-off operator command.
async fn operator_state(global: &Global) -> anyhow::Result<AppState> {
    crate::build_state(&ServeSettings {
        listen: ([127, 0, 0, 1], 0).into(),
        metrics_listen: None,
        database_url: global.database_url.clone(),
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
        KeysCommand::Revoke { id } => {
            keys::revoke_by_operator(&state, &id).await.map_err(describe)?;
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
