//! The security code: 20 digits in 4 groups of 5, to read aloud and compare.

use std::sync::atomic::{AtomicUsize, Ordering};

use leptos::html;
use leptos::prelude::*;
use shieldcall_e2ee::code::SecurityCode;

/// The line on what to compare.
pub const COMPARE_TEXT: &str = "Compare these digits with the other person, aloud or on screen. \
                                If they match, no one is listening in.";
/// The line on what a mismatch means.
pub const MISMATCH_TEXT: &str = "If they differ, hang up: someone may be intercepting the call.";

/// A fresh id prefix, so that two instances in one document keep their ids unique.
pub(crate) fn unique_id(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A dialog with the security code, large and monospace (`data-security-code` holds the digits
/// and spaces only, `12345 67890 12345 67890`), and what to do with it.
///
/// Focus moves to its Close button when it opens; Escape or Close calls `on_close`, which should
/// remove the panel and put focus back where it was (the [`Shield`](super::Shield) does both).
#[component]
pub fn SecurityCodePanel(
    /// The call's security code.
    code: SecurityCode,
    /// Called on Escape and on the Close button.
    on_close: Callback<()>,
) -> impl IntoView {
    let title_id = unique_id("security-code-title");
    let text_id = unique_id("security-code-text");
    let (labelled_by, described_by) = (title_id.clone(), text_id.clone());
    let close_button = NodeRef::<html::Button>::new();
    Effect::new(move || {
        if let Some(button) = close_button.get() {
            let _ = button.focus();
        }
    });
    let groups = code.groups().map(str::to_string);
    view! {
        <div
            class="security-code-panel"
            role="dialog"
            aria-modal="true"
            aria-labelledby=labelled_by
            aria-describedby=described_by
            on:keydown=move |ev| match ev.key().as_str() {
                "Escape" => {
                    ev.prevent_default();
                    on_close.run(());
                }
                // The Close button is the only control: keep focus in the dialog.
                "Tab" => ev.prevent_default(),
                _ => {}
            }
        >
            <h2 id=title_id>"Security code"</h2>
            <p class="security-code" data-security-code>
                {groups.join(" ")}
            </p>
            <div id=text_id>
                <p>{COMPARE_TEXT}</p>
                <p class="security-code-mismatch">{MISMATCH_TEXT}</p>
            </div>
            <button
                node_ref=close_button
                type="button"
                data-action="close-security-code"
                on:click=move |_| on_close.run(())
            >
                "Close"
            </button>
        </div>
    }
}
