//! Form pieces every page uses: a labelled [`Field`] with its error, the form-level
//! [`FormError`], and [`problem_of`], which reads the problem out of an action's result.
//!
//! Field-level messages come from [`Problem::message_for`]; the rules themselves are shared
//! code (e.g. `accounts`), passed in as a `check`.

use crate::error::Problem;
use leptos::prelude::*;

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
