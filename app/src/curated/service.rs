//! Curated set rules and their SQL (server only): anyone reads them; level 5 (curator)
//! and above writes them; level 3 clones one into the caller's own sets.

use super::{CuratedPage, CuratedSet, CuratedSetChanges, NewCuratedSet};
use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::levels::Permission::{WriteCurated, WriteOwnData};
use crate::measurements::{self, change_problems};
use crate::server::db::{now, rfc3339};
use crate::server::error::ensure_valid;
use crate::server::paging::{fetch_page, ListQuery};
use crate::server::{Error, Result};
use crate::sets::{MeasurementSet, NewSet};
use crate::state::AppState;
use crate::text::{text_problems, NAME_MAX};
use sqlx::{FromRow, Row};
use std::collections::BTreeMap;

macro_rules! curated_columns {
    () => {
        "c.id, c.name, c.notes, c.measurements, c.created_at, c.updated_at"
    };
}

/// What `q` narrows the listing to, in its rows and in their count.
macro_rules! curated_search {
    () => {
        "LOWER(name) LIKE $1 ESCAPE '\\'"
    };
}

#[derive(Debug, FromRow)]
struct CuratedRow {
    id: i64,
    name: String,
    notes: String,
    measurements: String,
    created_at: i64,
    updated_at: i64,
}

impl CuratedRow {
    fn view(self) -> Result<CuratedSet> {
        let measurements = serde_json::from_str(&self.measurements)
            .map_err(|e| Error::internal(format!("curated set {} holds unreadable measurements: {e}", self.id)))?;
        Ok(CuratedSet {
            id: self.id,
            name: self.name,
            notes: self.notes,
            measurements,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

fn not_found(id: i64) -> Error {
    Error::new(ErrorCode::NotFound, format!("No curated set {id}."))
}

/// Curated sets, alphabetically, one page at a time; `q` narrows them by name. For anyone.
pub async fn list(state: &AppState, query: ListQuery) -> Result<CuratedPage> {
    let page = query.checked()?;
    let sql = concat!(
        "SELECT (SELECT COUNT(*) FROM curated_sets WHERE ",
        curated_search!(),
        ") AS total, ",
        curated_columns!(),
        " FROM curated_sets c WHERE ",
        curated_search!(),
        " ORDER BY c.name, c.id LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(sql).bind(&page.pattern).bind(page.limit).bind(page.offset);
    let count = || sqlx::query(concat!("SELECT COUNT(*) FROM curated_sets WHERE ", curated_search!())).bind(&page.pattern);
    let (rows, total) = fetch_page::<CuratedRow>(&state.db, rows, page.offset, count).await?;
    Ok(CuratedPage { sets: rows.into_iter().map(CuratedRow::view).collect::<Result<_>>()?, total, limit: page.limit, offset: page.offset })
}

/// One curated set. For anyone.
pub async fn get(state: &AppState, id: i64) -> Result<CuratedSet> {
    let sql = concat!("SELECT ", curated_columns!(), " FROM curated_sets c WHERE c.id = $1");
    sqlx::query_as::<_, CuratedRow>(sql).bind(id).fetch_optional(&state.db).await?.ok_or_else(|| not_found(id))?.view()
}

/// Creates a curated set (level 5). Nothing is stored when any part is invalid.
pub async fn create(state: &AppState, principal: &Principal, new: NewCuratedSet) -> Result<CuratedSet> {
    principal.require(WriteCurated)?;
    let mut errors = text_problems(Some(&new.name), new.notes.as_deref());
    errors.extend(change_problems(new.measurements.as_ref()));
    ensure_valid(errors)?;
    let mut measurements = BTreeMap::new();
    measurements::merge(&mut measurements, new.measurements.unwrap_or_default());
    let (name, notes) = (new.name.trim().to_owned(), new.notes.unwrap_or_default());
    let t = now();
    let id: i64 = sqlx::query(
        "INSERT INTO curated_sets (name, notes, measurements, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(&name)
    .bind(&notes)
    .bind(serde_json::to_string(&measurements).expect("a map of numbers serializes"))
    .bind(principal.account.id)
    .bind(t)
    .fetch_one(&state.db)
    .await?
    .try_get("id")?;
    let stamp = rfc3339(t);
    Ok(CuratedSet { id, name, notes, measurements, created_at: stamp.clone(), updated_at: stamp })
}

/// Changes a curated set (level 5): fields given replace; measurements merge, `null` clears.
pub async fn update(state: &AppState, principal: &Principal, id: i64, changes: CuratedSetChanges) -> Result<CuratedSet> {
    principal.require(WriteCurated)?;
    let mut set = get(state, id).await?;
    let mut errors = text_problems(changes.name.as_deref(), changes.notes.as_deref());
    errors.extend(change_problems(changes.measurements.as_ref()));
    ensure_valid(errors)?;
    if let Some(name) = changes.name {
        set.name = name.trim().to_owned();
    }
    if let Some(notes) = changes.notes {
        set.notes = notes;
    }
    measurements::merge(&mut set.measurements, changes.measurements.unwrap_or_default());
    let t = now();
    let done = sqlx::query("UPDATE curated_sets SET name = $1, notes = $2, measurements = $3, updated_at = $4 WHERE id = $5")
        .bind(&set.name)
        .bind(&set.notes)
        .bind(serde_json::to_string(&set.measurements).expect("a map of numbers serializes"))
        .bind(t)
        .bind(id)
        .execute(&state.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(not_found(id));
    }
    set.updated_at = rfc3339(t);
    Ok(set)
}

/// Deletes a curated set (level 5). Sets cloned from it are the cloners' own and stay.
pub async fn delete(state: &AppState, principal: &Principal, id: i64) -> Result<()> {
    principal.require(WriteCurated)?;
    let done = sqlx::query("DELETE FROM curated_sets WHERE id = $1").bind(id).execute(&state.db).await?;
    if done.rows_affected() == 0 {
        return Err(not_found(id));
    }
    Ok(())
}

/// Copies a curated set into a new private set of the caller's own (level 3).
pub async fn clone(state: &AppState, principal: &Principal, id: i64) -> Result<MeasurementSet> {
    principal.require(WriteOwnData)?;
    let source = get(state, id).await?;
    let copy = NewSet {
        name: source.name.chars().take(NAME_MAX).collect(),
        notes: Some(source.notes),
        imperial: Some(false),
        public: Some(false),
        measurements: Some(source.measurements.into_iter().map(|(k, v)| (k, Some(v))).collect()),
    };
    crate::sets::service::create(state, principal, copy).await
}
