//! Accounts: sign-up, log-in, log-out and the signed-in account.
//!
//! This module owns the account rules. The validation functions here are compiled into
//! both the server and the browser: the sign-up form uses them for instant feedback, and
//! the service layer ([`service`], server only) enforces them, so the two cannot disagree.
//! The `#[server]` functions are thin: read the request, call the service, set the cookie.
//! The stored account itself (the model every session and key resolves to) is
//! `auth::account`'s; roles are the ladder's (`levels`).

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

use crate::error::{FieldError, Problem};
use crate::levels::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const EMAIL_MAX: usize = 254;
/// The longest part of an email address before the `@`.
pub const EMAIL_LOCAL_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;

/// What the account page shows about the signed-in person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub username: String,
    pub email: String,
    pub role: Role,
    /// When the account was created (Unix seconds, UTC).
    pub member_since: i64,
}

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
    /// 3–32 characters: letters, digits, '.', '_' or '-', starting with a letter or a digit;
    /// stored in lower case.
    #[cfg_attr(feature = "ssr", schema(schema_with = doc::username))]
    pub username: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = doc::email))]
    pub email: Option<String>,
}

/// A password change (`POST /api/v1/account/password`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    /// The password in use now.
    #[cfg_attr(feature = "ssr", schema(schema_with = doc::current_password))]
    pub current_password: String,
    /// 8–256 characters, not your username.
    #[cfg_attr(feature = "ssr", schema(schema_with = doc::password))]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { .. }")
    }
}

/// These rules as the API document states them (server only): for the text a client sends,
/// before it is trimmed and lower-cased.
#[cfg(feature = "ssr")]
mod doc {
    use crate::schema::{described, matching, CONTROL, WHITE};
    use serde_json::json;
    use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

    /// See [`super::username_problem`].
    pub fn username() -> Object {
        let (min, max) = (super::USERNAME_MIN, super::USERNAME_MAX);
        let pattern = format!("^[{WHITE}]*[A-Za-z0-9][A-Za-z0-9._-]{{{},{}}}[{WHITE}]*$", min - 1, max - 1);
        let text = format!("{min}–{max} letters, digits, '.', '_' or '-', starting with a letter or a digit; not case-sensitive (stored in lower case).");
        described(matching(&pattern, None), text, Some(json!("ada.l")))
    }

    /// See [`super::email_problem`].
    pub fn email() -> Object {
        let part = format!("[^@.{WHITE}{CONTROL}]+");
        let local = format!("[^@{WHITE}{CONTROL}]{{1,{}}}", super::EMAIL_LOCAL_MAX);
        let pattern = format!("^[{WHITE}]*{local}@{part}(?:\\.{part})+[{WHITE}]*$");
        let text = format!("An email address, at most {} characters; stored in lower case.", super::EMAIL_MAX);
        described(matching(&pattern, Some(super::EMAIL_MAX)), text, Some(json!("ada@example.net")))
    }

    /// The password confirming a change: anything but empty (a wrong one is refused, 403).
    pub fn current_password() -> Object {
        let any = ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).build();
        described(any, "The password in use now.", None)
    }

    /// See [`super::password_problem`].
    pub fn password() -> Object {
        let (min, max) = (super::PASSWORD_MIN, super::PASSWORD_MAX);
        let length = ObjectBuilder::new().schema_type(Type::String).min_length(Some(min)).max_length(Some(max)).build();
        described(length, format!("{min}–{max} characters, not your username."), None)
    }
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

/// What is wrong with an email address as a client sent it, if anything. Its length counts
/// as sent, surrounding white space included — the API document's `maxLength` can state no
/// other — and the other rules are the normalized form's ([`email_problem`]).
pub fn sent_email_problem(sent: &str) -> Option<String> {
    if sent.chars().count() > EMAIL_MAX {
        return Some(format!("Use at most {EMAIL_MAX} characters."));
    }
    email_problem(&normalize_email(sent))
}

/// What is wrong with a (normalized) email address, if anything. Deliberately simple: the
/// only real test of an address is mail reaching it.
pub fn email_problem(email: &str) -> Option<String> {
    if email.is_empty() {
        return Some("Enter your email address.".into());
    }
    // Characters, not bytes, as everywhere else (and as the API document's lengths count).
    if email.chars().count() > EMAIL_MAX {
        return Some(format!("Use at most {EMAIL_MAX} characters."));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.chars().count() <= EMAIL_LOCAL_MAX
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

/// Every field error of a sign-up, in form order: the username normalized, the email address
/// as sent ([`sent_email_problem`]).
pub fn signup_errors(username: &str, sent_email: &str, password: &str) -> Vec<FieldError> {
    [
        ("username", username_problem(username)),
        ("email", sent_email_problem(sent_email)),
        ("password", password_problem(password, username)),
    ]
    .into_iter()
    .filter_map(|(field, msg)| msg.map(|m| FieldError::new(field, m)))
    .collect()
}

/// Creates an account, signs it in and goes to the account page.
#[server(prefix = "/ui", endpoint = "signup")]
pub async fn signup(username: String, email: String, password: String) -> Result<(), Problem> {
    use crate::functions::{context, ui};
    let (state, parts) = context()?;
    ui(async {
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
    use crate::functions::{context, ui};
    use crate::server::http;
    let (state, parts) = context()?;
    ui(async {
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
    use crate::auth::session;
    use crate::functions::{context, ui};
    use crate::server::cookie;
    let (state, parts) = context()?;
    ui(async {
        if let Some(token) = cookie::token_from_headers(&parts.headers) {
            session::end(&state.db, &token).await?;
        }
        let res = expect_context::<leptos_axum::ResponseOptions>();
        res.append_header(
            ::http::header::SET_COOKIE,
            cookie::clear_cookie(cookie::is_https(&state.config, &parts.headers)),
        );
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

/// The signed-in account, or `None` for a visitor.
#[server(prefix = "/ui", endpoint = "me")]
pub async fn current_account() -> Result<Option<AccountView>, Problem> {
    use crate::functions::{context, ui};
    let (state, parts) = context()?;
    ui(async { Ok(crate::auth::session::account_of(&state, &parts).await?.as_ref().map(service::view)) }).await
}

/// Changes the signed-in person's username and email address (level 4).
/// Entries of the Activity list on one page.
pub const ACTIVITY_PAGE: i64 = 20;

/// One page of the signed-in person's audit log, newest first, from `offset`.
#[server(prefix = "/ui", endpoint = "account/activity")]
pub async fn account_activity(offset: i64) -> Result<crate::audit::AuditPage, Problem> {
    use crate::functions::{signed_in, ui};
    use crate::server::paging::PageQuery;
    let (state, me) = signed_in().await?;
    ui(service::audit_log(&state, &me, PageQuery { limit: Some(ACTIVITY_PAGE), offset: Some(offset) })).await
}

#[server(prefix = "/ui", endpoint = "account/profile")]
pub async fn update_profile(username: String, email: String) -> Result<AccountView, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    let changes = ProfileChanges { username: Some(username), email: Some(email) };
    ui(async { Ok(service::view(&service::update_profile(&state, &me, changes).await?)) }).await
}

/// Changes the signed-in person's password; their other sessions end, this one stays.
#[server(prefix = "/ui", endpoint = "account/password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), Problem> {
    use crate::functions::{signed_in_with_request, ui};
    use crate::server::{cookie, http};
    let (state, parts, me) = signed_in_with_request().await?;
    let keep = cookie::token_from_headers(&parts.headers);
    let change = PasswordChange { current_password, new_password };
    ui(service::change_password(&state, &me, change, keep.as_deref(), &http::client_addr(&parts))).await
}

/// Deletes the signed-in person's account and everything in it, after checking the
/// password again; then signs out and goes to the home page.
#[server(prefix = "/ui", endpoint = "account/delete")]
pub async fn delete_account(password: String) -> Result<(), Problem> {
    use crate::functions::{signed_in_with_request, ui};
    use crate::server::{cookie, http};
    let (state, parts, me) = signed_in_with_request().await?;
    ui(async {
        service::delete(&state, &me, password, &http::client_addr(&parts)).await?;
        let res = expect_context::<leptos_axum::ResponseOptions>();
        res.append_header(
            ::http::header::SET_COOKIE,
            cookie::clear_cookie(cookie::is_https(&state.config, &parts.headers)),
        );
        leptos_axum::redirect("/?deleted=1");
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
async fn start_session(
    state: &crate::state::AppState,
    parts: &::http::request::Parts,
    user_id: i64,
) -> crate::server::Result<()> {
    use crate::auth::session;
    use crate::server::cookie;
    let user_agent = parts.headers.get(::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    let token = session::create(&state.db, &state.config, user_id, user_agent).await?;
    let res = expect_context::<leptos_axum::ResponseOptions>();
    res.append_header(
        ::http::header::SET_COOKIE,
        cookie::set_cookie(&state.config, &token, cookie::is_https(&state.config, &parts.headers)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document's patterns accept what the rules accept, as clients send it (before
    /// trimming and lower-casing).
    #[cfg(feature = "ssr")]
    #[test]
    fn the_documented_patterns_agree_with_the_rules() {
        let matches = |schema: utoipa::openapi::schema::Object, s: &str| {
            let max_ok = schema.max_length.is_none_or(|max| s.chars().count() <= max);
            regex::Regex::new(&schema.pattern.unwrap()).unwrap().is_match(s) && max_ok
        };
        for s in ["ada", " Ada.L ", "ad", "a_b-c.d", "_ada", "ada!", "ädа", &"a".repeat(32), &"a".repeat(33), "a\tb", "\tada\n"] {
            assert_eq!(matches(doc::username(), s), username_problem(&normalize_username(s)).is_none(), "username {s:?}");
        }
        let long_local = format!("{}@example.org", "l".repeat(64));
        let too_long_local = format!("{}@example.org", "l".repeat(65));
        let too_long = format!("a@{}.org", "d".repeat(250));
        // 252 characters once trimmed, 262 as sent: the document's limit counts them as sent.
        let padded = format!("{}a@{}.org{}", "\u{a0}".repeat(5), "d".repeat(246), " ".repeat(5));
        let padded_within = format!("  a@{}.org", "d".repeat(246));
        for s in [
            "ada@example.org", " Ada@Example.ORG ", "ada@example", "ada@@example.org", "@example.org", "ada@.org", "ada@example..org",
            "a da@example.org", "ada@exa\u{0}mple.org", "é@ü.de", &long_local, &too_long_local, &too_long, "a@b.c",
            &padded, &padded_within,
        ] {
            assert_eq!(matches(doc::email(), s), sent_email_problem(s).is_none(), "email {s:?}");
        }
    }

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
}
