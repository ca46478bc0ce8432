//! Measurement set rules and their SQL (server only).
//!
//! Who may do what (the level ladder): read own sets at 1, write own at 3; read others' at
//! 5, write others' at 7. Every query filters by owner — or by those staff levels — in its
//! WHERE clause (`auth::scope`), so another person's private set is simply not found; a
//! caller who can read a set but not change it is told `level_too_low`.

use super::{MeasurementSet, NewSet, SetChanges, SetPage};
use crate::auth::scope::{scope_values, write_refusal, BindScope};
use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::levels::Permission::{self, ReadOthersData, ReadOwnData, WriteOthersData, WriteOwnData};
use crate::measurements;
use crate::server::db::{now, rfc3339};
use crate::server::error::ensure_valid;
use crate::page_sql;
use crate::server::paging::{fetch_listing, ListQuery};
use crate::server::sqlite_reads::{debug_assert_columns, Json};
use crate::server::{Error, Result};
use crate::state::AppState;
use crate::text::{text_problems, NAME_MAX};
use sqlx::{FromRow, Row};
use std::collections::BTreeMap;

macro_rules! set_columns {
    () => {
        "s.id, s.name, s.notes, s.imperial, s.public, s.created_at, s.updated_at, s.measurements"
    };
}

/// A stored set: `M` is its measurements as stored (JSON text), or parsed as they are read
/// (in a [`page_sql!`] listing).
#[derive(Debug, FromRow)]
struct SetRow<M = String> {
    id: i64,
    name: String,
    notes: String,
    imperial: i64,
    public: i64,
    measurements: M,
    created_at: i64,
    updated_at: i64,
}

impl<M> SetRow<M> {
    /// The set as the API shows it, with `measurements` in place of the stored ones.
    fn view_with(self, measurements: BTreeMap<String, f64>) -> MeasurementSet {
        MeasurementSet {
            id: self.id,
            name: self.name,
            notes: self.notes,
            imperial: self.imperial != 0,
            public: self.public != 0,
            measurements,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        }
    }
}

impl<M: rusqlite::types::FromSql> SetRow<M> {
    /// A row read on SQLite's own thread (`server::sqlite_reads`): the columns of
    /// [`set_columns!`] (and of [`list`]'s page), by position.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<SetRow<M>> {
        debug_assert_columns(row, &["id", "name", "notes", "imperial", "public", "created_at", "updated_at", "measurements"]);
        Ok(SetRow {
            id: row.get(0)?,
            name: row.get(1)?,
            notes: row.get(2)?,
            imperial: row.get(3)?,
            public: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
            measurements: row.get(7)?,
        })
    }
}

impl SetRow {
    fn view(self) -> Result<MeasurementSet> {
        let measurements = serde_json::from_str(&self.measurements)
            .map_err(|e| Error::internal(format!("set {} holds unreadable measurements: {e}", self.id)))?;
        Ok(self.view_with(measurements))
    }
}

impl SetRow<Json<BTreeMap<String, f64>>> {
    fn view(mut self) -> MeasurementSet {
        let measurements = std::mem::take(&mut self.measurements.0);
        self.view_with(measurements)
    }
}

fn not_found(id: i64) -> Error {
    Error::new(ErrorCode::NotFound, format!("No measurement set {id} that you can see."))
}

/// Creates a set owned by the caller. Nothing is stored when any part is invalid.
pub async fn create(state: &AppState, principal: &Principal, new: NewSet) -> Result<MeasurementSet> {
    principal.require(WriteOwnData)?;
    let mut errors = text_problems(Some(&new.name), new.notes.as_deref());
    errors.extend(measurements::change_problems(new.measurements.as_ref()));
    ensure_valid(errors)?;
    let mut kept = BTreeMap::new();
    measurements::merge(&mut kept, new.measurements.unwrap_or_default());
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
    .fetch_one(&state.db)
    .await?
    .try_get("id")?;
    let stamp = rfc3339(t);
    Ok(MeasurementSet { id, name, notes, imperial, public, measurements: kept, created_at: stamp.clone(), updated_at: stamp })
}

/// Which sets besides the caller's own a lookup may find.
#[derive(Clone, Copy)]
struct Others {
    /// Anyone's, for staff with this permission.
    staff: Permission,
    /// Public sets too, whoever owns them.
    public: bool,
}

/// Reading: the caller's own, or anyone's for staff who read others' sets.
const READABLE: Others = Others { staff: ReadOthersData, public: false };

/// One set: the caller's own at `own`, or one that `others` allows.
async fn fetch(state: &AppState, principal: &Principal, id: i64, own: Permission, others: Others) -> Result<MeasurementSet> {
    principal.require(own)?;
    find(state, principal, id, others).await?.ok_or_else(|| not_found(id))?.view()
}

/// The row of set `id` if the caller owns it or `others` allows it.
async fn find(state: &AppState, principal: &Principal, id: i64, others: Others) -> Result<Option<SetRow>> {
    let sql = concat!(
        "SELECT ",
        set_columns!(),
        " FROM measurement_sets s WHERE s.id = $1 AND (s.user_id = $2 OR $3 >= $4 OR ($5 = 1 AND s.public = 1))"
    );
    let [account, level, staff] = scope_values(principal, others.staff);
    if let Some(reads) = state.db.sqlite_reads() {
        return reads.read(sql, rusqlite::params![id, account, level, staff, others.public as i64], SetRow::from_sqlite);
    }
    // On PostgreSQL: the same condition, for every read waiting at this moment at once.
    let many = concat!(
        "SELECT q.n, ",
        set_columns!(),
        " FROM unnest($1::text::int8[], $2::text::int8[], $3::text::int8[], $4::text::int8[], $5::text::int8[])",
        " WITH ORDINALITY AS q(id, account, level, staff, public, n)",
        " JOIN measurement_sets s ON s.id = q.id",
        " AND (s.user_id = q.account OR q.level >= q.staff OR (q.public = 1 AND s.public = 1))"
    );
    if let Some(reads) = state.db.coalesced(many) {
        let row = reads.read(vec![id, account, level, staff, others.public as i64]).await?;
        return Ok(row.map(|row| SetRow::from_row(&row)).transpose()?);
    }
    Ok(sqlx::query_as::<_, SetRow>(sql)
        .bind(id)
        .bind_scope(principal, others.staff)
        .bind(others.public as i64)
        .fetch_optional(&state.db)
        .await?)
}

/// The refusal of a write to set `id` that the caller may not make: 403 when the caller can
/// read it, 404 when not.
async fn refuse_write(state: &AppState, principal: &Principal, id: i64) -> Result<Error> {
    let readable = find(state, principal, id, READABLE).await?.is_some();
    Ok(write_refusal(principal, readable, WriteOthersData, not_found(id)))
}

/// One set the caller may read.
pub async fn get(state: &AppState, principal: &Principal, id: i64) -> Result<MeasurementSet> {
    fetch(state, principal, id, ReadOwnData, READABLE).await
}

/// The caller's own sets, newest first, one page at a time; `q` narrows them by name
/// ([`page_sql!`]).
pub async fn list(state: &AppState, principal: &Principal, query: ListQuery) -> Result<SetPage> {
    principal.require(ReadOwnData)?;
    let page = query.checked()?;
    let sql = page_sql!(
        table: "measurement_sets",
        order: "id DESC",
        columns: ["id", "name", "notes", "imperial", "public", "created_at", "updated_at", "measurements"],
    );
    let (sets, total) = fetch_listing(
        &state.db,
        sql,
        principal.account.id,
        &page,
        |row| SetRow::<Json<BTreeMap<String, f64>>>::from_sqlite(row).map(|set| set.view()),
        |row| SetRow::<String>::from_row(row)?.view(),
    )
    .await?;
    Ok(SetPage { sets, total, limit: page.limit, offset: page.offset })
}

/// Changes a set: given fields replace, `measurements` merge (`null` clears one). Nothing
/// changes when any part is invalid.
pub async fn update(state: &AppState, principal: &Principal, id: i64, changes: SetChanges) -> Result<MeasurementSet> {
    principal.require(WriteOwnData)?;
    let writable = Others { staff: WriteOthersData, public: false };
    let Some(row) = find(state, principal, id, writable).await? else {
        return Err(refuse_write(state, principal, id).await?);
    };
    let mut set = row.view()?;
    let mut errors = text_problems(changes.name.as_deref(), changes.notes.as_deref());
    errors.extend(measurements::change_problems(changes.measurements.as_ref()));
    ensure_valid(errors)?;
    if let Some(name) = changes.name {
        set.name = name.trim().to_owned();
    }
    if let Some(notes) = changes.notes {
        set.notes = notes;
    }
    set.imperial = changes.imperial.unwrap_or(set.imperial);
    set.public = changes.public.unwrap_or(set.public);
    measurements::merge(&mut set.measurements, changes.measurements.unwrap_or_default());
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
    .bind_scope(principal, WriteOthersData)
    .execute(&state.db)
    .await?;
    set.updated_at = rfc3339(t);
    Ok(set)
}

/// Deletes a set (own at level 3, anyone's at 7).
pub async fn delete(state: &AppState, principal: &Principal, id: i64) -> Result<()> {
    principal.require(WriteOwnData)?;
    let done = sqlx::query("DELETE FROM measurement_sets WHERE id = $1 AND (user_id = $2 OR $3 >= $4)")
        .bind(id)
        .bind_scope(principal, WriteOthersData)
        .execute(&state.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(refuse_write(state, principal, id).await?);
    }
    Ok(())
}

/// Copies a set the caller may read — their own, a public one, or (staff at level 5)
/// anyone's — into a new private set of their own.
pub async fn clone(state: &AppState, principal: &Principal, id: i64) -> Result<MeasurementSet> {
    let source = fetch(state, principal, id, WriteOwnData, Others { staff: ReadOthersData, public: true }).await?;
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
    let row = match state.db.sqlite_reads() {
        Some(reads) => reads.read(sql, [id], SetRow::from_sqlite)?,
        None => sqlx::query_as::<_, SetRow>(sql).bind(id).fetch_optional(&state.db).await?,
    };
    row.ok_or_else(|| Error::new(ErrorCode::NotFound, format!("No public measurement set {id}.")))?
        .view()
}

/// Whether `owner` may link set `set_id` to a pattern: their own set, or a public one.
pub async fn linkable(state: &AppState, owner: i64, set_id: i64) -> Result<bool> {
    let found = sqlx::query("SELECT 1 AS ok FROM measurement_sets WHERE id = $1 AND (user_id = $2 OR public = 1)")
        .bind(set_id)
        .bind(owner)
        .fetch_optional(&state.db)
        .await?;
    Ok(found.is_some())
}

/// Every set of `user_id`, oldest first (for the account export).
pub async fn all_of(state: &AppState, user_id: i64) -> Result<Vec<MeasurementSet>> {
    let sql = concat!("SELECT ", set_columns!(), " FROM measurement_sets s WHERE s.user_id = $1 ORDER BY s.id");
    let rows = sqlx::query_as::<_, SetRow>(sql).bind(user_id).fetch_all(&state.db).await?;
    rows.into_iter().map(|row| row.view()).collect()
}
