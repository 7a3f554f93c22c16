//! Chat messages under E2EE: each is an SFrame of slot 15, sealed and opened here so that the
//! keys never leave the worker. The page carries the frames over the data channel.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::messages::WorkerEvent;
use shieldcall_e2ee::sframe::{DropReason, Receiver, Sender};

use crate::transform::Mode;

/// The chat's sender and receiver, present only while keys are.
#[derive(Default)]
pub struct ChatCryptor {
    sender: Option<Sender>,
    receiver: Option<Receiver>,
}

impl ChatCryptor {
    /// Follow a mode change: new keys make a new sender and receiver (or rekey them).
    pub fn set_mode(&mut self, mode: &Mode) {
        let Mode::Keys(keys) = mode else {
            *self = ChatCryptor::default();
            return;
        };
        let rekeyed = self.sender.as_mut().is_some_and(|s| {
            s.suite() == keys.suite && s.rekey(keys.send.clone(), keys.epoch).is_ok()
        });
        if !rekeyed {
            self.sender = Sender::new(keys.suite, keys.send.clone(), keys.epoch, Slot::Chat).ok();
        }
        match &mut self.receiver {
            Some(r) if r.suite() == keys.suite => {
                r.rekey(keys.receive.clone(), keys.epoch, js_sys::Date::now() as u64);
            }
            _ => {
                self.receiver = Some(
                    Receiver::new(keys.suite, keys.receive.clone(), keys.epoch)
                        .only_slot(Slot::Chat),
                )
            }
        }
    }

    pub fn seal(&mut self, id: u32, text: String) -> WorkerEvent {
        let Some(sender) = &mut self.sender else {
            return refused(id, "no keys yet");
        };
        let mut buf = text.into_bytes();
        match sender.encrypt_in_place(&mut buf, 0) {
            Ok(_) => WorkerEvent::ChatSealed { id, frame: URL_SAFE_NO_PAD.encode(&buf) },
            Err(err) => refused(id, &err.to_string()),
        }
    }

    pub fn open(&mut self, id: u32, frame: &str) -> WorkerEvent {
        let Some(receiver) = &mut self.receiver else {
            return refused(id, "no keys yet");
        };
        let Ok(mut buf) = URL_SAFE_NO_PAD.decode(frame) else {
            return refused(id, "not an encrypted chat message");
        };
        match receiver.decrypt_in_place(&mut buf, 0, js_sys::Date::now() as u64) {
            Ok(_) => match String::from_utf8(buf) {
                Ok(text) => WorkerEvent::ChatOpened { id, text },
                Err(_) => refused(id, "the message is not text"),
            },
            Err(DropReason::AuthFailed) => refused(id, "the message failed to decrypt"),
            Err(DropReason::Replay | DropReason::TooOld) => refused(id, "a replayed message"),
            Err(DropReason::UnknownKid | DropReason::Malformed) => {
                refused(id, "not an encrypted chat message")
            }
        }
    }
}

fn refused(id: u32, reason: &str) -> WorkerEvent {
    WorkerEvent::ChatRefused { id, reason: reason.into() }
}
