//! The browser entry point: hydrates the server-rendered page.

// The pages' view types nest deeply; rendering them is instantiated here.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronously: the page's route is a lazily loaded module (app::pages::lazy), which
    // hydration waits for — the server named it in a preload link, so it is usually here.
    let body = leptos::prelude::document().body().expect("the page has a body");
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body.clone(), app::App).await.forget();
        // Reached only when hydration succeeded (a hydration error panics first): lets the
        // end-to-end tests, and curious people, tell a live page from server-rendered HTML.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
