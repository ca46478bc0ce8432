//! The set editor: name, notes, preferences and every measurement, grouped, with save,
//! clone and delete. Its state and the rules of what is sent are [`SetForm`]'s; this module
//! is the view and the wiring to the server functions of [`crate::sets`].

use super::form::{Entry, SetForm};
use crate::pages::components::{problem_of, unsaved_changes_warning, FormError, ShareLink};
use crate::measurements::{DisplayUnit, GROUPS};
use crate::sets::{CloneSet, CreateSet, DeleteSet, MeasurementSet, UpdateSet};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// The rounding rules, as the editor states them.
pub const ROUNDING_HINT: &str = "Values are stored in millimetres, to 0.1 mm. Inches are shown to 2 decimals; \
     a value typed in inches is converted (×25.4) and rounded to 0.1 mm. shoulderSlope is in degrees in both modes. \
     Values you do not edit are kept exactly as stored, whichever unit you view them in.";

/// The editor: name, notes, preferences and every measurement, grouped.
#[component]
pub fn SetEditor(set: Option<MeasurementSet>) -> impl IntoView {
    let navigate = use_navigate();
    let create = ServerAction::<CreateSet>::new();
    let update = ServerAction::<UpdateSet>::new();
    let delete = ServerAction::<DeleteSet>::new();
    let clone = ServerAction::<CloneSet>::new();

    let id = set.as_ref().map(|s| s.id);
    let form = SetForm::from_set(set);
    let start = form.saved.get_untracked();
    let dirty = Memo::new(move |_| form.is_dirty());
    let pending = Signal::derive(move || create.pending().get() || update.pending().get());

    // The outcome of each action.
    Effect::new({
        let navigate = navigate.clone();
        move |_| match create.value().get() {
            Some(Ok(set)) => {
                let to = format!("/sets/{}", set.id);
                form.reset_to(set);
                navigate(&to, Default::default());
            }
            Some(Err(p)) => form.refused(p),
            None => {}
        }
    });
    Effect::new(move |_| match update.value().get() {
        Some(Ok(set)) => form.reset_to(set),
        Some(Err(p)) => form.refused(p),
        None => {}
    });
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if let Some(Ok(())) = delete.value().get() {
                form.reset_to(form.saved.get_untracked());
                navigate("/sets", Default::default());
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(copy)) = clone.value().get() {
            navigate(&format!("/sets/{}", copy.id), Default::default());
        }
    });
    let other_problem = Signal::derive(move || delete.value().with(problem_of).or_else(|| clone.value().with(problem_of)));
    let general_problem = Signal::derive(move || form.problem.get());
    let for_field = move |field: &'static str| form.server_error(field);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.touch_all();
        match id {
            None => {
                if let Some(set) = form.new_set() {
                    create.dispatch(CreateSet { set });
                }
            }
            Some(id) => {
                if let Some(changes) = form.changes() {
                    update.dispatch(UpdateSet { id, changes });
                }
            }
        }
    };

    unsaved_changes_warning(dirty.into());

    let confirming = RwSignal::new(false);
    // The parts are type-erased (`into_any`): one view type for the whole editor would be
    // deeper than the compiler's query limit.
    let groups = GROUPS
        .iter()
        .map(|(title, names)| {
            let inputs = names
                .iter()
                .filter_map(|&n| form.entry(n))
                .map(|entry| view! { <MeasurementInput entry form /> }.into_any())
                .collect_view();
            view! {
                <fieldset class="measure-group">
                    <legend>{*title}</legend>
                    <div class="measure-grid">{inputs}</div>
                </fieldset>
            }
            .into_any()
        })
        .collect_view();
    let heading = view! {
        <p class="breadcrumb"><A href="/sets">"Sets"</A> " › " {move || if id.is_some() { form.saved.with(|s| s.name.clone()) } else { "New set".to_owned() }}</p>
        <div class="title-row">
            <h1>{if id.is_some() { "Edit measurement set" } else { "New measurement set" }}</h1>
            <Show when=move || dirty.get()>
                <span class="badge warn" data-testid="unsaved" role="status">"Unsaved changes"</span>
            </Show>
        </div>
        <FormError problem=other_problem />
        {id.map(|id| view! { <SharePanel id form /> })}
    }
    .into_any();
    let text_fields = view! {
        <div class="field" class:invalid=move || for_field("name").get().is_some()>
            <label for="set-name">"Name"</label>
            <input id="set-name" name="name" type="text" maxlength="100" autocomplete="off" required
                placeholder="e.g. Me, autumn 2026" value=start.name.clone() prop:value=move || form.name.get()
                on:input=move |ev| form.name.set(event_target_value(&ev)) aria-describedby="set-name-error" />
            <p class="field-error" id="set-name-error" aria-live="polite">{for_field("name")}</p>
        </div>
        <div class="field" class:invalid=move || for_field("notes").get().is_some()>
            <label for="set-notes">"Notes"</label>
            <textarea id="set-notes" name="notes" rows="3" maxlength="10000" prop:value=move || form.notes.get()
                on:input=move |ev| form.notes.set(event_target_value(&ev)) aria-describedby="set-notes-error">{start.notes.clone()}</textarea>
            <p class="field-error" id="set-notes-error" aria-live="polite">{for_field("notes")}</p>
        </div>
    }
    .into_any();
    let unit = form.unit;
    let preferences = view! {
        <div class="choices">
            <label class="choice">
                <input type="checkbox" name="imperial" data-testid="set-imperial" checked=start.imperial prop:checked=move || form.imperial.get()
                    on:change=move |ev| form.prefer_inches(event_target_checked(&ev)) />
                "Prefer inches (a display preference; values are stored in mm)"
            </label>
            <label class="choice">
                <input type="checkbox" name="public" data-testid="set-public" checked=start.public prop:checked=move || form.public.get()
                    on:change=move |ev| form.public.set(event_target_checked(&ev)) />
                "Public: anyone with the link can read this set, without signing in"
            </label>
        </div>
        <div class="units-row">
            <div class="unit-toggle" role="group" aria-label="Units">
                <button type="button" data-testid="unit-mm" aria-pressed=move || (unit.get() == DisplayUnit::Mm).to_string()
                    on:click=move |_| unit.set(DisplayUnit::Mm)>"mm"</button>
                <button type="button" data-testid="unit-in" aria-pressed=move || (unit.get() == DisplayUnit::In).to_string()
                    on:click=move |_| unit.set(DisplayUnit::In)>"in"</button>
            </div>
            <p class="hint" data-testid="rounding-hint">{ROUNDING_HINT}</p>
        </div>
    }
    .into_any();
    let actions = view! {
        <div class="form-actions">
            <button type="submit" class="button" data-testid="save-set" disabled=move || pending.get()>
                {move || if pending.get() { "Saving…" } else if id.is_some() { "Save changes" } else { "Create set" }}
            </button>
            {id.map(|id| view! {
                <button type="button" class="button secondary" data-testid="clone-set"
                    disabled=move || clone.pending().get() || dirty.get()
                    title=move || if dirty.get() { "Save your changes first" } else { "" }
                    on:click=move |_| { clone.dispatch(CloneSet { id }); }>
                    {move || if clone.pending().get() { "Cloning…" } else { "Clone" }}
                </button>
                <button type="button" class="button danger" data-testid="delete-set" on:click=move |_| confirming.set(true)>"Delete"</button>
            })}
        </div>
    }
    .into_any();
    let delete_dialog = view! {
        <Show when=move || confirming.get()>
            <div class="dialog-backdrop">
                <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="delete-set-title">
                    <h3 id="delete-set-title">{move || format!("Delete “{}”?", form.saved.with(|s| s.name.clone()))}</h3>
                    <p>"The set and all its measurements are removed, for you and for scripts using it. This cannot be undone."</p>
                    <div class="dialog-actions">
                        <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        <button type="button" class="button danger" disabled=move || delete.pending().get()
                            on:click=move |_| {
                                if let Some(id) = id {
                                    delete.dispatch(DeleteSet { id });
                                }
                                confirming.set(false);
                            }>
                            "Delete set"
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
    .into_any();

    view! {
        <section class="card">
            {heading}
            <form class="form set-form" novalidate data-testid="set-form" on:submit=save>
                <FormError problem=general_problem />
                {text_fields}
                {preferences}
                {groups}
                {actions}
            </form>
            {delete_dialog}
        </section>
    }
}

/// One measurement: its name, description, input in the current unit, and its error.
#[component]
fn MeasurementInput(entry: Entry, form: SetForm) -> impl IntoView {
    let m = entry.m;
    let shown = move || form.shown(entry);
    let error = move || form.error(entry);
    let id = format!("m-{}", m.name);
    let (desc_id, error_id) = (format!("{id}-desc"), format!("{id}-error"));
    view! {
        <div class="field measurement" class:invalid=move || error().is_some()>
            <label for=id.clone()>{m.name}</label>
            <div class="with-unit">
                <input id=id.clone() name=m.name type="text" inputmode="decimal" autocomplete="off" data-testid=id.clone()
                    value=untrack(shown) prop:value=shown
                    aria-invalid=move || error().is_some().to_string()
                    aria-describedby=format!("{desc_id} {error_id}")
                    on:input=move |ev| entry.edit(event_target_value(&ev), form.unit.get_untracked())
                    on:blur=move |_| entry.touch() />
                <span class="unit" data-testid=format!("{id}-unit")>{move || form.unit.get().label(m)}</span>
            </div>
            <p class="hint" id=desc_id>{m.description}</p>
            <p class="field-error" id=error_id aria-live="polite">{error}</p>
        </div>
    }
}

/// When the set is public: its public address (JSON, and YAML) with Copy buttons.
#[component]
fn SharePanel(id: i64, form: SetForm) -> impl IntoView {
    let is_public = move || form.saved.with(|s| s.public);
    view! {
        <Show when=is_public>
            <ShareLink path=format!("/api/v1/public/sets/{id}") what="set" />
            <Show when=move || !form.public.get()>
                <p class="hint">"Save to make it private again."</p>
            </Show>
        </Show>
        <Show when=move || !is_public() && form.public.get()>
            <p class="hint" data-testid="share-pending">"Save to make this set public and get its link."</p>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::ROUNDING_HINT;

    #[test]
    fn the_rounding_hint_states_the_rules() {
        for rule in ["0.1 mm", "2 decimals", "×25.4", "degrees"] {
            assert!(ROUNDING_HINT.contains(rule), "{rule}");
        }
    }
}
