//! Account settings → API keys: list, create (token shown once), revoke.
//!
//! Every rule is the service's: the level list is what the server says this person may
//! grant, and errors from the service appear next to the field they concern.

use super::components::{copy_to_clipboard, format_date, format_day, origin, parse_time, problem_of, FormError};
use crate::apikeys::{key_options, list_keys, ApiKey, CreateKey, CreatedKey, NewKeyChoices, RevokeKey};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

/// Expiry presets offered, in days (those above the instance's maximum are left out).
const PRESET_DAYS: [i64; 4] = [7, 30, 90, 365];
/// Keys expiring within this many days say so.
const SOON_DAYS: i64 = 14;

#[component]
pub fn ApiKeys() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    // Two resources: the form's options never refetch, so a submit (failed or not) cannot
    // reset what the person has chosen; the list refetches after every create and revoke.
    let options = Resource::new(|| (), |_| key_options());
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_keys());
    let revoke_problem = Signal::derive(move || revoke.value().with(problem_of));

    view! {
        <Title text="API keys" />
        <section class="card">
            <p class="breadcrumb"><A href="/account">"Account"</A> " › API keys"</p>
            <h1>"API keys"</h1>
            <p class="lede">
                "Keys let your own scripts and tools use Tapeline's REST API as you, with only the access you give them. "
                "See the " <a href="/docs">"API documentation"</a> "."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match options.await {
                        Ok(options) => view! { <NewKeyForm options create keys /> }.into_any(),
                        Err(p) if p.status == 401 => view! { <Redirect path="/login" /> }.into_any(),
                        Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                    }
                })}
            </Suspense>
            <h2 class="section-title">"Your keys"</h2>
            <FormError problem=revoke_problem />
            <Transition fallback=|| view! { <p class="muted">"Loading your keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(keys) => view! { <KeyList keys revoke /> }.into_any(),
                        Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn KeyList(keys: Vec<ApiKey>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    if keys.is_empty() {
        return view! {
            <div class="empty-state" data-testid="keys-empty">
                <p><strong>"No API keys yet."</strong></p>
                <p>
                    "Create one above for each script or tool you use, with the lowest level it needs. "
                    "Then send it as " <code>"Authorization: Bearer <token>"</code> " — the "
                    <a href="/docs">"API documentation"</a> " shows every call."
                </p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="keys" data-testid="keys-table">
                <thead>
                    <tr>
                        <th>"Name"</th><th>"Level"</th><th>"Created"</th><th>"Expires"</th>
                        <th>"Last used"</th><th>"Calls"</th><th>"Key"</th><th></th>
                    </tr>
                </thead>
                <tbody>
                    {keys.into_iter().map(|key| view! { <KeyRow key revoke /> }.into_any()).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn KeyRow(key: ApiKey, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let days_left = days_until(&key.expires_at);
    let expiry_note = match (key.expired, days_left) {
        (true, _) => Some(view! { <span class="badge danger">"expired"</span> }.into_any()),
        (false, Some(d)) if d <= SOON_DAYS => Some(
            view! { <span class="badge warn">{if d <= 0 { "expires today".to_owned() } else if d == 1 { "expires in 1 day".to_owned() } else { format!("expires in {d} days") }}</span> }
                .into_any(),
        ),
        _ => None,
    };
    let (id, name) = (key.id.clone(), key.name.clone());
    view! {
        <tr data-key-id=key.id.clone()>
            <td class="key-name">{key.name.clone()}</td>
            <td><span class="level" title=key.level_label.clone()>{key.level}</span> " " <span class="muted small">{key.level_label.clone()}</span></td>
            <td>{format_day(&key.created_at)}</td>
            <td>{format_day(&key.expires_at)} " " {expiry_note}</td>
            <td>{key.last_used_at.as_deref().map(format_moment).unwrap_or_else(|| "never".to_owned())}</td>
            <td>{key.calls}</td>
            <td><code>{key.prefix.clone()}</code></td>
            <td>
                <button type="button" class="button danger small" on:click=move |_| confirming.set(true)>"Revoke"</button>
                <Show when=move || confirming.get()>
                    <div class="dialog-backdrop">
                        <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby=format!("revoke-title-{id}")>
                            <h3 id=format!("revoke-title-{id}")>{format!("Revoke “{name}”?")}</h3>
                            <p>"Scripts using this key stop working on their next request. This cannot be undone."</p>
                            <div class="dialog-actions">
                                <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                <button
                                    type="button"
                                    class="button danger"
                                    disabled=move || revoke.pending().get()
                                    on:click={
                                        let id = id.clone();
                                        move |_| {
                                            revoke.dispatch(RevokeKey { id: id.clone() });
                                            confirming.set(false);
                                        }
                                    }
                                >
                                    "Revoke key"
                                </button>
                            </div>
                        </div>
                    </div>
                </Show>
            </td>
        </tr>
    }
}

#[component]
fn NewKeyForm(
    options: NewKeyChoices,
    create: ServerAction<CreateKey>,
    keys: Resource<Result<Vec<ApiKey>, crate::error::Problem>>,
) -> impl IntoView {
    let problem = Signal::derive(move || create.value().with(problem_of));
    let created = Signal::derive(move || create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().ok().cloned())));
    let for_field = move |fields: &'static [&'static str]| {
        Signal::derive(move || problem.get().and_then(|p| fields.iter().find_map(|f| p.message_for(f))))
    };
    let presets: Vec<i64> = PRESET_DAYS.into_iter().filter(|d| *d <= options.max_days).collect();
    let default_choice = if presets.contains(&options.default_days) { options.default_days.to_string() } else { "custom".to_owned() };
    let choice = RwSignal::new(default_choice.clone());
    let custom_date = RwSignal::new(String::new());
    let resulting = move || {
        let choice = choice.get();
        if choice == "custom" {
            let date = custom_date.get();
            if date.is_empty() { "Pick a date.".to_owned() } else { format!("Expires at the end of {date} (UTC).") }
        } else {
            choice.parse::<i64>().ok().map(|d| format!("Expires on {}.", date_in_days(d))).unwrap_or_default()
        }
    };
    // `YYYY-MM-DD`, as a date input's `max` must be.
    let max_date = iso_date_in_days(options.max_days);
    // Open while there are no keys: the one thing to do on an empty page.
    let start_open = move || keys.get().and_then(|r| r.ok()).is_some_and(|k| k.is_empty());
    view! {
        <Show when=move || created.get().is_some()>
            <NewToken created=Signal::derive(move || created.get()) />
        </Show>
        <details class="new-key" open=start_open>
            <summary class="button">"New API key"</summary>
            <ActionForm action=create attr:class="form" attr:novalidate=true attr:data-testid="new-key-form">
                <FormError problem=problem />
                <div class="field" class:invalid=move || for_field(&["name"]).get().is_some()>
                    <label for="key-name">"Name"</label>
                    <input id="key-name" name="name" type="text" maxlength="100" required autocomplete="off" placeholder="e.g. pattern-sync script" />
                    <p class="field-error" id="key-name-error">{for_field(&["name"])}</p>
                </div>
                <div class="field" class:invalid=move || for_field(&["level"]).get().is_some()>
                    <label for="key-level">"Access level"</label>
                    <select id="key-level" name="level">
                        {options.grantable.iter().map(|l| view! {
                            <option value=l.level.to_string() selected=l.level == crate::levels::DEFAULT_KEY_LEVEL.get()>
                                {format!("{} — {}", l.level, l.label)}
                            </option>
                        }).collect_view()}
                    </select>
                    <p class="hint">"Give a key the lowest level its script needs."</p>
                    <p class="field-error" id="key-level-error">{for_field(&["level"])}</p>
                </div>
                <fieldset class="field" class:invalid=move || for_field(&["expires_in", "expires_at", "expires_on", "expires_in_days"]).get().is_some()>
                    <legend>"Expires"</legend>
                    <div class="choices">
                        {presets.iter().map(|d| {
                            let value = d.to_string();
                            let checked = value == default_choice;
                            view! {
                                <label class="choice">
                                    <input type="radio" name="expires_in_days" value=value.clone() checked=checked
                                        on:change={ let value = value.clone(); move |_| choice.set(value.clone()) } />
                                    {format!("{d} days")}
                                </label>
                            }
                        }).collect_view()}
                        <label class="choice">
                            <input type="radio" name="expires_in_days" value="custom" checked=default_choice == "custom"
                                on:change=move |_| choice.set("custom".to_owned()) />
                            "Custom date"
                        </label>
                        <input type="date" name="expires_on" aria-label="Custom expiry date" max=max_date
                            disabled=move || choice.get() != "custom"
                            on:input=move |ev| custom_date.set(event_target_value(&ev)) />
                    </div>
                    <p class="hint" data-testid="expiry-result">{resulting}</p>
                    <p class="field-error" id="key-expiry-error">{for_field(&["expires_in", "expires_at", "expires_on", "expires_in_days"])}</p>
                </fieldset>
                <button type="submit" class="button" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating key…" } else { "Create key" }}
                </button>
            </ActionForm>
        </details>
    }
}

/// The token of a key just created: shown once, with a copy button and a ready-to-run call.
#[component]
fn NewToken(created: Signal<Option<CreatedKey>>) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let token = move || created.get().map(|c| c.token).unwrap_or_default();
    let curl = move || format!("curl -H \"Authorization: Bearer {}\" {}/api/v1/whoami", token(), origin());
    let copy = move |_| copy_to_clipboard(token(), copied);
    view! {
        <div class="token-panel" role="status" data-testid="new-token-panel">
            <h2>{move || format!("Your new key “{}”", created.get().map(|c| c.key.name).unwrap_or_default())}</h2>
            <p class="warning"><strong>"Copy this token now. It will not be shown again."</strong></p>
            <div class="token-row">
                <code class="token" data-testid="new-token">{token}</code>
                <button type="button" class="button small" on:click=copy>"Copy"</button>
                <span class="muted" aria-live="polite">
                    {move || match copied.get() {
                        Some(true) => "Copied to the clipboard.",
                        Some(false) => "Could not copy: select the token and copy it by hand.",
                        None => "",
                    }}
                </span>
            </div>
            <p>"Try it:"</p>
            <pre class="curl" data-testid="new-token-curl">{curl}</pre>
        </div>
    }
}

fn now_utc() -> time::OffsetDateTime {
    #[cfg(feature = "hydrate")]
    {
        let ms = js_sys::Date::now();
        time::OffsetDateTime::from_unix_timestamp((ms / 1000.0) as i64).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        time::OffsetDateTime::now_utc()
    }
}

/// Whole days from now until `rfc3339` (negative once past).
fn days_until(rfc3339: &str) -> Option<i64> {
    parse_time(rfc3339).map(|t| (t - now_utc()).whole_days())
}

fn date_in_days(days: i64) -> String {
    format_date((now_utc() + time::Duration::days(days)).unix_timestamp())
}

fn iso_date_in_days(days: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    (now_utc() + time::Duration::days(days)).date().format(&format).unwrap_or_default()
}

fn format_moment(rfc3339: &str) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    parse_time(rfc3339).and_then(|t| t.format(&format).ok()).unwrap_or_default()
}
