//! Measurement sets in the browser: the list (with search), and the pages that open the
//! editor.
//!
//! Every rule is the service's, reached through the server functions in [`crate::sets`]; the
//! editor ([`editor`]) only adds instant feedback with the shared value rules and unit
//! conversions of [`crate::measurements`], and its form state ([`form`]) sends only the values
//! the person changed, so switching units never alters a stored value.

mod editor;
mod form;

use super::load::load;
use super::components::{format_day, SearchBox};
use super::session::{use_session, LogInFirst};
use crate::error::{ErrorCode, Problem};
use crate::sets::{get_set, list_sets, SetPage};
use editor::SetEditor;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/sets`: the signed-in person's sets, searchable by name.
#[component]
pub fn SetsPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|m| m.get("q").unwrap_or_default()));
    let sets = load(move || q.get(), |q| list_sets((!q.trim().is_empty()).then_some(q)));
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
            <SearchBox action="/sets" id="set-search" label="Search sets by name" initial=q.get_untracked() />
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
                    <tr><th>"Name"</th><th>"Measurements"</th><th>"Visibility"</th><th>"Updated"</th><th><span class="visually-hidden">"Actions"</span></th></tr>
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
    let log_in_first = LogInFirst::here();
    view! {
        <Title text="New measurement set" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.account.await {
                    Ok(Some(_)) => view! { <SetEditor set=None /> }.into_any(),
                    Ok(None) => log_in_first.redirect().into_any(),
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
    let set = load(
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
