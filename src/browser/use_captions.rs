//! Live captions with the browser's speech recognition (`SpeechRecognition`, or Chromium's
//! `webkitSpeechRecognition`), reached through `js_sys::Reflect` because web-sys has no binding.
//!
//! What the browser does with the audio is up to the browser: Chromium sends it to its speech
//! service. That is one reason the UI offers captions only in calls without end-to-end encryption.
//! The recognizer listens to the browser's default microphone input.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Shown where the browser has no speech recognition.
pub const CAPTIONS_UNSUPPORTED: &str = "Live captions need a browser with speech recognition";

/// What [`use_captions`] gives back.
#[derive(Clone, Copy)]
pub struct UseCaptionsReturn {
    /// Whether this browser has speech recognition at all.
    pub supported: bool,
    /// Whether captions are on.
    pub active: Signal<bool>,
    /// The caption being spoken now (interim, then final).
    pub text: Signal<String>,
    /// Why captions stopped or could not start, for people.
    pub error: Signal<Option<String>>,
    /// Turn captions on ([`CAPTIONS_UNSUPPORTED`] in `error` where there is no recognizer).
    pub start: Callback<()>,
    /// Turn captions off.
    pub stop: Callback<()>,
}

/// The browser's speech recognition constructor, where there is one.
pub fn speech_recognition_constructor() -> Option<js_sys::Function> {
    let window = web_sys::window()?;
    ["SpeechRecognition", "webkitSpeechRecognition"].iter().find_map(|name| {
        js_sys::Reflect::get(&window, &JsValue::from_str(name)).ok()?.dyn_into().ok()
    })
}

struct Recognizer {
    instance: JsValue,
    _on_result: Closure<dyn FnMut(JsValue)>,
    _on_error: Closure<dyn FnMut(JsValue)>,
    _on_end: Closure<dyn FnMut(JsValue)>,
}

fn call(target: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    let f: js_sys::Function =
        js_sys::Reflect::get(target, &JsValue::from_str(method))?.dyn_into()?;
    f.call0(target)
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a plain JS object does not fail.
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Live captions of what the microphone hears, while on. The recognizer is aborted when the
/// calling component goes away.
pub fn use_captions() -> UseCaptionsReturn {
    let supported = speech_recognition_constructor().is_some();
    let (active, set_active) = signal(false);
    let (text, set_text) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let recognizer = StoredValue::new_local(None::<Recognizer>);

    let start = Callback::new(move |()| {
        if active.get_untracked() {
            return;
        }
        let Some(constructor) = speech_recognition_constructor() else {
            set_error.set(Some(CAPTIONS_UNSUPPORTED.into()));
            return;
        };
        if recognizer.with_value(Option::is_none) {
            match make_recognizer(&constructor, active, set_active, set_text, set_error) {
                Ok(made) => recognizer.set_value(Some(made)),
                Err(problem) => {
                    set_error.set(Some(problem));
                    return;
                }
            }
        }
        set_error.set(None);
        set_active.set(true);
        let started = recognizer
            .with_value(|r| r.as_ref().map(|r| call(&r.instance, "start")))
            .unwrap_or(Ok(JsValue::UNDEFINED));
        if started.is_err() {
            set_active.set(false);
            set_error.set(Some("Live captions could not start.".into()));
        }
    });

    let stop = Callback::new(move |()| {
        set_active.set(false);
        recognizer.with_value(|r| {
            if let Some(r) = r {
                let _ = call(&r.instance, "stop");
            }
        });
    });

    // The recognizer holds the microphone: release it, and detach the handlers before their
    // closures are freed.
    on_cleanup(move || {
        recognizer.with_value(|r| {
            if let Some(r) = r {
                for handler in ["onresult", "onerror", "onend"] {
                    set(&r.instance, handler, &JsValue::NULL);
                }
                let _ = call(&r.instance, "abort");
            }
        });
    });

    UseCaptionsReturn {
        supported,
        active: active.into(),
        text: text.into(),
        error: error.into(),
        start,
        stop,
    }
}

fn make_recognizer(
    constructor: &js_sys::Function,
    active: ReadSignal<bool>,
    set_active: WriteSignal<bool>,
    set_text: WriteSignal<String>,
    set_error: WriteSignal<Option<String>>,
) -> Result<Recognizer, String> {
    let instance = js_sys::Reflect::construct(constructor, &js_sys::Array::new())
        .map_err(|_| "Live captions could not start.".to_string())?;
    set(&instance, "continuous", &JsValue::TRUE);
    set(&instance, "interimResults", &JsValue::TRUE);
    if let Some(lang) = web_sys::window().and_then(|w| w.navigator().language()) {
        set(&instance, "lang", &JsValue::from_str(&lang));
    }

    let on_result = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        // event.results[last][0].transcript: the utterance being recognised now.
        let results = get(&event, "results");
        let length = get(&results, "length").as_f64().unwrap_or(0.0) as u32;
        if length == 0 {
            return;
        }
        let latest = js_sys::Reflect::get_u32(&results, length - 1).unwrap_or(JsValue::UNDEFINED);
        let best = js_sys::Reflect::get_u32(&latest, 0).unwrap_or(JsValue::UNDEFINED);
        if let Some(transcript) = get(&best, "transcript").as_string() {
            set_text.set(transcript.trim().to_string());
        }
    });
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let code = get(&event, "error").as_string().unwrap_or_default();
        let message = match code.as_str() {
            // Silence and our own stop are not problems.
            "no-speech" | "aborted" => return,
            "not-allowed" | "service-not-allowed" => {
                "Live captions need permission to use the microphone and the browser's speech service."
                    .to_string()
            }
            "audio-capture" => "Live captions found no microphone.".to_string(),
            "network" => "Live captions could not reach the browser's speech service.".to_string(),
            other => format!("Live captions stopped ({other})."),
        };
        set_error.set(Some(message));
        set_active.set(false);
    });
    let instance_for_end = instance.clone();
    let on_end = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        // The browser ends recognition after a pause; captions stay on until turned off.
        if active.get_untracked() && call(&instance_for_end, "start").is_err() {
            set_active.set(false);
        }
    });
    set(&instance, "onresult", on_result.as_ref());
    set(&instance, "onerror", on_error.as_ref());
    set(&instance, "onend", on_end.as_ref());
    Ok(Recognizer { instance, _on_result: on_result, _on_error: on_error, _on_end: on_end })
}
