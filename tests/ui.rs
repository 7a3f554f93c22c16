//! The call UI in headless Chromium: the shield and the security code, the features that E2EE
//! rules out, recording, the settings toggle and its policy, the layouts, the keyboard.

#![cfg(target_arch = "wasm32")]

mod common;

use std::sync::{Arc, Mutex};

use common::{
    canvas_stream, computed, container, eventually, find, focused, load_styles, press, settle,
};
use leptos::prelude::*;
use shieldcall::browser::use_recorder::{UseRecorderOptions, use_recorder_with_options};
use shieldcall::components::{
    COMPARE_TEXT, CallLayout, ChatMessage, ChatPanel, Controls, E2EE_REASON, FEATURES,
    FeaturesMenu, MISMATCH_TEXT, Shield, WEB_CALLS_REASON,
};
use shieldcall::config::{
    AppConfig, ConfigSignal, load_config, provide_app_config, use_app_config, use_loaded_config,
};
use shieldcall::routes::{Home, POLICY_DISABLED, SettingsPage};
use shieldcall_call::texts::{shield_label, shield_text};
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::TranscriptHash;
use shieldcall_e2ee::session::{ShieldState, UnlockedReason, WarningReason};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement, HtmlSelectElement, HtmlVideoElement};

wasm_bindgen_test_configure!(run_in_browser);

/// SHA-256("shieldcall/v1/code" || 32 zero bytes) as a code: see the e2ee crate's known answer.
fn code() -> SecurityCode {
    SecurityCode::from_transcript(&TranscriptHash([0; 32]))
}

fn locked() -> ShieldState {
    ShieldState::Locked { code: code() }
}

fn text(element: &HtmlElement) -> String {
    element.text_content().unwrap_or_default()
}

fn attr(element: &HtmlElement, name: &str) -> Option<String> {
    element.get_attribute(name)
}

fn all(root: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length()).map(|n| list.item(n).unwrap().unchecked_into()).collect()
}

fn is_focused(element: &HtmlElement) -> bool {
    focused().is_some_and(|f| f == **element)
}

/// The shield's parts: the button with `data-shield`, and the status region.
fn shield_parts(root: &HtmlElement) -> (HtmlElement, HtmlElement) {
    (find(root, "[data-shield]"), find(root, "[role=status]"))
}

/// The shield shows what `shieldcall_call::texts` says for each state (the words for every
/// reason are host tests there), with its icon and colour.
#[wasm_bindgen_test]
async fn each_shield_state_shows_its_hook_icon_words_colour_and_label() {
    load_styles();
    let state = RwSignal::new(ShieldState::Connecting);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || view! { <Shield state /> });
    settle().await;
    let (shield, status) = shield_parts(&root);
    assert_eq!(shield.tag_name(), "BUTTON", "the shield is a button");
    assert_eq!(attr(&status, "aria-live").as_deref(), Some("polite"));

    for (shown, icon, colour) in [
        (ShieldState::Connecting, Some("connecting"), "rgb(91, 100, 112)"),
        (locked(), Some("lock"), "rgb(31, 122, 61)"),
        (
            ShieldState::Unlocked { reason: UnlockedReason::OrganisationDisabled },
            None,
            "rgb(91, 100, 112)",
        ),
        (
            ShieldState::Warning { reason: WarningReason::ConfirmationMismatch },
            Some("warning"),
            "rgb(179, 38, 30)",
        ),
    ] {
        state.set(shown);
        settle().await;
        let words = shield_text(&shown);
        let (shield, status) = shield_parts(&root);
        assert_eq!(attr(&shield, "data-shield").as_deref(), Some(words.hook));
        assert!(shield.class_list().contains(&format!("shield--{}", words.hook)), "{shown:?}");
        assert!(
            root.query_selector(&format!("svg.shield-icon--{}", words.hook)).unwrap().is_some(),
            "{shown:?}"
        );
        assert!(root.query_selector("svg .shield-outline").unwrap().is_some(), "always a shield");
        let icons: Vec<_> =
            all(&root, "svg [data-icon]").iter().map(|i| attr(i, "data-icon").unwrap()).collect();
        assert_eq!(icons, icon.into_iter().collect::<Vec<_>>(), "{shown:?}");
        assert_eq!(text(&find(&shield, ".shield-title")), words.title);
        assert_eq!(text(&find(&root, ".shield-detail")), words.detail, "the visible detail");
        let label = attr(&shield, "aria-label").unwrap();
        assert_eq!(label, shield_label(&shown));
        assert_eq!(text(&status), label, "the status region announces the label");
        assert_eq!(computed(&shield, "color"), colour, "{shown:?}");
    }
}

#[wasm_bindgen_test]
async fn clicking_the_lock_shows_the_grouped_code_and_escape_closes_it() {
    let state = RwSignal::new(locked());
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || view! { <Shield state /> });
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_none());

    let shield = find(&root, "[data-shield]");
    shield.click();
    settle().await;
    let digits = text(&find(&root, "[data-security-code]"));
    assert_eq!(digits, "80155 31306 22086 40273");
    let groups: Vec<&str> = digits.split(' ').collect();
    assert_eq!(groups.len(), 4);
    assert!(groups.iter().all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
    let panel = find(&root, "[role=dialog]");
    assert!(text(&panel).contains(COMPARE_TEXT));
    assert!(text(&panel).contains(MISMATCH_TEXT));
    assert_eq!(attr(&shield, "aria-expanded").as_deref(), Some("true"));
    assert!(is_focused(&find(&root, "[data-action=close-security-code]")), "focus moved in");

    press(&find(&root, "[data-action=close-security-code]"), "Escape");
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_none(), "Escape closes");
    assert!(is_focused(&shield), "focus went back to the shield");
    assert_eq!(attr(&shield, "aria-expanded").as_deref(), Some("false"));

    // The Close button closes it too.
    shield.click();
    settle().await;
    find(&root, "[data-action=close-security-code]").click();
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_none(), "Close closes");
}

#[wasm_bindgen_test]
async fn enter_and_space_on_the_shield_open_the_code() {
    let state = RwSignal::new(locked());
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || view! { <Shield state /> });
    settle().await;
    let shield = find(&root, "[data-shield]");
    shield.focus().unwrap();
    press(&shield, "Enter");
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_some(), "Enter opens");
    press(&find(&root, "[role=dialog]"), "Escape");
    settle().await;
    press(&shield, " ");
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_some(), "Space opens");

    // A warning takes the code away.
    state.set(ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn without_the_lock_the_shield_opens_no_code() {
    let state = RwSignal::new(ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || view! { <Shield state /> });
    settle().await;
    let shield = find(&root, "[data-shield]");
    shield.click();
    press(&shield, "Enter");
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_none());
    assert_eq!(attr(&shield, "aria-disabled").as_deref(), Some("true"));
}

/// Mounts a features menu; returns the root and the E2EE signal.
async fn features_menu(captions_supported: bool) -> (HtmlElement, RwSignal<bool>, impl Drop) {
    let e2ee = RwSignal::new(true);
    let root = container();
    let view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <FeaturesMenu
                e2ee_on=e2ee
                on_toggle_recording=Callback::new(|()| {})
                on_toggle_captions=Callback::new(|()| {})
                captions_supported
            />
        }
    });
    settle().await;
    (root, e2ee, view)
}

fn reason_of(root: &HtmlElement, feature: &HtmlElement) -> String {
    let id = attr(feature, "aria-describedby").expect("the reason describes the feature");
    text(&find(root, &format!("[id='{id}']")))
}

#[wasm_bindgen_test]
async fn under_e2ee_every_listed_feature_is_disabled_with_the_reason() {
    let (root, e2ee, _view) = features_menu(true).await;
    let names = [
        "recording",
        "captions",
        "transfer",
        "merge",
        "park",
        "consult-transfer",
        "move-device",
        "add-participant",
    ];
    assert_eq!(FEATURES.map(|(f, _)| f), names);
    for name in names {
        let feature = find(&root, &format!("[data-feature={name}]"));
        assert_eq!(feature.tag_name(), "BUTTON");
        assert!(feature.has_attribute("disabled"), "{name} is disabled under E2EE");
        assert_eq!(reason_of(&root, &feature), E2EE_REASON, "{name}");
        assert!(
            text(&feature.parent_element().unwrap().unchecked_into()).contains(E2EE_REASON),
            "{name} shows the reason"
        );
    }

    e2ee.set(false);
    settle().await;
    for name in ["recording", "captions"] {
        let feature = find(&root, &format!("[data-feature={name}]"));
        assert!(!feature.has_attribute("disabled"), "{name} works without E2EE");
        assert!(attr(&feature, "aria-describedby").is_none(), "{name} has nothing to explain");
    }
    for name in &names[2..] {
        let feature = find(&root, &format!("[data-feature={name}]"));
        assert!(feature.has_attribute("disabled"), "{name} is still off in web calls");
        assert_eq!(reason_of(&root, &feature), WEB_CALLS_REASON, "{name}");
    }

    e2ee.set(true);
    settle().await;
    assert!(find(&root, "[data-feature=recording]").has_attribute("disabled"), "and back");
}

#[wasm_bindgen_test]
async fn captions_say_so_where_the_browser_has_no_speech_recognition() {
    let (root, e2ee, _view) = features_menu(false).await;
    e2ee.set(false);
    settle().await;
    let captions = find(&root, "[data-feature=captions]");
    assert!(captions.has_attribute("disabled"));
    assert_eq!(reason_of(&root, &captions), "Live captions need a browser with speech recognition");
    assert!(!find(&root, "[data-feature=recording]").has_attribute("disabled"));
}

#[wasm_bindgen_test]
async fn the_more_button_opens_and_escape_closes_the_menu() {
    let (root, _e2ee, _view) = features_menu(true).await;
    let more = find(&root, "[data-action=features]");
    let list = find(&root, ".features-menu");
    assert!(list.hidden());
    assert_eq!(attr(&more, "aria-expanded").as_deref(), Some("false"));
    more.click();
    settle().await;
    assert!(!list.hidden());
    assert_eq!(attr(&more, "aria-expanded").as_deref(), Some("true"));
    press(&list, "Escape");
    settle().await;
    assert!(list.hidden());
    assert!(is_focused(&more));
}

#[wasm_bindgen_test]
async fn without_e2ee_recording_records_the_stream_into_a_webm_file() {
    let (stream, _painter) = canvas_stream();
    let stream = RwSignal::new_local(Some(stream));
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        let recorder =
            use_recorder_with_options(stream.into(), UseRecorderOptions { download: false });
        view! {
            <FeaturesMenu
                e2ee_on=false
                recording=recorder.recording
                on_toggle_recording=Callback::new(move |()| {
                    if recorder.recording.get_untracked() {
                        recorder.stop.run(());
                    } else {
                        recorder.start.run(());
                    }
                })
                last_recording=recorder.last
                recording_error=Signal::derive(move || match recorder.state.get() {
                    shieldcall::browser::use_recorder::RecorderState::Failed(why) => Some(why),
                    _ => None,
                })
            />
        }
    });
    settle().await;
    let button = find(&root, "[data-feature=recording]");
    assert!(!button.has_attribute("disabled"));
    button.click();
    settle().await;
    assert_eq!(attr(&button, "aria-pressed").as_deref(), Some("true"), "recording");
    assert_eq!(text(&button), "Stop recording");

    gloo_timers::future::TimeoutFuture::new(600).await;
    button.click();
    assert!(
        eventually(3000, || root.query_selector("[data-recording-link]").unwrap().is_some()).await,
        "a link to the recording: {}",
        text(&root)
    );
    assert_eq!(attr(&button, "aria-pressed").as_deref(), Some("false"));
    let link = find(&root, "[data-recording-link]");
    let size: f64 = attr(&link, "data-size").unwrap().parse().unwrap();
    assert!(size > 0.0, "the recording has bytes: {size}");
    assert!(attr(&link, "href").unwrap().starts_with("blob:"));
    let name = attr(&link, "download").unwrap();
    assert!(name.starts_with("shieldcall-") && name.ends_with(".webm"), "{name}");

    // The Blob behind the link is a WebM file: it starts with the EBML magic 1A 45 DF A3.
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(
        window().fetch_with_str(&attr(&link, "href").unwrap()),
    )
    .await
    .unwrap()
    .unchecked_into();
    let buffer =
        wasm_bindgen_futures::JsFuture::from(response.array_buffer().unwrap()).await.unwrap();
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    assert_eq!(bytes.len() as f64, size);
    assert_eq!(&bytes[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
}

#[wasm_bindgen_test]
async fn recording_without_a_stream_says_why() {
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        let recorder = use_recorder_with_options(
            Signal::stored_local(None),
            UseRecorderOptions { download: false },
        );
        recorder.start.run(());
        view! { <p data-state=move || format!("{:?}", recorder.state.get())></p> }
    });
    settle().await;
    let state = attr(&find(&root, "[data-state]"), "data-state").unwrap();
    assert!(state.starts_with("Failed"), "{state}");
}

#[wasm_bindgen_test]
async fn the_toggle_persists_across_a_remount() {
    window().local_storage().unwrap().unwrap().clear().unwrap();
    let root = container();
    let page = leptos::mount::mount_to(root.clone(), || view! { <SettingsPage narrow=false /> });
    settle().await;
    let toggle: HtmlInputElement =
        find(&root, "input[type=checkbox][data-setting=e2ee]").unchecked_into();
    assert!(toggle.checked() && !toggle.disabled());
    toggle.click();
    settle().await;
    drop(page);

    let _page = leptos::mount::mount_to(root.clone(), || view! { <SettingsPage narrow=false /> });
    settle().await;
    let toggle: HtmlInputElement = find(&root, "input[data-setting=e2ee]").unchecked_into();
    assert!(!toggle.checked(), "still off after the remount");
    toggle.click();
    settle().await;
    assert!(toggle.checked());
}

#[wasm_bindgen_test]
async fn the_organisations_policy_disables_the_toggle_and_says_why() {
    window().local_storage().unwrap().unwrap().clear().unwrap();
    let config = RwSignal::new(AppConfig { ice_servers: Vec::new(), e2ee_allowed: false });
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), move || {
        provide_context::<ConfigSignal>(config.into());
        view! { <SettingsPage narrow=false /> }
    });
    settle().await;
    let toggle: HtmlInputElement = find(&root, "input[data-setting=e2ee]").unchecked_into();
    assert!(toggle.disabled(), "the policy disables the toggle");
    assert!(!toggle.checked(), "and shows E2EE off");
    assert!(text(&root).contains(POLICY_DISABLED));
    let hint = find(&root, &format!("[id='{}']", attr(&toggle, "aria-describedby").unwrap()));
    assert!(text(&hint).contains(POLICY_DISABLED), "the reason describes the toggle");

    // The person's own choice is kept for when the policy changes.
    config.update(|c| c.e2ee_allowed = true);
    settle().await;
    assert!(!toggle.disabled() && toggle.checked());
    assert!(!text(&root).contains(POLICY_DISABLED));
}

#[wasm_bindgen_test]
async fn the_home_page_states_the_setting_as_the_policy_allows_it() {
    let storage = window().local_storage().unwrap().unwrap();
    storage.clear().unwrap();
    let config = RwSignal::new(AppConfig { ice_servers: Vec::new(), e2ee_allowed: false });
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), move || {
        provide_context::<ConfigSignal>(config.into());
        view! { <leptos_router::components::Router><Home /></leptos_router::components::Router> }
    });
    settle().await;
    // The person has E2EE on (the default), but the organisation turned it off: the page must
    // not say it is on.
    let hint = find(&root, "[data-e2ee-setting]");
    assert_eq!(attr(&hint, "data-e2ee-setting").as_deref(), Some("policy-off"));
    assert!(text(&hint).contains(POLICY_DISABLED), "{}", text(&hint));
    assert!(!text(&hint).contains("is on"), "{}", text(&hint));
    config.update(|c| c.e2ee_allowed = true);
    settle().await;
    assert_eq!(attr(&hint, "data-e2ee-setting").as_deref(), Some("on"));
    assert!(text(&hint).contains("End-to-end encryption is on"));
}

#[wasm_bindgen_test]
async fn the_settings_group_is_privacy_when_wide_and_calling_when_narrow() {
    let narrow = RwSignal::new(false);
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), move || view! { <SettingsPage narrow /> });
    settle().await;
    let group = find(&root, "[data-settings-group]");
    assert_eq!(text(&group), "Privacy");
    narrow.set(true);
    settle().await;
    assert_eq!(text(&group), "Calling");
    assert!(find(&root, ".settings").class_list().contains("narrow"));
}

/// The parsing itself is a host test (`shieldcall_call::config`); this is the fetch.
#[wasm_bindgen_test]
async fn config_json_is_fetched_and_falls_back_to_defaults() {
    // A file that is there, one that is not, one that is not JSON.
    let served = blob_url(r#"{"iceServers": [], "policy": {"e2eeAllowed": false}}"#);
    assert!(!load_config(&served).await.e2ee_allowed);
    assert_eq!(load_config("/no-such-config.json").await, AppConfig::default());
    assert_eq!(load_config(&blob_url("{oops")).await, AppConfig::default());
}

#[wasm_bindgen_test]
async fn the_call_page_waits_for_the_apps_config_and_a_provided_one_is_loaded_already() {
    // The app's one fetch of config.json: the defaults meanwhile, and `None` for the call page,
    // which waits for it.
    let root = container();
    let _app = leptos::mount::mount_to(root.clone(), || {
        provide_app_config();
        let (config, loaded) = (use_app_config(), use_loaded_config());
        view! { <p>{move || format!("{:?}", loaded.get().map(|c| c == config.get()))}</p> }
    });
    assert_eq!(text(&root), "None");
    assert!(eventually(5000, || text(&root) == "Some(true)").await, "{}", text(&root));

    // A test's own configuration counts as loaded.
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), || {
        let policy_off = AppConfig { ice_servers: Vec::new(), e2ee_allowed: false };
        provide_context::<ConfigSignal>(Signal::stored(policy_off));
        let loaded = use_loaded_config();
        view! { <p>{move || format!("{:?}", loaded.get().map(|c| c.e2ee_allowed))}</p> }
    });
    assert_eq!(text(&root), "Some(false)");
}

fn blob_url(text: &str) -> String {
    let parts = js_sys::Array::of1(&text.into());
    let blob = web_sys::Blob::new_with_str_sequence(&parts).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}

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
        Callback::new(move |text: String| {
            sent.lock().unwrap().push(text.clone());
            messages.update(|m| m.push(ChatMessage { from_me: true, text, at: None }));
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

    let select: HtmlSelectElement = find(&root, "select[data-control=microphone]").unchecked_into();
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
                    <ChatPanel messages=Signal::stored(Vec::new()) on_send=Callback::new(|_| {}) open on_close=Callback::new(|()| {}) narrow=false />
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
                <FeaturesMenu e2ee_on=false on_toggle_recording=Callback::new(|()| {}) />
            </CallLayout>
        }
    });
    settle().await;
    find(&root, "[data-action=features]").click();
    settle().await;

    let interactive = all(&root, "button, select, input, a[href], [tabindex], [role=button]");
    assert!(interactive.len() >= 15, "{} controls", interactive.len());
    for element in &interactive {
        let tag = element.tag_name();
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
async fn captions_say_why_not_in_a_browser_without_speech_recognition() {
    use shieldcall::browser::use_captions::{
        CAPTIONS_UNSUPPORTED, speech_recognition_constructor, use_captions,
    };
    use shieldcall::components::Captions;

    // Take the browser's recognizers away for the length of this test.
    let window = window();
    let names = ["SpeechRecognition", "webkitSpeechRecognition"];
    let saved: Vec<_> =
        names.iter().map(|n| js_sys::Reflect::get(&window, &(*n).into()).unwrap()).collect();
    for name in names {
        js_sys::Reflect::delete_property(&window, &name.into()).unwrap();
    }
    assert!(speech_recognition_constructor().is_none());

    let root = container();
    let view = leptos::mount::mount_to(root.clone(), move || {
        let captions = use_captions();
        view! {
            <p data-supported=captions.supported.to_string()></p>
            <button data-action="captions" on:click=move |_| captions.start.run(())>"Captions"</button>
            <Captions active=captions.active text=captions.text error=captions.error />
        }
    });
    settle().await;
    assert_eq!(attr(&find(&root, "[data-supported]"), "data-supported").as_deref(), Some("false"));
    assert!(find(&root, "[data-captions]").hidden());
    find(&root, "[data-action=captions]").click();
    settle().await;
    let line = find(&root, "[data-captions]");
    assert!(!line.hidden());
    assert_eq!(text(&line), CAPTIONS_UNSUPPORTED);
    drop(view);

    for (name, value) in names.iter().zip(saved) {
        if !value.is_undefined() {
            js_sys::Reflect::set(&window, &(*name).into(), &value).unwrap();
        }
    }
}
