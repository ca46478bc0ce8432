//! The baseline of `bench/routes.sh`: axum's hello-world, on the same stack as the server
//! (axum 0.8, tokio's multi-thread runtime with a worker per core), answering `GET /` with
//! `Hello, World!`.
//!
//!     hello PORT        # listens on 127.0.0.1:PORT

use axum::{routing::get, Router};

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: hello PORT");
            std::process::exit(2)
        });
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
