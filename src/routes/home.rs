use leptos::prelude::*;
use leptos_router::components::A;

use crate::call_link::NewCall;

/// Home: make a call link to share.
#[component]
pub fn Home() -> impl IntoView {
    let (call, set_call) = signal(None::<NewCall>);
    let new_call = move |_| match NewCall::make() {
        Ok(made) => set_call.set(Some(made)),
        Err(err) => web_sys::console::error_1(&format!("could not make a call link: {err}").into()),
    };
    view! {
        <section class="page home">
            <h1>"Confidential calls, end to end"</h1>
            <p>"Make a link, send it to one person, and talk. Only the two of you hold the keys."</p>
            <button class="primary" data-action="new-call" on:click=new_call>"New call"</button>
            {move || call.get().map(|call| view! {
                <div class="call-link">
                    <p>"Send this link to the person you want to call:"</p>
                    <code data-call-link>{call.link.clone()}</code>
                    <A href=call.path.clone() attr:class="button">"Join the call"</A>
                </div>
            })}
        </section>
    }
}
