//! Pattern rules and their SQL (server only).
//!
//! The same ladder as measurement sets: read own patterns at 1, write own at 3; read
//! others' at 5, write others' at 7. Every query filters by owner — or by those staff
//! levels — in its WHERE clause (`auth::scope`), so another person's private pattern is
//! simply not found; a caller who can read a pattern but not change it is told
//! `level_too_low`.
//! A pattern may link only a set its owner could use: their own, or a public one.

use super::{design_problem, settings_problem, NewPattern, Pattern, PatternChanges, PatternPage, SetChoice};
use crate::auth::scope::{scope_values, write_refusal, BindScope};
use crate::auth::Principal;
use crate::error::{ErrorCode, FieldError};
use crate::levels::Permission::{self, ReadOthersData, ReadOwnData, WriteOthersData, WriteOwnData};
use crate::server::db::{now, rfc3339};
use crate::server::error::ensure_valid;
use crate::page_sql;
use crate::server::paging::{fetch_listing, ListQuery};
use crate::server::sqlite_reads::{debug_assert_columns, Json};
use crate::server::{Error, Result};
use crate::sets::service::linkable;
use crate::state::AppState;
use crate::text::text_problems;
use sqlx::{FromRow, Row};

macro_rules! pattern_columns {
    () => {
        "p.id, p.user_id, p.name, p.notes, p.design, p.set_id, p.public, p.created_at, p.updated_at, p.settings"
    };
}

/// A stored pattern: `S` is its settings as stored (JSON text), or parsed as they are read
/// (in a [`page_sql!`] listing).
#[derive(Debug, FromRow)]
struct PatternRow<S = String> {
    id: i64,
    user_id: i64,
    name: String,
    notes: String,
    design: String,
    settings: S,
    set_id: Option<i64>,
    public: i64,
    created_at: i64,
    updated_at: i64,
}

type Settings = serde_json::Map<String, serde_json::Value>;

impl<S: rusqlite::types::FromSql> PatternRow<S> {
    /// A row read on SQLite's own thread (`server::sqlite_reads`): the columns of
    /// [`pattern_columns!`] (and of [`list`]'s page), by position.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<PatternRow<S>> {
        let columns = ["id", "user_id", "name", "notes", "design", "set_id", "public", "created_at", "updated_at", "settings"];
        debug_assert_columns(row, &columns);
        Ok(PatternRow {
            id: row.get(0)?,
            user_id: row.get(1)?,
            name: row.get(2)?,
            notes: row.get(3)?,
            design: row.get(4)?,
            set_id: row.get(5)?,
            public: row.get(6)?,
            created_at: row.get(7)?,
            updated_at: row.get(8)?,
            settings: row.get(9)?,
        })
    }
}

impl<S> PatternRow<S> {
    /// The pattern as the API shows it, with `settings` in place of the stored ones.
    fn view_with(self, settings: Settings) -> Pattern {
        Pattern {
            id: self.id,
            name: self.name,
            notes: self.notes,
            design: self.design,
            settings,
            set_id: self.set_id,
            public: self.public != 0,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        }
    }
}

impl PatternRow {
    fn view(self) -> Result<Pattern> {
        let settings = serde_json::from_str(&self.settings)
            .map_err(|e| Error::internal(format!("pattern {} holds unreadable settings: {e}", self.id)))?;
        Ok(self.view_with(settings))
    }
}

impl PatternRow<Json<Settings>> {
    fn view(mut self) -> Pattern {
        let settings = std::mem::take(&mut self.settings.0);
        self.view_with(settings)
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

/// Refuses a create or a change: every problem at once (422) when anything in the request is
/// malformed. A request that is well formed may still ask for what the pattern's state does
/// not allow — a different design (409 `conflict`) — or name a set it cannot use (404
/// `not_found`, like any other id that names nothing); each names its field.
fn refuse(mut errors: Vec<FieldError>, design: Option<FieldError>, link: Option<FieldError>) -> Result<()> {
    if !errors.is_empty() {
        errors.extend(design.into_iter().chain(link));
        return ensure_valid(errors);
    }
    if let Some(design) = design {
        return Err(Error::field(ErrorCode::Conflict, &design.field, design.message));
    }
    if let Some(link) = link {
        return Err(Error::field(ErrorCode::NotFound, &link.field, link.message));
    }
    Ok(())
}

fn settings_errors(settings: Option<&serde_json::Value>) -> Vec<FieldError> {
    settings.and_then(settings_problem).map(|m| FieldError::new("settings", m)).into_iter().collect()
}

/// Creates a pattern owned by the caller. Nothing is stored when any part is invalid.
pub async fn create(state: &AppState, principal: &Principal, new: NewPattern) -> Result<Pattern> {
    principal.require(WriteOwnData)?;
    let mut errors = text_problems(Some(&new.name), new.notes.as_deref());
    if let Some(problem) = design_problem(&new.design) {
        errors.push(FieldError::new("design", problem));
    }
    errors.extend(settings_errors(new.settings.as_ref()));
    let link = link_problem(state, principal.account.id, new.set_id).await?;
    refuse(errors, None, link)?;
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
    .fetch_one(&state.db)
    .await?
    .try_get("id")?;
    let stamp = rfc3339(t);
    Ok(Pattern { id, name, notes, design: new.design, settings, set_id: new.set_id, public, created_at: stamp.clone(), updated_at: stamp })
}

/// One pattern row: the caller's own at `own`, or anyone's for staff with `others`.
async fn fetch(state: &AppState, principal: &Principal, id: i64, own: Permission, others: Permission) -> Result<PatternRow> {
    principal.require(own)?;
    find(state, principal, id, others).await?.ok_or_else(|| not_found(id))
}

/// The row of pattern `id` if the caller owns it or acts at `others`' level.
async fn find(state: &AppState, principal: &Principal, id: i64, others: Permission) -> Result<Option<PatternRow>> {
    let sql = concat!("SELECT ", pattern_columns!(), " FROM patterns p WHERE p.id = $1 AND (p.user_id = $2 OR $3 >= $4)");
    let [account, level, staff] = scope_values(principal, others);
    if let Some(reads) = state.db.sqlite_reads() {
        return reads.read(sql, [id, account, level, staff], PatternRow::from_sqlite);
    }
    // On PostgreSQL: the same condition, for every read waiting at this moment at once.
    let many = concat!(
        "SELECT q.n, ",
        pattern_columns!(),
        " FROM unnest($1::text::int8[], $2::text::int8[], $3::text::int8[], $4::text::int8[])",
        " WITH ORDINALITY AS q(id, account, level, staff, n)",
        " JOIN patterns p ON p.id = q.id AND (p.user_id = q.account OR q.level >= q.staff)"
    );
    if let Some(reads) = state.db.coalesced(many) {
        let row = reads.read(vec![id, account, level, staff]).await?;
        return Ok(row.map(|row| PatternRow::from_row(&row)).transpose()?);
    }
    Ok(sqlx::query_as::<_, PatternRow>(sql).bind(id).bind_scope(principal, others).fetch_optional(&state.db).await?)
}

/// The refusal of a write to pattern `id` that the caller may not make: 403 when the caller
/// can read it, 404 when not.
async fn refuse_write(state: &AppState, principal: &Principal, id: i64) -> Result<Error> {
    let readable = find(state, principal, id, ReadOthersData).await?.is_some();
    Ok(write_refusal(principal, readable, WriteOthersData, not_found(id)))
}

/// One pattern the caller may read.
pub async fn get(state: &AppState, principal: &Principal, id: i64) -> Result<Pattern> {
    fetch(state, principal, id, ReadOwnData, ReadOthersData).await?.view()
}

/// What the pattern editor opens with: the pattern (none for a new one) and the caller's
/// sets it could be linked to.
pub async fn editor(state: &AppState, principal: &Principal, id: Option<i64>) -> Result<(Option<Pattern>, Vec<SetChoice>)> {
    let pattern = match id {
        Some(id) => Some(get(state, principal, id).await?),
        None => None,
    };
    let sets = crate::sets::service::all_of(state, principal.account.id).await?;
    Ok((pattern, sets.into_iter().map(|s| SetChoice { id: s.id, name: s.name }).collect()))
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
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No public pattern {id}.")))?;
    let mut pattern = row.view()?;
    if let Some(set_id) = pattern.set_id {
        let public = sqlx::query("SELECT 1 AS ok FROM measurement_sets WHERE id = $1 AND public = 1")
            .bind(set_id)
            .fetch_optional(&state.db)
            .await?;
        if public.is_none() {
            pattern.set_id = None;
        }
    }
    Ok(pattern)
}

/// The caller's own patterns, newest first, one page at a time; `q` narrows them by name
/// ([`page_sql!`]).
pub async fn list(state: &AppState, principal: &Principal, query: ListQuery) -> Result<PatternPage> {
    principal.require(ReadOwnData)?;
    let page = query.checked()?;
    let sql = page_sql!(
        table: "patterns",
        order: "id DESC",
        columns: ["id", "user_id", "name", "notes", "design", "set_id", "public", "created_at", "updated_at", "settings"],
    );
    let (patterns, total) = fetch_listing(
        &state.db,
        sql,
        principal.account.id,
        &page,
        |row| PatternRow::<Json<Settings>>::from_sqlite(row).map(|pattern| pattern.view()),
        |row| PatternRow::<String>::from_row(row)?.view(),
    )
    .await?;
    Ok(PatternPage { patterns, total, limit: page.limit, offset: page.offset })
}

/// Changes a pattern: given fields replace (settings whole); `set_id: null` unlinks. The
/// design cannot change. Nothing changes when any part is invalid.
pub async fn update(state: &AppState, principal: &Principal, id: i64, changes: PatternChanges) -> Result<Pattern> {
    principal.require(WriteOwnData)?;
    let Some(row) = find(state, principal, id, WriteOthersData).await? else {
        return Err(refuse_write(state, principal, id).await?);
    };
    let owner = row.user_id;
    let mut pattern = row.view()?;
    let mut errors = text_problems(changes.name.as_deref(), changes.notes.as_deref());
    let design = changes.design.as_ref().filter(|d| **d != pattern.design).map(|_| {
        FieldError::new(
            "design",
            format!("A pattern's design cannot change (this one is '{}'). Create a new pattern instead.", pattern.design),
        )
    });
    errors.extend(settings_errors(changes.settings.as_ref()));
    // Checked against the pattern's owner: staff editing it cannot link their own sets.
    let link = link_problem(state, owner, changes.set_id.flatten()).await?;
    refuse(errors, design, link)?;
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
    .bind_scope(principal, WriteOthersData)
    .execute(&state.db)
    .await?;
    pattern.updated_at = rfc3339(t);
    Ok(pattern)
}

/// Deletes a pattern (own at level 3, anyone's at 7).
pub async fn delete(state: &AppState, principal: &Principal, id: i64) -> Result<()> {
    principal.require(WriteOwnData)?;
    let done = sqlx::query("DELETE FROM patterns WHERE id = $1 AND (user_id = $2 OR $3 >= $4)")
        .bind(id)
        .bind_scope(principal, WriteOthersData)
        .execute(&state.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(refuse_write(state, principal, id).await?);
    }
    Ok(())
}

/// Every pattern of `user_id`, oldest first (for the account export).
pub async fn all_of(state: &AppState, user_id: i64) -> Result<Vec<Pattern>> {
    let sql = concat!("SELECT ", pattern_columns!(), " FROM patterns p WHERE p.user_id = $1 ORDER BY p.id");
    let rows = sqlx::query_as::<_, PatternRow>(sql).bind(user_id).fetch_all(&state.db).await?;
    rows.into_iter().map(|row| row.view()).collect()
}
