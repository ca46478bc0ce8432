//! The `tapeline` binary's library half: command line, start-up and the router.
//!
//! Kept as a library so that the integration tests drive exactly the router that
//! `tapeline serve` serves.

// The pages' view types nest deeply; rendering them is instantiated here.
#![recursion_limit = "256"]

pub mod cli;
pub mod metrics;

use anyhow::Context as _;
use app::server::extract::BODY_LIMIT;
use app::server::http::{answer, api_not_found, healthz, ResolveClientLayer};
use app::server::{db::redact_url, Config, Db};
use app::state::AppState;
use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use app::server::{policy, request_id};
use http::{header, HeaderValue};
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower::ServiceBuilder;
use utoipa_swagger_ui::SwaggerUi;

/// Where the database lives when no URL is given: a SQLite file in the data directory.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("tapeline.db").display())
}

/// Opens (creating when needed) and migrates the database. Any failure here stops start-up
/// with a message that says which step failed and never shows a password.
/// `connections`: the most the pool opens (`None`: [`app::server::db::default_connections`]).
pub async fn open_database(database_url: Option<&str>, connections: Option<usize>, data_dir: &Path) -> anyhow::Result<Db> {
    let url = match database_url {
        Some(url) => url.to_owned(),
        None => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
            default_database_url(data_dir)
        }
    };
    let db = Db::connect_with(&url, connections)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database at {}: {}", redact_url(&url), e))?;
    db.migrate()
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed on {}: {}", redact_url(&url), e))?;
    Ok(db)
}

/// Leptos's settings, from `LEPTOS_*` variables where set (cargo-leptos sets them under
/// `scripts/watch.sh`); run from the repository root, the binary finds the site
/// `scripts/build.sh` assembled in `target/site`.
pub fn leptos_options(listen: SocketAddr) -> LeptosOptions {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") | Ok("dev") | Ok("development") => Env::DEV,
        Ok(_) => Env::PROD,
        Err(_) if cfg!(debug_assertions) => Env::DEV,
        Err(_) => Env::PROD,
    };
    // scripts/build.sh names the site's files by their content and writes the names it chose
    // to hash.txt next to the binary it built, so that a release and a debug binary sharing
    // one site directory each serve their own bundle. Without that file (tests, or
    // `cargo leptos watch`), the plain names.
    let hash_file = "hash.txt";
    let hashed = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(hash_file))).is_some_and(|p| p.exists());
    LeptosOptions::builder()
        .hash_files(hashed)
        .hash_file(std::sync::Arc::<str>::from(hash_file))
        .output_name(var("LEPTOS_OUTPUT_NAME", "tapeline"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(listen)
        .reload_port(var("LEPTOS_RELOAD_PORT", "3001").parse().unwrap_or(3001))
        .env(env)
        .build()
}

/// The app's page routes, listed once per process.
///
/// Listing renders the app, and for the length of that render leptos_server suppresses the
/// loading of resources through a process-wide flag (`IS_SUPPRESSING_RESOURCE_LOAD`, set by
/// `SuppressResourceLoad` in leptos_server 0.8's `resource.rs`): a page that another thread
/// renders at that moment creates resources that await forever, so its response never
/// completes. A server builds one router before it serves; the tests build many while other
/// tests render. Listed once, before the first router exists, nothing can be rendering yet,
/// and later routers never touch the flag.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole HTTP surface of Tapeline.
pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let config = state.config.clone();
    let (api, mut openapi) = app::router::api();
    app::router::document_instance(&mut openapi, &config);
    // One composite, boxed once (see the answer middleware below).
    let api = api.layer(
        ServiceBuilder::new()
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .layer(axum::middleware::from_fn_with_state(state.clone(), app::auth::limits::fair_use::<AppState>)),
    );
    // Swagger UI (vendored assets) at /docs, and the document at /api/openapi.json, under a
    // policy of their own (Swagger UI sets inline styles).
    let docs = Router::new()
        .merge(SwaggerUi::new("/docs").url("/api/openapi.json", openapi))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy::DOCS_POLICY)));
    Router::new()
        .merge(api)
        .merge(docs)
        // The site's package (WebAssembly, its JavaScript, the stylesheet): content-hashed names,
        // served with the .br or .gz that scripts/build.sh made beside each file.
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            ServeDir::new(Path::new(&*state.leptos_options.site_root).join(&*state.leptos_options.site_pkg_dir))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .route("/healthz", get(healthz))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        // Pages: rendered with the nonce the innermost middleware (answer) made for them.
        .leptos_routes_with_context(&state, routes, policy::provide_page_nonce, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // Static files, or the app's own 404 page — which renders the header and so needs
        // the state in context like every other page.
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            {
                let state = state.clone();
                move || {
                    leptos::prelude::provide_context(state.clone());
                    policy::provide_page_nonce();
                }
            },
            shell,
        ))
        // Every answer's middleware, outermost first. One ServiceBuilder rather than one
        // `Router::layer` per layer: axum boxes the service at each `Router::layer`, and every
        // `from_fn` layer clones the service inside it per request, so with a box at every
        // level each request cloned (and allocated) the stack below it once per layer; one
        // composite is boxed once. The layers that need no `await` of their own (metrics,
        // the client's address, the request id's scope) are tower services whose futures wrap
        // the inner one, with nothing boxed per request; `answer` (which may read a body)
        // stays one `from_fn`.
        .layer(
            ServiceBuilder::new()
                // Outermost: counts every answer, including the refusals of the layers below.
                .layer(metrics::TrackRequestsLayer)
                // Before anything keys on the client's address (limits, throttles, the
                // request id a trusted proxy may set).
                .layer(ResolveClientLayer::new(config.clone()))
                .layer(SetRequestIdLayer::new(request_id::HEADER, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id::HEADER))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &http::Request<_>| {
                    let id = req.headers().get(request_id::HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
                }))
                // The request's id, known to the error type (a 500's body carries it) and to
                // every log line of the request (the span above).
                .layer(request_id::ScopeLayer)
                // The compressed body, boxed once here: its encoders' state makes it large, and
                // every layer above moves the answer it is in (a copy of it per layer, per
                // request, in the instruction counts; README, "What the profile showed").
                .map_response(|res: http::Response<_>| res.map(axum::body::Body::new))
                // br or gzip, as the client accepts, where it pays and no secret is
                // (Compressible: it reads the mark `answer`, inside it, puts on answers to
                // requests with credentials); the static files come precompressed
                // (scripts/build.sh), left as they are.
                .layer(CompressionLayer::new().br(true).gzip(true).compress_when(Compressible))
                // What every answer, refusals included, says about its use (server::policy:
                // the security headers, the Content-Security-Policy — a page's names the nonce
                // made for its request, /docs has its own, the rest gets the default — and
                // caching), around the refusals of large bodies and cross-site requests, around
                // server functions' statuses: one layer (app::server::http::answer).
                .layer(axum::middleware::from_fn_with_state(config, answer)),
        )
        .with_state(state)
}

/// What the compression layer may compress: answers of at least [`policy::COMPRESS_FROM`]
/// bytes, of a type that compresses (not images), not already encoded (tower-http leaves
/// those alone: the precompressed static files), and not [`policy::Private`] — answers to
/// requests with credentials, which may hold secrets beside text others chose (BREACH).
#[derive(Clone, Copy, Debug, Default)]
struct Compressible;

impl Predicate for Compressible {
    fn should_compress<B: http_body::Body>(&self, response: &http::Response<B>) -> bool {
        let base = SizeAbove::new(policy::COMPRESS_FROM).and(NotForContentType::IMAGES).and(NotForContentType::GRPC);
        response.extensions().get::<policy::Private>().is_none() && base.should_compress(response)
    }
}

/// Everything `tapeline serve` needs to start.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    /// Where to serve Prometheus metrics (`/metrics`); `None`: nowhere, and nothing recorded.
    pub metrics_listen: Option<SocketAddr>,
    /// Redis, shared by several processes (limits, quotas, log-in throttle); `None`: this
    /// process keeps its own in memory.
    pub redis_url: Option<String>,
    pub database_url: Option<String>,
    /// The most connections the pool opens (`TAPELINE_DATABASE_CONNECTIONS`); `None`: the
    /// default for the database ([`app::server::db::default_connections`]).
    pub database_connections: Option<usize>,
    pub data_dir: PathBuf,
    pub config: Config,
}

/// Builds the application state from settings: database, migrations, secrets.
pub async fn build_state(settings: &ServeSettings) -> anyhow::Result<AppState> {
    let shared = match settings.redis_url.as_deref() {
        Some(url) => {
            let shared = app::server::shared::Shared::connect(url).map_err(|e| anyhow::anyhow!("TAPELINE_REDIS_URL: {e}"))?;
            // 1 until a call finds Redis gone (then 0 until it answers again).
            ::metrics::gauge!(app::server::shared::REDIS_UP_METRIC).set(1.0);
            Some(shared)
        }
        None => None,
    };
    let db = open_database(settings.database_url.as_deref(), settings.database_connections, &settings.data_dir).await?;
    AppState::with_shared(db, settings.config.clone(), leptos_options(settings.listen), shared)
        .await
        .map_err(|e| anyhow::anyhow!("start-up failed: {e}"))
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(settings: ServeSettings) -> anyhow::Result<()> {
    let state = build_state(&settings).await?;
    let backend = state.db.backend;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let metrics = match settings.metrics_listen {
        Some(address) => Some(serve_metrics(address, &state).await?),
        None => None,
    };
    tracing::info!(address = %settings.listen, ?backend, "Tapeline is listening on http://{}", settings.listen);
    let flusher = tokio::spawn(flush_usage_periodically(state.clone()));
    // Other processes' changes to keys and accounts, through Redis (when shared).
    let follower = tokio::spawn({
        let state = state.clone();
        async move { state.follow_key_changes().await }
    });
    axum::serve(listener, router(state.clone()).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server error")?;
    flusher.abort();
    follower.abort();
    // The requests in flight have finished: write the last usage counts before exiting.
    if let Err(e) = flush_usage(&state).await {
        tracing::error!(error = %e, "could not write API key usage at shutdown");
    }
    for task in metrics.into_iter().flatten() {
        task.abort();
    }
    tracing::info!("Tapeline stopped");
    Ok(())
}

/// How often API key usage is written to the database.
const USAGE_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

async fn flush_usage_periodically(state: AppState) {
    let mut tick = tokio::time::interval(USAGE_FLUSH_EVERY);
    loop {
        tick.tick().await;
        if let Err(e) = flush_usage(&state).await {
            tracing::warn!(error = %e, "could not write API key usage; will retry");
        }
    }
}

/// Writes the API key usage counted in memory, timing the write (and counting a failure) in
/// the metrics.
pub async fn flush_usage(state: &AppState) -> app::server::Result<usize> {
    let started = std::time::Instant::now();
    let written = state.usage.flush(&state.db).await;
    metrics::record_flush(started.elapsed(), written.is_err());
    written
}

/// Installs the metrics recorder and serves `/metrics` on `address`, apart from the public
/// listener. Returns the tasks to stop at shutdown: the listener and the recorder's upkeep.
async fn serve_metrics(address: SocketAddr, state: &AppState) -> anyhow::Result<[tokio::task::JoinHandle<()>; 2]> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for metrics on {address} (--metrics-listen, TAPELINE_METRICS_LISTEN)"))?;
    let handle = metrics::install();
    tracing::info!(%address, "metrics at http://{address}/metrics");
    let upkeep = tokio::spawn(metrics::upkeep(handle.clone()));
    let app = metrics::router(state.clone(), handle);
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok([server, upkeep])
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
