//! Sign-up and log-in pages. Both are plain HTML forms posting to server functions, so they
//! work before hydration (and without JavaScript); once hydrated they submit in place,
//! show a pending state and check fields as you type.

use super::components::{problem_of, Field, FormError};
use crate::accounts::{normalize_username, password_problem, sent_email_problem, username_problem};
use crate::accounts::{PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn Signup() -> impl IntoView {
    // Created by the page, inside <Routes>, so that after a plain form post the error the
    // server put in the URL is picked up and shown.
    let action = ServerAction::<crate::accounts::Signup>::new();
    let problem = Signal::derive(move || action.value().with(problem_of));
    let for_field = move |field: &'static str| Signal::derive(move || problem.get().and_then(|p| p.message_for(field)));
    view! {
        <Title text="Sign up" />
        <section class="card narrow">
            <h1>"Create your Tapeline account"</h1>
            <p class="lede">"Keep your measurements and patterns in one place and reach them from your own scripts."</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormError problem=problem />
                <Field
                    label="Username"
                    name="username"
                    autocomplete="username"
                    hint=format!("{USERNAME_MIN}–{USERNAME_MAX} characters: letters, digits, '.', '_' or '-'. Not case-sensitive.")
                    server_error=for_field("username")
                    check=Callback::new(|v: String| username_problem(&normalize_username(&v)))
                />
                <Field
                    label="Email"
                    name="email"
                    kind="email"
                    autocomplete="email"
                    server_error=for_field("email")
                    check=Callback::new(|v: String| sent_email_problem(&v))
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint=format!("At least {PASSWORD_MIN} characters. A few unrelated words make a strong password.")
                    server_error=for_field("password")
                    check=Callback::new(|v: String| password_problem(&v, ""))
                />
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="aside">"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}

#[component]
pub fn Login() -> impl IntoView {
    let action = ServerAction::<crate::accounts::Login>::new();
    let problem = Signal::derive(move || action.value().with(problem_of));
    let for_field = move |field: &'static str| Signal::derive(move || problem.get().and_then(|p| p.message_for(field)));
    view! {
        <Title text="Log in" />
        <section class="card narrow">
            <h1>"Log in"</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormError problem=problem />
                <Field
                    label="Username or email"
                    name="username"
                    autocomplete="username"
                    server_error=for_field("username")
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    server_error=for_field("password")
                />
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="aside">"New to Tapeline? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}
