//! What every answer says about how it may be used: the Content-Security-Policy of pages, of
//! Swagger UI and of everything else, the other security headers, and caching.
//!
//! All of them are set by [`AnswerPolicy`], in two halves around the handler (the innermost
//! middleware, `answer` in the HTTP plumbing, calls them): the headers that never vary, and
//! those that depend on the request and its answer — the Content-Security-Policy (a page's
//! carries the nonce of its scripts) and caching.

use axum::extract::Request;
use axum::response::Response;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, Method};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};

/// A page's policy. Scripts run only with this response's nonce (Leptos puts it on its
/// hydration scripts) or when loaded by such a script (`'strict-dynamic'`: the module and the
/// WebAssembly the hydration script imports); the WebAssembly may be compiled
/// (`'wasm-unsafe-eval'`); no inline script, no plugin, no `<base>`, no framing, forms post
/// only to this site.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'"
    )
}

/// The nonce of one request that may be answered with a page, made by [`AnswerPolicy::begin`]
/// before anything renders.
#[derive(Clone, Debug)]
pub struct PageNonce(Nonce);

/// Gives the page renderer the nonce [`AnswerPolicy::begin`] made for this request, for
/// Leptos to put on its scripts (`use_nonce`). Called in the renderer's context, after the
/// integration's own `provide_nonce`, which it replaces.
pub fn provide_page_nonce() {
    if let Some(PageNonce(nonce)) = use_context::<Parts>().and_then(|parts| parts.extensions.get::<PageNonce>().cloned()) {
        provide_context(nonce);
    }
}

/// True for an HTML answer (a page).
fn is_html(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"))
}

/// Swagger UI (`/docs`): its vendored scripts and styles from this site only; it sets inline
/// styles on its elements and draws icons from `data:` URIs.
pub const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
     form-action 'self'";

/// Everything that is not a page (JSON, YAML, files): nothing in it may load or run anything.
pub const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Features no page of Tapeline uses, denied to every page (and anything framed in one).
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), \
     publickey-credentials-get=(), serial=(), usb=(), xr-spatial-tracking=()";

/// Where a link from Tapeline may say where it came from: the origin only, and only to https.
pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

/// HTTPS only, for a year, when the instance is reached over https (`TAPELINE_PUBLIC_URL`).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Static files under `/pkg/` whose names carry a hash of their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Marks an answer to a request that carried credentials (a key or a session): it may hold
/// secrets (a new key's token, say) next to text others chose (names in the console), so it
/// is never compressed — compression would let an attacker who can inject text and watch
/// sizes guess the secret (BREACH). The server's compression layer reads this mark.
#[derive(Clone, Copy, Debug)]
pub struct Private;

/// Smaller answers are sent as they are: compressing them saves nothing worth the work.
pub const COMPRESS_FROM: u16 = 1024;

/// What each answer says about its use, decided per request: [`AnswerPolicy::begin`] reads
/// the request before it is handled, [`AnswerPolicy::finish`] writes the answer's headers.
///
/// **The headers that never vary**, on every answer, replacing any a handler set:
/// `Permissions-Policy` ([`PERMISSIONS_POLICY`]), `Referrer-Policy` ([`REFERRER_POLICY`]),
/// `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, and `Strict-Transport-Security`
/// ([`HSTS`]) when the instance is reached over https.
///
/// **Content-Security-Policy**, unless a route set its own (Swagger UI's [`DOCS_POLICY`]): a
/// page gets [`page_policy`] with the nonce made for the request and handed to the page
/// renderer ([`provide_page_nonce`]); anything else gets [`DEFAULT_POLICY`]. The nonce is made
/// here, not by the renderer, so that the header never depends on what happened during
/// rendering: the same code makes the nonce and names it. (Set from inside the page renderer,
/// the header went missing now and then in the browser tests — in about one run in fifteen of
/// the console's accessibility test — and the page then ran no script at all.)
///
/// **Caching**, unless the handler already decided (`Cache-Control` set):
/// - any answer to a request that carries a key or a session (`Authorization`, or the
///   session cookie), and every page: `no-store` — nothing private stays in a cache, and a
///   page shows the signed-in state of the moment;
/// - content-hashed static files: cached for a year, `immutable`;
/// - anything else (public reads set their own, with an `ETag`): `no-cache`, revalidated.
///
/// And [`Private`] on answers to requests with credentials, for the compression layer.
#[must_use = "finish() writes the answer's headers"]
pub struct AnswerPolicy {
    authenticated: bool,
    hashed_asset: bool,
    nonce: Option<Nonce>,
}

impl AnswerPolicy {
    /// Reads the request; makes the nonce of a request a page may answer, and gives it to the
    /// page renderer through the request's extensions.
    pub fn begin(req: &mut Request) -> Self {
        let authenticated =
            req.headers().contains_key(header::AUTHORIZATION) || super::cookie::token_from_headers(req.headers()).is_some();
        let read = matches!(*req.method(), Method::GET | Method::HEAD);
        let hashed_asset = read && is_hashed_asset(req.uri().path());
        // Pages answer GET and HEAD only, never under /api/ (the REST API and its document),
        // so an API call costs no nonce.
        let nonce = (read && !req.uri().path().starts_with("/api/")).then(Nonce::new);
        if let Some(nonce) = &nonce {
            req.extensions_mut().insert(PageNonce(nonce.clone()));
        }
        Self { authenticated, hashed_asset, nonce }
    }

    /// Writes the answer's headers; `https`: the instance is reached over https.
    pub fn finish(self, mut response: Response, https: bool) -> Response {
        let Self { authenticated, hashed_asset, nonce } = self;
        if authenticated {
            response.extensions_mut().insert(Private);
        }
        let page = is_html(response.headers());
        let success = response.status().is_success();
        let headers = response.headers_mut();
        headers.insert(PERMISSIONS_POLICY_HEADER, HeaderValue::from_static(PERMISSIONS_POLICY));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER_POLICY));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if https {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        }
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            let value = nonce
                .filter(|_| page)
                .and_then(|nonce| HeaderValue::from_str(&page_policy(&nonce)).ok())
                .unwrap_or(HeaderValue::from_static(DEFAULT_POLICY));
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        if headers.contains_key(header::CACHE_CONTROL) && !authenticated {
            return response;
        }
        let value = if authenticated || page {
            "no-store"
        } else if hashed_asset && success {
            IMMUTABLE
        } else {
            "no-cache"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        response
    }
}

/// `Permissions-Policy`, which the `http` crate has no constant for.
const PERMISSIONS_POLICY_HEADER: header::HeaderName = header::HeaderName::from_static("permissions-policy");

/// A file of the site's package directory named by its content (see `scripts/build.sh`):
/// `/pkg/tapeline.0123abcd….css`, a content hash between the output name and the extension;
/// or `/pkg/0123abcd…/<file>`, a file of the WebAssembly bundle, whose directory is named by
/// a hash of all its files (`server::site`).
pub fn is_hashed_asset(path: &str) -> bool {
    let is_hash = |hash: &str| hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    let Some(file) = path.strip_prefix("/pkg/") else { return false };
    if let Some((dir, file)) = file.split_once('/') {
        return is_hash(dir) && !file.is_empty() && !file.contains('/');
    }
    let mut parts = file.split('.');
    let (Some(_name), Some(hash), Some(_ext), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    is_hash(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_told_apart() {
        assert!(is_hashed_asset("/pkg/tapeline.0123456789abcdef.wasm"));
        assert!(is_hashed_asset("/pkg/tapeline.0123456789abcdef0123.css"));
        assert!(is_hashed_asset("/pkg/0123456789abcdef0123/tapeline.wasm"));
        assert!(is_hashed_asset("/pkg/0123456789abcdef0123/__wasm_split.______________________.js"));
        for path in [
            "/pkg/tapeline.wasm",
            "/pkg/tapeline.js",
            "/pkg/tapeline.short.js",
            "/favicon.ico",
            "/pkg/a.0123456789abcdef.js.map",
            "/x/tapeline.0123456789abcdef.js",
            "/pkg/short/tapeline.wasm",
            "/pkg/0123456789abcdef0123/",
            "/pkg/0123456789abcdef0123/a/b.wasm",
            "/x/0123456789abcdef0123/tapeline.wasm",
        ] {
            assert!(!is_hashed_asset(path), "{path}");
        }
    }

    #[test]
    fn the_page_policy_allows_no_inline_script_without_the_nonce() {
        let policy = page_policy("abc123");
        let scripts = policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap();
        assert_eq!(scripts, "script-src 'nonce-abc123' 'strict-dynamic' 'wasm-unsafe-eval'");
        for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"] {
            assert!(policy.contains(directive), "{directive}");
        }
        assert!(!policy.contains("unsafe-inline"));
    }
}
