//! The call screen's icons, drawn inline (no external assets under the page's CSP). Each is
//! decorative: the button around it carries the name.

use leptos::prelude::*;

/// A 24×24 line icon by name: `mic`, `mic-off`, `camera`, `camera-off`, `screen`, `chat`,
/// `more`, `hang-up`, `devices`, `help`, `copy`, `check`, `person`.
#[component]
pub fn Icon(
    /// Which icon.
    #[prop(into)]
    name: Signal<&'static str>,
) -> impl IntoView {
    view! {
        <svg
            class="icon"
            data-icon=name
            viewBox="0 0 24 24"
            width="24"
            height="24"
            aria-hidden="true"
            focusable="false"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
        >
            {move || shape(name.get())}
        </svg>
    }
}

fn shape(name: &str) -> AnyView {
    match name {
        "mic" | "mic-off" => view! {
            <rect x="9" y="3" width="6" height="11" rx="3" />
            <path d="M5 11a7 7 0 0 0 14 0M12 18v3M8 21h8" />
            {(name == "mic-off").then(|| view! { <path d="M4 4l16 16" /> })}
        }
        .into_any(),
        "camera" | "camera-off" => view! {
            <rect x="3" y="6" width="12" height="12" rx="2" />
            <path d="M15 10l6-3v10l-6-3z" />
            {(name == "camera-off").then(|| view! { <path d="M3 3l18 18" /> })}
        }
        .into_any(),
        "screen" => view! {
            <rect x="3" y="4" width="18" height="12" rx="2" />
            <path d="M8 20h8M12 16v4M12 13V7M9 10l3-3 3 3" />
        }
        .into_any(),
        "chat" => view! { <path d="M4 5h16v11H9l-5 4z" /> }.into_any(),
        "more" => view! {
            <circle cx="5" cy="12" r="1.2" />
            <circle cx="12" cy="12" r="1.2" />
            <circle cx="19" cy="12" r="1.2" />
        }
        .into_any(),
        "hang-up" => view! {
            <path d="M3 14c5-5 13-5 18 0l-2.5 3-3.5-1.5v-2.5a11 11 0 0 0-6 0v2.5L5.5 17z" />
        }
        .into_any(),
        "devices" => view! {
            <path d="M4 7h10M18 7h2M4 17h4M12 17h8" />
            <circle cx="16" cy="7" r="2" />
            <circle cx="10" cy="17" r="2" />
        }
        .into_any(),
        "help" => view! {
            <circle cx="12" cy="12" r="9" />
            <path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .9-1 1.7M12 17h.01" />
        }
        .into_any(),
        "copy" => view! {
            <rect x="8" y="8" width="12" height="12" rx="2" />
            <path d="M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3" />
        }
        .into_any(),
        "check" => view! { <path d="M5 12l5 5 9-10" /> }.into_any(),
        "person" => view! {
            <circle cx="12" cy="8" r="4" />
            <path d="M4 21a8 8 0 0 1 16 0" />
        }
        .into_any(),
        _ => ().into_any(),
    }
}
