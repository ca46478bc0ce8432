//! Server-only infrastructure shared by every resource: state, storage, errors, sessions,
//! password hashing, throttling and HTTP glue. Resource rules live in their own modules
//! (e.g. `crate::accounts::service`); this module knows nothing about them beyond accounts.

pub mod api;
pub mod auth;
pub mod db;
pub mod error;
pub mod http;
pub mod password;
pub mod session;
pub mod state;
pub mod throttle;

pub use db::{Backend, Db};
pub use error::{Error, Result};
pub use state::{AppState, Config, KeySettings};
