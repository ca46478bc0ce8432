//! The REST API for keys and `whoami`: thin handlers — authenticate (the [`Principal`]
//! extractor), call the service (which checks levels and ownership), shape the reply. Each route is registered
//! together with its OpenAPI description (`routes!`), so the document cannot drift.

use super::service::{self, NewKey, Rotation};
use super::{ApiKey, CreatedKey, KeyUsage};
use crate::auth::Principal;
use crate::error::Problem;
use crate::server::extract::{ApiBody, ApiJson, ApiQuery};
use crate::server::Result;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use crate::server::json::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(whoami))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(get_key, revoke_key))
        .routes(routes!(key_usage))
        .routes(routes!(rotate_key))
}

/// States this instance's own key settings in the document: the longest lifetime a key may be
/// given (`TAPELINE_KEY_MAX_EXPIRY`) becomes the `maximum` of every `expires_in`.
pub fn document_instance(doc: &mut utoipa::openapi::OpenApi, keys: &crate::server::KeySettings) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::ToSchema as _;
    let max = i64::try_from(keys.max_ttl.as_secs()).unwrap_or(i64::MAX);
    let Some(components) = doc.components.as_mut() else { return };
    for body in [NewKey::name(), Rotation::name()] {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(body.as_ref()) else { continue };
        if let Some(RefOr::T(Schema::Object(lifetime))) = object.properties.get_mut("expires_in") {
            service::doc::bound_lifetime(lifetime, max);
        }
    }
}

impl ApiBody for Rotation {
    const FIELDS: &'static [&'static str] = &["grace_period", "expires_in"];
}

impl ApiBody for NewKey {
    const FIELDS: &'static [&'static str] = &["name", "level", "expires_in", "expires_at"];
}

/// Who a request authenticates as.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Whoami {
    /// The account's username.
    #[schema(example = "ada")]
    pub username: String,
    /// The account's role: user, curator, support or admin.
    #[schema(example = "user")]
    pub role: String,
    /// The level this request acts at: the role's level for a session; for a key, the lower
    /// of the key's level and the role's.
    #[schema(example = 1)]
    pub level: u8,
    /// `key` or `session`.
    #[schema(example = "key")]
    pub auth: String,
    /// The key used, when the request authenticated with one.
    pub key: Option<WhoamiKey>,
}

/// The key a request authenticated with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WhoamiKey {
    #[schema(example = "3fZk9QpL2aXw")]
    pub id: String,
    #[schema(example = "pattern-sync script")]
    pub name: String,
    /// The key's own level (the request may act lower, see `level` above).
    #[schema(example = 1)]
    pub level: u8,
    /// When the key stops working (RFC 3339).
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// Who am I?
///
/// Works at every level, including 0: use it to check that a key works and what it may do.
#[utoipa::path(
    get,
    path = "/api/v1/whoami",
    tag = "account",
    responses((status = OK, description = "The account and key behind this request", body = Whoami)),
)]
pub async fn whoami(principal: Principal) -> Json<Whoami> {
    Json(Whoami {
        username: principal.account.username.clone(),
        role: principal.account.role.as_str().to_owned(),
        level: principal.level.get(),
        auth: if principal.key.is_some() { "key" } else { "session" }.to_owned(),
        key: principal.key.map(|k| WhoamiKey {
            id: k.id,
            name: k.name,
            level: k.level.get(),
            expires_at: crate::server::db::rfc3339(k.expires_at),
        }),
    })
}

/// List your API keys (level 2).
///
/// Every key that is not revoked, newest first, expired ones included (with
/// `expired: true`). Secrets are never returned.
#[utoipa::path(
    get,
    path = "/api/v1/apikeys",
    tag = "apikeys",
    responses((status = OK, description = "Your keys", body = Vec<ApiKey>)),
)]
pub async fn list_keys(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<ApiKey>>> {
    Ok(Json(service::list(&state, &principal).await?))
}

/// Create an API key (level 4).
///
/// The response carries the token — the only time it is shown. Send it as `Authorization: Bearer <token>`, or as HTTP Basic with `id` as the user name
/// and `secret` as the password.
#[utoipa::path(
    post,
    path = "/api/v1/apikeys",
    tag = "apikeys",
    request_body = NewKey,
    responses(
        (status = CREATED, description = "The new key, with its token", body = CreatedKey),
        (status = CONFLICT, description = "`key_limit_reached`: revoke keys you no longer use", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>)> {
    Ok((StatusCode::CREATED, Json(service::create(&state, &principal, request).await?)))
}

/// One of your API keys (level 2).
///
/// Revoked keys are included, with `revoked_at` set. Staff who may read all data (level 6 and
/// above) can read anyone's key; for everyone else another person's key is `not_found`.
#[utoipa::path(
    get,
    path = "/api/v1/apikeys/{id}",
    tag = "apikeys",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = OK, description = "The key", body = ApiKey),
        (status = NOT_FOUND, description = "`not_found`: no such key in your account", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_key(State(state): State<AppState>, principal: Principal, Path(id): Path<String>) -> Result<Json<ApiKey>> {
    Ok(Json(service::get(&state, &principal, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RevokeParams {
    /// Why (required when an admin revokes someone else's key; recorded in their audit log).
    #[param(schema_with = crate::text::doc::optional_reason)]
    pub reason: Option<String>,
}

/// Revoke an API key (level 4).
///
/// The key stops working on the very next request. Revoking a key twice is not an error.
/// Admins (level 8) may revoke anyone's key, with a `reason`.
#[utoipa::path(
    delete,
    path = "/api/v1/apikeys/{id}",
    tag = "apikeys",
    params(("id" = String, Path, description = "The key's id"), RevokeParams),
    responses(
        (status = NO_CONTENT, description = "Revoked"),
        (status = NOT_FOUND, description = "`not_found`: no such key in your account", body = Problem, content_type = "application/problem+json"),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: an unknown query parameter, or no `reason` when revoking someone else's key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<RevokeParams>,
) -> Result<StatusCode> {
    service::revoke(&state, &principal, &id, params.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// How many UTC days, today included: 1–365 (default 30).
    #[param(schema_with = super::service::doc::days)]
    pub days: Option<i64>,
}

/// A key's usage per day (level 2).
///
/// Calls answered and calls refused (by the key's rate limit or daily quota) per UTC day,
/// oldest first, for the last `days` days including today; exact at the moment of the
/// answer. Staff who may read all data (level 6) can read anyone's.
#[utoipa::path(
    get,
    path = "/api/v1/apikeys/{id}/usage",
    tag = "apikeys",
    params(("id" = String, Path, description = "The key's id"), UsageParams),
    responses(
        (status = OK, description = "The key's usage per day", body = KeyUsage),
        (status = NOT_FOUND, description = "`not_found`: no such key in your account", body = Problem, content_type = "application/problem+json"),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: `days` is not a whole number from 1 to 365", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn key_usage(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> Result<Json<KeyUsage>> {
    Ok(Json(service::usage(&state, &principal, &id, params.days).await?))
}

/// Regenerate one of your API keys (level 4).
///
/// A new key with the same name and level, living as long as the old one was created to
/// (capped by the instance's maximum) unless `expires_in` says otherwise; its token is in the
/// answer, shown this once. The old key keeps working for `grace_period` seconds (0 to 7
/// days; never past its own expiry), so a script can switch without downtime. A key cannot
/// rotate itself into a stronger or longer-lived key.
#[utoipa::path(
    post,
    path = "/api/v1/apikeys/{id}/rotate",
    tag = "apikeys",
    params(("id" = String, Path, description = "The key to replace")),
    request_body = Rotation,
    responses(
        (status = CREATED, description = "The new key, with its token", body = CreatedKey),
        (status = NOT_FOUND, description = "`not_found`: no such key in your account", body = Problem, content_type = "application/problem+json"),
        (status = CONFLICT, description = "`conflict` (`field`: `id`): the key is revoked or expired — create a new one instead", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(rotation): ApiJson<Rotation>,
) -> Result<(StatusCode, Json<CreatedKey>)> {
    Ok((StatusCode::CREATED, Json(service::rotate(&state, &principal, &id, rotation).await?)))
}
