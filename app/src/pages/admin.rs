//! The operator's console at `/admin`: the overview (usage across the instance and the keys
//! to look at), people, one person, one key — and the actions the viewer's level allows.
//!
//! Staff only (level 6 and above): for anyone else every console address is the ordinary
//! "page not found" (the server functions refuse them, and the page shows [`NotFound`]), so
//! the console's existence is not confirmed. Everything reads without JavaScript; actions are
//! forms that post without it too, each destructive one behind a confirmation box.

use super::load::load;
use super::components::{format_day, problem_of, thousands, ChartSize, FormError, UsageChart};
use super::home::NotFound;
use crate::admin::{
    console_key, console_overview, console_user, console_users, AdminKey, ConsoleRevokeKey, ConsoleSetKeyLimits,
    ConsoleSetRole, ConsoleSuspendUser, JUMP_FACTOR, JUMP_MIN_CALLS,
};
use crate::audit::{AuditEvent, OperatorAction};
use crate::error::Problem;
use crate::levels::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The level that may suspend and set key limits, and the one that changes roles and revokes.
const SUSPEND_LEVEL: u8 = 7;
const ADMIN_LEVEL: u8 = 8;

/// The level the signed-in viewer acts at (0 when signed out): which actions to offer. The
/// server checks again on every action.
async fn viewer_level(session: super::session::Session) -> u8 {
    match session.account.await {
        Ok(Some(me)) => me.role.level().get(),
        _ => 0,
    }
}

/// What a refused console call shows: not-found for anyone who is not staff.
fn refused(p: Problem) -> AnyView {
    if p.status == 401 || p.status == 403 {
        view! { <NotFound /> }.into_any()
    } else {
        view! { <section class="card"><div class="form-error" role="alert">{p.detail}</div></section> }.into_any()
    }
}

#[component]
fn ConsoleNav() -> impl IntoView {
    view! {
        <nav class="console-nav" aria-label="Console">
            <A href="/admin" exact=true>"Overview"</A>
            <A href="/admin/users">"People"</A>
        </nav>
    }
}

/// `/admin`: the overview.
#[component]
pub fn AdminOverview() -> impl IntoView {
    let overview = load(|| (), |_| console_overview());
    view! {
        <Title text="Operator console" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Err(p) => refused(p),
                    Ok(o) => {
                        let today = o.today.days.last().cloned().unwrap_or_default();
                        let month_calls: u64 = o.month.days.iter().map(|d| d.calls).sum();
                        let month_refused: u64 = o.month.days.iter().map(|d| d.refused).sum();
                        view! {
                            <section class="card wide">
                                <h1>"Operator console"</h1>
                                <ConsoleNav />
                                <dl class="stats" data-testid="instance-stats">
                                    <div><dt>"Calls today"</dt><dd data-testid="calls-today">{thousands(today.calls)}</dd></div>
                                    <div><dt>"Refused today"</dt><dd data-testid="refused-today">{thousands(today.refused)}</dd></div>
                                    <div><dt>"Calls, 30 days"</dt><dd>{thousands(month_calls)}</dd></div>
                                    <div><dt>"Refused, 30 days"</dt><dd>{thousands(month_refused)}</dd></div>
                                    <div><dt>"Active keys (30 days)"</dt><dd>{o.month.active_keys}</dd></div>
                                    <div><dt>"Active people (30 days)"</dt><dd>{o.month.active_users}</dd></div>
                                    <div><dt>"Live keys"</dt><dd>{o.month.live_keys}</dd></div>
                                    <div><dt>"Accounts"</dt><dd>{o.month.users}</dd></div>
                                </dl>
                                <h2 class="section-title">"Calls per day, last 30 days"</h2>
                                <UsageChart days=o.month.days.clone() label="Calls on the instance".to_owned() size=ChartSize::Large />
                                <h2 class="section-title">"Keys to look at"</h2>
                                <KeyTable title="Busiest today" testid="busiest-today" keys=o.busiest_today today=true />
                                <KeyTable title="Busiest over the last 7 days" testid="busiest-week" keys=o.busiest_week today=false />
                                <KeyTable title="Refused by their limits today" testid="refused-keys" keys=o.refused_today today=true />
                                <KeyTable title="Sudden jumps" testid="jumps" keys=o.jumps today=true />
                                <p class="hint">
                                    {format!(
                                        "A sudden jump: at least {JUMP_MIN_CALLS} calls today, and at least {JUMP_FACTOR} times the key's own average over the 7 days before today (an average under one call a day counts as one)."
                                    )}
                                </p>
                                <h2 class="section-title">"Operator log"</h2>
                                <OperatorLog entries=o.log.entries />
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// A list of keys: name, owner, level, calls, refused, share of all traffic, limits.
#[component]
fn KeyTable(title: &'static str, testid: &'static str, keys: Vec<AdminKey>, today: bool) -> impl IntoView {
    view! {
        <h3>{title}</h3>
        {if keys.is_empty() {
            view! { <p class="muted" data-testid=testid>"None."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table data-testid=testid>
                        <thead>
                            <tr>
                                <th scope="col">"Key"</th><th scope="col">"Owner"</th><th scope="col">"Level"</th>
                                <th scope="col">{if today { "Calls today" } else { "Calls" }}</th>
                                <th scope="col">{if today { "Refused today" } else { "Refused" }}</th>
                                <th scope="col">"Share"</th><th scope="col">"Limits"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {keys.into_iter().map(|k| {
                                let (calls, refused) = if today { (k.calls_today, k.refused_today) } else { (k.calls, k.refused) };
                                let limits = limits_text(&k);
                                let (owner, name) = (k.owner.clone(), k.name.clone());
                                view! {
                                    <tr data-key-id=k.id.clone()>
                                        <td><A href=format!("/admin/keys/{}", k.id)>{name}</A> " " <code class="small">{k.id.clone()}</code></td>
                                        <td><A href=format!("/admin/users/{}", k.owner_id)>{owner}</A></td>
                                        <td>{k.level}</td>
                                        <td class="num">{thousands(calls)}</td>
                                        <td class="num">{thousands(refused)}</td>
                                        <td class="num">{format!("{:.1} %", k.share * 100.0)}</td>
                                        <td class="small">{limits}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

fn limits_text(k: &AdminKey) -> String {
    format!(
        "{} / min · {} / day{}",
        thousands(k.limits.rate_limit as u64),
        thousands(k.limits.daily_quota as u64),
        if k.limits.custom { " (set for this key)" } else { "" }
    )
}

#[component]
fn OperatorLog(entries: Vec<OperatorAction>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="muted" data-testid="operator-log">"No actions yet."</p> }.into_any();
    }
    view! {
        <ol class="activity" data-testid="operator-log">
            {entries.into_iter().map(|e| view! {
                <li data-kind=e.action.as_str()>
                    <time datetime=e.at.clone()>{format_day(&e.at)}</time>
                    <div>
                        <span class="what">{e.action.label()}</span>
                        " — " {e.username.clone()} " by " {e.actor.clone()}
                        <div class="small">{e.detail.clone()}{e.reason.map(|r| format!(" — “{r}”"))}</div>
                    </div>
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// `/admin/users?q=`: people, searched by username or email.
#[component]
pub fn AdminUsers() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let users = load(q, console_users);
    view! {
        <Title text="People · Operator console" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(p) => refused(p),
                    Ok(page) => view! {
                        <section class="card wide">
                            <h1>"People"</h1>
                            <ConsoleNav />
                            <form method="get" action="/admin/users" class="search" role="search">
                                <label for="user-search" class="visually-hidden">"Search by username or email"</label>
                                <input id="user-search" type="search" name="q" value=q() placeholder="Username or email" />
                                <button type="submit" class="button secondary">"Search"</button>
                            </form>
                            <p class="muted small">{format!("{} of {} shown", page.users.len(), page.total)}</p>
                            <div class="table-wrap">
                                <table data-testid="users-table">
                                    <thead><tr><th scope="col">"Username"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"State"</th><th scope="col">"Live keys"</th></tr></thead>
                                    <tbody>
                                        {page.users.into_iter().map(|u| view! {
                                            <tr>
                                                <td><A href=format!("/admin/users/{}", u.id)>{u.username.clone()}</A></td>
                                                <td>{u.email.clone()}</td>
                                                <td>{u.role.clone()}</td>
                                                <td>{if u.suspended_at.is_some() { view! { <span class="badge danger">"suspended"</span> }.into_any() } else { view! { "active" }.into_any() }}</td>
                                                <td class="num">{u.live_keys}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/admin/users/:id`: one person, their keys with usage and limits, and the actions.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let suspend = ServerAction::<ConsoleSuspendUser>::new();
    let role = ServerAction::<ConsoleSetRole>::new();
    let session = super::session::use_session();
    let user = load(move || (id(), suspend.version().get(), role.version().get()), |(id, _, _)| console_user(id));
    view! {
        <Title text="Person · Operator console" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let viewer_level = viewer_level(session).await;
                match user.await {
                    Err(p) => refused(p),
                    Ok(detail) => {
                        let u = detail.user.clone();
                        view! {
                            <section class="card wide">
                                <p class="breadcrumb"><A href="/admin">"Console"</A> " › " <A href="/admin/users">"People"</A></p>
                                <h1>{u.username.clone()}</h1>
                                <dl class="details" data-testid="user-details">
                                    <dt>"Email"</dt><dd>{u.email.clone()}</dd>
                                    <dt>"Role"</dt><dd data-testid="user-role">{format!("{} (level {})", u.role, u.level)}</dd>
                                    <dt>"State"</dt>
                                    <dd data-testid="user-state">
                                        {match (&u.suspended_at, &u.suspend_reason) {
                                            (Some(at), reason) => format!("suspended since {}{}", format_day(at), reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()),
                                            (None, _) => "active".to_owned(),
                                        }}
                                    </dd>
                                    <dt>"Member since"</dt><dd>{format_day(&u.created_at)}</dd>
                                </dl>
                                <h2 class="section-title">"Keys"</h2>
                                <UserKeys keys=detail.keys.clone() />
                                {(viewer_level >= SUSPEND_LEVEL).then(|| view! { <SuspendForm user=u.clone() action=suspend /> })}
                                {(viewer_level >= ADMIN_LEVEL).then(|| view! { <RoleForm user=u.clone() action=role /> })}
                                <h2 class="section-title">"Activity"</h2>
                                <UserActivity events=detail.activity.clone() />
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserKeys(keys: Vec<AdminKey>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="muted">"No keys."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table data-testid="user-keys">
                <thead><tr><th scope="col">"Key"</th><th scope="col">"Level"</th><th scope="col">"State"</th><th scope="col">"Today"</th><th scope="col">"30 days"</th><th scope="col">"Limits"</th></tr></thead>
                <tbody>
                    {keys.into_iter().map(|k| {
                        let state = if k.revoked_at.is_some() { "revoked" } else if k.expired { "expired" } else { "live" };
                        let limits = limits_text(&k);
                        let name = k.name.clone();
                        view! {
                            <tr data-key-id=k.id.clone()>
                                <td><A href=format!("/admin/keys/{}", k.id)>{name}</A> " " <code class="small">{k.id.clone()}</code></td>
                                <td>{k.level}</td>
                                <td>{state}</td>
                                <td class="num">{format!("{} ({} refused)", thousands(k.calls_today), thousands(k.refused_today))}</td>
                                <td class="num">{thousands(k.calls)}</td>
                                <td class="small">{limits}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn UserActivity(events: Vec<AuditEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"Nothing yet."</p> }.into_any();
    }
    view! {
        <ol class="activity">
            {events.into_iter().map(|e| view! {
                <li data-kind=e.kind.as_str()>
                    <time datetime=e.at.clone()>{format_day(&e.at)}</time>
                    <div><span class="what">{e.kind.label()}</span><div class="small">{e.detail}</div></div>
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// Suspend or unsuspend, with a reason and a confirmation box.
#[component]
fn SuspendForm(user: crate::admin::AdminUser, action: ServerAction<ConsoleSuspendUser>) -> impl IntoView {
    let problem = Signal::derive(move || action.value().with(problem_of));
    let suspended = user.suspended_at.is_some();
    let (verb, title) = if suspended { ("Lift the suspension", "Lift the suspension") } else { ("Suspend", "Suspend this account") };
    view! {
        <h2 class="section-title">{title}</h2>
        <ActionForm action=action attr:class="form" attr:data-testid="suspend-form">
            <FormError problem=problem />
            <input type="hidden" name="id" value=user.id.to_string() />
            <input type="hidden" name="suspend" value=(!suspended).to_string() />
            <div class="field">
                <label for="suspend-reason">"Reason (the owner sees it)"</label>
                <input id="suspend-reason" name="reason" type="text" maxlength="500" required />
                <p class="field-error">{move || problem.get().and_then(|p| p.message_for("reason"))}</p>
            </div>
            {(!suspended).then(|| view! {
                <p class="hint">"Their keys are refused from their next request and their sessions end."</p>
            })}
            <label class="choice">
                <input type="checkbox" required data-testid="suspend-confirm" />
                {format!("Yes, {} {}.", verb.to_lowercase(), user.username)}
            </label>
            <button type="submit" class=if suspended { "button" } else { "button danger" } disabled=move || action.pending().get()>{verb}</button>
        </ActionForm>
    }
}

/// Change the role (level 8), with a confirmation box.
#[component]
fn RoleForm(user: crate::admin::AdminUser, action: ServerAction<ConsoleSetRole>) -> impl IntoView {
    let problem = Signal::derive(move || action.value().with(problem_of));
    view! {
        <h2 class="section-title">"Role"</h2>
        <ActionForm action=action attr:class="form" attr:data-testid="role-form">
            <FormError problem=problem />
            <input type="hidden" name="id" value=user.id.to_string() />
            <div class="field">
                <label for="role-select">"Role"</label>
                <select id="role-select" name="role">
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r.as_str() == user.role>{format!("{} (level {})", r.as_str(), r.level())}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="role-reason">"Reason (optional)"</label>
                <input id="role-reason" name="reason" type="text" maxlength="500" />
            </div>
            <label class="choice">
                <input type="checkbox" required data-testid="role-confirm" />
                {format!("Yes, change the role of {}.", user.username)}
            </label>
            <button type="submit" class="button" disabled=move || action.pending().get()>"Change role"</button>
        </ActionForm>
    }
}

/// `/admin/keys/:id`: one key, its 30-day chart, limits, owner, and the actions.
#[component]
pub fn AdminKeyPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let set_limits = ServerAction::<ConsoleSetKeyLimits>::new();
    let revoke = ServerAction::<ConsoleRevokeKey>::new();
    let session = super::session::use_session();
    let key = load(move || (id(), set_limits.version().get(), revoke.version().get()), |(id, _, _)| console_key(id));
    view! {
        <Title text="Key · Operator console" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let viewer_level = viewer_level(session).await;
                match key.await {
                    Err(p) => refused(p),
                    Ok(detail) => {
                        let k = detail.key.clone();
                        let state = if k.revoked_at.is_some() { "revoked" } else if k.expired { "expired" } else { "live" };
                        let limits = limits_text(&k);
                        let (owner, owner_again) = (k.owner.clone(), k.owner.clone());
                        view! {
                            <section class="card wide">
                                <p class="breadcrumb"><A href="/admin">"Console"</A> " › " <A href=format!("/admin/users/{}", k.owner_id)>{owner}</A></p>
                                <h1>{format!("Key “{}”", k.name)}</h1>
                                <dl class="details" data-testid="key-details">
                                    <dt>"Id"</dt><dd><code>{k.id.clone()}</code></dd>
                                    <dt>"Owner"</dt><dd><A href=format!("/admin/users/{}", k.owner_id)>{owner_again}</A></dd>
                                    <dt>"Level"</dt><dd>{k.level}</dd>
                                    <dt>"State"</dt><dd data-testid="key-state">{state}</dd>
                                    <dt>"Expires"</dt><dd>{format_day(&k.expires_at)}</dd>
                                    <dt>"Today"</dt><dd data-testid="key-today">{format!("{} calls, {} refused", thousands(k.calls_today), thousands(k.refused_today))}</dd>
                                    <dt>"Limits"</dt><dd data-testid="key-limits">{limits}</dd>
                                </dl>
                                <h2 class="section-title">"Calls per day, last 30 days"</h2>
                                <UsageChart days=detail.usage.clone() label=format!("Calls with key “{}”", k.name) size=ChartSize::Large />
                                {(viewer_level >= SUSPEND_LEVEL && k.revoked_at.is_none()).then(|| view! { <LimitsForm key=k.clone() action=set_limits /> })}
                                {(viewer_level >= ADMIN_LEVEL && k.revoked_at.is_none()).then(|| view! { <RevokeForm key=k.clone() action=revoke /> })}
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Set or clear the key's own limits, with a reason and a confirmation box.
#[component]
fn LimitsForm(key: AdminKey, action: ServerAction<ConsoleSetKeyLimits>) -> impl IntoView {
    let problem = Signal::derive(move || action.value().with(problem_of));
    let saved = move || action.value().with(|v| matches!(v, Some(Ok(_))));
    let field = move |name: &'static str| move || problem.get().and_then(|p| p.message_for(name));
    view! {
        <h2 class="section-title">"Limits"</h2>
        <ActionForm action=action attr:class="form" attr:data-testid="limits-form">
            <FormError problem=problem />
            <input type="hidden" name="id" value=key.id.clone() />
            <div class="field">
                <label for="limit-rate">"Requests per minute (empty: the default; 0 refuses everything)"</label>
                <input id="limit-rate" name="rate_limit" type="text" inputmode="numeric" value=key.rate_limit_override.map(|v| v.to_string()).unwrap_or_default() />
                <p class="field-error">{field("rate_limit")}</p>
            </div>
            <div class="field">
                <label for="limit-quota">"Requests per day (empty: the default; 0 refuses everything)"</label>
                <input id="limit-quota" name="daily_quota" type="text" inputmode="numeric" value=key.daily_quota_override.map(|v| v.to_string()).unwrap_or_default() />
                <p class="field-error">{field("daily_quota")}</p>
            </div>
            <div class="field">
                <label for="limit-reason">"Reason (the owner sees it)"</label>
                <input id="limit-reason" name="reason" type="text" maxlength="500" required />
                <p class="field-error">{field("reason")}</p>
            </div>
            <label class="choice">
                <input type="checkbox" required data-testid="limits-confirm" />
                {format!("Yes, change the limits of “{}”.", key.name)}
            </label>
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || action.pending().get()>"Set limits"</button>
                <span class="muted" role="status">{move || saved().then_some("Saved.")}</span>
            </div>
        </ActionForm>
    }
}

/// Revoke the key (level 8), with a reason and a confirmation box.
#[component]
fn RevokeForm(key: AdminKey, action: ServerAction<ConsoleRevokeKey>) -> impl IntoView {
    let problem = Signal::derive(move || action.value().with(problem_of));
    view! {
        <div class="danger-zone">
            <h2 class="section-title">"Revoke"</h2>
            <ActionForm action=action attr:class="form" attr:data-testid="revoke-form">
                <FormError problem=problem />
                <input type="hidden" name="id" value=key.id.clone() />
                <div class="field">
                    <label for="revoke-reason">"Reason (the owner sees it)"</label>
                    <input id="revoke-reason" name="reason" type="text" maxlength="500" required />
                    <p class="field-error">{move || problem.get().and_then(|p| p.message_for("reason"))}</p>
                </div>
                <label class="choice">
                    <input type="checkbox" required data-testid="revoke-confirm" />
                    {format!("Yes, revoke “{}”: it stops working at once, for good.", key.name)}
                </label>
                <button type="submit" class="button danger" disabled=move || action.pending().get()>"Revoke key"</button>
            </ActionForm>
        </div>
    }
}
