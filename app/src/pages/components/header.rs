//! The site header: the main navigation, which follows the session (the links a signed-in
//! person has, or log in and sign up).

use crate::accounts::Logout;
use crate::pages::session::use_session;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
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
                                <LogOut />
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

/// The log-out button: a plain form posting to the log-out server function, so it works before
/// hydration and without JavaScript; once hydrated, it dispatches the session's action instead
/// (the session then reloads, and the server's redirect to `/login` is followed in place).
///
/// Not `ActionForm`, which would do the same but read the form's fields into the function's
/// arguments with `serde_qs`: log-out has none, and on every page that would put `serde_qs`'s
/// form parser into the module every page loads (README, "The WebAssembly bundle").
#[component]
fn LogOut() -> impl IntoView {
    let logout = use_session().logout;
    view! {
        <form
            method="post"
            action=Logout::url()
            class="nav-form"
            on:submit=move |ev| {
                ev.prevent_default();
                logout.dispatch(Logout {});
            }
        >
            <button type="submit" class="link-button">"Log out"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    /// The header is on every page, so its code is in the module every page loads. An
    /// `ActionForm` there brings `serde_qs`'s form parser along: with the log-out button's,
    /// that module was 23 KB gzipped larger (README, "The WebAssembly bundle").
    #[test]
    fn the_header_reads_no_form_into_arguments() {
        let code = include_str!("header.rs").split("#[cfg(test)]").next().unwrap();
        assert!(code.contains("fn LogOut"), "the header's source was not read");
        let banned = concat!("<Action", "Form");
        assert!(!code.contains(banned), "the header uses {banned}: post a plain form, as LogOut does");
    }
}
