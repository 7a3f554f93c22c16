//! The per-call key schedule: ephemeral P-256 keys, ECDH, DTLS fingerprints, the transcript
//! hash and one SFrame base key per direction.
//!
//! ```text
//! Z   = ECDH(own_private, peer_pub).x                                  (32 bytes)
//! TH  = SHA-256("shieldcall/v1/transcript" || call_id || host_pub || guest_pub
//!               || fp_host || fp_guest)
//! PRK = HKDF-Extract(salt = TH, ikm = Z)                                (SHA-256)
//! base_key_host  = HKDF-Expand(PRK, "shieldcall/v1 host media",  Nk)
//! base_key_guest = HKDF-Expand(PRK, "shieldcall/v1 guest media", Nk)
//! ```

use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

use crate::BaseKey;
use crate::link::CallId;
use crate::sframe::CipherSuite;

/// Length of a SEC1 uncompressed P-256 point.
pub const PUBLIC_KEY_LEN: usize = 65;

/// A party's ephemeral private key for one call; zeroized on drop.
pub struct EphemeralSecret {
    secret: p256::ecdh::EphemeralSecret,
    public: PublicKey,
}

impl std::fmt::Debug for EphemeralSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralSecret")
            .field("public", &self.public)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl EphemeralSecret {
    /// A fresh key pair from `rng` (in the browser: `getrandom`).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let secret = p256::ecdh::EphemeralSecret::random(rng);
        let public = PublicKey::from_p256(secret.public_key());
        EphemeralSecret { secret, public }
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// `Z`: the x-coordinate of the shared point. Invalid points cannot reach here, as
    /// [`PublicKey::from_sec1`] refuses them.
    pub fn diffie_hellman(&self, peer: &PublicKey) -> SharedSecret {
        let shared = self.secret.diffie_hellman(&peer.point);
        let mut z = zeroize::Zeroizing::new([0u8; 32]);
        z.copy_from_slice(shared.raw_secret_bytes());
        SharedSecret(z)
    }
}

/// `Z`, zeroized on drop, never printed.
pub struct SharedSecret(zeroize::Zeroizing<[u8; 32]>);

impl SharedSecret {
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

/// A validated P-256 public key and its 65-byte uncompressed encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    point: p256::PublicKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_base64url())
    }
}

/// Why a peer's public key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// Not base64url.
    Encoding,
    /// Not 65 bytes starting with 0x04 (the uncompressed form the commitment is made over).
    NotUncompressed,
    /// Not a point on P-256, or the identity.
    InvalidPoint,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyError::Encoding => "public key is not base64url",
            KeyError::NotUncompressed => "public key is not a 65-byte uncompressed point",
            KeyError::InvalidPoint => "public key is not a valid P-256 point",
        })
    }
}

impl std::error::Error for KeyError {}

impl PublicKey {
    fn from_p256(point: p256::PublicKey) -> Self {
        let encoded = point.to_encoded_point(false);
        let mut bytes = [0u8; PUBLIC_KEY_LEN];
        bytes.copy_from_slice(encoded.as_bytes());
        PublicKey { bytes, point }
    }

    /// Parses and validates a SEC1 uncompressed point.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; PUBLIC_KEY_LEN] =
            bytes.try_into().map_err(|_| KeyError::NotUncompressed)?;
        if bytes[0] != 0x04 {
            return Err(KeyError::NotUncompressed);
        }
        // from_sec1_bytes checks that the point is on the curve and not the identity.
        let point = p256::PublicKey::from_sec1_bytes(&bytes).map_err(|_| KeyError::InvalidPoint)?;
        Ok(PublicKey { bytes, point })
    }

    /// Parses the `pub` field of a hello.
    pub fn from_base64url(text: &str) -> Result<Self, KeyError> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| KeyError::Encoding)?;
        Self::from_sec1(&bytes)
    }

    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// The form a hello carries.
    pub fn to_base64url(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.bytes)
    }
}

/// A DTLS certificate fingerprint (SHA-256).
pub type Fingerprint = [u8; 32];

/// Why no fingerprint could be taken from an SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FingerprintError {
    /// No `a=fingerprint:sha-256` line.
    Missing,
    /// A `sha-256` line that is not 32 colon-separated hex bytes.
    Malformed,
    /// Different `sha-256` fingerprints in one description: ambiguous, so refused.
    Conflicting,
}

impl std::fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FingerprintError::Missing => "SDP has no a=fingerprint:sha-256 line",
            FingerprintError::Malformed => "SDP sha-256 fingerprint is not 32 hex bytes",
            FingerprintError::Conflicting => "SDP carries different sha-256 fingerprints",
        })
    }
}

impl std::error::Error for FingerprintError {}

/// The SHA-256 DTLS fingerprint of an SDP (`a=fingerprint:sha-256 AB:CD:...`), session- or
/// media-level. Every such line must agree.
pub fn dtls_fingerprint(sdp: &str) -> Result<Fingerprint, FingerprintError> {
    let mut found: Option<Fingerprint> = None;
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        let Some(value) = line.strip_prefix("a=fingerprint:") else { continue };
        let mut parts = value.split_ascii_whitespace();
        let (Some(hash), Some(hex)) = (parts.next(), parts.next()) else {
            return Err(FingerprintError::Malformed);
        };
        if !hash.eq_ignore_ascii_case("sha-256") {
            continue;
        }
        if parts.next().is_some() {
            return Err(FingerprintError::Malformed);
        }
        let fp = parse_fingerprint_hex(hex).ok_or(FingerprintError::Malformed)?;
        match found {
            Some(previous) if previous != fp => return Err(FingerprintError::Conflicting),
            _ => found = Some(fp),
        }
    }
    found.ok_or(FingerprintError::Missing)
}

fn parse_fingerprint_hex(hex: &str) -> Option<Fingerprint> {
    let mut out = [0u8; 32];
    let mut count = 0;
    for (i, pair) in hex.split(':').enumerate() {
        let slot = out.get_mut(i)?;
        if pair.len() != 2 || !pair.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *slot = u8::from_str_radix(pair, 16).ok()?;
        count = i + 1;
    }
    (count == 32).then_some(out)
}

/// The transcript hash `TH` binding the call, both public keys and both DTLS certificates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TranscriptHash(pub [u8; 32]);

impl std::fmt::Debug for TranscriptHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TranscriptHash({:02x?})", &self.0[..4])
    }
}

/// `TH = SHA-256("shieldcall/v1/transcript" || call_id || host_pub || guest_pub || fp_host ||
/// fp_guest)`.
pub fn transcript_hash(
    call_id: &CallId,
    host_pub: &PublicKey,
    guest_pub: &PublicKey,
    fp_host: &Fingerprint,
    fp_guest: &Fingerprint,
) -> TranscriptHash {
    let mut h = Sha256::new();
    h.update(b"shieldcall/v1/transcript");
    h.update(call_id.as_bytes());
    h.update(host_pub.as_bytes());
    h.update(guest_pub.as_bytes());
    h.update(fp_host);
    h.update(fp_guest);
    TranscriptHash(h.finalize().into())
}

/// The two media base keys of a call, one per sending direction (RFC 9605 §4.4.1 wants one
/// sender per key).
#[derive(Clone, PartialEq, Eq)]
pub struct MediaKeys {
    pub suite: CipherSuite,
    pub host: BaseKey,
    pub guest: BaseKey,
}

impl std::fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaKeys")
            .field("suite", &self.suite)
            .field("keys", &"<redacted>")
            .finish()
    }
}

/// `PRK = HKDF-Extract(TH, Z)`, then one `Nk`-byte base key per direction.
pub fn media_keys(suite: CipherSuite, z: &SharedSecret, th: &TranscriptHash) -> MediaKeys {
    let prk = Hkdf::<Sha256>::new(Some(&th.0), z.expose());
    let expand = |label: &[u8]| {
        let mut key = vec![0u8; suite.nk()];
        // Nk is at most 48 bytes, far below HKDF-SHA256's 8160-byte limit.
        prk.expand(label, &mut key).expect("Nk bytes are a valid HKDF length");
        BaseKey::new(key)
    };
    MediaKeys {
        suite,
        host: expand(b"shieldcall/v1 host media"),
        guest: expand(b"shieldcall/v1 guest media"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    #[test]
    fn fingerprints_from_sdp() {
        let sdp = format!(
            "v=0\r\na=fingerprint:sha-1 00:11\r\na=fingerprint:sha-256 {FP}\r\nm=audio 9\r\na=fingerprint:SHA-256 {}\r\n",
            FP.to_lowercase()
        );
        let fp = dtls_fingerprint(&sdp).expect("parses");
        assert_eq!(fp[..4], [0xab, 0xcd, 0xef, 0x01]);
        assert_eq!(dtls_fingerprint("v=0\r\n"), Err(FingerprintError::Missing));
        assert_eq!(
            dtls_fingerprint("a=fingerprint:sha-256 AB:CD"),
            Err(FingerprintError::Malformed)
        );
        assert_eq!(
            dtls_fingerprint(&format!("a=fingerprint:sha-256 {FP}:00")),
            Err(FingerprintError::Malformed)
        );
        assert_eq!(
            dtls_fingerprint(&format!("a=fingerprint:sha-256 {}", FP.replace("AB", "+B"))),
            Err(FingerprintError::Malformed)
        );
        let other = FP.replacen("AB", "00", 1);
        assert_eq!(
            dtls_fingerprint(&format!("a=fingerprint:sha-256 {FP}\na=fingerprint:sha-256 {other}")),
            Err(FingerprintError::Conflicting)
        );
    }

    #[test]
    fn invalid_points_are_refused() {
        let mut not_on_curve = [0u8; 65];
        not_on_curve[0] = 4;
        not_on_curve[64] = 1;
        assert_eq!(PublicKey::from_sec1(&not_on_curve), Err(KeyError::InvalidPoint));
        assert_eq!(PublicKey::from_sec1(&[0u8; 65]), Err(KeyError::NotUncompressed));
        assert_eq!(PublicKey::from_sec1(&[4u8; 33]), Err(KeyError::NotUncompressed));
        assert_eq!(PublicKey::from_base64url("!!"), Err(KeyError::Encoding));
        // The P-256 generator is valid; a compressed form of it is not accepted.
        let g = "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
        let key = PublicKey::from_base64url(g).expect("generator is on the curve");
        assert_eq!(key.to_base64url(), g);
        let mut compressed = key.as_bytes()[..33].to_vec();
        compressed[0] = 2 | (key.as_bytes()[64] & 1);
        assert_eq!(PublicKey::from_sec1(&compressed), Err(KeyError::NotUncompressed));
    }
}
