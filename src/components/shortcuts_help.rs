//! The keyboard shortcuts dialog (`?`), with the switch that turns single-key shortcuts off.

use leptos::html;
use leptos::prelude::*;
use shieldcall_call::shortcuts::SHORTCUTS;
use wasm_bindgen::JsCast;

use super::security_code::{modal_keys, unique_id};

/// A modal dialog listing every shortcut (`data-shortcut` on each row, its key in a `<kbd>`)
/// and a "Single-key shortcuts" switch (`data-setting="shortcuts"`). Shown while `open`; the
/// focus moves to its Close button, and Escape or Close calls `on_close`, after which the focus
/// goes back to where it was before the dialog opened.
#[component]
pub fn ShortcutsHelp(
    /// Whether the dialog is shown.
    #[prop(into)]
    open: Signal<bool>,
    /// Close it.
    on_close: Callback<()>,
    /// Whether single-key shortcuts are on.
    #[prop(into)]
    enabled: Signal<bool>,
    /// Turn them on or off.
    on_enable: Callback<bool>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Div>::new();
    let close_button = NodeRef::<html::Button>::new();
    // The element to give the focus back to.
    let before = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move || {
        if !open.get() {
            return;
        }
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        before.set_value(active);
        if let Some(button) = close_button.get() {
            let _ = button.focus();
        }
    });
    let close = move || {
        on_close.run(());
        if let Some(element) = before.get_value() {
            let _ = element.focus();
        }
    };
    let title_id = unique_id("shortcuts-title");
    let switch_id = unique_id("shortcuts-switch");
    let (labelled_by, switch_for) = (title_id.clone(), switch_id.clone());
    view! {
        <div
            node_ref=dialog
            class="shortcuts-help"
            role="dialog"
            aria-modal="true"
            aria-labelledby=labelled_by
            hidden=move || !open.get()
            on:keydown=modal_keys(dialog, close)
        >
            <h2 id=title_id>"Keyboard shortcuts"</h2>
            <table class="shortcuts">
                <tbody>
                    {SHORTCUTS
                        .map(|shortcut| view! {
                            <tr data-shortcut=shortcut.key()>
                                <th scope="row"><kbd>{shortcut.key()}</kbd></th>
                                <td>{shortcut.what()}</td>
                            </tr>
                        })}
                </tbody>
            </table>
            <p class="hint">
                "They work when the focus is not in a text field. Tab moves between the \
                 controls, Escape closes menus and dialogs."
            </p>
            <label class="toggle" for=switch_for>
                <input
                    id=switch_id
                    type="checkbox"
                    role="switch"
                    data-setting="shortcuts"
                    prop:checked=enabled
                    on:change=move |ev| on_enable.run(event_target_checked(&ev))
                />
                <span>"Single-key shortcuts"</span>
            </label>
            <button
                node_ref=close_button
                type="button"
                class="close"
                data-action="close-shortcuts"
                on:click=move |_| close()
            >
                "Close"
            </button>
        </div>
    }
}
