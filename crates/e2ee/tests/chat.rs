//! Chat integrity (issue 9, item 8): a sequence number sealed inside each chat message, so the
//! reader sees a message that went missing or came out of order; and a length cap before sealing.

use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::sframe::chat::{
    ChatContent, ChatError, ChatReceiver, ChatSender, ChatTooLong, MAX_CHAT_TEXT_BYTES,
};
use shieldcall_e2ee::sframe::{CipherSuite, DropReason, Receiver, Sender};
use shieldcall_protocol::{ChatOrder, MediaState};

const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;

fn pair(key: u8) -> (ChatSender, ChatReceiver) {
    let base = BaseKey::from_slice(&[key; 16]);
    let sender = Sender::new(SUITE, base.clone(), 0, Slot::Chat).expect("epoch 0");
    let receiver = Receiver::new(SUITE, base, 0).only_slot(Slot::Chat);
    (ChatSender::new(sender), ChatReceiver::new(receiver))
}

#[test]
fn a_missing_message_and_a_late_one_are_told_apart() {
    let (mut alice, mut bob) = pair(1);
    let frames: Vec<Vec<u8>> =
        ["one", "two", "three", "four", "five"].iter().map(|t| alice.seal(t).unwrap()).collect();
    let mut open = |i: usize| bob.open(frames[i].clone(), 0);
    assert_eq!(open(0), Ok((ChatContent::Text("one".into()), ChatOrder::InOrder)));
    assert_eq!(open(1), Ok((ChatContent::Text("two".into()), ChatOrder::InOrder)));
    // "three" held back by someone on the path: "four" tells Bob one is missing.
    assert_eq!(open(3), Ok((ChatContent::Text("four".into()), ChatOrder::AfterGap { missing: 1 })));
    assert_eq!(open(2), Ok((ChatContent::Text("three".into()), ChatOrder::Late)));
    assert_eq!(open(4), Ok((ChatContent::Text("five".into()), ChatOrder::InOrder)));
    // The same frame again is a replay, whichever check catches it first.
    assert_eq!(open(2), Err(ChatError::Drop(DropReason::Replay)));
}

#[test]
fn the_sequence_goes_on_across_a_rekey() {
    // The SFrame counter starts again at 0 under the new KID; the chat sequence does not, so a
    // message dropped right at the key change is still seen to be missing.
    let (mut alice, mut bob) = pair(2);
    assert_eq!(bob.open(alice.seal("before").unwrap(), 0).unwrap().1, ChatOrder::InOrder);
    let lost = alice.seal("lost at the change").unwrap();
    let next = BaseKey::from_slice(&[3; 16]);
    alice.sframe().rekey(next.clone(), 1).unwrap();
    assert!(bob.sframe().rekey(next, 1, 0));
    assert_eq!(alice.sframe().next_ctr(), Some(0));
    let after = alice.seal("after").unwrap();
    assert_eq!(
        bob.open(after, 10),
        Ok((ChatContent::Text("after".into()), ChatOrder::AfterGap { missing: 1 }))
    );
    assert_eq!(
        bob.open(lost, 20),
        Ok((ChatContent::Text("lost at the change".into()), ChatOrder::Late))
    );
}

#[test]
fn too_long_is_refused_before_sealing_and_uses_no_number() {
    let (mut alice, mut bob) = pair(4);
    let longest = "a".repeat(MAX_CHAT_TEXT_BYTES);
    let too_long = format!("{longest}!");
    assert_eq!(
        alice.seal(&too_long),
        Err(ChatError::TooLong(ChatTooLong { chars: 4097, bytes: 4097 }))
    );
    assert_eq!(alice.next_seq(), 0);
    assert_eq!(
        bob.open(alice.seal(&longest).unwrap(), 0),
        Ok((ChatContent::Text(longest), ChatOrder::InOrder))
    );
}

#[test]
fn what_a_peer_seals_outside_the_layout_is_refused() {
    // A peer (or a bug) sealing raw bytes with the right keys: too short for a sequence number,
    // more text than the cap, or not UTF-8. Each is refused, never shown.
    let base = BaseKey::from_slice(&[5; 16]);
    let mut raw = Sender::new(SUITE, base.clone(), 0, Slot::Chat).expect("epoch 0");
    let mut bob = ChatReceiver::new(Receiver::new(SUITE, base, 0).only_slot(Slot::Chat));
    let mut seal = |payload: &[u8]| {
        let mut buf = payload.to_vec();
        raw.encrypt_in_place(&mut buf, 0).unwrap();
        buf
    };
    let short = seal(b"hi");
    let mut huge = 0u64.to_be_bytes().to_vec();
    huge.push(0);
    huge.extend(std::iter::repeat_n(b'a', MAX_CHAT_TEXT_BYTES + 1));
    let huge = seal(&huge);
    let mut binary = 0u64.to_be_bytes().to_vec();
    binary.extend([0, 0xff, 0xfe]);
    let binary = seal(&binary);
    // Reports outside their layout: an unknown kind, a gap of 0, a gap without its count.
    let unknown_kind = seal(b"\0\0\0\0\0\0\0\0\x07x");
    let empty_gap = seal(b"\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0");
    let short_gap = seal(b"\0\0\0\0\0\0\0\0\x01\0\x01");
    let no_kind = seal(b"\0\0\0\0\0\0\0\0");
    // Media states outside theirs: no flags, two flag bytes, a flag no page knows.
    let no_flags = seal(b"\0\0\0\0\0\0\0\0\x02");
    let two_flags = seal(b"\0\0\0\0\0\0\0\0\x02\x01\x01");
    let unknown_flag = seal(b"\0\0\0\0\0\0\0\0\x02\x09");
    let good = seal(b"\0\0\0\0\0\0\0\0\0fine");
    for frame in [
        short,
        huge,
        binary,
        unknown_kind,
        empty_gap,
        short_gap,
        no_kind,
        no_flags,
        two_flags,
        unknown_flag,
    ] {
        assert_eq!(bob.open(frame, 0), Err(ChatError::NotChat));
    }
    assert_eq!(bob.open(good, 0), Ok((ChatContent::Text("fine".into()), ChatOrder::InOrder)));
}

#[test]
fn a_forged_or_misdirected_message_is_refused() {
    let (mut alice, mut bob) = pair(6);
    let mut forged = alice.seal("hello").unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(bob.open(forged, 0), Err(ChatError::Drop(DropReason::AuthFailed)));
    // A media frame under the same key is not chat.
    let base = BaseKey::from_slice(&[6; 16]);
    let mut mic = Sender::new(SUITE, base, 0, Slot::MicAudio).unwrap();
    let mut audio = b"\0\0\0\0\0\0\0\0audio".to_vec();
    mic.encrypt_in_place(&mut audio, 0).unwrap();
    assert_eq!(bob.open(audio, 0), Err(ChatError::Drop(DropReason::UnknownKid)));
}

#[test]
fn notices_for_the_person() {
    assert_eq!(ChatOrder::InOrder.notice(), None);
    assert_eq!(
        ChatOrder::AfterGap { missing: 1 }.notice().unwrap(),
        "A chat message from the other person is missing."
    );
    assert_eq!(
        ChatOrder::AfterGap { missing: 3 }.notice().unwrap(),
        "3 chat messages from the other person are missing."
    );
    assert!(ChatOrder::Late.notice().unwrap().contains("arrived out of order"));
}

#[test]
fn the_sender_learns_of_a_gap_or_a_late_message_through_a_sealed_report() {
    let (mut alice, mut bob) = pair(7);
    let (mut bob_out, mut alice_in) = pair(8);
    let frames: Vec<Vec<u8>> = ["a", "b", "c"].iter().map(|t| alice.seal(t).unwrap()).collect();
    // "b" is held back: Bob sees the gap and reports it to Alice, who is told.
    let (_, order) = bob.open(frames[0].clone(), 0).unwrap();
    assert_eq!(order, ChatOrder::InOrder);
    let (_, order) = bob.open(frames[2].clone(), 0).unwrap();
    assert_eq!(order, ChatOrder::AfterGap { missing: 1 });
    let report = bob_out.seal_report(order).unwrap();
    assert_eq!(
        alice_in.open(report, 0),
        Ok((ChatContent::Report(ChatOrder::AfterGap { missing: 1 }), ChatOrder::InOrder))
    );
    // "b" comes after all: late, reported likewise; reports are numbered like messages.
    let (_, order) = bob.open(frames[1].clone(), 0).unwrap();
    assert_eq!(order, ChatOrder::Late);
    assert_eq!(bob_out.next_seq(), 1);
    let report = bob_out.seal_report(order).unwrap();
    assert_eq!(
        alice_in.open(report, 0),
        Ok((ChatContent::Report(ChatOrder::Late), ChatOrder::InOrder))
    );
    // Nothing to report when all is well.
    assert_eq!(bob_out.seal_report(ChatOrder::InOrder), Err(ChatError::NotChat));
    assert_eq!(bob_out.next_seq(), 2);
}

#[test]
fn media_states_are_sealed_numbered_and_checked_like_messages() {
    let (mut alice, mut bob) = pair(7);
    let muted = MediaState { mic: false, camera: true, screen: false };
    let dark = MediaState { mic: false, camera: false, screen: false };
    let first = alice.seal_media_state(muted).unwrap();
    // One flags byte after the sequence number and the kind: sealed, so not readable on the path.
    assert_eq!(alice.next_seq(), 1);
    let text = alice.seal("between").unwrap();
    let second = alice.seal_media_state(dark).unwrap();
    assert_eq!(
        bob.open(first.clone(), 0),
        Ok((ChatContent::MediaState(muted), ChatOrder::InOrder))
    );
    // Held back and then delivered: the state after it is placed after a gap, the held one late
    // (the page shows neither a late state nor a replayed one).
    assert_eq!(
        bob.open(second, 0),
        Ok((ChatContent::MediaState(dark), ChatOrder::AfterGap { missing: 1 }))
    );
    assert_eq!(bob.open(text, 0), Ok((ChatContent::Text("between".into()), ChatOrder::Late)));
    assert_eq!(bob.open(first, 0), Err(ChatError::Drop(DropReason::Replay)));
    let mut forged = alice.seal_media_state(MediaState::ALL_ON).unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(bob.open(forged, 0), Err(ChatError::Drop(DropReason::AuthFailed)));
}
