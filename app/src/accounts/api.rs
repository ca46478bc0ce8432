//! REST routes for the caller's own account: profile, password and the export of
//! everything it holds. Deleting an account is deliberately not here: it is done from the
//! account page, with the password, never by a script.

use super::{service, AccountExport, PasswordChange, Profile, ProfileChanges};
use crate::server::api::{ApiBody, ApiJson};
use crate::server::auth::Principal;
use crate::server::http::ClientAddr;
use crate::server::{session, AppState, Result};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile, update_profile))
        .routes(routes!(change_password))
        .routes(routes!(export))
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
    principal.require(super::READ_ACCOUNT)?;
    Ok(Json(principal.account.profile()))
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
    Ok(Json(service::update_profile(&state, &principal, changes).await?.profile()))
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
    let keep = principal.key.is_none().then(|| session::token_from_headers(&headers)).flatten();
    service::change_password(&state, &principal, change, keep.as_deref(), &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Download everything your account holds (level 2).
///
/// One JSON document: profile, measurement sets, patterns, API key metadata (never a
/// secret) and the audit log. Sent as an attachment (`Content-Disposition`).
#[utoipa::path(
    get,
    path = "/api/v1/account/export",
    tag = "account",
    responses((status = OK, description = "Everything your account holds", body = AccountExport)),
)]
pub async fn export(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    let export = service::export(&state, &principal).await?;
    let day = export.exported_at.get(..10).unwrap_or("export").to_owned();
    let disposition = format!("attachment; filename=\"tapeline-{}-{day}.json\"", export.account.username);
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(export)).into_response())
}
