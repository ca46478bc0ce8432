//! Fair use: every API key has a per-minute rate and a daily quota (UTC day), and requests
//! to the API without a valid key are limited per client address.
//!
//! The rate is a GCRA (generic cell rate algorithm: one "theoretical arrival time" per key)
//! with a burst equal to the per-minute figure, so a key may spend its minute at once or
//! evenly, and recovers smoothly. The quota counts the calls answered today: on a key's
//! first call of the day in this process it starts from the day's count in the database
//! (plus any not yet written), so a restart cannot reset it. Refused calls spend neither.
//!
//! Why not a crate such as `governor`: limits differ per key (staff override them), the
//! answer must say how much is left (`RateLimit` header), and the scale-out deployment runs
//! the very same algorithm as one atomic script in Redis; thirty lines, unit-tested below,
//! keep both implementations identical.
//!
//! Everything here is memory only: checking the limits never waits on a database write.

use super::usage::Day;
use super::AuthState;
use crate::error::ErrorCode;
use crate::server::config::KeySettings;
use crate::server::shared::Shared;
use crate::server::db::rfc3339;
use crate::server::{cookie, http::{address_text, client_ip_of}, Error};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderName, HeaderValue, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One key's limits: the instance's defaults, or what staff set for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Requests per minute (0: refuse everything).
    pub per_minute: u32,
    /// Requests per UTC day (0: refuse everything).
    pub per_day: u32,
}

impl KeyPolicy {
    /// A key's limits: what staff set for it (`rate`, `quota`; `None` is "the default"), or
    /// the instance's defaults. The one lookup, for checking a request and for showing a key.
    pub fn of(defaults: &KeySettings, rate: Option<i64>, quota: Option<i64>) -> KeyPolicy {
        let clamp = |v: i64| v.clamp(0, u32::MAX as i64) as u32;
        KeyPolicy {
            per_minute: rate.map_or(defaults.rate_per_minute, clamp),
            per_day: quota.map_or(defaults.daily_quota, clamp),
        }
    }
}

/// Why a request was refused, and how long until a call will succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Over the per-minute rate.
    Rate { retry_after: u64 },
    /// The day's quota is spent: until the next UTC midnight.
    Quota { retry_after: u64 },
}

/// What a key's check found: the state of both limits, for the response headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyOutcome {
    pub policy: KeyPolicy,
    /// Calls left in the per-minute burst, and seconds until it is whole again.
    pub minute_remaining: u32,
    pub minute_reset: u64,
    /// Calls left today, and seconds until the next UTC midnight.
    pub day_remaining: u32,
    pub day_reset: u64,
    pub refused: Option<Refusal>,
}

impl KeyOutcome {
    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-11, as
    /// structured-field lists), naming the two policies `minute` and `day`.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 2] {
        let policy = format!("\"minute\";q={};w=60, \"day\";q={};w=86400", self.policy.per_minute, self.policy.per_day);
        let state = format!(
            "\"minute\";r={};t={}, \"day\";r={};t={}",
            self.minute_remaining, self.minute_reset, self.day_remaining, self.day_reset
        );
        [
            // The texts become the values as they are (`TryFrom<String>`), not copied again.
            (HeaderName::from_static("ratelimit-policy"), HeaderValue::try_from(policy).expect("ASCII")),
            (HeaderName::from_static("ratelimit"), HeaderValue::try_from(state).expect("ASCII")),
        ]
    }
}

/// What an anonymous request's check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnonOutcome {
    pub per_minute: u32,
    pub remaining: u32,
    pub reset: u64,
    /// `Some(seconds)` when refused.
    pub retry_after: Option<u64>,
}

impl AnonOutcome {
    /// `RateLimit-Policy` and `RateLimit` for the per-address policy, `anonymous`.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 2] {
        [
            (
                HeaderName::from_static("ratelimit-policy"),
                HeaderValue::from_str(&format!("\"anonymous\";q={};w=60", self.per_minute)).expect("ASCII"),
            ),
            (
                HeaderName::from_static("ratelimit"),
                HeaderValue::from_str(&format!("\"anonymous\";r={};t={}", self.remaining, self.reset)).expect("ASCII"),
            ),
        ]
    }
}

/// A GCRA cell: the theoretical arrival time of the next call, in microseconds.
#[derive(Clone, Copy, Debug, Default)]
struct Gcra {
    tat: i64,
}

/// The answer of one GCRA check: accepted with what is left, or refused with the wait.
enum Cell {
    Accepted { remaining: u32, reset_us: i64 },
    Refused { wait_us: i64 },
}

const MINUTE_US: i64 = 60_000_000;

impl Gcra {
    /// Spends one call at `now` (µs) under `per_minute`, if the burst allows it.
    fn check(&mut self, per_minute: u32, now: i64) -> Cell {
        if per_minute == 0 {
            return Cell::Refused { wait_us: MINUTE_US };
        }
        let interval = MINUTE_US / per_minute as i64;
        let tolerance = interval * (per_minute as i64 - 1);
        let tat = self.tat.max(now);
        if tat - now > tolerance {
            return Cell::Refused { wait_us: tat - tolerance - now };
        }
        let new_tat = tat + interval;
        self.tat = new_tat;
        let remaining = ((tolerance + interval - (new_tat - now)) / interval).max(0) as u32;
        Cell::Accepted { remaining, reset_us: new_tat - now }
    }
}

/// Whole seconds, rounded up: a client that waits this long will not be refused again.
fn ceil_secs(us: i64) -> u64 {
    ((us.max(0) + 999_999) / 1_000_000) as u64
}

#[derive(Debug, Default)]
struct KeyState {
    gcra: Gcra,
    /// The UTC day `used` counts, and the calls answered that day.
    day: Day,
    used: u64,
}

/// The limiter of one Tapeline process: in memory, or — with `TAPELINE_REDIS_URL` — in
/// Redis, shared by every process, with the in-memory state as the fallback while Redis does
/// not answer.
#[derive(Debug, Default)]
pub struct Limiter {
    keys: Mutex<HashMap<String, KeyState>>,
    anonymous: Mutex<HashMap<String, Gcra>>,
    shared: Option<Shared>,
}

/// The GCRA step, in Lua: the same algorithm as [`Gcra::check`], on the key `KEYS[1]`
/// holding the theoretical arrival time (µs). Sets `status` 0 (accepted) or 1 (refused) and
/// the numbers the answer needs.
const GCRA_LUA: &str = r#"
local function gcra(key, per_minute, now)
  if per_minute == 0 then return 1, 0, 60000000, 60000000 end
  local interval = math.floor(60000000 / per_minute)
  local tolerance = interval * (per_minute - 1)
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  if tat - now > tolerance then return 1, 0, tat - now, tat - tolerance - now end
  local new_tat = tat + interval
  redis.call('SET', key, string.format('%d', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1000)
  return 0, math.floor((tolerance + interval - (new_tat - now)) / interval), new_tat - now, 0
end
"#;

/// A key's check in Redis. KEYS: the GCRA cell, the day's count. ARGV: now (µs), per
/// minute, per day, seconds to keep the day's count, the day's count so far (or -1 when not
/// known). Answers `{-1}` when the day's count is needed, else
/// `{status, minute_remaining, minute_reset_us, wait_us, used}` with status 0 accepted,
/// 1 over the rate, 2 over the quota.
fn key_script() -> &'static redis::Script {
    static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| {
        redis::Script::new(&format!(
            r#"{GCRA_LUA}
local now = tonumber(ARGV[1])
local used = redis.call('GET', KEYS[2])
if not used then
  local seed = tonumber(ARGV[5])
  if seed < 0 then return {{-1}} end
  redis.call('SET', KEYS[2], seed, 'EX', tonumber(ARGV[4]), 'NX')
  used = redis.call('GET', KEYS[2])
end
used = tonumber(used)
if used >= tonumber(ARGV[3]) then
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  return {{2, 0, math.max(tat - now, 0), 0, used}}
end
local status, remaining, reset, wait = gcra(KEYS[1], tonumber(ARGV[2]), now)
if status == 0 then used = redis.call('INCR', KEYS[2]) end
return {{status, remaining, reset, wait, used}}
"#
        ))
    })
}

/// An anonymous caller's check in Redis: the GCRA alone. KEYS: the cell. ARGV: now, per
/// minute. Answers `{status, remaining, reset_us, wait_us}`.
fn anonymous_script() -> &'static redis::Script {
    static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| {
        redis::Script::new(&format!(
            r#"{GCRA_LUA}
local status, remaining, reset, wait = gcra(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[1]))
return {{status, remaining, reset, wait}}
"#
        ))
    })
}

/// What Redis said about a key.
pub enum SharedCheck {
    /// The check ran: here is its outcome.
    Done(KeyOutcome),
    /// Redis has no count for the key's day yet (its first call of the day on any process,
    /// or Redis lost its data): ask again with the day's count from the database.
    NeedsDayCount,
}

/// Seconds from `now` (Unix seconds) to the next UTC midnight.
pub fn until_midnight(now: i64) -> u64 {
    (86_400 - now.rem_euclid(86_400)) as u64
}

impl Limiter {
    /// A limiter that shares its state through `shared` when given.
    pub fn new(shared: Option<Shared>) -> Limiter {
        Limiter { shared, ..Limiter::default() }
    }

    /// The shared store, when the limits are shared.
    pub fn shared(&self) -> Option<&Shared> {
        self.shared.as_ref()
    }

    /// Checks and spends one call of `key_id` in Redis. `None` when Redis did not answer
    /// (the caller then checks in process).
    pub async fn check_key_shared(&self, key_id: &str, policy: KeyPolicy, now_us: i64, day_count: Option<u64>) -> Option<SharedCheck> {
        let shared = self.shared.as_ref()?;
        let now = now_us.div_euclid(1_000_000);
        let day = now.div_euclid(86_400);
        let day_reset = until_midnight(now);
        let mut invocation = key_script().prepare_invoke();
        invocation
            .key(format!("tapeline:gcra:{key_id}"))
            .key(format!("tapeline:day:{day}:{key_id}"))
            .arg(now_us)
            .arg(policy.per_minute)
            .arg(policy.per_day)
            .arg(day_reset + 3600)
            .arg(day_count.map_or(-1, |c| c as i64));
        let answer: Vec<i64> = shared.run(&invocation).await?;
        if answer.first() == Some(&-1) {
            return Some(SharedCheck::NeedsDayCount);
        }
        let [status, minute_remaining, reset_us, wait_us, used] = answer[..] else {
            return None;
        };
        let quota = policy.per_day as u64;
        let refused = match status {
            0 => None,
            1 => Some(Refusal::Rate { retry_after: ceil_secs(wait_us).max(1) }),
            _ => Some(Refusal::Quota { retry_after: day_reset }),
        };
        // This process now knows the key's count of the day across every process: the
        // starting point should it have to limit on its own (Redis gone), and a sign that it
        // need not read the count from the database again today.
        {
            let mut keys = self.keys.lock().expect("limiter lock");
            let state = super::state_of(&mut keys, key_id);
            state.day = day;
            state.used = used.max(0) as u64;
        }
        Some(SharedCheck::Done(KeyOutcome {
            policy,
            minute_remaining: minute_remaining.max(0) as u32,
            minute_reset: ceil_secs(reset_us),
            day_remaining: quota.saturating_sub(used.max(0) as u64).min(u32::MAX as u64) as u32,
            day_reset,
            refused,
        }))
    }

    /// Checks one anonymous call from `client`: in Redis when the limits are shared and it
    /// answers, else in process.
    pub async fn check_anonymous_anywhere(&self, client: &str, per_minute: u32, now_us: i64) -> AnonOutcome {
        if let Some(shared) = &self.shared {
            let mut invocation = anonymous_script().prepare_invoke();
            invocation.key(format!("tapeline:anon:{client}")).arg(now_us).arg(per_minute);
            if let Some(answer) = shared.run::<Vec<i64>>(&invocation).await {
                if let [status, remaining, reset_us, wait_us] = answer[..] {
                    return AnonOutcome {
                        per_minute,
                        remaining: remaining.max(0) as u32,
                        reset: ceil_secs(reset_us),
                        retry_after: (status != 0).then(|| ceil_secs(wait_us).max(1)),
                    };
                }
            }
        }
        self.check_anonymous(client, per_minute, now_us)
    }

    /// Whether the quota of `key_id` for `day` still needs its starting count (the day's
    /// calls already written, or counted before this process saw the key today).
    pub fn needs_day_count(&self, key_id: &str, day: Day) -> bool {
        self.keys.lock().expect("limiter lock").get(key_id).is_none_or(|s| s.day != day)
    }

    /// Checks and, when accepted, spends one call of `key_id` at `now_us` (Unix µs).
    /// `day_count` is the day's count so far when [`Limiter::needs_day_count`] said so.
    pub fn check_key(&self, key_id: &str, policy: KeyPolicy, now_us: i64, day_count: Option<u64>) -> KeyOutcome {
        let now = now_us.div_euclid(1_000_000);
        let day = now.div_euclid(86_400);
        let day_reset = until_midnight(now);
        let mut keys = self.keys.lock().expect("limiter lock");
        if keys.len() > 100_000 {
            // Bounded memory: forget keys whose burst is whole again and whose day is over.
            keys.retain(|_, s| s.gcra.tat > now_us || s.day == day);
        }
        let state = super::state_of(&mut keys, key_id);
        if state.day != day {
            *state = KeyState { gcra: state.gcra, day, used: day_count.unwrap_or(0) };
        }
        let quota = policy.per_day as u64;
        let outcome = |minute_remaining, minute_reset, used: u64, refused| KeyOutcome {
            policy,
            minute_remaining,
            minute_reset,
            day_remaining: quota.saturating_sub(used).min(u32::MAX as u64) as u32,
            day_reset,
            refused,
        };
        if state.used >= quota {
            let minute_reset = ceil_secs(state.gcra.tat - now_us);
            return outcome(0, minute_reset, state.used, Some(Refusal::Quota { retry_after: day_reset }));
        }
        match state.gcra.check(policy.per_minute, now_us) {
            Cell::Refused { wait_us } => {
                let retry_after = ceil_secs(wait_us).max(1);
                outcome(0, ceil_secs(state.gcra.tat - now_us), state.used, Some(Refusal::Rate { retry_after }))
            }
            Cell::Accepted { remaining, reset_us } => {
                state.used += 1;
                outcome(remaining, ceil_secs(reset_us), state.used, None)
            }
        }
    }

    /// Checks and, when accepted, spends one anonymous call from `client` at `now_us`.
    pub fn check_anonymous(&self, client: &str, per_minute: u32, now_us: i64) -> AnonOutcome {
        let mut anonymous = self.anonymous.lock().expect("limiter lock");
        if anonymous.len() > 100_000 {
            anonymous.retain(|_, g| g.tat > now_us);
        }
        let gcra = super::state_of(&mut anonymous, client);
        match gcra.check(per_minute, now_us) {
            Cell::Accepted { remaining, reset_us } => {
                AnonOutcome { per_minute, remaining, reset: ceil_secs(reset_us), retry_after: None }
            }
            Cell::Refused { wait_us } => AnonOutcome {
                per_minute,
                remaining: 0,
                reset: ceil_secs(gcra.tat - now_us),
                retry_after: Some(ceil_secs(wait_us).max(1)),
            },
        }
    }
}

/// What a key-authenticated response carries besides its body: the state of the key's limits
/// and when the key expires.
#[derive(Clone, Copy, Debug)]
pub struct KeyHeaders {
    /// `None` when the operator turned key limits off.
    pub outcome: Option<KeyOutcome>,
    pub expires_at: i64,
}

/// Where the `Principal` extractor leaves a key's [`KeyHeaders`] for [`fair_use`] to write
/// on the response, whatever the handler answers (a 429 included).
#[derive(Clone, Debug, Default)]
pub struct KeyHeadersSlot(Arc<Mutex<Option<KeyHeaders>>>);

impl KeyHeadersSlot {
    pub fn set(&self, headers: KeyHeaders) {
        *self.0.lock().expect("slot lock") = Some(headers);
    }

    fn take(&self) -> Option<KeyHeaders> {
        self.0.lock().expect("slot lock").take()
    }
}

/// The current time in Unix microseconds.
pub fn now_us() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

/// The fair-use layer of the REST API.
///
/// - A request with neither an API key nor a session is anonymous: limited per client
///   address, refused with `429 rate_limited` past the limit.
/// - A key's limits are checked by the `Principal` extractor once the key is verified; this
///   layer writes their state (`RateLimit-Policy`, `RateLimit`) and `Tapeline-Key-Expires` on
///   every key-authenticated response.
/// - A request whose key fails authentication is charged to its address like an anonymous
///   one, so guessing keys is limited too.
pub async fn fair_use<S: AuthState + Clone + 'static>(State(state): State<S>, mut req: Request, next: Next) -> Response {
    let slot = KeyHeadersSlot::default();
    req.extensions_mut().insert(slot.clone());
    let has_key = req.headers().contains_key(header::AUTHORIZATION);
    let has_session = cookie::token_from_headers(req.headers()).is_some();
    // Written out as text only when the request is charged to its address: not on a key's
    // call that succeeds (formatting it was 2 % of such a call's instructions).
    let client = client_ip_of(req.extensions());
    let per_minute = state.config().keys.anon_rate_per_minute;
    if !has_key && !has_session {
        let outcome = state.limiter().check_anonymous_anywhere(&address_text(client), per_minute, now_us()).await;
        let mut res = match outcome.retry_after {
            Some(wait) => rate_limited(wait, "Too many requests without an API key from your address."),
            None => next.run(req).await,
        };
        res.headers_mut().extend(outcome.headers());
        return res;
    }
    let mut res = next.run(req).await;
    if let Some(key) = slot.take() {
        if let Some(outcome) = key.outcome {
            res.headers_mut().extend(outcome.headers());
        }
        if let Ok(value) = HeaderValue::try_from(rfc3339(key.expires_at)) {
            res.headers_mut().insert(HeaderName::from_static("tapeline-key-expires"), value);
        }
    } else if has_key && res.status() == StatusCode::UNAUTHORIZED {
        let outcome = state.limiter().check_anonymous_anywhere(&address_text(client), per_minute, now_us()).await;
        if let Some(wait) = outcome.retry_after {
            res = rate_limited(wait, "Too many failed attempts to authenticate from your address.");
        }
        res.headers_mut().extend(outcome.headers());
    }
    res
}

fn rate_limited(retry_after: u64, detail: &str) -> Response {
    Error::limited(ErrorCode::RateLimited, format!("{detail} Try again in {retry_after} seconds."), retry_after).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;
    /// A Unix time (µs) well inside a UTC day.
    const T0: i64 = (20_000 * 86_400 + 3600) * S;

    fn policy(per_minute: u32, per_day: u32) -> KeyPolicy {
        KeyPolicy { per_minute, per_day }
    }

    #[test]
    fn the_burst_is_the_per_minute_figure_then_calls_come_back_evenly() {
        let l = Limiter::default();
        let p = policy(60, 10_000);
        for expected_remaining in (0..60).rev() {
            let o = l.check_key("k", p, T0, Some(0));
            assert_eq!(o.refused, None);
            assert_eq!(o.minute_remaining, expected_remaining);
        }
        let refused = l.check_key("k", p, T0, None);
        assert_eq!(refused.refused, Some(Refusal::Rate { retry_after: 1 }));
        assert_eq!(refused.minute_remaining, 0);
        // One second later exactly one call is back (60/min = one a second) ...
        assert_eq!(l.check_key("k", p, T0 + S, None).refused, None);
        assert!(l.check_key("k", p, T0 + S, None).refused.is_some());
        // ... and a minute later the whole burst.
        let o = l.check_key("k", p, T0 + 61 * S, None);
        assert_eq!((o.refused, o.minute_remaining), (None, 59));
    }

    #[test]
    fn retry_after_is_never_too_early() {
        let l = Limiter::default();
        let p = policy(7, 10_000); // an awkward interval: 8.571428 s
        for _ in 0..7 {
            l.check_key("k", p, T0, Some(0));
        }
        let Some(Refusal::Rate { retry_after }) = l.check_key("k", p, T0, None).refused else { panic!("refused") };
        assert_eq!(retry_after, 9, "8.57 s, rounded up to whole seconds");
        assert!(l.check_key("k", p, T0 + (retry_after as i64 - 1) * S, None).refused.is_some(), "a second earlier: refused");
        assert_eq!(l.check_key("k", p, T0 + retry_after as i64 * S, None).refused, None, "at Retry-After: accepted");
    }

    #[test]
    fn the_daily_quota_counts_from_the_stored_count_and_resets_at_midnight() {
        let l = Limiter::default();
        let p = policy(1000, 10);
        assert!(l.needs_day_count("k", T0 / S / 86_400));
        let o = l.check_key("k", p, T0, Some(8)); // 8 already answered today, before a restart
        assert_eq!((o.refused, o.day_remaining), (None, 1));
        assert!(!l.needs_day_count("k", T0 / S / 86_400));
        assert_eq!(l.check_key("k", p, T0, None).day_remaining, 0);
        let o = l.check_key("k", p, T0, None);
        let to_midnight = 86_400 - 3600;
        assert_eq!(o.refused, Some(Refusal::Quota { retry_after: to_midnight }));
        assert_eq!(o.day_reset, to_midnight);
        // Refused calls spend nothing; the next day starts afresh.
        let tomorrow = T0 + to_midnight as i64 * S;
        assert!(l.needs_day_count("k", tomorrow / S / 86_400));
        assert_eq!(l.check_key("k", p, tomorrow, Some(0)).day_remaining, 9);
    }

    #[test]
    fn keys_do_not_share_limits_and_zero_refuses_everything() {
        let l = Limiter::default();
        for _ in 0..3 {
            l.check_key("a", policy(3, 100), T0, Some(0));
        }
        assert!(l.check_key("a", policy(3, 100), T0, None).refused.is_some());
        assert_eq!(l.check_key("b", policy(3, 100), T0, Some(0)).refused, None);
        assert!(matches!(l.check_key("z", policy(0, 100), T0, Some(0)).refused, Some(Refusal::Rate { .. })));
        assert!(matches!(l.check_key("q", policy(10, 0), T0, Some(0)).refused, Some(Refusal::Quota { .. })));
    }

    #[test]
    fn headers_follow_the_draft_syntax() {
        let l = Limiter::default();
        let o = l.check_key("k", policy(60, 10_000), T0, Some(0));
        let [(policy_name, policy), (state_name, state)] = o.headers();
        assert_eq!(policy_name.as_str(), "ratelimit-policy");
        assert_eq!(policy.to_str().unwrap(), "\"minute\";q=60;w=60, \"day\";q=10000;w=86400");
        assert_eq!(state_name.as_str(), "ratelimit");
        assert_eq!(state.to_str().unwrap(), format!("\"minute\";r=59;t=1, \"day\";r=9999;t={}", 86_400 - 3600));
    }

    #[test]
    fn anonymous_callers_are_limited_per_address() {
        let l = Limiter::default();
        for _ in 0..2 {
            assert_eq!(l.check_anonymous("1.1.1.1", 2, T0).retry_after, None);
        }
        let o = l.check_anonymous("1.1.1.1", 2, T0);
        assert_eq!((o.remaining, o.retry_after), (0, Some(30)));
        assert_eq!(l.check_anonymous("2.2.2.2", 2, T0).retry_after, None);
    }
}
