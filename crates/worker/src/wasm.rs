//! The worker's browser glue: its message and `rtctransform` handlers, the stats timer, and
//! reading commands out of messages. Decisions are the pure modules' ([`crate::registry`],
//! [`crate::chat`], [`crate::mode`]); this file only feeds them and posts what they return.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use shieldcall_protocol::{
    COMMAND_FIELD, CommandError, Direction, KEYS_FIELD, PayloadTypes, WorkerCommand, WorkerEvent,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    DedicatedWorkerGlobalScope, MessageEvent, ReadableStream, RtcTransformEvent, WritableStream,
};

use crate::chat::ChatCryptor;
use crate::mode::Mode;
use crate::registry::{Attached, Registry};
use crate::transform::Transform;

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
            let data = message.data();
            // The fallback for browsers without RTCRtpScriptTransform: the page moves the
            // streams of `createEncodedStreams()` here, with the transform's options.
            if let Some((readable, writable)) = moved_streams(&data) {
                let transform = Transform::from_streams(
                    &data,
                    readable,
                    writable,
                    &Mode::AwaitKeys,
                    payload_types.clone(),
                );
                attach(&registry, transform);
                return;
            }
            let Some(command) = read_command(&data) else { return };
            let command = command.map_err(|e| e.to_string());
            let command = match command {
                Ok(WorkerCommand::SealChat { id, text }) => {
                    return post(&chat.borrow_mut().seal(id, text));
                }
                Ok(WorkerCommand::SealChatReport { id, order }) => {
                    return post(&chat.borrow_mut().seal_report(id, order));
                }
                Ok(WorkerCommand::OpenChat { id, frame }) => {
                    return post(&chat.borrow_mut().open(id, &frame, now_ms()));
                }
                Ok(WorkerCommand::Codecs { payload_types: table }) => {
                    *payload_types.borrow_mut() = table;
                    return;
                }
                other => other,
            };
            let new_mode = command.and_then(Mode::from_command);
            let new_mode = new_mode.unwrap_or_else(|message| {
                // Fail closed: an unusable command leaves no keys and drops every frame.
                post(&WorkerEvent::Error { slot: u8::MAX, direction: Direction::Receive, message });
                Mode::AwaitKeys
            });
            let (effective, error) = registry.borrow_mut().set_mode(new_mode);
            if let Some(error) = error {
                post(&error);
            }
            chat.borrow_mut().set_mode(&effective, now_ms());
        })
    };
    scope.set_onmessage(Some(on_command.as_ref().unchecked_ref()));
    on_command.forget(); // lives as long as the worker

    let on_transform = {
        let registry = registry.clone();
        Closure::<dyn FnMut(RtcTransformEvent)>::new(move |event: RtcTransformEvent| {
            let transform = Transform::from_transformer(
                event.transformer(),
                &Mode::AwaitKeys,
                payload_types.clone(),
            );
            attach(&registry, transform);
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
    fn slot(&self) -> u8 {
        Transform::slot(self)
    }

    fn direction(&self) -> Direction {
        Transform::direction(self)
    }

    fn set_mode(&self, mode: &Mode) {
        Transform::set_mode(self, mode)
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

/// The `{readable, writable}` of a fallback message, if it is one.
fn moved_streams(data: &JsValue) -> Option<(ReadableStream, WritableStream)> {
    if !data.is_object() {
        return None;
    }
    let readable =
        Reflect::get(data, &"readable".into()).ok()?.dyn_into::<ReadableStream>().ok()?;
    let writable =
        Reflect::get(data, &"writable".into()).ok()?.dyn_into::<WritableStream>().ok()?;
    Some((readable, writable))
}

/// The command in a message from the page: JSON text, or (for keys) the object
/// `{command: <JSON text>, keys: ArrayBuffer}` whose buffer the page transferred here. The
/// buffer belongs to this worker then: it is wiped as soon as the bytes are copied out, so the
/// keys live on only in the zeroizing types that use them. `None`: not a command at all.
pub(crate) fn read_command(data: &JsValue) -> Option<Result<WorkerCommand, CommandError>> {
    if let Some(text) = data.as_string() {
        return Some(WorkerCommand::from_parts(&text, None));
    }
    if !data.is_object() {
        return None;
    }
    let text = Reflect::get(data, &COMMAND_FIELD.into()).ok()?.as_string()?;
    let keys = Reflect::get(data, &KEYS_FIELD.into()).ok()?;
    let Ok(buffer) = keys.dyn_into::<ArrayBuffer>() else {
        return Some(Err(CommandError::MissingKeys));
    };
    let view = Uint8Array::new(&buffer);
    let mut keys = zeroize::Zeroizing::new(vec![0u8; view.length() as usize]);
    view.copy_to(&mut keys);
    view.fill(0, 0, view.length());
    Some(WorkerCommand::from_parts(&text, Some(&keys)))
}

/// Send an event to the page.
pub(crate) fn post(event: &WorkerEvent) {
    if let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() {
        // Posting a string to the page cannot fail while the worker runs.
        let _ = scope.post_message(&JsValue::from_str(&event.to_json()));
    }
}
