//! What the call screen says, as pure text: the shield's words in each state (its hook, title,
//! detail and accessible label), why the features that copy the call out are off, and the size
//! of a recording. The components in the app show
//! these; the words are decided, and tested, here.

use shieldcall_e2ee::session::{ShieldState, UnlockedReason, WarningReason};
use shieldcall_protocol::RelayFeature;

/// What the shield says in one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShieldText {
    /// The `data-shield` value: `connecting`, `locked`, `unlocked` or `warning`.
    pub hook: &'static str,
    /// The short visible title.
    pub title: &'static str,
    /// The visible line under the title: the reason, or what is wrong and what to do.
    pub detail: &'static str,
    /// What the state means for the two people, for the accessible label.
    pub label: &'static str,
}

/// Why the call is not end-to-end encrypted, as the shield says it.
pub fn unlocked_reason_text(reason: UnlockedReason) -> &'static str {
    match reason {
        UnlockedReason::YouTurnedOff => "You turned off end-to-end encryption",
        UnlockedReason::PeerTurnedOff => "The other person has end-to-end encryption off",
        UnlockedReason::OrganisationDisabled => {
            "Your organisation has turned off end-to-end encryption"
        }
        UnlockedReason::MovedHere => {
            "This call was moved here from another device, without end-to-end encryption"
        }
    }
}

/// What is wrong, and what to do, for each warning.
pub fn warning_text(reason: WarningReason) -> &'static str {
    match reason {
        WarningReason::CommitmentMismatch => {
            "The other person's key does not match the call link: someone may be intercepting the \
             call. Hang up and ask for a new link."
        }
        WarningReason::DecryptFailures => {
            "The other person's audio and video cannot be decrypted. Hang up and call again."
        }
        WarningReason::InvalidPeerKey => {
            "An invalid key arrived in the other person's name: their app is faulty, or someone \
             is interfering with the call. Hang up and call again."
        }
        WarningReason::PeerKeyChanged => {
            "The other person's key or settings changed during the call: someone may be intercepting \
             it. Hang up and call again with a new link."
        }
        WarningReason::VersionMismatch => {
            "The other person uses another version of Shieldcall. Both of you: reload the page, \
             then call again."
        }
        WarningReason::RepeatedKeys => {
            "The new connection would reuse earlier keys, so it was stopped. Hang up and call \
             again."
        }
        WarningReason::ConfirmationMismatch => {
            "What the other person's app received differs from what yours sent, or the other way \
             round: someone may be intercepting the call. Hang up and ask for a new link."
        }
        WarningReason::BadFingerprint => {
            "The connection's fingerprint is missing or changed: someone may be intercepting the \
             call. Hang up and call again."
        }
        WarningReason::ExtraFingerprint => {
            "The connection named a second certificate on its way to you: someone may be trying to \
             intercept the call, so it was stopped. Hang up and call again with a new link."
        }
        WarningReason::CertificateMismatch => {
            "Your browser is connected to another certificate than the other person's: someone may \
             be intercepting the call. Hang up and call again with a new link."
        }
        WarningReason::ConfirmationTimeout => {
            "The keys could not be confirmed with the other person: someone may be holding back \
             messages, or the connection dropped. Hang up and call again if the lock does not \
             come back."
        }
    }
}

/// The words of the shield in `state`.
pub fn shield_text(state: &ShieldState) -> ShieldText {
    match state {
        ShieldState::Connecting => ShieldText {
            hook: "connecting",
            title: "Connecting…",
            detail: "Checking the call's encryption.",
            label: "Connecting: checking the call's encryption",
        },
        ShieldState::Locked { .. } => ShieldText {
            hook: "locked",
            title: "End-to-end encrypted",
            detail: "Only the two of you can hear and see this call.",
            label: "End-to-end encrypted: only the two of you can hear and see this call",
        },
        ShieldState::Unlocked { reason } => ShieldText {
            hook: "unlocked",
            title: "Not end-to-end encrypted",
            detail: unlocked_reason_text(*reason),
            label: "Not end-to-end encrypted, protected by transport encryption only",
        },
        ShieldState::Warning { reason } => ShieldText {
            hook: "warning",
            title: "Security problem",
            detail: warning_text(*reason),
            label: "Security problem",
        },
    }
}

/// The full accessible label: the meaning, the reason or what to do, and for the lock what the
/// button does.
pub fn shield_label(state: &ShieldState) -> String {
    let text = shield_text(state);
    match state {
        ShieldState::Connecting => text.label.to_string(),
        ShieldState::Locked { .. } => format!("{}. Show the security code.", text.label),
        ShieldState::Unlocked { .. } => format!("{}. {}.", text.label, text.detail),
        ShieldState::Warning { .. } => format!("{}: {}", text.label, text.detail),
    }
}

/// Why a feature that copies the call out of the two devices is off in an end-to-end
/// encrypted call.
pub const E2EE_REASON: &str = "Not available in end-to-end encrypted calls";
/// Why it is off while the call is being set up (it may yet be end-to-end encrypted).
pub const CONNECTING_REASON: &str = "Available once the call is connected";
/// Why it is off while the shield is red.
pub const WARNING_REASON: &str = "Not available while the call shows a security warning";
/// Why it is off once the call is over.
pub const ENDED_REASON: &str = "Not available: the call has ended";

/// Why the features that copy the call out of the two devices (recording, live captions, adding
/// someone, merging, parking, transferring) are off now, if they are: only a call going on
/// and known to be transport-only has them.
pub fn copy_out_unavailable(shield: &ShieldState, ended: bool) -> Option<&'static str> {
    match shield {
        _ if ended => Some(ENDED_REASON),
        ShieldState::Unlocked { .. } => None,
        ShieldState::Locked { .. } => Some(E2EE_REASON),
        ShieldState::Connecting => Some(CONNECTING_REASON),
        ShieldState::Warning { .. } => Some(WARNING_REASON),
    }
}

/// Why adding someone (or merging) is off on a relay without groups (a relay cluster).
pub const GROUP_NOT_ON_RELAY: &str = "Not available on this call's relay: it has no group calls";
/// Why parking (or consulting) is off on a relay that parks no call (a cluster without a
/// shared secret).
pub const PARK_NOT_ON_RELAY: &str = "Not available on this call's relay: it parks no calls";

/// Why `feature` is off on a relay that `lacks` what it needs, if it is.
pub fn lacked_by_relay(feature: RelayFeature, lacks: &[RelayFeature]) -> Option<&'static str> {
    lacks.contains(&feature).then_some(match feature {
        RelayFeature::Group => GROUP_NOT_ON_RELAY,
        RelayFeature::Park => PARK_NOT_ON_RELAY,
    })
}

/// What the menu's `item` (its `data-feature`) needs of the relay, if anything. In the consult
/// call the consult item hands the held call over, which parks nothing.
pub fn menu_item_needs(item: &str, consulting: bool) -> Option<RelayFeature> {
    match item {
        "add-participant" | "merge" => Some(RelayFeature::Group),
        "park" => Some(RelayFeature::Park),
        "consult-transfer" if !consulting => Some(RelayFeature::Park),
        _ => None,
    }
}

/// The notice of a chat message that arrived while the chat was closed (it goes when the
/// chat opens).
pub const NEW_CHAT_MESSAGE: &str = "New message in the chat: open the chat to read it.";

/// How many notices the call screen keeps: older ones go.
pub const NOTICES_KEPT: usize = 6;

/// Add `text` to the call's notices, newest last: said again, it moves to the end (pressing
/// a dead camera's button ten times is one notice), and only the newest [`NOTICES_KEPT`] stay.
pub fn add_notice(notices: &mut Vec<String>, text: String) {
    notices.retain(|n| *n != text);
    notices.push(text);
    if notices.len() > NOTICES_KEPT {
        notices.drain(..notices.len() - NOTICES_KEPT);
    }
}

/// The call timer: `04:05`, then `1:02:03` from an hour on.
pub fn call_duration(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m:02}:{s:02}") }
}

/// The call timer in words, for its accessible label: "3 minutes 5 seconds".
pub fn call_duration_words(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let unit = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(unit(h, "hour"));
    }
    if h > 0 || m > 0 {
        parts.push(unit(m, "minute"));
    }
    parts.push(unit(s, "second"));
    parts.join(" ")
}

/// A recording's size for its download link: `12 KB` (rounded up), `3.4 MB` from a million bytes
/// on.
pub fn file_size(bytes: f64) -> String {
    if bytes >= 1_000_000.0 {
        format!("{} MB", decimal(bytes / 1_000_000.0, 1))
    } else {
        format!("{} KB", (bytes / 1000.0).ceil() as u64)
    }
}

/// `value` with `places` decimals (0 to 3), rounded half away from zero: `decimal(0.456, 2)` is
/// "0.46". (Beyond what a `u64` holds, about 1.8e19 / 10^places, it clamps; NaN is 0.) The page's few decimals are written with integers, so that its wasm carries none of
/// the standard library's float formatting (about 4 KB of code and its tables).
pub fn decimal(value: f64, places: u32) -> String {
    let scale = 10u64.pow(places.min(3));
    // `as` saturates (and takes NaN to 0): no value can overflow here.
    let scaled = (value.abs() * scale as f64).round() as u64;
    let sign = if value < 0.0 && scaled != 0 { "-" } else { "" };
    let (whole, fraction) = (scaled / scale, scaled % scale);
    match places.min(3) {
        0 => format!("{sign}{whole}"),
        width => format!("{sign}{whole}.{fraction:0width$}", width = width as usize),
    }
}

#[cfg(test)]
mod tests {
    use shieldcall_e2ee::code::SecurityCode;
    use shieldcall_e2ee::keys::TranscriptHash;

    use super::*;

    #[test]
    fn a_notice_said_again_moves_to_the_end_and_only_the_newest_stay() {
        let mut notices = Vec::new();
        for text in ["a", "b", "a", "a"] {
            add_notice(&mut notices, text.into());
        }
        assert_eq!(notices, ["b", "a"]);
        for n in 0..10 {
            add_notice(&mut notices, n.to_string());
        }
        assert_eq!(notices, ["4", "5", "6", "7", "8", "9"]);
    }

    #[test]
    fn the_menu_says_which_items_a_relay_without_groups_or_parks_turns_off() {
        use RelayFeature::{Group, Park};
        let items = ["add-participant", "merge", "park", "consult-transfer", "transfer"];
        let off = |lacks: &[RelayFeature], consulting| -> Vec<Option<&str>> {
            let needs = |item| menu_item_needs(item, consulting);
            items.iter().map(|item| needs(item).and_then(|f| lacked_by_relay(f, lacks))).collect()
        };
        let (g, p) = (Some(GROUP_NOT_ON_RELAY), Some(PARK_NOT_ON_RELAY));
        assert_eq!(off(&[], false), [None; 5]);
        assert_eq!(off(&[Group], false), [g, g, None, None, None]);
        assert_eq!(off(&[Group, Park], false), [g, g, p, p, None]);
        // In the consult call, handing the held call over parks nothing.
        assert_eq!(off(&[Park], true), [None, None, p, None, None]);
    }

    /// Every warning; `every_warning_is_listed` fails to compile when one is added and not here.
    const WARNINGS: [WarningReason; 11] = [
        WarningReason::CommitmentMismatch,
        WarningReason::DecryptFailures,
        WarningReason::InvalidPeerKey,
        WarningReason::PeerKeyChanged,
        WarningReason::VersionMismatch,
        WarningReason::BadFingerprint,
        WarningReason::ExtraFingerprint,
        WarningReason::CertificateMismatch,
        WarningReason::ConfirmationTimeout,
        WarningReason::RepeatedKeys,
        WarningReason::ConfirmationMismatch,
    ];

    #[test]
    fn every_warning_is_listed() {
        for reason in WARNINGS {
            // No wildcard: a new reason is a compile error here until it is listed above.
            let n = match reason {
                WarningReason::CommitmentMismatch => 0,
                WarningReason::DecryptFailures => 1,
                WarningReason::InvalidPeerKey => 2,
                WarningReason::PeerKeyChanged => 3,
                WarningReason::VersionMismatch => 4,
                WarningReason::BadFingerprint => 5,
                WarningReason::ExtraFingerprint => 6,
                WarningReason::CertificateMismatch => 7,
                WarningReason::ConfirmationTimeout => 8,
                WarningReason::RepeatedKeys => 9,
                WarningReason::ConfirmationMismatch => 10,
            };
            assert_eq!(WARNINGS[n], reason);
        }
    }

    fn locked() -> ShieldState {
        ShieldState::Locked { code: SecurityCode::from_transcript(&TranscriptHash([0; 32])) }
    }

    #[test]
    fn each_state_has_its_hook_and_title() {
        let hooks = [
            (ShieldState::Connecting, "connecting", "Connecting…"),
            (locked(), "locked", "End-to-end encrypted"),
            (
                ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff },
                "unlocked",
                "Not end-to-end encrypted",
            ),
            (
                ShieldState::Warning { reason: WarningReason::PeerKeyChanged },
                "warning",
                "Security problem",
            ),
        ];
        for (state, hook, title) in hooks {
            let text = shield_text(&state);
            assert_eq!((text.hook, text.title), (hook, title), "{state:?}");
        }
    }

    #[test]
    fn connecting_and_locked_say_what_they_mean_and_the_lock_offers_the_code() {
        assert_eq!(
            shield_label(&ShieldState::Connecting),
            "Connecting: checking the call's encryption"
        );
        assert_eq!(shield_text(&ShieldState::Connecting).detail, "Checking the call's encryption.");
        assert_eq!(
            shield_label(&locked()),
            "End-to-end encrypted: only the two of you can hear and see this call. Show the \
             security code."
        );
        assert_eq!(
            shield_text(&locked()).detail,
            "Only the two of you can hear and see this call."
        );
    }

    #[test]
    fn each_unlocked_reason_says_who_turned_encryption_off() {
        for (reason, words) in [
            (UnlockedReason::YouTurnedOff, "You turned off end-to-end encryption"),
            (UnlockedReason::PeerTurnedOff, "The other person has end-to-end encryption off"),
            (
                UnlockedReason::OrganisationDisabled,
                "Your organisation has turned off end-to-end encryption",
            ),
            (
                UnlockedReason::MovedHere,
                "This call was moved here from another device, without end-to-end encryption",
            ),
        ] {
            let state = ShieldState::Unlocked { reason };
            assert_eq!(unlocked_reason_text(reason), words);
            assert_eq!(shield_text(&state).detail, words, "the visible reason");
            assert_eq!(
                shield_label(&state),
                format!(
                    "Not end-to-end encrypted, protected by transport encryption only. {words}."
                )
            );
        }
    }

    #[test]
    fn every_warning_says_what_to_do_in_its_own_words() {
        let mut seen = Vec::new();
        for reason in WARNINGS {
            let state = ShieldState::Warning { reason };
            let detail = warning_text(reason);
            assert_eq!(shield_text(&state).detail, detail);
            assert!(
                detail.contains("Hang up") || detail.contains("reload the page"),
                "{reason:?} says what to do: {detail}"
            );
            assert!(detail.ends_with('.'), "{reason:?}: {detail}");
            assert_eq!(shield_label(&state), format!("Security problem: {detail}"));
            assert!(!seen.contains(&detail), "{reason:?} has words of its own");
            seen.push(detail);
        }
    }

    #[test]
    fn warnings_that_may_be_an_attack_say_so_and_ask_for_a_new_link_where_the_link_is_spent() {
        for reason in [
            WarningReason::CommitmentMismatch,
            WarningReason::PeerKeyChanged,
            WarningReason::ConfirmationMismatch,
            WarningReason::BadFingerprint,
            WarningReason::ExtraFingerprint,
            WarningReason::CertificateMismatch,
        ] {
            assert!(warning_text(reason).contains("intercept"), "{reason:?}");
        }
        for reason in [WarningReason::CommitmentMismatch, WarningReason::ConfirmationMismatch] {
            assert!(warning_text(reason).contains("new link"), "{reason:?}");
        }
        assert!(warning_text(WarningReason::VersionMismatch).contains("Both of you"));
    }

    #[test]
    fn the_call_timer_shows_minutes_and_seconds_then_hours() {
        assert_eq!(call_duration(0), "00:00");
        assert_eq!(call_duration(65_999), "01:05");
        assert_eq!(call_duration(3_723_000), "1:02:03");
        assert_eq!(call_duration_words(1_000), "1 second");
        assert_eq!(call_duration_words(185_000), "3 minutes 5 seconds");
        assert_eq!(call_duration_words(3_601_000), "1 hour 0 minutes 1 second");
    }

    #[test]
    fn a_recording_size_is_in_kilobytes_rounded_up_then_megabytes() {
        assert_eq!(file_size(0.0), "0 KB");
        assert_eq!(file_size(1.0), "1 KB");
        assert_eq!(file_size(12_000.0), "12 KB");
        assert_eq!(file_size(12_001.0), "13 KB");
        assert_eq!(file_size(999_999.0), "1000 KB");
        assert_eq!(file_size(1_000_000.0), "1.0 MB");
        assert_eq!(file_size(3_449_999.0), "3.4 MB");
    }

    #[test]
    fn decimals_are_rounded_half_away_from_zero() {
        assert_eq!(decimal(0.456, 2), "0.46");
        assert_eq!(decimal(0.0, 2), "0.00");
        assert_eq!(decimal(1.0, 2), "1.00");
        assert_eq!(decimal(0.999, 2), "1.00");
        assert_eq!(decimal(12.25, 1), "12.3");
        assert_eq!(decimal(-3.04, 1), "-3.0");
        assert_eq!(decimal(-0.04, 1), "0.0", "no minus sign on a zero");
        assert_eq!(decimal(-2.6, 0), "-3");
        assert_eq!(decimal(7.0, 0), "7");
        assert_eq!(decimal(f64::NAN, 1), "0.0");
        assert_eq!(decimal(1.23456, 9), "1.235", "at most 3 places");
        // Within one unit of the last place of the standard library's exact rounding (9.95 is
        // 9.9499... in binary: it writes 9.9, this 10.0).
        for (value, places) in [(0.4, 1), (123.456, 2), (9.95, 1), (0.5, 0), (1e6 + 0.25, 1)] {
            let standard = format!("{value:.places$}", places = places as usize);
            let ours = decimal(value, places);
            let close = (standard.parse::<f64>().unwrap() - ours.parse::<f64>().unwrap()).abs();
            assert!(close <= 10f64.powi(-(places as i32)) + 1e-9, "{value}: {ours} vs {standard}");
        }
    }

    #[test]
    fn only_a_call_going_on_without_e2ee_can_be_copied_out_and_each_other_state_says_why() {
        let unlocked = ShieldState::Unlocked { reason: UnlockedReason::YouTurnedOff };
        assert_eq!(copy_out_unavailable(&unlocked, false), None);
        assert_eq!(copy_out_unavailable(&unlocked, true), Some(ENDED_REASON));
        let code = SecurityCode::from_transcript(&TranscriptHash([7; 32]));
        assert_eq!(copy_out_unavailable(&ShieldState::Locked { code }, false), Some(E2EE_REASON));
        assert_eq!(copy_out_unavailable(&ShieldState::Connecting, false), Some(CONNECTING_REASON));
        for reason in WARNINGS {
            let red = ShieldState::Warning { reason };
            assert_eq!(copy_out_unavailable(&red, false), Some(WARNING_REASON), "{reason:?}");
        }
    }
}
