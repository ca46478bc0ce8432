//! Request ids, so that a user's report ("it said 500, request id …") can be matched to the
//! log. tower-http's request-id layers give every request an `X-Request-Id` (generated, or
//! kept from a trusted proxy: see `resolve_client` in the HTTP plumbing) and copy it to the
//! response; this module makes it known inside the request — to the error type, which puts
//! it in the body of a 500 — through a task-local set by [`scope`].

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderName;

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
/// to [`current`].
pub async fn scope(req: Request, next: Next) -> Response {
    let id = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    CURRENT.scope(id, next.run(req)).await
}

/// Whether a request id sent by a trusted proxy is kept: printable ASCII without spaces,
/// of a sane length (it goes into every log line of the request).
pub fn acceptable(value: &http::HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_LEN && bytes.iter().all(|b| b.is_ascii_graphic())
}
