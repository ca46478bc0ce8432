//! `tapeline`: the Tapeline server and operator command line. See `tapeline --help`.

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

/// mimalloc, Microsoft's maintained allocator, instead of glibc's malloc. Measured with
/// `bash scripts/bench.sh` in one run against the same build on glibc: a key-authenticated
/// whoami 0.33 → 0.43 of hello-world (allocation was ≈ 17 % of its profile), a set 0.14 →
/// 0.16; peak RSS under the key routes 31 → 49 MB (the target is 60), after a log-in flood
/// 48 → 86-89 MB: each password hash's 19 MiB block is kept a while for reuse. glibc kept
/// such blocks in per-thread heaps, unbounded (220–260 MB after a flood); mimalloc's
/// retention is bounded by the number of hashing threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("TAPELINE_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = tapeline_server::cli::Cli::parse();
    match tapeline_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
