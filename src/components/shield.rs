//! The shield at the top left of the call: whether the call is end-to-end encrypted, announced to
//! screen readers; when it is, a button that opens the security code, and when it is red, one
//! that opens the encryption's counters. Its words are `shieldcall_call::texts`.

use leptos::html;
use leptos::prelude::*;
use shieldcall_call::e2ee_health::E2eeHealth;
use shieldcall_call::texts::{shield_label, shield_text};
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::session::ShieldState;

use super::health::HealthPanel;
use super::{Icon, SecurityCodePanel};

/// The shield of the call, at the top left of the call screen.
///
/// The element with `data-shield` is a button; when the call is locked, clicking it, or Enter or
/// Space on it, opens the [`SecurityCodePanel`]; when the shield is red and `health` is given,
/// the [`HealthPanel`] (the counters say whether keys or the network are at fault). Closing
/// either brings focus back. A visually hidden `role="status"` region announces each change of
/// state when the screen reader is free, but a red shield, which a `role="alert"` one announces
/// at once.
///
/// "We compared it" in the panel marks the call verified: a check on the shield
/// (`data-verified`) and in the panel, for this code only (a new code, a new agreement, must be
/// compared again) and never stored.
#[component]
pub fn Shield(
    /// The call's security state (from the session).
    #[prop(into)]
    state: Signal<ShieldState>,
    /// The call's E2EE health, shown in the panel.
    #[prop(optional_no_strip)]
    health: Option<Signal<E2eeHealth>>,
    /// The panel's narrow layout; by default follows the window width.
    #[prop(into, optional)]
    narrow: Option<Signal<bool>>,
) -> impl IntoView {
    let narrow = narrow.unwrap_or_else(crate::browser::use_media_query::use_narrow);
    let (open, set_open) = signal(false);
    let button = NodeRef::<html::Button>::new();
    let code = Memo::new(move |_| match state.get() {
        ShieldState::Locked { code } => Some(code),
        _ => None,
    });
    let red = Memo::new(move |_| matches!(state.get(), ShieldState::Warning { .. }));
    // A red shield opens the counters alone, where there are counters to show.
    let warning = Memo::new(move |_| health.is_some() && red.get());
    // A lock that goes away takes the code with it; the panel shown closes when its reason goes.
    let opens = move || code.get().is_some() || warning.get();
    let shown_kind = Memo::new(move |_| (code.get().is_some(), warning.get()));
    let open_code = move || {
        if code.get_untracked().is_some() || warning.get_untracked() {
            set_open.set(true);
        }
    };
    // Closed, the focus goes back to the shield (the panel is modal: it was inside).
    let close = Callback::new(move |()| {
        set_open.set(false);
        if let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    });
    Effect::new(move |previous: Option<(bool, bool)>| {
        let now = shown_kind.get();
        if previous.is_some_and(|p| p != now) && open.get_untracked() {
            close.run(());
        }
        now
    });
    let text = move || state.with(shield_text);
    // The code the two compared, if they did: verified while it is still the call's code.
    let (compared, set_compared) = signal(None::<SecurityCode>);
    let verified = Signal::derive(move || code.get().is_some_and(|c| compared.get() == Some(c)));
    let on_verify = Callback::new(move |()| set_compared.set(code.get_untracked()));
    let label = move || {
        let label = state.with(shield_label);
        if verified.get() { format!("{label} You compared the security code.") } else { label }
    };

    view! {
        <div class="shield-area">
            <button
                node_ref=button
                type="button"
                class=move || format!("shield shield--{}", text().hook)
                data-shield=move || text().hook
                aria-label=label
                data-verified=move || verified.get().then_some("true")
                aria-haspopup=move || opens().then_some("dialog")
                aria-expanded=move || opens().then(|| open.get().to_string())
                aria-disabled=move || (!opens()).then_some("true")
                on:click=move |_| open_code()
                on:keydown=move |ev| {
                    // Synthetic and assistive-technology key presses do not always click.
                    if ev.key() == "Enter" || ev.key() == " " {
                        ev.prevent_default();
                        open_code();
                    }
                }
            >
                <ShieldIcon state />
                <span class="shield-title">{move || text().title}</span>
                <span class="shield-verified" hidden=move || !verified.get()>
                    <Icon name="check" />
                </span>
            </button>
            <p class="shield-detail" aria-hidden="true">{move || text().detail}</p>
            // Each change is announced when the reader is free; a red shield at once.
            <span class="visually-hidden" role="status" aria-live="polite">
                {move || (!red.get()).then(|| state.with(shield_label))}
            </span>
            <span class="visually-hidden" role="alert" data-shield-alert>
                {move || red.get().then(|| state.with(shield_label))}
            </span>
            {move || {
                if !open.get() {
                    return None;
                }
                match (code.get(), health) {
                    (Some(code), _) => Some(view! {
                        <SecurityCodePanel
                            code
                            on_close=close
                            verified
                            on_verify
                            health
                            narrow
                        />
                    }.into_any()),
                    (None, Some(health)) if warning.get() => {
                        Some(view! { <HealthPanel health on_close=close /> }.into_any())
                    }
                    _ => None,
                }
            }}
        </div>
    }
}

/// The shield drawing: with a lock when locked, plain when unlocked, with an exclamation mark in
/// red for a warning, dotted while connecting. Decorative: the button's label says it all.
#[component]
fn ShieldIcon(state: Signal<ShieldState>) -> impl IntoView {
    let hook = move || state.with(shield_text).hook;
    view! {
        <svg
            class=move || format!("shield-icon shield-icon--{}", hook())
            viewBox="0 0 24 24"
            width="28"
            height="28"
            aria-hidden="true"
            focusable="false"
        >
            <path
                class="shield-outline"
                d="M12 2 4 5v6c0 5.2 3.4 9.5 8 11 4.6-1.5 8-5.8 8-11V5l-8-3z"
            />
            {move || match hook() {
                "locked" => view! {
                    <g class="shield-lock" data-icon="lock">
                        <rect x="8.5" y="11" width="7" height="5.5" rx="1" />
                        <path d="M10 11V9.2a2 2 0 0 1 4 0V11" fill="none" />
                    </g>
                }
                .into_any(),
                "warning" => view! {
                    <g class="shield-mark" data-icon="warning">
                        <path d="M12 7v6" fill="none" />
                        <circle cx="12" cy="16.3" r="1.1" />
                    </g>
                }
                .into_any(),
                "connecting" => view! {
                    <g class="shield-mark" data-icon="connecting">
                        <circle cx="9" cy="12" r="1" />
                        <circle cx="12" cy="12" r="1" />
                        <circle cx="15" cy="12" r="1" />
                    </g>
                }
                .into_any(),
                _ => ().into_any(),
            }}
        </svg>
    }
}
