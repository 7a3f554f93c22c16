use leptos::prelude::*;

use crate::browser::use_media_query::use_narrow;
use crate::config::use_app_config;
use crate::settings::{e2ee_enabled, set_e2ee_enabled};

/// Said next to the toggle when the organisation's policy turns E2EE off.
pub const POLICY_DISABLED: &str = "Your organisation has turned off end-to-end encrypted calls.";

/// The settings page, following the window width.
#[component]
pub fn Settings() -> impl IntoView {
    view! { <SettingsPage /> }
}

/// Settings: the "End-to-end encrypted calls" toggle, persisted, under "Privacy" on wide screens
/// and "Calling" on narrow ones. The organisation's policy (from the `ConfigSignal` context,
/// allowed when there is none) can turn it off: then the toggle is disabled and says why, and
/// the person's own choice is kept for when the policy allows it again.
#[component]
pub fn SettingsPage(
    /// Whether to use the narrow layout; by default follows the window width.
    #[prop(into, optional)]
    narrow: Option<Signal<bool>>,
) -> impl IntoView {
    let narrow = narrow.unwrap_or_else(use_narrow);
    let config = use_app_config();
    let allowed = Signal::derive(move || config.with(|c| c.e2ee_allowed));
    let (e2ee, set_e2ee) = signal(e2ee_enabled());
    view! {
        <section class="page settings" class:narrow=narrow>
            <h1>"Settings"</h1>
            <h2 data-settings-group>{move || if narrow.get() { "Calling" } else { "Privacy" }}</h2>
            <label class="toggle" class:disabled=move || !allowed.get()>
                <input
                    type="checkbox"
                    role="switch"
                    data-setting="e2ee"
                    aria-describedby="e2ee-hint"
                    prop:checked=move || e2ee.get() && allowed.get()
                    disabled=move || !allowed.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        set_e2ee_enabled(on);
                        set_e2ee.set(on);
                    }
                />
                <span>"End-to-end encrypted calls"</span>
            </label>
            <p class="hint" id="e2ee-hint">
                {move || (!allowed.get()).then(|| view! {
                    <strong class="policy" data-policy="e2ee-disabled">{POLICY_DISABLED}</strong>
                    " "
                })}
                "Audio, video, screen sharing and chat are encrypted on your device and decrypted only \
                 on the other person's. Both of you need this on; otherwise calls are protected by \
                 transport encryption only. Recording and live captions work only without it."
            </p>
        </section>
    }
}
