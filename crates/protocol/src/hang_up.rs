//! A person's hang-up on the media connection (PROTOCOL.md changes 57 and 58): once a call is
//! confirmed (under E2EE or transport-only, not in a group) the signed `bye` of change 55 goes
//! over the data channel as well as through the relay, so that a relay that drops it cannot
//! leave the other side waiting on a connection that is gone.
//!
//! ```text
//! binary data-channel message   0x06 || mac (32)
//! ```

/// The first byte of the binary data-channel message that carries a hang-up.
pub const HANG_UP_KIND: u8 = 6;

const LEN: usize = 1 + 32;

/// The binary message of a hang-up signed with `mac`.
pub fn hang_up_message(mac: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEN);
    out.push(HANG_UP_KIND);
    out.extend_from_slice(mac);
    out
}

/// The MAC a hang-up message carries; `None` for anything else (another kind, or the right
/// kind at the wrong length).
pub fn hang_up_mac(bytes: &[u8]) -> Option<[u8; 32]> {
    match bytes.split_first() {
        Some((&HANG_UP_KIND, mac)) => mac.try_into().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_wrote_and_nothing_else() {
        let message = hang_up_message(&[9; 32]);
        assert_eq!(message.len(), 33);
        assert_eq!(hang_up_mac(&message), Some([9; 32]));
        assert_eq!(hang_up_mac(&message[..32]), None);
        let mut longer = message.clone();
        longer.push(0);
        assert_eq!(hang_up_mac(&longer), None);
        longer[0] = crate::MOVE_INTENT_KIND;
        assert_eq!(hang_up_mac(&longer[..33]), None);
        assert_eq!(hang_up_mac(&[]), None);
    }
}
