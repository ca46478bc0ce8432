//! Measurement set rules and their SQL (server only).
//!
//! Who may do what (the level ladder): read own sets at 1, write own at 3; read others' at
//! 5, write others' at 7. Every query filters by owner — or by those staff levels — in its
//! WHERE clause, so another person's private set is simply not found.

use super::{MeasurementSet, NewSet, SetChanges, SetPage};
use crate::error::{ErrorCode, FieldError};
use crate::measurements;
use crate::server::auth::{BindScope, Principal};
use crate::server::db::now;
use crate::server::{AppState, Error, Result};
use sqlx::{FromRow, Row};
use std::collections::BTreeMap;

pub const READ_OWN: u8 = 1;
pub const WRITE_OWN: u8 = 3;
pub const READ_OTHERS: u8 = 5;
pub const WRITE_OTHERS: u8 = 7;
pub const NAME_MAX: usize = 100;
pub const NOTES_MAX: usize = 10_000;
/// Most sets one page of a listing returns.
pub const PAGE_MAX: i64 = 200;

macro_rules! set_columns {
    () => {
        "s.id, s.name, s.notes, s.imperial, s.public, s.measurements, s.created_at, s.updated_at"
    };
}

#[derive(Debug, FromRow)]
pub(crate) struct SetRow {
    id: i64,
    name: String,
    notes: String,
    imperial: i64,
    public: i64,
    measurements: String,
    created_at: i64,
    updated_at: i64,
}

impl SetRow {
    pub(crate) fn view(self) -> Result<MeasurementSet> {
        let measurements: BTreeMap<String, f64> = serde_json::from_str(&self.measurements)
            .map_err(|e| Error::internal(format!("set {} holds unreadable measurements: {e}", self.id)))?;
        Ok(MeasurementSet {
            id: self.id,
            name: self.name,
            notes: self.notes,
            imperial: self.imperial != 0,
            public: self.public != 0,
            measurements,
            created_at: crate::server::db::rfc3339(self.created_at),
            updated_at: crate::server::db::rfc3339(self.updated_at),
        })
    }
}

fn not_found(id: i64) -> Error {
    Error::new(ErrorCode::NotFound, format!("No measurement set {id} that you can see."))
}

/// Name and notes rules, shared by create and update (and by patterns and curated sets).
pub(crate) fn text_problems(name: Option<&str>, notes: Option<&str>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(name) = name {
        let len = name.trim().chars().count();
        if len == 0 {
            errors.push(FieldError::new("name", "Give it a name."));
        } else if len > NAME_MAX {
            errors.push(FieldError::new("name", format!("Use at most {NAME_MAX} characters.")));
        }
    }
    if notes.is_some_and(|n| n.chars().count() > NOTES_MAX) {
        errors.push(FieldError::new("notes", format!("Use at most {NOTES_MAX} characters.")));
    }
    errors
}

/// `Ok` when there are no problems, else one 422 listing them all.
pub(crate) fn check(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(errors))
    }
}

/// Problems with measurement values sent in a create or a change (`null` clears one).
pub(crate) fn measurement_problems(values: Option<&BTreeMap<String, Option<f64>>>) -> Vec<FieldError> {
    values.map(|v| measurements::problems(v.iter().map(|(k, v)| (k.as_str(), *v)))).unwrap_or_default()
}

/// Merges checked measurement changes into `stored`: a value sets, `null` clears.
pub(crate) fn merge(stored: &mut BTreeMap<String, f64>, changes: BTreeMap<String, Option<f64>>) {
    for (name, value) in changes {
        match value {
            Some(v) => stored.insert(name, v),
            None => stored.remove(&name),
        };
    }
}

/// Creates a set owned by the caller. Nothing is stored when any part is invalid.
pub async fn create(state: &AppState, principal: &Principal, new: NewSet) -> Result<MeasurementSet> {
    principal.require(WRITE_OWN)?;
    let mut errors = text_problems(Some(&new.name), new.notes.as_deref());
    errors.extend(measurement_problems(new.measurements.as_ref()));
    check(errors)?;
    let mut kept = BTreeMap::new();
    merge(&mut kept, new.measurements.unwrap_or_default());
    let (name, notes) = (new.name.trim().to_owned(), new.notes.unwrap_or_default());
    let (imperial, public) = (new.imperial.unwrap_or(false), new.public.unwrap_or(false));
    let t = now();
    let id: i64 = sqlx::query(
        "INSERT INTO measurement_sets (user_id, name, notes, imperial, public, measurements, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(principal.account.id)
    .bind(&name)
    .bind(&notes)
    .bind(imperial as i64)
    .bind(public as i64)
    .bind(serde_json::to_string(&kept).expect("a map of numbers serializes"))
    .bind(t)
    .fetch_one(&state.db.pool)
    .await?
    .try_get("id")?;
    let stamp = crate::server::db::rfc3339(t);
    Ok(MeasurementSet { id, name, notes, imperial, public, measurements: kept, created_at: stamp.clone(), updated_at: stamp })
}

/// Which sets besides the caller's own a lookup may find.
#[derive(Clone, Copy)]
struct Others {
    /// Anyone's, for staff at this level or above.
    level: u8,
    /// Public sets too, whoever owns them.
    public: bool,
}

/// One set: the caller's own at `own_level`, or one that `others` allows.
async fn fetch(state: &AppState, principal: &Principal, id: i64, own_level: u8, others: Others) -> Result<MeasurementSet> {
    principal.require(own_level)?;
    let sql = concat!(
        "SELECT ",
        set_columns!(),
        " FROM measurement_sets s WHERE s.id = $1 AND (s.user_id = $2 OR $3 >= $4 OR ($5 = 1 AND s.public = 1))"
    );
    sqlx::query_as::<_, SetRow>(sql)
        .bind(id)
        .bind_scope(principal, others.level)
        .bind(others.public as i64)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| not_found(id))?
        .view()
}

/// One set the caller may read.
pub async fn get(state: &AppState, principal: &Principal, id: i64) -> Result<MeasurementSet> {
    fetch(state, principal, id, READ_OWN, Others { level: READ_OTHERS, public: false }).await
}

/// Which of the caller's sets a listing returns.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// Only sets whose name contains this, ignoring case.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Longest search text accepted.
pub const SEARCH_MAX: usize = 100;

/// A `LIKE` pattern matching names that contain `text` (lower case, wildcards escaped).
pub fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .trim()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

impl ListQuery {
    /// The `LIKE` pattern, limit and offset of a valid listing request; every bad parameter
    /// named otherwise.
    pub fn checked(&self) -> Result<(String, i64, i64)> {
        let (limit, offset) = (self.limit.unwrap_or(50), self.offset.unwrap_or(0));
        let mut errors = Vec::new();
        if self.q.as_ref().is_some_and(|q| q.chars().count() > SEARCH_MAX) {
            errors.push(FieldError::new("q", format!("Search with at most {SEARCH_MAX} characters.")));
        }
        if !(1..=PAGE_MAX).contains(&limit) {
            errors.push(FieldError::new("limit", format!("Use a limit from 1 to {PAGE_MAX}.")));
        }
        if offset < 0 {
            errors.push(FieldError::new("offset", "Use an offset of 0 or more."));
        }
        check(errors)?;
        Ok((contains_pattern(self.q.as_deref().unwrap_or("")), limit, offset))
    }
}

/// The caller's own sets, newest first, one page at a time; `q` narrows them by name.
pub async fn list(state: &AppState, principal: &Principal, query: ListQuery) -> Result<SetPage> {
    principal.require(READ_OWN)?;
    let (pattern, limit, offset) = query.checked()?;
    let sql = concat!(
        "SELECT ",
        set_columns!(),
        " FROM measurement_sets s WHERE s.user_id = $1 AND LOWER(s.name) LIKE $2 ESCAPE '\\' \
         ORDER BY s.id DESC LIMIT $3 OFFSET $4"
    );
    let rows = sqlx::query_as::<_, SetRow>(sql)
        .bind(principal.account.id)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&state.db.pool)
        .await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM measurement_sets WHERE user_id = $1 AND LOWER(name) LIKE $2 ESCAPE '\\'")
        .bind(principal.account.id)
        .bind(&pattern)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")?;
    Ok(SetPage { sets: rows.into_iter().map(SetRow::view).collect::<Result<_>>()?, total, limit, offset })
}

/// Changes a set: given fields replace, `measurements` merge (`null` clears one). Nothing
/// changes when any part is invalid.
pub async fn update(state: &AppState, principal: &Principal, id: i64, changes: SetChanges) -> Result<MeasurementSet> {
    let mut set = fetch(state, principal, id, WRITE_OWN, Others { level: WRITE_OTHERS, public: false }).await?;
    let mut errors = text_problems(changes.name.as_deref(), changes.notes.as_deref());
    errors.extend(measurement_problems(changes.measurements.as_ref()));
    check(errors)?;
    if let Some(name) = changes.name {
        set.name = name.trim().to_owned();
    }
    if let Some(notes) = changes.notes {
        set.notes = notes;
    }
    set.imperial = changes.imperial.unwrap_or(set.imperial);
    set.public = changes.public.unwrap_or(set.public);
    merge(&mut set.measurements, changes.measurements.unwrap_or_default());
    let t = now();
    sqlx::query(
        "UPDATE measurement_sets SET name = $1, notes = $2, imperial = $3, public = $4, measurements = $5, updated_at = $6 \
         WHERE id = $7 AND (user_id = $8 OR $9 >= $10)",
    )
    .bind(&set.name)
    .bind(&set.notes)
    .bind(set.imperial as i64)
    .bind(set.public as i64)
    .bind(serde_json::to_string(&set.measurements).expect("a map of numbers serializes"))
    .bind(t)
    .bind(id)
    .bind_scope(principal, WRITE_OTHERS)
    .execute(&state.db.pool)
    .await?;
    set.updated_at = crate::server::db::rfc3339(t);
    Ok(set)
}

/// Deletes a set (own at level 3, anyone's at 7).
pub async fn delete(state: &AppState, principal: &Principal, id: i64) -> Result<()> {
    principal.require(WRITE_OWN)?;
    let done = sqlx::query("DELETE FROM measurement_sets WHERE id = $1 AND (user_id = $2 OR $3 >= $4)")
        .bind(id)
        .bind_scope(principal, WRITE_OTHERS)
        .execute(&state.db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(not_found(id));
    }
    Ok(())
}

/// Copies a set the caller may read — their own, a public one, or (staff at level 5)
/// anyone's — into a new private set of their own.
pub async fn clone(state: &AppState, principal: &Principal, id: i64) -> Result<MeasurementSet> {
    principal.require(WRITE_OWN)?;
    let source = fetch(state, principal, id, WRITE_OWN, Others { level: READ_OTHERS, public: true }).await?;
    let copy = NewSet {
        name: format!("{} (copy)", source.name).chars().take(NAME_MAX).collect(),
        notes: Some(source.notes),
        imperial: Some(source.imperial),
        public: Some(false),
        measurements: Some(source.measurements.into_iter().map(|(k, v)| (k, Some(v))).collect()),
    };
    create(state, principal, copy).await
}

/// A public set, for anyone (no caller): the public read route.
pub async fn get_public(state: &AppState, id: i64) -> Result<MeasurementSet> {
    let sql = concat!("SELECT ", set_columns!(), " FROM measurement_sets s WHERE s.id = $1 AND s.public = 1");
    sqlx::query_as::<_, SetRow>(sql)
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No public measurement set {id}.")))?
        .view()
}

/// Whether `owner` may link set `set_id` to a pattern: their own set, or a public one.
pub async fn linkable(state: &AppState, owner: i64, set_id: i64) -> Result<bool> {
    let found = sqlx::query("SELECT 1 AS ok FROM measurement_sets WHERE id = $1 AND (user_id = $2 OR public = 1)")
        .bind(set_id)
        .bind(owner)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(found.is_some())
}

/// Every set of `user_id`, oldest first (for the account export).
pub async fn all_of(state: &AppState, user_id: i64) -> Result<Vec<MeasurementSet>> {
    let sql = concat!("SELECT ", set_columns!(), " FROM measurement_sets s WHERE s.user_id = $1 ORDER BY s.id");
    let rows = sqlx::query_as::<_, SetRow>(sql).bind(user_id).fetch_all(&state.db.pool).await?;
    rows.into_iter().map(SetRow::view).collect()
}
