//! Account settings → API keys: list with each key's usage and limits, create (token shown
//! once), regenerate with a grace period, revoke.
//!
//! Every rule is the service's: the level list is what the server says this person may
//! grant, and errors from the service appear next to the field they concern.

use super::load::{load, Loaded};
use super::components::{
    copy_to_clipboard, format_date, format_day, origin, parse_time, problem_of, thousands, ChartSize, FormError, UsageChart,
};
use crate::apikeys::{
    key_options, list_keys, ApiKey, CreateKey, CreatedKey, DayUsage, KeyWithUsage, NewKeyChoices, RevokeKey, RotateKey, GRACE_CHOICES,
};
use crate::error::Problem;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

/// Expiry presets offered, in days (those above the instance's maximum are left out).
const PRESET_DAYS: [i64; 4] = [7, 30, 90, 365];
/// Keys expiring within this many days say so.
const SOON_DAYS: i64 = 7;

#[component]
pub fn ApiKeys() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let rotate = ServerAction::<RotateKey>::new();
    // Two resources: the form's options never refetch, so a submit (failed or not) cannot
    // reset what the person has chosen; the list refetches after every change.
    let options = load(|| (), |_| key_options());
    let keys = load(
        move || (create.version().get(), revoke.version().get(), rotate.version().get()),
        |_| list_keys(),
    );
    // The token to show: of the key created or regenerated last.
    let fresh = RwSignal::new(None::<CreatedKey>);
    Effect::new(move || {
        if let Some(Ok(created)) = create.value().get() {
            fresh.set(Some(created));
        }
    });
    Effect::new(move || {
        if let Some(Ok(created)) = rotate.value().get() {
            fresh.set(Some(created));
        }
    });
    let list_problem = Signal::derive(move || revoke.value().with(problem_of).or_else(|| rotate.value().with(problem_of)));

    view! {
        <Title text="API keys" />
        <section class="card">
            <p class="breadcrumb"><A href="/account">"Account"</A> " › API keys"</p>
            <h1>"API keys"</h1>
            <p class="lede">
                "Keys let your own scripts and tools use Tapeline's REST API as you, with only the access you give them. "
                "See the " <a href="/docs">"API documentation"</a> "."
            </p>
            <Show when=move || fresh.get().is_some()>
                <NewToken created=fresh.into() />
            </Show>
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
            <FormError problem=list_problem />
            <Transition fallback=|| view! { <p class="muted">"Loading your keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(keys) => view! { <LimitNotice keys=keys.clone() /> <KeyList keys revoke rotate /> }.into_any(),
                        Err(p) => view! { <div class="form-error" role="alert">{p.detail}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The keys whose calls were refused by their limits today, named above the list.
#[component]
fn LimitNotice(keys: Vec<KeyWithUsage>) -> impl IntoView {
    let limited: Vec<ApiKey> = keys.into_iter().map(|k| k.key).filter(|k| k.refused_today > 0).collect();
    (!limited.is_empty()).then(|| {
        view! {
            <div class="notice warn" role="status" data-testid="limit-notice">
                <p><strong>{if limited.len() == 1 { "A key hit its limit today." } else { "Keys hit their limits today." }}</strong></p>
                <ul>
                    {limited.into_iter().map(|k| view! {
                        <li>
                            {format!(
                                "“{}”: {} calls refused today ({} a minute, {} a day). ",
                                k.name, thousands(k.refused_today), thousands(k.limits.rate_limit as u64), thousands(k.limits.daily_quota as u64),
                            )}
                        </li>
                    }).collect_view()}
                </ul>
                <p class="small">
                    "Refused calls get " <code>"429"</code> " with a " <code>"Retry-After"</code>
                    " header: spread the calls out, or ask the operator of this instance for a higher limit."
                </p>
            </div>
        }
    })
}

#[component]
fn KeyList(keys: Vec<KeyWithUsage>, revoke: ServerAction<RevokeKey>, rotate: ServerAction<RotateKey>) -> impl IntoView {
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
                        <th>"Name"</th><th>"Level"</th><th>"Expires"</th><th>"Last used"</th>
                        <th>"Today"</th><th>"Last 30 days"</th><th>"Limits"</th><th>"Key"</th><th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {keys.into_iter().map(|k| view! { <KeyRow key=k.key days=k.days revoke rotate /> }.into_any()).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn KeyRow(key: ApiKey, days: Vec<DayUsage>, revoke: ServerAction<RevokeKey>, rotate: ServerAction<RotateKey>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let expiry_note = expiry_badge(&key);
    let month: u64 = days.iter().map(|d| d.calls).sum();
    let (id, name) = (key.id.clone(), key.name.clone());
    let limits = format!("{} / min · {} / day", thousands(key.limits.rate_limit as u64), thousands(key.limits.daily_quota as u64));
    view! {
        <tr data-key-id=key.id.clone()>
            <td class="key-name">
                <span data-testid="key-name">{key.name.clone()}</span>
                <span class="muted small block" data-testid="key-created">{format!("created {}", format_day(&key.created_at))}</span>
            </td>
            <td><span class="level" title=key.level_label.clone()>{key.level}</span> " " <span class="muted small">{key.level_label.clone()}</span></td>
            <td data-testid="key-expires">{format_day(&key.expires_at)} " " {expiry_note}</td>
            <td>{key.last_used_at.as_deref().map(format_moment).unwrap_or_else(|| "never".to_owned())}</td>
            <td data-testid="key-today">
                <span data-testid="calls-today">{thousands(key.calls_today)}</span>
                {(key.refused_today > 0).then(|| view! {
                    " " <span class="badge danger" data-testid="refused-today">{format!("{} refused", thousands(key.refused_today))}</span>
                })}
            </td>
            <td class="usage-cell">
                <UsageChart days label=format!("Calls with “{}”", key.name) size=ChartSize::Spark />
                <span class="small" data-testid="calls-30d">{thousands(month)}</span>
            </td>
            <td class="small" data-testid="key-limits">
                {limits}
                {key.limits.custom.then(|| view! { " " <span class="badge" title="Set for this key by the operator">"custom"</span> })}
            </td>
            <td><code>{key.prefix.clone()}</code></td>
            <td class="row-actions">
                <RegenerateButton id=key.id.clone() name=key.name.clone() rotate />
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

/// "expired", or how soon the key expires when that is within [`SOON_DAYS`].
fn expiry_badge(key: &ApiKey) -> Option<AnyView> {
    if key.expired {
        return Some(view! { <span class="badge danger" data-testid="expiry-badge">"expired"</span> }.into_any());
    }
    let left = parse_time(&key.expires_at).map(|t| t - now_utc())?;
    if left.whole_days() >= SOON_DAYS {
        return None;
    }
    let text = match (left.whole_days(), left.whole_hours()) {
        (d, _) if d >= 2 => format!("expires in {d} days"),
        (1, _) => "expires in 1 day".to_owned(),
        (_, h) if h >= 2 => format!("expires in {h} hours"),
        (_, 1) => "expires in 1 hour".to_owned(),
        _ => "expires within the hour".to_owned(),
    };
    Some(view! { <span class="badge warn" data-testid="expiry-badge">{text}</span> }.into_any())
}

/// Regenerate: a new token for the key, the old one working on for a grace period chosen
/// from [`GRACE_CHOICES`].
#[component]
fn RegenerateButton(id: String, name: String, rotate: ServerAction<RotateKey>) -> impl IntoView {
    let open = RwSignal::new(false);
    let grace = RwSignal::new(GRACE_CHOICES[1].0.to_string());
    let title_id = format!("regenerate-title-{id}");
    view! {
        <button type="button" class="button secondary small" on:click=move |_| open.set(true)>"Regenerate"</button>
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=title_id.clone()>
                    <h3 id=title_id.clone()>{format!("Regenerate “{name}”?")}</h3>
                    <p>
                        "You get a new token with the same name, level and lifetime. "
                        "The old token keeps working for the grace period you choose, so you can update your scripts."
                    </p>
                    <fieldset class="field">
                        <legend>"The old token keeps working for"</legend>
                        <div class="choices">
                            {GRACE_CHOICES.iter().map(|(secs, label)| {
                                let value = secs.to_string();
                                view! {
                                    <label class="choice">
                                        <input type="radio" name="grace_period" value=value.clone()
                                            checked={ let value = value.clone(); move || grace.get() == value }
                                            on:change={ let value = value.clone(); move |_| grace.set(value.clone()) } />
                                        {*label}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    </fieldset>
                    <div class="dialog-actions">
                        <button type="button" class="button secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                        <button
                            type="button"
                            class="button"
                            disabled=move || rotate.pending().get()
                            on:click={
                                let id = id.clone();
                                move |_| {
                                    rotate.dispatch(RotateKey { id: id.clone(), grace_period: grace.get() });
                                    open.set(false);
                                }
                            }
                        >
                            "Regenerate key"
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

#[component]
fn NewKeyForm(
    options: NewKeyChoices,
    create: ServerAction<CreateKey>,
    keys: Loaded<Result<Vec<KeyWithUsage>, Problem>>,
) -> impl IntoView {
    let problem = Signal::derive(move || create.value().with(problem_of));
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

/// The token of a key just created or regenerated: shown once, with a copy button and a ready-to-run call.
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
