//! Browser sessions: server-side records keyed by the SHA-256 of a random cookie token (the
//! cookie itself is `server::cookie`'s). Logging out deletes the record, so a copied cookie
//! stops working at once. Sessions slide: each use (at most once every few minutes, to avoid a
//! write per request) pushes the expiry out by the configured lifetime.

use super::account::{Account, ACCOUNT_COLUMN_NAMES};
use super::AuthState;
use crate::account_columns;
use crate::server::cookie;
use crate::server::db::{now, Db};
use crate::server::error::Result;
use crate::server::sqlite_reads::debug_assert_columns;
use crate::server::Config;
use base64::Engine as _;
use http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How stale `last_seen_at` may get before a request refreshes it (and the expiry).
const TOUCH_AFTER_SECS: i64 = 5 * 60;

/// Starts a session for `user_id`; returns the cookie token (shown to nobody but the browser).
pub async fn create(db: &Db, config: &Config, user_id: i64, user_agent: Option<&str>) -> Result<String> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let t = now();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent) \
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(hash_token(&token))
    .bind(user_id)
    .bind(t)
    .bind(t + config.session_ttl.as_secs() as i64)
    .bind(user_agent.map(|ua| ua.chars().take(256).collect::<String>()))
    .execute(db)
    .await?;
    Ok(token)
}

/// The account a session token belongs to, if the session exists, has not expired and the
/// account is not suspended.
pub async fn resolve(db: &Db, config: &Config, token: &str) -> Result<Option<Account>> {
    let t = now();
    let hash = hash_token(token);
    let sql = concat!(
        "SELECT ",
        account_columns!(),
        ", s.last_seen_at AS session_last_seen \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.suspended_at IS NULL"
    );
    let found = match db.sqlite_reads() {
        Some(reads) => {
            let read = |row: &rusqlite::Row<'_>| {
                debug_assert_columns(row, &[&ACCOUNT_COLUMN_NAMES[..], &["session_last_seen"]].concat());
                Ok((Account::from_sqlite(row)?, row.get(6)?))
            };
            reads.read(sql, rusqlite::params![hash, t], read)?
        }
        None => match sqlx::query(sql).bind(&hash).bind(t).fetch_optional(db).await? {
            Some(row) => {
                use sqlx::{FromRow, Row};
                Some((Account::from_row(&row)?, row.try_get("session_last_seen")?))
            }
            None => None,
        },
    };
    let Some((account, last_seen)): Option<(Account, i64)> = found else {
        return Ok(None);
    };
    if t - last_seen > TOUCH_AFTER_SECS {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(t)
            .bind(t + config.session_ttl.as_secs() as i64)
            .bind(&hash)
            .execute(db)
            .await?;
    }
    Ok(Some(account))
}

/// Ends the session of `token` (no error when there is none).
pub async fn end(db: &Db, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(hash_token(token)).execute(db).await?;
    Ok(())
}

/// Ends every session of `user_id` except the one of `keep` (e.g. after a password change:
/// whoever else was signed in with the old password is signed out).
pub async fn end_all_but(db: &Db, user_id: i64, keep: Option<&str>) -> Result<()> {
    let keep = keep.map(hash_token).unwrap_or_default();
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2").bind(user_id).bind(keep).execute(db).await?;
    Ok(())
}

fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The signed-in account of a request, if its session cookie names a live session.
pub async fn account_of(state: &impl AuthState, parts: &Parts) -> Result<Option<Account>> {
    match cookie::token_from_headers(&parts.headers) {
        Some(token) => resolve(state.db(), state.config(), &token).await,
        None => Ok(None),
    }
}
