//! The pre-join screen in headless Chromium: what it says for each E2EE plan and each answer of
//! the browser, the toggles, and Join with the focus.

use leptos::prelude::*;
use shieldcall::components::PreJoinScreen;
use shieldcall_call::prejoin::{DeviceAccess, E2eePlan, PreJoin};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlButtonElement;

use crate::common::{attr, container, eventually, find, is_focused, settle, text};

#[wasm_bindgen_test]
async fn the_pre_join_screen_says_what_the_call_will_be_and_how_to_fix_a_blocked_device() {
    let state = RwSignal::new(PreJoin::new(E2eePlan::On));
    let (mic_presses, joins) = (RwSignal::new(0), RwSignal::new(0));
    let held = RwSignal::new(false);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <PreJoinScreen
                state
                host=false
                preview=Signal::stored_local(None)
                level=0.5
                level_held=held
                on_toggle_mic=Callback::new(move |()| mic_presses.update(|n| *n += 1))
                on_toggle_camera=Callback::new(|()| {})
                on_join=Callback::new(move |()| joins.update(|n| *n += 1))
            />
        }
    });
    settle().await;
    let join = find(&root, "[data-action=join]");
    assert!(eventually(1000, || is_focused(&join)).await, "Join has the focus: Enter joins");
    assert_eq!(text(&find(&root, "[data-preview-state]")), "Starting your camera…");
    assert_eq!(attr(&find(&root, "[data-mic-level]"), "value").as_deref(), Some("0.50"));
    let held_line = find(&root, "[data-level-held]");
    assert!(held_line.hidden());
    held.set(true);
    settle().await;
    assert!(!held_line.hidden(), "a browser that holds the audio is said to");
    assert!(text(&held_line).contains("click or press a key"), "{}", text(&held_line));

    // E2EE: on, with the other side unknown; off; not allowed.
    let plan = find(&root, "[data-e2ee-plan]");
    assert_eq!(attr(&plan, "data-e2ee-plan").as_deref(), Some("on"));
    assert!(text(&plan).contains("not known until they join"), "{}", text(&plan));
    state.update(|s| s.e2ee = E2eePlan::NotAllowed);
    settle().await;
    assert_eq!(attr(&plan, "data-e2ee-plan").as_deref(), Some("policy-off"));
    assert!(text(&plan).contains("organisation"), "{}", text(&plan));

    // Both devices work: the toggles act; no alert.
    state.update(|s| {
        s.microphone = DeviceAccess::Granted;
        s.camera = DeviceAccess::Granted;
    });
    settle().await;
    assert!(find(&root, "[data-preview-state]").hidden(), "the camera shows, nothing over it");
    let mute = find(&root, "[data-control=mute]");
    assert_eq!(attr(&mute, "aria-pressed").as_deref(), Some("false"));
    mute.click();
    assert_eq!(mic_presses.get_untracked(), 1);
    state.update(|s| s.mic_wanted = false);
    settle().await;
    assert_eq!(attr(&mute, "aria-pressed").as_deref(), Some("true"), "muted");
    assert!(root.query_selector("[data-device-problem]").unwrap().is_none());

    // The camera blocked: its toggle is off and disabled, the alert says how to fix it.
    state.update(|s| s.camera = DeviceAccess::Blocked);
    settle().await;
    let camera = find(&root, "[data-control=camera]");
    assert_eq!(attr(&camera, "aria-pressed").as_deref(), Some("false"));
    assert!(camera.unchecked_ref::<HtmlButtonElement>().disabled());
    let problem = find(&root, "[data-device-problem=camera]");
    assert!(text(&problem).contains("site's permissions"), "{}", text(&problem));
    assert_eq!(attr(&find(&root, ".prejoin-problems"), "role").as_deref(), Some("alert"));
    assert_eq!(text(&find(&root, "[data-preview-state]")), "No camera");

    join.click();
    assert_eq!(joins.get_untracked(), 1, "joining without the camera is allowed");
}
