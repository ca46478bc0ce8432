//! Patterns: the list (with search) and the editor. Settings are edited as JSON and checked
//! as you type with the same rules the server applies (`patterns::settings_problem`).

use super::load::load;
use super::components::{problem_of, unsaved_changes_warning, FormError, SearchBox, ShareLink};
use crate::error::Problem;
use crate::patterns::{
    design_problem, get_pattern, list_patterns, settings_problem, CreatePattern, DeletePattern, NewPattern, Pattern,
    PatternChanges, SetChoice, UpdatePattern,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn Patterns() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|m| m.get("q")).unwrap_or_default());
    let patterns = load(move || q.get(), |q| list_patterns((!q.is_empty()).then_some(q)));
    view! {
        <Title text="Patterns" />
        <section class="card">
            <div class="title-row">
                <h1>"Your patterns"</h1>
                <A href="/patterns/new" attr:class="button">"New pattern"</A>
            </div>
            <SearchBox action="/patterns" id="pattern-search" label="Search patterns by name" initial=q.get_untracked() />
            <Transition fallback=|| view! { <p class="muted">"Loading your patterns…"</p> }>
                {move || Suspend::new(async move {
                    match patterns.await {
                        Ok(page) if page.patterns.is_empty() => view! {
                            <div class="empty-state" data-testid="patterns-empty">
                                {if q.get_untracked().is_empty() {
                                    view! { <p>"No patterns yet. A pattern is a design and its settings, optionally made for one of your measurement sets."</p> }.into_any()
                                } else {
                                    view! { <p>{format!("No pattern's name contains “{}”.", q.get_untracked())}</p> }.into_any()
                                }}
                            </div>
                        }.into_any(),
                        Ok(page) => view! {
                            <div class="table-wrap">
                                <table data-testid="patterns-table">
                                    <thead><tr><th>"Name"</th><th>"Design"</th><th>"Shared"</th><th>"Updated"</th></tr></thead>
                                    <tbody>
                                        {page.patterns.into_iter().map(|p| view! {
                                            <tr>
                                                <td><A href=format!("/patterns/{}", p.id)>{p.name.clone()}</A></td>
                                                <td><code>{p.design.clone()}</code></td>
                                                <td>{p.public.then(|| view! { <span class="badge">"public"</span> })}</td>
                                                <td>{p.updated_at.get(..10).unwrap_or_default().to_owned()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(p) if p.status == 401 => view! { <Redirect path="/login" /> }.into_any(),
                        Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `/patterns/new` and `/patterns/:id`.
#[component]
pub fn PatternEditor() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).and_then(|id| id.parse::<i64>().ok());
    let is_new = move || params.with(|p| p.get("id")).is_none();
    let loaded = load(move || (is_new(), id()), |(is_new, id)| async move {
        match (is_new, id) {
            (true, _) => get_pattern(None).await,
            (false, Some(id)) => get_pattern(Some(id)).await,
            (false, None) => Err(Problem::new(crate::error::ErrorCode::NotFound, "No such pattern.")),
        }
    });
    view! {
        <Title text="Pattern" />
        <section class="card">
            <p class="breadcrumb"><A href="/patterns">"Patterns"</A> " › " {move || if is_new() { "New" } else { "Edit" }}</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok((pattern, sets)) => view! { <PatternForm pattern sets /> }.into_any(),
                        Err(p) if p.status == 401 => view! { <Redirect path="/login" /> }.into_any(),
                        Err(p) => view! { <h1>"Pattern not found"</h1><div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The settings field's text as JSON, read as bytes like every other JSON the browser reads
/// (see `pages::load`: one decoder per type in the WebAssembly, not one per kind of input).
fn read_settings(text: &str) -> serde_json::Result<serde_json::Value> {
    serde_json::from_slice(text.as_bytes())
}

#[component]
fn PatternForm(pattern: Option<Pattern>, sets: Vec<SetChoice>) -> impl IntoView {
    let create = ServerAction::<CreatePattern>::new();
    let update = ServerAction::<UpdatePattern>::new();
    let delete = ServerAction::<DeletePattern>::new();
    let id = pattern.as_ref().map(|p| p.id);
    let saved = RwSignal::new(pattern.clone());
    let initial = |p: &Option<Pattern>| {
        (
            p.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
            p.as_ref().map(|p| p.notes.clone()).unwrap_or_default(),
            p.as_ref().map(|p| p.design.clone()).unwrap_or_default(),
            p.as_ref()
                .map(|p| serde_json::to_string_pretty(&p.settings).unwrap_or_default())
                .unwrap_or_else(|| "{}".to_owned()),
            p.as_ref().and_then(|p| p.set_id).map(|s| s.to_string()).unwrap_or_default(),
            p.as_ref().is_some_and(|p| p.public),
        )
    };
    let (name0, notes0, design0, settings0, set0, public0) = initial(&pattern);
    let name = RwSignal::new(name0);
    let notes = RwSignal::new(notes0);
    let design = RwSignal::new(design0);
    let settings = RwSignal::new(settings0);
    let set_id = RwSignal::new(set0);
    let public = RwSignal::new(public0);
    let dirty = Memo::new(move |_| {
        let (n, no, d, s, set, p) = initial(&saved.get());
        let settings_same = match (read_settings(&s), read_settings(&settings.get())) {
            (Ok(a), Ok(b)) => a == b,
            _ => s == settings.get(),
        };
        n != name.get() || no != notes.get() || d != design.get() || !settings_same || set != set_id.get() || p != public.get()
    });
    unsaved_changes_warning(dirty.into());

    // The server's answer to the last save, and the navigation after creating.
    let problem = Signal::derive(move || create.value().with(problem_of).or_else(|| update.value().with(problem_of)));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            saved.set(Some(created.clone()));
            navigate(&format!("/patterns/{}", created.id), Default::default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(changed)) = update.value().get() {
            saved.set(Some(changed));
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            saved.set(None);
            navigate("/patterns", Default::default());
        }
    });

    let server_error = move |field: &'static str| problem.get().and_then(|p| p.message_for(field));
    let settings_error = move || match read_settings(&settings.get()) {
        Err(e) => Some(format!("Not valid JSON: {e}.")),
        Ok(value) => settings_problem(&value),
    };
    let design_error = move || if id.is_none() && !design.get().is_empty() { design_problem(&design.get()) } else { None };
    let field_error = move |field: &'static str| match field {
        "settings" => settings_error().or_else(|| server_error("settings")),
        "design" => design_error().or_else(|| server_error("design")),
        other => server_error(other),
    };
    let pending = move || create.pending().get() || update.pending().get();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if settings_error().is_some() {
            return;
        }
        let settings_value = read_settings(&settings.get()).ok();
        let chosen_set = set_id.get().parse::<i64>().ok();
        match id {
            None => {
                create.dispatch(CreatePattern {
                    new: NewPattern {
                        name: name.get(),
                        notes: Some(notes.get()),
                        design: design.get().trim().to_owned(),
                        settings: settings_value,
                        set_id: chosen_set,
                        public: Some(public.get()),
                    },
                });
            }
            Some(id) => {
                update.dispatch(UpdatePattern {
                    id,
                    changes: PatternChanges {
                        name: Some(name.get()),
                        notes: Some(notes.get()),
                        design: None,
                        settings: settings_value,
                        set_id: Some(chosen_set),
                        public: Some(public.get()),
                    },
                });
            }
        }
    };
    let confirming = RwSignal::new(false);
    let form = view! {
        <h1>{move || saved.get().map(|p| p.name).unwrap_or_else(|| "New pattern".to_owned())}</h1>
        <form class="form" novalidate on:submit=save data-testid="pattern-form">
            <FormError problem=problem />
            <div class="field" class:invalid=move || field_error("name").is_some()>
                <label for="pattern-name">"Name"</label>
                <input id="pattern-name" name="name" type="text" maxlength="100" required
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                <p class="field-error" aria-live="polite">{move || field_error("name")}</p>
            </div>
            <div class="field" class:invalid=move || field_error("design").is_some()>
                <label for="pattern-design">"Design"</label>
                <input id="pattern-design" name="design" type="text" maxlength="64" required placeholder="e.g. aaron"
                    disabled=id.is_some()
                    prop:value=move || design.get() on:input=move |ev| design.set(event_target_value(&ev)) />
                <p class="hint">{if id.is_some() { "A pattern's design is fixed when it is created." } else { "The design's identifier: lowercase letters, digits, '-' or '_'. It cannot change later." }}</p>
                <p class="field-error" aria-live="polite">{move || field_error("design")}</p>
            </div>
            {view! {
            <div class="field" class:invalid=move || field_error("set_id").is_some()>
                <label for="pattern-set">"Made for"</label>
                <select id="pattern-set" name="set_id" on:change=move |ev| set_id.set(event_target_value(&ev))>
                    <option value="" selected=move || set_id.get().is_empty()>"No measurement set"</option>
                    {sets.into_iter().map(|s| {
                        let value = s.id.to_string();
                        let v = value.clone();
                        view! { <option value=value selected=move || set_id.get() == v>{s.name}</option> }
                    }).collect_view()}
                </select>
                <p class="field-error" aria-live="polite">{move || field_error("set_id")}</p>
            </div>
            <div class="field" class:invalid=move || field_error("settings").is_some()>
                <label for="pattern-settings">"Settings (JSON)"</label>
                <textarea id="pattern-settings" name="settings" rows="10" spellcheck="false" class="code"
                    prop:value=move || settings.get() on:input=move |ev| settings.set(event_target_value(&ev))></textarea>
                <p class="hint">{format!("A JSON object of the design's options, at most {} KiB.", crate::patterns::SETTINGS_MAX_BYTES / 1024)}</p>
                <p class="field-error" aria-live="polite" data-testid="settings-error">{move || field_error("settings")}</p>
            </div>
            <div class="field" class:invalid=move || field_error("notes").is_some()>
                <label for="pattern-notes">"Notes"</label>
                <textarea id="pattern-notes" name="notes" rows="3"
                    prop:value=move || notes.get() on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
                <p class="field-error" aria-live="polite">{move || field_error("notes")}</p>
            </div>
            }.into_any()}
            <label class="choice">
                <input type="checkbox" name="public" prop:checked=move || public.get() on:change=move |ev| public.set(event_target_checked(&ev)) />
                "Public: anyone with the link can read this pattern"
            </label>
            <div class="form-actions">
                <button type="submit" class="button" disabled=pending>
                    {move || if pending() { "Saving…" } else if id.is_none() { "Create pattern" } else { "Save" }}
                </button>
                <span class="muted" aria-live="polite" data-testid="dirty-note">{move || dirty.get().then_some("Unsaved changes")}</span>
            </div>
        </form>
    }
    .into_any();
    view! {
        {form}
        {move || saved.get().filter(|p| p.public).map(|p| view! { <ShareLink path=format!("/api/v1/public/patterns/{}", p.id) what="pattern" /> })}
        {id.map(|id| view! {
            <div class="danger-zone">
                <button type="button" class="button danger small" on:click=move |_| confirming.set(true)>"Delete pattern"</button>
                <Show when=move || confirming.get()>
                    <div class="dialog-backdrop">
                        <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="delete-pattern-title">
                            <h3 id="delete-pattern-title">"Delete this pattern?"</h3>
                            <p>"This cannot be undone."</p>
                            <div class="dialog-actions">
                                <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                <button type="button" class="button danger" disabled=move || delete.pending().get()
                                    on:click=move |_| { delete.dispatch(DeletePattern { id }); confirming.set(false); }>
                                    "Delete"
                                </button>
                            </div>
                        </div>
                    </div>
                </Show>
            </div>
        }.into_any())}
    }
}
