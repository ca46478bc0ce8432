//! REST routes for curated sets. Reading is public; the service checks the levels of
//! writing (5) and cloning (3).

use super::service;
use super::{CuratedPage, CuratedSet, CuratedSetChanges, NewCuratedSet};
use crate::auth::Principal;
use crate::error::Problem;
use crate::server::extract::{ApiBody, ApiJson, ApiPath, ApiQuery, FormatParams, IfNoneMatch, NotModified, PublicReply};
use crate::server::paging::ListQuery;
use crate::server::Result;
use crate::state::AppState;
use crate::sets::MeasurementSet;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crate::server::json::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_curated, create_curated))
        .routes(routes!(get_curated, update_curated, delete_curated))
        .routes(routes!(clone_curated))
}

impl ApiBody for NewCuratedSet {
    const FIELDS: &'static [&'static str] = &["name", "notes", "measurements"];
}

impl ApiBody for CuratedSetChanges {
    const FIELDS: &'static [&'static str] = &["name", "notes", "measurements"];
}

/// List the curated sets (public).
///
/// Reference measurement sets anyone may read and clone, alphabetically.
#[utoipa::path(
    get,
    path = "/api/v1/curated-sets",
    tag = "curated",
    security(()),
    params(ListQuery),
    responses(
        (status = OK, description = "One page of curated sets", body = CuratedPage),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: a bad `q`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_curated(State(state): State<AppState>, ApiQuery(query): ApiQuery<ListQuery>) -> Result<Json<CuratedPage>> {
    Ok(Json(service::list(&state, query).await?))
}

/// One curated set (public).
///
/// JSON by default; YAML with `Accept: application/yaml` or `?format=yaml`.
#[utoipa::path(
    get,
    path = "/api/v1/curated-sets/{id}",
    tag = "curated",
    security(()),
    params(("id" = i64, Path, description = "The curated set's id"), FormatParams, IfNoneMatch),
    responses(
        (status = OK, description = "The curated set", content((CuratedSet = "application/json"), (CuratedSet = "application/yaml"))),
        NotModified,
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: an unknown `format`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_curated(State(state): State<AppState>, ApiPath(id): ApiPath<i64>, reply: PublicReply) -> Result<Response> {
    reply.send(&service::get(&state, id).await?)
}

/// Create a curated set (level 5: curators and above).
#[utoipa::path(
    post,
    path = "/api/v1/curated-sets",
    tag = "curated",
    request_body = NewCuratedSet,
    responses((status = CREATED, description = "The new curated set", body = CuratedSet)),
)]
pub async fn create_curated(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(new): ApiJson<NewCuratedSet>,
) -> Result<(StatusCode, Json<CuratedSet>)> {
    Ok((StatusCode::CREATED, Json(service::create(&state, &principal, new).await?)))
}

/// Change a curated set (level 5).
///
/// Fields given replace the stored ones; `measurements` merge, and `null` clears one.
#[utoipa::path(
    patch,
    path = "/api/v1/curated-sets/{id}",
    tag = "curated",
    params(("id" = i64, Path, description = "The curated set's id")),
    request_body = CuratedSetChanges,
    responses(
        (status = OK, description = "The curated set as changed", body = CuratedSet),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn update_curated(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<CuratedSetChanges>,
) -> Result<Json<CuratedSet>> {
    Ok(Json(service::update(&state, &principal, id, changes).await?))
}

/// Delete a curated set (level 5).
///
/// Sets people cloned from it are their own and stay.
#[utoipa::path(
    delete,
    path = "/api/v1/curated-sets/{id}",
    tag = "curated",
    params(("id" = i64, Path, description = "The curated set's id")),
    responses(
        (status = NO_CONTENT, description = "Deleted"),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete_curated(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> Result<StatusCode> {
    service::delete(&state, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clone a curated set into your own sets (level 3).
///
/// The copy is a new private set of yours, with the curated set's name, notes and
/// measurements.
#[utoipa::path(
    post,
    path = "/api/v1/curated-sets/{id}/clone",
    tag = "curated",
    params(("id" = i64, Path, description = "The curated set to copy")),
    responses(
        (status = CREATED, description = "Your new set", body = MeasurementSet),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn clone_curated(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<MeasurementSet>)> {
    Ok((StatusCode::CREATED, Json(service::clone(&state, &principal, id).await?)))
}
