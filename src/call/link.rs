//! The peer connection of one attempt, as the controller asks for it: made (the host with its
//! offer, the guest with the host's), negotiated, its ICE candidates and state changes fed
//! back, and dropped. Every report carries the attempt's generation: the controller alone
//! decides what is stale.

use std::cell::RefCell;
use std::rc::Weak;

use js_sys::{Array, Object, Reflect};
use leptos::prelude::*;
use shieldcall_call::config::IceSettings;
use shieldcall_call::controller::{Generation, IceCandidate, Input, LinkState};
use shieldcall_e2ee::layout::Slot;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    Event, MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit, RtcDataChannelType,
    RtcIceCandidateInit, RtcIceGatheringState, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcSdpType,
};

use super::{Call, with_call};
use crate::browser::peer::{
    MediaTransceivers, apply_remote, make_answer, make_offer, payload_types,
};
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

impl Call {
    /// Make the peer connection: the host with its offer, the guest with the host's.
    pub(super) fn connect(
        &mut self,
        generation: Generation,
        offer: Option<String>,
        e2ee: bool,
        ice: &IceSettings,
    ) {
        let Some(worker) = self.worker.clone() else { return };
        let configuration = rtc_configuration(ice);
        let _ = worker.configure(&configuration);
        let Ok(pc) = RtcPeerConnection::new_with_configuration(&configuration) else {
            web_sys::console::warn_1(&"this browser could not start a call connection".into());
            return self.handle(Input::ConnectFailed { generation });
        };
        let chat_init = RtcDataChannelInit::new();
        // Negotiated on both sides with the same id: no in-band announcement to wait for.
        chat_init.set_negotiated(true);
        chat_init.set_id(0);
        let chat = pc.create_data_channel_with_data_channel_dict("chat", &chat_init);
        // Binary messages (a media state with E2EE off) arrive as bytes, never as a Blob.
        chat.set_binary_type(RtcDataChannelType::Arraybuffer);
        let closures = wire_events(&pc, &chat, generation, &self.me);
        self.link =
            Some(Link { generation, pc: pc.clone(), media: None, chat, _closures: closures });
        let weak = self.me.clone();
        spawn_local(async move {
            if let Err(error) = negotiate(&weak, &pc, &worker, e2ee, offer, generation).await {
                let detail = error.as_string().or_else(|| {
                    error.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))
                });
                let detail = detail.unwrap_or_else(|| "unknown error".into());
                with_call(&weak, |c| {
                    // A connection dropped meanwhile fails its next step: that is no failure.
                    if c.ctl.is_current(generation) {
                        web_sys::console::warn_1(&format!("offer/answer failed: {detail}").into());
                    }
                    c.handle(Input::ConnectFailed { generation })
                });
            }
        });
    }

    /// The browser's objects of attempt `generation`, unless a newer attempt replaced them:
    /// what an effect about an older attempt would touch is gone.
    pub(super) fn current_link(&self, generation: Generation) -> Option<&Link> {
        self.link.as_ref().filter(|l| l.generation == generation)
    }

    pub(super) fn add_ice(&mut self, generation: Generation, candidate: &IceCandidate) {
        let Some(link) = self.current_link(generation) else { return };
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index);
        let _ = link.pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
    }

    /// Close the connection and stop showing the other person's media.
    pub(super) fn drop_link(&mut self) {
        if let Some(link) = self.link.take() {
            link.chat.set_onmessage(None);
            link.chat.set_onopen(None);
            link.pc.set_onicecandidate(None);
            link.pc.set_onconnectionstatechange(None);
            link.pc.set_onicegatheringstatechange(None);
            link.chat.close();
            link.pc.close();
        }
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

/// Trickle ICE to the peer, follow the connection state and what the ICE servers answer, and
/// hear the chat: each reported to the controller as an input of this attempt.
fn wire_events(
    pc: &RtcPeerConnection,
    chat: &RtcDataChannel,
    generation: Generation,
    weak: &Weak<RefCell<Call>>,
) -> Vec<Closure<dyn FnMut(Event)>> {
    let on_ice = {
        let weak = weak.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            let Some(candidate) = event.candidate() else { return };
            let candidate = IceCandidate {
                candidate: candidate.candidate(),
                sdp_mid: candidate.sdp_mid(),
                sdp_m_line_index: candidate.sdp_m_line_index(),
            };
            with_call(&weak, |c| c.handle(Input::LocalIce { generation, candidate }));
        })
    };
    pc.set_onicecandidate(Some(on_ice.as_ref().unchecked_ref()));
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
    // What the ICE servers answer: the controller decides what a refusal means.
    let on_gathering = {
        let weak = weak.clone();
        let pc = pc.clone();
        Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            if pc.ice_gathering_state() == RtcIceGatheringState::Complete {
                with_call(&weak, |c| c.handle(Input::IceGatheringComplete { generation }));
            }
        })
    };
    pc.set_onicegatheringstatechange(Some(on_gathering.as_ref().unchecked_ref()));
    let on_server_error = {
        let weak = weak.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            // RTCPeerConnectionIceErrorEvent (not in web-sys): errorCode, url.
            let field = |name: &str| Reflect::get(&event, &name.into()).unwrap_or_default();
            let code = field("errorCode").as_f64().unwrap_or(0.0) as u16;
            let url = field("url").as_string().unwrap_or_default();
            with_call(&weak, |c| c.handle(Input::IceServerError { generation, code, url }));
        })
    };
    let _ = pc.add_event_listener_with_callback(
        "icecandidateerror",
        on_server_error.as_ref().unchecked_ref(),
    );
    vec![on_ice, on_state, on_chat, on_open, on_gathering, on_server_error]
}

/// Transceivers, local tracks, offer or answer: everything between "make a connection" and
/// "this side's description is made", each step reported to the controller.
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
    let mut local = None;
    with_call(weak, |c| {
        // This connection was dropped (a reset, the end) while the offer was being applied.
        if !c.ctl.is_current(generation) {
            return;
        }
        if let Some(link) = c.link.as_mut() {
            link.media = Some(media.clone());
        }
        c.show_remote_media(&media);
        local = Some((c.camera.clone(), c.screen.clone()));
        c.handle(Input::LinkMade { generation });
    });
    let Some((camera, screen)) = local else { return Ok(()) };
    if let Some(camera) = &camera {
        media.send_stream(Slot::MicAudio, Slot::Camera, Some(camera)).await?;
    }
    // A screen share started before this connection (while waiting, or before a reconnection).
    if let Some(screen) = &screen {
        media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, Some(screen)).await?;
    }
    let sdp = match offer {
        None => make_offer(pc, e2ee).await?,
        Some(_) => make_answer(pc, e2ee).await?,
    };
    let payload_types = payload_types(pc);
    with_call(weak, |c| c.handle(Input::LocalDescription { generation, sdp, payload_types }));
    Ok(())
}
