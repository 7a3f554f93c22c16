//! The security code: 20 digits in 4 groups of 5, to read aloud and compare; whether this call
//! was compared; and the E2EE health of the call's media.

use std::sync::atomic::{AtomicUsize, Ordering};

use leptos::html;
use leptos::prelude::*;
use shieldcall_call::e2ee_health::E2eeHealth;
use shieldcall_e2ee::code::SecurityCode;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{E2eeHealthView, Icon};

/// The line on what to compare.
pub const COMPARE_TEXT: &str = "Compare these digits with the other person, aloud or on screen. \
                                If they match, no one is listening in.";
/// The line on what a mismatch means.
pub const MISMATCH_TEXT: &str = "If they differ, hang up: someone may be intercepting the call.";
/// What the panel says once the two compared the code.
pub const VERIFIED_TEXT: &str = "Verified: you compared this code with the other person. \
                                 This holds for this call only and is not stored.";

/// A fresh id prefix, so that two instances in one document keep their ids unique.
pub(crate) fn unique_id(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A dialog with the security code, large and monospace, four groups on one line (two by two
/// when `narrow`); `data-security-code` holds the digits and spaces only
/// (`12345 67890 12345 67890`). A Copy button copies them; "We compared it" marks the call as
/// verified (`data-verified`) through `on_verify`. With `health`, an "Encryption health"
/// section shows the media worker's counters.
///
/// Focus moves to the first button when it opens and stays inside while Tab cycles; Escape or
/// Close calls `on_close`, which should remove the panel and put focus back where it was (the
/// [`Shield`](super::Shield) does both).
#[component]
pub fn SecurityCodePanel(
    /// The call's security code.
    code: SecurityCode,
    /// Called on Escape and on the Close button.
    on_close: Callback<()>,
    /// Whether the two people compared this code in this call.
    #[prop(into, default = Signal::stored(false))]
    verified: Signal<bool>,
    /// Called on "We compared it" (the button shows only when given).
    #[prop(optional)]
    on_verify: Option<Callback<()>>,
    /// The call's E2EE health, when known.
    #[prop(optional_no_strip)]
    health: Option<Signal<E2eeHealth>>,
    /// Two groups a line instead of four.
    #[prop(into)]
    narrow: Signal<bool>,
) -> impl IntoView {
    let title_id = unique_id("security-code-title");
    let text_id = unique_id("security-code-text");
    let (labelled_by, described_by) = (title_id.clone(), text_id.clone());
    let panel = NodeRef::<html::Div>::new();
    let copy_button = NodeRef::<html::Button>::new();
    let verified_line = NodeRef::<html::P>::new();
    Effect::new(move || {
        if let Some(button) = copy_button.get() {
            let _ = button.focus();
        }
    });
    let groups = code.groups().map(str::to_string);
    let digits = groups.join(" ");
    let (copied, set_copied) = signal(None::<bool>);
    let copy = move |_| {
        let Some(window) = web_sys::window() else { return };
        let written = window.navigator().clipboard().write_text(&digits);
        leptos::task::spawn_local(async move {
            set_copied.set(Some(JsFuture::from(written).await.is_ok()));
        });
    };
    let shown_groups = groups
        .into_iter()
        .enumerate()
        .map(|(n, group)| {
            // The spaces between groups are text, so that the digits copy and read as groups;
            // the grid lays the groups out and ignores them.
            view! {
                {(n > 0).then_some(" ")}
                <span class="code-group">{group}</span>
            }
        })
        .collect_view();
    view! {
        <div
            node_ref=panel
            class="security-code-panel"
            role="dialog"
            aria-modal="true"
            aria-labelledby=labelled_by
            aria-describedby=described_by
            on:keydown=modal_keys(panel, move || on_close.run(()))
        >
            <h2 id=title_id>"Security code"</h2>
            <p
                class="security-code"
                class:security-code--narrow=narrow
                data-security-code
                data-layout=move || if narrow.get() { "two-by-two" } else { "one-line" }
            >
                {shown_groups}
            </p>
            <div class="security-code-actions">
                <button node_ref=copy_button type="button" data-action="copy-code" on:click=copy>
                    <Icon name="copy" />
                    " Copy"
                </button>
                {on_verify.map(|on_verify| view! {
                    <button
                        type="button"
                        data-action="verify"
                        hidden=verified
                        on:click=move |_| {
                            on_verify.run(());
                            // The button hides: the focus goes at once to what replaces it,
                            // inside the dialog (left on the page, if only for a frame, an
                            // Escape or Tab pressed then would leave the dialog). Shown here as
                            // `verified` will show it: a hidden element takes no focus.
                            if let Some(line) = verified_line.get_untracked() {
                                line.set_hidden(false);
                                let _ = line.focus();
                            }
                        }
                    >
                        "We compared it"
                    </button>
                })}
                <span role="status" aria-live="polite" data-copy-status>
                    {move || match copied.get() {
                        Some(true) => "Copied.",
                        Some(false) => "Could not copy: select the digits and copy them.",
                        None => "",
                    }}
                </span>
            </div>
            <p
                node_ref=verified_line
                class="verified"
                data-verified
                tabindex="-1"
                hidden=move || !verified.get()
            >
                <Icon name="check" />
                " "
                {VERIFIED_TEXT}
            </p>
            <div id=text_id>
                <p>{COMPARE_TEXT}</p>
                <p class="security-code-mismatch">{MISMATCH_TEXT}</p>
            </div>
            {health.map(|health| view! { <E2eeHealthView health /> })}
            <button
                type="button"
                class="close"
                data-action="close-security-code"
                on:click=move |_| on_close.run(())
            >
                "Close"
            </button>
        </div>
    }
}

/// The keys of a modal dialog: Escape calls `close`, and Tab stays inside `dialog`.
pub(crate) fn modal_keys(
    dialog: NodeRef<html::Div>,
    close: impl Fn() + 'static,
) -> impl Fn(web_sys::KeyboardEvent) + 'static {
    move |ev| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close();
        }
        "Tab" => {
            if let Some(dialog) = dialog.get_untracked() {
                keep_focus_inside(&dialog, &ev);
            }
        }
        _ => {}
    }
}

/// Tab from the last focusable element goes to the first, Shift+Tab from the first to the
/// last: a modal dialog keeps the focus.
pub(crate) fn keep_focus_inside(dialog: &web_sys::HtmlElement, ev: &web_sys::KeyboardEvent) {
    let Ok(list) = dialog.query_selector_all(
        "button:not([disabled]):not([hidden]), summary, select:not([disabled]), input, a[href], \
         [tabindex='0']",
    ) else {
        return;
    };
    let focusable: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|n| list.item(n))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|element| element.offset_parent().is_some())
        .collect();
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        ev.prevent_default();
        return;
    };
    let active = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
    let at = |element: &web_sys::HtmlElement| {
        active.as_ref().is_some_and(|a| a == element.unchecked_ref::<web_sys::Element>())
    };
    let target = if ev.shift_key() && at(first) {
        last
    } else if !ev.shift_key() && at(last) {
        first
    } else {
        return;
    };
    ev.prevent_default();
    let _ = target.focus();
}
