//! The messages that cross each boundary, defined once and shared by every crate.
//!
//! - [`RelayRequest`]: the first message a client sends the relay itself: which place it takes.
//! - [`RelayEvent`]: what the relay itself tells a client about its room.
//! - [`Signal`]: what one client sends the other through the relay (the relay only forwards it).
//! - [`WorkerCommand`] and [`WorkerEvent`]: what the page and the media worker tell each other.
//!
//! Relay events and signals are JSON objects tagged by `t`, so a client reads either from the
//! same socket; worker messages are tagged by `kind`.

use serde::{Deserialize, Serialize};

use crate::layout::PayloadTypes;

/// Protocol version carried in [`Signal::Hello`].
pub const PROTOCOL_VERSION: u8 = 2;

/// Largest text message the relay accepts or forwards, in bytes.
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// An event the relay sends about the room a client joined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RelayEvent {
    /// You are in the room; `peers` others were already there (0 or 1). `rejoin` is this
    /// place's token: a reconnection that presents it (in [`RelayRequest::Join`]) takes
    /// the place back even while the relay still holds the old socket (a half-open connection
    /// it has not yet found dead), instead of being told the call is full.
    Joined { peers: u8, rejoin: String },
    /// The other person arrived.
    PeerJoined,
    /// The other person left or lost their connection.
    PeerLeft,
    /// The room already holds two people; this socket is closed next.
    Full,
    /// The relay rejected something this client sent; the room is unharmed.
    Error { reason: String },
}

/// The first message on a relay socket, from the client to the relay (never forwarded). The
/// rejoin token travels here rather than in the URL, where access logs and proxies would keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RelayRequest {
    /// Join the room: a new place, or with `rejoin` (from an earlier `joined`) that place back.
    Join {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rejoin: Option<String>,
    },
}

impl RelayRequest {
    /// Parse the first message of a socket; `Err` never echoes the message.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        parse_signalling(text)
    }

    /// The JSON text of this request.
    pub fn to_json(&self) -> String {
        // Serialising an enum of strings cannot fail.
        serde_json::to_string(self).expect("RelayRequest serialises")
    }
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
    /// The sender's key confirmation (32 bytes, base64url; see
    /// [`crate::keys::Confirmation`]): proof, keyed by the link secret, of the transcript it saw.
    Confirm { mac: String },
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
    /// The sender is hanging up. (A struct variant: serde ignores `deny_unknown_fields` on
    /// unit variants of internally tagged enums, and extra fields must be refused.)
    Bye {},
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
        parse_signalling(text)
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
        parse_signalling(text)
    }
}

/// One signalling message of at most [`MAX_SIGNAL_BYTES`]; the error never echoes the text.
fn parse_signalling<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, SignalError> {
    if text.len() > MAX_SIGNAL_BYTES {
        return Err(SignalError::TooLarge);
    }
    serde_json::from_str(text).map_err(|_| SignalError::Malformed)
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

/// Page to media worker. Keys cross this boundary once and then live only in the worker.
///
/// Posted as JSON text ([`to_json`](Self::to_json)), except [`UseKeys`](Self::UseKeys): its key
/// bytes never enter JSON (a string the page cannot wipe), but cross as the object
/// `{command: <the JSON text without keys>, keys: ArrayBuffer(send || receive)}` with the buffer
/// in the transfer list, so the page keeps no copy ([`key_bytes`](Self::key_bytes) on the page,
/// [`from_parts`](Self::from_parts) in the worker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorkerCommand {
    /// E2EE is on but no keys are agreed yet: drop every frame (fail closed).
    AwaitKeys,
    /// Transport encryption only: frames pass unchanged.
    TransportOnly,
    /// E2EE with these base keys (RFC 9605 `base_key`), one per direction. Sending again with a
    /// new `epoch` changes keys mid-call. The keys are skipped by serde: they travel in the
    /// transferred buffer, and JSON that names them is refused.
    UseKeys {
        suite: u16,
        epoch: u64,
        #[serde(skip)]
        send: SecretBytes,
        #[serde(skip)]
        receive: SecretBytes,
    },
    /// Encrypt a chat message (slot 15) under the current keys; answered by
    /// [`WorkerEvent::ChatSealed`] or [`WorkerEvent::ChatRefused`] with the same `id`.
    SealChat { id: u32, text: String },
    /// Encrypt a report to the peer that its chat messages arrived as `order` says (after a
    /// gap, or late); answered like [`WorkerCommand::SealChat`].
    SealChatReport { id: u32, order: ChatOrder },
    /// The codec of each payload type the call's connection negotiated, sent whenever a
    /// connection's descriptions are both applied: frames are dropped until it arrives.
    Codecs { payload_types: PayloadTypes },
    /// Decrypt a chat frame from the peer (base64url); answered by [`WorkerEvent::ChatOpened`],
    /// [`WorkerEvent::ChatReportOpened`] or [`WorkerEvent::ChatRefused`] with the same `id`.
    OpenChat { id: u32, frame: String },
}

/// Media worker to page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorkerEvent {
    /// The worker's wasm is running and its `rtctransform` handler is installed.
    Ready,
    /// Counters of one transform since it started, sent about once a second.
    Stats(TransformStats),
    /// Something went wrong in one transform (throttled: at most one a second per transform).
    Error { slot: u8, direction: Direction, message: String },
    /// A chat message as an SFrame (base64url), ready for the data channel.
    ChatSealed { id: u32, frame: String },
    /// A chat frame from the peer, opened; `order` says whether messages before it are
    /// missing or it arrived late (by the sequence number sealed inside it).
    ChatOpened { id: u32, text: String, order: ChatOrder },
    /// A chat frame from the peer that reports how this side's messages arrived there
    /// (`report`, never in order); `order` as for [`WorkerEvent::ChatOpened`].
    ChatReportOpened { id: u32, report: ChatOrder, order: ChatOrder },
    /// A chat message could not be sealed or opened (no keys, bad tag, replay, not UTF-8).
    ChatRefused { id: u32, reason: String },
}

/// Where an opened chat message falls in the peer's sequence
/// ([`crate::sframe::chat::ChatSequence`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChatOrder {
    /// The next one expected.
    InOrder,
    /// `missing` messages sent before it never arrived (so far).
    AfterGap { missing: u64 },
    /// Sent before one already shown: it arrived out of order.
    Late,
}

impl ChatOrder {
    /// What to tell the person before showing the message, if anything.
    pub fn notice(self) -> Option<String> {
        match self {
            ChatOrder::InOrder => None,
            ChatOrder::AfterGap { missing: 1 } => {
                Some("A chat message from the other person is missing.".into())
            }
            ChatOrder::AfterGap { missing } => {
                Some(format!("{missing} chat messages from the other person are missing."))
            }
            ChatOrder::Late => Some(
                "A chat message from the other person arrived out of order: it was sent before \
                 the one shown above it."
                    .into(),
            ),
        }
    }

    /// What to tell the sender when the other side reports its messages arrived this way.
    pub fn notice_to_sender(self) -> Option<String> {
        match self {
            ChatOrder::InOrder => None,
            ChatOrder::AfterGap { missing: 1 } => {
                Some("One of your chat messages did not reach the other person.".into())
            }
            ChatOrder::AfterGap { missing } => {
                Some(format!("{missing} of your chat messages did not reach the other person."))
            }
            ChatOrder::Late => {
                Some("One of your chat messages reached the other person out of order.".into())
            }
        }
    }
}

/// Which way frames flow through a transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Send,
    Receive,
}

/// What one transform has done with its frames.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransformStats {
    pub slot: u8,
    pub direction: Option<Direction>,
    /// Frames encrypted (send) or decrypted (receive).
    pub processed: u64,
    /// Frames passed unchanged in transport-only mode.
    pub passed: u64,
    pub dropped_no_key: u64,
    pub dropped_unknown_key: u64,
    pub dropped_bad_tag: u64,
    pub dropped_replay: u64,
    pub dropped_malformed: u64,
    /// Frames whose codec has no E2EE frame layout, or whose payload type the worker does not
    /// know.
    pub dropped_codec: u64,
    /// Key frames asked for after drops or a key change.
    pub key_frame_requests: u64,
}

impl TransformStats {
    /// All frames dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_no_key
            + self.dropped_unknown_key
            + self.dropped_bad_tag
            + self.dropped_replay
            + self.dropped_malformed
            + self.dropped_codec
    }
}

/// Secret bytes in a message: zeroized on drop, never printed, and never serialised (no serde:
/// they cross to the worker in a transferred `ArrayBuffer`, see [`WorkerCommand`]).
#[derive(Clone, Default, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}

/// The field of a key-carrying worker message that holds the command's JSON text.
pub const COMMAND_FIELD: &str = "command";
/// The field of a key-carrying worker message that holds the transferred key bytes.
pub const KEYS_FIELD: &str = "keys";

/// Why a message to the worker was not a usable command. The worker then fails closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Not the JSON of a command (or JSON that carries key fields).
    Malformed,
    /// `use-keys` came without its key bytes.
    MissingKeys,
    /// Key bytes came with a command that takes none.
    UnexpectedKeys,
    /// The key bytes cannot be two keys of one length.
    KeyLength,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CommandError::Malformed => "the worker got a message it does not understand",
            CommandError::MissingKeys => "keys were announced but no key bytes came with them",
            CommandError::UnexpectedKeys => "key bytes came with a command that takes none",
            CommandError::KeyLength => "the key bytes are not two keys of one length",
        })
    }
}

impl std::error::Error for CommandError {}

impl WorkerCommand {
    /// The JSON text posted to the worker. Never holds key bytes: see
    /// [`key_bytes`](Self::key_bytes).
    pub fn to_json(&self) -> String {
        // Serialising strings and numbers cannot fail.
        serde_json::to_string(self).expect("WorkerCommand serialises")
    }

    /// The key bytes to transfer beside the JSON, `send || receive`; `None` for a command that
    /// carries no keys. A copy the caller moves into the transferred buffer and then drops
    /// (zeroized).
    pub fn key_bytes(&self) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        let WorkerCommand::UseKeys { send, receive, .. } = self else { return None };
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(
            send.expose().len() + receive.expose().len(),
        ));
        bytes.extend_from_slice(send.expose());
        bytes.extend_from_slice(receive.expose());
        Some(bytes)
    }

    /// The command the worker got: its JSON text and, for `use-keys`, the transferred key bytes
    /// (`send || receive`, two halves of one length). Keys missing, unexpected or of odd length
    /// are refused.
    pub fn from_parts(json: &str, keys: Option<&[u8]>) -> Result<WorkerCommand, CommandError> {
        let mut command: WorkerCommand =
            serde_json::from_str(json).map_err(|_| CommandError::Malformed)?;
        match (&mut command, keys) {
            (WorkerCommand::UseKeys { send, receive, .. }, Some(keys)) => {
                if keys.is_empty() || keys.len() % 2 != 0 {
                    return Err(CommandError::KeyLength);
                }
                let (s, r) = keys.split_at(keys.len() / 2);
                *send = SecretBytes::new(s.to_vec());
                *receive = SecretBytes::new(r.to_vec());
            }
            (WorkerCommand::UseKeys { .. }, None) => return Err(CommandError::MissingKeys),
            (_, Some(_)) => return Err(CommandError::UnexpectedKeys),
            (_, None) => {}
        }
        Ok(command)
    }
}

impl WorkerEvent {
    /// The JSON text posted to the page.
    pub fn to_json(&self) -> String {
        // Serialising strings and numbers cannot fail.
        serde_json::to_string(self).expect("WorkerEvent serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_uses_the_protocol_field_names() {
        let hello = Signal::Hello { v: PROTOCOL_VERSION, e2ee: true, public_key: "AAAA".into() };
        assert_eq!(hello.to_json(), r#"{"t":"hello","v":2,"e2ee":true,"pub":"AAAA"}"#);
        assert_eq!(Signal::parse(&hello.to_json()), Ok(hello));
    }

    #[test]
    fn relay_events_and_peer_signals_share_one_socket() {
        let joined = RelayEvent::Joined { peers: 1, rejoin: "T".into() }.to_json();
        assert_eq!(joined, r#"{"t":"joined","peers":1,"rejoin":"T"}"#);
        assert_eq!(
            Inbound::parse(&joined),
            Ok(Inbound::Relay(RelayEvent::Joined { peers: 1, rejoin: "T".into() }))
        );
        assert_eq!(Inbound::parse(r#"{"t":"bye"}"#), Ok(Inbound::Peer(Signal::Bye {})));
    }

    #[test]
    fn the_join_request_carries_the_token_and_is_no_signal() {
        let first = RelayRequest::Join { rejoin: None };
        assert_eq!(first.to_json(), r#"{"t":"join"}"#);
        let again = RelayRequest::Join { rejoin: Some("T".into()) };
        assert_eq!(again.to_json(), r#"{"t":"join","rejoin":"T"}"#);
        assert_eq!(RelayRequest::parse(&again.to_json()), Ok(again));
        assert_eq!(RelayRequest::parse(r#"{"t":"join","x":1}"#), Err(SignalError::Malformed));
        assert_eq!(RelayRequest::parse(r#"{"t":"bye"}"#), Err(SignalError::Malformed));
        // Never forwarded: a join request is not a signal.
        assert_eq!(Signal::parse(r#"{"t":"join"}"#), Err(SignalError::Malformed));
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

    #[test]
    fn keys_cross_to_the_worker_as_bytes_never_in_json_and_never_print() {
        let command = WorkerCommand::UseKeys {
            suite: 4,
            epoch: 7,
            send: SecretBytes::new(vec![0xAA; 16]),
            receive: SecretBytes::new(vec![0xBB; 16]),
        };
        assert!(!format!("{command:?}").contains("170"));
        assert!(format!("{command:?}").contains("<redacted>"));
        let json = command.to_json();
        assert_eq!(json, r#"{"kind":"use-keys","suite":4,"epoch":7}"#);
        let keys = command.key_bytes().unwrap();
        assert_eq!(&keys[..16], &[0xAA; 16]);
        assert_eq!(&keys[16..], &[0xBB; 16]);
        assert_eq!(WorkerCommand::from_parts(&json, Some(&keys)), Ok(command));
    }

    #[test]
    fn key_bytes_must_come_exactly_with_use_keys() {
        let use_keys = r#"{"kind":"use-keys","suite":4,"epoch":0}"#;
        assert_eq!(WorkerCommand::from_parts(use_keys, None), Err(CommandError::MissingKeys));
        assert_eq!(WorkerCommand::from_parts(use_keys, Some(&[])), Err(CommandError::KeyLength));
        assert_eq!(
            WorkerCommand::from_parts(use_keys, Some(&[1; 33])),
            Err(CommandError::KeyLength)
        );
        let chat = WorkerCommand::SealChat { id: 1, text: "hi".into() };
        assert_eq!(chat.key_bytes(), None);
        assert_eq!(
            WorkerCommand::from_parts(&chat.to_json(), Some(&[1; 32])),
            Err(CommandError::UnexpectedKeys)
        );
        assert_eq!(WorkerCommand::from_parts(&chat.to_json(), None), Ok(chat));
        // The old form, keys as base64url in the JSON text, is refused outright.
        let old = r#"{"kind":"use-keys","suite":4,"epoch":0,"send":"qqqqqqqqqqqqqqqqqqqqqg","receive":"u7u7u7u7u7u7u7u7u7u7uw"}"#;
        assert_eq!(WorkerCommand::from_parts(old, None), Err(CommandError::Malformed));
        assert_eq!(WorkerCommand::from_parts(old, Some(&[1; 32])), Err(CommandError::Malformed));
    }
}
