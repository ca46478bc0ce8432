//! API keys: what a key looks like on the wire, and the browser's server functions.
//!
//! Layering: the REST handlers ([`api`]) and the server functions below are thin; every rule
//! (levels, expiry, ownership, the per-user cap) lives in [`service`]. Verifying a key on a
//! request, the token format and usage counting sit below, in `auth` (`auth::keys`,
//! `auth::token`, `auth::usage`).

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

use crate::error::Problem;
use crate::levels::LevelInfo;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An API key as listed. The secret is never part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKey {
    /// The key's id: the user name of HTTP Basic `id:secret`, and the `{id}` of
    /// `/api/v1/apikeys/{id}`.
    #[cfg_attr(feature = "ssr", schema(example = "3fZk9QpL2aXw"))]
    pub id: String,
    /// The name given at creation.
    #[cfg_attr(feature = "ssr", schema(example = "pattern-sync script"))]
    pub name: String,
    /// The key's access level (0–8). It acts at the lower of this and its owner's role level.
    #[cfg_attr(feature = "ssr", schema(example = 1, minimum = 0, maximum = 8))]
    pub level: u8,
    /// What the level allows.
    #[cfg_attr(feature = "ssr", schema(example = "Read own measurement sets and patterns"))]
    pub level_label: String,
    /// The start of the token (`tpl_<id>`): enough to recognise a key, never the secret.
    #[cfg_attr(feature = "ssr", schema(example = "tpl_3fZk9QpL2aXw"))]
    pub prefix: String,
    /// When the key was created (RFC 3339, UTC).
    #[cfg_attr(feature = "ssr", schema(format = DateTime, example = "2026-11-22T14:00:00Z"))]
    pub created_at: String,
    /// When the key stops working (RFC 3339, UTC).
    #[cfg_attr(feature = "ssr", schema(format = DateTime, example = "2027-02-20T14:00:00Z"))]
    pub expires_at: String,
    /// True once `expires_at` has passed.
    pub expired: bool,
    /// When the key last authenticated a request; `null` if never.
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub last_used_at: Option<String>,
    /// How many requests the key has authenticated.
    pub calls: u64,
    /// Requests answered today (UTC day), exact at the moment of the answer.
    #[cfg_attr(feature = "ssr", schema(example = 42))]
    pub calls_today: u64,
    /// Requests refused today by the key's rate limit or daily quota.
    #[cfg_attr(feature = "ssr", schema(example = 0))]
    pub refused_today: u64,
    /// The limits the key is held to.
    pub limits: KeyLimits,
    /// When the key was revoked; `null` while it is not.
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub revoked_at: Option<String>,
}

/// A key's fair-use limits: the instance's defaults unless staff set the key its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyLimits {
    /// Requests per minute (a burst of this many, then one every 60/N seconds). 0 refuses
    /// every request.
    #[cfg_attr(feature = "ssr", schema(example = 60))]
    pub rate_limit: u32,
    /// Requests per UTC day. 0 refuses every request.
    #[cfg_attr(feature = "ssr", schema(example = 10000))]
    pub daily_quota: u32,
    /// True when staff set this key's limits (either of them); false when both are the
    /// instance's defaults.
    pub custom: bool,
}

/// The answer to creating a key: the key, plus its token — shown this once and never again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The whole token, for `Authorization: Bearer <token>`. Store it now: it cannot be shown again.
    #[cfg_attr(feature = "ssr", schema(example = "tpl_3fZk9QpL2aXw_Vb2Yq8dR1sLm0TnXc4ZaPe7Kw9HuJf3G1aB2c3"))]
    pub token: String,
    /// The secret alone, for HTTP Basic as `id:secret`.
    pub secret: String,
}

/// A key's usage per UTC day (`GET /api/v1/apikeys/{id}/usage`), oldest day first, every
/// day of the period listed (days without calls as zeros).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyUsage {
    pub days: Vec<DayUsage>,
}

/// Calls on one UTC day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayUsage {
    /// The UTC day, `YYYY-MM-DD`.
    #[cfg_attr(feature = "ssr", schema(format = Date, example = "2026-11-29"))]
    pub day: String,
    /// Requests the key made that were answered.
    #[cfg_attr(feature = "ssr", schema(example = 120))]
    pub calls: u64,
    /// Requests refused by the key's rate limit or daily quota.
    #[cfg_attr(feature = "ssr", schema(example = 0))]
    pub refused: u64,
}

/// A key with its usage over the last days, oldest day first: a row of the keys page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWithUsage {
    pub key: ApiKey,
    pub days: Vec<DayUsage>,
}

/// How many days of usage to show when none are asked for, and the most one may ask for.
pub const USAGE_DAYS_DEFAULT: i64 = 30;
pub const USAGE_DAYS_MAX: i64 = 365;

/// What the signed-in person may create: for the new-key form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKeyChoices {
    /// The levels this person may give a new key, each with its label.
    pub grantable: Vec<LevelInfo>,
    /// The operator's default and maximum key lifetime, in days.
    pub default_days: i64,
    pub max_days: i64,
}

/// The signed-in person's keys (not revoked), newest first, each with its usage over the
/// last [`USAGE_DAYS_DEFAULT`] days.
#[server(prefix = "/ui", endpoint = "keys")]
pub async fn list_keys() -> Result<Vec<KeyWithUsage>, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::list_with_usage(&state, &me, USAGE_DAYS_DEFAULT)).await
}

/// The levels and lifetimes the signed-in person may choose for a new key.
#[server(prefix = "/ui", endpoint = "keys/options")]
pub async fn key_options() -> Result<NewKeyChoices, Problem> {
    let (state, me) = crate::functions::signed_in().await?;
    Ok(service::key_options(&state, &me))
}

/// Creates a key from the browser. `expires_in_days` (a preset) or `expires_on`
/// (`YYYY-MM-DD`, end of that day UTC) chooses the expiry; neither takes the default.
#[server(prefix = "/ui", endpoint = "keys/create")]
pub async fn create_key(
    name: String,
    level: String,
    expires_in_days: Option<String>,
    expires_on: Option<String>,
) -> Result<CreatedKey, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(async {
        let request = service::NewKey::from_form(name, &level, expires_in_days.as_deref(), expires_on.as_deref())?;
        service::create(&state, &me, request).await
    })
    .await
}

/// The grace periods the keys page offers when regenerating a key, in seconds, with their
/// labels (the API takes any number of seconds up to the maximum).
pub const GRACE_CHOICES: [(i64, &str); 4] =
    [(0, "None: the old key stops at once"), (3_600, "1 hour"), (86_400, "1 day"), (604_800, "7 days")];

/// Regenerates one of the signed-in person's keys: a new token, the old one working on for
/// `grace_period` seconds (given as text by the form).
#[server(prefix = "/ui", endpoint = "keys/rotate")]
pub async fn rotate_key(id: String, grace_period: String) -> Result<CreatedKey, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(async {
        let rotation = service::Rotation::from_form(&grace_period)?;
        service::rotate(&state, &me, &id, rotation).await
    })
    .await
}

/// Revokes one of the signed-in person's keys.
#[server(prefix = "/ui", endpoint = "keys/revoke")]
pub async fn revoke_key(id: String) -> Result<(), Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::revoke(&state, &me, &id, None)).await
}
