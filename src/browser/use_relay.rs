//! The signalling relay socket: join a call's room, learn who is there, exchange signals.
//! Reconnects when the connection drops: quickly a few times, then, having said that the relay
//! cannot be reached, every 10 s for as long as the page is open. Each socket's first message is
//! `join`; a reconnection's carries the relay's rejoin token (never the URL, which logs keep), so
//! that it gets its place back even while the relay still holds the old socket (a connection
//! that went away without closing). A page opened from a move link presents its move token in
//! its first `join` only; from then on its place is its own, with a rejoin token like any.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use shieldcall_protocol::{GroupEvent, Inbound, MoveToken, RelayEvent, RelayRequest, Signal};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// Waits before each reconnection attempt, in milliseconds, while the page says it is
/// reconnecting; after these it says the relay cannot be reached, and goes on trying every
/// [`KEEP_TRYING_MS`] (a reload would cost the host its key, so the page never asks for one).
const RETRY_DELAYS_MS: [i32; 4] = [500, 1000, 2000, 4000];
const KEEP_TRYING_MS: i32 = 10_000;

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
    /// The connection dropped; trying again (attempt n).
    Reconnecting(u8),
    /// The relay could not be reached.
    Disconnected(String),
}

/// What [`use_relay`] gives back.
pub struct UseRelayReturn {
    /// Who is in the room.
    pub presence: ReadSignal<Presence>,
    /// Send a signal to the other person (queued while the socket opens).
    pub send: Rc<dyn Fn(&Signal)>,
    /// Ask the relay itself for something (a move token), if the socket is open.
    pub request: Rc<dyn Fn(&RelayRequest)>,
    /// Leave the room now.
    pub close: Rc<dyn Fn()>,
    /// The socket was open already (warmed on the pre-join screen) and its `join` has gone
    /// out before this returned, without `join_sent`: the caller says what follows the join
    /// once it holds `send`.
    pub joined_at_once: bool,
}

/// The relay's WebSocket URL for a call, on this page's own origin (`trunk serve` and the relay
/// both route `/ws`).
pub fn relay_url(call_id: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}/ws/{call_id}", location.host().ok()?))
}

thread_local! {
    /// A socket opened to the relay while the person looks at the pre-join screen, for
    /// [`use_relay`] to take when they press Join, its handshake done (on a real network that
    /// is TCP, TLS and the upgrade: several round trips). It says nothing until then: a socket's
    /// first message is its join, so neither the room nor the other person learns anything early.
    static WARM: RefCell<Option<WarmSocket>> = const { RefCell::new(None) };
    /// Counts warm-ups, takes and cool-downs: a next warm socket due after a wait is opened
    /// only if none of them came meanwhile (the person joined, or left the pre-join screen).
    static WARM_EPOCH: Cell<u32> = const { Cell::new(0) };
}

struct WarmSocket {
    url: String,
    socket: WebSocket,
    rewarms_left: u16,
}

impl WarmSocket {
    /// Closed without opening another.
    fn discard(self) {
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

/// The relay closes a socket that has not joined within 10 s; a person on the pre-join screen
/// for longer gets a new one each time, for up to ten minutes (two, while the relay refuses).
const REWARMS: u16 = 60;
/// A warm socket that closed sooner than this did not meet the join timeout: the relay could
/// not be reached, or refused it. The next one waits [`REWARM_WAIT_MS`], so that a pre-join
/// screen never hammers a relay that is down (it made its 60 attempts within seconds).
const SHORT_LIVED_MS: f64 = 5_000.0;
const REWARM_WAIT_MS: i32 = 2_000;

fn next_warm_epoch() -> u32 {
    WARM_EPOCH.with(|e| {
        e.set(e.get().wrapping_add(1));
        e.get()
    })
}

/// Opens a socket to `call_id`'s relay room for the Join to come ([`use_relay`] takes it).
pub fn warm_up(call_id: &str) {
    if let Some(url) = relay_url(call_id) {
        warm(url, REWARMS, next_warm_epoch());
    }
}

fn warm(url: String, rewarms_left: u16, epoch: u32) {
    if WARM_EPOCH.with(|e| e.get()) != epoch {
        return;
    }
    let Ok(socket) = WebSocket::new(&url) else { return };
    let again = url.clone();
    let opened_at = js_sys::Date::now();
    // Opens the next one when the relay closes this for not joining (its 10 s join timeout).
    // Left to the socket (a few bytes, at most `REWARMS` times): it may replace the warm socket
    // while it runs.
    let on_close = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        // Only if it was not taken meanwhile (taking it replaces this handler anyway).
        let left = WARM.with(|w| w.borrow_mut().take()).map(|old| old.rewarms_left);
        let Some(left @ 1..) = left else { return };
        if js_sys::Date::now() - opened_at >= SHORT_LIVED_MS {
            return warm(again.clone(), left - 1, epoch);
        }
        let url = again.clone();
        let later = Closure::once_into_js(move || warm(url, left - 1, epoch));
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                later.unchecked_ref(),
                REWARM_WAIT_MS,
            );
        }
    });
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    let warm = WarmSocket { url, socket, rewarms_left };
    if let Some(old) = WARM.with(|w| w.borrow_mut().replace(warm)) {
        old.discard();
    }
}

/// Closes the warm socket if no Join took it (the page is leaving the call).
pub fn cool_down() {
    next_warm_epoch();
    if let Some(old) = WARM.with(|w| w.borrow_mut().take()) {
        old.discard();
    }
}

/// The warm socket to `url`, if there is one still opening or open.
fn take_warm(url: &str) -> Option<WebSocket> {
    next_warm_epoch();
    let warm = WARM.with(|w| w.borrow_mut().take())?;
    let usable = warm.url == url
        && matches!(warm.socket.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN);
    if usable {
        // Its own handlers come next: not another warm socket when it closes.
        warm.socket.set_onclose(None);
        Some(warm.socket)
    } else {
        warm.discard();
        None
    }
}

struct Connection {
    url: String,
    /// The relay's token for this page's place in the room, from the last `joined`.
    rejoin: Option<String>,
    /// The move token of the link this page was opened with, until a `joined` answers it.
    moving: Option<MoveToken>,
    socket: Option<WebSocket>,
    /// Signals sent before the socket opened.
    outbox: Vec<String>,
    attempts: u8,
    /// Set when the page left on purpose, or the room was full: no reconnection then.
    finished: bool,
    /// Whether this socket's `join` is answered (`joined`): a refusal after it (`full`,
    /// `group-full`, `move-refused`) is no answer, but forged, and closes nothing for good.
    answered: bool,
    /// Told each time a socket's `join` has gone out.
    joined_sent: Rc<dyn Fn()>,
    closures: Vec<Closure<dyn FnMut(Event)>>,
}

/// Join the relay room of `call_id` (taking another device's place with `moving`, the token
/// of a move link); `on_message` hears every relay event and peer signal, in order, and
/// `join_sent` each time a socket's `join` has gone out (what is sent then follows it). The
/// socket closes when the calling component goes away.
pub fn use_relay(
    call_id: &str,
    moving: Option<MoveToken>,
    on_message: impl Fn(&Inbound) + 'static,
    join_sent: impl Fn() + 'static,
) -> UseRelayReturn {
    let (presence, set_presence) = signal(Presence::Connecting);
    let Some(url) = relay_url(call_id) else {
        set_presence.set(Presence::Disconnected("the relay address is not valid".into()));
        return UseRelayReturn {
            presence,
            send: Rc::new(|_| {}),
            request: Rc::new(|_| {}),
            close: Rc::new(|| {}),
            joined_at_once: false,
        };
    };
    let connection = Rc::new(RefCell::new(Connection {
        url,
        rejoin: None,
        moving,
        socket: None,
        outbox: Vec::new(),
        attempts: 0,
        finished: false,
        answered: false,
        joined_sent: Rc::new(join_sent),
        closures: Vec::new(),
    }));
    let on_message: Rc<dyn Fn(&Inbound)> = Rc::new(on_message);
    let joined_at_once = open(&connection, on_message, set_presence);

    let send = {
        let connection = connection.clone();
        Rc::new(move |signal: &Signal| {
            let mut c = connection.borrow_mut();
            match &c.socket {
                Some(socket) if socket.ready_state() == WebSocket::OPEN => {
                    // A send on a closing socket fails; onclose reports that.
                    let _ = socket.send_with_str(&signal.to_json());
                }
                _ => c.outbox.push(signal.to_json()),
            }
        })
    };
    let request = {
        let connection = connection.clone();
        Rc::new(move |request: &RelayRequest| {
            let c = connection.borrow();
            // Asked for by the person, who can ask again: not queued across a reconnection.
            if let Some(socket) = c.socket.as_ref().filter(|s| s.ready_state() == WebSocket::OPEN) {
                let _ = socket.send_with_str(&request.to_json());
            }
        })
    };
    let close = {
        let connection = connection.clone();
        Rc::new(move || shut(&connection))
    };
    let stored = StoredValue::new_local(connection);
    // The socket must not outlive the page that joined the room, or the room stays taken.
    on_cleanup(move || stored.with_value(shut));
    UseRelayReturn { presence, send, request, close, joined_at_once }
}

fn shut(connection: &Rc<RefCell<Connection>>) {
    let mut c = connection.borrow_mut();
    c.finished = true;
    if let Some(socket) = c.socket.take() {
        socket.set_onopen(None);
        socket.set_onmessage(None);
        socket.set_onclose(None);
        let _ = socket.close();
    }
    drop(c);
    // The closures hold the connection, and it holds them: let them go once this returns
    // (this may run inside one of them), so that neither outlives the call.
    let connection = connection.clone();
    wasm_bindgen_futures::spawn_local(async move {
        connection.borrow_mut().closures.clear();
    });
}

/// Opens (or takes the warm) socket; whether it was open already and has joined.
fn open(
    connection: &Rc<RefCell<Connection>>,
    on_message: Rc<dyn Fn(&Inbound)>,
    set_presence: WriteSignal<Presence>,
) -> bool {
    let url = connection.borrow().url.clone();
    let socket = match take_warm(&url) {
        Some(socket) => socket,
        None => match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(_) => {
                set_presence.set(Presence::Disconnected("the relay address is not valid".into()));
                return false;
            }
        },
    };
    let open_already = socket.ready_state() == WebSocket::OPEN;

    let on_open = {
        let connection = connection.clone();
        Closure::<dyn FnMut(Event)>::new(move |_: Event| join(&connection, true))
    };
    let on_frame = {
        let connection = connection.clone();
        let on_message = on_message.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let Some(text) = event.unchecked_into::<MessageEvent>().data().as_string() else {
                return;
            };
            let inbound = match Inbound::parse(&text) {
                Ok(inbound) => inbound,
                // The relay validates what it forwards, so this is a relay fault: say so, go on.
                Err(err) => {
                    web_sys::console::warn_1(
                        &format!("unreadable message from the relay: {err}").into(),
                    );
                    return;
                }
            };
            // A full group closes the socket next, as a full pair does: no reconnection.
            let answer = !connection.borrow().answered;
            if let (Inbound::Group(GroupEvent::GroupFull { .. }), true) = (&inbound, answer) {
                connection.borrow_mut().finished = true;
                set_presence.set(Presence::Full);
            }
            if let Inbound::Relay(event) = &inbound {
                match event {
                    RelayEvent::Joined { peers, rejoin, .. } => {
                        let mut c = connection.borrow_mut();
                        c.rejoin = Some(rejoin.clone());
                        c.moving = None;
                        c.answered = true;
                        drop(c);
                        set_presence.set(if *peers > 0 {
                            Presence::PeerHere
                        } else {
                            Presence::Waiting
                        })
                    }
                    RelayEvent::PeerJoined
                    | RelayEvent::PeerMoved
                    | RelayEvent::PeerTransferred { .. } => set_presence.set(Presence::PeerHere),
                    RelayEvent::PeerParked { .. } | RelayEvent::ParkEnded => {
                        set_presence.set(Presence::PeerLeft)
                    }
                    // Parked, or this place went to another device: the call decides whether
                    // that is news of its own (a relay may forge either), and if so ends, which
                    // closes this socket for good (`shut`). A move link refused (the join's
                    // answer): the socket closes next and must not come back.
                    RelayEvent::Parked { .. } | RelayEvent::Moved => {}
                    RelayEvent::MoveRefused { .. } if answer => {
                        connection.borrow_mut().finished = true;
                    }
                    RelayEvent::MoveRefused { .. } => {}
                    RelayEvent::MoveToken { .. } | RelayEvent::TransferToken { .. } => {}
                    RelayEvent::PeerLeft => set_presence.set(Presence::PeerLeft),
                    RelayEvent::Full if answer => {
                        connection.borrow_mut().finished = true;
                        set_presence.set(Presence::Full);
                    }
                    RelayEvent::Full => {}
                    // The call decides what an error about its own message means.
                    RelayEvent::Error { .. } => {}
                }
            }
            on_message(&inbound);
        })
    };
    let on_close = {
        let connection = connection.clone();
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            // The relay says why when it refuses a socket (its cluster unreachable, a cap
            // reached): the person is told that, rather than only that it went away. Its
            // ordinary goodbyes (1000, 1001: shutting down, an idle room) are a reconnection.
            let said = event
                .dyn_ref::<CloseEvent>()
                .filter(|close| !matches!(close.code(), 1000 | 1001))
                .map(|close| close.reason())
                .filter(|reason| !reason.is_empty());
            let (finished, attempt) = {
                let mut c = connection.borrow_mut();
                c.socket = None;
                c.attempts = c.attempts.saturating_add(1);
                (c.finished, c.attempts)
            };
            if finished {
                return;
            }
            let delay = match (RETRY_DELAYS_MS.get(usize::from(attempt) - 1), said) {
                (delay, Some(reason)) => {
                    set_presence.set(Presence::Disconnected(format!(
                        "the relay closed the connection ({reason}); trying again"
                    )));
                    delay.copied().unwrap_or(KEEP_TRYING_MS)
                }
                (Some(delay), None) => {
                    set_presence.set(Presence::Reconnecting(attempt));
                    *delay
                }
                (None, None) => {
                    set_presence.set(Presence::Disconnected(
                        "the call's relay cannot be reached; still trying".into(),
                    ));
                    KEEP_TRYING_MS
                }
            };
            let connection = connection.clone();
            let on_message = on_message.clone();
            let retry = Closure::once_into_js(move || {
                if !connection.borrow().finished {
                    let _ = open(&connection, on_message, set_presence);
                }
            });
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    retry.unchecked_ref(),
                    delay,
                );
            }
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_frame.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut c = connection.borrow_mut();
    c.socket = Some(socket);
    c.closures = vec![on_open, on_frame, on_close];
    drop(c);
    // A warm socket may have opened before it was taken: its `open` event has gone by, so it
    // joins now (the caller is told by the return value, not `join_sent`).
    if open_already {
        join(connection, false);
    }
    open_already
}

/// The socket is open: join (the relay reads nothing else until this), then send what waited;
/// then, if `tell`, say so.
fn join(connection: &Rc<RefCell<Connection>>, tell: bool) {
    let mut c = connection.borrow_mut();
    c.attempts = 0;
    c.answered = false;
    let outbox = std::mem::take(&mut c.outbox);
    if let Some(socket) = &c.socket {
        // A rejoin token, once there is one, wins: the move is done by then.
        let (rejoin, moving) = match &c.rejoin {
            Some(rejoin) => (Some(rejoin.clone()), None),
            None => (None, c.moving.clone()),
        };
        let join = RelayRequest::Join { rejoin, moving };
        let _ = socket.send_with_str(&join.to_json());
        for text in outbox {
            let _ = socket.send_with_str(&text);
        }
    }
    let joined_sent = c.joined_sent.clone();
    drop(c);
    if tell {
        joined_sent();
    }
}
