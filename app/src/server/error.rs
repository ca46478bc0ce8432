//! The server's error type. Services return `Result<T>`; the edges (REST handlers, server
//! functions, middleware) turn an [`Error`] into the one wire shape, [`Problem`].
//!
//! Internal failures (database, hashing, I/O) are logged here, in full, when they are turned
//! into a response; the client only learns that something went wrong.

use crate::error::{ErrorCode, FieldError, Problem};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderName, HeaderValue, StatusCode};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client-facing problem, already in its final shape.
    #[error("{0}")]
    Problem(Box<Problem>),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Error::Problem(Box::new(Problem::new(code, detail)))
    }

    pub fn field(code: ErrorCode, field: &str, detail: impl Into<String>) -> Self {
        Error::Problem(Box::new(Problem::new(code, detail).with_field(field)))
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Error::Problem(Box::new(Problem::validation(errors)))
    }

    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        let mut p = Problem::new(
            ErrorCode::TooManyAttempts,
            format!("Too many attempts. Try again in {retry_after_secs} seconds."),
        );
        p.retry_after = Some(retry_after_secs);
        Error::Problem(Box::new(p))
    }

    /// `429` for a spent rate limit or quota (`rate_limited`, `quota_exceeded`), with the
    /// seconds until a call will succeed (also sent as `Retry-After`).
    pub fn limited(code: ErrorCode, detail: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut p = Problem::new(code, detail);
        p.retry_after = Some(retry_after_secs);
        Error::Problem(Box::new(p))
    }

    pub fn internal(what: impl Into<String>) -> Self {
        Error::Internal(what.into())
    }

    /// The client-facing shape. Internal errors are logged here and made opaque; their
    /// problem carries the request's id, to be quoted in a report (the log has it too).
    pub fn into_problem(self) -> Problem {
        let mut problem = match self {
            Error::Problem(p) => return *p,
            Error::Database(e) if is_unavailable(&e) => {
                tracing::error!(error = %e, "database unavailable");
                Problem::new(ErrorCode::ServiceUnavailable, "The database is not reachable. Try again shortly.")
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Problem::new(ErrorCode::Internal, "Something went wrong on the server. It has been logged.")
            }
        };
        problem.request_id = super::request_id::current();
        problem
    }
}

/// Whether `e` says the database cannot be reached now (answered `503`), not that the query
/// failed.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        // PostgreSQL going away or refusing connections. The first query on a pooled
        // connection that a stopping server ended gets this answer (connections are not
        // pinged before every query); that connection is then dropped (server::db).
        e => server_ended_session(e),
    }
}

/// Whether PostgreSQL refused or ended the session (SQLSTATE class 57P: shutting down,
/// restarting, cannot connect now; class 08: connection exception): the database's state,
/// not the query's fault.
pub fn server_ended_session(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

/// `Ok` when `errors` is empty, else one `422 validation_failed` listing them all.
pub fn ensure_valid(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(errors))
    }
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Self {
        Error::Problem(Box::new(p))
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        e.into_problem()
    }
}

/// The headers every error response carries besides its body: `WWW-Authenticate` on 401 and
/// `Retry-After` when the problem says how long to wait.
pub fn problem_headers(problem: &Problem) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = Vec::new();
    if problem.status == StatusCode::UNAUTHORIZED.as_u16() {
        headers.push((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="tapeline", Basic realm="tapeline""#),
        ));
    }
    if let Some(secs) = problem.retry_after {
        headers.push((header::RETRY_AFTER, HeaderValue::from(secs)));
    }
    headers
}

/// Writes a [`Problem`] as `application/problem+json` with its [`problem_headers`].
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    headers.extend(problem_headers(problem));
    res
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        problem_response(&self.into_problem())
    }
}
