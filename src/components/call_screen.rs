//! The call page's frame: the whole window, no page scroll. A top line (the call's status, the
//! timer, the shortcuts button), the alerts, then the [`CallLayout`](super::CallLayout), which
//! takes what is left.

use leptos::prelude::*;
use shieldcall_call::quality::QualityView;
use shieldcall_call::texts::{call_duration, call_duration_words};

use super::{Icon, QualityIndicator};

/// The call screen around the layout (`children`).
///
/// `<section class="page call">` fills the window: the document never scrolls during a call,
/// the stage shrinks instead (the alerts scroll inside their own box when there are many).
/// The status line is a polite live region with `data-call-status` and `data-relay` hooks; once
/// the call ended (`data-call-status="ended"`), a link leads back to the start page.
#[component]
pub fn CallScreen(
    /// The call's status, in words.
    #[prop(into)]
    status: Signal<String>,
    /// Its `data-call-status` hook.
    #[prop(into)]
    status_hook: Signal<&'static str>,
    /// The `data-relay` hook: `connected`, `reconnecting` or `disconnected`.
    #[prop(into, default = Signal::stored("connected"))]
    relay_hook: Signal<&'static str>,
    /// When the call started (milliseconds on the page's monotonic clock), once it has.
    #[prop(into, default = Signal::stored(None))]
    started_at: Signal<Option<u64>>,
    /// When it ended, which stops the timer.
    #[prop(into, default = Signal::stored(None))]
    ended_at: Signal<Option<u64>>,
    /// The connection's quality, once measured.
    #[prop(into, default = Signal::stored(None))]
    quality: Signal<Option<QualityView>>,
    /// Open the keyboard shortcuts.
    #[prop(optional)]
    on_help: Option<Callback<()>>,
    /// What the person must know now: warnings, media problems, notices.
    #[prop(into, optional)]
    alerts: Option<ViewFn>,
    /// The call layout.
    children: Children,
) -> impl IntoView {
    view! {
        <section class="page call">
            <div class="call-top">
                <p
                    class="call-status"
                    role="status"
                    aria-live="polite"
                    data-call-status=status_hook
                    data-relay=relay_hook
                >
                    {status}
                </p>
                <QualityIndicator quality />
                <CallTimer started_at ended_at />
                // The app's top bar is hidden during a call: once it ended, the way out.
                {move || (status_hook.get() == "ended").then(|| view! {
                    <a class="button" href="/" data-action="home">"Start page"</a>
                })}
                {on_help.map(|on_help| view! {
                    <button
                        type="button"
                        class="control control--small"
                        data-action="shortcuts"
                        aria-label="Keyboard shortcuts"
                        aria-keyshortcuts="?"
                        data-tip="Keyboard shortcuts (?)"
                        on:click=move |_| on_help.run(())
                    >
                        <Icon name="help" />
                    </button>
                })}
            </div>
            <div class="call-alerts">{alerts.map(|alerts| alerts.run())}</div>
            {children()}
        </section>
    }
}

/// How long the call has lasted (`data-call-timer`), from `started_at` to now (or to
/// `ended_at`); nothing before it starts.
#[component]
pub fn CallTimer(
    /// When the call started, on the page's monotonic clock.
    #[prop(into)]
    started_at: Signal<Option<u64>>,
    /// When it ended.
    #[prop(into, default = Signal::stored(None))]
    ended_at: Signal<Option<u64>>,
) -> impl IntoView {
    let (now, set_now) = signal(now_ms());
    let ticker = set_interval_with_handle(
        move || set_now.set(now_ms()),
        std::time::Duration::from_millis(500),
    )
    .ok();
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
    });
    let lasted = move || {
        let start = started_at.get()?;
        let end = ended_at.get().unwrap_or_else(|| now.get());
        Some(end.saturating_sub(start))
    };
    move || {
        lasted().map(|ms| {
            view! {
                <time
                    class="call-timer"
                    data-call-timer
                    role="timer"
                    aria-label=format!("Call duration: {}", call_duration_words(ms))
                >
                    {call_duration(ms)}
                </time>
            }
        })
    }
}

/// Milliseconds on the page's monotonic clock (the call's own clock: `performance.now()`).
pub fn now_ms() -> u64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now()) as u64
}
