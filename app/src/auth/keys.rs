//! The key store: looks an API key up by id and verifies its secret, beside [`super::token`]
//! (the token's format and the keyed hash). This is all authentication needs of keys;
//! creating, listing and revoking them are `apikeys::service`'s.

use super::account::{Account, ACCOUNT_COLUMN_NAMES};
use super::key_cache::StoredKey;
use super::limits::{now_us, KeyHeaders, KeyOutcome, KeyPolicy, Refusal, SharedCheck};
use super::usage::{day_of, day_string, Day};
use super::{AuthState, KeyAuth, Principal};
use crate::account_columns;
use crate::audit::{self, AuditKind};
use crate::error::{ErrorCode, Problem};
use crate::levels::{effective_level, Level};
use crate::server::db::rfc3339;
use crate::server::sqlite_reads::debug_assert_columns;
use crate::server::{Error, Result};
use sqlx::{FromRow, Row};
use std::sync::Arc;

/// Checks a key's id and secret and returns who is calling, at what level — then spends one
/// call of the key's limits.
///
/// Order matters: an unknown id and a wrong secret get the same answer; only the holder of
/// the right secret learns that the key is revoked or expired (and those refusals are
/// written to the owner's audit log, at most once an hour per key). Limits apply only to a
/// verified, live key, so nobody can spend someone else's quota with a wrong secret; a
/// refused call is counted as refused and writes nothing. The limits' state, for the
/// response headers, is left in `headers`. Every outcome is counted in [`AUTH_METRIC`].
pub async fn authenticate(state: &impl AuthState, id: &str, secret: &str, headers: &mut Option<KeyHeaders>) -> Result<Principal> {
    let result = check_key(state, id, secret, headers).await;
    if let Some(outcome) = auth_outcome(&result) {
        metrics::counter!(AUTH_METRIC, "outcome" => outcome).increment(1);
    }
    result
}

/// Counts a credential refused before the key store is asked (a mistyped or malformed
/// token) as `invalid`, like an unknown key.
pub fn count_invalid() {
    metrics::counter!(AUTH_METRIC, "outcome" => "invalid").increment(1);
}

/// The counter of key checks, labelled `outcome` (one of [`AUTH_OUTCOMES`]).
pub const AUTH_METRIC: &str = "tapeline_key_auth_total";

/// Every value of [`AUTH_METRIC`]'s `outcome` label.
pub const AUTH_OUTCOMES: [&str; 7] = ["ok", "invalid", "expired", "revoked", "suspended", "rate_limited", "quota_exceeded"];

/// A key check's outcome as a label value, read from the answer's code; `None` for a failure
/// of the server's own (the database), which says nothing about the key.
fn auth_outcome(result: &Result<Principal>) -> Option<&'static str> {
    let code = match result {
        Ok(_) => return Some("ok"),
        Err(Error::Problem(problem)) => problem.code,
        Err(_) => return None,
    };
    match code {
        ErrorCode::InvalidCredentials => Some("invalid"),
        ErrorCode::KeyExpired => Some("expired"),
        ErrorCode::KeyRevoked => Some("revoked"),
        ErrorCode::AccountSuspended => Some("suspended"),
        ErrorCode::RateLimited => Some("rate_limited"),
        ErrorCode::QuotaExceeded => Some("quota_exceeded"),
        _ => None,
    }
}

async fn check_key(state: &impl AuthState, id: &str, secret: &str, headers: &mut Option<KeyHeaders>) -> Result<Principal> {
    let Some(key) = stored_key(state, id).await? else {
        return Err(invalid_credentials());
    };
    if !state.key_hasher().verify(secret, &key.secret_hash) {
        return Err(invalid_credentials());
    }
    let account = &key.account;
    // One clock reading for the whole check: expiry, the limits' day and the usage count.
    let now_us = now_us();
    let now = now_us.div_euclid(1_000_000);
    let expires_at = key.expires_at;
    if key.revoked_at.is_some() {
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
    if !state.config().keys.enforce {
        *headers = Some(KeyHeaders { outcome: None, expires_at });
        state.usage().record(id, now);
    } else {
        let policy = KeyPolicy::of(&state.config().keys, key.rate_limit, key.daily_quota);
        let outcome = check_limits(state, id, policy, now_us).await?;
        *headers = Some(KeyHeaders { outcome: Some(outcome), expires_at });
        match outcome.refused {
            Some(Refusal::Rate { retry_after }) => {
                state.usage().record_refused(id, now);
                let detail = format!(
                    "This API key is over its rate limit of {} requests a minute. Try again in {retry_after} seconds.",
                    policy.per_minute
                );
                return Err(Error::limited(ErrorCode::RateLimited, detail, retry_after));
            }
            Some(Refusal::Quota { retry_after }) => {
                state.usage().record_refused(id, now);
                let detail = format!(
                    "This API key has used its daily quota of {} requests. It resets at midnight UTC, in {retry_after} seconds.",
                    policy.per_day
                );
                return Err(Error::limited(ErrorCode::QuotaExceeded, detail, retry_after));
            }
            None => state.usage().record(id, now),
        }
    }
    let key_level = stored_level(key.level);
    Ok(Principal {
        level: effective_level(key_level, account.role.level()),
        key: Some(KeyAuth { id: id.to_owned(), name: key.name.clone(), level: key_level, expires_at }),
        account: account.clone(),
    })
}

/// The key `id` as stored, from this process's [`KeyCache`] when it read it a moment ago,
/// else from the database (and then remembered); `None` when there is no such key.
async fn stored_key(state: &impl AuthState, id: &str) -> Result<Option<Arc<StoredKey>>> {
    let cache = state.key_cache();
    if let Some(key) = cache.get(id) {
        return Ok(Some(key));
    }
    let generation = cache.generation();
    let sql = concat!(
        "SELECT ",
        account_columns!(),
        ", k.name AS key_name, k.level AS key_level, k.secret_hash, k.expires_at AS key_expires_at, \
         k.revoked_at AS key_revoked_at, k.rate_limit AS key_rate_limit, k.daily_quota AS key_daily_quota \
         FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1"
    );
    let found = match state.db().sqlite_reads() {
        Some(reads) => reads.read(sql, [id], stored_key_from_sqlite)?,
        None => match sqlx::query(sql).bind(id).fetch_optional(state.db()).await? {
            Some(row) => Some(StoredKey {
                account: Account::from_row(&row)?,
                name: row.try_get("key_name")?,
                level: row.try_get("key_level")?,
                secret_hash: row.try_get("secret_hash")?,
                expires_at: row.try_get("key_expires_at")?,
                revoked_at: row.try_get("key_revoked_at")?,
                rate_limit: row.try_get("key_rate_limit")?,
                daily_quota: row.try_get("key_daily_quota")?,
            }),
            None => None,
        },
    };
    let Some(key) = found.map(Arc::new) else {
        return Ok(None);
    };
    cache.remember(id, key.clone(), generation);
    Ok(Some(key))
}

/// [`stored_key`]'s row read on SQLite's own thread (`server::sqlite_reads`), by position.
fn stored_key_from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredKey> {
    let key_columns = ["key_name", "key_level", "secret_hash", "key_expires_at", "key_revoked_at", "key_rate_limit", "key_daily_quota"];
    debug_assert_columns(row, &[&ACCOUNT_COLUMN_NAMES[..], &key_columns].concat());
    Ok(StoredKey {
        account: Account::from_sqlite(row)?,
        name: row.get(6)?,
        level: row.get(7)?,
        secret_hash: row.get(8)?,
        expires_at: row.get(9)?,
        revoked_at: row.get(10)?,
        rate_limit: row.get(11)?,
        daily_quota: row.get(12)?,
    })
}

/// Spends one call of `key_id`'s limits: in Redis when the limits are shared and Redis
/// answers, else in this process. At most one Redis round trip: the day's count is read from
/// the database (not Redis) the first time this process sees the key in a UTC day and sent
/// along, for Redis to start from should it not know the key's day yet; only when Redis lost
/// its data since (a restart) does a second round trip seed it.
async fn check_limits(state: &impl AuthState, id: &str, policy: KeyPolicy, now_us: i64) -> Result<KeyOutcome> {
    let today = day_of(now_us.div_euclid(1_000_000));
    let limiter = state.limiter();
    let mut count = match limiter.needs_day_count(id, today) {
        true => Some(day_count(state, id, today).await?),
        false => None,
    };
    match limiter.check_key_shared(id, policy, now_us, count).await {
        Some(SharedCheck::Done(outcome)) => return Ok(outcome),
        Some(SharedCheck::NeedsDayCount) => {
            let seed = day_count(state, id, today).await?;
            if let Some(SharedCheck::Done(outcome)) = limiter.check_key_shared(id, policy, now_us, Some(seed)).await {
                return Ok(outcome);
            }
            count = Some(seed);
        }
        None => {}
    }
    if count.is_none() && limiter.needs_day_count(id, today) {
        count = Some(day_count(state, id, today).await?);
    }
    Ok(limiter.check_key(id, policy, now_us, count))
}

/// The calls `key_id` made on `day` before this process counts them: those written to the
/// database and those still in memory.
async fn day_count(state: &impl AuthState, key_id: &str, day: Day) -> Result<u64> {
    let stored: Option<i64> = sqlx::query("SELECT calls FROM api_key_usage WHERE key_id = $1 AND day = $2")
        .bind(key_id)
        .bind(day_string(day))
        .fetch_optional(state.db())
        .await?
        .map(|row| row.try_get("calls"))
        .transpose()?;
    let pending = state.usage().pending_days(key_id).get(&day).map_or(0, |c| c.calls);
    Ok(stored.unwrap_or(0).max(0) as u64 + pending)
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
    audit::record_unless_recent(state.db(), entry, 3600).await
}
