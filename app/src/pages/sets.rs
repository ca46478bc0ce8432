//! Measurement sets in the browser: the list (with search) and the editor.
//!
//! Every rule is the service's, reached through the server functions in [`crate::sets`]; the
//! editor only adds instant feedback with the shared value rules and unit conversions of
//! [`crate::measurements`]. Values are stored in millimetres; the editor shows and takes them
//! in mm or inches, and sends only the values the person changed, so switching units never
//! alters a stored value.

use super::components::{format_day, problem_of, unsaved_changes_warning, FormError, ShareLink};
use super::session::use_session;
use crate::error::{ErrorCode, Problem};
use crate::measurements::{self, format_shown, parse_shown, DisplayUnit, Measurement, GROUPS};
use crate::sets::{get_set, list_sets, CloneSet, CreateSet, DeleteSet, MeasurementSet, NewSet, SetChanges, SetPage, UpdateSet};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, Redirect, A};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::BTreeMap;

/// How long the search waits after the last keystroke before it asks the server.
const SEARCH_DEBOUNCE_MS: u64 = 300;

/// The rounding rules, as the editor states them.
pub const ROUNDING_HINT: &str = "Values are stored in millimetres, to 0.1 mm. Inches are shown to 2 decimals; \
     a value typed in inches is converted (×25.4) and rounded to 0.1 mm. shoulderSlope is in degrees in both modes. \
     Values you do not edit are kept exactly as stored, whichever unit you view them in.";

/// `/sets`: the signed-in person's sets, searchable by name.
#[component]
pub fn SetsPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|m| m.get("q").unwrap_or_default()));
    let sets = Resource::new(move || q.get(), |q| list_sets((!q.trim().is_empty()).then_some(q)));
    view! {
        <Title text="Measurement sets" />
        <section class="card">
            <div class="title-row">
                <h1>"Measurement sets"</h1>
                <A href="/sets/new" attr:class="button" attr:data-testid="new-set">"New set"</A>
            </div>
            <p class="lede">
                "Body measurements, yours or other people's, for your patterns and scripts. "
                "Scripts reach them at " <code>"/api/v1/sets"</code> " with an API key of level 1 (read) or 3 (write)."
            </p>
            <SearchBox initial=q.get_untracked() />
            <Transition fallback=|| view! { <p class="muted">"Loading your sets…"</p> }>
                {move || Suspend::new(async move {
                    match sets.await {
                        Ok(page) => view! { <SetTable page q=q.get_untracked() /> }.into_any(),
                        Err(p) if p.status == 401 => view! { <Redirect path="/login" /> }.into_any(),
                        Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A GET form (`/sets?q=…`): a plain search before hydration; afterwards it searches as you
/// type, once typing pauses.
#[component]
fn SearchBox(initial: String) -> impl IntoView {
    let typed = StoredValue::new(0u64);
    view! {
        <Form method="GET" action="/sets" replace=true noscroll=true attr:class="search" attr:role="search">
            <label for="set-search" class="visually-hidden">"Search sets by name"</label>
            <input id="set-search" type="search" name="q" value=initial placeholder="Search by name" autocomplete="off"
                maxlength="100" data-testid="set-search"
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

#[component]
fn SetTable(page: SetPage, q: String) -> impl IntoView {
    if page.sets.is_empty() {
        let searched = !q.trim().is_empty();
        return view! {
            <div class="empty-state" data-testid="sets-empty">
                {if searched {
                    view! {
                        <p><strong>{format!("No sets match “{}”.", q.trim())}</strong></p>
                        <p><A href="/sets">"Show all your sets"</A></p>
                    }.into_any()
                } else {
                    view! {
                        <p><strong>"No measurement sets yet."</strong></p>
                        <p>"Create one with " <A href="/sets/new">"New set"</A> ": a name, and the measurements you have taken."</p>
                    }.into_any()
                }}
            </div>
        }
        .into_any();
    }
    let more = (page.total > page.sets.len() as i64)
        .then(|| view! { <p class="muted small">{format!("Showing the newest {} of {} sets; search to find the others.", page.sets.len(), page.total)}</p> });
    view! {
        <div class="table-wrap">
            <table class="keys sets" data-testid="sets-table">
                <thead>
                    <tr><th>"Name"</th><th>"Measurements"</th><th>"Visibility"</th><th>"Updated"</th><th></th></tr>
                </thead>
                <tbody>
                    {page.sets.into_iter().map(|set| {
                        let href = format!("/sets/{}", set.id);
                        let count = set.measurements.len();
                        view! {
                            <tr data-set-id=set.id.to_string()>
                                <td class="key-name"><A href=href.clone()>{set.name}</A></td>
                                <td data-testid="set-count">{if count == 1 { "1 measurement".to_owned() } else { format!("{count} measurements") }}</td>
                                <td>{set.public.then(|| view! { <span class="badge public" data-testid="public-badge">"public"</span> })}</td>
                                <td>{format_day(&set.updated_at)}</td>
                                <td><A href=href attr:class="button secondary small">"Edit"</A></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {more}
    }
    .into_any()
}

/// `/sets/new`: the editor, empty.
#[component]
pub fn NewSetPage() -> impl IntoView {
    let session = use_session();
    view! {
        <Title text="New measurement set" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.account.await {
                    Ok(Some(_)) => view! { <SetEditor set=None /> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/sets/:id`: the editor for one set. Another person's private set is simply not found.
#[component]
pub fn EditSetPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let set = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_set(id).await,
                None => Err(Problem::new(ErrorCode::NotFound, "There is no such measurement set.")),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the set…"</p> }>
            {move || Suspend::new(async move {
                match set.await {
                    Ok(set) => view! { <Title text=set.name.clone() /> <SetEditor set=Some(set) /> }.into_any(),
                    Err(p) if p.status == 401 => view! { <Redirect path="/login" /> }.into_any(),
                    Err(p) => view! { <SetUnavailable problem=p /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A set that cannot be shown: not found (or not this person's), or an error. The page
/// answers with the problem's status.
#[component]
fn SetUnavailable(problem: Problem) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::from_u16(problem.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    let not_found = problem.code == ErrorCode::NotFound;
    view! {
        <Title text=if not_found { "Set not found" } else { "Could not load the set" } />
        <section class="card" data-testid="set-not-found">
            <p class="breadcrumb"><A href="/sets">"Sets"</A> " ›"</p>
            <h1>{if not_found { "Set not found" } else { "Could not load the set" }}</h1>
            <p class="form-error" role="alert">{problem.detail}</p>
        </section>
    }
}

/// A value the person typed, in the unit they typed it in. Kept as typed so that
/// switching units shows it converted but sends exactly what was entered.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub text: String,
    pub unit: DisplayUnit,
}

impl Draft {
    /// What the input shows in `shown`: the text itself in its own unit, otherwise the value
    /// converted (or the text as is, when it is not a number yet).
    pub fn shown(&self, m: &Measurement, shown: DisplayUnit) -> String {
        if self.unit == shown {
            return self.text.clone();
        }
        match parse_shown(m, &self.text, self.unit) {
            Ok(Some(stored)) => format_shown(m, stored, shown),
            Ok(None) => String::new(),
            Err(_) => self.text.clone(),
        }
    }
}

/// The measurement changes to send: for each draft that differs from the stored value, the
/// new value (or `None`, which clears it). Values not edited — or edited back to what is
/// stored — are left out. Any unreadable draft fails the whole lot, named by field.
pub fn measurement_changes<'a>(
    stored: &BTreeMap<String, f64>,
    drafts: impl IntoIterator<Item = (&'a Measurement, &'a Draft)>,
) -> Result<BTreeMap<String, Option<f64>>, BTreeMap<&'static str, String>> {
    let mut changes = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for (m, draft) in drafts {
        match parse_shown(m, &draft.text, draft.unit) {
            Ok(value) if value != stored.get(m.name).copied() => {
                changes.insert(m.name.to_owned(), value);
            }
            Ok(_) => {}
            Err(problem) => {
                errors.insert(m.name, problem);
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}

/// One measurement's input state.
#[derive(Clone, Copy)]
struct Entry {
    m: &'static Measurement,
    draft: RwSignal<Option<Draft>>,
    /// Left once (or a save was tried): from then on its own check shows.
    touched: RwSignal<bool>,
    /// Edited since the server last refused the form: hide the server's message.
    edited_since_submit: RwSignal<bool>,
}

/// The editor: name, notes, preferences and every measurement, grouped.
#[component]
fn SetEditor(set: Option<MeasurementSet>) -> impl IntoView {
    let navigate = use_navigate();
    let create = ServerAction::<CreateSet>::new();
    let update = ServerAction::<UpdateSet>::new();
    let delete = ServerAction::<DeleteSet>::new();
    let clone = ServerAction::<CloneSet>::new();

    let id = set.as_ref().map(|s| s.id);
    // What is saved; the form compares against it and starts over from it after a save.
    let saved = RwSignal::new(set.unwrap_or_else(|| MeasurementSet {
        id: 0,
        name: String::new(),
        notes: String::new(),
        imperial: false,
        public: false,
        measurements: BTreeMap::new(),
        created_at: String::new(),
        updated_at: String::new(),
    }));
    let start = saved.get_untracked();
    let name = RwSignal::new(start.name.clone());
    let notes = RwSignal::new(start.notes.clone());
    let imperial = RwSignal::new(start.imperial);
    let public = RwSignal::new(start.public);
    let unit = RwSignal::new(DisplayUnit::preferred(start.imperial));
    let entries: Vec<Entry> = measurements::CATALOGUE
        .iter()
        .map(|m| Entry { m, draft: RwSignal::new(None), touched: RwSignal::new(false), edited_since_submit: RwSignal::new(false) })
        .collect();
    let entries = StoredValue::new(entries);
    let entry = move |name: &str| entries.with_value(|es| es.iter().find(|e| e.m.name == name).copied());

    let changes = move || {
        let drafts: Vec<(&'static Measurement, Draft)> =
            entries.with_value(|es| es.iter().filter_map(|e| e.draft.get().map(|d| (e.m, d))).collect());
        saved.with(|s| measurement_changes(&s.measurements, drafts.iter().map(|(m, d)| (*m, d))))
    };
    let dirty = Memo::new(move |_| {
        let fields_changed = saved.with(|s| {
            name.get() != s.name || notes.get() != s.notes || imperial.get() != s.imperial || public.get() != s.public
        });
        fields_changed || changes().map(|c| !c.is_empty()).unwrap_or(true)
    });

    // The server's last refusal, and the outcome of each save.
    let problem = RwSignal::new(None::<Problem>);
    let pending = Signal::derive(move || create.pending().get() || update.pending().get());
    let reset_to = move |set: MeasurementSet| {
        name.set(set.name.clone());
        notes.set(set.notes.clone());
        imperial.set(set.imperial);
        public.set(set.public);
        entries.with_value(|es| {
            for e in es {
                e.draft.set(None);
                e.touched.set(false);
            }
        });
        saved.set(set);
        problem.set(None);
    };
    let refused = move |p: Problem| {
        entries.with_value(|es| es.iter().for_each(|e| e.edited_since_submit.set(false)));
        problem.set(Some(p));
    };
    Effect::new({
        let navigate = navigate.clone();
        move |_| match create.value().get() {
            Some(Ok(set)) => {
                let to = format!("/sets/{}", set.id);
                reset_to(set);
                navigate(&to, Default::default());
            }
            Some(Err(p)) => refused(p),
            None => {}
        }
    });
    Effect::new(move |_| match update.value().get() {
        Some(Ok(set)) => reset_to(set),
        Some(Err(p)) => refused(p),
        None => {}
    });
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if let Some(Ok(())) = delete.value().get() {
                reset_to(saved.get_untracked());
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
    let general_problem = Signal::derive(move || problem.get());
    let for_field = move |field: &'static str| Signal::derive(move || problem.get().and_then(|p| p.message_for(field)));

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        entries.with_value(|es| es.iter().for_each(|e| e.touched.set(true)));
        let Ok(measurements) = untrack(changes) else {
            return;
        };
        let s = saved.get_untracked();
        match id {
            None => {
                create.dispatch(CreateSet {
                    set: NewSet {
                        name: name.get_untracked(),
                        notes: Some(notes.get_untracked()),
                        imperial: Some(imperial.get_untracked()),
                        public: Some(public.get_untracked()),
                        measurements: Some(measurements),
                    },
                });
            }
            Some(id) => {
                let changed = |a: String, b: &str| (a != b).then_some(a);
                update.dispatch(UpdateSet {
                    id,
                    changes: SetChanges {
                        name: changed(name.get_untracked(), &s.name),
                        notes: changed(notes.get_untracked(), &s.notes),
                        imperial: (imperial.get_untracked() != s.imperial).then(|| imperial.get_untracked()),
                        public: (public.get_untracked() != s.public).then(|| public.get_untracked()),
                        measurements: (!measurements.is_empty()).then_some(measurements),
                    },
                });
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
                .filter_map(|&n| entry(n))
                .map(|e| view! { <MeasurementInput entry=e saved unit problem /> }.into_any())
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
        <p class="breadcrumb"><A href="/sets">"Sets"</A> " › " {move || if id.is_some() { saved.with(|s| s.name.clone()) } else { "New set".to_owned() }}</p>
        <div class="title-row">
            <h1>{if id.is_some() { "Edit measurement set" } else { "New measurement set" }}</h1>
            <Show when=move || dirty.get()>
                <span class="badge warn" data-testid="unsaved" role="status">"Unsaved changes"</span>
            </Show>
        </div>
        <FormError problem=other_problem />
        {id.map(|id| view! { <SharePanel id saved public /> })}
    }
    .into_any();
    let text_fields = view! {
        <div class="field" class:invalid=move || for_field("name").get().is_some()>
            <label for="set-name">"Name"</label>
            <input id="set-name" name="name" type="text" maxlength="100" autocomplete="off" required
                placeholder="e.g. Me, autumn 2026" value=start.name.clone() prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev)) aria-describedby="set-name-error" />
            <p class="field-error" id="set-name-error" aria-live="polite">{for_field("name")}</p>
        </div>
        <div class="field" class:invalid=move || for_field("notes").get().is_some()>
            <label for="set-notes">"Notes"</label>
            <textarea id="set-notes" name="notes" rows="3" maxlength="10000" prop:value=move || notes.get()
                on:input=move |ev| notes.set(event_target_value(&ev)) aria-describedby="set-notes-error">{start.notes.clone()}</textarea>
            <p class="field-error" id="set-notes-error" aria-live="polite">{for_field("notes")}</p>
        </div>
    }
    .into_any();
    let preferences = view! {
        <div class="choices">
            <label class="choice">
                <input type="checkbox" name="imperial" data-testid="set-imperial" checked=start.imperial prop:checked=move || imperial.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        imperial.set(on);
                        unit.set(DisplayUnit::preferred(on));
                    } />
                "Prefer inches (a display preference; values are stored in mm)"
            </label>
            <label class="choice">
                <input type="checkbox" name="public" data-testid="set-public" checked=start.public prop:checked=move || public.get()
                    on:change=move |ev| public.set(event_target_checked(&ev)) />
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
                    <h3 id="delete-set-title">{move || format!("Delete “{}”?", saved.with(|s| s.name.clone()))}</h3>
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
fn MeasurementInput(entry: Entry, saved: RwSignal<MeasurementSet>, unit: RwSignal<DisplayUnit>, problem: RwSignal<Option<Problem>>) -> impl IntoView {
    let m = entry.m;
    let shown = move || {
        let u = unit.get();
        match entry.draft.get() {
            Some(draft) => draft.shown(m, u),
            None => saved.with(|s| s.measurements.get(m.name).map(|v| format_shown(m, *v, u)).unwrap_or_default()),
        }
    };
    let error = move || {
        let own = entry
            .draft
            .get()
            .filter(|_| entry.touched.get())
            .and_then(|d| parse_shown(m, &d.text, d.unit).err());
        own.or_else(|| {
            if entry.edited_since_submit.get() {
                None
            } else {
                problem.get().and_then(|p| p.message_for(&format!("measurements.{}", m.name)))
            }
        })
    };
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
                    on:input=move |ev| {
                        entry.draft.set(Some(Draft { text: event_target_value(&ev), unit: unit.get_untracked() }));
                        entry.edited_since_submit.set(true);
                    }
                    on:blur=move |_| entry.touched.set(true) />
                <span class="unit" data-testid=format!("{id}-unit")>{move || unit.get().label(m)}</span>
            </div>
            <p class="hint" id=desc_id>{m.description}</p>
            <p class="field-error" id=error_id aria-live="polite">{error}</p>
        </div>
    }
}

/// When the set is public: its public address (JSON, and YAML) with Copy buttons.
#[component]
fn SharePanel(id: i64, saved: RwSignal<MeasurementSet>, public: RwSignal<bool>) -> impl IntoView {
    let is_public = move || saved.with(|s| s.public);
    view! {
        <Show when=is_public>
            <ShareLink path=format!("/api/v1/public/sets/{id}") what="set" />
            <Show when=move || !public.get()>
                <p class="hint">"Save to make it private again."</p>
            </Show>
        </Show>
        <Show when=move || !is_public() && public.get()>
            <p class="hint" data-testid="share-pending">"Save to make this set public and get its link."</p>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurements::find;

    fn draft(text: &str, unit: DisplayUnit) -> Draft {
        Draft { text: text.to_owned(), unit }
    }

    #[test]
    fn only_edited_values_that_differ_are_sent() {
        let stored: BTreeMap<String, f64> = [("waist".to_owned(), 720.3), ("hips".to_owned(), 980.0)].into();
        let (waist, hips, neck, chest) = (find("waist").unwrap(), find("hips").unwrap(), find("neck").unwrap(), find("chest").unwrap());
        let drafts = [
            // Shown in inches as 28.36 and typed again: 720.344 rounds to the stored 720.3.
            (waist, draft("28.36", DisplayUnit::In)),
            (hips, draft("", DisplayUnit::Mm)),
            (neck, draft("15", DisplayUnit::In)),
            (chest, draft("", DisplayUnit::Mm)),
        ];
        let changes = measurement_changes(&stored, drafts.iter().map(|(m, d)| (*m, d))).unwrap();
        let want: BTreeMap<String, Option<f64>> = [("hips".to_owned(), None), ("neck".to_owned(), Some(381.0))].into();
        assert_eq!(changes, want, "waist unchanged, hips cleared, neck new, chest was empty and stays so");
    }

    #[test]
    fn unreadable_drafts_are_named_and_nothing_is_sent() {
        let (waist, neck) = (find("waist").unwrap(), find("neck").unwrap());
        let drafts = [(waist, draft("abc", DisplayUnit::Mm)), (neck, draft("-1", DisplayUnit::In))];
        let errors = measurement_changes(&BTreeMap::new(), drafts.iter().map(|(m, d)| (*m, d))).unwrap_err();
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["neck", "waist"]);
        assert_eq!(errors["waist"], "Enter a number of millimetres, e.g. 720.5.");
    }

    #[test]
    fn switching_units_shows_a_draft_converted_but_keeps_what_was_typed() {
        let waist = find("waist").unwrap();
        let typed = draft("30", DisplayUnit::In);
        assert_eq!(typed.shown(waist, DisplayUnit::In), "30");
        assert_eq!(typed.shown(waist, DisplayUnit::Mm), "762");
        let odd = draft("720.44", DisplayUnit::Mm);
        assert_eq!(odd.shown(waist, DisplayUnit::In), "28.36");
        assert_eq!(odd.shown(waist, DisplayUnit::Mm), "720.44", "its own unit: exactly as typed");
        assert_eq!(draft("3o", DisplayUnit::In).shown(waist, DisplayUnit::Mm), "3o", "not a number: left as typed");
        // However often the unit is switched, the draft (and what is sent) stays the same.
        let changes = measurement_changes(&BTreeMap::new(), [(waist, &odd)]).unwrap();
        assert_eq!(changes["waist"], Some(720.4));
    }

    #[test]
    fn the_rounding_hint_states_the_rules() {
        for rule in ["0.1 mm", "2 decimals", "×25.4", "degrees"] {
            assert!(ROUNDING_HINT.contains(rule), "{rule}");
        }
    }
}
