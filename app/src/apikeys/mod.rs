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
    /// When the key was revoked; `null` while it is not.
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub revoked_at: Option<String>,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// The signed-in person's keys (not revoked), newest first.
#[server(prefix = "/ui", endpoint = "keys")]
pub async fn list_keys() -> Result<Vec<ApiKey>, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::list(&state, &me)).await
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

/// Revokes one of the signed-in person's keys.
#[server(prefix = "/ui", endpoint = "keys/revoke")]
pub async fn revoke_key(id: String) -> Result<(), Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::revoke(&state, &me, &id, None)).await
}
