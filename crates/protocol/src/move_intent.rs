//! A person's word, on the media connection itself, that they are about to move their place in
//! an E2EE call to another device (PROTOCOL.md change 44): the other side re-keys on the
//! relay's `peer-moved` only while it holds a live one.
//!
//! ```text
//! binary data-channel message   0x03 || nonce (16) || ttl_secs (4, BE) || mac (32)
//! ```
//! The MAC (computed and checked by the E2EE core) is keyed from the ECDH of the locked
//! agreement, so the relay can neither forge nor alter one; the channel runs peer to peer over
//! DTLS, so the relay cannot hold one back to deliver it later either.

/// The first byte of the binary data-channel message that carries a [`MoveIntent`].
pub const MOVE_INTENT_KIND: u8 = 3;

const LEN: usize = 1 + 16 + 4 + 32;

/// One announced move: its nonce (which the move's secret is derived from), how long its link
/// works, and the MAC that proves it comes from the other party of the agreement.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MoveIntent {
    pub nonce: [u8; 16],
    pub ttl_secs: u32,
    pub mac: [u8; 32],
}

/// The nonce is not secret (the move's secret also needs the ECDH), but there is no reason to
/// print it either.
impl std::fmt::Debug for MoveIntent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoveIntent").field("ttl_secs", &self.ttl_secs).finish_non_exhaustive()
    }
}

/// Bytes that are no move intent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadMoveIntent {
    /// Another kind of message.
    NotAnIntent,
    /// The right kind, the wrong length.
    Malformed,
}

impl std::fmt::Display for BadMoveIntent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadMoveIntent::NotAnIntent => "not a move announcement",
            BadMoveIntent::Malformed => "a move announcement of the wrong length",
        })
    }
}

impl std::error::Error for BadMoveIntent {}

impl MoveIntent {
    /// The binary message.
    pub fn to_message(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LEN);
        out.push(MOVE_INTENT_KIND);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ttl_secs.to_be_bytes());
        out.extend_from_slice(&self.mac);
        out
    }

    /// Reads a binary message; anything but exactly one intent is refused.
    pub fn from_message(bytes: &[u8]) -> Result<MoveIntent, BadMoveIntent> {
        match bytes.first() {
            Some(&MOVE_INTENT_KIND) if bytes.len() == LEN => {}
            Some(&MOVE_INTENT_KIND) => return Err(BadMoveIntent::Malformed),
            _ => return Err(BadMoveIntent::NotAnIntent),
        }
        let (nonce, rest) = bytes[1..].split_at(16);
        let (ttl, mac) = rest.split_at(4);
        Ok(MoveIntent {
            nonce: nonce.try_into().expect("16 bytes"),
            ttl_secs: u32::from_be_bytes(ttl.try_into().expect("4 bytes")),
            mac: mac.try_into().expect("32 bytes"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_wrote_and_nothing_else() {
        let intent = MoveIntent { nonce: [7; 16], ttl_secs: 120, mac: [9; 32] };
        let message = intent.to_message();
        assert_eq!(message.len(), 53);
        assert_eq!(message[0], MOVE_INTENT_KIND);
        assert_eq!(MoveIntent::from_message(&message), Ok(intent));
        assert_eq!(MoveIntent::from_message(&message[..52]), Err(BadMoveIntent::Malformed));
        let mut longer = message.clone();
        longer.push(0);
        assert_eq!(MoveIntent::from_message(&longer), Err(BadMoveIntent::Malformed));
        assert_eq!(MoveIntent::from_message(&[2, 3]), Err(BadMoveIntent::NotAnIntent));
        assert_eq!(MoveIntent::from_message(&[]), Err(BadMoveIntent::NotAnIntent));
        assert!(!format!("{intent:?}").contains("7, 7"));
    }
}
