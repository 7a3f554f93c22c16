//! Chat messages under E2EE: each is an SFrame of slot 15, sealed and opened here so that the
//! keys never leave the worker. The page carries the frames over the data channel. The payload
//! layout (a sequence number before the text), the length cap and the gap and order checks are
//! the core's, host-tested: [`shieldcall_e2ee::sframe::chat`].

use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::sframe::chat::{ChatContent, ChatError, ChatReceiver, ChatSender};
use shieldcall_e2ee::sframe::{Receiver, Sender};
use shieldcall_protocol::{ChatOrder, WorkerEvent, base64url};

use crate::transform::Mode;

/// The chat's sender and receiver, present only while keys are.
#[derive(Default)]
pub struct ChatCryptor {
    sender: Option<ChatSender>,
    receiver: Option<ChatReceiver>,
}

impl ChatCryptor {
    /// Follow a mode change: new keys make a new sender and receiver (or rekey them, and the
    /// sequence numbers go on).
    pub fn set_mode(&mut self, mode: &Mode) {
        let Mode::Keys(keys) = mode else {
            *self = ChatCryptor::default();
            return;
        };
        let rekeyed = self.sender.as_mut().is_some_and(|s| {
            s.suite() == keys.suite && s.sframe().rekey(keys.send.clone(), keys.epoch).is_ok()
        });
        if !rekeyed {
            self.sender = Sender::new(keys.suite, keys.send.clone(), keys.epoch, Slot::Chat)
                .ok()
                .map(ChatSender::new);
        }
        match &mut self.receiver {
            Some(r) if r.suite() == keys.suite => {
                r.sframe().rekey(keys.receive.clone(), keys.epoch, js_sys::Date::now() as u64);
            }
            _ => {
                let receiver = Receiver::new(keys.suite, keys.receive.clone(), keys.epoch)
                    .only_slot(Slot::Chat);
                self.receiver = Some(ChatReceiver::new(receiver));
            }
        }
    }

    pub fn seal(&mut self, id: u32, text: String) -> WorkerEvent {
        self.seal_with(id, |sender| sender.seal(&text))
    }

    /// A sealed report to the peer that its messages arrived as `order` says.
    pub fn seal_report(&mut self, id: u32, order: ChatOrder) -> WorkerEvent {
        self.seal_with(id, |sender| sender.seal_report(order))
    }

    fn seal_with(
        &mut self,
        id: u32,
        seal: impl FnOnce(&mut ChatSender) -> Result<Vec<u8>, ChatError>,
    ) -> WorkerEvent {
        let Some(sender) = &mut self.sender else {
            return refused(id, "no keys yet");
        };
        match seal(sender) {
            Ok(frame) => WorkerEvent::ChatSealed { id, frame: base64url::encode(&frame) },
            Err(err) => refused(id, &err.to_string()),
        }
    }

    pub fn open(&mut self, id: u32, frame: &str) -> WorkerEvent {
        let Some(receiver) = &mut self.receiver else {
            return refused(id, "no keys yet");
        };
        let Some(frame) = base64url::decode(frame) else {
            return refused(id, "not an encrypted chat message");
        };
        match receiver.open(frame, js_sys::Date::now() as u64) {
            Ok((ChatContent::Text(text), order)) => WorkerEvent::ChatOpened { id, text, order },
            Ok((ChatContent::Report(report), order)) => {
                WorkerEvent::ChatReportOpened { id, report, order }
            }
            Err(err) => refused(id, &err.to_string()),
        }
    }
}

fn refused(id: u32, reason: &str) -> WorkerEvent {
    WorkerEvent::ChatRefused { id, reason: reason.into() }
}
