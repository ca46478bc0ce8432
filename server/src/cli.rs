//! The command line: `tapeline serve` (the default) and operator commands.

use crate::{open_database, ServeSettings};
use anyhow::Context as _;
use app::accounts::{service, Role};
use app::server::{AppState, Config};
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve(ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
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

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(&cli.global, ServeArgs::default()).await,
        Some(Command::Serve(args)) => serve(&cli.global, args).await,
        Some(Command::Users(UsersCommand::Create(args))) => create_user(&cli.global, args).await,
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
    crate::serve(ServeSettings {
        listen,
        database_url: global.database_url.clone(),
        data_dir: global.data_dir.clone(),
        config: Config { public_url, ..Config::default() },
    })
    .await
}

async fn create_user(global: &Global, args: CreateUser) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let db = open_database(global.database_url.as_deref(), &global.data_dir).await?;
    let state = AppState::new(db, Config::default(), crate::leptos_options(([127, 0, 0, 1], 0).into()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let account = service::create_account(
        &state,
        service::NewAccount { username: args.username, email: args.email, password, role: args.role },
    )
    .await
    .map_err(|e| {
        let p = e.into_problem();
        let fields: Vec<String> = p.errors.iter().map(|f| format!("\n  {}: {}", f.field, f.message)).collect();
        anyhow::anyhow!("{}{}", if fields.is_empty() { p.detail } else { p.title }, fields.concat())
    })?;
    println!("created user {} (id {}, role {})", account.username, account.id, account.role.as_str());
    Ok(())
}
