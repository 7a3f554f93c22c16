//! One WebSocket's life: read its `join`, join the room, forward what it sends (after checking
//! it), deliver what the other member sends, ping it, and close it with a clear reason when it
//! has to go.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use shieldcall_protocol::{
    GroupEvent, MAX_GROUP, MAX_SIGNAL_BYTES, MoveToken, RefusedRequest, RelayEvent, RelayRequest,
    Signal, SignalError,
};
use tokio::time::{Instant, MissedTickBehavior, interval_at, timeout};
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::handover;
use crate::limit::{RateLimit, Verdict};
use crate::metrics::Refusal;
#[cfg(feature = "mitm")]
use crate::mitm;
use crate::rooms::{
    Forward, KICK_IDLE, KICK_MOVED, KICK_REPLACED, KICK_SHUTDOWN, Kick, Membership, Refused,
    RejoinToken, Relay, SocketGuard, short,
};

/// A write that takes longer than this means the client is gone or not reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for the client's half of a closing handshake.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a socket whose frames cannot be parsed any more stays open after its close frame.
const BAD_FRAME_LINGER: Duration = Duration::from_millis(300);

const KICK_FULL: Kick = Kick { code: 1008, reason: "call is full" };
const KICK_GROUP_FULL: Kick = Kick { code: 1008, reason: "group call is full" };
const KICK_ROOMS: Kick =
    Kick { code: 1008, reason: "too many new calls from this address: try again in a minute" };
const KICK_NO_JOIN: Kick = Kick { code: 1008, reason: "expected {\"t\":\"join\"} first" };
const KICK_BAD_TOKEN: Kick =
    Kick { code: 1008, reason: "invalid rejoin token: expected 22 base64url characters" };
const KICK_BAD_MOVE: Kick =
    Kick { code: 1008, reason: "invalid move token: expected 22 base64url characters" };
const KICK_TWO_TOKENS: Kick =
    Kick { code: 1008, reason: "a join carries a rejoin token or a move token, not both" };
const KICK_MOVE_REFUSED: Kick = Kick { code: 1008, reason: "move token refused" };
const KICK_JOIN_LATE: Kick = Kick { code: 1008, reason: "no join message in time" };
const KICK_RATE: Kick = Kick { code: 1008, reason: "rate limit exceeded for too long" };
const KICK_DEAD: Kick = Kick { code: 1001, reason: "no answer to ping" };
const KICK_REMOVED: Kick = Kick { code: 1011, reason: "removed from the room" };
const KICK_BAD_FRAME: Kick =
    Kick { code: 1009, reason: "message too large or not a valid WebSocket frame" };

const KICK_CLUSTER_DOWN: Kick =
    Kick { code: 1013, reason: "the relay cannot reach its cluster: try again in a moment" };

/// The `error` a client gets for a message that was not forwarded.
fn reason(why: Refusal) -> String {
    match why {
        Refusal::Malformed => SignalError::Malformed.to_string(),
        Refusal::TooLarge => SignalError::TooLarge.to_string(),
        Refusal::Binary => "binary messages are not accepted: send JSON text".into(),
        Refusal::Alone => "nobody else is in the call yet: message not delivered".into(),
        Refusal::RateLimited => "rate limit exceeded: message dropped".into(),
        Refusal::PeerTooSlow => "the other person is not keeping up: message not delivered".into(),
        Refusal::PeerUnreachable => {
            "the other person's relay went away; they are reconnecting: message not delivered"
                .into()
        }
        Refusal::ClusterDown => "the relay cannot reach its cluster: message not delivered".into(),
        Refusal::Unaddressed => {
            "in a group call each signal says whom it is for: message not delivered".into()
        }
        Refusal::NoSuchMember => {
            "nobody in this group call has that id: message not delivered".into()
        }
        Refusal::NoGroup => "group calls are not available on this relay".into(),
        Refusal::CannotGroup => {
            "this call cannot become a group now: a place in it is parked, or not yours".into()
        }
    }
}

/// How the loop ended.
enum Exit {
    /// The connection broke: nothing more to send.
    Gone,
    /// The client closed: finish its closing handshake.
    ClientClosed,
    /// The relay closes the socket, telling the client why.
    Kick(Kick),
}

/// Counts for the log line when the socket leaves.
#[derive(Default)]
struct Stats {
    forwarded: u64,
    rejected: u64,
    /// With `--mitm-replay`: what this socket's member said, as the relay got it.
    #[cfg(feature = "mitm")]
    sent: Vec<String>,
}

pub async fn run(
    relay: Arc<Relay>,
    config: Arc<Config>,
    call_id: String,
    ip: IpAddr,
    guard: SocketGuard,
    mut ws: WebSocket,
) {
    // Counts this socket against the caps until it ends.
    let _guard = guard;
    let call = short(&call_id);
    let claim = match read_join(&mut ws, config.join_timeout).await {
        Ok(claim) => claim,
        Err(None) => return,
        Err(Some(kick)) => {
            info!(call, reason = kick.reason, "refused before joining");
            if send(&mut ws, error(kick.reason)).await {
                close(&mut ws, kick).await;
            }
            return;
        }
    };
    let joined = match (claim, relay.cluster()) {
        (Claim::Move(token), None) => relay.join_moving(&call_id, token, Instant::now()),
        (Claim::Move(token), Some(cluster)) => cluster.join_moving(&call_id, token).await,
        (Claim::Place(rejoin), Some(cluster)) => cluster.join(&relay, &call_id, rejoin, ip).await,
        (Claim::Place(rejoin), None) => relay.join(&call_id, rejoin, ip),
    };
    let mut member = match joined {
        Ok(member) => member,
        Err(Refused::ClusterDown) => {
            warn!(call, "refused: the cluster engine cannot be reached");
            if send(&mut ws, error(KICK_CLUSTER_DOWN.reason)).await {
                close(&mut ws, KICK_CLUSTER_DOWN).await;
            }
            return;
        }
        Err(Refused::Full) => {
            relay.metrics.full();
            info!(call, "refused: call is full");
            let full = RelayEvent::Full.to_json();
            if send(&mut ws, Message::Text(full.into())).await {
                close(&mut ws, KICK_FULL).await;
            }
            return;
        }
        Err(Refused::GroupFull) => {
            relay.metrics.full();
            info!(call, "refused: group call is full");
            let full = GroupEvent::GroupFull { max: MAX_GROUP as u8 }.to_json();
            if send(&mut ws, Message::Text(full.into())).await {
                close(&mut ws, KICK_GROUP_FULL).await;
            }
            return;
        }
        Err(Refused::Move(reason)) => {
            // Which one is worth a line: a used one may be a stolen link tried too late.
            relay.metrics.move_refused();
            info!(call, reason = ?reason, "refused: move token");
            let refused = RelayEvent::MoveRefused { reason }.to_json();
            if send(&mut ws, Message::Text(refused.into())).await {
                close(&mut ws, KICK_MOVE_REFUSED).await;
            }
            return;
        }
        Err(Refused::TooManyNewRooms) => {
            warn!(call, "refused: too many new rooms from one address");
            if send(&mut ws, error(KICK_ROOMS.reason)).await {
                close(&mut ws, KICK_ROOMS).await;
            }
            return;
        }
    };
    relay.metrics.joined(member.replaced);
    if member.moved {
        relay.metrics.moved();
        info!(call, peers = member.peers, "took a place moved from another device");
    } else if member.replaced {
        info!(call, peers = member.peers, "rejoined, replacing its older socket");
    } else {
        info!(call, peers = member.peers, "joined");
    }

    let mut stats = Stats::default();
    // Fresh TURN credentials with every joined, a rejoin included (never logged).
    let turn = config.turn.as_ref().map(|t| t.issue_now());
    if turn.is_some() {
        relay.metrics.turn_issued();
        debug!(call, "TURN credentials issued");
    }
    let lacks = relay.lacks();
    let joined =
        RelayEvent::Joined { peers: member.peers, rejoin: member.rejoin.to_text(), turn, lacks };
    // A group's member learns its id and the others' before its `joined`, so that its page
    // knows whom its first hello is for.
    let group = member.group.take().map(|event| Message::Text(event.to_json().into()));
    let told = match group {
        Some(group) => send(&mut ws, group).await,
        None => true,
    };
    let exit = if told && send(&mut ws, text(joined)).await {
        serve(&relay, &config, &call_id, &mut member, &mut ws, &mut stats).await
    } else {
        Exit::Gone
    };
    let (forwarded, rejected) = (stats.forwarded, stats.rejected);
    match exit {
        Exit::Kick(kick) => {
            info!(call, forwarded, rejected, reason = kick.reason, "closed by relay")
        }
        Exit::Gone | Exit::ClientClosed => info!(call, forwarded, rejected, "left"),
    }
    // Leave before the closing handshake, so the other member hears at once and the place is free.
    match relay.cluster() {
        Some(cluster) => {
            // A relay that shuts down, or a room dropped as idle, is not the peer leaving (as
            // on one relay); in a cluster the member may come back through another node.
            let relay_went = relay.shutting_down() || matches!(exit, Exit::Kick(KICK_IDLE));
            cluster.leave(member.id, !relay_went).await;
        }
        None => relay.leave(&call_id, member.id),
    }
    match exit {
        Exit::Gone => {}
        // Flushes the close reply the WebSocket layer queued when the client's close came.
        Exit::ClientClosed => _ = timeout(CLOSE_TIMEOUT, ws.send(Message::Close(None))).await,
        Exit::Kick(kick) => {
            // No point telling a dead socket anything (a replaced one is most likely dead too).
            // A moved one is alive, and its page must know not to reconnect.
            if kick == KICK_MOVED {
                let _ = send(&mut ws, text(RelayEvent::Moved)).await;
            } else if kick != KICK_DEAD && kick != KICK_REPLACED {
                let _ = send(&mut ws, error(kick.reason)).await;
            }
            close(&mut ws, kick).await;
        }
    }
}

/// What a `join` claims.
enum Claim {
    /// A new place, or with a rejoin token, that place back.
    Place(Option<RejoinToken>),
    /// The place of the member that asked for this move token.
    Move(RejoinToken),
}

/// Wait for the socket's first message, which must be a `join`: what it claims.
/// `Err(None)`: the client went away; `Err(Some(kick))`: close it for that reason.
async fn read_join(ws: &mut WebSocket, wait: Duration) -> Result<Claim, Option<Kick>> {
    let first = timeout(wait, async {
        loop {
            match ws.recv().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Close(_))) | None => return Err(None),
                Some(Ok(Message::Binary(_))) => return Err(Some(KICK_NO_JOIN)),
                Some(Err(_)) => return Err(Some(KICK_BAD_FRAME)),
            }
        }
    })
    .await
    .map_err(|_| Some(KICK_JOIN_LATE))??;
    match RelayRequest::parse(first.as_str()) {
        Ok(RelayRequest::Join { rejoin: None, moving: None }) => Ok(Claim::Place(None)),
        Ok(RelayRequest::Join { rejoin: Some(token), moving: None }) => {
            RejoinToken::parse(&token).map(|t| Claim::Place(Some(t))).ok_or(Some(KICK_BAD_TOKEN))
        }
        Ok(RelayRequest::Join { rejoin: None, moving: Some(MoveToken(token)) }) => {
            RejoinToken::parse(&token).map(Claim::Move).ok_or(Some(KICK_BAD_MOVE))
        }
        Ok(RelayRequest::Join { rejoin: Some(_), moving: Some(_) }) => Err(Some(KICK_TWO_TOKENS)),
        Ok(
            RelayRequest::Move {}
            | RelayRequest::OpenGroup {}
            | RelayRequest::To { .. }
            | RelayRequest::Park { .. }
            | RelayRequest::Transfer { .. },
        )
        | Err(_) => Err(Some(KICK_NO_JOIN)),
    }
}

async fn serve(
    relay: &Arc<Relay>,
    config: &Config,
    call_id: &str,
    member: &mut Membership,
    ws: &mut WebSocket,
    stats: &mut Stats,
) -> Exit {
    let call = short(call_id);
    let mut shutdown = relay.shutdown_signal();
    let mut limit = RateLimit::new(config.rate_per_sec, config.burst, std::time::Instant::now());
    let mut last_seen = Instant::now();
    let mut ping = interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            // Control first: a kick or a shutdown wins over pending traffic.
            biased;
            changed = member.kick.changed() => {
                if let Some(kick) = *member.kick.borrow() {
                    return Exit::Kick(kick);
                }
                // The room let go of us without a reason; never spin on a closed channel.
                if changed.is_err() {
                    return Exit::Kick(KICK_REMOVED);
                }
            }
            _ = async { _ = shutdown.wait_for(|stop| *stop).await } => return Exit::Kick(KICK_SHUTDOWN),
            // `None` means the room dropped us; the branch is then disabled and the kick decides.
            Some(text) = member.queue.recv() => {
                member.queued.fetch_sub(text.len(), Ordering::SeqCst);
                if !send(ws, Message::Text(text)).await {
                    return Exit::Gone;
                }
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > config.dead_after {
                    warn!(call, "no answer to ping: dropping socket");
                    return Exit::Kick(KICK_DEAD);
                }
                if !send(ws, Message::Ping(Default::default())).await { return Exit::Gone }
            }
            incoming = ws.recv() => {
                last_seen = Instant::now();
                let msg = match incoming {
                    None => return Exit::Gone,
                    Some(Ok(msg)) => msg,
                    Some(Err(_)) => {
                        // Over the socket's hard size cap, a broken frame or a broken connection;
                        // the frame boundary is lost either way, so the socket cannot go on.
                        // (The error itself is not logged: it could quote what the client sent.)
                        debug!(call, "read error");
                        return Exit::Kick(KICK_BAD_FRAME);
                    }
                };
                if matches!(msg, Message::Pong(_)) {
                    continue;
                }
                if matches!(msg, Message::Close(_)) {
                    return Exit::ClientClosed;
                }
                // A move, park, transfer or open-group the relay answers itself; anything else
                // is checked as a signal. Known before the rate limit, so that its refusal (any
                // refusal) can name it.
                let answered = answered_request(&msg);
                let request = answered.as_ref().and_then(RefusedRequest::of);
                match limit.check(std::time::Instant::now()) {
                    Verdict::Allow => {}
                    Verdict::Drop => {
                        stats.rejected += 1;
                        relay.metrics.refused(Refusal::RateLimited);
                        debug!(call, "rate limited");
                        let limited = RelayEvent::Error { reason: reason(Refusal::RateLimited), request };
                        if !send(ws, text(limited)).await { return Exit::Gone }
                        continue;
                    }
                    Verdict::Close => {
                        warn!(call, "rate limit exceeded for too long: closing");
                        return Exit::Kick(KICK_RATE);
                    }
                }
                let refused = match (answered, msg) {
                    (Some(RelayRequest::Move {}), _) => {
                        let answer = move_token(relay, call_id, member).await;
                        if !send(ws, answer).await { return Exit::Gone }
                        None
                    }
                    (Some(RelayRequest::OpenGroup {}), _) => open_group(relay, call_id, member),
                    (Some(request), _) => {
                        let answer = handover::answer(relay, call_id, member, request).await;
                        if !send(ws, answer).await { return Exit::Gone }
                        None
                    }
                    (None, Message::Text(t)) => {
                        handle_text(relay, config, call_id, member, t, stats).await
                    }
                    (None, Message::Binary(_)) => Some(Refusal::Binary),
                    // Pings are answered by the WebSocket layer itself.
                    _ => None,
                };
                if let Some(why) = refused {
                    stats.rejected += 1;
                    relay.metrics.refused(why);
                    debug!(call, reason = why.label(), "message rejected");
                    let refused = RelayEvent::Error { reason: reason(why), request };
                    if !send(ws, text(refused)).await { return Exit::Gone }
                }
            }
        }
    }
}

/// The client's request to park or transfer its place (never forwarded), if it is one.
fn handover_request(text: &Utf8Bytes) -> Option<RelayRequest> {
    // Cheap checks first: a signal (an SDP, say) is never parsed twice.
    let t = text.as_str();
    if text.len() > 1024
        || !(t.starts_with(r#"{"t":"park""#) || t.starts_with(r#"{"t":"transfer""#))
    {
        return None;
    }
    match RelayRequest::parse(t) {
        Ok(request @ (RelayRequest::Park { .. } | RelayRequest::Transfer { .. })) => Some(request),
        _ => None,
    }
}

/// The refusal of a move or transfer token while the relay cannot reach its cluster.
pub(crate) const CLUSTER_DOWN: &str = "the relay cannot reach its cluster: try again in a moment";

/// The request a short message is, if it is one: a move or an open-group have no fields.
fn short_request(text: &Utf8Bytes) -> Option<RelayRequest> {
    (text.len() < 64).then(|| RelayRequest::parse(text.as_str()).ok()).flatten()
}

/// The answer to a move request: a fresh token for this member's place, or why there is none.
async fn move_token(relay: &Relay, call_id: &str, member: &Membership) -> Message {
    if relay.is_group(call_id) {
        return refusal(RefusedRequest::Move, "a group call cannot be moved to another device");
    }
    let issued = match relay.cluster() {
        // A cluster's rooms are never groups.
        Some(cluster) => match cluster.issue_move(member.id, relay.move_ttl(), None).await {
            Ok(issued) => issued,
            Err(_) => return refusal(RefusedRequest::Move, CLUSTER_DOWN),
        },
        None => relay.issue_move(call_id, member.id, Instant::now()),
    };
    match issued {
        // The token goes to this socket only; the log says that one was issued, never which.
        Some(token) => {
            relay.metrics.move_token_issued();
            debug!(call = short(call_id), "move token issued");
            let ttl = relay.move_ttl_secs();
            text(RelayEvent::MoveToken { token: MoveToken(token.to_text()), ttl })
        }
        // Its place was taken meanwhile; its own kick closes the socket next.
        None => refusal(RefusedRequest::Move, "this place is no longer yours: no move token"),
    }
}

/// Check and forward one text message; `Some(why)` if it was not forwarded.
async fn handle_text(
    relay: &Arc<Relay>,
    config: &Config,
    call_id: &str,
    member: &Membership,
    text: Utf8Bytes,
    stats: &mut Stats,
) -> Option<Refusal> {
    // `Signal::parse` checks the size too; checked here first so the reason never depends on it.
    if text.len() > MAX_SIGNAL_BYTES {
        return Some(Refusal::TooLarge);
    }
    // Only a valid client signal passes, so a client cannot pass itself off as the relay.
    let signal = match Signal::parse(text.as_str()) {
        Ok(signal) => signal,
        Err(SignalError::TooLarge) => return Some(Refusal::TooLarge),
        Err(SignalError::Malformed) => {
            return addressed_signal(relay, call_id, member, &text, stats);
        }
    };
    #[cfg(feature = "mitm")]
    let rewrite = config.mitm.and_then(|attack| match attack {
        mitm::Attack::Replay => mitm::replay(&signal, text.as_str(), &stats.sent),
        _ => mitm::rewrite(attack, &signal, member.slot),
    });
    #[cfg(feature = "mitm")]
    if config.mitm == Some(mitm::Attack::Replay) {
        stats.sent.push(text.to_string());
    }
    #[cfg(feature = "mitm")]
    let text = match rewrite {
        Some(mitm::Rewrite::Forge(forged)) => forged.into(),
        Some(mitm::Rewrite::Drop) => return None,
        Some(mitm::Rewrite::AddLater { after, texts }) => {
            let (relay, call_id, from) = (Arc::clone(relay), call_id.to_string(), member.id);
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                for forged in texts {
                    relay.forward(&call_id, from, forged.into());
                }
            });
            text
        }
        Some(mitm::Rewrite::Later { after }) => {
            let (relay, call_id, from) = (Arc::clone(relay), call_id.to_string(), member.id);
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                relay.forward(&call_id, from, text);
            });
            return None;
        }
        None => text,
    };
    // Only the test-only man in the middle looks inside a signal once it is valid.
    #[cfg(not(feature = "mitm"))]
    let _ = (config, signal);
    // Forwarded verbatim, byte for byte.
    let forwarded = match relay.cluster() {
        Some(cluster) => cluster.forward(member.id, text).await,
        None => relay.forward(call_id, member.id, text),
    };
    match forwarded {
        Forward::Sent => {
            stats.forwarded += 1;
            relay.metrics.forwarded();
            None
        }
        Forward::NoPeer => Some(Refusal::Alone),
        Forward::PeerTooSlow => Some(Refusal::PeerTooSlow),
        Forward::PeerUnreachable => Some(Refusal::PeerUnreachable),
        Forward::ClusterDown => Some(Refusal::ClusterDown),
        // Its own kick closes the socket next.
        Forward::Lost => None,
        Forward::Unaddressed => Some(Refusal::Unaddressed),
        Forward::NoSuchMember => Some(Refusal::NoSuchMember),
    }
}

/// A message that is no signal: a signal addressed `to` one member of a group, or an
/// `open-group` too long for [`short_request`] (a page sends the short form, whose refusal
/// names it); anything else is malformed.
fn addressed_signal(
    relay: &Relay,
    call_id: &str,
    member: &Membership,
    text: &Utf8Bytes,
    stats: &mut Stats,
) -> Option<Refusal> {
    match RelayRequest::parse(text.as_str()) {
        Ok(RelayRequest::OpenGroup {}) => open_group(relay, call_id, member),
        // A cluster's rooms live in Redis, which holds no groups (yet).
        Ok(RelayRequest::To { .. }) if relay.cluster().is_some() => Some(Refusal::NoGroup),
        Ok(RelayRequest::To { to, s }) => match relay.forward_to(call_id, member.id, to, s) {
            Forward::Sent => {
                stats.forwarded += 1;
                relay.metrics.forwarded();
                None
            }
            Forward::PeerTooSlow => Some(Refusal::PeerTooSlow),
            _ => Some(Refusal::NoSuchMember),
        },
        _ => Some(Refusal::Malformed),
    }
}

/// Open this member's room to a group: every member is told `group`, or this one why not.
/// (The relay cannot see whether a call is transport-only: a page opens a group only once it
/// has confirmed that, and every page in a group says `e2ee: false`, so no relay can make a
/// group member's shield show a lock.)
fn open_group(relay: &Relay, call_id: &str, member: &Membership) -> Option<Refusal> {
    // A cluster's rooms live in Redis, which holds no groups (yet).
    if relay.cluster().is_some() {
        return Some(Refusal::NoGroup);
    }
    if !relay.open_group(call_id, member.id) {
        return Some(Refusal::CannotGroup);
    }
    info!(call = short(call_id), "opened to a group");
    None
}

pub(crate) fn text(event: RelayEvent) -> Message {
    Message::Text(event.to_json().into())
}

/// An `error` that refuses no request the relay answers (a signal, a frame, a kick's word).
pub(crate) fn error(reason: &str) -> Message {
    text(RelayEvent::Error { reason: reason.to_string(), request: None })
}

/// An `error` that refuses `request`, named so that the page can say which did not happen.
pub(crate) fn refusal(request: RefusedRequest, reason: &str) -> Message {
    text(RelayEvent::Error { reason: reason.to_string(), request: Some(request) })
}

/// The request the relay answers itself that `msg` is, if any: a move, a park, a transfer or
/// an open-group (cheap checks first: a signal, an SDP say, is never parsed twice).
fn answered_request(msg: &Message) -> Option<RelayRequest> {
    match msg {
        Message::Text(t) => match short_request(t) {
            Some(request @ (RelayRequest::Move {} | RelayRequest::OpenGroup {})) => Some(request),
            _ => handover_request(t),
        },
        _ => None,
    }
}

/// Send one message; `false` if the socket is gone or stuck.
async fn send(ws: &mut WebSocket, msg: Message) -> bool {
    matches!(timeout(WRITE_TIMEOUT, ws.send(msg)).await, Ok(Ok(())))
}

/// Send a close frame, then read (and discard) until the client's close arrives, so the TCP
/// connection is not reset while the client still has our last messages to read.
async fn close(ws: &mut WebSocket, kick: Kick) {
    let frame = CloseFrame { code: kick.code, reason: kick.reason.into() };
    if !send(ws, Message::Close(Some(frame))).await {
        return;
    }
    if kick == KICK_BAD_FRAME {
        // The rest of the bad frame is still unread and cannot be parsed; reading it would end
        // the socket at once and the reset could destroy our error and close frame in flight.
        // Keep the connection open, unread, for a moment so the client can read them.
        tokio::time::sleep(BAD_FRAME_LINGER).await;
        return;
    }
    let _ = timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(msg)) = ws.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
