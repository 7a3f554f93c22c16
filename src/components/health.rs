//! The "Encryption health" section of the shield's panel: the media worker's counters, per track
//! and direction, as `shieldcall_call::e2ee_health` words and orders them.

use leptos::prelude::*;
use shieldcall_call::e2ee_health::E2eeHealth;

/// The counters' columns: `(data-count, heading)`.
const COLUMNS: [(&str, &str); 5] = [
    ("frames", "Frames"),
    ("webcrypto", "Via WebCrypto"),
    ("auth-failures", "Auth failures"),
    ("other-drops", "Other drops"),
    ("key-frame-requests", "Key-frame requests"),
];

/// A collapsible section (`<details data-health>`, closed at first): the keys in use
/// (`data-health-keys`), one sentence on what the counters say, and a table with a row per track
/// and direction (`data-track="video-receive"`, ...) and a cell per counter
/// (`data-count="frames"`, ...). It follows `health` as the counters come, about once a second.
#[component]
pub fn E2eeHealthView(
    /// The call's counters.
    #[prop(into)]
    health: Signal<E2eeHealth>,
) -> impl IntoView {
    view! {
        <details class="health" data-health>
            <summary>"Encryption health"</summary>
            <p data-health-keys>{move || health.with(E2eeHealth::keys_text)}</p>
            <p data-health-summary>{move || health.with(E2eeHealth::summary)}</p>
            // Focusable, so that a narrow table scrolls sideways from the keyboard too.
            <div class="health-table" tabindex="0" role="region" aria-label="Encryption counters">
                <table>
                    <caption>
                        "Frames encrypted (sent) or decrypted (received) since this connection \
                         began; how many of them had their AES-GCM done by WebCrypto; frames \
                         that failed authentication, and others dropped."
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col">"Track"</th>
                            {COLUMNS.map(|(_, heading)| view! { <th scope="col">{heading}</th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            health
                                .with(E2eeHealth::rows)
                                .into_iter()
                                .map(|row| {
                                    let counts = [
                                        row.frames,
                                        row.webcrypto,
                                        row.auth_failures,
                                        row.other_drops,
                                        row.key_frame_requests,
                                    ];
                                    view! {
                                        <tr data-track=row.hook>
                                            <th scope="row">{row.track}</th>
                                            {COLUMNS
                                                .iter()
                                                .zip(counts)
                                                .map(|((hook, _), count)| view! {
                                                    <td data-count=*hook>{count.to_string()}</td>
                                                })
                                                .collect_view()}
                                        </tr>
                                    }
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </div>
        </details>
    }
}
