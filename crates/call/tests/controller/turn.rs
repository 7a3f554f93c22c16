//! TURN: connections are made with config.json's servers and the relay's short-lived TURN
//! credentials (the latest `joined`'s), and a call that cannot connect through TURN says why
//! instead of hanging.

use shieldcall_call::config::{IceServer, IceSettings, IceTransportPolicy};
use shieldcall_call::controller::{
    CallStatus, IceCandidate, Input, LinkState, TURN_REFUSED, TURN_REFUSED_NOTICE, TURN_UNREACHABLE,
};
use shieldcall_protocol::{RelayEvent, TurnCredentials};

use crate::harness::{From, Settings, World};

const TURN_URL: &str = "turn:127.0.0.1:3478?transport=udp";

fn credentials(name: &str) -> TurnCredentials {
    TurnCredentials {
        urls: vec![TURN_URL.into()],
        username: format!("1700003600:{name}"),
        credential: format!("credential-of-{name}"),
        ttl: 3600,
    }
}

fn settings(policy: IceTransportPolicy) -> IceSettings {
    let stun =
        IceServer { urls: vec!["stun:stun.example.org".into()], username: None, credential: None };
    IceSettings { servers: vec![stun], policy }
}

fn joined(peers: u8, turn: &str) -> RelayEvent {
    RelayEvent::Joined {
        peers,
        rejoin: "token".into(),
        turn: Some(credentials(turn)),
        lacks: vec![],
    }
}

/// A call whose pages have `policy`, joined with TURN credentials "host-1" and "guest-1";
/// with `network_up` false ICE never connects (what a refused TURN server means under a
/// relay-only policy).
fn turn_call(policy: IceTransportPolicy, network_up: bool) -> World {
    let mut world = World::with_ice(Settings::default(), settings(policy));
    world.network_up = network_up;
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(0, "host-1"));
    world.settle();
    world.guest.on_relay = true;
    world.relay_event(From::Guest, joined(1, "guest-1"));
    world.relay_event(From::Host, RelayEvent::PeerJoined);
    world.settle();
    world
}

fn relay_candidate() -> IceCandidate {
    IceCandidate {
        candidate: "candidate:1 1 udp 41885439 127.0.0.1 49152 typ relay raddr 0.0.0.0 rport 0"
            .into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    }
}

#[test]
fn connections_use_config_servers_then_the_latest_turn_credentials() {
    let mut world = turn_call(IceTransportPolicy::Relay, true);
    world.assert_locked();
    let base = settings(IceTransportPolicy::Relay);
    assert_eq!(world.host.connect_ice, [base.with_turn(Some(&credentials("host-1")))]);
    assert_eq!(world.guest.connect_ice, [base.with_turn(Some(&credentials("guest-1")))]);

    // The host's relay socket comes back with fresh credentials; the next connection uses them.
    world.relay_event(From::Host, joined(1, "host-2"));
    world.settle();
    world.advance(30_000);
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(1_000);
    world.assert_locked();
    let last = world.host.connect_ice.last().unwrap();
    assert_eq!(*last, base.with_turn(Some(&credentials("host-2"))));
    assert_eq!(last.servers[1].username.as_deref(), Some("1700003600:host-2"));

    // A relay without TURN hands out none: config.json's servers alone.
    let mut plain = World::call(Settings::default());
    plain.settle();
    assert_eq!(plain.host.connect_ice, [IceSettings::default()]);
}

#[test]
fn relay_only_and_the_credentials_refused_ends_the_call_saying_so() {
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let generation = world.host.generation();
    // Chromium: a 401 from the TURN server, then gathering completes with no candidate.
    world.input(From::Host, Input::IceServerError { generation, code: 401, url: TURN_URL.into() });
    assert_eq!(world.host.view.ended, None, "not before gathering is over");
    world.input(From::Host, Input::IceGatheringComplete { generation });
    assert_eq!(world.host.view.ended, Some((Some(TURN_REFUSED.into()), false)), "link kept");
    assert_eq!(world.host.view.status, CallStatus::Ended(TURN_REFUSED.into()));
    assert!(world.host.link.is_none(), "the connection is closed");
}

#[test]
fn the_other_side_told_the_host_left_while_gathering_still_says_why() {
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let (host_generation, guest_generation) = (world.host.generation(), world.guest.generation());
    world.input(From::Host, Input::IceGatheringComplete { generation: host_generation });
    assert!(world.host.view.ended.is_some());
    // The host's page leaves the relay; the guest's gathering has not ended yet.
    world.host.on_relay = false;
    world.relay_event(From::Guest, RelayEvent::PeerLeft);
    world.settle();
    assert_ne!(world.guest.view.status, CallStatus::PeerLeft, "the verdict is awaited");
    let url = TURN_URL.to_string();
    world
        .input(From::Guest, Input::IceServerError { generation: guest_generation, code: 401, url });
    world.input(From::Guest, Input::IceGatheringComplete { generation: guest_generation });
    assert_eq!(world.guest.view.status, CallStatus::Ended(TURN_REFUSED.into()));

    // With a relay candidate, TURN works: the other person simply left.
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let generation = world.guest.generation();
    world.input(From::Guest, Input::LocalIce { generation, candidate: relay_candidate() });
    world.relay_event(From::Guest, RelayEvent::PeerLeft);
    world.settle();
    assert_eq!(world.guest.view.status, CallStatus::PeerLeft);
    // Gathering ended first, then the news: at once.
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let generation = world.guest.generation();
    world.input(From::Guest, Input::LocalIce { generation, candidate: relay_candidate() });
    world.input(From::Guest, Input::IceGatheringComplete { generation });
    world.relay_event(From::Guest, RelayEvent::PeerLeft);
    world.settle();
    assert_eq!(world.guest.view.status, CallStatus::PeerLeft);
}

#[test]
fn a_peer_leaving_while_gathering_without_a_verdict_yet_is_said_once_gathering_ends() {
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let generation = world.guest.generation();
    world.relay_event(From::Guest, RelayEvent::PeerLeft);
    world.settle();
    assert_ne!(world.guest.view.status, CallStatus::PeerLeft);
    world.input(From::Guest, Input::LocalIce { generation, candidate: relay_candidate() });
    world.input(From::Guest, Input::IceGatheringComplete { generation });
    assert_eq!(world.guest.view.status, CallStatus::PeerLeft);
    assert_eq!(world.guest.view.ended, None);
}

#[test]
fn relay_only_and_no_relay_candidate_without_an_error_ends_the_call_too() {
    // Firefox: no icecandidateerror at all, gathering completes with no candidate.
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let generation = world.guest.generation();
    world.input(From::Guest, Input::IceGatheringComplete { generation });
    assert_eq!(world.guest.view.status, CallStatus::Ended(TURN_UNREACHABLE.into()));
    // An unreachable server (Chromium's 701) is no refusal of the credentials.
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let generation = world.host.generation();
    world.input(From::Host, Input::IceServerError { generation, code: 701, url: TURN_URL.into() });
    world.input(From::Host, Input::IceGatheringComplete { generation });
    assert_eq!(world.host.view.status, CallStatus::Ended(TURN_UNREACHABLE.into()));
}

#[test]
fn a_relay_candidate_means_turn_works_whatever_another_server_said() {
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let generation = world.host.generation();
    world.input(From::Host, Input::LocalIce { generation, candidate: relay_candidate() });
    let url = "turn:other.example.org".to_string();
    world.input(From::Host, Input::IceServerError { generation, code: 401, url });
    world.input(From::Host, Input::IceGatheringComplete { generation });
    assert_eq!(world.host.view.ended, None);
    assert_ne!(world.host.view.status, CallStatus::Ended(TURN_REFUSED.into()));
}

#[test]
fn what_an_older_connection_reports_is_stale() {
    let mut world = turn_call(IceTransportPolicy::Relay, false);
    let stale = world.host.generation() + 1;
    world.input(
        From::Host,
        Input::IceServerError { generation: stale, code: 401, url: TURN_URL.into() },
    );
    world.input(From::Host, Input::IceGatheringComplete { generation: stale });
    assert_eq!(world.host.view.ended, None);
}

#[test]
fn may_connect_directly_a_refusal_is_told_once_and_the_call_goes_on() {
    let mut world = turn_call(IceTransportPolicy::All, true);
    let generation = world.host.generation();
    for _ in 0..2 {
        let url = TURN_URL.to_string();
        world.input(From::Host, Input::IceServerError { generation, code: 401, url });
    }
    world.input(From::Host, Input::IceGatheringComplete { generation });
    assert_eq!(world.host.notices_with(TURN_REFUSED_NOTICE), 1);
    assert_eq!(world.host.view.ended, None);
    world.assert_locked();
}
