//! Test harness: the real router over a fresh database per test, on SQLite and PostgreSQL.
//!
//! `backend_tests!(a, b, …)` turns each `async fn a(app: TestApp)` into two tests,
//! `a::sqlite` and `a::postgres`. PostgreSQL tests use `TAPELINE_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) with one fresh schema per test, dropped
//! afterwards. If the server is unreachable the PostgreSQL tests fail, unless
//! `TAPELINE_SKIP_POSTGRES=1` is set outside CI (with `CI=true` they always fail).

#![allow(dead_code)]

pub mod redis;
use app::server::Config;
use app::state::AppState;
use axum::body::Body;
use axum::Router;
use http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt as _;
use tapeline_server::router;
use tower::ServiceExt as _;

#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::TestApp::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::common::TestApp::postgres().await {
                    super::$name(app).await
                }
            }
        }
    )*};
}

pub const HOST: &str = "tapeline.test";

/// Where a test's database lives; dropping it removes the database.
pub enum DbHandle {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
    /// Another process over a database some other `TestApp` owns (and cleans up).
    Borrowed,
}

impl Drop for DbHandle {
    fn drop(&mut self) {
        if let DbHandle::Postgres { admin_url, schema } = self {
            let (url, sql) = (admin_url.clone(), format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                    if let Ok(db) = app::server::Db::connect(&url).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&db).await;
                    }
                })
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub url: String,
    pub handle: DbHandle,
}

/// The settings of a test instance: the defaults, except that the fair-use limits are out of
/// the way (many tests make more calls from one address, or with one key, than a person
/// would); the tests of those limits set their own.
pub fn test_config() -> Config {
    let mut config = Config { hash_concurrency: 2, ..Config::default() };
    config.keys.rate_per_minute = 100_000;
    config.keys.daily_quota = 1_000_000;
    config.keys.anon_rate_per_minute = 100_000;
    config
}

pub fn postgres_admin_url() -> String {
    std::env::var("TAPELINE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("tapeline.db").display());
        Self::start(url, DbHandle::Sqlite(dir), test_config()).await
    }

    pub async fn postgres() -> Option<TestApp> {
        let admin_url = postgres_admin_url();
        let admin = match app::server::Db::connect(&admin_url).await {
            Ok(db) => db,
            Err(e) => {
                let ci = std::env::var("CI").is_ok_and(|v| v == "true");
                if !ci && std::env::var("TAPELINE_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
                    eprintln!("PostgreSQL unreachable, skipped (TAPELINE_SKIP_POSTGRES=1): {e}");
                    return None;
                }
                panic!("PostgreSQL at {admin_url} is unreachable: {e}. Start it, or set TAPELINE_SKIP_POSTGRES=1 (outside CI).");
            }
        };
        let schema = format!("tapeline_test_{}", rand::random::<u64>());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
        admin.close();
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(Self::start(url, DbHandle::Postgres { admin_url, schema }, test_config()).await)
    }

    pub async fn start(url: String, handle: DbHandle, config: Config) -> TestApp {
        let state = Self::state(&url, config).await;
        TestApp { router: router(state.clone()), state, url, handle }
    }

    /// Another Tapeline process over the same database, sharing its limits through Redis at
    /// `redis_url` (the first process must have been made with [`TestApp::process`] too, or
    /// it keeps its own limits).
    pub async fn process(&self, config: Config, redis_url: &str) -> TestApp {
        let state = tapeline_server::build_state(&tapeline_server::ServeSettings {
            listen: ([127, 0, 0, 1], 3000).into(),
            metrics_listen: None,
            redis_url: Some(redis_url.to_owned()),
            database_url: Some(self.url.clone()),
            database_connections: None,
            data_dir: "unused".into(),
            config,
        })
        .await
        .expect("state builds");
        // As `serve` does: other processes' changes to keys arrive through Redis.
        tokio::spawn({
            let state = state.clone();
            async move { state.follow_key_changes().await }
        });
        TestApp { router: router(state.clone()), state, url: self.url.clone(), handle: DbHandle::Borrowed }
    }

    /// A fresh state (pool, secrets, throttle) over the same database: a restarted server.
    pub async fn state(url: &str, config: Config) -> AppState {
        Self::state_with_connections(url, config, None).await
    }

    /// [`TestApp::state`] with a pool of at most `connections` (`None`: the default).
    pub async fn state_with_connections(url: &str, config: Config, connections: Option<usize>) -> AppState {
        tapeline_server::build_state(&tapeline_server::ServeSettings {
            listen: ([127, 0, 0, 1], 3000).into(),
            metrics_listen: None,
            redis_url: None,
            database_url: Some(url.to_owned()),
            database_connections: connections,
            data_dir: "unused".into(),
            config,
        })
        .await
        .expect("state builds")
    }

    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let what = format!("{} {}", req.method(), req.uri());
        // A request that never completes fails the test with a message, rather than stalling
        // the whole run (a render that never completed was once the symptom of a dependency's
        // process-wide flag: see `render_hang`).
        let res = tokio::time::timeout(std::time::Duration::from_secs(60), self.router.clone().oneshot(req))
            .await
            .unwrap_or_else(|_| panic!("{what} did not complete within 60 s"))
            .expect("router never fails");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        TestResponse { status, headers, body }
    }

    /// A same-site form POST, as the browser's server-function client sends it.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> TestResponse {
        self.send(form_request(path, cookie, "application/json").body(Body::from(serde_urlencoded::to_string(fields).unwrap())).unwrap())
            .await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut req = Request::get(path).header(header::HOST, HOST).header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("tapeline_session={c}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    pub async fn signup(&self, username: &str, email: &str, password: &str) -> TestResponse {
        self.form("/ui/signup", &[("username", username), ("email", email), ("password", password)], None).await
    }

    /// Signs up and returns the session token.
    pub async fn signed_up(&self, username: &str) -> String {
        let res = self.signup(username, &format!("{username}@example.org"), "a long password").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.session_token().expect("sign-up sets the session cookie")
    }

    pub async fn login(&self, username: &str, password: &str) -> TestResponse {
        self.form("/ui/login", &[("username", username), ("password", password)], None).await
    }

    /// The signed-in account as the `me` server function reports it (JSON `null` for none).
    pub async fn me(&self, token: &str) -> serde_json::Value {
        let res = self.form("/ui/me", &[], Some(token)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.json()
    }

    pub async fn user_count(&self) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&self.state.db).await.unwrap().get("n")
    }
}

/// A same-site form POST. `accept` is `application/json` for the hydrated page's
/// server-function client and `text/html` for a plain form post before hydration.
pub fn form_request(path: &str, cookie: Option<&str>, accept: &str) -> http::request::Builder {
    let mut req = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, accept);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("tapeline_session={c}"));
    }
    req
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A page's HTML without Leptos's empty hydration markers (`<!>`, which the type-erased
    /// views of `--cfg erase_components` put after dynamic text), so tests can look for
    /// what a reader sees, such as `<dd>ann</dd>`.
    pub fn html(&self) -> String {
        self.text().replace("<!>", "")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw `Set-Cookie` header for the session cookie, if any.
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("tapeline_session="))
            .map(str::to_owned)
    }

    /// The session token the response sets, if it sets a non-empty one.
    pub fn session_token(&self) -> Option<String> {
        let cookie = self.set_cookie()?;
        let value = cookie.split(';').next()?.trim_start_matches("tapeline_session=");
        (!value.is_empty()).then(|| value.to_owned())
    }
}

/// How a REST request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Session(&'a str),
    Bearer(&'a str),
    Basic(&'a str, &'a str),
    /// A raw `Authorization` header value.
    Header(&'a str),
}

/// A key as `POST /api/v1/apikeys` returned it.
#[derive(Clone, Debug)]
pub struct Key {
    pub id: String,
    pub token: String,
    pub secret: String,
    pub body: serde_json::Value,
}

impl TestApp {
    /// A REST call. Session calls carry a same-site `Origin`, as the browser sends.
    pub async fn api(&self, method: &str, path: &str, auth: Auth<'_>, body: Option<serde_json::Value>) -> TestResponse {
        let mut req = Request::builder().method(method).uri(path).header(header::HOST, HOST);
        req = match auth {
            Auth::None => req,
            Auth::Session(token) => req
                .header(header::COOKIE, format!("tapeline_session={token}"))
                .header(header::ORIGIN, format!("http://{HOST}")),
            Auth::Bearer(token) => req.header(header::AUTHORIZATION, format!("Bearer {token}")),
            Auth::Basic(id, secret) => {
                use base64::Engine as _;
                let creds = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
                req.header(header::AUTHORIZATION, format!("Basic {creds}"))
            }
            Auth::Header(value) => req.header(header::AUTHORIZATION, value),
        };
        let body = match body {
            Some(json) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// Creates a key through the REST API, asserting it was created.
    pub async fn create_key(&self, auth: Auth<'_>, body: serde_json::Value) -> Key {
        let res = self.api("POST", "/api/v1/apikeys", auth, Some(body)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let body = res.json();
        Key {
            id: body["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
            secret: body["secret"].as_str().unwrap().to_owned(),
            body,
        }
    }

    /// An account with `role`, created through the service (as `tapeline users create` does),
    /// and a session for it.
    pub async fn staff(&self, username: &str, role: app::levels::Role) -> String {
        app::accounts::service::create_account(
            &self.state,
            app::accounts::service::NewAccount {
                username: username.into(),
                email: format!("{username}@example.org"),
                password: "a long password".into(),
                role,
            },
        )
        .await
        .unwrap();
        let res = self.login(username, "a long password").await;
        res.session_token().expect("staff login")
    }

    /// The id of the account named `username`.
    pub async fn user_id(&self, username: &str) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT id FROM users WHERE username = $1").bind(username).fetch_one(&self.state.db).await.unwrap().get(0)
    }

    /// Runs `sql` behind the service layer's back (to set up a state no request can make,
    /// such as a key that expired an hour ago), then forgets the keys this process remembers,
    /// as any change through the service layer does.
    pub async fn exec(&self, sql: &str) {
        self.exec_unannounced(sql).await;
        self.state.key_cache.forget_all();
    }

    /// Runs `sql` and tells nobody: what another process without Redis (or a hand-made
    /// change to the database) looks like to this one.
    pub async fn exec_unannounced(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&self.state.db).await.unwrap();
    }
}

impl TestApp {
    /// A same-site POST of a JSON-encoded server function (`input = Json`), as the hydrated
    /// page's server-function client sends it.
    pub async fn json_fn(&self, path: &str, body: serde_json::Value, cookie: Option<&str>) -> TestResponse {
        let mut req = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("tapeline_session={c}"));
        }
        self.send(req.body(Body::from(body.to_string())).unwrap()).await
    }
}
