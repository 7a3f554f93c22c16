//! A host alone in the room has its browser prepare the connection it will offer
//! (`Effect::PrepareConnection`), so that the offer leaves as soon as the guest's hello comes.
//! The page uses a prepared connection only for a `Connect` with the same E2EE and ICE
//! settings on the same media worker: these tests check that the controller asks for one when,
//! and only when, the `Connect` to come will match it.

use shieldcall_call::config::{IceServer, IceSettings, IceTransportPolicy};
use shieldcall_call::controller::Input;
use shieldcall_protocol::{RelayEvent, Signal, TurnCredentials};

use crate::harness::{From, Settings, World, candidate, joined};

fn stun() -> IceSettings {
    let stun =
        IceServer { urls: vec!["stun:stun.example.org".into()], username: None, credential: None };
    IceSettings { servers: vec![stun], policy: IceTransportPolicy::All }
}

fn joined_with_turn(peers: u8, name: &str) -> RelayEvent {
    let credentials = TurnCredentials {
        urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
        username: format!("1700003600:{name}"),
        credential: format!("credential-of-{name}"),
        ttl: 3600,
    };
    RelayEvent::Joined { peers, rejoin: "token".into(), turn: Some(credentials), lacks: vec![] }
}

/// The host is in the room, alone, its worker running.
fn host_waiting(world: &mut World) {
    world.host.on_relay = true;
    world.relay_event(From::Host, joined_with_turn(0, "host-1"));
    world.settle();
}

/// The guest joins the room the host waits in.
fn guest_joins(world: &mut World) {
    world.guest.on_relay = true;
    world.relay_event(From::Guest, joined(1));
    world.relay_event(From::Host, RelayEvent::PeerJoined);
    world.settle();
}

#[test]
fn a_host_alone_prepares_once_what_its_connect_then_asks_for() {
    let mut world = World::with_ice(Settings::default(), stun());
    host_waiting(&mut world);
    assert_eq!(world.host.prepared.len(), 1, "prepared while waiting");
    assert_eq!(world.host.connects, 0, "nothing made for real before the guest");
    assert!(world.host.sent.is_empty(), "nothing said to an empty room");
    // The relay's socket drops and comes back while the host still waits: not prepared again.
    world.relay_event(From::Host, joined_with_turn(0, "host-1"));
    world.settle();
    assert_eq!(world.host.prepared.len(), 1, "once per media worker");

    guest_joins(&mut world);
    world.assert_locked();
    let (e2ee, ice) = world.host.prepared[0].clone();
    assert_eq!(world.host.connect_e2ee, vec![e2ee], "the Connect can use what was prepared");
    assert_eq!(world.host.connect_ice, vec![ice.clone()]);
    assert!(ice.servers.iter().any(|s| s.username.as_deref() == Some("1700003600:host-1")));
    assert!(world.guest.prepared.is_empty(), "a guest answers: it prepares nothing");
}

#[test]
fn a_guest_with_e2ee_off_gets_a_connection_made_for_it() {
    let mut world = World::new(Settings { guest_e2ee: false, ..Settings::default() });
    host_waiting(&mut world);
    assert_eq!(world.host.prepared.len(), 1);
    assert!(world.host.prepared[0].0, "prepared as the host's own setting says: E2EE");
    guest_joins(&mut world);
    // The hellos decided transport only: the Connect differs, so the page makes a new one.
    assert_eq!(world.host.connect_e2ee, vec![false]);
    assert!(world.host.connected() && world.guest.connected());
}

#[test]
fn no_connection_is_prepared_with_the_guest_already_there() {
    let mut world = World::new(Settings::default());
    world.guest.on_relay = true;
    world.relay_event(From::Guest, joined(0));
    world.settle();
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(1));
    world.relay_event(From::Guest, RelayEvent::PeerJoined);
    world.settle();
    world.assert_locked();
    assert!(world.host.prepared.is_empty());
}

#[test]
fn after_the_guest_leaves_the_fresh_worker_prepares_the_next_connection() {
    let mut world = World::new(Settings::default());
    host_waiting(&mut world);
    guest_joins(&mut world);
    world.assert_locked();
    assert_eq!(world.host.prepared.len(), 1);
    // The guest's page goes; the host drops the connection and starts a fresh worker.
    world.guest_page_goes(true);
    let starts = world.host.worker.starts;
    assert!(starts >= 2, "a fresh worker for the next person");
    assert_eq!(world.host.prepared.len(), 2, "prepared again on the fresh worker");
    world.new_guest_page_joins();
    world.assert_locked();
    assert_eq!(world.host.connects, 2);
}

#[test]
fn a_rejoin_with_fresh_turn_credentials_prepares_again_and_the_connect_matches_it() {
    let mut world = World::with_ice(Settings::default(), stun());
    host_waiting(&mut world);
    assert_eq!(world.host.prepared.len(), 1);
    // The host's socket drops while it waits; its new `joined` brings new credentials.
    world.relay_event(From::Host, joined_with_turn(0, "host-2"));
    world.settle();
    assert_eq!(world.host.prepared.len(), 2, "the first would no longer match");
    guest_joins(&mut world);
    world.assert_locked();
    assert_eq!(world.host.connect_ice, vec![world.host.prepared[1].1.clone()]);
}

/// The candidates the host's signals named.
fn trickled(sent: &[(u64, Signal)]) -> Vec<String> {
    sent.iter()
        .filter_map(|(_, signal)| match signal {
            Signal::Ice { candidate, .. } => Some(candidate.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn candidates_the_prepared_offer_carries_are_not_trickled_again_and_later_ones_are() {
    // As before: the offer carries no candidate, so the host trickles the one it found.
    let mut world = World::new(Settings::default());
    host_waiting(&mut world);
    guest_joins(&mut world);
    world.assert_locked();
    let generation = world.host.generation();
    let found = candidate(&format!("host-{generation}")).candidate;
    assert_eq!(trickled(&world.host.sent), vec![found]);

    // The prepared offer, made after gathering, carries it: the guest has it with the offer.
    let mut world = World::new(Settings::default());
    world.host.describes_its_candidate = Some("0");
    host_waiting(&mut world);
    guest_joins(&mut world);
    world.assert_locked();
    assert!(trickled(&world.host.sent).is_empty(), "sent once, in the offer");
    // One found after the offer was made still goes.
    let generation = world.host.generation();
    let later = candidate("later");
    world.input(From::Host, Input::LocalIce { generation, candidate: later.clone() });
    assert_eq!(trickled(&world.host.sent), vec![later.candidate]);
    // The guest's candidates still go to the host.
    assert!(!trickled(&world.guest.sent).is_empty());

    // The same candidate of another media section (before the answer, a transport per
    // section) is another candidate: trickled.
    let mut world = World::new(Settings::default());
    world.host.describes_its_candidate = Some("1");
    host_waiting(&mut world);
    guest_joins(&mut world);
    world.assert_locked();
    assert_eq!(trickled(&world.host.sent).len(), 1);
}
