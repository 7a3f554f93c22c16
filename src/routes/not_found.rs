use leptos::prelude::*;
use leptos_router::components::A;

/// Any path that is not a page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p><A href="/">"Start a new call"</A></p>
        </section>
    }
}
