//! SFrame (RFC 9605): headers, keys, and the sender and receiver the media worker drives.
//!
//! One frame on the wire:
//! ```text
//! +--------------+----------------+--------------------------+---------+
//! | clear prefix | SFrame header  | ciphertext               | tag     |
//! | (metadata)   | 1-17 bytes     | same length as payload   | Nt      |
//! +--------------+----------------+--------------------------+---------+
//! AAD = SFrame header || clear prefix; the prefix stays readable for the packetizer.
//! ```

pub mod chat;
pub mod external;
mod header;
mod key;
mod receiver;
mod replay;
pub mod room;
mod sender;
pub mod sliced;
mod suite;

pub use header::{EncodedHeader, Header, MAX_HEADER_LEN, MalformedHeader};
pub use key::{AuthFailed, SframeKey, Tag, TooLong, ratchet};
pub use receiver::{DEFAULT_GRACE_MS, DropReason, MAX_EPOCH_LOOKAHEAD, Receiver};
pub use replay::{REPLAY_WINDOW, ReplayError, ReplayWindow};
pub use sender::{SendError, Sender};
pub use suite::{CipherSuite, MAX_KEY_LEN, MAX_TAG_LEN, NONCE_LEN, UnknownSuite};

/// Which key and counter protected a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    pub kid: u64,
    pub ctr: u64,
}

/// Largest payload one frame may carry: far above any media frame, and below every suite's
/// limit (GCM: 2^36 - 32 bytes), so sealing a checked frame cannot fail.
pub const MAX_PAYLOAD_LEN: usize = u32::MAX as usize;

/// Whether `len` exceeds [`MAX_PAYLOAD_LEN`]. Compared as `u64`: on 32-bit targets (wasm32) no
/// `usize` can exceed it, and the check must still compile there without a lint.
pub(crate) fn too_long(len: usize) -> bool {
    len as u64 > MAX_PAYLOAD_LEN as u64
}

/// Runs `f` on `header || metadata` without allocating when both are small (as for media).
fn with_aad<R>(header: &[u8], metadata: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let mut stack = [0u8; MAX_HEADER_LEN + 64];
    let n = header.len() + metadata.len();
    if n <= stack.len() {
        stack[..header.len()].copy_from_slice(header);
        stack[header.len()..n].copy_from_slice(metadata);
        f(&stack[..n])
    } else {
        let mut aad = Vec::with_capacity(n);
        aad.extend_from_slice(header);
        aad.extend_from_slice(metadata);
        f(&aad)
    }
}

/// Appends `header || ciphertext || tag` to `out` (RFC 9605 §4.4.3); `metadata` is
/// authenticated but not written. `out` may already hold a clear prefix.
pub fn encrypt_frame(
    key: &SframeKey,
    ctr: u64,
    metadata: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<FrameInfo, TooLong> {
    if too_long(plaintext.len()) {
        return Err(TooLong);
    }
    let header = Header::new(key.kid(), ctr).encode();
    out.reserve(header.as_bytes().len() + plaintext.len() + key.suite().nt());
    out.extend_from_slice(header.as_bytes());
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = with_aad(header.as_bytes(), metadata, |aad| key.seal(ctr, aad, &mut out[start..]))?;
    out.extend_from_slice(tag.as_bytes());
    Ok(FrameInfo { kid: key.kid(), ctr })
}

/// Reads the header of `frame` (`header || ciphertext || tag`, no prefix).
pub fn frame_header(frame: &[u8]) -> Result<Header, MalformedHeader> {
    Header::parse(frame).map(|(header, _)| header)
}

/// Opens `frame` (`header || ciphertext || tag`) with `key`, appending the plaintext to `out`.
///
/// No replay check: that needs state, which [`Receiver`] keeps.
pub fn decrypt_frame(
    key: &SframeKey,
    metadata: &[u8],
    frame: &[u8],
    out: &mut Vec<u8>,
) -> Result<FrameInfo, DropReason> {
    let (header, header_len) = Header::parse(frame).map_err(|_| DropReason::Malformed)?;
    let nt = key.suite().nt();
    if frame.len() < header_len + nt {
        return Err(DropReason::Malformed);
    }
    if header.kid != key.kid() {
        return Err(DropReason::UnknownKid);
    }
    let (body, tag) = frame[header_len..].split_at(frame.len() - header_len - nt);
    let start = out.len();
    out.extend_from_slice(body);
    let opened = with_aad(&frame[..header_len], metadata, |aad| {
        key.open(header.ctr, aad, &mut out[start..], tag)
    });
    if opened.is_err() {
        out.truncate(start);
        return Err(DropReason::AuthFailed);
    }
    Ok(FrameInfo { kid: header.kid, ctr: header.ctr })
}
