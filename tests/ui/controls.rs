//! The control bar in headless Chromium: toggles report presses, the pickers report picks.

use leptos::prelude::*;
use shieldcall::components::Controls;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlSelectElement;

use crate::common::{attr, container, find, is_focused, press, settle, text};

#[wasm_bindgen_test]
async fn the_controls_report_presses_and_picks() {
    let muted = RwSignal::new(false);
    let picked = RwSignal::new(None::<String>);
    let hung_up = RwSignal::new(false);
    let microphones = RwSignal::new(vec![
        ("mic-a".to_string(), "Built-in".to_string()),
        ("mic-b".to_string(), String::new()),
    ]);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <Controls
                muted
                on_toggle_mute=Callback::new(move |()| muted.update(|m| *m = !*m))
                camera_on=true
                on_toggle_camera=Callback::new(|()| {})
                sharing=false
                on_toggle_share=Callback::new(|()| {})
                chat_open=false
                on_toggle_chat=Callback::new(|()| {})
                on_hang_up=Callback::new(move |()| hung_up.set(true))
                microphones
                microphone=Some("mic-a".to_string())
                on_microphone=Callback::new(move |id| picked.set(Some(id)))
            />
        }
    });
    settle().await;
    let mute = find(&root, "[data-control=mute]");
    assert_eq!(attr(&mute, "aria-pressed").as_deref(), Some("false"));
    mute.click();
    settle().await;
    assert!(muted.get_untracked());
    assert_eq!(attr(&mute, "aria-pressed").as_deref(), Some("true"));
    assert_eq!(
        attr(&find(&root, "[data-control=camera]"), "aria-pressed").as_deref(),
        Some("true")
    );
    assert_eq!(
        attr(&find(&root, "[data-control=share]"), "aria-pressed").as_deref(),
        Some("false")
    );
    assert_eq!(attr(&find(&root, "[data-control=chat]"), "aria-pressed").as_deref(), Some("false"));
    let hang_up = find(&root, "[data-control=hang-up]");
    assert!(attr(&hang_up, "aria-pressed").is_none(), "hanging up is not a toggle");
    hang_up.click();
    assert!(hung_up.get_untracked());

    // Each button shows an icon and its name.
    for control in ["mute", "camera", "share", "chat", "devices", "hang-up"] {
        let button = find(&root, &format!("[data-control={control}]"));
        assert!(button.query_selector("svg.icon").unwrap().is_some(), "{control} has an icon");
        assert!(attr(&button, "aria-label").is_some_and(|l| !l.is_empty()), "{control} has a name");
        assert!(attr(&button, "data-tip").is_some(), "{control} has a tooltip");
    }
    assert_eq!(attr(&mute, "aria-label").as_deref(), Some("Mute microphone"));
    let icon = |button: &web_sys::HtmlElement| attr(&find(button, "svg"), "data-icon");
    assert_eq!(icon(&mute).as_deref(), Some("mic-off"), "muted shows the crossed microphone");

    // The pickers are in the Devices popover.
    let devices = find(&root, "[data-control=devices]");
    let popover = find(&root, ".devices-popover");
    assert!(popover.hidden());
    assert_eq!(attr(&devices, "aria-expanded").as_deref(), Some("false"));
    devices.click();
    settle().await;
    assert!(!popover.hidden());
    assert_eq!(attr(&devices, "aria-expanded").as_deref(), Some("true"));
    let select: HtmlSelectElement = find(&root, "select[data-control=microphone]").unchecked_into();
    assert!(is_focused(&select.clone().unchecked_into()), "the focus moves to the first picker");
    assert_eq!(select.length(), 2);
    assert_eq!(select.value(), "mic-a");
    assert!(
        text(&select.clone().unchecked_into()).contains("Microphone 2"),
        "unnamed devices get a name"
    );
    let label = find(&root, &format!("label[for='{}']", select.id()));
    assert_eq!(text(&label), "Microphone");
    select.set_value("mic-b");
    select.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    assert_eq!(picked.get_untracked().as_deref(), Some("mic-b"));
    assert!(
        find(&root, "select[data-control=camera-device]").has_attribute("disabled"),
        "no cameras, nothing to pick"
    );
    press(&select.clone().unchecked_into(), "Escape");
    settle().await;
    assert!(popover.hidden(), "Escape closes the popover");
    assert!(is_focused(&devices), "and gives the focus back to its button");
}
