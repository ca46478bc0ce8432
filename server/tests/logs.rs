//! Secrets never reach the logs: a whole key life cycle (and its failures) with every log
//! line, at the most verbose level, captured and searched.
//!
//! A test binary of its own (every other integration test is in `integration/`): it
//! installs the process's global log subscriber, at trace level, which would capture — and
//! slow — every test running beside it.

#[path = "integration/common/mod.rs"]
#[macro_use]
mod common;

use common::{Auth, TestApp};
use serde_json::json;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_appears_in_any_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let app = TestApp::sqlite().await;
    let password = "correct horse battery staple";
    let res = app.signup("ann", "ann@example.org", password).await;
    let session = res.session_token().unwrap();
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 4 })).await;
    app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, &key.secret), None).await;
    app.api("GET", "/api/v1/whoami", Auth::Basic(&key.id, "wrongwrongwrongwrongwrongwrong12"), None).await;
    app.login("ann", "a wrong password").await;
    app.api("DELETE", &format!("/api/v1/apikeys/{}", key.id), Auth::Bearer(&key.token), None).await;
    app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    // An internal error is logged in full: make sure that path is exercised too.
    app.state.db.close();
    app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    let failed = app.api("GET", "/api/v1/account", Auth::Session(&session), None).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The failure's answer carries its request id, in the header and the body, and the log
    // line that recorded the failure carries the same id.
    assert!(failed.status.is_server_error(), "{}", failed.text());
    let id = failed.header("x-request-id").expect("every answer has an X-Request-Id").to_owned();
    assert_eq!(failed.json()["request_id"], id.as_str(), "{}", failed.text());
    let line = logs.lines().find(|l| l.contains("database unavailable") && l.contains(&id));
    assert!(line.is_some(), "no log line of request {id} records the failure:\n{logs}");
    assert!(logs.contains("/api/v1/whoami"), "the capture works: requests are logged at trace level");
    for (what, secret) in [
        ("token", key.token.as_str()),
        ("key secret", key.secret.as_str()),
        ("password", password),
        ("session token", session.as_str()),
        ("pepper", &app.state.secrets.key_pepper),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
}
