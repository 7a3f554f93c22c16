use leptos::prelude::*;

use crate::settings::{e2ee_enabled, set_e2ee_enabled};

/// Settings: the "End-to-end encrypted calls" toggle, persisted.
#[component]
pub fn Settings() -> impl IntoView {
    let (e2ee, set_e2ee) = signal(e2ee_enabled());
    view! {
        <section class="page settings">
            <h1>"Settings"</h1>
            <h2>"Privacy"</h2>
            <label class="toggle">
                <input
                    type="checkbox"
                    role="switch"
                    data-setting="e2ee"
                    prop:checked=e2ee
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        set_e2ee_enabled(on);
                        set_e2ee.set(on);
                    }
                />
                <span>"End-to-end encrypted calls"</span>
            </label>
            <p class="hint">
                "Audio, video, screen sharing and chat are encrypted on your device and decrypted only \
                 on the other person's. Both of you need this on; otherwise calls are protected by \
                 transport encryption only."
            </p>
        </section>
    }
}
