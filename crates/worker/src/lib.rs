//! Shieldcall's media worker: every encoded audio and video frame of the call passes through
//! here, in a dedicated Worker, by way of `RTCRtpScriptTransform`.
//!
//! The page talks to it with [`WorkerCommand`]s and hears back [`WorkerEvent`]s (one message
//! type each way, shared with the app through `shieldcall-e2ee`). Keys arrive once and live only
//! here.

#![cfg(target_arch = "wasm32")]

mod chat;
pub mod frame;
mod transform;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Reflect;
use shieldcall_e2ee::messages::{Direction, WorkerCommand, WorkerEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    DedicatedWorkerGlobalScope, MessageEvent, ReadableStream, RtcTransformEvent, WritableStream,
};

use crate::chat::ChatCryptor;
use crate::transform::{Mode, Transform};

/// Runs when the worker's wasm has loaded. On a page (the test runner loads this crate there
/// too) it does nothing.
#[wasm_bindgen(start)]
pub fn start() {
    let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else { return };
    console_error_panic_hook::set_once();

    let mode = Rc::new(RefCell::new(Mode::AwaitKeys));
    let chat = Rc::new(RefCell::new(ChatCryptor::default()));
    let transforms: Rc<RefCell<Vec<Rc<Transform>>>> = Rc::default();

    let on_command = {
        let mode = mode.clone();
        let transforms = transforms.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let data = message.data();
            // The fallback for browsers without RTCRtpScriptTransform: the page moves the
            // streams of `createEncodedStreams()` here, with the transform's options.
            if let Some((readable, writable)) = moved_streams(&data) {
                let transform = Transform::from_streams(&data, readable, writable, &mode.borrow());
                transform.report();
                transforms.borrow_mut().push(transform);
                return;
            }
            let Some(text) = data.as_string() else { return };
            let text = zeroize::Zeroizing::new(text);
            let command = serde_json::from_str::<WorkerCommand>(&text)
                .map_err(|_| "the worker got a message it does not understand".to_string());
            let command = match command {
                Ok(WorkerCommand::SealChat { id, text }) => {
                    return post(&chat.borrow_mut().seal(id, text));
                }
                Ok(WorkerCommand::OpenChat { id, frame }) => {
                    return post(&chat.borrow_mut().open(id, &frame));
                }
                other => other,
            };
            let new_mode = command.and_then(Mode::from_command);
            let new_mode = new_mode.unwrap_or_else(|message| {
                // Fail closed: an unusable command leaves no keys and drops every frame.
                post(&WorkerEvent::Error { slot: u8::MAX, direction: Direction::Receive, message });
                Mode::AwaitKeys
            });
            for transform in transforms.borrow().iter() {
                transform.set_mode(&new_mode);
            }
            chat.borrow_mut().set_mode(&new_mode);
            *mode.borrow_mut() = new_mode;
        })
    };
    scope.set_onmessage(Some(on_command.as_ref().unchecked_ref()));
    on_command.forget(); // lives as long as the worker

    let on_transform = {
        let transforms = transforms.clone();
        Closure::<dyn FnMut(RtcTransformEvent)>::new(move |event: RtcTransformEvent| {
            let transform = Transform::from_transformer(event.transformer(), &mode.borrow());
            transform.report();
            transforms.borrow_mut().push(transform);
        })
    };
    scope.set_onrtctransform(Some(on_transform.as_ref().unchecked_ref()));
    on_transform.forget(); // lives as long as the worker

    // Counters go to the page once a second, and only when they changed.
    let on_tick = Closure::<dyn FnMut()>::new(move || {
        for transform in transforms.borrow().iter() {
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

/// Send an event to the page.
pub(crate) fn post(event: &WorkerEvent) {
    if let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() {
        // Posting a string to the page cannot fail while the worker runs.
        let _ = scope.post_message(&JsValue::from_str(&event.to_json()));
    }
}
