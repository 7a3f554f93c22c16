//! The media worker, where the keys live: told what the session allows frames to do, started
//! afresh for each connection, and heard (counters, errors). The shield and the security code
//! follow the session here too, and the other person's screen share is shown while its frames
//! arrive.

use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::session::{SessionEvent, ShieldState};
use shieldcall_protocol::{Direction, SecretBytes, WorkerCommand, WorkerEvent};

use super::moving::MOVED_HERE_NEW_CODE;
use super::{Controller, Effect, ShieldView};

/// A remote screen share with no new frame for this long is taken off the stage.
pub const SCREEN_SHARE_IDLE_MS: u64 = 2500;

/// What the media worker was last told to do with frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WorkerMode {
    Keys,
    TransportOnly,
    AwaitKeys,
}

/// The other person's screen share: frames received so far, when the count last grew, and
/// whether it is on the stage.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RemoteScreen {
    frames: u64,
    grew_at: Option<u64>,
    shown: bool,
}

impl Controller {
    /// Show the session's state, send the confirmation once there is one, and give the worker
    /// the matching command.
    pub(super) fn follow_session(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                SessionEvent::ShieldChanged(ShieldState::Locked { code }) => {
                    if std::mem::take(&mut self.announce_new_code) {
                        self.notice(MOVED_HERE_NEW_CODE);
                    } else if self.last_code.is_some_and(|last| last != code) {
                        self.notice(
                            "The security code changed: compare it again with the other person.",
                        );
                    }
                    self.last_code = Some(code);
                }
                SessionEvent::ShieldChanged(_) => {}
                // Half-way through the wait for the peer's confirmation.
                SessionEvent::AskAgain => {
                    self.say_hello();
                    self.session.repeat_confirmation();
                }
            }
        }
        self.send_confirmation();
        self.keep_link();
        self.show_shield();
        let state = self.session.state();
        if !self.worker_ready {
            return;
        }
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
        self.emit(Effect::Worker(command));
    }

    /// The shield, the code and the first warning of the call, when any of them changed.
    pub(super) fn show_shield(&mut self) {
        let view = ShieldView {
            state: self.session.state(),
            code: self.session.security_code(),
            warned_in_call: self.session.warned_in_call(),
        };
        if self.shield != Some(view) {
            self.shield = Some(view);
            self.emit(Effect::Shield(view));
        }
    }

    pub(super) fn worker_event(&mut self, event: WorkerEvent) {
        match event {
            WorkerEvent::Stats(stats) => {
                if stats.slot == Slot::ScreenVideo && stats.direction == Direction::Receive {
                    self.screen_frames_seen(stats.processed + stats.passed);
                }
                if self.media_health.observe(&stats, self.now) {
                    self.show_media_problems();
                }
                // Media under keys other than the agreed ones: someone is in between, or
                // something is broken. The shield turns red (once locked).
                if self.media_health.decrypt_failing() {
                    self.session.report_decrypt_failures();
                    self.follow_session();
                }
            }
            WorkerEvent::Error { message, .. } => self.log(format!("media worker: {message}")),
            WorkerEvent::StreamStopped { transform, message } => {
                self.log(format!("media worker: {message}"));
                if self.media_health.stream_stopped(transform.slot, transform.direction) {
                    self.show_media_problems();
                }
            }
            WorkerEvent::Ready => {}
            chat => self.chat_event(chat),
        }
    }

    pub(super) fn show_media_problems(&mut self) {
        let problems: Vec<String> =
            self.media_health.problems().iter().map(|p| p.sentence()).collect();
        if self.problems != problems {
            self.problems = problems.clone();
            self.emit(Effect::MediaProblems(problems));
        }
    }

    /// Drop the connection and its media worker, and start a fresh worker; inbound messages
    /// wait in the backlog until it runs. The worker's transforms belonged to the old
    /// connection: a fresh worker (and fresh counters under the next keys) serves the next.
    pub(super) fn reset_media(&mut self) {
        self.drop_link();
        self.worker_ready = false;
        self.connection_prepared_with = None;
        self.worker_mode = None;
        self.follow_session();
        self.remote_screen = RemoteScreen::default();
        self.media_health.reset();
        self.show_media_problems();
        self.emit(Effect::StartWorker);
    }

    /// A new connection's remote media: its screen share is off the stage until frames come.
    pub(super) fn new_remote_media(&mut self) {
        self.remote_screen = RemoteScreen::default();
        self.emit(Effect::RemoteScreen(false));
    }

    /// The other person shares their screen while its frames arrive: shown on the first new
    /// frames, hidden when none came for a while. (Mute events of the receiving track are not
    /// a reliable sign of this.)
    fn screen_frames_seen(&mut self, total: u64) {
        if total > self.remote_screen.frames {
            self.remote_screen.frames = total;
            self.remote_screen.grew_at = Some(self.now);
            if !self.remote_screen.shown {
                self.remote_screen.shown = true;
                self.emit(Effect::RemoteScreen(true));
            }
        }
    }

    pub(super) fn screen_idle_check(&mut self) {
        let screen = self.remote_screen;
        let idle =
            screen.grew_at.is_none_or(|at| self.now.saturating_sub(at) > SCREEN_SHARE_IDLE_MS);
        if screen.shown && idle {
            self.remote_screen.shown = false;
            self.emit(Effect::RemoteScreen(false));
        }
    }
}
