//! The "Encryption health" section of the shield's panel: the media worker's counters, per track
//! and direction, as `shieldcall_call::e2ee_health` words and orders them; and the panel a red
//! shield opens, with the counters alone (no code to compare then).

use leptos::html;
use leptos::prelude::*;
use shieldcall_call::e2ee_health::E2eeHealth;

use super::security_code::modal_keys;

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
    /// Open at first (the red shield's panel, which holds nothing else).
    #[prop(optional)]
    open: bool,
) -> impl IntoView {
    view! {
        <details class="health" data-health open=open>
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

/// What a red shield opens: the counters, open, so that a person (or whoever helps them) can
/// tell a key problem (authentication failures) from a network problem (no frames at all).
/// A modal dialog like the security code's (`data-health-panel`): focus on Close when it opens
/// and kept inside; Escape or Close calls `on_close`.
#[component]
pub fn HealthPanel(
    /// The call's counters.
    health: Signal<E2eeHealth>,
    /// Called on Escape and on the Close button.
    on_close: Callback<()>,
) -> impl IntoView {
    let panel = NodeRef::<html::Div>::new();
    let close_button = NodeRef::<html::Button>::new();
    Effect::new(move || {
        if let Some(button) = close_button.get() {
            let _ = button.focus();
        }
    });
    view! {
        <div
            node_ref=panel
            class="security-code-panel"
            data-health-panel
            role="dialog"
            aria-modal="true"
            aria-labelledby="health-panel-title"
            on:keydown=modal_keys(panel, move || on_close.run(()))
        >
            <h2 id="health-panel-title">"What the encryption is doing"</h2>
            <p>
                "The call is not secure, so there is no security code to compare. These counters \
                 tell a key problem (frames that fail authentication) from a network problem \
                 (no frames at all)."
            </p>
            <E2eeHealthView health open=true />
            <button
                node_ref=close_button
                type="button"
                class="close"
                data-action="close-health"
                on:click=move |_| on_close.run(())
            >
                "Close"
            </button>
        </div>
    }
}
