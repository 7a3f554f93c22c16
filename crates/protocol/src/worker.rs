//! What the page and the media worker tell each other: [`WorkerCommand`] and [`WorkerEvent`],
//! and the [`TransformOptions`] each encoded transform is made with, all in the byte layout of
//! [`crate::packed`] (keys apart: they cross in a buffer of their own, see [`WorkerCommand`]).

use crate::codec::{Codec, PayloadTypes};
use crate::media_state::MediaState;
use crate::packed::{PackedError, Reader, Writer};
use crate::slot::Slot;

/// Page to media worker. Keys cross this boundary once and then live only in the worker.
///
/// Posted as its bytes ([`encode`](Self::encode)) in a `Uint8Array`, except the two commands
/// that come with something transferred, which cross as one object `{command: <the bytes>,
/// ...}`:
/// - [`UseKeys`](Self::UseKeys): its key bytes are not in the command's bytes (the page's copy
///   of those may linger), but cross as `{command, keys: ArrayBuffer(send || receive)}` with the
///   buffer in the transfer list, so the page keeps no copy ([`key_bytes`](Self::key_bytes) on
///   the page).
/// - [`AttachStreams`](Self::AttachStreams): `{command, readable, writable}`, the two streams
///   transferred.
///
/// The worker reads every message the one way, [`from_parts`](Self::from_parts).
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// new `epoch` changes keys mid-call. The keys are not encoded: they travel in the
    /// transferred buffer, and a command with bytes after its epoch is refused.
    UseKeys { suite: u16, epoch: u64, send: SecretBytes, receive: SecretBytes },
    /// Encrypt a chat message (slot 15) under the current keys; answered by
    /// [`WorkerEvent::ChatSealed`] or [`WorkerEvent::ChatRefused`] with the same `id`.
    SealChat { id: u32, text: String },
    /// Encrypt a report to the peer that its chat messages arrived as `order` says (after a
    /// gap, or late); answered like [`WorkerCommand::SealChat`].
    SealChatReport { id: u32, order: ChatOrder },
    /// The codec of each payload type the call's connection negotiated, sent whenever a
    /// connection's descriptions are both applied: frames are dropped until it arrives.
    Codecs { payload_types: PayloadTypes },
    /// Decrypt a chat frame from the peer; answered by [`WorkerEvent::ChatOpened`],
    /// [`WorkerEvent::ChatReportOpened`] or [`WorkerEvent::ChatRefused`] with the same `id`.
    OpenChat { id: u32, frame: Vec<u8> },
    /// Encrypt this side's media state (chat kind 2, numbered like any message) for the peer;
    /// answered like [`WorkerCommand::SealChat`].
    SealMediaState { id: u32, state: MediaState },
}

/// Media worker to page, posted as its bytes ([`encode`](Self::encode)) in a `Uint8Array`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerEvent {
    /// The worker's wasm is running and its `rtctransform` handler is installed.
    Ready,
    /// Counters of one transform since it started, sent about once a second.
    Stats(TransformStats),
    /// Something went wrong: in the `transform` named (throttled: at most one a second per
    /// transform), or, with none named, in the worker as a whole (keys refused, a message or a
    /// transform's options it could not read).
    Error { transform: Option<TransformOptions>, message: String },
    /// The frame stream of `transform` stopped for good (an error in its loop): nothing more
    /// passes there, in either state, and the page must say so. Never throttled.
    StreamStopped { transform: TransformOptions, message: String },
    /// A chat message as an SFrame, ready for the data channel.
    ChatSealed { id: u32, frame: Vec<u8> },
    /// A chat frame from the peer, opened; `order` says whether messages before it are
    /// missing or it arrived late (by the sequence number sealed inside it).
    ChatOpened { id: u32, text: String, order: ChatOrder },
    /// A chat frame from the peer that reports how this side's messages arrived there
    /// (`report`, never in order); `order` as for [`WorkerEvent::ChatOpened`].
    ChatReportOpened { id: u32, report: ChatOrder, order: ChatOrder },
    /// A chat message could not be sealed or opened (no keys, bad tag, replay, not UTF-8).
    ChatRefused { id: u32, reason: String },
    /// A chat frame from the peer that holds its media state; `order` as for
    /// [`WorkerEvent::ChatOpened`].
    MediaStateOpened { id: u32, state: MediaState, order: ChatOrder },
}

/// Where an opened chat message falls in the peer's sequence (the E2EE core's
/// `sframe::chat::ChatSequence`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Send,
    Receive,
}

/// What one encoded transform runs: the frames of one media slot, one way.
///
/// A transform is made with these options as bytes ([`encode`](Self::encode): the slot, then
/// the direction): the `options` of `RTCRtpScriptTransform` (a `Uint8Array`), or inside
/// [`WorkerCommand::AttachStreams`]. Options the worker cannot read ([`read`](Self::read)) make
/// a transform that drops every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransformOptions {
    pub slot: Slot,
    pub direction: Direction,
}

/// Why a transform's options were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionsError {
    /// The options were not bytes (older forms were a JS object, then JSON text).
    NotBytes,
    /// Bytes, but not a known slot and direction; the reason.
    Malformed(String),
}

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a transform's options were refused, so all its frames are dropped: ")?;
        match self {
            OptionsError::NotBytes => f.write_str("they are not bytes"),
            OptionsError::Malformed(reason) => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for OptionsError {}

impl TransformOptions {
    pub fn new(slot: Slot, direction: Direction) -> Self {
        TransformOptions { slot, direction }
    }

    /// The bytes a transform is made with.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.finish()
    }

    /// The options a transform came with (`None`: something other than bytes).
    pub fn read(bytes: Option<&[u8]>) -> Result<Self, OptionsError> {
        let bytes = bytes.ok_or(OptionsError::NotBytes)?;
        let mut r = Reader::new(bytes);
        let options = TransformOptions::read_from(&mut r)
            .and_then(|options| r.end("transform options").map(|()| options));
        options.map_err(|e| OptionsError::Malformed(e.to_string()))
    }

    fn write(&self, w: &mut Writer) {
        w.u8(self.slot.id()).u8(match self.direction {
            Direction::Send => 0,
            Direction::Receive => 1,
        });
    }

    fn read_from(r: &mut Reader<'_>) -> Result<Self, PackedError> {
        let slot = r.u8("slot")?;
        let slot = Slot::try_from(slot).map_err(|e| PackedError::Invalid(e.to_string()))?;
        let direction = match r.u8("direction")? {
            0 => Direction::Send,
            1 => Direction::Receive,
            tag => return Err(PackedError::UnknownTag { what: "direction", tag }),
        };
        Ok(TransformOptions { slot, direction })
    }
}

/// What one transform has done with its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Secret bytes in a message: zeroized on drop, never printed, and never encoded (they cross to
/// the worker in a transferred `ArrayBuffer`, see [`WorkerCommand`]).
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

/// The field of a worker message with transferred parts that holds the command's bytes.
pub const COMMAND_FIELD: &str = "command";
/// The field of a `use-keys` message that holds the transferred key bytes.
pub const KEYS_FIELD: &str = "keys";
/// The field of an `attach-streams` message that holds the transferred `ReadableStream`.
pub const READABLE_FIELD: &str = "readable";
/// The field of an `attach-streams` message that holds the transferred `WritableStream`.
pub const WRITABLE_FIELD: &str = "writable";

/// What came transferred beside a command's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transferred<'a> {
    /// Nothing: the message was the command's bytes alone.
    Nothing,
    /// Key bytes (`send || receive`), copied out of the transferred buffer.
    Keys(&'a [u8]),
    /// A readable and a writable stream of encoded frames (they stay with the caller).
    Streams,
}

/// Why a message to the worker was not a usable command. The worker then fails closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Not the bytes of a command (or a command with more after it); the reason, or what the
    /// message was instead.
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
    /// The bytes posted to the worker. Never holds key bytes: see [`key_bytes`](Self::key_bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            WorkerCommand::AwaitKeys => w.u8(0),
            WorkerCommand::AttachStreams { options } => {
                w.u8(1);
                options.write(&mut w);
                &mut w
            }
            WorkerCommand::TransportOnly => w.u8(2),
            WorkerCommand::UseKeys { suite, epoch, .. } => w.u8(3).u16(*suite).u64(*epoch),
            WorkerCommand::SealChat { id, text } => w.u8(4).u32(*id).text(text),
            WorkerCommand::SealChatReport { id, order } => {
                w.u8(5).u32(*id);
                order.write(&mut w);
                &mut w
            }
            WorkerCommand::Codecs { payload_types } => {
                let pairs = payload_types.pairs();
                // At most one entry per payload type (a u8): the count fits a u8.
                w.u8(6).u8(pairs.len() as u8);
                for (pt, codec) in pairs {
                    w.u8(*pt).u8(codec_tag(*codec));
                }
                &mut w
            }
            WorkerCommand::OpenChat { id, frame } => w.u8(7).u32(*id).bytes(frame),
            WorkerCommand::SealMediaState { id, state } => w.u8(8).u32(*id).u8(state.to_byte()),
        };
        w.finish()
    }

    /// The key bytes to transfer beside the command, `send || receive`; `None` for a command
    /// that carries no keys. A copy the caller moves into the transferred buffer and then drops
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

    /// The command the worker got: its bytes and what came transferred beside them: for
    /// `UseKeys` the key bytes (`send || receive`, two halves of one length), for
    /// `AttachStreams` the streams. Keys or streams missing or unexpected, keys of odd length,
    /// and options naming no slot or direction are refused.
    pub fn from_parts(
        bytes: &[u8],
        transferred: Transferred<'_>,
    ) -> Result<WorkerCommand, CommandError> {
        let mut command =
            WorkerCommand::decode(bytes).map_err(|e| CommandError::Malformed(e.to_string()))?;
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

    /// The command in `bytes`, keys left empty.
    fn decode(bytes: &[u8]) -> Result<WorkerCommand, PackedError> {
        let mut r = Reader::new(bytes);
        let command = match r.u8("command")? {
            0 => WorkerCommand::AwaitKeys,
            1 => WorkerCommand::AttachStreams { options: TransformOptions::read_from(&mut r)? },
            2 => WorkerCommand::TransportOnly,
            3 => WorkerCommand::UseKeys {
                suite: r.u16("suite")?,
                epoch: r.u64("epoch")?,
                send: SecretBytes::default(),
                receive: SecretBytes::default(),
            },
            4 => WorkerCommand::SealChat { id: r.u32("id")?, text: r.text("chat text")?.into() },
            5 => {
                WorkerCommand::SealChatReport { id: r.u32("id")?, order: ChatOrder::read(&mut r)? }
            }
            6 => {
                let mut pairs = Vec::new();
                for _ in 0..r.u8("codec count")? {
                    let pt = r.u8("payload type")?;
                    let codec = codec_of_tag(r.u8("codec")?)?;
                    if pairs.iter().any(|(known, _)| *known == pt) {
                        return Err(PackedError::Invalid(format!(
                            "payload type {pt} is listed twice"
                        )));
                    }
                    pairs.push((pt, codec));
                }
                WorkerCommand::Codecs { payload_types: PayloadTypes::from_pairs(pairs) }
            }
            7 => {
                WorkerCommand::OpenChat { id: r.u32("id")?, frame: r.bytes("chat frame")?.to_vec() }
            }
            8 => {
                WorkerCommand::SealMediaState { id: r.u32("id")?, state: read_media_state(&mut r)? }
            }
            tag => return Err(PackedError::UnknownTag { what: "command", tag }),
        };
        r.end("command")?;
        Ok(command)
    }
}

fn read_media_state(r: &mut Reader<'_>) -> Result<MediaState, PackedError> {
    MediaState::from_byte(r.u8("media state")?).map_err(|e| PackedError::Invalid(e.to_string()))
}

fn codec_tag(codec: Codec) -> u8 {
    match codec {
        Codec::Opus => 0,
        Codec::Vp8 => 1,
        Codec::Vp9 => 2,
    }
}

fn codec_of_tag(tag: u8) -> Result<Codec, PackedError> {
    match tag {
        0 => Ok(Codec::Opus),
        1 => Ok(Codec::Vp8),
        2 => Ok(Codec::Vp9),
        tag => Err(PackedError::UnknownTag { what: "codec", tag }),
    }
}

impl ChatOrder {
    fn write(self, w: &mut Writer) {
        match self {
            ChatOrder::InOrder => w.u8(0),
            ChatOrder::AfterGap { missing } => w.u8(1).u64(missing),
            ChatOrder::Late => w.u8(2),
        };
    }

    fn read(r: &mut Reader<'_>) -> Result<ChatOrder, PackedError> {
        Ok(match r.u8("chat order")? {
            0 => ChatOrder::InOrder,
            1 => ChatOrder::AfterGap { missing: r.u64("missing count")? },
            2 => ChatOrder::Late,
            tag => return Err(PackedError::UnknownTag { what: "chat order", tag }),
        })
    }
}

impl TransformStats {
    /// The counters, in the order they are declared (and encoded).
    fn counters(&self) -> [u64; 10] {
        [
            self.processed,
            self.webcrypto,
            self.passed,
            self.dropped_no_key,
            self.dropped_unknown_key,
            self.dropped_bad_tag,
            self.dropped_replay,
            self.dropped_malformed,
            self.dropped_codec,
            self.key_frame_requests,
        ]
    }

    fn with_counters(slot: Slot, direction: Direction, c: [u64; 10]) -> TransformStats {
        let [
            processed,
            webcrypto,
            passed,
            dropped_no_key,
            dropped_unknown_key,
            dropped_bad_tag,
            dropped_replay,
            dropped_malformed,
            dropped_codec,
            key_frame_requests,
        ] = c;
        TransformStats {
            slot,
            direction,
            processed,
            webcrypto,
            passed,
            dropped_no_key,
            dropped_unknown_key,
            dropped_bad_tag,
            dropped_replay,
            dropped_malformed,
            dropped_codec,
            key_frame_requests,
        }
    }
}

impl WorkerEvent {
    /// The bytes posted to the page.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            WorkerEvent::Ready => w.u8(0),
            WorkerEvent::Stats(stats) => {
                w.u8(1);
                TransformOptions::new(stats.slot, stats.direction).write(&mut w);
                for counter in stats.counters() {
                    w.u64(counter);
                }
                &mut w
            }
            WorkerEvent::Error { transform, message } => {
                w.u8(2);
                match transform {
                    Some(options) => {
                        w.u8(1);
                        options.write(&mut w);
                    }
                    None => {
                        w.u8(0);
                    }
                }
                w.text(message)
            }
            WorkerEvent::ChatSealed { id, frame } => w.u8(3).u32(*id).bytes(frame),
            WorkerEvent::ChatOpened { id, text, order } => {
                w.u8(4).u32(*id).text(text);
                order.write(&mut w);
                &mut w
            }
            WorkerEvent::ChatReportOpened { id, report, order } => {
                w.u8(5).u32(*id);
                report.write(&mut w);
                order.write(&mut w);
                &mut w
            }
            WorkerEvent::ChatRefused { id, reason } => w.u8(6).u32(*id).text(reason),
            WorkerEvent::MediaStateOpened { id, state, order } => {
                w.u8(7).u32(*id).u8(state.to_byte());
                order.write(&mut w);
                &mut w
            }
            WorkerEvent::StreamStopped { transform, message } => {
                w.u8(8);
                transform.write(&mut w);
                w.text(message)
            }
        };
        w.finish()
    }

    /// The event in `bytes` from the worker.
    pub fn decode(bytes: &[u8]) -> Result<WorkerEvent, PackedError> {
        let mut r = Reader::new(bytes);
        let event = match r.u8("event")? {
            0 => WorkerEvent::Ready,
            1 => {
                let TransformOptions { slot, direction } = TransformOptions::read_from(&mut r)?;
                let mut c = [0u64; 10];
                for counter in &mut c {
                    *counter = r.u64("counters")?;
                }
                WorkerEvent::Stats(TransformStats::with_counters(slot, direction, c))
            }
            2 => {
                let transform = match r.u8("transform")? {
                    0 => None,
                    1 => Some(TransformOptions::read_from(&mut r)?),
                    tag => return Err(PackedError::UnknownTag { what: "transform", tag }),
                };
                WorkerEvent::Error { transform, message: r.text("message")?.into() }
            }
            3 => {
                WorkerEvent::ChatSealed { id: r.u32("id")?, frame: r.bytes("chat frame")?.to_vec() }
            }
            4 => WorkerEvent::ChatOpened {
                id: r.u32("id")?,
                text: r.text("chat text")?.into(),
                order: ChatOrder::read(&mut r)?,
            },
            5 => WorkerEvent::ChatReportOpened {
                id: r.u32("id")?,
                report: ChatOrder::read(&mut r)?,
                order: ChatOrder::read(&mut r)?,
            },
            6 => WorkerEvent::ChatRefused { id: r.u32("id")?, reason: r.text("reason")?.into() },
            7 => WorkerEvent::MediaStateOpened {
                id: r.u32("id")?,
                state: read_media_state(&mut r)?,
                order: ChatOrder::read(&mut r)?,
            },
            8 => WorkerEvent::StreamStopped {
                transform: TransformOptions::read_from(&mut r)?,
                message: r.text("message")?.into(),
            },
            tag => return Err(PackedError::UnknownTag { what: "event", tag }),
        };
        r.end("event")?;
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(slot: Slot, direction: Direction) -> TransformOptions {
        TransformOptions::new(slot, direction)
    }

    /// Every command, as the page makes them (keys apart).
    fn commands() -> Vec<WorkerCommand> {
        vec![
            WorkerCommand::AwaitKeys,
            WorkerCommand::AttachStreams { options: options(Slot::Camera, Direction::Receive) },
            WorkerCommand::TransportOnly,
            WorkerCommand::SealChat { id: 1, text: "héllo 👋".into() },
            WorkerCommand::SealChatReport { id: 2, order: ChatOrder::AfterGap { missing: 3 } },
            WorkerCommand::SealChatReport { id: 3, order: ChatOrder::Late },
            WorkerCommand::Codecs {
                payload_types: PayloadTypes::from_encodings([
                    (111, "opus"),
                    (96, "VP8"),
                    (98, "VP9"),
                ]),
            },
            WorkerCommand::Codecs { payload_types: PayloadTypes::default() },
            WorkerCommand::OpenChat { id: u32::MAX, frame: vec![0, 1, 2, 255] },
            WorkerCommand::SealMediaState {
                id: 8,
                state: MediaState { mic: false, camera: true, screen: true },
            },
        ]
    }

    fn events() -> Vec<WorkerEvent> {
        let mut stats = TransformStats::new(Slot::ScreenAudio, Direction::Send);
        for (i, counter) in [
            &mut stats.processed,
            &mut stats.webcrypto,
            &mut stats.passed,
            &mut stats.dropped_no_key,
            &mut stats.dropped_unknown_key,
            &mut stats.dropped_bad_tag,
            &mut stats.dropped_replay,
            &mut stats.dropped_malformed,
            &mut stats.dropped_codec,
            &mut stats.key_frame_requests,
        ]
        .into_iter()
        .enumerate()
        {
            // Each counter its own value, so that two swapped counters cannot read back equal.
            *counter = 1000 + i as u64;
        }
        vec![
            WorkerEvent::Ready,
            WorkerEvent::Stats(stats),
            WorkerEvent::Error {
                transform: Some(options(Slot::MicAudio, Direction::Send)),
                message: "no sending key".into(),
            },
            WorkerEvent::Error { transform: None, message: "keys refused".into() },
            WorkerEvent::ChatSealed { id: 4, frame: vec![9; 40] },
            WorkerEvent::ChatOpened { id: 5, text: "hi".into(), order: ChatOrder::InOrder },
            WorkerEvent::ChatReportOpened {
                id: 6,
                report: ChatOrder::Late,
                order: ChatOrder::AfterGap { missing: u64::MAX },
            },
            WorkerEvent::ChatRefused { id: 7, reason: "bad tag".into() },
            WorkerEvent::MediaStateOpened {
                id: 8,
                state: MediaState { mic: true, camera: false, screen: false },
                order: ChatOrder::Late,
            },
            WorkerEvent::StreamStopped {
                transform: options(Slot::Camera, Direction::Receive),
                message: "the frame stream stopped: TypeError".into(),
            },
        ]
    }

    #[test]
    fn every_command_and_event_reads_back_as_it_was_sent() {
        for command in commands() {
            let streams = matches!(command, WorkerCommand::AttachStreams { .. });
            let transferred = if streams { Transferred::Streams } else { Transferred::Nothing };
            assert_eq!(WorkerCommand::from_parts(&command.encode(), transferred), Ok(command));
        }
        for event in events() {
            assert_eq!(WorkerEvent::decode(&event.encode()), Ok(event));
        }
    }

    #[test]
    fn a_cut_or_lengthened_message_is_refused_never_read_as_another() {
        for command in commands() {
            let bytes = command.encode();
            let transferred = match command {
                WorkerCommand::AttachStreams { .. } => Transferred::Streams,
                _ => Transferred::Nothing,
            };
            for cut in 0..bytes.len() {
                let read = WorkerCommand::from_parts(&bytes[..cut], transferred);
                assert!(
                    matches!(read, Err(CommandError::Malformed(_))),
                    "{command:?} cut at {cut}"
                );
            }
            let mut longer = bytes.clone();
            longer.push(0);
            let Err(CommandError::Malformed(reason)) =
                WorkerCommand::from_parts(&longer, transferred)
            else {
                panic!("{command:?} with a byte more is refused");
            };
            assert_eq!(reason, "1 bytes follow the end of the command");
        }
        for event in events() {
            let bytes = event.encode();
            for cut in 0..bytes.len() {
                assert!(WorkerEvent::decode(&bytes[..cut]).is_err(), "{event:?} cut at {cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(WorkerEvent::decode(&longer).is_err(), "{event:?} with a byte more");
        }
    }

    #[test]
    fn unknown_tags_and_values_are_refused_by_name() {
        let malformed = |bytes: &[u8]| match WorkerCommand::from_parts(bytes, Transferred::Nothing)
        {
            Err(CommandError::Malformed(reason)) => reason,
            other => panic!("{bytes:?} is refused, not {other:?}"),
        };
        assert_eq!(malformed(&[9]), "command 9 is unknown");
        assert_eq!(malformed(&[8, 1, 0, 0, 0, 8]), "a media state with unknown flags");
        assert_eq!(malformed(&[]), "the message ends inside its command");
        assert_eq!(malformed(&[5, 1, 0, 0, 0, 3]), "chat order 3 is unknown");
        assert_eq!(malformed(&[6, 1, 96, 3]), "codec 3 is unknown");
        assert_eq!(malformed(&[6, 2, 96, 1, 96, 2]), "payload type 96 is listed twice");
        assert_eq!(
            malformed(&[4, 1, 0, 0, 0, 2, 0, 0, 0, 0xC3, 0x28]),
            "the chat text is not UTF-8"
        );
        let error = WorkerEvent::decode(&[9]).unwrap_err().to_string();
        assert_eq!(error, "event 9 is unknown");
        let error = WorkerEvent::decode(&[7, 1, 0, 0, 0, 0x80, 0]).unwrap_err().to_string();
        assert_eq!(error, "a media state with unknown flags");
        let error = WorkerEvent::decode(&[2, 2]).unwrap_err().to_string();
        assert_eq!(error, "transform 2 is unknown");
        // Counters of no known slot, or of no direction, are not counters at all.
        let mut stats =
            WorkerEvent::Stats(TransformStats::new(Slot::Camera, Direction::Send)).encode();
        stats[1] = 9;
        assert_eq!(
            WorkerEvent::decode(&stats).unwrap_err().to_string(),
            "slot 9 names no media slot"
        );
        stats[1] = 1;
        stats[2] = 2;
        assert_eq!(WorkerEvent::decode(&stats).unwrap_err().to_string(), "direction 2 is unknown");
    }

    #[test]
    fn keys_cross_to_the_worker_as_bytes_of_their_own_and_never_print() {
        let command = WorkerCommand::UseKeys {
            suite: 4,
            epoch: 7,
            send: SecretBytes::new(vec![0xAA; 16]),
            receive: SecretBytes::new(vec![0xBB; 16]),
        };
        assert!(!format!("{command:?}").contains("170"));
        assert!(format!("{command:?}").contains("<redacted>"));
        let bytes = command.encode();
        assert_eq!(bytes, [3, 4, 0, 7, 0, 0, 0, 0, 0, 0, 0], "the tag, suite and epoch only");
        let keys = command.key_bytes().unwrap();
        assert_eq!(&keys[..16], &[0xAA; 16]);
        assert_eq!(&keys[16..], &[0xBB; 16]);
        assert_eq!(WorkerCommand::from_parts(&bytes, Transferred::Keys(&keys)), Ok(command));
    }

    #[test]
    fn key_bytes_must_come_exactly_with_use_keys() {
        let use_keys = WorkerCommand::UseKeys {
            suite: 4,
            epoch: 0,
            send: SecretBytes::default(),
            receive: SecretBytes::default(),
        }
        .encode();
        assert_eq!(
            WorkerCommand::from_parts(&use_keys, Transferred::Nothing),
            Err(CommandError::MissingKeys)
        );
        assert_eq!(
            WorkerCommand::from_parts(&use_keys, Transferred::Keys(&[])),
            Err(CommandError::KeyLength)
        );
        assert_eq!(
            WorkerCommand::from_parts(&use_keys, Transferred::Keys(&[1; 33])),
            Err(CommandError::KeyLength)
        );
        assert_eq!(
            WorkerCommand::from_parts(&use_keys, Transferred::Streams),
            Err(CommandError::MissingKeys)
        );
        let chat = WorkerCommand::SealChat { id: 1, text: "hi".into() };
        assert_eq!(chat.key_bytes(), None);
        assert_eq!(
            WorkerCommand::from_parts(&chat.encode(), Transferred::Keys(&[1; 32])),
            Err(CommandError::UnexpectedKeys)
        );
        // Keys written into the command itself, after its epoch, are refused outright.
        let mut inline = use_keys.clone();
        inline.extend_from_slice(&[0xAA; 32]);
        for transferred in [Transferred::Nothing, Transferred::Keys(&[1; 32])] {
            let Err(CommandError::Malformed(reason)) =
                WorkerCommand::from_parts(&inline, transferred)
            else {
                panic!("keys in the command's bytes are refused");
            };
            assert_eq!(reason, "32 bytes follow the end of the command");
        }
    }

    #[test]
    fn transform_options_are_two_bytes_and_anything_else_is_refused_by_name() {
        let screen = options(Slot::ScreenVideo, Direction::Send);
        assert_eq!(screen.encode(), [2, 0]);
        assert_eq!(TransformOptions::read(Some(&[2, 0])), Ok(screen));
        assert_eq!(
            TransformOptions::read(Some(&[15, 1])),
            Ok(options(Slot::Chat, Direction::Receive))
        );
        assert_eq!(TransformOptions::read(None), Err(OptionsError::NotBytes));
        let refused = |bytes: &[u8]| match TransformOptions::read(Some(bytes)) {
            Err(OptionsError::Malformed(reason)) => reason,
            other => panic!("{bytes:?} is refused, not {other:?}"),
        };
        // Each refusal names what is wrong; none falls back to a made-up slot or direction.
        assert_eq!(refused(&[9, 0]), "slot 9 names no media slot");
        assert_eq!(refused(&[1, 7]), "direction 7 is unknown");
        assert_eq!(refused(&[1]), "the message ends inside its direction");
        assert_eq!(refused(&[]), "the message ends inside its slot");
        assert_eq!(refused(&[1, 0, 0]), "1 bytes follow the end of the transform options");
        let message = OptionsError::Malformed("slot 9 names no media slot".into()).to_string();
        assert_eq!(
            message,
            "a transform's options were refused, so all its frames are dropped: slot 9 names no media slot"
        );
    }

    #[test]
    fn streams_cross_beside_the_attach_streams_command_and_nowhere_else() {
        let attach =
            WorkerCommand::AttachStreams { options: options(Slot::Camera, Direction::Receive) };
        let bytes = attach.encode();
        assert_eq!(bytes, [1, 1, 1]);
        assert_eq!(attach.key_bytes(), None);
        assert_eq!(WorkerCommand::from_parts(&bytes, Transferred::Streams), Ok(attach));
        // The streams are the command's: without them it is refused, and so are they with any
        // other command, or keys instead of them.
        assert_eq!(
            WorkerCommand::from_parts(&bytes, Transferred::Nothing),
            Err(CommandError::MissingStreams)
        );
        assert_eq!(
            WorkerCommand::from_parts(&bytes, Transferred::Keys(&[1; 32])),
            Err(CommandError::MissingStreams)
        );
        assert_eq!(
            WorkerCommand::from_parts(&WorkerCommand::AwaitKeys.encode(), Transferred::Streams),
            Err(CommandError::UnexpectedStreams)
        );
        // Options it cannot read make no command: the reason is in the error.
        for (bad, why) in [(&[1, 7, 0][..], "slot 7"), (&[1, 1], "direction"), (&[1], "slot")] {
            match WorkerCommand::from_parts(bad, Transferred::Streams) {
                Err(CommandError::Malformed(reason)) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{bad:?} is refused, not {other:?}"),
            }
        }
    }
}
