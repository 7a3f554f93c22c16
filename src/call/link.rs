//! The peer connection of one attempt: made (the host with its offer, the guest with the
//! host's), negotiated, given the ICE candidates kept for it, its certificate checked against
//! the one the keys are bound to, and dropped. `generation` tells the tasks of a dropped one
//! to let go.

use std::cell::RefCell;
use std::rc::Weak;

use js_sys::{Array, Object, Reflect};
use leptos::prelude::*;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::session::Role;
use shieldcall_protocol::{Signal, WorkerCommand};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    Event, MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit, RtcIceCandidateInit,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcSdpType,
};

use super::{Call, CallStatus, notice, now_ms, with_call};
use crate::browser::peer::{
    MediaTransceivers, apply_remote, make_answer, make_offer, payload_types, remote_certificates,
};
use crate::browser::worker::MediaWorker;

/// What a browser that reports no remote DTLS certificate (Firefox) is told: one of the checks
/// behind the lock cannot run there.
const CERTIFICATE_UNCHECKED: &str = "This browser does not report the media connection's \
    certificate, so one check is skipped here: that the certificate it accepted is the one the \
    keys are bound to. The call's setup names exactly one certificate, and a browser accepts \
    only the one named.";

/// The per-peer part of a call: made when the other person's hello arrives, dropped when they
/// leave.
pub(super) struct Link {
    pub(super) pc: RtcPeerConnection,
    pub(super) media: MediaTransceivers,
    pub(super) chat: RtcDataChannel,
    remote_description_set: bool,
    pending_ice: Vec<RtcIceCandidateInit>,
    _closures: Vec<Closure<dyn FnMut(Event)>>,
}

impl Call {
    pub(super) fn media_connected(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.pc.connection_state() == RtcPeerConnectionState::Connected)
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
    pub(super) fn start_link(&mut self, offer: Option<String>) {
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
    /// Both descriptions of the connection are in: the worker learns the negotiated codecs
    /// (it drops every frame until then), and the ICE candidates kept for it go in.
    pub(super) fn remote_description_applied(&mut self) {
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

    pub(super) fn add_ice(&mut self, init: RtcIceCandidateInit) {
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

    pub(super) fn drop_link(&mut self) {
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

    fn remote_description_applied_if_guest(&mut self) {
        if self.role == Role::Guest {
            self.remote_description_applied();
        } else {
            self.follow_session();
        }
    }
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
