//! The chat panel in headless Chromium: beside the video when wide, a sheet when narrow;
//! Enter and Send send.

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use shieldcall::components::{ChatMessage, ChatPanel};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlInputElement;

use crate::common::{all, attr, computed, container, find, load_styles, press, settle, text};

#[wasm_bindgen_test]
async fn the_chat_is_beside_the_video_when_wide_and_a_sheet_when_narrow() {
    load_styles();
    let narrow = RwSignal::new(false);
    let messages = RwSignal::new(vec![ChatMessage {
        from_me: false,
        text: "Hello".into(),
        at: Some("14:05".into()),
    }]);
    let sent = Arc::new(Mutex::new(Vec::<String>::new()));
    let on_send = {
        let sent = sent.clone();
        // The call refuses a message when it cannot send it yet (before the call is secure).
        Callback::new(move |text: String| {
            if text == "refused" {
                return false;
            }
            sent.lock().unwrap().push(text.clone());
            messages.update(|m| m.push(ChatMessage { from_me: true, text, at: None }));
            true
        })
    };
    let open = RwSignal::new(true);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! { <ChatPanel messages on_send open narrow /> }
    });
    settle().await;
    let panel = find(&root, ".chat-panel");
    assert_eq!(attr(&panel, "data-chat-layout").as_deref(), Some("side"));
    assert_eq!(computed(&panel, "position"), "static");
    narrow.set(true);
    settle().await;
    assert_eq!(attr(&panel, "data-chat-layout").as_deref(), Some("sheet"));
    assert_eq!(computed(&panel, "position"), "fixed", "a sheet over the bottom");
    assert_eq!(computed(&panel, "bottom"), "0px");

    let log = find(&root, "[role=log]");
    assert_eq!(attr(&log, "aria-live").as_deref(), Some("polite"));
    assert!(text(&log).contains("Hello"));

    // Enter sends; blank text is not sent.
    let input: HtmlInputElement = find(&root, "[data-chat-input]").unchecked_into();
    input.set_value("  ");
    press(&input, "Enter");
    input.set_value("Can you hear me?");
    press(&input, "Enter");
    settle().await;
    assert_eq!(*sent.lock().unwrap(), ["Can you hear me?"]);
    assert_eq!(input.value(), "", "the field is cleared");
    // A message the call refused stays typed, to send once it can.
    input.set_value("refused");
    press(&input, "Enter");
    settle().await;
    assert_eq!(input.value(), "refused", "a refused message is kept");
    assert_eq!(*sent.lock().unwrap(), ["Can you hear me?"]);
    input.set_value("");
    assert!(text(&log).contains("Can you hear me?"));
    assert_eq!(all(&log, "li.from-me").len(), 1);

    // The Send button sends too.
    input.set_value("Yes");
    find(&root, "[data-action=send]").click();
    settle().await;
    assert_eq!(sent.lock().unwrap().len(), 2);

    open.set(false);
    settle().await;
    assert!(panel.hidden());
    assert_eq!(computed(&panel, "display"), "none");
}

/// The newest message stays in view as messages come, from an empty conversation on (the
/// panel reads its height only once there is a message to show).
#[wasm_bindgen_test]
async fn the_newest_message_stays_in_view() {
    load_styles();
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let root = container();
    root.style().set_property("height", "240px").unwrap();
    root.style().set_property("display", "flex").unwrap();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! { <ChatPanel messages on_send=Callback::new(|_| true) open=true narrow=false /> }
    });
    settle().await;
    let list = find(&root, ".chat-messages");
    for i in 0..40 {
        let text = format!("message {i}");
        messages.update(|m| m.push(ChatMessage { from_me: i % 2 == 0, text, at: None }));
        settle().await;
    }
    let (top, height, client) = (list.scroll_top(), list.scroll_height(), list.client_height());
    assert!(height > client, "the list overflows ({height} > {client})");
    assert!(f64::from(height - client) - top <= 1.0, "scrolled to the end: {top}");
}
