//! Several real `tapeline serve` processes on one PostgreSQL and one Redis, behind a real
//! nginx (issue 11): what one process does, every other honours. The harness
//! (`cluster/harness.rs`) starts every part itself on free ports; nginx runs the
//! configuration documented in `docs/deploy.md`.
//!
//! A test binary of its own, apart from `tests/integration/`: its processes are heavy, and
//! its tests take a lock so that they run one at a time whatever `--test-threads` says.
//! `scripts/test.sh` runs it with the rest of the Rust tests. PostgreSQL as for the
//! integration tests: `TAPELINE_TEST_POSTGRES_URL`, skipped only with
//! `TAPELINE_SKIP_POSTGRES=1` outside CI.

// The integration tests' harness, for its fresh PostgreSQL schema per test and its Redis.
#[path = "integration/common/mod.rs"]
mod common;
#[path = "cluster/harness.rs"]
mod harness;
#[path = "cluster/http.rs"]
mod http;

use harness::{Cluster, PASSWORD};
use http::{Auth, Target};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The guarantee the issue names: a change made through one process is enforced by every
/// other within a second of the answer to the request that made it.
const PROPAGATION: Duration = Duration::from_secs(1);

/// Polls `GET /api/v1/whoami` with `token` on every target at once (a thread each) until
/// each refuses it, and returns how long after `since` each did. Asserts the refusal's status
/// and code. Waits up to 10 s, so that a slow propagation is measured, not just failed.
fn refused_after(targets: &[&Target], token: &str, since: Instant, status: u16, code: &str) -> Vec<(String, Duration)> {
    std::thread::scope(|scope| {
        let polls: Vec<_> = targets
            .iter()
            .map(|target| {
                scope.spawn(move || loop {
                    let res = target.api("GET", "/api/v1/whoami", Auth::Bearer(token), None);
                    if res.status != 200 {
                        let lag = since.elapsed();
                        assert_eq!((res.status, res.code().as_str()), (status, code), "{}: {}", target.name, res.body);
                        return (target.name.clone(), lag);
                    }
                    assert!(since.elapsed() < Duration::from_secs(10), "{} still accepts the key 10 s later", target.name);
                    std::thread::sleep(Duration::from_millis(2));
                })
            })
            .collect();
        polls.into_iter().map(|p| p.join().unwrap()).collect()
    })
}

fn whoami_status(target: &Target, token: &str) -> u16 {
    target.api("GET", "/api/v1/whoami", Auth::Bearer(token), None).status
}

#[test]
fn a_session_made_through_one_process_works_through_every_other() {
    let Some(cluster) = Cluster::start(3, &[]) else { return };
    let session = cluster.sign_up(cluster.node(0), "ada");
    for target in cluster.targets() {
        let res = target.server_fn("me", &[], Some(&session));
        assert_eq!(res.status, 200, "{}: {}", target.name, res.body);
        assert_eq!(res.json()["username"], "ada", "{}", target.name);
        let res = target.api("GET", "/api/v1/whoami", Auth::Session(&session), None);
        assert_eq!((res.status, res.json()["auth"].clone()), (200, json!("session")), "{}", target.name);
    }
    // Logging in through one process and out through another ends the session everywhere.
    let res = cluster.node(2).server_fn("login", &[("username", "ada"), ("password", PASSWORD)], None);
    let second = res.session_token().expect("log-in sets the session cookie");
    assert_eq!(cluster.nginx().server_fn("me", &[], Some(&second)).json()["username"], "ada");
    assert_eq!(cluster.node(1).server_fn("logout", &[], Some(&second)).status, 200);
    for target in cluster.targets() {
        assert_eq!(target.server_fn("me", &[], Some(&second)).json(), serde_json::Value::Null, "{}", target.name);
        assert_eq!(target.server_fn("me", &[], Some(&session)).json()["username"], "ada", "{}: the first session lives on", target.name);
    }
}

#[test]
fn a_key_revoked_through_one_process_is_refused_by_every_other_within_a_second() {
    let Some(cluster) = Cluster::start(3, &[]) else { return };
    let session = cluster.sign_up(cluster.node(0), "ada");
    let targets = cluster.targets();
    // Revoked by its owner's session through process 1, and by itself through nginx.
    for (name, revoker, by_itself) in [("by-session", cluster.node(0).clone(), false), ("by-itself", cluster.nginx().clone(), true)] {
        // Level 4: a key may revoke itself from that level.
        let (id, token) = cluster.create_key(cluster.node(1), &session, name, 4);
        // Every process has just accepted it (whatever it keeps in memory is warm).
        for target in &targets {
            assert_eq!(whoami_status(target, &token), 200, "{}", target.name);
        }
        let auth = if by_itself { Auth::Bearer(&token) } else { Auth::Session(&session) };
        let res = revoker.api("DELETE", &format!("/api/v1/apikeys/{id}"), auth, None);
        assert_eq!(res.status, 204, "{}", res.body);
        let others: Vec<&Target> = targets.iter().filter(|t| t.port != revoker.port).collect();
        for (target, lag) in refused_after(&others, &token, Instant::now(), 401, "key_revoked") {
            println!("revocation lag ({name}, revoked through {}, refused by {target}): {lag:?}", revoker.name);
            assert!(lag < PROPAGATION, "{target} accepted the revoked key for {lag:?}");
        }
    }
}

#[test]
fn a_suspended_users_keys_fail_on_every_process() {
    let Some(cluster) = Cluster::start(3, &[]) else { return };
    let admin = cluster.staff(cluster.node(2), "root", "admin");
    let session = cluster.sign_up(cluster.node(0), "ann");
    let (_, token) = cluster.create_key(cluster.node(1), &session, "scraper", 1);
    let targets = cluster.targets();
    for target in &targets {
        assert_eq!(whoami_status(target, &token), 200, "{}", target.name);
    }
    let ann = cluster.query_i64("SELECT CAST(id AS BIGINT) FROM users WHERE username = $1", "ann");
    let suspend = format!("/api/v1/admin/users/{ann}/suspend");
    let res = cluster.nginx().api("POST", &suspend, Auth::Session(&admin), Some(json!({ "reason": "scraping" })));
    assert_eq!(res.status, 200, "{}", res.body);
    let all: Vec<&Target> = targets.iter().collect();
    for (target, lag) in refused_after(&all, &token, Instant::now(), 403, "account_suspended") {
        println!("suspension lag (suspended through nginx, refused by {target}): {lag:?}");
        assert!(lag < PROPAGATION, "{target} accepted the suspended user's key for {lag:?}");
    }
    for target in &targets {
        assert_eq!(target.server_fn("me", &[], Some(&session)).json(), serde_json::Value::Null, "{}: the session ended", target.name);
    }
}

#[test]
fn usage_is_exact_across_processes_after_a_graceful_shutdown() {
    // A low rate limit, so that the burst has refused calls to count too.
    let Some(mut cluster) = Cluster::start(3, &[("TAPELINE_KEY_RATE_LIMIT", "25")]) else { return };
    let session = cluster.sign_up(cluster.node(0), "ada");
    let (id, token) = cluster.create_key(cluster.node(0), &session, "burst", 1);
    let targets = cluster.targets();
    // Four clients at once, each going round every process and nginx.
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (targets, token) = (targets.clone(), token.clone());
            std::thread::spawn(move || {
                (0..40).map(|i| whoami_status(&targets[(c + i) % targets.len()], &token)).collect::<Vec<u16>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    let answered = statuses.iter().filter(|&&s| s == 200).count() as i64;
    let refused = statuses.iter().filter(|&&s| s == 429).count() as i64;
    assert_eq!(answered + refused, 160, "every call is answered or refused by the limit: {statuses:?}");
    assert!(answered >= 25 && refused > 0, "{answered} answered, {refused} refused");
    println!("burst of 160 calls over {} processes and nginx: {answered} answered, {refused} refused", cluster.nodes.len());

    for node in &mut cluster.nodes {
        node.stop();
    }
    let day_sum = |column: &str| {
        cluster.query_i64(&format!("SELECT CAST(COALESCE(SUM({column}), 0) AS BIGINT) FROM api_key_usage WHERE key_id = $1"), &id)
    };
    assert_eq!(day_sum("calls"), answered, "calls in api_key_usage");
    assert_eq!(day_sum("refused"), refused, "refused calls in api_key_usage");
    assert_eq!(cluster.query_i64("SELECT CAST(calls AS BIGINT) FROM api_keys WHERE id = $1", &id), answered, "api_keys.calls");
}

/// Creates a measurement set through `target` with a level-3 key: its id once acknowledged
/// (201), else what came back.
fn create_set(target: &Target, token: &str, n: usize) -> Result<String, String> {
    let body = json!({ "name": format!("set {n}"), "measurements": { "waist": 700 + n } }).to_string();
    match target.try_send("POST", "/api/v1/sets", Auth::Bearer(token), Some(&body), "application/json") {
        Ok(res) if res.status == 201 => Ok(res.json()["id"].to_string()),
        Ok(res) => Err(format!("{} {}", res.status, res.body)),
        Err(e) => Err(e.to_string()),
    }
}

/// Clients looping requests while a test does something to the processes: two readers GET
/// sets through nginx (by session), one writer creates sets (by key) going round `write_to`.
struct Load {
    stop: Arc<AtomicBool>,
    readers: Vec<std::thread::JoinHandle<(usize, Vec<String>)>>,
    writer: std::thread::JoinHandle<(Vec<String>, Vec<WriteFailure>)>,
}

/// A write that failed: where it went, and what came back.
type WriteFailure = (String, String);

/// What the clients saw: reads made and those that failed; writes acknowledged (the sets'
/// ids) and those that failed (where, and what came back).
struct Seen {
    reads: usize,
    read_failures: Vec<String>,
    written: Vec<String>,
    write_failures: Vec<WriteFailure>,
}

impl Seen {
    /// One line for the test's output.
    fn summary(&self) -> String {
        format!(
            "{} reads through nginx, {} failed; {} writes acknowledged, {} failed",
            self.reads,
            self.read_failures.len(),
            self.written.len(),
            self.write_failures.len()
        )
    }
}

/// The first few of a list of failures, for an assertion's message.
fn first<T>(failures: &[T]) -> &[T] {
    &failures[..failures.len().min(5)]
}

impl Load {
    fn start(nginx: &Target, session: &str, sets: &[String], token: &str, write_to: Vec<Target>) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let readers = (0..2)
            .map(|r| {
                let (stop, nginx, sets, session) = (stop.clone(), nginx.clone(), sets.to_vec(), session.to_owned());
                std::thread::spawn(move || {
                    let (mut count, mut failures) = (0, Vec::new());
                    while !stop.load(Ordering::Relaxed) {
                        let path = format!("/api/v1/sets/{}", sets[(r + count) % sets.len()]);
                        match nginx.try_send("GET", &path, Auth::Session(&session), None, "") {
                            Ok(res) if res.status == 200 => {}
                            Ok(res) => failures.push(format!("{path}: {} {}", res.status, res.body)),
                            Err(e) => failures.push(format!("{path}: {e}")),
                        }
                        count += 1;
                    }
                    (count, failures)
                })
            })
            .collect();
        let writer = {
            let (stop, token) = (stop.clone(), token.to_owned());
            std::thread::spawn(move || {
                let (mut written, mut failed) = (Vec::new(), Vec::new());
                let mut n = 1000;
                while !stop.load(Ordering::Relaxed) {
                    let target = &write_to[n % write_to.len()];
                    match create_set(target, &token, n) {
                        Ok(id) => written.push(id),
                        Err(e) => failed.push((target.name.clone(), e)),
                    }
                    n += 1;
                }
                (written, failed)
            })
        };
        Load { stop, readers, writer }
    }

    fn finish(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        let (mut reads, mut read_failures) = (0, Vec::new());
        for reader in self.readers {
            let (count, failures) = reader.join().unwrap();
            reads += count;
            read_failures.extend(failures);
        }
        let (written, write_failures) = self.writer.join().unwrap();
        Seen { reads, read_failures, written, write_failures }
    }
}

/// A cluster of three with one user, `ada`, her level-3 key, and twelve sets of hers made
/// through every process and nginx: (cluster, session, key, the sets' ids).
fn cluster_with_sets() -> Option<(Cluster, String, String, Vec<String>)> {
    let cluster = Cluster::start(3, &[])?;
    let session = cluster.sign_up(cluster.node(0), "ada");
    let (_, token) = cluster.create_key(cluster.node(0), &session, "writer", 3);
    let targets = cluster.targets();
    let sets = (0..12).map(|n| create_set(&targets[n % targets.len()], &token, n).unwrap()).collect();
    Some((cluster, session, token, sets))
}

/// Every set in `acknowledged` is there (read through nginx), and `ada` has no more than
/// `unknown` others (writes that failed but may have been carried out).
fn all_stored(cluster: &Cluster, session: &str, acknowledged: &[String], unknown: usize) {
    for id in acknowledged {
        let res = cluster.nginx().api("GET", &format!("/api/v1/sets/{id}"), Auth::Session(session), None);
        assert_eq!(res.status, 200, "acknowledged set {id}: {}", res.body);
    }
    let stored = cluster.query_i64("SELECT COUNT(*) FROM measurement_sets s JOIN users u ON u.id = s.user_id WHERE u.username = $1", "ada");
    let acknowledged = acknowledged.len() as i64;
    assert!((acknowledged..=acknowledged + unknown as i64).contains(&stored), "{stored} stored, {acknowledged} acknowledged");
}

#[test]
fn killing_one_process_fails_no_read_through_nginx_and_loses_no_acknowledged_write() {
    let Some((mut cluster, session, token, mut sets)) = cluster_with_sets() else { return };
    // The writer goes round the processes directly, the killed one included, so that only
    // the readers find the dead process through nginx (a write's tolerated failure would
    // otherwise take it out of nginx's rotation before any read met it).
    let processes = cluster.nodes.iter().map(|n| n.target.clone()).collect();
    let load = Load::start(cluster.nginx(), &session, &sets, &token, processes);
    std::thread::sleep(Duration::from_secs(1));
    cluster.nodes[1].kill();
    std::thread::sleep(Duration::from_secs(3));
    let seen = load.finish();
    println!("kill -9 of process 2 under load: {}", seen.summary());
    assert!(seen.read_failures.is_empty(), "reads through nginx failed after kill -9 of one process: {:#?}", first(&seen.read_failures));
    // Writes fail only on the killed process: the one in flight when it died, then refused
    // connections.
    let elsewhere: Vec<_> = seen.write_failures.iter().filter(|(name, _)| name != "process 2").take(5).collect();
    assert!(elsewhere.is_empty(), "writes failed on processes that were not killed: {elsewhere:#?}");
    assert!(!seen.written.is_empty());
    sets.extend(seen.written);
    // Besides the acknowledged writes, at most the one in flight at the kill was stored.
    all_stored(&cluster, &session, &sets, 1);
}

/// The documented rolling upgrade (docs/deploy.md), under reads and writes through nginx:
/// each process in turn drained in nginx (`down`, reload), stopped with SIGTERM, started
/// again on its port, ready, and put back (reload). No request fails.
#[test]
fn a_rolling_restart_drained_through_nginx_fails_no_request() {
    let Some((mut cluster, session, token, mut sets)) = cluster_with_sets() else { return };
    let load = Load::start(cluster.nginx(), &session, &sets, &token, vec![cluster.nginx().clone()]);
    for i in 0..cluster.nodes.len() {
        std::thread::sleep(Duration::from_millis(300));
        cluster.nginx.reload(&[cluster.nodes[i].target.port]);
        cluster.nodes[i].restart();
        cluster.nginx.reload(&[]);
    }
    std::thread::sleep(Duration::from_millis(300));
    let seen = load.finish();
    println!("rolling restart of 3 processes, each drained first: {}", seen.summary());
    assert!(seen.read_failures.is_empty(), "{:#?}", first(&seen.read_failures));
    assert!(seen.write_failures.is_empty(), "{:#?}", first(&seen.write_failures));
    sets.extend(seen.written);
    all_stored(&cluster, &session, &sets, 0);
}

// --- Shared limits: these need Redis shared by the processes (TAPELINE_REDIS_URL) ---------

/// Calls `whoami` with `token` `calls` times, going round `targets`: the statuses in order.
fn round_robin(targets: &[Target], token: &str, calls: usize) -> Vec<u16> {
    (0..calls).map(|i| whoami_status(&targets[i % targets.len()], token)).collect()
}

/// With `setting` = `limit` (and the other limit roomy), a key's calls going round every
/// process and nginx: exactly `limit` answered, then refused with `code` on every one.
fn a_limit_holds_exactly_across_processes(setting: &str, limit: usize, code: &str) {
    let Some(cluster) = Cluster::start(3, &[(setting, &limit.to_string())]) else { return };
    let session = cluster.sign_up(cluster.node(0), "ada");
    let (_, token) = cluster.create_key(cluster.node(0), &session, "busy", 1);
    let targets = cluster.targets();
    let statuses = round_robin(&targets, &token, limit + 2 * targets.len());
    let mut expected = vec![200; limit];
    expected.resize(statuses.len(), 429);
    assert_eq!(statuses, expected, "{setting}={limit} in all, whichever process answers");
    for target in &targets {
        let res = target.api("GET", "/api/v1/whoami", Auth::Bearer(&token), None);
        assert_eq!((res.status, res.code().as_str()), (429, code), "{}", target.name);
        assert!(res.header("retry-after").is_some(), "{}", target.name);
    }
}

#[test]
fn a_keys_rate_limit_holds_exactly_across_processes() {
    a_limit_holds_exactly_across_processes("TAPELINE_KEY_RATE_LIMIT", 5, "rate_limited");
}

#[test]
fn a_keys_daily_quota_holds_exactly_across_processes() {
    a_limit_holds_exactly_across_processes("TAPELINE_KEY_DAILY_QUOTA", 7, "quota_exceeded");
}

#[test]
fn log_in_failures_spread_over_processes_are_throttled_as_one() {
    let Some(cluster) = Cluster::start(3, &[]) else { return };
    cluster.sign_up(cluster.node(0), "ann");
    let targets = cluster.targets();
    // The per-account limit is 5 failures in 15 minutes; one on each process in turn.
    for i in 0..5 {
        let target = &targets[i % targets.len()];
        let res = target.server_fn("login", &[("username", "ann"), ("password", "not the password")], None);
        assert_eq!((res.status, res.code().as_str()), (401, "invalid_credentials"), "failure {} on {}", i + 1, target.name);
    }
    // Now even the right password is refused, on every process.
    for target in &targets {
        let res = target.server_fn("login", &[("username", "ann"), ("password", PASSWORD)], None);
        assert_eq!((res.status, res.code().as_str()), (429, "too_many_attempts"), "{}: {}", target.name, res.body);
        assert!(res.session_token().is_none());
    }
}

/// `/healthz` of every process, until each reports `redis` as `want` (Redis's client
/// reconnects on its own schedule: up to 60 s).
fn wait_for_redis_health(cluster: &Cluster, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for node in &cluster.nodes {
        loop {
            let res = node.target.api("GET", "/healthz", Auth::None, None);
            assert_eq!(res.status, 200, "{}: /healthz {}", node.target.name, res.body);
            if res.json()["redis"] == want {
                break;
            }
            assert!(Instant::now() < deadline, "{} still reports {} 60 s later", node.target.name, res.body);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn without_redis_tapeline_keeps_answering_and_recovers_when_it_is_back() {
    let Some(mut cluster) = Cluster::start(2, &[]) else { return };
    wait_for_redis_health(&cluster, "ok");
    let admin = cluster.staff(cluster.node(0), "root", "admin");
    let session = cluster.sign_up(cluster.node(0), "ada");
    let (_, token) = cluster.create_key(cluster.node(0), &session, "steady", 1);
    let stop = Arc::new(AtomicBool::new(false));
    // One client through nginx and one on each process, for the whole outage.
    let clients: Vec<_> = cluster
        .targets()
        .into_iter()
        .map(|target| {
            let (stop, token) = (stop.clone(), token.clone());
            std::thread::spawn(move || {
                let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
                while !stop.load(Ordering::Relaxed) {
                    *statuses.entry(whoami_status(&target, &token)).or_default() += 1;
                    std::thread::sleep(Duration::from_millis(5));
                }
                (target.name, statuses)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    cluster.redis.stop();
    wait_for_redis_health(&cluster, "unreachable");
    std::thread::sleep(Duration::from_secs(1));
    cluster.redis.resume();
    wait_for_redis_health(&cluster, "ok");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let (name, statuses) = client.join().unwrap();
        println!("{name} during the Redis outage: {statuses:?}");
        assert_eq!(statuses.keys().copied().collect::<Vec<_>>(), vec![200], "{name}: every call answered");
    }
    // Logged once per process, not per request.
    for node in &cluster.nodes {
        let log = node.log();
        assert_eq!(log.matches("Redis does not answer").count(), 1, "{}:\n{log}", node.target.name);
    }
    // Back to one shared limit: a fresh key limited to 3 calls a minute gets 3 in all.
    let (fresh_id, fresh) = cluster.create_key(cluster.node(1), &session, "fresh", 1);
    let limit = json!({ "rate_limit": 3, "reason": "test" });
    let res = cluster.nginx().api("PATCH", &format!("/api/v1/admin/keys/{fresh_id}"), Auth::Session(&admin), Some(limit));
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(round_robin(&cluster.targets(), &fresh, 6), vec![200, 200, 200, 429, 429, 429]);
}

// --- PostgreSQL restarted: on a server of the test's own, never the shared one ------------

/// How long one answer may take while PostgreSQL is down. A request waits at most 5 s for a
/// connection (the pool's acquire timeout, app/src/server/db.rs), then is answered 503.
const ANSWER_WHILE_DOWN: Duration = Duration::from_secs(15);

/// How long after PostgreSQL accepts connections again each call must be answered 200.
const RECOVERY: Duration = Duration::from_secs(15);

/// The calls made while PostgreSQL is down and after: a key's `whoami`, a session's list of
/// sets, and the health check.
const OUTAGE_CALLS: [&str; 3] = ["GET /api/v1/whoami (key)", "GET /api/v1/sets (session)", "GET /healthz"];

fn outage_call(target: &Target, call: &str, token: &str, session: &str) -> std::io::Result<http::Response> {
    match call {
        "GET /api/v1/whoami (key)" => target.try_send("GET", "/api/v1/whoami", Auth::Bearer(token), None, ""),
        "GET /api/v1/sets (session)" => target.try_send("GET", "/api/v1/sets", Auth::Session(session), None, ""),
        "GET /healthz" => target.try_send("GET", "/healthz", Auth::None, None, ""),
        other => unreachable!("{other}"),
    }
}

/// Every call on every target at once (a thread each): (target, call, answer, time taken).
fn all_at_once(targets: &[Target], token: &str, session: &str) -> Vec<(String, &'static str, std::io::Result<http::Response>, Duration)> {
    std::thread::scope(|scope| {
        let calls: Vec<_> = targets
            .iter()
            .flat_map(|target| OUTAGE_CALLS.iter().map(move |call| (target, *call)))
            .map(|(target, call)| {
                scope.spawn(move || {
                    let start = Instant::now();
                    let res = outage_call(target, call, token, session);
                    (target.name.clone(), call, res, start.elapsed())
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

/// PostgreSQL stopped (`pg_ctl stop -m fast`) and started again under two processes and
/// nginx: while it is down every call, directly and through nginx, is answered 503
/// `service_unavailable` (problem+json) within `ANSWER_WHILE_DOWN` — except a key's whoami in
/// the first moments, which a process may answer from its key cache (never once the cache's
/// longest time to live has passed); once it is back every
/// call succeeds within `RECOVERY`, from the same processes. The times are printed.
#[test]
fn while_postgresql_is_down_calls_are_answered_503_in_bounded_time_and_succeed_once_it_is_back() {
    let Some(mut cluster) = Cluster::start_on_own_postgres(2, &[]) else { return };
    let session = cluster.sign_up(cluster.node(0), "ada");
    let (_, token) = cluster.create_key(cluster.node(1), &session, "steady", 3);
    let targets = cluster.targets();
    for (target, call, res, _) in all_at_once(&targets, &token, &session) {
        let res = res.unwrap();
        assert_eq!(res.status, 200, "{call} on {target} before the outage: {}", res.body);
    }
    let pids: Vec<u32> = cluster.nodes.iter().map(|n| n.pid()).collect();

    cluster.postgres().stop();
    // Twice: first with the pools' connections just ended by the server, then with nothing
    // listening on its port — and, by then, no key remembered by any process.
    for round in ["just after the stop", "while it stays down"] {
        if round == "while it stays down" {
            std::thread::sleep(app::server::config::MAX_KEY_CACHE);
        }
        for (target, call, res, took) in all_at_once(&targets, &token, &session) {
            println!("PostgreSQL down ({round}): {call} on {target}: {:?} in {took:?}", res.as_ref().map(|r| r.status));
            let res = res.unwrap_or_else(|e| panic!("{call} on {target} ({round}): no answer after {took:?}: {e}"));
            assert!(took < ANSWER_WHILE_DOWN, "{call} on {target} ({round}) took {took:?}");
            if round == "just after the stop" && call == "GET /api/v1/whoami (key)" && res.status == 200 {
                // Answered from the process's key cache: the key was read less than
                // TAPELINE_KEY_CACHE_MS ago, and whoami needs nothing else.
                continue;
            }
            assert_eq!(
                (res.status, res.header("content-type"), res.code().as_str()),
                (503, Some("application/problem+json"), "service_unavailable"),
                "{call} on {target} ({round}): {}",
                res.body
            );
        }
    }

    cluster.postgres().resume();
    let back = Instant::now();
    std::thread::scope(|scope| {
        let polls: Vec<_> = targets
            .iter()
            .flat_map(|target| OUTAGE_CALLS.iter().map(move |call| (target, *call)))
            .map(|(target, call)| {
                let (token, session) = (&token, &session);
                scope.spawn(move || {
                    let mut before = 0;
                    loop {
                        let res = outage_call(target, call, token, session).unwrap();
                        if res.status == 200 {
                            println!("PostgreSQL back: {call} on {} answered 200 after {:?} ({before} 503s first)", target.name, back.elapsed());
                            return;
                        }
                        // Nothing but the documented 503 on the way back (nginx's own 502 page
                        // was the answer when it took the processes out of its upstream).
                        assert_eq!((res.status, res.code().as_str()), (503, "service_unavailable"), "{call} on {}: {}", target.name, res.body);
                        before += 1;
                        assert!(back.elapsed() < RECOVERY, "{call} on {} still answers 503 {:?} after PostgreSQL is back", target.name, back.elapsed());
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
            })
            .collect();
        for poll in polls {
            poll.join().unwrap();
        }
    });
    // The same processes, never restarted, write again (directly and through nginx).
    for (node, pid) in cluster.nodes.iter_mut().zip(pids) {
        assert!(node.is_running() && node.pid() == pid, "{} was restarted or exited", node.target.name);
    }
    for (n, target) in targets.iter().enumerate() {
        let id = create_set(target, &token, n).unwrap_or_else(|e| panic!("a write on {} after the outage: {e}", target.name));
        assert_eq!(cluster.query_i64("SELECT COUNT(*) FROM measurement_sets WHERE CAST(id AS TEXT) = $1", id.trim_matches('"')), 1);
    }
}
