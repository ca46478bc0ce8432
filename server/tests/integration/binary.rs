//! The real `tapeline` binary as an operator runs it: the command line, start-up failures,
//! PostgreSQL by URL, and a restart that keeps people signed in.

use crate::common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tapeline(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tapeline"));
    cmd.env_remove("TAPELINE_DATABASE_URL")
        .env_remove("TAPELINE_LISTEN")
        .env("TAPELINE_DATA_DIR", data_dir)
        .env("TAPELINE_LOG", "warn");
    cmd
}

fn create_user(data_dir: &std::path::Path, args: &[&str], password: &str) -> Output {
    let mut child = tapeline(data_dir)
        .args(["users", "create"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn users_create_makes_accounts_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(
        dir.path(),
        &["--username", "Ada", "--email", "ada@example.org", "--password-stdin", "--role", "admin"],
        "a long password",
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "created user ada (id 1, role admin)\n");
    assert!(dir.path().join("tapeline.db").exists(), "the SQLite file is created in the data directory");

    let dup = create_user(
        dir.path(),
        &["--username", "ada", "--email", "other@example.org", "--password-stdin"],
        "a long password",
    );
    assert_eq!(dup.status.code(), Some(1));
    assert!(text(&dup.stderr).contains("The username 'ada' is taken"), "{}", text(&dup.stderr));

    let short = create_user(dir.path(), &["--username", "bea", "--email", "bea@example.org", "--password-stdin"], "short");
    assert_eq!(short.status.code(), Some(1));
    assert!(text(&short.stderr).contains("password: Use at least 8 characters."), "{}", text(&short.stderr));

    let role = create_user(
        dir.path(),
        &["--username", "cy", "--email", "cy@example.org", "--password-stdin", "--role", "root"],
        "a long password",
    );
    assert_eq!(role.status.code(), Some(2));
    assert!(text(&role.stderr).contains("unknown role 'root'"), "{}", text(&role.stderr));
    assert!(!text(&role.stderr).contains("a long password"));
}

#[test]
fn help_documents_every_setting() {
    let dir = tempfile::tempdir().unwrap();
    let top = tapeline(dir.path()).arg("--help").output().unwrap();
    let top = text(&top.stdout);
    for needle in [
        "serve",
        "users",
        "keys",
        "TAPELINE_DATA_DIR",
        "TAPELINE_DATABASE_URL",
        "TAPELINE_DATABASE_CONNECTIONS",
        "[default: ./data]",
        "TAPELINE_KEY_DEFAULT_EXPIRY",
        "TAPELINE_KEY_MAX_EXPIRY",
        "TAPELINE_KEY_LIMIT",
    ] {
        assert!(top.contains(needle), "`tapeline --help` lacks {needle}:\n{top}");
    }
    let serve = tapeline(dir.path()).args(["serve", "--help"]).output().unwrap();
    let serve = text(&serve.stdout);
    for needle in ["TAPELINE_LISTEN", "[default: 127.0.0.1:3000]", "TAPELINE_PUBLIC_URL"] {
        assert!(serve.contains(needle), "`tapeline serve --help` lacks {needle}:\n{serve}");
    }
}

#[test]
fn a_failed_migration_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(dir.path(), &["--username", "ada", "--email", "ada@example.org", "--password-stdin"], "a long password");
    assert!(ok.status.success());
    // Someone edited an applied migration: sqlx refuses to go on, and so must Tapeline.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = tapeline_server::default_database_url(dir.path());
        let db = app::server::Db::connect(&url).await.unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1").execute(&db).await.unwrap();
    });
    let out = tapeline(dir.path()).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error: database migration failed on sqlite://"), "{err}");
    assert!(err.contains("previously applied but has been modified"), "{err}");
}

#[test]
fn an_unreachable_database_stops_start_up_without_showing_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = tapeline(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TAPELINE_DATABASE_URL", "postgres://tape:hunter2secret@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cannot open the database at postgres://tape:***@127.0.0.1:1/none"), "{err}");
    assert!(!err.contains("hunter2secret"), "{err}");
}

/// A running `tapeline serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(data_dir: &std::path::Path, database_url: Option<&str>) -> Server {
        Server::start_with(data_dir, database_url, &[])
    }

    /// Starts with extra settings in the environment.
    fn start_with(data_dir: &std::path::Path, database_url: Option<&str>, env: &[(&str, &str)]) -> Server {
        Server::start_command(tapeline(data_dir), database_url, env)
    }

    /// Starts `cmd` (a `tapeline` command line) as a server.
    fn start_command(mut cmd: Command, database_url: Option<&str>, env: &[(&str, &str)]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        cmd.envs(env.iter().copied());
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")]).stdout(Stdio::null()).stderr(Stdio::piped());
        if let Some(url) = database_url {
            cmd.env("TAPELINE_DATABASE_URL", url);
        }
        let mut server = Server { child: cmd.spawn().unwrap(), port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _, _)) = server.try_request("GET", "/healthz", &[], "") {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                server.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
                panic!("tapeline exited with {status} before it was ready:\n{err}");
            }
            assert!(Instant::now() < deadline, "tapeline did not become ready in 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One HTTP/1.1 request over a fresh connection: (status, headers, body).
    fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<(u16, Vec<(String, String)>, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n", self.port);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(req.as_bytes())?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw)?;
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let mut lines = head.lines();
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Ok((status, headers, body.to_owned()))
    }

    fn server_fn(&self, name: &str, form: &str, cookie: Option<&str>) -> (u16, Vec<(String, String)>, String) {
        let origin = format!("http://127.0.0.1:{}", self.port);
        let cookie = cookie.map(|c| format!("tapeline_session={c}"));
        let mut headers = vec![
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
            ("Origin", origin.as_str()),
        ];
        if let Some(c) = &cookie {
            headers.push(("Cookie", c.as_str()));
        }
        self.try_request("POST", &format!("/ui/{name}"), &headers, form).unwrap()
    }

    /// Stops the server the way a service manager does, and checks it stops cleanly.
    fn stop(mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_restart_keeps_people_signed_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), None);
    let (status, headers, body) =
        server.server_fn("signup", "username=ada&email=ada%40example.org&password=a+long+password", None);
    assert_eq!(status, 200, "{body}");
    let cookie = headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("tapeline_session="))
        .map(|(_, v)| v.split(';').next().unwrap().trim_start_matches("tapeline_session=").to_owned())
        .expect("session cookie");
    server.stop();

    let server = Server::start(dir.path(), None);
    let (status, _, body) = server.server_fn("me", "", Some(&cookie));
    assert_eq!(status, 200, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["username"], "ada");
    server.stop();
}

#[test]
fn a_postgres_url_runs_on_postgresql_migrated_on_start() {
    // One runtime for every async step: the harness's pool belongs to the runtime it was made on.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(app) = rt.block_on(common::TestApp::postgres()) else {
        return;
    };
    // The harness made and migrated a fresh schema. Empty it, so that the binary's own
    // start-up has to migrate it from scratch.
    let common::DbHandle::Postgres { schema, .. } = &app.handle else { unreachable!() };
    rt.block_on(async {
        for sql in [format!("DROP SCHEMA {schema} CASCADE"), format!("CREATE SCHEMA {schema}")] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&app.state.db).await.unwrap();
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), Some(&app.url));
    let (status, _, body) =
        server.server_fn("signup", "username=ada&email=ada%40example.org&password=a+long+password", None);
    assert_eq!(status, 200, "{body}");
    server.stop();
    assert!(!dir.path().join("tapeline.db").exists(), "no SQLite file when PostgreSQL is configured");
    let count: i64 = rt.block_on(async {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM users WHERE username = 'ada'").fetch_one(&app.state.db).await.unwrap().get(0)
    });
    assert_eq!(count, 1);
}

#[test]
fn keys_from_the_command_line_work_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(dir.path(), &["--username", "ada", "--email", "ada@example.org", "--password-stdin"], "a long password");
    assert!(ok.status.success());
    let keys = |args: &[&str]| tapeline(dir.path()).arg("keys").args(args).output().unwrap();

    let out = keys(&["create", "--username", "ada", "--name", "ci", "--level", "2", "--expires-in", "7d"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let token = stdout.trim_end_matches('\n');
    assert_eq!(stdout.lines().count(), 1, "only the token is printed: {stdout:?}");
    assert!(app::auth::token::parse_token(token).is_some(), "{token}");
    let id = &token[4..16];

    let server = Server::start(dir.path(), None);
    let bearer = format!("Bearer {token}");
    let (status, _, body) = server.try_request("GET", "/api/v1/whoami", &[("Authorization", &bearer)], "").unwrap();
    assert_eq!(status, 200, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((me["username"].as_str(), me["level"].as_i64()), (Some("ada"), Some(2)));

    let out = keys(&["list", "--username", "ada"]);
    let listing = text(&out.stdout);
    assert!(listing.lines().nth(1).is_some_and(|l| l.starts_with(id) && l.ends_with("  ci")), "{listing}");

    // Revoked from the command line while the server runs: refused on the next request.
    let out = keys(&["revoke", id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, _, body) = server.try_request("GET", "/api/v1/whoami", &[("Authorization", &bearer)], "").unwrap();
    assert_eq!(status, 401);
    assert!(body.contains("\"code\":\"key_revoked\""), "{body}");
    // A graceful stop writes the usage counted in memory: the one accepted call is kept.
    server.stop();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let calls: i64 = rt.block_on(async {
        use sqlx::Row;
        let db = app::server::Db::connect(&tapeline_server::default_database_url(dir.path())).await.unwrap();
        sqlx::query("SELECT calls FROM api_keys WHERE id = $1").bind(id).fetch_one(&db).await.unwrap().get(0)
    });
    assert_eq!(calls, 1);

    // Bad input: a clear message and a failing exit code, nothing created.
    let out = keys(&["create", "--username", "ada", "--name", "x", "--expires-in", "7w"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a duration like 90s, 30m, 12h or 7d"));
    let out = keys(&["create", "--username", "ada", "--name", "x", "--level", "5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("You can create keys up to level 4"), "{}", text(&out.stderr));
    let out = keys(&["create", "--username", "nobody", "--name", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no user named 'nobody'"));
    let out = keys(&["list", "--username", "ada"]);
    assert_eq!(text(&out.stdout).lines().count(), 1, "only the header: the revoked key is not listed");
}

#[test]
fn operators_set_the_key_limits() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(dir.path(), &["--username", "ada", "--email", "ada@example.org", "--password-stdin"], "a long password");
    assert!(ok.status.success());
    let create = |env: &[(&str, &str)], args: &[&str]| {
        tapeline(dir.path()).envs(env.iter().copied()).args(["keys", "create", "--username", "ada", "--name", "k"]).args(args).output().unwrap()
    };
    let short = [("TAPELINE_KEY_MAX_EXPIRY", "10d"), ("TAPELINE_KEY_DEFAULT_EXPIRY", "2d")];
    let out = create(&short, &["--expires-in", "11d"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("at most 10 days"), "{}", text(&out.stderr));
    assert!(create(&short, &["--expires-in", "10d"]).status.success());
    assert!(create(&short, &[]).status.success(), "the default (2 days) is within the maximum");

    let out = create(&[("TAPELINE_KEY_LIMIT", "2")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the most this instance allows (2)"), "{}", text(&out.stderr));

    let out = create(&[("TAPELINE_KEY_MAX_EXPIRY", "10d"), ("TAPELINE_KEY_DEFAULT_EXPIRY", "90d")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--key-default-expiry must be between"), "{}", text(&out.stderr));
    let out = create(&[("TAPELINE_KEY_LIMIT", "0")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn bad_fair_use_limits_stop_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (variable, value, flag) in [
        ("TAPELINE_KEY_RATE_LIMIT", "-5", "--key-rate-limit"),
        ("TAPELINE_KEY_RATE_LIMIT", "0", "--key-rate-limit"),
        ("TAPELINE_KEY_RATE_LIMIT", "1.5", "--key-rate-limit"),
        ("TAPELINE_KEY_RATE_LIMIT", "99999999999", "--key-rate-limit"),
        ("TAPELINE_KEY_DAILY_QUOTA", "lots", "--key-daily-quota"),
        ("TAPELINE_KEY_DAILY_QUOTA", "2000000000", "--key-daily-quota"),
        ("TAPELINE_ANON_RATE_LIMIT", "-1", "--anon-rate-limit"),
        ("TAPELINE_KEY_LIMITS", "yes", "--key-limits"),
        ("TAPELINE_TRUSTED_PROXIES", "10.0.0.0/99", "--trusted-proxies"),
        ("TAPELINE_KEY_CACHE_MS", "1001", "--key-cache-ms"),
        ("TAPELINE_KEY_CACHE_MS", "-1", "--key-cache-ms"),
        ("TAPELINE_KEY_CACHE_MS", "half", "--key-cache-ms"),
    ] {
        let out = tapeline(dir.path()).env(variable, value).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{variable}={value}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(flag) && stderr.contains(value), "{variable}={value}: {stderr}");
    }
    let help = text(&tapeline(dir.path()).args(["serve", "--help"]).output().unwrap().stdout);
    for variable in ["TAPELINE_KEY_RATE_LIMIT", "TAPELINE_KEY_DAILY_QUOTA", "TAPELINE_ANON_RATE_LIMIT", "TAPELINE_KEY_LIMITS", "TAPELINE_KEY_CACHE_MS"] {
        assert!(help.contains(variable), "serve --help documents {variable}");
    }
}

#[test]
fn a_bad_pool_size_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for value in ["0", "1001", "-2", "many", "2.5"] {
        let out = tapeline(dir.path()).env("TAPELINE_DATABASE_CONNECTIONS", value).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "TAPELINE_DATABASE_CONNECTIONS={value}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("--database-connections") && stderr.contains(value), "{value}: {stderr}");
    }
    assert!(!dir.path().join("tapeline.db").exists(), "nothing was created");
}

/// The value of header `name` in a response's headers.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A day's quota spent before a graceful restart stays spent after it: the server counts
/// from the database, so restarting cannot reset a quota. Also: `TAPELINE_KEY_LIMITS=off`.
fn a_spent_quota_survives_a_restart(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let with_db = |mut cmd: Command| {
        if let Some(url) = database_url {
            cmd.env("TAPELINE_DATABASE_URL", url);
        }
        cmd
    };
    let mut users = with_db(tapeline(dir.path()));
    let mut child = users
        .args(["users", "create", "--username", "ada", "--email", "ada@example.org", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long password\n").unwrap();
    assert!(child.wait().unwrap().success());
    let mut keys = with_db(tapeline(dir.path()));
    let out = keys.args(["keys", "create", "--username", "ada", "--name", "nightly"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let id = token[4..16].to_owned();
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];
    let limits = [("TAPELINE_KEY_DAILY_QUOTA", "3"), ("TAPELINE_KEY_RATE_LIMIT", "1000")];

    let server = Server::start_with(dir.path(), database_url, &limits);
    for left in (0..3).rev() {
        let (status, headers, body) = server.try_request("GET", "/api/v1/whoami", &auth, "").unwrap();
        assert_eq!(status, 200, "{body}");
        let state = header(&headers, "ratelimit").unwrap();
        assert!(state.contains(&format!("\"day\";r={left};")), "{state}");
    }
    let (status, headers, body) = server.try_request("GET", "/api/v1/whoami", &auth, "").unwrap();
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("\"code\":\"quota_exceeded\""), "{body}");
    let retry: i64 = header(&headers, "retry-after").unwrap().parse().unwrap();
    let to_midnight = 86_400 - time::OffsetDateTime::now_utc().unix_timestamp().rem_euclid(86_400);
    assert!((to_midnight - retry).abs() <= 2, "Retry-After {retry} points at the next UTC midnight ({to_midnight})");
    server.stop();

    // Restarted: the first call of the new process is already over the quota.
    let server = Server::start_with(dir.path(), database_url, &limits);
    let (status, headers, body) = server.try_request("GET", "/api/v1/whoami", &auth, "").unwrap();
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("\"code\":\"quota_exceeded\""), "{body}");
    assert!(header(&headers, "ratelimit").unwrap().contains("\"day\";r=0;"));
    server.stop();

    // With key limits off the same key is answered, without the limits' headers, still
    // telling when it expires; its calls are still counted.
    let server = Server::start_with(dir.path(), database_url, &[("TAPELINE_KEY_LIMITS", "off"), limits[0]]);
    let (status, headers, body) = server.try_request("GET", "/api/v1/whoami", &auth, "").unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "ratelimit"), None);
    assert_eq!(header(&headers, "ratelimit-policy"), None);
    assert!(header(&headers, "tapeline-key-expires").is_some());
    server.stop();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (calls, refused): (i64, i64) = rt.block_on(async {
        use sqlx::Row;
        let url = database_url.map(str::to_owned).unwrap_or_else(|| tapeline_server::default_database_url(dir.path()));
        let db = app::server::Db::connect(&url).await.unwrap();
        let row = sqlx::query("SELECT calls, refused FROM api_key_usage WHERE key_id = $1").bind(&id).fetch_one(&db).await.unwrap();
        (row.get(0), row.get(1))
    });
    assert_eq!((calls, refused), (4, 2), "every answered and refused call of the day, across three processes");
}

#[test]
fn a_spent_quota_survives_a_restart_on_sqlite() {
    a_spent_quota_survives_a_restart(None);
}

#[test]
fn a_spent_quota_survives_a_restart_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(app) = rt.block_on(common::TestApp::postgres()) else {
        return;
    };
    a_spent_quota_survives_a_restart(Some(&app.url));
}

/// Prometheus metrics are served only when asked for, and only on their own address: the
/// real binary scraped over TCP and the text parsed; the public listener has no `/metrics`;
/// without the setting the process listens on its one address. A bad address stops start-up
/// naming the setting.
#[test]
fn metrics_are_served_on_their_own_address_only() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(dir.path(), &["--username", "ada", "--email", "ada@example.org", "--password-stdin"], "a long password");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let out = tapeline(dir.path()).args(["keys", "create", "--username", "ada", "--name", "ci"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let bearer = format!("Bearer {token}");
    let wrong = {
        use base64::Engine as _;
        let (id, secret) = app::auth::token::parse_token(&token).unwrap();
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{}", "A".repeat(secret.len()))))
    };

    let metrics_port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{metrics_port}");
    // The pool's size as the operator set it (the gauge reports it below).
    let server = Server::start_with(dir.path(), None, &[("TAPELINE_METRICS_LISTEN", &address), ("TAPELINE_DATABASE_CONNECTIONS", "3")]);
    for _ in 0..2 {
        assert_eq!(server.try_request("GET", "/api/v1/whoami", &[("Authorization", &bearer)], "").unwrap().0, 200);
    }
    assert_eq!(server.try_request("GET", "/api/v1/whoami", &[("Authorization", &wrong)], "").unwrap().0, 401);
    assert_eq!(server.try_request("GET", "/metrics", &[], "").unwrap().0, 404, "the public listener has no /metrics");
    assert_eq!(listening_ports(server.child.id()), sorted(vec![server.port, metrics_port]));

    // The usage is written once at start-up, then every few seconds: wait for the first write.
    let deadline = Instant::now() + Duration::from_secs(15);
    let families = loop {
        let (status, content_type, body) = http_get(metrics_port, "/metrics").unwrap();
        assert_eq!((status, content_type.as_str()), (200, "text/plain; version=0.0.4; charset=utf-8"), "{body}");
        let families = crate::metrics::parse(&body);
        if families.get("tapeline_usage_flush_duration_seconds").is_some_and(|f| f.value(&[]) >= 1.0) {
            break families;
        }
        assert!(Instant::now() < deadline, "no usage write measured in 15 s:\n{body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    // One process: the counts are exact.
    let requests = &families["tapeline_http_requests_total"];
    assert_eq!(requests.value(&[("route", "/api/v1/whoami"), ("method", "GET"), ("status", "200")]), 2.0);
    assert_eq!(requests.value(&[("route", "/api/v1/whoami"), ("method", "GET"), ("status", "401")]), 1.0);
    assert_eq!(requests.value(&[("route", "unmatched"), ("method", "GET"), ("status", "404")]), 1.0);
    assert!(requests.value(&[("route", "/healthz"), ("method", "GET"), ("status", "200")]) >= 1.0);
    assert!(requests.samples.iter().all(|(labels, _)| labels["route"] != "/metrics"), "scrapes are not counted as requests");
    let outcomes = &families["tapeline_key_auth_total"];
    for outcome in app::auth::keys::AUTH_OUTCOMES {
        let expected = match outcome {
            "ok" => 2.0,
            "invalid" => 1.0,
            _ => 0.0,
        };
        assert_eq!(outcomes.value(&[("outcome", outcome)]), expected, "{outcome}");
    }
    assert_eq!(outcomes.samples.len(), 7, "every outcome is listed, from 0");
    assert_eq!(families["tapeline_usage_flush_failures_total"].value(&[]), 0.0);
    let pool = &families["tapeline_db_pool_connections"];
    assert!(pool.value(&[("state", "idle")]) + pool.value(&[("state", "in_use")]) >= 1.0);
    assert_eq!(families["tapeline_db_pool_max_connections"].value(&[]), 3.0, "the pool TAPELINE_DATABASE_CONNECTIONS set");
    for (name, family) in &families {
        assert!(name.starts_with("tapeline_"), "{name}");
        assert!(!family.samples.is_empty(), "{name}");
    }
    server.stop();

    // Off by default: one listening address, and no /metrics on it.
    let server = Server::start(dir.path(), None);
    assert_eq!(server.try_request("GET", "/metrics", &[], "").unwrap().0, 404);
    assert_eq!(listening_ports(server.child.id()), vec![server.port]);
    server.stop();

    let help = text(&tapeline(dir.path()).args(["serve", "--help"]).output().unwrap().stdout);
    assert!(help.contains("--metrics-listen") && help.contains("TAPELINE_METRICS_LISTEN"), "{help}");
    // A bad address, with and without `serve` (clap reads the variable only for `serve`).
    let bad = tapeline(dir.path()).env("TAPELINE_METRICS_LISTEN", "metrics.local").args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("--metrics-listen") && text(&bad.stderr).contains("metrics.local"), "{}", text(&bad.stderr));
    let bad = tapeline(dir.path()).env("TAPELINE_METRICS_LISTEN", "metrics.local").env("TAPELINE_LISTEN", "127.0.0.1:0").output().unwrap();
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("TAPELINE_METRICS_LISTEN 'metrics.local' is not an address"), "{}", text(&bad.stderr));
    // An address in use stops start-up too, rather than serving without metrics.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let bad = tapeline(dir.path()).env("TAPELINE_METRICS_LISTEN", &taken).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains(&format!("cannot listen for metrics on {taken}")), "{}", text(&bad.stderr));
}

fn sorted(mut ports: Vec<u16>) -> Vec<u16> {
    ports.sort_unstable();
    ports
}

/// `GET path` from 127.0.0.1:`port` over a fresh connection: (status, content type, body).
fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let content_type = head
        .lines()
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or(String::new(), |(_, v)| v.to_owned());
    Ok((status, content_type, body.to_owned()))
}

/// The TCP ports process `pid` listens on, sorted: its socket descriptors matched against the
/// kernel's tables of listening sockets (Linux).
fn listening_ports(pid: u32) -> Vec<u16> {
    let sockets: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|link| Some(link.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned()))
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(table) = std::fs::read_to_string(table) else { continue };
        for line in table.lines().skip(1) {
            // sl, local address (hex ip:port), remote address, state (0A: listening), …, inode.
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9 && fields[3] == "0A" && sockets.contains(fields[9]) {
                let port = fields[1].rsplit(':').next().unwrap();
                ports.push(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    sorted(ports)
}

#[test]
fn a_bad_redis_url_stops_start_up_naming_it_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = tapeline(dir.path())
        .env("TAPELINE_REDIS_URL", "mysql://tape:hunter2secret@127.0.0.1/0")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("TAPELINE_REDIS_URL") && stderr.contains("not a Redis URL"), "{stderr}");
    assert!(!stderr.contains("hunter2secret"), "the password never shows: {stderr}");
}

/// The operator's console on the command line: each command with its `--help`, each writing
/// the owner's audit log and the operator log as the console does.
#[test]
fn operators_throttle_suspend_and_promote_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(dir.path(), &["--username", "ada", "--email", "ada@example.org", "--password-stdin"], "a long password");
    assert!(ok.status.success());
    let run = |args: &[&str]| tapeline(dir.path()).args(args).output().unwrap();
    let out = run(&["keys", "create", "--username", "ada", "--name", "loud"]);
    let token = text(&out.stdout).trim().to_owned();
    let id = token[4..16].to_owned();

    for help in [
        &["admin", "top", "--help"][..],
        &["admin", "keys", "limit", "--help"],
        &["users", "suspend", "--help"],
        &["users", "unsuspend", "--help"],
        &["users", "role", "--help"],
    ] {
        let out = run(help);
        assert!(out.status.success() && text(&out.stdout).contains("Usage:"), "{help:?}");
    }
    let server = Server::start(dir.path(), None);
    let bearer = format!("Bearer {token}");
    for _ in 0..3 {
        assert_eq!(server.try_request("GET", "/api/v1/whoami", &[("Authorization", &bearer)], "").unwrap().0, 200);
    }
    // `admin top` counts calls not yet written by the server: they are read after its
    // graceful stop here, the command being another process.
    server.stop();
    let out = run(&["admin", "top", "--days", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let top = text(&out.stdout);
    let row = top.lines().find(|l| l.starts_with(&id)).unwrap_or_else(|| panic!("{top}"));
    assert!(row.contains("ada") && row.split_whitespace().nth(3) == Some("3"), "{row}");

    // Throttle the key: the server refuses past the new limit.
    let out = run(&["admin", "keys", "limit", &id, "--rate", "1", "--quota", "default", "--reason", "too loud"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 a minute"), "{}", text(&out.stdout));
    let out = run(&["admin", "keys", "limit", &id, "--rate", "-1", "--reason", "x"]);
    assert!(!out.status.success());
    let out = run(&["admin", "keys", "limit", &id, "--rate", "5"]);
    assert_eq!(out.status.code(), Some(2), "--reason is required");
    let server = Server::start(dir.path(), None);
    assert_eq!(server.try_request("GET", "/api/v1/whoami", &[("Authorization", &bearer)], "").unwrap().0, 200);
    let (status, _, body) = server.try_request("GET", "/api/v1/whoami", &[("Authorization", &bearer)], "").unwrap();
    assert_eq!(status, 429, "{body}");

    // Suspend: the key fails; unsuspend: it works again (after its minute).
    let out = run(&["users", "suspend", "ada", "--reason", "scraping"]);
    assert!(out.status.success() && text(&out.stdout).contains("suspended since"), "{}", text(&out.stderr));
    let (status, _, body) = server.try_request("GET", "/api/v1/whoami", &[("Authorization", &bearer)], "").unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("account_suspended"));
    let out = run(&["users", "unsuspend", "ada", "--reason", "talked"]);
    assert!(out.status.success() && text(&out.stdout).contains("active"));
    let out = run(&["users", "role", "ada", "wizard"]);
    assert_eq!(out.status.code(), Some(2), "an unknown role is refused by the parser");
    let out = run(&["users", "role", "ada", "support"]);
    assert!(out.status.success() && text(&out.stdout).contains("role support"), "{}", text(&out.stdout));
    server.stop();

    // The owner's audit log holds every action, by the operator, with its reason.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let kinds: Vec<(String, String)> = rt.block_on(async {
        use sqlx::Row;
        let db = app::server::Db::connect(&tapeline_server::default_database_url(dir.path())).await.unwrap();
        sqlx::query("SELECT kind, detail FROM audit_events ORDER BY id").fetch_all(&db).await.unwrap()
            .iter().map(|r| (r.get(0), r.get(1))).collect()
    });
    let staff: Vec<&(String, String)> = kinds.iter().filter(|(_, d)| d.contains("by operator")).collect();
    let names: Vec<&str> = staff.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["key_limits_changed", "account_suspended", "account_unsuspended", "role_changed"], "{kinds:?}");
    assert!(staff[0].1.ends_with("by operator: too loud"), "{:?}", staff[0]);
}

/// `TAPELINE_TRUSTED_PROXIES` in use: the real binary starts with a list, and behind the
/// trusted proxy (here the test itself, on loopback) each forwarded client has its own
/// anonymous allowance.
#[test]
fn trusted_proxies_give_each_forwarded_client_its_own_allowance_and_their_request_ids_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("TAPELINE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1"), ("TAPELINE_ANON_RATE_LIMIT", "2")];
    let server = Server::start_with(dir.path(), None, &env);
    let call = |client: &str| server.try_request("GET", "/api/v1/measurements", &[("X-Forwarded-For", client)], "").unwrap().0;
    assert_eq!((call("203.0.113.1"), call("203.0.113.1"), call("203.0.113.1")), (200, 200, 429));
    assert_eq!(call("203.0.113.2"), 200, "another client behind the proxy");
    // The proxy's request id is kept (so its log and ours match); a malformed one is not.
    let id_for = |sent: &str| {
        let (_, headers, _) = server.try_request("GET", "/healthz", &[("X-Request-Id", sent)], "").unwrap();
        header(&headers, "x-request-id").map(str::to_owned)
    };
    assert_eq!(id_for("proxy-7f3a9c").as_deref(), Some("proxy-7f3a9c"));
    let long = "x".repeat(201);
    for bad in [long.as_str(), "two words"] {
        let id = id_for(bad).expect("an id of our own");
        assert!(id != bad && id.len() == 36, "{bad:?} → {id}");
    }
    server.stop();
}

/// Two builds of Tapeline share one site directory (a debug build after a release one, say):
/// each binary serves the bundle built with it — the names in the hash.txt that
/// scripts/build.sh wrote beside it: the stylesheet's content-hashed name, and the directory
/// of the WebAssembly bundle, named by a hash of its files —, whatever the other one wrote
/// since; those files are cached for a year, and sent precompressed to clients that accept it.
#[test]
fn each_binary_serves_the_bundle_built_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let builds = [
        ("release", "0123456789abcdef0123", "00112233445566778899"),
        ("debug", "fedcba9876543210fedc", "99887766554433221100"),
    ];
    let mut servers = Vec::new();
    // The files of one build, as the site paths its page names.
    let files = |css: &str, bundle: &str| {
        [format!("/pkg/tapeline.{css}.css"), format!("/pkg/{bundle}/tapeline.js"), format!("/pkg/{bundle}/tapeline.wasm")]
    };
    for (profile, css, bundle) in builds {
        let bin_dir = dir.path().join(profile);
        std::fs::create_dir_all(&bin_dir).unwrap();
        let bin = bin_dir.join("tapeline");
        std::fs::copy(env!("CARGO_BIN_EXE_tapeline"), &bin).unwrap();
        std::fs::write(bin_dir.join("hash.txt"), format!("css: {css}\nbundle: {bundle}\n")).unwrap();
        std::fs::create_dir_all(site.join("pkg").join(bundle)).unwrap();
        for path in files(css, bundle) {
            let file = site.join(path.trim_start_matches('/'));
            std::fs::write(&file, format!("the {profile} {path}")).unwrap();
            std::fs::write(format!("{}.gz", file.display()), format!("gzip of the {profile} {path}")).unwrap();
        }
        let mut cmd = Command::new(&bin);
        cmd.env("TAPELINE_DATA_DIR", dir.path().join(format!("data-{profile}"))).env("TAPELINE_LOG", "warn");
        let server = Server::start_command(cmd, None, &[("LEPTOS_SITE_ROOT", site.to_str().unwrap())]);
        servers.push((profile, css, bundle, server));
    }
    for (i, (profile, css, bundle, server)) in servers.iter().enumerate() {
        let (status, _, page) = server.try_request("GET", "/login", &[], "").unwrap();
        assert_eq!(status, 200);
        let (_, other_css, other_bundle) = builds[1 - i];
        assert!(
            !page.contains(other_css) && !page.contains(other_bundle),
            "the {profile} binary's page names the other build's files"
        );
        for path in files(css, bundle) {
            assert!(page.contains(&path), "the {profile} page loads {path}");
            let (status, headers, body) = server.try_request("GET", &path, &[], "").unwrap();
            assert_eq!((status, body.as_str()), (200, format!("the {profile} {path}").as_str()), "{path}");
            assert_eq!(header(&headers, "cache-control"), Some("public, max-age=31536000, immutable"), "{path}");
            let (status, headers, _) = server.try_request("HEAD", &path, &[], "").unwrap();
            assert_eq!((status, header(&headers, "cache-control")), (200, Some("public, max-age=31536000, immutable")), "HEAD {path}");
            let (status, headers, body) = server.try_request("GET", &path, &[("Accept-Encoding", "gzip")], "").unwrap();
            assert_eq!((status, header(&headers, "content-encoding")), (200, Some("gzip")), "{path}");
            assert_eq!(body, format!("gzip of the {profile} {path}"), "{path}: the precompressed file, as it is");
        }
    }
}
