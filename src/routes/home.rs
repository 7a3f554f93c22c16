use leptos::prelude::*;
use shieldcall_call::prejoin::E2eePlan;
use wasm_bindgen_futures::JsFuture;

use shieldcall_call::pickup::read_consult_fragment;

use crate::call_link::NewCall;
use crate::config::use_app_config;
use crate::routes::POLICY_DISABLED;
use crate::routes::pickup::PickUpForm;
use crate::settings::e2ee_enabled;

/// A consult's fragment in the address bar, taken out of it and kept for this tab's calls;
/// whether there was one.
fn take_consult_fragment() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let hash = window.location().hash().unwrap_or_default();
    let Some(path) = read_consult_fragment(hash.trim_start_matches('#')) else {
        return false;
    };
    crate::call_link::start_consulting(path);
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    }
    true
}

/// Home: make a call link to share.
#[component]
pub fn Home() -> impl IntoView {
    // Effects run once the view is in the document and its handlers are attached.
    Effect::new(|| crate::browser::timeline::mark("home ready"));
    // Opened to consult someone about a held call (`/#c=…`, from that call's page): calls made
    // here can hand it over. The fragment leaves the address bar at once.
    let consult = take_consult_fragment();
    let (call, set_call) = signal(None::<NewCall>);
    let (copied, set_copied) = signal(None::<bool>);
    let new_call = move |_| match NewCall::make() {
        Ok(made) => {
            set_copied.set(None);
            set_call.set(Some(made));
        }
        Err(err) => web_sys::console::error_1(&format!("could not make a call link: {err}").into()),
    };
    let copy = move |_| {
        let Some(link) = call.get_untracked().map(|c| c.link) else { return };
        let Some(window) = web_sys::window() else { return };
        let written = window.navigator().clipboard().write_text(&link);
        leptos::task::spawn_local(async move {
            set_copied.set(Some(JsFuture::from(written).await.is_ok()));
        });
    };
    // What the calls made here will be: the person's setting, unless the organisation's policy
    // turns E2EE off (the rule of the pre-join screen, `E2eePlan`, as on the settings page and
    // the call's shield).
    let config = use_app_config();
    let chosen = e2ee_enabled();
    // (The `data-e2ee-setting` hook, the sentence.)
    let setting = move || {
        let plan = E2eePlan::new(chosen, config.with(|c| c.e2ee_allowed));
        let sentence = match plan {
            E2eePlan::NotAllowed => {
                format!("{POLICY_DISABLED} Your calls are protected by transport encryption only. ")
            }
            E2eePlan::On => "End-to-end encryption is on for your calls. ".to_string(),
            E2eePlan::YouTurnedOff => "End-to-end encryption is off for your calls: they are \
                                       protected by transport encryption only. "
                .to_string(),
        };
        (plan.hook(), sentence)
    };
    view! {
        <section class="page home">
            <h1>"Confidential calls, end to end"</h1>
            <p>"Make a link, send it to one person, and talk. Only the two of you hold the keys."</p>
            <button class="primary" data-action="new-call" on:click=new_call>"New call"</button>
            <p class="hint" data-e2ee-setting=move || setting().0>
                {move || setting().1}
                <a href="/settings">"Settings"</a>
            </p>
            {move || call.get().map(|call| view! {
                <div class="call-link">
                    <p>"Send this link to the person you want to call:"</p>
                    <code data-call-link>{call.link.clone()}</code>
                    <div class="call-link-actions">
                        <button type="button" data-action="copy-link" on:click=copy>"Copy link"</button>
                        <a href=call.path.clone() class="button" data-action="join-call">"Join the call"</a>
                        <span role="status" aria-live="polite">
                            {move || match copied.get() {
                                Some(true) => "Copied.",
                                Some(false) => "Could not copy: select the link and copy it.",
                                None => "",
                            }}
                        </span>
                    </div>
                    <p class="hint">
                        "The part after # commits to this call's key: the other person's browser \
                         checks it, and it never reaches any server."
                    </p>
                </div>
            })}
            {consult.then(|| view! {
                <p class="consulting" role="status" data-consulting>
                    "The other person is on hold. Make a new call to the person you want to \
                     transfer to: from it, hand them the held call (More, \"Transfer the held \
                     call to this person\") or return to it. That call must be without \
                     end-to-end encryption: the held call's link goes over it."
                </p>
            })}
            <PickUpForm />
        </section>
    }
}
