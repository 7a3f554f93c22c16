//! When things happen: the wait for the peer's key confirmation (asked again at 6 s, red at
//! 12 s), and the grace a new connection gets before a failure report can replace it.

use shieldcall_call::controller::{CallStatus, LinkState};
use shieldcall_e2ee::session::{ShieldState, WarningReason};

use crate::harness::{From, Settings, World, dropping, is_confirm, is_hello};

fn confirmations_dropped() -> World {
    let mut world = World::new(Settings::default());
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    world
}

#[test]
fn a_missing_confirmation_makes_both_say_hello_again_half_way() {
    let mut world = confirmations_dropped();
    world.advance(5_000);
    assert_eq!(world.host.sent_since(1, is_hello), 0, "nothing repeated in the first 5 s");
    world.advance(3_000);
    assert!(world.host.sent_since(6_000, is_hello) >= 1, "the host asked again");
    assert!(world.guest.sent_since(6_000, is_hello) >= 1, "the guest asked again");
    assert!(world.host.sent_since(6_000, is_confirm) >= 1, "with its confirmation");
}

#[test]
fn the_confirmation_wait_turns_red_after_twelve_seconds_not_before() {
    let mut world = confirmations_dropped();
    world.advance(12_000);
    assert!(world.host.warning().is_none(), "{:?}", world.host.view.shield);
    world.advance(1_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
}

#[test]
fn a_confirmation_timeout_stops_the_retries() {
    let mut world = confirmations_dropped();
    world.advance(14_000);
    let connects = world.host.connects;
    world.advance(120_000);
    assert_eq!(world.host.connects, connects, "no connection is made again under a warning");
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
}

#[test]
fn a_confirmed_call_never_times_out() {
    let mut world = World::call(Settings::default());
    world.advance(120_000);
    world.assert_locked();
    assert_eq!(world.host.sent_since(1, is_hello), 0, "no hello repeated");
}

#[test]
fn a_failure_right_after_a_new_connection_waits_out_the_grace() {
    let mut world = World::call(Settings::default());
    // The first connection started at 0: a failure at 1 s is retried once 5 s have passed.
    world.advance(1_000);
    world.media_drops(LinkState::Failed);
    world.settle();
    assert_eq!(world.host.view.status, CallStatus::Retrying { in_secs: 4, attempt: 1 });
    world.advance(3_000);
    assert_eq!(world.host.connects, 1);
    world.advance(1_000);
    assert_eq!(world.host.connects, 2);
    world.assert_locked();
}

#[test]
fn the_shield_shows_connecting_until_the_confirmation_arrives() {
    let mut world = confirmations_dropped();
    world.advance(3_000);
    assert!(world.host.connected(), "media connected");
    assert_eq!(world.host.shield(), ShieldState::Connecting);
    assert_eq!(world.host.view.status, CallStatus::Connected);
}

#[test]
fn a_confirmation_after_the_timeout_lifts_it_and_what_came_meanwhile_is_shown() {
    use shieldcall_call::controller::Input;
    use shieldcall_protocol::Signal;
    let mut world = World::new(Settings { host_e2ee: false, ..Settings::default() });
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    world.advance(13_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
    world.input(From::Host, Input::ChatFrame("are you there?".into()));
    assert!(world.host.view.chat.is_empty(), "never shown before it can be checked");
    // The relay lets the guest's confirmation through after all (change 56).
    let confirm = world.guest.ctl.session().confirm().expect("a transcript");
    world.inject(From::Host, Signal::Confirm(confirm));
    assert_eq!(world.host.warning(), None);
    assert!(world.host.shield().eq(&ShieldState::Unlocked {
        reason: shieldcall_e2ee::session::UnlockedReason::YouTurnedOff
    }));
    assert!(world.host.view.chat.iter().any(|(_, text)| text == "are you there?"));
}
