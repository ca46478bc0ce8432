//! The operator's REST API (tag `admin`): thin handlers over [`super::service`], each route
//! registered with its OpenAPI description.

use super::service::{self, Actor, KeyQuery, LimitsChange, Reason, RoleChange, UsageQuery};
use super::{AdminKey, AdminKeyDetail, AdminKeyPage, AdminUser, AdminUserDetail, AdminUserPage, InstanceUsage};
use crate::audit::OperatorLogPage;
use crate::auth::Principal;
use crate::error::Problem;
use crate::server::extract::{ApiBody, ApiJson, ApiPath, ApiQuery};
use crate::server::paging::{ListQuery, PageQuery};
use crate::server::Result;
use crate::state::AppState;
use axum::extract::State;
use crate::server::json::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys))
        .routes(routes!(get_key, set_key_limits))
        .routes(routes!(list_users))
        .routes(routes!(get_user, set_role))
        .routes(routes!(suspend_user))
        .routes(routes!(unsuspend_user))
        .routes(routes!(instance_usage))
        .routes(routes!(operator_log))
}

impl ApiBody for LimitsChange {
    const FIELDS: &'static [&'static str] = &["rate_limit", "daily_quota", "reason"];
}

impl ApiBody for Reason {
    const FIELDS: &'static [&'static str] = &["reason"];
}

impl ApiBody for RoleChange {
    const FIELDS: &'static [&'static str] = &["role", "reason"];
}

/// Keys across every account (level 6).
///
/// With owner, level, calls and refused calls over the last `days` days (exact: counts not yet
/// written included), today's counts, the 7-day average, the share of all traffic, last use,
/// and the limits in force with the key's own overrides. Never a secret or hash. `sort=jump`
/// orders by today's calls against the key's own 7-day average; `jump: true` marks at least
/// 100 calls today and at least 5 times that average.
#[utoipa::path(
    get,
    path = "/api/v1/admin/keys",
    tag = "admin",
    operation_id = "admin_list_keys",
    params(KeyQuery),
    responses(
        (status = OK, description = "One page of keys", body = AdminKeyPage),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: a bad `sort`, `days`, `q`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_keys(State(state): State<AppState>, principal: Principal, ApiQuery(query): ApiQuery<KeyQuery>) -> Result<Json<AdminKeyPage>> {
    Ok(Json(service::keys(&state, &Actor::Staff(&principal), query).await?))
}

/// One key, with its usage per day over 30 days (level 6).
#[utoipa::path(
    get,
    path = "/api/v1/admin/keys/{id}",
    tag = "admin",
    operation_id = "admin_get_key",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = OK, description = "The key", body = AdminKeyDetail),
        (status = NOT_FOUND, description = "`not_found`: no such key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_key(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<String>) -> Result<Json<AdminKeyDetail>> {
    Ok(Json(service::key(&state, &principal, &id).await?))
}

/// Set a key's own limits (level 7).
///
/// Raise them for someone with big plans, lower them for a key that uses more than the
/// instance can carry. A field left out stays as it is; `null` returns it to the instance's
/// default; 0 refuses every request. A `reason` is required: the owner sees it in their
/// activity. Takes effect on the key's next request.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/keys/{id}",
    tag = "admin",
    operation_id = "admin_set_key_limits",
    params(("id" = String, Path, description = "The key's id")),
    request_body = LimitsChange,
    responses(
        (status = OK, description = "The key with its new limits", body = AdminKey),
        (status = FORBIDDEN, description = "`own_key_limits`: the key is your own — another member of staff, or the operator, changes it; or `level_too_low`, `account_suspended`", body = Problem, content_type = "application/problem+json"),
        (status = NOT_FOUND, description = "`not_found`: no such key", body = Problem, content_type = "application/problem+json"),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: a negative, fractional or absurd limit, or no reason", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn set_key_limits(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<LimitsChange>,
) -> Result<Json<AdminKey>> {
    Ok(Json(service::set_key_limits(&state, &Actor::Staff(&principal), &id, change).await?))
}

/// Accounts (level 6), by username; `q` searches usernames and emails.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    operation_id = "admin_list_users",
    params(ListQuery),
    responses(
        (status = OK, description = "One page of accounts", body = AdminUserPage),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: a bad `q`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_users(State(state): State<AppState>, principal: Principal, ApiQuery(query): ApiQuery<ListQuery>) -> Result<Json<AdminUserPage>> {
    Ok(Json(service::users(&state, &principal, query).await?))
}

/// One account with its keys (and their use over 30 days) and its recent activity (level 6).
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    operation_id = "admin_get_user",
    params(("id" = i64, Path, description = "The account's id")),
    responses(
        (status = OK, description = "The account", body = AdminUserDetail),
        (status = NOT_FOUND, description = "`not_found`: no such account", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_user(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> Result<Json<AdminUserDetail>> {
    Ok(Json(service::user(&state, &principal, id).await?))
}

/// Change an account's role (level 8).
///
/// The last active admin cannot lower their own role (`last_admin`).
#[utoipa::path(
    patch,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    operation_id = "admin_set_role",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = RoleChange,
    responses(
        (status = OK, description = "The account with its new role", body = AdminUser),
        (status = NOT_FOUND, description = "`not_found`: no such account", body = Problem, content_type = "application/problem+json"),
        (status = CONFLICT, description = "`last_admin`: the instance would have no active admin", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn set_role(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<Json<AdminUser>> {
    Ok(Json(service::set_role(&state, &Actor::Staff(&principal), id, change).await?))
}

/// Suspend an account (level 7), with a reason.
///
/// Its keys answer `account_suspended` from their next request and its sessions end.
/// Staff below admin act only on accounts of a lower level; the last active admin cannot be
/// suspended (`last_admin`). Suspending twice changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/suspend",
    tag = "admin",
    operation_id = "admin_suspend_user",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = Reason,
    responses(
        (status = OK, description = "The suspended account", body = AdminUser),
        (status = NOT_FOUND, description = "`not_found`: no such account", body = Problem, content_type = "application/problem+json"),
        (status = CONFLICT, description = "`last_admin`: the instance would have no active admin", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn suspend_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(reason): ApiJson<Reason>,
) -> Result<Json<AdminUser>> {
    Ok(Json(service::suspend(&state, &Actor::Staff(&principal), id, reason).await?))
}

/// Lift an account's suspension (level 7), with a reason: its keys work again.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/unsuspend",
    tag = "admin",
    operation_id = "admin_unsuspend_user",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = Reason,
    responses(
        (status = OK, description = "The account", body = AdminUser),
        (status = NOT_FOUND, description = "`not_found`: no such account", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn unsuspend_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(reason): ApiJson<Reason>,
) -> Result<Json<AdminUser>> {
    Ok(Json(service::unsuspend(&state, &Actor::Staff(&principal), id, reason).await?))
}

/// The instance's calls per UTC day (level 6), with its active keys and users.
#[utoipa::path(
    get,
    path = "/api/v1/admin/usage",
    tag = "admin",
    operation_id = "admin_instance_usage",
    params(UsageQuery),
    responses(
        (status = OK, description = "The instance's usage", body = InstanceUsage),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: `days` is not a whole number from 1 to 365", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn instance_usage(State(state): State<AppState>, principal: Principal, ApiQuery(query): ApiQuery<UsageQuery>) -> Result<Json<InstanceUsage>> {
    Ok(Json(service::usage(&state, &principal, query).await?))
}

/// The operator log (level 6): every action staff or the operator took, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/log",
    tag = "admin",
    operation_id = "admin_operator_log",
    params(PageQuery),
    responses((status = OK, description = "One page of the operator log", body = OperatorLogPage)),
)]
pub async fn operator_log(State(state): State<AppState>, principal: Principal, ApiQuery(query): ApiQuery<PageQuery>) -> Result<Json<OperatorLogPage>> {
    Ok(Json(service::log(&state, &principal, query).await?))
}
