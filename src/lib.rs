//! Shieldcall: end-to-end encrypted one-on-one calls in the browser.
//!
//! The app (Leptos, client-side rendering). The cryptography lives in `shieldcall-e2ee`; the
//! per-frame work runs in the media worker (`crates/worker`); browser APIs sit in [`browser`].

pub mod browser;
pub mod call;
pub mod call_link;
pub mod components;
pub mod config;
pub mod routes;
pub mod settings;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

/// The whole app: a header and the three pages.
#[component]
pub fn App() -> impl IntoView {
    config::provide_app_config();
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"Shieldcall"</A>
                <nav>
                    <A href="/settings">"Settings"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <routes::NotFound /> }>
                    <Route path=path!("/") view=routes::Home />
                    <Route path=path!("/call/:id") view=routes::Call />
                    <Route path=path!("/settings") view=routes::Settings />
                </Routes>
            </main>
        </Router>
    }
}
