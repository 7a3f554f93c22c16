use leptos::prelude::*;

/// Any path that is not a page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p><a href="/">"Start a new call"</a></p>
        </section>
    }
}
