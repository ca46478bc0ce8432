//! The site header: the main navigation, which follows the session (the links a signed-in
//! person has, or log in and sign up).

use crate::pages::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

/// The header on every page.
#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    view! {
        <header class="site-header">
            <nav aria-label="Main">
                <A href="/" attr:class="brand">"Tapeline"</A>
                <A href="/account">"Account"</A>
                <span class="nav-spacer"></span>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match session.account.await {
                            Ok(Some(account)) => view! {
                                <A href="/sets">"Sets"</A>
                                <A href="/patterns">"Patterns"</A>
                                <A href="/curated">"Reference sets"</A>
                                <A href="/account/keys">"API keys"</A>
                                {(account.role.level() >= crate::levels::Permission::ReadAllData.level()).then(|| view! {
                                    <A href="/admin">"Admin"</A>
                                })}
                                <span class="nav-user">{account.username}</span>
                                <ActionForm action=session.logout attr:class="nav-form">
                                    <button type="submit" class="link-button">"Log out"</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! {
                                <A href="/curated">"Reference sets"</A>
                                <A href="/login">"Log in"</A>
                                <A href="/signup" attr:class="button small">"Sign up"</A>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}
