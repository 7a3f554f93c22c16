//! The media worker, seen from the page: spawn it, wait until its wasm runs, give it keys, and
//! make `RTCRtpScriptTransform`s that run on it.
//!
//! Keys are posted once, as bytes in a transferred buffer, and then live only in the worker.
//! Every transform is made with its [`TransformOptions`] as JSON text; the fallback's streams
//! travel beside a [`WorkerCommand::AttachStreams`], in the same envelope as keys.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use shieldcall_call::support::BrowserFeatures;
use shieldcall_protocol::{
    COMMAND_FIELD, Direction, KEYS_FIELD, READABLE_FIELD, Slot, TransformOptions, WRITABLE_FIELD,
    WorkerCommand, WorkerEvent,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MessageEvent, RtcConfiguration, RtcRtpReceiver, RtcRtpScriptTransform, RtcRtpSender, Worker,
};

/// The worker's loader (`crates/worker/js/media-worker.js`, copied by Trunk: index.html).
pub const WORKER_URL: &str = "/media-worker.js";

type Listener = Box<dyn FnMut(WorkerEvent)>;

/// How frames reach the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransformApi {
    /// `RTCRtpScriptTransform` (the standard; Chromium, Firefox, Safari).
    ScriptTransform,
    /// `createEncodedStreams()`, with the streams moved to the worker: the fallback for
    /// browsers without the standard API.
    EncodedStreams,
}

impl TransformApi {
    /// The best API this browser has.
    pub fn detect() -> Self {
        let has_script_transform = web_sys::window()
            .is_some_and(|w| Reflect::has(&w, &"RTCRtpScriptTransform".into()).unwrap_or(false));
        if has_script_transform { Self::ScriptTransform } else { Self::EncodedStreams }
    }
}

/// What this browser offers for E2EE (read from its globals; see
/// [`shieldcall_call::support`]).
pub fn browser_features() -> BrowserFeatures {
    let global = js_sys::global();
    let has = |object: &JsValue, name: &str| Reflect::has(object, &name.into()).unwrap_or(false);
    let prototype = |class: &str| {
        Reflect::get(&global, &class.into())
            .and_then(|c| Reflect::get(&c, &"prototype".into()))
            .ok()
            .filter(|p| p.is_object())
    };
    BrowserFeatures {
        script_transform: has(&global, "RTCRtpScriptTransform"),
        encoded_streams: prototype("RTCRtpSender").is_some_and(|p| has(&p, "createEncodedStreams")),
        codec_preferences: prototype("RTCRtpTransceiver")
            .is_some_and(|p| has(&p, "setCodecPreferences")),
    }
}

/// How long a media worker may take to say it is ready (ms): its wasm is a few hundred KB
/// from the page's own origin.
const WORKER_START_TIMEOUT_MS: i32 = 30_000;

/// A running media worker.
pub struct MediaWorker {
    worker: Worker,
    api: TransformApi,
    listener: Rc<RefCell<Option<Listener>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl MediaWorker {
    /// Start the worker at `url` and wait until it says it is ready, so that no transform is
    /// made before the worker can handle its `rtctransform` event.
    pub async fn spawn(url: &str) -> Result<Self, JsValue> {
        let worker = Worker::new(url)?;
        let listener: Rc<RefCell<Option<Listener>>> = Rc::default();
        let ready: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();

        let on_message = {
            let listener = listener.clone();
            let ready = ready.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
                let Some(bytes) = message.data().dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
                else {
                    return;
                };
                let Ok(event) = WorkerEvent::decode(&bytes) else { return };
                if event == WorkerEvent::Ready {
                    if let Some(resolve) = ready.borrow_mut().take() {
                        let _ = resolve.call0(&JsValue::UNDEFINED);
                    }
                } else if let Some(listener) = listener.borrow_mut().as_mut() {
                    listener(event);
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

        let started = Promise::new(&mut |resolve, reject| {
            *ready.borrow_mut() = Some(resolve);
            worker.set_onerror(Some(&reject));
            // A worker whose wasm never arrives (a stalled download) is given up on too.
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &reject,
                    WORKER_START_TIMEOUT_MS,
                );
            }
        });
        // A worker that failed to start is stopped, not left half alive.
        JsFuture::from(started).await.inspect_err(|_| worker.terminate())?;
        worker.set_onerror(None);
        Ok(Self { worker, api: TransformApi::detect(), listener, _on_message: on_message })
    }

    /// Tell the worker what to do with frames. Keys go as bytes in a transferred buffer, never
    /// in text (see [`post_command`]).
    pub fn command(&self, command: &WorkerCommand) -> Result<(), JsValue> {
        post_command(command, |message, transfer| {
            self.worker.post_message_with_transfer(message, transfer)
        })
    }

    /// Receive the worker's counters and errors.
    pub fn on_event(&self, listener: impl FnMut(WorkerEvent) + 'static) {
        *self.listener.borrow_mut() = Some(Box::new(listener));
    }

    /// Use `api` instead of the detected one (tests use it to exercise the fallback).
    pub fn with_api(mut self, api: TransformApi) -> Self {
        self.api = api;
        self
    }

    pub fn api(&self) -> TransformApi {
        self.api
    }

    /// Prepare a peer connection's configuration for this worker's API: the fallback needs
    /// `encodedInsertableStreams` so that streams can be taken after negotiation too.
    pub fn configure(&self, configuration: &RtcConfiguration) -> Result<(), JsValue> {
        if self.api == TransformApi::EncodedStreams {
            Reflect::set(configuration, &"encodedInsertableStreams".into(), &true.into())?;
        }
        Ok(())
    }

    /// A transform for one media slot and direction, running on this worker. Its options are
    /// the bytes of [`TransformOptions`].
    pub fn transform(
        &self,
        slot: Slot,
        direction: Direction,
    ) -> Result<RtcRtpScriptTransform, JsValue> {
        let options = Uint8Array::from(&TransformOptions::new(slot, direction).encode()[..]);
        RtcRtpScriptTransform::new_with_options(&self.worker, &options)
    }

    /// Run `sender`'s frames through this worker (slot `slot`, sending).
    pub fn attach_sender(&self, sender: &RtcRtpSender, slot: Slot) -> Result<(), JsValue> {
        match self.api {
            TransformApi::ScriptTransform => {
                let transform = self.transform(slot, Direction::Send)?;
                sender.set_transform_opt_rtc_rtp_script_transform(Some(&transform));
                Ok(())
            }
            TransformApi::EncodedStreams => self.move_streams(sender, slot, Direction::Send),
        }
    }

    /// Run `receiver`'s frames through this worker (slot `slot`, receiving).
    pub fn attach_receiver(&self, receiver: &RtcRtpReceiver, slot: Slot) -> Result<(), JsValue> {
        match self.api {
            TransformApi::ScriptTransform => {
                let transform = self.transform(slot, Direction::Receive)?;
                receiver.set_transform_opt_rtc_rtp_script_transform(Some(&transform));
                Ok(())
            }
            TransformApi::EncodedStreams => self.move_streams(receiver, slot, Direction::Receive),
        }
    }

    /// The fallback: take the encoded streams and move them to the worker, beside an
    /// [`WorkerCommand::AttachStreams`] (see [`post_streams`]).
    fn move_streams(&self, end: &JsValue, slot: Slot, direction: Direction) -> Result<(), JsValue> {
        let create: Function = Reflect::get(end, &"createEncodedStreams".into())?
            .dyn_into()
            .map_err(|_| JsValue::from_str("this browser has no encoded transform API"))?;
        let streams = create.call0(end)?;
        let readable = Reflect::get(&streams, &"readable".into())?;
        let writable = Reflect::get(&streams, &"writable".into())?;
        let options = TransformOptions::new(slot, direction);
        post_streams(options, &readable, &writable, |message, transfer| {
            self.worker.post_message_with_transfer(message, transfer)
        })
    }
}

/// Posts `command` with `post` (`postMessage(message, transfer)` of a worker or a port).
///
/// A command without keys goes as its bytes (a `Uint8Array`). `UseKeys` goes as `{command:
/// <its bytes, without keys>, keys: ArrayBuffer(send || receive)}` with the buffer in the
/// transfer list: the transfer moves its bytes to the worker and leaves the page's buffer
/// detached (empty), so no copy stays in the page's JS heap until collected.
/// The Rust copy made to fill the buffer is zeroized when dropped; and if posting fails before
/// the transfer, the buffer is wiped here.
pub fn post_command(
    command: &WorkerCommand,
    post: impl FnOnce(&JsValue, &Array) -> Result<(), JsValue>,
) -> Result<(), JsValue> {
    let bytes = Uint8Array::from(&command.encode()[..]);
    let Some(keys) = command.key_bytes() else {
        return post(&bytes, &Array::new());
    };
    let view = Uint8Array::new_with_length(keys.len() as u32);
    view.copy_from(&keys);
    drop(keys);
    let buffer = view.buffer();
    let posted = (|| {
        let message = Object::new();
        Reflect::set(&message, &COMMAND_FIELD.into(), &bytes)?;
        Reflect::set(&message, &KEYS_FIELD.into(), &buffer)?;
        post(&message, &Array::of1(&buffer))
    })();
    // Transferred: detached, nothing left to wipe (and filling a detached view would throw).
    if buffer.byte_length() != 0 {
        view.fill(0, 0, view.length());
    }
    posted
}

/// Posts the encoded streams of one transform with `post`, as `{command: <the bytes of
/// WorkerCommand::AttachStreams { options }>, readable, writable}`, both streams in the transfer
/// list: the same envelope as keys, read by the worker the same way.
pub fn post_streams(
    options: TransformOptions,
    readable: &JsValue,
    writable: &JsValue,
    post: impl FnOnce(&JsValue, &Array) -> Result<(), JsValue>,
) -> Result<(), JsValue> {
    let message = Object::new();
    let command = Uint8Array::from(&WorkerCommand::AttachStreams { options }.encode()[..]);
    Reflect::set(&message, &COMMAND_FIELD.into(), &command)?;
    Reflect::set(&message, &READABLE_FIELD.into(), readable)?;
    Reflect::set(&message, &WRITABLE_FIELD.into(), writable)?;
    post(&message, &Array::of2(readable, writable))
}

impl Drop for MediaWorker {
    fn drop(&mut self) {
        // The keys die with the worker.
        self.worker.set_onmessage(None);
        self.worker.terminate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shieldcall_protocol::{SecretBytes, Transferred};
    use wasm_bindgen_test::*;
    use web_sys::{Blob, BlobPropertyBag, Url};

    wasm_bindgen_test_configure!(run_in_browser);

    fn use_keys() -> WorkerCommand {
        WorkerCommand::UseKeys {
            suite: 4,
            epoch: 2,
            send: SecretBytes::new(vec![0xA1; 16]),
            receive: SecretBytes::new(vec![0xB2; 16]),
        }
    }

    /// A worker that posts back whatever it gets (the buffer transferred back as well).
    fn echo_worker() -> Worker {
        let script = "onmessage = e => postMessage(e.data, e.data instanceof Object ? \
                      [e.data.keys, e.data.readable, e.data.writable].filter(x => x) : [])";
        let options = BlobPropertyBag::new();
        options.set_type("text/javascript");
        let parts = Array::of1(&script.into());
        let blob = Blob::new_with_str_sequence_and_options(&parts, &options).unwrap();
        Worker::new(&Url::create_object_url_with_blob(&blob).unwrap()).unwrap()
    }

    async fn next_message(worker: &Worker) -> JsValue {
        let message = Promise::new(&mut |resolve, _| {
            let on_message = Closure::once_into_js(move |event: MessageEvent| {
                let _ = resolve.call1(&JsValue::UNDEFINED, &event.data());
            });
            worker.set_onmessage(Some(on_message.unchecked_ref()));
        });
        JsFuture::from(message).await.unwrap()
    }

    #[wasm_bindgen_test]
    async fn keys_leave_the_page_in_a_transferred_buffer_never_in_text() {
        let worker = echo_worker();
        let command = use_keys();
        let sent: Rc<RefCell<Option<JsValue>>> = Rc::default();
        let seen = sent.clone();
        post_command(&command, |message, transfer| {
            *seen.borrow_mut() = Some(message.clone());
            worker.post_message_with_transfer(message, transfer)
        })
        .unwrap();
        let sent = sent.borrow_mut().take().unwrap();
        assert!(!sent.is_instance_of::<Uint8Array>(), "keys are not posted as the command");
        let page_buffer: js_sys::ArrayBuffer = Reflect::get(&sent, &KEYS_FIELD.into())
            .unwrap()
            .dyn_into()
            .expect("the keys are an ArrayBuffer");
        assert_eq!(page_buffer.byte_length(), 0, "the page's buffer is detached after sending");

        let echoed = next_message(&worker).await;
        let bytes = Reflect::get(&echoed, &COMMAND_FIELD.into()).unwrap();
        let bytes = bytes.dyn_into::<Uint8Array>().expect("the command is bytes").to_vec();
        assert_eq!(bytes, [3, 4, 0, 2, 0, 0, 0, 0, 0, 0, 0], "no key in the command's bytes");
        let keys = Reflect::get(&echoed, &KEYS_FIELD.into()).unwrap();
        let keys = Uint8Array::new(&keys).to_vec();
        assert_eq!(WorkerCommand::from_parts(&bytes, Transferred::Keys(&keys)), Ok(command));
        worker.terminate();
    }

    #[wasm_bindgen_test]
    async fn streams_leave_the_page_beside_their_attach_streams_command() {
        let worker = echo_worker();
        let global = js_sys::global();
        let constructor: Function =
            Reflect::get(&global, &"TransformStream".into()).unwrap().into();
        let streams = Reflect::construct(&constructor, &Array::new()).unwrap();
        let readable = Reflect::get(&streams, &READABLE_FIELD.into()).unwrap();
        let writable = Reflect::get(&streams, &WRITABLE_FIELD.into()).unwrap();
        let options = TransformOptions::new(Slot::ScreenVideo, Direction::Receive);
        post_streams(options, &readable, &writable, |message, transfer| {
            assert_eq!(transfer.length(), 2, "both streams are transferred");
            worker.post_message_with_transfer(message, transfer)
        })
        .unwrap();
        let locked = |stream: &JsValue| Reflect::get(stream, &"locked".into()).unwrap();
        assert_eq!(locked(&readable), true, "the page's readable moved to the worker");
        assert_eq!(locked(&writable), true, "the page's writable moved to the worker");

        let echoed = next_message(&worker).await;
        let bytes = Reflect::get(&echoed, &COMMAND_FIELD.into()).unwrap();
        let bytes = bytes.dyn_into::<Uint8Array>().expect("the command is bytes").to_vec();
        assert_eq!(bytes, [1, 2, 1], "the options travel in the command's bytes");
        assert_eq!(
            WorkerCommand::from_parts(&bytes, Transferred::Streams),
            Ok(WorkerCommand::AttachStreams { options })
        );
        for field in [READABLE_FIELD, WRITABLE_FIELD] {
            assert!(Reflect::get(&echoed, &field.into()).unwrap().is_object(), "{field}");
        }
        worker.terminate();
    }

    #[wasm_bindgen_test]
    fn a_failed_post_wipes_the_key_buffer() {
        let kept: Rc<RefCell<Option<JsValue>>> = Rc::default();
        let seen = kept.clone();
        let result = post_command(&use_keys(), |message, _| {
            *seen.borrow_mut() = Some(Reflect::get(message, &KEYS_FIELD.into()).unwrap());
            Err(JsValue::from_str("the worker is gone"))
        });
        assert!(result.is_err());
        let buffer = kept.borrow_mut().take().unwrap();
        assert_eq!(Uint8Array::new(&buffer).to_vec(), vec![0; 32], "wiped, not left behind");
    }

    #[wasm_bindgen_test]
    fn commands_without_keys_go_as_their_bytes_alone() {
        let posted: Rc<RefCell<Option<JsValue>>> = Rc::default();
        let seen = posted.clone();
        post_command(&WorkerCommand::TransportOnly, |message, transfer| {
            assert_eq!(transfer.length(), 0);
            *seen.borrow_mut() = Some(message.clone());
            Ok(())
        })
        .unwrap();
        let posted = posted.borrow_mut().take().unwrap();
        let bytes = posted.dyn_into::<Uint8Array>().expect("bytes, not an object").to_vec();
        assert_eq!(bytes, WorkerCommand::TransportOnly.encode());
    }
}
