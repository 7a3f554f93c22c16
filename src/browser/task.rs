//! Run something in a task of its own, soon: after what the event loop already holds (a
//! relay message that came meanwhile goes first), unlike a microtask, and never held back like
//! a timer, which Chromium runs only once a second in a hidden tab.

use std::cell::RefCell;
use std::collections::VecDeque;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageChannel, MessageEvent, MessagePort};

/// One channel for the page: each message posted to itself runs the next job.
struct Tasks {
    port: MessagePort,
    jobs: RefCell<VecDeque<Box<dyn FnOnce()>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

thread_local! {
    static TASKS: Option<Tasks> = {
        let channel = MessageChannel::new().ok()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|_: MessageEvent| {
            let job = TASKS.with(|t| t.as_ref().and_then(|t| t.jobs.borrow_mut().pop_front()));
            if let Some(job) = job {
                job();
            }
        });
        channel.port1().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(Tasks { port: channel.port2(), jobs: RefCell::default(), _on_message: on_message })
    };
}

/// Run `job` in a task of its own; without a `MessageChannel` (no browser the app supports),
/// at once.
pub fn in_a_task(job: impl FnOnce() + 'static) {
    let mut job: Option<Box<dyn FnOnce()>> = Some(Box::new(job));
    TASKS.with(|tasks| {
        if let Some(tasks) = tasks
            && tasks.port.post_message(&wasm_bindgen::JsValue::NULL).is_ok()
        {
            tasks.jobs.borrow_mut().extend(job.take());
        }
    });
    if let Some(job) = job {
        job();
    }
}
