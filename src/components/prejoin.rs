//! The pre-join screen, before the call's relay is joined: the camera preview, the microphone's
//! level, the device pickers, the microphone and camera toggles, what end-to-end encryption will
//! mean for the call, and the Join button. Its words and decisions are
//! `shieldcall_call::prejoin`'s; here only the view.

use leptos::html;
use leptos::prelude::*;
use shieldcall_call::prejoin::{Device as Kind, DeviceAccess, PreJoin};
use shieldcall_call::texts::decimal;

use super::controls::{DevicePicker, ToggleButton};
use super::{Device, StreamSignal};

/// The pre-join screen (`data-prejoin`).
///
/// The preview is `<video data-video="preview">`, muted and mirrored; a line over it says when
/// the camera is off or cannot be used. The toggles are the call's own buttons
/// (`data-control="mute"`, `"camera"`, the same `aria-pressed` meaning), disabled for a device
/// the browser refused. The level is a `<meter data-mic-level>` from 0 to 1, with a line
/// (`data-level-held`) while the browser holds the audio until a click or key press. A device
/// the browser refused gets a `role="alert"` line (`data-device-problem="microphone"` or
/// `"camera"`) saying how to fix it. The E2EE box (`data-e2ee-plan`: `on`, `off` or
/// `policy-off`) says what the call will be and that the other side's setting is not known yet.
/// The Join button (`data-action="join"`) takes the focus when the screen opens, so Enter joins.
#[component]
pub fn PreJoinScreen(
    /// What the screen shows: the E2EE plan, what the browser answered, the toggles.
    #[prop(into)]
    state: Signal<PreJoin>,
    /// Whether this page made the call (the host) or opened someone's link.
    host: bool,
    /// The camera and microphone, for the preview.
    #[prop(into)]
    preview: StreamSignal,
    /// The microphone's level, 0 to 1.
    #[prop(into)]
    level: Signal<f64>,
    /// Whether the browser shows no level until the person clicks or presses a key.
    #[prop(into, default = Signal::stored(false))]
    level_held: Signal<bool>,
    /// Turn the microphone on or off.
    on_toggle_mic: Callback<()>,
    /// Turn the camera on or off.
    on_toggle_camera: Callback<()>,
    /// The microphones to choose from.
    #[prop(into, default = Signal::stored(Vec::new()))]
    microphones: Signal<Vec<Device>>,
    /// The device id of the microphone in use.
    #[prop(into, default = Signal::stored(None))]
    microphone: Signal<Option<String>>,
    /// Called with the microphone the person picked.
    #[prop(optional)]
    on_microphone: Option<Callback<String>>,
    /// The cameras to choose from.
    #[prop(into, default = Signal::stored(Vec::new()))]
    cameras: Signal<Vec<Device>>,
    /// The device id of the camera in use.
    #[prop(into, default = Signal::stored(None))]
    camera: Signal<Option<String>>,
    /// Called with the camera the person picked.
    #[prop(optional)]
    on_camera: Option<Callback<String>>,
    /// Join the call.
    on_join: Callback<()>,
    /// Join was pressed and the call is setting itself up: the screen stays, its controls
    /// still, its button saying so, until the call screen replaces it.
    #[prop(into, default = Signal::stored(false))]
    joining: Signal<bool>,
) -> impl IntoView {
    let video = NodeRef::<html::Video>::new();
    Effect::new(move || {
        let current = preview.get();
        if let Some(video) = video.get() {
            video.set_src_object(current.as_ref());
        }
    });
    let join = NodeRef::<html::Button>::new();
    Effect::new(move || {
        if let Some(join) = join.get() {
            // On the timeline the e2e tests print: from here the person can press Join.
            crate::browser::timeline::mark("pre-join screen");
            let _ = join.focus();
        }
    });
    let mic_on = Signal::derive(move || state.with(|s| s.is_on(Kind::Microphone)));
    let camera_on = Signal::derive(move || state.with(|s| s.is_on(Kind::Camera)));
    let placeholder = move || {
        state.with(|s| match s.camera {
            DeviceAccess::Asking => Some("Starting your camera…"),
            DeviceAccess::Granted if !s.camera_wanted => Some("Your camera is off"),
            DeviceAccess::Granted => None,
            _ => Some("No camera"),
        })
    };
    let plan = move || state.with(|s| s.e2ee);
    view! {
        <section class="page prejoin" data-prejoin aria-labelledby="prejoin-title">
            <h1 id="prejoin-title">"Ready to join?"</h1>
            <p class="prejoin-lead">
                {if host {
                    "Check your camera and microphone. The other person joins with the link you \
                     sent."
                } else {
                    "Check your camera and microphone before joining the call."
                }}
            </p>
            <div class="prejoin-body">
                <div class="prejoin-preview stage">
                    <video
                        node_ref=video
                        data-video="preview"
                        aria-label="Your camera"
                        autoplay
                        playsinline
                        muted=true
                        prop:muted=true
                    ></video>
                    <p class="tile-placeholder" data-preview-state hidden=move || placeholder().is_none()>
                        {move || placeholder().unwrap_or_default()}
                    </p>
                </div>
                <div class="prejoin-side">
                    <div class="prejoin-devices" inert=move || joining.get()>
                        <div class="prejoin-toggles">
                            <ToggleButton
                                hook="mute"
                                label="Mute microphone"
                                pressed=Signal::derive(move || !mic_on.get())
                                text="Mute"
                                icons=("mic-off", "mic")
                                tips=("Unmute the microphone", "Mute the microphone")
                                disabled=Signal::derive(move || !state.with(|s| s.can_toggle(Kind::Microphone)))
                                on_click=on_toggle_mic
                            />
                            <ToggleButton
                                hook="camera"
                                label="Camera"
                                pressed=camera_on
                                text="Camera"
                                icons=("camera", "camera-off")
                                tips=("Turn the camera off", "Turn the camera on")
                                disabled=Signal::derive(move || !state.with(|s| s.can_toggle(Kind::Camera)))
                                on_click=on_toggle_camera
                            />
                        </div>
                        <label class="mic-level">
                            <span>"Microphone level"</span>
                            <meter
                                data-mic-level
                                min="0"
                                max="1"
                                value=move || decimal(level.get(), 2)
                            ></meter>
                        </label>
                        <p class="hint level-held" data-level-held hidden=move || !level_held.get()>
                            "The level shows once your browser lets this page start audio: click \
                             or press a key on the page."
                        </p>
                        <DevicePicker
                            hook="microphone"
                            label="Microphone"
                            devices=microphones
                            selected=microphone
                            on_pick=on_microphone
                        />
                        <DevicePicker
                            hook="camera-device"
                            label="Camera"
                            devices=cameras
                            selected=camera
                            on_pick=on_camera
                        />
                    </div>
                    <div class="prejoin-problems" role="alert">
                        {move || {
                            [Kind::Microphone, Kind::Camera]
                                .into_iter()
                                .filter_map(|kind| {
                                    state.with(|s| s.problem(kind)).map(|text| view! {
                                        <p class="device-problem" data-device-problem=kind.name()>
                                            {text}
                                        </p>
                                    })
                                })
                                .collect_view()
                        }}
                    </div>
                    <div class="prejoin-e2ee" data-e2ee-plan=move || plan().hook()>
                        <h2>{move || plan().title()}</h2>
                        <p>{move || plan().detail()}</p>
                        <p data-other-side>{move || plan().other_side()}</p>
                    </div>
                    <button
                        node_ref=join
                        type="button"
                        class="primary join"
                        data-action="join"
                        disabled=move || joining.get()
                        aria-busy=move || joining.get().then_some("true")
                        on:click=move |_| on_join.run(())
                    >
                        {move || if joining.get() { "Joining…" } else { "Join" }}
                    </button>
                </div>
            </div>
        </section>
    }
}
