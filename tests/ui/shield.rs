//! The shield in headless Chromium: what it shows in each state, and the security code it opens
//! (by click, Enter or Space; Escape and Close close it).

use leptos::prelude::*;
use shieldcall::components::{COMPARE_TEXT, MISMATCH_TEXT, Shield};
use shieldcall_call::texts::{shield_label, shield_text};
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::TranscriptHash;
use shieldcall_e2ee::session::{ShieldState, UnlockedReason, WarningReason};
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

use crate::common::{
    all, attr, computed, container, find, is_focused, load_styles, press, settle, text,
};

/// SHA-256("shieldcall/v1/code" || 32 zero bytes) as a code: see the e2ee crate's known answer.
fn code() -> SecurityCode {
    SecurityCode::from_transcript(&TranscriptHash([0; 32]))
}

fn locked() -> ShieldState {
    ShieldState::Locked { code: code() }
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
