//! The chat beside the video (wide screens) or as a bottom sheet (narrow ones).

use leptos::html;
use leptos::prelude::*;

use crate::browser::use_media_query::use_narrow;

/// One chat message as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    /// Sent by this person (shown on the right), or received.
    pub from_me: bool,
    pub text: String,
    /// When, as the caller wants it shown (`14:05`), if known.
    pub at: Option<String>,
}

/// The chat panel: the messages (a `role="log"` live region, so new ones are announced), a text
/// field and a Send button; Enter sends. It is `hidden` while `open` is false.
///
/// On wide screens it sits beside the video; on narrow ones (`narrow`, by default
/// `(max-width: 720px)`) it is a sheet over the bottom of the screen (class `chat-panel--sheet`,
/// `data-chat-layout="sheet"`).
#[component]
pub fn ChatPanel(
    /// The conversation so far, oldest first.
    #[prop(into)]
    messages: Signal<Vec<ChatMessage>>,
    /// Called with the text to send (trimmed, never empty): whether it was taken. Text not
    /// taken stays in the box.
    on_send: Callback<String, bool>,
    /// Whether the panel is shown.
    #[prop(into)]
    open: Signal<bool>,
    /// Close the panel (a Close button is shown when given).
    #[prop(optional)]
    on_close: Option<Callback<()>>,
    /// Whether to use the narrow layout; by default follows the window width.
    #[prop(into, optional)]
    narrow: Option<Signal<bool>>,
) -> impl IntoView {
    let narrow = narrow.unwrap_or_else(use_narrow);
    let input = NodeRef::<html::Input>::new();
    let list = NodeRef::<html::Ol>::new();
    let send = move || {
        let Some(input) = input.get_untracked() else { return };
        let text = input.value().trim().to_string();
        if !text.is_empty() && on_send.run(text) {
            input.set_value("");
        }
    };
    // Keep the newest message in view. Not before there is one: reading `scrollHeight` makes the
    // browser lay the page out there and then, and the panel is mounted with the call screen,
    // while the call is being set up (a profile of the guest's page found it among the costliest
    // calls between Join and the answer).
    Effect::new(move || {
        if messages.with(Vec::is_empty) {
            return;
        }
        if let Some(list) = list.get() {
            // scrollTop is a double with web-sys's unstable APIs (the wasm build), an i32 without.
            #[allow(clippy::useless_conversion)]
            list.set_scroll_top(list.scroll_height().into());
        }
    });

    view! {
        <aside
            class="chat-panel"
            class:chat-panel--sheet=narrow
            data-chat-layout=move || if narrow.get() { "sheet" } else { "side" }
            aria-label="Chat"
            hidden=move || !open.get()
        >
            <header class="chat-header">
                <h2>"Chat"</h2>
                {on_close.map(|on_close| view! {
                    <button
                        type="button"
                        data-action="close-chat"
                        aria-label="Close the chat"
                        on:click=move |_| on_close.run(())
                    >
                        "Close"
                    </button>
                })}
            </header>
            <ol class="chat-messages" node_ref=list role="log" aria-live="polite">
                <For
                    each=move || messages.get().into_iter().enumerate()
                    key=|(n, _)| *n
                    children=|(_, message)| {
                        let who = if message.from_me { "You" } else { "Them" };
                        view! {
                            <li class=if message.from_me { "message from-me" } else { "message from-them" }>
                                <span class="visually-hidden">{format!("{who}: ")}</span>
                                <span class="message-text">{message.text}</span>
                                {message.at.map(|at| view! { <time class="message-at">{at}</time> })}
                            </li>
                        }
                    }
                />
            </ol>
            <form
                class="chat-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                }
            >
                <input
                    node_ref=input
                    type="text"
                    data-chat-input
                    aria-label="Message"
                    placeholder="Message"
                    autocomplete="off"
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send();
                        }
                    }
                />
                <button type="submit" data-action="send">"Send"</button>
            </form>
        </aside>
    }
}
