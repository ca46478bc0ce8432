//! The pieces pages share, one module per concern. Components depend on the session and on
//! crate resources (server functions, shared types), never on a page.

mod chart;
mod clipboard;
mod dates;
mod form;
mod header;
mod search;
mod share;
mod unsaved;

pub use chart::{thousands, ChartSize, UsageChart};
pub use clipboard::copy_to_clipboard;
pub use dates::{format_date, format_day, parse_time};
pub use form::{problem_of, Field, FormError};
pub use header::Header;
pub use search::SearchBox;
pub use share::{origin, ShareLink};
pub use unsaved::unsaved_changes_warning;
