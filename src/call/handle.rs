//! What the call page reads and does: the call's signals (and the setters the call writes them
//! with), and the actions on it.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use shieldcall_call::controller::Input;
use shieldcall_call::e2ee_health::E2eeHealth;
use shieldcall_call::quality::QualityView;
use shieldcall_call::texts::NEW_CHAT_MESSAGE;
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::session::{ShieldState, WarningReason};
use shieldcall_protocol::MediaState;
use web_sys::MediaStream;

use super::{Call, GroupView, RecordingMix};
use crate::browser::peer::MediaKind;
use crate::components::ChatMessage;

pub use shieldcall_call::controller::{CALL_FULL, CallStatus};

/// What the call page reads and does: signals and a stored value, so `Copy`.
#[derive(Clone, Copy)]
pub struct CallHandle {
    pub status: ReadSignal<CallStatus>,
    pub shield: ReadSignal<ShieldState>,
    /// This side's security code, once computed; also under a warning, where comparing it
    /// shows the mismatch.
    pub code: ReadSignal<Option<SecurityCode>>,
    /// The first security problem seen in this call, kept until hang-up even when the person it
    /// was about has left and the shield shows something else since.
    pub warned_in_call: ReadSignal<Option<WarningReason>>,
    pub relay: ReadSignal<crate::browser::use_relay::Presence>,
    /// Things the person should know that do not stop the call (a denied camera, say).
    pub notices: ReadSignal<Vec<String>>,
    /// Media that does not get through now, in words (empty while all is well).
    pub media_problems: ReadSignal<Vec<String>>,
    pub self_view: ReadSignal<Option<MediaStream>, LocalStorage>,
    pub remote_video: ReadSignal<Option<MediaStream>, LocalStorage>,
    pub remote_screen: ReadSignal<Option<MediaStream>, LocalStorage>,
    pub chat: ReadSignal<Vec<ChatMessage>>,
    pub mic_on: ReadSignal<bool>,
    pub camera_on: ReadSignal<bool>,
    pub sharing: ReadSignal<bool>,
    /// Microphones and cameras to choose from, `(device id, label)`, and the ones in use.
    pub microphones: ReadSignal<Vec<(String, String)>>,
    pub cameras: ReadSignal<Vec<(String, String)>>,
    pub microphone: ReadSignal<Option<String>>,
    pub camera: ReadSignal<Option<String>>,
    /// What the media worker does with the frames, per track (the shield's panel shows it).
    pub health: ReadSignal<E2eeHealth>,
    /// The other person's microphone, camera and screen share, once their page said.
    pub remote_media: ReadSignal<Option<MediaState>>,
    /// The last change of it, in words, for a polite live region.
    pub remote_announcement: ReadSignal<String>,
    /// The connection's quality, once measured.
    pub quality: ReadSignal<Option<QualityView>>,
    /// The link that moves this place to another device, and what to tell about it, while it
    /// is shown.
    pub move_link: ReadSignal<Option<(String, String)>>,
    /// The link that adds a person to this (group) call, while it is shown.
    pub add_link: ReadSignal<Option<String>>,
    /// Why adding someone (and merging) is off on this call's relay, if it is.
    pub relay_group_off: ReadSignal<Option<String>>,
    /// Why parking (and consulting) is off on this call's relay, if it is.
    pub relay_park_off: ReadSignal<Option<String>>,
    /// Who is in the group call, once this call is one.
    pub group: ReadSignal<Option<GroupView>, LocalStorage>,
    /// The parked call's pickup code and link, once parked (they stay after the call ends
    /// on this page).
    pub parked: ReadSignal<Option<ParkedView>>,
    /// The transfer link, the name it is for, and for how many seconds it works, while shown.
    pub transfer_link: ReadSignal<Option<(String, String, u64)>>,
    /// A held call the other person handed over: its pickup link's path, to join it.
    pub transfer_offer: ReadSignal<Option<String>>,
    pub(super) call: StoredValue<Rc<RefCell<Call>>, LocalStorage>,
}

/// The write side of the handle's signals, for every part that shows something.
#[derive(Clone, Copy)]
pub(super) struct Setters {
    pub(super) status: WriteSignal<CallStatus>,
    pub(super) shield: WriteSignal<ShieldState>,
    pub(super) code: WriteSignal<Option<SecurityCode>>,
    pub(super) warned_in_call: WriteSignal<Option<WarningReason>>,
    pub(super) notices: WriteSignal<Vec<String>>,
    pub(super) media_problems: WriteSignal<Vec<String>>,
    pub(super) self_view: WriteSignal<Option<MediaStream>, LocalStorage>,
    pub(super) remote_video: WriteSignal<Option<MediaStream>, LocalStorage>,
    pub(super) remote_screen: WriteSignal<Option<MediaStream>, LocalStorage>,
    pub(super) chat: WriteSignal<Vec<ChatMessage>>,
    pub(super) mic_on: WriteSignal<bool>,
    pub(super) camera_on: WriteSignal<bool>,
    pub(super) sharing: WriteSignal<bool>,
    pub(super) microphones: WriteSignal<Vec<(String, String)>>,
    pub(super) cameras: WriteSignal<Vec<(String, String)>>,
    pub(super) microphone: WriteSignal<Option<String>>,
    pub(super) camera: WriteSignal<Option<String>>,
    pub(super) health: WriteSignal<E2eeHealth>,
    pub(super) remote_media: WriteSignal<Option<MediaState>>,
    pub(super) remote_announcement: WriteSignal<String>,
    pub(super) quality: WriteSignal<Option<QualityView>>,
    pub(super) move_link: WriteSignal<Option<(String, String)>>,
    pub(super) add_link: WriteSignal<Option<String>>,
    pub(super) relay_group_off: WriteSignal<Option<String>>,
    pub(super) relay_park_off: WriteSignal<Option<String>>,
    pub(super) group: WriteSignal<Option<GroupView>, LocalStorage>,
    pub(super) parked: WriteSignal<Option<ParkedView>>,
    pub(super) transfer_link: WriteSignal<Option<(String, String, u64)>>,
    pub(super) transfer_offer: WriteSignal<Option<String>>,
}

/// A parked call as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParkedView {
    /// The pickup link.
    pub url: String,
    /// The pickup code, as shown (`7K3M-9QX2-HT4P`).
    pub code: String,
    /// How long the place is held.
    pub ttl_secs: u64,
    /// The pickup link's path (`/call/…#…`), to go back to the call from this page.
    pub path: String,
    /// Parked to consult someone: the page offers the consult call.
    pub consult: bool,
}

impl CallHandle {
    fn act(&self, f: impl FnOnce(&mut Call, Weak<RefCell<Call>>)) {
        self.call.with_value(|call| {
            let weak = Rc::downgrade(call);
            if let Ok(mut c) = call.try_borrow_mut() {
                f(&mut c, weak);
            }
        });
    }

    /// Send a chat message (encrypted in the worker under E2EE). Whether it went; if not, the
    /// person was told why, and the text they typed stays.
    pub fn send_chat(&self, text: String) -> bool {
        let mut sent = false;
        self.act(|c, _| {
            let channel_open = c
                .link
                .as_ref()
                .is_some_and(|l| l.chat.ready_state() == web_sys::RtcDataChannelState::Open);
            sent = c.ctl.chat_refusal(&text, channel_open).is_none();
            c.handle(Input::SendChat { text, channel_open })
        });
        sent
    }

    /// The chat panel opened or closed: opened, the notice of messages unread there goes.
    pub fn chat_panel(&self, open: bool) {
        self.act(|c, _| {
            c.chat_open.set(open);
            if open {
                c.set.notices.try_update(|n| n.retain(|text| text != NEW_CHAT_MESSAGE));
            }
        });
    }

    pub fn toggle_mic(&self) {
        self.act(|c, _| c.toggle_track(MediaKind::Audio));
    }

    pub fn toggle_camera(&self) {
        self.act(|c, _| c.toggle_track(MediaKind::Video));
    }

    pub fn toggle_screen_share(&self) {
        self.act(|c, weak| c.toggle_screen_share(weak));
    }

    /// Use another microphone (`kind` audio) or camera (video).
    pub fn use_device(&self, kind: MediaKind, device_id: String) {
        self.act(|c, weak| c.use_device(kind, device_id, weak));
    }

    /// The call as one stream to record: the other person's camera, and both voices mixed.
    /// `None` before the other person's media is there. Dropping it closes its audio graph.
    pub fn recording_mix(&self) -> Option<RecordingMix> {
        let mut mix = None;
        self.act(|c, _| mix = c.recording_mix());
        mix
    }

    /// Show a link (and QR code) that moves this call to another device.
    pub fn move_to_another_device(&self) {
        self.act(|c, _| c.handle(Input::MoveToAnotherDevice));
    }

    /// Take the move link off the screen (it still works until it expires).
    pub fn hide_move_link(&self) {
        self.act(|c, _| {
            c.set.move_link.try_set(None);
        });
    }

    /// Park the call: the other person is on hold; this page shows a pickup code and link,
    /// and leaves.
    pub fn park(&self) {
        let mut random = [0u8; 18];
        if getrandom::getrandom(&mut random).is_err() {
            web_sys::console::error_1(&"no randomness for a pickup code".into());
            return;
        }
        self.act(|c, _| c.handle(Input::Park { random }));
    }

    /// Put the other person on hold to consult someone in another call.
    pub fn consult(&self) {
        let mut random = [0u8; 18];
        if getrandom::getrandom(&mut random).is_err() {
            web_sys::console::error_1(&"no randomness for a pickup code".into());
            return;
        }
        self.act(|c, _| c.handle(Input::Consult { random }));
    }

    /// (In the consult call) hand the held call, at `path`, to the other person here.
    pub fn offer_transfer(&self, path: String) {
        self.act(|c, _| c.handle(Input::OfferTransfer { path }));
    }

    /// Show a link that transfers this call to someone the other person is told is `name`.
    pub fn transfer(&self, name: String) {
        self.act(|c, _| c.handle(Input::Transfer { name }));
    }

    /// Take the transfer link off the screen (it still works until it expires).
    pub fn hide_transfer_link(&self) {
        self.act(|c, _| {
            c.set.transfer_link.try_set(None);
        });
    }

    /// Open the call to more people and show the link that adds one.
    pub fn add_participant(&self) {
        self.act(|c, _| c.handle(Input::AddParticipant));
    }

    /// Merge this person's other call (another tab) into this one, as a group call.
    pub fn merge(&self) {
        self.act(|c, _| c.handle(Input::Merge));
    }

    /// Take the add link off the screen (it still works).
    pub fn hide_add_link(&self) {
        self.act(|c, _| {
            c.set.add_link.try_set(None);
        });
    }

    /// Leave the call (in a group, every member's connection goes with it).
    pub fn hang_up(&self) {
        self.act(|c, _| {
            c.tell_members(|| Input::HangUp);
            c.handle(Input::HangUp)
        });
    }
}
