//! Pages and the pieces they share: the session context, the header and form fields.

mod account;
mod auth;
mod curated;
mod home;
mod keys;
mod patterns;
mod sets;

pub use account::Account;
pub use auth::{Login, Signup};
pub use curated::Curated;
pub use home::{ErrorCodes, Home, NotFound};
pub use keys::ApiKeys;
pub use patterns::{PatternEditor, Patterns};
pub use sets::{EditSetPage, NewSetPage, SetsPage};

use crate::accounts::{current_account, AccountView, Logout};
use crate::error::Problem;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// The signed-in state, shared by every page.
#[derive(Clone, Copy)]
pub struct Session {
    pub logout: ServerAction<Logout>,
    /// The signed-in account. Refetched on every navigation — signing up, in or out always
    /// ends in one — and after logging out.
    pub account: Resource<Result<Option<AccountView>, Problem>>,
}

pub fn provide_session() {
    let logout = ServerAction::<Logout>::new();
    let path = use_location().pathname;
    let account = Resource::new(move || (path.get(), logout.version().get()), |_| current_account());
    provide_context(Session { logout, account });
}

pub fn use_session() -> Session {
    expect_context()
}

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

/// A labelled input with its error message underneath.
///
/// The message is the client-side `check` once the field has been left (instant feedback,
/// after hydration), otherwise the server's message for this field from the last submit —
/// until the person edits the field again.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional, into)] hint: String,
    #[prop(into)] server_error: Signal<Option<String>>,
    #[prop(optional, into)] check: Option<Callback<String, Option<String>>>,
) -> impl IntoView {
    let value = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let edited_since_submit = RwSignal::new(false);
    Effect::new(move |_| {
        server_error.track();
        edited_since_submit.set(false);
    });
    let error = move || {
        let client = check.and_then(|c| if touched.get() { c.run(value.get()) } else { None });
        client.or_else(|| if edited_since_submit.get() { None } else { server_error.get() })
    };
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=error_id.clone()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    edited_since_submit.set(true);
                }
                on:blur=move |_| touched.set(true)
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id aria-live="polite">{error}</p>
        </div>
    }
}

/// The problem of an action's last run, if it failed.
pub fn problem_of<T>(last: &Option<Result<T, Problem>>) -> Option<Problem> {
    last.as_ref().and_then(|r| r.as_ref().err().cloned())
}

/// A form-level error (one that concerns no single field).
#[component]
pub fn FormError(problem: Signal<Option<Problem>>) -> impl IntoView {
    move || {
        problem.get().filter(Problem::is_general).map(|p| {
            view! { <div class="form-error" role="alert">{p.detail}</div> }
        })
    }
}

/// Formats Unix seconds as a calendar date, e.g. "22 November 2026".
pub fn format_date(unix: i64) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| d.format(&format).ok())
        .unwrap_or_default()
}

/// Formats an RFC 3339 timestamp as a calendar date, e.g. "22 November 2026".
pub fn format_day(rfc3339: &str) -> String {
    parse_time(rfc3339).map(|t| format_date(t.unix_timestamp())).unwrap_or_default()
}

pub fn parse_time(rfc3339: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()
}

/// While `dirty`: warns before the page is left — closed or reloaded (`beforeunload`), or
/// left through a link in the app (`window.confirm`, best effort: programmatic navigation
/// and the browser's back button are not covered).
pub fn unsaved_changes_warning(dirty: Signal<bool>) {
    let unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if dirty.try_get_untracked().unwrap_or(false) {
            ev.prevent_default();
            ev.set_return_value("You have unsaved changes.");
        }
    });
    on_cleanup(move || unload.remove());

    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::{closure::Closure, JsCast};
        use leptos::web_sys::{Element, HtmlAnchorElement, MouseEvent};
        // Capture phase on the document: runs before the router's own click handler, which
        // leaves a click alone once its default is prevented.
        let on_click = Closure::<dyn Fn(MouseEvent)>::new(move |ev: MouseEvent| {
            if !dirty.try_get_untracked().unwrap_or(false) || ev.default_prevented() {
                return;
            }
            let link = ev
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten())
                .and_then(|el| el.dyn_into::<HtmlAnchorElement>().ok());
            let Some(link) = link else { return };
            if !link.target().is_empty() {
                return;
            }
            let leave = window().confirm_with_message("You have unsaved changes. Leave this page and lose them?").unwrap_or(true);
            if !leave {
                ev.prevent_default();
                ev.stop_propagation();
            }
        })
        .into_js_value();
        let _ = document().add_event_listener_with_callback_and_bool("click", on_click.unchecked_ref(), true);
        let on_click = send_wrapper::SendWrapper::new(on_click);
        on_cleanup(move || {
            let _ = document().remove_event_listener_with_callback_and_bool("click", on_click.unchecked_ref(), true);
        });
    }
}

/// The public address of a shared set or pattern (`path`, e.g. `/api/v1/public/sets/4`), as
/// JSON and as YAML, each with a Copy button. `what` names the thing ("set", "pattern").
#[component]
pub fn ShareLink(path: String, what: &'static str) -> impl IntoView {
    let url = format!("{}{path}", origin());
    let yaml = format!("{url}?format=yaml");
    let copied = RwSignal::new(None::<bool>);
    let copy = |text: String| move |_| copy_to_clipboard(text.clone(), copied);
    view! {
        <div class="share-panel" data-testid="share-panel">
            <p><strong>{format!("This {what} is public.")}</strong> " Anyone with these links can read it, without signing in:"</p>
            <div class="token-row">
                <a class="token" href=url.clone() target="_blank" rel="noopener" data-testid="share-url">{url.clone()}</a>
                <button type="button" class="button small" data-testid="copy-share-url" on:click=copy(url)>"Copy"</button>
            </div>
            <div class="token-row">
                <a class="token" href=yaml.clone() target="_blank" rel="noopener" data-testid="share-url-yaml">{yaml.clone()}</a>
                <button type="button" class="button small" data-testid="copy-share-url-yaml" on:click=copy(yaml)>"Copy"</button>
            </div>
            <span class="muted" aria-live="polite" data-testid="copy-status">
                {move || match copied.get() {
                    Some(true) => "Copied to the clipboard.",
                    Some(false) => "Could not copy: select the link and copy it by hand.",
                    None => "",
                }}
            </span>
        </div>
    }
}

/// This server's origin as the browser sees it (e.g. `http://127.0.0.1:3000`): on the
/// server from `TAPELINE_PUBLIC_URL` or the request's `Host`, so that links render whole
/// before hydration too.
pub fn origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().location().origin().unwrap_or_default()
    }
    #[cfg(feature = "ssr")]
    {
        let (Some(state), Some(parts)) = (use_context::<crate::state::AppState>(), use_context::<http::request::Parts>()) else {
            return String::new();
        };
        if let Some(url) = &state.config.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let scheme = if crate::server::cookie::is_https(&state.config, &parts.headers) { "https" } else { "http" };
        format!("{scheme}://{host}")
    }
    #[cfg(not(any(feature = "hydrate", feature = "ssr")))]
    {
        String::new()
    }
}

/// Puts `text` on the clipboard, then says in `copied` whether that worked (browser only).
pub fn copy_to_clipboard(text: String, copied: RwSignal<Option<bool>>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let promise = window().navigator().clipboard().write_text(&text);
        copied.set(Some(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, copied);
}
