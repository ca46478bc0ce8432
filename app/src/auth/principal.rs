//! Who is calling: the [`Principal`] extractor for HTTP routes, and the session principal
//! for server functions. Resource services take a `&Principal` and ask it
//! `require(Permission::…)`; this module knows no resource.
//!
//! A request authenticates with `Authorization: Bearer <token>`, with HTTP Basic
//! `key_id:secret`, or with the browser's session cookie. A malformed or unknown
//! `Authorization` header is a 401, never a silent fall back to anonymous; a request with
//! no credentials at all is a 401 `not_authenticated` for every route that takes a
//! `Principal`.

use super::account::Account;
use super::limits::KeyHeadersSlot;
use super::{keys, session, token, AuthState};
use crate::error::ErrorCode;
use crate::levels::{Creator, Level, Permission};
use crate::server::{Error, Result};
use axum::extract::FromRequestParts;
use base64::Engine as _;
use http::request::Parts;
use http::header;

/// The caller of a request: an account, the level it acts at, and the key if one was used.
#[derive(Clone, Debug)]
pub struct Principal {
    pub account: Account,
    /// The effective level: the role's level for a session; min(key level, role level) for a key.
    pub level: Level,
    pub key: Option<KeyAuth>,
}

/// The API key a request authenticated with.
#[derive(Clone, Debug)]
pub struct KeyAuth {
    pub id: String,
    pub name: String,
    /// The key's own level (before the owner's role caps it).
    pub level: Level,
    pub expires_at: i64,
}

impl Principal {
    pub fn from_session(account: Account) -> Self {
        Principal { level: account.role.level(), key: None, account }
    }

    /// Whether the caller acts at the level `permission` needs.
    pub fn may(&self, permission: Permission) -> bool {
        self.level >= permission.level()
    }

    /// Refuses with `403 level_too_low` unless the caller acts at the level `permission`
    /// needs.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(self.too_low_for(permission))
        }
    }

    /// `403 level_too_low`, saying what `permission` needs and what the caller acts at.
    pub fn too_low_for(&self, permission: Permission) -> Error {
        let who = if self.key.is_some() { "this API key acts" } else { "your account acts" };
        Error::new(
            ErrorCode::LevelTooLow,
            format!("This needs access level {}; {who} at level {}.", permission.level(), self.level),
        )
    }

    /// What the key-creation rules need to know about this caller.
    pub fn creator(&self) -> Creator {
        match &self.key {
            Some(key) => Creator::Key { effective_level: self.level, expires_at: key.expires_at },
            None => Creator::Session { role_level: self.level },
        }
    }
}

impl<S: AuthState> FromRequestParts<S> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            // A header that is no token at all is an invalid key too, counted as one.
            let parsed = value.to_str().map_err(|_| malformed()).and_then(parse_authorization);
            let (id, secret) = parsed.inspect_err(|_| keys::count_invalid())?;
            let mut headers = None;
            let result = keys::authenticate(state, &id, &secret, &mut headers).await;
            if let (Some(headers), Some(slot)) = (headers, parts.extensions.get::<KeyHeadersSlot>()) {
                slot.set(headers);
            }
            return result;
        }
        // (A suspended account has no session: `session::resolve` refuses it.)
        match session::account_of(state, parts).await? {
            Some(account) => Ok(Principal::from_session(account)),
            None => Err(Error::new(
                ErrorCode::NotAuthenticated,
                "Send an API key as `Authorization: Bearer <token>` (or HTTP Basic id:secret), or sign in.",
            )),
        }
    }
}

/// The signed-in person of a server-function call, acting at their role's level.
pub async fn session_principal(state: &impl AuthState, parts: &Parts) -> Result<Principal> {
    match session::account_of(state, parts).await? {
        Some(account) => Ok(Principal::from_session(account)),
        None => Err(Error::new(ErrorCode::NotAuthenticated, "Your session has ended. Log in again.")),
    }
}

/// `(key id, secret)` from an `Authorization` value, checked for shape (and, for a Bearer
/// token, checksum) before any database work.
pub fn parse_authorization(value: &str) -> Result<(String, String)> {
    let (scheme, rest) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        let (id, secret) = token::parse_token(rest).ok_or_else(keys::invalid_credentials)?;
        Ok((id.to_owned(), secret.to_owned()))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).map_err(|_| malformed())?;
        let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
        let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
        if !token::is_well_formed(id, secret) {
            return Err(keys::invalid_credentials());
        }
        Ok((id.to_owned(), secret.to_owned()))
    } else {
        Err(malformed())
    }
}

fn malformed() -> Error {
    Error::new(
        ErrorCode::InvalidCredentials,
        "The Authorization header is malformed. Use `Bearer <token>` or HTTP Basic with `key_id:secret`.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers() {
        let t = token::generate();
        assert_eq!(parse_authorization(&format!("Bearer {}", t.token)).unwrap(), (t.id.clone(), t.secret.clone()));
        assert_eq!(parse_authorization(&format!("bearer  {} ", t.token)).unwrap().0, t.id);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", t.id, t.secret));
        assert_eq!(parse_authorization(&format!("Basic {basic}")).unwrap(), (t.id.clone(), t.secret.clone()));
        let token_in_basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:", t.token));
        for bad in [
            "".to_owned(),
            "Bearer".to_owned(),
            format!("Token {}", t.token),
            format!("Bearer {}x", t.token),
            "Basic !!!".to_owned(),
            format!("Basic {token_in_basic}"),
            "Basic dXNlcg==".to_owned(),
        ] {
            let err = parse_authorization(&bad).unwrap_err().into_problem();
            assert_eq!(err.code, ErrorCode::InvalidCredentials, "{bad}");
            assert_eq!(err.status, 401);
        }
    }
}
