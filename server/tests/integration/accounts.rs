//! Accounts through the real router: sign-up, log-in, sessions, log-out, the cross-site
//! guard and the account page — each test on SQLite and on PostgreSQL.

use crate::common;

use axum::body::Body;
use common::{form_request, TestApp};
use http::{header, Request, StatusCode};
use serde_json::json;

backend_tests!(
    signup_rejects_missing_fields_and_stores_nothing,
    signup_rejects_bad_email_and_short_password,
    signup_refuses_duplicate_username_and_email,
    signup_signs_in_and_normalizes,
    session_cookie_attributes,
    login_succeeds_by_username_or_email,
    login_failure_does_not_reveal_whether_the_account_exists,
    login_is_throttled_per_account,
    login_is_throttled_per_client_address,
    logout_ends_the_session_on_the_server,
    cross_site_state_changes_are_refused,
    forms_work_without_javascript,
    account_page_shows_the_user_or_redirects,
    session_survives_a_restart,
    healthz_reports_the_database,
    unknown_api_path_is_a_json_404,
    oversized_form_posts_are_refused,
);

async fn signup_rejects_missing_fields_and_stores_nothing(app: TestApp) {
    let res = app.signup("", "", "").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["type"], "/errors#validation_failed");
    assert_eq!(body["status"], 422);
    assert_eq!(body["field"], "username");
    let fields: Vec<_> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "email", "password"]);
    assert!(res.session_token().is_none());
    assert_eq!(app.user_count().await, 0);
}

async fn signup_rejects_bad_email_and_short_password(app: TestApp) {
    let res = app.signup("ann", "ann-at-example.org", "a long password").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.json()["errors"],
        json!([{ "field": "email", "message": "Enter an email address like name@example.com." }])
    );

    let res = app.signup("ann", "ann@example.org", "short").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    assert_eq!(body["field"], "password");
    assert_eq!(body["errors"][0]["message"], "Use at least 8 characters.");

    let res = app.signup("a b", "ann@example.org", "a long password").await;
    assert_eq!(res.json()["field"], "username");
    assert_eq!(app.user_count().await, 0);
}

async fn signup_refuses_duplicate_username_and_email(app: TestApp) {
    app.signed_up("ann").await;

    let res = app.signup("ANN", "other@example.org", "a long password").await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let body = res.json();
    assert_eq!(body["code"], "username_taken");
    assert_eq!(body["field"], "username");
    assert_eq!(body["detail"], "The username 'ann' is taken. Choose another.");
    assert!(res.session_token().is_none());

    let res = app.signup("bea", " Ann@Example.ORG ", "a long password").await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let body = res.json();
    assert_eq!(body["code"], "email_taken");
    assert_eq!(body["field"], "email");
    assert_eq!(app.user_count().await, 1);
}

async fn signup_signs_in_and_normalizes(app: TestApp) {
    let res = app.signup("  Ann.Lee ", " Ann@Example.org", "a long password").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // The server function tells the browser where to go next.
    assert_eq!(res.header("location"), Some("/account"));
    let token = res.session_token().unwrap();
    assert!(token.len() >= 43, "at least 256 bits of token");
    let me = app.me(&token).await;
    assert_eq!(me["username"], "ann.lee");
    assert_eq!(me["email"], "ann@example.org");
    assert_eq!(me["role"], "user");
    let since = me["member_since"].as_i64().unwrap();
    assert!((app::server::db::now() - since).abs() < 60);

    // The password is stored as an argon2id hash with OWASP parameters, never in clear.
    use sqlx::Row;
    let hash: String = sqlx::query("SELECT password_hash FROM users").fetch_one(&app.state.db).await.unwrap().get(0);
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    // Only a hash of the session token is stored.
    let stored: String =
        sqlx::query("SELECT token_hash FROM sessions").fetch_one(&app.state.db).await.unwrap().get(0);
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);
}

async fn session_cookie_attributes(app: TestApp) {
    let res = app.signup("ann", "ann@example.org", "a long password").await;
    let cookie = res.set_cookie().unwrap();
    let attrs: Vec<&str> = cookie.split("; ").skip(1).collect();
    assert_eq!(attrs, ["Path=/", "Max-Age=2592000", "HttpOnly", "SameSite=Lax"]);

    // Behind a TLS-terminating proxy the cookie is Secure.
    let body = serde_urlencoded::to_string([("username", "ann"), ("password", "a long password")]).unwrap();
    let req = form_request("/ui/login", None, "application/json").header("x-forwarded-proto", "https").body(Body::from(body)).unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(res.set_cookie().unwrap().ends_with("; HttpOnly; SameSite=Lax; Secure"));

    // With an https public URL every session cookie is Secure.
    let mut config = common::test_config();
    config.public_url = Some("https://tapeline.example.org".into());
    let secure = TestApp::state(&app.url, config).await;
    let router = tapeline_server::router(secure);
    let body = serde_urlencoded::to_string([("username", "ann"), ("password", "a long password")]).unwrap();
    use tower::ServiceExt as _;
    let res = router.oneshot(form_request("/ui/login", None, "application/json").body(Body::from(body)).unwrap()).await.unwrap();
    let cookie = res.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

async fn login_succeeds_by_username_or_email(app: TestApp) {
    app.signed_up("ann").await;
    for login in ["ann", "ANN", "ann@example.org", " Ann@Example.org "] {
        let res = app.login(login, "a long password").await;
        assert_eq!(res.status, StatusCode::OK, "{login}: {}", res.text());
        let token = res.session_token().unwrap();
        assert_eq!(app.me(&token).await["username"], "ann");
    }
}

async fn login_failure_does_not_reveal_whether_the_account_exists(app: TestApp) {
    app.signed_up("ann").await;
    let wrong_password = app.login("ann", "not the password").await;
    let no_such_user = app.login("nobody", "not the password").await;
    for res in [&wrong_password, &no_such_user] {
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.session_token().is_none());
        assert!(res.header("www-authenticate").is_some());
    }
    assert_eq!(wrong_password.json(), no_such_user.json());
    assert_eq!(wrong_password.json()["code"], "invalid_credentials");
    assert_eq!(wrong_password.json()["detail"], "The username or password is not correct.");

    let empty = app.login("", "").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.json()["errors"].as_array().unwrap().len(), 2);
}

async fn login_is_throttled_per_account(app: TestApp) {
    app.signed_up("ann").await;
    for _ in 0..5 {
        assert_eq!(app.login("ann", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused until the window ends.
    let res = app.login("ann", "a long password").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry));
    let body = res.json();
    assert_eq!(body["code"], "too_many_attempts");
    assert_eq!(body["retry_after"], retry);
    assert!(res.session_token().is_none());
    // Another account from the same client is not affected.
    app.signed_up("bea").await;
    assert_eq!(app.login("bea", "a long password").await.status, StatusCode::OK);
}

async fn login_is_throttled_per_client_address(app: TestApp) {
    // Twenty failures spread over many names from one address block that address.
    for i in 0..20 {
        assert_eq!(app.login(&format!("nobody{i}"), "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    app.signed_up("ann").await;
    let res = app.login("ann", "a long password").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
}

async fn logout_ends_the_session_on_the_server(app: TestApp) {
    let token = app.signed_up("ann").await;
    assert_eq!(app.me(&token).await["username"], "ann");
    let res = app.form("/ui/logout", &[], Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("location"), Some("/login"));
    assert!(res.set_cookie().unwrap().starts_with("tapeline_session=; Path=/; Max-Age=0"));
    // The old cookie no longer works, even if the browser kept it.
    assert_eq!(app.me(&token).await, serde_json::Value::Null);
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM sessions").fetch_one(&app.state.db).await.unwrap().get(0);
    assert_eq!(n, 0);
}

async fn cross_site_state_changes_are_refused(app: TestApp) {
    let token = app.signed_up("ann").await;
    let attempts = [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ];
    for (name, value) in attempts {
        let req = Request::post("/ui/logout")
            .header(header::HOST, common::HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("tapeline_session={token}"))
            .header(name, value)
            .body(Body::empty())
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert_eq!(res.json()["code"], "cross_site_request");
    }
    // Nothing changed: the session is still alive.
    assert_eq!(app.me(&token).await["username"], "ann");
}

async fn forms_work_without_javascript(app: TestApp) {
    // A plain HTML form post (the page before hydration) gets a real redirect.
    let body = serde_urlencoded::to_string([("username", "ann"), ("email", "ann@example.org"), ("password", "a long password")]).unwrap();
    let req = form_request("/ui/signup", None, "text/html")
        .header(header::REFERER, format!("http://{}/signup", common::HOST))
        .body(Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.header("location"), Some("/account"));
    assert!(res.session_token().is_some());

    // A failed plain post goes back to the form, which then shows the error.
    let body = serde_urlencoded::to_string([("username", "ann"), ("password", "wrong password")]).unwrap();
    let req = form_request("/ui/login", None, "text/html")
        .header(header::REFERER, format!("http://{}/login", common::HOST))
        .body(Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::FOUND);
    let back = res.header("location").unwrap().to_owned();
    assert!(back.starts_with(&format!("http://{}/login?", common::HOST)), "{back}");
    let page = app.get(back.trim_start_matches(&format!("http://{}", common::HOST)), None).await;
    assert!(page.text().contains("The username or password is not correct."), "{}", page.text());
}

async fn account_page_shows_the_user_or_redirects(app: TestApp) {
    let res = app.get("/account", None).await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.header("location"), Some("/login"));

    let token = app.signed_up("ann").await;
    let res = app.get("/account", Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.html();
    assert!(html.contains(r#"<dd data-testid="account-username">ann</dd>"#), "{html}");
    assert!(html.contains(r#"<dd data-testid="account-email">ann@example.org</dd>"#));
    assert!(html.contains(r#"<dd data-testid="account-role">user"#));
    assert!(html.contains("Log out"));
}

async fn session_survives_a_restart(app: TestApp) {
    let token = app.signed_up("ann").await;
    let pepper = app.state.secrets.key_pepper.clone();
    let url = app.url.clone();
    // A new pool, new secrets load, new throttle: everything a restarted process rebuilds.
    let restarted = TestApp::state(&url, common::test_config()).await;
    assert_eq!(restarted.secrets.key_pepper, pepper, "instance secrets are stored, not regenerated");
    let app2 = TestApp { router: tapeline_server::router(restarted.clone()), state: restarted, url, handle: app.handle };
    assert_eq!(app2.me(&token).await["username"], "ann");
}

async fn healthz_reports_the_database(app: TestApp) {
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json(), json!({ "status": "ok", "database": "ok" }));

    app.state.db.close();
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(res.json()["code"], "service_unavailable");
}

async fn unknown_api_path_is_a_json_404(app: TestApp) {
    let res = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(res.json()["code"], "not_found");

    let res = app.get("/no-such-page", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.text().contains("Page not found"));
}

async fn oversized_form_posts_are_refused(app: TestApp) {
    let huge = "x".repeat(100 * 1024);
    let body = serde_urlencoded::to_string([("username", huge.as_str()), ("email", "a@b.co"), ("password", "a long password")]).unwrap();
    // Without a declared length (chunked), and with one.
    let chunked = form_request("/ui/signup", None, "application/json").body(Body::from(body.clone())).unwrap();
    let declared = form_request("/ui/signup", None, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    for req in [chunked, declared] {
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text());
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert_eq!(res.json()["code"], "payload_too_large");
    }
    assert_eq!(app.user_count().await, 0);
}
