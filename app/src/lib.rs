//! Tapeline's application crate: pages, shared types and `#[server]` functions, plus —
//! behind the `ssr` feature — the service layer and server infrastructure they call.
//!
//! Dependencies point one way, from the top of this list to the bottom:
//!
//! - `pages` — the Leptos pages and their components;
//! - `router`, `openapi` — the composition root: every REST route and the one document;
//! - `export` — the account export, a leaf over every resource;
//! - `accounts`, `apikeys`, `sets`, `patterns`, `curated` — the resources, each with its
//!   types, server functions, service (rules + SQL) and REST handlers;
//! - `functions`, `state` — what server functions start with; the application state;
//! - `auth` — who is calling: accounts, sessions, keys, the `Principal`, the owner scope;
//! - `audit`, `server` — the audit log; infrastructure (storage, errors, extractors, paging);
//! - `levels`, `text`, `measurements`, `error` — shared rules and the one error shape;
//! - `schema`, `numbers` — builders for the constraints the API document states, used by the
//!   rules above to describe themselves; whole numbers read as JSON means them.

#![recursion_limit = "256"]

pub mod accounts;
pub mod admin;
pub mod apikeys;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod curated;
pub mod error;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod functions;
pub mod levels;
pub mod measurements;
pub mod numbers;
#[cfg(feature = "ssr")]
pub mod openapi;
pub mod pages;
pub mod patterns;
#[cfg(feature = "ssr")]
pub mod router;
#[cfg(feature = "ssr")]
pub mod schema;
#[cfg(feature = "ssr")]
pub mod server;
pub mod sets;
#[cfg(feature = "ssr")]
pub mod state;
pub mod text;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="description" content="Tapeline keeps your body measurements and sewing patterns, with API keys for your own scripts." />
                <link rel="icon" href="/favicon.ico" />
                // The stylesheet and the WebAssembly bundle by the content-hashed names the build
                // wrote next to this binary (hash.txt): each binary serves its own bundle.
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                // The WebAssembly bundle's own directory (server::site): its modules import one
                // another by their plain names.
                <HydrationScripts options=hydration_options(&options) />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// What the hydration scripts load: on the server, the bundle built for this binary.
#[cfg(feature = "ssr")]
fn hydration_options(options: &LeptosOptions) -> LeptosOptions {
    server::site::bundle_options(options)
}

#[cfg(not(feature = "ssr"))]
fn hydration_options(options: &LeptosOptions) -> LeptosOptions {
    options.clone()
}

/// The application: document metadata and the router.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Tapeline".to_owned() } else { format!("{title} · Tapeline") }
        } />
        <Router>
            <Layout />
        </Router>
    }
}

/// Header, pages and footer. Inside the router, so that the session's actions can pick up
/// an error the server put in the URL after a plain (pre-hydration) form post.
#[component]
fn Layout() -> impl IntoView {
    pages::provide_session();
    view! {
        <pages::Header />
        <main class="page">
            // Every page is rendered whole before it is sent (`SsrMode::Async`): the header
            // depends on the session, and streaming it in later would leave it empty for a
            // browser without JavaScript. The pages are small and the session is one query.
            <Routes fallback=pages::NotFound>
                <Route path=path!("") view={Lazy::<pages::lazy::front::Home>::new()} ssr=SsrMode::Async />
                <Route path=path!("/signup") view={Lazy::<pages::lazy::sign_in::Signup>::new()} ssr=SsrMode::Async />
                <Route path=path!("/login") view={Lazy::<pages::lazy::sign_in::Login>::new()} ssr=SsrMode::Async />
                // A visitor gets a real redirect to /login.
                <Route path=path!("/account") view={Lazy::<pages::lazy::account::Account>::new()} ssr=SsrMode::Async />
                <Route path=path!("/account/keys") view={Lazy::<pages::lazy::account::ApiKeys>::new()} ssr=SsrMode::Async />
                // Visitors are redirected to /login. `/sets/new` before `/sets/:id`: the first
                // match wins.
                <Route path=path!("/sets") view={Lazy::<pages::lazy::sets::SetsPage>::new()} ssr=SsrMode::Async />
                <Route path=path!("/sets/new") view={Lazy::<pages::lazy::sets::NewSetPage>::new()} ssr=SsrMode::Async />
                <Route path=path!("/sets/:id") view={Lazy::<pages::lazy::sets::EditSetPage>::new()} ssr=SsrMode::Async />
                <Route path=path!("/patterns") view={Lazy::<pages::lazy::patterns::Patterns>::new()} ssr=SsrMode::Async />
                <Route path=path!("/patterns/new") view={Lazy::<pages::lazy::patterns::PatternEditor>::new()} ssr=SsrMode::Async />
                <Route path=path!("/patterns/:id") view={Lazy::<pages::lazy::patterns::PatternEditor>::new()} ssr=SsrMode::Async />
                <Route path=path!("/curated") view={Lazy::<pages::lazy::curated::Curated>::new()} ssr=SsrMode::Async />
                <Route path=path!("/errors") view={Lazy::<pages::lazy::errors::ErrorCodes>::new()} ssr=SsrMode::Async />
                // The operator's console: "not found" for anyone below staff (level 6).
                <Route path=path!("/admin") view={Lazy::<pages::lazy::console::AdminOverview>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/users") view={Lazy::<pages::lazy::console::AdminUsers>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/users/:id") view={Lazy::<pages::lazy::console::AdminUserPage>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/keys/:id") view={Lazy::<pages::lazy::console::AdminKeyPage>::new()} ssr=SsrMode::Async />
            </Routes>
        </main>
        <footer class="site-footer">
            <p>"Tapeline — an open backend for made-to-measure sewing."</p>
        </footer>
    }
}
