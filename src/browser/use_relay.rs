//! The signalling relay socket: join a call's room, learn who is there, exchange signals.

use std::rc::Rc;

use leptos::prelude::*;
use shieldcall_e2ee::messages::{Inbound, RelayEvent, Signal};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Who is in the room, as far as this page knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Opening the socket.
    Connecting,
    /// In the room, alone: waiting for the other person.
    Waiting,
    /// The other person is in the room.
    PeerHere,
    /// The other person was here and left.
    PeerLeft,
    /// Two people are already in this call.
    Full,
    /// The relay could not be reached, or the connection dropped.
    Disconnected(String),
}

/// What [`use_relay`] gives back.
pub struct UseRelayReturn {
    /// Who is in the room.
    pub presence: ReadSignal<Presence>,
    /// The last signal from the other person (hello, offer, answer, ICE, bye).
    pub signal: ReadSignal<Option<Signal>>,
    /// The last error the relay reported about something this page sent.
    pub relay_error: ReadSignal<Option<String>>,
    /// Send a signal to the other person.
    pub send: Rc<dyn Fn(&Signal)>,
}

/// The relay's WebSocket URL for a call, on this page's own origin (`trunk serve` and the relay
/// both route `/ws`).
pub fn relay_url(call_id: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}/ws/{call_id}", location.host().ok()?))
}

/// Join the relay room of `call_id`. The socket closes when the calling component goes away.
pub fn use_relay(call_id: &str) -> UseRelayReturn {
    let (presence, set_presence) = signal(Presence::Connecting);
    let (last_signal, set_signal) = signal(None::<Signal>);
    let (relay_error, set_relay_error) = signal(None::<String>);

    let socket = relay_url(call_id).and_then(|url| WebSocket::new(&url).ok());
    let Some(socket) = socket else {
        set_presence.set(Presence::Disconnected("the relay address is not valid".into()));
        return UseRelayReturn {
            presence,
            signal: last_signal,
            relay_error,
            send: Rc::new(|_| {}),
        };
    };

    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(text) = event.data().as_string() else { return };
        match Inbound::parse(&text) {
            Ok(Inbound::Relay(event)) => match event {
                RelayEvent::Joined { peers } => {
                    set_presence.set(if peers > 0 { Presence::PeerHere } else { Presence::Waiting })
                }
                RelayEvent::PeerJoined => set_presence.set(Presence::PeerHere),
                RelayEvent::PeerLeft => set_presence.set(Presence::PeerLeft),
                RelayEvent::Full => set_presence.set(Presence::Full),
                RelayEvent::Error { reason } => set_relay_error.set(Some(reason)),
            },
            Ok(Inbound::Peer(signal)) => set_signal.set(Some(signal)),
            // The relay validates what it forwards, so this is a relay fault: say so, go on.
            Err(err) => {
                set_relay_error.set(Some(format!("unreadable message from the relay: {err}")))
            }
        }
    });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| {
        set_presence.update(|presence| {
            // After `full` the relay closes the socket: keep saying why.
            if *presence != Presence::Full {
                *presence = Presence::Disconnected("the connection to the relay was lost".into());
            }
        });
    });
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

    let stored = StoredValue::new_local((socket.clone(), on_message, on_close));
    // The socket must not outlive the page that joined the room, or the room stays taken.
    on_cleanup(move || {
        stored.with_value(|(socket, _, _)| {
            socket.set_onmessage(None);
            socket.set_onclose(None);
            let _ = socket.close();
        });
    });

    let send = Rc::new(move |signal: &Signal| {
        if socket.ready_state() == WebSocket::OPEN {
            // A send on a closing socket fails; onclose reports that.
            let _ = socket.send_with_str(&signal.to_json());
        }
    });
    UseRelayReturn { presence, signal: last_signal, relay_error, send }
}
