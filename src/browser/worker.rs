//! The media worker, seen from the page: spawn it, wait until its wasm runs, give it keys, and
//! make `RTCRtpScriptTransform`s that run on it.
//!
//! Keys are posted once and then live only in the worker.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use shieldcall_e2ee::messages::{Direction, WorkerCommand, WorkerEvent};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, RtcRtpScriptTransform, Worker};

/// Where Trunk puts the worker's loader (`data-loader-shim` in index.html).
pub const WORKER_URL: &str = "/shieldcall-worker_loader.js";

type Listener = Box<dyn FnMut(WorkerEvent)>;

/// A running media worker.
pub struct MediaWorker {
    worker: Worker,
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
        JsFuture::from(started).await.map_err(|err| {
            worker.terminate();
            err
        })?;
        worker.set_onerror(None);
        Ok(Self { worker, listener, _on_message: on_message })
    }

    /// Tell the worker what to do with frames.
    pub fn command(&self, command: &WorkerCommand) -> Result<(), JsValue> {
        self.worker.post_message(&JsValue::from_str(&command.to_json()))
    }

    /// Receive the worker's counters and errors.
    pub fn on_event(&self, listener: impl FnMut(WorkerEvent) + 'static) {
        *self.listener.borrow_mut() = Some(Box::new(listener));
    }

    /// A transform for one media slot and direction, running on this worker.
    pub fn transform(
        &self,
        slot: u8,
        direction: Direction,
    ) -> Result<RtcRtpScriptTransform, JsValue> {
        let options = Object::new();
        Reflect::set(&options, &"slot".into(), &slot.into())?;
        let direction = serde_json::to_value(direction)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            // `Direction` serialises to a plain string.
            .expect("Direction is a string");
        Reflect::set(&options, &"direction".into(), &direction.into())?;
        RtcRtpScriptTransform::new_with_options(&self.worker, &options)
    }
}

impl Drop for MediaWorker {
    fn drop(&mut self) {
        // The keys die with the worker.
        self.worker.set_onmessage(None);
        self.worker.terminate();
    }
}
