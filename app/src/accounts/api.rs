//! REST routes for the caller's own account: profile and password. (The export of
//! everything it holds is the `export` module's.) Deleting an account is deliberately not
//! here: it is done from the account page, with the password, never by a script.

use super::{service, PasswordChange, Profile, ProfileChanges};
use crate::auth::Principal;
use crate::server::cookie;
use crate::audit::AuditPage;
use crate::server::extract::{ApiBody, ApiJson, ApiQuery};
use crate::server::paging::PageQuery;
use crate::server::http::ClientAddr;
use crate::server::Result;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use crate::server::json::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile, update_profile))
        .routes(routes!(change_password))
        .routes(routes!(audit_log))
}

impl ApiBody for ProfileChanges {
    const FIELDS: &'static [&'static str] = &["username", "email"];
}

impl ApiBody for PasswordChange {
    const FIELDS: &'static [&'static str] = &["current_password", "new_password"];
}

/// Your profile (level 2).
#[utoipa::path(
    get,
    path = "/api/v1/account",
    tag = "account",
    responses((status = OK, description = "Your profile", body = Profile)),
)]
pub async fn get_profile(principal: Principal) -> Result<Json<Profile>> {
    Ok(Json(service::own_profile(&principal)?))
}

/// Change your username or email address (level 4).
///
/// A username or email address another account uses is a 409 (`username_taken`,
/// `email_taken`).
#[utoipa::path(
    patch,
    path = "/api/v1/account",
    tag = "account",
    request_body = ProfileChanges,
    responses(
        (status = OK, description = "Your profile as changed", body = Profile),
        (status = CONFLICT, description = "`username_taken` or `email_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn update_profile(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(changes): ApiJson<ProfileChanges>,
) -> Result<Json<Profile>> {
    Ok(Json(service::profile(&service::update_profile(&state, &principal, changes).await?)))
}

/// Change your password (level 4), giving the current one.
///
/// Every other browser session of the account is signed out (the one making the request
/// stays). API keys keep working. Wrong current passwords count like failed log-ins and are
/// throttled (`429 too_many_attempts`).
#[utoipa::path(
    post,
    path = "/api/v1/account/password",
    tag = "account",
    request_body(content = PasswordChange, example = json!({"current_password": "old correct horse", "new_password": "new battery staple"})),
    responses(
        (status = NO_CONTENT, description = "Changed"),
        (status = FORBIDDEN, description = "`wrong_password` (`field`: `current_password`): that is not the account's password; or `level_too_low`, `account_suspended`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = TOO_MANY_REQUESTS, description = "`too_many_attempts`: wait `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode> {
    // A browser keeps its own session; a key has none to keep.
    let keep = principal.key.is_none().then(|| cookie::token_from_headers(&headers)).flatten();
    service::change_password(&state, &principal, change, keep.as_deref(), &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your account's activity (level 2).
///
/// The audit log, newest first, one page at a time: keys created and revoked (by whom, with
/// the reason staff gave), refused uses of expired or revoked keys (at most hourly per key),
/// profile and password changes.
#[utoipa::path(
    get,
    path = "/api/v1/account/audit",
    tag = "account",
    params(PageQuery),
    responses(
        (status = OK, description = "One page of your audit log", body = AuditPage, example = json!({
            "events": [
                {"kind": "key_revoked", "key_id": "3fZk9QpL2aXw", "detail": "revoked by the owner", "at": "2026-11-29T14:05:00Z"},
                {"kind": "key_created", "key_id": "3fZk9QpL2aXw", "detail": "level 1, expires 2027-02-27T14:00:00Z", "at": "2026-11-29T14:00:00Z"}
            ],
            "total": 2, "limit": 50, "offset": 0
        })),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: a bad `limit` or `offset`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn audit_log(State(state): State<AppState>, principal: Principal, ApiQuery(query): ApiQuery<PageQuery>) -> Result<Json<AuditPage>> {
    Ok(Json(service::audit_log(&state, &principal, query).await?))
}
