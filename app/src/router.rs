//! The composition root of the REST API: every resource's routes, each registered together
//! with its OpenAPI description, assembled into one router and the one document that
//! describes exactly those routes.
//!
//! Resources only export their routers; this is the one place that knows them all.

use crate::openapi::{ApiDoc, SharedResponses};
use crate::state::AppState;
use utoipa::openapi::OpenApi;
use utoipa::{Modify as _, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;

/// What the document says that depends on this instance's settings, not on the code alone:
/// applied by the server to the document it serves.
pub fn document_instance(doc: &mut OpenApi, config: &crate::server::Config) {
    crate::apikeys::api::document_instance(doc, &config.keys);
}

/// Every REST route, and the OpenAPI document describing exactly those routes.
pub fn api() -> (axum::Router<AppState>, OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::apikeys::api::router())
        .merge(crate::sets::api::router())
        .merge(crate::patterns::api::router())
        .merge(crate::curated::api::router())
        .merge(crate::accounts::api::router())
        .merge(crate::admin::api::router())
        .merge(crate::export::router())
        .split_for_parts();
    SharedResponses.modify(&mut doc);
    (router, doc)
}
