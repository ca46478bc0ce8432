//! API key rules and their SQL (server only). The REST handlers, the browser's server
//! functions and the operator's command line all create, list, authenticate and revoke keys
//! through these functions; the level rules themselves are the pure functions of
//! [`crate::levels`].

use super::{ApiKey, CreatedKey, DayUsage, KeyLimits, KeyUsage, KeyWithUsage, NewKeyChoices, USAGE_DAYS_DEFAULT, USAGE_DAYS_MAX};
use crate::audit::{self, AuditKind};
use crate::auth::keys::stored_level;
use crate::auth::scope::{write_refusal, BindScope};
use crate::auth::limits::KeyPolicy;
use crate::auth::usage::{day_of, day_string, parse_day, Day, DayCount};
use crate::auth::{token, Principal};
use crate::error::{ErrorCode, FieldError};
use crate::levels::{self, check_create, CreateRefusal, Level, Permission, MANAGE_KEYS, MAX_LEVEL};
use crate::server::db::{now, rfc3339};
use crate::server::{Error, Result};
use crate::state::AppState;
use crate::text::{name_problem, reason_problem};
use serde::Deserialize;
use sqlx::{FromRow, Row};
use std::collections::{BTreeMap, HashMap};

/// The shortest lifetime a key may have.
pub const MIN_TTL_SECS: i64 = 60;

/// Reading anyone's keys: staff who read all data of other users.
const READ_OTHERS: Permission = Permission::ReadAllData;
/// Revoking anyone's key: admins, who write all data of other users.
const REVOKE_OTHERS: Permission = Permission::WriteAllData;

/// A request to create a key (`POST /api/v1/apikeys`). Give `expires_in` or `expires_at`,
/// not both; with neither, the key lives the instance's default (90 days unless its operator
/// changed it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A name to recognise the key by (1–100 characters; surrounding spaces are trimmed).
    #[schema(schema_with = crate::text::doc::name)]
    pub name: String,
    /// Access level 0–8 (see the ladder in the API description). Default 1. At most your own
    /// level; a key creating a key may not exceed its own.
    #[serde(default, deserialize_with = "crate::numbers::optional_whole")]
    #[schema(schema_with = crate::levels::doc::level)]
    pub level: Option<i64>,
    /// Lifetime in seconds (at least 60, at most the instance's maximum: 365 days unless the
    /// operator changed it). Give this or `expires_at`, not both; with neither, the
    /// instance's default (90 days unless the operator changed it).
    #[serde(default, deserialize_with = "crate::numbers::optional_whole")]
    #[schema(schema_with = doc::lifetime)]
    pub expires_in: Option<i64>,
    /// Expiry as an RFC 3339 date-time, e.g. `2027-01-31T00:00:00Z`.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

impl NewKey {

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
    rate_limit: Option<i64>,
    daily_quota: Option<i64>,
}

/// The columns of [`KeyRow`] (a macro, so that queries stay `&'static str` literals).
macro_rules! key_columns {
    () => {
        "k.id, k.name, k.level, k.created_at, k.expires_at, k.last_used_at, k.calls, k.revoked_at, \
         k.rate_limit, k.daily_quota"
    };
}

/// Calls and refusals per key and UTC day.
pub type UsageByKey = HashMap<String, BTreeMap<Day, DayCount>>;

/// Whose usage [`usage_since`] reads.
pub enum Whose<'a> {
    Owner(i64),
    Key(&'a str),
    /// Every key of the instance (the operator's console).
    All,
}

/// The usage of `keys` (all of `whose`; for [`Whose::All`], every key with use) per day from
/// `first` to today: the counts written to the database plus those still in memory, so exact
/// at the moment of the answer.
pub async fn usage_since(state: &AppState, whose: Whose<'_>, keys: &[&str], first: Day) -> Result<UsageByKey> {
    let all = matches!(whose, Whose::All);
    let rows = match whose {
        Whose::Owner(user_id) => {
            sqlx::query(
                "SELECT u.key_id, u.day, u.calls, u.refused FROM api_key_usage u JOIN api_keys k ON k.id = u.key_id \
                 WHERE k.user_id = $1 AND u.day >= $2",
            )
            .bind(user_id)
            .bind(day_string(first))
            .fetch_all(&state.db)
            .await?
        }
        Whose::Key(id) => {
            sqlx::query("SELECT key_id, day, calls, refused FROM api_key_usage WHERE key_id = $1 AND day >= $2")
                .bind(id)
                .bind(day_string(first))
                .fetch_all(&state.db)
                .await?
        }
        Whose::All => {
            sqlx::query("SELECT key_id, day, calls, refused FROM api_key_usage WHERE day >= $1")
                .bind(day_string(first))
                .fetch_all(&state.db)
                .await?
        }
    };
    let mut usage = UsageByKey::new();
    for row in rows {
        let day: String = row.try_get("day")?;
        let Some(day) = parse_day(&day) else { continue };
        let (calls, refused): (i64, i64) = (row.try_get("calls")?, row.try_get("refused")?);
        let entry = usage.entry(row.try_get("key_id")?).or_default().entry(day).or_default();
        entry.calls += calls.max(0) as u64;
        entry.refused += refused.max(0) as u64;
    }
    let pending = match all {
        true => state.usage.pending_all(),
        false => keys.iter().map(|key| ((*key).to_owned(), state.usage.pending_days(key))).collect(),
    };
    for (key, days) in pending {
        for (day, count) in days.into_iter().filter(|(day, _)| *day >= first) {
            let entry = usage.entry(key.clone()).or_default().entry(day).or_default();
            entry.calls += count.calls;
            entry.refused += count.refused;
        }
    }
    Ok(usage)
}

/// Every day from `first` to `last`, oldest first, with its counts (zeros where none).
pub fn series(days: Option<&BTreeMap<Day, DayCount>>, first: Day, last: Day) -> Vec<DayUsage> {
    (first..=last)
        .map(|day| {
            let count = days.and_then(|d| d.get(&day)).copied().unwrap_or_default();
            DayUsage { day: day_string(day), calls: count.calls, refused: count.refused }
        })
        .collect()
}

/// `rows` as listed, each with its usage today.
async fn views(state: &AppState, whose: Whose<'_>, rows: &[KeyRow]) -> Result<Vec<ApiKey>> {
    let now = now();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let usage = usage_since(state, whose, &ids, day_of(now)).await?;
    Ok(rows.iter().map(|r| r.view(state, now, usage.get(&r.id))).collect())
}

impl KeyRow {
    /// The listed form, with usage not yet written to the database added in; `usage` is the
    /// key's usage per day (today's at least), as [`usage_since`] reads it.
    fn view(&self, state: &AppState, now: i64, usage: Option<&BTreeMap<Day, DayCount>>) -> ApiKey {
        let (pending_calls, pending_last) = state.usage.pending(&self.id);
        let last_used = match (self.last_used_at, pending_last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let level = stored_level(self.level);
        let today = usage.and_then(|days| days.get(&day_of(now))).copied().unwrap_or_default();
        let policy = KeyPolicy::of(&state.config.keys, self.rate_limit, self.daily_quota);
        ApiKey {
            id: self.id.clone(),
            name: self.name.clone(),
            level: level.get(),
            level_label: level.label().to_owned(),
            prefix: token::visible_prefix(&self.id),
            created_at: rfc3339(self.created_at),
            expires_at: rfc3339(self.expires_at),
            expired: self.expires_at <= now,
            last_used_at: last_used.map(rfc3339),
            calls: self.calls.max(0) as u64 + pending_calls,
            calls_today: today.calls,
            refused_today: today.refused,
            limits: KeyLimits {
                rate_limit: policy.per_minute,
                daily_quota: policy.per_day,
                custom: self.rate_limit.is_some() || self.daily_quota.is_some(),
            },
            revoked_at: self.revoked_at.map(rfc3339),
        }
    }
}

/// Creates a key for `principal`'s account (level 4).
pub async fn create(state: &AppState, principal: &Principal, request: NewKey) -> Result<CreatedKey> {
    principal.require(MANAGE_KEYS)?;
    let now = now();
    let name = request.name.trim().to_owned();
    let problem = match name.is_empty() {
        true => Some("Give the key a name, e.g. the script that will use it.".to_owned()),
        false => name_problem(&name),
    };
    if let Some(problem) = problem {
        return Err(Error::validation(vec![FieldError::new("name", problem)]));
    }
    let level = match request.level {
        None => levels::DEFAULT_KEY_LEVEL,
        Some(l) => Level::from_i64(l).ok_or_else(|| {
            Error::field(ErrorCode::UnknownLevel, "level", format!("There is no access level {l}. Levels run from 0 to {MAX_LEVEL}."))
        })?,
    };
    let expires_at = resolve_expiry(state, now, request.expires_in, request.expires_at.as_deref())?;
    check_create(principal.creator(), level.get(), expires_at).map_err(|refusal| refusal_error(refusal, level))?;

    let active: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(principal.account.id)
    .bind(now)
    .fetch_one(&state.db)
    .await?
    .try_get("n")?;
    let cap = state.config.keys.max_per_user;
    if active >= cap as i64 {
        return Err(Error::new(
            ErrorCode::KeyLimitReached,
            format!("This account already has {active} active API keys, the most this instance allows ({cap}). Revoke keys you no longer use."),
        ));
    }

    let created_by_key = principal.key.as_ref().map(|k| k.id.clone());
    let detail = match &created_by_key {
        Some(by) => format!("level {level}, expires {}, created with key {by}", rfc3339(expires_at)),
        None => format!("level {level}, expires {}", rfc3339(expires_at)),
    };
    state.db.transaction(async |tx| insert(state, tx, principal, &name, level, expires_at, now, AuditKind::KeyCreated, &detail).await).await
}

/// Stores a new key of `principal`'s account and its audit entry, inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn insert(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    principal: &Principal,
    name: &str,
    level: Level,
    expires_at: i64,
    now: i64,
    kind: AuditKind,
    detail: &str,
) -> Result<CreatedKey> {
    let new = token::generate();
    let created_by_key = principal.key.as_ref().map(|k| k.id.clone());
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, level, secret_hash, created_at, expires_at, created_by_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&new.id)
    .bind(principal.account.id)
    .bind(name)
    .bind(level.get() as i64)
    .bind(state.secrets.key_hasher.hash(&new.secret))
    .bind(now)
    .bind(expires_at)
    .bind(&created_by_key)
    .execute(&mut **tx)
    .await?;
    let entry = audit::Entry { user_id: principal.account.id, kind, key_id: Some(&new.id), actor: None, detail, at: now };
    audit::record(&mut **tx, entry).await?;
    let row = KeyRow {
        id: new.id.clone(),
        name: name.to_owned(),
        level: level.get() as i64,
        created_at: now,
        expires_at,
        last_used_at: None,
        calls: 0,
        revoked_at: None,
        rate_limit: None,
        daily_quota: None,
    };
    Ok(CreatedKey { key: row.view(state, now, None), token: new.token, secret: new.secret })
}

/// The longest grace period of a rotation: the old key lives on at most a week.
pub const GRACE_MAX_SECS: i64 = 7 * 86_400;

/// This module's request rules as the API document states them.
pub mod doc {
    use crate::schema::{described, integer};
    use serde_json::json;
    use utoipa::openapi::schema::Object;

    /// A key's lifetime in seconds: at least [`super::MIN_TTL_SECS`]. Its maximum is the
    /// instance's setting, so the document gives only the lower bound.
    pub fn lifetime() -> Object {
        described(integer(super::MIN_TTL_SECS, i64::MAX), lifetime_text(None), Some(json!(2_592_000)))
    }

    /// States an instance's longest key lifetime (`max` seconds) on a [`lifetime`] schema.
    pub fn bound_lifetime(schema: &mut Object, max: i64) {
        schema.maximum = Some(max.into());
        schema.description = Some(lifetime_text(Some(max)));
    }

    fn lifetime_text(max: Option<i64>) -> String {
        let min = super::MIN_TTL_SECS;
        match max {
            None => format!("Lifetime in seconds: at least {min}, at most the instance's maximum (365 days unless its operator changed it)."),
            Some(max) => format!("Lifetime in seconds: at least {min}, at most {max} ({} days, this instance's maximum).", max / 86_400),
        }
    }

    /// See [`super::GRACE_MAX_SECS`].
    pub fn grace_period() -> Object {
        let max = super::GRACE_MAX_SECS;
        let text = format!("Seconds the old key keeps working: 0 (refused from its very next request) to {max} ({} days). It never outlives its own expiry.", max / 86_400);
        described(integer(0, max), text, Some(json!(3600)))
    }

    /// A period of usage, in UTC days: see [`super::USAGE_DAYS_MAX`].
    pub fn days() -> Object {
        integer(1, super::USAGE_DAYS_MAX)
    }
}

/// A rotation (`POST /api/v1/apikeys/{id}/rotate`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Seconds the old key keeps working, 0 (refused from its very next request) to 604800
    /// (7 days). It never outlives its own expiry.
    #[serde(deserialize_with = "crate::numbers::whole")]
    #[schema(schema_with = doc::grace_period)]
    pub grace_period: i64,
    /// The new key's lifetime in seconds (at least 60). Default: the lifetime the old key was
    /// created with, capped by the instance's maximum.
    #[serde(default, deserialize_with = "crate::numbers::optional_whole")]
    #[schema(schema_with = doc::lifetime)]
    pub expires_in: Option<i64>,
}

impl Rotation {
    /// A rotation from the keys page: the grace period as the form sends it (seconds, text).
    pub fn from_form(grace_period: &str) -> Result<Rotation> {
        let grace_period = grace_period.trim().parse::<i64>().map_err(|_| {
            Error::validation(vec![FieldError::new("grace_period", "Choose a grace period from the list.")])
        })?;
        Ok(Rotation { grace_period, expires_in: None })
    }
}

/// Regenerates one of the caller's own keys (level 4): a new token with the same name and
/// level, living as long as the old key was created to (or `expires_in`); the old key then
/// expires at the earlier of its own expiry and now + the grace period. The same rules as
/// creation apply, so no key can rotate itself into a stronger or longer-lived one.
pub async fn rotate(state: &AppState, principal: &Principal, id: &str, rotation: Rotation) -> Result<CreatedKey> {
    principal.require(MANAGE_KEYS)?;
    if !(0..=GRACE_MAX_SECS).contains(&rotation.grace_period) {
        return Err(Error::validation(vec![FieldError::new(
            "grace_period",
            format!("Give a grace period from 0 to {GRACE_MAX_SECS} seconds (7 days)."),
        )]));
    }
    // One's own keys only, at any level: staff revoke other people's keys, they never mint
    // them. Staff who can see the key are told so (403); anyone else finds nothing.
    let sql = concat!("SELECT ", key_columns!(), " FROM api_keys k WHERE k.id = $1 AND k.user_id = $2");
    let old = match token::is_key_id(id) {
        true => sqlx::query_as::<_, KeyRow>(sql).bind(id).bind(principal.account.id).fetch_optional(&state.db).await?,
        false => None,
    };
    let Some(old) = old else {
        if find(state, principal, id, READ_OTHERS).await?.is_some() {
            return Err(Error::new(ErrorCode::LevelTooLow, "Only a key's owner can regenerate it; staff may revoke it."));
        }
        return Err(not_found(id));
    };
    let now = now();
    if old.revoked_at.is_some() || old.expires_at <= now {
        return Err(Error::field(
            ErrorCode::Conflict,
            "id",
            "This key is revoked or expired: create a new key instead of rotating it.",
        ));
    }
    let lifetime = (old.expires_at - old.created_at).clamp(MIN_TTL_SECS, state.config.keys.max_ttl.as_secs() as i64);
    let expires_at = resolve_expiry(state, now, Some(rotation.expires_in.unwrap_or(lifetime)), None)?;
    let level = stored_level(old.level);
    check_create(principal.creator(), level.get(), expires_at).map_err(|refusal| refusal_error(refusal, level))?;
    let old_until = old.expires_at.min(now + rotation.grace_period);
    let created = state.db.transaction(async |tx| {
        sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2").bind(old_until).bind(id).execute(&mut **tx).await?;
        let detail = format!("rotated from key {id}, which now expires {}; expires {}", rfc3339(old_until), rfc3339(expires_at));
        insert(state, tx, principal, &old.name, level, expires_at, now, AuditKind::KeyRotated, &detail).await
    })
    .await?;
    state.keys_changed().await;
    Ok(created)
}

fn refusal_error(refusal: CreateRefusal, level: Level) -> Error {
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

/// The caller's keys that are not revoked, newest first (level 2).
pub async fn list(state: &AppState, principal: &Principal) -> Result<Vec<ApiKey>> {
    principal.require(Permission::ReadOwnAccount)?;
    list_of(state, principal.account.id).await
}

/// The keys of `user_id` that are not revoked, newest first (for the operator's command
/// line, which acts for the instance, not as a person).
pub async fn list_of(state: &AppState, user_id: i64) -> Result<Vec<ApiKey>> {
    let sql = concat!(
        "SELECT ",
        key_columns!(),
        " FROM api_keys k WHERE k.user_id = $1 AND k.revoked_at IS NULL ORDER BY k.created_at DESC, k.id"
    );
    let rows = sqlx::query_as::<_, KeyRow>(sql).bind(user_id).fetch_all(&state.db).await?;
    views(state, Whose::Owner(user_id), &rows).await
}

/// The caller's keys that are not revoked, newest first, each with its usage over the last
/// `days` UTC days, today included (level 2): the keys page.
pub async fn list_with_usage(state: &AppState, principal: &Principal, days: i64) -> Result<Vec<KeyWithUsage>> {
    principal.require(Permission::ReadOwnAccount)?;
    let keys = list(state, principal).await?;
    let today = day_of(now());
    let first = today - (days.clamp(1, USAGE_DAYS_MAX) - 1);
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    let usage = usage_since(state, Whose::Owner(principal.account.id), &ids, first).await?;
    Ok(keys
        .into_iter()
        .map(|key| {
            let days = series(usage.get(&key.id), first, today);
            KeyWithUsage { key, days }
        })
        .collect())
}

/// Every key of `user_id`, revoked ones included, oldest first (for the account export).
pub async fn list_all(state: &AppState, user_id: i64) -> Result<Vec<ApiKey>> {
    let sql = concat!("SELECT ", key_columns!(), " FROM api_keys k WHERE k.user_id = $1 ORDER BY k.created_at, k.id");
    let rows = sqlx::query_as::<_, KeyRow>(sql).bind(user_id).fetch_all(&state.db).await?;
    views(state, Whose::Owner(user_id), &rows).await
}

/// What the new-key form offers `principal`.
pub fn key_options(state: &AppState, principal: &Principal) -> NewKeyChoices {
    NewKeyChoices {
        grantable: levels::grantable_levels(principal.level).collect(),
        default_days: state.config.keys.default_ttl.as_secs() as i64 / 86_400,
        max_days: state.config.keys.max_ttl.as_secs() as i64 / 86_400,
    }
}

/// One key by id (level 2): the caller's own, or anyone's for staff who may read all data
/// (level 6). Anything else is "not found", so ids of other people's keys are not confirmed.
/// The owner check is part of the query, so it cannot be forgotten.
pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<ApiKey> {
    principal.require(Permission::ReadOwnAccount)?;
    let row = find(state, principal, id, READ_OTHERS).await?.ok_or_else(|| not_found(id))?;
    Ok(views(state, Whose::Key(id), std::slice::from_ref(&row)).await?.remove(0))
}

/// The key `id` if the caller owns it or acts at `staff`'s level.
async fn find(state: &AppState, principal: &Principal, id: &str, staff: Permission) -> Result<Option<KeyRow>> {
    if !token::is_key_id(id) {
        // Not a key id at all (and never sent to the database as one).
        return Ok(None);
    }
    let sql = concat!("SELECT ", key_columns!(), " FROM api_keys k WHERE k.id = $1 AND (k.user_id = $2 OR $3 >= $4)");
    Ok(sqlx::query_as::<_, KeyRow>(sql).bind(id).bind_scope(principal, staff).fetch_optional(&state.db).await?)
}

/// The usage of one key the caller may read (level 2; anyone's for staff at level 6) over
/// the last `days` UTC days, today included — exact at the moment of the answer: the counts
/// not yet written to the database are added in.
pub async fn usage(state: &AppState, principal: &Principal, id: &str, days: Option<i64>) -> Result<KeyUsage> {
    principal.require(Permission::ReadOwnAccount)?;
    let days = days.unwrap_or(USAGE_DAYS_DEFAULT);
    if !(1..=USAGE_DAYS_MAX).contains(&days) {
        return Err(Error::validation(vec![FieldError::new(
            "days",
            format!("Ask for 1 to {USAGE_DAYS_MAX} days (default {USAGE_DAYS_DEFAULT})."),
        )]));
    }
    if find(state, principal, id, READ_OTHERS).await?.is_none() {
        return Err(not_found(id));
    }
    let today = day_of(now());
    let first = today - (days - 1);
    let usage = usage_since(state, Whose::Key(id), &[id], first).await?;
    let days = series(usage.get(id), first, today);
    Ok(KeyUsage { days })
}

fn not_found(id: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("No API key with id '{}' in your account.", id.chars().take(40).collect::<String>()))
}

/// Revokes a key (level 4): one's own (revoking twice is harmless), or — at level 8 —
/// anyone's, with a reason that goes into the owner's audit log. Takes effect on the very
/// next request. Staff who can read the key but not revoke it are told so (403).
pub async fn revoke(state: &AppState, principal: &Principal, id: &str, reason: Option<&str>) -> Result<()> {
    principal.require(MANAGE_KEYS)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(problem) = reason.and_then(reason_problem) {
        return Err(Error::validation(vec![FieldError::new("reason", problem)]));
    }
    // Owner or level-8 staff, checked in the query: anyone else finds nothing.
    let row = if token::is_key_id(id) {
        sqlx::query(
            "SELECT k.user_id, k.revoked_at, k.name, u.username FROM api_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.id = $1 AND (k.user_id = $2 OR $3 >= $4)",
        )
        .bind(id)
        .bind_scope(principal, REVOKE_OTHERS)
        .fetch_optional(&state.db)
        .await?
    } else {
        None
    };
    let Some(row) = row else {
        let readable = find(state, principal, id, READ_OTHERS).await?.is_some();
        return Err(write_refusal(principal, readable, REVOKE_OTHERS, not_found(id)));
    };
    let owner: i64 = row.try_get("user_id")?;
    let already: Option<i64> = row.try_get("revoked_at")?;
    let own = owner == principal.account.id;
    if !own && reason.is_none() {
        return Err(Error::validation(vec![FieldError::new(
            "reason",
            "Say why you are revoking someone else's key; it goes into their audit log.",
        )]));
    }
    if already.is_some() {
        return Ok(());
    }
    let now = now();
    state.db.transaction(async |tx| {
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $1, revoked_by = $2, revoke_reason = $3 WHERE id = $4 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(principal.account.id)
        .bind(reason)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        if own {
            let entry =
                audit::Entry { user_id: owner, kind: AuditKind::KeyRevoked, key_id: Some(id), actor: None, detail: "revoked by the owner", at: now };
            audit::record(&mut **tx, entry).await?;
        } else {
            let (name, username): (String, String) = (row.try_get("name")?, row.try_get("username")?);
            let detail = format!("key “{name}” revoked");
            let action = audit::StaffAction {
                actor_id: Some(principal.account.id),
                actor: &principal.account.username,
                kind: AuditKind::KeyRevoked,
                user_id: owner,
                username: &username,
                key_id: Some(id),
                reason,
                detail: &detail,
                at: now,
            };
            audit::record_staff_action(tx, action).await?;
        }
        Ok(())
    })
    .await?;
    state.keys_changed().await;
    Ok(())
}

/// Revokes a key on the operator's say-so (the command line): no account acts, so the audit
/// log and the operator log name the operator.
pub async fn revoke_by_operator(state: &AppState, id: &str, reason: Option<&str>) -> Result<()> {
    let row = sqlx::query(
        "SELECT k.user_id, k.revoked_at, k.name, u.username FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No API key with id '{id}'.")))?;
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Ok(());
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(problem) = reason.and_then(reason_problem) {
        return Err(Error::validation(vec![FieldError::new("reason", problem)]));
    }
    let owner: i64 = row.try_get("user_id")?;
    let (name, username): (String, String) = (row.try_get("name")?, row.try_get("username")?);
    let now = now();
    state.db.transaction(async |tx| {
        sqlx::query("UPDATE api_keys SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(reason.unwrap_or("revoked by the operator"))
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let detail = format!("key “{name}” revoked (command line)");
        let action = audit::StaffAction {
            actor_id: None,
            actor: "operator",
            kind: AuditKind::KeyRevoked,
            user_id: owner,
            username: &username,
            key_id: Some(id),
            reason,
            detail: &detail,
            at: now,
        };
        audit::record_staff_action(tx, action).await?;
        Ok(())
    })
    .await?;
    state.keys_changed().await;
    Ok(())
}
