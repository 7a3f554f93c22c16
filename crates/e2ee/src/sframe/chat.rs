//! Chat messages under E2EE: each is one SFrame of slot 15 (the media worker seals and opens
//! them, so the keys stay there), and inside it a sequence number and a kind before the body:
//!
//! ```text
//! SFrame plaintext of a chat message:
//! +-------------------+----------+------------------------------------------------+
//! | seq (8 bytes, BE) | kind (1) | body                                           |
//! +-------------------+----------+------------------------------------------------+
//! kind 0, text:   body = the text (UTF-8, at most 4096 bytes)
//! kind 1, report: body = 0x00 || missing (8 bytes, BE)   "n of yours did not arrive"
//!                        0x01                            "one of yours arrived late"
//! kind 2, media state: body = flags (1 byte: mic, camera, screen; see MediaState)
//! ```
//!
//! A report goes back to the sender of a message that arrived after a gap, or late, so that
//! both people learn of it; it is sealed and numbered like any message.
//!
//! The SFrame counter already refuses replays, but it starts again at 0 under each new KID and
//! says nothing about frames that never arrived. `seq` counts the messages one side sealed under
//! its keys, across rekeys, so the reader can tell when one is missing or arrived out of order
//! (a data channel is ordered and reliable: either means something on the path interfered, or a
//! message was sealed but could not be sent).

use std::collections::BTreeSet;

use shieldcall_protocol::{ChatOrder, MEDIA_STATE_KIND, MediaState};

use super::{CipherSuite, DropReason, Receiver, SendError, Sender};

/// The longest chat text, in UTF-8 bytes, checked before sealing and again on opening.
pub const MAX_CHAT_TEXT_BYTES: usize = 4096;

/// Bytes of the sequence number in front of the text.
pub const CHAT_SEQ_LEN: usize = 8;

const KIND_TEXT: u8 = 0;
const KIND_REPORT: u8 = 1;
const REPORT_GAP: u8 = 0;
const REPORT_LATE: u8 = 1;

/// What an opened chat message holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatContent {
    /// Something the other person wrote.
    Text(String),
    /// The other person's app reports that messages of this side's arrived there this way
    /// (never [`ChatOrder::InOrder`]).
    Report(ChatOrder),
    /// The other person's microphone, camera and screen share.
    MediaState(MediaState),
}

/// How many missing sequence numbers are remembered, so that a late message can still be
/// placed; a larger gap forgets its oldest (they can no longer be told from replays).
pub const MAX_REMEMBERED_MISSING: usize = 256;

/// A text longer than [`MAX_CHAT_TEXT_BYTES`]; its `Display` is the message for the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatTooLong {
    pub chars: usize,
    pub bytes: usize,
}

impl std::fmt::Display for ChatTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Your message is too long ({} characters; at most 4,096 bytes).", self.chars)
    }
}

impl std::error::Error for ChatTooLong {}

/// Whether `text` may be sent as one chat message.
pub fn check_chat_text(text: &str) -> Result<(), ChatTooLong> {
    if text.len() > MAX_CHAT_TEXT_BYTES {
        return Err(ChatTooLong { chars: text.chars().count(), bytes: text.len() });
    }
    Ok(())
}

/// Why a chat message could not be sealed or opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatError {
    TooLong(ChatTooLong),
    /// The sender cannot seal (counter or epochs used up).
    Send(SendError),
    /// The frame did not open (bad tag, unknown KID, replayed SFrame counter, malformed).
    Drop(DropReason),
    /// It opened, but holds no sequence number, or too much text, or text that is not UTF-8,
    /// or a report or media state that is malformed.
    NotChat,
    /// It opened, but its sequence number was already shown, or is too old to place.
    Repeated,
}

impl std::fmt::Display for ChatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChatError::TooLong(e) => e.fmt(f),
            ChatError::Send(e) => e.fmt(f),
            ChatError::Drop(DropReason::AuthFailed) => f.write_str("the message failed to decrypt"),
            ChatError::Drop(DropReason::Replay | DropReason::TooOld) | ChatError::Repeated => {
                f.write_str("a replayed message")
            }
            ChatError::Drop(DropReason::UnknownKid | DropReason::Malformed) => {
                f.write_str("not an encrypted chat message")
            }
            ChatError::NotChat => {
                f.write_str("the message is neither text, nor a report, nor a media state")
            }
        }
    }
}

impl std::error::Error for ChatError {}

/// Seals one side's chat messages: SFrame slot 15, with the sequence number inside.
#[derive(Debug)]
pub struct ChatSender {
    sframe: Sender,
    next_seq: u64,
}

impl ChatSender {
    /// Seals with `sframe` (a [`Sender`] of [`Slot::Chat`](crate::layout::Slot::Chat)); the
    /// first message gets sequence number 0.
    pub fn new(sframe: Sender) -> ChatSender {
        ChatSender { sframe, next_seq: 0 }
    }

    /// The SFrame sender, to rekey it; the sequence goes on across rekeys.
    pub fn sframe(&mut self) -> &mut Sender {
        &mut self.sframe
    }

    pub fn suite(&self) -> CipherSuite {
        self.sframe.suite()
    }

    /// The sequence number the next message will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// `header || encrypt(seq || 0 || text) || tag`. A number is used up only by a sealed
    /// message.
    pub fn seal(&mut self, text: &str) -> Result<Vec<u8>, ChatError> {
        check_chat_text(text).map_err(ChatError::TooLong)?;
        self.seal_body(KIND_TEXT, text.as_bytes())
    }

    /// A report to the other side that its messages arrived as `order` says: after a gap, or
    /// late. `InOrder` needs no report and is refused (`NotChat`).
    pub fn seal_report(&mut self, order: ChatOrder) -> Result<Vec<u8>, ChatError> {
        match order {
            ChatOrder::InOrder => Err(ChatError::NotChat),
            ChatOrder::AfterGap { missing } => {
                let mut body = [0u8; 9];
                body[0] = REPORT_GAP;
                body[1..].copy_from_slice(&missing.to_be_bytes());
                self.seal_body(KIND_REPORT, &body)
            }
            ChatOrder::Late => self.seal_body(KIND_REPORT, &[REPORT_LATE]),
        }
    }

    /// This side's microphone, camera and screen share, for the other person's page.
    pub fn seal_media_state(&mut self, state: MediaState) -> Result<Vec<u8>, ChatError> {
        self.seal_body(MEDIA_STATE_KIND, &[state.to_byte()])
    }

    fn seal_body(&mut self, kind: u8, body: &[u8]) -> Result<Vec<u8>, ChatError> {
        // u64::MAX is never sent, so the reader's next expected number cannot overflow.
        if self.next_seq == u64::MAX {
            return Err(ChatError::Send(SendError::CounterExhausted));
        }
        let mut buf = Vec::with_capacity(CHAT_SEQ_LEN + 1 + body.len() + 33);
        buf.extend_from_slice(&self.next_seq.to_be_bytes());
        buf.push(kind);
        buf.extend_from_slice(body);
        self.sframe.encrypt_in_place(&mut buf, 0).map_err(ChatError::Send)?;
        self.next_seq += 1;
        Ok(buf)
    }
}

/// Opens the peer's chat messages and says where each falls in the sequence.
#[derive(Debug)]
pub struct ChatReceiver {
    sframe: Receiver,
    order: ChatSequence,
}

impl ChatReceiver {
    /// Opens with `sframe` (a [`Receiver`] limited to [`Slot::Chat`](crate::layout::Slot::Chat)).
    pub fn new(sframe: Receiver) -> ChatReceiver {
        ChatReceiver { sframe, order: ChatSequence::default() }
    }

    /// The SFrame receiver, to rekey it; the sequence goes on across rekeys.
    pub fn sframe(&mut self) -> &mut Receiver {
        &mut self.sframe
    }

    pub fn suite(&self) -> CipherSuite {
        self.sframe.suite()
    }

    /// Opens `frame` (as [`ChatSender::seal`] or [`ChatSender::seal_report`] made it) at
    /// `now_ms`; what it holds, and whether messages before it are missing or it arrived late.
    pub fn open(
        &mut self,
        mut frame: Vec<u8>,
        now_ms: u64,
    ) -> Result<(ChatContent, ChatOrder), ChatError> {
        self.sframe.decrypt_in_place(&mut frame, 0, now_ms).map_err(ChatError::Drop)?;
        if frame.len() <= CHAT_SEQ_LEN || frame.len() - CHAT_SEQ_LEN - 1 > MAX_CHAT_TEXT_BYTES {
            return Err(ChatError::NotChat);
        }
        let body = frame.split_off(CHAT_SEQ_LEN + 1);
        let kind = frame[CHAT_SEQ_LEN];
        let mut seq = [0u8; CHAT_SEQ_LEN];
        seq.copy_from_slice(&frame[..CHAT_SEQ_LEN]);
        let content = match (kind, body.as_slice()) {
            (KIND_TEXT, _) => {
                ChatContent::Text(String::from_utf8(body).map_err(|_| ChatError::NotChat)?)
            }
            (KIND_REPORT, [REPORT_GAP, missing @ ..]) => {
                let missing: [u8; 8] = missing.try_into().map_err(|_| ChatError::NotChat)?;
                match u64::from_be_bytes(missing) {
                    0 => return Err(ChatError::NotChat),
                    missing => ChatContent::Report(ChatOrder::AfterGap { missing }),
                }
            }
            (KIND_REPORT, [REPORT_LATE]) => ChatContent::Report(ChatOrder::Late),
            (MEDIA_STATE_KIND, [flags]) => ChatContent::MediaState(
                MediaState::from_byte(*flags).map_err(|_| ChatError::NotChat)?,
            ),
            _ => return Err(ChatError::NotChat),
        };
        let order = self.order.accept(u64::from_be_bytes(seq)).ok_or(ChatError::Repeated)?;
        Ok((content, order))
    }
}

/// Where each arriving sequence number falls: next in line, after a gap, or late.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatSequence {
    /// The sequence number expected next.
    next: u64,
    /// Numbers skipped over by a gap and not yet arrived.
    missing: BTreeSet<u64>,
}

impl ChatSequence {
    /// Places `seq`; `None` when it was already accepted or is too old to tell from a replay
    /// (or is `u64::MAX`, which no sender uses).
    pub fn accept(&mut self, seq: u64) -> Option<ChatOrder> {
        if seq == u64::MAX {
            return None;
        }
        if seq < self.next {
            return self.missing.remove(&seq).then_some(ChatOrder::Late);
        }
        let missing = seq - self.next;
        // Remember the newest skipped numbers only, so a huge forged gap costs no memory.
        let remembered = missing.min(MAX_REMEMBERED_MISSING as u64);
        self.missing.extend(seq - remembered..seq);
        while self.missing.len() > MAX_REMEMBERED_MISSING {
            self.missing.pop_first();
        }
        self.next = seq + 1;
        Some(if missing == 0 { ChatOrder::InOrder } else { ChatOrder::AfterGap { missing } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_late_arrivals_and_repeats() {
        let mut s = ChatSequence::default();
        assert_eq!(s.accept(0), Some(ChatOrder::InOrder));
        assert_eq!(s.accept(1), Some(ChatOrder::InOrder));
        assert_eq!(s.accept(4), Some(ChatOrder::AfterGap { missing: 2 }));
        assert_eq!(s.accept(3), Some(ChatOrder::Late));
        assert_eq!(s.accept(3), None, "shown once");
        assert_eq!(s.accept(4), None);
        assert_eq!(s.accept(1), None);
        assert_eq!(s.accept(5), Some(ChatOrder::InOrder));
        assert_eq!(s.accept(2), Some(ChatOrder::Late));
    }

    #[test]
    fn the_first_message_missing_is_a_gap() {
        let mut s = ChatSequence::default();
        assert_eq!(s.accept(1), Some(ChatOrder::AfterGap { missing: 1 }));
        assert_eq!(s.accept(0), Some(ChatOrder::Late));
    }

    #[test]
    fn a_huge_gap_remembers_a_bounded_number() {
        let mut s = ChatSequence::default();
        assert_eq!(s.accept(u64::MAX - 1), Some(ChatOrder::AfterGap { missing: u64::MAX - 1 }));
        assert_eq!(s.missing.len(), MAX_REMEMBERED_MISSING);
        assert_eq!(s.accept(u64::MAX - 2), Some(ChatOrder::Late));
        assert_eq!(s.accept(0), None, "too old to place");
        assert_eq!(s.accept(u64::MAX - 1), None);
        assert_eq!(s.accept(u64::MAX), None, "never sent");
    }

    #[test]
    fn the_cap_counts_bytes_and_tells_characters() {
        assert_eq!(check_chat_text(&"a".repeat(MAX_CHAT_TEXT_BYTES)), Ok(()));
        let long = "é".repeat(2049); // 4098 bytes
        let err = check_chat_text(&long).unwrap_err();
        assert_eq!(err, ChatTooLong { chars: 2049, bytes: 4098 });
        assert_eq!(
            err.to_string(),
            "Your message is too long (2049 characters; at most 4,096 bytes)."
        );
    }
}
