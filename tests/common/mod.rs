//! Helpers shared by the browser tests.

#![allow(dead_code)]

use leptos::prelude::*;
use shieldcall::browser::worker::MediaWorker;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlElement, Url};

/// The project's own media worker, as `make worker-pkg` built it (wasm-bindgen --target
/// no-modules), started from blob URLs because the test runner serves only the test itself.
pub async fn spawn_media_worker() -> MediaWorker {
    MediaWorker::spawn(&media_worker_url()).await.expect("the media worker starts")
}

/// A blob URL that starts the project's own media worker (for tests that talk to it without
/// [`MediaWorker`]).
pub fn media_worker_url() -> String {
    const GLUE: &str =
        include_str!(concat!(env!("SHIELDCALL_WORKER_PKG"), "/shieldcall_worker.js"));
    const WASM: &[u8] =
        include_bytes!(concat!(env!("SHIELDCALL_WORKER_PKG"), "/shieldcall_worker_bg.wasm"));
    let wasm_url = blob_url(WASM, "application/wasm");
    let script = format!("{GLUE}\nwasm_bindgen({{ module_or_path: {wasm_url:?} }});\n");
    blob_url(script.as_bytes(), "text/javascript")
}

fn blob_url(bytes: &[u8], mime: &str) -> String {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).unwrap();
    Url::create_object_url_with_blob(&blob).unwrap()
}

/// A fresh element in the document to mount a component into.
pub fn container() -> HtmlElement {
    let document = document();
    let div: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

/// The first element matching `selector` inside `root`.
pub fn find(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .unchecked_into()
}

/// Let Leptos run its effects and the browser its microtasks.
pub async fn settle() {
    leptos::task::tick().await;
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// Wait up to `ms` milliseconds for `check` to hold, polling every 20 ms.
pub async fn eventually(ms: u32, mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..ms / 20 {
        if check() {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    check()
}

/// The app's stylesheet, added to the test page once, so computed styles are the app's.
pub fn load_styles() {
    let document = document();
    if document.get_element_by_id("shieldcall-styles").is_some() {
        return;
    }
    let style = document.create_element("style").unwrap();
    style.set_id("shieldcall-styles");
    style.set_text_content(Some(include_str!("../../style/main.css")));
    document.head().unwrap().append_child(&style).unwrap();
}

/// Dispatch a bubbling, cancelable `keydown` of `key` on `target`.
pub fn press(target: &HtmlElement, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

/// The element that has the focus, if any.
pub fn focused() -> Option<web_sys::Element> {
    document().active_element()
}

/// A property of `element`'s computed style.
pub fn computed(element: &HtmlElement, property: &str) -> String {
    window().get_computed_style(element).unwrap().unwrap().get_property_value(property).unwrap()
}

/// A live stream of a canvas that changes colour every 40 ms (frames only flow while the canvas
/// changes), and the timer that paints it (drop it to stop painting).
pub fn canvas_stream() -> (web_sys::MediaStream, gloo_timers::callback::Interval) {
    let canvas: web_sys::HtmlCanvasElement =
        document().create_element("canvas").unwrap().unchecked_into();
    canvas.set_width(160);
    canvas.set_height(120);
    let stream = canvas.capture_stream().unwrap();
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    let mut n = 0u32;
    let painter = gloo_timers::callback::Interval::new(40, move || {
        n = n.wrapping_add(1);
        context.set_fill_style_str(&format!("hsl({}, 80%, 50%)", n * 13 % 360));
        context.fill_rect(0.0, 0.0, 160.0, 120.0);
    });
    (stream, painter)
}
