//! Curated sets: public reference measurement sets (e.g. a typical EU size 38) that anyone
//! can list and read, that curators (level 5) and above write, and that people clone into
//! their own sets. A few ship with every instance (migration `0005_curated_sets`).
//!
//! Layering: the REST handlers ([`api`]) are thin; the rules and the SQL are in [`service`].

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

use crate::error::Problem;
use crate::sets::MeasurementSet;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A curated reference measurement set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CuratedSet {
    #[cfg_attr(feature = "ssr", schema(example = 1))]
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "Reference: women's EU 38 (168 cm)"))]
    pub name: String,
    pub notes: String,
    /// Measurement name → value (mm; degrees for `shoulderSlope`).
    #[cfg_attr(feature = "ssr", schema(example = json!({"waist": 700.0, "hips": 860.0, "shoulderSlope": 13.0})))]
    pub measurements: BTreeMap<String, f64>,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub updated_at: String,
}

/// A new curated set (`POST /api/v1/curated-sets`, level 5).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewCuratedSet {
    /// 1–100 characters once trimmed, on one line.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::name))]
    pub name: String,
    /// Up to 10,000 characters: where the figures come from.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::notes))]
    pub notes: Option<String>,
    /// Known names only; values as for a measurement set.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::measurements::doc::values))]
    pub measurements: Option<BTreeMap<String, Option<f64>>>,
}

/// Changes to a curated set (`PATCH /api/v1/curated-sets/{id}`, level 5): fields given
/// replace; `measurements` merge, and `null` clears one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CuratedSetChanges {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::name))]
    pub name: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::notes))]
    pub notes: Option<String>,
    /// Merged into the stored ones: a value sets, `null` clears.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::measurements::doc::values))]
    pub measurements: Option<BTreeMap<String, Option<f64>>>,
}

/// One page of curated sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CuratedPage {
    pub sets: Vec<CuratedSet>,
    /// How many curated sets match (all of them without `q`).
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The curated sets, for the gallery (anyone may look).
#[server(prefix = "/ui", endpoint = "curated")]
pub async fn list_curated(q: Option<String>) -> Result<CuratedPage, Problem> {
    let state = crate::functions::state()?;
    crate::functions::ui(service::list(&state, crate::server::paging::ListQuery::first_page(q))).await
}

/// Copies a curated set into the signed-in person's own sets.
#[server(prefix = "/ui", endpoint = "curated/clone")]
pub async fn clone_curated(id: i64) -> Result<MeasurementSet, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::clone(&state, &me, id)).await
}
