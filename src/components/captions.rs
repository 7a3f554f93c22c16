//! The live caption line over the bottom of the stage.

use leptos::prelude::*;

/// The caption being spoken now (`data-captions`), shown while captions are on, or why they
/// stopped. Not a live region: captions change word by word, which a screen reader cannot
/// follow, and screen reader users hear the call itself.
#[component]
pub fn Captions(
    /// Whether captions are on (`use_captions().active`).
    #[prop(into)]
    active: Signal<bool>,
    /// The caption (`use_captions().text`).
    #[prop(into)]
    text: Signal<String>,
    /// Why captions stopped or cannot start (`use_captions().error`); shown even when off.
    #[prop(into, default = Signal::stored(None))]
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <div
            class="captions"
            data-captions
            hidden=move || !active.get() && error.with(Option::is_none)
        >
            {move || error.get().unwrap_or_else(|| text.get())}
        </div>
    }
}
