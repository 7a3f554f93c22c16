//! The call screen's single-key shortcuts (`shieldcall_call::shortcuts`), heard on the window.

use leptos::ev;
use leptos::prelude::*;
use shieldcall_call::shortcuts::Shortcut;
use wasm_bindgen::JsCast;

/// Where a key press is the person typing or a dialog's own, never a shortcut.
const NOT_HERE: &str = "input, textarea, select, [contenteditable], [aria-modal=true]";

/// Calls `on` with the shortcut of each key press while `enabled`, unless a modifier is held,
/// the key repeats, or the focus is in a text field or a modal dialog. Stops listening when the
/// calling component goes away.
pub fn use_shortcuts(enabled: Signal<bool>, on: Callback<Shortcut>) {
    let handle = window_event_listener(ev::keydown, move |ev: web_sys::KeyboardEvent| {
        if !enabled.get_untracked() || ev.repeat() || ev.default_prevented() {
            return;
        }
        let inside = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest(NOT_HERE).ok().flatten())
            .is_some();
        if inside {
            return;
        }
        let modified = ev.ctrl_key() || ev.alt_key() || ev.meta_key();
        if let Some(shortcut) = Shortcut::for_key(&ev.key(), modified) {
            ev.prevent_default();
            on.run(shortcut);
        }
    });
    on_cleanup(move || handle.remove());
}
