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
        // Without a click on the page first, a browser may start the context suspended.
        let _ = context.resume();
        Some(Self { context, analyser, samples: vec![0.0; 1024] })
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

/// The microphone level of `stream` (0 to 1, see [`mic_level`]), updated ten times a second;
/// 0 without a microphone or while it is off. A new stream (or the same one set again after a
/// device switch) gets a new graph; everything stops and closes when the calling component goes
/// away.
pub fn use_audio_level(stream: Signal<Option<MediaStream>, LocalStorage>) -> Signal<f64> {
    let (level, set_level) = signal(0.0);
    let meter = StoredValue::new_local(None::<Meter>);
    Effect::new(move || {
        let made = stream.with(|s| s.as_ref().and_then(Meter::new));
        meter.set_value(made);
    });
    let ticker = set_interval_with_handle(
        move || {
            let now = meter.try_update_value(|m| m.as_mut().map(Meter::level)).flatten();
            if let Some(now) = now {
                set_level.set(now);
            }
        },
        Duration::from_millis(100),
    )
    .ok();
    // A click resumes a context the browser started suspended.
    let gesture = window_event_listener(leptos::ev::pointerdown, move |_| {
        meter.with_value(|m| {
            if let Some(m) = m {
                let _ = m.context.resume();
            }
        });
    });
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
        gesture.remove();
        meter.try_set_value(None);
    });
    level.into()
}
