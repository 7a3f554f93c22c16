//! Frame keys: derivation (RFC 9605 §4.4.2), nonces (§4.4.3) and the AEADs (§4.5).

#[cfg(feature = "every-suite")]
use aes::cipher::BlockEncrypt;
#[cfg(any(
    feature = "every-suite",
    not(all(target_arch = "wasm32", target_feature = "simd128"))
))]
use aes::cipher::KeyInit;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use aes_gcm::aead::AeadInPlace;
use hkdf::Hkdf;
#[cfg(feature = "every-suite")]
use hkdf::hmac::{Hmac, KeyInit as MacKeyInit, Mac};
use sha2::Sha256;
#[cfg(feature = "every-suite")]
use sha2::Sha512;
#[cfg(feature = "every-suite")]
use subtle::ConstantTimeEq;
#[cfg(feature = "every-suite")]
use zeroize::Zeroize;
use zeroize::Zeroizing;

use super::suite::{CipherSuite, MAX_KEY_LEN, MAX_TAG_LEN, NONCE_LEN};

/// The frame did not authenticate. Deliberately says nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthFailed;

impl std::fmt::Display for AuthFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("frame failed authentication")
    }
}

impl std::error::Error for AuthFailed {}

/// The plaintext is longer than the cipher can take in one message (GCM: 2^36 - 32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

/// An authentication tag of `Nt` bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    bytes: [u8; MAX_TAG_LEN],
    len: usize,
}

impl Tag {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tag({:02x?})", self.as_bytes())
    }
}

/// The AES-GCM of the GCM suites: in WebAssembly with SIMD (the media worker, the app) the
/// bitsliced one of [`super::sliced`], 2.6-4x the `aes-gcm` crate's software AES-GCM there
/// (docs/MEASURED.md, "A bitsliced AES-GCM for wasm"); elsewhere the `aes-gcm` crate, which
/// uses the CPU's AES instructions where it has them.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Gcm128 = super::sliced::simd::Aes128Gcm;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", feature = "every-suite"))]
type Gcm256 = super::sliced::simd::Aes256Gcm;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type Gcm128 = aes_gcm::Aes128Gcm;
#[cfg(all(not(all(target_arch = "wasm32", target_feature = "simd128")), feature = "every-suite"))]
type Gcm256 = aes_gcm::Aes256Gcm;

/// One AES-GCM call with a 16-byte tag, whichever implementation the target gets.
trait FrameAead {
    /// On the heap, where it stays (see [`Cipher`]).
    fn boxed(key: &[u8]) -> Box<Self>;
    fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], TooLong>;
    /// `tag` is 16 bytes (checked by the caller against `Nt`).
    fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), AuthFailed>;
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl<P: super::sliced::Planes, const R: usize> FrameAead for super::sliced::Gcm<P, R> {
    fn boxed(key: &[u8]) -> Box<Self> {
        Self::new_boxed(key)
    }
    fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], TooLong> {
        self.encrypt(nonce, aad, buf).map_err(|_| TooLong)
    }
    fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), AuthFailed> {
        let tag: &[u8; 16] = tag.try_into().map_err(|_| AuthFailed)?;
        self.decrypt(nonce, aad, buf, tag).map_err(|_| AuthFailed)
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl<A> FrameAead for aes_gcm::AesGcm<A, aes_gcm::aead::consts::U12>
where
    A: aes::cipher::BlockCipher
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::BlockEncrypt
        + KeyInit,
{
    fn boxed(key: &[u8]) -> Box<Self> {
        Box::new(Self::new_from_slice(key).expect("key length checked against Nk"))
    }
    fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], TooLong> {
        let tag = self.encrypt_in_place_detached(nonce.into(), aad, buf).map_err(|_| TooLong)?;
        Ok(tag.into())
    }
    fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), AuthFailed> {
        self.decrypt_in_place_detached(nonce.into(), aad, buf, tag.into()).map_err(|_| AuthFailed)
    }
}

/// The keyed cipher. Boxed so the expanded keys stay at one address and are zeroized there
/// (a move would leave copies behind on the stack). The bitsliced cipher is expanded in its
/// box; the `aes-gcm` crate's (host builds) is made on the stack and moved in, as it offers no
/// way to build in place.
enum Cipher {
    Gcm128(Box<Gcm128>),
    #[cfg(feature = "every-suite")]
    Gcm256(Box<Gcm256>),
    #[cfg(feature = "every-suite")]
    CtrHmac {
        enc: Box<aes::Aes128>,
        auth_key: Zeroizing<[u8; 32]>,
        nt: usize,
    },
}

/// The key and salt for one KID: everything needed to seal and open its frames.
pub struct SframeKey {
    suite: CipherSuite,
    kid: u64,
    salt: Zeroizing<[u8; NONCE_LEN]>,
    cipher: Cipher,
}

impl std::fmt::Debug for SframeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SframeKey")
            .field("suite", &self.suite)
            .field("kid", &self.kid)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// `label || KID (8 bytes) || cipher suite (2 bytes)`, as §4.4.2 builds its HKDF info.
fn label(prefix: &[u8], kid: u64, suite: CipherSuite) -> ([u8; 40], usize) {
    let mut out = [0u8; 40];
    let n = prefix.len();
    out[..n].copy_from_slice(prefix);
    out[n..n + 8].copy_from_slice(&kid.to_be_bytes());
    out[n + 8..n + 10].copy_from_slice(&suite.id().to_be_bytes());
    (out, n + 10)
}

/// `HKDF-Expand(HKDF-Extract("", ikm), info, out.len())` with the suite's hash.
///
/// An empty salt and the all-zero salt that `Hkdf::new(None, ..)` uses give the same PRK
/// (HMAC pads keys with zeros), so this is the RFC's `HKDF-Extract("", ..)`.
pub(crate) fn extract_expand(suite: CipherSuite, ikm: &[u8], info: &[u8], out: &mut [u8]) {
    // Every caller asks for at most 64 bytes, far below HKDF's 255 * HashLen limit.
    const OK: &str = "HKDF output of at most 64 bytes is always allowed";
    match suite {
        #[cfg(feature = "every-suite")]
        CipherSuite::Aes256GcmSha512_128 => {
            Hkdf::<Sha512>::new(None, ikm).expand(info, out).expect(OK)
        }
        _ => Hkdf::<Sha256>::new(None, ikm).expand(info, out).expect(OK),
    }
}

impl SframeKey {
    /// Derives the key and salt for `kid` from `base_key` (RFC 9605 §4.4.2).
    pub fn derive(suite: CipherSuite, base_key: &[u8], kid: u64) -> SframeKey {
        let (key, salt) = derive_key_and_salt(suite, base_key, kid);
        SframeKey::from_parts(suite, kid, &key[..suite.nk()], &salt)
    }

    /// Builds a key from an already derived `sframe_key` (`Nk` bytes) and `sframe_salt`.
    ///
    /// # Panics
    /// If `key` is not `Nk` bytes long: a programming error, not bad input.
    pub fn from_parts(
        suite: CipherSuite,
        kid: u64,
        key: &[u8],
        salt: &[u8; NONCE_LEN],
    ) -> SframeKey {
        assert_eq!(key.len(), suite.nk(), "SframeKey::from_parts needs Nk key bytes");
        // The lengths were checked just above, and each cipher takes exactly Nk (or Nka) bytes.
        let cipher = match suite {
            CipherSuite::Aes128GcmSha256_128 => Cipher::Gcm128(Gcm128::boxed(key)),
            #[cfg(feature = "every-suite")]
            CipherSuite::Aes256GcmSha512_128 => Cipher::Gcm256(Gcm256::boxed(key)),
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32 => {
                let mut auth_key = Zeroizing::new([0u8; 32]);
                auth_key.copy_from_slice(&key[16..48]);
                Cipher::CtrHmac {
                    enc: Box::new(
                        aes::Aes128::new_from_slice(&key[..16])
                            .expect("key length checked against Nk"),
                    ),
                    auth_key,
                    nt: suite.nt(),
                }
            }
        };
        SframeKey { suite, kid, salt: Zeroizing::new(*salt), cipher }
    }

    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    pub fn kid(&self) -> u64 {
        self.kid
    }

    /// `salt XOR CTR`, with CTR big-endian in the last 8 bytes (§4.4.3).
    pub fn nonce(&self, ctr: u64) -> [u8; NONCE_LEN] {
        nonce_of(&self.salt, ctr)
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal(&self, ctr: u64, aad: &[u8], buf: &mut [u8]) -> Result<Tag, TooLong> {
        let nonce = self.nonce(ctr);
        let mut tag = Tag { bytes: [0; MAX_TAG_LEN], len: self.suite.nt() };
        match &self.cipher {
            Cipher::Gcm128(c) => tag.bytes.copy_from_slice(&c.seal(&nonce, aad, buf)?),
            #[cfg(feature = "every-suite")]
            Cipher::Gcm256(c) => tag.bytes.copy_from_slice(&c.seal(&nonce, aad, buf)?),
            #[cfg(feature = "every-suite")]
            Cipher::CtrHmac { enc, auth_key, nt } => {
                ctr_apply(enc, &nonce, buf)?;
                let full = ctr_hmac_tag(auth_key, *nt, &nonce, aad, buf);
                tag.bytes[..*nt].copy_from_slice(&full[..*nt]);
            }
        }
        Ok(tag)
    }

    /// Checks `tag` and decrypts `buf` in place. On failure `buf` is left as it was.
    pub fn open(&self, ctr: u64, aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<(), AuthFailed> {
        if tag.len() != self.suite.nt() {
            return Err(AuthFailed);
        }
        let nonce = self.nonce(ctr);
        match &self.cipher {
            Cipher::Gcm128(c) => c.open(&nonce, aad, buf, tag),
            #[cfg(feature = "every-suite")]
            Cipher::Gcm256(c) => c.open(&nonce, aad, buf, tag),
            #[cfg(feature = "every-suite")]
            Cipher::CtrHmac { enc, auth_key, nt } => {
                let full = ctr_hmac_tag(auth_key, *nt, &nonce, aad, buf);
                if !bool::from(full[..*nt].ct_eq(tag)) {
                    return Err(AuthFailed);
                }
                ctr_apply(enc, &nonce, buf).map_err(|_| AuthFailed)
            }
        }
    }
}

/// `sframe_key` (its first `Nk` bytes) and `sframe_salt` of `kid` (RFC 9605 §4.4.2).
pub(crate) fn derive_key_and_salt(
    suite: CipherSuite,
    base_key: &[u8],
    kid: u64,
) -> (Zeroizing<[u8; MAX_KEY_LEN]>, Zeroizing<[u8; NONCE_LEN]>) {
    let mut key = Zeroizing::new([0u8; MAX_KEY_LEN]);
    let mut salt = Zeroizing::new([0u8; NONCE_LEN]);
    let (info, n) = label(b"SFrame 1.0 Secret key ", kid, suite);
    extract_expand(suite, base_key, &info[..n], &mut key[..suite.nk()]);
    let (info, n) = label(b"SFrame 1.0 Secret salt ", kid, suite);
    extract_expand(suite, base_key, &info[..n], &mut salt[..]);
    (key, salt)
}

/// `salt XOR CTR`, with CTR big-endian in the last 8 bytes (§4.4.3).
pub(crate) fn nonce_of(salt: &[u8; NONCE_LEN], ctr: u64) -> [u8; NONCE_LEN] {
    let mut nonce = *salt;
    for (n, c) in nonce[NONCE_LEN - 8..].iter_mut().zip(ctr.to_be_bytes()) {
        *n ^= c;
    }
    nonce
}

/// AES-CTR with the counter block `nonce || 0u32` (§4.5.1).
#[cfg(feature = "every-suite")]
fn ctr_apply(enc: &aes::Aes128, nonce: &[u8; NONCE_LEN], buf: &mut [u8]) -> Result<(), TooLong> {
    // The 32-bit block counter must not wrap: at most 2^32 blocks of 16 bytes.
    if buf.len() as u64 > (1u64 << 32) * 16 {
        return Err(TooLong);
    }
    const PAR: usize = 8;
    let mut blocks = [aes::Block::default(); PAR];
    let mut counter = 0u32;
    for chunk in buf.chunks_mut(16 * PAR) {
        for block in blocks.iter_mut() {
            block[..NONCE_LEN].copy_from_slice(nonce);
            block[NONCE_LEN..].copy_from_slice(&counter.to_be_bytes());
            counter = counter.wrapping_add(1);
        }
        enc.encrypt_blocks(&mut blocks);
        for (b, k) in chunk.iter_mut().zip(blocks.iter().flat_map(|b| b.iter())) {
            *b ^= k;
        }
    }
    blocks.zeroize();
    Ok(())
}

/// `HMAC(auth_key, len(aad) || len(ct) || Nt || nonce || aad || ct)`, lengths as u64 (§4.5.1).
#[cfg(feature = "every-suite")]
fn ctr_hmac_tag(
    auth_key: &[u8; 32],
    nt: usize,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ct: &[u8],
) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut mac =
        <Hmac<Sha256> as MacKeyInit>::new_from_slice(auth_key).expect("HMAC accepts any key");
    mac.update(&(aad.len() as u64).to_be_bytes());
    mac.update(&(ct.len() as u64).to_be_bytes());
    mac.update(&(nt as u64).to_be_bytes());
    mac.update(nonce);
    mac.update(aad);
    mac.update(ct);
    mac.finalize().into_bytes().into()
}

/// The next epoch's base key (RFC 9605 §5.1):
/// `HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh)`.
pub fn ratchet(suite: CipherSuite, base_key: &[u8]) -> crate::BaseKey {
    let mut next = vec![0u8; suite.nh()];
    extract_expand(suite, base_key, b"SFrame 1.0 Ratchet", &mut next);
    crate::BaseKey::new(next)
}
