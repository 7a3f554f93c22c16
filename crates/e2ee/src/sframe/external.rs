//! SFrame with the AES-GCM call made elsewhere: by the browser's WebCrypto, which has the CPU's
//! AES instructions where WebAssembly has none (about ten times faster on a 16 KB video frame).
//!
//! Everything SFrame decides stays here and is the same as on the all-Rust path, byte for byte:
//! the key and salt of each KID, the counter, the header, the nonce, the AAD and the replay
//! window. What leaves is one AES-GCM call's worth:
//! ```text
//! seal:  job = sender.seal_job(len)          counter taken, header and nonce made
//!        ct||tag = AES-GCM-Encrypt(key(job.kid), job.nonce, aad = header || prefix, payload)
//!        frame = prefix || job.header || ct||tag
//! open:  job = receiver.open_job(head, len)  header read, KID known, counter not a replay
//!        payload = AES-GCM-Decrypt(key(job.kid), job.nonce, aad = header || prefix, ct||tag)
//!        receiver.accept(&job)              only now does the replay window move
//! ```
//! Only the GCM suites go outside: the CTR+HMAC ones have no WebCrypto equivalent.

use zeroize::Zeroizing;

use super::key::{derive_key_and_salt, nonce_of};
use super::{CipherSuite, DropReason};
use super::{EncodedHeader, FrameInfo, Header, MAX_HEADER_LEN, MAX_KEY_LEN, NONCE_LEN};

/// The raw AES-GCM key and salt of one KID, to import into an outside AES-GCM (as a
/// non-extractable key). Wiped on drop; `Debug` shows no key material.
pub struct ExternalKey {
    suite: CipherSuite,
    kid: u64,
    key: Zeroizing<[u8; MAX_KEY_LEN]>,
    salt: Zeroizing<[u8; NONCE_LEN]>,
}

impl std::fmt::Debug for ExternalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalKey")
            .field("suite", &self.suite)
            .field("kid", &self.kid)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ExternalKey {
    /// The key of `kid` under `base_key`; `None` for a suite that is not AES-GCM.
    pub fn derive(suite: CipherSuite, base_key: &[u8], kid: u64) -> Option<ExternalKey> {
        if !is_gcm(suite) {
            return None;
        }
        let (key, salt) = derive_key_and_salt(suite, base_key, kid);
        Some(ExternalKey { suite, kid, key, salt })
    }

    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    pub fn kid(&self) -> u64 {
        self.kid
    }

    /// The `Nk` bytes of the AES key: for the import call only.
    pub fn key_bytes(&self) -> &[u8] {
        &self.key[..self.suite.nk()]
    }

    /// The nonce of counter `ctr` under this key.
    pub fn nonce(&self, ctr: u64) -> [u8; NONCE_LEN] {
        nonce_of(&self.salt, ctr)
    }
}

/// Whether `suite` is one an outside AES-GCM can run.
pub fn is_gcm(suite: CipherSuite) -> bool {
    match suite {
        CipherSuite::Aes128GcmSha256_128 => true,
        #[cfg(feature = "every-suite")]
        CipherSuite::Aes256GcmSha512_128 => true,
        #[cfg(feature = "every-suite")]
        CipherSuite::AesCtr128HmacSha256_80
        | CipherSuite::AesCtr128HmacSha256_64
        | CipherSuite::AesCtr128HmacSha256_32 => false,
    }
}

/// One frame to seal outside: its counter is taken and will not be used again. (Its `Debug`
/// leaves the nonce out: with the counter, which is public, it would give away the KID's salt.)
pub struct SealJob {
    pub(super) info: FrameInfo,
    pub(super) header: EncodedHeader,
    pub(super) nonce: [u8; NONCE_LEN],
}

/// One frame to open outside: its header is read, its KID known and its counter not a replay
/// at the time of asking. Give it back to [`Receiver::accept`](super::Receiver::accept) once
/// the outside AES-GCM has authenticated it. (`Debug` without the nonce, as for [`SealJob`].)
pub struct OpenJob {
    pub(super) info: FrameInfo,
    pub(super) header_len: usize,
    pub(super) nonce: [u8; NONCE_LEN],
}

impl std::fmt::Debug for SealJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealJob").field("info", &self.info).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for OpenJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenJob").field("info", &self.info).finish_non_exhaustive()
    }
}

impl SealJob {
    pub fn info(&self) -> FrameInfo {
        self.info
    }

    /// The SFrame header, written between the clear prefix and the ciphertext.
    pub fn header(&self) -> &[u8] {
        self.header.as_bytes()
    }

    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// `header || clear prefix`.
    pub fn aad(&self, clear_prefix: &[u8]) -> Vec<u8> {
        [self.header(), clear_prefix].concat()
    }
}

impl OpenJob {
    pub fn info(&self) -> FrameInfo {
        self.info
    }

    /// Bytes of SFrame header after the clear prefix; `ciphertext || tag` follows.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// `header || clear prefix`, from the frame's first bytes (`head`, at least
    /// `clear_prefix_len + header_len` of them).
    pub fn aad(&self, head: &[u8], clear_prefix_len: usize) -> Vec<u8> {
        let header = &head[clear_prefix_len..clear_prefix_len + self.header_len];
        [header, &head[..clear_prefix_len]].concat()
    }
}

/// How many of a frame's first bytes [`Receiver::open_job`](super::Receiver::open_job) reads:
/// the longest clear prefix and the longest header.
pub const HEAD_LEN: usize = crate::layout::VP8_KEY_FRAME_PREFIX + MAX_HEADER_LEN;

/// Reads the header at the start of `wire` (`header || ciphertext || tag`, of which `wire`
/// may hold only the first bytes) of a frame `wire_len` bytes long with an `nt`-byte tag.
pub(super) fn parse_wire_head(
    wire: &[u8],
    wire_len: usize,
    nt: usize,
) -> Result<(Header, usize), DropReason> {
    let (header, h) = Header::parse(wire).map_err(|_| DropReason::Malformed)?;
    wire_len.checked_sub(h + nt).ok_or(DropReason::Malformed)?;
    Ok((header, h))
}
