//! Page renders while other routers are being built in the same process.
//!
//! `leptos_axum::generate_route_list` renders the app once to list its routes, and for the
//! length of that render it sets a *process-wide* flag (`leptos_server`'s
//! `IS_SUPPRESSING_RESOURCE_LOAD`, through `SuppressResourceLoad`). Any `Resource` anywhere in
//! the process whose fetcher is first polled while the flag is set awaits
//! `std::future::pending()` instead of loading: that page render never completes
//! (leptos-rs/leptos#4773). A real server lists its routes once, before it serves; tests that
//! each build a router used to list them once per router, concurrently with other tests'
//! renders. `tapeline_server::router` now lists them once per process.
//!
//! `several_routers_render_pages_concurrently` is the regression test (three runtimes, each
//! with several tasks that build routers and render pages at the same time). The two ignored
//! tests reproduce the dependency's bug without Tapeline's workaround; run them by name:
//! `cargo test -p server --test integration render_hang -- --ignored --nocapture`.

use crate::common;

use common::TestApp;
use http::StatusCode;
use std::time::Duration;

/// Far above a page's render time (milliseconds), far below the harness's 60 s.
const RENDER_LIMIT: Duration = Duration::from_secs(10);

/// GETs `path`; `Err` if the response is not complete within [`RENDER_LIMIT`].
async fn render(router: &axum::Router, path: &str, token: Option<&str>) -> Result<String, String> {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut req = http::Request::get(path).header(http::header::HOST, common::HOST).header(http::header::ACCEPT, "text/html");
    if let Some(t) = token {
        req = req.header(http::header::COOKIE, format!("tapeline_session={t}"));
    }
    let req = req.body(axum::body::Body::empty()).unwrap();
    let res = tokio::time::timeout(RENDER_LIMIT, async {
        let res = router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        (status, res.into_body().collect().await.unwrap().to_bytes())
    })
    .await
    .map_err(|_| format!("GET {path} did not complete within {RENDER_LIMIT:?}"))?;
    let (status, body) = res;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    assert!(body.contains("</html>"), "GET {path}: incomplete page: {body}");
    Ok(body)
}

/// One app; `tasks` tasks each build `rounds` fresh routers over its state and render the
/// header-and-session pages with each. Returns the renders that did not complete.
async fn build_and_render(tasks: usize, rounds: usize) -> Vec<String> {
    let app = TestApp::sqlite().await;
    let token = app.signed_up("ann").await;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (state, token) = (app.state.clone(), token.clone());
        handles.push(tokio::spawn(async move {
            let mut hung = Vec::new();
            for _ in 0..rounds {
                let router = tapeline_server::router(state.clone());
                for (path, session) in [("/", Some(&token)), ("/login", None), ("/sets", Some(&token)), ("/", None)] {
                    if let Err(e) = render(&router, path, session.map(String::as_str)).await {
                        hung.push(e);
                    }
                }
            }
            hung
        }));
    }
    let mut hung = Vec::new();
    for h in handles {
        hung.extend(h.await.unwrap());
    }
    hung
}

// Three tests: with the default thread count they run at once, each on its own runtime.
macro_rules! concurrent {
    ($($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let hung = build_and_render(3, 4).await;
            assert!(hung.is_empty(), "{} of {} renders never completed: {hung:?}", hung.len(), 3 * 4 * 4);
        }
    )*};
}
concurrent!(several_routers_render_pages_concurrently, several_routers_render_pages_concurrently_2, several_routers_render_pages_concurrently_3);

/// The dependency's bug, deterministically: while *another thread* holds the guard that
/// `RouteList::generate` holds for the length of its render, an unrelated router's page
/// never completes. Fails while leptos-rs/leptos#4773 is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "reproduces leptos-rs/leptos#4773: fails until leptos_server's resource suppression is per render"]
async fn leptos_resource_suppression_is_process_wide() {
    let app = TestApp::sqlite().await;
    assert!(render(&app.router, "/", None).await.is_ok(), "renders normally");
    let (hold, release) = std::sync::mpsc::channel::<()>();
    let (held, is_held) = std::sync::mpsc::channel::<()>();
    // What `generate_route_list` does on another test's thread (leptos_router's
    // `RouteList::generate`: `let _resource_guard = SuppressResourceLoad::new();`).
    let other = std::thread::spawn(move || {
        let _guard = leptos::server::SuppressResourceLoad::new();
        held.send(()).unwrap();
        let _ = release.recv();
    });
    is_held.recv().unwrap();
    let during = render(&app.router, "/", None).await;
    drop(hold);
    other.join().unwrap();
    assert!(render(&app.router, "/", None).await.is_ok(), "renders again once the other thread is done");
    during.expect("a page renders while another thread lists routes");
}

/// The same through leptos_axum's public API only: one thread lists the app's routes in a
/// loop (as each test building its own router did) while pages render. Fails (usually in the
/// first few renders) while leptos-rs/leptos#4773 is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "reproduces leptos-rs/leptos#4773: fails until leptos_server's resource suppression is per render"]
async fn renders_hang_while_another_thread_generates_the_route_list() {
    let app = TestApp::sqlite().await;
    let token = app.signed_up("ann").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runtime = tokio::runtime::Handle::current();
    let lister = std::thread::spawn({
        let stop = stop.clone();
        move || {
            // Listing spawns the (suppressed) resources' tasks: it needs a runtime, as in `router`.
            let _runtime = runtime.enter();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = leptos_axum::generate_route_list(app::App);
                n += 1;
            }
            n
        }
    });
    let (mut ok, mut hung) = (0, 0);
    for _ in 0..20 {
        for (path, session) in [("/", Some(token.as_str())), ("/sets", Some(token.as_str())), ("/login", None)] {
            match render(&app.router, path, session).await {
                Ok(_) => ok += 1,
                Err(e) => {
                    eprintln!("{e}");
                    hung += 1
                }
            }
        }
        if hung >= 3 {
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let listed = lister.join().unwrap();
    eprintln!("{ok} renders completed, {hung} never did, while the route list was generated {listed} times");
    assert_eq!(hung, 0, "{hung} renders never completed");
}
