//! What the page and the media worker tell each other: [`WorkerCommand`] and [`WorkerEvent`],
//! JSON objects tagged by `kind` (keys excepted: they cross as bytes, see [`WorkerCommand`]),
//! and the [`TransformOptions`] each encoded transform is made with.

use serde::{Deserialize, Serialize};

use crate::codec::PayloadTypes;
use crate::slot::Slot;

/// Page to media worker. Keys cross this boundary once and then live only in the worker.
///
/// Posted as JSON text ([`to_json`](Self::to_json)), except the two commands that come with
/// something transferred, which cross as one object `{command: <the JSON text>, ...}`:
/// - [`UseKeys`](Self::UseKeys): its key bytes never enter JSON (a string the page cannot
///   wipe), but cross as `{command, keys: ArrayBuffer(send || receive)}` with the buffer in the
///   transfer list, so the page keeps no copy ([`key_bytes`](Self::key_bytes) on the page).
/// - [`AttachStreams`](Self::AttachStreams): `{command, readable, writable}`, the two streams
///   transferred.
///
/// The worker reads every message the one way, [`from_parts`](Self::from_parts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorkerCommand {
    /// E2EE is on but no keys are agreed yet: drop every frame (fail closed).
    AwaitKeys,
    /// The fallback for browsers without `RTCRtpScriptTransform`: run the encoded streams of
    /// `createEncodedStreams()`, transferred beside this command, as the transform `options`
    /// says.
    AttachStreams { options: TransformOptions },
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
    /// Something went wrong: in the `transform` named (throttled: at most one a second per
    /// transform), or, with none named, in the worker as a whole (keys refused, a message or a
    /// transform's options it could not read).
    Error { transform: Option<TransformOptions>, message: String },
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

/// Where an opened chat message falls in the peer's sequence (the E2EE core's
/// `sframe::chat::ChatSequence`).
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

/// What one encoded transform runs: the frames of one media slot, one way.
///
/// A transform is made with these options as JSON text ([`to_json`](Self::to_json)): the
/// `options` of `RTCRtpScriptTransform`, or inside [`WorkerCommand::AttachStreams`]. Options
/// the worker cannot read ([`read`](Self::read)) make a transform that drops every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformOptions {
    pub slot: Slot,
    pub direction: Direction,
}

/// Why a transform's options were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionsError {
    /// The options were not JSON text (the old form was a JS object).
    NotText,
    /// JSON text, but not `{slot, direction}` with a known slot; serde's reason.
    Malformed(String),
}

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a transform's options were refused, so all its frames are dropped: ")?;
        match self {
            OptionsError::NotText => f.write_str("they are not JSON text"),
            OptionsError::Malformed(reason) => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for OptionsError {}

impl TransformOptions {
    pub fn new(slot: Slot, direction: Direction) -> Self {
        TransformOptions { slot, direction }
    }

    /// The JSON text a transform is made with.
    pub fn to_json(&self) -> String {
        // Serialising a number and a string cannot fail.
        serde_json::to_string(self).expect("TransformOptions serialises")
    }

    /// The options a transform came with: JSON text (`None`: something other than text).
    pub fn read(text: Option<&str>) -> Result<Self, OptionsError> {
        let text = text.ok_or(OptionsError::NotText)?;
        serde_json::from_str(text).map_err(|e| OptionsError::Malformed(e.to_string()))
    }
}

/// What one transform has done with its frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformStats {
    pub slot: Slot,
    pub direction: Direction,
    /// Frames encrypted (send) or decrypted (receive).
    pub processed: u64,
    /// Of `processed`, the frames whose AES-GCM ran in WebCrypto (the large ones) rather than
    /// in Rust; the SFrame around it is Rust's either way.
    pub webcrypto: u64,
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
    /// No frame yet.
    pub fn new(slot: Slot, direction: Direction) -> Self {
        TransformStats {
            slot,
            direction,
            processed: 0,
            webcrypto: 0,
            passed: 0,
            dropped_no_key: 0,
            dropped_unknown_key: 0,
            dropped_bad_tag: 0,
            dropped_replay: 0,
            dropped_malformed: 0,
            dropped_codec: 0,
            key_frame_requests: 0,
        }
    }

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

/// The field of a worker message with transferred parts that holds the command's JSON text.
pub const COMMAND_FIELD: &str = "command";
/// The field of a `use-keys` message that holds the transferred key bytes.
pub const KEYS_FIELD: &str = "keys";
/// The field of an `attach-streams` message that holds the transferred `ReadableStream`.
pub const READABLE_FIELD: &str = "readable";
/// The field of an `attach-streams` message that holds the transferred `WritableStream`.
pub const WRITABLE_FIELD: &str = "writable";

/// What came transferred beside a command's JSON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transferred<'a> {
    /// Nothing: the message was the JSON text alone.
    Nothing,
    /// Key bytes (`send || receive`), copied out of the transferred buffer.
    Keys(&'a [u8]),
    /// A readable and a writable stream of encoded frames (they stay with the caller).
    Streams,
}

/// Why a message to the worker was not a usable command. The worker then fails closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Not the JSON of a command (or JSON that carries key fields); serde's reason, or what
    /// the message was instead.
    Malformed(String),
    /// `use-keys` came without its key bytes.
    MissingKeys,
    /// Key bytes came with a command that takes none.
    UnexpectedKeys,
    /// The key bytes cannot be two keys of one length.
    KeyLength,
    /// `attach-streams` came without a readable and a writable stream.
    MissingStreams,
    /// Streams came with a command that takes none.
    UnexpectedStreams,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CommandError::Malformed(reason) => {
                return write!(f, "the worker got a message it does not understand: {reason}");
            }
            CommandError::MissingKeys => "keys were announced but no key bytes came with them",
            CommandError::UnexpectedKeys => "key bytes came with a command that takes none",
            CommandError::KeyLength => "the key bytes are not two keys of one length",
            CommandError::MissingStreams => {
                "streams were announced but no readable and writable stream came with them"
            }
            CommandError::UnexpectedStreams => "streams came with a command that takes none",
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

    /// The command the worker got: its JSON text and what came transferred beside it: for
    /// `use-keys` the key bytes (`send || receive`, two halves of one length), for
    /// `attach-streams` the streams. Keys or streams missing or unexpected, keys of odd length,
    /// and options naming no slot or direction are refused.
    pub fn from_parts(
        json: &str,
        transferred: Transferred<'_>,
    ) -> Result<WorkerCommand, CommandError> {
        let mut command: WorkerCommand =
            serde_json::from_str(json).map_err(|e| CommandError::Malformed(e.to_string()))?;
        match (&mut command, transferred) {
            (WorkerCommand::UseKeys { send, receive, .. }, Transferred::Keys(keys)) => {
                if keys.is_empty() || keys.len() % 2 != 0 {
                    return Err(CommandError::KeyLength);
                }
                let (s, r) = keys.split_at(keys.len() / 2);
                *send = SecretBytes::new(s.to_vec());
                *receive = SecretBytes::new(r.to_vec());
            }
            (WorkerCommand::UseKeys { .. }, _) => return Err(CommandError::MissingKeys),
            (WorkerCommand::AttachStreams { .. }, Transferred::Streams) => {}
            (WorkerCommand::AttachStreams { .. }, _) => return Err(CommandError::MissingStreams),
            (_, Transferred::Keys(_)) => return Err(CommandError::UnexpectedKeys),
            (_, Transferred::Streams) => return Err(CommandError::UnexpectedStreams),
            (_, Transferred::Nothing) => {}
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
        assert_eq!(WorkerCommand::from_parts(&json, Transferred::Keys(&keys)), Ok(command));
    }

    #[test]
    fn key_bytes_must_come_exactly_with_use_keys() {
        let use_keys = r#"{"kind":"use-keys","suite":4,"epoch":0}"#;
        assert_eq!(
            WorkerCommand::from_parts(use_keys, Transferred::Nothing),
            Err(CommandError::MissingKeys)
        );
        assert_eq!(
            WorkerCommand::from_parts(use_keys, Transferred::Keys(&[])),
            Err(CommandError::KeyLength)
        );
        assert_eq!(
            WorkerCommand::from_parts(use_keys, Transferred::Keys(&[1; 33])),
            Err(CommandError::KeyLength)
        );
        let chat = WorkerCommand::SealChat { id: 1, text: "hi".into() };
        assert_eq!(chat.key_bytes(), None);
        assert_eq!(
            WorkerCommand::from_parts(&chat.to_json(), Transferred::Keys(&[1; 32])),
            Err(CommandError::UnexpectedKeys)
        );
        assert_eq!(WorkerCommand::from_parts(&chat.to_json(), Transferred::Nothing), Ok(chat));
        // The old form, keys as base64url in the JSON text, is refused outright.
        let old = r#"{"kind":"use-keys","suite":4,"epoch":0,"send":"qqqqqqqqqqqqqqqqqqqqqg","receive":"u7u7u7u7u7u7u7u7u7u7uw"}"#;
        for transferred in [Transferred::Nothing, Transferred::Keys(&[1; 32])] {
            let Err(CommandError::Malformed(reason)) = WorkerCommand::from_parts(old, transferred)
            else {
                panic!("keys in the text are refused");
            };
            assert!(reason.contains("unknown field `send`"), "{reason}");
        }
        assert_eq!(
            WorkerCommand::from_parts(use_keys, Transferred::Streams),
            Err(CommandError::MissingKeys)
        );
    }

    #[test]
    fn the_codec_table_and_the_events_keep_their_json() {
        let table = PayloadTypes::from_encodings([(111, "opus"), (96, "VP8"), (98, "VP9")]);
        let codecs = WorkerCommand::Codecs { payload_types: table };
        let json = r#"{"kind":"codecs","payload_types":[[111,"opus"],[96,"vp8"],[98,"vp9"]]}"#;
        assert_eq!(codecs.to_json(), json);
        assert_eq!(WorkerCommand::from_parts(json, Transferred::Nothing), Ok(codecs));
        let stats = WorkerEvent::Stats(TransformStats {
            dropped_codec: 2,
            ..TransformStats::new(Slot::Camera, Direction::Receive)
        });
        let json = r#"{"kind":"stats","slot":1,"direction":"receive","processed":0,"webcrypto":0,"passed":0,"dropped_no_key":0,"dropped_unknown_key":0,"dropped_bad_tag":0,"dropped_replay":0,"dropped_malformed":0,"dropped_codec":2,"key_frame_requests":0}"#;
        assert_eq!(stats.to_json(), json);
        assert_eq!(serde_json::from_str::<WorkerEvent>(json).unwrap(), stats);
        // Counters of no known slot, or of no direction, are not counters at all.
        for bad in [
            json.replace(r#""slot":1"#, r#""slot":255"#),
            json.replace(r#""direction":"receive","#, ""),
        ] {
            assert!(serde_json::from_str::<WorkerEvent>(&bad).is_err(), "{bad}");
        }
        let opened = WorkerEvent::ChatOpened {
            id: 3,
            text: "hi".into(),
            order: ChatOrder::AfterGap { missing: 2 },
        };
        assert_eq!(
            opened.to_json(),
            r#"{"kind":"chat-opened","id":3,"text":"hi","order":{"after-gap":{"missing":2}}}"#
        );
    }

    #[test]
    fn transform_options_are_typed_json_and_anything_else_is_refused_by_name() {
        let options = TransformOptions::new(Slot::ScreenVideo, Direction::Send);
        let json = options.to_json();
        assert_eq!(json, r#"{"slot":2,"direction":"send"}"#);
        assert_eq!(TransformOptions::read(Some(&json)), Ok(options));
        assert_eq!(
            TransformOptions::read(Some(r#"{"slot":15,"direction":"receive"}"#)),
            Ok(TransformOptions::new(Slot::Chat, Direction::Receive))
        );
        assert_eq!(TransformOptions::read(None), Err(OptionsError::NotText));
        let refused = |text: &str| match TransformOptions::read(Some(text)) {
            Err(OptionsError::Malformed(reason)) => reason,
            other => panic!("{text} is refused, not {other:?}"),
        };
        // Each refusal names what is wrong; none falls back to a made-up slot or direction.
        assert!(refused(r#"{"slot":9,"direction":"send"}"#).contains("slot 9 names no media slot"));
        assert!(refused(r#"{"slot":255,"direction":"send"}"#).contains("slot 255"));
        assert!(
            refused(r#"{"slot":1,"direction":"sideways"}"#).contains("unknown variant `sideways`")
        );
        assert!(refused(r#"{"slot":1}"#).contains("missing field `direction`"));
        assert!(refused(r#"{"direction":"send"}"#).contains("missing field `slot`"));
        assert!(refused(r#"{"slot":"1","direction":"send"}"#).contains("invalid type"));
        assert!(
            refused(r#"{"slot":1,"direction":"send","kind":"x"}"#).contains("unknown field `kind`")
        );
        assert!(refused("").contains("EOF"));
        let message = OptionsError::Malformed("missing field `slot`".into()).to_string();
        assert_eq!(
            message,
            "a transform's options were refused, so all its frames are dropped: missing field `slot`"
        );
    }

    #[test]
    fn streams_cross_beside_the_attach_streams_command_and_nowhere_else() {
        let attach = WorkerCommand::AttachStreams {
            options: TransformOptions::new(Slot::Camera, Direction::Receive),
        };
        let json = attach.to_json();
        assert_eq!(json, r#"{"kind":"attach-streams","options":{"slot":1,"direction":"receive"}}"#);
        assert_eq!(attach.key_bytes(), None);
        assert_eq!(WorkerCommand::from_parts(&json, Transferred::Streams), Ok(attach));
        // The streams are the command's: without them it is refused, and so are they with any
        // other command, or keys instead of them.
        assert_eq!(
            WorkerCommand::from_parts(&json, Transferred::Nothing),
            Err(CommandError::MissingStreams)
        );
        assert_eq!(
            WorkerCommand::from_parts(&json, Transferred::Keys(&[1; 32])),
            Err(CommandError::MissingStreams)
        );
        let await_keys = WorkerCommand::AwaitKeys.to_json();
        assert_eq!(
            WorkerCommand::from_parts(&await_keys, Transferred::Streams),
            Err(CommandError::UnexpectedStreams)
        );
        // Options it cannot read make no command: the reason is in the error.
        for (bad, why) in [
            (r#"{"kind":"attach-streams","options":{"slot":7,"direction":"send"}}"#, "slot 7"),
            (r#"{"kind":"attach-streams","options":{"slot":1}}"#, "missing field `direction`"),
            (r#"{"kind":"attach-streams"}"#, "missing field `options`"),
            (r#"{"kind":"attach-streams","slot":1,"direction":"send"}"#, "unknown field"),
        ] {
            match WorkerCommand::from_parts(bad, Transferred::Streams) {
                Err(CommandError::Malformed(reason)) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{bad} is refused, not {other:?}"),
            }
        }
    }

    #[test]
    fn errors_name_their_transform_or_none() {
        let of_transform = WorkerEvent::Error {
            transform: Some(TransformOptions::new(Slot::MicAudio, Direction::Send)),
            message: "no sending key".into(),
        };
        let json = r#"{"kind":"error","transform":{"slot":0,"direction":"send"},"message":"no sending key"}"#;
        assert_eq!(of_transform.to_json(), json);
        assert_eq!(serde_json::from_str::<WorkerEvent>(json).unwrap(), of_transform);
        let of_worker = WorkerEvent::Error { transform: None, message: "keys refused".into() };
        let json = r#"{"kind":"error","transform":null,"message":"keys refused"}"#;
        assert_eq!(of_worker.to_json(), json);
        assert_eq!(serde_json::from_str::<WorkerEvent>(json).unwrap(), of_worker);
        // The old sentinel, slot 255, is no longer an error event.
        let old = r#"{"kind":"error","slot":255,"direction":"receive","message":"x"}"#;
        assert!(serde_json::from_str::<WorkerEvent>(old).is_err());
    }
}
