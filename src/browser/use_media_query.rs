//! `matchMedia`: whether a CSS media query matches, kept up to date as the window resizes.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// The width at and below which the call screen and settings use their narrow (phone) layout.
pub const NARROW_QUERY: &str = "(max-width: 720px)";

/// Whether `query` matches now; follows the browser's `change` events until the calling
/// component goes away. `false` where `matchMedia` is missing.
pub fn use_media_query(query: &str) -> Signal<bool> {
    let Some(list) = web_sys::window().and_then(|w| w.match_media(query).ok().flatten()) else {
        return Signal::stored(false);
    };
    let (matches, set_matches) = signal(list.matches());
    let on_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        if let Some(list) =
            event.target().and_then(|t| t.dyn_into::<web_sys::MediaQueryList>().ok())
        {
            set_matches.set(list.matches());
        }
    });
    // Ignoring the result: adding a listener to a live MediaQueryList does not fail.
    let _ = list.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    // The listener must go before the closure is freed, or the next resize would call freed memory.
    let stored = StoredValue::new_local((list, on_change));
    on_cleanup(move || {
        stored.with_value(|(list, on_change)| {
            let _ = list
                .remove_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        });
    });
    matches.into()
}

/// Whether the narrow (phone) layout applies: [`NARROW_QUERY`].
pub fn use_narrow() -> Signal<bool> {
    use_media_query(NARROW_QUERY)
}
