//! The app in headless Chromium: it mounts, the settings persist, "New call" makes a link.

#![cfg(target_arch = "wasm32")]

mod common;

use common::{EmptyStorage, Hidden, container, find, settle};
use leptos::prelude::*;
use shieldcall_e2ee::link::{CallLink, Commitment, LinkSecret};
use shieldcall_protocol::CallId;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlInputElement;

wasm_bindgen_test_configure!(run_in_browser);

fn go_to(path: &str) {
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
}

#[wasm_bindgen_test]
async fn the_app_mounts_on_the_home_page() {
    go_to("/");
    let root = container();
    let _app = leptos::mount::mount_to(root.clone(), shieldcall::App);
    settle().await;
    assert_eq!(find(&root, ".brand").text_content().unwrap(), "Shieldcall");
    assert_eq!(find(&root, "[data-action=new-call]").text_content().unwrap(), "New call");
}

#[wasm_bindgen_test]
async fn the_e2ee_setting_survives_a_remount() {
    go_to("/settings");
    let _storage = EmptyStorage::new();

    let root = container();
    let app = leptos::mount::mount_to(root.clone(), shieldcall::App);
    settle().await;
    let toggle: HtmlInputElement = find(&root, "input[data-setting=e2ee]").unchecked_into();
    assert!(toggle.checked(), "end-to-end encryption is on until the user turns it off");
    toggle.click();
    settle().await;
    assert!(!toggle.checked());
    drop(app);
    assert!(root.query_selector("input[data-setting=e2ee]").unwrap().is_none(), "unmounted");

    let _app = leptos::mount::mount_to(root.clone(), shieldcall::App);
    settle().await;
    let toggle: HtmlInputElement = find(&root, "input[data-setting=e2ee]").unchecked_into();
    assert!(!toggle.checked(), "the setting was kept across the remount");
    toggle.click();
    settle().await;
    assert!(toggle.checked());
}

#[wasm_bindgen_test]
async fn new_call_makes_a_link_of_the_protocol_form() {
    go_to("/");
    let root = container();
    let _app = leptos::mount::mount_to(root.clone(), shieldcall::App);
    settle().await;
    assert!(root.query_selector("[data-call-link]").unwrap().is_none());
    find(&root, "[data-action=new-call]").click();
    settle().await;

    let link = find(&root, "[data-call-link]").text_content().unwrap();
    let origin = window().location().origin().unwrap();
    let rest = link.strip_prefix(&format!("{origin}/call/")).expect("link on this origin");
    let (id, fragment) = rest.split_once('#').expect("link has a fragment");
    assert_eq!(id.len(), 22);
    CallId::parse(id).expect("a valid call id");
    let (commitment, secret) = fragment.split_once('&').expect("two parts: k= and s=");
    let commitment = commitment.strip_prefix("k=").expect("fragment carries the key commitment");
    assert_eq!(commitment.len(), 22, "16 bytes of SHA-256, base64url");
    Commitment::parse(commitment).expect("a valid commitment");
    let secret = secret.strip_prefix("s=").expect("fragment carries the link secret");
    LinkSecret::parse(secret).expect("16 bytes, base64url");
    CallLink::parse(&link).expect("the link reads back");

    // A second call gets a different link.
    find(&root, "[data-action=new-call]").click();
    settle().await;
    assert_ne!(find(&root, "[data-call-link]").text_content().unwrap(), link);
}

#[wasm_bindgen_test]
async fn a_browser_without_encoded_transforms_is_told_before_the_call() {
    use shieldcall::browser::worker::browser_features;
    use shieldcall_call::support::Gap;
    assert_eq!(browser_features().e2ee_gap(), None, "this Chromium can");
    let _storage = EmptyStorage::new(); // E2EE on, as by default
    let zeros = "AAAAAAAAAAAAAAAAAAAAAA"; // 16 zero bytes, base64url
    let link = format!("/call/{zeros}#k={zeros}&s={zeros}");
    {
        let _hidden = Hidden::hide(&[
            ("globalThis", None, "RTCRtpScriptTransform"),
            ("RTCRtpSender", Some("prototype"), "createEncodedStreams"),
        ]);
        assert_eq!(browser_features().e2ee_gap(), Some(Gap::NoEncodedTransforms));
        go_to(&link);
        let root = container();
        let _app = leptos::mount::mount_to(root.clone(), shieldcall::App);
        let told = common::eventually(3000, || {
            root.query_selector("[data-call-error=browser]").unwrap().is_some()
        })
        .await;
        assert!(told, "the browser's gap is said instead of a call");
        let text = find(&root, "[data-call-error=browser]").text_content().unwrap();
        assert!(text.contains("no encoded transforms"), "{text}");
        assert!(root.query_selector("[data-shield]").unwrap().is_none(), "no call started");
    }
    assert_eq!(browser_features().e2ee_gap(), None, "the guard put them back");
}

/// A park's deposit sealed with the page's WebCrypto is, byte for byte, the one the call's
/// host tests seal with the `aes-gcm` crate (crates/call/src/pickup.rs, `DEPOSIT_VECTOR`), and
/// the code opens it into the pickup link's part again; a typo or one altered byte opens
/// nothing.
#[wasm_bindgen_test]
async fn a_deposit_seals_and_opens_with_webcrypto() {
    use shieldcall::browser::deposit;
    use shieldcall_call::pickup::{DepositSeal, PickupCode, PickupError, SealedDeposit};
    const REST: &str = "s=ICEiIyQlJicoKSorLC0uLw&r=host";
    let seal = DepositSeal::new("ABCDEF", [7; 12], REST);
    let sealed = deposit::seal(&seal).await.expect("WebCrypto seals");
    assert_eq!(
        sealed,
        "BwcHBwcHBwcHBwcHt-qfEXVbGZ8Nr0btpvLj47Bod2oZwpivijCNIH8g8kjtOZ3_tSkr-55R57j2ZEc"
    );
    let code = PickupCode::new("123456", "ABCDEF").unwrap();
    let mut read = SealedDeposit::parse(&sealed).unwrap();
    let opened = deposit::open(&code.deposit_key(), &read).await.expect("the code opens it");
    assert_eq!(&opened[..], REST.as_bytes());
    let typo = PickupCode::new("123456", "ABCDEG").unwrap();
    let refused = deposit::open(&typo.deposit_key(), &read).await.map(|_| ());
    assert_eq!(refused, Err(PickupError::WrongCode));
    read.sealed[0] ^= 1;
    let refused = deposit::open(&code.deposit_key(), &read).await.map(|_| ());
    assert_eq!(refused, Err(PickupError::WrongCode));
}
