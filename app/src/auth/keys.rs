//! The key store: looks an API key up by id and verifies its secret, beside [`super::token`]
//! (the token's format and the keyed hash). This is all authentication needs of keys;
//! creating, listing and revoking them are `apikeys::service`'s.

use super::account::Account;
use super::{token, AuthState, KeyAuth, Principal};
use crate::account_columns;
use crate::audit::{self, AuditKind};
use crate::error::{ErrorCode, Problem};
use crate::levels::{effective_level, Level};
use crate::server::db::{now, rfc3339};
use crate::server::{Error, Result};
use sqlx::{FromRow, Row};

/// Checks a key's id and secret and returns who is calling, at what level.
///
/// Order matters: an unknown id and a wrong secret get the same answer; only the holder of
/// the right secret learns that the key is revoked or expired (and those refusals are
/// written to the owner's audit log, at most once an hour per key).
pub async fn authenticate(state: &impl AuthState, id: &str, secret: &str) -> Result<Principal> {
    let sql = concat!(
        "SELECT ",
        account_columns!(),
        ", k.name AS key_name, k.level AS key_level, k.secret_hash, k.expires_at AS key_expires_at, \
         k.revoked_at AS key_revoked_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1"
    );
    let row = sqlx::query(sql).bind(id).fetch_optional(&state.db().pool).await?;
    let Some(row) = row else {
        return Err(invalid_credentials());
    };
    let hash: String = row.try_get("secret_hash")?;
    if !token::verify_secret(state.key_pepper(), secret, &hash) {
        return Err(invalid_credentials());
    }
    let account = Account::from_row(&row)?;
    let now = now();
    let expires_at: i64 = row.try_get("key_expires_at")?;
    if row.try_get::<Option<i64>, _>("key_revoked_at")?.is_some() {
        record_refused_use(state, account.id, id, "revoked", now).await?;
        return Err(Error::new(ErrorCode::KeyRevoked, "This API key has been revoked. Create a new one in your account settings."));
    }
    if expires_at <= now {
        record_refused_use(state, account.id, id, "expired", now).await?;
        let mut p = Problem::new(
            ErrorCode::KeyExpired,
            format!("This API key expired at {}. Create a new one in your account settings.", rfc3339(expires_at)),
        );
        p.expired_at = Some(rfc3339(expires_at));
        return Err(p.into());
    }
    if account.suspended_at.is_some() {
        return Err(Error::new(ErrorCode::AccountSuspended, "The account this key belongs to is suspended."));
    }
    state.usage().record(id, now);
    let key_level = stored_level(row.try_get("key_level")?);
    Ok(Principal {
        level: effective_level(key_level, account.role.level()),
        key: Some(KeyAuth { id: id.to_owned(), name: row.try_get("key_name")?, level: key_level, expires_at }),
        account,
    })
}

/// A stored key level; the schema keeps it on the ladder, and anything else is read as the
/// nearest rung rather than trusted.
pub fn stored_level(level: i64) -> Level {
    Level::from_i64(level.clamp(0, Level::MAX.get() as i64)).unwrap_or(Level::MIN)
}

/// The one answer to an unknown key id, a wrong secret and a mistyped token.
pub fn invalid_credentials() -> Error {
    Error::new(ErrorCode::InvalidCredentials, "The API key is not valid. Check that it was copied whole.")
}

/// Logs a refused use of a revoked or expired key, at most once an hour per key.
async fn record_refused_use(state: &impl AuthState, user_id: i64, key_id: &str, why: &str, at: i64) -> Result<()> {
    let detail = format!("a request with this {why} key was refused");
    let entry = audit::Entry { user_id, kind: AuditKind::KeyUseRefused, key_id: Some(key_id), actor: None, detail: &detail, at };
    audit::record_unless_recent(&state.db().pool, entry, 3600).await
}
