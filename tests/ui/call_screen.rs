//! The call screen in a window of a laptop's and a phone's size (an iframe of that size, with
//! the app's styles): the page never scrolls, the stage takes what is left, and every control
//! is on screen.

use leptos::prelude::*;
use shieldcall::components::{
    CallLayout, CallScreen, ChatPanel, Controls, E2EE_REASON, FeaturesMenu,
};
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::TranscriptHash;
use shieldcall_e2ee::session::ShieldState;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, HtmlElement, Window};

use crate::common::{Bounds, Restore, canvas_stream, settle};

/// An iframe of `width` × `height` CSS pixels with the app's stylesheet and its shell (the top
/// bar and `main`); returns its window, its document and `main`, and the guard that removes it.
async fn window_of(width: u32, height: u32) -> (Window, Document, HtmlElement, Restore) {
    let iframe: HtmlElement = document().create_element("iframe").unwrap().unchecked_into();
    iframe.set_attribute("width", &width.to_string()).unwrap();
    iframe.set_attribute("height", &height.to_string()).unwrap();
    iframe.set_attribute("style", "border: 0; display: block").unwrap();
    document().body().unwrap().append_child(&iframe).unwrap();
    // (Not `settle`: no executor runs before the first mount.)
    gloo_timers::future::TimeoutFuture::new(0).await;
    let inner: Window =
        js_sys::Reflect::get(&iframe, &"contentWindow".into()).unwrap().unchecked_into();
    let doc = inner.document().unwrap();
    let style = doc.create_element("style").unwrap();
    style.set_text_content(Some(include_str!("../../style/main.css")));
    doc.head().unwrap().append_child(&style).unwrap();
    let body = doc.body().unwrap();
    body.set_inner_html(
        r#"<header class="topbar"><a class="brand">Shieldcall</a></header><main></main>"#,
    );
    let main: HtmlElement = doc.query_selector("main").unwrap().unwrap().unchecked_into();
    let guard = Restore::new(move || iframe.remove());
    (inner, doc, main, guard)
}

fn rect(element: &web_sys::Element) -> Bounds {
    Bounds::of(element)
}

#[wasm_bindgen_test]
async fn a_call_fills_the_window_without_scrolling_on_a_laptop_a_phone_and_a_small_phone() {
    for (width, height) in [(1280, 800), (390, 844), (320, 568)] {
        let (inner, doc, main, _frame) = window_of(width, height).await;
        let (stream, _painter) = canvas_stream();
        let narrow = width <= 720;
        let chat_open = RwSignal::new(false);
        let code = SecurityCode::from_transcript(&TranscriptHash([0; 32]));
        let _view = leptos::mount::mount_to(main, move || {
            view! {
                <CallScreen
                    status="Connected."
                    status_hook="connected"
                    started_at=Some(0)
                    on_help=Callback::new(|()| {})
                    alerts=|| view! { <ul class="notices"><li>"A notice."</li></ul> }
                >
                    <CallLayout
                        shield=Signal::stored(ShieldState::Locked { code })
                        remote_video=Signal::stored_local(Some(Clone::clone(&stream)))
                        self_view=Signal::stored_local(Some(stream))
                        narrow
                        chat=move || view! {
                            <ChatPanel
                                messages=Signal::stored(Vec::new())
                                on_send=Callback::new(|_| true)
                                open=chat_open
                                on_close=Callback::new(|()| {})
                                narrow
                            />
                        }
                    >
                        <Controls
                            muted=false
                            on_toggle_mute=Callback::new(|()| {})
                            camera_on=true
                            on_toggle_camera=Callback::new(|()| {})
                            sharing=false
                            on_toggle_share=Callback::new(|()| {})
                            chat_open=false
                            on_toggle_chat=Callback::new(|()| {})
                            on_hang_up=Callback::new(|()| {})
                        >
                            <FeaturesMenu off=Some(E2EE_REASON) />
                        </Controls>
                    </CallLayout>
                </CallScreen>
            }
        });
        settle().await;
        let size = format!("{width}x{height}");
        let root = doc.document_element().unwrap();
        let (inner_width, inner_height) = (
            inner.inner_width().unwrap().as_f64().unwrap(),
            inner.inner_height().unwrap().as_f64().unwrap(),
        );
        assert!(
            f64::from(root.scroll_height()) <= inner_height,
            "{size}: the page does not scroll ({} > {inner_height})",
            root.scroll_height()
        );
        assert!(
            f64::from(root.scroll_width()) <= inner_width,
            "{size}: nor sideways ({} > {inner_width})",
            root.scroll_width()
        );
        let topbar = doc.query_selector(".topbar").unwrap().unwrap();
        let style = inner.get_computed_style(&topbar).unwrap().unwrap();
        assert_eq!(
            style.get_property_value("display").unwrap(),
            "none",
            "{size}: a call has the window"
        );
        let stage = rect(&doc.query_selector(".stage").unwrap().unwrap());
        assert!(stage.height() > inner_height * 0.5, "{size}: the stage is most of the window");
        assert!(stage.width() > inner_width * 0.9, "{size}: and nearly all its width");
        for control in ["mute", "camera", "share", "chat", "devices", "hang-up"] {
            let button = doc.query_selector(&format!("[data-control={control}]")).unwrap().unwrap();
            let at = rect(&button);
            assert!(
                at.left >= 0.0 && at.right <= inner_width && at.bottom <= inner_height,
                "{size}: {control} is on screen"
            );
        }
        let more = rect(&doc.query_selector("[data-action=features]").unwrap().unwrap());
        assert!(more.right <= inner_width && more.bottom <= inner_height, "{size}: More");
        let self_tile = rect(&doc.query_selector(".tile--self").unwrap().unwrap());
        assert!(self_tile.width() < stage.width() / 2.5, "{size}: the self view is a corner tile");
        assert!(
            self_tile.right <= stage.right && self_tile.bottom <= stage.bottom,
            "{size}: inside the stage"
        );
        // With the chat open (beside the stage, or a sheet on a phone), the page still does
        // not scroll and every control can still be pressed: nothing covers it.
        chat_open.set(true);
        settle().await;
        assert!(f64::from(root.scroll_height()) <= inner_height, "{size}: chat open, no scroll");
        for control in ["mute", "camera", "share", "chat", "devices", "hang-up"] {
            let button = doc.query_selector(&format!("[data-control={control}]")).unwrap().unwrap();
            let at = rect(&button);
            let (x, y) = ((at.left + at.right) / 2.0, (at.top + at.bottom) / 2.0);
            let hit = doc.element_from_point(x as f32, y as f32).expect("something is there");
            assert!(button.contains(Some(&hit)), "{size}: {control} is not covered by the chat");
        }
        chat_open.set(false);
        settle().await;

        let labels = doc.query_selector(".control-label").unwrap().unwrap();
        let shown = inner.get_computed_style(&labels).unwrap().unwrap();
        assert_eq!(
            shown.get_property_value("display").unwrap() == "none",
            narrow,
            "{size}: names under the icons when wide, icons alone (with tooltips) when narrow"
        );
    }
}

#[wasm_bindgen_test]
async fn the_timer_runs_from_the_start_and_an_ended_call_leads_back_to_the_start_page() {
    let status = RwSignal::new("connected");
    let started = RwSignal::new(None::<u64>);
    let ended = RwSignal::new(None::<u64>);
    let root = crate::common::container();
    let _view = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <CallScreen status="Connected." status_hook=status started_at=started ended_at=ended>
                <p>"stage"</p>
            </CallScreen>
        }
    });
    settle().await;
    assert!(root.query_selector("[data-call-timer]").unwrap().is_none(), "no timer before");
    assert!(root.query_selector("[data-action=home]").unwrap().is_none());
    let now = shieldcall::components::now_ms();
    started.set(Some(now));
    settle().await;
    let timer = crate::common::find(&root, "[data-call-timer]");
    let shown = crate::common::text(&timer);
    assert!(["00:00", "00:01"].contains(&shown.as_str()), "it starts at zero: {shown}");
    // The call ends 65 s after it started: the timer stops there.
    ended.set(Some(now + 65_000));
    status.set("ended");
    settle().await;
    let timer = crate::common::find(&root, "[data-call-timer]");
    assert_eq!(crate::common::text(&timer), "01:05");
    assert_eq!(
        crate::common::attr(&timer, "aria-label").as_deref(),
        Some("Call duration: 1 minute 5 seconds")
    );
    let home = crate::common::find(&root, "[data-action=home]");
    assert_eq!(crate::common::attr(&home, "href").as_deref(), Some("/"));
}
