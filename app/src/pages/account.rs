//! The account page: who is signed in; profile and password changes; the download of all
//! one's data; and deleting the account.

use super::components::{format_date, problem_of, FormError};
use super::session::use_session;
use crate::accounts::{AccountView, ChangePassword, DeleteAccount, UpdateProfile, PASSWORD_MIN};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

#[component]
pub fn Account() -> impl IntoView {
    let session = use_session();
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
                            <DeleteAccountForm />
                        }.into_any() },
                        Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                        Err(problem) => view! { <div class="form-error" role="alert">{problem.detail}</div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
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
