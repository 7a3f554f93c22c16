//! The call screen's layout in headless Chromium: the streams, a screen share on the stage, and
//! every control of the screen reachable by keyboard.

use leptos::prelude::*;
use shieldcall::components::{CallLayout, ChatPanel, Controls, FeaturesMenu, QualityIndicator};
use shieldcall_call::quality::{Quality, QualityView};
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::TranscriptHash;
use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::MediaState;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlVideoElement;

use crate::common::{
    all, attr, canvas_stream, computed, container, find, is_focused, load_styles, press, settle,
    text,
};

/// SHA-256("shieldcall/v1/code" || 32 zero bytes) as a code: see the e2ee crate's known answer.
fn code() -> SecurityCode {
    SecurityCode::from_transcript(&TranscriptHash([0; 32]))
}

fn locked() -> ShieldState {
    ShieldState::Locked { code: code() }
}

#[wasm_bindgen_test]
async fn the_call_layout_shows_the_streams_and_puts_a_screen_share_on_the_stage() {
    load_styles();
    let (remote, _p1) = canvas_stream();
    let (own, _p2) = canvas_stream();
    let (screen, _p3) = canvas_stream();
    let remote_video = RwSignal::new_local(None);
    // MediaStream has a JS `clone()` that makes a new stream: Clone::clone shares this one.
    let self_view = RwSignal::new_local(Some(Clone::clone(&own)));
    let remote_screen = RwSignal::new_local(None);
    let narrow = RwSignal::new(false);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <CallLayout
                shield=Signal::stored(ShieldState::Connecting)
                remote_video
                self_view
                remote_screen
                narrow
            />
        }
    });
    settle().await;
    let video = |hook: &str| -> HtmlVideoElement {
        find(&root, &format!("video[data-video={hook}]")).unchecked_into()
    };
    let layout = find(&root, ".call-layout");
    assert_eq!(attr(&layout, "data-layout").as_deref(), Some("camera"));
    assert!(
        root.query_selector(".shield-slot [data-shield]").unwrap().is_some(),
        "the shield is on the stage"
    );
    assert!(video("remote").src_object().is_none());
    assert!(!find(&root, ".tile-placeholder").hidden(), "waiting for the other person");
    for hook in ["remote", "self", "remote-screen"] {
        let v = video(hook);
        assert!(v.autoplay(), "{hook} autoplays");
        assert!(v.has_attribute("playsinline"), "{hook} plays inline");
    }
    assert!(video("self").muted(), "the self view is muted");
    assert!(!video("remote").muted());
    assert_eq!(video("self").src_object().unwrap().id(), own.id());

    remote_video.set(Some(Clone::clone(&remote)));
    settle().await;
    assert_eq!(video("remote").src_object().unwrap().id(), remote.id());
    assert!(find(&root, ".tile-placeholder").hidden());
    let remote_tile = find(&root, ".tile--remote");
    assert!(remote_tile.class_list().contains("tile--main"), "the remote camera is large");
    let stage = find(&root, ".stage");
    assert_eq!(remote_tile.offset_width(), stage.offset_width());
    let self_tile = find(&root, ".tile--self");
    assert!(self_tile.offset_width() < stage.offset_width() / 3, "the self view is small");

    remote_screen.set(Some(Clone::clone(&screen)));
    settle().await;
    assert_eq!(attr(&layout, "data-layout").as_deref(), Some("screen"));
    assert_eq!(video("remote-screen").src_object().unwrap().id(), screen.id());
    let screen_tile = find(&root, ".tile--screen");
    assert_eq!(screen_tile.offset_width(), stage.offset_width(), "the share is large");
    assert!(remote_tile.class_list().contains("tile--small"), "the camera goes small");
    assert!(remote_tile.offset_width() < stage.offset_width() / 3);
    assert_eq!(
        video("remote").src_object().unwrap().id(),
        remote.id(),
        "same element, same stream"
    );

    remote_screen.set(None);
    settle().await;
    assert_eq!(attr(&layout, "data-layout").as_deref(), Some("camera"));
    assert!(screen_tile.hidden());

    narrow.set(true);
    settle().await;
    assert!(layout.class_list().contains("narrow"));
}

#[wasm_bindgen_test]
async fn every_control_is_reachable_by_keyboard() {
    load_styles();
    let (stream, _painter) = canvas_stream();
    let open = RwSignal::new(true);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        let devices = vec![("a".to_string(), "A".to_string())];
        view! {
            <CallLayout
                shield=Signal::stored(locked())
                remote_video=Signal::stored_local(Some(Clone::clone(&stream)))
                self_view=Signal::stored_local(Some(stream))
                narrow=false
                chat=move || view! {
                    <ChatPanel messages=Signal::stored(Vec::new()) on_send=Callback::new(|_| true) open on_close=Callback::new(|()| {}) narrow=false />
                }
            >
                <Controls
                    muted=false
                    on_toggle_mute=Callback::new(|()| {})
                    camera_on=true
                    on_toggle_camera=Callback::new(|()| {})
                    sharing=false
                    on_toggle_share=Callback::new(|()| {})
                    chat_open=open
                    on_toggle_chat=Callback::new(move |()| open.update(|o| *o = !*o))
                    on_hang_up=Callback::new(|()| {})
                    microphones=devices.clone()
                    cameras=devices
                />
                <FeaturesMenu off=None on_toggle_recording=Callback::new(|()| {}) />
            </CallLayout>
        }
    });
    settle().await;
    find(&root, "[data-action=features]").click();
    find(&root, "[data-control=devices]").click();
    settle().await;

    let interactive = all(&root, "button, select, input, a[href], [tabindex], [role=button]");
    assert!(interactive.len() >= 15, "{} controls", interactive.len());
    for element in &interactive {
        let tag = element.tag_name();
        // The one exception: the self view's tile, focusable to be moved with the arrow keys
        // (a group that says so, not a pretend button).
        if element.has_attribute("data-corner") {
            assert_eq!(attr(element, "role").as_deref(), Some("group"));
            assert!(attr(element, "aria-label").is_some_and(|l| l.contains("arrow keys")));
            assert_eq!(attr(element, "tabindex").as_deref(), Some("0"));
            continue;
        }
        assert!(
            ["BUTTON", "SELECT", "INPUT", "A"].contains(&tag.as_str()),
            "{tag} is a native control, focusable without tricks"
        );
        assert!(element.tab_index() >= 0, "{} is in the tab order", element.outer_html());
        assert!(
            attr(element, "tabindex").is_none_or(|t| t.parse::<i32>().is_ok_and(|t| t <= 0)),
            "no positive tabindex: {}",
            element.outer_html()
        );
        if tag == "BUTTON" {
            let name = attr(element, "aria-label").unwrap_or_else(|| text(element));
            assert!(!name.trim().is_empty(), "{} has a name", element.outer_html());
        }
        if element.has_attribute("disabled") {
            continue;
        }
        element.focus().unwrap();
        assert!(is_focused(element), "{} takes the focus", element.outer_html());
        assert_ne!(
            computed(element, "outline-style"),
            "none",
            "a focus ring: {}",
            element.outer_html()
        );
    }
    for toggle in ["mute", "camera", "share", "chat"] {
        let button = find(&root, &format!("[data-control={toggle}]"));
        assert!(attr(&button, "aria-pressed").is_some(), "{toggle} says whether it is on");
        assert!(attr(&button, "aria-label").is_some(), "{toggle} has a label");
    }

    // And the shield opens the code from the keyboard.
    let shield = find(&root, "[data-shield]");
    shield.focus().unwrap();
    press(&shield, "Enter");
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn the_other_persons_mute_and_camera_off_show_on_their_tile_and_are_said() {
    load_styles();
    let (remote, _p1) = canvas_stream();
    let remote_video = RwSignal::new_local(Some(Clone::clone(&remote)));
    let remote_media = RwSignal::new(None::<MediaState>);
    let announcement = RwSignal::new(String::new());
    let quality = RwSignal::new(None::<QualityView>);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <QualityIndicator quality />
            <CallLayout
                shield=Signal::stored(locked())
                remote_video
                self_view=Signal::stored_local(None)
                remote_media
                remote_announcement=announcement
            />
        }
    });
    settle().await;
    let present = |selector: &str| root.query_selector(selector).unwrap().is_some();
    // Nothing known yet: no indicator, no icon.
    assert!(!present("[data-remote-mic]") && !present("[data-remote-camera]"));
    assert!(!present("[data-quality]"));
    let live = find(&root, "[data-remote-announcement]");
    assert_eq!(attr(&live, "aria-live").as_deref(), Some("polite"));

    remote_media.set(Some(MediaState { mic: false, camera: false, screen: false }));
    announcement.set("The other person's microphone and camera are off.".into());
    settle().await;
    let badge = find(&root, ".tile--remote [data-remote-mic=off]");
    assert_eq!(attr(&badge, "role").as_deref(), Some("img"));
    assert_eq!(attr(&badge, "aria-label").as_deref(), Some("The other person's microphone is off"));
    assert!(badge.offset_width() > 0, "the badge is seen");
    let card = find(&root, ".tile--remote [data-remote-camera=off]");
    assert_eq!(text(&card).trim(), "Camera off");
    let tile = find(&root, ".tile--remote");
    assert_eq!(card.offset_width(), tile.offset_width(), "the placeholder covers the video");
    assert_eq!(text(&live).trim(), "The other person's microphone and camera are off.");

    remote_media.set(Some(MediaState::ALL_ON));
    settle().await;
    assert!(!present("[data-remote-mic]") && !present("[data-remote-camera]"));

    quality.set(Some(QualityView {
        quality: Quality::Fair,
        rtt_ms: Some(240),
        loss_pct: 0.0,
        jitter_ms: Some(5),
        in_bps: 1_200_000,
        out_bps: 900_000,
        interrupted: false,
    }));
    settle().await;
    let icon = find(&root, "[data-quality]");
    assert_eq!(attr(&icon, "data-quality").as_deref(), Some("fair"));
    let words = "Fair connection: 240 ms round trip, 0% loss, 5 ms jitter, 1.2 Mb/s received, 900 kb/s sent";
    assert_eq!(attr(&icon, "aria-label").as_deref(), Some(words));
    assert_eq!(attr(&icon, "data-tip").as_deref(), Some(words));
    assert_eq!(all(&root, "[data-quality] rect.lit").len(), 2, "two bars of three");
}
