//! A group call in the page: the relay's group news goes through the pure group layer
//! ([`shieldcall_call::group`]), which says where each message goes; here each other member
//! gets a `Call` of its own (its controller, peer connection and worker, transport-only) that
//! shares this page's camera and relay socket, and its video a tile of its own.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use shieldcall_call::config::IceSettings;
use shieldcall_call::controller::{Arrival, CallSetup, CallStatus, Controller, Input};
use shieldcall_call::group::{MEMBER_JOINED, MEMBER_LEFT, MergeLink, Route};
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::LinkSecret;
use shieldcall_e2ee::session::{Policy, Role, SessionConfig, ShieldState};
use shieldcall_protocol::{Inbound, MemberId, RelayRequest, Signal};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;

use super::handle::Setters;
use super::worker::spawn_worker;
use super::{Call, notice, with_call};

/// What a member's `Call` is made with: the link's secret, the ICE settings, the policy.
#[derive(Clone)]
pub(super) struct MemberSetup {
    pub(super) link_secret: LinkSecret,
    pub(super) ice: IceSettings,
    pub(super) policy: Policy,
}

/// One other member of a group call, as the page shows it.
#[derive(Clone, Copy)]
pub struct MemberTile {
    /// The relay's id for them.
    pub id: MemberId,
    /// Their camera and microphone.
    pub video: ReadSignal<Option<MediaStream>, LocalStorage>,
    /// Where the call with them is.
    pub status: ReadSignal<CallStatus>,
    /// What their shield says (transport-only, or a warning).
    pub shield: ReadSignal<ShieldState>,
}

/// Who is in the group call, for the participant list: this page's id, the first
/// controller's member, and the others with their tiles.
#[derive(Clone, Default)]
pub struct GroupView {
    pub me: Option<MemberId>,
    pub main: Option<MemberId>,
    pub others: Vec<MemberTile>,
}

/// The channel this page's tabs of one browser tell each other about merges on (it never
/// leaves the browser): the tab where Merge is pressed posts its merge link, the others' calls
/// hear it. Closed when the call ends.
pub(super) struct MergeChannel {
    channel: web_sys::BroadcastChannel,
    _listener: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Drop for MergeChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

const MERGE_CHANNEL: &str = "shieldcall-merge";

impl MergeChannel {
    /// Listen for the person's other tabs' merges; `None` where the browser has no channel.
    pub(super) fn open(weak: Weak<RefCell<Call>>) -> Option<MergeChannel> {
        let channel = web_sys::BroadcastChannel::new(MERGE_CHANNEL).ok()?;
        let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let Some(link) = event.data().as_string().and_then(|t| MergeLink::parse(&t)) else {
                    return;
                };
                with_call(&weak, |c| c.handle(Input::MergeInto(link)));
            },
        );
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(MergeChannel { channel, _listener: listener })
    }

    /// Tell the person's other tabs to merge their calls into `link`'s.
    pub(super) fn offer(&self, link: &MergeLink) {
        let _ = self.channel.post_message(&link.to_text().into());
    }
}

/// Go to the call `link` names, on this page's own origin (never a URL someone sent).
pub(super) fn follow_merge(link: &MergeLink) {
    let Some(window) = web_sys::window() else { return };
    let Ok(origin) = window.location().origin() else { return };
    let url = format!("{origin}/call/{}#{}", link.call_id, link.add.to_fragment());
    let _ = window.location().assign(&url);
}

/// Another member's `Call` and its tile.
pub(super) struct Member {
    pub(super) call: Rc<RefCell<Call>>,
    pub(super) tile: MemberTile,
}

impl Call {
    /// What arrived on the relay socket: where it goes is the group layer's decision.
    pub(super) fn relay_inbound(&mut self, inbound: Inbound) {
        for route in self.group.inbound(inbound) {
            match route {
                Route::Main(inbound) => self.handle(Input::Inbound(inbound)),
                Route::JoinMain => self.handle(Input::JoinGroup),
                Route::Add { id, role, start } => self.add_member(id, role, start),
                Route::Peer(id, inbound) => {
                    let member = self.members.iter().find(|m| m.tile.id == id);
                    if let Some(mut call) = member.and_then(|m| m.call.try_borrow_mut().ok()) {
                        call.handle(Input::Inbound(inbound));
                    }
                }
                Route::Drop(id) => {
                    self.drop_member(id);
                    notice(self.set, MEMBER_LEFT.into());
                }
                Route::Full => self.handle(Input::GroupFull),
                Route::Ignore(why) => web_sys::console::warn_1(&why.into()),
            }
        }
        self.members.retain(|m| m.call.try_borrow().map_or(true, |c| !c.ctl.ended()));
        self.show_group();
    }

    /// How this page's first controller's signal travels: addressed in a group.
    pub(super) fn send_signal(&self, signal: Signal) {
        match self.group.main_signal(signal) {
            Ok(request) => (self.request)(&request),
            Err(signal) => (self.send)(&signal),
        }
    }

    /// A controller, connection and worker for member `id`, sharing the camera and socket.
    fn add_member(&mut self, id: MemberId, role: Role, start: Vec<Inbound>) {
        let Some(setup) = self.member_setup.clone() else { return };
        let own = EphemeralSecret::generate(&mut rand_core::OsRng);
        let config = SessionConfig {
            role,
            call_id: self.call_id,
            e2ee: false,
            policy: setup.policy,
            suite: Default::default(),
        };
        let ctl = Controller::new(CallSetup {
            config,
            own,
            link_secret: setup.link_secret.clone(),
            commitment: None,
            ice: setup.ice.clone(),
            arrival: Arrival::Link,
        });
        let (set, tile) = member_setters(self.set, id);
        let request = self.request.clone();
        let send: Rc<dyn Fn(&Signal)> = Rc::new(move |signal: &Signal| {
            request(&RelayRequest::To { to: id, s: signal.clone() })
        });
        let call = Rc::new_cyclic(|me| {
            RefCell::new(Call {
                me: me.clone(),
                call_id: self.call_id,
                ctl,
                set,
                send,
                request: self.request.clone(),
                close_relay: Rc::new(|| {}),
                worker: None,
                link: None,
                prepared: None,
                next_certificate: None,
                ice_to_add: Default::default(),
                ice_task_armed: false,
                camera: None,
                screen: None,
                remote_screen: None,
                _tick: None,
                retry_timer: None,
                group: Default::default(),
                members: Vec::new(),
                member_setup: None,
                member_of: Some(id),
                merge_channel: None,
                chat_open: self.chat_open.clone(),
            })
        });
        {
            let mut c = call.borrow_mut();
            c.run_effects();
            c.handle(Input::JoinGroup);
            for inbound in start {
                c.handle(Input::Inbound(inbound));
            }
            let camera = self.camera.clone();
            c.camera_ready(camera);
        }
        spawn_local(spawn_worker(Rc::downgrade(&call)));
        self.members.push(Member { call, tile });
        notice(self.set, MEMBER_JOINED.into());
    }

    /// Member `id` left: its connection, worker and tile go (the camera stays).
    fn drop_member(&mut self, id: MemberId) {
        let Some(index) = self.members.iter().position(|m| m.tile.id == id) else { return };
        let member = self.members.remove(index);
        if let Ok(mut call) = member.call.try_borrow_mut() {
            call.handle(Input::PageLeft);
        }
    }

    /// Every other member's `Call` hears `input` (a tick, a hang-up, the page going).
    pub(super) fn tell_members(&mut self, input: impl Fn() -> Input) {
        for member in &self.members {
            if let Ok(mut call) = member.call.try_borrow_mut() {
                call.handle(input());
            }
        }
        if !self.members.is_empty() {
            self.members.retain(|m| m.call.try_borrow().map_or(true, |c| !c.ctl.ended()));
            self.show_group();
        }
    }

    /// The camera came (after the pre-join screen): every member's connection sends it too.
    pub(super) fn members_camera(&mut self) {
        for member in &self.members {
            if let Ok(mut call) = member.call.try_borrow_mut() {
                call.camera_ready(self.camera.clone());
            }
        }
    }

    fn show_group(&self) {
        let view = GroupView {
            me: self.group.me(),
            main: self.group.main(),
            others: self.members.iter().map(|m| m.tile).collect(),
        };
        self.set.group.try_set(self.group.active().then_some(view));
    }
}

/// A member's setters: what is about them alone is its own (their video, status, shield, the
/// connection's quality); what is about this person (the camera, the devices, chat) is shared.
fn member_setters(main: Setters, id: MemberId) -> (Setters, MemberTile) {
    let (video, set_video) = signal_local(None::<MediaStream>);
    let (status, set_status) = signal(CallStatus::Preparing);
    let (shield, set_shield) = signal(ShieldState::Connecting);
    let set = Setters {
        status: set_status,
        shield: set_shield,
        code: signal(None).1,
        warned_in_call: signal(None).1,
        notices: signal(Vec::new()).1,
        media_problems: signal(Vec::new()).1,
        remote_video: set_video,
        remote_screen: signal_local(None).1,
        health: signal(Default::default()).1,
        remote_media: signal(None).1,
        remote_announcement: signal(String::new()).1,
        quality: signal(None).1,
        move_link: signal(None).1,
        add_link: signal(None).1,
        relay_group_off: signal(None).1,
        relay_park_off: signal(None).1,
        group: signal_local(None).1,
        ..main
    };
    (set, MemberTile { id, video, status, shield })
}
