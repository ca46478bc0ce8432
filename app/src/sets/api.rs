//! REST routes for measurement sets and the measurement catalogue. Thin: authenticate
//! (the `Principal` extractor), call the service, shape the reply. The service checks levels
//! and ownership.

use super::service;
use super::{MeasurementSet, NewSet, SetChanges, SetPage};
use crate::auth::Principal;
use crate::error::Problem;
use crate::measurements::{Unit, CATALOGUE, MAX_DEG, MAX_MM};
use crate::server::extract::{ApiBody, ApiJson, ApiPath, ApiQuery, FormatParams, IfNoneMatch, NotModified, PublicReply};
use crate::server::paging::ListQuery;
use crate::server::Result;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crate::server::json::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(list_sets, create_set))
        .routes(routes!(get_set, update_set, delete_set))
        .routes(routes!(clone_set))
        .routes(routes!(public_set))
}

impl ApiBody for NewSet {
    const FIELDS: &'static [&'static str] = &["name", "notes", "imperial", "public", "measurements"];
}

impl ApiBody for SetChanges {
    const FIELDS: &'static [&'static str] = &["name", "notes", "imperial", "public", "measurements"];
}

/// One known measurement.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogueEntry {
    /// The exact name to use in a set's `measurements`.
    #[schema(example = "waist")]
    pub name: &'static str,
    /// The unit values are given in: `mm`, or `deg` for `shoulderSlope`.
    pub unit: Unit,
    /// Where and how it is measured.
    #[schema(example = "Circumference of the natural waist")]
    pub description: &'static str,
    /// The largest value accepted (values must also be greater than 0).
    #[schema(example = 5000.0)]
    pub max: f64,
}

/// The measurement catalogue.
///
/// Every measurement name a set may hold, with its unit and a one-line description, so a
/// script can check its data before sending it. Public: no key needed.
#[utoipa::path(
    get,
    path = "/api/v1/measurements",
    tag = "measurements",
    security(()),
    responses((status = OK, description = "Every known measurement, alphabetically", body = Vec<CatalogueEntry>)),
)]
pub async fn catalogue() -> Json<Vec<CatalogueEntry>> {
    Json(
        CATALOGUE
            .iter()
            .map(|m| CatalogueEntry {
                name: m.name,
                unit: m.unit,
                description: m.description,
                max: if m.unit == Unit::Deg { MAX_DEG } else { MAX_MM },
            })
            .collect(),
    )
}

/// List your measurement sets (level 1).
///
/// Newest first, one page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/sets",
    tag = "sets",
    params(ListQuery),
    responses(
        (status = OK, description = "One page of your sets", body = SetPage),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: a bad `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_sets(State(state): State<AppState>, principal: Principal, ApiQuery(query): ApiQuery<ListQuery>) -> Result<Json<SetPage>> {
    Ok(Json(service::list(&state, &principal, query).await?))
}

/// Create a measurement set (level 3).
#[utoipa::path(
    post,
    path = "/api/v1/sets",
    tag = "sets",
    request_body = NewSet,
    responses((status = CREATED, description = "The new set", body = MeasurementSet)),
)]
pub async fn create_set(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(new): ApiJson<NewSet>,
) -> Result<(StatusCode, Json<MeasurementSet>)> {
    Ok((StatusCode::CREATED, Json(service::create(&state, &principal, new).await?)))
}

/// One measurement set (level 1 for your own; level 5 for anyone's).
///
/// Another person's private set is `not_found` below level 5.
#[utoipa::path(
    get,
    path = "/api/v1/sets/{id}",
    tag = "sets",
    params(("id" = i64, Path, description = "The set's id")),
    responses(
        (status = OK, description = "The set", body = MeasurementSet),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_set(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> Result<Json<MeasurementSet>> {
    Ok(Json(service::get(&state, &principal, id).await?))
}

/// Change a measurement set (level 3 for your own; level 7 for anyone's).
///
/// Fields given replace the stored ones; `measurements` merge, and `null` clears one.
#[utoipa::path(
    patch,
    path = "/api/v1/sets/{id}",
    tag = "sets",
    params(("id" = i64, Path, description = "The set's id")),
    request_body = SetChanges,
    responses(
        (status = OK, description = "The set as changed", body = MeasurementSet),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn update_set(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<SetChanges>,
) -> Result<Json<MeasurementSet>> {
    Ok(Json(service::update(&state, &principal, id, changes).await?))
}

/// Delete a measurement set (level 3 for your own; level 7 for anyone's).
#[utoipa::path(
    delete,
    path = "/api/v1/sets/{id}",
    tag = "sets",
    params(("id" = i64, Path, description = "The set's id")),
    responses(
        (status = NO_CONTENT, description = "Deleted"),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete_set(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> Result<StatusCode> {
    service::delete(&state, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Copy a set into a new private set of your own (level 3).
///
/// The source may be your own set or a public one.
#[utoipa::path(
    post,
    path = "/api/v1/sets/{id}/clone",
    tag = "sets",
    params(("id" = i64, Path, description = "The set to copy")),
    responses(
        (status = CREATED, description = "The copy", body = MeasurementSet),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn clone_set(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> Result<(StatusCode, Json<MeasurementSet>)> {
    Ok((StatusCode::CREATED, Json(service::clone(&state, &principal, id).await?)))
}

/// A public measurement set, for anyone (no key needed).
///
/// JSON by default; YAML with `Accept: application/yaml` or `?format=yaml`. A private set
/// answers `not_found`.
#[utoipa::path(
    get,
    path = "/api/v1/public/sets/{id}",
    tag = "public",
    security(()),
    params(("id" = i64, Path, description = "The set's id"), FormatParams, IfNoneMatch),
    responses(
        (status = OK, description = "The set", content(
            (MeasurementSet = "application/json"),
            (MeasurementSet = "application/yaml", example = "id: 42\nname: Me, autumn 2026\nnotes: ''\nimperial: false\npublic: true\nmeasurements:\n  hips: 980.0\n  waist: 720.0\ncreated_at: 2026-11-22T14:00:00Z\nupdated_at: 2026-11-22T14:00:00Z\n"),
        )),
        NotModified,
        (status = NOT_FOUND, description = "`not_found`: no public set with this id", body = Problem, content_type = "application/problem+json"),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: an unknown `format`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn public_set(State(state): State<AppState>, ApiPath(id): ApiPath<i64>, reply: PublicReply) -> Result<Response> {
    reply.send(&service::get_public(&state, id).await?)
}
