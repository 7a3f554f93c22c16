//! Handing the call over: the parked call's pickup code and link, the name to transfer it to,
//! and the transfer link.

use leptos::prelude::*;
use shieldcall_protocol::MAX_NAME;

use shieldcall_call::pickup::consult_fragment;

use crate::call::ParkedView;

/// "5 minutes" or "45 seconds".
fn lasts(ttl_secs: u64) -> String {
    if ttl_secs.is_multiple_of(60) {
        format!("{} minutes", ttl_secs / 60)
    } else {
        format!("{ttl_secs} seconds")
    }
}

/// Select a read-only field's text when it gets the focus, to copy it.
fn select_on_focus(ev: web_sys::FocusEvent) {
    use wasm_bindgen::JsCast;
    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
        input.select();
    }
}

/// The parked call's pickup code and link, while `parked` is `Some` (also once this page has
/// left the call: that is what it is left for).
#[component]
pub fn ParkedPanel(
    /// The parked call's code, link and time.
    #[prop(into)]
    parked: Signal<Option<ParkedView>>,
) -> impl IntoView {
    move || {
        let ParkedView { url, code, ttl_secs, path, consult } = parked.get()?;
        if consult {
            return Some(consult_panel(path, ttl_secs).into_any());
        }
        Some(view! {
            <section class="move-link" data-parked aria-labelledby="parked-title">
                <h2 id="parked-title">"The call is parked"</h2>
                <p>
                    {format!(
                        "The other person is on hold. To pick the call up, on any device, type \
                         this code under \"Pick up a parked call\" on the home page, or open the \
                         link. It works once, for {}; after that the call ends.",
                        lasts(ttl_secs)
                    )}
                </p>
                <p class="pickup-code" data-pickup-code aria-label="Pickup code">{code}</p>
                <input
                    type="text"
                    readonly
                    data-pickup-url
                    aria-label="Pickup link"
                    prop:value=url
                    on:focus=select_on_focus
                />
            </section>
        }.into_any())
    }
}

/// The other person is on hold while this person consults someone: start the consult call
/// (a new call, from the home page, that knows the held call), or go back to the held call.
fn consult_panel(path: String, ttl_secs: u64) -> impl IntoView {
    let back = path.clone();
    view! {
        <section class="move-link" data-consult aria-labelledby="consult-title">
            <h2 id="consult-title">"The other person is on hold"</h2>
            <p>
                {format!(
                    "Make a call to the person you want to transfer to. From that call you can                      hand them this call, or come back to it. It is held for {}.",
                    lasts(ttl_secs)
                )}
            </p>
            <button
                type="button"
                class="primary"
                data-action="consult-call"
                on:click=move |_| {
                    let fragment = consult_fragment(&path);
                    crate::call_link::open_fresh(&format!("/#{fragment}"));
                }
            >
                "Call someone to consult"
            </button>
            <button
                type="button"
                data-action="return-to-held"
                on:click=move |_| crate::call_link::open_fresh(&back)
            >
                "Return to the held call"
            </button>
        </section>
    }
}

/// Asks for the name of the person the call is transferred to, while `open`.
#[component]
pub fn TransferForm(
    /// Whether the form shows.
    #[prop(into)]
    open: Signal<bool>,
    /// Make a transfer link for this name.
    on_submit: Callback<String>,
    /// Close the form.
    on_close: Callback<()>,
) -> impl IntoView {
    let (name, set_name) = signal(String::new());
    move || {
        open.get().then(|| {
            view! {
                <form
                    class="move-link transfer-form"
                    data-transfer-form
                    on:submit=move |ev| {
                        ev.prevent_default();
                        on_submit.run(name.get_untracked());
                    }
                >
                    <h2>"Transfer the call"</h2>
                    <label>
                        "Name of the person you transfer the call to (the other person is told \
                         it as you type it)"
                        <input
                            type="text"
                            data-transfer-name
                            maxlength=MAX_NAME.to_string()
                            required
                            autofocus
                            prop:value=move || name.get()
                            on:input=move |ev| set_name.set(event_target_value(&ev))
                        />
                    </label>
                    <button type="submit" class="primary" data-action="make-transfer-link">
                        "Make a transfer link"
                    </button>
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                </form>
            }
        })
    }
}

/// The transfer link, for whom, while shown.
#[component]
pub fn TransferLinkPanel(
    /// The link, the name it is for, and for how many seconds it works.
    #[prop(into)]
    link: Signal<Option<(String, String, u64)>>,
    /// Close the panel.
    on_close: Callback<()>,
) -> impl IntoView {
    move || {
        let (url, name, ttl_secs) = link.get()?;
        Some(view! {
            <section class="move-link" data-transfer-link aria-labelledby="transfer-link-title">
                <h2 id="transfer-link-title">{format!("Transfer the call to {name}")}</h2>
                <p>
                    {format!(
                        "Send this link to {name}. It works once, for {}; you leave the call \
                         when they join, and the other person is told {name} is joining.",
                        lasts(ttl_secs)
                    )}
                </p>
                <input
                    type="text"
                    readonly
                    data-transfer-url
                    aria-label="Transfer link"
                    prop:value=url
                    on:focus=select_on_focus
                />
                <button type="button" data-transfer-close on:click=move |_| on_close.run(())>
                    "Close"
                </button>
            </section>
        })
    }
}
