//! The camera and microphone: asked for at the start (the call goes on with whatever the person
//! allows), listed for the pickers, muted and switched.

use std::cell::RefCell;
use std::rc::Weak;

use js_sys::{Array, Object, Reflect};
use leptos::prelude::*;
use shieldcall_call::controller::Input;
use shieldcall_e2ee::layout::Slot;
use shieldcall_protocol::MediaState;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack};

use super::{Call, Setters, notice, with_call};
use crate::browser::peer::{MediaKind, first_track};

/// The camera and microphone, or whatever of them the person allows; the call goes on without
/// the rest, and says so.
pub(super) async fn local_media(set: Setters) -> Option<MediaStream> {
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
pub(super) async fn list_devices(set: Setters, camera: &MediaStream) {
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
    set.microphone.set(first_track(camera, MediaKind::Audio).and_then(|t| device_of(&t)));
    set.camera.set(first_track(camera, MediaKind::Video).and_then(|t| device_of(&t)));
}

/// The device id a track comes from.
fn device_of(track: &MediaStreamTrack) -> Option<String> {
    Reflect::get(&track.get_settings(), &"deviceId".into()).ok()?.as_string()
}

fn error_name(err: &JsValue) -> String {
    Reflect::get(err, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default()
}

pub(super) fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

impl Call {
    /// The camera and microphone came (or, `None`, will not): kept for the connections to
    /// come, and sent on the current one if it was made without them.
    pub(super) fn camera_ready(&mut self, camera: Option<MediaStream>) {
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
        let Some(camera) = &self.camera else {
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

    pub(super) fn use_device(
        &mut self,
        kind: MediaKind,
        device_id: String,
        weak: Weak<RefCell<Call>>,
    ) {
        let Some(camera) = self.camera.clone() else { return };
        let media = self.link.as_ref().and_then(|link| link.media.clone());
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
            match kind {
                MediaKind::Audio => constraints.set_audio(&wanted),
                MediaKind::Video => constraints.set_video(&wanted),
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
                let slot = match kind {
                    MediaKind::Audio => Slot::MicAudio,
                    MediaKind::Video => Slot::Camera,
                };
                let _ = media.send(slot, Some(&track)).await;
            }
            match kind {
                MediaKind::Audio => set.microphone.set(Some(device_id)),
                MediaKind::Video => set.camera.set(Some(device_id)),
            }
            with_call(&weak, |c| c.set.self_view.set(c.camera.clone()));
        });
    }
}
