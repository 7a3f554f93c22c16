//! The shield in headless Chromium: what it shows in each state, and the security code it opens
//! (by click, Enter or Space; Escape and Close close it).

use leptos::prelude::*;
use shieldcall::components::{COMPARE_TEXT, MISMATCH_TEXT, Shield, VERIFIED_TEXT};
use shieldcall_call::e2ee_health::E2eeHealth;
use shieldcall_call::texts::{shield_label, shield_text};
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::TranscriptHash;
use shieldcall_e2ee::session::{ShieldState, UnlockedReason, WarningReason};
use shieldcall_protocol::{Direction, SecretBytes, Slot, TransformStats, WorkerCommand};
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

use crate::common::{
    Bounds, all, attr, computed, container, eventually, find, is_focused, load_styles, press,
    settle, text,
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
        let alert = find(&root, "[role=alert]");
        if matches!(shown, ShieldState::Warning { .. }) {
            assert_eq!(text(&alert), label, "a red shield is announced at once");
            assert_eq!(text(&status), "", "and not twice");
        } else {
            assert_eq!(text(&status), label, "the status region announces the label");
            assert_eq!(text(&alert), "", "{shown:?}");
        }
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
    assert!(is_focused(&find(&root, "[data-action=copy-code]")), "focus moved in");

    press(&find(&root, "[data-action=copy-code]"), "Escape");
    settle().await;
    assert!(root.query_selector("[data-security-code]").unwrap().is_none(), "Escape closes");
    assert!(is_focused(&shield), "focus went back to the shield");
    assert_eq!(attr(&shield, "aria-expanded").as_deref(), Some("false"));

    // Tab and Shift+Tab stay inside the dialog: from Close to Copy, and back.
    shield.click();
    settle().await;
    let (copy, close) =
        (find(&root, "[data-action=copy-code]"), find(&root, "[data-action=close-security-code]"));
    close.focus().unwrap();
    press(&close, "Tab");
    assert!(is_focused(&copy), "Tab from the last control goes to the first");
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Tab");
    init.set_shift_key(true);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let back = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    copy.dispatch_event(&back).unwrap();
    assert!(is_focused(&close), "Shift+Tab from the first goes to the last");
    press(&close, "Escape");
    settle().await;

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

/// The tops of the four groups of the code, as laid out.
fn group_tops(root: &HtmlElement) -> Vec<i32> {
    all(root, ".code-group").iter().map(|g| Bounds::of(g).top as i32).collect()
}

#[wasm_bindgen_test]
async fn the_code_is_one_line_of_four_groups_when_wide_and_two_by_two_when_narrow() {
    load_styles();
    let narrow = RwSignal::new(false);
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! { <Shield state=locked() narrow /> }
    });
    settle().await;
    find(&root, "[data-shield]").click();
    settle().await;
    let code = find(&root, "[data-security-code]");
    assert_eq!(text(&code), "80155 31306 22086 40273", "copies and reads as four groups");
    assert!(
        computed(&code, "font-family").contains("monospace"),
        "{}",
        computed(&code, "font-family")
    );
    let tops = group_tops(&root);
    assert_eq!(tops.len(), 4);
    assert!(tops.iter().all(|t| *t == tops[0]), "one line: {tops:?}");
    let lefts: Vec<f64> = all(&root, ".code-group").iter().map(|g| Bounds::of(g).left).collect();
    let rights: Vec<f64> = all(&root, ".code-group").iter().map(|g| Bounds::of(g).right).collect();
    for n in 1..4 {
        assert!(lefts[n] - rights[n - 1] >= 10.0, "groups stand apart: {lefts:?} {rights:?}");
    }

    narrow.set(true);
    settle().await;
    let tops = group_tops(&root);
    assert_eq!(tops[0], tops[1], "{tops:?}");
    assert_eq!(tops[2], tops[3], "{tops:?}");
    assert!(tops[2] > tops[0], "two lines of two: {tops:?}");
    assert_eq!(attr(&code, "data-layout").as_deref(), Some("two-by-two"));
}

#[wasm_bindgen_test]
async fn copy_puts_the_code_on_the_clipboard_and_we_compared_it_marks_the_call_verified() {
    load_styles();
    let state = RwSignal::new(locked());
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || view! { <Shield state /> });
    settle().await;
    let shield = find(&root, "[data-shield]");
    assert!(attr(&shield, "data-verified").is_none());
    shield.click();
    settle().await;
    find(&root, "[data-action=copy-code]").click();
    let status = find(&root, "[data-copy-status]");
    assert!(eventually(3000, || !text(&status).is_empty()).await, "the copy says how it went");
    // The test page may not be allowed the clipboard; when it is, it holds the code.
    if text(&status) == "Copied." {
        let read = window().navigator().clipboard().read_text();
        let copied = wasm_bindgen_futures::JsFuture::from(read).await;
        if let Ok(copied) = copied {
            assert_eq!(copied.as_string().unwrap(), "80155 31306 22086 40273");
        }
    } else {
        assert!(text(&status).contains("select the digits"), "{}", text(&status));
    }

    let mark = find(&root, "[data-verified]:not(button)");
    assert!(mark.hidden(), "not verified before the two compared");
    find(&root, "[data-action=verify]").click();
    // The pressed button goes away: the focus is at once (an Escape pressed right after must
    // still close the dialog) on what says it worked, inside the dialog.
    assert!(is_focused(&find(&root, "p[data-verified]")), "the focus stays in the panel");
    settle().await;
    let mark = find(&root, "p[data-verified]");
    assert!(!mark.hidden());
    assert!(text(&mark).contains(VERIFIED_TEXT));
    assert!(find(&root, "[data-action=verify]").hidden(), "nothing left to compare");
    assert!(is_focused(&find(&root, "p[data-verified]")), "and stays on the verified line");
    assert_eq!(attr(&shield, "data-verified").as_deref(), Some("true"), "the shield shows it");
    assert!(attr(&shield, "aria-label").unwrap().contains("You compared the security code"));

    // Closed and opened again, it is still verified (this call); a new code is not.
    press(&find(&root, "[role=dialog]"), "Escape");
    settle().await;
    shield.click();
    settle().await;
    assert!(!find(&root, "p[data-verified]").hidden());
    press(&find(&root, "[role=dialog]"), "Escape");
    state
        .set(ShieldState::Locked { code: SecurityCode::from_transcript(&TranscriptHash([1; 32])) });
    settle().await;
    assert!(attr(&shield, "data-verified").is_none(), "a new code must be compared again");
}

#[wasm_bindgen_test]
async fn the_panel_shows_the_encryption_health_and_its_counters_move() {
    load_styles();
    let health = RwSignal::new(E2eeHealth::default());
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! { <Shield state=locked() health=Some(Signal::from(health)) /> }
    });
    settle().await;
    find(&root, "[data-shield]").click();
    settle().await;
    let section = find(&root, "details[data-health]");
    find(&section, "summary").click();
    settle().await;
    assert!(section.has_attribute("open"));
    assert!(text(&find(&root, "[data-health-keys]")).starts_with("No keys yet"));

    // The worker's reports, as the call feeds them in.
    let report = |processed: u64, webcrypto: u64, bad_tag: u64| {
        health.update(|h| {
            h.command(&WorkerCommand::UseKeys {
                suite: 4,
                epoch: 0,
                send: SecretBytes::new(vec![0; 16]),
                receive: SecretBytes::new(vec![0; 16]),
            });
            h.observe(&TransformStats {
                processed,
                webcrypto,
                dropped_bad_tag: bad_tag,
                key_frame_requests: 1,
                ..TransformStats::new(Slot::Camera, Direction::Receive)
            });
            h.observe(&TransformStats {
                processed: processed * 2,
                ..TransformStats::new(Slot::MicAudio, Direction::Send)
            });
        })
    };
    report(10, 9, 0);
    settle().await;
    let count = |track: &str, what: &str| {
        text(&find(&root, &format!("[data-track={track}] [data-count={what}]")))
    };
    assert_eq!(text(&find(&root, "[data-health-keys]")), "End-to-end keys, epoch 0.");
    assert_eq!(count("video-receive", "frames"), "10");
    assert_eq!(count("video-receive", "webcrypto"), "9");
    assert_eq!(count("video-receive", "auth-failures"), "0");
    assert_eq!(count("video-receive", "key-frame-requests"), "1");
    assert_eq!(count("audio-send", "frames"), "20");
    let rows: Vec<String> = all(&root, "[data-track] th").iter().map(text).collect();
    assert_eq!(rows, ["Audio sent", "Video received"]);

    report(40, 38, 2);
    settle().await;
    assert_eq!(count("video-receive", "frames"), "40", "the counters move");
    assert_eq!(count("video-receive", "auth-failures"), "2");
    assert!(text(&find(&root, "[data-health-summary]")).contains("key problem"));
}

#[wasm_bindgen_test]
async fn a_red_shield_opens_the_encryption_counters_alone_and_escape_closes_them() {
    load_styles();
    let health = RwSignal::new(E2eeHealth::default());
    health.update(|h| {
        h.observe(&TransformStats {
            processed: 3,
            dropped_bad_tag: 41,
            ..TransformStats::new(Slot::Camera, Direction::Receive)
        })
    });
    let state = RwSignal::new(ShieldState::Warning { reason: WarningReason::DecryptFailures });
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! { <Shield state health=Some(Signal::from(health)) /> }
    });
    settle().await;
    let shield = find(&root, "[data-shield]");
    assert_eq!(attr(&shield, "aria-disabled"), None, "a red shield with counters opens");
    assert_eq!(attr(&shield, "aria-haspopup").as_deref(), Some("dialog"));
    shield.click();
    settle().await;
    let panel = find(&root, "[data-health-panel]");
    assert!(root.query_selector("[data-security-code]").unwrap().is_none(), "no code to compare");
    assert!(find(&panel, "details[data-health]").has_attribute("open"), "the counters, open");
    let failures = find(&root, "[data-track=video-receive] [data-count=auth-failures]");
    assert_eq!(text(&failures), "41");
    assert!(is_focused(&find(&panel, "[data-action=close-health]")));
    press(&panel, "Escape");
    settle().await;
    assert!(root.query_selector("[data-health-panel]").unwrap().is_none());
    assert!(is_focused(&shield), "the focus is back on the shield");

    // Open, and the call locks again: the counters' panel goes, the code's does not open itself.
    shield.click();
    settle().await;
    assert!(root.query_selector("[data-health-panel]").unwrap().is_some());
    state.set(locked());
    settle().await;
    assert!(root.query_selector("[data-health-panel]").unwrap().is_none());
    assert!(root.query_selector("[data-security-code]").unwrap().is_none());

    // Without counters a red shield opens nothing, as before.
    let bare = container();
    let _bare = leptos::mount::mount_to(bare.clone(), move || {
        view! { <Shield state=ShieldState::Warning { reason: WarningReason::DecryptFailures } /> }
    });
    settle().await;
    let shield = find(&bare, "[data-shield]");
    shield.click();
    settle().await;
    assert!(bare.query_selector("[data-health-panel]").unwrap().is_none());
    assert_eq!(attr(&shield, "aria-disabled").as_deref(), Some("true"));
}
