//! Patterns: a design (a pattern program's identifier, e.g. `aaron`) plus its settings,
//! optionally made for one measurement set.
//!
//! Layering: the REST handlers ([`api`]) are thin; the rules and the SQL are in [`service`].

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

use crate::error::Problem;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The largest `settings` object accepted, as compact JSON.
pub const SETTINGS_MAX_BYTES: usize = 16 * 1024;
/// The longest design identifier.
pub const DESIGN_MAX: usize = 64;

/// A pattern.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Pattern {
    #[cfg_attr(feature = "ssr", schema(example = 7))]
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "Aaron for the beach"))]
    pub name: String,
    pub notes: String,
    /// The design's identifier. Fixed at creation.
    #[cfg_attr(feature = "ssr", schema(example = "aaron"))]
    pub design: String,
    /// The design's settings: any JSON object (at most 16 KiB).
    #[cfg_attr(feature = "ssr", schema(value_type = Object, example = json!({"sa": 10, "options": {"armholeDrop": 0.1}})))]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The measurement set the pattern is made for, if any.
    #[cfg_attr(feature = "ssr", schema(example = 42))]
    pub set_id: Option<i64>,
    /// Readable by anyone at `/api/v1/public/patterns/{id}`.
    pub public: bool,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub updated_at: String,
}

/// A new pattern (`POST /api/v1/patterns`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewPattern {
    /// 1–100 characters once trimmed, on one line.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::name))]
    pub name: String,
    /// Up to 10,000 characters.
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::notes))]
    pub notes: Option<String>,
    /// The design's identifier: 1–64 lowercase letters, digits, `-` or `_`. Cannot change later.
    #[cfg_attr(feature = "ssr", schema(schema_with = doc::design))]
    pub design: String,
    /// A JSON object, at most 16 KiB. Default `{}`.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>, example = json!({"sa": 10})))]
    pub settings: Option<serde_json::Value>,
    /// One of your own sets, or a public one.
    #[serde(default, deserialize_with = "crate::numbers::optional_whole")]
    #[cfg_attr(feature = "ssr", schema(example = 42))]
    pub set_id: Option<i64>,
    /// Default false.
    pub public: Option<bool>,
}

/// Changes to a pattern (`PATCH /api/v1/patterns/{id}`): fields given replace the stored
/// ones (`settings` whole); `set_id: null` unlinks the set. `design` cannot change: it may
/// only be sent with its current value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PatternChanges {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::name))]
    pub name: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::text::doc::notes))]
    pub notes: Option<String>,
    /// Refused unless equal to the stored design.
    #[cfg_attr(feature = "ssr", schema(schema_with = doc::design))]
    pub design: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub settings: Option<serde_json::Value>,
    /// A set id to link, or `null` to unlink.
    #[serde(default, deserialize_with = "crate::numbers::present_whole", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>, nullable))]
    pub set_id: Option<Option<i64>>,
    pub public: Option<bool>,
}


/// One page of the caller's patterns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PatternPage {
    pub patterns: Vec<Pattern>,
    /// How many of the caller's patterns match (all of them without `q`).
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Why `design` is not a usable identifier, if it is not.
pub fn design_problem(design: &str) -> Option<String> {
    let ok_chars = design.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let starts_ok = design.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if design.is_empty() {
        Some("Name the design, e.g. 'aaron'.".to_owned())
    } else if design.len() > DESIGN_MAX || !ok_chars || !starts_ok {
        Some(format!("Use the design's identifier: 1–{DESIGN_MAX} lowercase letters, digits, '-' or '_', e.g. 'aaron'."))
    } else {
        None
    }
}

/// The design rule as the API document states it (server only).
#[cfg(feature = "ssr")]
mod doc {
    /// See [`super::design_problem`].
    pub fn design() -> utoipa::openapi::schema::Object {
        let max = super::DESIGN_MAX;
        let pattern = crate::schema::matching(&format!("^[a-z0-9][a-z0-9_-]{{0,{}}}$", max - 1), None);
        let text = format!("The design's identifier: 1–{max} lowercase letters, digits, `-` or `_`, starting with a letter or digit. Cannot change later.");
        crate::schema::described(pattern, text, Some(serde_json::json!("aaron")))
    }
}

/// Why `settings` cannot be stored, if it cannot: it must be a JSON object of at most
/// [`SETTINGS_MAX_BYTES`] as compact JSON.
pub fn settings_problem(settings: &serde_json::Value) -> Option<String> {
    if !settings.is_object() {
        return Some("Settings must be a JSON object, e.g. {\"sa\": 10}.".to_owned());
    }
    let size = serde_json::to_string(settings).map(|s| s.len()).unwrap_or(usize::MAX);
    (size > SETTINGS_MAX_BYTES).then(|| {
        format!("Settings take {size} bytes as JSON; the most a pattern can hold is {} KiB.", SETTINGS_MAX_BYTES / 1024)
    })
}

/// A set a pattern can be linked to, for the editor's choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetChoice {
    pub id: i64,
    pub name: String,
}

/// The signed-in person's patterns, newest first; `q` narrows them by name.
#[server(prefix = "/ui", endpoint = "patterns")]
pub async fn list_patterns(q: Option<String>) -> Result<PatternPage, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::list(&state, &me, crate::server::paging::ListQuery::first_page(q))).await
}

/// One of the signed-in person's patterns, and the sets it could be linked to.
#[server(prefix = "/ui", endpoint = "patterns/get")]
pub async fn get_pattern(id: Option<i64>) -> Result<(Option<Pattern>, Vec<SetChoice>), Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::editor(&state, &me, id)).await
}

/// Creates a pattern for the signed-in person.
#[server(prefix = "/ui", endpoint = "patterns/create", input = leptos::server_fn::codec::Json)]
pub async fn create_pattern(new: NewPattern) -> Result<Pattern, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::create(&state, &me, new)).await
}

/// Changes one of the signed-in person's patterns.
#[server(prefix = "/ui", endpoint = "patterns/update", input = leptos::server_fn::codec::Json)]
pub async fn update_pattern(id: i64, changes: PatternChanges) -> Result<Pattern, Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::update(&state, &me, id, changes)).await
}

/// Deletes one of the signed-in person's patterns.
#[server(prefix = "/ui", endpoint = "patterns/delete")]
pub async fn delete_pattern(id: i64) -> Result<(), Problem> {
    use crate::functions::{signed_in, ui};
    let (state, me) = signed_in().await?;
    ui(service::delete(&state, &me, id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn designs() {
        for ok in ["aaron", "bella", "simon-2", "x_1", "9lives"] {
            assert_eq!(design_problem(ok), None, "{ok}");
        }
        for bad in ["", "Aaron", "-x", "a b", "ärmel", &"a".repeat(DESIGN_MAX + 1)] {
            assert!(design_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn settings() {
        assert_eq!(settings_problem(&json!({})), None);
        assert_eq!(settings_problem(&json!({"a": [1, 2, {"b": null}]})), None);
        for bad in [json!([]), json!("x"), json!(1), json!(null)] {
            assert!(settings_problem(&bad).unwrap().contains("JSON object"), "{bad}");
        }
        let edge = |n: usize| json!({ "k": "x".repeat(n) });
        let overhead = serde_json::to_string(&edge(0)).unwrap().len();
        assert_eq!(settings_problem(&edge(SETTINGS_MAX_BYTES - overhead)), None, "exactly the limit fits");
        assert!(settings_problem(&edge(SETTINGS_MAX_BYTES - overhead + 1)).unwrap().contains("16 KiB"));
    }

    #[test]
    fn null_set_id_differs_from_absent() {
        let absent: PatternChanges = serde_json::from_value(json!({})).unwrap();
        let null: PatternChanges = serde_json::from_value(json!({"set_id": null})).unwrap();
        let some: PatternChanges = serde_json::from_value(json!({"set_id": 3})).unwrap();
        assert_eq!((absent.set_id, null.set_id, some.set_id), (None, Some(None), Some(Some(3))));
    }
}
