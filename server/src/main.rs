//! `tapeline`: the Tapeline server and operator command line. See `tapeline --help`.

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    keep_large_blocks_out_of_the_heap();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("the tokio runtime starts").block_on(run())
}

/// Every allocation of 1 MiB or more gets pages of its own from the kernel, given back when
/// freed. glibc otherwise raises this threshold after the first large free and serves later
/// large blocks from per-thread heaps it keeps: each password hash's 19 MiB of argon2 memory
/// then stayed resident, and a few dozen wrong-password log-ins grew the server from 30 MB to
/// over 200 MB (see the README's log-in flood figures). Set before any thread starts.
fn keep_large_blocks_out_of_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets one of glibc's malloc tunables; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

async fn run() -> std::process::ExitCode {
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
