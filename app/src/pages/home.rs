//! The front page, the error-code reference and the not-found page.

use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn Home() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let deleted = move || query.with(|q| q.get("deleted").is_some());
    view! {
        <Title text="" />
        <Show when=deleted>
            <div class="notice" role="status" data-testid="account-deleted">"Your account and everything in it have been deleted."</div>
        </Show>
        <section class="hero">
            <h1>"Your measurements, ready for every pattern."</h1>
            <p class="lede">
                "Tapeline keeps your body measurements and sewing patterns in one account, and gives "
                "your own scripts and pattern tools a documented REST API to reach them — with API "
                "keys you name, scope and let expire."
            </p>
            <p class="actions">
                <A href="/signup" attr:class="button">"Create an account"</A>
                <A href="/login" attr:class="button secondary">"Log in"</A>
            </p>
        </section>
        <section class="features">
            <div>
                <h2>"Measure once"</h2>
                <p>"Store measurement sets for yourself and the people you sew for, in millimetres, checked against the names pattern tools expect."</p>
            </div>
            <div>
                <h2>"Script it"</h2>
                <p>"Create API keys with exactly the access a script needs, and an expiry, from your account settings."</p>
            </div>
            <div>
                <h2>"Own it"</h2>
                <p>"Tapeline is open and self-hostable: one binary, an embedded database, or PostgreSQL when you outgrow it."</p>
            </div>
        </section>
    }
}

/// `/errors`: every error code the API can answer with. Problem documents link here
/// through their `type` (`/errors#<code>`).
#[component]
pub fn ErrorCodes() -> impl IntoView {
    view! {
        <Title text="Error codes" />
        <section class="card">
            <h1>"Error codes"</h1>
            <p>
                "Every error is an RFC 9457 problem document (" <code>"application/problem+json"</code>
                ") with a stable " <code>"code"</code> ". Branch on the code, not on the wording."
            </p>
            <table class="codes">
                <thead><tr><th>"Code"</th><th>"Status"</th><th>"Meaning"</th></tr></thead>
                <tbody>
                    {ErrorCode::ALL.iter().map(|c| view! {
                        <tr id=c.as_str()>
                            <td><code>{c.as_str()}</code></td>
                            <td>{c.status()}</td>
                            <td>{c.title()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <A href="/">"Go to the front page"</A></p>
        </section>
    }
}
