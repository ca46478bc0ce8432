//! The operator's console: usage across every key, the keys to look at, people and their
//! keys, and the actions staff take — throttle or raise a key's limits, suspend, change
//! roles, revoke — each written to the owner's audit log and to the operator log.
//!
//! Levels (the ladder's): 6 reads everything here, 7 also suspends and sets key limits, 8
//! also changes roles and revokes any key. The REST handlers ([`api`]), the console's server
//! functions below and the command line all go through [`service`].

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

use crate::apikeys::{DayUsage, KeyLimits};
use crate::audit::{AuditEvent, OperatorLogPage};
use crate::error::Problem;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A key as the operator sees it: owner, limits, and its use over the period asked for.
/// Never its secret or hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminKey {
    #[cfg_attr(feature = "ssr", schema(example = "3fZk9QpL2aXw"))]
    pub id: String,
    #[cfg_attr(feature = "ssr", schema(example = "pattern-sync script"))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(example = 1, minimum = 0, maximum = 8))]
    pub level: u8,
    /// The owner's account id and username.
    pub owner_id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "ada"))]
    pub owner: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub expires_at: String,
    pub expired: bool,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub revoked_at: Option<String>,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub last_used_at: Option<String>,
    /// Calls answered over the period (`days`), exact: counts not yet written included.
    pub calls: u64,
    /// Calls refused by the key's limits over the period.
    pub refused: u64,
    pub calls_today: u64,
    pub refused_today: u64,
    /// Calls answered per day, on average, over the 7 UTC days before today.
    pub average_7d: f64,
    /// Today's calls are a sudden jump: at least [`JUMP_MIN_CALLS`] and at least
    /// [`JUMP_FACTOR`] times the key's 7-day average.
    pub jump: bool,
    /// This key's share of all calls answered on the instance over the period, 0–1.
    pub share: f64,
    /// The limits in force.
    pub limits: KeyLimits,
    /// The key's own limits set by staff (`null`: the instance's default).
    pub rate_limit_override: Option<u32>,
    pub daily_quota_override: Option<u32>,
}

/// A sudden jump: today's calls at least this many times the key's own 7-day average …
pub const JUMP_FACTOR: f64 = 5.0;
/// … and at least this many calls today (a key going from 2 calls to 10 is not news).
pub const JUMP_MIN_CALLS: u64 = 100;

/// One page of keys across the instance (`GET /api/v1/admin/keys`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminKeyPage {
    pub keys: Vec<AdminKey>,
    /// How many keys match.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// The period, in UTC days up to and including today.
    pub days: i64,
    /// Calls answered on the whole instance over the period.
    pub instance_calls: u64,
}

/// One key for the console's key page: the key and its usage per day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminKeyDetail {
    pub key: AdminKey,
    /// Calls per UTC day over the last 30 days, oldest first.
    pub usage: Vec<DayUsage>,
}

/// An account as the operator sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminUser {
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "ada"))]
    pub username: String,
    pub email: String,
    /// user, curator, support or admin.
    #[cfg_attr(feature = "ssr", schema(example = "user"))]
    pub role: String,
    /// The level the role acts at.
    pub level: u8,
    /// When the account was suspended, and why; `null` while it is not.
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub suspended_at: Option<String>,
    pub suspend_reason: Option<String>,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    /// Keys neither revoked nor expired.
    pub live_keys: i64,
}

/// One page of accounts (`GET /api/v1/admin/users`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminUserPage {
    pub users: Vec<AdminUser>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// One account with its keys (their usage over 30 days) and its recent audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminUserDetail {
    pub user: AdminUser,
    pub keys: Vec<AdminKey>,
    /// The newest entries of the account's audit log.
    pub activity: Vec<AuditEvent>,
}

/// The instance's use per UTC day (`GET /api/v1/admin/usage`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InstanceUsage {
    /// Every day of the period, oldest first.
    pub days: Vec<DayUsage>,
    /// Keys that answered at least one call in the period, and their owners.
    pub active_keys: i64,
    pub active_users: i64,
    /// Keys neither revoked nor expired, and accounts, in all.
    pub live_keys: i64,
    pub users: i64,
}

/// The console's overview: the instance's use and the keys to look at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub today: InstanceUsage,
    pub month: InstanceUsage,
    pub busiest_today: Vec<AdminKey>,
    pub busiest_week: Vec<AdminKey>,
    pub refused_today: Vec<AdminKey>,
    pub jumps: Vec<AdminKey>,
    pub log: OperatorLogPage,
}

/// The console's overview (level 6): the instance's use and the keys to look at.
#[server(prefix = "/ui", endpoint = "admin/overview")]
pub async fn console_overview() -> Result<Overview, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::overview(&state, &me)).await
}

/// Accounts whose username or email contains `q`.
#[server(prefix = "/ui", endpoint = "admin/users")]
pub async fn console_users(q: String) -> Result<AdminUserPage, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::users(&state, &me, crate::server::paging::ListQuery::first_page(Some(q)))).await
}

/// One account for the console.
#[server(prefix = "/ui", endpoint = "admin/user")]
pub async fn console_user(id: i64) -> Result<AdminUserDetail, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::user(&state, &me, id)).await
}

/// One key for the console.
#[server(prefix = "/ui", endpoint = "admin/key")]
pub async fn console_key(id: String) -> Result<AdminKeyDetail, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::key(&state, &me, &id)).await
}

/// Sets or clears a key's own limits (empty text clears one), with a reason.
#[server(prefix = "/ui", endpoint = "admin/key/limits")]
pub async fn console_set_key_limits(id: String, rate_limit: String, daily_quota: String, reason: String) -> Result<AdminKey, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(async {
        let change = service::LimitsChange::from_form(&rate_limit, &daily_quota, reason)?;
        service::set_key_limits(&state, &service::Actor::Staff(&me), &id, change).await
    })
    .await
}

/// Revokes someone's key, with a reason (level 8).
#[server(prefix = "/ui", endpoint = "admin/key/revoke")]
pub async fn console_revoke_key(id: String, reason: String) -> Result<(), Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(crate::apikeys::service::revoke(&state, &me, &id, Some(&reason))).await
}

/// Suspends (`suspend` = "true") or unsuspends an account, with a reason.
#[server(prefix = "/ui", endpoint = "admin/user/suspension")]
pub async fn console_suspend_user(id: i64, suspend: bool, reason: String) -> Result<AdminUser, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    let actor = service::Actor::Staff(&me);
    ui(async {
        match suspend {
            true => service::suspend(&state, &actor, id, service::Reason { reason: Some(reason) }).await,
            false => service::unsuspend(&state, &actor, id, service::Reason { reason: Some(reason) }).await,
        }
    })
    .await
}

/// Changes an account's role (level 8).
#[server(prefix = "/ui", endpoint = "admin/user/role")]
pub async fn console_set_role(id: i64, role: String, reason: String) -> Result<AdminUser, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    let change = service::RoleChange { role, reason: Some(reason).filter(|r| !r.trim().is_empty()) };
    ui(service::set_role(&state, &service::Actor::Staff(&me), id, change)).await
}
