//! The unsaved-changes warning: the DOM listeners (`beforeunload`, and a capturing click
//! handler for links in the app) that ask before an editor with unsaved changes is left.

use leptos::prelude::*;

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
