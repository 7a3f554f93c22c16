//! One call in the page: the browser's side of [`shieldcall_call::controller`], which makes
//! every decision of the call and is tested on the host. This glue feeds it what happens
//! (relay messages, the peer connection's events, the worker's reports, timers, the person's
//! actions) and carries out what it asks for.
//!
//! ```text
//!  relay, RTCPeerConnection, MediaWorker, timers, buttons ──Input──▶ Controller
//!                                                                       │
//!  signals, transceivers, worker commands, the page's signals ◀─Effect──┘  (driver.rs)
//! ```
//! Here: the hook [`use_call`] and the browser objects of a call (`Call`). Each other job has
//! its file, as more `impl Call` blocks:
//! - `driver`: the effect driver: feeds an input in, carries each effect out;
//! - `handle`: what the page reads and does ([`CallHandle`]), and the setters;
//! - `link`: the peer connection: made, negotiated, its events fed back, dropped;
//! - `worker`: the media worker: started (afresh for each connection) and heard;
//! - `devices`: the camera and microphone, the device lists, muting and switching;
//! - `screen`: this person's screen share, and the other person's media on the page;
//! - `recording`: the stream a recording takes.

mod devices;
mod driver;
mod group;
mod handle;
mod link;
mod recording;
mod screen;
mod worker;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use shieldcall_call::controller::{
    Arrival, CallSetup, Controller, Generation, IceCandidate, Input,
};
use shieldcall_call::devices::{Device, devices_added};
use shieldcall_call::e2ee_health::E2eeHealth;
use shieldcall_call::prejoin::{DeviceAccess, PreJoin};
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::LinkSecret;
use shieldcall_e2ee::session::{Policy, Role, SessionConfig, ShieldState, WarningReason};
use shieldcall_protocol::{CallId, RelayRequest, Signal};
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;

use crate::browser::peer::MediaKind;
use crate::browser::timeline;
use crate::browser::use_local_media::{UseLocalMediaReturn, set_enabled};
use crate::browser::use_relay::{UseRelayReturn, use_relay};
use crate::browser::worker::MediaWorker;
use crate::call_link::{CallRole, HostSecrets, take_host_secrets};
use crate::components::ChatMessage;
use crate::config::AppConfig;

pub use group::{GroupView, MemberTile};
pub use handle::{CALL_FULL, CallHandle, CallStatus, ParkedView};
pub use recording::RecordingMix;

use devices::list_devices;
use group::MemberSetup;
use handle::Setters;
use link::Link;
pub use link::start_certificate_early;
use shieldcall_call::group::Group;
use worker::spawn_worker;
pub use worker::start_worker_early;

/// The browser objects of one call, and the controller that decides what they do.
struct Call {
    /// This call, for the callbacks it hands out.
    me: Weak<RefCell<Call>>,
    call_id: CallId,
    ctl: Controller,
    set: Setters,
    send: Rc<dyn Fn(&Signal)>,
    request: Rc<dyn Fn(&RelayRequest)>,
    close_relay: Rc<dyn Fn()>,
    worker: Option<Rc<MediaWorker>>,
    link: Option<Link>,
    /// (Host) the connection made while waiting alone, for the next attempt.
    prepared: Option<link::PreparedLink>,
    /// (Guest) the certificate made ahead for the next connection (an `RTCCertificate`).
    next_certificate: Option<wasm_bindgen::JsValue>,
    /// The peer's ICE candidates on their way to the browser, one task each (`add_ice`).
    ice_to_add: std::collections::VecDeque<(Generation, IceCandidate)>,
    /// A task to give the next of them is on its way.
    ice_task_armed: bool,
    camera: Option<MediaStream>,
    screen: Option<MediaStream>,
    /// The other person's screen share, shown while the controller says its frames arrive.
    remote_screen: Option<MediaStream>,
    _tick: Option<gloo_timers::callback::Interval>,
    retry_timer: Option<gloo_timers::callback::Timeout>,
    /// Who is in the group call, once this call is one (see `group`).
    group: Group,
    /// The other members' calls, in a group.
    members: Vec<group::Member>,
    /// What a member's call is made with (this page's first call only).
    member_setup: Option<MemberSetup>,
    /// In a member's call: the member it is with (it shares the camera and the socket).
    member_of: Option<shieldcall_protocol::MemberId>,
    /// Where this person's other tabs tell of merges (this page's first call only).
    merge_channel: Option<group::MergeChannel>,
    /// Whether the chat panel is open: a message from the other person while it is not is
    /// also a notice, seen and said, until the person opens it. One cell for the page's calls
    /// (a group's members' messages come through their own).
    chat_open: Rc<Cell<bool>>,
}

/// Milliseconds on the page's clock, for the controller's timers.
/// Monotonic: a wall clock that steps (NTP, a resumed laptop) would fire or stall timers.
fn now_ms() -> u64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now()) as u64
}

/// Start a call for `id` in `role`, with the camera and microphone the pre-join screen asked
/// for (`media`) and its toggles (`prejoin`); it ends when the calling component goes away.
pub fn use_call(
    id: CallId,
    role: CallRole,
    e2ee: bool,
    config: AppConfig,
    media: UseLocalMediaReturn,
    prejoin: leptos::prelude::Signal<PreJoin>,
) -> CallHandle {
    let (status, set_status) = signal(CallStatus::Preparing);
    let (shield, set_shield) = signal(ShieldState::Connecting);
    let (code, set_code) = signal(None);
    let (warned_in_call, set_warned_in_call) = signal(None::<WarningReason>);
    let (notices, set_notices) = signal(Vec::<String>::new());
    let (media_problems, set_media_problems) = signal(Vec::<String>::new());
    let (self_view, set_self_view) = signal_local(None::<MediaStream>);
    let (remote_video, set_remote_video) = signal_local(None::<MediaStream>);
    let (remote_screen, set_remote_screen) = signal_local(None::<MediaStream>);
    let (chat, set_chat) = signal(Vec::<ChatMessage>::new());
    let (mic_on, set_mic_on) = signal(true);
    let (camera_on, set_camera_on) = signal(true);
    let (sharing, set_sharing) = signal(false);
    let (microphones, set_microphones) = signal(Vec::new());
    let (cameras, set_cameras) = signal(Vec::new());
    let (microphone, set_microphone) = signal(None::<String>);
    let (camera, set_camera) = signal(None::<String>);
    let (health, set_health) = signal(E2eeHealth::default());
    let (remote_media, set_remote_media) = signal(None);
    let (remote_announcement, set_remote_announcement) = signal(String::new());
    let (quality, set_quality) = signal(None);
    let (move_link, set_move_link) = signal(None::<(String, String)>);
    let (add_link, set_add_link) = signal(None::<String>);
    let (relay_group_off, set_relay_group_off) = signal(None);
    let (relay_park_off, set_relay_park_off) = signal(None);
    let (group, set_group) = signal_local(None::<GroupView>);
    let (parked, set_parked) = signal(None::<ParkedView>);
    let (transfer_link, set_transfer_link) = signal(None::<(String, String, u64)>);
    let (transfer_offer, set_transfer_offer) = signal(None::<String>);
    let set = Setters {
        status: set_status,
        shield: set_shield,
        code: set_code,
        warned_in_call: set_warned_in_call,
        notices: set_notices,
        media_problems: set_media_problems,
        self_view: set_self_view,
        remote_video: set_remote_video,
        remote_screen: set_remote_screen,
        chat: set_chat,
        mic_on: set_mic_on,
        camera_on: set_camera_on,
        sharing: set_sharing,
        microphones: set_microphones,
        cameras: set_cameras,
        microphone: set_microphone,
        camera: set_camera,
        health: set_health,
        remote_media: set_remote_media,
        remote_announcement: set_remote_announcement,
        quality: set_quality,
        move_link: set_move_link,
        add_link: set_add_link,
        relay_group_off: set_relay_group_off,
        relay_park_off: set_relay_park_off,
        group: set_group,
        parked: set_parked,
        transfer_link: set_transfer_link,
        transfer_offer: set_transfer_offer,
    };
    let moving = match &role {
        CallRole::Moved(link) => Some(link.token.clone()),
        _ => None,
    };
    // A pickup or transfer link says so: a refusal is told in its words.
    let arrival = moving.is_some().then(crate::call_link::arrival);

    let setup = call_setup(id, role, e2ee, &config);
    let member_setup = MemberSetup {
        link_secret: setup.link_secret.clone(),
        ice: setup.ice.clone(),
        policy: setup.config.policy,
    };
    let call = Rc::new_cyclic(|me| {
        RefCell::new(Call {
            me: me.clone(),
            call_id: id,
            ctl: Controller::new(setup),
            set,
            send: Rc::new(|_| {}),
            request: Rc::new(|_| {}),
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
            group: Group::default(),
            members: Vec::new(),
            member_setup: Some(member_setup),
            member_of: None,
            merge_channel: None,
            chat_open: Rc::default(),
        })
    });
    let merges = group::MergeChannel::open(Rc::downgrade(&call));
    call.borrow_mut().merge_channel = merges;
    if let Some(arrival) = arrival {
        call.borrow_mut().ctl.arrived_by(arrival);
    }
    call.borrow_mut().run_effects();

    let (weak, opened) = (Rc::downgrade(&call), Rc::downgrade(&call));
    let UseRelayReturn { presence, send, request, close, joined_at_once } = use_relay(
        &id.to_string(),
        moving,
        move |inbound| with_call(&weak, |c| c.relay_inbound(inbound.clone())),
        move || with_call(&opened, |c| c.handle(Input::RelayOpen)),
    );
    {
        let mut c = call.borrow_mut();
        c.send = send;
        c.request = request;
        c.close_relay = close;
    }
    if joined_at_once {
        call.borrow_mut().handle(Input::RelayOpen);
    }

    let weak = Rc::downgrade(&call);
    let tick = gloo_timers::callback::Interval::new(1000, move || {
        with_call(&weak, |c| {
            c.handle(Input::Tick);
            c.tell_members(|| Input::Tick);
        })
    });
    call.borrow_mut()._tick = Some(tick);

    timeline::mark("call page");
    // The media worker (started early, as the page opened) and the camera (from the pre-join
    // screen) come side by side, and the call goes on as soon as the worker runs: keys are
    // agreed and the connection made even if the browser is still asking for the camera, whose
    // tracks join the connection when they come (`camera_ready`; no renegotiation).
    spawn_local(spawn_worker(Rc::downgrade(&call)));
    let weak = Rc::downgrade(&call);
    Effect::new(move |handed: Option<bool>| {
        if handed == Some(true) {
            return true;
        }
        let pre = prejoin.get();
        if [pre.microphone, pre.camera].contains(&DeviceAccess::Asking) {
            return false;
        }
        let camera = media.stream.get_untracked();
        // The call ended (or the page went) while the browser asked: the camera stays off.
        if !call_going(&weak) {
            if let Some(camera) = &camera {
                devices::stop_tracks(camera);
            }
            return true;
        }
        timeline::mark("camera and microphone");
        let (mic_on, camera_on) = pre.joins_with();
        set.mic_on.set(mic_on);
        set.camera_on.set(camera_on);
        if let Some(text) = pre.call_notice() {
            notice(set, text);
        }
        if let Some(camera) = &camera {
            // What the pre-join screen's toggles said, also for an answer that came after Join.
            set_enabled(camera, MediaKind::Audio, mic_on);
            set_enabled(camera, MediaKind::Video, camera_on);
            set.self_view.set(Some(Clone::clone(camera)));
            spawn_local(list_devices(set, Clone::clone(camera)));
        }
        with_call(&weak, |c| {
            c.camera_ready(camera.clone());
            c.members_camera();
        });
        true
    });

    // Devices plugged in or out mid-call: the pickers follow the page's lists, and a new
    // device is said (`devices_added`), while the call goes on.
    let weak = Rc::downgrade(&call);
    Effect::new(move |seen: Option<(Vec<Device>, Vec<Device>)>| {
        let now = (media.microphones.get(), media.cameras.get());
        if let Some((microphones, cameras)) = seen.filter(|_| call_going(&weak)) {
            for (kind, before, after) in
                [("microphone", &microphones, &now.0), ("camera", &cameras, &now.1)]
            {
                if let Some(text) = devices_added(kind, before, after) {
                    notice(set, text);
                }
            }
            set.microphones.try_set(now.0.clone());
            set.cameras.try_set(now.1.clone());
        }
        now
    });

    let stored = StoredValue::new_local(call);
    // Leaving the page ends the call: tracks stop, the worker (and its keys) goes.
    on_cleanup(move || {
        stored.with_value(|call| {
            let mut call = call.borrow_mut();
            call.tell_members(|| Input::PageLeft);
            call.handle(Input::PageLeft)
        })
    });
    CallHandle {
        status,
        shield,
        code,
        warned_in_call,
        relay: presence,
        notices,
        media_problems,
        self_view,
        remote_video,
        remote_screen,
        chat,
        mic_on,
        camera_on,
        sharing,
        microphones,
        cameras,
        microphone,
        camera,
        health,
        remote_media,
        remote_announcement,
        quality,
        move_link,
        add_link,
        relay_group_off,
        relay_park_off,
        group,
        parked,
        transfer_link,
        transfer_offer,
        call: stored,
    }
}

/// The controller's settings and secrets for this page's side of the call.
fn call_setup(id: CallId, role: CallRole, e2ee: bool, config: &AppConfig) -> CallSetup {
    // A call moved out of a transport-only one stays so (the controller sees to it, PROTOCOL.md
    // change 43); one moved out of an E2EE call agrees new keys (change 44).
    let arrival = match &role {
        CallRole::Moved(link) if link.rekeyed => Arrival::MovedRekeyed,
        CallRole::Moved(_) => Arrival::Moved,
        _ => Arrival::Link,
    };
    let (role, own, link_secret, commitment) = match role {
        CallRole::Host => {
            // The key the link commits to and its secret; fresh ones if this page lost them
            // (then the guest's checks fail and show it, rather than the call silently using
            // other keys).
            let HostSecrets { key, link_secret } = take_host_secrets(&id.to_string())
                .unwrap_or_else(|| HostSecrets {
                    key: EphemeralSecret::generate(&mut rand_core::OsRng),
                    link_secret: LinkSecret::generate(&mut rand_core::OsRng),
                });
            (Role::Host, key, link_secret, None)
        }
        CallRole::Guest { commitment, link_secret } => (
            Role::Guest,
            EphemeralSecret::generate(&mut rand_core::OsRng),
            link_secret,
            Some(commitment),
        ),
        // A key of its own: none travels in the move link.
        CallRole::Moved(link) => (
            link.role,
            EphemeralSecret::generate(&mut rand_core::OsRng),
            link.secret,
            link.commitment,
        ),
    };
    let policy = if config.e2ee_allowed { Policy::Allowed } else { Policy::Disabled };
    let ice = config.ice_settings();
    let config = SessionConfig { role, call_id: id, e2ee, policy, suite: Default::default() };
    CallSetup { config, own, link_secret, commitment, ice, arrival }
}

/// Whether the call is still there and not ended (one that is busy handling something is).
fn call_going(weak: &Weak<RefCell<Call>>) -> bool {
    weak.upgrade().is_some_and(|c| c.try_borrow().map_or(true, |c| !c.ctl.ended()))
}

fn with_call(weak: &Weak<RefCell<Call>>, f: impl FnOnce(&mut Call)) {
    if let Some(call) = weak.upgrade() {
        // Events arrive from the browser's event loop one at a time, never inside another
        // borrow; `try_borrow_mut` keeps a surprise from becoming a panic.
        if let Ok(mut call) = call.try_borrow_mut() {
            f(&mut call);
        }
    }
}

fn notice(set: Setters, text: String) {
    set.notices.try_update(|n| shieldcall_call::texts::add_notice(n, text));
}
