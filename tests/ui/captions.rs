//! Live captions in headless Chromium: in a browser without speech recognition, they say why.

use leptos::prelude::*;
use wasm_bindgen_test::*;

use crate::common::{Hidden, attr, container, find, settle, text};

#[wasm_bindgen_test]
async fn captions_say_why_not_in_a_browser_without_speech_recognition() {
    use shieldcall::browser::use_captions::{
        CAPTIONS_UNSUPPORTED, speech_recognition_constructor, use_captions,
    };
    use shieldcall::components::Captions;

    // Take the browser's recognizers away for the length of this test.
    let hidden = Hidden::hide(&[
        ("globalThis", None, "SpeechRecognition"),
        ("globalThis", None, "webkitSpeechRecognition"),
    ]);
    assert!(speech_recognition_constructor().is_none());

    let root = container();
    let view = leptos::mount::mount_to(root.clone(), move || {
        let captions = use_captions();
        view! {
            <p data-supported=captions.supported.to_string()></p>
            <button data-action="captions" on:click=move |_| captions.start.run(())>"Captions"</button>
            <Captions active=captions.active text=captions.text error=captions.error />
        }
    });
    settle().await;
    assert_eq!(attr(&find(&root, "[data-supported]"), "data-supported").as_deref(), Some("false"));
    assert!(find(&root, "[data-captions]").hidden());
    find(&root, "[data-action=captions]").click();
    settle().await;
    let line = find(&root, "[data-captions]");
    assert!(!line.hidden());
    assert_eq!(text(&line), CAPTIONS_UNSUPPORTED);
    drop(view);
    drop(hidden);
    assert!(speech_recognition_constructor().is_some(), "the guard put them back");
}
