//! Moving one's place in a transport-only call to another device: the link shown, the new
//! page taking over, the old one ending with the reason, the other person told and the call
//! going on with nothing for them to do; under E2EE, no move.

use shieldcall_call::controller::{
    CallStatus, Input, MOVE_NEEDS_E2EE_OFF, MOVED_AWAY, PEER_MOVED, move_refused,
};
use shieldcall_e2ee::session::{Role, ShieldState, UnlockedReason, WarningReason};
use shieldcall_protocol::{
    Hello, Inbound, MoveRefusal, MoveToken, PROTOCOL_VERSION, RelayEvent, Signal,
};

use crate::harness::{From, Settings, WorkerMode, World, other_key};

fn transport_only() -> Settings {
    Settings { host_e2ee: false, ..Settings::default() }
}

/// After the move: both connected and confirmed, transport only, no warning ever.
fn goes_on(world: &World) {
    for side in [&world.host, &world.guest] {
        assert!(side.connected(), "{:?}", side.view);
        assert!(matches!(side.shield(), ShieldState::Unlocked { .. }), "{:?}", side.view);
        assert_eq!(side.warned_in_call(), None);
        assert_eq!(side.worker.mode, WorkerMode::TransportOnly);
        assert_eq!(side.view.status, CallStatus::Connected);
    }
}

#[test]
fn the_host_moves_to_another_device_and_the_guest_does_nothing() {
    let mut world = World::call(transport_only());
    goes_on(&world);
    let link = world.ask_to_move(From::Host, 120);
    assert_eq!((link.role, link.commitment), (Role::Host, None));
    let guest_connects = world.guest.connects;

    let old = world.moves_to_new_device(From::Host, link);
    assert_eq!(old.view.ended, Some((Some(MOVED_AWAY.into()), true)));
    assert_eq!(old.view.status, CallStatus::Ended(MOVED_AWAY.into()));
    assert!(old.link.is_none(), "the old page's connection is closed");
    assert!(old.sent.iter().all(|(_, s)| !matches!(s, shieldcall_protocol::Signal::Bye {})));

    assert_eq!(world.guest.notices_with(PEER_MOVED), 1);
    assert_eq!(world.guest.view.ended, None);
    assert_eq!(world.guest.connects, guest_connects + 1, "a new connection, with the new page");
    goes_on(&world);
    let moved_here = ShieldState::Unlocked { reason: UnlockedReason::MovedHere };
    assert_eq!(world.host.shield(), moved_here, "the new page says why it has E2EE off");
    // The other device has a key of its own, which the guest's link does not commit to: no
    // red shield in a transport-only call, later either.
    world.advance(30_000);
    goes_on(&world);
}

#[test]
fn the_guest_moves_and_the_host_does_nothing() {
    for settings in [transport_only(), Settings { guest_e2ee: false, ..Settings::default() }] {
        let mut world = World::call(settings);
        let link = world.ask_to_move(From::Guest, 120);
        assert_eq!(link.role, Role::Guest);
        assert!(link.commitment.is_some(), "the new guest page checks the host's key too");
        let old = world.moves_to_new_device(From::Guest, link);
        assert_eq!(old.view.ended, Some((Some(MOVED_AWAY.into()), true)));
        assert_eq!(world.host.notices_with(PEER_MOVED), 1);
        goes_on(&world);
        // And it can move on again.
        let again = world.ask_to_move(From::Guest, 120);
        world.moves_to_new_device(From::Guest, again);
        assert_eq!(world.host.notices_with(PEER_MOVED), 2);
        goes_on(&world);
    }
}

#[test]
fn a_move_link_goes_off_the_screen_when_it_expires() {
    let mut world = World::call(transport_only());
    world.ask_to_move(From::Host, 120);
    world.advance(119_000);
    assert!(world.host.view.move_link.is_some());
    world.advance(1_000);
    assert!(world.host.view.move_link.is_none());
}

#[test]
fn under_e2ee_nothing_moves() {
    let mut world = World::call(Settings::default());
    world.assert_locked();
    world.input(From::Host, Input::MoveToAnotherDevice);
    assert!(world.host.relay_requests.is_empty(), "no token asked for");
    assert_eq!(world.host.notices_with(MOVE_NEEDS_E2EE_OFF), 1);
    // A token the relay sends anyway shows no link.
    let token = MoveToken("bW92ZS10b2tlbi0xMjM0NQ".into());
    world.relay_event(From::Host, RelayEvent::MoveToken { token, ttl: 120 });
    world.settle();
    assert!(world.host.view.move_link.is_none());
    world.assert_locked();
}

#[test]
fn a_refused_move_link_ends_the_new_page_with_the_reason() {
    let mut world = World::call(transport_only());
    let link = world.ask_to_move(From::Host, 120);
    for reason in [MoveRefusal::Used, MoveRefusal::Expired, MoveRefusal::Unknown] {
        let mut page = world.page_from_move_link(link.clone());
        page.handle(Input::Inbound(Inbound::Relay(RelayEvent::MoveRefused { reason })), 0);
        assert_eq!(page.view.ended, Some((Some(move_refused(reason).into()), true)));
        assert_eq!(page.connects, 0);
    }
    // Nothing changed in the call.
    goes_on(&world);
}

/// A relay that says the host moved and plays a host of its own, with its own key (it holds
/// no link, so no link secret).
fn forged_move(world: &mut World, e2ee: bool) {
    // The real host is cut off; the guest hears only the relay.
    world.host.on_relay = false;
    world.relay_event(From::Guest, RelayEvent::PeerMoved);
    world.settle();
    let hello = Hello { v: PROTOCOL_VERSION, e2ee, public_key: other_key() };
    world.inject(From::Guest, Signal::Hello(hello));
}

#[test]
fn a_forged_move_never_shows_a_false_shield() {
    // Transport-only: the key is taken, but without the link secret no confirmation comes,
    // and the wait for one ends red.
    let mut world = World::call(transport_only());
    let shields_before = world.guest.view.shields.len();
    forged_move(&mut world, false);
    world.advance(13_000);
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationTimeout));
    let since: Vec<_> = world.guest.view.shields[shields_before..].to_vec();
    assert!(
        since.iter().all(|v| !matches!(v.state, ShieldState::Unlocked { .. })),
        "never 'unlocked' for the relay's host: {since:?}"
    );
    assert_eq!(world.guest.worker.mode, WorkerMode::AwaitKeys, "no media passes");

    // Under E2EE another host key is the attack it always was, at once.
    let mut world = World::call(Settings::default());
    forged_move(&mut world, true);
    assert_eq!(world.guest.warning(), Some(WarningReason::CommitmentMismatch));
    assert_eq!(world.guest.keys(), None);
}
