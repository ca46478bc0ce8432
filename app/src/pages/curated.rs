//! The gallery of curated reference sets, each with "Clone into my sets".

use super::load::load;
use super::components::{problem_of, FormError};
use super::session::use_session;
use crate::curated::{list_curated, CloneCurated, CuratedSet};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// The measurements a card shows, when the set has them.
const HIGHLIGHTS: [&str; 4] = ["chest", "waist", "seat", "inseam"];

#[component]
pub fn Curated() -> impl IntoView {
    let sets = load(|| (), |_| list_curated(None));
    let clone = ServerAction::<CloneCurated>::new();
    let problem = Signal::derive(move || clone.value().with(problem_of));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(set)) = clone.value().get() {
            navigate(&format!("/sets/{}", set.id), Default::default());
        }
    });
    view! {
        <Title text="Reference sets" />
        <section class="card">
            <h1>"Reference measurement sets"</h1>
            <p class="lede">
                "Typical measurements for common sizes, kept by this instance's curators. Clone one into your own sets "
                "as a starting point, or read them from a script at " <code>"/api/v1/curated-sets"</code> " — no key needed."
            </p>
            <FormError problem=problem />
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sets.await {
                        Ok(page) if page.sets.is_empty() => view! {
                            <p class="empty-state">"No reference sets yet."</p>
                        }.into_any(),
                        Ok(page) => view! {
                            <ul class="gallery" data-testid="curated-gallery">
                                {page.sets.into_iter().map(|set| view! { <CuratedCard set clone /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CuratedCard(set: CuratedSet, clone: ServerAction<CloneCurated>) -> impl IntoView {
    let session = use_session();
    let id = set.id;
    let highlights: Vec<(String, f64)> =
        HIGHLIGHTS.iter().filter_map(|name| set.measurements.get(*name).map(|v| ((*name).to_owned(), *v))).collect();
    let count = set.measurements.len();
    let pending = move || clone.pending().get() && clone.input().with(|i| i.as_ref().is_some_and(|i| i.id == id));
    view! {
        <li class="gallery-card" data-testid="curated-card">
            <h2>{set.name.clone()}</h2>
            <p class="muted small">{set.notes.clone()}</p>
            <dl class="highlights">
                {highlights.into_iter().map(|(name, value)| view! {
                    <div><dt>{name}</dt><dd>{format!("{value} mm")}</dd></div>
                }).collect_view()}
            </dl>
            <p class="muted small">{format!("{count} measurements · ")} <a href=format!("/api/v1/curated-sets/{id}")>"JSON"</a> " · " <a href=format!("/api/v1/curated-sets/{id}?format=yaml")>"YAML"</a></p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.account.await {
                        Ok(Some(_)) => view! {
                            <button type="button" class="button small" disabled=pending
                                on:click=move |_| { clone.dispatch(CloneCurated { id }); }>
                                {move || if pending() { "Cloning…" } else { "Clone into my sets" }}
                            </button>
                        }.into_any(),
                        _ => view! { <A href="/login" attr:class="button small secondary">"Log in to clone"</A> }.into_any(),
                    }
                })}
            </Transition>
        </li>
    }
}
