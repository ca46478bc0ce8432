//! What every server function starts with: the request's state and, for the signed-in
//! person, their principal — one line each — and [`ui`], which answers a service error with
//! its problem document and status.
//!
//! A server function body reads:
//! ```ignore
//! let (state, me) = functions::signed_in().await?;
//! functions::ui(service::list(&state, &me)).await
//! ```

use crate::auth::principal::session_principal;
use crate::auth::Principal;
use crate::error::{ErrorCode, Problem};
use crate::server::{Error, Result};
use crate::state::AppState;
use http::request::Parts;
use leptos::prelude::use_context;

pub use crate::server::http::ui;

/// The state and request head a server function runs with.
///
/// Fallible rather than panicking: Leptos also renders the app outside any request (to list
/// its routes), and a resource there calls server functions with neither in context.
pub fn context() -> Result<(AppState, Parts)> {
    match (use_context::<AppState>(), use_context::<Parts>()) {
        (Some(state), Some(parts)) => Ok((state, parts)),
        // Expected during route listing; not worth an error in the log.
        _ => Err(Error::new(ErrorCode::Internal, "This call needs a request.")),
    }
}

/// The state, for a server function anyone may call.
pub fn state() -> std::result::Result<AppState, Problem> {
    Ok(context()?.0)
}

/// The state and the signed-in person (acting at their role's level), for a server function
/// that needs a session; `401 not_authenticated` (with its status) otherwise.
pub async fn signed_in() -> std::result::Result<(AppState, Principal), Problem> {
    let (state, _parts, principal) = signed_in_with_request().await?;
    Ok((state, principal))
}

/// The state, the request head and the signed-in person, for the few server functions that
/// also read the request (cookies, client address).
pub async fn signed_in_with_request() -> std::result::Result<(AppState, Parts, Principal), Problem> {
    ui(async {
        let (state, parts) = context()?;
        let principal = session_principal(&state, &parts).await?;
        Ok((state, parts, principal))
    })
    .await
}
