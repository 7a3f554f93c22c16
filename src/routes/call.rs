use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::browser::use_relay::{Presence, use_relay};
use crate::call_link::{CallRole, role_for};

/// A call: join the relay room of the link's call id and show whether the other person is there.
#[component]
pub fn Call() -> impl IntoView {
    let id = use_params_map().read_untracked().get("id").unwrap_or_default();
    let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    match role_for(&id, &href) {
        Ok(role) => view! { <CallRoom id role /> }.into_any(),
        Err(problem) => view! {
            <section class="page call-error" role="alert">
                <h1>"This call link does not work"</h1>
                <p>{problem.to_string()}</p>
                <p>"Ask the person who sent it for a new link."</p>
            </section>
        }
        .into_any(),
    }
}

/// The room of a valid call link.
#[component]
fn CallRoom(
    /// The call id from the link.
    id: String,
    /// Whether this page made the link or opened it.
    role: CallRole,
) -> impl IntoView {
    let relay = use_relay(&id);
    let presence = relay.presence;
    let status = move || match presence.get() {
        Presence::Connecting => "Connecting to the call…".to_string(),
        Presence::Waiting => "Waiting for the other person to join.".to_string(),
        Presence::PeerHere => "The other person is here.".to_string(),
        Presence::PeerLeft => "The other person left the call.".to_string(),
        Presence::Full => "This call already has two people. Ask for a new link.".to_string(),
        Presence::Disconnected(why) => format!("Not connected: {why}."),
    };
    let presence_hook = move || match presence.get() {
        Presence::Connecting => "connecting",
        Presence::Waiting => "waiting",
        Presence::PeerHere => "peer-here",
        Presence::PeerLeft => "peer-left",
        Presence::Full => "full",
        Presence::Disconnected(_) => "disconnected",
    };
    view! {
        <section class="page call">
            <h1>{match role { CallRole::Host => "Your call", CallRole::Guest { .. } => "Joining a call" }}</h1>
            <p class="presence" role="status" aria-live="polite" data-presence=presence_hook>{status}</p>
        </section>
    }
}
