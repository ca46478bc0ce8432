//! Prometheus metrics: the recorder, the layer that counts and times every HTTP request,
//! and the `/metrics` route served on an address of its own (`--metrics-listen`), never on
//! the public listener.
//!
//! Recording goes through the `metrics` facade (the service layer counts key checks the same
//! way, in `app::auth::keys`); this module installs the Prometheus recorder that keeps the
//! values and renders them. Without `--metrics-listen` no recorder is installed and every
//! recording is a no-op.
//!
//! Labels are bounded and never carry a secret or an id: the route is the matched template
//! (`/api/v1/sets/{id}`), or [`UNMATCHED`] for requests that no route matched; the method is
//! one of the standard ones or `other`.

use app::state::AppState;
use axum::extract::{MatchedPath, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, Method, Request, StatusCode};
use metrics::{Label, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// Requests, labelled `route`, `method` and `status`.
pub const HTTP_REQUESTS: &str = "tapeline_http_requests_total";
/// Time from a request's arrival to its response's head, labelled like [`HTTP_REQUESTS`].
pub const HTTP_DURATION: &str = "tapeline_http_request_duration_seconds";
/// Time one write of the API key usage counted in memory takes.
pub const FLUSH_DURATION: &str = "tapeline_usage_flush_duration_seconds";
/// Writes of the API key usage that failed (the counts stay in memory for the next one).
pub const FLUSH_FAILURES: &str = "tapeline_usage_flush_failures_total";
/// The database pool's open connections, labelled `state`: `idle` or `in_use`.
pub const POOL_CONNECTIONS: &str = "tapeline_db_pool_connections";
/// The most connections the database pool opens.
pub const POOL_MAX: &str = "tapeline_db_pool_max_connections";

/// The `route` label of a request that matched no route (static files, the not-found page).
pub const UNMATCHED: &str = "unmatched";

/// Histogram buckets, in seconds: from a cached answer to a slow database write.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// How often the recorder's histograms are drained when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// A recorder with Tapeline's settings (histograms with [`BUCKETS`], not summaries), not
/// installed. Tests record into one of their own through `metrics::set_default_local_recorder`.
pub fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new().set_buckets(&BUCKETS).expect("the buckets are not empty").build_recorder()
}

/// Installs [`recorder`] as the process's recorder, once, and returns its handle; later calls
/// return the same handle.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; this module is the only
            // one that installs one, so that would be a programming error.
            metrics::set_global_recorder(recorder).expect("no other metrics recorder is installed");
            describe();
            handle
        })
        .clone()
}

/// The metrics' help texts, and every series that should read 0 before its first event.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template, method and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to answer an HTTP request, by route template, method and status.");
    describe_counter!(
        app::auth::keys::AUTH_METRIC,
        "API key checks, by outcome: ok, invalid, expired, revoked, suspended, rate_limited, quota_exceeded."
    );
    describe_histogram!(FLUSH_DURATION, Unit::Seconds, "Time to write the API key usage counted in memory.");
    describe_counter!(FLUSH_FAILURES, "Writes of the API key usage that failed (retried at the next one).");
    describe_gauge!(POOL_CONNECTIONS, "Open database connections, by state: idle or in_use.");
    describe_gauge!(POOL_MAX, "The most database connections the pool opens.");
    for outcome in app::auth::keys::AUTH_OUTCOMES {
        metrics::counter!(app::auth::keys::AUTH_METRIC, "outcome" => outcome).absolute(0);
    }
    metrics::counter!(FLUSH_FAILURES).absolute(0);
}

/// Drains the recorder's histograms now and then, so that memory stays bounded when nobody
/// scrapes. Runs until aborted.
pub async fn upkeep(handle: PrometheusHandle) {
    let mut tick = tokio::time::interval(UPKEEP_EVERY);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// Counts and times every request by route template, method and status: the outermost
/// layer, so that it sees the refusals of the layers below too.
///
/// A tower layer rather than an axum `from_fn`: its future wraps the inner one, with nothing
/// boxed or cloned per request, and the labels are shared rather than copied — the status
/// from a table made once, the route's template once per request.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackRequestsLayer;

impl<S> tower::Layer<S> for TrackRequestsLayer {
    type Service = TrackRequests<S>;

    fn layer(&self, inner: S) -> TrackRequests<S> {
        TrackRequests(inner)
    }
}

/// The service of [`TrackRequestsLayer`].
#[derive(Clone, Debug)]
pub struct TrackRequests<S>(S);

impl<S, B, ResBody> tower::Service<Request<B>> for TrackRequests<S>
where
    S: tower::Service<Request<B>, Response = http::Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Tracked<S::Future> {
        let started = Instant::now();
        let route = match req.extensions().get::<MatchedPath>() {
            Some(path) => SharedString::from_shared(Arc::from(path.as_str())),
            None => SharedString::const_str(UNMATCHED),
        };
        let method = method_label(req.method());
        Tracked { inner: self.0.call(req), started, route, method }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`TrackRequests`]: records the request once its answer is ready.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        started: Instant,
        route: SharedString,
        method: &'static str,
    }
}

impl<F, ResBody, E> Future for Tracked<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            let labels = [
                Label::new("route", this.route.clone()),
                Label::from_static_parts("method", this.method),
                Label::new("status", status_label(response.status())),
            ];
            metrics::counter!(HTTP_REQUESTS, labels.iter()).increment(1);
            metrics::histogram!(HTTP_DURATION, labels.iter()).record(this.started.elapsed());
        }
        Poll::Ready(result)
    }
}

/// A status as a label, shared: made once per process for every status from 100 to 599.
fn status_label(status: StatusCode) -> SharedString {
    static LABELS: LazyLock<Vec<SharedString>> =
        LazyLock::new(|| (100..600u16).map(|code| SharedString::from_shared(Arc::from(code.to_string()))).collect());
    match LABELS.get(usize::from(status.as_u16()).wrapping_sub(100)) {
        Some(label) => label.clone(),
        None => SharedString::from_shared(Arc::from(status.as_str())),
    }
}

/// The standard methods by name; any other (a client may send any token) as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Records one write of the usage counts: how long it took and whether it failed.
pub fn record_flush(took: Duration, failed: bool) {
    metrics::histogram!(FLUSH_DURATION).record(took);
    if failed {
        metrics::counter!(FLUSH_FAILURES).increment(1);
    }
}

/// The metrics listener's router: `GET /metrics` in the Prometheus text format, rendered
/// from `handle`, with the database pool sampled at each scrape.
pub fn router(state: AppState, handle: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state((state, handle))
}

async fn scrape(State((state, handle)): State<(AppState, PrometheusHandle)>) -> Response {
    let pool = state.db.pool_status();
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(pool.idle as f64);
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(pool.open.saturating_sub(pool.idle) as f64);
    metrics::gauge!(POOL_MAX).set(pool.max as f64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}
