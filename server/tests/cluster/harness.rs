//! The real parts of a multi-process deployment, started by the test on free ports and
//! stopped when the test ends, passes or panics: a `redis-server` of its own (the
//! integration tests' `common::redis`), a fresh
//! PostgreSQL schema, N `tapeline serve` processes sharing both, and nginx in front of them
//! with the configuration documented in `docs/deploy.md` (the test reads it from there).
//!
//! Every child is owned by a guard whose `Drop` stops it; cluster tests run one at a time
//! (a process-wide lock), so their processes never compete with each other.

use crate::common;
use crate::common::redis::RedisServer;
use crate::http::Target;

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The password of every account the tests make.
pub const PASSWORD: &str = "a long password";

/// Fair-use limits out of the way, for the tests that are not about them (tests of the
/// limits pass their own, which come later on the command line and win).
const ROOMY_LIMITS: [(&str, &str); 3] =
    [("TAPELINE_KEY_RATE_LIMIT", "100000"), ("TAPELINE_KEY_DAILY_QUOTA", "1000000"), ("TAPELINE_ANON_RATE_LIMIT", "100000")];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends `signal` (`TERM`, `QUIT`, …) to a child.
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -{signal} {}", child.id());
}

/// Waits at most `limit` for a child to exit.
fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last lines of a log file, for a failing test's message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// One `tapeline serve` process.
pub struct Node {
    child: Child,
    pub target: Target,
    log: PathBuf,
    index: usize,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Node {
    fn spawn(index: usize, port: u16, dir: &Path, env: &[(String, String)], origin: &str) -> Node {
        let data_dir = dir.join(format!("process{index}"));
        std::fs::create_dir_all(&data_dir).unwrap();
        let log = data_dir.join("tapeline.log");
        let child = tapeline(env)
            .env("TAPELINE_DATA_DIR", &data_dir)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap())
            .spawn()
            .unwrap();
        let target = Target { name: format!("process {index}"), port, origin: origin.to_owned() };
        Node { child, target, log, index, dir: dir.to_owned(), env: env.to_owned() }
    }

    /// Stops it gracefully and starts it again on its port (an upgrade, as systemd does it).
    pub fn restart(&mut self) {
        self.stop();
        let mut new = Node::spawn(self.index, self.target.port, &self.dir, &self.env, &self.target.origin);
        new.wait_ready();
        *self = new;
    }

    /// Waits until `/healthz` answers 200.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = self.target.try_send("GET", "/healthz", crate::http::Auth::None, None, "") {
                if res.status == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status} before it was ready:\n{}", self.target.name, tail(&self.log));
            }
            assert!(Instant::now() < deadline, "{} did not become ready in 60 s:\n{}", self.target.name, tail(&self.log));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it as a service manager does (SIGTERM) and checks that it exits cleanly: the
    /// requests in flight finish and the usage counted in memory is written.
    pub fn stop(&mut self) {
        signal(&self.child, "TERM");
        let exit = wait_for_exit(&mut self.child, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{} did not stop within 30 s of SIGTERM", self.target.name));
        assert!(exit.success(), "{}: graceful shutdown exits 0, got {exit}:\n{}", self.target.name, tail(&self.log));
    }

    /// What it has logged so far (at `warn` and above).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Its process id (a restart changes it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no chance to finish anything.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.try_wait().ok().flatten().is_none() {
            eprintln!("--- {} log (last lines) ---\n{}", self.target.name, tail(&self.log));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `tapeline` command with the cluster's settings and nothing from the caller's environment.
fn tapeline(env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tapeline"));
    for (name, _) in std::env::vars() {
        if name.starts_with("TAPELINE_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("TAPELINE_LOG", "warn").envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// The nginx configuration documented in `docs/deploy.md` (its ```nginx block), with the
/// documented listening port and upstream processes replaced by the test's; the processes
/// listening on `down` are marked `down` (drained), as the documented upgrade does.
pub fn documented_nginx_config(listen: u16, upstreams: &[u16], down: &[u16]) -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deploy.md")).unwrap();
    let start = doc.find("```nginx\n").expect("docs/deploy.md has an ```nginx block") + "```nginx\n".len();
    let block = &doc[start..start + doc[start..].find("```").unwrap()];
    assert_eq!(block.matches("listen 80;").count(), 1, "the documented block listens on port 80, once");
    let mut out = String::new();
    let mut documented = 0;
    for line in block.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("server 127.0.0.1:300") {
            // `server 127.0.0.1:3001 …;`: the n-th documented process becomes the test's n-th.
            let n: usize = rest[..1].parse().unwrap();
            assert_eq!(n, documented + 1, "documented upstreams are 3001, 3002, … in order");
            documented += 1;
            if let Some(port) = upstreams.get(n - 1) {
                let line = line.replacen(&format!("127.0.0.1:300{n}"), &format!("127.0.0.1:{port}"), 1);
                let line = if down.contains(port) { format!("{} down;", line.trim_end().trim_end_matches(';')) } else { line };
                out.push_str(&line);
                out.push('\n');
            }
            continue;
        }
        out.push_str(&line.replace("listen 80;", &format!("listen 127.0.0.1:{listen};")));
        out.push('\n');
    }
    assert!(documented >= upstreams.len(), "the documented block lists {documented} processes; the test runs {}", upstreams.len());
    out
}

/// nginx, run by the test in the foreground with its own prefix directory: the documented
/// server configuration inside a minimal main configuration (what Debian's
/// /etc/nginx/nginx.conf provides in production), every path inside the test's directory.
pub struct Nginx {
    child: Child,
    pub target: Target,
    dir: PathBuf,
    upstreams: Vec<u16>,
}

impl Nginx {
    fn start(dir: &Path, port: u16, upstreams: &[u16], origin: &str) -> Nginx {
        use std::os::unix::fs::MetadataExt as _;
        let dir = dir.join("nginx");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tapeline.conf"), documented_nginx_config(port, upstreams, &[])).unwrap();
        // As root, nginx would run its workers as `nobody`, who cannot enter the test's
        // private directory; run them as the user that owns it.
        let user = if std::fs::metadata(&dir).unwrap().uid() == 0 { "user root;\n" } else { "" };
        let main = format!(
            "{user}worker_processes 1;\npid nginx.pid;\nerror_log error.log info;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  access_log access.log;\n  client_body_temp_path client_body;\n  proxy_temp_path proxy;\n\
             \x20 fastcgi_temp_path fastcgi;\n  uwsgi_temp_path uwsgi;\n  scgi_temp_path scgi;\n  include tapeline.conf;\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(&dir)
            .args(["-c", "nginx.conf", "-e", "error.log", "-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .expect("nginx (Debian package nginx; scripts/setup.sh installs it)");
        let target = Target { name: "nginx".into(), port, origin: origin.to_owned() };
        let mut nginx = Nginx { child, target, dir, upstreams: upstreams.to_owned() };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(res) = nginx.target.try_send("GET", "/healthz", crate::http::Auth::None, None, "") {
                if res.status == 200 {
                    return nginx;
                }
            }
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited with {status}:\n{}\n{}", tail(&nginx.dir.join("stderr.log")), tail(&nginx.dir.join("error.log")));
            }
            assert!(Instant::now() < deadline, "nginx did not answer in 20 s:\n{}", tail(&nginx.dir.join("error.log")));
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Nginx {
    /// Rewrites the configuration with the processes on `down` drained, and reloads it as
    /// `systemctl reload nginx` does (SIGHUP); returns once the new workers have started
    /// (the old ones finish the requests they hold, then exit).
    pub fn reload(&self, down: &[u16]) {
        std::fs::write(self.dir.join("tapeline.conf"), documented_nginx_config(self.target.port, &self.upstreams, down)).unwrap();
        let count = |what: &str| std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default().matches(what).count();
        let (started, exited) = (|| count("start worker process "), || count(" exited with code "));
        let (started_before, exited_before) = (started(), exited());
        signal(&self.child, "HUP");
        let deadline = Instant::now() + Duration::from_secs(10);
        while started() == started_before {
            assert!(Instant::now() < deadline, "nginx did not reload in 10 s:\n{}", tail(&self.dir.join("error.log")));
            std::thread::sleep(Duration::from_millis(10));
        }
        // The old workers, still holding connections made under the old configuration, finish
        // them and exit: only then can no request reach a process the new one leaves out (a
        // process stopped before that answered one request 502, under load, once).
        let old_workers = started() - started_before;
        while exited() < exited_before + old_workers {
            assert!(Instant::now() < deadline, "nginx's old workers did not exit in 10 s:\n{}", tail(&self.dir.join("error.log")));
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- nginx error log (last lines) ---\n{}", tail(&self.dir.join("error.log")));
        }
        // SIGTERM: the master stops its workers (a SIGKILLed master would leave them behind,
        // still listening).
        signal(&self.child, "TERM");
        if wait_for_exit(&mut self.child, Duration::from_secs(10)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Debian installs nginx in /usr/sbin, which is not on every user's PATH.
fn nginx_binary() -> PathBuf {
    let sbin = PathBuf::from("/usr/sbin/nginx");
    if sbin.exists() { sbin } else { PathBuf::from("nginx") }
}

/// The PostgreSQL tests may be skipped only outside CI, with `TAPELINE_SKIP_POSTGRES=1`
/// (as `common::TestApp::postgres` decides); otherwise a missing part fails the test.
fn skip_postgres(why: &str) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !ci && std::env::var("TAPELINE_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("skipped (TAPELINE_SKIP_POSTGRES=1): {why}");
        return true;
    }
    false
}

/// A PostgreSQL server of the test's own, for the tests that stop and start it: Debian's
/// `initdb` and `pg_ctl` (`/usr/lib/postgresql/VERSION/bin`, the newest), run as the
/// `postgres` user when the test runs as root (PostgreSQL refuses to run as root), with its
/// data directory and socket in a temporary directory, listening on 127.0.0.1 on a free
/// port, trust authentication, one database `tapeline`. Never the machine's shared server.
/// Dropping it stops the server (`-m immediate`) and removes everything.
pub struct Postgres {
    bin: PathBuf,
    pub port: u16,
    dir: tempfile::TempDir,
    running: bool,
}

impl Postgres {
    /// Creates the cluster and its database and starts the server; `None` when the server's
    /// programs are missing and the PostgreSQL tests may be skipped.
    pub fn start() -> Option<Postgres> {
        let newest = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .max_by_key(|bin| bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
        let Some(bin) = newest else {
            let why = "no PostgreSQL server programs in /usr/lib/postgresql/*/bin (Debian package postgresql)";
            assert!(skip_postgres(why), "{why}");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if running_as_root() {
            // The server runs as `postgres`, which must own its directory (and reach it).
            run(Command::new("chown").arg("postgres:postgres").arg(dir.path()));
        }
        let mut postgres = Postgres { bin, port: free_port(), dir, running: false };
        let data = postgres.data();
        run(postgres.as_owner("initdb").arg("-D").arg(&data).args(["--auth=trust", "--username=postgres", "--no-sync", "-E", "UTF8", "--locale=C"]));
        postgres.resume();
        run(postgres.as_owner("createdb").args(["-h", "127.0.0.1", "-p", &postgres.port.to_string(), "-U", "postgres", "tapeline"]));
        Some(postgres)
    }

    /// The URL Tapeline is given.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/tapeline", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// One of the server's programs, run as its owner, in its directory.
    fn as_owner(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if running_as_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        };
        cmd.current_dir(self.dir.path()).stdin(Stdio::null());
        cmd
    }

    /// Starts the server (again, on the same port), and returns once it accepts connections.
    pub fn resume(&mut self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let log = self.dir.path().join("postgres.log");
        // Set first: a start that fails half-way may still leave a server for Drop to stop.
        self.running = true;
        run(self.as_owner("pg_ctl").arg("-D").arg(self.data()).arg("-l").arg(&log).args(["-w", "-t", "60", "-o", &options, "start"]));
    }

    /// Stops the server as an operator restarting it does (`pg_ctl stop -m fast`: open
    /// connections are ended, the server shuts down cleanly); returns once it has stopped.
    pub fn stop(&mut self) {
        run(self.as_owner("pg_ctl").arg("-D").arg(self.data()).args(["-w", "-t", "60", "-m", "fast", "stop"]));
        self.running = false;
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.as_owner("pg_ctl").arg("-D").arg(self.data()).args(["-w", "-m", "immediate", "stop"]).output();
        }
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Runs a command to completion, asserting success (its output in the message otherwise).
fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
}

/// One test's deployment. Fields drop in order: nginx, the processes, Redis, the database
/// (its schema dropped), the test's own PostgreSQL server if it has one, then the directory,
/// then the lock that lets the next test start.
pub struct Cluster {
    pub nginx: Nginx,
    pub nodes: Vec<Node>,
    pub redis: RedisServer,
    pub db: common::TestApp,
    /// The PostgreSQL server of the test's own ([`Cluster::start_on_own_postgres`]).
    pub postgres: Option<Postgres>,
    pub rt: tokio::runtime::Runtime,
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    _one_at_a_time: MutexGuard<'static, ()>,
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

impl Cluster {
    /// `processes` Tapeline processes, with `env` added to the shared settings, on a fresh
    /// schema of the shared PostgreSQL server; `None` when PostgreSQL is unreachable and
    /// `TAPELINE_SKIP_POSTGRES=1` (outside CI).
    pub fn start(processes: usize, env: &[(&str, &str)]) -> Option<Cluster> {
        let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let rt = tokio::runtime::Runtime::new().unwrap();
        let db = rt.block_on(common::TestApp::postgres())?;
        Some(Cluster::start_on(lock, rt, db, None, processes, env))
    }

    /// The same on a PostgreSQL server of the test's own ([`Postgres`]), which the test may
    /// stop and start again.
    pub fn start_on_own_postgres(processes: usize, env: &[(&str, &str)]) -> Option<Cluster> {
        let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let postgres = Postgres::start()?;
        let rt = tokio::runtime::Runtime::new().unwrap();
        // The test's own connection, for `query_i64` (it migrates the new database first).
        let db = rt.block_on(common::TestApp::start(postgres.url(), common::DbHandle::Borrowed, common::test_config()));
        Some(Cluster::start_on(lock, rt, db, Some(postgres), processes, env))
    }

    fn start_on(
        lock: MutexGuard<'static, ()>,
        rt: tokio::runtime::Runtime,
        db: common::TestApp,
        postgres: Option<Postgres>,
        processes: usize,
        env: &[(&str, &str)],
    ) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let redis = RedisServer::start();
        let nginx_port = free_port();
        let public_url = format!("http://127.0.0.1:{nginx_port}");
        // The settings every process shares (docs/deploy.md, "Settings every process shares").
        let mut shared: Vec<(String, String)> = vec![
            ("TAPELINE_DATABASE_URL".into(), db.url.clone()),
            ("TAPELINE_REDIS_URL".into(), redis.url()),
            ("TAPELINE_PUBLIC_URL".into(), public_url.clone()),
            // nginx connects from loopback.
            ("TAPELINE_TRUSTED_PROXIES".into(), "127.0.0.1".into()),
        ];
        shared.extend(ROOMY_LIMITS.iter().chain(env).map(|(k, v)| (k.to_string(), v.to_string())));
        let mut nodes: Vec<Node> =
            (1..=processes).map(|i| Node::spawn(i, free_port(), dir.path(), &shared, &public_url)).collect();
        for node in &mut nodes {
            node.wait_ready();
        }
        let ports: Vec<u16> = nodes.iter().map(|n| n.target.port).collect();
        let nginx = Nginx::start(dir.path(), nginx_port, &ports, &public_url);
        Cluster { nginx, nodes, redis, db, postgres, rt, env: shared, dir, _one_at_a_time: lock }
    }

    /// The test's own PostgreSQL server.
    pub fn postgres(&mut self) -> &mut Postgres {
        self.postgres.as_mut().expect("a cluster started with Cluster::start_on_own_postgres")
    }

    /// Process `i` (from 0), addressed directly.
    pub fn node(&self, i: usize) -> &Target {
        &self.nodes[i].target
    }

    /// nginx, in front of every process.
    pub fn nginx(&self) -> &Target {
        &self.nginx.target
    }

    /// Every process, then nginx.
    pub fn targets(&self) -> Vec<Target> {
        self.nodes.iter().map(|n| n.target.clone()).chain([self.nginx.target.clone()]).collect()
    }

    /// Runs `tapeline ARGS` (the operator's command line) on the cluster's database, with
    /// `stdin`; returns stdout, asserting success.
    pub fn command(&self, args: &[&str], stdin: &str) -> String {
        let mut child = tapeline(&self.env)
            .env("TAPELINE_DATA_DIR", self.dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert!(out.status.success(), "tapeline {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    /// Signs `username` up through `target` and returns the session token.
    pub fn sign_up(&self, target: &Target, username: &str) -> String {
        let email = format!("{username}@example.org");
        let res = target.server_fn("signup", &[("username", username), ("email", &email), ("password", PASSWORD)], None);
        assert_eq!(res.status, 200, "sign-up on {}: {}", target.name, res.body);
        res.session_token().expect("sign-up sets the session cookie")
    }

    /// An account with `role` made with `tapeline users create`, signed in through `target`.
    pub fn staff(&self, target: &Target, username: &str, role: &str) -> String {
        let email = format!("{username}@example.org");
        self.command(
            &["users", "create", "--username", username, "--email", &email, "--role", role, "--password-stdin"],
            &format!("{PASSWORD}\n"),
        );
        let res = target.server_fn("login", &[("username", username), ("password", PASSWORD)], None);
        assert_eq!(res.status, 200, "log-in on {}: {}", target.name, res.body);
        res.session_token().expect("log-in sets the session cookie")
    }

    /// Creates an API key of `level` through `target` with a session; returns (id, token).
    pub fn create_key(&self, target: &Target, session: &str, name: &str, level: u8) -> (String, String) {
        let body = serde_json::json!({ "name": name, "level": level });
        let res = target.api("POST", "/api/v1/apikeys", crate::http::Auth::Session(session), Some(body));
        assert_eq!(res.status, 201, "key creation on {}: {}", target.name, res.body);
        let body = res.json();
        (body["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
    }

    /// One number from the database (a query answering one BIGINT).
    pub fn query_i64(&self, sql: &str, bind: &str) -> i64 {
        use sqlx::Row as _;
        self.rt.block_on(async {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(bind).fetch_one(&self.db.state.db).await.unwrap().get(0)
        })
    }
}
