//! The account page: who is signed in.

use super::{format_date, use_session};
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
                        Ok(Some(account)) => view! {
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
                            </p>
                        }.into_any(),
                        Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                        Err(problem) => view! { <div class="form-error" role="alert">{problem.detail}</div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
