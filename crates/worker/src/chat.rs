//! Chat messages under E2EE: each is an SFrame of slot 15, sealed and opened here so that the
//! keys never leave the worker. The page carries the frames over the data channel. The payload
//! layout (a sequence number before the text), the length cap and the gap and order checks are
//! the core's, host-tested: [`shieldcall_e2ee::sframe::chat`]. Pure: the time comes in as an
//! argument (milliseconds, for the replay window), and the result is the event to post.

use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::sframe::chat::{ChatContent, ChatError, ChatReceiver, ChatSender};
use shieldcall_e2ee::sframe::{Receiver, Sender};
use shieldcall_protocol::{ChatOrder, MediaState, WorkerEvent};

use crate::mode::Mode;

/// The chat's sender and receiver, present only while keys are.
#[derive(Default)]
pub struct ChatCryptor {
    sender: Option<ChatSender>,
    receiver: Option<ChatReceiver>,
}

impl ChatCryptor {
    /// Follow a mode change at `now_ms`: new keys make a new sender and receiver (or rekey
    /// them, and the sequence numbers go on).
    pub fn set_mode(&mut self, mode: &Mode, now_ms: u64) {
        let Mode::Keys(keys) = mode else {
            *self = ChatCryptor::default();
            return;
        };
        match &mut self.sender {
            // A refused rekey (an epoch not newer) keeps the sender as it is: a new one under
            // the same key and epoch would count from 0 again, and repeat its nonces.
            Some(s) if s.suite() == keys.suite => {
                let _ = s.sframe().rekey(keys.send.clone(), keys.epoch);
            }
            _ => {
                self.sender = Sender::new(keys.suite, keys.send.clone(), keys.epoch, Slot::Chat)
                    .ok()
                    .map(ChatSender::new);
            }
        }
        match &mut self.receiver {
            Some(r) if r.suite() == keys.suite => {
                r.sframe().rekey(keys.receive.clone(), keys.epoch, now_ms);
            }
            _ => {
                let receiver = Receiver::new(keys.suite, keys.receive.clone(), keys.epoch)
                    .only_slot(Slot::Chat);
                self.receiver = Some(ChatReceiver::new(receiver));
            }
        }
    }

    pub fn seal(&mut self, id: u32, text: String) -> WorkerEvent {
        self.seal_with(id, |sender| sender.seal(&text))
    }

    /// A sealed report to the peer that its messages arrived as `order` says.
    pub fn seal_report(&mut self, id: u32, order: ChatOrder) -> WorkerEvent {
        self.seal_with(id, |sender| sender.seal_report(order))
    }

    /// This side's media state, sealed for the peer (chat kind 2, numbered like messages).
    pub fn seal_media_state(&mut self, id: u32, state: MediaState) -> WorkerEvent {
        self.seal_with(id, |sender| sender.seal_media_state(state))
    }

    fn seal_with(
        &mut self,
        id: u32,
        seal: impl FnOnce(&mut ChatSender) -> Result<Vec<u8>, ChatError>,
    ) -> WorkerEvent {
        let Some(sender) = &mut self.sender else {
            return refused(id, "no keys yet");
        };
        match seal(sender) {
            Ok(frame) => WorkerEvent::ChatSealed { id, frame },
            Err(err) => refused(id, &err.to_string()),
        }
    }

    /// Open a chat frame from the peer that arrived at `now_ms`.
    pub fn open(&mut self, id: u32, frame: Vec<u8>, now_ms: u64) -> WorkerEvent {
        let Some(receiver) = &mut self.receiver else {
            return refused(id, "no keys yet");
        };
        match receiver.open(frame, now_ms) {
            Ok((ChatContent::Text(text), order)) => WorkerEvent::ChatOpened { id, text, order },
            Ok((ChatContent::Report(report), order)) => {
                WorkerEvent::ChatReportOpened { id, report, order }
            }
            Ok((ChatContent::MediaState(state), order)) => {
                WorkerEvent::MediaStateOpened { id, state, order }
            }
            Err(err) => refused(id, &err.to_string()),
        }
    }
}

fn refused(id: u32, reason: &str) -> WorkerEvent {
    WorkerEvent::ChatRefused { id, reason: reason.into() }
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` and `panic!` are assertions.
    use std::rc::Rc;

    use shieldcall_e2ee::BaseKey;
    use shieldcall_e2ee::sframe::CipherSuite;

    use super::*;
    use crate::mode::Keys;

    const ALICE: [u8; 16] = [0xA1; 16];
    const BOB: [u8; 16] = [0xB2; 16];

    fn keys(send: [u8; 16], receive: [u8; 16], epoch: u64) -> Mode {
        Mode::Keys(Rc::new(Keys {
            suite: CipherSuite::Aes128GcmSha256_128,
            epoch,
            send: BaseKey::from_slice(&send),
            receive: BaseKey::from_slice(&receive),
        }))
    }

    /// Alice and Bob's chat cryptors, each under its sending key and the other's.
    fn pair() -> (ChatCryptor, ChatCryptor) {
        let (mut alice, mut bob) = (ChatCryptor::default(), ChatCryptor::default());
        alice.set_mode(&keys(ALICE, BOB, 0), 0);
        bob.set_mode(&keys(BOB, ALICE, 0), 0);
        (alice, bob)
    }

    fn sealed(event: WorkerEvent) -> Vec<u8> {
        match event {
            WorkerEvent::ChatSealed { frame, .. } => frame,
            other => panic!("not sealed: {other:?}"),
        }
    }

    fn refusal(event: WorkerEvent) -> String {
        match event {
            WorkerEvent::ChatRefused { reason, .. } => reason,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_message_opens_on_the_other_side_with_its_id() {
        let (mut alice, mut bob) = pair();
        let frame = sealed(alice.seal(1, "hello Bob".into()));
        assert!(!frame.windows(5).any(|w| w == b"hello"), "sealed, not in the clear");
        assert_eq!(
            bob.open(2, frame.clone(), 10),
            WorkerEvent::ChatOpened { id: 2, text: "hello Bob".into(), order: ChatOrder::InOrder }
        );
        // The sender cannot open its own frame: the directions have their own keys.
        assert_eq!(refusal(alice.open(3, frame.clone(), 10)), "the message failed to decrypt");
    }

    #[test]
    fn the_same_keys_again_never_start_the_counter_over() {
        let (mut alice, _) = pair();
        let first = sealed(alice.seal(1, "aaaa".into()));
        // The same mode a second time (an epoch not newer): refused as a rekey, and the
        // sender goes on counting.
        alice.set_mode(&keys(ALICE, BOB, 0), 0);
        let second = sealed(alice.seal(2, "bbbb".into()));
        // The SFrame header: its flags, the KID (15, the chat's) and the counter.
        let header = |frame: &[u8]| frame[..3].to_vec();
        assert_ne!(header(&first), header(&second), "a new counter, so a new nonce");
    }

    #[test]
    fn without_keys_nothing_is_sealed_or_opened() {
        let mut nobody = ChatCryptor::default();
        assert_eq!(
            nobody.seal(1, "hi".into()),
            WorkerEvent::ChatRefused { id: 1, reason: "no keys yet".into() }
        );
        assert_eq!(refusal(nobody.seal_report(2, ChatOrder::Late)), "no keys yet");
        let (mut alice, mut bob) = pair();
        let frame = sealed(alice.seal(1, "hi".into()));
        assert_eq!(refusal(nobody.open(3, frame.clone(), 0)), "no keys yet");
        // Keys gone (E2EE waiting for keys again, or transport only): the cryptor forgets them.
        for mode in [Mode::AwaitKeys, Mode::TransportOnly] {
            let (mut alice, _) = pair();
            alice.set_mode(&mode, 0);
            assert_eq!(refusal(alice.seal(4, "hi".into())), "no keys yet");
        }
        bob.set_mode(&Mode::AwaitKeys, 0);
        assert_eq!(refusal(bob.open(5, frame.clone(), 0)), "no keys yet");
    }

    #[test]
    fn a_tampered_replayed_or_garbled_frame_is_refused() {
        let (mut alice, mut bob) = pair();
        let frame = sealed(alice.seal(1, "pay 10".into()));
        let mut tampered = frame.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(refusal(bob.open(2, tampered, 0)), "the message failed to decrypt");
        assert!(matches!(bob.open(3, frame.clone(), 0), WorkerEvent::ChatOpened { .. }));
        assert_eq!(refusal(bob.open(4, frame.clone(), 0)), "a replayed message");
        assert_eq!(refusal(bob.open(5, b"no sframe".to_vec(), 0)), "not an encrypted chat message");
        assert_eq!(refusal(bob.open(6, Vec::new(), 0)), "not an encrypted chat message");
    }

    #[test]
    fn new_keys_keep_the_sequence_going() {
        let (mut alice, mut bob) = pair();
        let one = sealed(alice.seal(1, "one".into()));
        assert!(matches!(
            bob.open(2, one.clone(), 0),
            WorkerEvent::ChatOpened { order: ChatOrder::InOrder, .. }
        ));
        // A key change (a new epoch on both sides): the next message is the next in sequence,
        // not a first one again, and it opens only under the new keys.
        alice.set_mode(&keys(ALICE, BOB, 1), 100);
        let two = sealed(alice.seal(3, "two".into()));
        let (_, mut stale_bob) = pair();
        assert_eq!(refusal(stale_bob.open(4, two.clone(), 100)), "the message failed to decrypt");
        bob.set_mode(&keys(BOB, ALICE, 1), 100);
        assert_eq!(
            bob.open(5, two.clone(), 100),
            WorkerEvent::ChatOpened { id: 5, text: "two".into(), order: ChatOrder::InOrder }
        );
    }

    #[test]
    fn text_over_the_cap_is_refused_before_sealing() {
        let (mut alice, _) = pair();
        let reason = refusal(alice.seal(1, "x".repeat(4097)));
        assert!(reason.contains("4,096") || reason.contains("4096"), "{reason}");
    }

    #[test]
    fn a_missing_chat_message_is_reported_back_to_its_sender() {
        let (mut alice, mut bob) = pair();
        let frames: Vec<Vec<u8>> = ["one", "two", "three"]
            .into_iter()
            .enumerate()
            .map(|(i, text)| sealed(alice.seal(i as u32, text.into())))
            .collect();
        // "two" never reaches Bob: "three" arrives after a gap.
        assert!(matches!(
            bob.open(10, frames[0].clone(), 0),
            WorkerEvent::ChatOpened { order: ChatOrder::InOrder, .. }
        ));
        let WorkerEvent::ChatOpened { text, order, .. } = bob.open(11, frames[2].clone(), 0) else {
            panic!("three opens")
        };
        assert_eq!((text.as_str(), order), ("three", ChatOrder::AfterGap { missing: 1 }));
        // Bob's worker seals the report; Alice's opens it as a report, not as text.
        let report = sealed(bob.seal_report(12, order));
        assert_eq!(
            alice.open(13, report.clone(), 0),
            WorkerEvent::ChatReportOpened {
                id: 13,
                report: ChatOrder::AfterGap { missing: 1 },
                order: ChatOrder::InOrder
            }
        );
        assert!(matches!(bob.seal_report(14, ChatOrder::InOrder), WorkerEvent::ChatRefused { .. }));
        // "two", late, still opens, and says so.
        assert!(matches!(
            bob.open(15, frames[1].clone(), 0),
            WorkerEvent::ChatOpened { order: ChatOrder::Late, .. }
        ));
    }

    #[test]
    fn a_media_state_opens_as_a_state_never_as_text() {
        let (mut alice, mut bob) = pair();
        let muted = MediaState { mic: false, camera: true, screen: false };
        let frame = sealed(alice.seal_media_state(1, muted));
        assert_eq!(
            bob.open(2, frame.clone(), 0),
            WorkerEvent::MediaStateOpened { id: 2, state: muted, order: ChatOrder::InOrder }
        );
        assert_eq!(refusal(bob.open(3, frame, 0)), "a replayed message");
        let mut nobody = ChatCryptor::default();
        assert_eq!(refusal(nobody.seal_media_state(4, muted)), "no keys yet");
    }
}
