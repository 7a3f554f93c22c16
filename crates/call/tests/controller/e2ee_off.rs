//! Calls with end-to-end encryption off (by a person or by the organisation): the shield says
//! whose choice it was, the workers only ever pass frames unchanged, and even that waits for
//! the other side's key confirmation.

use shieldcall_e2ee::session::{Policy, ShieldState, UnlockedReason, WarningReason};

use crate::harness::{From, Settings, WorkerMode, World, dropping, is_confirm};

fn unlocked(reason: UnlockedReason) -> ShieldState {
    ShieldState::Unlocked { reason }
}

#[test]
fn host_off_shows_you_turned_it_off_and_peer_turned_it_off() {
    let world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    assert_eq!(world.host.shield(), unlocked(UnlockedReason::YouTurnedOff));
    assert_eq!(world.guest.shield(), unlocked(UnlockedReason::PeerTurnedOff));
}

#[test]
fn guest_off_shows_peer_turned_it_off_to_the_host() {
    let world = World::call(Settings { guest_e2ee: false, ..Settings::default() });
    assert_eq!(world.host.shield(), unlocked(UnlockedReason::PeerTurnedOff));
    assert_eq!(world.guest.shield(), unlocked(UnlockedReason::YouTurnedOff));
}

#[test]
fn with_e2ee_off_workers_pass_frames_and_never_hold_keys() {
    for settings in [
        Settings { host_e2ee: false, ..Settings::default() },
        Settings { guest_e2ee: false, ..Settings::default() },
    ] {
        let world = World::call(settings);
        assert_eq!(world.host.worker.mode, WorkerMode::TransportOnly);
        assert_eq!(world.guest.worker.mode, WorkerMode::TransportOnly);
        assert_eq!(world.host.worker.keyings + world.guest.worker.keyings, 0);
        assert_eq!(world.host.code(), None, "no security code without E2EE");
    }
}

#[test]
fn an_organisation_that_disables_e2ee_is_named_as_the_reason() {
    let world = World::call(Settings { guest_policy: Policy::Disabled, ..Settings::default() });
    assert_eq!(world.guest.shield(), unlocked(UnlockedReason::OrganisationDisabled));
    assert_eq!(world.host.shield(), unlocked(UnlockedReason::PeerTurnedOff));
    assert_eq!(world.guest.worker.mode, WorkerMode::TransportOnly);
}

#[test]
fn both_off_calls_connect_transport_only() {
    let world =
        World::call(Settings { host_e2ee: false, guest_e2ee: false, ..Settings::default() });
    assert!(world.host.connected() && world.guest.connected());
    assert_eq!(world.host.worker.mode, WorkerMode::TransportOnly);
    assert_eq!(world.guest.shield(), unlocked(UnlockedReason::YouTurnedOff));
}

#[test]
fn without_the_peers_confirmation_nothing_passes_even_with_e2ee_off() {
    let mut world = World::new(Settings { host_e2ee: false, ..Settings::default() });
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    assert_eq!(world.host.worker.mode, WorkerMode::AwaitKeys);
    assert_eq!(world.guest.worker.mode, WorkerMode::AwaitKeys);
    assert_eq!(
        world.guest.shield(),
        ShieldState::Connecting,
        "a peer that 'has it off' is not believed before its confirmation"
    );
    world.advance(11_000);
    assert_eq!(world.host.worker.mode, WorkerMode::AwaitKeys);
    assert_eq!(world.guest.worker.mode, WorkerMode::AwaitKeys);
}

#[test]
fn e2ee_off_with_confirmations_dropped_ends_in_a_confirmation_timeout() {
    let mut world = World::new(Settings { host_e2ee: false, ..Settings::default() });
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    world.advance(13_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationTimeout));
    assert!(!world.host.ever_shown(|s| matches!(s, ShieldState::Locked { .. })));
    assert_eq!(world.host.worker.mode, WorkerMode::AwaitKeys);
}

#[test]
fn a_guest_who_turned_e2ee_off_is_never_shown_a_lock() {
    let mut world = World::call(Settings { guest_e2ee: false, ..Settings::default() });
    world.advance(30_000);
    for who in [From::Host, From::Guest] {
        let side = world.side(who);
        assert!(!side.ever_shown(|s| matches!(s, ShieldState::Locked { .. })));
        assert!(!side.ever_shown(|s| matches!(s, ShieldState::Warning { .. })));
    }
}
