//! The account page: who is signed in; profile and password changes; the download of all
//! one's data; and deleting the account.

use super::load::{load, Loaded};
use super::components::{format_date, problem_of, FormError};
use super::session::{use_session, LogInFirst};
use super::components::parse_time;
use crate::accounts::{account_activity, AccountView, ChangePassword, DeleteAccount, UpdateProfile, ACTIVITY_PAGE, PASSWORD_MIN};
use crate::audit::{AuditEvent, AuditPage};
use crate::error::Problem;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Account() -> impl IntoView {
    let session = use_session();
    let log_in_first = LogInFirst::here();
    // Created here, with the page, rather than inside the suspense that waits for the
    // session: a resource's identity is the order of creation, which must be the same on the
    // server (where suspenses resolve in whatever order their data arrives) as in the browser
    // (which hydrates them in document order), or the browser fetches the activity again and
    // its answer may differ from the markup it hydrates. It also loads beside the session
    // rather than after it.
    let query = use_query_map();
    let offset = move || query.read().get("activity").and_then(|o| o.parse::<i64>().ok()).unwrap_or(0).max(0);
    let activity = load(offset, account_activity);
    view! {
        <Title text="Account" />
        <section class="card">
            <h1>"Your account"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading your account…"</p> }>
                {move || Suspend::new(async move {
                    match session.account.await {
                        Ok(Some(account)) => { let account_for_form = account.clone(); view! {
                            <dl class="details" data-testid="account-details">
                                <dt>"Username"</dt>
                                <dd data-testid="account-username">{account.username}</dd>
                                <dt>"Email"</dt>
                                <dd data-testid="account-email">{account.email}</dd>
                                <dt>"Role"</dt>
                                <dd data-testid="account-role">
                                    {account.role.as_str()}
                                    <span class="muted">{format!(" (access level {})", account.role.level())}</span>
                                </dd>
                                <dt>"Member since"</dt>
                                <dd data-testid="account-member-since">{format_date(account.member_since)}</dd>
                            </dl>
                            <p class="actions">
                                <A href="/account/keys" attr:class="button secondary">"Manage API keys"</A>
                                <a href="/api/v1/account/export" download class="button secondary" data-testid="export-link">"Download all my data"</a>
                            </p>
                            <ProfileForm account=account_for_form />
                            <PasswordForm />
                            <Activity page=activity />
                            <DeleteAccountForm />
                        }.into_any() },
                        Ok(None) => log_in_first.redirect().into_any(),
                        Err(problem) => view! { <div class="form-error" role="alert">{problem.detail}</div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The account's audit log, newest first, a page at a time. The page is in the address
/// (`?activity=<offset>`), so reading it needs no JavaScript.
#[component]
fn Activity(page: Loaded<Result<AuditPage, Problem>>) -> impl IntoView {
    view! {
        <h2 class="section-title" id="activity">"Activity"</h2>
        <p class="muted small">
            "What happened to your account and its keys: keys created, regenerated and revoked (by whom, and why), "
            "uses of dead keys, keys that hit their limits, profile and password changes."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.events.is_empty() => view! {
                        <p class="muted" data-testid="activity-empty">"Nothing yet."</p>
                    }.into_any(),
                    Ok(page) => {
                        let (shown_to, total) = (page.offset + page.events.len() as i64, page.total);
                        let newer = (page.offset > 0).then(|| (page.offset - ACTIVITY_PAGE).max(0));
                        let older = (shown_to < total).then_some(shown_to);
                        view! {
                            <ol class="activity" data-testid="activity">
                                {page.events.into_iter().map(|e| view! { <ActivityEntry event=e /> }).collect_view()}
                            </ol>
                            <p class="pager small">
                                {format!("{}–{} of {total}", page.offset + 1, shown_to)}
                                {newer.map(|o| view! { " · " <a href=format!("?activity={o}#activity")>"Newer"</a> })}
                                {older.map(|o| view! { " · " <a href=format!("?activity={o}#activity")>"Older"</a> })}
                            </p>
                        }.into_any()
                    }
                    Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ActivityEntry(event: AuditEvent) -> impl IntoView {
    let when = parse_time(&event.at)
        .and_then(|t| t.format(time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC")).ok())
        .unwrap_or_default();
    view! {
        <li data-kind=event.kind.as_str()>
            <time datetime=event.at.clone()>{when}</time>
            <div>
                <span class="what">{event.kind.label()}</span>
                {event.key_id.map(|k| view! { " " <span class="muted small">"key "</span> <code class="small">{k}</code> })}
                <div class="small">{event.detail}</div>
            </div>
        </li>
    }
}

#[component]
fn ProfileForm(account: AccountView) -> impl IntoView {
    let action = ServerAction::<UpdateProfile>::new();
    let problem = Signal::derive(move || action.value().with(problem_of));
    let for_field = move |field: &'static str| move || problem.get().and_then(|p| p.message_for(field));
    let saved = move || action.value().with(|v| matches!(v, Some(Ok(_))));
    view! {
        <h2 class="section-title">"Profile"</h2>
        <ActionForm action=action attr:class="form" attr:novalidate=true attr:data-testid="profile-form">
            <FormError problem=problem />
            <div class="field" class:invalid=move || for_field("username")().is_some()>
                <label for="profile-username">"Username"</label>
                <input id="profile-username" name="username" type="text" autocomplete="username" value=account.username.clone() />
                <p class="field-error" aria-live="polite">{for_field("username")}</p>
            </div>
            <div class="field" class:invalid=move || for_field("email")().is_some()>
                <label for="profile-email">"Email"</label>
                <input id="profile-email" name="email" type="email" autocomplete="email" value=account.email.clone() />
                <p class="field-error" aria-live="polite">{for_field("email")}</p>
            </div>
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Saving…" } else { "Save profile" }}
                </button>
                <span class="muted" role="status">{move || saved().then_some("Saved.")}</span>
            </div>
        </ActionForm>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let problem = Signal::derive(move || action.value().with(problem_of));
    let for_field = move |field: &'static str| move || problem.get().and_then(|p| p.message_for(field));
    let saved = move || action.value().with(|v| matches!(v, Some(Ok(_))));
    view! {
        <h2 class="section-title">"Password"</h2>
        <ActionForm action=action attr:class="form" attr:novalidate=true attr:data-testid="password-form">
            <FormError problem=problem />
            <div class="field" class:invalid=move || for_field("current_password")().is_some()>
                <label for="current-password">"Current password"</label>
                <input id="current-password" name="current_password" type="password" autocomplete="current-password" />
                <p class="field-error" aria-live="polite">{for_field("current_password")}</p>
            </div>
            <div class="field" class:invalid=move || for_field("new_password")().is_some()>
                <label for="new-password">"New password"</label>
                <input id="new-password" name="new_password" type="password" autocomplete="new-password" />
                <p class="hint">{format!("At least {PASSWORD_MIN} characters. Your other signed-in browsers are signed out; API keys keep working.")}</p>
                <p class="field-error" aria-live="polite">{for_field("new_password")}</p>
            </div>
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Changing…" } else { "Change password" }}
                </button>
                <span class="muted" role="status">{move || saved().then_some("Password changed.")}</span>
            </div>
        </ActionForm>
    }
}

#[component]
fn DeleteAccountForm() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    let problem = Signal::derive(move || action.value().with(problem_of));
    let password_error = move || problem.get().and_then(|p| p.message_for("password"));
    view! {
        <div class="danger-zone">
            <h2 class="section-title">"Delete account"</h2>
            <p>
                "Deletes your account with every measurement set, pattern, API key and session in it. "
                "Scripts using your keys stop working at once. This cannot be undone: download your data first."
            </p>
            <ActionForm action=action attr:class="form" attr:data-testid="delete-account-form">
                <FormError problem=problem />
                <div class="field" class:invalid=move || password_error().is_some()>
                    <label for="delete-password">"Your password"</label>
                    <input id="delete-password" name="password" type="password" autocomplete="current-password" required />
                    <p class="field-error" aria-live="polite">{password_error}</p>
                </div>
                <label class="choice">
                    <input type="checkbox" required data-testid="delete-confirm" />
                    "I understand that everything in this account will be deleted."
                </label>
                <button type="submit" class="button danger" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Deleting…" } else { "Delete my account" }}
                </button>
            </ActionForm>
        </div>
    }
}
