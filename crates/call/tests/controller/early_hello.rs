//! A guest's hello goes out right behind its `join`, on the same socket, instead of after the
//! relay's `joined` (the page tells the controller with `Input::RelayOpen`): the host, who
//! waits for it to make the offer, has it one round trip sooner. Only a guest's first socket.

use shieldcall_call::controller::{CallStatus, Input};
use shieldcall_protocol::RelayEvent;

use crate::harness::{From, Settings, World, is_hello, joined};

/// `who`'s socket opens and its join goes out (nothing is carried yet).
fn socket_opens(world: &mut World, who: From) {
    let now = world.now;
    world.side(who).handle(Input::RelayOpen, now);
}

/// The host is in the room; the guest's socket opens and its join goes out.
fn guest_socket_opens() -> World {
    let mut world = World::new(Settings::default());
    world.host.on_relay = true;
    socket_opens(&mut world, From::Host);
    world.relay_event_on_socket(From::Host, joined(0));
    world.settle();
    world.guest.on_relay = true;
    socket_opens(&mut world, From::Guest);
    world
}

#[test]
fn a_guest_says_hello_behind_its_join_and_joined_does_not_repeat_it() {
    let mut world = guest_socket_opens();
    assert_eq!(world.guest.sent_since(0, is_hello), 1, "the hello left with the join");
    assert!(!world.guest.ever_status(|s| *s == CallStatus::Connecting), "not before joined");
    // The relay's answers, in the order it sends them: joined to the guest, peer-joined to the
    // host, then the guest's hello (carried as the world settles).
    world.relay_event_on_socket(From::Guest, joined(1));
    world.relay_event(From::Host, RelayEvent::PeerJoined);
    world.settle();
    world.assert_locked();
    assert_eq!(world.guest.sent_since(0, is_hello), 1, "one hello, not two");
    assert!(world.guest.ever_status(|s| *s == CallStatus::Connecting));
}

#[test]
fn a_host_waits_for_peer_joined_before_its_hello() {
    let mut world = World::new(Settings::default());
    world.host.on_relay = true;
    socket_opens(&mut world, From::Host);
    assert_eq!(world.host.sent_since(0, is_hello), 0, "a hello to an empty room is refused");
}

#[test]
fn a_guest_first_in_the_room_says_hello_again_when_the_host_comes() {
    let mut world = World::new(Settings::default());
    world.guest.on_relay = true;
    socket_opens(&mut world, From::Guest);
    world.relay_event_on_socket(From::Guest, joined(0));
    world.settle();
    // The host arrives: peer-joined to the guest, joined to the host.
    world.host.on_relay = true;
    socket_opens(&mut world, From::Host);
    world.relay_event_on_socket(From::Host, joined(1));
    world.relay_event(From::Guest, RelayEvent::PeerJoined);
    world.settle();
    world.assert_locked();
    assert_eq!(world.guest.sent_since(0, is_hello), 2, "the early one found nobody");
}

#[test]
fn a_later_socket_says_hello_only_after_joined() {
    let mut world = guest_socket_opens();
    world.relay_event_on_socket(From::Guest, joined(1));
    world.relay_event(From::Host, RelayEvent::PeerJoined);
    world.settle();
    world.assert_locked();
    let hellos = world.guest.sent_since(0, is_hello);
    // The guest's socket drops and comes back: its join goes out on the new one.
    socket_opens(&mut world, From::Guest);
    assert_eq!(world.guest.sent_since(0, is_hello), hellos, "nothing before joined");
    world.relay_event_on_socket(From::Guest, joined(1));
    world.settle();
    assert_eq!(world.guest.sent_since(0, is_hello), hellos + 1, "joined says it, as before");
    world.assert_locked();
}
