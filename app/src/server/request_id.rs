//! Request ids, so that a user's report ("it said 500, request id …") can be matched to the
//! log. tower-http's request-id layers give every request an `X-Request-Id` (generated, or
//! kept from a trusted proxy: see `ResolveClientLayer` in the HTTP plumbing) and copy it to the
//! response; this module makes it known inside the request — to the error type, which puts
//! it in the body of a 500 — through a task-local set by [`ScopeLayer`].

use http::HeaderName;
use std::task::{Context, Poll};
use tokio::task::futures::TaskLocalFuture;

/// The header carrying the id, as nginx and most proxies spell it.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id kept from a trusted proxy; a longer one is replaced by a fresh one.
pub const MAX_LEN: usize = 200;

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being answered, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(String::clone).ok()
}

/// Runs the rest of the request with its id (from the `X-Request-Id` the layers set) known
/// to [`current`]: the inner future runs inside the task-local's scope (the inner services'
/// `call`, which only makes that future, runs before it).
///
/// A tower layer rather than an axum `from_fn`: its future is the inner one inside the
/// task-local's scope, with nothing boxed or cloned per request (each `from_fn` layer clones
/// the services below it and boxes two futures on every request; README, "What the profile
/// showed").
#[derive(Clone, Copy, Debug, Default)]
pub struct ScopeLayer;

impl<S> tower::Layer<S> for ScopeLayer {
    type Service = Scope<S>;

    fn layer(&self, inner: S) -> Scope<S> {
        Scope(inner)
    }
}

/// The service of [`ScopeLayer`].
#[derive(Clone, Debug)]
pub struct Scope<S>(S);

impl<S, B> tower::Service<http::Request<B>> for Scope<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<String, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let id = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        CURRENT.scope(id, self.0.call(req))
    }
}

/// Whether a request id sent by a trusted proxy is kept: printable ASCII without spaces,
/// of a sane length (it goes into every log line of the request).
pub fn acceptable(value: &http::HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_LEN && bytes.iter().all(|b| b.is_ascii_graphic())
}
