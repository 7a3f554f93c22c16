//! The media worker, where the keys live: started when the call begins and afresh for each
//! connection (the controller says when), and heard.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use leptos::prelude::*;
use shieldcall_call::controller::Input;
use shieldcall_protocol::{WorkerCommand, WorkerEvent};
use wasm_bindgen_futures::spawn_local;

use super::{Call, with_call};
use crate::browser::timeline;
use crate::browser::worker::{MediaWorker, WORKER_URL};

/// A media worker on its way, for the call about to start.
type EarlyWorker = Shared<LocalBoxFuture<'static, Option<Rc<MediaWorker>>>>;

thread_local! {
    static EARLY_WORKER: RefCell<Option<EarlyWorker>> = const { RefCell::new(None) };
}

/// Start loading the call's first media worker now, while the app's config (which the call
/// waits for) is still on its way: the call takes it when it starts. Keyless until then.
pub fn start_worker_early() {
    timeline::mark("worker asked for");
    let worker = async {
        let worker = MediaWorker::spawn(WORKER_URL).await.ok().map(Rc::new);
        timeline::mark("worker ready");
        worker
    };
    let worker = worker.boxed_local().shared();
    spawn_local(worker.clone().map(drop));
    EARLY_WORKER.with(|early| *early.borrow_mut() = Some(worker));
}

/// Start a media worker for the call (the early one, if there is one), and tell the controller
/// whether it runs.
pub(super) async fn spawn_worker(weak: Weak<RefCell<Call>>) {
    let weak = &weak;
    let worker = match EARLY_WORKER.with(|early| early.borrow_mut().take()) {
        Some(early) => early.await,
        None => MediaWorker::spawn(WORKER_URL).await.ok().map(Rc::new),
    };
    if let Some(worker) = &worker {
        // Fail closed until the controller says otherwise.
        let _ = worker.command(&WorkerCommand::AwaitKeys);
        let events = weak.clone();
        worker.on_event(move |event| {
            with_call(&events, |c| {
                // The counters also feed the health view of the shield's panel.
                if let WorkerEvent::Stats(stats) = &event {
                    c.set.health.try_update(|health| health.observe(stats));
                }
                c.handle(Input::Worker(event))
            })
        });
    }
    with_call(weak, |c| {
        if c.ctl.ended() {
            return;
        }
        let started = worker.is_some();
        c.worker = worker;
        c.handle(if started { Input::WorkerStarted } else { Input::WorkerFailed });
    });
}

impl Call {
    /// Drop the media worker (its transforms belonged to the old connection, its keys go with
    /// it) and start a fresh one.
    pub(super) fn start_worker(&mut self) {
        self.worker = None;
        // Its transforms ran on the old worker.
        self.drop_prepared();
        self.set.health.try_update(|health| health.new_worker());
        let weak = self.me.clone();
        spawn_local(spawn_worker(weak));
    }
}
