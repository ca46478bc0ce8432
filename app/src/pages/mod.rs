//! Pages, one module per area, over the [`session`] provider and the shared [`components`].
//!
//! Dependencies point one way: pages → components and session → crate resources.

mod account;
mod admin;
mod auth;
pub mod components;
mod curated;
mod home;
mod keys;
pub mod lazy;
mod load;
mod patterns;
pub mod session;
mod sets;

pub use account::Account;
pub use admin::{AdminKeyPage, AdminOverview, AdminUserPage, AdminUsers};
pub use auth::{Login, Signup};
pub use components::Header;
pub use curated::Curated;
pub use home::{ErrorCodes, Home, NotFound};
pub use keys::ApiKeys;
pub use patterns::{PatternEditor, Patterns};
pub use session::provide_session;
pub use sets::{EditSetPage, NewSetPage, SetsPage};
