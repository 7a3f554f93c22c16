//! Helpers shared by the browser tests.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};

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
    worker_url(true)
}

/// The media worker started by a loader that leaves out `frames.js` (a broken deployment).
pub fn media_worker_url_without_its_frame_script() -> String {
    worker_url(false)
}

/// What js/media-worker.js loads, in its order: the frame path's script first (if
/// `frame_script`), then the wasm-bindgen glue, then the wasm.
fn worker_url(frame_script: bool) -> String {
    const FRAMES: &str = include_str!("../../crates/worker/js/frames.js");
    const GLUE: &str =
        include_str!(concat!(env!("SHIELDCALL_WORKER_PKG"), "/shieldcall_worker.js"));
    const WASM: &[u8] =
        include_bytes!(concat!(env!("SHIELDCALL_WORKER_PKG"), "/shieldcall_worker_bg.wasm"));
    let wasm_url = blob_url(WASM, "application/wasm");
    let frames = if frame_script { FRAMES } else { "" };
    let script = format!("{frames}\n{GLUE}\nwasm_bindgen({{ module_or_path: {wasm_url:?} }});\n");
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

/// The text of `element`.
pub fn text(element: &HtmlElement) -> String {
    element.text_content().unwrap_or_default()
}

/// An attribute of `element`.
pub fn attr(element: &HtmlElement, name: &str) -> Option<String> {
    element.get_attribute(name)
}

/// Every element matching `selector` inside `root`.
pub fn all(root: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length()).map(|n| list.item(n).unwrap().unchecked_into()).collect()
}

/// Whether `element` has the focus.
pub fn is_focused(element: &HtmlElement) -> bool {
    focused().is_some_and(|f| f == **element)
}

/// An undo, with the number of the guard that recorded it.
type Undo = (u64, Box<dyn FnOnce()>);

thread_local! {
    /// What live [`Restore`] guards will put back.
    static TO_RESTORE: RefCell<Vec<Undo>> = RefCell::new(Vec::new());
    static NEXT_GUARD: Cell<u64> = const { Cell::new(0) };
}

/// Puts back something a test changed for the whole page when dropped, or when the test fails.
///
/// A panic in wasm32 aborts the test without unwinding: no destructor runs, and the page would
/// stay changed for the next test. So every undo is also recorded, and the panic hook (the test
/// runner's, wrapped once) runs all that are recorded after reporting the panic.
pub struct Restore(u64);

impl Restore {
    pub fn new(undo: impl FnOnce() + 'static) -> Self {
        static ON_PANIC: std::sync::Once = std::sync::Once::new();
        ON_PANIC.call_once(|| {
            let report = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |panic| {
                report(panic);
                restore_all();
            }));
        });
        let id = NEXT_GUARD.with(|n| n.replace(n.get() + 1));
        TO_RESTORE.with(|all| all.borrow_mut().push((id, Box::new(undo))));
        Restore(id)
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let undo = TO_RESTORE.with(|all| {
            let mut all = all.borrow_mut();
            let at = all.iter().position(|(id, _)| *id == self.0)?;
            Some(all.remove(at).1)
        });
        if let Some(undo) = undo {
            undo();
        }
    }
}

/// Put back everything live guards changed, newest first (a failing test's guards are never
/// dropped).
fn restore_all() {
    let left = TO_RESTORE.with(|all| std::mem::take(&mut *all.borrow_mut()));
    for (_, undo) in left.into_iter().rev() {
        undo();
    }
}

/// Hides global properties for as long as it lives, and puts them back when dropped or when the
/// test fails (see [`Restore`]), so no test leaves the page without them.
pub struct Hidden(Restore);

impl Hidden {
    /// `(class, Some("prototype") or None, name)`: `globalThis.class[.prototype].name`.
    pub fn hide(targets: &[(&str, Option<&str>, &'static str)]) -> Self {
        let global: js_sys::Object = js_sys::global().unchecked_into();
        let mut hidden = Vec::new();
        for (class, prototype, name) in targets {
            let mut owner = js_sys::Reflect::get(&global, &(*class).into()).unwrap();
            if let Some(prototype) = prototype {
                owner = js_sys::Reflect::get(&owner, &(*prototype).into()).unwrap();
            }
            let owner: js_sys::Object = owner.unchecked_into();
            let value = js_sys::Reflect::get(&owner, &(*name).into()).unwrap();
            if value.is_undefined() {
                continue; // not there to hide (another browser)
            }
            assert!(js_sys::Reflect::delete_property(&owner, &(*name).into()).unwrap());
            hidden.push((owner, *name, value));
        }
        Hidden(Restore::new(move || {
            for (owner, name, value) in hidden {
                js_sys::Reflect::set(&owner, &name.into(), &value).unwrap();
            }
        }))
    }
}

/// The page's `localStorage` emptied for as long as it lives, and its items put back when
/// dropped or when the test fails (see [`Restore`]): a setting a test turned off never reaches
/// the next test.
pub struct EmptyStorage(Restore);

impl EmptyStorage {
    pub fn new() -> Self {
        let storage = window().local_storage().unwrap().unwrap();
        let items: Vec<(String, String)> = (0..storage.length().unwrap())
            .filter_map(|n| storage.key(n).unwrap())
            .map(|key| {
                let value = storage.get_item(&key).unwrap().unwrap_or_default();
                (key, value)
            })
            .collect();
        storage.clear().unwrap();
        EmptyStorage(Restore::new(move || {
            let storage = window().local_storage().unwrap().unwrap();
            storage.clear().unwrap();
            for (key, value) in items {
                storage.set_item(&key, &value).unwrap();
            }
        }))
    }
}

/// Where `element` is in its window's viewport (`getBoundingClientRect()`, read without
/// web-sys's `DomRect`).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Bounds {
    pub fn of(element: &web_sys::Element) -> Self {
        let method: js_sys::Function =
            js_sys::Reflect::get(element, &"getBoundingClientRect".into())
                .unwrap()
                .unchecked_into();
        let rect = method.call0(element).unwrap();
        let side =
            |name: &str| js_sys::Reflect::get(&rect, &name.into()).unwrap().as_f64().unwrap();
        Bounds {
            left: side("left"),
            top: side("top"),
            right: side("right"),
            bottom: side("bottom"),
        }
    }

    pub fn width(&self) -> f64 {
        self.right - self.left
    }

    pub fn height(&self) -> f64 {
        self.bottom - self.top
    }
}
