//! Account rules and their SQL (server only). Both the browser's server functions and the
//! operator's command line create and authenticate accounts through these functions.

use super::{normalize_email, normalize_username, signup_errors, AccountView, Role};
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
