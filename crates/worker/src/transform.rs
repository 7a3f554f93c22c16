//! One transform: reads a slot's encoded frames, encrypts or decrypts them in place, and writes
//! them on. A frame that cannot be protected or opened is dropped and counted, never passed on:
//! a decoder fed ciphertext shows garbage, and Opus plays it as loud noise.
//!
//! ```text
//! send:     [clear prefix | payload]              -> [clear prefix | header | ciphertext | tag]
//! receive:  [clear prefix | header | ct | tag]    -> [clear prefix | payload]
//!           clear prefix: VP8 10 bytes (key frame) or 3 (delta); Opus and VP9 none
//! ```

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{ArrayBuffer, Reflect};
use shieldcall_e2ee::sframe::{DropReason, Receiver, SendError, Sender};
use shieldcall_protocol::{
    Codec, CodecError, Direction, PayloadTypes, Slot, TransformOptions, TransformStats, WorkerEvent,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    ReadableStream, ReadableStreamDefaultReader, RtcEncodedAudioFrame, RtcEncodedVideoFrame,
    RtcRtpScriptTransformer, WritableStream, WritableStreamDefaultWriter,
};

use crate::frame::{open_into_buffer, seal_into_buffer};
use crate::mode::Mode;
use crate::wasm::post;

/// Errors reach the page at most this often per transform, so a bad key cannot flood it.
const ERROR_INTERVAL_MS: f64 = 1000.0;
/// Key frames are asked for at most this often per transform.
const KEY_FRAME_REQUEST_INTERVAL_MS: f64 = 500.0;

/// The SFrame state of one transform, made from [`Mode`].
enum Cryptor {
    AwaitKeys,
    PassThrough,
    Encrypt(Sender),
    Decrypt(Receiver),
}

/// Whether a frame goes on to the packetizer or decoder.
enum Verdict {
    Forward,
    Drop,
}

/// A running transform.
pub struct Transform {
    options: TransformOptions,
    cryptor: RefCell<Cryptor>,
    /// Frame bytes are copied here, processed in place, and copied out: no allocation per frame
    /// on the Rust side once it has grown to the largest frame.
    buffer: RefCell<Vec<u8>>,
    stats: RefCell<TransformStats>,
    stats_dirty: Cell<bool>,
    last_error_ms: Cell<f64>,
    last_key_frame_request_ms: Cell<f64>,
    /// Present for `RTCRtpScriptTransform`; absent for streams from `createEncodedStreams()`.
    transformer: Option<RtcRtpScriptTransformer>,
    /// The codec of each payload type, shared by every transform of the worker.
    payload_types: Rc<RefCell<PayloadTypes>>,
}

impl Transform {
    /// Start a transform of `options` on `ends` (an `rtctransform` event's transformer, or the
    /// streams of `createEncodedStreams()` moved here by the page).
    pub fn start(
        options: TransformOptions,
        ends: Ends,
        mode: &Mode,
        payload_types: Rc<RefCell<PayloadTypes>>,
    ) -> Rc<Self> {
        let Ends { readable, writable, transformer } = ends;
        let transform = Rc::new(Self {
            options,
            cryptor: RefCell::new(Cryptor::AwaitKeys),
            buffer: RefCell::new(Vec::with_capacity(16 * 1024)),
            stats: RefCell::new(TransformStats::new(options.slot, options.direction)),
            stats_dirty: Cell::new(true),
            last_error_ms: Cell::new(f64::NEG_INFINITY),
            last_key_frame_request_ms: Cell::new(f64::NEG_INFINITY),
            transformer,
            payload_types,
        });
        transform.set_mode(mode);
        let running = transform.clone();
        spawn_local(async move {
            if let Err(err) = running.pump(readable, writable).await {
                running.report_error(&format!("the frame stream stopped: {}", describe(&err)));
            }
        });
        transform
    }

    pub fn options(&self) -> TransformOptions {
        self.options
    }

    /// Post this transform's counters if they changed since the last report.
    pub fn report(&self) {
        if self.stats_dirty.replace(false) {
            post(&WorkerEvent::Stats(self.stats.borrow().clone()));
        }
    }

    /// Switch keys or mode. A key change asks the sender for a key frame, so the picture
    /// comes back at once under the new key.
    pub fn set_mode(&self, mode: &Mode) {
        let TransformOptions { slot, direction } = self.options;
        let mut cryptor = self.cryptor.borrow_mut();
        let next = match (mode, direction, &mut *cryptor) {
            (Mode::AwaitKeys, ..) => Cryptor::AwaitKeys,
            (Mode::TransportOnly, ..) => Cryptor::PassThrough,
            (Mode::Keys(keys), Direction::Send, Cryptor::Encrypt(sender))
                if sender.suite() == keys.suite =>
            {
                match sender.rekey(keys.send.clone(), keys.epoch) {
                    Ok(()) => return,
                    Err(err) => {
                        drop(cryptor);
                        self.report_error(&format!("keys not changed: {err}"));
                        return;
                    }
                }
            }
            (Mode::Keys(keys), Direction::Send, _) => {
                match Sender::new(keys.suite, keys.send.clone(), keys.epoch, slot) {
                    Ok(sender) => Cryptor::Encrypt(sender),
                    Err(err) => {
                        *cryptor = Cryptor::AwaitKeys;
                        drop(cryptor);
                        self.report_error(&format!("no sending key: {err}"));
                        return;
                    }
                }
            }
            (Mode::Keys(keys), Direction::Receive, Cryptor::Decrypt(receiver))
                if receiver.suite() == keys.suite =>
            {
                receiver.rekey(keys.receive.clone(), keys.epoch, now_ms() as u64);
                drop(cryptor);
                self.request_key_frame();
                return;
            }
            (Mode::Keys(keys), Direction::Receive, _) => Cryptor::Decrypt(
                Receiver::new(keys.suite, keys.receive.clone(), keys.epoch).only_slot(slot),
            ),
        };
        *cryptor = next;
        drop(cryptor);
        if direction == Direction::Receive && matches!(mode, Mode::Keys(_)) {
            self.request_key_frame();
        }
    }

    async fn pump(
        &self,
        readable: ReadableStream,
        writable: WritableStream,
    ) -> Result<(), JsValue> {
        let reader: ReadableStreamDefaultReader = readable.get_reader().unchecked_into();
        let writer: WritableStreamDefaultWriter = writable.get_writer()?;
        let (done_key, value_key) = (JsValue::from_str("done"), JsValue::from_str("value"));
        loop {
            let chunk = JsFuture::from(reader.read()).await?;
            if Reflect::get(&chunk, &done_key)?.as_bool() == Some(true) {
                return Ok(());
            }
            let frame = Reflect::get(&chunk, &value_key)?;
            if let Verdict::Forward = self.process(&frame) {
                JsFuture::from(writer.write_with_chunk(&frame)).await?;
            }
        }
    }

    fn process(&self, frame: &JsValue) -> Verdict {
        self.stats_dirty.set(true);
        let mut cryptor = self.cryptor.borrow_mut();
        let outcome = match &mut *cryptor {
            Cryptor::PassThrough => {
                self.stats.borrow_mut().passed += 1;
                return Verdict::Forward;
            }
            Cryptor::AwaitKeys => Err(Dropped::NoKey),
            Cryptor::Encrypt(sender) => self.with_frame_bytes(frame, |data, codec, buf| {
                seal_into_buffer(sender, data, codec, buf).map_err(Dropped::Send)
            }),
            Cryptor::Decrypt(receiver) => self.with_frame_bytes(frame, |data, codec, buf| {
                open_into_buffer(receiver, data, codec, now_ms() as u64, buf)
                    .map_err(Dropped::Receive)
            }),
        };
        drop(cryptor);
        match outcome {
            Ok(()) => {
                self.stats.borrow_mut().processed += 1;
                Verdict::Forward
            }
            Err(dropped) => {
                self.count_drop(&dropped);
                Verdict::Drop
            }
        }
    }

    /// Run `f` on the frame's data, its codec and the reusable buffer (the copy in, the
    /// cryptography and the copy out are [`seal_into_buffer`] and [`open_into_buffer`]), and on
    /// success make what it returns the frame's new data.
    fn with_frame_bytes(
        &self,
        frame: &JsValue,
        f: impl FnOnce(&ArrayBuffer, Codec, &mut Vec<u8>) -> Result<ArrayBuffer, Dropped>,
    ) -> Result<(), Dropped> {
        let (data, metadata) = if let Some(video) = frame.dyn_ref::<RtcEncodedVideoFrame>() {
            (video.data(), JsValue::from(video.get_metadata()))
        } else if let Some(audio) = frame.dyn_ref::<RtcEncodedAudioFrame>() {
            (audio.data(), JsValue::from(audio.get_metadata()))
        } else {
            return Err(Dropped::NotAFrame);
        };
        // Frames of a codec without a known layout are not sent or accepted under E2EE.
        let payload_type = Reflect::get(&metadata, &"payloadType".into())
            .ok()
            .and_then(|pt| pt.as_f64())
            .filter(|pt| (0.0..128.0).contains(pt))
            .map(|pt| pt as u8);
        let mime_type =
            Reflect::get(&metadata, &"mimeType".into()).ok().and_then(|m| m.as_string());
        let codec = self
            .payload_types
            .borrow()
            .codec_of(payload_type, mime_type.as_deref())
            .map_err(Dropped::Codec)?;

        let out = f(&data, codec, &mut self.buffer.borrow_mut())?;
        if let Some(video) = frame.dyn_ref::<RtcEncodedVideoFrame>() {
            video.set_data(&out);
        } else {
            frame.unchecked_ref::<RtcEncodedAudioFrame>().set_data(&out);
        }
        Ok(())
    }

    fn count_drop(&self, dropped: &Dropped) {
        let mut stats = self.stats.borrow_mut();
        match dropped {
            Dropped::NoKey => stats.dropped_no_key += 1,
            Dropped::Receive(DropReason::UnknownKid) => stats.dropped_unknown_key += 1,
            Dropped::Receive(DropReason::AuthFailed) => stats.dropped_bad_tag += 1,
            Dropped::Receive(DropReason::Replay | DropReason::TooOld) => stats.dropped_replay += 1,
            Dropped::Receive(DropReason::Malformed) | Dropped::Send(_) | Dropped::NotAFrame => {
                stats.dropped_malformed += 1
            }
            Dropped::Codec(_) => stats.dropped_codec += 1,
        }
        drop(stats);
        if let Dropped::NoKey = dropped {
            return; // expected until the keys arrive; nothing to report or ask for
        }
        self.report_error(&dropped.to_string());
        if self.options.direction == Direction::Receive {
            self.request_key_frame();
        }
    }

    /// Ask the sender for a key frame (video receivers only), at most every 500 ms.
    fn request_key_frame(&self) {
        let Some(transformer) = &self.transformer else { return };
        if !matches!(self.options.slot, Slot::Camera | Slot::ScreenVideo) {
            return;
        }
        let now = now_ms();
        if now - self.last_key_frame_request_ms.get() < KEY_FRAME_REQUEST_INTERVAL_MS {
            return;
        }
        self.last_key_frame_request_ms.set(now);
        self.stats.borrow_mut().key_frame_requests += 1;
        self.stats_dirty.set(true);
        // Rejects when nothing has been received yet; the next drop asks again.
        let request = transformer.send_key_frame_request();
        spawn_local(async move {
            let _ = JsFuture::from(request).await;
        });
    }

    /// Tell the page, at most once a second.
    fn report_error(&self, message: &str) {
        let now = now_ms();
        if now - self.last_error_ms.get() < ERROR_INTERVAL_MS {
            return;
        }
        self.last_error_ms.set(now);
        post(&WorkerEvent::Error { transform: Some(self.options), message: message.into() });
    }
}

/// Why a frame was dropped.
enum Dropped {
    NoKey,
    Send(SendError),
    Receive(DropReason),
    Codec(CodecError),
    NotAFrame,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dropped::NoKey => f.write_str("no key yet"),
            Dropped::Send(err) => write!(f, "frame not encrypted: {err}"),
            Dropped::Receive(DropReason::UnknownKid) => f.write_str("frame under an unknown key"),
            Dropped::Receive(DropReason::AuthFailed) => {
                f.write_str("frame failed to decrypt (wrong key or tampered)")
            }
            Dropped::Receive(DropReason::Replay) => f.write_str("replayed frame"),
            Dropped::Receive(DropReason::TooOld) => f.write_str("frame too old"),
            Dropped::Receive(DropReason::Malformed) => f.write_str("not an SFrame frame"),
            Dropped::Codec(err) => err.fmt(f),
            Dropped::NotAFrame => f.write_str("not an encoded frame"),
        }
    }
}

/// Where a transform's frames come from and go, and the transformer that asks for key frames
/// (absent for streams from `createEncodedStreams()`).
pub struct Ends {
    pub readable: ReadableStream,
    pub writable: WritableStream,
    pub transformer: Option<RtcRtpScriptTransformer>,
}

impl Ends {
    /// The streams of an `rtctransform` event's transformer, and the transformer.
    pub fn of_transformer(transformer: RtcRtpScriptTransformer) -> Self {
        let (readable, writable) = (transformer.readable(), transformer.writable());
        Ends { readable, writable, transformer: Some(transformer) }
    }

    /// A transform that could not start: read every frame and drop it (fail closed). Read
    /// rather than left alone, so frames do not pile up in the stream.
    pub fn drain(self) {
        let reader: ReadableStreamDefaultReader = self.readable.get_reader().unchecked_into();
        let done_key = JsValue::from_str("done");
        spawn_local(async move {
            while let Ok(chunk) = JsFuture::from(reader.read()).await {
                if Reflect::get(&chunk, &done_key).ok().and_then(|d| d.as_bool()) != Some(false) {
                    return;
                }
            }
        });
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn describe(err: &JsValue) -> String {
    err.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "unknown error".into())
}
