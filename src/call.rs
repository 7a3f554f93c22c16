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

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use js_sys::{Array, Object, Reflect};
use leptos::prelude::*;
use shieldcall_call::Retry;
use shieldcall_call::media_health::MediaHealth;
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::keys::dtls_fingerprint;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::link::LinkSecret;
use shieldcall_e2ee::session::{Policy, Role, Session, SessionConfig, ShieldState, WarningReason};
use shieldcall_protocol::{
    CallId, ChatOrder, Direction, Inbound, RelayEvent, SecretBytes, Signal, WorkerCommand,
    WorkerEvent,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    Event, MediaStream, MediaStreamConstraints, MediaStreamTrack, MessageEvent, RtcConfiguration,
    RtcDataChannel, RtcDataChannelInit, RtcIceCandidateInit, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcSdpType,
};

use crate::browser::peer::{
    MediaTransceivers, apply_remote, first_track, make_answer, make_offer, payload_types,
    remote_certificates,
};
use crate::browser::use_relay::{UseRelayReturn, use_relay};
use crate::browser::worker::{MediaWorker, WORKER_URL};
use crate::call_link::{CallRole, HostSecrets, forget_link, take_host_secrets};
use crate::components::ChatMessage;
use crate::config::AppConfig;

/// What a browser that reports no remote DTLS certificate (Firefox) is told: one of the checks
/// behind the lock cannot run there.
const CERTIFICATE_UNCHECKED: &str = "This browser does not report the media connection's \
    certificate, so one check is skipped here: that the certificate it accepted is the one the \
    keys are bound to. The call's setup names exactly one certificate, and a browser accepts \
    only the one named.";

/// A remote screen share with no new frame for this long is taken off the stage.
const SCREEN_SHARE_IDLE_MS: f64 = 2500.0;

/// Where the call is, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// Getting the camera and microphone, starting the media worker.
    Preparing,
    /// In the room, alone.
    Waiting,
    /// Agreeing keys and connecting media.
    Connecting,
    /// Media flows.
    Connected,
    /// The other person left; waiting for them to come back.
    PeerLeft,
    /// The media connection failed; the next attempt is this many seconds away (its number).
    Retrying { in_secs: u64, attempt: u32 },
    /// The call is over, and why.
    Ended(String),
}

/// What the call page reads and does.
#[derive(Clone)]
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
    call: StoredValue<Rc<RefCell<Call>>, LocalStorage>,
}

#[derive(Clone, Copy)]
struct Setters {
    status: WriteSignal<CallStatus>,
    shield: WriteSignal<ShieldState>,
    code: WriteSignal<Option<SecurityCode>>,
    warned_in_call: WriteSignal<Option<WarningReason>>,
    notices: WriteSignal<Vec<String>>,
    media_problems: WriteSignal<Vec<String>>,
    self_view: WriteSignal<Option<MediaStream>, LocalStorage>,
    remote_video: WriteSignal<Option<MediaStream>, LocalStorage>,
    remote_screen: WriteSignal<Option<MediaStream>, LocalStorage>,
    chat: WriteSignal<Vec<ChatMessage>>,
    mic_on: WriteSignal<bool>,
    camera_on: WriteSignal<bool>,
    sharing: WriteSignal<bool>,
    microphones: WriteSignal<Vec<(String, String)>>,
    cameras: WriteSignal<Vec<(String, String)>>,
    microphone: WriteSignal<Option<String>>,
    camera: WriteSignal<Option<String>>,
}

/// The per-peer part of a call: made when the other person's hello arrives, dropped when they
/// leave.
struct Link {
    pc: RtcPeerConnection,
    media: MediaTransceivers,
    chat: RtcDataChannel,
    remote_description_set: bool,
    pending_ice: Vec<RtcIceCandidateInit>,
    _closures: Vec<Closure<dyn FnMut(Event)>>,
}

/// What a person who opens a full call is told. The relay may still hold the place of someone
/// who just reloaded (until it finds their old connection dead, up to a minute).
pub const CALL_FULL: &str = "This call already has two people. If you were in it a moment ago, \
    wait a minute and open the link again; otherwise ask for a new link.";

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

/// The id of the next chat command to the worker (seal, report or open), which its answer
/// carries back. (A field, not a method: callers hold the worker borrowed meanwhile.)
fn next_chat_id(chat_seq: &mut u32) -> u32 {
    *chat_seq += 1;
    *chat_seq
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

impl CallHandle {
    fn act(&self, f: impl FnOnce(&mut Call, Weak<RefCell<Call>>)) {
        self.call.with_value(|call| {
            let weak = Rc::downgrade(call);
            if let Ok(mut c) = call.try_borrow_mut() {
                f(&mut c, weak);
            }
        });
    }

    /// Send a chat message (encrypted in the worker under E2EE).
    pub fn send_chat(&self, text: String) {
        self.act(|c, _| c.send_chat(text));
    }

    pub fn toggle_mic(&self) {
        self.act(|c, _| c.toggle_track("audio"));
    }

    pub fn toggle_camera(&self) {
        self.act(|c, _| c.toggle_track("video"));
    }

    pub fn toggle_screen_share(&self) {
        self.act(|c, weak| c.toggle_screen_share(weak));
    }

    /// Use another microphone (`kind` "audio") or camera ("video").
    pub fn use_device(&self, kind: &'static str, device_id: String) {
        self.act(|c, weak| c.use_device(kind, device_id, weak));
    }

    /// The call as one stream to record: the other person's camera, and both voices mixed.
    /// `None` before the other person's media is there. Stop it with [`stop_mix`].
    pub fn recording_mix(&self) -> Option<RecordingMix> {
        let mut mix = None;
        self.act(|c, _| mix = c.recording_mix());
        mix
    }

    /// Leave the call.
    pub fn hang_up(&self) {
        self.act(|c, _| {
            if !c.ended {
                (c.send)(&Signal::Bye {});
            }
            c.leave("You left the call.")
        });
    }
}

async fn spawn_worker(weak: &Weak<RefCell<Call>>) -> Option<Rc<MediaWorker>> {
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

/// The camera and microphone, or whatever of them the person allows; the call goes on without
/// the rest, and says so.
async fn local_media(set: Setters) -> Option<MediaStream> {
    let devices = web_sys::window()?.navigator().media_devices().ok()?;
    let mut denied = None;
    for (audio, video) in [(true, true), (true, false), (false, true)] {
        let constraints = MediaStreamConstraints::new();
        constraints.set_audio(&audio.into());
        constraints.set_video(&video.into());
        let Ok(request) = devices.get_user_media_with_constraints(&constraints) else { continue };
        match JsFuture::from(request).await {
            Ok(stream) => {
                let stream: MediaStream = stream.unchecked_into();
                if !(audio && video) {
                    let missing = if audio { "camera" } else { "microphone" };
                    notice(
                        set,
                        format!("Your {missing} is unavailable; the call goes on without it."),
                    );
                    set.camera_on.set(video);
                    set.mic_on.set(audio);
                }
                set.self_view.set(Some(Clone::clone(&stream)));
                return Some(stream);
            }
            Err(err) => {
                denied.get_or_insert(error_name(&err));
            }
        }
    }
    set.camera_on.set(false);
    set.mic_on.set(false);
    let why = match denied.as_deref() {
        Some("NotAllowedError") => "You blocked the camera and microphone",
        _ => "No camera or microphone could be used",
    };
    notice(set, format!("{why}; you can still hear, see and chat with the other person."));
    None
}

/// Fill the device pickers, and mark the devices `camera` uses.
async fn list_devices(set: Setters, camera: &MediaStream) {
    let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok()) else {
        return;
    };
    let Ok(request) = devices.enumerate_devices() else { return };
    let Ok(list) = JsFuture::from(request).await else { return };
    let (mut microphones, mut cameras) = (Vec::new(), Vec::new());
    for info in Array::from(&list).iter().map(|d| d.unchecked_into::<web_sys::MediaDeviceInfo>()) {
        let entry = (info.device_id(), info.label());
        match info.kind() {
            web_sys::MediaDeviceKind::Audioinput => microphones.push(entry),
            web_sys::MediaDeviceKind::Videoinput => cameras.push(entry),
            _ => {}
        }
    }
    set.microphones.set(microphones);
    set.cameras.set(cameras);
    set.microphone.set(first_track(camera, "audio").and_then(|t| device_of(&t)));
    set.camera.set(first_track(camera, "video").and_then(|t| device_of(&t)));
}

/// The device id a track comes from.
fn device_of(track: &MediaStreamTrack) -> Option<String> {
    Reflect::get(&track.get_settings(), &"deviceId".into()).ok()?.as_string()
}

/// A recording's stream, with the audio graph that mixes the two voices (closed by
/// [`stop_mix`]).
pub struct RecordingMix {
    pub stream: MediaStream,
    context: web_sys::AudioContext,
}

/// Release the audio graph of a finished recording.
pub fn stop_mix(mix: RecordingMix) {
    let _ = mix.context.close();
}

fn error_name(err: &JsValue) -> String {
    Reflect::get(err, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default()
}

fn notice(set: Setters, text: String) {
    set.notices.update(|n| n.push(text));
}

impl Call {
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

    fn inbound(&mut self, inbound: Inbound) {
        if self.ended {
            return;
        }
        if self.worker.is_none() {
            self.backlog.push(inbound);
            return;
        }
        match inbound {
            Inbound::Relay(RelayEvent::Joined { peers, .. }) if peers > 0 => {
                // Back on the relay after our own socket dropped: whatever happened meanwhile
                // (the other person may have reloaded, and that news is lost), their hello
                // tells whether they are the same person, as after a `peer-left`.
                if self.link.is_some() {
                    self.peer_away = true;
                }
                self.session.relay_rejoined();
                self.session.expect_peer();
                // Our confirmation may have been lost with the old socket.
                self.say_everything_again();
            }
            Inbound::Relay(RelayEvent::Joined { .. }) => self.session.relay_rejoined(),
            // Whether this is the same person back on the relay or someone new, their hello
            // tells (see `peer_hello`).
            Inbound::Relay(RelayEvent::PeerJoined) => {
                self.session.expect_peer();
                self.say_hello()
            }
            Inbound::Relay(RelayEvent::PeerLeft) => self.peer_away(),
            Inbound::Relay(RelayEvent::Full) => self.end(Some(CALL_FULL.into())),
            Inbound::Relay(RelayEvent::Error { reason }) => {
                web_sys::console::warn_1(&format!("relay: {reason}").into())
            }
            Inbound::Peer(hello @ Signal::Hello { .. }) => self.peer_hello(&hello),
            Inbound::Peer(confirm @ Signal::Confirm { .. }) => {
                if self.session.peer_confirm(&confirm).is_err() {
                    web_sys::console::warn_1(&"relay: a malformed key confirmation".into());
                }
                self.follow_session();
            }
            Inbound::Peer(Signal::Offer { sdp }) => self.offer(sdp),
            Inbound::Peer(Signal::Answer { sdp }) => self.answer(sdp),
            Inbound::Peer(Signal::Ice { candidate, sdp_mid, sdp_m_line_index }) => {
                let init = RtcIceCandidateInit::new(&candidate);
                init.set_sdp_mid(sdp_mid.as_deref());
                init.set_sdp_m_line_index(sdp_m_line_index);
                self.add_ice(init);
            }
            Inbound::Peer(Signal::Bye {}) => self.leave("The other person hung up."),
        }
    }

    fn say_hello(&mut self) {
        // A call whose media still flows stays "connected" through a relay reconnection.
        if !self.media_connected() {
            self.set.status.set(CallStatus::Connecting);
        }
        (self.send)(&self.session.hello());
    }

    /// Say hello and repeat this side's key confirmation (if there is one), in case either was
    /// lost with a relay socket: the peer then repeats its own, or the host starts afresh.
    fn say_everything_again(&mut self) {
        self.say_hello();
        self.confirm_sent = None;
        self.follow_session();
    }

    fn media_connected(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.pc.connection_state() == RtcPeerConnectionState::Connected)
    }

    fn peer_hello(&mut self, hello: &Signal) {
        if self.peer_away {
            self.peer_away = false;
            if !self.session.knows_peer(hello) {
                // Someone new (the same person after a reload, say): start afresh with them.
                self.peer_left();
                self.backlog.push(Inbound::Peer(hello.clone()));
                return;
            }
            // The same person, back on the relay; the media connection never dropped.
        }
        let known = self.session.knows_peer(hello);
        let healthy = self.session.confirmed() && self.media_connected();
        let warned = matches!(self.session.state(), ShieldState::Warning { .. });
        let stalled = !healthy && !warned;
        if known && self.role == Role::Host && self.link.is_some() && stalled {
            // The same person again, before the agreement was confirmed or while the media
            // connection is down: the relay dropped while the offer, answer or confirmations
            // were on their way (none of them is ever sent twice), or the network changed under
            // the connection. Start it afresh (new certificates, so a new transcript and new
            // keys), after a delay that grows while attempts keep failing; the guest answers a
            // new offer as it would any.
            return self.retry_later(hello.clone());
        }
        let _ = self.session.peer_hello(hello);
        if known {
            // Our confirmation may have been lost with the relay: say it again. (Only to the
            // same person: to someone new it would be about another agreement.)
            self.confirm_sent = None;
        }
        self.follow_session();
        if self.role == Role::Host && self.link.is_none() && !self.linking {
            self.start_link(None);
        }
        if let Some(sdp) = self.early_offer.take() {
            self.offer(sdp);
        }
    }

    /// Schedule the next attempt at the media connection (once: both sides' reports of the
    /// same failure share it), and say when it will be.
    fn retry_later(&mut self, hello: Signal) {
        let now = now_ms();
        let attempt = self.retry.failed(now);
        self.show_retry(now);
        if self.retry_timer.is_some() {
            return;
        }
        let weak = self.me.clone();
        let delay = u32::try_from(attempt.at_ms.saturating_sub(now)).unwrap_or(u32::MAX);
        let timer = gloo_timers::callback::Timeout::new(delay, move || {
            with_call(&weak, Call::retry_due);
        });
        self.retry_timer = Some((timer, hello));
    }

    fn show_retry(&self, now: u64) {
        if let Some(attempt) = self.retry.pending() {
            self.set.status.set(CallStatus::Retrying {
                in_secs: attempt.seconds_from(now),
                attempt: attempt.number,
            });
        }
    }

    /// The pending attempt is due: make the connection again, unless it recovered meanwhile,
    /// the other person left, or a warning stopped the call's media.
    fn retry_due(&mut self) {
        let Some((_, hello)) = self.retry_timer.take() else { return };
        // The timer is the clock here: whatever the page's clock did meanwhile, it is due.
        self.retry.cancel();
        if self.ended {
            return;
        }
        let warned = matches!(self.session.state(), ShieldState::Warning { .. });
        if self.link.is_none() || warned || (self.session.confirmed() && self.media_connected()) {
            let status =
                if self.media_connected() { CallStatus::Connected } else { CallStatus::Connecting };
            return self.set.status.set(status);
        }
        self.set.status.set(CallStatus::Connecting);
        self.session.restart_connection();
        self.reset_media();
        self.backlog.push(Inbound::Peer(hello));
    }

    /// Once the media connection is up: the certificate the browser accepted must be the one
    /// the peer's description named, which the keys and the confirmations are bound to.
    fn check_certificate(&mut self) {
        let Some(link) = &self.link else { return };
        if self.certificate_checked == Some(self.generation) {
            return;
        }
        self.certificate_checked = Some(self.generation);
        let (pc, generation, weak) = (link.pc.clone(), self.generation, self.me.clone());
        spawn_local(async move {
            let certificates = remote_certificates(&pc).await;
            with_call(&weak, |c| {
                if c.generation != generation {
                    return;
                }
                if certificates.is_empty() {
                    // Nothing to compare (Firefox's statistics have no certificates): the
                    // descriptions' single fingerprint is then all that binds DTLS. Said once.
                    if !c.said_certificate_unchecked {
                        c.said_certificate_unchecked = true;
                        notice(c.set, CERTIFICATE_UNCHECKED.into());
                    }
                    return;
                }
                for (algorithm, fingerprint) in &certificates {
                    c.session.remote_certificate(algorithm, fingerprint);
                }
                c.follow_session();
            });
        });
    }

    /// Make the peer connection: the host with its offer, the guest with the host's.
    fn start_link(&mut self, offer: Option<String>) {
        let Some(worker) = self.worker.clone() else { return };
        self.retry.started(now_ms());
        let configuration = self.rtc_configuration();
        let _ = worker.configure(&configuration);
        let pc = match RtcPeerConnection::new_with_configuration(&configuration) {
            Ok(pc) => pc,
            Err(_) => {
                return self.end(Some("This browser could not start a call connection.".into()));
            }
        };
        let chat_init = RtcDataChannelInit::new();
        // Negotiated on both sides with the same id: no in-band announcement to wait for.
        chat_init.set_negotiated(true);
        chat_init.set_id(0);
        let chat = pc.create_data_channel_with_data_channel_dict("chat", &chat_init);
        // Codecs are chosen from what the hellos say; the worker still waits for the
        // confirmed agreement (keys, or transport only) before any frame passes.
        let e2ee = self.session.e2ee_intended();
        let weak = self.me.clone();
        let closures = wire_events(&pc, &chat, &weak);
        self.linking = true;
        let generation = self.generation;
        let pending = PendingLink { generation, chat, closures };
        spawn_local(async move {
            let result = negotiate(&weak, &pc, &worker, e2ee, offer, pending).await;
            if let Err(error) = result {
                pc.close();
                let detail = error.as_string().or_else(|| {
                    error.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))
                });
                let detail = detail.unwrap_or_else(|| "unknown error".into());
                web_sys::console::warn_1(&format!("offer/answer failed: {detail}").into());
                with_call(&weak, |c| {
                    // A connection dropped meanwhile fails its next step: that is no failure.
                    if c.generation == generation {
                        c.end(Some("The call could not be set up (offer/answer failed).".into()))
                    }
                });
            }
        });
    }

    fn rtc_configuration(&self) -> RtcConfiguration {
        let configuration = RtcConfiguration::new();
        let servers = Array::new();
        for server in &self.config.ice_servers {
            let entry = Object::new();
            let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
            let _ = Reflect::set(&entry, &"urls".into(), &urls);
            if let Some(username) = &server.username {
                let _ = Reflect::set(&entry, &"username".into(), &username.into());
            }
            if let Some(credential) = &server.credential {
                let _ = Reflect::set(&entry, &"credential".into(), &credential.into());
            }
            servers.push(&entry);
        }
        configuration.set_ice_servers(&servers);
        configuration
    }
}

/// Trickle ICE to the peer, follow the connection state, and hear the chat.
fn wire_events(
    pc: &RtcPeerConnection,
    chat: &RtcDataChannel,
    weak: &Weak<RefCell<Call>>,
) -> Vec<Closure<dyn FnMut(Event)>> {
    let on_ice = {
        let weak = weak.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            let Some(candidate) = event.candidate() else { return };
            let signal = Signal::Ice {
                candidate: candidate.candidate(),
                sdp_mid: candidate.sdp_mid(),
                sdp_m_line_index: candidate.sdp_m_line_index(),
            };
            with_call(&weak, |c| (c.send)(&signal));
        })
    };
    pc.set_onicecandidate(Some(on_ice.as_ref().unchecked_ref()));
    let on_state = {
        let weak = weak.clone();
        let pc = pc.clone();
        Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let state = pc.connection_state();
            with_call(&weak, |c| match state {
                RtcPeerConnectionState::Connected => {
                    c.set.status.set(CallStatus::Connected);
                    c.check_certificate();
                }
                RtcPeerConnectionState::Disconnected | RtcPeerConnectionState::Failed
                    if c.peer_away =>
                {
                    c.peer_left()
                }
                RtcPeerConnectionState::Failed => {
                    notice(c.set, "The media connection failed; trying to connect again.".into());
                    // The host starts a new connection when it hears this (see `peer_hello`).
                    c.say_hello();
                }
                _ => {}
            });
        })
    };
    pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
    let on_chat = {
        let weak = weak.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let Some(text) = event.unchecked_into::<MessageEvent>().data().as_string() else {
                return;
            };
            with_call(&weak, |c| c.chat_received(text));
        })
    };
    chat.set_onmessage(Some(on_chat.as_ref().unchecked_ref()));
    vec![on_ice, on_state, on_chat]
}

impl Call {
    fn offer(&mut self, sdp: String) {
        if self.role != Role::Guest {
            return;
        }
        if !self.session.has_peer() {
            // The host says hello before it offers; an offer without one may be the relay's.
            // It waits for the hello (and the wait for a confirmation runs meanwhile).
            self.early_offer = Some(sdp);
            return;
        }
        if self.link.is_some() || self.linking {
            // The host started a new connection (after losing this page's relay socket, say):
            // new connection, new agreement, and a fresh worker, so that no transform ever runs
            // on keys of the old connection with its counters starting again.
            self.session.restart_connection();
            self.reset_media();
            self.backlog.push(Inbound::Peer(Signal::Offer { sdp }));
            return;
        }
        if dtls_fingerprint(&sdp).is_err() {
            // An offer that names no certificate, or more than one, is not answered: the browser
            // might accept a certificate the keys are not bound to. The shield says why; the
            // host, without a confirmation, says so too.
            let _ = self.session.remote_sdp(&sdp);
            return self.follow_session();
        }
        self.start_link(Some(sdp));
    }

    fn answer(&mut self, sdp: String) {
        if self.role != Role::Host {
            return;
        }
        let Some(link) = &self.link else { return };
        let pc = link.pc.clone();
        let awaiting = Reflect::get(&pc, &"signalingState".into()).ok().and_then(|s| s.as_string());
        if awaiting.as_deref() != Some("have-local-offer") {
            // Not waiting for an answer: one for an offer of an earlier connection, or a copy.
            return web_sys::console::warn_1(&"relay: an answer nobody waits for".into());
        }
        // The session takes the answer's fingerprint now, not once the browser has applied it:
        // the guest's key confirmation comes right behind the answer and must find the
        // transcript complete. (An answer the browser refuses ends the call.) An answer that
        // names no certificate, or more than one, is never given to the browser.
        if self.session.remote_sdp(&sdp).is_err() {
            return self.follow_session();
        }
        let weak = self.me.clone();
        let generation = self.generation;
        spawn_local(async move {
            let applied = apply_remote(&pc, RtcSdpType::Answer, &sdp).await;
            with_call(&weak, |c| match applied {
                // The connection was dropped meanwhile: nothing to do.
                _ if c.generation != generation => {}
                Ok(()) => {
                    c.remote_description_applied();
                }
                Err(_) => c.end(Some("The other person's answer was not valid.".into())),
            });
        });
    }

    /// Both descriptions of the connection are in: the worker learns the negotiated codecs
    /// (it drops every frame until then), and the ICE candidates kept for it go in.
    fn remote_description_applied(&mut self) {
        if let Some(link) = &mut self.link {
            if let Some(worker) = &self.worker {
                let payload_types = payload_types(&link.pc);
                let _ = worker.command(&WorkerCommand::Codecs { payload_types });
            }
            link.remote_description_set = true;
            for init in link.pending_ice.drain(..) {
                let _ = link.pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
            }
        }
        self.follow_session();
    }

    fn add_ice(&mut self, init: RtcIceCandidateInit) {
        match &mut self.link {
            Some(link) if link.remote_description_set => {
                let _ = link.pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
            }
            Some(link) => link.pending_ice.push(init),
            // The host trickles right after its offer, while the guest's connection is still
            // being made: keep them for it.
            None => self.early_ice.push(init),
        }
    }

    /// Send the session's key confirmation once there is one (again only when it changes, or
    /// when `confirm_sent` was cleared to repeat it).
    fn send_confirmation(&mut self) {
        match self.session.confirm() {
            None => self.confirm_sent = None,
            Some(confirm) if self.confirm_sent.as_ref() != Some(&confirm) => {
                (self.send)(&confirm);
                self.confirm_sent = Some(confirm);
            }
            Some(_) => {}
        }
    }

    /// Show the session's state and give the worker the matching command.
    fn follow_session(&mut self) {
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

    /// A chat message of the other person's arrived after a gap, or late: say so here, and
    /// tell them (sealed like any message), so that both people know.
    fn chat_order_seen(&mut self, order: ChatOrder) {
        let Some(warning) = order.notice() else { return };
        notice(self.set, warning);
        if let Some(worker) = &self.worker {
            let id = next_chat_id(&mut self.chat_seq);
            self.chat_pending.insert(id, None);
            let _ = worker.command(&WorkerCommand::SealChatReport { id, order });
        }
    }

    fn show_media_problems(&self) {
        let problems = self.media_health.problems().iter().map(|p| p.sentence()).collect();
        self.set.media_problems.set(problems);
    }

    fn send_chat(&mut self, text: String) {
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

    fn chat_sent(&mut self, text: String, sent: bool) {
        if sent {
            self.chat_shown(true, text);
        } else {
            notice(self.set, "Your message could not be sent.".into());
        }
    }

    fn chat_received(&mut self, text: String) {
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

    fn chat_shown(&mut self, from_me: bool, text: String) {
        let at = js_sys::Date::new_0();
        let at = format!("{:02}:{:02}", at.get_hours(), at.get_minutes());
        self.set.chat.update(|m| m.push(ChatMessage { from_me, text, at: Some(at) }));
    }

    fn toggle_track(&mut self, kind: &str) {
        let Some(camera) = &self.camera else {
            return notice(
                self.set,
                format!(
                    "There is no {} to turn on.",
                    if kind == "audio" { "microphone" } else { "camera" }
                ),
            );
        };
        let tracks =
            if kind == "audio" { camera.get_audio_tracks() } else { camera.get_video_tracks() };
        let mut on = false;
        for track in tracks.iter().map(|t| t.unchecked_into::<MediaStreamTrack>()) {
            // A disabled track still sends (silence, black), encrypted like the rest.
            track.set_enabled(!track.enabled());
            on = track.enabled();
        }
        if kind == "audio" { self.set.mic_on.set(on) } else { self.set.camera_on.set(on) }
    }

    fn use_device(&mut self, kind: &'static str, device_id: String, weak: Weak<RefCell<Call>>) {
        let Some(camera) = self.camera.clone() else { return };
        let media = self.link.as_ref().map(|link| link.media.clone());
        let set = self.set;
        spawn_local(async move {
            let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok())
            else {
                return;
            };
            let exact = Object::new();
            let _ = Reflect::set(&exact, &"exact".into(), &device_id.clone().into());
            let wanted = Object::new();
            let _ = Reflect::set(&wanted, &"deviceId".into(), &exact);
            let constraints = MediaStreamConstraints::new();
            if kind == "audio" {
                constraints.set_audio(&wanted);
            } else {
                constraints.set_video(&wanted);
            }
            let Ok(request) = devices.get_user_media_with_constraints(&constraints) else { return };
            let Ok(stream) = JsFuture::from(request).await else {
                return notice(set, "That device could not be used.".into());
            };
            let stream: MediaStream = stream.unchecked_into();
            let Some(track) = first_track(&stream, kind) else { return };
            // The new track replaces the old one in place: same stream, same sender, no
            // renegotiation; a muted microphone stays muted.
            if let Some(old) = first_track(&camera, kind) {
                track.set_enabled(old.enabled());
                camera.remove_track(&old);
                old.stop();
            }
            camera.add_track(&track);
            if let Some(media) = media {
                let slot = if kind == "audio" { Slot::MicAudio } else { Slot::Camera };
                let _ = media.send(slot, Some(&track)).await;
            }
            if kind == "audio" {
                set.microphone.set(Some(device_id));
            } else {
                set.camera.set(Some(device_id));
            }
            with_call(&weak, |c| c.set.self_view.set(c.camera.clone()));
        });
    }

    fn recording_mix(&self) -> Option<RecordingMix> {
        let link = self.link.as_ref()?;
        let context = web_sys::AudioContext::new().ok()?;
        let destination = context.create_media_stream_destination().ok()?;
        let mut sources = vec![link.media.remote_track(Slot::MicAudio)];
        sources.push(self.camera.as_ref().and_then(|c| first_track(c, "audio")));
        for track in sources.into_iter().flatten() {
            let stream = MediaStream::new_with_tracks(&Array::of1(&track)).ok()?;
            let source = context.create_media_stream_source(&stream).ok()?;
            let _ = source.connect_with_audio_node(&destination);
        }
        let stream = destination.stream();
        if let Some(video) = link.media.remote_track(Slot::Camera) {
            stream.add_track(&video);
        }
        Some(RecordingMix { stream, context })
    }

    fn toggle_screen_share(&mut self, weak: Weak<RefCell<Call>>) {
        if let Some(screen) = self.screen.take() {
            stop_tracks(&screen);
            self.set.sharing.set(false);
            if let Some(link) = &self.link {
                let media = link.media.clone();
                spawn_local(async move {
                    let _ = media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, None).await;
                });
            }
            return;
        }
        spawn_local(async move {
            let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok())
            else {
                return;
            };
            let constraints = web_sys::DisplayMediaStreamConstraints::new();
            constraints.set_video(&true.into());
            constraints.set_audio(&true.into());
            let Ok(request) = devices.get_display_media_with_constraints(&constraints) else {
                return;
            };
            let screen: MediaStream = match JsFuture::from(request).await {
                Ok(stream) => stream.unchecked_into(),
                Err(_) => {
                    with_call(&weak, |c| {
                        notice(c.set, "Screen sharing was cancelled or blocked.".into())
                    });
                    return;
                }
            };
            let mut media = None;
            with_call(&weak, |c| {
                c.screen = Some(Clone::clone(&screen));
                c.set.sharing.set(true);
                if first_track(&screen, "audio").is_none() {
                    // Firefox never shares sound; Chromium only when the person ticks it.
                    notice(c.set, "Your screen is shared without its sound.".into());
                }
                media = c.link.as_ref().map(|link| link.media.clone());
            });
            // The browser's own "Stop sharing" ends the track: follow it.
            if let Some(video) = first_track(&screen, "video") {
                let weak = weak.clone();
                let on_ended = Closure::once_into_js(move || {
                    with_call(&weak, |c| {
                        if c.screen.is_some() {
                            c.toggle_screen_share(weak.clone());
                        }
                    })
                });
                video.set_onended(Some(on_ended.unchecked_ref()));
            }
            if let Some(media) = media {
                let _ =
                    media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, Some(&screen)).await;
            }
        });
    }

    /// The relay says the other person left. With media still connected, wait: only their
    /// relay connection may have gone (or the relay itself).
    fn peer_away(&mut self) {
        if self.media_connected() {
            self.peer_away = true;
        } else {
            self.peer_left();
        }
    }

    /// The other person left: drop everything learnt from them and wait for them to return.
    fn peer_left(&mut self) {
        self.peer_away = false;
        // An attempt meant for the old connection must not cut the next person's, and the next
        // person starts a fresh schedule.
        self.retry.reset();
        self.retry_timer = None;
        self.early_offer = None;
        self.session.restart();
        self.reset_media();
        self.set.status.set(CallStatus::PeerLeft);
    }

    /// Drop the connection and its media worker, and start a fresh worker; inbound messages
    /// wait in the backlog until it runs. The worker's transforms belonged to the old
    /// connection: a fresh worker (and fresh counters under the next keys) serves the next.
    fn reset_media(&mut self) {
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

    fn drop_link(&mut self) {
        self.generation += 1;
        self.linking = false;
        self.early_ice.clear();
        if let Some(link) = self.link.take() {
            link.chat.set_onmessage(None);
            link.pc.set_onicecandidate(None);
            link.pc.set_onconnectionstatechange(None);
            link.chat.close();
            link.pc.close();
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

fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

/// What the media worker was last told to do with frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WorkerMode {
    Keys,
    TransportOnly,
    AwaitKeys,
}

/// What `start_link` hands `negotiate` for the link it will make.
struct PendingLink {
    /// The connection this is, so that a reset meanwhile makes it let go.
    generation: u64,
    chat: RtcDataChannel,
    closures: Vec<Closure<dyn FnMut(Event)>>,
}

/// Transceivers, local tracks, offer or answer: everything between "make a connection" and
/// "the descriptions are exchanged".
async fn negotiate(
    weak: &Weak<RefCell<Call>>,
    pc: &RtcPeerConnection,
    worker: &MediaWorker,
    e2ee: bool,
    offer: Option<String>,
    pending: PendingLink,
) -> Result<(), JsValue> {
    let PendingLink { generation, chat, closures } = pending;
    let media = match &offer {
        None => MediaTransceivers::create(pc, worker, e2ee)?,
        Some(sdp) => {
            apply_remote(pc, RtcSdpType::Offer, sdp).await?;
            MediaTransceivers::adopt(pc, worker, e2ee)?
        }
    };
    let (mut camera, mut screen) = (None, None);
    let mut ended = true;
    with_call(weak, |c| {
        // Ended, or this connection was dropped (a reset) while the offer was being applied.
        if c.ended || c.generation != generation {
            return;
        }
        ended = false;
        camera = c.camera.clone();
        screen = c.screen.clone();
        c.linking = false;
        c.link = Some(Link {
            pc: pc.clone(),
            media: media.clone(),
            chat,
            remote_description_set: offer.is_some(),
            pending_ice: std::mem::take(&mut c.early_ice),
            _closures: closures,
        });
        if let Some(sdp) = &offer {
            let _ = c.session.remote_sdp(sdp);
        }
        c.show_remote_media(&media);
    });
    if ended {
        pc.close();
        return Ok(());
    }
    if let Some(camera) = &camera {
        media.send_stream(Slot::MicAudio, Slot::Camera, Some(camera)).await?;
    }
    // A screen share started before this connection (while waiting, or before a reconnection).
    if let Some(screen) = &screen {
        media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, Some(screen)).await?;
    }
    let (local, signal) = match offer {
        None => {
            let sdp = make_offer(pc, e2ee).await?;
            (sdp.clone(), Signal::Offer { sdp })
        }
        Some(_) => {
            let sdp = make_answer(pc, e2ee).await?;
            (sdp.clone(), Signal::Answer { sdp })
        }
    };
    with_call(weak, |c| {
        // A connection dropped meanwhile must not send its offer or answer.
        if c.generation != generation {
            return;
        }
        if c.session.local_sdp(&local).is_err() {
            // This browser's own description names no certificate or more than one: nothing
            // can bind it, so it is not sent (the shield says why).
            return c.follow_session();
        }
        (c.send)(&signal);
        c.remote_description_applied_if_guest();
    });
    Ok(())
}

impl Call {
    fn remote_description_applied_if_guest(&mut self) {
        if self.role == Role::Guest {
            self.remote_description_applied();
        } else {
            self.follow_session();
        }
    }

    /// The other person's camera and microphone as one stream; their screen share as another,
    /// shown only while frames arrive on it.
    fn show_remote_media(&mut self, media: &MediaTransceivers) {
        let tracks: Array = [Slot::MicAudio, Slot::Camera]
            .into_iter()
            .filter_map(|slot| media.remote_track(slot))
            .collect();
        self.set.remote_video.set(MediaStream::new_with_tracks(&tracks).ok());
        let screen_tracks: Array = [Slot::ScreenVideo, Slot::ScreenAudio]
            .into_iter()
            .filter_map(|slot| media.remote_track(slot))
            .collect();
        self.remote_screen = MediaStream::new_with_tracks(&screen_tracks).ok();
        self.screen_frames = (0, f64::NEG_INFINITY);
        self.screen_shown = false;
        self.set.remote_screen.set(None);
    }

    /// The other person shares their screen while its frames arrive: shown on the first new
    /// frames, hidden when none came for a while. (Mute events of the receiving track are not
    /// a reliable sign of this.)
    fn screen_frames_seen(&mut self, total: u64) {
        let (last, _) = self.screen_frames;
        if total > last {
            self.screen_frames = (total, js_sys::Date::now());
            if !self.screen_shown {
                self.screen_shown = true;
                self.set.remote_screen.set(self.remote_screen.clone());
            }
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
}
