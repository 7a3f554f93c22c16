//! The effect driver: an input goes into the controller with the page's clock, and each
//! effect that comes out is carried out here, in order. Browser work that takes time (making
//! a connection, applying an answer, reading statistics, starting a worker) runs as a task
//! whose result comes back as another input, tagged with the connection it was for.

use leptos::prelude::*;
use shieldcall_call::controller::{Effect, Input, ShieldView};
use wasm_bindgen_futures::spawn_local;

use shieldcall_call::move_link::MoveLink;
use shieldcall_call::pickup::{Arrival, pickup_path};
use shieldcall_call::texts::NEW_CHAT_MESSAGE;

use super::{Call, ParkedView, notice, now_ms, with_call};
use crate::browser::peer::{
    applied_remote_description, apply_remote, link_stats, payload_types, remote_certificates,
};
use crate::browser::task::in_a_task;
use crate::browser::timeline;
use crate::call_link::forget_link;
use crate::components::ChatMessage;

impl Call {
    /// Something happened: the controller decides, this page carries it out.
    pub(super) fn handle(&mut self, input: Input) {
        if let Some(step) = input.trace_name() {
            timeline::mark(step);
        }
        self.ctl.handle(input, now_ms());
        self.run_effects();
    }

    pub(super) fn run_effects(&mut self) {
        while let Some(effect) = self.ctl.poll_effect() {
            if let Some(step) = effect.trace_name() {
                timeline::mark(step);
            }
            self.run(effect);
        }
    }

    fn run(&mut self, effect: Effect) {
        match effect {
            Effect::Send(signal) => self.send_signal(signal),
            Effect::Relay(request) => (self.request)(&request),
            Effect::SealDeposit(seal) => {
                let weak = self.me.clone();
                spawn_local(async move {
                    let deposit = crate::browser::deposit::seal(&seal).await;
                    if let Err(why) = &deposit {
                        web_sys::console::warn_2(&"the park's deposit was not sealed:".into(), why);
                    }
                    let (nonce, deposit) = (seal.nonce, deposit.ok());
                    with_call(&weak, |c| c.handle(Input::DepositSealed { nonce, deposit }));
                });
            }
            Effect::ShowMoveLink { link, ttl_secs } => {
                let origin = web_sys::window().and_then(|w| w.location().origin().ok());
                let url = origin
                    .map(|origin| format!("{origin}/call/{}#{}", self.call_id, link.to_fragment()));
                self.set.transfer_link.try_set(None);
                let said = link.instructions(ttl_secs);
                self.set.move_link.try_set(url.map(|url| (url, said)));
            }
            Effect::KeepLink { commitment, secret } => {
                crate::call_link::keep_link(&self.call_id.to_string(), &commitment, &secret);
            }
            Effect::ShowAddLink(link) => {
                let origin = web_sys::window().and_then(|w| w.location().origin().ok());
                let url = origin
                    .map(|origin| format!("{origin}/call/{}#{}", self.call_id, link.to_fragment()));
                self.set.add_link.try_set(url);
            }
            Effect::RelayLacks { group, park } => {
                // As `String`s: the signal types the page has already (no new code for them).
                self.set.relay_group_off.try_set(group.map(String::from));
                self.set.relay_park_off.try_set(park.map(String::from));
            }
            Effect::OfferMerge(link) => {
                if let Some(channel) = &self.merge_channel {
                    channel.offer(&link);
                }
            }
            Effect::FollowMerge(link) => super::group::follow_merge(&link),
            Effect::HideMoveLink => {
                self.set.move_link.try_set(None);
                self.set.transfer_link.try_set(None);
            }
            Effect::ShowParked { link, code, ttl_secs, consult } => {
                let url = self.link_url(&link, Arrival::Pickup);
                let code = code.to_text();
                let path = pickup_path(&self.call_id.to_string(), &link);
                let view = url.map(|url| ParkedView { url, code, ttl_secs, path, consult });
                self.set.parked.try_set(view);
            }
            Effect::TransferOffered { path } => {
                self.set.transfer_offer.try_set(Some(path));
            }
            Effect::ShowTransferLink { link, name, ttl_secs } => {
                let url = self.link_url(&link, Arrival::Transfer);
                self.set.move_link.try_set(None);
                self.set.transfer_link.try_set(url.map(|url| (url, name, ttl_secs)));
            }
            Effect::Status(status) => {
                self.set.status.try_set(status);
            }
            Effect::Shield(ShieldView { state, code, warned_in_call }) => {
                self.set.shield.try_set(state);
                self.set.code.try_set(code);
                self.set.warned_in_call.try_set(warned_in_call);
            }
            Effect::Notice(text) => notice(self.set, text),
            Effect::MediaProblems(problems) => {
                self.set.media_problems.try_set(problems);
            }
            Effect::Worker(command) => {
                self.set.health.try_update(|health| health.command(&command));
                if let Some(worker) = &self.worker {
                    let _ = worker.command(&command);
                }
            }
            Effect::StartWorker => self.start_worker(),
            Effect::PrepareConnection { e2ee, ice } => self.prepare_connection(e2ee, ice),
            Effect::MakeCertificate => self.make_certificate(),
            Effect::Connect { generation, offer, e2ee, ice, certificate } => {
                self.connect(generation, offer, e2ee, &ice, certificate)
            }
            Effect::ApplyAnswer { generation, sdp } => self.apply_answer(generation, sdp),
            Effect::AddIce { generation, candidate } => self.add_ice(generation, &candidate),
            Effect::CheckCertificate { generation } => {
                let Some(link) = self.current_link(generation) else {
                    return;
                };
                let (pc, weak) = (link.pc.clone(), self.me.clone());
                spawn_local(async move {
                    let certificates = remote_certificates(&pc).await;
                    let description = applied_remote_description(&pc);
                    with_call(&weak, |c| {
                        c.handle(Input::RemoteCertificates {
                            generation,
                            certificates,
                            description,
                        })
                    });
                });
            }
            Effect::DropLink => self.drop_link(),
            Effect::RemoteScreen(shown) => {
                let screen = if shown { self.remote_screen.clone() } else { None };
                self.set.remote_screen.try_set(screen);
            }
            Effect::ArmRetry { delay_ms } => {
                let weak = self.me.clone();
                let delay = u32::try_from(delay_ms).unwrap_or(u32::MAX);
                self.retry_timer = Some(gloo_timers::callback::Timeout::new(delay, move || {
                    with_call(&weak, |c| c.handle(Input::RetryDue))
                }));
            }
            Effect::SendChat { frame, shown } => {
                let sent = self.link.as_ref().is_some_and(|l| l.chat.send_with_str(&frame).is_ok());
                match shown {
                    Some(text) if sent => self.chat_shown(true, text),
                    Some(_) => notice(self.set, "Your message could not be sent.".into()),
                    None => {}
                }
            }
            Effect::ChatShown { from_me, text } => self.chat_shown(from_me, text),
            Effect::SendBinary(bytes) => {
                if let Some(link) = &self.link {
                    let _ = link.chat.send_with_u8_array(&bytes);
                }
            }
            Effect::RemoteMedia { state, announce } => {
                self.set.remote_media.try_set(state);
                if let Some(text) = announce {
                    self.set.remote_announcement.try_set(text);
                }
            }
            Effect::ReadStats { generation } => {
                let Some(link) = self.current_link(generation) else {
                    return;
                };
                let (pc, weak) = (link.pc.clone(), self.me.clone());
                spawn_local(async move {
                    let Some(stats) = link_stats(&pc).await else { return };
                    with_call(&weak, |c| c.handle(Input::LinkStats { generation, stats }));
                });
            }
            Effect::Quality(view) => {
                self.set.quality.try_set(view);
            }
            Effect::Log(text) => web_sys::console::warn_1(&text.into()),
            Effect::End { why: _, forget_link: forget } => {
                if forget {
                    forget_link(&self.call_id.to_string());
                }
                self.end();
            }
        }
    }

    /// The URL of a link that takes this place (`None` without a page origin).
    fn link_url(&self, link: &MoveLink, arrival: Arrival) -> Option<String> {
        let origin = web_sys::window().and_then(|w| w.location().origin().ok())?;
        Some(format!("{origin}/call/{}#{}{}", self.call_id, link.to_fragment(), arrival.tag()))
    }

    /// (Host) apply the guest's answer; the controller hears whether the browser took it.
    fn apply_answer(&mut self, generation: u64, sdp: String) {
        let Some(link) = self.current_link(generation) else {
            return;
        };
        let (pc, weak) = (link.pc.clone(), self.me.clone());
        // In a task of its own: applying holds Chromium's page for tens of ms, and the guest's
        // key confirmation, right behind its answer on the relay socket, is then usually read
        // first (the browser picks between the two task sources).
        in_a_task(move || {
            spawn_local(async move {
                let applied = apply_remote(&pc, web_sys::RtcSdpType::Answer, &sdp).await;
                let input = match applied {
                    Ok(()) => {
                        Input::DescriptionsApplied { generation, payload_types: payload_types(&pc) }
                    }
                    Err(_) => Input::AnswerRefused { generation },
                };
                with_call(&weak, |c| c.handle(input));
            })
        });
    }

    fn chat_shown(&mut self, from_me: bool, text: String) {
        if !from_me && !self.chat_open.get() {
            notice(self.set, NEW_CHAT_MESSAGE.into());
        }
        let at = js_sys::Date::new_0();
        let at = format!("{:02}:{:02}", at.get_hours(), at.get_minutes());
        self.set.chat.try_update(|m| m.push(ChatMessage { from_me, text, at: Some(at) }));
    }

    /// The call is over: the relay socket, the connection and the worker (with its keys) go,
    /// the tracks stop. (The status says why, from the controller.)
    fn end(&mut self) {
        (self.close_relay)();
        self.drop_link();
        self.worker = None;
        self.retry_timer = None;
        if self.member_of.is_some() {
            // A member's call: the camera, the self view and the socket are the page's.
            return;
        }
        self.tell_members(|| Input::PageLeft);
        self.merge_channel = None;
        self.set.add_link.try_set(None);
        for stream in [self.camera.take(), self.screen.take()].into_iter().flatten() {
            super::devices::stop_tracks(&stream);
        }
        self.set.self_view.try_set(None);
        self.set.move_link.try_set(None);
        // A parked call's code and link stay: they are what this page is left for.
        self.set.transfer_link.try_set(None);
    }
}
