//! The per-call key schedule: ephemeral P-256 keys, ECDH, DTLS fingerprints, the transcript
//! hash, one SFrame base key per direction, and the key confirmation.
//!
//! ```text
//! Z   = ECDH(own_private, peer_pub).x                                  (32 bytes)
//! S   = the link secret (16 bytes, only in the link's fragment)
//! TH  = SHA-256("shieldcall/v2/transcript" || call_id || host_pub || guest_pub
//!               || fp_host || fp_guest || host_e2ee || guest_e2ee)     (flags: 1 byte each)
//! PRK = HKDF-Extract(salt = TH, ikm = Z || S)                           (SHA-256)
//! base_key_host  = HKDF-Expand(PRK, "shieldcall/v2 host media",  Nk)
//! base_key_guest = HKDF-Expand(PRK, "shieldcall/v2 guest media", Nk)
//! confirm_host   = HMAC-SHA256(S, "shieldcall/v2 host confirm"  || TH)
//! confirm_guest  = HMAC-SHA256(S, "shieldcall/v2 guest confirm" || TH)
//!
//! PRK_m  = HKDF-Extract(salt = SHA-256("shieldcall/v2 move" || call_id || host_pub || guest_pub),
//!                       ikm = Z || S)
//! S_move = HKDF-Expand(PRK_m, "shieldcall/v2 move secret" || mover || nonce, 16)
//! ```
//! `S_move` is the secret a re-keyed move (PROTOCOL.md change 44) puts in its link in place of
//! `S`: the device that opens it agrees fresh keys with the other side under `S_move`, which
//! only the two parties of the E2EE call it came from can compute, and only for a move the
//! mover announced with that nonce ([`MoveKeys`]).

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use shieldcall_protocol::{CallId, base64url};

use crate::BaseKey;
use crate::link::{Commitment, LinkSecret};
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
        let bytes = base64url::decode(text).ok_or(KeyError::Encoding)?;
        Self::from_sec1(&bytes)
    }

    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// The form a hello carries.
    pub fn to_base64url(&self) -> String {
        base64url::encode(&self.bytes)
    }

    /// The commitment to this key that a host's link carries (`#k=`):
    /// `SHA-256("shieldcall/v1/commit" || pub)[0..16]`. A guest checks the host key that
    /// arrived with `key.commitment() == the link's` (constant time).
    pub fn commitment(&self) -> Commitment {
        let digest =
            Sha256::new().chain_update(b"shieldcall/v1/commit").chain_update(self.bytes).finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        Commitment::from_bytes(out)
    }
}

/// A DTLS certificate fingerprint (SHA-256).
pub type Fingerprint = [u8; 32];

/// Why no fingerprint could be taken from an SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FingerprintError {
    /// No `a=fingerprint:sha-256` line.
    Missing,
    /// A fingerprint line that is not `sha-256` and 32 colon-separated hex bytes.
    Malformed,
    /// A fingerprint with another hash function (`sha-384`, `sha-1`, ...). Browsers check a
    /// certificate against such a line too, and the key schedule binds only SHA-256: a relay
    /// could add its own certificate's digest beside the real one. Refused.
    OtherHashFunction,
    /// Different fingerprints in one description (at session or media level): a browser keeps
    /// one of them (Chromium the last of a section) or accepts any, so it is unclear which
    /// certificate is bound. Refused.
    Conflicting,
}

impl std::fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FingerprintError::Missing => "the description has no a=fingerprint:sha-256 line",
            FingerprintError::Malformed => "the description has a malformed fingerprint line",
            FingerprintError::OtherHashFunction => {
                "the description carries a certificate fingerprint with another hash function than SHA-256"
            }
            FingerprintError::Conflicting => {
                "the description carries more than one certificate fingerprint"
            }
        })
    }
}

impl std::error::Error for FingerprintError {}

/// The DTLS certificate fingerprint of an SDP, exactly as the browser will check it: every
/// `a=fingerprint` line, at session or media level, must be `sha-256` with the same value
/// (hex digits and the hash name in either case). Anything else is refused, so that the
/// fingerprint the keys are bound to is the only certificate the browser can accept.
pub fn dtls_fingerprint(sdp: &str) -> Result<Fingerprint, FingerprintError> {
    let mut found: Option<Fingerprint> = None;
    // Browsers split lines at LF and drop a trailing CR; Firefox matches attribute names in
    // any case, and some SDP parsers trim more than ASCII spaces. Every line must be plain
    // `x=...` in printable ASCII, so that no parser can read a fingerprint where this one
    // sees none; within that, a line is looked at the way the most lenient browser would.
    for line in sdp.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !is_plain_sdp_line(line) {
            return Err(FingerprintError::Malformed);
        }
        let Some(value) = attribute_value(line, "fingerprint") else { continue };
        let mut parts = value.split_ascii_whitespace();
        let (Some(hash), Some(hex), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(FingerprintError::Malformed);
        };
        if !hash.eq_ignore_ascii_case("sha-256") {
            return Err(FingerprintError::OtherHashFunction);
        }
        let fp = parse_fingerprint_hex(hex).ok_or(FingerprintError::Malformed)?;
        match found {
            Some(previous) if previous != fp => return Err(FingerprintError::Conflicting),
            _ => found = Some(fp),
        }
    }
    found.ok_or(FingerprintError::Missing)
}

/// Empty, or a lowercase type letter, `=`, and printable ASCII (RFC 8866's grammar, and all that
/// browsers write).
fn is_plain_sdp_line(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.is_empty()
        || (bytes.len() >= 2
            && bytes[0].is_ascii_lowercase()
            && bytes[1] == b'='
            && bytes[2..].iter().all(|b| (0x20..=0x7e).contains(b)))
}

/// The value of an SDP attribute line `a=<name>:<value>`, the name matched in any case.
fn attribute_value<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.strip_prefix("a=")?;
    let (attribute, value) = rest.split_once(':')?;
    attribute.trim().eq_ignore_ascii_case(name).then_some(value)
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

/// Everything both hellos and both descriptions said that the keys depend on: each side hashes
/// what it sent and what it received, so the two hashes are equal only if nobody changed any of
/// it on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transcript<'a> {
    pub call_id: &'a CallId,
    pub host_pub: &'a PublicKey,
    pub guest_pub: &'a PublicKey,
    pub fp_host: &'a Fingerprint,
    pub fp_guest: &'a Fingerprint,
    /// The `e2ee` flags of the host's and the guest's hellos.
    pub host_e2ee: bool,
    pub guest_e2ee: bool,
}

impl Transcript<'_> {
    /// `TH = SHA-256("shieldcall/v2/transcript" || call_id || host_pub || guest_pub || fp_host ||
    /// fp_guest || host_e2ee || guest_e2ee)`.
    pub fn hash(&self) -> TranscriptHash {
        let mut h = Sha256::new();
        h.update(b"shieldcall/v2/transcript");
        h.update(self.call_id.as_bytes());
        h.update(self.host_pub.as_bytes());
        h.update(self.guest_pub.as_bytes());
        h.update(self.fp_host);
        h.update(self.fp_guest);
        h.update([u8::from(self.host_e2ee), u8::from(self.guest_e2ee)]);
        TranscriptHash(h.finalize().into())
    }
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

/// `PRK = HKDF-Extract(TH, Z || S)`, then one `Nk`-byte base key per direction. Without the
/// link secret `S`, even someone who made the ECDH with a party (a relay that swapped keys)
/// cannot derive that party's keys.
pub fn media_keys(
    suite: CipherSuite,
    z: &SharedSecret,
    link_secret: &LinkSecret,
    th: &TranscriptHash,
) -> MediaKeys {
    let mut ikm = zeroize::Zeroizing::new([0u8; 48]);
    ikm[..32].copy_from_slice(z.expose());
    ikm[32..].copy_from_slice(link_secret.expose());
    let prk = Hkdf::<Sha256>::new(Some(&th.0), ikm.as_ref());
    let expand = |label: &[u8]| {
        let mut key = vec![0u8; suite.nk()];
        // Nk is at most 48 bytes, far below HKDF-SHA256's 8160-byte limit.
        prk.expand(label, &mut key).expect("Nk bytes are a valid HKDF length");
        BaseKey::new(key)
    };
    MediaKeys {
        suite,
        host: expand(b"shieldcall/v2 host media"),
        guest: expand(b"shieldcall/v2 guest media"),
    }
}

/// The keys of moves out of one locked E2EE agreement (PROTOCOL.md change 44):
/// `PRK_m = HKDF-Extract(salt = SHA-256("shieldcall/v2 move" || call_id || host_pub ||
/// guest_pub), ikm = Z || S)`. From it, the MAC key of move intents and each move's secret.
/// Both need `Z`, so the relay can compute neither, even with the call link. They do not
/// depend on the DTLS fingerprints, so a media connection made again meanwhile changes
/// nothing.
pub struct MoveKeys(Hkdf<Sha256>);

impl std::fmt::Debug for MoveKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MoveKeys(<redacted>)")
    }
}

impl MoveKeys {
    pub fn new(
        z: &SharedSecret,
        link_secret: &LinkSecret,
        call_id: &CallId,
        host_pub: &PublicKey,
        guest_pub: &PublicKey,
    ) -> Self {
        let mut salt = Sha256::new();
        salt.update(b"shieldcall/v2 move");
        salt.update(call_id.as_bytes());
        salt.update(host_pub.as_bytes());
        salt.update(guest_pub.as_bytes());
        let salt: [u8; 32] = salt.finalize().into();
        let mut ikm = zeroize::Zeroizing::new([0u8; 48]);
        ikm[..32].copy_from_slice(z.expose());
        ikm[32..].copy_from_slice(link_secret.expose());
        MoveKeys(Hkdf::<Sha256>::new(Some(&salt), ikm.as_ref()))
    }

    /// `S_move = HKDF-Expand(PRK_m, "shieldcall/v2 move secret" || mover || nonce, 16)`: the
    /// secret of one move, by the party `mover` (0 host, 1 guest), with the nonce of its
    /// intent. Each intent's nonce is fresh, so every link has a secret of its own, and one
    /// side's link cannot stand for the other side.
    pub fn secret(&self, mover: ConfirmFrom, nonce: &[u8; 16]) -> LinkSecret {
        let mut out = zeroize::Zeroizing::new([0u8; 16]);
        self.0
            .expand_multi_info(
                &[b"shieldcall/v2 move secret", &[party_byte(mover)], nonce],
                out.as_mut(),
            )
            .expect("16 bytes are a valid HKDF length");
        LinkSecret::from_bytes(*out)
    }

    /// The MAC of `mover`'s intent: `HMAC-SHA256(HKDF-Expand(PRK_m, "shieldcall/v2 move
    /// intent", 32), "shieldcall/v2 move intent" || mover || nonce || ttl_secs)`.
    pub fn intent_mac(&self, mover: ConfirmFrom, nonce: &[u8; 16], ttl_secs: u32) -> [u8; 32] {
        self.intent_hmac(mover, nonce, ttl_secs).finalize().into_bytes().into()
    }

    /// Whether `mac` is `mover`'s MAC of this intent (constant time).
    pub fn intent_verifies(
        &self,
        mover: ConfirmFrom,
        nonce: &[u8; 16],
        ttl_secs: u32,
        mac: &[u8; 32],
    ) -> bool {
        self.intent_hmac(mover, nonce, ttl_secs).verify_slice(mac).is_ok()
    }

    fn intent_hmac(&self, mover: ConfirmFrom, nonce: &[u8; 16], ttl_secs: u32) -> Hmac<Sha256> {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        self.0
            .expand(b"shieldcall/v2 move intent", key.as_mut())
            .expect("32 bytes are a valid HKDF length");
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_ref()).expect("any key length");
        mac.update(b"shieldcall/v2 move intent");
        mac.update(&[party_byte(mover)]);
        mac.update(nonce);
        mac.update(&ttl_secs.to_be_bytes());
        mac
    }
}

fn party_byte(party: ConfirmFrom) -> u8 {
    match party {
        ConfirmFrom::Host => 0,
        ConfirmFrom::Guest => 1,
    }
}

/// Which party a key confirmation comes from (the two differ, so that a relay cannot reflect a
/// party's own confirmation back to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmFrom {
    Host,
    Guest,
}

/// A party's proof that it saw transcript `th`, keyed by the link secret:
/// `HMAC-SHA256(S, "shieldcall/v2 {host|guest} confirm" || TH)`. It reveals nothing about `S` or
/// the keys; a relay without the link can neither make one nor change a transcript unnoticed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Confirmation(pub [u8; 32]);

impl std::fmt::Debug for Confirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Confirmation({:02x?})", &self.0[..4])
    }
}

impl Confirmation {
    pub fn new(link_secret: &LinkSecret, from: ConfirmFrom, th: &TranscriptHash) -> Self {
        Confirmation(Self::mac(link_secret, from, th).finalize().into_bytes().into())
    }

    /// Whether this is `from`'s confirmation of `th` (constant time).
    pub fn verifies(
        &self,
        link_secret: &LinkSecret,
        from: ConfirmFrom,
        th: &TranscriptHash,
    ) -> bool {
        Self::mac(link_secret, from, th).verify_slice(&self.0).is_ok()
    }

    /// `from`'s proof that it hangs up on the agreement of `host_pub` and `guest_pub` in call
    /// `call_id` (PROTOCOL.md change 55): `HMAC-SHA256(S, "shieldcall/v3 {host|guest} bye" ||
    /// call_id || host_pub || guest_pub)`. Another label than the confirmation's, so that
    /// neither stands for the other. Bound to the two keys rather than to one connection's
    /// transcript: a hang-up during a reconnection, before the new transcript is complete,
    /// still proves itself; a guest who calls again has a new key, so an old hang-up cannot
    /// end the new call.
    pub fn hang_up(
        link_secret: &LinkSecret,
        from: ConfirmFrom,
        call_id: &CallId,
        host_pub: &PublicKey,
        guest_pub: &PublicKey,
    ) -> Self {
        let mac = Self::hang_up_mac(link_secret, from, call_id, host_pub, guest_pub);
        Confirmation(mac.finalize().into_bytes().into())
    }

    /// Whether this is `from`'s hang-up on that agreement (constant time).
    pub fn verifies_hang_up(
        &self,
        link_secret: &LinkSecret,
        from: ConfirmFrom,
        call_id: &CallId,
        host_pub: &PublicKey,
        guest_pub: &PublicKey,
    ) -> bool {
        Self::hang_up_mac(link_secret, from, call_id, host_pub, guest_pub)
            .verify_slice(&self.0)
            .is_ok()
    }

    fn hang_up_mac(
        link_secret: &LinkSecret,
        from: ConfirmFrom,
        call_id: &CallId,
        host_pub: &PublicKey,
        guest_pub: &PublicKey,
    ) -> Hmac<Sha256> {
        let mut mac = Self::labelled(
            link_secret,
            match from {
                ConfirmFrom::Host => b"shieldcall/v3 host bye",
                ConfirmFrom::Guest => b"shieldcall/v3 guest bye",
            },
        );
        mac.update(call_id.as_bytes());
        mac.update(host_pub.as_bytes());
        mac.update(guest_pub.as_bytes());
        mac
    }

    fn mac(link_secret: &LinkSecret, from: ConfirmFrom, th: &TranscriptHash) -> Hmac<Sha256> {
        let mut mac = Self::labelled(
            link_secret,
            match from {
                ConfirmFrom::Host => b"shieldcall/v2 host confirm",
                ConfirmFrom::Guest => b"shieldcall/v2 guest confirm",
            },
        );
        mac.update(&th.0);
        mac
    }

    /// HMAC-SHA256 keyed by the link secret, `label` written first.
    fn labelled(link_secret: &LinkSecret, label: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(link_secret.expose())
            .expect("HMAC accepts a 16-byte key");
        mac.update(label);
        mac
    }

    pub fn to_base64url(&self) -> String {
        base64url::encode(&self.0)
    }

    /// Parses the `mac` of a confirm signal: 32 bytes, base64url.
    pub fn from_base64url(text: &str) -> Option<Self> {
        let bytes = base64url::decode(text)?;
        Some(Confirmation(bytes.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Hmac<Sha256>` and `Hkdf<Sha256>` keep a key's inner and outer hash states (the link
    /// secret's in a confirmation, a PRK's in [`MoveKeys`]) in SHA-256 cores and a block buffer.
    /// With `sha2`'s `zeroize` feature, which the workspace turns on, those are wiped on drop.
    /// Turning the feature off stops this test from compiling.
    #[test]
    fn the_hash_states_inside_hmac_and_hkdf_are_wiped_on_drop() {
        use hmac::EagerHash;
        use hmac::digest::block_api::Buffer;
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<<Sha256 as EagerHash>::Core>();
        wiped_on_drop::<Buffer<<Sha256 as EagerHash>::Core>>();
        wiped_on_drop::<<sha2::Sha512 as EagerHash>::Core>();
        wiped_on_drop::<Sha256>();
    }

    /// The P-256 generator G and 2G, uncompressed (SEC1), base64url.
    const G: &str =
        "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
    const TWO_G: &str =
        "BHzyexiNA09-ilI4AwS1GsPAiWnid_IbNaYLSPxHZpl4B3dVENuO0EApPZrGn3Qw27p9reY86YIpngS3nSJ4c9E";

    const FP: &str = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    /// A description as Chromium writes it: the same sha-256 line in each media section.
    fn chromium_sdp(extra_audio: &str, extra_session: &str) -> String {
        format!(
            "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n{extra_session}\
             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 {FP}\r\n{extra_audio}\
             a=setup:actpass\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:sha-256 {FP}\r\n"
        )
    }

    #[test]
    fn one_sha256_fingerprint_is_taken_in_any_case() {
        let fp = dtls_fingerprint(&chromium_sdp("", "")).expect("parses");
        assert_eq!(fp[..4], [0xab, 0xcd, 0xef, 0x01]);
        // Firefox: one session-level line. Hash names and hex digits in either case are equal.
        let firefox =
            format!("v=0\r\na=fingerprint:SHA-256 {}\r\nm=audio 9\r\n", FP.to_lowercase());
        assert_eq!(dtls_fingerprint(&firefox), Ok(fp));
        let mixed = chromium_sdp(&format!("a=fingerprint:Sha-256 {}\r\n", FP.to_lowercase()), "");
        assert_eq!(dtls_fingerprint(&mixed), Ok(fp));
        // LF-only line ends.
        assert_eq!(dtls_fingerprint(&chromium_sdp("", "").replace("\r\n", "\n")), Ok(fp));
    }

    #[test]
    fn a_digest_with_another_hash_function_is_refused_wherever_it_is() {
        let sha384 = format!("a=fingerprint:sha-384 {}:{}\r\n", FP, &FP[..47]);
        let sha1 =
            "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n";
        for extra in [sha384.as_str(), sha1, "a=fingerprint:SHA-512 00:11\r\n"] {
            // Media level, after the sha-256 line (where Chromium would keep it).
            assert_eq!(
                dtls_fingerprint(&chromium_sdp(extra, "")),
                Err(FingerprintError::OtherHashFunction),
                "{extra}"
            );
            // Session level.
            assert_eq!(
                dtls_fingerprint(&chromium_sdp("", extra)),
                Err(FingerprintError::OtherHashFunction),
                "{extra}"
            );
        }
        // The attribute name in another case, or spaced, is the same attribute to Firefox.
        let shouting = format!("a=FINGERPRINT:sha-384 {FP}\r\n");
        let spaced = format!("a=fingerprint :sha-384 {FP}\r\n");
        for extra in [&shouting, &spaced] {
            assert_eq!(
                dtls_fingerprint(&chromium_sdp(extra, "")),
                Err(FingerprintError::OtherHashFunction),
                "{extra}"
            );
        }
        // Lines some parser might read as a fingerprint and this one would not: refused whole.
        for odd in [
            format!("A=fingerprint:sha-384 {FP}"),
            format!("a =fingerprint:sha-384 {FP}"),
            format!(" a=fingerprint:sha-384 {FP}"),
            format!("\u{a0}a=fingerprint:sha-384 {FP}"),
            format!("a=fingerprint\u{a0}:sha-384 {FP}"),
            format!("a=fingerprint:sha-384\t{FP}"),
        ] {
            assert_eq!(
                dtls_fingerprint(&chromium_sdp(&format!("{odd}\r\n"), "")),
                Err(FingerprintError::Malformed),
                "{odd:?}"
            );
        }
    }

    #[test]
    fn two_distinct_sha256_fingerprints_are_refused() {
        let other = FP.replacen("AB", "00", 1);
        let second = format!("a=fingerprint:sha-256 {other}\r\n");
        assert_eq!(
            dtls_fingerprint(&chromium_sdp(&second, "")),
            Err(FingerprintError::Conflicting)
        );
        assert_eq!(
            dtls_fingerprint(&chromium_sdp("", &second)),
            Err(FingerprintError::Conflicting)
        );
        // Only in the second media section.
        let sdp = chromium_sdp("", "") + &second;
        assert_eq!(dtls_fingerprint(&sdp), Err(FingerprintError::Conflicting));
        // The same one twice is fine: Chromium repeats it in every section.
        let same = format!("a=fingerprint:sha-256 {FP}\r\n");
        assert!(dtls_fingerprint(&chromium_sdp(&same, &same)).is_ok());
    }

    #[test]
    fn malformed_or_missing_fingerprints_are_refused() {
        assert_eq!(dtls_fingerprint("v=0\r\n"), Err(FingerprintError::Missing));
        for bad in [
            "a=fingerprint:sha-256 AB:CD".to_string(),
            format!("a=fingerprint:sha-256 {FP}:00"),
            format!("a=fingerprint:sha-256 {}", FP.replace("AB", "+B")),
            format!("a=fingerprint:sha-256 {FP} extra"),
            // A CR inside the line is no line end: the rest is junk in this line's value.
            format!("a=fingerprint:sha-256 {FP}\ra=fingerprint:sha-384 {FP}"),
            "a=fingerprint:sha-256".to_string(),
            "a=fingerprint:".to_string(),
        ] {
            assert_eq!(
                dtls_fingerprint(&chromium_sdp(&format!("{bad}\r\n"), "")),
                Err(FingerprintError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn confirmations_are_bound_to_the_secret_the_sender_and_the_transcript() {
        let (secret, th) = (LinkSecret::from_bytes([1; 16]), TranscriptHash([7; 32]));
        let host = Confirmation::new(&secret, ConfirmFrom::Host, &th);
        assert!(host.verifies(&secret, ConfirmFrom::Host, &th));
        assert!(!host.verifies(&secret, ConfirmFrom::Guest, &th), "no reflection");
        assert!(!host.verifies(&LinkSecret::from_bytes([2; 16]), ConfirmFrom::Host, &th));
        assert!(!host.verifies(&secret, ConfirmFrom::Host, &TranscriptHash([8; 32])));
        assert_eq!(Confirmation::from_base64url(&host.to_base64url()), Some(host));
        assert_eq!(Confirmation::from_base64url("AAAA"), None);
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
        let key = PublicKey::from_base64url(G).expect("generator is on the curve");
        assert_eq!(key.to_base64url(), G);
        let mut compressed = key.as_bytes()[..33].to_vec();
        compressed[0] = 2 | (key.as_bytes()[64] & 1);
        assert_eq!(PublicKey::from_sec1(&compressed), Err(KeyError::NotUncompressed));
    }

    #[test]
    fn the_link_commits_to_the_host_key() {
        let g = PublicKey::from_base64url(G).expect("generator is on the curve");
        let two_g = PublicKey::from_base64url(TWO_G).expect("2G is on the curve");
        // SHA-256("shieldcall/v1/commit" || G)[0..16], computed apart (Python's hashlib).
        let expected = "NwXbGVLzFNsy8nXgKkbRdw";
        assert_eq!(g.commitment().to_string(), expected);
        assert_eq!(g.commitment(), Commitment::parse(expected).expect("22 characters"));
        assert_ne!(two_g.commitment(), g.commitment());
        // One bit off anywhere is another commitment.
        let bytes = base64url::decode(expected).expect("base64url");
        for bit in 0..128 {
            let mut flipped: [u8; 16] = bytes.clone().try_into().expect("16 bytes");
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(Commitment::from_bytes(flipped), g.commitment(), "bit {bit}");
        }
    }
}
