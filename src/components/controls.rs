//! The call's control bar: microphone, camera, screen share, chat, the "More" menu (given as
//! children), device settings and hang up, each an icon with its name.

use leptos::html;
use leptos::prelude::*;
use shieldcall_call::shortcuts::Shortcut;
use wasm_bindgen::JsCast;

use super::Icon;
use super::security_code::unique_id;

/// A device offered in a picker: `(device_id, label)`, as `enumerateDevices` gives them.
pub use shieldcall_call::devices::Device;

/// The control bar under the video. Props are signals and callbacks only: no WebRTC in here.
///
/// Every toggle is a `<button>` with an icon, a visible name (hidden on narrow screens, where
/// the tooltip stays), a stable `aria-label`, `aria-pressed` for its state (pressed: muted,
/// camera on, sharing, chat open), a tooltip saying what pressing it does now and its keyboard
/// shortcut (`data-tip`, shown on hover and keyboard focus; `aria-keyshortcuts`), and a
/// `data-control` hook (`mute`, `camera`, `share`, `chat`, `devices`, `hang-up`). The device
/// pickers, `<select>`s with `data-control="microphone"` and `data-control="camera-device"`,
/// are in a popover opened by the Devices button (Escape closes it and gives the focus back).
#[component]
pub fn Controls(
    /// Whether the microphone is muted.
    #[prop(into)]
    muted: Signal<bool>,
    /// Mute or unmute.
    on_toggle_mute: Callback<()>,
    /// Whether the camera is on.
    #[prop(into)]
    camera_on: Signal<bool>,
    /// Turn the camera on or off.
    on_toggle_camera: Callback<()>,
    /// Whether this side is sharing its screen.
    #[prop(into)]
    sharing: Signal<bool>,
    /// Share the screen or stop sharing.
    on_toggle_share: Callback<()>,
    /// Whether the chat panel is open.
    #[prop(into)]
    chat_open: Signal<bool>,
    /// Open or close the chat.
    on_toggle_chat: Callback<()>,
    /// Leave the call.
    on_hang_up: Callback<()>,
    /// The microphones to choose from.
    #[prop(into, default = Signal::stored(Vec::new()))]
    microphones: Signal<Vec<Device>>,
    /// The device id of the microphone in use.
    #[prop(into, default = Signal::stored(None))]
    microphone: Signal<Option<String>>,
    /// Called with the device id the person picked.
    #[prop(optional)]
    on_microphone: Option<Callback<String>>,
    /// The cameras to choose from.
    #[prop(into, default = Signal::stored(Vec::new()))]
    cameras: Signal<Vec<Device>>,
    /// The device id of the camera in use.
    #[prop(into, default = Signal::stored(None))]
    camera: Signal<Option<String>>,
    /// Called with the device id the person picked.
    #[prop(optional)]
    on_camera: Option<Callback<String>>,
    /// Whether the single-key shortcuts are on (then the tooltips name them).
    #[prop(into, default = Signal::stored(true))]
    shortcuts: Signal<bool>,
    /// Placed before hang up: the [`FeaturesMenu`](super::FeaturesMenu) ("More").
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="controls" role="toolbar" aria-label="Call controls">
            <ToggleButton
                hook="mute"
                label="Mute microphone"
                pressed=muted
                text="Mute"
                icons=("mic-off", "mic")
                tips=("Unmute the microphone", "Mute the microphone")
                shortcut=Shortcut::Microphone
                shortcuts=shortcuts
                on_click=on_toggle_mute
            />
            <ToggleButton
                hook="camera"
                label="Camera"
                pressed=camera_on
                text="Camera"
                icons=("camera", "camera-off")
                tips=("Turn the camera off", "Turn the camera on")
                shortcut=Shortcut::Camera
                shortcuts=shortcuts
                on_click=on_toggle_camera
            />
            <ToggleButton
                hook="share"
                label="Share screen"
                pressed=sharing
                text="Share"
                icons=("screen", "screen")
                tips=("Stop sharing your screen", "Share your screen")
                shortcut=Shortcut::ShareScreen
                shortcuts=shortcuts
                on_click=on_toggle_share
            />
            <ToggleButton
                hook="chat"
                label="Chat"
                pressed=chat_open
                text="Chat"
                icons=("chat", "chat")
                tips=("Close the chat", "Open the chat")
                shortcut=Shortcut::Chat
                shortcuts=shortcuts
                on_click=on_toggle_chat
            />
            {children.map(|children| children())}
            <DeviceSettings
                microphones
                microphone
                on_microphone
                cameras
                camera
                on_camera
            />
            <button
                type="button"
                class="control hang-up"
                data-control="hang-up"
                aria-label="Hang up"
                data-tip="Leave the call"
                on:click=move |_| on_hang_up.run(())
            >
                <Icon name="hang-up" />
                <span class="control-label" aria-hidden="true">"Hang up"</span>
            </button>
        </div>
    }
}

/// A toggle button: a stable accessible name (`label`, which starts with the visible `text`) with
/// `aria-pressed` for its state, and a tooltip saying what pressing it does now (and its
/// shortcut, if it has one and shortcuts are on). The pre-join screen uses it too.
#[component]
pub(super) fn ToggleButton(
    hook: &'static str,
    label: &'static str,
    text: &'static str,
    #[prop(into)] pressed: Signal<bool>,
    /// The icon while pressed, and while not.
    icons: (&'static str, &'static str),
    /// The tooltip while pressed, and while not.
    tips: (&'static str, &'static str),
    #[prop(optional)] shortcut: Option<Shortcut>,
    #[prop(into, default = Signal::stored(false))] shortcuts: Signal<bool>,
    /// Whether it cannot be pressed now (a device the browser refused).
    #[prop(into, default = Signal::stored(false))]
    disabled: Signal<bool>,
    on_click: Callback<()>,
) -> impl IntoView {
    let tip = move || {
        let tip = if pressed.get() { tips.0 } else { tips.1 };
        match shortcut.filter(|_| shortcuts.get()) {
            Some(shortcut) => format!("{tip} ({})", shortcut.key()),
            None => tip.to_string(),
        }
    };
    view! {
        <button
            type="button"
            class="control"
            class:pressed=pressed
            data-control=hook
            aria-label=label
            aria-pressed=move || pressed.get().to_string()
            aria-keyshortcuts=move || shortcut.filter(|_| shortcuts.get()).map(Shortcut::key)
            data-tip=tip
            disabled=disabled
            on:click=move |_| on_click.run(())
        >
            <Icon name=Signal::derive(move || if pressed.get() { icons.0 } else { icons.1 }) />
            <span class="control-label" aria-hidden="true">{text}</span>
        </button>
    }
}

/// The Devices button and its popover with the microphone and camera pickers.
#[component]
fn DeviceSettings(
    microphones: Signal<Vec<Device>>,
    microphone: Signal<Option<String>>,
    on_microphone: Option<Callback<String>>,
    cameras: Signal<Vec<Device>>,
    camera: Signal<Option<String>>,
    on_camera: Option<Callback<String>>,
) -> impl IntoView {
    let (open, set_open) = signal(false);
    let button = NodeRef::<html::Button>::new();
    let popover = NodeRef::<html::Div>::new();
    let popover_id = unique_id("devices");
    // Opening moves the focus into the popover, to its first picker.
    Effect::new(move || {
        if !open.get() {
            return;
        }
        if let Some(first) = popover.get().and_then(|p| p.query_selector("select").ok().flatten()) {
            let _ = first.unchecked_into::<web_sys::HtmlElement>().focus();
        }
    });
    let close = move || {
        set_open.set(false);
        if let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    };
    view! {
        <div class="devices">
            <button
                node_ref=button
                type="button"
                class="control"
                data-control="devices"
                aria-label="Devices"
                aria-expanded=move || open.get().to_string()
                aria-controls=popover_id.clone()
                data-tip="Choose the microphone and camera"
                on:click=move |_| set_open.update(|open| *open = !*open)
            >
                <Icon name="devices" />
                <span class="control-label" aria-hidden="true">"Devices"</span>
            </button>
            <div
                node_ref=popover
                id=popover_id
                class="popover devices-popover"
                role="dialog"
                aria-label="Devices"
                hidden=move || !open.get()
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ev.prevent_default();
                        close();
                    }
                }
            >
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
                <button type="button" data-action="close-devices" on:click=move |_| close()>
                    "Close"
                </button>
            </div>
        </div>
    }
}

/// A labelled `<select>` of devices (disabled while there are none); the pre-join screen uses
/// it too.
#[component]
pub(super) fn DevicePicker(
    hook: &'static str,
    label: &'static str,
    devices: Signal<Vec<Device>>,
    selected: Signal<Option<String>>,
    on_pick: Option<Callback<String>>,
) -> impl IntoView {
    let id = unique_id(hook);
    view! {
        <span class="device-picker">
            <label for=id.clone()>{label}</label>
            <select
                id=id
                data-control=hook
                disabled=move || devices.with(Vec::is_empty)
                on:change=move |ev| {
                    if let Some(on_pick) = on_pick {
                        on_pick.run(event_target_value(&ev));
                    }
                }
            >
                {move || {
                    let current = selected.get();
                    devices
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(n, (id, name))| {
                            let name = if name.is_empty() { format!("{label} {}", n + 1) } else { name };
                            let chosen = current.as_deref() == Some(id.as_str());
                            view! { <option value=id selected=chosen>{name}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </span>
    }
}
