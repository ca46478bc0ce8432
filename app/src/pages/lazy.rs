//! The pages as lazily loaded routes, by area.
//!
//! In the browser, each area's pages are a WebAssembly module of their own: the module every
//! page loads holds what all pages share (the router, the header, the session, Leptos
//! itself), and an area's code is fetched when one of its routes is first matched — on the
//! page the server rendered, the server names that area's modules in `<link rel="preload">`
//! tags, so the browser fetches them beside the main module rather than after it.
//! `scripts/build.sh` cuts the modules apart at these split points (`#[lazy]`); on the
//! server the split points are plain functions that render at once.
//!
//! Pages are grouped by area rather than split one by one: the splitter puts the code two
//! split points share into a module of its own, so sixteen split points made some 240
//! modules and up to 120 fetches for one page; an area's pages share most of their code.

/// One area: its split point (`$area`, whose preloading function `#[lazy]` names
/// `$preload`), and a route type per page, for `<Route view=Lazy::<Page>::new()>`.
macro_rules! area {
    ($area:ident, $preload:ident: $($page:ident),+) => {
        pub mod $area {
            use leptos::prelude::*;
            use leptos_router::LazyRoute;

            #[derive(Clone, Copy)]
            pub enum Page { $($page),+ }

            /// The area's pages: the split point, loaded on first use in the browser.
            #[leptos::lazy]
            pub fn $area(page: Page) -> AnyView {
                match page {
                    $(Page::$page => view! { <crate::pages::$page /> }.into_any(),)+
                }
            }

            $(
                pub struct $page;

                impl LazyRoute for $page {
                    fn data() -> Self {
                        $page
                    }

                    async fn view(_this: Self) -> AnyView {
                        $area(Page::$page).await
                    }

                    async fn preload() {
                        #[cfg(target_arch = "wasm32")]
                        $preload().await;
                    }
                }
            )+
        }
    };
}

// The front page and the error codes share nothing but what every page shares, and the front
// page is what most visitors load first: each is an area of its own (the front page with its
// modules 244 KB gzipped instead of 254 KB; README, "The WebAssembly bundle").
area!(front, __preload_front: Home);
area!(errors, __preload_errors: ErrorCodes);
area!(sign_in, __preload_sign_in: Signup, Login);
area!(account, __preload_account: Account, ApiKeys);
area!(sets, __preload_sets: SetsPage, NewSetPage, EditSetPage);
area!(patterns, __preload_patterns: Patterns, PatternEditor);
area!(curated, __preload_curated: Curated);
area!(console, __preload_console: AdminOverview, AdminUsers, AdminUserPage, AdminKeyPage);
