//! Share links for public sets and patterns, and [`origin`]: this server's address as the
//! browser sees it, so that links render whole on the server and after hydration alike.

use super::clipboard::copy_to_clipboard;
use leptos::prelude::*;

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
