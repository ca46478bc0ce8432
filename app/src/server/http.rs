//! HTTP plumbing shared by every route: the innermost middleware ([`answer`]: the answer's
//! policy, the cross-site guard, the body limit, server functions' statuses), `/healthz`, the
//! JSON 404 for unknown API paths, the client's address, and the glue that runs a server
//! function body through the service layer's error type.

use super::config::Config;
use super::cookie;
use super::db::Db;
use super::shared::Shared;
use super::error::{problem_headers, problem_response, Error, Result};
use super::policy::AnswerPolicy;
use crate::error::{ErrorCode, Problem};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use super::json::Json;
use http::request::Parts;
use http::{header, HeaderMap, Method, StatusCode};
use leptos::prelude::use_context;
use std::future::Future;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Path prefix of the browser's server functions.
pub const UI_PREFIX: &str = "/ui/";

/// Every answer's innermost middleware, in this order: the answer's headers
/// ([`AnswerPolicy`]: security headers, Content-Security-Policy, caching), around the refusal
/// of bodies over the limit ([`within_body_limit`]), around the refusal of cross-site requests
/// ([`cross_site_refusal`]), around the status of server functions' own refusals
/// ([`server_fn_status`]), around the handler.
///
/// One layer rather than one per step: each `from_fn` layer clones the service stack below it
/// and boxes it and its future on every request, and these steps need nothing in between
/// (measured in instructions per request: README, "What the profile showed").
pub async fn answer(State(config): State<Arc<Config>>, mut req: Request, next: Next) -> Response {
    let policy = AnswerPolicy::begin(&mut req);
    let response = match within_body_limit(req).await {
        Err(refusal) => refusal,
        Ok(req) => match cross_site_refusal(&config, &req) {
            Some(refusal) => refusal,
            None => {
                let ui = req.uri().path().starts_with(UI_PREFIX);
                server_fn_status(ui, next.run(req).await).await
            }
        },
    };
    policy.finish(response, config.public_url_is_https())
}

/// Refuses state-changing requests made by another site (CSRF).
///
/// Applies to non-safe methods on server functions, and to any request that carries the
/// session cookie. A request is cross-site when the browser says so (`Sec-Fetch-Site:
/// cross-site`) or its `Origin` is neither the request's own host nor the configured public
/// URL. Scripts using API keys send no `Origin` and are not affected.
fn cross_site_refusal(config: &Config, req: &Request) -> Option<Response> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let guarded = req.uri().path().starts_with(UI_PREFIX) || cookie::token_from_headers(req.headers()).is_some();
    (!safe && guarded && is_cross_site(config, req.headers())).then(|| {
        Error::new(
            ErrorCode::CrossSiteRequest,
            "This request came from another site and was refused. Use Tapeline's own pages, or an API key from a script.",
        )
        .into_response()
    })
}

fn is_cross_site(config: &Config, headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if text(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return true;
    }
    let Some(origin) = text(header::ORIGIN) else {
        return false;
    };
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    let own_host = text(header::HOST).unwrap_or("");
    let public = config.public_url.as_deref().map(|u| u.trim_end_matches('/'));
    !(origin_host == own_host && !own_host.is_empty()) && Some(origin) != public
}

/// Refuses any request body larger than the API's limit, in the one error shape — whether
/// its length is declared or it arrives chunked. Bodies are read into memory up to the limit
/// (every handler reads them whole anyway: forms and JSON).
async fn within_body_limit(req: Request) -> std::result::Result<Request, Response> {
    let limit = super::extract::BODY_LIMIT;
    let too_large = || {
        Error::new(ErrorCode::PayloadTooLarge, format!("The body is larger than {} KiB.", limit / 1024)).into_response()
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    // No body at all (most reads): nothing to read or to replace.
    if axum::body::HttpBody::is_end_stream(req.body()) {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Request::from_parts(parts, axum::body::Body::from(bytes))),
        Err(_) => Err(too_large()),
    }
}

/// `GET /healthz`: 200 when the database answers, 503 (problem+json) when it does not; with
/// Redis configured, `"redis": "ok"` or `"unreachable"` (still 200).
pub async fn healthz(State(db): State<Db>, State(shared): State<Option<Shared>>) -> Response {
    if !db.ping().await {
        return Error::new(ErrorCode::ServiceUnavailable, "The database is not reachable.").into_response();
    }
    // Redis down is not a failure of this process: it serves on per-process limits.
    let mut body = serde_json::json!({ "status": "ok", "database": "ok" });
    if let Some(shared) = shared {
        body["redis"] = serde_json::json!(if shared.ping().await { "ok" } else { "unreachable" });
    }
    (StatusCode::OK, Json(body)).into_response()
}

/// Gives a server function's refusal the status its problem document carries.
///
/// server_fn answers the errors it raises itself — arguments that cannot be read, before the
/// function's body runs — with 500, whatever the problem says (its body is the
/// `malformed_request` problem, status 400). Errors from the body already have their status
/// (`server::http::ui`). Only `/ui/` responses (`ui`) with status 500 are looked at.
async fn server_fn_status(ui: bool, res: Response) -> Response {
    if !ui || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, super::extract::BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(status) = serde_json::from_slice::<Problem>(&bytes)
        .ok()
        .and_then(|p| StatusCode::from_u16(p.status).ok())
    {
        parts.status = status;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Unknown paths under `/api/`: a problem+json 404 rather than an HTML page.
pub async fn api_not_found(req: Request) -> Response {
    problem_response(&Problem::new(ErrorCode::NotFound, format!("No API route at {}.", req.uri().path())))
}

/// Runs a server function body: service errors become a [`Problem`] whose status and
/// headers (`WWW-Authenticate`, `Retry-After`) are also set on the HTTP response.
///
/// Except for a plain HTML form post (the page before hydration, or without JavaScript):
/// there the framework answers with a redirect back to the form carrying the error, which
/// the form then shows, and the status must stay that redirect.
pub async fn ui<T>(body: impl Future<Output = Result<T>>) -> std::result::Result<T, Problem> {
    body.await.map_err(|e| {
        let problem = e.into_problem();
        let plain_form_post = use_context::<Parts>().is_some_and(|parts| {
            parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
        });
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>().filter(|_| !plain_form_post) {
            res.set_status(StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
            for (name, value) in problem_headers(&problem) {
                res.insert_header(name, value);
            }
        }
        problem
    })
}

/// The client's address, as the throttles' and the anonymous limit's key: the connection's
/// address, or — when that is a trusted proxy — the address the proxies say the request came
/// from (see [`ResolveClientLayer`]).
pub fn client_addr(parts: &Parts) -> String {
    client_addr_of(&parts.extensions)
}

/// The client's address from a request's extensions (see [`client_addr`]).
pub fn client_addr_of(extensions: &http::Extensions) -> String {
    address_text(client_ip_of(extensions))
}

/// The client's IP address from a request's extensions, as [`client_addr_of`] writes it out:
/// for a caller that needs the text only sometimes, as the fair-use layer does.
pub fn client_ip_of(extensions: &http::Extensions) -> Option<IpAddr> {
    match extensions.get::<ClientIp>() {
        Some(ClientIp(ip)) => Some(*ip),
        None => extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip()),
    }
}

/// An address of [`client_ip_of`] as text; `unknown` when there is none (a request that came
/// from no socket, as in the tests' in-process router).
pub fn address_text(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The client's address as [`ResolveClientLayer`] found it behind trusted proxies.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// The address a request comes from: `peer`, unless `peer` is a trusted proxy — then the
/// right-most address of `X-Forwarded-For` that is not a trusted proxy (each proxy appends
/// the address it saw, so addresses left of the first untrusted one may be made up by the
/// client and are ignored). `None`: keep the peer.
pub fn forwarded_client(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return None;
    }
    let mut last = None;
    for hop in forwarded_for?.rsplit(',') {
        let ip: IpAddr = hop.trim().parse().ok()?;
        if !is_trusted(&ip) {
            return Some(ip);
        }
        last = Some(ip);
    }
    // Every hop a trusted proxy: the left-most is as close to the client as anyone knows.
    last
}

/// Sets [`ClientIp`] on requests that come through a trusted proxy (`TAPELINE_TRUSTED_PROXIES`),
/// and keeps the `X-Request-Id` only such a proxy may set: from anyone else (or malformed),
/// it is dropped, and the request gets an id of its own.
///
/// A tower layer rather than an axum `from_fn`: the work is done before the request goes on,
/// so the service answers with the inner service's own future, with nothing boxed or cloned
/// per request.
#[derive(Clone, Debug)]
pub struct ResolveClientLayer(Arc<Config>);

impl ResolveClientLayer {
    pub fn new(config: Arc<Config>) -> Self {
        Self(config)
    }
}

impl<S> tower::Layer<S> for ResolveClientLayer {
    type Service = ResolveClient<S>;

    fn layer(&self, inner: S) -> ResolveClient<S> {
        ResolveClient { inner, config: self.0.clone() }
    }
}

/// The service of [`ResolveClientLayer`].
#[derive(Clone, Debug)]
pub struct ResolveClient<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S, B> tower::Service<http::Request<B>> for ResolveClient<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> S::Future {
        resolve_client(&self.config, &mut req);
        self.inner.call(req)
    }
}

fn resolve_client<B>(config: &Config, req: &mut http::Request<B>) {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let from_proxy = peer.is_some_and(|peer| config.trusted_proxies.iter().any(|range| range.contains(&peer)));
    if from_proxy {
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if let Some(ip) = peer.and_then(|peer| forwarded_client(peer, forwarded, &config.trusted_proxies)) {
            req.extensions_mut().insert(ClientIp(ip));
        }
    }
    let kept = from_proxy && req.headers().get(super::request_id::HEADER).is_some_and(super::request_id::acceptable);
    if !kept {
        req.headers_mut().remove(super::request_id::HEADER);
    }
}

/// The client's address (see [`client_addr`]), as a handler argument.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> std::result::Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_right_most_untrusted_hop_behind_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let local = ip("127.0.0.1");
        // nginx appended the client it saw; what the client wrote before that is ignored.
        assert_eq!(forwarded_client(local, Some("6.6.6.6, 203.0.113.7"), &trusted), Some(ip("203.0.113.7")));
        // Two trusted proxies in a row.
        assert_eq!(forwarded_client(local, Some("203.0.113.7, 10.1.2.3"), &trusted), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_client(local, Some("2001:db8::1"), &trusted), Some(ip("2001:db8::1")));
        // Not through a trusted proxy: the header is the client's own word, ignored.
        assert_eq!(forwarded_client(ip("198.51.100.1"), Some("203.0.113.7"), &trusted), None);
        // No header, or garbage: keep the peer.
        assert_eq!(forwarded_client(local, None, &trusted), None);
        assert_eq!(forwarded_client(local, Some("not an address"), &trusted), None);
        assert_eq!(forwarded_client(local, Some("10.9.9.9"), &trusted), Some(ip("10.9.9.9")));
    }
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_rules() {
        let c = Config::default();
        assert!(!is_cross_site(&c, &headers(&[("host", "127.0.0.1:3000")])), "no Origin: a script");
        assert!(!is_cross_site(&c, &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])));
        assert!(is_cross_site(&c, &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")])));
        assert!(is_cross_site(&c, &headers(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
        assert!(is_cross_site(&c, &headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")])));
        let c = Config { public_url: Some("https://tape.example/".into()), ..Config::default() };
        assert!(!is_cross_site(&c, &headers(&[("host", "internal:3000"), ("origin", "https://tape.example")])));
    }
}
