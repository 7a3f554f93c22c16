//! Chat over the connection's data channel: sealed and opened in the worker under E2EE, sent
//! as it is once a call is confirmed as transport-only, held back otherwise; a gap or a late
//! message is said on both sides.

use leptos::prelude::*;
use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::{ChatOrder, WorkerCommand};

use super::{Call, notice};
use crate::components::ChatMessage;

/// The id of the next chat command to the worker (seal, report or open), which its answer
/// carries back. (A field, not a method: callers hold the worker borrowed meanwhile.)
fn next_chat_id(chat_seq: &mut u32) -> u32 {
    *chat_seq += 1;
    *chat_seq
}

impl Call {
    /// A chat message of the other person's arrived after a gap, or late: say so here, and
    /// tell them (sealed like any message), so that both people know.
    pub(super) fn chat_order_seen(&mut self, order: ChatOrder) {
        let Some(warning) = order.notice() else { return };
        notice(self.set, warning);
        if let Some(worker) = &self.worker {
            let id = next_chat_id(&mut self.chat_seq);
            self.chat_pending.insert(id, None);
            let _ = worker.command(&WorkerCommand::SealChatReport { id, order });
        }
    }

    pub(super) fn send_chat(&mut self, text: String) {
        let text = text.trim().to_string();
        if text.is_empty() {
            return;
        }
        // The same cap with E2EE on or off; the worker checks it again before sealing.
        if let Err(too_long) = shieldcall_e2ee::sframe::chat::check_chat_text(&text) {
            return notice(self.set, too_long.to_string());
        }
        let open = self
            .link
            .as_ref()
            .is_some_and(|l| l.chat.ready_state() == web_sys::RtcDataChannelState::Open);
        if !open {
            return notice(self.set, "Chat works once the other person is connected.".into());
        }
        match self.session.state() {
            ShieldState::Locked { .. } => {
                let id = next_chat_id(&mut self.chat_seq);
                self.chat_pending.insert(id, Some(text.clone()));
                if let Some(worker) = &self.worker {
                    let _ = worker.command(&WorkerCommand::SealChat { id, text });
                }
            }
            ShieldState::Unlocked { .. } if self.session.confirmed() => {
                let sent = self.link.as_ref().is_some_and(|l| l.chat.send_with_str(&text).is_ok());
                self.chat_sent(text, sent);
            }
            _ => notice(self.set, "Chat is held back until the call is secure.".into()),
        }
    }

    pub(super) fn chat_sent(&mut self, text: String, sent: bool) {
        if sent {
            self.chat_shown(true, text);
        } else {
            notice(self.set, "Your message could not be sent.".into());
        }
    }

    pub(super) fn chat_received(&mut self, text: String) {
        match self.session.state() {
            ShieldState::Locked { .. } => {
                let id = next_chat_id(&mut self.chat_seq);
                if let Some(worker) = &self.worker {
                    let _ = worker.command(&WorkerCommand::OpenChat { id, frame: text });
                }
            }
            ShieldState::Unlocked { .. } if self.session.confirmed() => {
                // The same cap as for sealed chat: a flood of text is not shown.
                if shieldcall_e2ee::sframe::chat::check_chat_text(&text).is_err() {
                    return notice(self.set, "A chat message over 4,096 bytes was dropped.".into());
                }
                self.chat_shown(false, text)
            }
            // Never show what could not be checked.
            _ => {}
        }
    }

    pub(super) fn chat_shown(&mut self, from_me: bool, text: String) {
        let at = js_sys::Date::new_0();
        let at = format!("{:02}:{:02}", at.get_hours(), at.get_minutes());
        self.set.chat.update(|m| m.push(ChatMessage { from_me, text, at: Some(at) }));
    }
}
