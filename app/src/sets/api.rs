//! REST routes for measurement sets.

use crate::measurements::{Unit, CATALOGUE, MAX_DEG, MAX_MM};
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<crate::server::AppState> {
    OpenApiRouter::new().routes(routes!(catalogue))
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
