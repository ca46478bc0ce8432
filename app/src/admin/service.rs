//! The operator's rules and their SQL (server only): reading usage across keys, and the
//! actions staff take on other people's accounts and keys. The REST handlers, the console's
//! server functions and the command line call these; every action is written to the owner's
//! audit log and to the operator log in the same transaction as the change.

use super::{
    AdminKey, AdminKeyDetail, AdminKeyPage, AdminUser, AdminUserDetail, AdminUserPage, InstanceUsage, Overview, JUMP_FACTOR,
    JUMP_MIN_CALLS,
};
use crate::apikeys::service::{series, usage_since, Whose};
use crate::apikeys::{DayUsage, KeyLimits, USAGE_DAYS_DEFAULT, USAGE_DAYS_MAX};
use crate::audit::{self, AuditKind, OperatorLogPage, StaffAction};
use crate::auth::keys::stored_level;
use crate::auth::limits::KeyPolicy;
use crate::auth::usage::{day_of, day_string, parse_day, Day, DayCount};
use crate::auth::{token, Principal};
use crate::error::{ErrorCode, FieldError};
use crate::levels::{Permission, Role};
use crate::server::config::{MAX_QUOTA, MAX_RATE};
use crate::server::db::{now, rfc3339};
use crate::server::error::ensure_valid;
use crate::server::paging::{contains_pattern, window, ListQuery, PageQuery, SEARCH_MAX};
use crate::server::{Error, Result};
use crate::state::AppState;
use crate::text::{control_problem, reason_problem};
use serde::Deserialize;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// Reading anything in the console.
const READ: Permission = Permission::ReadAllData;
/// Changing roles and revoking any key.
const CHANGE_ROLES: Permission = Permission::WriteAllData;
/// The longest reason accepted.
/// How many keys each "to look at" list of the overview shows.
const OVERVIEW_KEYS: i64 = 10;

/// Who acts on someone else's account: staff (by session or key), or the operator on the
/// command line, who answers to nobody in the instance.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    Staff(&'a Principal),
    Operator,
}

impl Actor<'_> {
    fn require(&self, permission: Permission) -> Result<()> {
        match self {
            Actor::Staff(p) => p.require(permission),
            Actor::Operator => Ok(()),
        }
    }

    fn id(&self) -> Option<i64> {
        match self {
            Actor::Staff(p) => Some(p.account.id),
            Actor::Operator => None,
        }
    }

    fn name(&self) -> &str {
        match self {
            Actor::Staff(p) => &p.account.username,
            Actor::Operator => "operator",
        }
    }

    /// The level the actor acts at (the operator: the top of the ladder).
    fn level(&self) -> u8 {
        match self {
            Actor::Staff(p) => p.level.get(),
            Actor::Operator => crate::levels::MAX_LEVEL,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Keys across the instance

/// This module's request rules as the API document states them.
mod doc {
    use crate::schema::{described, integer, one_of, or_null};
    use serde_json::json;
    use utoipa::openapi::schema::Object;

    /// See `set_key_limits`.
    pub fn rate_limit() -> Object {
        let max = super::MAX_RATE;
        let text = format!("Requests per minute (0–{max}), or `null` for the instance's default. Left out: unchanged.");
        described(or_null(integer(0, i64::from(max))), text, Some(json!(10)))
    }

    /// See `set_key_limits`.
    pub fn daily_quota() -> Object {
        let max = super::MAX_QUOTA;
        let text = format!("Requests per UTC day (0–{max}), or `null` for the instance's default. Left out: unchanged.");
        described(or_null(integer(0, i64::from(max))), text, Some(json!(500)))
    }

    /// See [`super::LIST_SORTS`].
    pub fn sort() -> Object {
        one_of(super::LIST_SORTS.iter().map(|(name, _)| *name))
    }
}

/// `GET /api/v1/admin/keys`: which keys, over how many days, in which order.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KeyQuery {
    /// `calls` (default: busiest first), `refused` (most refused first) or `jump` (today's
    /// calls against the key's own 7-day average, largest jump first).
    #[param(schema_with = doc::sort)]
    pub sort: Option<String>,
    /// The period: the last N UTC days, today included (1–365, default 30).
    #[param(schema_with = crate::apikeys::service::doc::days)]
    pub days: Option<i64>,
    /// Only keys whose name, id or owner's username contains this text.
    #[param(schema_with = crate::server::paging::doc::search)]
    pub q: Option<String>,
    /// How many per page, 1–200 (default 50).
    #[param(schema_with = crate::server::paging::doc::limit)]
    pub limit: Option<i64>,
    /// How many to skip (default 0).
    #[param(schema_with = crate::server::paging::doc::offset)]
    pub offset: Option<i64>,
}

/// The orders of the key list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Calls,
    Refused,
    Jump,
    /// Refused today (the overview's "refused by their limits today").
    RefusedToday,
    /// Calls today (the overview's "busiest today").
    CallsToday,
}

/// The orders `?sort=` may ask for, the default first.
const LIST_SORTS: [(&str, Sort); 3] = [("calls", Sort::Calls), ("refused", Sort::Refused), ("jump", Sort::Jump)];

/// A checked key query.
struct KeyFilter {
    sort: Sort,
    days: i64,
    pattern: String,
    limit: i64,
    offset: i64,
}

impl KeyQuery {
    fn checked(&self) -> Result<KeyFilter> {
        let mut errors = Vec::new();
        let wanted = self.sort.as_deref().unwrap_or(LIST_SORTS[0].0);
        let sort = match LIST_SORTS.iter().find(|(name, _)| *name == wanted) {
            Some((_, sort)) => *sort,
            None => {
                errors.push(FieldError::new("sort", format!("Sort by calls, refused or jump, not '{}'.", clip(wanted))));
                Sort::Calls
            }
        };
        let days = self.days.unwrap_or(USAGE_DAYS_DEFAULT);
        if !(1..=USAGE_DAYS_MAX).contains(&days) {
            errors.push(days_error());
        }
        let q = self.q.as_deref().unwrap_or("");
        if q.chars().count() > SEARCH_MAX {
            errors.push(FieldError::new("q", format!("Search with at most {SEARCH_MAX} characters.")));
        } else if let Some(problem) = control_problem(q, false) {
            errors.push(FieldError::new("q", problem));
        }
        let (limit, offset) = window(self.limit, self.offset, &mut errors);
        ensure_valid(errors)?;
        Ok(KeyFilter { sort, days, pattern: contains_pattern(q), limit, offset })
    }
}

fn days_error() -> FieldError {
    FieldError::new("days", format!("Ask for 1 to {USAGE_DAYS_MAX} days (default {USAGE_DAYS_DEFAULT})."))
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A key's counts over the period, today and the 7 days before today.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    calls: u64,
    refused: u64,
    calls_today: u64,
    refused_today: u64,
    week_before: u64,
}

/// Counts of every key with use since `first` (stored plus pending), and the instance's
/// calls over the period.
async fn counts(state: &AppState, days: i64) -> Result<(HashMap<String, Counts>, u64)> {
    let today = day_of(now());
    let period = today - (days - 1);
    let first = period.min(today - 7);
    let by_key = usage_since(state, Whose::All, &[], first).await?;
    let mut instance = 0;
    let counts = by_key
        .into_iter()
        .map(|(key, days)| {
            let mut c = Counts::default();
            for (day, count) in days {
                if day >= period {
                    c.calls += count.calls;
                    c.refused += count.refused;
                }
                if day == today {
                    c.calls_today = count.calls;
                    c.refused_today = count.refused;
                } else if day >= today - 7 {
                    c.week_before += count.calls;
                }
            }
            instance += c.calls;
            (key, c)
        })
        .collect();
    Ok((counts, instance))
}

#[derive(Debug, sqlx::FromRow)]
struct KeyRow {
    id: String,
    name: String,
    level: i64,
    user_id: i64,
    username: String,
    created_at: i64,
    expires_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    rate_limit: Option<i64>,
    daily_quota: Option<i64>,
}

macro_rules! admin_key_columns {
    () => {
        "k.id, k.name, k.level, k.user_id, u.username, k.created_at, k.expires_at, k.last_used_at, k.revoked_at, \
         k.rate_limit, k.daily_quota FROM api_keys k JOIN users u ON u.id = k.user_id"
    };
}

impl KeyRow {
    fn view(&self, state: &AppState, now: i64, c: Counts, instance: u64) -> AdminKey {
        let (_, pending_last) = state.usage.pending(&self.id);
        let last_used = match (self.last_used_at, pending_last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let policy = KeyPolicy::of(&state.config.keys, self.rate_limit, self.daily_quota);
        let average_7d = c.week_before as f64 / 7.0;
        let as_u32 = |v: i64| v.clamp(0, u32::MAX as i64) as u32;
        AdminKey {
            id: self.id.clone(),
            name: self.name.clone(),
            level: stored_level(self.level).get(),
            owner_id: self.user_id,
            owner: self.username.clone(),
            created_at: rfc3339(self.created_at),
            expires_at: rfc3339(self.expires_at),
            expired: self.expires_at <= now,
            revoked_at: self.revoked_at.map(rfc3339),
            last_used_at: last_used.map(rfc3339),
            calls: c.calls,
            refused: c.refused,
            calls_today: c.calls_today,
            refused_today: c.refused_today,
            average_7d,
            jump: is_jump(c.calls_today, average_7d),
            share: if instance == 0 { 0.0 } else { c.calls as f64 / instance as f64 },
            limits: KeyLimits {
                rate_limit: policy.per_minute,
                daily_quota: policy.per_day,
                custom: self.rate_limit.is_some() || self.daily_quota.is_some(),
            },
            rate_limit_override: self.rate_limit.map(as_u32),
            daily_quota_override: self.daily_quota.map(as_u32),
        }
    }
}

/// The jump rule: today's calls at least [`JUMP_MIN_CALLS`] and at least [`JUMP_FACTOR`]
/// times the 7-day average (an average under one call a day counts as one).
pub fn is_jump(calls_today: u64, average_7d: f64) -> bool {
    calls_today >= JUMP_MIN_CALLS && calls_today as f64 >= JUMP_FACTOR * average_7d.max(1.0)
}

/// How far today is above the key's own average: the order of `sort=jump`.
fn jump_ratio(k: &AdminKey) -> f64 {
    k.calls_today as f64 / k.average_7d.max(1.0)
}

/// Keys across every account, with their use over the period (level 6; the operator's
/// `admin top` too).
pub async fn keys(state: &AppState, actor: &Actor<'_>, query: KeyQuery) -> Result<AdminKeyPage> {
    actor.require(READ)?;
    let filter = query.checked()?;
    key_page(state, filter).await
}

async fn key_page(state: &AppState, filter: KeyFilter) -> Result<AdminKeyPage> {
    let (counts, instance) = counts(state, filter.days).await?;
    let now = now();
    // Revoked keys drop out of the list once their use has left the period.
    let sql = concat!(
        "SELECT ",
        admin_key_columns!(),
        " WHERE (LOWER(k.name) LIKE $1 ESCAPE '\\' OR LOWER(u.username) LIKE $1 ESCAPE '\\' OR LOWER(k.id) LIKE $1 ESCAPE '\\')"
    );
    let rows = sqlx::query_as::<_, KeyRow>(sql).bind(&filter.pattern).fetch_all(&state.db).await?;
    let mut keys: Vec<AdminKey> = rows
        .iter()
        .filter_map(|row| {
            let c = counts.get(&row.id).copied().unwrap_or_default();
            (row.revoked_at.is_none() || c.calls + c.refused > 0).then(|| row.view(state, now, c, instance))
        })
        .collect();
    let by = |a: &AdminKey, b: &AdminKey| -> std::cmp::Ordering {
        let primary = match filter.sort {
            Sort::Calls => b.calls.cmp(&a.calls),
            Sort::Refused => b.refused.cmp(&a.refused),
            Sort::Jump => jump_ratio(b).total_cmp(&jump_ratio(a)),
            Sort::RefusedToday => b.refused_today.cmp(&a.refused_today),
            Sort::CallsToday => b.calls_today.cmp(&a.calls_today),
        };
        primary.then(b.calls.cmp(&a.calls)).then(a.id.cmp(&b.id))
    };
    keys.sort_by(by);
    let total = keys.len() as i64;
    let keys = keys.into_iter().skip(filter.offset as usize).take(filter.limit as usize).collect();
    Ok(AdminKeyPage { keys, total, limit: filter.limit, offset: filter.offset, days: filter.days, instance_calls: instance })
}

/// One key with its usage per day over 30 days (level 6).
pub async fn key(state: &AppState, principal: &Principal, id: &str) -> Result<AdminKeyDetail> {
    principal.require(READ)?;
    let key = one_key(state, id).await?;
    let usage = daily(state, Some(id), USAGE_DAYS_DEFAULT).await?;
    Ok(AdminKeyDetail { key, usage })
}

async fn one_key(state: &AppState, id: &str) -> Result<AdminKey> {
    let row = match token::is_key_id(id) {
        true => {
            let sql = concat!("SELECT ", admin_key_columns!(), " WHERE k.id = $1");
            sqlx::query_as::<_, KeyRow>(sql).bind(id).fetch_optional(&state.db).await?
        }
        false => None,
    };
    let row = row.ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No API key with id '{}'.", clip(id))))?;
    let (counts, instance) = counts(state, USAGE_DAYS_DEFAULT).await?;
    Ok(row.view(state, now(), counts.get(id).copied().unwrap_or_default(), instance))
}

async fn keys_of(state: &AppState, user_id: i64) -> Result<Vec<AdminKey>> {
    let (counts, instance) = counts(state, USAGE_DAYS_DEFAULT).await?;
    let sql = concat!("SELECT ", admin_key_columns!(), " WHERE k.user_id = $1 ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC");
    let rows = sqlx::query_as::<_, KeyRow>(sql).bind(user_id).fetch_all(&state.db).await?;
    let now = now();
    Ok(rows.iter().map(|r| r.view(state, now, counts.get(&r.id).copied().unwrap_or_default(), instance)).collect())
}

/// Calls per day over `days` days for one key (as its owner sees them), or the whole
/// instance (summed by the database).
async fn daily(state: &AppState, key: Option<&str>, days: i64) -> Result<Vec<DayUsage>> {
    let today = day_of(now());
    let first = today - (days - 1);
    if let Some(id) = key {
        let usage = usage_since(state, Whose::Key(id), &[id], first).await?;
        return Ok(series(usage.get(id), first, today));
    }
    let rows = sqlx::query(
        "SELECT day, CAST(SUM(calls) AS BIGINT) AS calls, CAST(SUM(refused) AS BIGINT) AS refused FROM api_key_usage \
         WHERE day >= $1 GROUP BY day",
    )
    .bind(day_string(first))
    .fetch_all(&state.db)
    .await?;
    let mut by_day: BTreeMap<Day, DayCount> = BTreeMap::new();
    for row in rows {
        let Some(day) = parse_day(&row.try_get::<String, _>("day")?) else { continue };
        let (calls, refused): (i64, i64) = (row.try_get("calls")?, row.try_get("refused")?);
        let entry = by_day.entry(day).or_default();
        entry.calls += calls.max(0) as u64;
        entry.refused += refused.max(0) as u64;
    }
    for (_, days) in state.usage.pending_all() {
        for (day, count) in days.into_iter().filter(|(d, _)| *d >= first) {
            let entry = by_day.entry(day).or_default();
            entry.calls += count.calls;
            entry.refused += count.refused;
        }
    }
    Ok(series(Some(&by_day), first, today))
}

/// `GET /api/v1/admin/usage`: the period.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// The last N UTC days, today included (1–365, default 30).
    #[param(schema_with = crate::apikeys::service::doc::days)]
    pub days: Option<i64>,
}

/// The instance's totals per day over the period, and its active keys and users (level 6).
pub async fn usage(state: &AppState, principal: &Principal, query: UsageQuery) -> Result<InstanceUsage> {
    principal.require(READ)?;
    let days = query.days.unwrap_or(USAGE_DAYS_DEFAULT);
    if !(1..=USAGE_DAYS_MAX).contains(&days) {
        return Err(Error::validation(vec![days_error()]));
    }
    instance_usage(state, days).await
}

async fn instance_usage(state: &AppState, days: i64) -> Result<InstanceUsage> {
    let per_day = daily(state, None, days).await?;
    let (counts, _) = counts(state, days).await?;
    let active: Vec<&String> = counts.iter().filter(|(_, c)| c.calls > 0).map(|(k, _)| k).collect();
    let mut owners = std::collections::HashSet::new();
    if !active.is_empty() {
        // Owners of the active keys: one query over the keys with use in the period.
        let rows = sqlx::query(
            "SELECT DISTINCT k.id, k.user_id FROM api_keys k JOIN api_key_usage u ON u.key_id = k.id WHERE u.day >= $1",
        )
        .bind(day_string(day_of(now()) - (days - 1)))
        .fetch_all(&state.db)
        .await?;
        let owner_of: HashMap<String, i64> =
            rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("user_id")?))).collect::<Result<_>>()?;
        for key in &active {
            match owner_of.get(*key) {
                Some(owner) => {
                    owners.insert(*owner);
                }
                None => {
                    // Used only in memory so far.
                    if let Some(row) = sqlx::query("SELECT user_id FROM api_keys WHERE id = $1")
                        .bind(key.as_str())
                        .fetch_optional(&state.db)
                        .await?
                    {
                        owners.insert(row.try_get::<i64, _>("user_id")?);
                    }
                }
            }
        }
    }
    let now = now();
    let live_keys: i64 = sqlx::query("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL AND expires_at > $1")
        .bind(now)
        .fetch_one(&state.db)
        .await?
        .try_get("n")?;
    let users: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&state.db).await?.try_get("n")?;
    Ok(InstanceUsage { days: per_day, active_keys: active.len() as i64, active_users: owners.len() as i64, live_keys, users })
}

/// The console's overview (level 6).
pub async fn overview(state: &AppState, principal: &Principal) -> Result<Overview> {
    principal.require(READ)?;
    let list = |sort, days| KeyFilter { sort, days, pattern: "%".to_owned(), limit: OVERVIEW_KEYS, offset: 0 };
    let keep = |page: AdminKeyPage, pred: fn(&AdminKey) -> bool| page.keys.into_iter().filter(pred).collect::<Vec<_>>();
    let (entries, total) = audit::operator_log(&state.db, None, 20, 0).await?;
    Ok(Overview {
        today: instance_usage(state, 1).await?,
        month: instance_usage(state, USAGE_DAYS_DEFAULT).await?,
        busiest_today: keep(key_page(state, list(Sort::CallsToday, 1)).await?, |k| k.calls_today > 0),
        busiest_week: keep(key_page(state, list(Sort::Calls, 7)).await?, |k| k.calls > 0),
        refused_today: keep(key_page(state, list(Sort::RefusedToday, 1)).await?, |k| k.refused_today > 0),
        jumps: keep(key_page(state, list(Sort::Jump, 8)).await?, |k| k.jump),
        log: OperatorLogPage { entries, total, limit: 20, offset: 0 },
    })
}

// ---------------------------------------------------------------------------------------
// Key limits


/// `PATCH /api/v1/admin/keys/{id}`: a key's own limits. A field left out stays as it is;
/// `null` returns it to the instance's default; 0 refuses every request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
// The reason and at least one of the two limits.
#[schema(min_properties = 2)]
pub struct LimitsChange {
    /// Requests per minute (0–1000000), or `null` for the instance's default.
    #[serde(default, deserialize_with = "crate::numbers::present_whole")]
    #[schema(schema_with = doc::rate_limit)]
    pub rate_limit: Option<Option<i64>>,
    /// Requests per UTC day (0–1000000000), or `null` for the instance's default.
    #[serde(default, deserialize_with = "crate::numbers::present_whole")]
    #[schema(schema_with = doc::daily_quota)]
    pub daily_quota: Option<Option<i64>>,
    /// Why (required): it goes into the owner's audit log and the operator log.
    #[schema(schema_with = crate::text::doc::required_reason, required = true)]
    pub reason: Option<String>,
}

impl LimitsChange {
    /// From the console's form: empty text returns a limit to the default.
    pub fn from_form(rate_limit: &str, daily_quota: &str, reason: String) -> Result<LimitsChange> {
        let mut errors = Vec::new();
        let mut number = |field: &str, text: &str| -> Option<i64> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            match text.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(field, "Enter a whole number, or leave it empty for the default."));
                    None
                }
            }
        };
        let rate = number("rate_limit", rate_limit);
        let quota = number("daily_quota", daily_quota);
        ensure_valid(errors)?;
        Ok(LimitsChange { rate_limit: Some(rate), daily_quota: Some(quota), reason: Some(reason) })
    }
}

/// A reason that must be given: trimmed, at most [`crate::text::REASON_MAX`] characters, no control
/// characters.
fn required_reason(reason: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let reason = reason.map(str::trim).unwrap_or("");
    if reason.is_empty() {
        errors.push(FieldError::new("reason", "Say why: it goes into the owner's audit log and the operator log."));
    } else if let Some(problem) = reason_problem(reason) {
        errors.push(FieldError::new("reason", problem));
    }
    reason.to_owned()
}


/// Sets or clears a key's own limits (level 7), with a reason. Takes effect on the key's
/// next request.
pub async fn set_key_limits(state: &AppState, actor: &Actor<'_>, id: &str, change: LimitsChange) -> Result<AdminKey> {
    actor.require(Permission::SetKeyLimits)?;
    let mut errors = Vec::new();
    let check = |field: &str, value: Option<Option<i64>>, max: u32, what: &str, errors: &mut Vec<FieldError>| {
        if let Some(Some(v)) = value {
            if !(0..=max as i64).contains(&v) {
                errors.push(FieldError::new(field, format!("Give {what} from 0 (refuse every request) to {max}, or null for the default.")));
            }
        }
    };
    check("rate_limit", change.rate_limit, MAX_RATE, "requests per minute", &mut errors);
    check("daily_quota", change.daily_quota, MAX_QUOTA, "requests per day", &mut errors);
    if change.rate_limit.is_none() && change.daily_quota.is_none() {
        errors.push(FieldError::new("rate_limit", "Give rate_limit, daily_quota or both (null returns one to the default)."));
    }
    let reason = required_reason(change.reason.as_deref(), &mut errors);
    ensure_valid(errors)?;
    let before = one_key(state, id).await?;
    // Separation of duties: nobody raises (or lifts) the limits of their own keys.
    if actor.id() == Some(before.owner_id) {
        return Err(Error::new(
            ErrorCode::OwnKeyLimits,
            "Staff may not change the limits of their own keys: another member of staff can, or the operator with `tapeline admin keys limit`.",
        ));
    }
    let rate = change.rate_limit.unwrap_or(before.rate_limit_override.map(i64::from));
    let quota = change.daily_quota.unwrap_or(before.daily_quota_override.map(i64::from));
    let describe = |v: Option<i64>, unit: &str| match v {
        Some(v) => format!("{v} {unit}"),
        None => format!("the default ({unit})"),
    };
    let detail = format!(
        "limits of key “{}” set to {} and {}",
        before.name,
        describe(rate, "a minute"),
        describe(quota, "a day")
    );
    let now = now();
    state.db.transaction(async |tx| {
        sqlx::query("UPDATE api_keys SET rate_limit = $1, daily_quota = $2 WHERE id = $3")
            .bind(rate)
            .bind(quota)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let action = StaffAction {
            actor_id: actor.id(),
            actor: actor.name(),
            kind: AuditKind::KeyLimitsChanged,
            user_id: before.owner_id,
            username: &before.owner,
            key_id: Some(id),
            reason: Some(&reason),
            detail: &detail,
            at: now,
        };
        audit::record_staff_action(tx, action).await?;
        Ok(())
    })
    .await?;
    state.keys_changed().await;
    one_key(state, id).await
}

// ---------------------------------------------------------------------------------------
// Accounts

macro_rules! admin_user_columns {
    () => {
        "u.id, u.username, u.email, u.role, u.suspended_at, u.suspend_reason, u.created_at, \
         (SELECT COUNT(*) FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL AND k.expires_at > $1) AS live_keys \
         FROM users u"
    };
}

fn user_view(row: &sqlx::any::AnyRow) -> Result<AdminUser> {
    let role: Role = row.try_get::<String, _>("role")?.parse().map_err(|e: String| Error::new(ErrorCode::Internal, e))?;
    Ok(AdminUser {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        role: role.as_str().to_owned(),
        level: role.level().get(),
        suspended_at: row.try_get::<Option<i64>, _>("suspended_at")?.map(rfc3339),
        suspend_reason: row.try_get("suspend_reason")?,
        created_at: rfc3339(row.try_get("created_at")?),
        live_keys: row.try_get("live_keys")?,
    })
}

/// Accounts whose username or email contains `q`, by username (level 6).
pub async fn users(state: &AppState, principal: &Principal, query: ListQuery) -> Result<AdminUserPage> {
    principal.require(READ)?;
    let page = query.checked()?;
    let sql = concat!(
        "SELECT ",
        admin_user_columns!(),
        " WHERE LOWER(u.username) LIKE $2 ESCAPE '\\' OR LOWER(u.email) LIKE $2 ESCAPE '\\' ORDER BY u.username LIMIT $3 OFFSET $4"
    );
    let rows = sqlx::query(sql).bind(now()).bind(&page.pattern).bind(page.limit).bind(page.offset).fetch_all(&state.db).await?;
    let total: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM users u WHERE LOWER(u.username) LIKE $1 ESCAPE '\\' OR LOWER(u.email) LIKE $1 ESCAPE '\\'",
    )
    .bind(&page.pattern)
    .fetch_one(&state.db)
    .await?
    .try_get("n")?;
    Ok(AdminUserPage { users: rows.iter().map(user_view).collect::<Result<_>>()?, total, limit: page.limit, offset: page.offset })
}

async fn one_user(state: &AppState, id: i64) -> Result<AdminUser> {
    let sql = concat!("SELECT ", admin_user_columns!(), " WHERE u.id = $2");
    let row = sqlx::query(sql).bind(now()).bind(id).fetch_optional(&state.db).await?;
    row.as_ref().map(user_view).transpose()?.ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No account with id {id}.")))
}

/// One account with its keys and recent activity (level 6).
pub async fn user(state: &AppState, principal: &Principal, id: i64) -> Result<AdminUserDetail> {
    principal.require(READ)?;
    let user = one_user(state, id).await?;
    let keys = keys_of(state, id).await?;
    let activity = audit::read(&state.db, id, audit::Order::NewestFirst, 20).await?;
    Ok(AdminUserDetail { user, keys, activity })
}

/// The account named `username`, for the command line.
pub async fn user_named(state: &AppState, username: &str) -> Result<AdminUser> {
    let account = crate::auth::Account::by_username(&state.db, &username.trim().to_lowercase())
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No user named '{}'.", clip(username))))?;
    one_user(state, account.id).await
}

/// `POST /api/v1/admin/users/{id}/suspend` and `/unsuspend`: why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why (required): it goes into the owner's audit log and the operator log.
    #[schema(schema_with = crate::text::doc::required_reason, required = true)]
    pub reason: Option<String>,
}

/// Whether `actor` may act on an account of `target`'s role: staff act on accounts below
/// their own level; admins (8) on anyone.
fn outranks(actor: &Actor<'_>, target: &AdminUser) -> Result<()> {
    let level = actor.level();
    if level >= crate::levels::MAX_LEVEL || target.level < level {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::LevelTooLow,
        format!("{} is a {} (level {}): only an admin may act on their account.", target.username, target.role, target.level),
    ))
}

/// Active admins (not suspended).
async fn active_admins(state: &AppState) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND suspended_at IS NULL")
        .fetch_one(&state.db)
        .await?
        .try_get("n")?)
}

/// Suspends an account (level 7), with a reason: its keys are refused from their next
/// request (`account_suspended`) and its sessions end. Suspending twice changes nothing.
pub async fn suspend(state: &AppState, actor: &Actor<'_>, id: i64, reason: Reason) -> Result<AdminUser> {
    actor.require(Permission::SuspendUsers)?;
    let mut errors = Vec::new();
    let reason = required_reason(reason.reason.as_deref(), &mut errors);
    ensure_valid(errors)?;
    let target = one_user(state, id).await?;
    outranks(actor, &target)?;
    if target.suspended_at.is_some() {
        return Ok(target);
    }
    if target.role == Role::Admin.as_str() && active_admins(state).await? <= 1 {
        return Err(Error::new(ErrorCode::LastAdmin, "This is the only active admin: suspending them would leave nobody to run the instance."));
    }
    let now = now();
    state.db.transaction(async |tx| {
        sqlx::query("UPDATE users SET suspended_at = $1, suspend_reason = $2, updated_at = $1 WHERE id = $3 AND suspended_at IS NULL")
            .bind(now)
            .bind(&reason)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut **tx).await?;
        let detail = "account suspended: its keys are refused and its sessions ended";
        let action = StaffAction {
            actor_id: actor.id(),
            actor: actor.name(),
            kind: AuditKind::AccountSuspended,
            user_id: id,
            username: &target.username,
            key_id: None,
            reason: Some(&reason),
            detail,
            at: now,
        };
        audit::record_staff_action(tx, action).await?;
        Ok(())
    })
    .await?;
    state.keys_changed().await;
    one_user(state, id).await
}

/// Lifts a suspension (level 7), with a reason: the account's keys work again (those not
/// revoked or expired meanwhile); its owner signs in again.
pub async fn unsuspend(state: &AppState, actor: &Actor<'_>, id: i64, reason: Reason) -> Result<AdminUser> {
    actor.require(Permission::SuspendUsers)?;
    let mut errors = Vec::new();
    let reason = required_reason(reason.reason.as_deref(), &mut errors);
    ensure_valid(errors)?;
    let target = one_user(state, id).await?;
    outranks(actor, &target)?;
    if target.suspended_at.is_none() {
        return Ok(target);
    }
    let now = now();
    state.db.transaction(async |tx| {
        sqlx::query("UPDATE users SET suspended_at = NULL, suspend_reason = NULL, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let action = StaffAction {
            actor_id: actor.id(),
            actor: actor.name(),
            kind: AuditKind::AccountUnsuspended,
            user_id: id,
            username: &target.username,
            key_id: None,
            reason: Some(&reason),
            detail: "suspension lifted",
            at: now,
        };
        audit::record_staff_action(tx, action).await?;
        Ok(())
    })
    .await?;
    state.keys_changed().await;
    one_user(state, id).await
}

/// `PATCH /api/v1/admin/users/{id}`: the new role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// user, curator, support or admin.
    #[schema(schema_with = crate::levels::doc::role)]
    pub role: String,
    /// Why (optional): it goes into the owner's audit log and the operator log.
    #[schema(schema_with = crate::text::doc::optional_reason)]
    pub reason: Option<String>,
}

/// Changes an account's role (level 8). The last active admin cannot lower their own role.
pub async fn set_role(state: &AppState, actor: &Actor<'_>, id: i64, change: RoleChange) -> Result<AdminUser> {
    actor.require(CHANGE_ROLES)?;
    let mut errors = Vec::new();
    let role: Option<Role> = match change.role.parse() {
        Ok(role) => Some(role),
        Err(_) => {
            errors.push(FieldError::new("role", format!("'{}' is not a role: use user, curator, support or admin.", clip(&change.role))));
            None
        }
    };
    let reason = change.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if let Some(problem) = reason.and_then(reason_problem) {
        errors.push(FieldError::new("reason", problem));
    }
    ensure_valid(errors)?;
    let role = role.expect("checked");
    let target = one_user(state, id).await?;
    if target.role == role.as_str() {
        return Ok(target);
    }
    if target.role == Role::Admin.as_str() && target.suspended_at.is_none() && active_admins(state).await? <= 1 {
        return Err(Error::new(
            ErrorCode::LastAdmin,
            "This is the only active admin: make someone else an admin before lowering this role.",
        ));
    }
    let now = now();
    state.db.transaction(async |tx| {
        sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3").bind(role.as_str()).bind(now).bind(id).execute(&mut **tx).await?;
        let detail = format!("role changed from {} to {}", target.role, role.as_str());
        let action = StaffAction {
            actor_id: actor.id(),
            actor: actor.name(),
            kind: AuditKind::RoleChanged,
            user_id: id,
            username: &target.username,
            key_id: None,
            reason,
            detail: &detail,
            at: now,
        };
        audit::record_staff_action(tx, action).await?;
        Ok(())
    })
    .await?;
    state.keys_changed().await;
    one_user(state, id).await
}

/// The operator log, newest first (level 6).
pub async fn log(state: &AppState, principal: &Principal, query: PageQuery) -> Result<OperatorLogPage> {
    principal.require(READ)?;
    let (limit, offset) = query.checked()?;
    let (entries, total) = audit::operator_log(&state.db, None, limit, offset).await?;
    Ok(OperatorLogPage { entries, total, limit, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jump_rule() {
        assert!(is_jump(100, 0.0), "a new key at 100 calls on its first day");
        assert!(!is_jump(99, 0.0), "below the minimum");
        assert!(is_jump(500, 100.0), "five times the average");
        assert!(!is_jump(499, 100.0), "just under five times");
        assert!(!is_jump(150, 40.0));
    }

    #[test]
    fn limits_from_the_form() {
        let c = LimitsChange::from_form("10", "", "abuse".into()).unwrap();
        assert_eq!((c.rate_limit, c.daily_quota), (Some(Some(10)), Some(None)));
        let e = LimitsChange::from_form("ten", "1.5", "x".into()).unwrap_err().into_problem();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["rate_limit", "daily_quota"]);
    }
}
