//! The host-key commitment, the link secret and the call link
//! `{origin}/call/{call_id}#k={commitment}&s={secret}` (the call id is `shieldcall-protocol`'s).
//!
//! The fragment never reaches a server, so the commitment and the secret travel only with the
//! link: a guest who opened it can tell whether the key that arrived through the relay is the
//! host's, and both sides mix the secret into their keys and prove to each other that they saw
//! the same hellos and certificates, which nobody without the link can fake.

use rand_core::CryptoRngCore;
use shieldcall_protocol::base64url::{decode16, encode16};
use shieldcall_protocol::{CallId, InvalidCallId};
use subtle::ConstantTimeEq;

/// Why a link or one of its parts was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Not of the form `{origin}/call/{id}#k={commitment}`.
    NotACallLink,
    /// The origin is not `http(s)://host[:port]`.
    BadOrigin,
    /// The call id is not 22 base64url characters (16 bytes).
    BadCallId,
    /// The link has no `#k=` commitment.
    MissingCommitment,
    /// The commitment is not 22 base64url characters (16 bytes).
    BadCommitment,
    /// The link has no `&s=` secret.
    MissingSecret,
    /// The secret is not 22 base64url characters (16 bytes).
    BadSecret,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkError::NotACallLink => "not a Shieldcall call link",
            LinkError::BadOrigin => "the link's origin is not http(s)://host",
            LinkError::BadCallId => "the link's call id is not valid",
            LinkError::MissingCommitment => "the link is missing its #k= part",
            LinkError::BadCommitment => "the link's #k= part is not valid",
            LinkError::MissingSecret => "the link is missing its &s= part",
            LinkError::BadSecret => "the link's &s= part is not valid",
        })
    }
}

impl std::error::Error for LinkError {}

impl From<InvalidCallId> for LinkError {
    fn from(_: InvalidCallId) -> Self {
        LinkError::BadCallId
    }
}

/// A fresh call id from `rng` (in the browser: `getrandom`).
pub fn new_call_id(rng: &mut impl CryptoRngCore) -> CallId {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    CallId::from_bytes(bytes)
}

/// What the link's `#k=` carries: the host's commitment to its public key,
/// `SHA-256("shieldcall/v1/commit" || host_pub)[0..16]` (made by `keys::PublicKey::commitment`,
/// where the key is). `==` compares in constant time.
#[derive(Clone, Copy)]
pub struct Commitment([u8; 16]);

impl PartialEq for Commitment {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Commitment {}

impl Commitment {
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Commitment(bytes)
    }

    pub fn parse(text: &str) -> Result<Self, LinkError> {
        decode16(text).map(Commitment).ok_or(LinkError::BadCommitment)
    }
}

impl std::fmt::Display for Commitment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&encode16(&self.0))
    }
}

impl std::fmt::Debug for Commitment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Commitment({self})")
    }
}

/// 16 random bytes that only the link carries (host to guest, never through a server). Mixed
/// into the media keys and the key confirmation, so that the relay, which sees everything
/// else, can neither read media nor alter the hellos unnoticed. Zeroized on drop, never printed.
#[derive(Clone)]
pub struct LinkSecret(zeroize::Zeroizing<[u8; 16]>);

impl PartialEq for LinkSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}

impl Eq for LinkSecret {}

impl LinkSecret {
    /// A fresh secret from `rng` (in the browser: `getrandom`).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut secret = LinkSecret(zeroize::Zeroizing::new([0u8; 16]));
        rng.fill_bytes(secret.0.as_mut());
        secret
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        LinkSecret(zeroize::Zeroizing::new(bytes))
    }

    pub fn parse(text: &str) -> Result<Self, LinkError> {
        decode16(text).map(Self::from_bytes).ok_or(LinkError::BadSecret)
    }

    pub fn expose(&self) -> &[u8; 16] {
        &self.0
    }

    /// The form the link's `&s=` carries. Deliberately not `Display`: it goes into the link and
    /// nowhere else.
    pub fn to_link_text(&self) -> String {
        encode16(&self.0)
    }
}

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(<redacted>)")
    }
}

/// The parts of a call link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLink {
    /// `scheme://host[:port]`, no trailing slash.
    pub origin: String,
    pub call_id: CallId,
    pub commitment: Commitment,
    pub secret: LinkSecret,
}

impl CallLink {
    /// Parses `{origin}/call/{call_id}#k={commitment}&s={secret}`.
    pub fn parse(link: &str) -> Result<Self, LinkError> {
        let link = link.trim();
        let (base, fragment) = link.split_once('#').unwrap_or((link, ""));
        let (origin, id) = base.rsplit_once("/call/").ok_or(LinkError::NotACallLink)?;
        let call_id = CallId::parse(id)?;
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or(LinkError::BadOrigin)?;
        let host_ok = !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
        if !host_ok {
            return Err(LinkError::BadOrigin);
        }
        let part = |name: &str| fragment.split('&').find_map(|part| part.strip_prefix(name));
        let commitment = Commitment::parse(part("k=").ok_or(LinkError::MissingCommitment)?)?;
        let secret = LinkSecret::parse(part("s=").ok_or(LinkError::MissingSecret)?)?;
        Ok(CallLink { origin: origin.to_owned(), call_id, commitment, secret })
    }

    /// The whole link, secret included: to be shared with the guest and nobody else.
    pub fn to_shareable(&self) -> String {
        format!(
            "{}/call/{}#k={}&s={}",
            self.origin,
            self.call_id,
            self.commitment,
            self.secret.to_link_text()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_parse_and_print() {
        let link = "https://call.example:8443/call/AAECAwQFBgcICQoLDA0ODw#k=8PHy8_T19vf4-fr7_P3-_w&s=ICEiIyQlJicoKSorLC0uLw";
        let parsed = CallLink::parse(link).expect("valid link");
        assert_eq!(parsed.origin, "https://call.example:8443");
        assert_eq!(parsed.call_id.as_bytes()[15], 15);
        assert_eq!(parsed.secret.expose()[0], 0x20);
        assert_eq!(parsed.to_shareable(), link);
        assert!(
            !format!("{parsed:?}").contains("ICEiIyQlJicoKSorLC0uLw"),
            "Debug hides the secret"
        );
        let cases = [
            (
                "https://x/room/AAECAwQFBgcICQoLDA0ODw#k=8PHy8_T19vf4-fr7_P3-_w",
                LinkError::NotACallLink,
            ),
            ("ftp://x/call/AAECAwQFBgcICQoLDA0ODw#k=8PHy8_T19vf4-fr7_P3-_w", LinkError::BadOrigin),
            (
                "https://x/y/call/AAECAwQFBgcICQoLDA0ODw#k=8PHy8_T19vf4-fr7_P3-_w",
                LinkError::BadOrigin,
            ),
            ("https://x/call/AAECAwQFBgcICQoLDA0O#k=8PHy8_T19vf4-fr7_P3-_w", LinkError::BadCallId),
            ("https://x/call/AAECAwQFBgcICQoLDA0ODw", LinkError::MissingCommitment),
            ("https://x/call/AAECAwQFBgcICQoLDA0ODw#k=abc", LinkError::BadCommitment),
            (
                "https://x/call/AAECAwQFBgcICQoLDA0ODw#k=8PHy8_T19vf4-fr7_P3-_w",
                LinkError::MissingSecret,
            ),
            (
                "https://x/call/AAECAwQFBgcICQoLDA0ODw#k=8PHy8_T19vf4-fr7_P3-_w&s=ICEi",
                LinkError::BadSecret,
            ),
        ];
        for (link, error) in cases {
            assert_eq!(CallLink::parse(link), Err(error), "{link}");
        }
    }
}
