//! One call, tied together: the session (keys, shield, code), the relay (signalling), the peer
//! connection and its media, the media worker (where the keys live), and the chat.
//!
//! ```text
//!  relay ──hello/offer/answer/ice──▶ Call ──SDPs, hellos──▶ Session ──state, keys──▶ shield
//!                                     │                                   │
//!                                     ├── RTCPeerConnection (4 transceivers, chat channel)
//!                                     └── MediaWorker ◀── UseKeys / TransportOnly / AwaitKeys
//! ```
//! The host sends the offer once it has the guest's hello; the guest answers. A guest who
//! leaves (or reloads) is waited for; the host's key stays, since the link commits to it.
//!
//! Here: the hook [`use_call`] and the call's state (`Call`: how it starts, its clock, how it
//! ends). Each other job has its file, as more `impl Call` blocks:
//! - `handle`: what the page reads and does ([`CallHandle`], [`CallStatus`]), and the setters;
//! - `signalling`: the relay's news and the other person's hello, offer, answer, confirmation;
//! - `link`: the peer connection: made, negotiated, given its ICE candidates, checked, dropped;
//! - `reconnect`: the other person leaving or coming back, a failed connection made again;
//! - `worker`: the media worker: started (afresh for each connection), told what the session
//!   allows, heard;
//! - `devices`: the camera and microphone, the device lists, muting and switching;
//! - `screen`: screen sharing both ways;
//! - `chat`: chat, sealed and opened in the worker (or sent as it is with E2EE off);
//! - `recording`: the stream a recording takes.

mod chat;
mod devices;
mod handle;
mod link;
mod reconnect;
mod recording;
mod screen;
mod signalling;
mod worker;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use shieldcall_call::Retry;
use shieldcall_call::media_health::MediaHealth;
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::LinkSecret;
use shieldcall_e2ee::session::{Policy, Role, Session, SessionConfig, ShieldState, WarningReason};
use shieldcall_protocol::{CallId, Inbound, Signal};
use wasm_bindgen_futures::spawn_local;
use web_sys::{MediaStream, RtcIceCandidateInit};

use crate::browser::use_relay::{UseRelayReturn, use_relay};
use crate::browser::worker::MediaWorker;
use crate::call_link::{CallRole, HostSecrets, forget_link, take_host_secrets};
use crate::components::ChatMessage;
use crate::config::AppConfig;

pub use handle::{CALL_FULL, CallHandle, CallStatus};
pub use recording::{RecordingMix, stop_mix};

use devices::{list_devices, local_media, stop_tracks};
use handle::Setters;
use link::Link;
use screen::SCREEN_SHARE_IDLE_MS;
use worker::{WorkerMode, spawn_worker};

/// One call's state, which each part below reads and changes.
struct Call {
    /// This call, for the callbacks it hands out.
    me: Weak<RefCell<Call>>,
    call_id: CallId,
    role: Role,
    session: Session,
    config: AppConfig,
    set: Setters,
    send: Rc<dyn Fn(&Signal)>,
    close_relay: Rc<dyn Fn()>,
    worker: Option<Rc<MediaWorker>>,
    link: Option<Link>,
    /// A connection is being made: `negotiate` has not yet set `link`.
    linking: bool,
    /// Which connection is current: bumped whenever the link is dropped, so that the tasks of
    /// an older one (an offer being made, an answer being applied) let go of it.
    generation: u64,
    /// Inbound messages that arrived before the worker and media were ready.
    backlog: Vec<Inbound>,
    camera: Option<MediaStream>,
    screen: Option<MediaStream>,
    /// The other person's screen share, shown while its frames arrive.
    remote_screen: Option<MediaStream>,
    /// Screen frames received so far, and when the count last grew (ms).
    screen_frames: (u64, f64),
    screen_shown: bool,
    _tick: Option<gloo_timers::callback::Interval>,
    /// The worker mode last commanded, so it is commanded once per change.
    worker_mode: Option<WorkerMode>,
    chat_seq: u32,
    /// Chat being sealed in the worker, by id: a message of this person's (`Some`), or a
    /// report to the other side that its messages arrived out of order (`None`).
    chat_pending: HashMap<u32, Option<String>>,
    /// Which media gets through, from the worker's counters.
    media_health: MediaHealth,
    ended: bool,
    /// The relay said the other person left while media still flowed: their relay connection
    /// may be all that went. The call goes on until the media connection drops too, or
    /// someone new arrives.
    peer_away: bool,
    /// ICE candidates that arrived before the connection was made.
    early_ice: Vec<RtcIceCandidateInit>,
    /// (Guest) an offer that arrived before the host's hello.
    early_offer: Option<String>,
    /// The last security code shown as locked, to tell the person when it changes.
    last_code: Option<SecurityCode>,
    /// The key confirmation last sent to the peer.
    confirm_sent: Option<Signal>,
    /// When to make a failing media connection again (the host makes connections).
    retry: Retry,
    /// The pending attempt's timer, and the hello that asked for it.
    retry_timer: Option<(gloo_timers::callback::Timeout, Signal)>,
    /// The connection whose certificate the browser has been checked against the bound one.
    certificate_checked: Option<u64>,
    /// Whether the person was told that this browser reports no remote certificate.
    said_certificate_unchecked: bool,
}

/// Milliseconds on the page's clock, for the pure call logic's timers.
/// Monotonic: a wall clock that steps (NTP, a resumed laptop) would fire or stall timers.
fn now_ms() -> u64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now()) as u64
}

/// Start a call for `id` in `role`; it ends when the calling component goes away.
pub fn use_call(id: CallId, role: CallRole, e2ee: bool, config: AppConfig) -> CallHandle {
    let (status, set_status) = signal(CallStatus::Preparing);
    let (shield, set_shield) = signal(ShieldState::Connecting);
    let (code, set_code) = signal(None::<SecurityCode>);
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
    };

    let (session_role, own, link_secret, commitment) = match role {
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
    };
    let policy = if config.e2ee_allowed { Policy::Allowed } else { Policy::Disabled };
    let mut session = Session::new(
        SessionConfig { role: session_role, call_id: id, e2ee, policy, suite: Default::default() },
        own,
        link_secret,
    );
    if let Some(commitment) = commitment {
        session.set_link_commitment(commitment);
    }
    set_shield.set(session.state());

    let call = Rc::new_cyclic(|me| {
        RefCell::new(Call {
            me: me.clone(),
            call_id: id,
            role: session_role,
            session,
            config,
            set,
            send: Rc::new(|_| {}),
            close_relay: Rc::new(|| {}),
            worker: None,
            link: None,
            linking: false,
            generation: 0,
            backlog: Vec::new(),
            camera: None,
            screen: None,
            remote_screen: None,
            screen_frames: (0, f64::NEG_INFINITY),
            screen_shown: false,
            _tick: None,
            worker_mode: None,
            chat_seq: 0,
            chat_pending: HashMap::new(),
            media_health: MediaHealth::default(),
            ended: false,
            peer_away: false,
            early_ice: Vec::new(),
            early_offer: None,
            last_code: None,
            confirm_sent: None,
            retry: Retry::new(),
            retry_timer: None,
            certificate_checked: None,
            said_certificate_unchecked: false,
        })
    });

    let weak = Rc::downgrade(&call);
    let UseRelayReturn { presence, send, close } =
        use_relay(&id.to_string(), move |inbound| with_call(&weak, |c| c.inbound(inbound.clone())));
    {
        let mut c = call.borrow_mut();
        c.send = send;
        c.close_relay = close;
    }

    let weak = Rc::downgrade(&call);
    let tick = gloo_timers::callback::Interval::new(1000, move || with_call(&weak, Call::tick));
    call.borrow_mut()._tick = Some(tick);

    let weak = Rc::downgrade(&call);
    spawn_local(async move {
        let camera = local_media(set).await;
        if let Some(camera) = &camera {
            list_devices(set, camera).await;
        }
        let worker = spawn_worker(&weak).await;
        with_call(&weak, |c| c.ready(camera, worker));
    });

    let stored = StoredValue::new_local(call);
    // Leaving the page ends the call: tracks stop, the worker (and its keys) goes.
    on_cleanup(move || {
        stored.with_value(|call| {
            forget_link(&id.to_string());
            call.borrow_mut().end(None)
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
        call: stored,
    }
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
    set.notices.update(|n| n.push(text));
}

impl Call {
    /// The camera and the worker are there: the call joins, and what waited for them goes in.
    fn ready(&mut self, camera: Option<MediaStream>, worker: Option<Rc<MediaWorker>>) {
        if self.ended {
            return;
        }
        self.camera = camera;
        self.worker = worker;
        if self.worker.is_none() {
            return;
        }
        self.set.status.set(CallStatus::Waiting);
        for inbound in std::mem::take(&mut self.backlog) {
            self.inbound(inbound);
        }
    }

    /// Once a second: the session's confirmation deadline, the retry countdown, how long the
    /// connection has been healthy, and a screen share that stopped.
    fn tick(&mut self) {
        let now = now_ms();
        let before = self.session.state();
        if self.session.handle_timeout(now) {
            // Half-way through the wait for the peer's confirmation.
            self.say_everything_again();
        } else if self.session.state() != before {
            self.follow_session();
        }
        if self.retry_timer.is_some() && !self.media_connected() {
            self.show_retry(now);
        } else if self.session.confirmed() && self.media_connected() {
            self.retry.healthy(now);
        } else {
            self.retry.unhealthy();
        }
        if self.media_health.tick(now) {
            self.show_media_problems();
        }
        let (_, at) = self.screen_frames;
        if self.screen_shown && js_sys::Date::now() - at > SCREEN_SHARE_IDLE_MS {
            self.screen_shown = false;
            self.set.remote_screen.set(None);
        }
    }

    /// The call is over for good (a hang-up on either side): this tab forgets the link too.
    /// Other endings (an error, a full call) keep it, so that a reload can try again.
    fn leave(&mut self, why: &str) {
        forget_link(&self.call_id.to_string());
        self.end(Some(why.into()));
    }

    /// End the call (`why` shown to the person, or nothing when the page is just leaving).
    fn end(&mut self, why: Option<String>) {
        if self.ended {
            return;
        }
        self.ended = true;
        (self.close_relay)();
        self.drop_link();
        self.worker = None;
        for stream in [self.camera.take(), self.screen.take()].into_iter().flatten() {
            stop_tracks(&stream);
        }
        self.set.self_view.try_set(None);
        self.set.remote_video.try_set(None);
        self.set.remote_screen.try_set(None);
        if let Some(why) = why {
            self.set.status.try_set(CallStatus::Ended(why));
        }
    }
}
