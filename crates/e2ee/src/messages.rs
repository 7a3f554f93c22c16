//! The messages that cross each boundary, defined once and shared by every crate.
//!
//! - [`RelayEvent`]: what the relay itself tells a client about its room.
//! - [`Signal`]: what one client sends the other through the relay (the relay only forwards it).
//!
//! Both are JSON objects tagged by `t`, so a client reads either from the same socket.

use serde::{Deserialize, Serialize};

/// Protocol version carried in [`Signal::Hello`].
pub const PROTOCOL_VERSION: u8 = 1;

/// Largest text message the relay accepts or forwards, in bytes.
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// An event the relay sends about the room a client joined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RelayEvent {
    /// You are in the room; `peers` others were already there (0 or 1).
    Joined { peers: u8 },
    /// The other person arrived.
    PeerJoined,
    /// The other person left or lost their connection.
    PeerLeft,
    /// The room already holds two people; this socket is closed next.
    Full,
    /// The relay rejected something this client sent; the room is unharmed.
    Error { reason: String },
}

/// A message from one client to the other, forwarded unchanged by the relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Signal {
    /// Each party's E2EE setting and ephemeral P-256 public key (65-byte SEC1, base64url).
    Hello {
        v: u8,
        e2ee: bool,
        #[serde(rename = "pub")]
        public_key: String,
    },
    /// The host's SDP offer.
    Offer { sdp: String },
    /// The guest's SDP answer.
    Answer { sdp: String },
    /// A trickled ICE candidate, as `RTCIceCandidateInit`.
    Ice {
        candidate: String,
        #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
        sdp_mid: Option<String>,
        #[serde(rename = "sdpMLineIndex", default, skip_serializing_if = "Option::is_none")]
        sdp_m_line_index: Option<u16>,
    },
    /// The sender is hanging up.
    Bye,
}

/// Anything a client can receive on its relay socket.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Inbound {
    Relay(RelayEvent),
    Peer(Signal),
}

impl Signal {
    /// Parse a text message from a peer; `Err` carries a reason that is safe to show or log
    /// (it never echoes the message back).
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        if text.len() > MAX_SIGNAL_BYTES {
            return Err(SignalError::TooLarge);
        }
        serde_json::from_str(text).map_err(|_| SignalError::Malformed)
    }

    /// The JSON text of this message.
    pub fn to_json(&self) -> String {
        // Serialising a plain enum of strings and numbers cannot fail.
        serde_json::to_string(self).expect("Signal serialises")
    }
}

impl RelayEvent {
    /// The JSON text of this event.
    pub fn to_json(&self) -> String {
        // Serialising a plain enum of strings and numbers cannot fail.
        serde_json::to_string(self).expect("RelayEvent serialises")
    }
}

impl Inbound {
    /// Parse whatever arrived on a client's relay socket.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        if text.len() > MAX_SIGNAL_BYTES {
            return Err(SignalError::TooLarge);
        }
        serde_json::from_str(text).map_err(|_| SignalError::Malformed)
    }
}

/// Why a signalling message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalError {
    TooLarge,
    Malformed,
}

impl std::fmt::Display for SignalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignalError::TooLarge => "message larger than 64 KiB",
            SignalError::Malformed => "not a valid Shieldcall signalling message",
        })
    }
}

impl std::error::Error for SignalError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_uses_the_protocol_field_names() {
        let hello = Signal::Hello { v: PROTOCOL_VERSION, e2ee: true, public_key: "AAAA".into() };
        assert_eq!(hello.to_json(), r#"{"t":"hello","v":1,"e2ee":true,"pub":"AAAA"}"#);
        assert_eq!(Signal::parse(&hello.to_json()), Ok(hello));
    }

    #[test]
    fn relay_events_and_peer_signals_share_one_socket() {
        let joined = RelayEvent::Joined { peers: 1 }.to_json();
        assert_eq!(joined, r#"{"t":"joined","peers":1}"#);
        assert_eq!(Inbound::parse(&joined), Ok(Inbound::Relay(RelayEvent::Joined { peers: 1 })));
        assert_eq!(Inbound::parse(r#"{"t":"bye"}"#), Ok(Inbound::Peer(Signal::Bye)));
    }

    #[test]
    fn a_peer_cannot_pass_as_the_relay() {
        // A client message that claims to be a relay event is not a valid Signal.
        assert_eq!(Signal::parse(r#"{"t":"peer-left"}"#), Err(SignalError::Malformed));
        assert_eq!(Signal::parse(r#"{"t":"full"}"#), Err(SignalError::Malformed));
    }

    #[test]
    fn garbage_and_oversize_are_refused() {
        assert_eq!(Signal::parse("not json"), Err(SignalError::Malformed));
        assert_eq!(Signal::parse(r#"{"t":"offer"}"#), Err(SignalError::Malformed));
        assert_eq!(Signal::parse(r#"{"t":"bye","extra":1}"#), Err(SignalError::Malformed));
        let huge = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(MAX_SIGNAL_BYTES));
        assert_eq!(Signal::parse(&huge), Err(SignalError::TooLarge));
    }
}
