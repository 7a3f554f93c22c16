//! A live level of a stream's microphone, for the pre-join meter: a WebAudio `AnalyserNode`
//! read ten times a second. Only the page's own audio graph: nothing is played or sent.

use std::time::Duration;

use leptos::prelude::*;
use shieldcall_call::prejoin::{mic_level, rms};
use wasm_bindgen::prelude::*;
use web_sys::{AudioContext, MediaStream};

// The two calls of AnalyserNode the meter needs, declared here: web-sys's `AnalyserNode`
// feature would rebuild web-sys and every crate above it for these.
#[wasm_bindgen]
extern "C" {
    type Analyser;
    #[wasm_bindgen(method, js_name = createAnalyser)]
    fn create_analyser(context: &AudioGraph) -> Analyser;
    #[wasm_bindgen(method, setter, js_name = fftSize)]
    fn set_fft_size(analyser: &Analyser, size: u32);
    #[wasm_bindgen(method, js_name = getFloatTimeDomainData)]
    fn get_float_time_domain_data(analyser: &Analyser, samples: &mut [f32]);

    /// An `AudioContext`, as the analyser's maker.
    type AudioGraph;
}

/// One audio graph, from the stream's microphone to an analyser (connected to nothing else).
struct Meter {
    context: AudioContext,
    analyser: Analyser,
    samples: Vec<f32>,
}

impl Meter {
    fn new(stream: &MediaStream) -> Option<Self> {
        if stream.get_audio_tracks().length() == 0 {
            return None;
        }
        let context = AudioContext::new().ok()?;
        let source = context.create_media_stream_source(stream).ok()?;
        let analyser = context.unchecked_ref::<AudioGraph>().create_analyser();
        analyser.set_fft_size(1024);
        source.connect_with_audio_node(analyser.unchecked_ref()).ok()?;
        // Without a click on the page first, a browser may start the context suspended; this
        // asks, and the person's first click or key press asks again (below).
        let _ = context.resume();
        Some(Self { context, analyser, samples: vec![0.0; 1024] })
    }

    /// Whether the browser holds the context until a click or key press (its rule for sound
    /// that starts without one: Firefox's, and Chrome's for a page opened from a link).
    fn suspended(&self) -> bool {
        js_sys::Reflect::get(&self.context, &"state".into())
            .ok()
            .and_then(|state| state.as_string())
            .is_some_and(|state| state == "suspended")
    }

    fn level(&mut self) -> f64 {
        self.analyser.get_float_time_domain_data(&mut self.samples);
        mic_level(rms(&self.samples))
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        // A context holds audio hardware until closed.
        let _ = self.context.close();
    }
}

/// What [`use_audio_level`] gives.
#[derive(Clone, Copy)]
pub struct UseAudioLevelReturn {
    /// The level, 0 to 1 (see [`mic_level`]).
    pub level: Signal<f64>,
    /// Whether the browser holds the audio until the person clicks or presses a key on the page
    /// (the level stays at 0 until then).
    pub held: Signal<bool>,
}

/// The microphone level of `stream`, updated ten times a second; 0 without a microphone or
/// while it is off. A new stream (or the same one set again after a device switch) gets a new
/// graph; everything stops and closes when the calling component goes away.
pub fn use_audio_level(stream: Signal<Option<MediaStream>, LocalStorage>) -> UseAudioLevelReturn {
    let (level, set_level) = signal(0.0);
    let (held, set_held) = signal(false);
    let meter = StoredValue::new_local(None::<Meter>);
    Effect::new(move || {
        let made = stream.with(|s| s.as_ref().and_then(Meter::new));
        meter.set_value(made);
    });
    let ticker = set_interval_with_handle(
        move || {
            let now = meter.try_update_value(|m| m.as_mut().map(|m| (m.level(), m.suspended())));
            if let Some((now, suspended)) = now.flatten() {
                set_level.set(now);
                if held.get_untracked() != suspended {
                    set_held.set(suspended);
                }
            }
        },
        Duration::from_millis(100),
    )
    .ok();
    // A click or a key press resumes a context the browser started suspended (inside the
    // event's handler: only there does it count as the person's doing).
    let resume = move || {
        meter.with_value(|m| {
            if let Some(m) = m {
                let _ = m.context.resume();
            }
        })
    };
    let click = window_event_listener(leptos::ev::pointerdown, move |_| resume());
    let key = window_event_listener(leptos::ev::keydown, move |_| resume());
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
        click.remove();
        key.remove();
        meter.try_set_value(None);
    });
    UseAudioLevelReturn { level: level.into(), held: held.into() }
}
