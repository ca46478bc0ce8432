//! Account rules and their SQL (server only). Both the browser's server functions and the
//! operator's command line create and authenticate accounts through these functions.

use super::{email_problem, normalize_email, normalize_username, password_problem, signup_errors, username_problem};
use super::{AccountExport, AccountView, AuditEvent, PasswordChange, Profile, ProfileChanges, Role, READ_ACCOUNT, WRITE_ACCOUNT};
use crate::server::auth::Principal;
use crate::error::{ErrorCode, FieldError};
use crate::server::db::{now, unique_violation};
use crate::server::{AppState, Error, Result};
use sqlx::Row;

/// The columns of [`Account`], for queries that alias `users` as `u`. A macro so that
/// queries stay `&'static str` literals (`concat!`), which sqlx accepts as audited SQL.
#[macro_export]
macro_rules! account_columns {
    () => {
        "u.id, u.username, u.email, u.role, u.suspended_at, u.created_at"
    };
}

/// A stored account (never its password hash).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub suspended_at: Option<i64>,
    pub created_at: i64,
}

impl Account {
    /// The profile the REST API shows.
    pub fn profile(&self) -> Profile {
        Profile {
            username: self.username.clone(),
            email: self.email.clone(),
            role: self.role.as_str().to_owned(),
            role_level: self.role.level(),
            created_at: crate::server::db::rfc3339(self.created_at),
        }
    }

    pub fn view(&self) -> AccountView {
        AccountView {
            username: self.username.clone(),
            email: self.email.clone(),
            role: self.role,
            member_since: self.created_at,
        }
    }
}

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
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
    let errors = signup_errors(&username, &email, &input.password);
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    // Checked before the (deliberately slow) hash; the unique constraints below still
    // decide races between two sign-ups.
    let taken = sqlx::query("SELECT username, email FROM users WHERE username = $1 OR email = $2")
        .bind(&username)
        .bind(&email)
        .fetch_all(&state.db.pool)
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
    .fetch_one(&state.db.pool)
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
    if let Err(wait) = state.login_throttle.check(&login, client) {
        return Err(Error::too_many_attempts(wait));
    }
    let sql = concat!(
        "SELECT ",
        account_columns!(),
        ", u.password_hash FROM users u WHERE u.username = $1 OR u.email = $1"
    );
    let row = sqlx::query(sql).bind(&login).fetch_optional(&state.db.pool).await?;
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
            state.login_throttle.record_failure(&login, client);
            return Err(Error::new(ErrorCode::InvalidCredentials, "The username or password is not correct."));
        }
    };
    state.login_throttle.record_success(&login);
    if account.suspended_at.is_some() {
        return Err(Error::new(ErrorCode::AccountSuspended, "This account is suspended. Contact the operator."));
    }
    Ok(account)
}

/// The account named `username` (normalized), if any.
pub async fn find_by_username(state: &AppState, username: &str) -> Result<Option<Account>> {
    let sql = concat!("SELECT ", account_columns!(), " FROM users u WHERE u.username = $1");
    Ok(sqlx::query_as::<_, Account>(sql).bind(normalize_username(username)).fetch_optional(&state.db.pool).await?)
}

/// The account `id`, fresh from the database.
async fn find(state: &AppState, id: i64) -> Result<Account> {
    let sql = concat!("SELECT ", account_columns!(), " FROM users u WHERE u.id = $1");
    sqlx::query_as::<_, Account>(sql)
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotAuthenticated, "This account no longer exists."))
}

/// Adds an entry to the account's audit log.
async fn record(state: &AppState, user_id: i64, kind: &str, detail: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit_events (user_id, kind, detail, created_at) VALUES ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(kind)
        .bind(detail)
        .bind(now())
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Checks `password` against the account's, counting failures like failed log-ins (so a
/// stolen session cannot be used to guess the password). `field` names the form field.
async fn confirm_password(state: &AppState, account: &Account, password: String, client: &str, field: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::validation(vec![FieldError::new(field, "Enter your password.")]));
    }
    if let Err(wait) = state.login_throttle.check(&account.username, client) {
        return Err(Error::too_many_attempts(wait));
    }
    let hash: String = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(account.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("password_hash")?;
    if !state.passwords.verify(password, Some(hash)).await? {
        state.login_throttle.record_failure(&account.username, client);
        return Err(Error::validation(vec![FieldError::new(field, "This is not your current password.")]));
    }
    state.login_throttle.record_success(&account.username);
    Ok(())
}

/// Changes the caller's username and/or email address (level 4). Every bad field is named
/// at once; one in use by another account is a 409. Nothing changes on any error.
pub async fn update_profile(state: &AppState, principal: &Principal, changes: ProfileChanges) -> Result<Account> {
    principal.require(WRITE_ACCOUNT)?;
    let mut account = find(state, principal.account.id).await?;
    let username = changes.username.as_deref().map(normalize_username);
    let email = changes.email.as_deref().map(normalize_email);
    let errors: Vec<FieldError> = [
        ("username", username.as_deref().and_then(username_problem)),
        ("email", email.as_deref().and_then(email_problem)),
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
        .execute(&state.db.pool)
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
    let mut what = Vec::new();
    if username != account.username {
        what.push(format!("username {} → {username}", account.username));
    }
    if email != account.email {
        what.push("email address".to_owned());
    }
    record(state, account.id, "profile_changed", &format!("changed: {}", what.join(", "))).await?;
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
    principal.require(WRITE_ACCOUNT)?;
    let account = find(state, principal.account.id).await?;
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
        .execute(&state.db.pool)
        .await?;
    crate::server::session::end_all_but(&state.db, account.id, keep_session).await?;
    record(state, account.id, "password_changed", "other sessions were signed out").await
}

/// Everything the caller's account holds, as one document (level 2). No secret, password
/// hash or session is part of it.
pub async fn export(state: &AppState, principal: &Principal) -> Result<AccountExport> {
    principal.require(READ_ACCOUNT)?;
    let account = find(state, principal.account.id).await?;
    let rows = sqlx::query(
        "SELECT kind, key_id, COALESCE(detail, '') AS detail, created_at FROM audit_events WHERE user_id = $1 ORDER BY id",
    )
    .bind(account.id)
    .fetch_all(&state.db.pool)
    .await?;
    let audit_events = rows
        .iter()
        .map(|r| {
            Ok(AuditEvent {
                kind: r.try_get("kind")?,
                key_id: r.try_get("key_id")?,
                detail: r.try_get("detail")?,
                at: crate::server::db::rfc3339(r.try_get("created_at")?),
            })
        })
        .collect::<Result<_>>()?;
    Ok(AccountExport {
        format: "tapeline-export/1".to_owned(),
        exported_at: crate::server::db::rfc3339(now()),
        account: account.profile(),
        sets: crate::sets::service::all_of(state, account.id).await?,
        patterns: crate::patterns::service::all_of(state, account.id).await?,
        api_keys: crate::apikeys::service::list_all(state, account.id).await?,
        audit_events,
    })
}

/// Deletes the caller's account after checking the password again: its sets, patterns, API
/// keys, sessions and audit log go with it, and its keys fail from the very next request.
/// Only a browser session may do this — never an API key.
pub async fn delete(state: &AppState, principal: &Principal, password: String, client: &str) -> Result<()> {
    if principal.key.is_some() {
        return Err(Error::new(ErrorCode::LevelTooLow, "An account can only be deleted from its account page, not with an API key."));
    }
    let account = find(state, principal.account.id).await?;
    confirm_password(state, &account, password, client, "password").await?;
    // Everything the account owns references it with ON DELETE CASCADE.
    sqlx::query("DELETE FROM users WHERE id = $1").bind(account.id).execute(&state.db.pool).await?;
    tracing::info!(user_id = account.id, "account deleted by its owner");
    Ok(())
}
