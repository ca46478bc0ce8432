//! Authentication: who is calling, and at what level.
//!
//! - [`account`]: the stored account every caller resolves to;
//! - [`session`]: browser sessions (records keyed by the hash of the cookie's token);
//! - [`token`] and [`keys`]: API key tokens, and the key store that verifies them;
//! - [`key_cache`]: stored keys remembered for a moment, forgotten on any change;
//! - [`usage`]: per-key usage, counted in memory and written in batches;
//! - [`limits`]: fair use — each key's rate and daily quota, the per-address limit of
//!   anonymous calls, and the layer that writes their headers;
//! - [`principal`]: the [`Principal`] extractor (session or key) that handlers take;
//! - [`scope`]: the owner-or-staff condition every query on a person's object carries.
//!
//! Layering: below the resources and above the infrastructure (`server`). Resource
//! services depend on [`Principal`]; nothing here calls a resource.

pub mod account;
pub mod key_cache;
pub mod keys;
pub mod limits;
pub mod principal;
pub mod scope;
pub mod session;
pub mod token;
pub mod usage;

pub use account::Account;
pub use principal::{KeyAuth, Principal};
pub use scope::BindScope;

use crate::server::db::Db;
use crate::server::Config;
use key_cache::KeyCache;
use limits::Limiter;
use std::collections::HashMap;
use usage::Usage;

/// The state of `id` (a key's id, a client's address) in a map of per-caller state (the
/// limiter's, the usage counter's), made with its default when missing. One seen before is
/// found without copying `id`: every key call, and every anonymous one, comes here.
fn state_of<'m, V: Default>(map: &'m mut HashMap<String, V>, id: &str) -> &'m mut V {
    if !map.contains_key(id) {
        map.insert(id.to_owned(), V::default());
    }
    map.get_mut(id).expect("inserted above")
}

/// What authentication reads from the application state: the database, the settings, the
/// keyed hash of key secrets, the usage counters, the limiter and the key cache. The application state implements it; so
/// can a test.
pub trait AuthState: Send + Sync {
    fn db(&self) -> &Db;
    fn config(&self) -> &Config;
    /// The keyed hash (HMAC under the instance's pepper) that API key secrets are stored under.
    fn key_hasher(&self) -> &token::SecretHasher;
    fn usage(&self) -> &Usage;
    fn limiter(&self) -> &Limiter;
    fn key_cache(&self) -> &KeyCache;
}
