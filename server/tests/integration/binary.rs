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
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1").execute(&db.pool).await.unwrap();
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
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = tapeline(data_dir);
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
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&app.state.db.pool).await.unwrap();
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
        sqlx::query("SELECT COUNT(*) FROM users WHERE username = 'ada'").fetch_one(&app.state.db.pool).await.unwrap().get(0)
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
        sqlx::query("SELECT calls FROM api_keys WHERE id = $1").bind(id).fetch_one(&db.pool).await.unwrap().get(0)
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
    ] {
        let out = tapeline(dir.path()).env(variable, value).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{variable}={value}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(flag) && stderr.contains(value), "{variable}={value}: {stderr}");
    }
    let help = text(&tapeline(dir.path()).args(["serve", "--help"]).output().unwrap().stdout);
    for variable in ["TAPELINE_KEY_RATE_LIMIT", "TAPELINE_KEY_DAILY_QUOTA", "TAPELINE_ANON_RATE_LIMIT"] {
        assert!(help.contains(variable), "serve --help documents {variable}");
    }
}
