//! API key rules and their SQL (server only). The REST handlers, the browser's server
//! functions and the operator's command line all create, list, authenticate and revoke keys
//! through these functions; the level rules themselves are the pure functions of
//! [`crate::levels`].

use super::token;
use super::{ApiKey, CreatedKey, NewKeyChoices};
use crate::account_columns;
use crate::accounts::service::Account;
use crate::error::{ErrorCode, FieldError, Problem};
use crate::levels::{self, check_create, effective_level, CreateRefusal, MAX_LEVEL};
use crate::server::auth::{BindScope, KeyAuth, Principal};
use crate::server::db::{now, rfc3339};
use crate::server::{AppState, Error, Result};
use serde::Deserialize;
use sqlx::{FromRow, Row};

/// The shortest lifetime a key may have.
pub const MIN_TTL_SECS: i64 = 60;
pub const NAME_MAX: usize = 100;

/// A request to create a key (`POST /api/v1/apikeys`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A name to recognise the key by (1–100 characters; surrounding spaces are trimmed).
    #[schema(example = "pattern-sync script")]
    pub name: String,
    /// Access level 0–8 (see the ladder in the API description). Default 1. At most your own
    /// level; a key creating a key may not exceed its own.
    #[schema(example = 1, minimum = 0, maximum = 8)]
    pub level: Option<i64>,
    /// Lifetime in seconds (at least 60). Give this or `expires_at`, not both; with neither,
    /// the instance's default (90 days unless the operator changed it).
    #[schema(example = 2592000)]
    pub expires_in: Option<i64>,
    /// Expiry as an RFC 3339 date-time, e.g. `2027-01-31T00:00:00Z`.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

impl NewKey {
    /// The fields a JSON body may carry, for naming every unknown one at once.
    pub const FIELDS: &'static [&'static str] = &["name", "level", "expires_in", "expires_at"];

    /// Builds a request from the browser's form: the level as text, the expiry as a preset
    /// number of days or a calendar date (the key then lives to the end of that day, UTC).
    pub fn from_form(name: String, level: &str, in_days: Option<&str>, on: Option<&str>) -> Result<NewKey> {
        let level = level
            .trim()
            .parse::<i64>()
            .map_err(|_| Error::field(ErrorCode::UnknownLevel, "level", "Choose an access level from the list."))?;
        let (expires_in, expires_at) = match (in_days.filter(|s| !s.is_empty()), on.filter(|s| !s.is_empty())) {
            (Some(days), _) if days != "custom" => {
                let days: i64 = days.parse().map_err(|_| {
                    Error::validation(vec![FieldError::new("expires_in_days", "Choose a lifetime from the list.")])
                })?;
                (Some(days * 86_400), None)
            }
            (_, Some(date)) => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                let day = time::Date::parse(date, &format).map_err(|_| {
                    Error::validation(vec![FieldError::new("expires_on", "Enter a date like 2027-01-31.")])
                })?;
                let end = day.with_hms(23, 59, 59).expect("valid time").assume_utc();
                (None, Some(rfc3339(end.unix_timestamp())))
            }
            (Some(_), None) => {
                return Err(Error::validation(vec![FieldError::new("expires_on", "Pick the date the key should expire.")]))
            }
            (None, None) => (None, None),
        };
        Ok(NewKey { name, level: Some(level), expires_in, expires_at })
    }
}

#[derive(Debug, FromRow)]
struct KeyRow {
    id: String,
    name: String,
    level: i64,
    created_at: i64,
    expires_at: i64,
    last_used_at: Option<i64>,
    calls: i64,
    revoked_at: Option<i64>,
}

/// The columns of [`KeyRow`] (a macro, so that queries stay `&'static str` literals).
macro_rules! key_columns {
    () => {
        "k.id, k.name, k.level, k.created_at, k.expires_at, k.last_used_at, k.calls, k.revoked_at"
    };
}

impl KeyRow {
    /// The listed form, with usage not yet written to the database added in.
    fn view(&self, state: &AppState, now: i64) -> ApiKey {
        let (pending_calls, pending_last) = state.usage.pending(&self.id);
        let last_used = match (self.last_used_at, pending_last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let level = self.level.clamp(0, MAX_LEVEL as i64) as u8;
        ApiKey {
            id: self.id.clone(),
            name: self.name.clone(),
            level,
            level_label: levels::label(level).unwrap_or_default().to_owned(),
            prefix: token::visible_prefix(&self.id),
            created_at: rfc3339(self.created_at),
            expires_at: rfc3339(self.expires_at),
            expired: self.expires_at <= now,
            last_used_at: last_used.map(rfc3339),
            calls: self.calls.max(0) as u64 + pending_calls,
            revoked_at: self.revoked_at.map(rfc3339),
        }
    }
}

/// Creates a key for `principal`'s account.
pub async fn create(state: &AppState, principal: &Principal, request: NewKey) -> Result<CreatedKey> {
    let now = now();
    let name = request.name.trim().to_owned();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Give the key a name, e.g. the script that will use it."));
    } else if name.chars().count() > NAME_MAX {
        errors.push(FieldError::new("name", format!("Use at most {NAME_MAX} characters.")));
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let level = match request.level {
        None => levels::DEFAULT_KEY_LEVEL,
        Some(l) if (0..=MAX_LEVEL as i64).contains(&l) => l as u8,
        Some(l) => {
            return Err(Error::field(
                ErrorCode::UnknownLevel,
                "level",
                format!("There is no access level {l}. Levels run from 0 to {MAX_LEVEL}."),
            ))
        }
    };
    let expires_at = resolve_expiry(state, now, request.expires_in, request.expires_at.as_deref())?;
    check_create(principal.creator(), level, expires_at).map_err(|refusal| refusal_error(refusal, level))?;

    let active: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(principal.account.id)
    .bind(now)
    .fetch_one(&state.db.pool)
    .await?
    .try_get("n")?;
    let cap = state.config.keys.max_per_user;
    if active >= cap as i64 {
        return Err(Error::new(
            ErrorCode::KeyLimitReached,
            format!("This account already has {active} active API keys, the most this instance allows ({cap}). Revoke keys you no longer use."),
        ));
    }

    let new = token::generate();
    let created_by_key = principal.key.as_ref().map(|k| k.id.clone());
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, level, secret_hash, created_at, expires_at, created_by_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&new.id)
    .bind(principal.account.id)
    .bind(&name)
    .bind(level as i64)
    .bind(token::hash_secret(state.secrets.key_pepper.as_bytes(), &new.secret))
    .bind(now)
    .bind(expires_at)
    .bind(&created_by_key)
    .execute(&mut *tx)
    .await?;
    let detail = match &created_by_key {
        Some(by) => format!("level {level}, expires {}, created with key {by}", rfc3339(expires_at)),
        None => format!("level {level}, expires {}", rfc3339(expires_at)),
    };
    audit(&mut tx, principal.account.id, "key_created", Some(&new.id), None, &detail, now).await?;
    tx.commit().await?;

    let row = KeyRow {
        id: new.id.clone(),
        name,
        level: level as i64,
        created_at: now,
        expires_at,
        last_used_at: None,
        calls: 0,
        revoked_at: None,
    };
    Ok(CreatedKey { key: row.view(state, now), token: new.token, secret: new.secret })
}

fn refusal_error(refusal: CreateRefusal, level: u8) -> Error {
    match refusal {
        CreateRefusal::UnknownLevel => Error::field(ErrorCode::UnknownLevel, "level", format!("There is no access level {level}.")),
        CreateRefusal::CallerLevelTooLow { required, actual } => Error::new(
            ErrorCode::LevelTooLow,
            format!("Creating API keys needs access level {required}; this key acts at level {actual}."),
        ),
        CreateRefusal::LevelAboveCreator { max } => Error::field(
            ErrorCode::LevelAboveCreator,
            "level",
            format!("You can create keys up to level {max}; level {level} is above that."),
        ),
        CreateRefusal::OutlivesCreator { max_expires_at } => Error::field(
            ErrorCode::ExpiryAfterCreator,
            "expires_at",
            format!("A key cannot outlive the key that creates it; this one expires at {}.", rfc3339(max_expires_at)),
        ),
    }
}

/// The expiry (Unix seconds) asked for, checked against the operator's bounds.
fn resolve_expiry(state: &AppState, now: i64, expires_in: Option<i64>, expires_at: Option<&str>) -> Result<i64> {
    let max = state.config.keys.max_ttl.as_secs() as i64;
    let days = |secs: i64| secs / 86_400;
    let (field, at) = match (expires_in, expires_at) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(vec![FieldError::new(
                "expires_at",
                "Give either expires_in or expires_at, not both.",
            )]))
        }
        (None, None) => return Ok(now + state.config.keys.default_ttl.as_secs() as i64),
        (Some(secs), None) => ("expires_in", now.saturating_add(secs)),
        (None, Some(text)) => {
            let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    Error::validation(vec![FieldError::new(
                        "expires_at",
                        "Use an RFC 3339 date-time such as 2027-01-31T00:00:00Z.",
                    )])
                })?
                .unix_timestamp();
            if at <= now {
                return Err(Error::field(ErrorCode::ExpiryInPast, "expires_at", format!("{text} is in the past.")));
            }
            ("expires_at", at)
        }
    };
    if at - now < MIN_TTL_SECS {
        return Err(Error::field(
            ErrorCode::ExpiryTooShort,
            field,
            format!("A key must live at least {MIN_TTL_SECS} seconds."),
        ));
    }
    if at - now > max {
        return Err(Error::field(
            ErrorCode::ExpiryTooLong,
            field,
            format!("Keys on this instance live at most {} days ({max} seconds).", days(max)),
        ));
    }
    Ok(at)
}

/// The keys of `user_id` that are not revoked, newest first.
pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<ApiKey>> {
    let sql = concat!(
        "SELECT ",
        key_columns!(),
        " FROM api_keys k WHERE k.user_id = $1 AND k.revoked_at IS NULL ORDER BY k.created_at DESC, k.id"
    );
    let rows = sqlx::query_as::<_, KeyRow>(sql).bind(user_id).fetch_all(&state.db.pool).await?;
    let now = now();
    Ok(rows.iter().map(|r| r.view(state, now)).collect())
}

/// Every key of `user_id`, revoked ones included, oldest first (for the account export).
pub async fn list_all(state: &AppState, user_id: i64) -> Result<Vec<ApiKey>> {
    let sql = concat!("SELECT ", key_columns!(), " FROM api_keys k WHERE k.user_id = $1 ORDER BY k.created_at, k.id");
    let rows = sqlx::query_as::<_, KeyRow>(sql).bind(user_id).fetch_all(&state.db.pool).await?;
    let now = now();
    Ok(rows.iter().map(|r| r.view(state, now)).collect())
}

/// What the new-key form offers `principal`.
pub fn key_options(state: &AppState, principal: &Principal) -> NewKeyChoices {
    NewKeyChoices {
        grantable: levels::grantable_levels(principal.level).collect(),
        default_days: state.config.keys.default_ttl.as_secs() as i64 / 86_400,
        max_days: state.config.keys.max_ttl.as_secs() as i64 / 86_400,
    }
}

/// Staff at this level may read anyone's keys.
const READ_OTHERS_LEVEL: u8 = 6;

/// One key by id: the caller's own, or anyone's for staff who may read all data (level 6).
/// Anything else is "not found", so ids of other people's keys are not confirmed. The owner
/// check is part of the query, so it cannot be forgotten.
pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<ApiKey> {
    let sql = concat!("SELECT ", key_columns!(), " FROM api_keys k WHERE k.id = $1 AND (k.user_id = $2 OR $3 >= $4)");
    sqlx::query_as::<_, KeyRow>(sql)
        .bind(id)
        .bind_scope(principal, READ_OTHERS_LEVEL)
        .fetch_optional(&state.db.pool)
        .await?
        .map(|row| row.view(state, now()))
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("No API key with id '{}' in your account.", id.chars().take(40).collect::<String>()))
}

/// Revokes a key: one's own (revoking twice is harmless), or — at level 8 — anyone's, with a
/// reason that goes into the owner's audit log. Takes effect on the very next request.
pub async fn revoke(state: &AppState, principal: &Principal, id: &str, reason: Option<&str>) -> Result<()> {
    // Owner or level-8 staff, checked in the query: anyone else finds nothing.
    let row = sqlx::query("SELECT user_id, revoked_at FROM api_keys WHERE id = $1 AND (user_id = $2 OR $3 >= $4)")
        .bind(id)
        .bind_scope(principal, MAX_LEVEL)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(row) = row else {
        return Err(not_found(id));
    };
    let owner: i64 = row.try_get("user_id")?;
    let already: Option<i64> = row.try_get("revoked_at")?;
    let own = owner == principal.account.id;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !own {
        if reason.is_none() {
            return Err(Error::validation(vec![FieldError::new(
                "reason",
                "Say why you are revoking someone else's key; it goes into their audit log.",
            )]));
        }
    }
    if already.is_some() {
        return Ok(());
    }
    let now = now();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "UPDATE api_keys SET revoked_at = $1, revoked_by = $2, revoke_reason = $3 WHERE id = $4 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(principal.account.id)
    .bind(reason)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let actor = (!own).then_some(principal.account.id);
    let detail = match (own, reason) {
        (true, _) => "revoked by the owner".to_owned(),
        (false, Some(r)) => format!("revoked by {} (staff): {r}", principal.account.username),
        (false, None) => unreachable!("checked above"),
    };
    audit(&mut tx, owner, "key_revoked", Some(id), actor, &detail, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes a key on the operator's say-so (the command line): no account acts, so the audit
/// log names the operator.
pub async fn revoke_by_operator(state: &AppState, id: &str) -> Result<()> {
    let row = sqlx::query("SELECT user_id, revoked_at FROM api_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No API key with id '{id}'.")))?;
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Ok(());
    }
    let owner: i64 = row.try_get("user_id")?;
    let now = now();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE api_keys SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind("revoked by the operator")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, owner, "key_revoked", Some(id), None, "revoked by the operator (command line)", now).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a key's id and secret and returns who is calling, at what level.
///
/// Order matters: an unknown id and a wrong secret get the same answer; only the holder of
/// the right secret learns that the key is revoked or expired (and those refusals are
/// written to the owner's audit log, at most once an hour per key).
pub async fn authenticate(state: &AppState, id: &str, secret: &str) -> Result<Principal> {
    let sql = concat!(
        "SELECT ",
        account_columns!(),
        ", k.name AS key_name, k.level AS key_level, k.secret_hash, k.expires_at AS key_expires_at, \
         k.revoked_at AS key_revoked_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1"
    );
    let row = sqlx::query(sql).bind(id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else {
        return Err(invalid_credentials());
    };
    let hash: String = row.try_get("secret_hash")?;
    if !token::verify_secret(state.secrets.key_pepper.as_bytes(), secret, &hash) {
        return Err(invalid_credentials());
    }
    let account = Account::from_row(&row)?;
    let now = now();
    let expires_at: i64 = row.try_get("key_expires_at")?;
    if row.try_get::<Option<i64>, _>("key_revoked_at")?.is_some() {
        audit_refused_use(state, account.id, id, "revoked", now).await?;
        return Err(Error::new(ErrorCode::KeyRevoked, "This API key has been revoked. Create a new one in your account settings."));
    }
    if expires_at <= now {
        audit_refused_use(state, account.id, id, "expired", now).await?;
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
    state.usage.record(id, now);
    let key_level = row.try_get::<i64, _>("key_level")?.clamp(0, MAX_LEVEL as i64) as u8;
    Ok(Principal {
        level: effective_level(key_level, account.role.level()),
        key: Some(KeyAuth { id: id.to_owned(), name: row.try_get("key_name")?, level: key_level, expires_at }),
        account,
    })
}

pub fn invalid_credentials() -> Error {
    Error::new(ErrorCode::InvalidCredentials, "The API key is not valid. Check that it was copied whole.")
}

async fn audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    kind: &str,
    key_id: Option<&str>,
    actor: Option<i64>,
    detail: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (user_id, kind, key_id, actor_user_id, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user_id)
    .bind(kind)
    .bind(key_id)
    .bind(actor)
    .bind(detail)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Logs a refused use of a revoked or expired key, at most once an hour per key, so that a
/// script hammering with a dead key cannot flood the log (or the database).
async fn audit_refused_use(state: &AppState, user_id: i64, key_id: &str, why: &str, at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (user_id, kind, key_id, detail, created_at) \
         SELECT $1, 'key_use_refused', $2, $3, $4 WHERE NOT EXISTS \
         (SELECT 1 FROM audit_events WHERE key_id = $2 AND kind = 'key_use_refused' AND created_at > $5)",
    )
    .bind(user_id)
    .bind(key_id)
    .bind(format!("a request with this {why} key was refused"))
    .bind(at)
    .bind(at - 3600)
    .execute(&state.db.pool)
    .await?;
    Ok(())
}

/// The audit log of `user_id`, newest first (at most `limit` events).
pub async fn audit_log(state: &AppState, user_id: i64, limit: i64) -> Result<Vec<(String, Option<String>, String, i64)>> {
    let rows = sqlx::query(
        "SELECT kind, key_id, COALESCE(detail, '') AS detail, created_at FROM audit_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("key_id")?, r.try_get("detail")?, r.try_get("created_at")?)))
        .collect()
}
