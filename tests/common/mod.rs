//! Helpers shared by the browser tests.

#![allow(dead_code)]

use leptos::prelude::*;
use shieldcall::browser::worker::MediaWorker;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlElement, Url};

/// The project's own media worker, as `make worker-pkg` built it (wasm-bindgen --target
/// no-modules), started from blob URLs because the test runner serves only the test itself.
pub async fn spawn_media_worker() -> MediaWorker {
    const GLUE: &str =
        include_str!(concat!(env!("SHIELDCALL_WORKER_PKG"), "/shieldcall_worker.js"));
    const WASM: &[u8] =
        include_bytes!(concat!(env!("SHIELDCALL_WORKER_PKG"), "/shieldcall_worker_bg.wasm"));
    let wasm_url = blob_url(WASM, "application/wasm");
    let script = format!("{GLUE}\nwasm_bindgen({{ module_or_path: {wasm_url:?} }});\n");
    let script_url = blob_url(script.as_bytes(), "text/javascript");
    MediaWorker::spawn(&script_url).await.expect("the media worker starts")
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
