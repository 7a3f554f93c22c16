//! Chat over the connection's data channel: sealed and opened in the worker under E2EE (the
//! channel carries the SFrame as base64url text), sent as it is once a call is confirmed as
//! transport-only, held back otherwise; a gap or a late message is said on both sides.

use shieldcall_e2ee::session::ShieldState;
use shieldcall_e2ee::sframe::chat::check_chat_text;
use shieldcall_protocol::{ChatOrder, WorkerCommand, WorkerEvent, base64url};

use super::{Controller, Effect};

/// A message that came on the data channel before this side could check it.
pub(super) enum Early {
    Text(String),
    Binary(Vec<u8>),
}

/// How many early messages are kept; more are dropped.
const MAX_EARLY: usize = 32;

/// What a chat command to the worker was for, until its answer comes.
pub(super) enum Pending {
    /// A message of this person's, shown once sealed and sent.
    Message(String),
    /// A report to the other side that its messages arrived out of order.
    Report,
    /// This side's media state.
    MediaState,
}

impl Controller {
    /// The id of the next chat command to the worker (seal, report or open), which its answer
    /// carries back.
    pub(super) fn next_chat_id(&mut self) -> u32 {
        self.chat_seq += 1;
        self.chat_seq
    }

    /// Why `text` cannot be sent now, if it cannot: what the person is told. The page keeps
    /// the text typed when it is refused, to send once it can.
    pub fn chat_refusal(&self, text: &str, channel_open: bool) -> Option<String> {
        // The same cap with E2EE on or off; the worker checks it again before sealing.
        if let Err(too_long) = check_chat_text(text.trim()) {
            return Some(too_long.to_string());
        }
        if !channel_open || !self.link_made() {
            return Some("Chat works once the other person is connected.".into());
        }
        match self.session.state() {
            ShieldState::Locked { .. } if self.worker_ready => None,
            ShieldState::Unlocked { .. } if self.session.confirmed() => None,
            _ => Some("Chat is held back until the call is secure.".into()),
        }
    }

    pub(super) fn send_chat(&mut self, text: String, channel_open: bool) {
        let text = text.trim().to_string();
        if text.is_empty() {
            return;
        }
        if let Some(why) = self.chat_refusal(&text, channel_open) {
            return self.notice(why);
        }
        if matches!(self.session.state(), ShieldState::Locked { .. }) {
            let id = self.next_chat_id();
            self.chat_pending.push((id, Pending::Message(text.clone())));
            self.emit(Effect::Worker(WorkerCommand::SealChat { id, text }));
        } else {
            self.emit(Effect::SendChat { frame: text.clone(), shown: Some(text) })
        }
    }

    pub(super) fn chat_received(&mut self, frame: String) {
        match self.session.state() {
            ShieldState::Locked { .. } if self.worker_ready => {
                let Some(frame) = base64url::decode(&frame) else {
                    return self
                        .notice("A chat message was dropped: not an encrypted chat message.");
                };
                let id = self.next_chat_id();
                self.emit(Effect::Worker(WorkerCommand::OpenChat { id, frame }));
            }
            ShieldState::Unlocked { .. } if self.session.confirmed() => {
                // The same cap as for sealed chat: a flood of text is not shown.
                if check_chat_text(&frame).is_err() {
                    return self.notice("A chat message over 4,096 bytes was dropped.");
                }
                self.emit(Effect::ChatShown { from_me: false, text: frame })
            }
            // Never shown before it can be checked; kept until then (see `hold_early`).
            _ => self.hold_early(Early::Text(frame)),
        }
    }

    pub(super) fn chat_event(&mut self, event: WorkerEvent) {
        match event {
            WorkerEvent::ChatSealed { id, frame } => {
                let Some(pending) = self.take_pending(id) else { return };
                let shown = match pending {
                    Pending::Message(text) => Some(text),
                    Pending::Report | Pending::MediaState => None,
                };
                self.emit(Effect::SendChat { frame: base64url::encode(&frame), shown });
            }
            WorkerEvent::ChatOpened { text, order, .. } => {
                // A gap or a late message is said before the message itself is shown.
                self.chat_order_seen(order);
                self.emit(Effect::ChatShown { from_me: false, text });
            }
            WorkerEvent::ChatReportOpened { report, order, .. } => {
                self.chat_order_seen(order);
                if let Some(warning) = report.notice_to_sender() {
                    self.notice(warning);
                }
            }
            WorkerEvent::MediaStateOpened { state, order, .. } => {
                self.chat_order_seen(order);
                self.remote_media_state(state, order);
            }
            WorkerEvent::ChatRefused { id, reason } => match self.take_pending(id) {
                Some(Pending::Message(_)) => {
                    self.notice(format!("Your message was not sent: {reason}."))
                }
                // A report that could not be sealed: the person was told here already.
                Some(Pending::Report) => self.log(format!("a chat report was not sent: {reason}")),
                Some(Pending::MediaState) => self.media_state_not_sent(&reason),
                // Whatever it held (text, a report, a media state), nothing of it is shown.
                None => self.notice(format!("A chat message was dropped: {reason}.")),
            },
            WorkerEvent::Ready
            | WorkerEvent::Stats(_)
            | WorkerEvent::Error { .. }
            | WorkerEvent::StreamStopped { .. } => {}
        }
    }

    /// A message that arrived before this side could check it: the channel opens as soon as
    /// DTLS is up, and the other side (locked a moment earlier) may send its media state before
    /// the confirmation that locks this side has come through the relay. Kept, unread, until
    /// the call is locked or confirmed as transport-only; dropped under a warning or with the
    /// connection (kept under a confirmation timeout, which a confirmation lifts). Never shown
    /// before it is checked, as before.
    pub(super) fn hold_early(&mut self, message: Early) {
        // Under a confirmation timeout they are kept: a confirmation may still come (change 56).
        if self.warned_for_good() {
            return;
        }
        if self.early_chat.len() < MAX_EARLY {
            self.early_chat.push(message);
        } else {
            self.log("a message that came before the call was secure was dropped (too many)");
        }
    }

    /// The early messages, once they can be checked (or dropped, under a warning).
    pub(super) fn release_early(&mut self) {
        if self.early_chat.is_empty() {
            return;
        }
        let ready = match self.session.state() {
            ShieldState::Locked { .. } => self.worker_ready,
            ShieldState::Unlocked { .. } => self.session.confirmed(),
            ShieldState::Warning { .. } if self.warned_for_good() => {
                self.early_chat.clear();
                return;
            }
            ShieldState::Warning { .. } => false,
            ShieldState::Connecting => false,
        };
        if ready {
            for message in std::mem::take(&mut self.early_chat) {
                match message {
                    Early::Text(frame) => self.chat_received(frame),
                    Early::Binary(bytes) => self.binary_received(&bytes),
                }
            }
        }
    }

    /// The chat sealing under `id`, taken out of the pending list.
    fn take_pending(&mut self, id: u32) -> Option<Pending> {
        let at = self.chat_pending.iter().position(|(pending, _)| *pending == id)?;
        Some(self.chat_pending.swap_remove(at).1)
    }

    /// A chat message of the other person's arrived after a gap, or late: say so here, and
    /// tell them (sealed like any message), so that both people know.
    fn chat_order_seen(&mut self, order: ChatOrder) {
        let Some(warning) = order.notice() else { return };
        self.notice(warning);
        if self.worker_ready {
            let id = self.next_chat_id();
            self.chat_pending.push((id, Pending::Report));
            self.emit(Effect::Worker(WorkerCommand::SealChatReport { id, order }));
        }
    }
}
