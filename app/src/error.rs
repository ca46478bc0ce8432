//! The one error shape of Tapeline.
//!
//! Every error a client sees — from the REST API, from a server function called by the
//! browser, from the router itself — is a [`Problem`]: an RFC 9457 `application/problem+json`
//! body with a stable machine-readable [`ErrorCode`] and, where one field is at fault, the
//! name of that field. This module is shared by the server and the WebAssembly front end, so
//! the browser reads exactly what a script reads.
//!
//! Server-side failures are built with the `ssr`-only `server::Error` and turned into a
//! `Problem` at the edge; internals never reach this type.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. Scripts should branch on this, never on `detail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields failed validation; `errors` lists each.
    ValidationFailed,
    /// The username is already in use.
    UsernameTaken,
    /// The email address is already in use.
    EmailTaken,
    /// The username/password (or token) did not match.
    InvalidCredentials,
    /// The request needs a signed-in session or an API key.
    NotAuthenticated,
    /// Too many attempts; wait `retry_after` seconds.
    TooManyAttempts,
    /// The API key (or, without one, the client address) is over its per-minute rate; wait
    /// `retry_after` seconds.
    RateLimited,
    /// The API key has used its daily quota; `retry_after` is the next UTC midnight.
    QuotaExceeded,
    /// A state-changing request came from another site.
    CrossSiteRequest,
    /// The account is suspended.
    AccountSuspended,
    /// The API key has expired (`expired_at` says when).
    KeyExpired,
    /// The API key has been revoked.
    KeyRevoked,
    /// The key or session acts at a level below what this action needs.
    LevelTooLow,
    /// A new key may not be stronger than the session or key creating it.
    LevelAboveCreator,
    /// A key may not create a key that outlives it.
    ExpiryAfterCreator,
    /// The level is not on the ladder (0–8).
    UnknownLevel,
    /// The expiry is less than a minute away.
    ExpiryTooShort,
    /// The expiry is further away than this instance allows.
    ExpiryTooLong,
    /// The expiry is in the past.
    ExpiryInPast,
    /// The account holds as many keys as this instance allows.
    KeyLimitReached,
    /// The change would leave the instance without an active admin.
    LastAdmin,
    /// The password given to confirm a change (`current_password`, or the password confirming
    /// an account's deletion) is not the account's password.
    WrongPassword,
    /// Staff may not change the limits of their own keys: another member of staff, or the
    /// operator on the command line, does that.
    OwnKeyLimits,
    /// The object's current state does not allow this change: a pattern's design is fixed at
    /// creation; a revoked or expired key cannot be rotated.
    Conflict,
    /// Nothing here (or nothing you may see).
    NotFound,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// The request could not be read (bad JSON, bad form encoding, bad header).
    MalformedRequest,
    /// The request body is not JSON (`Content-Type: application/json` expected).
    UnsupportedMediaType,
    /// The server could not reach its database.
    ServiceUnavailable,
    /// The browser could not reach the server.
    NetworkError,
    /// Something went wrong on the server; it has been logged.
    Internal,
}

impl ErrorCode {
    /// Every code, for documentation pages and exhaustive tests.
    pub const ALL: [ErrorCode; 31] = [
        ErrorCode::ValidationFailed,
        ErrorCode::UsernameTaken,
        ErrorCode::EmailTaken,
        ErrorCode::InvalidCredentials,
        ErrorCode::NotAuthenticated,
        ErrorCode::TooManyAttempts,
        ErrorCode::RateLimited,
        ErrorCode::QuotaExceeded,
        ErrorCode::CrossSiteRequest,
        ErrorCode::AccountSuspended,
        ErrorCode::KeyExpired,
        ErrorCode::KeyRevoked,
        ErrorCode::LevelTooLow,
        ErrorCode::LevelAboveCreator,
        ErrorCode::ExpiryAfterCreator,
        ErrorCode::UnknownLevel,
        ErrorCode::ExpiryTooShort,
        ErrorCode::ExpiryTooLong,
        ErrorCode::ExpiryInPast,
        ErrorCode::KeyLimitReached,
        ErrorCode::LastAdmin,
        ErrorCode::WrongPassword,
        ErrorCode::OwnKeyLimits,
        ErrorCode::Conflict,
        ErrorCode::NotFound,
        ErrorCode::PayloadTooLarge,
        ErrorCode::MalformedRequest,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ServiceUnavailable,
        ErrorCode::NetworkError,
        ErrorCode::Internal,
    ];

    /// The HTTP status that goes with this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::ValidationFailed
            | ErrorCode::UnknownLevel
            | ErrorCode::ExpiryTooShort
            | ErrorCode::ExpiryTooLong
            | ErrorCode::ExpiryInPast => 422,
            ErrorCode::UsernameTaken
            | ErrorCode::EmailTaken
            | ErrorCode::KeyLimitReached
            | ErrorCode::LastAdmin
            | ErrorCode::Conflict => 409,
            ErrorCode::InvalidCredentials
            | ErrorCode::NotAuthenticated
            | ErrorCode::KeyExpired
            | ErrorCode::KeyRevoked => 401,
            ErrorCode::TooManyAttempts | ErrorCode::RateLimited | ErrorCode::QuotaExceeded => 429,
            ErrorCode::CrossSiteRequest
            | ErrorCode::AccountSuspended
            | ErrorCode::LevelTooLow
            | ErrorCode::LevelAboveCreator
            | ErrorCode::ExpiryAfterCreator
            | ErrorCode::WrongPassword
            | ErrorCode::OwnKeyLimits => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::MalformedRequest => 400,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::ServiceUnavailable | ErrorCode::NetworkError => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// A short, human-readable summary that does not change from occurrence to occurrence.
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "Some fields are not valid",
            ErrorCode::UsernameTaken => "Username already taken",
            ErrorCode::EmailTaken => "Email address already registered",
            ErrorCode::InvalidCredentials => "Invalid credentials",
            ErrorCode::NotAuthenticated => "Not signed in",
            ErrorCode::TooManyAttempts => "Too many attempts",
            ErrorCode::RateLimited => "Rate limit reached",
            ErrorCode::QuotaExceeded => "Daily quota used up",
            ErrorCode::CrossSiteRequest => "Cross-site request refused",
            ErrorCode::AccountSuspended => "Account suspended",
            ErrorCode::KeyExpired => "API key expired",
            ErrorCode::KeyRevoked => "API key revoked",
            ErrorCode::LevelTooLow => "Access level too low",
            ErrorCode::LevelAboveCreator => "Level above your own",
            ErrorCode::ExpiryAfterCreator => "Expiry after the creating key's",
            ErrorCode::UnknownLevel => "Unknown access level",
            ErrorCode::ExpiryTooShort => "Expiry too short",
            ErrorCode::ExpiryTooLong => "Expiry too long",
            ErrorCode::ExpiryInPast => "Expiry in the past",
            ErrorCode::KeyLimitReached => "Too many API keys",
            ErrorCode::LastAdmin => "The last admin",
            ErrorCode::WrongPassword => "Wrong password",
            ErrorCode::OwnKeyLimits => "Not on your own key",
            ErrorCode::Conflict => "Not in its current state",
            ErrorCode::NotFound => "Not found",
            ErrorCode::PayloadTooLarge => "Request body too large",
            ErrorCode::MalformedRequest => "Malformed request",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::ServiceUnavailable => "Service unavailable",
            ErrorCode::NetworkError => "Could not reach the server",
            ErrorCode::Internal => "Internal server error",
        }
    }

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::NotAuthenticated => "not_authenticated",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::CrossSiteRequest => "cross_site_request",
            ErrorCode::AccountSuspended => "account_suspended",
            ErrorCode::KeyExpired => "key_expired",
            ErrorCode::KeyRevoked => "key_revoked",
            ErrorCode::LevelTooLow => "level_too_low",
            ErrorCode::LevelAboveCreator => "level_above_creator",
            ErrorCode::ExpiryAfterCreator => "expiry_after_creator",
            ErrorCode::UnknownLevel => "unknown_level",
            ErrorCode::ExpiryTooShort => "expiry_too_short",
            ErrorCode::ExpiryTooLong => "expiry_too_long",
            ErrorCode::ExpiryInPast => "expiry_in_past",
            ErrorCode::KeyLimitReached => "key_limit_reached",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::WrongPassword => "wrong_password",
            ErrorCode::OwnKeyLimits => "own_key_limits",
            ErrorCode::Conflict => "conflict",
            ErrorCode::NotFound => "not_found",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::NetworkError => "network_error",
            ErrorCode::Internal => "internal",
        }
    }
}

/// One field's validation failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The request field at fault, as named in the request (e.g. `email`).
    pub field: String,
    /// What is wrong with it, in words a person can act on.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// An RFC 9457 problem document (`application/problem+json`): the body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[error("{detail}")]
pub struct Problem {
    /// A URI reference naming the problem type; `/errors#<code>` documents it.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in words a person can act on.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// The request field at fault, when there is exactly one (the first one otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field at fault, for `validation_failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying, for `too_many_attempts`, `rate_limited` and
    /// `quota_exceeded` (also sent as `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// When the key expired (RFC 3339), for `key_expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<String>,
    /// The request's id (as in its `X-Request-Id`), for `internal` and `service_unavailable`:
    /// quote it when you report the problem; the server's log has the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// A problem with the code's own status and title.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("/errors#{}", code.as_str()),
            title: code.title().to_owned(),
            status: code.status(),
            detail: detail.into(),
            code,
            field: None,
            errors: Vec::new(),
            retry_after: None,
            expired_at: None,
            request_id: None,
        }
    }

    /// A problem about one field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// `validation_failed` listing every field at fault. `errors` must not be empty.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut problem = Self::new(ErrorCode::ValidationFailed, detail);
        problem.field = errors.first().map(|e| e.field.clone());
        problem.errors = errors;
        problem
    }

    /// The message for one field, if this problem names it: used by forms to show the
    /// error next to the field it concerns.
    pub fn message_for(&self, field: &str) -> Option<String> {
        if let Some(e) = self.errors.iter().find(|e| e.field == field) {
            return Some(e.message.clone());
        }
        (self.field.as_deref() == Some(field)).then(|| self.detail.clone())
    }

    /// True when the problem concerns no particular field (shown at the top of a form).
    pub fn is_general(&self) -> bool {
        self.field.is_none() && self.errors.is_empty()
    }
}

impl leptos::server_fn::error::FromServerFnError for Problem {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(_) => Problem::new(
                ErrorCode::NetworkError,
                "The server could not be reached. Check your connection and try again.",
            ),
            E::Args(msg) | E::MissingArg(msg) | E::Deserialization(msg) => {
                Problem::new(ErrorCode::MalformedRequest, format!("The request could not be read: {msg}"))
            }
            _ => Problem::new(ErrorCode::Internal, "Something went wrong on the server."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }

    #[test]
    fn validation_problem_names_first_field_and_lists_all() {
        let p = Problem::validation(vec![
            FieldError::new("email", "is not an email address"),
            FieldError::new("password", "is too short"),
        ]);
        assert_eq!(p.status, 422);
        assert_eq!(p.field.as_deref(), Some("email"));
        assert_eq!(p.message_for("password").as_deref(), Some("is too short"));
        assert_eq!(p.message_for("username"), None);
        assert!(!p.is_general());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["type"], "/errors#validation_failed");
        assert_eq!(v["code"], "validation_failed");
        assert_eq!(v["errors"][1]["field"], "password");
    }
}
