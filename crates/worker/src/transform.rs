//! One transform: a slot's encoded frames, encrypted or decrypted one by one and written on.
//! The loop that reads and writes them is JavaScript's (`js/frames.js`, given the transform's
//! [`FrameSteps`]); what happens to each frame is decided by the transform's
//! [`Cryptor`](crate::cryptor) and carried out here. A frame that cannot be
//! protected or opened is dropped and counted, never passed on: a decoder fed ciphertext shows
//! garbage, and Opus plays it as loud noise.
//!
//! ```text
//! send:     [clear prefix | payload]              -> [clear prefix | header | ciphertext | tag]
//! receive:  [clear prefix | header | ct | tag]    -> [clear prefix | payload]
//!           clear prefix: VP8 10 bytes (key frame) or 3 (delta); Opus and VP9 none
//! ```

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{ArrayBuffer, Promise, Reflect};
use shieldcall_e2ee::sframe::external::ExternalKey;
use shieldcall_protocol::{
    Codec, Direction, PayloadTypes, Slot, TransformOptions, TransformStats, WorkerEvent,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    CryptoKey, ReadableStream, ReadableStreamDefaultReader, RtcEncodedAudioFrame,
    RtcEncodedVideoFrame, RtcRtpScriptTransformer, SubtleCrypto, WritableStream,
};

use crate::cryptor::{AfterCall, CallEnded, Cryptor, Dropped, Planned};
use crate::frame::{open_into_buffer, seal_into_buffer};
use crate::hybrid::{Engine, WebCryptoKeys};
use crate::mode::Mode;
use crate::wasm::post;
use crate::webcrypto::{self, Usage};

/// Errors reach the page at most this often per transform, so a bad key cannot flood it.
const ERROR_INTERVAL_MS: f64 = 1000.0;
/// Key frames are asked for at most this often per transform.
const KEY_FRAME_REQUEST_INTERVAL_MS: f64 = 500.0;

/// Whether a frame goes on to the packetizer or decoder, or first to WebCrypto.
enum Verdict {
    Forward,
    Drop,
    WebCrypto(Large),
}

/// A frame planned for WebCrypto: its bytes, their first bytes and codec, and the plan.
struct Large {
    data: ArrayBuffer,
    head: Vec<u8>,
    codec: Codec,
    planned: Planned<CryptoKey>,
}

/// The frame whose WebCrypto call the pump awaits, and its plan. The pump awaits the call
/// before it reads the next frame, so frames keep their order.
struct Pending {
    frame: JsValue,
    large: Large,
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
    /// The worker's WebCrypto, for large frames; without it every frame takes the Rust path.
    subtle: Option<SubtleCrypto>,
    /// Where the crossover to WebCrypto lies.
    engine: Engine,
    /// This transform's keys imported into WebCrypto, shared with the imports under way.
    webcrypto_keys: Rc<RefCell<WebCryptoKeys<CryptoKey>>>,
    /// The frame whose WebCrypto call the pump awaits (one at a time: frames keep their order).
    pending: RefCell<Option<Pending>>,
    /// A newer transform of the same slot and direction took over: what becomes of this one's
    /// stream is no longer the page's news.
    retired: Cell<bool>,
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
            subtle: webcrypto::subtle(),
            engine: webcrypto::engine(),
            webcrypto_keys: Rc::default(),
            pending: RefCell::new(None),
            retired: Cell::new(false),
        });
        transform.set_mode(mode);
        // Checked first: a call that throws would leave the steps (and the keys) unfreed.
        let pumping = match webcrypto::frames_js_loaded() {
            true => pump(&readable, &writable, FrameSteps { transform: transform.clone() }),
            false => Err(JsValue::UNDEFINED),
        };
        match pumping {
            Ok(pumping) => {
                let running = transform.clone();
                spawn_local(async move {
                    // Said every time, never throttled: the page tells the person which media
                    // stopped. Its last counters first, so that any later ones for the slot are
                    // a new transform's; nothing from a retired one.
                    if let Err(err) = JsFuture::from(pumping).await {
                        running.report();
                        if !running.retired.get() {
                            post(&WorkerEvent::StreamStopped {
                                transform: running.options,
                                message: format!("the frame stream stopped: {}", describe(&err)),
                            });
                        }
                    }
                });
            }
            // The loader did not load js/frames.js: no frame may pass unprocessed.
            Err(_) => {
                transform.report_error("the worker's frame script is missing");
                Ends { readable, writable, transformer: None }.drain();
            }
        }
        transform
    }

    pub fn options(&self) -> TransformOptions {
        self.options
    }

    /// A newer transform took over this one's slot and direction: drop every frame, and say
    /// nothing more of this stream.
    pub fn retire(&self) {
        self.retired.set(true);
        self.set_mode(&Mode::AwaitKeys);
    }

    /// Post this transform's counters if they changed since the last report.
    pub fn report(&self) {
        if self.stats_dirty.replace(false) {
            post(&WorkerEvent::Stats(self.stats.borrow().clone()));
        }
    }

    /// Switch keys or mode. A receiving video transform given keys asks the sender for a key
    /// frame, so the picture comes back at once under the new key.
    pub fn set_mode(&self, mode: &Mode) {
        self.webcrypto_keys.borrow_mut().clear();
        let applied = self.cryptor.borrow_mut().apply(mode, self.options, now_ms() as u64);
        if let Err(message) = applied {
            self.report_error(&message);
        }
        if self.options.direction == Direction::Receive && matches!(mode, Mode::Keys(_)) {
            self.request_key_frame();
        }
    }

    /// One frame read by the pump: whether to write it on, or the promise of its WebCrypto
    /// call (the pump awaits it and hands its outcome to [`Self::finish`]).
    fn step(&self, frame: &JsValue) -> JsValue {
        if self.pending.borrow().is_some() {
            // The pump gives a frame only once the one before is finished.
            self.count_drop(&Dropped::OutOfTurn);
            return JsValue::FALSE;
        }
        match self.verdict(frame) {
            Verdict::Forward => JsValue::TRUE,
            Verdict::Drop => JsValue::FALSE,
            Verdict::WebCrypto(large) => {
                match webcrypto::start(&large.planned, &large.data, &large.head) {
                    Ok(promise) => {
                        let frame = frame.clone();
                        *self.pending.borrow_mut() = Some(Pending { frame, large });
                        promise.into()
                    }
                    Err(_) => {
                        self.finish_on_webcrypto(frame, large, CallEnded::Failed, None).into()
                    }
                }
            }
        }
    }

    /// The outcome of the pending frame's WebCrypto call: whether to write the frame on. A
    /// frame that is not the pending one is dropped, and so is the pending one.
    fn finish(&self, frame: &JsValue, ended: CallEnded, out: Option<ArrayBuffer>) -> bool {
        let pending = self.pending.borrow_mut().take();
        match pending {
            Some(Pending { frame: expected, large }) if js_sys::Object::is(&expected, frame) => {
                self.finish_on_webcrypto(frame, large, ended, out)
            }
            _ => {
                self.count_drop(&Dropped::OutOfTurn);
                false
            }
        }
    }

    fn verdict(&self, frame: &JsValue) -> Verdict {
        self.stats_dirty.set(true);
        let mut cryptor = self.cryptor.borrow_mut();
        let outcome = match &mut *cryptor {
            Cryptor::PassThrough => {
                self.stats.borrow_mut().passed += 1;
                return Verdict::Forward;
            }
            Cryptor::AwaitKeys => Err(Dropped::NoKey),
            cryptor => self.frame_parts(frame).and_then(|(data, codec)| {
                match self.plan_webcrypto(cryptor, data, codec)? {
                    Ok(large) => Ok(Some(Verdict::WebCrypto(large))),
                    Err(data) => self.in_rust(cryptor, frame, &data, codec).map(|()| None),
                }
            }),
        };
        drop(cryptor);
        match outcome {
            Ok(Some(webcrypto)) => webcrypto,
            Ok(None) => {
                self.stats.borrow_mut().processed += 1;
                Verdict::Forward
            }
            Err(dropped) => {
                self.count_drop(&dropped);
                Verdict::Drop
            }
        }
    }

    /// The frame's data and codec. Frames of a codec without a known layout are not sent or
    /// accepted under E2EE.
    fn frame_parts(&self, frame: &JsValue) -> Result<(ArrayBuffer, Codec), Dropped> {
        let (data, metadata) = if let Some(video) = frame.dyn_ref::<RtcEncodedVideoFrame>() {
            (video.data(), JsValue::from(video.get_metadata()))
        } else if let Some(audio) = frame.dyn_ref::<RtcEncodedAudioFrame>() {
            (audio.data(), JsValue::from(audio.get_metadata()))
        } else {
            return Err(Dropped::NotAFrame);
        };
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
        Ok((data, codec))
    }

    /// Encrypts or decrypts the frame in Rust: the copy in, the cryptography and the copy out
    /// are [`seal_into_buffer`] and [`open_into_buffer`]; on success the result becomes the
    /// frame's data.
    fn in_rust(
        &self,
        cryptor: &mut Cryptor,
        frame: &JsValue,
        data: &ArrayBuffer,
        codec: Codec,
    ) -> Result<(), Dropped> {
        let buf = &mut self.buffer.borrow_mut();
        let out = match cryptor {
            Cryptor::Encrypt(sender) => {
                seal_into_buffer(sender, data, codec, buf).map_err(Dropped::Send)?
            }
            Cryptor::Decrypt(receiver) => {
                open_into_buffer(receiver, data, codec, now_ms() as u64, buf)
                    .map_err(Dropped::Receive)?
            }
            Cryptor::AwaitKeys | Cryptor::PassThrough => return Err(Dropped::NoKey),
        };
        match set_data(frame, &out) {
            true => Ok(()),
            false => Err(Dropped::NotAFrame),
        }
    }

    /// The frame planned for WebCrypto by [`Cryptor::plan_webcrypto`], or its data back, for
    /// Rust. A KID's first large frame starts the import of its key.
    fn plan_webcrypto(
        &self,
        cryptor: &mut Cryptor,
        data: ArrayBuffer,
        codec: Codec,
    ) -> Result<Result<Large, ArrayBuffer>, Dropped> {
        let len = data.byte_length() as usize;
        let crossover = cryptor.crossover(self.engine);
        // The head is read across the boundary only for a frame that may go.
        let Some(crossover) = crossover.filter(|&from| self.subtle.is_some() && len >= from) else {
            return Ok(Err(data));
        };
        let head = webcrypto::read_head(&data, len);
        // A crossover means keys: the cryptor encrypts or decrypts.
        let usage = match cryptor {
            Cryptor::Encrypt(_) => Usage::Encrypt,
            _ => Usage::Decrypt,
        };
        let planned =
            cryptor.plan_webcrypto(crossover, codec, len, &head, now_ms() as u64, |kid, key| {
                self.webcrypto_key(kid, usage, key)
            })?;
        Ok(match planned {
            Some(planned) => Ok(Large { data, head, codec, planned }),
            None => Err(data),
        })
    }

    /// `kid`'s WebCrypto key if imported; if not, starts its import (once) from `key`.
    fn webcrypto_key(
        &self,
        kid: u64,
        usage: Usage,
        key: impl FnOnce() -> Option<ExternalKey>,
    ) -> Option<CryptoKey> {
        let subtle = self.subtle.as_ref()?;
        let mut keys = self.webcrypto_keys.borrow_mut();
        if let Some(ready) = keys.ready(kid) {
            return Some(ready.clone());
        }
        let generation = keys.start_import(kid)?;
        let promise = key().map(|key| webcrypto::import_key(subtle, &key, usage));
        let Some(Ok(promise)) = promise else {
            keys.failed(generation, kid);
            return None;
        };
        let keys = self.webcrypto_keys.clone();
        spawn_local(async move {
            match webcrypto::imported(promise).await {
                Ok(key) => keys.borrow_mut().imported(generation, kid, key),
                Err(_) => keys.borrow_mut().failed(generation, kid),
            }
        });
        None
    }

    /// Finishes the frame's WebCrypto call as [`Cryptor::after_webcrypto`] judges: the
    /// frame's new data, a drop, or (WebCrypto itself failed) the KID's key given up and the
    /// frame done in Rust.
    fn finish_on_webcrypto(
        &self,
        frame: &JsValue,
        large: Large,
        ended: CallEnded,
        out: Option<ArrayBuffer>,
    ) -> bool {
        let Large { data, codec, planned, .. } = large;
        self.stats_dirty.set(true);
        let after = self.cryptor.borrow_mut().after_webcrypto(&planned.job, planned.out_len, ended);
        match after {
            AfterCall::Forward => {
                // `Forward` comes only with a buffer (`CallEnded::Done`); whatever else, the
                // frame is dropped.
                if !out.is_some_and(|out| set_data(frame, &out)) {
                    self.count_drop(&Dropped::NotAFrame);
                    return false;
                }
                let mut stats = self.stats.borrow_mut();
                stats.processed += 1;
                stats.webcrypto += 1;
                true
            }
            AfterCall::Drop(dropped) => {
                self.count_drop(&dropped);
                false
            }
            AfterCall::InRust => {
                self.webcrypto_keys.borrow_mut().give_up(planned.job.kid());
                let outcome = self.in_rust(&mut self.cryptor.borrow_mut(), frame, &data, codec);
                let forward = outcome.is_ok();
                match outcome {
                    Ok(()) => self.stats.borrow_mut().processed += 1,
                    Err(dropped) => self.count_drop(&dropped),
                }
                forward
            }
        }
    }

    fn count_drop(&self, dropped: &Dropped) {
        dropped.count(&mut self.stats.borrow_mut());
        if !dropped.is_reported() {
            return;
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
        // Rejects when nothing has been received yet; the next drop asks again. Called through
        // `Reflect` so that a throw (a browser that has it otherwise) comes back as an error
        // here: through the binding it would unwind past this frame's borrows, for good.
        let request = Reflect::get(transformer, &"sendKeyFrameRequest".into())
            .and_then(|f| f.dyn_into::<js_sys::Function>())
            .and_then(|f| f.call0(transformer))
            .and_then(|p| p.dyn_into::<Promise>());
        if let Ok(request) = request {
            // Counted once asked (the promise may still reject): a browser without the call
            // has asked for nothing.
            self.stats.borrow_mut().key_frame_requests += 1;
            self.stats_dirty.set(true);
            spawn_local(async move {
                let _ = JsFuture::from(request).await;
            });
        }
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

/// A transform's steps, for the pump of `js/frames.js`: it reads each frame and writes it on
/// (or drops it) as these say, one frame at a time, awaiting in JavaScript (from wasm an await
/// cost 2-3 µs in Chromium and about 10 in Firefox: docs/MEASURED.md).
#[wasm_bindgen]
pub struct FrameSteps {
    transform: Rc<Transform>,
}

#[wasm_bindgen]
impl FrameSteps {
    /// `true`: write the frame on; `false`: drop it; else the promise of its WebCrypto call,
    /// whose outcome goes to [`FrameSteps::finish`].
    pub fn process(&self, frame: &JsValue) -> JsValue {
        self.transform.step(frame)
    }

    /// The WebCrypto call of the last frame settled: `ok` with the frame's new data as
    /// `value`, or failed with `value` as its error. Whether to write the frame on.
    pub fn finish(&self, frame: &JsValue, ok: bool, value: JsValue) -> bool {
        // What a resolved call gave, and whether a rejected one was a forgery: each value
        // looked at only as far as its outcome needs (calls across the boundary).
        let out = ok.then(|| value.dyn_ref::<ArrayBuffer>().cloned()).flatten();
        let len = out.as_ref().map(|out| out.byte_length() as usize);
        let ended = CallEnded::of(ok, len, !ok && webcrypto::is_auth_failure(&value));
        self.transform.finish(frame, ended, out)
    }
}

#[wasm_bindgen]
extern "C" {
    /// `js/frames.js`'s pump over a transform's streams. Throws if the script was not loaded.
    #[wasm_bindgen(catch, js_namespace = shieldcallFrames)]
    fn pump(
        readable: &ReadableStream,
        writable: &WritableStream,
        steps: FrameSteps,
    ) -> Result<Promise, JsValue>;
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

/// Makes `out` the frame's data; `false` if `frame` is no encoded frame (then it must not be
/// written on: its data is what it was).
fn set_data(frame: &JsValue, out: &ArrayBuffer) -> bool {
    if let Some(video) = frame.dyn_ref::<RtcEncodedVideoFrame>() {
        video.set_data(out);
    } else if let Some(audio) = frame.dyn_ref::<RtcEncodedAudioFrame>() {
        audio.set_data(out);
    } else {
        return false;
    }
    true
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn describe(err: &JsValue) -> String {
    err.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "unknown error".into())
}
