//! "Pick up a parked call", on the home page: the code typed by hand finds the parked call at
//! the relay (its half of the code only), the page opens the deposit with its own half, and
//! goes to the pickup link it holds, as if it had been opened.

use leptos::prelude::*;
use shieldcall_call::pickup::{
    Arrival, PICKUP_TOO_OFTEN, PickupCode, PickupError, SealedDeposit, opened_link, pickup_refused,
};
use shieldcall_protocol::{CallId, PickupAnswer};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What goes wrong when the relay cannot be asked.
const RELAY_UNREACHABLE: &str = "The call's relay could not be reached. Try again in a moment.";

/// Ask the relay for the park of `code`; the pickup link's path and fragment, or what to say.
async fn find(code: &PickupCode) -> Result<String, String> {
    let window = web_sys::window().ok_or(RELAY_UNREACHABLE)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    // Only the relay's half: the page's half opens the deposit here, and goes nowhere.
    init.set_body(&JsValue::from_str(code.relay_half()));
    let response = JsFuture::from(window.fetch_with_str_and_init("/pickup", &init))
        .await
        .map_err(|_| RELAY_UNREACHABLE)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| RELAY_UNREACHABLE)?;
    if response.status() == 429 {
        return Err(PICKUP_TOO_OFTEN.into());
    }
    let text = JsFuture::from(response.text().map_err(|_| RELAY_UNREACHABLE)?)
        .await
        .map_err(|_| RELAY_UNREACHABLE)?
        .as_string()
        .unwrap_or_default();
    match PickupAnswer::parse(&text) {
        Ok(PickupAnswer::Found { call, token, deposit }) => {
            let call = CallId::parse(&call).map_err(|_| PickupError::WrongCode.to_string())?;
            let sealed = SealedDeposit::parse(&deposit).map_err(|e| e.to_string())?;
            let opened = crate::browser::deposit::open(&code.deposit_key(), &sealed).await;
            let link =
                opened.and_then(|text| opened_link(&token, &text)).map_err(|e| e.to_string())?;
            Ok(format!("/call/{call}#{}{}", link.to_fragment(), Arrival::Pickup.tag()))
        }
        Ok(PickupAnswer::Refused { reason }) => Err(pickup_refused(reason).into()),
        Err(_) => Err(RELAY_UNREACHABLE.into()),
    }
}

/// The form: a code, "Pick up", and what went wrong, if anything.
#[component]
pub fn PickUpForm() -> impl IntoView {
    let (code, set_code) = signal(String::new());
    let (problem, set_problem) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let typed = match PickupCode::parse(&code.get_untracked()) {
            Ok(typed) => typed,
            Err(e) => return set_problem.set(Some(e.to_string())),
        };
        set_problem.set(None);
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            match find(&typed).await {
                Ok(path) => {
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&path);
                    }
                }
                Err(why) => {
                    set_problem.set(Some(why));
                    set_busy.set(false);
                }
            }
        });
    };
    view! {
        <form class="pickup" data-pickup-form on:submit=submit>
            <h2>"Pick up a parked call"</h2>
            <label>
                "Pickup code"
                <input
                    type="text"
                    data-pickup-input
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="7K3M-9QX2-HT4P"
                    prop:value=move || code.get()
                    on:input=move |ev| set_code.set(event_target_value(&ev))
                />
            </label>
            <button type="submit" data-action="pick-up" disabled=move || busy.get()>
                "Pick up"
            </button>
            <p class="pickup-problem" role="alert" data-pickup-problem>
                {move || problem.get()}
            </p>
        </form>
    }
}
