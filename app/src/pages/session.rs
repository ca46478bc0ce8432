//! The session provider: who is signed in, provided once by the layout and read by the
//! header and the pages through context.
//!
//! Depends only on the account server functions and [`load`](super::load); no page or
//! component is imported here.

use super::load::{load, Loaded};
use crate::accounts::{current_account, AccountView, Logout};
use crate::error::Problem;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The signed-in state, shared by every page.
#[derive(Clone, Copy)]
pub struct Session {
    pub logout: ServerAction<Logout>,
    /// The signed-in account. Refetched on every navigation — signing up, in or out always
    /// ends in one — and after logging out.
    pub account: Loaded<Result<Option<AccountView>, Problem>>,
}

/// Provides the [`Session`]; called once, inside the router (it follows the location).
pub fn provide_session() {
    let logout = ServerAction::<Logout>::new();
    let path = use_location().pathname;
    let account = load(move || (path.get(), logout.version().get()), |_| current_account());
    provide_context(Session { logout, account });
}

/// The [`Session`] provided by [`provide_session`].
pub fn use_session() -> Session {
    expect_context()
}

/// Sends a visitor on a page that needs an account to the log-in page — while that page is
/// still the one in the address bar.
///
/// Such a page waits for the session, which is fetched again on every navigation. When the
/// navigation leads to a page of another area whose code is still loading (`pages::lazy`),
/// the old page stays in place meanwhile and sees the session end — after deleting the
/// account or logging out, say, both of which navigate elsewhere — and a redirect it rendered
/// then would overtake the navigation under way.
///
/// Made where the page is made ([`LogInFirst::here`]), which is when the address is the
/// page's own, so no page spells its path a second time beside the route table.
#[derive(Clone, Copy)]
pub struct LogInFirst {
    page: StoredValue<String>,
}

impl LogInFirst {
    /// Called in the page's component body: remembers the page's address.
    pub fn here() -> Self {
        Self { page: StoredValue::new(use_location().pathname.get_untracked()) }
    }

    /// The redirect to `/login`, or nothing once the address has moved on.
    pub fn redirect(self) -> impl IntoView {
        let here = use_location().pathname.get_untracked();
        self.page
            .with_value(|page| *page == here)
            .then(|| view! { <leptos_router::components::Redirect path="/login" /> })
    }
}
