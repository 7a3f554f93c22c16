//! The worker's browser glue: its message and `rtctransform` handlers, the stats timer, and
//! reading commands out of messages. Decisions are the pure modules' ([`crate::message`],
//! [`crate::registry`], [`crate::chat`], [`crate::mode`]); this file only feeds them and posts
//! what they return.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use shieldcall_protocol::{
    COMMAND_FIELD, CommandError, KEYS_FIELD, PayloadTypes, READABLE_FIELD, Transferred,
    TransformOptions, WRITABLE_FIELD, WorkerCommand, WorkerEvent,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    DedicatedWorkerGlobalScope, MessageEvent, ReadableStream, RtcTransformEvent, WritableStream,
};

use crate::chat::ChatCryptor;
use crate::message::Step;
use crate::mode::Mode;
use crate::registry::{Attached, Registry};
use crate::transform::{Ends, Transform};

/// Runs when the worker's wasm has loaded. On a page (the test runner loads this crate there
/// too) it does nothing.
#[wasm_bindgen(start)]
pub fn start() {
    let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else { return };
    console_error_panic_hook::set_once();

    let registry = Rc::new(RefCell::new(Registry::<Rc<Transform>>::default()));
    let chat = Rc::new(RefCell::new(ChatCryptor::default()));
    let payload_types = Rc::new(RefCell::new(PayloadTypes::default()));

    let on_command = {
        let registry = registry.clone();
        let payload_types = payload_types.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let (command, streams) = read_command(&message.data());
            match Step::of(command, streams.is_some()) {
                Step::AttachStreams(options) => {
                    // `Step::of` attaches only when streams came.
                    let Some(ends) = streams else { return };
                    let transform =
                        Transform::start(options, ends, &Mode::AwaitKeys, payload_types.clone());
                    attach(&registry, transform);
                }
                Step::RefuseStreams(error) => {
                    if let Some(ends) = streams {
                        ends.drain();
                    }
                    post(&error);
                }
                Step::SealChat { id, text } => post(&chat.borrow_mut().seal(id, text)),
                Step::SealChatReport { id, order } => {
                    post(&chat.borrow_mut().seal_report(id, order))
                }
                Step::OpenChat { id, frame } => post(&chat.borrow_mut().open(id, frame, now_ms())),
                Step::SealMediaState { id, state } => {
                    post(&chat.borrow_mut().seal_media_state(id, state))
                }
                Step::Codecs(table) => *payload_types.borrow_mut() = table,
                Step::SetMode(mode, error) => {
                    // Fail closed: an unusable command came as `AwaitKeys` with its error.
                    if let Some(error) = error {
                        post(&error);
                    }
                    let (effective, error) = registry.borrow_mut().set_mode(mode);
                    if let Some(error) = error {
                        post(&error);
                    }
                    chat.borrow_mut().set_mode(&effective, now_ms());
                }
            }
        })
    };
    scope.set_onmessage(Some(on_command.as_ref().unchecked_ref()));
    on_command.forget(); // lives as long as the worker

    let on_transform = {
        let registry = registry.clone();
        Closure::<dyn FnMut(RtcTransformEvent)>::new(move |event: RtcTransformEvent| {
            let transformer = event.transformer();
            let options = TransformOptions::read(bytes_of(&transformer.options()).as_deref());
            let ends = Ends::of_transformer(transformer);
            match options {
                Ok(options) => {
                    let transform =
                        Transform::start(options, ends, &Mode::AwaitKeys, payload_types.clone());
                    attach(&registry, transform);
                }
                Err(error) => {
                    // No slot or direction to run it as: it drops every frame.
                    ends.drain();
                    post(&WorkerEvent::Error { transform: None, message: error.to_string() });
                }
            }
        })
    };
    scope.set_onrtctransform(Some(on_transform.as_ref().unchecked_ref()));
    on_transform.forget(); // lives as long as the worker

    // Counters go to the page once a second, and only when they changed.
    let on_tick = Closure::<dyn FnMut()>::new(move || {
        for transform in registry.borrow().transforms() {
            transform.report();
        }
    });
    // Setting an interval on a live worker scope cannot fail.
    let _ = scope.set_interval_with_callback_and_timeout_and_arguments_0(
        on_tick.as_ref().unchecked_ref(),
        STATS_INTERVAL_MS,
    );
    on_tick.forget(); // lives as long as the worker

    post(&WorkerEvent::Ready);
}

/// How often counters are reported.
const STATS_INTERVAL_MS: i32 = 1000;

impl Attached for Rc<Transform> {
    fn options(&self) -> TransformOptions {
        Transform::options(self)
    }

    fn set_mode(&self, mode: &Mode) {
        Transform::set_mode(self, mode)
    }

    fn retire(&self) {
        Transform::retire(self)
    }
}

/// Hand a new transform to the registry, post what it says, and the transform's first counters.
fn attach(registry: &RefCell<Registry<Rc<Transform>>>, transform: Rc<Transform>) {
    if let Some(error) = registry.borrow_mut().add(transform.clone()) {
        post(&error);
    }
    transform.report();
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The bytes of a `Uint8Array`; `None` for anything else.
fn bytes_of(value: &JsValue) -> Option<Vec<u8>> {
    value.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

/// The command in a message from the page, and the streams that came with it. Every message is
/// read this one way: the command's bytes (a `Uint8Array`), or the object `{command: <its
/// bytes>, ...}` with what was transferred beside it, checked by [`WorkerCommand::from_parts`]:
/// - `keys`: an `ArrayBuffer` of key bytes (for `UseKeys`). The buffer belongs to this worker
///   then: it is wiped as soon as the bytes are copied out, so the keys live on only in the
///   zeroizing types that use them.
/// - `readable` and `writable`: the encoded streams of `createEncodedStreams()` (for
///   `AttachStreams`). They are returned whatever the command, so that streams that came with
///   an unusable one can be drained rather than left full.
pub(crate) fn read_command(data: &JsValue) -> (Result<WorkerCommand, CommandError>, Option<Ends>) {
    if let Some(bytes) = bytes_of(data) {
        return (WorkerCommand::from_parts(&bytes, Transferred::Nothing), None);
    }
    if !data.is_object() {
        let error = CommandError::Malformed("neither a command's bytes nor an object".into());
        return (Err(error), None);
    }
    let field = |name: &str| Reflect::get(data, &name.into()).ok().filter(|v| !v.is_undefined());
    let readable = field(READABLE_FIELD).and_then(|r| r.dyn_into::<ReadableStream>().ok());
    let writable = field(WRITABLE_FIELD).and_then(|w| w.dyn_into::<WritableStream>().ok());
    let streams = match (readable, writable) {
        (Some(readable), Some(writable)) => Some(Ends { readable, writable, transformer: None }),
        _ => None,
    };
    let Some(bytes) = field(COMMAND_FIELD).as_ref().and_then(bytes_of) else {
        let error = CommandError::Malformed(format!("an object without `{COMMAND_FIELD}` bytes"));
        return (Err(error), streams);
    };
    let command = match field(KEYS_FIELD) {
        Some(keys) => {
            let Ok(buffer) = keys.dyn_into::<ArrayBuffer>() else {
                return (Err(CommandError::MissingKeys), streams);
            };
            let view = Uint8Array::new(&buffer);
            let mut keys = zeroize::Zeroizing::new(vec![0u8; view.length() as usize]);
            view.copy_to(&mut keys);
            view.fill(0, 0, view.length());
            WorkerCommand::from_parts(&bytes, Transferred::Keys(&keys))
        }
        None if streams.is_some() => WorkerCommand::from_parts(&bytes, Transferred::Streams),
        None => WorkerCommand::from_parts(&bytes, Transferred::Nothing),
    };
    (command, streams)
}

/// Send an event to the page.
pub(crate) fn post(event: &WorkerEvent) {
    if let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() {
        // Posting bytes to the page cannot fail while the worker runs.
        let _ = scope.post_message(&Uint8Array::from(&event.encode()[..]));
    }
}
