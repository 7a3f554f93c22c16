//! Picking up a parked call by its code: `LLLL-LLKK-KKKK`, twelve characters of Crockford's
//! base32 typed by hand, in two halves of 30 bits. The relay made `LLLLLL` (it finds the park
//! by it, `POST /pickup`); the parking page made `KKKKKK` and never sends it anywhere: it seals
//! the pickup link's secret part (the link secret, the side, a guest's commitment) under it, and
//! deposits only that with the relay. Whoever types the code gets the park's token and the
//! deposit from the relay, opens the deposit with the page's half, and so holds the same pickup
//! link as one that was sent whole (a move link, [`MoveLink`]).
//!
//! What this is worth (PROTOCOL.md change 45): 30 bits are few, so the relay, which holds the
//! deposit, could open it by trying every page half, and then knows the link secret; the halves
//! keep the secret from a passive reader of the relay's traffic or logs, and from anyone who
//! guesses a relay half without the page's, only until they try 2^30 keys offline. Pickup by
//! code is for transport-only calls, where the relay already sees who talks to whom; a pickup
//! link carries the secret whole and gives the relay nothing.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use shieldcall_protocol::base64url;
use shieldcall_protocol::{MoveRefusal, MoveToken};

use crate::move_link::MoveLink;

/// Crockford's base32: no I, L, O or U, so that a code read aloud or by eye is not mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in each half.
pub const HALF: usize = 6;

/// A pickup code, both halves.
#[derive(Clone, PartialEq, Eq)]
pub struct PickupCode {
    relay: String,
    page: String,
}

impl std::fmt::Debug for PickupCode {
    /// The page's half is the key of the deposit: never in Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PickupCode(<redacted>)")
    }
}

/// Why a pickup code or its deposit was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickupError {
    /// Not twelve characters of the code's alphabet.
    Malformed,
    /// The deposit does not open with this code (a typo that still found a park, or a
    /// deposit altered on the way), or holds no pickup link.
    WrongCode,
}

impl std::fmt::Display for PickupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PickupError::Malformed => {
                "A pickup code is 12 letters and digits, like 7K3M-9QX2-HT4P. Check it and try \
                 again."
            }
            PickupError::WrongCode => {
                "This pickup code does not open the parked call. Check it with the person who \
                 parked the call."
            }
        })
    }
}

/// The page's half of a code, from 6 random bytes.
pub fn page_half(random: &[u8; HALF]) -> String {
    random.iter().map(|b| ALPHABET[(b & 31) as usize] as char).collect()
}

/// Read one character as Crockford's base32 does: any case, O as 0, I and L as 1.
fn normalise(c: char) -> Option<char> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET.contains(&(c as u8)).then_some(c).filter(char::is_ascii)
}

impl PickupCode {
    /// The code from the relay's half and the page's; `None` if either is not 6 characters
    /// of the alphabet.
    pub fn new(relay: &str, page: &str) -> Option<PickupCode> {
        let half = |h: &str| {
            (h.len() == HALF && h.bytes().all(|b| ALPHABET.contains(&b))).then(|| h.to_string())
        };
        Some(PickupCode { relay: half(relay)?, page: half(page)? })
    }

    /// Reads a code as a person types it: spaces and dashes anywhere, any case.
    pub fn parse(text: &str) -> Result<PickupCode, PickupError> {
        let chars: Option<String> =
            text.chars().filter(|c| !c.is_whitespace() && *c != '-').map(normalise).collect();
        let chars = chars.ok_or(PickupError::Malformed)?;
        if chars.len() != 2 * HALF {
            return Err(PickupError::Malformed);
        }
        let (relay, page) = chars.split_at(HALF);
        PickupCode::new(relay, page).ok_or(PickupError::Malformed)
    }

    /// As shown: three groups of four.
    pub fn to_text(&self) -> String {
        let all = format!("{}{}", self.relay, self.page);
        format!("{}-{}-{}", &all[..4], &all[4..8], &all[8..])
    }

    /// What the relay is asked for (`POST /pickup`): its own half only.
    pub fn relay_half(&self) -> &str {
        &self.relay
    }

    /// The pickup link the relay's answer opens into: its token and the deposit, opened with
    /// this code's page half.
    pub fn open(&self, token: &MoveToken, deposit: &str) -> Result<MoveLink, PickupError> {
        let rest = open_deposit(&self.page, deposit)?;
        MoveLink::parse_fragment(&format!("m={}&{rest}", token.0))
            .map_err(|_| PickupError::WrongCode)
    }
}

/// How a page opened from a link that takes someone's place got it: the words of a refusal
/// differ. The link says it after the move link's parts (`&h=park`, `&h=transfer`), which an
/// older page ignores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A move link: this person's other device.
    Move,
    /// A pickup link, or a pickup code typed on the home page.
    Pickup,
    /// A transfer link.
    Transfer,
}

impl Arrival {
    /// What a link's fragment says.
    pub fn of_fragment(fragment: &str) -> Arrival {
        match fragment.split('&').find_map(|part| part.strip_prefix("h=")) {
            Some("park") => Arrival::Pickup,
            Some("transfer") => Arrival::Transfer,
            _ => Arrival::Move,
        }
    }

    /// The tag a link of this kind carries after the move link's parts.
    pub fn tag(self) -> &'static str {
        match self {
            Arrival::Move => "",
            Arrival::Pickup => "&h=park",
            Arrival::Transfer => "&h=transfer",
        }
    }

    /// What a page that arrived this way is told when the relay refuses its token.
    pub fn refused(self, reason: MoveRefusal) -> &'static str {
        match (self, reason) {
            (Arrival::Move, _) => crate::controller::move_refused(reason),
            (Arrival::Pickup, reason) => pickup_refused(reason),
            (Arrival::Transfer, MoveRefusal::Used) => {
                "This transfer link was already used: someone has taken the call. A transfer                  link works once."
            }
            (Arrival::Transfer, MoveRefusal::Expired) => {
                "This transfer link has expired. Ask the person who transferred the call for a                  new one."
            }
            (Arrival::Transfer, MoveRefusal::Unknown) => "This transfer link is not valid.",
        }
    }
}

/// What a person who tries to pick up a parked call is told when it cannot be.
pub fn pickup_refused(reason: MoveRefusal) -> &'static str {
    match reason {
        MoveRefusal::Used => "This parked call was already picked up: a pickup code works once.",
        MoveRefusal::Expired => {
            "This pickup code has expired: nobody picked the call up in time, so it has ended."
        }
        MoveRefusal::Unknown => {
            "No parked call has this pickup code. Check it with the person who parked the call."
        }
    }
}

/// The longest transfer offer (a pickup link's path and fragment) read from the channel.
const MAX_OFFER: usize = 512;

/// The path of the pickup link of a parked call: `/call/{call_id}#m=…&h=park`. A page goes
/// there on its own origin only.
pub fn pickup_path(call_id: &str, link: &MoveLink) -> String {
    format!("/call/{call_id}#{}{}", link.to_fragment(), Arrival::Pickup.tag())
}

/// Reads a pickup path (a consult's, or one offered on the data channel): `None` unless it is
/// exactly `/call/{22 base64url}#{a move link}`; the path rebuilt, so nothing else passes.
pub fn read_pickup_path(text: &str) -> Option<String> {
    if text.len() > MAX_OFFER {
        return None;
    }
    let (path, fragment) = text.split_once('#')?;
    let call_id = path.strip_prefix("/call/")?;
    shieldcall_protocol::CallId::parse(call_id).ok()?;
    let link = MoveLink::parse_fragment(fragment).ok()?;
    Some(pickup_path(call_id, &link))
}

/// The home page's fragment that starts a consult call, carrying the held call's pickup path.
pub fn consult_fragment(pickup_path: &str) -> String {
    format!("c={pickup_path}")
}

/// The held call's pickup path from a home page fragment made by [`consult_fragment`].
pub fn read_consult_fragment(fragment: &str) -> Option<String> {
    read_pickup_path(fragment.strip_prefix("c=")?)
}

const AAD: &[u8] = b"shieldcall/v2 park deposit";

fn cipher(page_half: &str) -> Aes128Gcm {
    let hkdf = Hkdf::<Sha256>::new(Some(b"shieldcall/v2 park"), page_half.as_bytes());
    let mut key = [0u8; 16];
    // 16 bytes is far below HKDF-SHA256's limit of 255 * 32.
    hkdf.expand(b"deposit key", &mut key).expect("16 bytes of HKDF output");
    Aes128Gcm::new(&key.into())
}

/// Seal a pickup link's part after its token (`s=…&r=…`) under a page half, with a fresh
/// `nonce`: what the parking page deposits with the relay (base64url).
pub fn seal_deposit(page_half: &str, nonce: [u8; 12], link_rest: &str) -> String {
    let sealed = cipher(page_half)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: link_rest.as_bytes(), aad: AAD })
        // AES-GCM fails only on inputs of gigabytes.
        .expect("a short text seals");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    base64url::encode(&out)
}

/// Open what [`seal_deposit`] made.
pub fn open_deposit(page_half: &str, deposit: &str) -> Result<String, PickupError> {
    let bytes = base64url::decode(deposit).ok_or(PickupError::WrongCode)?;
    if bytes.len() < 12 + 16 {
        return Err(PickupError::WrongCode);
    }
    let (nonce, sealed) = bytes.split_at(12);
    let plain = cipher(page_half)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: AAD })
        .map_err(|_| PickupError::WrongCode)?;
    String::from_utf8(plain).map_err(|_| PickupError::WrongCode)
}

/// The part of a pickup link after its token, to be sealed.
pub fn link_rest(link: &MoveLink) -> String {
    let fragment = link.to_fragment();
    // `to_fragment` starts with `m={token}&`.
    fragment.split_once('&').map(|(_, rest)| rest.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shieldcall_e2ee::link::LinkSecret;
    use shieldcall_e2ee::session::Role;

    const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODw";
    const SECRET: &str = "ICEiIyQlJicoKSorLC0uLw";

    fn link() -> MoveLink {
        MoveLink {
            role: Role::Host,
            token: MoveToken(TOKEN.into()),
            secret: LinkSecret::parse(SECRET).unwrap(),
            rekeyed: false,
            commitment: None,
        }
    }

    #[test]
    fn a_link_says_how_it_takes_the_place_and_a_refusal_says_so() {
        let fragment = format!("{}{}", link().to_fragment(), Arrival::Transfer.tag());
        assert_eq!(Arrival::of_fragment(&fragment), Arrival::Transfer);
        assert_eq!(MoveLink::parse_fragment(&fragment), Ok(link()), "still a move link");
        let parked = format!("{}{}", link().to_fragment(), Arrival::Pickup.tag());
        assert_eq!(Arrival::of_fragment(&parked), Arrival::Pickup);
        assert_eq!(Arrival::of_fragment(&link().to_fragment()), Arrival::Move);
        assert!(Arrival::Transfer.refused(MoveRefusal::Used).contains("already used"));
        assert!(Arrival::Pickup.refused(MoveRefusal::Expired).contains("expired"));
    }

    #[test]
    fn a_pickup_path_is_read_back_and_nothing_else_passes() {
        const CALL: &str = "AAECAwQFBgcICQoLDA0ODw";
        let path = pickup_path(CALL, &link());
        assert_eq!(path, format!("/call/{CALL}#m={TOKEN}&s={SECRET}&r=host&h=park"));
        assert_eq!(read_pickup_path(&path), Some(path.clone()));
        assert_eq!(read_consult_fragment(&consult_fragment(&path)), Some(path.clone()));
        for bad in [
            format!("https://evil.example/call/{CALL}#m={TOKEN}&s={SECRET}&r=host"),
            format!("//evil.example/call/{CALL}#m={TOKEN}&s={SECRET}&r=host"),
            format!("/call/{CALL}/x#m={TOKEN}&s={SECRET}&r=host"),
            format!("/call/{CALL}#k=x&s={SECRET}"),
            format!("/settings#m={TOKEN}&s={SECRET}&r=host"),
            format!("/call/{CALL}#m={TOKEN}&s={SECRET}&r=host&x={}", "y".repeat(600)),
        ] {
            assert_eq!(read_pickup_path(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_code_is_read_as_a_person_types_it() {
        let code = PickupCode::new("7K3M9Q", &page_half(&[0, 1, 30, 31, 32, 255])).unwrap();
        assert_eq!(code.to_text(), "7K3M-9Q01-YZ0Z");
        for typed in ["7K3M-9Q01-YZ0Z", "7k3m 9qo1 yzoz", " 7K3M9QOIYZ0Z ", "7k3m-9qOl-yz0z"] {
            assert_eq!(PickupCode::parse(typed), Ok(code.clone()), "{typed}");
        }
        assert_eq!(code.relay_half(), "7K3M9Q");
        for bad in ["", "7K3M-9Q01-YZ0", "7K3M-9Q01-YZ0ZZ", "7K3M-9Q01-YZ0U", "7K3M-9Q01-YZ0!"] {
            assert_eq!(PickupCode::parse(bad), Err(PickupError::Malformed), "{bad}");
        }
        assert!(!format!("{code:?}").contains("YZ0Z"));
    }

    #[test]
    fn the_deposit_opens_with_the_code_into_the_pickup_link_and_not_otherwise() {
        let rest = link_rest(&link());
        assert_eq!(rest, format!("s={SECRET}&r=host"));
        let deposit = seal_deposit("ABCDEF", [7; 12], &rest);
        assert!(!deposit.contains(SECRET));
        let code = PickupCode::new("123456", "ABCDEF").unwrap();
        assert_eq!(code.open(&MoveToken(TOKEN.into()), &deposit), Ok(link()));
        // Another page half (a typo), or one byte of the deposit changed: refused.
        let typo = PickupCode::new("123456", "ABCDEG").unwrap();
        assert_eq!(typo.open(&MoveToken(TOKEN.into()), &deposit), Err(PickupError::WrongCode));
        let mut bytes = base64url::decode(&deposit).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = base64url::encode(&bytes);
        assert_eq!(code.open(&MoveToken(TOKEN.into()), &altered), Err(PickupError::WrongCode));
        assert_eq!(code.open(&MoveToken(TOKEN.into()), "AAAA"), Err(PickupError::WrongCode));
        // A sealed text that is no link: refused too.
        let junk = seal_deposit("ABCDEF", [7; 12], "nothing");
        assert_eq!(code.open(&MoveToken(TOKEN.into()), &junk), Err(PickupError::WrongCode));
    }
}
