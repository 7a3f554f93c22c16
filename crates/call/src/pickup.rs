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

use hkdf::Hkdf;
use sha2::Sha256;
use shieldcall_protocol::base64url;
use shieldcall_protocol::{MoveRefusal, MoveToken};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

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
    /// This page has no WebCrypto to open the deposit with (outside a secure context).
    NoWebCrypto,
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
            PickupError::NoWebCrypto => {
                "This page cannot open a parked call: the browser offers it no WebCrypto. Open \
                 Shieldcall over https and try again."
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

    /// The key that opens the deposit: this code's page half's.
    pub fn deposit_key(&self) -> DepositKey {
        DepositKey::of(&self.page)
    }
}

/// The pickup link the relay's answer opens into: its token, and the deposit's text once
/// opened with the code's [`DepositKey`]. A text that is no link's part is the wrong code too.
pub fn opened_link(token: &MoveToken, opened: &[u8]) -> Result<MoveLink, PickupError> {
    let rest = std::str::from_utf8(opened).map_err(|_| PickupError::WrongCode)?;
    // The fragment holds the link secret: wiped once read.
    let fragment = Zeroizing::new(format!("m={}&{rest}", token.0));
    MoveLink::parse_fragment(&fragment).map_err(|_| PickupError::WrongCode)
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

/// What a person is told when the relay refuses to look up more codes from their address for
/// now (it limits the tries a minute, against guessing).
pub const PICKUP_TOO_OFTEN: &str =
    "Too many pickup codes were tried from here. Wait a minute, then try again.";

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

/// The deposit's additional data: what it is, so that it opens as nothing else.
pub const DEPOSIT_AAD: &[u8] = b"shieldcall/v2 park deposit";
/// A deposit's nonce, and the tag after its ciphertext (AES-GCM's).
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A deposit's AES-128-GCM key, from a page half of the code (HKDF-SHA256). Wiped on drop;
/// never in `Debug`. The page seals and opens with WebCrypto (`src/browser/deposit.rs`), whose
/// AES runs on the CPU's AES instructions, and keeps a software AES out of the app's wasm.
pub struct DepositKey(Zeroizing<[u8; 16]>);

impl DepositKey {
    fn of(page_half: &str) -> DepositKey {
        let hkdf = Hkdf::<Sha256>::new(Some(b"shieldcall/v2 park"), page_half.as_bytes());
        let mut key = Zeroizing::new([0u8; 16]);
        // 16 bytes is far below HKDF-SHA256's limit of 255 * 32.
        hkdf.expand(b"deposit key", &mut key[..]).expect("16 bytes of HKDF output");
        DepositKey(key)
    }

    /// The raw key, for the AES-GCM that seals or opens (WebCrypto's `importKey`).
    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl PartialEq for DepositKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}

impl std::fmt::Debug for DepositKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DepositKey(<redacted>)")
    }
}

/// What a park deposits with the relay, before it is sealed: the pickup link's part after its
/// token (`s=…&r=…`), to be sealed with AES-128-GCM under `key`, with `nonce` and
/// [`DEPOSIT_AAD`]; [`DepositSeal::deposit`] writes the result as the relay holds it.
pub struct DepositSeal {
    pub key: DepositKey,
    pub nonce: [u8; NONCE_LEN],
    /// Holds the link secret: wiped on drop, never in `Debug`.
    pub text: Zeroizing<String>,
}

impl DepositSeal {
    /// The deposit of `link_rest` under a page half, with a fresh `nonce`.
    pub fn new(page_half: &str, nonce: [u8; NONCE_LEN], link_rest: &str) -> DepositSeal {
        let text = Zeroizing::new(link_rest.to_string());
        DepositSeal { key: DepositKey::of(page_half), nonce, text }
    }

    /// The deposit as the relay holds it (base64url): the nonce, then `sealed`, AES-GCM's
    /// ciphertext and tag of [`DepositSeal::text`].
    pub fn deposit(&self, sealed: &[u8]) -> String {
        let mut out = self.nonce.to_vec();
        out.extend_from_slice(sealed);
        base64url::encode(&out)
    }
}

impl PartialEq for DepositSeal {
    fn eq(&self, other: &Self) -> bool {
        let text = self.text.as_bytes().ct_eq(other.text.as_bytes());
        self.key == other.key && self.nonce == other.nonce && bool::from(text)
    }
}

impl std::fmt::Debug for DepositSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DepositSeal(<redacted>)")
    }
}

/// A deposit as the relay's pickup answer carries it, read: to be opened with AES-128-GCM
/// under the code's [`DepositKey`], with `nonce` and [`DEPOSIT_AAD`].
#[derive(Debug, PartialEq)]
pub struct SealedDeposit {
    pub nonce: [u8; NONCE_LEN],
    /// The ciphertext and its 16-byte tag.
    pub sealed: Vec<u8>,
}

impl SealedDeposit {
    /// Reads a deposit: base64url of a nonce, a ciphertext and a tag. Anything else can only
    /// come from a typo that found another park, or from an altered answer: the wrong code.
    pub fn parse(deposit: &str) -> Result<SealedDeposit, PickupError> {
        let bytes = base64url::decode(deposit).ok_or(PickupError::WrongCode)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(PickupError::WrongCode);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = nonce.try_into().expect("12 bytes");
        Ok(SealedDeposit { nonce, sealed: sealed.to_vec() })
    }
}

/// The deposit's AES-GCM where no browser does it (the host: the call's tests): the `aes-gcm`
/// crate, AES-128-GCM with a 16-byte tag as WebCrypto's, so that a deposit sealed by either
/// opens with the other (the app's browser test opens one sealed here).
#[cfg(not(target_arch = "wasm32"))]
pub mod host_aes_gcm {
    use aes_gcm::Aes128Gcm;
    use aes_gcm::aead::{Aead, KeyInit, Payload};

    use shieldcall_protocol::MoveToken;
    use zeroize::Zeroizing;

    use super::{DEPOSIT_AAD, DepositKey, DepositSeal, PickupCode, PickupError, SealedDeposit};
    use crate::move_link::MoveLink;

    fn cipher(key: &DepositKey) -> Aes128Gcm {
        Aes128Gcm::new(key.bytes().into())
    }

    /// [`DepositSeal::deposit`] of the sealed text.
    pub fn seal(job: &DepositSeal) -> String {
        let payload = Payload { msg: job.text.as_bytes(), aad: DEPOSIT_AAD };
        // AES-GCM fails only on inputs of gigabytes.
        let sealed =
            cipher(&job.key).encrypt(&job.nonce.into(), payload).expect("a short text seals");
        job.deposit(&sealed)
    }

    /// The opened text, or `None` if the deposit does not open under `key`.
    pub fn open(key: &DepositKey, deposit: &SealedDeposit) -> Option<Zeroizing<Vec<u8>>> {
        let payload = Payload { msg: &deposit.sealed, aad: DEPOSIT_AAD };
        cipher(key).decrypt(&deposit.nonce.into(), payload).ok().map(Zeroizing::new)
    }

    /// The pickup link `code` opens the relay's answer into, as the pickup form does.
    pub fn open_link(
        code: &PickupCode,
        token: &MoveToken,
        deposit: &str,
    ) -> Result<MoveLink, PickupError> {
        let sealed = SealedDeposit::parse(deposit)?;
        let opened = open(&code.deposit_key(), &sealed).ok_or(PickupError::WrongCode)?;
        super::opened_link(token, &opened)
    }
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

    fn open(code: &PickupCode, deposit: &str) -> Result<MoveLink, PickupError> {
        host_aes_gcm::open_link(code, &MoveToken(TOKEN.into()), deposit)
    }

    #[test]
    fn the_deposit_opens_with_the_code_into_the_pickup_link_and_not_otherwise() {
        let rest = link_rest(&link());
        assert_eq!(rest, format!("s={SECRET}&r=host"));
        let deposit = host_aes_gcm::seal(&DepositSeal::new("ABCDEF", [7; 12], &rest));
        assert!(!deposit.contains(SECRET));
        let code = PickupCode::new("123456", "ABCDEF").unwrap();
        assert_eq!(open(&code, &deposit), Ok(link()));
        // Another page half (a typo), or one byte of the deposit changed: refused.
        let typo = PickupCode::new("123456", "ABCDEG").unwrap();
        assert_eq!(open(&typo, &deposit), Err(PickupError::WrongCode));
        let mut bytes = base64url::decode(&deposit).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = base64url::encode(&bytes);
        assert_eq!(open(&code, &altered), Err(PickupError::WrongCode));
        // Too short to hold a nonce and a tag, or no base64url: refused before any AES.
        for short in ["AAAA", "", &deposit[..37], "not base64url!"] {
            assert_eq!(SealedDeposit::parse(short), Err(PickupError::WrongCode), "{short}");
        }
        // A sealed text that is no link: refused too.
        let junk = host_aes_gcm::seal(&DepositSeal::new("ABCDEF", [7; 12], "nothing"));
        assert_eq!(open(&code, &junk), Err(PickupError::WrongCode));
    }

    const DEPOSIT_VECTOR: &str =
        "BwcHBwcHBwcHBwcHt-qfEXVbGZ8Nr0btpvLj47Bod2oZwpivijCNIH8g8kjtOZ3_tSkr-55R57j2ZEc";

    /// The bytes of one deposit, which the app's browser test seals with WebCrypto from the
    /// same inputs and opens (tests/web.rs, `a_deposit_seals_and_opens_with_webcrypto`).
    #[test]
    fn a_deposit_sealed_on_the_host_is_these_bytes() {
        let rest = link_rest(&link());
        let deposit = host_aes_gcm::seal(&DepositSeal::new("ABCDEF", [7; 12], &rest));
        assert_eq!(deposit, DEPOSIT_VECTOR);
    }

    #[test]
    fn a_deposit_key_is_the_page_halfs_and_never_shown() {
        let code = PickupCode::new("123456", "ABCDEF").unwrap();
        let job = DepositSeal::new("ABCDEF", [7; 12], "s=secret");
        assert_eq!(code.deposit_key(), job.key);
        assert_ne!(PickupCode::new("123456", "ABCDEG").unwrap().deposit_key(), job.key);
        assert_eq!(format!("{job:?}"), "DepositSeal(<redacted>)");
        assert_eq!(format!("{:?}", job.key), "DepositKey(<redacted>)");
    }
}
