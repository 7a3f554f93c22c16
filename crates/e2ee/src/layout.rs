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

/// Bits of a narrow KID, `(epoch << 4) | slot`: the KIDs above them are left to the wide ones.
pub const NARROW_KID_BITS: u32 = 24;

/// Largest epoch a KID can carry (about a million key changes).
pub const MAX_EPOCH: u64 = (1 << (NARROW_KID_BITS - SLOT_BITS)) - 1;

/// `KID = (epoch << 4) | slot`; `None` past [`MAX_EPOCH`], where KIDs would repeat.
pub const fn kid(epoch: u64, slot: Slot) -> Option<u64> {
    if epoch > MAX_EPOCH { None } else { Some(epoch << SLOT_BITS | slot as u64) }
}

/// The clear prefix and the SFrame header of a frame sealed with room (PROTOCOL.md change 51):
/// one AES block, so that an outside AES-GCM's output is the whole frame.
pub const ROOM: usize = 16;

/// The longest clear prefix a wide KID exists for: its header is `ROOM - prefix` bytes, at least
/// 13, and a KID of at least 4 bytes stays clear of the narrow ones.
pub const MAX_ROOM_PREFIX: usize = 3;

/// The first counter of a wide KID: 8 bytes in the header from the first frame on.
pub const WIDE_FIRST_CTR: u64 = 1 << 56;

/// The wide KID of the narrow `kid` for frames with a clear prefix of `prefix_len` bytes: a one
/// bit in front of it, so the KID takes `7 - prefix_len` bytes and, with a counter of 8, the
/// header `ROOM - prefix_len`. Its own key and salt come from the KID as any KID's (RFC 9605
/// §4.4.2), and its own counter and replay window. `None` for a prefix over
/// [`MAX_ROOM_PREFIX`] or a KID that is not narrow.
pub const fn wide_kid(kid: u64, prefix_len: usize) -> Option<u64> {
    if kid >> NARROW_KID_BITS != 0 || prefix_len > MAX_ROOM_PREFIX {
        return None;
    }
    Some(1 << (8 * (6 - prefix_len)) | kid)
}

/// The narrow KID a KID stands for: itself, or a wide KID's narrow part. `None` for a KID that
/// is neither, which no sender here writes.
pub const fn narrow_kid(kid: u64) -> Option<u64> {
    let high = kid >> NARROW_KID_BITS;
    let wide = high.is_power_of_two() && high.trailing_zeros().is_multiple_of(8) && high <= 1 << 24;
    if high == 0 || wide { Some(kid & ((1 << NARROW_KID_BITS) - 1)) } else { None }
}

/// The epoch and the slot number of a KID, narrow or wide (the slot number may name no known
/// slot); `None` for a KID that is neither.
pub const fn split_kid(kid: u64) -> Option<(u64, u8)> {
    match narrow_kid(kid) {
        Some(narrow) => Some((narrow >> SLOT_BITS, (narrow & 0xf) as u8)),
        None => None,
    }
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
        assert_eq!(kid(MAX_EPOCH, Slot::Camera), Some(0xff_fff1));
        assert_eq!(kid(MAX_EPOCH + 1, Slot::Camera), None);
        assert_eq!(split_kid(0x2a3), Some((0x2a, 3)));
    }

    #[test]
    fn wide_kids_make_room_for_the_clear_prefix_and_name_their_narrow_kid() {
        use crate::sframe::Header;
        for epoch in [0, 1, 0x2a, MAX_EPOCH] {
            let narrow = kid(epoch, Slot::Camera).unwrap();
            for prefix in 0..=MAX_ROOM_PREFIX {
                let wide = wide_kid(narrow, prefix).unwrap();
                let header = Header::new(wide, WIDE_FIRST_CTR).encode();
                assert_eq!(
                    prefix + header.as_bytes().len(),
                    ROOM,
                    "epoch {epoch}, prefix {prefix}"
                );
                let last = Header::new(wide, u64::MAX).encode();
                assert_eq!(last.as_bytes().len(), header.as_bytes().len());
                assert_eq!(narrow_kid(wide), Some(narrow));
                assert_eq!(split_kid(wide), Some((epoch, Slot::Camera as u8)));
            }
            assert_eq!(wide_kid(narrow, MAX_ROOM_PREFIX + 1), None, "VP8 key frames: none");
        }
        assert_eq!(wide_kid(1 << NARROW_KID_BITS, 0), None, "a wide KID is not widened");
        // The four wide forms are distinct from each other and from the narrow KIDs.
        let forms: Vec<u64> = (0..=MAX_ROOM_PREFIX).map(|p| wide_kid(0x11, p).unwrap()).collect();
        assert_eq!(forms, [1 << 48 | 0x11, 1 << 40 | 0x11, 1 << 32 | 0x11, 1 << 24 | 0x11]);
        // Any other KID past the narrow ones names nothing.
        for other in [1 << 25, 3 << 24, 1 << 56, 1 << 48 | 1 << 30, u64::MAX, 1 << 36] {
            assert_eq!(narrow_kid(other), None, "{other:#x}");
            assert_eq!(split_kid(other), None, "{other:#x}");
        }
    }
}
