//! The media worker, where the keys live: started (and started afresh for each connection),
//! told what the session allows frames to do, and heard (counters, chat, errors). The shield
//! and the security code follow the session here too.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::{Direction, SecretBytes, WorkerCommand, WorkerEvent};
use wasm_bindgen_futures::spawn_local;

use super::{Call, notice, now_ms, with_call};
use crate::browser::worker::{MediaWorker, WORKER_URL};

pub(super) async fn spawn_worker(weak: &Weak<RefCell<Call>>) -> Option<Rc<MediaWorker>> {
    let worker = match MediaWorker::spawn(WORKER_URL).await {
        Ok(worker) => Rc::new(worker),
        Err(_) => {
            with_call(weak, |c| {
                c.end(Some("The media worker could not start, so the call cannot be protected. Reload the page.".into()))
            });
            return None;
        }
    };
    // Fail closed until the session says otherwise.
    let _ = worker.command(&WorkerCommand::AwaitKeys);
    let events = weak.clone();
    worker.on_event(move |event| with_call(&events, |c| c.worker_event(event)));
    Some(worker)
}

/// What the media worker was last told to do with frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WorkerMode {
    Keys,
    TransportOnly,
    AwaitKeys,
}

impl Call {
    /// Show the session's state and give the worker the matching command.
    pub(super) fn follow_session(&mut self) {
        self.send_confirmation();
        let state = self.session.state();
        self.set.shield.set(state);
        self.set.code.set(self.session.security_code());
        let warned = self.session.warned_in_call();
        self.set.warned_in_call.maybe_update(|shown| std::mem::replace(shown, warned) != warned);
        if let ShieldState::Locked { code } = state {
            if self.last_code.is_some_and(|last| last != code) {
                notice(
                    self.set,
                    "The security code changed: compare it again with the other person.".into(),
                );
            }
            self.last_code = Some(code);
        }
        let Some(worker) = &self.worker else { return };
        let mode = match state {
            ShieldState::Locked { .. } => WorkerMode::Keys,
            // Even unencrypted media waits for the peer's confirmation (fail closed).
            ShieldState::Unlocked { .. } if self.session.confirmed() => WorkerMode::TransportOnly,
            _ => WorkerMode::AwaitKeys,
        };
        if self.worker_mode == Some(mode) {
            return;
        }
        let command = match mode {
            // The keys go to the worker once; the session keeps no copy.
            WorkerMode::Keys => match self.session.take_keys() {
                Some(keys) => WorkerCommand::UseKeys {
                    suite: keys.suite.id(),
                    epoch: 0,
                    send: SecretBytes::new(keys.send.expose().to_vec()),
                    receive: SecretBytes::new(keys.receive.expose().to_vec()),
                },
                None => WorkerCommand::AwaitKeys,
            },
            WorkerMode::TransportOnly => WorkerCommand::TransportOnly,
            WorkerMode::AwaitKeys => WorkerCommand::AwaitKeys,
        };
        self.worker_mode = Some(mode);
        let _ = worker.command(&command);
    }

    fn worker_event(&mut self, event: WorkerEvent) {
        match event {
            WorkerEvent::Stats(stats) => {
                if stats.slot == Slot::ScreenVideo && stats.direction == Direction::Receive {
                    self.screen_frames_seen(stats.processed + stats.passed);
                }
                if self.media_health.observe(&stats, now_ms()) {
                    self.show_media_problems();
                }
                // Media under keys other than the agreed ones: someone is in between, or
                // something is broken. The shield turns red (once locked).
                if self.media_health.decrypt_failing() {
                    self.session.report_decrypt_failures();
                    self.follow_session();
                }
            }
            WorkerEvent::ChatSealed { id, frame } => {
                let Some(pending) = self.chat_pending.remove(&id) else { return };
                let sent = self.link.as_ref().is_some_and(|l| l.chat.send_with_str(&frame).is_ok());
                if let Some(text) = pending {
                    self.chat_sent(text, sent);
                }
            }
            WorkerEvent::ChatOpened { text, order, .. } => {
                // A gap or a late message is said before the message itself is shown.
                self.chat_order_seen(order);
                self.chat_shown(false, text)
            }
            WorkerEvent::ChatReportOpened { report, order, .. } => {
                self.chat_order_seen(order);
                if let Some(warning) = report.notice_to_sender() {
                    notice(self.set, warning);
                }
            }
            WorkerEvent::ChatRefused { id, reason } => {
                match self.chat_pending.remove(&id) {
                    Some(Some(_)) => {
                        notice(self.set, format!("Your message was not sent: {reason}."))
                    }
                    // A report that could not be sealed: the person was told here already.
                    Some(None) => web_sys::console::warn_1(
                        &format!("a chat report was not sent: {reason}").into(),
                    ),
                    None => notice(self.set, format!("A chat message was dropped: {reason}.")),
                }
            }
            WorkerEvent::Error { message, .. } => {
                web_sys::console::warn_1(&format!("media worker: {message}").into())
            }
            WorkerEvent::Ready => {}
        }
    }

    pub(super) fn show_media_problems(&self) {
        let problems = self.media_health.problems().iter().map(|p| p.sentence()).collect();
        self.set.media_problems.set(problems);
    }

    /// Drop the connection and its media worker, and start a fresh worker; inbound messages
    /// wait in the backlog until it runs. The worker's transforms belonged to the old
    /// connection: a fresh worker (and fresh counters under the next keys) serves the next.
    pub(super) fn reset_media(&mut self) {
        self.drop_link();
        self.worker_mode = None;
        self.follow_session();
        self.set.remote_video.set(None);
        self.set.remote_screen.set(None);
        self.screen_shown = false;
        self.media_health.reset();
        self.set.media_problems.set(Vec::new());
        self.worker = None;
        let weak = self.me.clone();
        spawn_local(async move {
            let worker = spawn_worker(&weak).await;
            with_call(&weak, |c| {
                if c.ended {
                    return;
                }
                c.worker = worker;
                c.worker_mode = None;
                c.follow_session();
                for inbound in std::mem::take(&mut c.backlog) {
                    c.inbound(inbound);
                }
            });
        });
    }
}
