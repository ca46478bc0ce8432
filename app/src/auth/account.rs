//! The stored account: the identity every session and key resolves to. A model only — its
//! columns, its row type and the lookups authentication and the services share; the account
//! rules (sign-up, log-in, profile, password) are `accounts::service`'s.
//!
//! Depends only on the database and error plumbing and on the ladder's roles.

use crate::error::ErrorCode;
use crate::levels::Role;
use crate::server::db::Db;
use crate::server::{Error, Result};

/// The columns of [`Account`], for queries that alias `users` as `u`. A macro so that
/// queries stay `&'static str` literals (`concat!`), which sqlx accepts as audited SQL.
#[macro_export]
macro_rules! account_columns {
    () => {
        "u.id, u.username, u.email, u.role, u.suspended_at, u.created_at"
    };
}

/// The names of [`account_columns!`], in order: the first columns of a row that
/// [`Account::from_sqlite`] reads by position.
pub const ACCOUNT_COLUMN_NAMES: [&str; 6] = ["id", "username", "email", "role", "suspended_at", "created_at"];

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
    /// The [`account_columns!`] of a row read on SQLite's own thread (`server::sqlite_reads`),
    /// by position: the first six columns.
    pub fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
        let role: String = row.get(3)?;
        let role = role.parse().map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into()))?;
        Ok(Account {
            id: row.get(0)?,
            username: row.get(1)?,
            email: row.get(2)?,
            role,
            suspended_at: row.get(4)?,
            created_at: row.get(5)?,
        })
    }

    /// The account `id`, fresh from the database. One that no longer exists means the caller
    /// is no longer signed in as anybody.
    pub async fn by_id(db: &Db, id: i64) -> Result<Account> {
        let sql = concat!("SELECT ", account_columns!(), " FROM users u WHERE u.id = $1");
        sqlx::query_as::<_, Account>(sql)
            .bind(id)
            .fetch_optional(db)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::NotAuthenticated, "This account no longer exists."))
    }

    /// The account whose (already normalized) username is `username`, if any.
    pub async fn by_username(db: &Db, username: &str) -> Result<Option<Account>> {
        let sql = concat!("SELECT ", account_columns!(), " FROM users u WHERE u.username = $1");
        Ok(sqlx::query_as::<_, Account>(sql).bind(username).fetch_optional(db).await?)
    }
}
