//! The camera and microphone of a call page: asked for once, as the pre-join screen opens, and
//! handed to the call when the person joins (no second prompt, no second warm-up). What the
//! browser answered for each device becomes data ([`DeviceAccess`]), never an error thrown.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use leptos::prelude::*;
use shieldcall_call::prejoin::DeviceAccess;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{MediaDevices, MediaStream, MediaStreamConstraints, MediaStreamTrack};

use crate::browser::peer::{MediaKind, first_track};
use crate::components::Device;

/// What [`use_local_media`] gives.
#[derive(Clone, Copy)]
pub struct UseLocalMediaReturn {
    /// Whatever of the camera and microphone the browser gave; `None` until it answered, or if
    /// it gave neither. Set again (the same stream) when a device is switched, so that readers
    /// of its tracks (the level meter) see the new one.
    pub stream: Signal<Option<MediaStream>, LocalStorage>,
    /// What the browser answered for the microphone.
    pub microphone: Signal<DeviceAccess>,
    /// And for the camera.
    pub camera: Signal<DeviceAccess>,
    /// The microphones and cameras to choose from, once a device was allowed (before that the
    /// browser hides their names).
    pub microphones: Signal<Vec<Device>>,
    pub cameras: Signal<Vec<Device>>,
    /// The device ids in use.
    pub microphone_id: Signal<Option<String>>,
    pub camera_id: Signal<Option<String>>,
    /// Use another microphone (audio) or camera (video), by device id.
    pub switch: Callback<(MediaKind, String)>,
}

/// Ask for the camera and microphone now; their tracks stop when the calling component goes
/// away (the call page closes), wherever they were handed on to.
pub fn use_local_media() -> UseLocalMediaReturn {
    let stream = RwSignal::new_local(None::<MediaStream>);
    let microphone = RwSignal::new(DeviceAccess::Asking);
    let camera = RwSignal::new(DeviceAccess::Asking);
    let microphones = RwSignal::new(Vec::new());
    let cameras = RwSignal::new(Vec::new());
    let microphone_id = RwSignal::new(None::<String>);
    let camera_id = RwSignal::new(None::<String>);
    // A page left while the browser was still asking: what comes afterwards is stopped at once.
    let gone = Rc::new(Cell::new(false));

    let left = gone.clone();
    let gone = StoredValue::new_local(gone);
    spawn_local(async move {
        let Some(devices) = media_devices() else {
            microphone.set(DeviceAccess::Unsupported);
            camera.set(DeviceAccess::Unsupported);
            return;
        };
        let got = ask_both(&devices).await;
        if left.get() {
            if let Some(got) = &got.0 {
                stop_tracks(got);
            }
            return;
        }
        let (got, mic, cam) = got;
        // The stream before the answers, in one turn: whoever reacts to the answers (a call
        // joined before the preview came) finds the tracks already there.
        if let Some(got) = &got {
            microphone_id.try_set(first_track(got, MediaKind::Audio).and_then(|t| device_of(&t)));
            camera_id.try_set(first_track(got, MediaKind::Video).and_then(|t| device_of(&t)));
            // `Clone::clone`: `got.clone()` would be `MediaStream.clone()`, new tracks (a
            // second capture), and the first ones would never be stopped.
            stream.try_set(Some(Clone::clone(got)));
        }
        microphone.set(mic);
        camera.set(cam);
        if got.is_some()
            && let Some((mics, cams)) = device_lists().await
        {
            microphones.try_set(mics);
            cameras.try_set(cams);
        }
    });

    // A device plugged in or out while the page is open: the lists follow. (Only once they
    // were filled: before a device is allowed the browser names none.)
    let relist = Closure::<dyn FnMut()>::new(move || {
        let listed = |list: RwSignal<Vec<Device>>| {
            list.try_with_untracked(|l| !l.is_empty()).unwrap_or(false)
        };
        if !listed(microphones) && !listed(cameras) {
            return;
        }
        spawn_local(async move {
            if let Some((mics, cams)) = device_lists().await {
                microphones.try_set(mics);
                cameras.try_set(cams);
            }
        });
    });
    if let Some(devices) = media_devices() {
        let _ = devices
            .add_event_listener_with_callback("devicechange", relist.as_ref().unchecked_ref());
    }
    let relist = StoredValue::new_local(relist);

    let switch = Callback::new(move |(kind, id): (MediaKind, String)| {
        let Some(current) = stream.get_untracked() else { return };
        spawn_local(async move {
            // Before the call, a device that was missing starts on, as the preview shows it.
            if replace_device(&current, kind, &id, true).await.is_ok() {
                match kind {
                    MediaKind::Audio => microphone_id.try_set(Some(id)),
                    MediaKind::Video => camera_id.try_set(Some(id)),
                };
                stream.try_set(Some(current));
            }
        });
    });

    on_cleanup(move || {
        gone.with_value(|gone| gone.set(true));
        if let Some(devices) = media_devices() {
            relist.with_value(|relist| {
                let listener = relist.as_ref().unchecked_ref();
                let _ = devices.remove_event_listener_with_callback("devicechange", listener);
            });
        }
        if let Some(stream) = stream.try_get_untracked().flatten() {
            stop_tracks(&stream);
        }
    });
    UseLocalMediaReturn {
        stream: stream.into(),
        microphone: microphone.into(),
        camera: camera.into(),
        microphones: microphones.into(),
        cameras: cameras.into(),
        microphone_id: microphone_id.into(),
        camera_id: camera_id.into(),
        switch,
    }
}

fn media_devices() -> Option<MediaDevices> {
    web_sys::window()?.navigator().media_devices().ok()
}

/// Both devices in one request (one prompt); if that fails, each alone, to learn which one the
/// browser refuses and keep the other. Returns the stream of what was given and each answer.
async fn ask_both(devices: &MediaDevices) -> (Option<MediaStream>, DeviceAccess, DeviceAccess) {
    if let Ok(both) = ask(devices, true, true).await {
        return (Some(both), DeviceAccess::Granted, DeviceAccess::Granted);
    }
    let stream = MediaStream::new().ok();
    let mut answers = [DeviceAccess::Asking; 2];
    for (n, (audio, video)) in [(true, false), (false, true)].into_iter().enumerate() {
        answers[n] = match ask(devices, audio, video).await {
            Ok(one) => {
                if let Some(stream) = &stream {
                    for track in one.get_tracks().iter() {
                        stream.add_track(&track.unchecked_into());
                    }
                }
                DeviceAccess::Granted
            }
            Err(name) => DeviceAccess::from_error(&name),
        };
    }
    let stream = stream.filter(|s| s.get_tracks().length() > 0);
    (stream, answers[0], answers[1])
}

/// `getUserMedia` for the kinds asked; the error's name when it fails.
async fn ask(devices: &MediaDevices, audio: bool, video: bool) -> Result<MediaStream, String> {
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&audio.into());
    constraints.set_video(&video.into());
    let request =
        devices.get_user_media_with_constraints(&constraints).map_err(|e| error_name(&e))?;
    match JsFuture::from(request).await {
        Ok(stream) => Ok(stream.unchecked_into()),
        Err(err) => Err(error_name(&err)),
    }
}

/// The microphones and cameras, `(device id, label)`, in the browser's order.
pub async fn device_lists() -> Option<(Vec<Device>, Vec<Device>)> {
    let request = media_devices()?.enumerate_devices().ok()?;
    let list = JsFuture::from(request).await.ok()?;
    let (mut microphones, mut cameras) = (Vec::new(), Vec::new());
    for info in Array::from(&list).iter().map(|d| d.unchecked_into::<web_sys::MediaDeviceInfo>()) {
        let entry = (info.device_id(), info.label());
        match info.kind() {
            web_sys::MediaDeviceKind::Audioinput => microphones.push(entry),
            web_sys::MediaDeviceKind::Videoinput => cameras.push(entry),
            _ => {}
        }
    }
    Some((microphones, cameras))
}

/// The device id a track comes from.
pub fn device_of(track: &MediaStreamTrack) -> Option<String> {
    Reflect::get(&track.get_settings(), &"deviceId".into()).ok()?.as_string()
}

/// Put the device `device_id` in place of `stream`'s track of `kind`, keeping whether it is
/// enabled (a muted microphone stays muted), or, where it replaces none, enabled as
/// `enabled_if_new`; the old track stops. Resolves to the new track.
pub async fn replace_device(
    stream: &MediaStream,
    kind: MediaKind,
    device_id: &str,
    enabled_if_new: bool,
) -> Result<MediaStreamTrack, ()> {
    let devices = media_devices().ok_or(())?;
    let exact = Object::new();
    let _ = Reflect::set(&exact, &"exact".into(), &device_id.into());
    let wanted = Object::new();
    let _ = Reflect::set(&wanted, &"deviceId".into(), &exact);
    let constraints = MediaStreamConstraints::new();
    match kind {
        MediaKind::Audio => constraints.set_audio(&wanted),
        MediaKind::Video => constraints.set_video(&wanted),
    }
    let request = devices.get_user_media_with_constraints(&constraints).map_err(drop)?;
    let got: MediaStream = JsFuture::from(request).await.map_err(drop)?.unchecked_into();
    let track = first_track(&got, kind).ok_or(())?;
    match first_track(stream, kind) {
        Some(old) => {
            track.set_enabled(old.enabled());
            stream.remove_track(&old);
            old.stop();
        }
        None => track.set_enabled(enabled_if_new),
    }
    stream.add_track(&track);
    Ok(track)
}

/// Stop every track of `stream` (the camera's light goes off).
pub fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

/// Turn the tracks of `kind` on or off (a track turned off sends silence or black).
pub fn set_enabled(stream: &MediaStream, kind: MediaKind, on: bool) {
    for track in kind.tracks(stream).iter() {
        track.unchecked_into::<MediaStreamTrack>().set_enabled(on);
    }
}

fn error_name(err: &JsValue) -> String {
    Reflect::get(err, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default()
}
