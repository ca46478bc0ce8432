//! Measurement sets: body measurements of one person, in millimetres (degrees for
//! `shoulderSlope`), checked against the catalogue in [`crate::measurements`].
//!
//! Layering: the REST handlers ([`api`]) and the browser's server functions below are thin;
//! the rules and the SQL are in [`service`].

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

use crate::error::Problem;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A measurement set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeasurementSet {
    #[cfg_attr(feature = "ssr", schema(example = 42))]
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "Me, autumn 2026"))]
    pub name: String,
    pub notes: String,
    /// Show values in inches (a display preference; values are always stored in mm).
    pub imperial: bool,
    /// Readable by anyone at `/api/v1/public/sets/{id}`.
    pub public: bool,
    /// Measurement name → value (mm; degrees for `shoulderSlope`). See `/api/v1/measurements`.
    #[cfg_attr(feature = "ssr", schema(example = json!({"waist": 720.0, "hips": 980.0, "shoulderSlope": 13.0})))]
    pub measurements: BTreeMap<String, f64>,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub updated_at: String,
}

/// A new measurement set (`POST /api/v1/sets`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewSet {
    /// 1–100 characters once trimmed, on one line.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::name))]
    pub name: String,
    /// Up to 10,000 characters; line breaks and tabs are fine.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::notes))]
    pub notes: Option<String>,
    /// Default false.
    pub imperial: Option<bool>,
    /// Default false.
    pub public: Option<bool>,
    /// Known names only (unknown ones are refused, each named, with the nearest known name).
    /// Values: positive, at most 5000 mm (90 degrees for `shoulderSlope`).
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::measurements::doc::values))]
    pub measurements: Option<BTreeMap<String, Option<f64>>>,
}

/// Changes to a set (`PATCH /api/v1/sets/{id}`): fields given replace the stored ones;
/// `measurements` merge into the stored ones, and `null` clears a measurement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetChanges {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::name))]
    pub name: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::notes))]
    pub notes: Option<String>,
    pub imperial: Option<bool>,
    pub public: Option<bool>,
    /// Merged into the stored ones: a value sets, `null` clears.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::measurements::doc::values))]
    pub measurements: Option<BTreeMap<String, Option<f64>>>,
}

/// One page of the caller's sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetPage {
    pub sets: Vec<MeasurementSet>,
    /// How many of the caller's sets match (all of them without `q`).
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

// The browser's server functions. Each one: the state and the session's principal, then
// the service.
// Those that carry a measurements map take JSON (`null` must survive the trip: it clears).

/// The signed-in person's sets, newest first (up to 200); `q` narrows them by name.
#[server(prefix = "/ui", endpoint = "sets")]
pub async fn list_sets(q: Option<String>) -> Result<SetPage, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::list(&state, &me, crate::server::paging::ListQuery::first_page(q))).await
}

/// One set the signed-in person may read.
#[server(prefix = "/ui", endpoint = "sets/get")]
pub async fn get_set(id: i64) -> Result<MeasurementSet, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::get(&state, &me, id)).await
}

/// Creates a set owned by the signed-in person.
#[server(prefix = "/ui", endpoint = "sets/create", input = Json)]
pub async fn create_set(set: NewSet) -> Result<MeasurementSet, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::create(&state, &me, set)).await
}

/// Changes a set: given fields replace, `measurements` merge (`null` clears one).
#[server(prefix = "/ui", endpoint = "sets/update", input = Json)]
pub async fn update_set(id: i64, changes: SetChanges) -> Result<MeasurementSet, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::update(&state, &me, id, changes)).await
}

/// Deletes one of the signed-in person's sets.
#[server(prefix = "/ui", endpoint = "sets/delete")]
pub async fn delete_set(id: i64) -> Result<(), Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::delete(&state, &me, id)).await
}

/// Copies a set the signed-in person may read into a new private set of their own.
#[server(prefix = "/ui", endpoint = "sets/clone")]
pub async fn clone_set(id: i64) -> Result<MeasurementSet, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::clone(&state, &me, id)).await
}
