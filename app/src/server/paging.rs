//! Paging and searching the listings of every resource: the query parameters (`q`, `limit`,
//! `offset`) with their rules, the `LIKE` pattern for "name contains", and one helper that
//! runs a page's query and its count.

use super::db::Db;
use super::error::{ensure_valid, Result};
use crate::error::FieldError;
use crate::text::control_problem;
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{Any, FromRow, Row};

/// Most items one page of a listing returns.
pub const PAGE_MAX: i64 = 200;
/// Items per page when the caller does not say.
pub const PAGE_DEFAULT: i64 = 50;
/// Longest search text accepted.
pub const SEARCH_MAX: usize = 100;

/// These rules as the API document states them.
pub mod doc {
    use crate::schema::{integer, plain_line};
    use utoipa::openapi::schema::Object;

    /// Search text: see [`super::ListQuery::checked`].
    pub fn search() -> Object {
        plain_line(super::SEARCH_MAX)
    }

    /// See [`super::window`].
    pub fn limit() -> Object {
        integer(1, super::PAGE_MAX)
    }

    /// See [`super::window`].
    pub fn offset() -> Object {
        integer(0, i64::MAX)
    }
}

/// Which items a listing returns: `?q=&limit=&offset=`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only those whose name contains this text (ignoring case).
    #[param(schema_with = doc::search)]
    pub q: Option<String>,
    /// How many per page, 1–200 (default 50).
    #[param(schema_with = doc::limit)]
    pub limit: Option<i64>,
    /// How many to skip (default 0).
    #[param(schema_with = doc::offset)]
    pub offset: Option<i64>,
}

/// A listing request that passed its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The `LIKE` pattern of names to return (`%` for all), wildcards escaped.
    pub pattern: String,
    pub limit: i64,
    pub offset: i64,
}

/// One page of an unsearchable listing (the audit log): `?limit=&offset=`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// How many per page, 1–200 (default 50).
    #[param(schema_with = doc::limit)]
    pub limit: Option<i64>,
    /// How many to skip (default 0).
    #[param(schema_with = doc::offset)]
    pub offset: Option<i64>,
}

impl PageQuery {
    /// The limit and offset of a valid request; every bad parameter named otherwise.
    pub fn checked(&self) -> Result<(i64, i64)> {
        let mut errors = Vec::new();
        let window = window(self.limit, self.offset, &mut errors);
        ensure_valid(errors)?;
        Ok(window)
    }
}

/// The limit and offset asked for, with a field error for each bad one.
pub fn window(limit: Option<i64>, offset: Option<i64>, errors: &mut Vec<FieldError>) -> (i64, i64) {
    let (limit, offset) = (limit.unwrap_or(PAGE_DEFAULT), offset.unwrap_or(0));
    if !(1..=PAGE_MAX).contains(&limit) {
        errors.push(FieldError::new("limit", format!("Use a limit from 1 to {PAGE_MAX}.")));
    }
    if offset < 0 {
        errors.push(FieldError::new("offset", "Use an offset of 0 or more."));
    }
    (limit, offset)
}

impl ListQuery {
    /// The first page of everything matching `q`, as large as a page may be (the browser's
    /// lists).
    pub fn first_page(q: Option<String>) -> ListQuery {
        ListQuery { q, limit: Some(PAGE_MAX), offset: None }
    }

    /// The pattern, limit and offset of a valid listing request; every bad parameter named
    /// otherwise.
    pub fn checked(&self) -> Result<Page> {
        let mut errors = Vec::new();
        if let Some(q) = &self.q {
            if q.chars().count() > SEARCH_MAX {
                errors.push(FieldError::new("q", format!("Search with at most {SEARCH_MAX} characters.")));
            } else if let Some(problem) = control_problem(q, false) {
                errors.push(FieldError::new("q", problem));
            }
        }
        let (limit, offset) = window(self.limit, self.offset, &mut errors);
        ensure_valid(errors)?;
        Ok(Page { pattern: contains_pattern(self.q.as_deref().unwrap_or("")), limit, offset })
    }
}

/// A `LIKE` pattern matching names that contain `text` (lower case, wildcards escaped, for
/// `LOWER(name) LIKE $n ESCAPE '\'`).
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

/// The texts of one listing's queries, made by [`page_sql!`]. `$1` is the owner, `$2` the
/// name pattern, `$3` and `$4` the page's limit and offset.
#[derive(Clone, Copy, Debug)]
pub struct PageSql {
    /// One round trip, through sqlx's pool (PostgreSQL, and an in-memory SQLite): the page's
    /// rows, each with `total` first, how many rows match (an uncorrelated subquery, which
    /// the database counts once). On PostgreSQL this replaced a page aggregated into one JSON
    /// array by the database: in pgbench the same page read as rows costs PostgreSQL about
    /// two thirds of the CPU (README, *Benchmarks*).
    pub counted_rows: &'static str,
    /// How many rows match: on SQLite's own thread (`server::sqlite_reads`), and through the
    /// pool when a page starts past the last row (no row to carry `total`).
    pub count: &'static str,
    /// On SQLite's own thread, after [`PageSql::count`]: the page's rows.
    pub rows: &'static str,
}

/// Which rows of a [`page_sql!`] listing match: the owner's (`user_id = $1`) whose name
/// contains the search (`$2`, a [`contains_pattern`]). Without a search the pattern is `%%`
/// ([`contains_pattern`] of nothing), which every name matches; testing for it first costs a
/// row one comparison instead of reading, lowering and matching its name (on SQLite, which
/// then counts from the index alone: a page of 50 sets went from 654,374 to 562,604
/// instructions).
#[doc(hidden)]
#[macro_export]
macro_rules! owner_search_where {
    () => {
        "user_id = $1 AND ($2 = '%%' OR LOWER(name) LIKE $2 ESCAPE '\\')"
    };
}

/// The [`PageSql`] of a listing of `table`: one owner's rows whose name contains the search
/// ([`owner_search_where!`]), `order` first, each with `columns` in the order given (the
/// callers' row readers take them by position; stored JSON text comes as text, which they
/// parse). A macro so that every text stays a `&'static str` literal.
#[macro_export]
macro_rules! page_sql {
    (table: $table:literal, order: $order:literal, columns: [$first:literal $(, $rest:literal)* $(,)?] $(,)?) => {
        $crate::server::paging::PageSql {
            counted_rows: concat!(
                "SELECT (SELECT COUNT(*) FROM ", $table, " WHERE ", $crate::owner_search_where!(), ") AS total, ",
                $first, $(", ", $rest,)*
                " FROM ", $table, " WHERE ", $crate::owner_search_where!(), " ORDER BY ", $order, " LIMIT $3 OFFSET $4"
            ),
            count: concat!("SELECT COUNT(*) FROM ", $table, " WHERE ", $crate::owner_search_where!()),
            rows: concat!(
                "SELECT ", $first, $(", ", $rest,)*
                " FROM ", $table, " WHERE ", $crate::owner_search_where!(), " ORDER BY ", $order, " LIMIT $3 OFFSET $4"
            ),
        }
    };
}

/// Runs a [`page_sql!`] listing for `owner` (`$1`) and `page` (`$2` its name pattern, `$3` and
/// `$4` its window): the page's items and the total. Each row becomes an item by
/// `from_sqlite` on SQLite's own thread, by `from_pool` elsewhere.
pub async fn fetch_listing<T>(
    db: &Db,
    sql: PageSql,
    owner: i64,
    page: &Page,
    from_sqlite: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    from_pool: impl FnMut(&AnyRow) -> Result<T>,
) -> Result<(Vec<T>, i64)> {
    if let Some(reads) = db.sqlite_reads() {
        let total = reads.read(sql.count, rusqlite::params![owner, page.pattern], |row| row.get(0))?.unwrap_or(0);
        let rows = reads.read_all(sql.rows, rusqlite::params![owner, page.pattern, page.limit, page.offset], from_sqlite)?;
        return Ok((rows, total));
    }
    let rows = sqlx::query(sql.counted_rows).bind(owner).bind(&page.pattern).bind(page.limit).bind(page.offset).fetch_all(db).await?;
    let total = page_total(db, rows.first(), page.offset, || sqlx::query(sql.count).bind(owner).bind(&page.pattern)).await?;
    let items = rows.iter().map(from_pool).collect::<Result<Vec<T>>>()?;
    Ok((items, total))
}

type AnyArguments = <Any as sqlx::Database>::Arguments;

type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

/// Runs one page's query, whose rows each carry the count of everything the listing matches
/// in a column `total` (an uncorrelated `(SELECT COUNT(*) …) AS total`, which the database
/// runs once), and returns the rows and that total: one statement, so the two always agree.
/// A page that starts past the last row has no row to carry it; then `count` (a `COUNT(*)`
/// query) gives it.
pub async fn fetch_page<'q, R>(
    db: &Db,
    rows: AnyQuery<'q>,
    offset: i64,
    count: impl FnOnce() -> AnyQuery<'q>,
) -> Result<(Vec<R>, i64)>
where
    R: for<'r> FromRow<'r, AnyRow>,
{
    let rows = rows.fetch_all(db).await?;
    let total = page_total(db, rows.first(), offset, count).await?;
    let items = rows.iter().map(R::from_row).collect::<Result<Vec<R>, sqlx::Error>>()?;
    Ok((items, total))
}

/// A listing's total, from its page's first row (`total`). No row: nothing matches, or the
/// page starts past the last row — then `count` (made only then) counts, unless the page is
/// the first.
async fn page_total<'q>(db: &Db, first: Option<&AnyRow>, offset: i64, count: impl FnOnce() -> AnyQuery<'q>) -> Result<i64> {
    Ok(match first {
        Some(row) => row.try_get("total")?,
        None if offset == 0 => 0,
        None => count().fetch_one(db).await?.try_get(0)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_matches_literally() {
        assert_eq!(contains_pattern(" Coat "), "%coat%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn bad_parameters_are_all_named() {
        let bad = ListQuery { q: Some("\u{0}".into()), limit: Some(0), offset: Some(-1) };
        let problem = bad.checked().unwrap_err().into_problem();
        let fields: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["q", "limit", "offset"]);
        let page = ListQuery::default().checked().unwrap();
        assert_eq!((page.limit, page.offset, page.pattern.as_str()), (PAGE_DEFAULT, 0, "%%"));
    }
}
