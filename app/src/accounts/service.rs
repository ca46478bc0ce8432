//! Account rules and their SQL (server only). The browser's server functions, the REST
//! handlers and the operator's command line create, authenticate and change accounts through
//! these functions.

use super::{normalize_email, normalize_username, password_problem, sent_email_problem, signup_errors, username_problem};
use super::{AccountView, PasswordChange, Profile, ProfileChanges};
use crate::account_columns;
use crate::audit::{self, AuditKind, AuditPage};
use crate::auth::{session, Account, Principal};
use crate::error::{ErrorCode, FieldError};
use crate::levels::{Permission, Role};
use crate::server::db::{now, rfc3339, unique_violation};
use crate::server::paging::PageQuery;
use crate::server::{Error, Result};
use crate::state::AppState;
use sqlx::Row;

/// The profile the REST API shows.
pub fn profile(account: &Account) -> Profile {
    Profile {
        username: account.username.clone(),
        email: account.email.clone(),
        role: account.role.as_str().to_owned(),
        role_level: account.role.level().get(),
        created_at: rfc3339(account.created_at),
    }
}

/// What the account page shows.
pub fn view(account: &Account) -> AccountView {
    AccountView {
        username: account.username.clone(),
        email: account.email.clone(),
        role: account.role,
        member_since: account.created_at,
    }
}

/// The caller's own profile (level 2).
pub fn own_profile(principal: &Principal) -> Result<Profile> {
    principal.require(Permission::ReadOwnAccount)?;
    Ok(profile(&principal.account))
}

/// Input for [`create_account`]; fields are normalized and validated there.
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub password: String,
    pub role: Role,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Creates an account. Every invalid field is reported at once (422); a username or email
/// already in use is a 409 naming the field. Nothing is stored on any error.
pub async fn create_account(state: &AppState, input: NewAccount) -> Result<Account> {
    let username = normalize_username(&input.username);
    let email = normalize_email(&input.email);
    let errors = signup_errors(&username, &input.email, &input.password);
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    // Checked before the (deliberately slow) hash; the unique constraints below still
    // decide races between two sign-ups.
    let taken = sqlx::query("SELECT username, email FROM users WHERE username = $1 OR email = $2")
        .bind(&username)
        .bind(&email)
        .fetch_all(&state.db)
        .await?;
    for row in &taken {
        if row.try_get::<String, _>("username")? == username {
            return Err(username_taken(&username));
        }
    }
    if !taken.is_empty() {
        return Err(email_taken());
    }

    let password_hash = state.passwords.hash(input.password).await?;
    let t = now();
    let inserted = sqlx::query(
        "INSERT INTO users (username, email, password_hash, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(&username)
    .bind(&email)
    .bind(&password_hash)
    .bind(input.role.as_str())
    .bind(t)
    .fetch_one(&state.db)
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(e) => {
            return Err(match unique_violation(&e).as_deref() {
                Some("users_username_key") => username_taken(&username),
                Some("users_email_key") => email_taken(),
                _ => e.into(),
            })
        }
    };
    Ok(Account {
        id: row.try_get("id")?,
        username,
        email,
        role: input.role,
        suspended_at: None,
        created_at: t,
    })
}

fn username_taken(username: &str) -> Error {
    Error::field(ErrorCode::UsernameTaken, "username", format!("The username '{username}' is taken. Choose another."))
}

fn email_taken() -> Error {
    Error::field(
        ErrorCode::EmailTaken,
        "email",
        "An account with this email address already exists. Log in instead.",
    )
}

/// Checks a username (or email address) and password. Failures are counted per account and
/// per client address; the answer never says whether the account exists.
pub async fn authenticate(state: &AppState, login: &str, password: String, client: &str) -> Result<Account> {
    let login = login.trim().to_lowercase();
    let mut missing = Vec::new();
    if login.is_empty() {
        missing.push(FieldError::new("username", "Enter your username or email address."));
    }
    if password.is_empty() {
        missing.push(FieldError::new("password", "Enter your password."));
    }
    if !missing.is_empty() {
        return Err(Error::validation(missing));
    }
    if let Err(wait) = state.login_throttle.check(&login, client).await {
        return Err(Error::too_many_attempts(wait));
    }
    let sql = concat!(
        "SELECT ",
        account_columns!(),
        ", u.password_hash FROM users u WHERE u.username = $1 OR u.email = $1"
    );
    // A name with control characters names no account (and PostgreSQL cannot even compare
    // text holding U+0000): it is looked up as nobody, answered like any wrong guess.
    let row = match crate::text::control_problem(&login, false) {
        None => sqlx::query(sql).bind(&login).fetch_optional(&state.db).await?,
        Some(_) => None,
    };
    let (account, hash) = match row {
        Some(row) => {
            use sqlx::FromRow;
            (Some(Account::from_row(&row)?), Some(row.try_get::<String, _>("password_hash")?))
        }
        None => (None, None),
    };
    let matches = state.passwords.verify(password, hash).await?;
    let account = match account {
        Some(account) if matches => account,
        _ => {
            state.login_throttle.record_failure(&login, client).await;
            return Err(Error::new(ErrorCode::InvalidCredentials, "The username or password is not correct."));
        }
    };
    state.login_throttle.record_success(&login).await;
    if account.suspended_at.is_some() {
        return Err(Error::new(ErrorCode::AccountSuspended, "This account is suspended. Contact the operator."));
    }
    Ok(account)
}

/// The account named `username` (normalized), if any.
pub async fn find_by_username(state: &AppState, username: &str) -> Result<Option<Account>> {
    Account::by_username(&state.db, &normalize_username(username)).await
}

/// One page of the caller's audit log, newest first (level 2).
pub async fn audit_log(state: &AppState, principal: &Principal, query: PageQuery) -> Result<AuditPage> {
    principal.require(Permission::ReadOwnAccount)?;
    let (limit, offset) = query.checked()?;
    let id = principal.account.id;
    let events = audit::read_page(&state.db, id, audit::Order::NewestFirst, limit, offset).await?;
    Ok(AuditPage { events, total: audit::count(&state.db, id).await?, limit, offset })
}

/// Adds an entry to the account's own audit log (the account acted on itself).
async fn record(state: &AppState, user_id: i64, kind: AuditKind, detail: &str) -> Result<()> {
    audit::record(&state.db, audit::Entry { user_id, kind, key_id: None, actor: None, detail, at: now() }).await
}

/// Checks `password` against the account's, counting failures like failed log-ins (so a
/// stolen session cannot be used to guess the password). `field` names the form field.
async fn confirm_password(state: &AppState, account: &Account, password: String, client: &str, field: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::validation(vec![FieldError::new(field, "Enter your password.")]));
    }
    if let Err(wait) = state.login_throttle.check(&account.username, client).await {
        return Err(Error::too_many_attempts(wait));
    }
    let hash: String = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(account.id)
        .fetch_one(&state.db)
        .await?
        .try_get("password_hash")?;
    if !state.passwords.verify(password, Some(hash)).await? {
        state.login_throttle.record_failure(&account.username, client).await;
        return Err(Error::field(ErrorCode::WrongPassword, field, "This is not your current password."));
    }
    state.login_throttle.record_success(&account.username).await;
    Ok(())
}

/// Changes the caller's username and/or email address (level 4). Every bad field is named
/// at once; one in use by another account is a 409. Nothing changes on any error.
pub async fn update_profile(state: &AppState, principal: &Principal, changes: ProfileChanges) -> Result<Account> {
    principal.require(Permission::WriteOwnAccount)?;
    let mut account = Account::by_id(&state.db, principal.account.id).await?;
    let username = changes.username.as_deref().map(normalize_username);
    let email = changes.email.as_deref().map(normalize_email);
    let errors: Vec<FieldError> = [
        ("username", username.as_deref().and_then(username_problem)),
        ("email", changes.email.as_deref().and_then(sent_email_problem)),
    ]
    .into_iter()
    .filter_map(|(field, problem)| problem.map(|m| FieldError::new(field, m)))
    .collect();
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let (username, email) = (username.unwrap_or(account.username.clone()), email.unwrap_or(account.email.clone()));
    if (username.as_str(), email.as_str()) == (account.username.as_str(), account.email.as_str()) {
        return Ok(account);
    }
    let done = sqlx::query("UPDATE users SET username = $1, email = $2, updated_at = $3 WHERE id = $4")
        .bind(&username)
        .bind(&email)
        .bind(now())
        .bind(account.id)
        .execute(&state.db)
        .await;
    if let Err(e) = done {
        return Err(match unique_violation(&e).as_deref() {
            Some("users_username_key") => username_taken(&username),
            Some("users_email_key") => {
                Error::field(ErrorCode::EmailTaken, "email", "Another account uses this email address.")
            }
            _ => e.into(),
        });
    }
    state.keys_changed().await;
    let mut what = Vec::new();
    if username != account.username {
        what.push(format!("username {} → {username}", account.username));
    }
    if email != account.email {
        what.push("email address".to_owned());
    }
    record(state, account.id, AuditKind::ProfileChanged, &format!("changed: {}", what.join(", "))).await?;
    (account.username, account.email) = (username, email);
    Ok(account)
}

/// Changes the caller's password (level 4), given the current one. Every other session of
/// the account ends; `keep_session` (the caller's own, in the browser) stays. API keys are
/// not affected: they do not depend on the password.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    change: PasswordChange,
    keep_session: Option<&str>,
    client: &str,
) -> Result<()> {
    principal.require(Permission::WriteOwnAccount)?;
    let account = Account::by_id(&state.db, principal.account.id).await?;
    if let Some(problem) = password_problem(&change.new_password, &account.username) {
        let mut errors = vec![FieldError::new("new_password", problem)];
        if change.current_password.is_empty() {
            errors.insert(0, FieldError::new("current_password", "Enter your current password."));
        }
        return Err(Error::validation(errors));
    }
    confirm_password(state, &account, change.current_password, client, "current_password").await?;
    let hash = state.passwords.hash(change.new_password).await?;
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(&hash)
        .bind(now())
        .bind(account.id)
        .execute(&state.db)
        .await?;
    session::end_all_but(&state.db, account.id, keep_session).await?;
    record(state, account.id, AuditKind::PasswordChanged, "other sessions were signed out").await
}

/// Deletes the caller's account after checking the password again: its sets, patterns, API
/// keys, sessions and audit log go with it, and its keys fail from the very next request.
/// Only a browser session may do this — never an API key.
pub async fn delete(state: &AppState, principal: &Principal, password: String, client: &str) -> Result<()> {
    if principal.key.is_some() {
        return Err(Error::new(ErrorCode::LevelTooLow, "An account can only be deleted from its account page, not with an API key."));
    }
    let account = Account::by_id(&state.db, principal.account.id).await?;
    confirm_password(state, &account, password, client, "password").await?;
    // Everything the account owns references it with ON DELETE CASCADE.
    sqlx::query("DELETE FROM users WHERE id = $1").bind(account.id).execute(&state.db).await?;
    state.keys_changed().await;
    tracing::info!(user_id = account.id, "account deleted by its owner");
    Ok(())
}
