//! Recording in headless Chromium: the features menu records a stream into a WebM file without
//! E2EE, and says why where there is nothing to record.

use leptos::prelude::*;
use shieldcall::browser::use_recorder::{UseRecorderOptions, use_recorder_with_options};
use shieldcall::components::FeaturesMenu;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use crate::common::{attr, canvas_stream, container, eventually, find, settle, text};

#[wasm_bindgen_test]
async fn without_e2ee_recording_records_the_stream_into_a_webm_file() {
    let (stream, _painter) = canvas_stream();
    let stream = RwSignal::new_local(Some(stream));
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        let recorder =
            use_recorder_with_options(stream.into(), UseRecorderOptions { download: false });
        view! {
            <FeaturesMenu
                off=None
                recording=recorder.recording
                on_toggle_recording=Callback::new(move |()| {
                    if recorder.recording.get_untracked() {
                        recorder.stop.run(());
                    } else {
                        recorder.start.run(());
                    }
                })
                last_recording=recorder.last
                recording_error=Signal::derive(move || match recorder.state.get() {
                    shieldcall::browser::use_recorder::RecorderState::Failed(why) => Some(why),
                    _ => None,
                })
            />
        }
    });
    settle().await;
    let button = find(&root, "[data-feature=recording]");
    assert!(!button.has_attribute("disabled"));
    button.click();
    settle().await;
    assert_eq!(attr(&button, "aria-pressed").as_deref(), Some("true"), "recording");
    assert_eq!(text(&button), "Stop recording");

    gloo_timers::future::TimeoutFuture::new(600).await;
    button.click();
    assert!(
        eventually(3000, || root.query_selector("[data-recording-link]").unwrap().is_some()).await,
        "a link to the recording: {}",
        text(&root)
    );
    assert_eq!(attr(&button, "aria-pressed").as_deref(), Some("false"));
    let link = find(&root, "[data-recording-link]");
    let size: f64 = attr(&link, "data-size").unwrap().parse().unwrap();
    assert!(size > 0.0, "the recording has bytes: {size}");
    assert!(attr(&link, "href").unwrap().starts_with("blob:"));
    let name = attr(&link, "download").unwrap();
    assert!(name.starts_with("shieldcall-") && name.ends_with(".webm"), "{name}");

    // The Blob behind the link is a WebM file: it starts with the EBML magic 1A 45 DF A3.
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(
        window().fetch_with_str(&attr(&link, "href").unwrap()),
    )
    .await
    .unwrap()
    .unchecked_into();
    let buffer =
        wasm_bindgen_futures::JsFuture::from(response.array_buffer().unwrap()).await.unwrap();
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    assert_eq!(bytes.len() as f64, size);
    assert_eq!(&bytes[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
}

#[wasm_bindgen_test]
async fn recording_without_a_stream_says_why() {
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        let recorder = use_recorder_with_options(
            Signal::stored_local(None),
            UseRecorderOptions { download: false },
        );
        recorder.start.run(());
        view! { <p data-state=move || format!("{:?}", recorder.state.get())></p> }
    });
    settle().await;
    let state = attr(&find(&root, "[data-state]"), "data-state").unwrap();
    assert!(state.starts_with("Failed"), "{state}");
}
