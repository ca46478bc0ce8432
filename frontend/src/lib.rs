//! The browser entry point: hydrates the server-rendered page.

// The pages' view types nest deeply; rendering them is instantiated here.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Reached only when hydration succeeded (a hydration error panics first): lets the
    // end-to-end tests, and curious people, tell a live page from server-rendered HTML.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
