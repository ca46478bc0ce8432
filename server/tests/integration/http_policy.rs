//! What every answer says about its use: the security headers, the Content-Security-Policy
//! of pages (with the response's nonce), of /docs and of everything else, caching, and
//! request ids.

use crate::common;

use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;

/// The headers every answer carries, whatever it is.
fn assert_common_headers(res: &common::TestResponse, what: &str) {
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(res.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(res.header("referrer-policy"), Some("strict-origin-when-cross-origin"), "{what}");
    let permissions = res.header("permissions-policy").unwrap_or_else(|| panic!("{what}: no Permissions-Policy"));
    assert!(permissions.contains("camera=()") && permissions.contains("geolocation=()"), "{what}: {permissions}");
    let csp = res.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("base-uri 'none'"), "{what}: {csp}");
    let id = res.header("x-request-id").unwrap_or_else(|| panic!("{what}: no X-Request-Id"));
    assert_eq!(id.len(), 36, "{what}: a UUID, not {id}");
    assert_eq!(res.header("strict-transport-security"), None, "{what}: not over http");
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_and_are_never_stored() {
    let app = TestApp::sqlite().await;
    let admin = app.staff("ops", app::levels::Role::Admin).await;
    let visitor = None;
    // A visitor's pages, the not-found page (the fallback renderer), and a signed-in
    // operator's pages (the console renders server data before it answers).
    for (path, cookie) in
        [("/", visitor), ("/login", visitor), ("/no-such-page", visitor), ("/account", Some(&*admin)), ("/admin", Some(&*admin))]
    {
        let res = app.get(path, cookie).await;
        assert!(res.status.is_success() || res.status == StatusCode::NOT_FOUND, "{path}: {}", res.status);
        assert_common_headers(&res, path);
        let csp = res.header("content-security-policy").unwrap();
        let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap_or_else(|| panic!("{path}: {csp}"));
        assert!(nonce.len() >= 16, "{path}: {nonce}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("object-src 'none'") && csp.contains("form-action 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        // Every inline script of the page carries that nonce; none runs without it.
        let body = res.text();
        let scripts = body.matches("<script").count();
        assert!(scripts > 0, "{path}: the hydration script");
        assert_eq!(body.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{path}: a script without the nonce");
        assert_eq!(res.header("cache-control"), Some("no-store"), "{path}");
    }
    // A fresh nonce for every answer.
    let nonce = |res: common::TestResponse| res.header("content-security-policy").unwrap().to_owned();
    assert_ne!(nonce(app.get("/", None).await), nonce(app.get("/", None).await));
}

#[tokio::test]
async fn swagger_ui_and_the_api_have_policies_of_their_own() {
    let app = TestApp::sqlite().await;
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert_common_headers(&docs, "/docs/");
    let csp = docs.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert!(!csp.contains("http:") && !csp.contains("https:"), "no remote origin: {csp}");

    // An API success and a problem answer: nothing may load or run from them.
    let ok = app.api("GET", "/api/v1/measurements", Auth::None, None).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_common_headers(&ok, "an API success");
    assert!(ok.header("content-security-policy").unwrap().starts_with("default-src 'none'"));
    let refused = app.api("GET", "/api/v1/whoami", Auth::Bearer("tpl_nonsense"), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_common_headers(&refused, "a problem answer");
}

#[tokio::test]
async fn authenticated_answers_are_never_stored() {
    let app = TestApp::sqlite().await;
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 4 })).await;
    for (what, auth) in [("key", Auth::Bearer(&key.token)), ("session", Auth::Session(&session))] {
        for path in ["/api/v1/whoami", "/api/v1/sets", "/api/v1/measurements", "/api/v1/sets/999999"] {
            let res = app.api("GET", path, auth, None).await;
            assert_eq!(res.header("cache-control"), Some("no-store"), "{what} {path} ({})", res.status);
        }
    }
    let page = app.get("/account", Some(&session)).await;
    assert_eq!(page.header("cache-control"), Some("no-store"));
    // Without credentials, a public answer may be kept but must be revalidated.
    assert_eq!(app.api("GET", "/api/v1/measurements", Auth::None, None).await.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn hsts_only_when_the_instance_is_reached_over_https() {
    let mut config = common::test_config();
    config.public_url = Some("https://tapeline.example.org".into());
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("tapeline.db").display());
    let app = TestApp::start(url, common::DbHandle::Sqlite(dir), config).await;
    for path in ["/", "/api/v1/measurements"] {
        let res = app.get(path, None).await;
        assert_eq!(res.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"), "{path}");
    }
}

#[tokio::test]
async fn request_ids_are_made_here_unless_a_trusted_proxy_set_one() {
    let app = TestApp::sqlite().await;
    let a = app.api("GET", "/api/v1/measurements", Auth::None, None).await;
    let b = app.api("GET", "/api/v1/measurements", Auth::None, None).await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"), "one id per request");
    // A client (not a trusted proxy: these tests have none) cannot choose the id.
    let req = http::Request::get("/api/v1/measurements")
        .header("host", common::HOST)
        .header("x-request-id", "chosen-by-the-client")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_ne!(res.header("x-request-id"), Some("chosen-by-the-client"));
    assert_eq!(res.header("x-request-id").map(str::len), Some(36));
}

#[tokio::test]
async fn public_reads_carry_an_etag_and_answer_304_while_it_holds() {
    let app = TestApp::sqlite().await;
    let session = app.signed_up("ann").await;
    let set = app.api("POST", "/api/v1/sets", Auth::Session(&session), Some(json!({ "name": "shared", "public": true, "measurements": { "waist": 720 } }))).await.json();
    let path = format!("/api/v1/public/sets/{}", set["id"]);
    let get = |if_none_match: Option<String>, accept: &'static str| {
        let app = &app;
        let path = path.clone();
        async move {
            let mut req = http::Request::get(path).header("host", common::HOST).header("accept", accept);
            if let Some(tag) = if_none_match {
                req = req.header("if-none-match", tag);
            }
            app.send(req.body(axum::body::Body::empty()).unwrap()).await
        }
    };
    let first = get(None, "application/json").await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10, "{etag}");
    assert_eq!(first.header("cache-control"), Some("public, no-cache"));

    // The caller has it: 304, no body, the same tag; a list of tags or a weak one works too.
    for tags in [etag.clone(), format!("\"other\", {etag}"), format!("W/{etag}")] {
        let again = get(Some(tags.clone()), "application/json").await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{tags}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
    }
    // YAML is another representation, with its own tag.
    let yaml = get(Some(etag.clone()), "application/yaml").await;
    assert_eq!(yaml.status, StatusCode::OK);
    assert_ne!(yaml.header("etag"), Some(etag.as_str()));

    // A change makes a new tag: the old one gets the whole answer again.
    let res = app.api("PATCH", &format!("/api/v1/sets/{}", set["id"]), Auth::Session(&session), Some(json!({ "measurements": { "waist": 725 } }))).await;
    assert_eq!(res.status, StatusCode::OK);
    let changed = get(Some(etag.clone()), "application/json").await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert_eq!(changed.json()["measurements"]["waist"], 725.0);
}

/// The same request with and without `Accept-Encoding`: the compressed answer decodes to the
/// same bytes; tiny answers and answers to requests with credentials are never compressed.
#[tokio::test]
async fn compression_where_it_pays_and_no_secret_is() {
    use std::io::Read as _;
    let app = TestApp::sqlite().await;
    let get = |path: &'static str, encoding: Option<&'static str>, auth: Option<String>| {
        let app = &app;
        async move {
            let mut req = http::Request::get(path).header("host", common::HOST);
            if let Some(encoding) = encoding {
                req = req.header("accept-encoding", encoding);
            }
            if let Some(auth) = auth {
                req = req.header("authorization", auth);
            }
            app.send(req.body(axum::body::Body::empty()).unwrap()).await
        }
    };
    for path in ["/api/v1/measurements", "/api/openapi.json", "/login"] {
        let plain = get(path, None, None).await;
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        let gzipped = get(path, Some("gzip"), None).await;
        assert_eq!(gzipped.header("content-encoding"), Some("gzip"), "{path}");
        assert!(gzipped.body.len() < plain.body.len(), "{path}: compressed is smaller");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gzipped.body[..]).read_to_end(&mut decoded).unwrap();
        if path == "/login" {
            // A page differs in its nonce only (each answer has its own).
            let nonce = |res: &common::TestResponse| {
                let csp = res.header("content-security-policy").unwrap();
                csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned()
            };
            let without = |body: &[u8], nonce: String| String::from_utf8_lossy(body).replace(&nonce, "NONCE");
            assert_eq!(without(&decoded, nonce(&gzipped)), without(&plain.body, nonce(&plain)), "{path}");
        } else {
            assert_eq!(decoded, plain.body, "{path}: the same bytes after decoding");
        }
        let br = get(path, Some("br"), None).await;
        assert_eq!(br.header("content-encoding"), Some("br"), "{path}");
        assert_eq!(br.header("vary").map(|v| v.to_ascii_lowercase().contains("accept-encoding")), Some(true), "{path}");
    }
    // Tiny: sent as it is.
    assert_eq!(get("/healthz", Some("gzip"), None).await.header("content-encoding"), None);
    // With credentials: never compressed (BREACH), even when large.
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 4 })).await;
    let res = get("/api/v1/measurements", Some("gzip, br"), Some(format!("Bearer {}", key.token))).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.len() > 1024, "large enough to compress");
    assert_eq!(res.header("content-encoding"), None);
}
