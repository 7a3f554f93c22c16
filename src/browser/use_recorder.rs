//! MediaRecorder: record a call's MediaStream and save it as a `.webm` file.
//!
//! Only for calls without end-to-end encryption: the UI offers recording only then (see
//! `components::FeaturesMenu`), because a recording is a copy of the call outside the two devices.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BlobEvent, MediaRecorder, MediaRecorderOptions, MediaStream};

/// What the recorder is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecorderState {
    /// Not recording.
    Idle,
    /// Recording the stream.
    Recording,
    /// Could not record, and why (for people, not for code).
    Failed(String),
}

/// A finished recording, kept as a Blob URL until the next recording or until the component that
/// recorded goes away.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// `blob:` URL of the recording, for an `<a download>` link.
    pub url: String,
    /// Size in bytes.
    pub size: f64,
    /// The suggested file name, `shieldcall-YYYY-MM-DD-HHMMSS.webm`.
    pub file_name: String,
}

/// How [`use_recorder_with_options`] behaves.
#[derive(Clone, Copy, Debug)]
pub struct UseRecorderOptions {
    /// Start the download of the `.webm` file as soon as a recording stops (default `true`).
    pub download: bool,
}

impl Default for UseRecorderOptions {
    fn default() -> Self {
        UseRecorderOptions { download: true }
    }
}

/// What [`use_recorder`] gives back.
#[derive(Clone, Copy)]
pub struct UseRecorderReturn {
    pub state: Signal<RecorderState>,
    /// `state == Recording`.
    pub recording: Signal<bool>,
    /// The last finished recording.
    pub last: Signal<Option<Recording>>,
    /// Start recording the stream (no-op while recording; `Failed` when there is no stream).
    pub start: Callback<()>,
    /// Stop recording; the file is saved when the browser hands over the data.
    pub stop: Callback<()>,
}

/// Record `stream` with MediaRecorder; each recording is saved as a `.webm` file on stop.
pub fn use_recorder(stream: Signal<Option<MediaStream>, LocalStorage>) -> UseRecorderReturn {
    use_recorder_with_options(stream, UseRecorderOptions::default())
}

/// [`use_recorder`] with options.
///
/// A recording stops (and is saved) when `stream` changes to another stream or to none, when the
/// stream's tracks end, and when the calling component goes away.
pub fn use_recorder_with_options(
    stream: Signal<Option<MediaStream>, LocalStorage>,
    options: UseRecorderOptions,
) -> UseRecorderReturn {
    let (state, set_state) = signal(RecorderState::Idle);
    let (last, set_last) = signal(None::<Recording>);
    let recorder = StoredValue::new_local(None::<MediaRecorder>);

    let stop = Callback::new(move |()| {
        if let Some(active) = recorder.try_update_value(Option::take).flatten()
            && active.state() != web_sys::RecordingState::Inactive
        {
            // Stopping an active recorder does not throw; the data arrives in dataavailable.
            let _ = active.stop();
        }
        set_state.set(RecorderState::Idle);
    });

    let start = Callback::new(move |()| {
        if state.get_untracked() == RecorderState::Recording {
            return;
        }
        let Some(stream) = stream.get_untracked() else {
            set_state.set(RecorderState::Failed("There is nothing to record yet.".into()));
            return;
        };
        match start_recorder(&stream, options, set_state, set_last) {
            Ok(started) => {
                recorder.set_value(Some(started));
                set_state.set(RecorderState::Recording);
            }
            Err(problem) => set_state.set(RecorderState::Failed(problem)),
        }
    });

    // A recording is of one stream: when the call's stream changes, finish the file.
    Effect::new(move |previous: Option<Option<String>>| {
        let id = stream.with(|s| s.as_ref().map(MediaStream::id));
        if previous.is_some_and(|previous| previous != id)
            && state.get_untracked() == RecorderState::Recording
        {
            stop.run(());
        }
        id
    });

    // Leaving the call page ends the recording and still saves it (the data handler does not
    // need this component); the last Blob URL is released so the browser can free the memory.
    on_cleanup(move || {
        stop.run(());
        if let Some(done) = last.try_get_untracked().flatten() {
            let _ = web_sys::Url::revoke_object_url(&done.url);
        }
    });

    let recording = Signal::derive(move || state.get() == RecorderState::Recording);
    UseRecorderReturn { state: state.into(), recording, last: last.into(), start, stop }
}

fn start_recorder(
    stream: &MediaStream,
    options: UseRecorderOptions,
    set_state: WriteSignal<RecorderState>,
    set_last: WriteSignal<Option<Recording>>,
) -> Result<MediaRecorder, String> {
    let has_video = stream.get_video_tracks().length() > 0;
    let candidates: &[&str] = if has_video {
        &["video/webm;codecs=vp8,opus", "video/webm"]
    } else {
        &["audio/webm;codecs=opus", "audio/webm"]
    };
    let recorder_options = MediaRecorderOptions::new();
    if let Some(mime) = candidates.iter().find(|m| MediaRecorder::is_type_supported(m)) {
        recorder_options.set_mime_type(mime);
    }
    let recorder =
        MediaRecorder::new_with_media_stream_and_media_recorder_options(stream, &recorder_options)
            .map_err(|e| format!("This browser cannot record the call ({}).", describe(&e)))?;

    // Without a timeslice the browser hands over the whole recording in one dataavailable event,
    // when it stops (asked to, or because the tracks ended). The handler frees itself after that
    // one call, so it may outlive the component that started the recording: the file is saved
    // even when the call page has gone.
    let file_name = file_name();
    let on_data = Closure::once_into_js(move |event: BlobEvent| {
        set_state.set(RecorderState::Idle);
        let Some(blob) = event.data().filter(|b| b.size() > 0.0) else {
            set_state.set(RecorderState::Failed("Nothing was recorded.".into()));
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            set_state.set(RecorderState::Failed("The recording could not be saved.".into()));
            return;
        };
        if options.download {
            download(&url, &file_name);
        }
        let done = Recording { url: url.clone(), size: blob.size(), file_name };
        match set_last.try_update(|last| last.replace(done)) {
            Some(Some(previous)) => {
                let _ = web_sys::Url::revoke_object_url(&previous.url);
            }
            Some(None) => {}
            // The component is gone, nothing will show a link: free the Blob once the download
            // has had time to read it.
            None => {
                gloo_timers::callback::Timeout::new(60_000, move || {
                    let _ = web_sys::Url::revoke_object_url(&url);
                })
                .forget();
            }
        }
    });
    recorder.set_ondataavailable(Some(on_data.unchecked_ref()));
    recorder.start().map_err(|e| format!("The recording did not start ({}).", describe(&e)))?;
    Ok(recorder)
}

/// Save `url` as `name` through a temporary `<a download>`.
fn download(url: &str, name: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(anchor) = document.create_element("a") else { return };
    let anchor: web_sys::HtmlAnchorElement = anchor.unchecked_into();
    anchor.set_href(url);
    anchor.set_download(name);
    anchor.click();
}

/// `shieldcall-2025-01-31-140502.webm`, in local time.
fn file_name() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "shieldcall-{:04}-{:02}-{:02}-{:02}{:02}{:02}.webm",
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date(),
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds()
    )
}

fn describe(error: &wasm_bindgen::JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
