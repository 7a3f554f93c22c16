//! The link that moves a person's place in a call to another device:
//! `{origin}/call/{call_id}#m={move token}&s={link secret}&r=host` (or `&r=guest&k={commitment}`),
//! and for a re-keyed move out of an E2EE call `&e=1`, with the move's secret in `s=`
//! (PROTOCOL.md changes 43 and 44).
//!
//! Everything after `#` stays out of every request (the relay gets the token in the socket's
//! first message only): the relay's one-time token, the call's link secret (the new device
//! confirms the transcript with it, as the old one did), which side of the call the place is,
//! and for a guest the link's commitment to the host's key. The new device makes a key of its
//! own; no key travels in the link. Under E2EE the secret is the move's (`S_move`, which only
//! the two parties of the call can compute), and the new device agrees fresh keys under it.

use shieldcall_e2ee::link::{Commitment, LinkSecret};
use shieldcall_e2ee::session::Role;
use shieldcall_protocol::MoveToken;

/// What a move link carries.
#[derive(Clone, PartialEq, Eq)]
pub struct MoveLink {
    /// The side of the call whose place moves.
    pub role: Role,
    pub token: MoveToken,
    /// The secret the new device confirms (and, re-keyed, derives its keys) with.
    pub secret: LinkSecret,
    /// A re-keyed move out of an E2EE call: the new device keeps its E2EE setting and agrees
    /// fresh keys under `secret`, the move's. Otherwise the moved call is transport-only.
    pub rekeyed: bool,
    /// (Guest) the link's commitment to the host's key.
    pub commitment: Option<Commitment>,
}

impl std::fmt::Debug for MoveLink {
    /// Only the side: the token and the secret are the whole claim to the place.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoveLink").field("role", &self.role).finish_non_exhaustive()
    }
}

/// Why a fragment is no move link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveLinkError {
    /// No `m=`: an ordinary call link (or none at all).
    NotAMove,
    /// An `m=` with the rest missing or unreadable.
    Malformed,
}

impl MoveLink {
    /// What the panel that shows this link says, for a link that works `ttl_secs`.
    pub fn instructions(&self, ttl_secs: u64) -> String {
        let lasts = if ttl_secs.is_multiple_of(60) {
            format!("{} minutes", ttl_secs / 60)
        } else {
            format!("{ttl_secs} seconds")
        };
        let keys = if self.rekeyed {
            " With end-to-end encrypted calls on there, the call stays end-to-end encrypted: \
             the other device agrees new keys with the other person, and you both get a new \
             security code to compare."
        } else {
            ""
        };
        format!(
            "Open this link on the other device, or scan the code. It works once, for {lasts}; \
             this device leaves the call when the other one joins.{keys}"
        )
    }

    /// The part after `#`.
    pub fn to_fragment(&self) -> String {
        let token = &self.token.0;
        let secret = self.secret.to_link_text();
        let rekeyed = if self.rekeyed { "&e=1" } else { "" };
        match (self.role, &self.commitment) {
            (Role::Guest, Some(k)) => format!("m={token}&s={secret}&r=guest&k={k}{rekeyed}"),
            // A guest without a commitment cannot be (the link had one); the host needs none.
            _ => format!("m={token}&s={secret}&r=host{rekeyed}"),
        }
    }

    /// Reads the part after `#`.
    pub fn parse_fragment(fragment: &str) -> Result<MoveLink, MoveLinkError> {
        let part = |name: &str| fragment.split('&').find_map(|part| part.strip_prefix(name));
        let token = part("m=").ok_or(MoveLinkError::NotAMove)?;
        if token.len() != 22
            || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(MoveLinkError::Malformed);
        }
        let secret = LinkSecret::parse(part("s=").ok_or(MoveLinkError::Malformed)?)
            .map_err(|_| MoveLinkError::Malformed)?;
        let (role, commitment) = match part("r=") {
            Some("host") => (Role::Host, None),
            Some("guest") => {
                let k = part("k=").ok_or(MoveLinkError::Malformed)?;
                (Role::Guest, Some(Commitment::parse(k).map_err(|_| MoveLinkError::Malformed)?))
            }
            _ => return Err(MoveLinkError::Malformed),
        };
        let rekeyed = match part("e=") {
            None => false,
            Some("1") => true,
            Some(_) => return Err(MoveLinkError::Malformed),
        };
        Ok(MoveLink { role, token: MoveToken(token.into()), secret, rekeyed, commitment })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODw";
    const SECRET: &str = "ICEiIyQlJicoKSorLC0uLw";
    const COMMITMENT: &str = "8PHy8_T19vf4-fr7_P3-_w";

    #[test]
    fn both_sides_read_back_what_they_wrote() {
        let host = MoveLink {
            role: Role::Host,
            token: MoveToken(TOKEN.into()),
            secret: LinkSecret::parse(SECRET).unwrap(),
            rekeyed: false,
            commitment: None,
        };
        assert_eq!(host.to_fragment(), format!("m={TOKEN}&s={SECRET}&r=host"));
        assert_eq!(MoveLink::parse_fragment(&host.to_fragment()), Ok(host.clone()));
        let guest = MoveLink {
            role: Role::Guest,
            commitment: Some(Commitment::parse(COMMITMENT).unwrap()),
            ..host.clone()
        };
        let text = guest.to_fragment();
        assert_eq!(text, format!("m={TOKEN}&s={SECRET}&r=guest&k={COMMITMENT}"));
        assert_eq!(MoveLink::parse_fragment(&text), Ok(guest.clone()));
        // Re-keyed, either side.
        for link in [host.clone(), guest] {
            let rekeyed = MoveLink { rekeyed: true, ..link };
            let text = rekeyed.to_fragment();
            assert!(text.ends_with("&e=1"), "{text}");
            assert_eq!(MoveLink::parse_fragment(&text), Ok(rekeyed));
        }
        // Neither the token nor the secret in Debug output.
        let debug = format!("{host:?}");
        assert!(!debug.contains(TOKEN) && !debug.contains(SECRET), "{debug}");
    }

    #[test]
    fn the_panel_says_how_long_the_link_works_and_whether_keys_change() {
        let link = MoveLink {
            role: Role::Host,
            token: MoveToken(TOKEN.into()),
            secret: LinkSecret::parse(SECRET).unwrap(),
            rekeyed: false,
            commitment: None,
        };
        let said = link.instructions(120);
        assert!(said.contains("for 2 minutes") && !said.contains("security code"), "{said}");
        let said = MoveLink { rekeyed: true, ..link }.instructions(90);
        assert!(said.contains("for 90 seconds") && said.contains("new security code"), "{said}");
    }

    #[test]
    fn a_call_link_is_no_move_link_and_a_broken_one_is_refused() {
        let call_link = format!("k={COMMITMENT}&s={SECRET}");
        assert_eq!(MoveLink::parse_fragment(&call_link), Err(MoveLinkError::NotAMove));
        assert_eq!(MoveLink::parse_fragment(""), Err(MoveLinkError::NotAMove));
        for broken in [
            format!("m={TOKEN}&r=host"),
            format!("m={TOKEN}&s={SECRET}"),
            format!("m={TOKEN}&s={SECRET}&r=guest"),
            format!("m={TOKEN}&s={SECRET}&r=someone"),
            format!("m=short&s={SECRET}&r=host"),
            format!("m={TOKEN}&s=nope&r=host"),
            format!("m={TOKEN}&s={SECRET}&r=host&e=0"),
            format!("m={TOKEN}&s={SECRET}&r=host&e=yes"),
        ] {
            assert_eq!(
                MoveLink::parse_fragment(&broken),
                Err(MoveLinkError::Malformed),
                "{broken}"
            );
        }
    }
}
