//! The call screen's keyboard shortcuts in headless Chromium: single keys act outside text
//! fields, `?` opens their list, Escape closes it and gives the focus back, and they can be
//! turned off.

use leptos::prelude::*;
use shieldcall::browser::use_shortcuts::use_shortcuts;
use shieldcall::components::{Controls, ShortcutsHelp};
use shieldcall_call::shortcuts::{SHORTCUTS, Shortcut};
use wasm_bindgen_test::*;

use crate::common::{all, attr, container, find, is_focused, load_styles, press, settle, text};

#[wasm_bindgen_test]
async fn shortcuts_act_outside_text_fields_and_the_help_lists_them() {
    load_styles();
    let muted = RwSignal::new(false);
    let chat = RwSignal::new(false);
    let help = RwSignal::new(false);
    let enabled = RwSignal::new(true);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        use_shortcuts(
            enabled.into(),
            Callback::new(move |shortcut| match shortcut {
                Shortcut::Microphone => muted.update(|m| *m = !*m),
                Shortcut::Chat => chat.update(|c| *c = !*c),
                Shortcut::Help => help.set(true),
                _ => {}
            }),
        );
        view! {
            <Controls
                muted
                on_toggle_mute=Callback::new(move |()| muted.update(|m| *m = !*m))
                camera_on=true
                on_toggle_camera=Callback::new(|()| {})
                sharing=false
                on_toggle_share=Callback::new(|()| {})
                chat_open=chat
                on_toggle_chat=Callback::new(|()| {})
                on_hang_up=Callback::new(|()| {})
                shortcuts=enabled
            />
            <input type="text" data-chat-input aria-label="Message" />
            <ShortcutsHelp
                open=help
                on_close=Callback::new(move |()| help.set(false))
                enabled
                on_enable=Callback::new(move |on| enabled.set(on))
            />
        }
    });
    settle().await;
    let mute = find(&root, "[data-control=mute]");
    assert_eq!(
        attr(&mute, "data-tip").as_deref(),
        Some("Mute the microphone (M)"),
        "the tooltip says"
    );
    assert_eq!(attr(&mute, "aria-keyshortcuts").as_deref(), Some("M"));

    mute.focus().unwrap();
    press(&mute, "m");
    settle().await;
    assert!(muted.get_untracked(), "M mutes");
    assert_eq!(attr(&mute, "aria-pressed").as_deref(), Some("true"));
    assert_eq!(attr(&mute, "data-tip").as_deref(), Some("Unmute the microphone (M)"));
    press(&mute, "C");
    settle().await;
    assert!(chat.get_untracked(), "C opens the chat");

    // Typing in the chat is typing.
    let input = find(&root, "[data-chat-input]");
    press(&input, "m");
    settle().await;
    assert!(muted.get_untracked(), "a letter typed in a text field is not a shortcut");

    // "?" lists them; Escape closes the list and gives the focus back.
    mute.focus().unwrap();
    press(&mute, "?");
    settle().await;
    let dialog = find(&root, ".shortcuts-help");
    assert!(!dialog.hidden());
    assert_eq!(attr(&dialog, "role").as_deref(), Some("dialog"));
    let listed: Vec<String> = all(&dialog, "[data-shortcut] kbd").iter().map(text).collect();
    assert_eq!(listed, SHORTCUTS.map(|s| s.key().to_string()));
    assert!(text(&dialog).contains(Shortcut::Microphone.what()));
    assert!(is_focused(&find(&dialog, "[data-action=close-shortcuts]")), "focus moved in");
    press(&dialog, "m");
    settle().await;
    assert!(muted.get_untracked(), "no shortcut while the dialog is open");
    press(&dialog, "Escape");
    settle().await;
    assert!(dialog.hidden(), "Escape closes");
    assert!(is_focused(&mute), "and the focus is back where it was");

    // Turned off, single keys do nothing and the tooltips stop naming them.
    help.set(true);
    settle().await;
    find(&dialog, "[data-setting=shortcuts]").click();
    settle().await;
    assert!(!enabled.get_untracked());
    press(&dialog, "Escape");
    settle().await;
    press(&mute, "m");
    settle().await;
    assert!(muted.get_untracked(), "off means off");
    assert_eq!(attr(&mute, "data-tip").as_deref(), Some("Unmute the microphone"));
    assert!(attr(&mute, "aria-keyshortcuts").is_none());
}
