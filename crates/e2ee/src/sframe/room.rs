//! Sealing with room: an outside AES-GCM's output made the whole SFrame frame, with no second
//! buffer (PROTOCOL.md change 51).
//!
//! WebCrypto writes `ciphertext || tag` at the start of a new buffer of its own, and a frame
//! needs `clear prefix || header` in front of it. Making room afterwards takes a second buffer of
//! the frame's size, which in Chromium is fresh memory every time: about half the cost of the
//! whole call from 16 KB on (docs/MEASURED.md, "Where a sealed frame's extra time goes"). So
//! the outside call is given one block more, whose ciphertext comes out as the prefix and the
//! header:
//! ```text
//! outside call:  AES-GCM(K, iv, aad, first_block || payload) = W || ciphertext || tag'
//! the frame:     W || ciphertext || (tag' XOR tag_fix),   W = clear prefix || header
//! ```
//! `W` is one block (16 bytes): the header of a wide KID ([`crate::layout::wide_kid`]) is
//! `16 - prefix` bytes long. The call is the frame's own GCM, shifted by one block:
//! - A 16-byte `iv` makes GCM start its counter at `J0' = GHASH_H(iv || lengths)`, which the key's
//!   H lets us choose: `J0' = nonce || 0`. Then `first_block` takes counter 1 and the payload
//!   counters 2, 3, ...: the frame's own keystream, so the ciphertext is the frame's.
//! - `first_block = W XOR E(nonce || 1)`, so its ciphertext is `W`.
//! - GHASH is linear, so `tag'` differs from the frame's tag by terms known before the call:
//!   `aad = (W XOR AAD)·H^-1` turns `W`'s block into the frame's AAD (`header || prefix`, also
//!   one block; without a clear prefix the two are the same block, and the call has no `aad`),
//!   the length blocks differ, and the masks are `E(nonce || 0)` against `E(nonce || 1)`.
//!
//! `first_block` and `tag_fix` hold key stream, and `iv` and `aad` give away H (with the public
//! counters and header): like the key, all four stay in the worker, go only into the outside
//! call and its tag, and are wiped.

use zeroize::{Zeroize, Zeroizing};

use super::external::ExternalKey;
use super::sliced::{counter_block, gf_mul};
use super::{CipherSuite, FrameInfo, Header, NONCE_LEN};
use crate::layout::ROOM;

// The AES block cipher, to work out H and the two masks: the bitsliced one in WebAssembly and,
// the same code on integer planes, on the host (constant time on both).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use super::sliced::portable as planes;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::sliced::simd as planes;

/// The wide KID's AES, for the blocks around the outside call.
enum Blocks {
    Aes128(Box<planes::Aes128Gcm>),
    #[cfg(feature = "every-suite")]
    Aes256(Box<planes::Aes256Gcm>),
}

impl Blocks {
    fn new(suite: CipherSuite, key: &[u8]) -> Option<Blocks> {
        match suite {
            CipherSuite::Aes128GcmSha256_128 => {
                Some(Blocks::Aes128(planes::Aes128Gcm::new_boxed(key)))
            }
            #[cfg(feature = "every-suite")]
            CipherSuite::Aes256GcmSha512_128 => {
                Some(Blocks::Aes256(planes::Aes256Gcm::new_boxed(key)))
            }
            #[cfg(feature = "every-suite")]
            _ => None,
        }
    }

    /// `E(nonce || c)` for counters 0 to 7.
    fn counter_blocks(&self, nonce: &[u8; NONCE_LEN]) -> Zeroizing<[[u8; 16]; 8]> {
        match self {
            Blocks::Aes128(gcm) => gcm.counter_blocks(nonce, 0),
            #[cfg(feature = "every-suite")]
            Blocks::Aes256(gcm) => gcm.counter_blocks(nonce, 0),
        }
    }
}

/// The element 1 (x^0, the top bit in GCM's order).
const ONE: u128 = 1 << 127;

/// `h^-1 = h^(2^128 - 2) = h^2 · h^4 · ... · h^(2^127)`: a fixed chain of squarings and products,
/// each constant-time.
fn inverse(h: u128) -> u128 {
    let (mut square, mut product) = (h, ONE);
    for _ in 1..128 {
        square = gf_mul(square, square);
        product = gf_mul(product, square);
    }
    product
}

/// The key of one wide KID, for sealing with room: the outside AES-GCM's key (to import), and
/// what works out each frame's `iv`, `aad`, `first_block` and `tag_fix`. Wiped on drop; `Debug`
/// shows no key material.
pub struct RoomKey {
    external: ExternalKey,
    blocks: Blocks,
    /// H, H^-1 and H^-2 (H as secret as the key: with it, tags can be forged).
    h: u128,
    h_inv: u128,
    h_inv2: u128,
    /// `(salt || 0)·H^-2 XOR lengths(iv)·H^-1`: the counter-free part of every `iv`.
    iv_base: u128,
}

impl std::fmt::Debug for RoomKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomKey").field("external", &self.external).finish_non_exhaustive()
    }
}

impl Drop for RoomKey {
    fn drop(&mut self) {
        for value in [&mut self.h, &mut self.h_inv, &mut self.h_inv2, &mut self.iv_base] {
            value.zeroize();
        }
    }
}

/// One frame to seal with room; its counter is taken and will not be used again.
pub struct RoomJob {
    pub(super) info: FrameInfo,
    /// The frame's first block, `clear prefix || header`: public, and what the call's output
    /// must start with.
    pub(super) front: [u8; 16],
    pub(super) iv: Zeroizing<[u8; 16]>,
    /// `aad_len` bytes: 16, or none without a clear prefix.
    pub(super) aad: Zeroizing<[u8; 16]>,
    pub(super) aad_len: usize,
    pub(super) first_block: Zeroizing<[u8; 16]>,
    pub(super) tag_fix: Zeroizing<[u8; 16]>,
}

impl std::fmt::Debug for RoomJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomJob").field("info", &self.info).finish_non_exhaustive()
    }
}

impl RoomJob {
    pub fn info(&self) -> FrameInfo {
        self.info
    }

    /// `clear prefix || header`: the first 16 bytes the outside call's output must have (an
    /// engine that took the 16-byte IV otherwise would give another frame; it is not sent).
    pub fn front(&self) -> &[u8; 16] {
        &self.front
    }

    /// The outside call's 16-byte IV.
    pub fn iv(&self) -> &[u8; 16] {
        &self.iv
    }

    /// The outside call's additional data: one block, or none (empty) without a clear prefix.
    pub fn aad(&self) -> &[u8] {
        &self.aad[..self.aad_len]
    }

    /// The block in front of the payload in the outside call's plaintext.
    pub fn first_block(&self) -> &[u8; 16] {
        &self.first_block
    }

    /// XORed into the outside call's tag (its last 16 bytes), it gives the frame's.
    pub fn tag_fix(&self) -> &[u8; 16] {
        &self.tag_fix
    }
}

fn block(value: u128) -> [u8; 16] {
    value.to_be_bytes()
}

fn value(block: &[u8; 16]) -> u128 {
    u128::from_be_bytes(*block)
}

/// The length block of GCM: bits of AAD, then bits of text.
fn lengths(aad_len: usize, text_len: usize) -> u128 {
    ((aad_len as u128 * 8) << 64) | (text_len as u128 * 8)
}

impl RoomKey {
    /// The key of the wide KID `kid` under `base_key`; `None` for a suite that is not AES-GCM.
    pub fn derive(suite: CipherSuite, base_key: &[u8], kid: u64) -> Option<RoomKey> {
        let external = ExternalKey::derive(suite, base_key, kid)?;
        let blocks = Blocks::new(suite, external.key_bytes())?;
        let h = value(&blocks.counter_blocks(&[0; NONCE_LEN])[0]);
        let h_inv = inverse(h);
        let h_inv2 = gf_mul(h_inv, h_inv);
        let salt = value(&counter_block(&external.nonce(0), 0));
        let iv_base = gf_mul(salt, h_inv2) ^ gf_mul(lengths(0, 16), h_inv);
        Some(RoomKey { external, blocks, h, h_inv, h_inv2, iv_base })
    }

    pub fn kid(&self) -> u64 {
        self.external.kid()
    }

    /// The key to import into the outside AES-GCM.
    pub fn external_key(&self) -> &ExternalKey {
        &self.external
    }

    /// The job of the frame with counter `ctr`, `clear_prefix` and a payload of `payload_len`
    /// bytes. `None` unless the prefix and this KID's header at `ctr` make [`ROOM`] bytes.
    pub fn job(&self, ctr: u64, clear_prefix: &[u8], payload_len: usize) -> Option<RoomJob> {
        let header = Header::new(self.kid(), ctr).encode();
        let header = header.as_bytes();
        // The frame's first block on the wire, and its AAD.
        let w = one_block(clear_prefix, header)?;
        let aad = one_block(header, clear_prefix)?;
        let nonce = self.external.nonce(ctr);
        let masks = self.blocks.counter_blocks(&nonce);
        let (e0, e1) = (Zeroizing::new(value(&masks[0])), Zeroizing::new(value(&masks[1])));
        // J0' = nonce || 0 = (salt || 0) XOR (ctr << 32).
        let iv = Zeroizing::new(self.iv_base ^ gf_mul(u128::from(ctr) << 32, self.h_inv2));
        // Without a clear prefix the frame's first block is its AAD: the call needs none.
        let (aad, aad_len) = match clear_prefix.is_empty() {
            true => (0, 0),
            false => (gf_mul(w ^ aad, self.h_inv), ROOM),
        };
        let lengths = lengths(ROOM, payload_len) ^ lengths(aad_len, ROOM + payload_len);
        Some(RoomJob {
            info: FrameInfo { kid: self.kid(), ctr },
            front: block(w),
            iv: Zeroizing::new(block(*iv)),
            aad: Zeroizing::new(block(aad)),
            aad_len,
            first_block: Zeroizing::new(block(w ^ *e1)),
            tag_fix: Zeroizing::new(block(*e0 ^ *e1 ^ gf_mul(lengths, self.h))),
        })
    }
}

/// `first || second`, when they make one block.
fn one_block(first: &[u8], second: &[u8]) -> Option<u128> {
    if first.len() + second.len() != ROOM {
        return None;
    }
    let mut out = [0; 16];
    out[..first.len()].copy_from_slice(first);
    out[first.len()..].copy_from_slice(second);
    Some(value(&out))
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::consts::U16;
    use aes_gcm::aead::{AeadInPlace, KeyInit};

    use super::*;
    use crate::layout::{MAX_ROOM_PREFIX, Slot, WIDE_FIRST_CTR, kid, wide_kid};
    use crate::sframe::{SframeKey, encrypt_frame};

    /// Seals `payload` the way the worker has WebCrypto seal it with room, here with the
    /// `aes-gcm` crate and a 16-byte IV (as WebCrypto takes it): `W || ciphertext || tag'`,
    /// then the tag fixed.
    fn sealed_with_room(key: &RoomKey, ctr: u64, prefix: &[u8], payload: &[u8]) -> Vec<u8> {
        let job = key.job(ctr, prefix, payload.len()).expect("prefix and header make a block");
        let mut buf = [job.first_block().as_slice(), payload].concat();
        let raw = key.external_key().key_bytes();
        let tag: [u8; 16] = match raw.len() {
            16 => aes_gcm::AesGcm::<aes::Aes128, U16>::new_from_slice(raw)
                .unwrap()
                .encrypt_in_place_detached(job.iv().into(), job.aad(), &mut buf)
                .unwrap()
                .into(),
            _ => aes_gcm::AesGcm::<aes::Aes256, U16>::new_from_slice(raw)
                .unwrap()
                .encrypt_in_place_detached(job.iv().into(), job.aad(), &mut buf)
                .unwrap()
                .into(),
        };
        buf.extend(tag.iter().zip(job.tag_fix()).map(|(t, f)| t ^ f));
        buf
    }

    #[test]
    fn the_outside_call_gives_the_frame_byte_for_byte() {
        for suite in [CipherSuite::Aes128GcmSha256_128, CipherSuite::Aes256GcmSha512_128] {
            let base = vec![0x42; suite.nk()];
            for epoch in [0, 7, 0x1234] {
                let narrow = kid(epoch, Slot::Camera).unwrap();
                for p in 0..=MAX_ROOM_PREFIX {
                    let kid = wide_kid(narrow, p).unwrap();
                    let key = RoomKey::derive(suite, &base, kid).unwrap();
                    let frame_key = SframeKey::derive(suite, &base, kid);
                    let prefix: Vec<u8> = (0..p as u8).map(|i| 0x90 | i).collect();
                    for (ctr, len) in [
                        (WIDE_FIRST_CTR, 0),
                        (WIDE_FIRST_CTR + 1, 1),
                        (WIDE_FIRST_CTR + 9, 15),
                        (u64::MAX - 1, 16),
                        (WIDE_FIRST_CTR + 300, 17),
                        (WIDE_FIRST_CTR + 0xabcdef, 1500),
                        (u64::MAX, 16 * 1024 + 5),
                    ] {
                        let payload: Vec<u8> =
                            (0..len).map(|i| (i as u64 * 7).wrapping_add(ctr) as u8).collect();
                        let mut expected = prefix.clone();
                        encrypt_frame(&frame_key, ctr, &prefix, &payload, &mut expected).unwrap();
                        let got = sealed_with_room(&key, ctr, &prefix, &payload);
                        assert_eq!(
                            got, expected,
                            "{suite:?} epoch {epoch}, prefix {p}, ctr {ctr:#x}, {len} B"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn no_room_for_a_suite_without_gcm() {
        let kid = wide_kid(kid(0, Slot::Camera).unwrap(), 0).unwrap();
        assert!(RoomKey::derive(CipherSuite::AesCtr128HmacSha256_80, &[1; 16], kid).is_none());
    }

    #[test]
    fn only_a_prefix_and_header_of_one_block_have_room() {
        let suite = CipherSuite::Aes128GcmSha256_128;
        let kid = wide_kid(kid(0, Slot::Camera).unwrap(), 3).unwrap();
        let key = RoomKey::derive(suite, &[1; 16], kid).unwrap();
        assert!(key.job(WIDE_FIRST_CTR, &[1, 2, 3], 100).is_some());
        assert!(key.job(WIDE_FIRST_CTR, &[1, 2], 100).is_none(), "prefix too short");
        assert!(key.job(WIDE_FIRST_CTR - 1, &[1, 2, 3], 100).is_none(), "a 7-byte counter");
    }

    /// GF(2^128) multiplication by the book (NIST SP 800-38D, Algorithm 1), to check GHASH's.
    fn mul_by_the_book(x: u128, y: u128) -> u128 {
        let (mut z, mut v) = (0, y);
        for i in (0..128).rev() {
            if (x >> i) & 1 == 1 {
                z ^= v;
            }
            v = (v >> 1) ^ if v & 1 == 1 { 0xE1 << 120 } else { 0 };
        }
        z
    }

    #[test]
    fn the_field_arithmetic_holds() {
        let h = 0x66e94bd4ef8a2c3b884cfa59ca342b2e_u128; // AES-128's H for the zero key
        let h_inv = inverse(h);
        assert_eq!(gf_mul(h, h_inv), ONE);
        assert_eq!(gf_mul(ONE, h), h);
        for (a, b) in [
            (0x0123_4567_89ab_cdef_0011_2233_4455_6677, h),
            (1 << 32, h_inv),
            (128, h),
            (u128::MAX, u128::MAX),
        ] {
            assert_eq!(gf_mul(a, b), mul_by_the_book(a, b), "{a:#x} {b:#x}");
            assert_eq!(gf_mul(a, b), gf_mul(b, a), "commutes");
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let suite = CipherSuite::Aes128GcmSha256_128;
        let kid = wide_kid(kid(0, Slot::Camera).unwrap(), 3).unwrap();
        let key = RoomKey::derive(suite, &[0x77; 16], kid).unwrap();
        let job = key.job(WIDE_FIRST_CTR, &[1, 2, 3], 10).unwrap();
        let shown = format!("{key:?} {job:?}");
        for secret in [job.first_block(), job.tag_fix(), job.iv(), &job.aad[..]] {
            // As `Debug` would print the bytes (in decimal), and in hex.
            let debug = format!("{:?}", &secret[..6]);
            let debug = &debug[1..debug.len() - 1];
            let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!shown.contains(debug) && !shown.contains(&hex[..12]), "{shown}");
        }
        for field in ["first_block", "tag_fix", "iv", "aad", "h_inv", "key_bytes"] {
            assert!(!shown.contains(field), "{field}: {shown}");
        }
    }
}
