//! Copying to the clipboard (browser only; on the server it does nothing).

use leptos::prelude::*;

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
