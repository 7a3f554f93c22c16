//! The camera and microphone in the call (the pre-join screen asked for them, see
//! `browser::use_local_media`): listed for the pickers, muted and switched.

use std::cell::RefCell;
use std::rc::Weak;

use leptos::prelude::*;
use shieldcall_call::controller::Input;
use shieldcall_e2ee::layout::Slot;
use shieldcall_protocol::MediaState;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MediaStream, MediaStreamTrack};

use super::{Call, Setters, call_going, notice, with_call};
use crate::browser::peer::{MediaKind, first_track};
pub(super) use crate::browser::use_local_media::stop_tracks;
use crate::browser::use_local_media::{device_lists, device_of, replace_device};

/// Fill the call's device pickers, and mark the devices `camera` uses.
pub(super) async fn list_devices(set: Setters, camera: MediaStream) {
    let Some((microphones, cameras)) = device_lists().await else { return };
    set.microphones.try_set(microphones);
    set.cameras.try_set(cameras);
    set.microphone.try_set(first_track(&camera, MediaKind::Audio).and_then(|t| device_of(&t)));
    set.camera.try_set(first_track(&camera, MediaKind::Video).and_then(|t| device_of(&t)));
}

impl Call {
    /// The camera and microphone came (or, `None`, will not): kept for the connections to
    /// come, and sent on the current one if it was made without them.
    pub(super) fn camera_ready(&mut self, camera: Option<MediaStream>) {
        if let (Some(camera), None) = (&camera, self.member_of) {
            for track in camera.get_tracks().iter() {
                self.watch_track(&track.unchecked_into());
            }
        }
        self.camera = camera.clone();
        self.local_media_changed();
        let media = self.link.as_ref().and_then(|link| link.media.clone());
        if let (Some(camera), Some(media)) = (camera, media) {
            spawn_local(async move {
                let _ = media.send_stream(Slot::MicAudio, Slot::Camera, Some(&camera)).await;
            });
        }
    }

    pub(super) fn toggle_track(&mut self, kind: MediaKind) {
        // No stream, or one without this kind of track (the camera denied, the microphone
        // allowed, say): nothing to turn on, and the person is told.
        let Some(camera) = self.camera.as_ref().filter(|c| kind.tracks(c).length() > 0) else {
            return notice(self.set, format!("There is no {} to turn on.", kind.device()));
        };
        let mut on = false;
        for track in kind.tracks(camera).iter().map(|t| t.unchecked_into::<MediaStreamTrack>()) {
            // A disabled track still sends (silence, black), encrypted like the rest.
            track.set_enabled(!track.enabled());
            on = track.enabled();
        }
        match kind {
            MediaKind::Audio => self.set.mic_on.set(on),
            MediaKind::Video => self.set.camera_on.set(on),
        }
        self.local_media_changed();
    }

    /// Say so when `track` ends by itself: its device unplugged, or taken by another app (a
    /// track the page stops fires nothing).
    pub(super) fn watch_track(&self, track: &MediaStreamTrack) {
        let (weak, id) = (self.me.clone(), track.id());
        let kind = if track.kind() == "audio" { MediaKind::Audio } else { MediaKind::Video };
        let ended = Closure::once_into_js(move || with_call(&weak, |c| c.device_lost(kind, &id)));
        track.set_onended(Some(ended.unchecked_ref()));
    }

    /// The device of the call's track `id` went: off, the other person told, the person told
    /// how to go on. (A track since replaced, or a call over, says nothing.)
    fn device_lost(&mut self, kind: MediaKind, id: &str) {
        let Some(track) = self.camera.as_ref().and_then(|c| first_track(c, kind)) else { return };
        if track.id() != id || self.ctl.ended() {
            return;
        }
        track.set_enabled(false);
        match kind {
            MediaKind::Audio => self.set.mic_on.set(false),
            MediaKind::Video => self.set.camera_on.set(false),
        }
        self.local_media_changed();
        let device = kind.device();
        notice(
            self.set,
            format!(
                "Your {device} stopped: it was unplugged or another app took it. Choose another \
                 one under Devices."
            ),
        );
    }

    /// Tell the controller what this person's microphone, camera and screen share do now (it
    /// tells the other person): read from the tracks themselves, so it is never out of step.
    pub(super) fn local_media_changed(&mut self) {
        let on = |kind| {
            self.camera.as_ref().and_then(|c| first_track(c, kind)).is_some_and(|t| t.enabled())
        };
        let state = MediaState {
            mic: on(MediaKind::Audio),
            camera: on(MediaKind::Video),
            screen: self.screen.is_some(),
        };
        self.handle(Input::LocalMedia(state));
    }

    /// The media of every connection this person's tracks go on: the pair's, and each other
    /// group member's.
    fn senders(&self) -> Vec<crate::browser::peer::MediaTransceivers> {
        let media_of = |call: &Call| call.link.as_ref().and_then(|link| link.media.clone());
        let mut medias: Vec<_> = media_of(self).into_iter().collect();
        for member in &self.members {
            if let Ok(call) = member.call.try_borrow() {
                medias.extend(media_of(&call));
            }
        }
        medias
    }

    pub(super) fn use_device(
        &mut self,
        kind: MediaKind,
        device_id: String,
        weak: Weak<RefCell<Call>>,
    ) {
        let Some(camera) = self.camera.clone() else { return };
        let set = self.set;
        spawn_local(async move {
            // A device that replaces none (it was missing, or busy, when the call began)
            // starts off, as the Mute and Camera buttons show it: the person turns it on.
            let Ok(track) = replace_device(&camera, kind, &device_id, false).await else {
                return notice(set, "That device could not be used.".into());
            };
            // Hung up, or the page left, while the device was opening: its light goes off.
            if !call_going(&weak) {
                return track.stop();
            }
            // Every connection sends this person's track: the pair's, and each other group
            // member's, as they are now that the device is open (the old track stopped, so a
            // sender left with it would go silent).
            let mut medias = Vec::new();
            with_call(&weak, |c| medias = c.senders());
            // The new track replaces the old one in place: same stream, same senders, no
            // renegotiation; a muted microphone stays muted.
            let slot = match kind {
                MediaKind::Audio => Slot::MicAudio,
                MediaKind::Video => Slot::Camera,
            };
            for media in medias {
                let _ = media.send(slot, Some(&track)).await;
            }
            match kind {
                MediaKind::Audio => set.microphone.set(Some(device_id)),
                MediaKind::Video => set.camera.set(Some(device_id)),
            }
            with_call(&weak, |c| {
                c.watch_track(&track);
                match kind {
                    MediaKind::Audio => c.set.mic_on.set(track.enabled()),
                    MediaKind::Video => c.set.camera_on.set(track.enabled()),
                }
                c.local_media_changed();
                c.set.self_view.set(c.camera.clone())
            });
        });
    }
}
