//! Accounts: sign-up, log-in, log-out and the signed-in account.
//!
//! This module owns the account rules. The validation functions here are compiled into
//! both the server and the browser: the sign-up form uses them for instant feedback, and
//! the service layer ([`service`], server only) enforces them, so the two cannot disagree.
//! The `#[server]` functions are thin: read the request, call the service, set the cookie.

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

use crate::error::{FieldError, Problem};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;

/// A person's role; each role acts at one level of the access ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Curator,
    Support,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::User, Role::Curator, Role::Support, Role::Admin];

    /// The access level this role acts at (see the level ladder in the README).
    pub fn level(self) -> u8 {
        match self {
            Role::User => 4,
            Role::Curator => 5,
            Role::Support => 7,
            Role::Admin => 8,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Curator => "curator",
            Role::Support => "support",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role '{s}' (expected user, curator, support or admin)"))
    }
}

/// What the account page shows about the signed-in person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub username: String,
    pub email: String,
    pub role: Role,
    /// When the account was created (Unix seconds, UTC).
    pub member_since: i64,
}

/// Reading one's own account data (profile, export) needs this level.
pub const READ_ACCOUNT: u8 = 2;
/// Changing one's own account data (profile, password) needs this level.
pub const WRITE_ACCOUNT: u8 = 4;

/// An account's profile, as the REST API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Profile {
    #[cfg_attr(feature = "ssr", schema(example = "ada"))]
    pub username: String,
    #[cfg_attr(feature = "ssr", schema(example = "ada@example.org"))]
    pub email: String,
    /// user, curator, support or admin.
    #[cfg_attr(feature = "ssr", schema(example = "user"))]
    pub role: String,
    /// The level the role acts at.
    #[cfg_attr(feature = "ssr", schema(example = 4))]
    pub role_level: u8,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
}

/// Changes to the profile (`PATCH /api/v1/account`): fields given replace the stored ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProfileChanges {
    /// 3–32 characters: letters, digits, '.', '_' or '-'; stored in lower case.
    #[cfg_attr(feature = "ssr", schema(example = "ada.l"))]
    pub username: Option<String>,
    #[cfg_attr(feature = "ssr", schema(example = "ada@example.net"))]
    pub email: Option<String>,
}

/// A password change (`POST /api/v1/account/password`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    /// The password in use now.
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { .. }")
    }
}

/// One entry of an account's audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// `key_created`, `key_revoked`, `key_use_refused`, `profile_changed`, `password_changed`, …
    #[cfg_attr(feature = "ssr", schema(example = "key_created"))]
    pub kind: String,
    /// The key concerned, if any.
    pub key_id: Option<String>,
    pub detail: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub at: String,
}

/// Everything an account holds (`GET /api/v1/account/export`): never a secret, password
/// hash or session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountExport {
    /// The export's format version: `tapeline-export/1`.
    #[cfg_attr(feature = "ssr", schema(example = "tapeline-export/1"))]
    pub format: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub exported_at: String,
    pub account: Profile,
    pub sets: Vec<crate::sets::MeasurementSet>,
    pub patterns: Vec<crate::patterns::Pattern>,
    /// Every key, revoked ones included: metadata only.
    pub api_keys: Vec<crate::apikeys::ApiKey>,
    /// Oldest first.
    pub audit_events: Vec<AuditEvent>,
}

/// Usernames are case-insensitive: they are trimmed and stored in lower case.
pub fn normalize_username(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Email addresses are trimmed and stored in lower case (one account per mailbox).
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// What is wrong with a (normalized) username, if anything.
pub fn username_problem(username: &str) -> Option<String> {
    let len = username.chars().count();
    if len == 0 {
        return Some("Choose a username.".into());
    }
    if len < USERNAME_MIN || len > USERNAME_MAX {
        return Some(format!("Use {USERNAME_MIN} to {USERNAME_MAX} characters."));
    }
    if !username.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)) {
        return Some("Use only letters, digits, '.', '_' and '-'.".into());
    }
    if !username.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("Start with a letter or a digit.".into());
    }
    None
}

/// What is wrong with a (normalized) email address, if anything. Deliberately simple: the
/// only real test of an address is mail reaching it.
pub fn email_problem(email: &str) -> Option<String> {
    if email.is_empty() {
        return Some("Enter your email address.".into());
    }
    if email.len() > EMAIL_MAX {
        return Some(format!("Use at most {EMAIL_MAX} characters."));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|label| !label.is_empty())
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    (!valid).then(|| "Enter an email address like name@example.com.".into())
}

/// What is wrong with a new password, if anything.
pub fn password_problem(password: &str, username: &str) -> Option<String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Some(format!("Use at least {PASSWORD_MIN} characters."));
    }
    if len > PASSWORD_MAX {
        return Some(format!("Use at most {PASSWORD_MAX} characters."));
    }
    if !username.is_empty() && password.trim().to_lowercase() == username {
        return Some("Do not use your username as your password.".into());
    }
    None
}

/// Every field error of a sign-up, in form order. Inputs must already be normalized.
pub fn signup_errors(username: &str, email: &str, password: &str) -> Vec<FieldError> {
    [
        ("username", username_problem(username)),
        ("email", email_problem(email)),
        ("password", password_problem(password, username)),
    ]
    .into_iter()
    .filter_map(|(field, msg)| msg.map(|m| FieldError::new(field, m)))
    .collect()
}

/// Creates an account, signs it in and goes to the account page.
#[server(prefix = "/ui", endpoint = "signup")]
pub async fn signup(username: String, email: String, password: String) -> Result<(), Problem> {
    use crate::server::http;
    let (state, parts) = http::context()?;
    http::ui(async {
        let account = service::create_account(
            &state,
            service::NewAccount { username, email, password, role: Role::User },
        )
        .await?;
        start_session(&state, &parts, account.id).await?;
        leptos_axum::redirect("/account");
        Ok(())
    })
    .await
}

/// Signs in with a username (or email address) and password.
#[server(prefix = "/ui", endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<(), Problem> {
    use crate::server::http;
    let (state, parts) = http::context()?;
    http::ui(async {
        let account = service::authenticate(&state, &username, password, &http::client_addr(&parts)).await?;
        start_session(&state, &parts, account.id).await?;
        leptos_axum::redirect("/account");
        Ok(())
    })
    .await
}

/// Ends the current session on the server and removes the cookie.
#[server(prefix = "/ui", endpoint = "logout")]
pub async fn logout() -> Result<(), Problem> {
    use crate::server::{http, session};
    let (state, parts) = http::context()?;
    http::ui(async {
        if let Some(token) = session::token_from_headers(&parts.headers) {
            session::end(&state.db, &token).await?;
        }
        let res = expect_context::<leptos_axum::ResponseOptions>();
        res.append_header(
            ::http::header::SET_COOKIE,
            session::clear_cookie(session::is_https(&state.config, &parts.headers)),
        );
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

/// The signed-in account, or `None` for a visitor.
#[server(prefix = "/ui", endpoint = "me")]
pub async fn current_account() -> Result<Option<AccountView>, Problem> {
    use crate::server::http;
    let (state, parts) = http::context()?;
    http::ui(async { Ok(http::session_account(&state, &parts).await?.map(|a| a.view())) }).await
}

/// Changes the signed-in person's username and email address (level 4).
#[server(prefix = "/ui", endpoint = "account/profile")]
pub async fn update_profile(username: String, email: String) -> Result<AccountView, Problem> {
    use crate::server::{auth, http};
    let (state, parts) = http::context()?;
    http::ui(async {
        let principal = auth::session_principal(&state, &parts).await?;
        let changes = ProfileChanges { username: Some(username), email: Some(email) };
        Ok(service::update_profile(&state, &principal, changes).await?.view())
    })
    .await
}

/// Changes the signed-in person's password; their other sessions end, this one stays.
#[server(prefix = "/ui", endpoint = "account/password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), Problem> {
    use crate::server::{auth, http, session};
    let (state, parts) = http::context()?;
    http::ui(async {
        let principal = auth::session_principal(&state, &parts).await?;
        let keep = session::token_from_headers(&parts.headers);
        let change = PasswordChange { current_password, new_password };
        service::change_password(&state, &principal, change, keep.as_deref(), &http::client_addr(&parts)).await
    })
    .await
}

/// Deletes the signed-in person's account and everything in it, after checking the
/// password again; then signs out and goes to the home page.
#[server(prefix = "/ui", endpoint = "account/delete")]
pub async fn delete_account(password: String) -> Result<(), Problem> {
    use crate::server::{auth, http, session};
    let (state, parts) = http::context()?;
    http::ui(async {
        let principal = auth::session_principal(&state, &parts).await?;
        service::delete(&state, &principal, password, &http::client_addr(&parts)).await?;
        let res = expect_context::<leptos_axum::ResponseOptions>();
        res.append_header(
            ::http::header::SET_COOKIE,
            session::clear_cookie(session::is_https(&state.config, &parts.headers)),
        );
        leptos_axum::redirect("/?deleted=1");
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
async fn start_session(
    state: &crate::server::AppState,
    parts: &::http::request::Parts,
    user_id: i64,
) -> crate::server::Result<()> {
    use crate::server::session;
    let user_agent = parts.headers.get(::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    let token = session::create(&state.db, &state.config, user_id, user_agent).await?;
    let res = expect_context::<leptos_axum::ResponseOptions>();
    res.append_header(
        ::http::header::SET_COOKIE,
        session::set_cookie(&state.config, &token, session::is_https(&state.config, &parts.headers)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(normalize_username("  Ann_Lee "), "ann_lee");
        for ok in ["ann", "ann.lee", "a-1", "007", &"x".repeat(USERNAME_MAX)] {
            assert_eq!(username_problem(ok), None, "{ok}");
        }
        for bad in ["", "ab", "ann lee", "_ann", "ann!", "änn", &"x".repeat(USERNAME_MAX + 1)] {
            assert!(username_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "ann.lee+tape@example.org"] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
        for bad in ["", "ann", "ann@", "@example.org", "ann@localhost", "ann@@x.org", "a nn@x.org", "ann@x..org"] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
        assert!(email_problem(&format!("{}@x.org", "a".repeat(65))).is_some());
    }

    #[test]
    fn passwords() {
        assert!(password_problem("short", "ann").is_some());
        assert!(password_problem(&"x".repeat(PASSWORD_MAX + 1), "ann").is_some());
        assert!(password_problem("annalee1", "annalee1").is_some());
        assert_eq!(password_problem("long enough", "ann"), None);
    }

    #[test]
    fn signup_lists_every_bad_field_in_form_order() {
        let fields: Vec<_> = signup_errors("", "nope", "x").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["username", "email", "password"]);
        assert!(signup_errors("ann", "ann@example.org", "long enough").is_empty());
    }

    #[test]
    fn role_levels_follow_the_ladder() {
        let levels: Vec<_> = Role::ALL.iter().map(|r| r.level()).collect();
        assert_eq!(levels, [4, 5, 7, 8]);
        assert_eq!("support".parse::<Role>(), Ok(Role::Support));
        assert!("root".parse::<Role>().is_err());
    }
}
