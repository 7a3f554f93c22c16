//! TEST-ONLY man-in-the-middle modes, compiled only with the `mitm` feature and offered only
//! by the `shieldcall-relay-mitm` binary; the shipped `shieldcall-relay` has none of them.
//!
//! A real relay never does this: it forwards every message verbatim and never looks inside.
//! These modes exist so that end-to-end tests can prove the app notices a relay that attacks
//! the signalling: one that swaps the ephemeral keys (the guest's link commitment, both key
//! confirmations and the two security codes must then mismatch); one that tells the host the
//! guest has E2EE off, to get its media under DTLS only (a downgrade: both key confirmations
//! must then mismatch); one that adds a DTLS fingerprint of its own to every offer and answer
//! (what a relay that wants to terminate DTLS itself would do); and one that drops every key
//! confirmation (the shield must end in a warning, not wait forever); and one that puts a
//! certificate of its own in every answer, after the guest confirmed its real one (PROTOCOL.md
//! change 52: the host must refuse the answer and both end red); and one that, a while after
//! each key confirmation, says in the confirming side's name that it hung up (change 55: a
//! confirmed call must go on); and one that drops every hang-up (change 57: a locked call
//! still learns of it, on the media connection); and one that, a while after each side's
//! first key confirmation, sends everything that side said until then again, in order (each
//! copy must change nothing, the offer the connection answers among them: PROTOCOL.md change
//! 59); and one that holds every offer and answer back a while, so that what the same
//! side sends next overtakes it (the call must still lock); and one that, after each key
//! confirmation, sends its receiver malformed messages (the call must go on).

use shieldcall_protocol::{Confirm, Hello, Signal};

use crate::config::{Command, Config, USAGE};

/// The flags of `shieldcall-relay-mitm`, added to the relay's own.
pub const MITM_USAGE: &str = "\
TEST-ONLY MAN-IN-THE-MIDDLE MODES (shieldcall-relay-mitm only; at most one):
    --mitm-swap-keys         swap the hello keys for keys of the relay's own
    --mitm-flip-e2ee         tell the first to join that the other has end-to-end
                             encryption off
    --mitm-add-fingerprint   add an a=fingerprint:sha-384 line of the relay's own after each
                             a=fingerprint:sha-256 line of every offer and answer
    --mitm-drop-confirm      drop every key confirmation instead of forwarding it
    --mitm-swap-answer-fp    replace the sha-256 fingerprint of every answer with one of
                             the relay's own
    --mitm-forge-bye         3 s after forwarding each key confirmation, send its receiver
                             two hang-ups in the sender's name (unsigned, and signed with
                             garbage)
    --mitm-drop-bye          drop every hang-up instead of forwarding it
    --mitm-replay            3 s after forwarding each side's first key confirmation, send
                             its receiver everything that side sent until then, again
    --mitm-reorder           hold every offer and answer back 500 ms, so that what follows
                             from the same side overtakes it
    --mitm-garbage           3 s after forwarding each key confirmation, send its receiver
                             messages no app sends (not JSON, unknown, incomplete, a
                             confirmation that is no MAC, a 60 KiB candidate)
";

/// Valid uncompressed P-256 points (SEC1, 65 bytes, base64url without padding), one per
/// direction so the two sides get different keys: the generator G and 2G. Nobody knows a
/// usable private key for them in this role, and none is needed: the swap only has to be
/// detected, not to succeed.
const SWAPPED_KEYS: [&str; 2] = [
    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    "BHzyexiNA09-ilI4AwS1GsPAiWnid_IbNaYLSPxHZpl4B3dVENuO0EApPZrGn3Qw27p9reY86YIpngS3nSJ4c9E",
];

/// The digest the relay adds with `--mitm-add-fingerprint`: 48 bytes (a SHA-384 length) that
/// no certificate of the two browsers has.
const FORGED_SHA384: [u8; 48] = {
    let mut bytes = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        bytes[i] = 0xA5 ^ (i as u8).wrapping_mul(37);
        i += 1;
    }
    bytes
};

/// What a test-only man in the middle does to the signals it forwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Replace the key in every hello with one of the relay's.
    SwapKeys,
    /// Say `e2ee: false` in the hellos of the second member to join (the guest).
    FlipE2ee,
    /// Add an `a=fingerprint:sha-384` line of the relay's own after every sha-256 one.
    AddFingerprint,
    /// Drop every `confirm`.
    DropConfirm,
    /// Replace the `a=fingerprint:sha-256` value of every answer with the relay's own.
    SwapAnswerFingerprint,
    /// Forward every `confirm`, then forge hang-ups from its sender a while later.
    ForgeBye,
    /// Drop every `bye`.
    DropBye,
    /// Forward everything, then send each side's signals again after its first `confirm`.
    Replay,
    /// Forward every `offer` and `answer` [`HELD_BACK`] late.
    Reorder,
    /// Forward every `confirm`, then send its receiver [`garbage`] a while later.
    Garbage,
}

impl Attack {
    pub const ALL: [Attack; 10] = [
        Attack::SwapKeys,
        Attack::FlipE2ee,
        Attack::AddFingerprint,
        Attack::DropConfirm,
        Attack::SwapAnswerFingerprint,
        Attack::ForgeBye,
        Attack::DropBye,
        Attack::Replay,
        Attack::Reorder,
        Attack::Garbage,
    ];

    /// The flag of `shieldcall-relay-mitm` that turns this attack on.
    pub fn flag(self) -> &'static str {
        match self {
            Attack::SwapKeys => "--mitm-swap-keys",
            Attack::FlipE2ee => "--mitm-flip-e2ee",
            Attack::AddFingerprint => "--mitm-add-fingerprint",
            Attack::DropConfirm => "--mitm-drop-confirm",
            Attack::SwapAnswerFingerprint => "--mitm-swap-answer-fp",
            Attack::ForgeBye => "--mitm-forge-bye",
            Attack::DropBye => "--mitm-drop-bye",
            Attack::Replay => "--mitm-replay",
            Attack::Reorder => "--mitm-reorder",
            Attack::Garbage => "--mitm-garbage",
        }
    }

    /// What it does, for the warning printed at start.
    pub fn what(self) -> &'static str {
        match self {
            Attack::SwapKeys => "REPLACES the public key in every hello",
            Attack::FlipE2ee => "TURNS E2EE OFF in the guest's hellos",
            Attack::AddFingerprint => "ADDS A DTLS FINGERPRINT of its own to every offer/answer",
            Attack::DropConfirm => "DROPS every key confirmation",
            Attack::SwapAnswerFingerprint => "REPLACES THE DTLS FINGERPRINT of every answer",
            Attack::ForgeBye => "FORGES HANG-UPS after every key confirmation",
            Attack::DropBye => "DROPS every hang-up",
            Attack::Replay => "REPLAYS each side's signals after its key confirmation",
            Attack::Reorder => "HOLDS BACK every offer and answer, reordering the signals",
            Attack::Garbage => "SENDS GARBAGE after every key confirmation",
        }
    }
}

/// Parse the arguments of `shieldcall-relay-mitm`: the relay's own, plus one `--mitm-*` mode.
pub fn from_args<I>(args: I, env_listen: Option<String>) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
{
    let mut attack = None;
    let mut rest = Vec::new();
    for arg in args {
        match Attack::ALL.into_iter().find(|a| a.flag() == arg) {
            Some(_) if attack.is_some() => return Err("only one --mitm-* mode at a time".into()),
            Some(a) => attack = Some(a),
            None => rest.push(arg),
        }
    }
    match Config::from_args(rest, env_listen)? {
        Command::Run(config) => Ok(Command::Run(Config { mitm: attack, ..config })),
        Command::Help => Ok(Command::Help),
    }
}

/// The help of `shieldcall-relay-mitm`.
pub fn usage() -> String {
    format!("{USAGE}\n{MITM_USAGE}")
}

/// What the relay forwards instead of a signal it attacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rewrite {
    /// This text instead.
    Forge(String),
    /// Nothing at all.
    Drop,
    /// The signal as it is, and after `after` these texts from the same sender.
    AddLater { after: std::time::Duration, texts: Vec<String> },
    /// Nothing now; the signal as it is after `after`.
    Later { after: std::time::Duration },
}

/// How long `--mitm-reorder` holds an offer or answer back: longer than the same side takes
/// to send its next signal, short of any timeout. In a call today that is mostly the guest's
/// candidates overtaking its answer (the host's offer carries its candidates, and the guest
/// confirms before it answers); a `bye` sent meanwhile overtakes it too.
pub const HELD_BACK: std::time::Duration = std::time::Duration::from_millis(500);

/// What `--mitm-garbage` sends: text that is not JSON, a type nobody knows, an offer without
/// its SDP, a confirmation whose MAC is not base64url, and a candidate of 60 KiB. (Not a hello
/// with another key, even one that is no P-256 point: a hello must not change, so that is
/// evidence of tampering, and its own tests show the shield turning red.)
pub fn garbage() -> Vec<String> {
    vec![
        "this is not JSON".into(),
        r#"{"t":"nonsense","x":1}"#.into(),
        r#"{"t":"offer"}"#.into(),
        r#"{"t":"confirm","mac":"!!"}"#.into(),
        format!(r#"{{"t":"ice","candidate":"{}"}}"#, "x".repeat(60 * 1024)),
    ]
}

/// How long after a key confirmation `--mitm-forge-bye`, `--mitm-replay` and `--mitm-garbage`
/// send what they add: time enough for both sides to lock and their media to flow.
pub const AFTER_CONFIRM: std::time::Duration = std::time::Duration::from_secs(3);

/// The hang-ups `--mitm-forge-bye` sends: one unsigned, one with a MAC of the right length
/// (32 bytes) that the relay cannot have made.
pub fn forged_byes() -> Vec<String> {
    [None, Some("A".repeat(43))].into_iter().map(|mac| Signal::Bye { mac }.to_json()).collect()
}

/// With `--mitm-replay`: at a side's first `confirm` (`text`), everything it sent before
/// (`sent_before`, as the relay got it) and the confirmation, sent again later in the same
/// order. Once per socket: a side that reconnects is replayed again.
pub fn replay(signal: &Signal, text: &str, sent_before: &[String]) -> Option<Rewrite> {
    let first_confirm = matches!(signal, Signal::Confirm(_))
        && !sent_before.iter().any(|t| matches!(Signal::parse(t), Ok(Signal::Confirm(_))));
    first_confirm.then(|| {
        let texts = sent_before.iter().cloned().chain([text.to_string()]).collect();
        Rewrite::AddLater { after: AFTER_CONFIRM, texts }
    })
}

/// The key the relay substitutes in hellos sent by the member in `slot` (0: first to join).
pub fn swapped_key(slot: usize) -> &'static str {
    SWAPPED_KEYS[slot % 2]
}

/// If `attack` changes `signal`, sent by the member in `slot`, what to forward instead.
pub fn rewrite(attack: Attack, signal: &Signal, slot: usize) -> Option<Rewrite> {
    let forged = match (attack, signal) {
        (Attack::SwapKeys, Signal::Hello(Hello { v, e2ee, .. })) => {
            Signal::Hello(Hello { v: *v, e2ee: *e2ee, public_key: swapped_key(slot).to_string() })
        }
        (Attack::FlipE2ee, Signal::Hello(Hello { v, public_key, .. })) if slot == 1 => {
            Signal::Hello(Hello { v: *v, e2ee: false, public_key: public_key.clone() })
        }
        (Attack::AddFingerprint, Signal::Offer { sdp }) => {
            Signal::Offer { sdp: add_fingerprint(sdp) }
        }
        (Attack::AddFingerprint, Signal::Answer { sdp }) => {
            Signal::Answer { sdp: add_fingerprint(sdp) }
        }
        (Attack::DropConfirm, Signal::Confirm(Confirm { .. })) => return Some(Rewrite::Drop),
        (Attack::DropBye, Signal::Bye { .. }) => return Some(Rewrite::Drop),
        (Attack::SwapAnswerFingerprint, Signal::Answer { sdp }) => {
            Signal::Answer { sdp: swap_fingerprint(sdp) }
        }
        (Attack::ForgeBye, Signal::Confirm(_)) => {
            return Some(Rewrite::AddLater { after: AFTER_CONFIRM, texts: forged_byes() });
        }
        (Attack::Garbage, Signal::Confirm(_)) => {
            return Some(Rewrite::AddLater { after: AFTER_CONFIRM, texts: garbage() });
        }
        (Attack::Reorder, Signal::Offer { .. } | Signal::Answer { .. }) => {
            return Some(Rewrite::Later { after: HELD_BACK });
        }
        _ => return None,
    };
    Some(Rewrite::Forge(forged.to_json()))
}

/// The line `--mitm-add-fingerprint` adds: `a=fingerprint:sha-384 A5:..` (48 bytes).
pub fn forged_fingerprint_line() -> String {
    format!("a=fingerprint:sha-384 {}", fingerprint_hex(&FORGED_SHA384))
}

/// `bytes` as a fingerprint line writes them: upper-case hex pairs joined by colons.
fn fingerprint_hex(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// What starts an SHA-256 fingerprint line, before its value.
const SHA256_LINE: &str = "a=fingerprint:sha-256 ";

/// Whether `body` (a line without its ending) is an SHA-256 fingerprint line, in any letter case.
fn is_sha256_line(body: &str) -> bool {
    body.get(..SHA256_LINE.len()).is_some_and(|start| start.eq_ignore_ascii_case(SHA256_LINE))
}

/// `sdp` with the value of each `a=fingerprint:sha-256` line replaced by the first 32 bytes of
/// the relay's forged digest: one certificate still, but not the guest's.
pub fn swap_fingerprint(sdp: &str) -> String {
    let forged = fingerprint_hex(&FORGED_SHA384[..32]);
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        if is_sha256_line(body) {
            out.push_str(&body[..SHA256_LINE.len()]);
            out.push_str(&forged);
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `sdp` with [`forged_fingerprint_line`] right after each `a=fingerprint:sha-256` line, with
/// that line's own ending (SDP uses CRLF; a bare LF or a last line without one is kept as is).
pub fn add_fingerprint(sdp: &str) -> String {
    let forged = forged_fingerprint_line();
    let mut out = String::with_capacity(sdp.len() + 2 * (forged.len() + 2));
    for line in sdp.split_inclusive('\n') {
        out.push_str(line);
        let body = line.trim_end_matches(['\r', '\n']);
        if is_sha256_line(body) {
            match &line[body.len()..] {
                // The last line, without an ending: the added line goes after a CRLF.
                "" => {
                    out.push_str("\r\n");
                    out.push_str(&forged);
                }
                ending => {
                    out.push_str(&forged);
                    out.push_str(ending);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` is an assertion.
    use super::*;

    #[test]
    fn only_hellos_change_and_each_direction_differs() {
        let hello = Signal::Hello(Hello { v: 2, e2ee: true, public_key: "AAAA".into() });
        let a = rewrite(Attack::SwapKeys, &hello, 0).unwrap();
        let b = rewrite(Attack::SwapKeys, &hello, 1).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            Signal::parse(&forged(a)).unwrap(),
            Signal::Hello(Hello { v: 2, e2ee: true, public_key: SWAPPED_KEYS[0].into() })
        );
        assert_eq!(rewrite(Attack::SwapKeys, &Signal::Bye { mac: None }, 0), None);
    }

    fn forged(rewrite: Rewrite) -> String {
        match rewrite {
            Rewrite::Forge(text) => text,
            other => panic!("expected a forged text, got {other:?}"),
        }
    }

    #[test]
    fn reorder_holds_descriptions_back_and_garbage_follows_confirmations() {
        let offer = Signal::Offer { sdp: "v=0".into() };
        let answer = Signal::Answer { sdp: "v=0".into() };
        let confirm = Signal::Confirm(Confirm { mac: "AAAA".into(), fp: None });
        for description in [&offer, &answer] {
            let later = Some(Rewrite::Later { after: HELD_BACK });
            assert_eq!(rewrite(Attack::Reorder, description, 0), later);
        }
        assert_eq!(rewrite(Attack::Reorder, &confirm, 0), None);
        let added = Some(Rewrite::AddLater { after: AFTER_CONFIRM, texts: garbage() });
        assert_eq!(rewrite(Attack::Garbage, &confirm, 1), added);
        assert_eq!(rewrite(Attack::Garbage, &offer, 1), None);
        // Three an honest relay would refuse outright; the rest pass its checks (the relay
        // does not look at keys, MACs or candidates), and only the page can refuse them.
        let refused: Vec<bool> = garbage().iter().map(|t| Signal::parse(t).is_err()).collect();
        assert_eq!(refused, [true, true, true, false, false]);
    }

    #[test]
    fn replay_sends_a_sides_signals_again_after_its_first_confirmation_only() {
        let hello = Signal::Hello(Hello { v: 3, e2ee: true, public_key: "k".into() });
        let offer = Signal::Offer { sdp: "v=0".into() };
        let confirm = Signal::Confirm(Confirm { mac: "AAAA".into(), fp: None });
        let before = [hello.to_json(), offer.to_json()];
        assert_eq!(replay(&offer, &offer.to_json(), &before[..1]), None, "not yet");
        let Some(Rewrite::AddLater { after, texts }) =
            replay(&confirm, &confirm.to_json(), &before)
        else {
            panic!("the confirmation goes on, the replay later")
        };
        assert_eq!(after, AFTER_CONFIRM);
        assert_eq!(texts, [hello.to_json(), offer.to_json(), confirm.to_json()]);
        let after_one = [before[0].clone(), before[1].clone(), confirm.to_json()];
        assert_eq!(replay(&confirm, &confirm.to_json(), &after_one), None, "once");
        assert_eq!(rewrite(Attack::Replay, &confirm, 0), None, "nothing rewritten");
    }

    #[test]
    fn forge_bye_passes_each_confirmation_and_adds_two_unverifiable_hang_ups() {
        let confirm = Signal::Confirm(Confirm { mac: "AAAA".into(), fp: None });
        let Some(Rewrite::AddLater { after, texts }) = rewrite(Attack::ForgeBye, &confirm, 1)
        else {
            panic!("the confirmation goes on, the forgeries later")
        };
        assert_eq!(after, AFTER_CONFIRM);
        let byes: Vec<Signal> = texts.iter().map(|t| Signal::parse(t).unwrap()).collect();
        assert_eq!(
            byes,
            [Signal::Bye { mac: None }, Signal::Bye { mac: Some("A".repeat(43)) }],
            "43 characters: the length of a real one"
        );
        for other in [Signal::Bye { mac: None }, Signal::Offer { sdp: "v=0".into() }] {
            assert_eq!(rewrite(Attack::ForgeBye, &other, 0), None);
        }
    }

    const SHA256: &str = "a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:D3:4F:0C:6F:0B:F8:97:6A:1F:21:82:95:BC:A1:00:3C:B0:7E:4F:1D:10:93:A7:33:13";

    #[test]
    fn a_sha384_fingerprint_follows_every_sha256_line_with_its_line_ending() {
        let line = forged_fingerprint_line();
        let hex = line.strip_prefix("a=fingerprint:sha-384 ").unwrap();
        let bytes: Vec<&str> = hex.split(':').collect();
        assert_eq!(bytes.len(), 48);
        assert!(
            bytes
                .iter()
                .all(|b| b.len() == 2 && b.bytes().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F')))
        );

        // Session level and two media sections, CRLF as browsers write SDP.
        let sdp = format!(
            "v=0\r\n{SHA256}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{SHA256}\r\na=setup:actpass\r\n\
             m=video 9 UDP/TLS/RTP/SAVPF 96\r\n{}\r\n",
            SHA256.replace("sha-256", "SHA-256")
        );
        let expected = format!(
            "v=0\r\n{SHA256}\r\n{line}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{SHA256}\r\n{line}\r\n\
             a=setup:actpass\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n{}\r\n{line}\r\n",
            SHA256.replace("sha-256", "SHA-256")
        );
        assert_eq!(add_fingerprint(&sdp), expected);
        // Bare LF stays LF; a last line without an ending gets CRLF before the added line.
        assert_eq!(
            add_fingerprint(&format!("v=0\n{SHA256}\n")),
            format!("v=0\n{SHA256}\n{line}\n")
        );
        assert_eq!(add_fingerprint(SHA256), format!("{SHA256}\r\n{line}"));
        // Nothing else changes: other hashes, and text that only mentions the attribute.
        let other = "a=fingerprint:sha-1 AA:BB\r\nx=a=fingerprint:sha-256 AA\r\n";
        assert_eq!(add_fingerprint(other), other);

        for signal in [Signal::Offer { sdp: sdp.clone() }, Signal::Answer { sdp: sdp.clone() }] {
            let out = Signal::parse(&forged(rewrite(Attack::AddFingerprint, &signal, 0).unwrap()))
                .unwrap();
            let (Signal::Offer { sdp: out } | Signal::Answer { sdp: out }) = out else {
                panic!("an offer stays an offer, an answer an answer");
            };
            assert_eq!(out, expected);
        }
        let hello = Signal::Hello(Hello { v: 2, e2ee: true, public_key: "AAAA".into() });
        assert_eq!(rewrite(Attack::AddFingerprint, &hello, 0), None);
    }

    #[test]
    fn an_answers_fingerprint_is_replaced_and_nothing_else() {
        let answer = Signal::Answer { sdp: format!("v=0\r\n{SHA256}\r\na=setup:active\r\n") };
        let Some(Rewrite::Forge(forged)) = rewrite(Attack::SwapAnswerFingerprint, &answer, 1)
        else {
            panic!("the answer is rewritten")
        };
        let Ok(Signal::Answer { sdp }) = Signal::parse(&forged) else { panic!("{forged}") };
        assert_ne!(sdp, format!("v=0\r\n{SHA256}\r\na=setup:active\r\n"));
        assert_eq!(sdp.lines().count(), 3);
        assert!(sdp.contains("\r\na=fingerprint:sha-256 ") && sdp.ends_with("a=setup:active\r\n"));
        assert_eq!(sdp.matches("a=fingerprint:").count(), 1);
        let offer = Signal::Offer { sdp: format!("v=0\r\n{SHA256}\r\n") };
        assert_eq!(rewrite(Attack::SwapAnswerFingerprint, &offer, 0), None);
    }

    #[test]
    fn confirmations_are_dropped_and_nothing_else() {
        let confirm = Signal::Confirm(Confirm { mac: "AAAA".into(), fp: None });
        assert_eq!(rewrite(Attack::DropConfirm, &confirm, 0), Some(Rewrite::Drop));
        assert_eq!(rewrite(Attack::DropConfirm, &confirm, 1), Some(Rewrite::Drop));
        let offer = Signal::Offer { sdp: format!("v=0\r\n{SHA256}\r\n") };
        assert_eq!(rewrite(Attack::DropConfirm, &offer, 0), None);
        assert_eq!(rewrite(Attack::SwapKeys, &confirm, 0), None);
    }

    #[test]
    fn the_mitm_binary_takes_one_mode_and_every_relay_flag() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for attack in Attack::ALL {
            let flag = attack.flag();
            let Ok(Command::Run(c)) = from_args(args(&["--listen=127.0.0.1:0", flag]), None) else {
                panic!("{flag} parses");
            };
            assert_eq!((c.mitm, c.listen.to_string().as_str()), (Some(attack), "127.0.0.1:0"));
            assert!(usage().contains(flag));
        }
        let Ok(Command::Run(c)) = from_args(args(&[]), None) else { panic!("no mode parses") };
        assert_eq!(c.mitm, None);
        assert!(from_args(args(&["--mitm-swap-keys", "--mitm-drop-confirm"]), None).is_err());
        assert!(from_args(args(&["--mitm-swap-keys=yes"]), None).is_err());
        assert!(from_args(args(&["--mitm-nope"]), None).is_err());
    }

    #[test]
    fn the_downgrade_turns_only_the_guests_e2ee_off() {
        let hello = Signal::Hello(Hello { v: 2, e2ee: true, public_key: "AAAA".into() });
        assert_eq!(rewrite(Attack::FlipE2ee, &hello, 0), None);
        assert_eq!(
            Signal::parse(&forged(rewrite(Attack::FlipE2ee, &hello, 1).unwrap())).unwrap(),
            Signal::Hello(Hello { v: 2, e2ee: false, public_key: "AAAA".into() })
        );
        let offer = Signal::Offer { sdp: "v=0".into() };
        assert_eq!(rewrite(Attack::FlipE2ee, &offer, 1), None);
    }

    #[test]
    fn the_keys_are_65_byte_uncompressed_points() {
        for key in SWAPPED_KEYS {
            // 65 bytes in unpadded base64url is 87 characters; 0x04 encodes as a leading 'B'.
            assert_eq!(key.len(), 87);
            assert!(key.starts_with('B'));
            assert!(key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
    }
}
