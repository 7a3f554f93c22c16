//! The "More" menu of call features in headless Chromium: what end-to-end encryption rules out,
//! and why each feature is off.

use leptos::prelude::*;
use shieldcall::call::ParkedView;
use shieldcall::components::{
    AddLinkPanel, E2EE_REASON, FEATURES, FeaturesMenu, MoveLinkPanel, ParkedPanel, TransferForm,
    TransferLinkPanel, WEB_CALLS_REASON,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

use crate::common::{attr, container, find, is_focused, press, settle, text};

/// Mounts a features menu; returns the root and the E2EE signal.
async fn features_menu(captions_supported: bool) -> (HtmlElement, RwSignal<bool>, impl Drop) {
    let e2ee = RwSignal::new(true);
    let root = container();
    let view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <FeaturesMenu
                off=Signal::derive(move || e2ee.get().then_some(E2EE_REASON))
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
async fn moving_to_another_device_is_offered_with_and_without_e2ee_and_shows_the_link() {
    let e2ee = RwSignal::new(true);
    let asked = RwSignal::new(0);
    let link = RwSignal::new(None::<(String, String)>);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <FeaturesMenu
                off=Signal::derive(move || e2ee.get().then_some(E2EE_REASON))
                on_move=Callback::new(move |()| asked.update(|n| *n += 1))
            />
            <MoveLinkPanel link=link on_close=Callback::new(move |()| link.set(None)) />
        }
    });
    settle().await;
    // Under E2EE the move is re-keyed (PROTOCOL.md change 44): offered, while the other
    // features E2EE rules out stay off.
    let item = find(&root, "[data-feature=move-device]");
    assert!(!item.has_attribute("disabled"), "offered under E2EE");
    assert!(find(&root, "[data-feature=park]").has_attribute("disabled"));

    e2ee.set(false);
    settle().await;
    assert!(!item.has_attribute("disabled"), "offered without E2EE");
    assert!(attr(&item, "aria-describedby").is_none());
    find(&root, "[data-action=features]").click();
    settle().await;
    item.click();
    settle().await;
    assert_eq!(asked.get_untracked(), 1);
    assert!(find(&root, ".features-menu").hidden(), "the menu makes way for the link");

    let url = "http://127.0.0.1:8080/call/AAECAwQFBgcICQoLDA0ODw#m=AAECAwQFBgcICQoLDA0ODw\
               &s=ICEiIyQlJicoKSorLC0uLw&r=host";
    let said = "Open this link on the other device, or scan the code. It works once, for 2 minutes";
    link.set(Some((url.into(), said.into())));
    settle().await;
    let panel = find(&root, "[data-move-link]");
    assert!(text(&panel).contains(said), "{}", text(&panel));
    let input: web_sys::HtmlInputElement = find(&root, "[data-move-url]").unchecked_into();
    assert_eq!(input.value(), url);
    let qr = find(&root, "[data-move-qr]");
    assert_eq!(attr(&qr, "role").as_deref(), Some("img"));
    let path = find(&root, "[data-move-qr] path");
    assert!(attr(&path, "d").is_some_and(|d| d.starts_with("M4,4h1v1h-1z")));
    find(&root, "[data-move-close]").click();
    settle().await;
    assert!(root.query_selector("[data-move-link]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn adding_a_participant_and_merging_work_without_e2ee_and_show_the_add_link() {
    let e2ee = RwSignal::new(true);
    let (added, merged) = (RwSignal::new(0), RwSignal::new(0));
    let link = RwSignal::new(None::<String>);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <FeaturesMenu
                off=Signal::derive(move || e2ee.get().then_some(E2EE_REASON))
                on_add=Callback::new(move |()| added.update(|n| *n += 1))
                on_merge=Callback::new(move |()| merged.update(|n| *n += 1))
            />
            <AddLinkPanel link=link on_close=Callback::new(move |()| link.set(None)) />
        }
    });
    settle().await;
    for name in ["add-participant", "merge"] {
        let item = find(&root, &format!("[data-feature={name}]"));
        assert!(item.has_attribute("disabled"), "{name} off under E2EE");
        assert_eq!(reason_of(&root, &item), E2EE_REASON);
    }
    e2ee.set(false);
    settle().await;
    for (name, count) in [("add-participant", added), ("merge", merged)] {
        let item = find(&root, &format!("[data-feature={name}]"));
        assert!(!item.has_attribute("disabled"), "{name} offered without E2EE");
        find(&root, "[data-action=features]").click();
        settle().await;
        item.click();
        settle().await;
        assert_eq!(count.get_untracked(), 1, "{name}");
        assert!(find(&root, ".features-menu").hidden(), "the menu closes");
    }
    let url = "http://127.0.0.1:8080/call/AAECAwQFBgcICQoLDA0ODw#k=AAECAwQFBgcICQoLDA0ODw\
               &s=ICEiIyQlJicoKSorLC0uLw&g=1";
    link.set(Some(url.into()));
    settle().await;
    assert!(text(&find(&root, "[data-add-link]")).contains("Up to four people"));
    let input: web_sys::HtmlInputElement = find(&root, "[data-add-url]").unchecked_into();
    assert_eq!(input.value(), url);
    find(&root, "[data-add-close]").click();
    settle().await;
    assert!(root.query_selector("[data-add-link]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn parking_and_transferring_work_without_e2ee_and_show_their_code_form_and_link() {
    let e2ee = RwSignal::new(true);
    let parked_asked = RwSignal::new(0);
    let form_open = RwSignal::new(false);
    let named = RwSignal::new(None::<String>);
    let parked = RwSignal::new(None::<ParkedView>);
    let link = RwSignal::new(None::<(String, String, u64)>);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <FeaturesMenu
                off=Signal::derive(move || e2ee.get().then_some(E2EE_REASON))
                on_park=Callback::new(move |()| parked_asked.update(|n| *n += 1))
                on_transfer=Callback::new(move |()| form_open.set(true))
            />
            <ParkedPanel parked=parked />
            <TransferForm
                open=form_open
                on_submit=Callback::new(move |name| named.set(Some(name)))
                on_close=Callback::new(move |()| form_open.set(false))
            />
            <TransferLinkPanel link=link on_close=Callback::new(move |()| link.set(None)) />
        }
    });
    settle().await;
    for name in ["park", "transfer"] {
        let item = find(&root, &format!("[data-feature={name}]"));
        assert!(item.has_attribute("disabled"), "{name} off under E2EE");
        assert_eq!(reason_of(&root, &item), E2EE_REASON);
    }
    e2ee.set(false);
    settle().await;
    for name in ["park", "transfer"] {
        let item = find(&root, &format!("[data-feature={name}]"));
        assert!(!item.has_attribute("disabled"), "{name} offered without E2EE");
        find(&root, "[data-action=features]").click();
        settle().await;
        item.click();
        settle().await;
        assert!(find(&root, ".features-menu").hidden(), "the menu makes way");
    }
    assert_eq!(parked_asked.get_untracked(), 1);

    // The transfer form takes a name.
    let input: web_sys::HtmlInputElement = find(&root, "[data-transfer-name]").unchecked_into();
    assert_eq!(input.max_length(), 40);
    input.set_value("Alex");
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    find(&root, "[data-action=make-transfer-link]").click();
    settle().await;
    assert_eq!(named.get_untracked().as_deref(), Some("Alex"));

    let url = "http://127.0.0.1:8080/call/AAECAwQFBgcICQoLDA0ODw#m=AAECAwQFBgcICQoLDA0ODw\
               &s=ICEiIyQlJicoKSorLC0uLw&r=host&h=transfer";
    link.set(Some((url.into(), "Alex".into(), 120)));
    settle().await;
    let panel = find(&root, "[data-transfer-link]");
    assert!(text(&panel).contains("Send this link to Alex. It works once, for 2 minutes"));
    let shown: web_sys::HtmlInputElement = find(&root, "[data-transfer-url]").unchecked_into();
    assert_eq!(shown.value(), url);
    find(&root, "[data-transfer-close]").click();
    settle().await;
    assert!(root.query_selector("[data-transfer-link]").unwrap().is_none());

    let view = ParkedView {
        url: url.into(),
        code: "7K3M-9Q01-YZ0Z".into(),
        ttl_secs: 300,
        path: "/call/AAECAwQFBgcICQoLDA0ODw#m=x".into(),
        consult: false,
    };
    parked.set(Some(view.clone()));
    settle().await;
    assert_eq!(text(&find(&root, "[data-pickup-code]")), "7K3M-9Q01-YZ0Z");
    assert!(text(&find(&root, "[data-parked]")).contains("for 5 minutes"));
    // Parked to consult: the page offers the consult call and the way back, no code.
    parked.set(Some(ParkedView { consult: true, ..view }));
    settle().await;
    assert!(root.query_selector("[data-pickup-code]").unwrap().is_none());
    find(&root, "[data-consult] [data-action=consult-call]");
    find(&root, "[data-consult] [data-action=return-to-held]");
}
