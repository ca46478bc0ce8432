//! The search box of the list pages: a GET form (`?q=…`) that is a plain search before
//! hydration and, afterwards, searches as you type once typing pauses.

use leptos::prelude::*;
use leptos_router::components::Form;

/// How long the search waits after the last keystroke before it asks the server.
const SEARCH_DEBOUNCE_MS: u64 = 300;

/// A search by name that submits to `action` (e.g. `/sets`) as `q`, starting from `initial`.
/// `id` names the input (also its `data-testid`); `label` is read out, not shown.
#[component]
pub fn SearchBox(action: &'static str, id: &'static str, label: &'static str, initial: String) -> impl IntoView {
    let typed = StoredValue::new(0u64);
    view! {
        <Form method="GET" action=action replace=true noscroll=true attr:class="search" attr:role="search">
            <label for=id class="visually-hidden">{label}</label>
            <input id=id type="search" name="q" value=initial placeholder="Search by name" autocomplete="off"
                maxlength="100" data-testid=id
                on:input=move |ev| {
                    let input: leptos::web_sys::HtmlInputElement = event_target(&ev);
                    let this = typed.try_update_value(|n| {
                        *n += 1;
                        *n
                    });
                    set_timeout(
                        move || {
                            if this.is_some() && typed.try_get_value() == this {
                                if let Some(form) = input.form() {
                                    let _ = form.request_submit();
                                }
                            }
                        },
                        std::time::Duration::from_millis(SEARCH_DEBOUNCE_MS),
                    );
                } />
            <button type="submit" class="button secondary small">"Search"</button>
        </Form>
    }
}
