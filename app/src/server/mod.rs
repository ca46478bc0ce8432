//! Server-only infrastructure, the bottom layer of the server side: storage, the error type,
//! settings, password hashing, the log-in throttle, the shared store (Redis), request extractors, paging and the HTTP
//! guards every route shares.
//!
//! Layering: nothing here knows about accounts, keys or any other resource; `auth`, `state`
//! and the resources build on it, never the other way round.

pub mod coalesce;
pub mod config;
pub mod cookie;
pub mod db;
pub mod error;
pub mod extract;
pub mod http;
pub mod json;
pub mod paging;
pub mod policy;
pub mod request_id;
pub mod password;
pub mod shared;
pub mod site;
pub mod sqlite_reads;
pub mod throttle;

pub use config::{Config, KeySettings};
pub use db::{Backend, Db};
pub use error::{Error, Result};
