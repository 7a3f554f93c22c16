//! Which bytes of each codec's frames stay in the clear, and the KID of each media slot.
//!
//! Packetizers read the first bytes of some codecs' frames (BROWSER-FACTS.md, measured):
//! VP8 needs its payload header (10 bytes of a key frame, 3 of a delta frame) or the receiver's
//! frame type and size turn to garbage. Opus and VP9 work fully encrypted. The clear prefix is
//! SFrame metadata, so it is authenticated all the same.
//!
//! Which codec a frame carries ([`Codec`], from the negotiated payload types) is
//! `shieldcall-protocol`'s, as the page tells it to the worker.

use shieldcall_protocol::Codec;

/// VP8 payload header bytes left clear in a key frame (RFC 6386 §9.1: 3-byte tag, start code,
/// dimensions).
pub const VP8_KEY_FRAME_PREFIX: usize = 10;
/// VP8 payload header bytes left clear in a delta frame (the 3-byte frame tag).
pub const VP8_DELTA_FRAME_PREFIX: usize = 3;

/// How many leading bytes of a frame stay in the clear; never more than the frame holds.
pub fn clear_prefix_len(codec: Codec, is_key_frame: bool, frame_len: usize) -> usize {
    let want = match codec {
        Codec::Opus | Codec::Vp9 => 0,
        Codec::Vp8 if is_key_frame => VP8_KEY_FRAME_PREFIX,
        Codec::Vp8 => VP8_DELTA_FRAME_PREFIX,
    };
    want.min(frame_len)
}

/// Whether a VP8 frame is a key frame, read from the frame itself (bit 0 of the frame tag is 0
/// for key frames). That byte is in the clear before and after encryption, so sender and
/// receiver agree on the prefix without trusting `frame.type`.
pub fn vp8_is_key_frame(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 0)
}

/// [`clear_prefix_len`] with the key-frame flag read from the frame's own bytes; the same
/// answer for a plaintext frame and for its encrypted form.
pub fn clear_prefix_len_of(codec: Codec, frame: &[u8]) -> usize {
    clear_prefix_len(codec, codec == Codec::Vp8 && vp8_is_key_frame(frame), frame.len())
}

/// The media slots are the protocol's ([`shieldcall_protocol::Slot`]): the page, the worker and
/// this core name them alike; this module gives each its KIDs.
pub use shieldcall_protocol::Slot;

/// Bits of the KID below the epoch.
pub const SLOT_BITS: u32 = 4;

/// Largest epoch a KID can carry.
pub const MAX_EPOCH: u64 = u64::MAX >> SLOT_BITS;

/// `KID = (epoch << 4) | slot`; `None` past [`MAX_EPOCH`], where KIDs would repeat.
pub const fn kid(epoch: u64, slot: Slot) -> Option<u64> {
    if epoch > MAX_EPOCH { None } else { Some(epoch << SLOT_BITS | slot as u64) }
}

/// The epoch and the slot number of a KID (the slot number may name no known slot).
pub const fn split_kid(kid: u64) -> (u64, u8) {
    (kid >> SLOT_BITS, (kid & 0xf) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_per_codec() {
        assert_eq!(clear_prefix_len(Codec::Opus, false, 80), 0);
        assert_eq!(clear_prefix_len(Codec::Vp9, true, 8000), 0);
        assert_eq!(clear_prefix_len(Codec::Vp8, true, 3000), 10);
        assert_eq!(clear_prefix_len(Codec::Vp8, false, 3000), 3);
        assert_eq!(clear_prefix_len(Codec::Vp8, true, 4), 4);
        assert_eq!(clear_prefix_len(Codec::Vp8, false, 0), 0);
    }

    #[test]
    fn vp8_key_frame_bit() {
        // A key frame tag starts with P = 0; a delta frame with P = 1.
        assert_eq!(
            clear_prefix_len_of(Codec::Vp8, &[0x50, 0, 0, 0x9d, 0x01, 0x2a, 0, 0, 0, 0, 0]),
            10
        );
        assert_eq!(clear_prefix_len_of(Codec::Vp8, &[0x51, 0, 0, 7, 7]), 3);
        assert_eq!(clear_prefix_len_of(Codec::Opus, &[0x50, 1, 2]), 0);
    }

    #[test]
    fn kids() {
        assert_eq!(kid(0, Slot::MicAudio), Some(0));
        assert_eq!(kid(1, Slot::Chat), Some(0x1f));
        assert_eq!(kid(MAX_EPOCH, Slot::Camera), Some(u64::MAX - 14));
        assert_eq!(kid(MAX_EPOCH + 1, Slot::Camera), None);
        assert_eq!(split_kid(0x2a3), (0x2a, 3));
    }
}
