//! Shieldcall: end-to-end encrypted one-on-one calls in the browser.
//!
//! The app (Leptos, client-side rendering). The cryptography lives in `shieldcall-e2ee`; the
//! per-frame work runs in the media worker (`crates/worker`); browser APIs sit in [`browser`].

pub mod browser;
pub mod call;
pub mod call_link;
pub mod components;
pub mod config;
pub mod router;
pub mod routes;
pub mod settings;

use leptos::prelude::*;
use router::Page;

/// The whole app: a header and the three pages.
#[component]
pub fn App() -> impl IntoView {
    config::provide_app_config();
    let page = router::current_page();
    view! {
        <header class="topbar">
            <a href="/" class="brand">"Shieldcall"</a>
            <nav>
                <a href="/settings">"Settings"</a>
            </nav>
        </header>
        <main>
            {move || match page.get() {
                Page::Home => view! { <routes::Home /> }.into_any(),
                Page::Call { id } => view! { <routes::Call id /> }.into_any(),
                Page::Settings => view! { <routes::Settings /> }.into_any(),
                Page::NotFound => view! { <routes::NotFound /> }.into_any(),
            }}
        </main>
    }
}
