//! Pattern rules and their SQL (server only).
//!
//! The same ladder as measurement sets: read own patterns at 1, write own at 3; read
//! others' at 5, write others' at 7. Every query filters by owner — or by those staff
//! levels — in its WHERE clause, so another person's private pattern is simply not found.
//! A pattern may link only a set its owner could use: their own, or a public one.

use super::{design_problem, settings_problem, NewPattern, Pattern, PatternChanges, PatternPage};
use crate::error::{ErrorCode, FieldError};
use crate::server::auth::{BindScope, Principal};
use crate::server::db::now;
use crate::server::{AppState, Error, Result};
use crate::sets::service::{check, linkable, text_problems, ListQuery};
use sqlx::{FromRow, Row};

pub const READ_OWN: u8 = 1;
pub const WRITE_OWN: u8 = 3;
pub const READ_OTHERS: u8 = 5;
pub const WRITE_OTHERS: u8 = 7;

macro_rules! pattern_columns {
    () => {
        "p.id, p.user_id, p.name, p.notes, p.design, p.settings, p.set_id, p.public, p.created_at, p.updated_at"
    };
}

#[derive(Debug, FromRow)]
struct PatternRow {
    id: i64,
    user_id: i64,
    name: String,
    notes: String,
    design: String,
    settings: String,
    set_id: Option<i64>,
    public: i64,
    created_at: i64,
    updated_at: i64,
}

impl PatternRow {
    fn view(self) -> Result<Pattern> {
        let settings = serde_json::from_str(&self.settings)
            .map_err(|e| Error::internal(format!("pattern {} holds unreadable settings: {e}", self.id)))?;
        Ok(Pattern {
            id: self.id,
            name: self.name,
            notes: self.notes,
            design: self.design,
            settings,
            set_id: self.set_id,
            public: self.public != 0,
            created_at: crate::server::db::rfc3339(self.created_at),
            updated_at: crate::server::db::rfc3339(self.updated_at),
        })
    }
}

fn not_found(id: i64) -> Error {
    Error::new(ErrorCode::NotFound, format!("No pattern {id} that you can see."))
}

/// The problem with linking `set_id` to a pattern of `owner`, if any: only the owner's own
/// sets and public ones may be linked (another person's private set looks exactly like a
/// set that does not exist).
async fn link_problem(state: &AppState, owner: i64, set_id: Option<i64>) -> Result<Option<FieldError>> {
    Ok(match set_id {
        Some(set_id) if !linkable(state, owner, set_id).await? => Some(FieldError::new(
            "set_id",
            format!("No measurement set {set_id} that this pattern can use: link one of your own sets, or a public one."),
        )),
        _ => None,
    })
}

fn settings_errors(settings: Option<&serde_json::Value>) -> Vec<FieldError> {
    settings.and_then(settings_problem).map(|m| FieldError::new("settings", m)).into_iter().collect()
}

/// Creates a pattern owned by the caller. Nothing is stored when any part is invalid.
pub async fn create(state: &AppState, principal: &Principal, new: NewPattern) -> Result<Pattern> {
    principal.require(WRITE_OWN)?;
    let mut errors = text_problems(Some(&new.name), new.notes.as_deref());
    if let Some(problem) = design_problem(&new.design) {
        errors.push(FieldError::new("design", problem));
    }
    errors.extend(settings_errors(new.settings.as_ref()));
    errors.extend(link_problem(state, principal.account.id, new.set_id).await?);
    check(errors)?;
    let settings = match new.settings {
        Some(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (name, notes) = (new.name.trim().to_owned(), new.notes.unwrap_or_default());
    let public = new.public.unwrap_or(false);
    let t = now();
    let id: i64 = sqlx::query(
        "INSERT INTO patterns (user_id, name, notes, design, settings, set_id, public, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(principal.account.id)
    .bind(&name)
    .bind(&notes)
    .bind(&new.design)
    .bind(serde_json::Value::Object(settings.clone()).to_string())
    .bind(new.set_id)
    .bind(public as i64)
    .bind(t)
    .fetch_one(&state.db.pool)
    .await?
    .try_get("id")?;
    let stamp = crate::server::db::rfc3339(t);
    Ok(Pattern { id, name, notes, design: new.design, settings, set_id: new.set_id, public, created_at: stamp.clone(), updated_at: stamp })
}

/// One pattern row: the caller's own at `own_level`, or anyone's from `others_level` up.
async fn fetch(state: &AppState, principal: &Principal, id: i64, own_level: u8, others_level: u8) -> Result<PatternRow> {
    principal.require(own_level)?;
    let sql = concat!("SELECT ", pattern_columns!(), " FROM patterns p WHERE p.id = $1 AND (p.user_id = $2 OR $3 >= $4)");
    sqlx::query_as::<_, PatternRow>(sql)
        .bind(id)
        .bind_scope(principal, others_level)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| not_found(id))
}

/// One pattern the caller may read.
pub async fn get(state: &AppState, principal: &Principal, id: i64) -> Result<Pattern> {
    fetch(state, principal, id, READ_OWN, READ_OTHERS).await?.view()
}

/// A public pattern, for anyone. Its `set_id` shows only when that set is public too.
pub async fn get_public(state: &AppState, id: i64) -> Result<Pattern> {
    let sql = concat!(
        "SELECT ",
        pattern_columns!(),
        " FROM patterns p WHERE p.id = $1 AND p.public = 1"
    );
    let row = sqlx::query_as::<_, PatternRow>(sql)
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No public pattern {id}.")))?;
    let mut pattern = row.view()?;
    if let Some(set_id) = pattern.set_id {
        let public = sqlx::query("SELECT 1 AS ok FROM measurement_sets WHERE id = $1 AND public = 1")
            .bind(set_id)
            .fetch_optional(&state.db.pool)
            .await?;
        if public.is_none() {
            pattern.set_id = None;
        }
    }
    Ok(pattern)
}

/// The caller's own patterns, newest first, one page at a time; `q` narrows them by name.
pub async fn list(state: &AppState, principal: &Principal, query: ListQuery) -> Result<PatternPage> {
    principal.require(READ_OWN)?;
    let (pattern, limit, offset) = query.checked()?;
    let sql = concat!(
        "SELECT ",
        pattern_columns!(),
        " FROM patterns p WHERE p.user_id = $1 AND LOWER(p.name) LIKE $2 ESCAPE '\\' ORDER BY p.id DESC LIMIT $3 OFFSET $4"
    );
    let rows = sqlx::query_as::<_, PatternRow>(sql)
        .bind(principal.account.id)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&state.db.pool)
        .await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM patterns WHERE user_id = $1 AND LOWER(name) LIKE $2 ESCAPE '\\'")
        .bind(principal.account.id)
        .bind(&pattern)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")?;
    Ok(PatternPage { patterns: rows.into_iter().map(PatternRow::view).collect::<Result<_>>()?, total, limit, offset })
}

/// Changes a pattern: given fields replace (settings whole); `set_id: null` unlinks. The
/// design cannot change. Nothing changes when any part is invalid.
pub async fn update(state: &AppState, principal: &Principal, id: i64, changes: PatternChanges) -> Result<Pattern> {
    let row = fetch(state, principal, id, WRITE_OWN, WRITE_OTHERS).await?;
    let owner = row.user_id;
    let mut pattern = row.view()?;
    let mut errors = text_problems(changes.name.as_deref(), changes.notes.as_deref());
    if changes.design.as_ref().is_some_and(|d| *d != pattern.design) {
        errors.push(FieldError::new(
            "design",
            format!("A pattern's design cannot change (this one is '{}'). Create a new pattern instead.", pattern.design),
        ));
    }
    errors.extend(settings_errors(changes.settings.as_ref()));
    // Checked against the pattern's owner: staff editing it cannot link their own sets.
    errors.extend(link_problem(state, owner, changes.set_id.flatten()).await?);
    check(errors)?;
    if let Some(set_id) = changes.set_id {
        pattern.set_id = set_id;
    }
    if let Some(name) = changes.name {
        pattern.name = name.trim().to_owned();
    }
    if let Some(notes) = changes.notes {
        pattern.notes = notes;
    }
    if let Some(serde_json::Value::Object(settings)) = changes.settings {
        pattern.settings = settings;
    }
    pattern.public = changes.public.unwrap_or(pattern.public);
    let t = now();
    sqlx::query(
        "UPDATE patterns SET name = $1, notes = $2, settings = $3, set_id = $4, public = $5, updated_at = $6 \
         WHERE id = $7 AND (user_id = $8 OR $9 >= $10)",
    )
    .bind(&pattern.name)
    .bind(&pattern.notes)
    .bind(serde_json::Value::Object(pattern.settings.clone()).to_string())
    .bind(pattern.set_id)
    .bind(pattern.public as i64)
    .bind(t)
    .bind(id)
    .bind_scope(principal, WRITE_OTHERS)
    .execute(&state.db.pool)
    .await?;
    pattern.updated_at = crate::server::db::rfc3339(t);
    Ok(pattern)
}

/// Deletes a pattern (own at level 3, anyone's at 7).
pub async fn delete(state: &AppState, principal: &Principal, id: i64) -> Result<()> {
    principal.require(WRITE_OWN)?;
    let done = sqlx::query("DELETE FROM patterns WHERE id = $1 AND (user_id = $2 OR $3 >= $4)")
        .bind(id)
        .bind_scope(principal, WRITE_OTHERS)
        .execute(&state.db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(not_found(id));
    }
    Ok(())
}

/// Every pattern of `user_id`, oldest first (for the account export).
pub async fn all_of(state: &AppState, user_id: i64) -> Result<Vec<Pattern>> {
    let sql = concat!("SELECT ", pattern_columns!(), " FROM patterns p WHERE p.user_id = $1 ORDER BY p.id");
    let rows = sqlx::query_as::<_, PatternRow>(sql).bind(user_id).fetch_all(&state.db.pool).await?;
    rows.into_iter().map(PatternRow::view).collect()
}
