//! The call screen's layout: the shield, the videos, the chat beside them, the controls below.

use leptos::html;
use leptos::prelude::*;
use shieldcall_call::e2ee_health::E2eeHealth;
use shieldcall_call::remote_media::{CAMERA_OFF_TEXT, MIC_OFF_LABEL};
use shieldcall_call::self_view::Corner;
use shieldcall_call::texts::decimal;
use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::MediaState;
use web_sys::MediaStream;

use super::{Icon, Shield};
use crate::browser::use_media_query::use_narrow;

/// A media stream that may be there or not. Local storage: browser objects stay on the main
/// thread (make one with `signal_local`, `RwSignal::new_local` or `Signal::derive_local`).
pub type StreamSignal = Signal<Option<MediaStream>, LocalStorage>;

/// The call screen.
///
/// The remote video fills the stage and the self view sits small in a corner (always muted, so
/// no echo), which the person can change: drag the tile, or focus it and use the arrow keys
/// (`data-corner`, see [`Corner`]). When the other person shares their screen, the share takes the stage and their
/// camera joins the self view in the corner (`data-layout="screen"`, otherwise `"camera"`). The
/// shield is at the top left. `chat` goes beside the stage on wide screens (the
/// [`ChatPanel`](super::ChatPanel) becomes a bottom sheet on narrow ones by itself); `children`
/// (the [`Controls`](super::Controls), the [`FeaturesMenu`](super::FeaturesMenu)) go in the bar
/// under the stage.
///
/// Each `<video autoplay playsinline>` gets its stream through `srcObject`, and changes with the
/// signal; `data-video` names them: `remote`, `self`, `remote-screen`.
///
/// What the other person's page says of their media (`remote_media`) shows on their tile: a
/// muted-microphone badge (`data-remote-mic="off"`, an image named "The other person's
/// microphone is off") and, while their camera is off, a placeholder over the video with a
/// generic avatar and "Camera off" (`data-remote-camera="off"`). Each change is also said in a
/// polite live region (`data-remote-announcement`), for people who do not see the tile.
#[component]
pub fn CallLayout(
    /// The call's security state, for the [`Shield`].
    #[prop(into)]
    shield: Signal<ShieldState>,
    /// The call's E2EE health, for the shield's panel.
    #[prop(into, optional)]
    health: Option<Signal<E2eeHealth>>,
    /// Whether the call is over: its shield goes (it spoke of keys that are gone).
    #[prop(into, default = Signal::stored(false))]
    ended: Signal<bool>,
    /// The other person's camera and microphone.
    #[prop(into)]
    remote_video: StreamSignal,
    /// This person's camera (shown muted).
    #[prop(into)]
    self_view: StreamSignal,
    /// The other person's screen share, when there is one.
    #[prop(into, default = Signal::stored_local(None))]
    remote_screen: StreamSignal,
    /// The other person's microphone, camera and screen share, once known.
    #[prop(into, default = Signal::stored(None))]
    remote_media: Signal<Option<MediaState>>,
    /// The last change of it, in words (announced politely).
    #[prop(into, default = Signal::stored(String::new()))]
    remote_announcement: Signal<String>,
    /// Whether to use the narrow layout; by default follows the window width
    /// (`(max-width: 720px)`).
    #[prop(into, optional)]
    narrow: Option<Signal<bool>>,
    /// The chat panel, beside the stage.
    #[prop(into, optional)]
    chat: Option<ViewFn>,
    /// The controls, under the stage.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let narrow = narrow.unwrap_or_else(use_narrow);
    let screen_on = Signal::derive(move || remote_screen.with(Option::is_some));
    let remote_on = Signal::derive(move || remote_video.with(Option::is_some));
    let self_on = Signal::derive(move || self_view.with(Option::is_some));
    let mic_off = move || remote_media.get().is_some_and(|m| !m.mic);
    // Only over a video that is there: before it comes, the tile says it is waiting.
    let camera_off = move || remote_on.get() && remote_media.get().is_some_and(|m| !m.camera);
    view! {
        <div
            class="call-layout"
            class:narrow=narrow
            data-layout=move || if screen_on.get() { "screen" } else { "camera" }
        >
            <div class="call-body">
                <div class="stage">
                    <div class="tile tile--main tile--screen" hidden=move || !screen_on.get()>
                        <StreamVideo stream=remote_screen hook="remote-screen" label="The other person's screen" />
                    </div>
                    <div
                        class="tile tile--remote"
                        class:tile--main=move || !screen_on.get()
                        class:tile--small=screen_on
                    >
                        <StreamVideo stream=remote_video hook="remote" label="The other person" />
                        <p class="tile-placeholder" hidden=remote_on>
                            "Waiting for the other person's video"
                        </p>
                        {move || camera_off().then(|| view! {
                            <div class="tile-placeholder tile-camera-off" data-remote-camera="off">
                                <span class="avatar"><Icon name="person" /></span>
                                <p>{CAMERA_OFF_TEXT}</p>
                            </div>
                        })}
                        {move || mic_off().then(|| view! {
                            <span
                                class="tile-badge"
                                data-remote-mic="off"
                                role="img"
                                aria-label=MIC_OFF_LABEL
                                title=MIC_OFF_LABEL
                            >
                                <Icon name="mic-off" />
                            </span>
                        })}
                    </div>
                    <p class="visually-hidden" aria-live="polite" data-remote-announcement>
                        {remote_announcement}
                    </p>
                    <SelfTile self_view self_on />
                    <div class="shield-slot">
                        <Show when=move || !ended.get()>
                            <Shield state=shield health narrow />
                        </Show>
                    </div>
                </div>
                {chat.map(|chat| chat.run())}
            </div>
            <div class="call-bar">{children.map(|children| children())}</div>
        </div>
    }
}

/// The self view's tile, in the corner the person put it in. While dragged it follows the
/// pointer; let go, it lands in the corner of the stage's quarter it is over.
#[component]
fn SelfTile(self_view: StreamSignal, self_on: Signal<bool>) -> impl IntoView {
    let corner = RwSignal::new(Corner::default());
    let tile = NodeRef::<html::Div>::new();
    // Where the pointer went down, while a drag is on.
    let start = RwSignal::new(None::<(f64, f64)>);
    let offset = RwSignal::new((0.0, 0.0));
    let down = move |ev: web_sys::PointerEvent| {
        if let Some(tile) = tile.get() {
            let _ = tile.set_pointer_capture(ev.pointer_id());
        }
        start.set(Some((ev.client_x(), ev.client_y())));
    };
    let drag = move |ev: web_sys::PointerEvent| {
        if let Some((x, y)) = start.get_untracked() {
            offset.set((ev.client_x() - x, ev.client_y() - y));
        }
    };
    let up = move |_: web_sys::PointerEvent| {
        if start.get_untracked().is_none() {
            return;
        }
        let (dx, dy) = offset.get_untracked();
        start.set(None);
        offset.set((0.0, 0.0));
        // Where the tile's centre was let go, on its stage.
        let Some(tile) = tile.get() else { return };
        let Some(stage) = tile.parent_element() else { return };
        let x = f64::from(tile.offset_left()) + dx + f64::from(tile.offset_width()) / 2.0;
        let y = f64::from(tile.offset_top()) + dy + f64::from(tile.offset_height()) / 2.0;
        let (width, height) = (f64::from(stage.client_width()), f64::from(stage.client_height()));
        corner.set(Corner::nearest(x, y, width, height));
    };
    let key = move |ev: web_sys::KeyboardEvent| {
        if let Some(to) = corner.get_untracked().moved(&ev.key()) {
            ev.prevent_default();
            corner.set(to);
        }
    };
    view! {
        <div
            node_ref=tile
            class="tile tile--self tile--small"
            class:dragging=move || start.get().is_some()
            hidden=move || !self_on.get()
            data-corner=move || corner.get().hook()
            style:transform=move || {
                let (dx, dy) = offset.get();
                (dx != 0.0 || dy != 0.0)
                    .then(|| format!("translate({}px, {}px)", decimal(dx, 1), decimal(dy, 1)))
            }
            tabindex="0"
            role="group"
            aria-label=move || corner.get().label()
            on:pointerdown=down
            on:pointermove=drag
            on:pointerup=up
            on:pointercancel=move |_| {
                start.set(None);
                offset.set((0.0, 0.0));
            }
            on:keydown=key
        >
            <StreamVideo stream=self_view hook="self" label="You" muted=true />
        </div>
    }
}

/// A `<video autoplay playsinline>` showing `stream` through `srcObject`.
#[component]
pub(crate) fn StreamVideo(
    stream: StreamSignal,
    /// The `data-video` value.
    hook: &'static str,
    /// The accessible name.
    label: &'static str,
    /// Muted (the self view, so a person does not hear themself).
    #[prop(optional)]
    muted: bool,
) -> impl IntoView {
    let video = NodeRef::<html::Video>::new();
    Effect::new(move || {
        let current = stream.get();
        if let Some(video) = video.get() {
            video.set_src_object(current.as_ref());
        }
    });
    // The first frame of the other person's video, on the timeline the e2e tests print.
    let loaded = move |_| {
        if hook == "remote" {
            crate::browser::timeline::mark("remote video: first frame");
        }
    };
    view! {
        <video
            node_ref=video
            on:loadeddata=loaded
            data-video=hook
            aria-label=label
            autoplay
            playsinline
            muted=muted
            prop:muted=muted
        ></video>
    }
}
