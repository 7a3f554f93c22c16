//! What an operator watches: `GET /healthz` and `GET /metrics` (the Prometheus text exposition
//! format, version 0.0.4), served on `--metrics-listen`, an address of its own so that it can be
//! kept off the public side of a reverse proxy. Plain atomics: counting a message costs one
//! relaxed add, and nothing here knows a call id, a token or a message.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::rooms::Relay;

/// Why a client's message was not forwarded: the `reason` label of
/// `shieldcall_relay_messages_refused_total`, one per `error` reason the client can get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    TooLarge,
    Binary,
    Alone,
    RateLimited,
    PeerTooSlow,
    /// Cluster mode: the other member's relay is not listening (killed; its member will
    /// reconnect elsewhere).
    PeerUnreachable,
    /// Cluster mode: this relay cannot reach the engine.
    ClusterDown,
    /// A signal without an addressee in a group of more than two.
    Unaddressed,
    /// A signal addressed to nobody in the group (or in a room that is no group).
    NoSuchMember,
    /// `open-group` or an addressed signal on a relay without groups (cluster mode).
    NoGroup,
    /// `open-group` from a socket with no place in the room, or while a place in it is parked.
    CannotGroup,
}

impl Refusal {
    pub const ALL: [Refusal; 12] = [
        Refusal::Malformed,
        Refusal::TooLarge,
        Refusal::Binary,
        Refusal::Alone,
        Refusal::RateLimited,
        Refusal::PeerTooSlow,
        Refusal::PeerUnreachable,
        Refusal::ClusterDown,
        Refusal::Unaddressed,
        Refusal::NoSuchMember,
        Refusal::NoGroup,
        Refusal::CannotGroup,
    ];

    /// The label value in the metrics.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::TooLarge => "too_large",
            Refusal::Binary => "binary",
            Refusal::Alone => "alone",
            Refusal::RateLimited => "rate_limited",
            Refusal::PeerTooSlow => "peer_too_slow",
            Refusal::PeerUnreachable => "peer_unreachable",
            Refusal::ClusterDown => "cluster_down",
            Refusal::Unaddressed => "unaddressed",
            Refusal::NoSuchMember => "no_such_member",
            Refusal::NoGroup => "no_group",
            Refusal::CannotGroup => "cannot_group",
        }
    }
}

/// The relay's counters since it started.
#[derive(Default)]
pub struct Metrics {
    forwarded: AtomicU64,
    refused: [AtomicU64; Refusal::ALL.len()],
    joins: AtomicU64,
    rejoins: AtomicU64,
    full: AtomicU64,
    turn_issued: AtomicU64,
    move_tokens: AtomicU64,
    moves: AtomicU64,
    moves_refused: AtomicU64,
}

impl Metrics {
    pub fn forwarded(&self) {
        self.forwarded.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused(&self, why: Refusal) {
        self.refused[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A socket got a place; `rejoin` if it took back one it held (its token matched).
    pub fn joined(&self, rejoin: bool) {
        self.joins.fetch_add(1, Ordering::Relaxed);
        if rejoin {
            self.rejoins.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn full(&self) {
        self.full.fetch_add(1, Ordering::Relaxed);
    }

    pub fn turn_issued(&self) {
        self.turn_issued.fetch_add(1, Ordering::Relaxed);
    }

    pub fn move_token_issued(&self) {
        self.move_tokens.fetch_add(1, Ordering::Relaxed);
    }

    /// A socket took a place with a move token.
    pub fn moved(&self) {
        self.moves.fetch_add(1, Ordering::Relaxed);
    }

    pub fn move_refused(&self) {
        self.moves_refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// One metric's `# HELP` and `# TYPE` lines.
fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: u64) {
    let _ = writeln!(out, "{name}{labels} {value}");
}

/// The exposition text of `relay`'s metrics.
pub fn render(relay: &Relay) -> String {
    let m = &relay.metrics;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mut out = String::new();
    let gauges = [
        ("shieldcall_relay_rooms", "Rooms with a member on this relay.", relay.room_count() as u64),
        (
            "shieldcall_relay_sockets_open",
            "WebSockets open on this relay.",
            relay.open_sockets() as u64,
        ),
    ];
    for (name, help, value) in gauges {
        head(&mut out, name, "gauge", help);
        sample(&mut out, name, "", value);
    }
    let counters = [
        (
            "shieldcall_relay_messages_forwarded_total",
            "Signals forwarded to the other member.",
            &m.forwarded,
        ),
        (
            "shieldcall_relay_joins_total",
            "Sockets that got a place in a room (rejoins included).",
            &m.joins,
        ),
        (
            "shieldcall_relay_rejoins_total",
            "Joins that took back a place with its rejoin token.",
            &m.rejoins,
        ),
        ("shieldcall_relay_full_total", "Sockets refused because the call was full.", &m.full),
        (
            "shieldcall_relay_turn_credentials_issued_total",
            "TURN credentials handed out.",
            &m.turn_issued,
        ),
        (
            "shieldcall_relay_move_tokens_issued_total",
            "Tokens handed out to move a place to another device.",
            &m.move_tokens,
        ),
        ("shieldcall_relay_moves_total", "Joins that took a place with a move token.", &m.moves),
        (
            "shieldcall_relay_moves_refused_total",
            "Joins with a move token that was used, expired or unknown.",
            &m.moves_refused,
        ),
    ];
    for (name, help, counter) in counters {
        head(&mut out, name, "counter", help);
        sample(&mut out, name, "", get(counter));
    }
    let name = "shieldcall_relay_messages_refused_total";
    head(&mut out, name, "counter", "Client messages not forwarded, by reason.");
    for why in Refusal::ALL {
        sample(
            &mut out,
            name,
            &format!("{{reason=\"{}\"}}", why.label()),
            get(&m.refused[why as usize]),
        );
    }
    if let Some(cluster) = relay.cluster() {
        let name = "shieldcall_relay_cluster_up";
        head(
            &mut out,
            name,
            "gauge",
            "1 while this relay reaches its cluster engine (Redis), else 0.",
        );
        sample(&mut out, name, "", cluster.is_up().into());
        let name = "shieldcall_relay_cluster_errors_total";
        head(&mut out, name, "counter", "Failed requests to the cluster engine.");
        sample(&mut out, name, "", cluster.errors());
    }
    out
}

/// `/healthz` and `/metrics`, for the `--metrics-listen` address only.
pub fn router(relay: Arc<Relay>) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics)).with_state(relay)
}

/// 200 while the relay serves; 503 while it shuts down or cannot reach its cluster, so a load
/// balancer sends new sockets elsewhere.
async fn healthz(State(relay): State<Arc<Relay>>) -> Response {
    if relay.shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    if relay.cluster().is_some_and(|c| !c.is_up()) {
        return (StatusCode::SERVICE_UNAVAILABLE, "cannot reach the cluster engine\n")
            .into_response();
    }
    (StatusCode::OK, "ok\n").into_response()
}

async fn metrics(State(relay): State<Arc<Relay>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(&relay))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_own_counter_and_label() {
        // `refused` is indexed by the discriminant: ALL must list each once, in order.
        for (i, why) in Refusal::ALL.into_iter().enumerate() {
            assert_eq!(why as usize, i, "{why:?}");
        }
        let relay = Relay::default();
        relay.metrics.refused(Refusal::ClusterDown);
        relay.metrics.refused(Refusal::ClusterDown);
        relay.metrics.refused(Refusal::Malformed);
        let text = render(&relay);
        assert!(
            text.contains("shieldcall_relay_messages_refused_total{reason=\"cluster_down\"} 2\n")
        );
        assert!(text.contains("shieldcall_relay_messages_refused_total{reason=\"malformed\"} 1\n"));
        assert_eq!(text.matches("{reason=").count(), Refusal::ALL.len(), "{text}");
    }
}
