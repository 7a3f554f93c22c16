//! The "More" menu of call features, and which of them end-to-end encryption rules out.

use leptos::html;
use leptos::prelude::*;
pub use shieldcall_call::texts::E2EE_REASON;
use shieldcall_call::texts::{file_size, menu_item_needs};
use shieldcall_protocol::RelayFeature;

use super::Icon;
use super::security_code::unique_id;
use crate::browser::use_captions::CAPTIONS_UNSUPPORTED;
use crate::browser::use_recorder::Recording;

/// Why a feature is off in a one-on-one web call without end-to-end encryption.
pub const WEB_CALLS_REASON: &str = "Not available in web calls yet";

/// The features, in menu order: `(data-feature, name)`.
pub const FEATURES: [(&str, &str); 8] = [
    ("recording", "Record the call"),
    ("captions", "Live captions"),
    ("transfer", "Transfer"),
    ("merge", "Merge calls"),
    ("park", "Park the call"),
    ("consult-transfer", "Consult, then transfer"),
    ("move-device", "Move the call to another device"),
    ("add-participant", "Add a participant"),
];

/// A "More" button that shows the call's features, each a button with `data-feature`.
///
/// While `off` gives a reason (`shieldcall_call::texts::copy_out_unavailable`: an end-to-end
/// encrypted call, one still connecting, a red shield, a call over), every feature but moving to
/// another device (re-keyed, and refused by the call itself when it cannot be) is `disabled`
/// and says why (visible, and as its `aria-describedby`). Otherwise recording, live captions,
/// moving to another device, adding a participant, merging, parking, transferring and
/// consulting work when their callbacks are given (captions say why not where the browser
/// cannot, and those the call's relay does not offer say so), and the others say "Not
/// available in web calls yet". The list stays in the document
/// while the menu is closed (`hidden`), so its state can be read at any time.
#[component]
pub fn FeaturesMenu(
    /// Why the features that copy the call out are off now, if they are.
    #[prop(into)]
    off: Signal<Option<&'static str>>,
    /// Whether the call is being recorded.
    #[prop(into, default = Signal::stored(false))]
    recording: Signal<bool>,
    /// Start or stop recording (`use_recorder`'s start/stop). Without it, recording is
    /// unavailable.
    #[prop(optional)]
    on_toggle_recording: Option<Callback<()>>,
    /// The last recording, offered as a download link (`data-recording-link`).
    #[prop(into, default = Signal::stored(None))]
    last_recording: Signal<Option<Recording>>,
    /// Why recording failed, if it did.
    #[prop(into, default = Signal::stored(None))]
    recording_error: Signal<Option<String>>,
    /// Whether live captions are on.
    #[prop(into, default = Signal::stored(false))]
    captions: Signal<bool>,
    /// Turn live captions on or off. Without it, captions are unavailable.
    #[prop(optional)]
    on_toggle_captions: Option<Callback<()>>,
    /// Whether the browser has speech recognition (`use_captions().supported`).
    #[prop(into, default = Signal::stored(true))]
    captions_supported: Signal<bool>,
    /// Why captions stopped, if they did.
    #[prop(into, default = Signal::stored(None))]
    captions_error: Signal<Option<String>>,
    /// Show a link that moves the call to another device. Without it, moving is unavailable.
    #[prop(optional)]
    on_move: Option<Callback<()>>,
    /// Open the call to more people and show the link that adds one. Without it, adding a
    /// participant is unavailable.
    #[prop(optional)]
    on_add: Option<Callback<()>>,
    /// Merge this person's other call (another tab) into this one. Without it, merging is
    /// unavailable.
    #[prop(optional)]
    on_merge: Option<Callback<()>>,
    /// Park the call (a pickup code and link). Without it, parking is unavailable.
    #[prop(optional)]
    on_park: Option<Callback<()>>,
    /// Ask for the name to transfer the call to. Without it, transferring is unavailable.
    #[prop(optional)]
    on_transfer: Option<Callback<()>>,
    /// Consult: put the other person on hold to call someone else (or, in that call, hand
    /// them the held call). Without it, consulting is unavailable.
    #[prop(optional)]
    on_consult: Option<Callback<()>>,
    /// This is the consult call: the item hands the held call to the other person.
    #[prop(optional)]
    consulting: bool,
    /// Why adding someone and merging are off on the call's relay, if they are.
    #[prop(into, default = Signal::stored(None))]
    group_off: Signal<Option<String>>,
    /// Why parking and consulting are off on the call's relay, if they are.
    #[prop(into, default = Signal::stored(None))]
    park_off: Signal<Option<String>>,
) -> impl IntoView {
    let (open, set_open) = signal(false);
    let list_id = unique_id("features");
    let more = NodeRef::<html::Button>::new();

    let entries = FEATURES
        .iter()
        .map(|&(feature, name)| {
            let why_id = unique_id(&format!("feature-{feature}-why"));
            // The reason it cannot be used now, if it cannot.
            let lacked = move || match menu_item_needs(feature, consulting) {
                Some(RelayFeature::Group) => group_off.get(),
                Some(RelayFeature::Park) => park_off.get(),
                None => None,
            };
            let unavailable = move || -> Option<String> {
                match feature {
                    // A move out of an E2EE call is re-keyed (PROTOCOL.md change 44).
                    "move-device" if on_move.is_some() => None,
                    _ if off.get().is_some() => off.get().map(String::from),
                    _ if lacked().is_some() => lacked(),
                    "recording" if on_toggle_recording.is_some() => None,
                    "captions" if on_toggle_captions.is_some() => {
                        (!captions_supported.get()).then(|| CAPTIONS_UNSUPPORTED.into())
                    }
                    "add-participant" if on_add.is_some() => None,
                    "merge" if on_merge.is_some() => None,
                    "park" if on_park.is_some() => None,
                    "transfer" if on_transfer.is_some() => None,
                    "consult-transfer" if on_consult.is_some() => None,
                    _ => Some(WEB_CALLS_REASON.into()),
                }
            };
            let pressed = move || match feature {
                "recording" => Some(recording.get()),
                "captions" => Some(captions.get()),
                _ => None,
            };
            let label = move || match (feature, pressed()) {
                ("recording", Some(true)) => "Stop recording",
                ("captions", Some(true)) => "Turn off live captions",
                ("consult-transfer", _) if consulting => "Transfer the held call to this person",
                _ => name,
            };
            let problem = move || match feature {
                "recording" => recording_error.get(),
                "captions" => captions_error.get(),
                _ => None,
            };
            let note = move || unavailable().or_else(problem);
            let on_click = move |_| {
                let callback = match feature {
                    "recording" => on_toggle_recording,
                    "captions" => on_toggle_captions,
                    "move-device" => on_move,
                    "add-participant" => on_add,
                    "merge" => on_merge,
                    "park" => on_park,
                    "transfer" => on_transfer,
                    "consult-transfer" => on_consult,
                    _ => None,
                };
                if let Some(callback) = callback {
                    callback.run(());
                }
                // The link shows outside the menu: close it.
                if [
                    "move-device",
                    "add-participant",
                    "merge",
                    "park",
                    "transfer",
                    "consult-transfer",
                ]
                .contains(&feature)
                {
                    set_open.set(false);
                }
            };
            let described_by = why_id.clone();
            let link = move || {
                // The last recording stays the person's to save (after the call too), but
                // not beside an end-to-end encrypted call's "not available".
                (feature == "recording" && off.get() != Some(E2EE_REASON))
                    .then(|| last_recording.get())
                    .flatten()
                    .map(|done| {
                        let size = file_size(done.size);
                        view! {
                            <a
                                class="recording-link"
                                href=done.url
                                download=done.file_name
                                data-recording-link
                                data-size=(done.size as u64).to_string()
                            >
                                {format!("Save the recording ({size})")}
                            </a>
                        }
                    })
            };
            view! {
                <li class="feature" class:unavailable=move || unavailable().is_some()>
                    <button
                        type="button"
                        data-feature=feature
                        disabled=move || unavailable().is_some()
                        aria-pressed=move || pressed().map(|p| p.to_string())
                        aria-describedby=move || note().map(|_| described_by.clone())
                        on:click=on_click
                    >
                        {label}
                    </button>
                    <span class="feature-why" id=why_id>{note}</span>
                    {link}
                </li>
            }
        })
        .collect_view();

    view! {
        // Escape, from the button or the menu, closes it and gives the focus to the button.
        <div
            class="features"
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    ev.prevent_default();
                    set_open.set(false);
                    if let Some(more) = more.get_untracked() {
                        let _ = more.focus();
                    }
                }
            }
        >
            <button
                node_ref=more
                type="button"
                class="control"
                data-action="features"
                aria-label="More"
                aria-expanded=move || open.get().to_string()
                aria-controls=list_id.clone()
                data-tip="More features"
                on:click=move |_| set_open.update(|open| *open = !*open)
            >
                <Icon name="more" />
                <span class="control-label" aria-hidden="true">"More"</span>
            </button>
            <ul
                id=list_id
                class="popover features-menu"
                aria-label="Call features"
                hidden=move || !open.get()
            >
                {entries}
            </ul>
        </div>
    }
}
