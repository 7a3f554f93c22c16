//! The call's controls: mute, camera, screen share, chat, hang up, and the device pickers.

use leptos::prelude::*;

use super::security_code::unique_id;

/// A device offered in a picker: `(device_id, label)`, as `enumerateDevices` gives them.
pub type Device = (String, String);

/// The control bar under the video. Props are signals and callbacks only: no WebRTC in here.
///
/// Every toggle is a `<button>` with a stable `aria-label`, `aria-pressed` for its state (pressed:
/// muted, camera on, sharing, chat open) and a
/// `data-control` hook (`mute`, `camera`, `share`, `chat`, `hang-up`); the pickers are `<select>`s
/// with `data-control="microphone"` and `data-control="camera-device"`.
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
) -> impl IntoView {
    view! {
        <div class="controls" role="toolbar" aria-label="Call controls">
            <ToggleButton
                hook="mute"
                label="Mute microphone"
                pressed=muted
                text="Mute"
                tips=("Unmute the microphone", "Mute the microphone")
                on_click=on_toggle_mute
            />
            <ToggleButton
                hook="camera"
                label="Camera"
                pressed=camera_on
                text="Camera"
                tips=("Turn the camera off", "Turn the camera on")
                on_click=on_toggle_camera
            />
            <ToggleButton
                hook="share"
                label="Share screen"
                pressed=sharing
                text="Share screen"
                tips=("Stop sharing your screen", "Share your screen")
                on_click=on_toggle_share
            />
            <ToggleButton
                hook="chat"
                label="Chat"
                pressed=chat_open
                text="Chat"
                tips=("Close the chat", "Open the chat")
                on_click=on_toggle_chat
            />
            <button
                type="button"
                class="control hang-up"
                data-control="hang-up"
                aria-label="Hang up"
                on:click=move |_| on_hang_up.run(())
            >
                "Hang up"
            </button>
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
    }
}

/// A toggle button: a stable accessible name (`label`, which starts with the visible `text`) with
/// `aria-pressed` for its state, and a tooltip saying what pressing it does now.
#[component]
fn ToggleButton(
    hook: &'static str,
    label: &'static str,
    text: &'static str,
    pressed: Signal<bool>,
    /// The tooltip while pressed, and while not.
    tips: (&'static str, &'static str),
    on_click: Callback<()>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="control"
            class:pressed=pressed
            data-control=hook
            aria-label=label
            aria-pressed=move || pressed.get().to_string()
            title=move || if pressed.get() { tips.0 } else { tips.1 }
            on:click=move |_| on_click.run(())
        >
            {text}
        </button>
    }
}

/// A labelled `<select>` of devices.
#[component]
fn DevicePicker(
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
