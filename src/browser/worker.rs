//! The media worker, seen from the page: spawn it, wait until its wasm runs, give it keys, and
//! make `RTCRtpScriptTransform`s that run on it.
//!
//! Keys are posted once and then live only in the worker.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use shieldcall_e2ee::messages::{Direction, WorkerCommand, WorkerEvent};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MessageEvent, RtcConfiguration, RtcRtpReceiver, RtcRtpScriptTransform, RtcRtpSender, Worker,
};

/// Where Trunk puts the worker's loader (`data-loader-shim` in index.html).
pub const WORKER_URL: &str = "/shieldcall-worker_loader.js";

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
                let Some(text) = message.data().as_string() else { return };
                let Ok(event) = serde_json::from_str::<WorkerEvent>(&text) else { return };
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
        });
        // A worker that failed to start is stopped, not left half alive.
        JsFuture::from(started).await.inspect_err(|_| worker.terminate())?;
        worker.set_onerror(None);
        Ok(Self { worker, api: TransformApi::detect(), listener, _on_message: on_message })
    }

    /// Tell the worker what to do with frames.
    pub fn command(&self, command: &WorkerCommand) -> Result<(), JsValue> {
        self.worker.post_message(&JsValue::from_str(&command.to_json()))
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

    /// A transform for one media slot and direction, running on this worker.
    pub fn transform(
        &self,
        slot: u8,
        direction: Direction,
    ) -> Result<RtcRtpScriptTransform, JsValue> {
        let options: JsValue = transform_options(slot, direction)?.into();
        RtcRtpScriptTransform::new_with_options(&self.worker, &options)
    }

    /// Run `sender`'s frames through this worker (slot `slot`, sending).
    pub fn attach_sender(&self, sender: &RtcRtpSender, slot: u8) -> Result<(), JsValue> {
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
    pub fn attach_receiver(&self, receiver: &RtcRtpReceiver, slot: u8) -> Result<(), JsValue> {
        match self.api {
            TransformApi::ScriptTransform => {
                let transform = self.transform(slot, Direction::Receive)?;
                receiver.set_transform_opt_rtc_rtp_script_transform(Some(&transform));
                Ok(())
            }
            TransformApi::EncodedStreams => self.move_streams(receiver, slot, Direction::Receive),
        }
    }

    /// The fallback: take the encoded streams and move them to the worker with the options.
    fn move_streams(&self, end: &JsValue, slot: u8, direction: Direction) -> Result<(), JsValue> {
        let create: Function = Reflect::get(end, &"createEncodedStreams".into())?
            .dyn_into()
            .map_err(|_| JsValue::from_str("this browser has no encoded transform API"))?;
        let streams = create.call0(end)?;
        let readable = Reflect::get(&streams, &"readable".into())?;
        let writable = Reflect::get(&streams, &"writable".into())?;
        let message = transform_options(slot, direction)?;
        Reflect::set(&message, &"readable".into(), &readable)?;
        Reflect::set(&message, &"writable".into(), &writable)?;
        self.worker.post_message_with_transfer(&message, &Array::of2(&readable, &writable))
    }
}

/// `{slot, direction}`, as the worker reads them.
fn transform_options(slot: u8, direction: Direction) -> Result<Object, JsValue> {
    let options = Object::new();
    Reflect::set(&options, &"slot".into(), &slot.into())?;
    let direction = match direction {
        Direction::Send => "send",
        Direction::Receive => "receive",
    };
    Reflect::set(&options, &"direction".into(), &direction.into())?;
    Ok(options)
}

impl Drop for MediaWorker {
    fn drop(&mut self) {
        // The keys die with the worker.
        self.worker.set_onmessage(None);
        self.worker.terminate();
    }
}
