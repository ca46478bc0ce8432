//! The browser session's cookie: its name, reading it from a request, and the `Set-Cookie`
//! values that store and remove it. The session records it points to are `auth::session`'s.
//!
//! The cookie (`tapeline_session`) is HttpOnly, SameSite=Lax, Path=/, and Secure when the
//! instance is served over https.

use super::config::Config;
use http::{header, HeaderMap, HeaderValue};

/// The name of the session cookie.
pub const COOKIE_NAME: &str = "tapeline_session";

/// The session token from a request's `Cookie` headers.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether cookies set in reply to this request should be `Secure`.
pub fn is_https(config: &Config, headers: &HeaderMap) -> bool {
    config.public_url_is_https()
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

/// The `Set-Cookie` value that stores `token` in the browser.
pub fn set_cookie(config: &Config, token: &str, secure: bool) -> HeaderValue {
    let max_age = config.session_ttl.as_secs();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE_NAME}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"))
        .expect("cookie token is URL-safe base64")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}"))
        .expect("static cookie")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; tapeline_session=abc; b=2"));
        assert_eq!(token_from_headers(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("tapeline_session="));
        assert_eq!(token_from_headers(&h), None);
    }

    #[test]
    fn cookie_attributes() {
        let c = Config::default();
        let v = set_cookie(&c, "tok", false);
        let v = v.to_str().unwrap();
        assert!(v.starts_with("tapeline_session=tok; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax"));
        assert!(!v.contains("Secure"));
        assert!(set_cookie(&c, "tok", true).to_str().unwrap().ends_with("; Secure"));
    }
}
