//! REST routes for patterns. Thin: authenticate (the `Principal` extractor), call the
//! service, shape the reply. The service checks levels, ownership and set links.

use super::service;
use super::{NewPattern, Pattern, PatternChanges, PatternPage};
use crate::auth::Principal;
use crate::error::Problem;
use crate::server::extract::{ApiBody, ApiJson, ApiPath, ApiQuery, FormatParams, IfNoneMatch, NotModified, PublicReply};
use crate::server::paging::ListQuery;
use crate::server::Result;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crate::server::json::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_patterns, create_pattern))
        .routes(routes!(get_pattern, update_pattern, delete_pattern))
        .routes(routes!(public_pattern))
}

impl ApiBody for NewPattern {
    const FIELDS: &'static [&'static str] = &["name", "notes", "design", "settings", "set_id", "public"];
}

impl ApiBody for PatternChanges {
    const FIELDS: &'static [&'static str] = &["name", "notes", "design", "settings", "set_id", "public"];
}

/// List your patterns (level 1).
///
/// Newest first, one page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/patterns",
    tag = "patterns",
    params(ListQuery),
    responses(
        (status = OK, description = "One page of your patterns", body = PatternPage),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: a bad `q`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_patterns(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<PatternPage>> {
    Ok(Json(service::list(&state, &principal, query).await?))
}

/// Create a pattern (level 3).
///
/// `set_id` may name one of your own sets or a public one; anything else is refused with
/// `validation_failed` on `set_id`.
#[utoipa::path(
    post,
    path = "/api/v1/patterns",
    tag = "patterns",
    request_body(content = NewPattern, example = json!({"name": "Aaron for the beach", "design": "aaron", "settings": {"sa": 10}, "set_id": 42})),
    responses(
        (status = CREATED, description = "The new pattern", body = Pattern),
        (status = NOT_FOUND, description = "`not_found` (`field`: `set_id`): no measurement set with that id that this pattern can use — yours, or a public one", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_pattern(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(new): ApiJson<NewPattern>,
) -> Result<(StatusCode, Json<Pattern>)> {
    Ok((StatusCode::CREATED, Json(service::create(&state, &principal, new).await?)))
}

/// One pattern (level 1 for your own; level 5 for anyone's).
///
/// Another person's private pattern is `not_found` below level 5.
#[utoipa::path(
    get,
    path = "/api/v1/patterns/{id}",
    tag = "patterns",
    params(("id" = i64, Path, description = "The pattern's id")),
    responses(
        (status = OK, description = "The pattern", body = Pattern),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_pattern(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> Result<Json<Pattern>> {
    Ok(Json(service::get(&state, &principal, id).await?))
}

/// Change a pattern (level 3 for your own; level 7 for anyone's).
///
/// Fields given replace the stored ones (`settings` as a whole); `set_id: null` unlinks the
/// set. The design cannot change.
#[utoipa::path(
    patch,
    path = "/api/v1/patterns/{id}",
    tag = "patterns",
    params(("id" = i64, Path, description = "The pattern's id")),
    request_body(content = PatternChanges, example = json!({"settings": {"sa": 12}, "set_id": null})),
    responses(
        (status = OK, description = "The pattern as changed", body = Pattern),
        (status = NOT_FOUND, description = "`not_found`: no such pattern that you may see; or (`field`: `set_id`) no measurement set with that id that this pattern can use", body = Problem, content_type = "application/problem+json"),
        (status = CONFLICT, description = "`conflict` (`field`: `design`): a pattern's design cannot change", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn update_pattern(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<PatternChanges>,
) -> Result<Json<Pattern>> {
    Ok(Json(service::update(&state, &principal, id, changes).await?))
}

/// Delete a pattern (level 3 for your own; level 7 for anyone's).
#[utoipa::path(
    delete,
    path = "/api/v1/patterns/{id}",
    tag = "patterns",
    params(("id" = i64, Path, description = "The pattern's id")),
    responses(
        (status = NO_CONTENT, description = "Deleted"),
        (status = NOT_FOUND, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete_pattern(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> Result<StatusCode> {
    service::delete(&state, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A public pattern, for anyone (no key needed).
///
/// JSON by default; YAML with `Accept: application/yaml` or `?format=yaml`. A private
/// pattern answers `not_found`. `set_id` shows only when that set is public too.
#[utoipa::path(
    get,
    path = "/api/v1/public/patterns/{id}",
    tag = "public",
    security(()),
    params(("id" = i64, Path, description = "The pattern's id"), FormatParams, IfNoneMatch),
    responses(
        (status = OK, description = "The pattern", content(
            (Pattern = "application/json"),
            (Pattern = "application/yaml", example = "id: 7\nname: Aaron for the beach\nnotes: ''\ndesign: aaron\nsettings:\n  sa: 10\nset_id: 42\npublic: true\ncreated_at: 2026-11-22T14:00:00Z\nupdated_at: 2026-11-22T14:00:00Z\n"),
        )),
        NotModified,
        (status = NOT_FOUND, description = "`not_found`: no public pattern with this id", body = Problem, content_type = "application/problem+json"),
        (status = UNPROCESSABLE_ENTITY, description = "`validation_failed`: an unknown `format`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn public_pattern(State(state): State<AppState>, ApiPath(id): ApiPath<i64>, reply: PublicReply) -> Result<Response> {
    reply.send(&service::get_public(&state, id).await?)
}
