//! Moving one's place to another device: the link shown, the new page taking over, the old
//! one ending with the reason, the other person told and the call going on with nothing for
//! them to do. Out of a transport-only call the move stays transport-only; out of an E2EE call
//! it is re-keyed, locks again with a new code, and both sides are told to compare it.

use shieldcall_call::controller::{
    CallStatus, Input, MOVE_LOST, MOVE_NOT_YET, MOVE_REFUSED, MOVED_AWAY, MOVED_HERE_NEW_CODE,
    PEER_MOVED, PEER_MOVED_REKEYED, PEER_MOVED_UNANNOUNCED, move_refused,
};
use shieldcall_e2ee::session::{Role, ShieldState, UnlockedReason, WarningReason};
use shieldcall_protocol::{
    Hello, Inbound, MoveRefusal, MoveToken, PROTOCOL_VERSION, RefusedRequest, RelayEvent, Signal,
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
    assert!(old.sent.iter().all(|(_, s)| !matches!(s, shieldcall_protocol::Signal::Bye { .. })));

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
fn under_e2ee_either_side_moves_re_keyed_and_both_compare_a_new_code() {
    for who in [From::Host, From::Guest] {
        let mut world = World::call(Settings::default());
        world.assert_locked();
        let before = world.host.code().expect("locked");
        let link = world.ask_to_move(who, 120);
        assert!(link.rekeyed, "out of a locked call the move is re-keyed");
        // The link carries the move's secret, not the call link's: a new device with only the
        // call link cannot take part in the new agreement.
        let other = match who {
            From::Host => From::Guest,
            From::Guest => From::Host,
        };
        let old = world.moves_to_new_device(who, link);
        assert_eq!(old.view.ended, Some((Some(MOVED_AWAY.into()), true)));
        world.assert_locked();
        assert_ne!(world.host.code(), Some(before), "a new agreement, a new code");
        assert_eq!(world.side(other).notices_with(PEER_MOVED_REKEYED), 1);
        assert_eq!(
            world.side(other).notices_with("The security code changed"),
            1,
            "the other person is told the code changed"
        );
        assert_eq!(world.side(who).notices_with(MOVED_HERE_NEW_CODE), 1);
        assert_eq!(world.host.warned_in_call(), None);
        assert_eq!(world.guest.warned_in_call(), None);
        // Still locked, with no warning, long after.
        world.advance(30_000);
        world.assert_locked();

        // And it can move on again, re-keyed again.
        let again = world.ask_to_move(who, 120);
        assert!(again.rekeyed);
        let code = world.host.code();
        world.moves_to_new_device(who, again);
        world.assert_locked();
        assert_ne!(world.host.code(), code);
    }
}

#[test]
fn a_guest_reloads_after_a_re_keyed_move_and_locks_again() {
    // The host moves: the guest's link no longer commits to the host's key, and the secret is
    // the move's. The guest's page keeps the link it can reload with. The guest moves: the new
    // page keeps the link too (its move link was not kept).
    for who in [From::Host, From::Guest] {
        let mut world = World::call(Settings::default());
        let link = world.ask_to_move(who, 120);
        world.moves_to_new_device(who, link);
        world.assert_locked();
        let (commitment, secret) = world.guest.view.kept_link.clone().expect("a link kept");
        world.guest_link.1 = secret;
        world.guest_link.2 = commitment;
        world.guest_reloads();
        world.assert_locked();
        assert_eq!(world.guest.warned_in_call(), None, "{who:?} moved");
    }

    // Nothing is kept where nothing changed.
    let world = World::call(Settings::default());
    assert!(world.guest.view.kept_link.is_none());
}

#[test]
fn before_the_call_is_confirmed_nothing_moves() {
    let mut world = World::call(Settings::default());
    world.assert_locked();
    world.host.view.move_link = None;
    // A token the relay sends unasked, while nothing is confirmed, shows no link.
    world.guest_page_goes(true);
    world.input(From::Host, Input::MoveToAnotherDevice);
    assert!(world.host.relay_requests.is_empty(), "no token asked for");
    assert_eq!(world.host.notices_with(MOVE_NOT_YET), 1);
    let token = MoveToken("bW92ZS10b2tlbi0xMjM0NQ".into());
    world.relay_event(From::Host, RelayEvent::MoveToken { token, ttl: 120 });
    world.settle();
    assert!(world.host.view.move_link.is_none());
}

#[test]
fn a_device_with_a_transport_only_move_link_cannot_join_an_e2ee_call() {
    // Someone who made a move link of their own from the call link's secret (no move secret):
    // the new agreement never confirms, and the guest's shield ends red, never locked.
    let mut world = World::call(Settings::default());
    let mut link = world.ask_to_move(From::Host, 120);
    link.secret = world.guest_link.1.clone();
    let shields_before = world.guest.view.shields.len();
    world.moves_to_new_device(From::Host, link);
    world.advance(13_000);
    assert!(world.guest.warning().is_some(), "{:?}", world.guest.view);
    assert!(
        world.guest.view.shields[shields_before..]
            .iter()
            .all(|v| !matches!(v.state, ShieldState::Locked { .. })),
        "never locked with the wrong device"
    );
    assert_eq!(world.guest.keys(), None);
}

#[test]
fn a_refused_move_link_ends_the_new_page_with_the_reason() {
    let mut world = World::call(transport_only());
    let link = world.ask_to_move(From::Host, 120);
    for reason in [MoveRefusal::Used, MoveRefusal::Expired, MoveRefusal::Unknown] {
        let mut page = world.page_from_move_link(link.clone());
        page.handle(Input::RelayOpen, 0); // its join, with the token
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

    // Under E2EE a move the host never announced is the host leaving, and another host key
    // the attack it always was: red at once.
    let mut world = World::call(Settings::default());
    forged_move(&mut world, true);
    assert_eq!(world.guest.warning(), Some(WarningReason::CommitmentMismatch));
    assert_eq!(world.guest.notices_with(PEER_MOVED_UNANNOUNCED), 1);
    assert_eq!(world.guest.keys(), None);

    // With the host's announcement live, the relay's own host still cannot confirm under the
    // move's secret: no lock, no media, and the wait ends red.
    let mut world = World::call(Settings::default());
    world.ask_to_move(From::Host, 120);
    let shields_before = world.guest.view.shields.len();
    forged_move(&mut world, true);
    world.advance(13_000);
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationTimeout));
    assert!(
        world.guest.view.shields[shields_before..]
            .iter()
            .all(|v| matches!(v.state, ShieldState::Connecting | ShieldState::Warning { .. })),
        "never locked for the relay's host"
    );
    assert_eq!(world.guest.keys(), None);
}

#[test]
fn a_forged_peer_moved_while_both_are_still_there_changes_nothing_unless_a_move_was_announced() {
    // Unannounced: the relay's word is taken as the peer leaving while media still flows, and
    // the call goes on as it was.
    for told in [From::Host, From::Guest] {
        let mut world = World::call(Settings::default());
        let before = world.host.code();
        world.relay_event(told, RelayEvent::PeerMoved);
        world.settle();
        world.advance(30_000);
        world.assert_locked();
        assert_eq!(world.host.code(), before, "{told:?} told");
        assert_eq!(world.host.warned_in_call(), None);
        assert_eq!(world.guest.warned_in_call(), None);
    }
    // While the guest's announcement is live the host re-keys, and waits for a device with
    // the move's secret that never comes: red, never a lock (a denial of service, as dropping
    // messages always was; the relay can do it only while a move link shows).
    let mut world = World::call(Settings::default());
    world.ask_to_move(From::Guest, 120);
    let shields_before = world.host.view.shields.len();
    world.relay_event(From::Host, RelayEvent::PeerMoved);
    world.settle();
    world.advance(13_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
    assert!(
        world.host.view.shields[shields_before..]
            .iter()
            .all(|v| !matches!(v.state, ShieldState::Locked { .. })),
        "no lock without the move's secret"
    );
}

#[test]
fn a_move_whose_socket_drops_before_the_answer_is_said_and_can_be_asked_again() {
    let mut world = World::call(transport_only());
    world.input(From::Host, Input::MoveToAnotherDevice);
    world.input(From::Host, Input::RelayOpen);
    assert_eq!(world.host.notices_with(MOVE_LOST), 1);
    // A move asked long ago and never answered is not brought up again by a new socket.
    world.input(From::Guest, Input::MoveToAnotherDevice);
    world.advance(11_000);
    world.input(From::Guest, Input::RelayOpen);
    assert_eq!(world.guest.notices_with(MOVE_LOST), 0);
    goes_on(&world);
    // Asked again, the link shows, and a new socket after it says nothing.
    world.ask_to_move(From::Host, 120);
    world.input(From::Host, Input::RelayOpen);
    assert_eq!(world.host.notices_with(MOVE_LOST), 1);
    assert!(world.host.view.move_link.is_some());
}

#[test]
fn a_move_the_relay_refuses_is_said_and_can_be_asked_again() {
    let mut world = World::call(transport_only());
    world.input(From::Host, Input::MoveToAnotherDevice);
    // What a relay cluster answers (crates/relay/src/socket.rs).
    let reason = "moving a call to another device is not available on this relay".to_string();
    let request = Some(RefusedRequest::Move);
    world.relay_event(From::Host, RelayEvent::Error { reason: reason.clone(), request });
    world.settle();
    assert_eq!(world.host.notices_with(MOVE_REFUSED), 1);
    assert!(world.host.view.notices.iter().all(|n| !n.contains(&reason)), "the page's words");
    goes_on(&world);
    // Asked again, the link shows; a refusal once it is shown refuses nothing that waits.
    world.ask_to_move(From::Host, 120);
    world.relay_event(From::Host, RelayEvent::Error { reason, request });
    world.settle();
    assert_eq!(world.host.notices_with(MOVE_REFUSED), 1, "said once, for the refused one");
    assert!(world.host.view.move_link.is_some());
    goes_on(&world);
}

#[test]
fn a_move_link_shows_only_when_asked_for_and_goes_when_the_call_changes() {
    // A token the relay sends unasked, or long after the ask, shows nothing.
    let mut world = World::call(Settings::default());
    let token = MoveToken("bW92ZS10b2tlbi0xMjM0NQ".into());
    world.relay_event(From::Host, RelayEvent::MoveToken { token: token.clone(), ttl: 120 });
    world.settle();
    assert!(world.host.view.move_link.is_none());
    world.input(From::Host, Input::MoveToAnotherDevice);
    world.advance(11_000);
    world.relay_event(From::Host, RelayEvent::MoveToken { token, ttl: 120 });
    world.settle();
    assert!(world.host.view.move_link.is_none());
    world.assert_locked();

    // A link on the screen goes when the other person reloads: its secret was of the
    // agreement that ended.
    world.ask_to_move(From::Host, 120);
    world.guest_reloads();
    assert!(world.host.view.move_link.is_none());
    world.assert_locked();
}
