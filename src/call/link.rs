//! The peer connection of one attempt, as the controller asks for it: made (the host with its
//! offer, the guest with the host's), negotiated, its ICE candidates and state changes fed
//! back, and dropped. Every report carries the attempt's generation: the controller alone
//! decides what is stale.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use js_sys::{Array, Object, Reflect};
use leptos::prelude::*;
use shieldcall_call::config::IceSettings;
use shieldcall_call::controller::{Generation, IceCandidate, Input, LinkState};
use shieldcall_e2ee::layout::Slot;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    Event, MediaStream, MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit,
    RtcDataChannelState, RtcDataChannelType, RtcIceCandidateInit, RtcIceGatheringState,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcSdpType,
};

use super::{Call, with_call};
use crate::browser::peer::{
    MediaTransceivers, apply_remote, make_answer, make_offer, payload_types,
};
use crate::browser::task::in_a_task;
use crate::browser::worker::MediaWorker;

/// The browser's objects of the current attempt.
pub(super) struct Link {
    pub(super) generation: Generation,
    pub(super) pc: RtcPeerConnection,
    /// The transceivers, once made.
    pub(super) media: Option<MediaTransceivers>,
    pub(super) chat: RtcDataChannel,
    _closures: Vec<Closure<dyn FnMut(Event)>>,
}

/// A connection the browser made ahead, while the host waited alone
/// ([`Effect::PrepareConnection`](shieldcall_call::controller::Effect::PrepareConnection)):
/// its transceivers on the media worker of the time, its offer made or on its way, and what ICE
/// found meanwhile, kept for the attempt that takes it.
pub(super) struct PreparedLink {
    e2ee: bool,
    ice: IceSettings,
    worker: Rc<MediaWorker>,
    pc: RtcPeerConnection,
    chat: RtcDataChannel,
    media: MediaTransceivers,
    offer: Shared<LocalBoxFuture<'static, Result<String, JsValue>>>,
    ice_news: Rc<RefCell<IceSink>>,
    closures: Vec<Closure<dyn FnMut(Event)>>,
}

impl PreparedLink {
    fn close(self) {
        close_connection(&self.pc, &self.chat);
    }
}

impl Call {
    /// (Host, alone in the room) make the connection to offer now: transceivers, chat channel
    /// and offer, ICE gathering kept, for the `Connect` that comes with the other person.
    pub(super) fn prepare_connection(&mut self, e2ee: bool, ice: IceSettings) {
        self.drop_prepared();
        let Some(worker) = self.worker.clone() else { return };
        let Some((pc, chat)) = new_connection(&worker, &ice, None) else { return };
        let Ok(media) = MediaTransceivers::create(&pc, &worker, e2ee) else {
            return close_connection(&pc, &chat);
        };
        let ice_news = Rc::new(RefCell::new(IceSink::default()));
        let closures = wire_ice(&pc, &ice_news);
        let offer = {
            let pc = pc.clone();
            async move { make_offer(&pc, e2ee).await }.boxed_local().shared()
        };
        spawn_local(offer.clone().map(drop));
        self.prepared =
            Some(PreparedLink { e2ee, ice, worker, pc, chat, media, offer, ice_news, closures });
    }

    /// Close the prepared connection, if there is one.
    pub(super) fn drop_prepared(&mut self) {
        if let Some(prepared) = self.prepared.take() {
            prepared.close();
        }
    }

    /// (Guest) make the next connection's certificate now, while nothing waits for it (the
    /// first one was started on the pre-join screen): the guest confirms with its fingerprint
    /// as soon as the offer arrives (PROTOCOL.md change 52).
    pub(super) fn make_certificate(&mut self) {
        let weak = self.me.clone();
        let early = EARLY_CERTIFICATE.with(|early| early.borrow_mut().take());
        let making = early.or_else(generate_certificate);
        spawn_local(async move {
            let made = match making {
                Some(making) => with_fingerprint(making).await,
                None => None,
            };
            with_call(&weak, |c| {
                let fingerprint = made.map(|(certificate, fingerprint)| {
                    c.next_certificate = Some(certificate);
                    fingerprint
                });
                c.handle(Input::Certificate { fingerprint });
            });
        });
    }

    /// Make the peer connection: the host with its offer, the guest with the host's (with the
    /// certificate made ahead, if `certificate`).
    pub(super) fn connect(
        &mut self,
        generation: Generation,
        offer: Option<String>,
        e2ee: bool,
        ice: &IceSettings,
        certificate: bool,
    ) {
        let Some(worker) = self.worker.clone() else { return };
        let certificate = if certificate { self.next_certificate.take() } else { None };
        // The host's connection, made while it waited, if it was made as this one would be.
        let prepared = self.prepared.take();
        let fits =
            |p: &PreparedLink| p.e2ee == e2ee && p.ice == *ice && Rc::ptr_eq(&p.worker, &worker);
        match prepared {
            Some(prepared) if offer.is_none() && fits(&prepared) => {
                return self.connect_prepared(generation, prepared);
            }
            Some(prepared) => prepared.close(),
            None => {}
        }
        let Some((pc, chat)) = new_connection(&worker, ice, certificate.as_ref()) else {
            web_sys::console::warn_1(&"this browser could not start a call connection".into());
            return self.handle(Input::ConnectFailed { generation });
        };
        let ice_news = Rc::new(RefCell::new(IceSink::to(generation, &self.me)));
        let closures = wire_ice(&pc, &ice_news);
        let (weak, link_pc) = (self.me.clone(), pc.clone());
        let steps = async move { negotiate(&weak, &pc, &worker, e2ee, offer, generation).await };
        self.start_attempt(generation, link_pc, chat, closures, steps);
    }

    /// Take the prepared connection for attempt `generation`: its offer goes as soon as it is
    /// made (at once, if it was), with the candidates found by then, then what ICE finds
    /// after; the camera follows.
    fn connect_prepared(&mut self, generation: Generation, prepared: PreparedLink) {
        let PreparedLink { pc, chat, media, offer, ice_news, closures, e2ee, .. } = prepared;
        let (weak, link_pc) = (self.me.clone(), pc.clone());
        let steps = async move {
            if !link_made(&weak, &media, generation) {
                return Ok(());
            }
            let made = offer.await?;
            let sdp = with_candidates(&pc, e2ee).unwrap_or(made);
            let payload_types = payload_types(&pc);
            with_call(&weak, |c| {
                c.handle(Input::LocalDescription { generation, sdp, payload_types })
            });
            IceSink::deliver_to(&ice_news, generation, &weak);
            send_local_media(&weak, &media, generation).await
        };
        self.start_attempt(generation, link_pc, chat, closures, steps);
    }

    /// Make `pc` attempt `generation`'s link, its events wired to the controller, and run the
    /// attempt's `steps`: their failure is the attempt's.
    fn start_attempt(
        &mut self,
        generation: Generation,
        pc: RtcPeerConnection,
        chat: RtcDataChannel,
        mut closures: Vec<Closure<dyn FnMut(Event)>>,
        steps: impl Future<Output = Result<(), JsValue>> + 'static,
    ) {
        closures.extend(wire_events(&pc, &chat, generation, &self.me));
        self.link = Some(Link { generation, pc, media: None, chat, _closures: closures });
        let weak = self.me.clone();
        spawn_local(async move {
            if let Err(error) = steps.await {
                connect_failed(&weak, generation, &error);
            }
        });
    }

    /// The browser's objects of attempt `generation`, unless a newer attempt replaced them:
    /// what an effect about an older attempt would touch is gone.
    pub(super) fn current_link(&self, generation: Generation) -> Option<&Link> {
        self.link.as_ref().filter(|l| l.generation == generation)
    }

    /// Give the browser one of the peer's ICE candidates, each in a task of its own after the
    /// one that asked: Chromium's `addIceCandidate` held the page for about 10 ms a candidate
    /// while the connection was being set up, and the relay's next message (the key
    /// confirmation that locks the shield) can then come between two, not after them all.
    pub(super) fn add_ice(&mut self, generation: Generation, candidate: &IceCandidate) {
        self.ice_to_add.push_back((generation, candidate.clone()));
        if !self.ice_task_armed {
            self.ice_task_armed = true;
            add_next_ice_in_a_task(self.me.clone());
        }
    }

    fn add_next_ice(&mut self) {
        self.ice_task_armed = false;
        let Some((generation, candidate)) = self.ice_to_add.pop_front() else { return };
        if !self.ice_to_add.is_empty() {
            self.ice_task_armed = true;
            add_next_ice_in_a_task(self.me.clone());
        }
        // A candidate for a connection dropped meanwhile goes nowhere.
        let Some(link) = self.current_link(generation) else { return };
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index);
        let _ = link.pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
    }

    /// Close the connection and stop showing the other person's media.
    pub(super) fn drop_link(&mut self) {
        if let Some(link) = self.link.take() {
            close_connection(&link.pc, &link.chat);
        }
        // Candidates for it that had yet to go in.
        self.ice_to_add.clear();
        // Made for the media worker of the time, which goes too.
        self.drop_prepared();
        self.remote_screen = None;
        self.set.remote_video.try_set(None);
        self.set.remote_screen.try_set(None);
    }
}

/// `RTCConfiguration` of `ice`: the servers the controller chose (config.json's, then the
/// relay's TURN servers) and the transport policy.
fn rtc_configuration(ice: &IceSettings) -> RtcConfiguration {
    let configuration = RtcConfiguration::new();
    let servers = Array::new();
    for server in &ice.servers {
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
    let policy = ice.policy.as_str();
    let _ = Reflect::set(&configuration, &"iceTransportPolicy".into(), &policy.into());
    configuration
}

/// The next of the peer's ICE candidates, in a task of its own (in the one after, should the
/// call be busy then).
fn add_next_ice_in_a_task(weak: Weak<RefCell<Call>>) {
    in_a_task(move || {
        let Some(call) = weak.upgrade() else { return };
        match call.try_borrow_mut() {
            Ok(mut call) => call.add_next_ice(),
            Err(_) => add_next_ice_in_a_task(weak),
        }
    });
}

/// A peer connection with `ice`'s servers, set up for `worker`'s transform API, and its chat
/// channel.
fn new_connection(
    worker: &MediaWorker,
    ice: &IceSettings,
    certificate: Option<&JsValue>,
) -> Option<(RtcPeerConnection, RtcDataChannel)> {
    let configuration = rtc_configuration(ice);
    if let Some(certificate) = certificate {
        configuration.set_certificates(&Array::of1(certificate));
    }
    let _ = worker.configure(&configuration);
    let pc = RtcPeerConnection::new_with_configuration(&configuration).ok()?;
    let chat = chat_channel(&pc);
    Some((pc, chat))
}

thread_local! {
    /// The guest's first certificate, on its way since the pre-join screen (the browser's
    /// promise: it settles whether or not anyone waits for it).
    static EARLY_CERTIFICATE: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
}

/// (Guest) start making the first connection's certificate now, on the pre-join screen, as the
/// media worker is: the call takes it when it starts, and the offer need not wait for it.
pub fn start_certificate_early() {
    let making = generate_certificate();
    EARLY_CERTIFICATE.with(|early| *early.borrow_mut() = making);
}

/// Ask the browser for a new DTLS certificate (ECDSA P-256, what the browsers make by
/// default); `None` if it cannot.
fn generate_certificate() -> Option<js_sys::Promise> {
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"ECDSA".into()).ok()?;
    Reflect::set(&algorithm, &"namedCurve".into(), &"P-256".into()).ok()?;
    RtcPeerConnection::generate_certificate_with_object(&algorithm).ok()
}

/// The certificate `making` gives, with its SHA-256 fingerprint as `getFingerprints` names it;
/// `None` if the browser could not make or name it (the connection then makes its own, and the
/// guest confirms after its answer).
async fn with_fingerprint(making: js_sys::Promise) -> Option<(JsValue, (String, String))> {
    let certificate = wasm_bindgen_futures::JsFuture::from(making).await.ok()?;
    let get: js_sys::Function =
        Reflect::get(&certificate, &"getFingerprints".into()).ok()?.dyn_into().ok()?;
    let fingerprints: Array = get.call0(&certificate).ok()?.dyn_into().ok()?;
    let sha256 = fingerprints.iter().find_map(|fingerprint| {
        let field = |name: &str| Reflect::get(&fingerprint, &name.into()).ok()?.as_string();
        let algorithm = field("algorithm")?;
        algorithm.eq_ignore_ascii_case("sha-256").then(|| Some((algorithm, field("value")?)))?
    })?;
    Some((certificate, sha256))
}

/// The prepared offer as the browser applied it, with the candidates it gathered while the
/// host waited: the guest has them as it applies the offer, not one message and one
/// `addIceCandidate` each after its answer (the controller trickles only the others, PROTOCOL.md
/// change 53). Under E2EE cleaned again as the offer made was (the same when applied twice).
/// `None` if the browser gives no description, or one too long for a signal with room to spare:
/// then the offer as made, and every candidate trickled.
fn with_candidates(pc: &RtcPeerConnection, e2ee: bool) -> Option<String> {
    const MAX_OFFER_BYTES: usize = shieldcall_protocol::MAX_SIGNAL_BYTES / 2;
    let sdp = pc.local_description()?.sdp();
    let sdp = if e2ee { shieldcall_call::sdp::without_audio_metadata(&sdp) } else { sdp };
    (sdp.len() <= MAX_OFFER_BYTES).then_some(sdp)
}

/// The chat's data channel, negotiated on both sides with the same id: no in-band
/// announcement to wait for.
fn chat_channel(pc: &RtcPeerConnection) -> RtcDataChannel {
    let chat_init = RtcDataChannelInit::new();
    chat_init.set_negotiated(true);
    chat_init.set_id(0);
    let chat = pc.create_data_channel_with_data_channel_dict("chat", &chat_init);
    // Binary messages (a media state with E2EE off) arrive as bytes, never as a Blob.
    chat.set_binary_type(RtcDataChannelType::Arraybuffer);
    chat
}

/// How long a dropped connection may wait for its channel to close cleanly, and how often it
/// looks.
const CHANNEL_CLOSE_WAIT_MS: u32 = 1000;
/// `RTCPeerConnection.onicecandidateerror`, which web-sys does not name.
const ON_ICE_SERVER_ERROR: &str = "onicecandidateerror";
const CHANNEL_CLOSE_POLL_MS: u32 = 50;

/// Silence a connection's handlers and close it: the channel first, and the connection once
/// the channel has closed (its last messages, a hang-up among them, acknowledged by the other
/// side: PROTOCOL.md change 57) or after [`CHANNEL_CLOSE_WAIT_MS`]. Closing both at once could
/// lose a message still on its way.
fn close_connection(pc: &RtcPeerConnection, chat: &RtcDataChannel) {
    chat.set_onmessage(None);
    chat.set_onopen(None);
    pc.set_onicecandidate(None);
    pc.set_onconnectionstatechange(None);
    pc.set_onicegatheringstatechange(None);
    let _ = Reflect::set(pc, &ON_ICE_SERVER_ERROR.into(), &JsValue::NULL);
    chat.close();
    let (pc, chat) = (pc.clone(), chat.clone());
    spawn_local(async move {
        for _ in 0..CHANNEL_CLOSE_WAIT_MS / CHANNEL_CLOSE_POLL_MS {
            if chat.ready_state() == RtcDataChannelState::Closed {
                break;
            }
            gloo_timers::future::TimeoutFuture::new(CHANNEL_CLOSE_POLL_MS).await;
        }
        pc.close();
    });
}

/// Tell the controller that attempt `generation` failed (unless it was dropped meanwhile, when
/// its next step failing is no failure).
fn connect_failed(weak: &Weak<RefCell<Call>>, generation: Generation, error: &JsValue) {
    let detail = error
        .as_string()
        .or_else(|| error.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())));
    let detail = detail.unwrap_or_else(|| "unknown error".into());
    with_call(weak, |c| {
        if c.ctl.is_current(generation) {
            web_sys::console::warn_1(
                &format!("the connection could not be set up: {detail}").into(),
            );
        }
        c.handle(Input::ConnectFailed { generation })
    });
}

/// What ICE reports of a connection, before it becomes an input of its attempt.
enum IceNews {
    Candidate(IceCandidate),
    GatheringComplete,
    ServerError { code: u16, url: String },
}

impl IceNews {
    fn input(self, generation: Generation) -> Input {
        match self {
            IceNews::Candidate(candidate) => Input::LocalIce { generation, candidate },
            IceNews::GatheringComplete => Input::IceGatheringComplete { generation },
            IceNews::ServerError { code, url } => Input::IceServerError { generation, code, url },
        }
    }
}

/// Where a connection's ICE news goes: to the controller as inputs of its attempt, or, while a
/// prepared connection waits to be taken, kept (its candidates go after its offer).
#[derive(Default)]
pub(super) struct IceSink {
    to: Option<(Generation, Weak<RefCell<Call>>)>,
    kept: Vec<IceNews>,
}

impl IceSink {
    fn to(generation: Generation, weak: &Weak<RefCell<Call>>) -> Self {
        IceSink { to: Some((generation, weak.clone())), kept: Vec::new() }
    }

    fn report(sink: &RefCell<IceSink>, news: IceNews) {
        let to = sink.borrow().to.clone();
        match to {
            Some((generation, weak)) => with_call(&weak, |c| c.handle(news.input(generation))),
            None => sink.borrow_mut().kept.push(news),
        }
    }

    /// From now on, and first what was kept, to attempt `generation`.
    fn deliver_to(sink: &RefCell<IceSink>, generation: Generation, weak: &Weak<RefCell<Call>>) {
        let kept = {
            let mut sink = sink.borrow_mut();
            sink.to = Some((generation, weak.clone()));
            std::mem::take(&mut sink.kept)
        };
        for news in kept {
            with_call(weak, |c| c.handle(news.input(generation)));
        }
    }
}

/// Report the connection's ICE news (its candidates, the end of gathering, what the ICE servers
/// answer) to `sink`.
fn wire_ice(pc: &RtcPeerConnection, sink: &Rc<RefCell<IceSink>>) -> Vec<Closure<dyn FnMut(Event)>> {
    let on_ice = {
        let sink = sink.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            let Some(candidate) = event.candidate() else { return };
            let candidate = IceCandidate {
                candidate: candidate.candidate(),
                sdp_mid: candidate.sdp_mid(),
                sdp_m_line_index: candidate.sdp_m_line_index(),
            };
            IceSink::report(&sink, IceNews::Candidate(candidate));
        })
    };
    pc.set_onicecandidate(Some(on_ice.as_ref().unchecked_ref()));
    let on_gathering = {
        let sink = sink.clone();
        let pc = pc.clone();
        Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            if pc.ice_gathering_state() == RtcIceGatheringState::Complete {
                IceSink::report(&sink, IceNews::GatheringComplete);
            }
        })
    };
    pc.set_onicegatheringstatechange(Some(on_gathering.as_ref().unchecked_ref()));
    // What the ICE servers answer: the controller decides what a refusal means.
    let on_server_error = {
        let sink = sink.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            // RTCPeerConnectionIceErrorEvent (not in web-sys): errorCode, url.
            let field = |name: &str| Reflect::get(&event, &name.into()).unwrap_or_default();
            let code = field("errorCode").as_f64().unwrap_or(0.0) as u16;
            let url = field("url").as_string().unwrap_or_default();
            IceSink::report(&sink, IceNews::ServerError { code, url });
        })
    };
    // As a handler property (not in web-sys), so that `close_connection` can silence it
    // before the closure goes: a closed connection may still report for up to a second.
    let _ = Reflect::set(pc, &ON_ICE_SERVER_ERROR.into(), on_server_error.as_ref());
    vec![on_ice, on_gathering, on_server_error]
}

/// Follow the connection state and hear the chat: each reported to the controller as an input
/// of this attempt.
fn wire_events(
    pc: &RtcPeerConnection,
    chat: &RtcDataChannel,
    generation: Generation,
    weak: &Weak<RefCell<Call>>,
) -> Vec<Closure<dyn FnMut(Event)>> {
    let on_state = {
        let weak = weak.clone();
        let pc = pc.clone();
        Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let state = match pc.connection_state() {
                RtcPeerConnectionState::Connected => LinkState::Connected,
                RtcPeerConnectionState::Disconnected => LinkState::Disconnected,
                RtcPeerConnectionState::Failed => LinkState::Failed,
                RtcPeerConnectionState::Closed => LinkState::Closed,
                _ => LinkState::Connecting,
            };
            with_call(&weak, |c| c.handle(Input::LinkState { generation, state }));
        })
    };
    pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
    // Text is chat; a binary message is a media state (E2EE off): the controller decides what
    // each may be in the call's mode.
    let on_chat = {
        let weak = weak.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let data = event.unchecked_into::<MessageEvent>().data();
            let input = match data.as_string() {
                Some(text) => Input::ChatFrame(text),
                None => match data.dyn_into::<js_sys::ArrayBuffer>() {
                    Ok(buffer) => Input::ChatBinary(js_sys::Uint8Array::new(&buffer).to_vec()),
                    Err(_) => return,
                },
            };
            with_call(&weak, |c| c.handle(input));
        })
    };
    chat.set_onmessage(Some(on_chat.as_ref().unchecked_ref()));
    let on_open = {
        let weak = weak.clone();
        Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            with_call(&weak, |c| c.handle(Input::ChannelOpen { generation }));
        })
    };
    chat.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    vec![on_state, on_chat, on_open]
}

/// Transceivers, offer or answer, then local tracks: everything between "make a connection" and
/// "this side's media is on its way". Each step up to the description is reported to the
/// controller; sending the tracks only if it fails.
async fn negotiate(
    weak: &Weak<RefCell<Call>>,
    pc: &RtcPeerConnection,
    worker: &MediaWorker,
    e2ee: bool,
    offer: Option<String>,
    generation: Generation,
) -> Result<(), JsValue> {
    let media = match &offer {
        None => MediaTransceivers::create(pc, worker, e2ee)?,
        Some(sdp) => {
            apply_remote(pc, RtcSdpType::Offer, sdp).await?;
            MediaTransceivers::adopt(pc, worker, e2ee)?
        }
    };
    if !link_made(weak, &media, generation) {
        return Ok(());
    }
    let sdp = match offer {
        None => make_offer(pc, e2ee).await?,
        Some(_) => make_answer(pc, e2ee).await?,
    };
    let payload_types = payload_types(pc);
    with_call(weak, |c| c.handle(Input::LocalDescription { generation, sdp, payload_types }));
    send_local_media(weak, &media, generation).await
}

/// The browser made attempt `generation`'s connection and transceivers: the controller hears
/// it, the page shows what they receive. False if the attempt was dropped meanwhile (a reset,
/// the end).
fn link_made(
    weak: &Weak<RefCell<Call>>,
    media: &MediaTransceivers,
    generation: Generation,
) -> bool {
    let mut current = false;
    with_call(weak, |c| {
        if !c.ctl.is_current(generation) {
            return;
        }
        if let Some(link) = c.link.as_mut() {
            link.media = Some(media.clone());
        }
        c.show_remote_media(media);
        current = true;
        c.handle(Input::LinkMade { generation });
    });
    current
}

/// Send the camera, and a screen share already going (started before this connection, or
/// since), on the connection's transceivers. Called once the offer or answer is on its way:
/// sending needs no renegotiation, and the guest's answer, no longer waiting for the camera's
/// `replaceTrack` (13-57 ms), left about 20 ms sooner (docs/MEASURED.md). Each stream is read
/// just before it is sent, not when the connection was made, so that a screen share stopped (or
/// replaced) meanwhile is not put back. One stopped during its own send ends up unsent too:
/// `replaceTrack` calls settle in the order made, so the stop's null comes last (probed in
/// Chromium and Firefox: docs/MEASURED.md).
async fn send_local_media(
    weak: &Weak<RefCell<Call>>,
    media: &MediaTransceivers,
    generation: Generation,
) -> Result<(), JsValue> {
    if let Some(camera) = local_stream(weak, generation, |c| c.camera.clone()) {
        media.send_stream(Slot::MicAudio, Slot::Camera, Some(&camera)).await?;
    }
    if let Some(screen) = local_stream(weak, generation, |c| c.screen.clone()) {
        media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, Some(&screen)).await?;
    }
    Ok(())
}

/// The stream `pick` reads from the call now, if attempt `generation` is still the current one.
fn local_stream(
    weak: &Weak<RefCell<Call>>,
    generation: Generation,
    pick: impl FnOnce(&Call) -> Option<MediaStream>,
) -> Option<MediaStream> {
    let mut stream = None;
    with_call(weak, |c| {
        if c.ctl.is_current(generation) {
            stream = pick(c);
        }
    });
    stream
}
