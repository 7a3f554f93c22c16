//! The call going on through what breaks: a guest who reloads, a relay socket or the relay
//! itself going away, a handshake cut mid-way, and a media connection that fails (made again
//! after delays that grow, then start again from the shortest after a healthy while).

use shieldcall_call::controller::{ANSWER_WAIT_MS, CallStatus, Input, LinkState};
use shieldcall_e2ee::session::{ShieldState, WarningReason};
use shieldcall_protocol::{Direction, RelayEvent, Signal, Slot, TransformStats};

use crate::harness::{From, Settings, WorkerMode, World, dropping, is_confirm, joined};

const CODE_CHANGED: &str = "The security code changed: compare it again with the other person.";
const MEDIA_FAILED: &str = "The media connection failed; trying to connect again.";

/// A locked call that has been healthy for long enough that its retry schedule is fresh.
fn healthy_call() -> World {
    let mut world = World::call(Settings::default());
    world.advance(30_000);
    world.assert_locked();
    world
}

#[test]
fn a_guest_who_reloads_is_waited_for_then_the_call_locks_with_a_new_code() {
    let mut world = healthy_call();
    let old_code = world.host.code();
    world.guest_page_goes(true);
    assert_eq!(world.host.view.status, CallStatus::PeerLeft);
    assert_eq!(world.host.keys(), None, "the old keys went with the old worker");
    world.new_guest_page_joins();
    world.assert_locked();
    assert_ne!(world.host.code(), old_code);
    assert_eq!(world.host.view.status, CallStatus::Connected);
    assert_eq!(world.host.notices_with(CODE_CHANGED), 1);
}

#[test]
fn a_guest_who_reloads_before_ice_notices_is_recognised_by_the_new_key() {
    let mut world = healthy_call();
    let old_code = world.host.code();
    world.guest_page_goes(false);
    assert_eq!(world.host.view.status, CallStatus::Connected, "media may still flow: wait");
    world.new_guest_page_joins();
    assert!(world.host.ever_status(|s| *s == CallStatus::PeerLeft));
    world.assert_locked();
    assert_ne!(world.host.code(), old_code);
    assert_eq!(world.host.connects, 2);
    assert_eq!(world.host.notices_with(CODE_CHANGED), 1);
}

#[test]
fn a_peer_off_the_relay_while_media_flows_is_waited_for_and_the_call_goes_on() {
    let mut world = healthy_call();
    let code = world.host.code();
    let keys = world.host.keys();
    // The guest's relay socket goes; the media connection stays.
    world.guest.on_relay = false;
    world.relay_event(From::Host, RelayEvent::PeerLeft);
    world.settle();
    world.advance(5_000);
    assert_eq!(world.host.view.status, CallStatus::Connected);
    world.assert_locked();
    // It comes back: the same person, the same key.
    world.guest.on_relay = true;
    world.relay_event(From::Guest, joined(1));
    world.relay_event(From::Host, RelayEvent::PeerJoined);
    world.settle();
    world.advance(5_000);
    world.assert_locked();
    assert_eq!(world.host.code(), code);
    assert_eq!(world.host.keys(), keys);
    assert_eq!(world.host.connects, 1, "no new connection");
    assert!(!world.host.ever_status(|s| *s == CallStatus::PeerLeft));
    assert!(world.host.view.notices.is_empty());
}

#[test]
fn a_relay_restart_keeps_the_call_its_code_and_its_connection() {
    let mut world = healthy_call();
    let code = world.host.code();
    world.relay_event(From::Host, joined(1));
    world.relay_event(From::Guest, joined(1));
    world.settle();
    world.advance(20_000);
    world.assert_locked();
    assert_eq!(world.host.code(), code);
    assert_eq!((world.host.connects, world.guest.connects), (1, 1));
    assert_eq!(world.host.worker.starts, 1);
    assert_eq!(world.host.view.status, CallStatus::Connected);
}

#[test]
fn a_lost_answer_is_made_up_for_by_a_new_connection_after_a_delay() {
    let mut world = World::new(Settings::default());
    let mut dropped = false;
    world.relay = dropping(move |_, s| {
        let drop = !dropped && matches!(s, Signal::Answer { .. });
        dropped |= drop;
        drop
    });
    world.join();
    // The guest's confirmation, sent before its answer, locked both; nothing else waits for
    // the answer, so its own deadline makes the connection again.
    world.assert_locked();
    assert_eq!(world.host.view.status, CallStatus::Connecting);
    world.advance(ANSWER_WAIT_MS - 1_000);
    assert_eq!(world.host.connects, 1, "not before the deadline");
    world.advance(6_000);
    world.assert_locked();
    assert_eq!(world.host.connects, 2);
    assert!(!world.host.retries_shown().is_empty(), "the host said when it tries again");
    assert_eq!(world.host.view.status, CallStatus::Connected);
    assert_eq!(world.host.warned_in_call(), None);
}

#[test]
fn lost_confirmations_are_said_again_and_the_call_locks() {
    let mut world = World::new(Settings::default());
    let mut dropped = 0;
    world.relay = dropping(move |_, s| {
        let drop = dropped < 2 && is_confirm(s);
        dropped += u32::from(drop);
        drop
    });
    world.join();
    assert!(!world.host.locked() && !world.guest.locked());
    world.advance(10_000);
    world.assert_locked();
    assert_eq!(world.host.warned_in_call(), None);
    assert_eq!(world.guest.warned_in_call(), None);
}

#[test]
fn failed_media_is_said_and_made_again_after_one_second_with_new_keys_and_code() {
    let mut world = healthy_call();
    let (old_code, old_keys) = (world.host.code(), world.host.keys());
    let old_certificate = world.guest.link.as_ref().unwrap().local.clone();
    assert_eq!(world.guest.certificates_made, 2, "the next connection's is made ahead");
    world.media_drops(LinkState::Failed);
    world.settle();
    assert_eq!(world.host.notices_with(MEDIA_FAILED), 1);
    assert_eq!(world.guest.notices_with(MEDIA_FAILED), 1);
    assert_eq!(world.host.view.status, CallStatus::Retrying { in_secs: 1, attempt: 1 });
    assert_eq!(world.host.connects, 1);
    world.advance(1_000);
    assert_eq!(world.host.connects, 2);
    world.assert_locked();
    assert_ne!(world.host.code(), old_code);
    assert_ne!(world.host.keys(), old_keys);
    assert_eq!(world.host.notices_with(CODE_CHANGED), 1);
    assert_eq!(world.guest.notices_with(CODE_CHANGED), 1);
    assert_eq!(world.host.view.status, CallStatus::Connected);
    // The guest's new connection took the certificate made ahead, not the old one.
    assert_ne!(world.guest.link.as_ref().unwrap().local, old_certificate);
    assert_eq!(world.guest.certificates_made, 2);
    world.advance(1_000);
    assert_eq!(world.guest.certificates_made, 3, "the next one on the clock's next tick");
}

#[test]
fn connections_that_keep_failing_are_retried_after_1_2_then_4_seconds() {
    let mut world = healthy_call();
    let mut seen = Vec::new();
    for _ in 0..3 {
        world.media_drops(LinkState::Failed);
        world.settle();
        seen.push(world.host.view.status.clone());
        let delay = world.host.retry_at.expect("a retry is armed") - world.now;
        world.advance(delay);
        world.assert_locked();
        // Healthy for a while, not long enough to count as stable.
        world.advance(6_000);
    }
    assert_eq!(
        seen,
        [
            CallStatus::Retrying { in_secs: 1, attempt: 1 },
            CallStatus::Retrying { in_secs: 2, attempt: 2 },
            CallStatus::Retrying { in_secs: 4, attempt: 3 },
        ]
    );
    assert_eq!(world.host.connects, 4);
}

#[test]
fn the_retry_countdown_is_shown_second_by_second() {
    let mut world = healthy_call();
    for _ in 0..3 {
        world.fail_and_reconnect();
    }
    world.media_drops(LinkState::Failed);
    world.settle();
    assert_eq!(world.host.view.status, CallStatus::Retrying { in_secs: 8, attempt: 4 });
    world.advance(3_000);
    assert_eq!(world.host.view.status, CallStatus::Retrying { in_secs: 5, attempt: 4 });
}

#[test]
fn ice_that_never_connects_is_retried_with_growing_delays_and_never_shows_connected() {
    let mut world = World::new(Settings::default());
    world.network_up = false;
    world.join();
    world.advance(90_000);
    assert!(!world.host.ever_status(|s| *s == CallStatus::Connected));
    assert!(!world.host.connected());
    let times = &world.host.connect_times;
    assert!((4..=9).contains(&times.len()), "{times:?}");
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[0] <= g[1]), "delays never shrink: {gaps:?}");
    assert!(gaps.last().unwrap() > gaps.first().unwrap(), "delays grow: {gaps:?}");
    assert!(world.host.notices_with(MEDIA_FAILED) >= 1);
}

#[test]
fn when_the_network_comes_back_the_call_connects() {
    let mut world = World::new(Settings::default());
    world.network_up = false;
    world.join();
    world.advance(20_000);
    world.network_up = true;
    world.advance(40_000);
    world.assert_locked();
    assert!(world.host.connected() && world.guest.connected());
    assert_eq!(world.host.view.status, CallStatus::Connected);
    assert_eq!(world.guest.view.status, CallStatus::Connected);
}

#[test]
fn after_twenty_healthy_seconds_the_retry_schedule_starts_again() {
    let mut world = healthy_call();
    for _ in 0..3 {
        world.fail_and_reconnect();
    }
    // Healthy for more than 20 s: the next failure is a first one again.
    world.advance(21_000);
    world.media_drops(LinkState::Failed);
    world.settle();
    assert_eq!(world.host.view.status, CallStatus::Retrying { in_secs: 1, attempt: 1 });
}

#[test]
fn a_retry_that_comes_due_after_the_connection_recovered_does_nothing() {
    let mut world = healthy_call();
    let code = world.host.code();
    world.media_drops(LinkState::Failed);
    world.settle();
    assert!(world.host.retry_at.is_some());
    // ICE recovers on its own before the attempt is due.
    world.media_drops(LinkState::Connected);
    world.settle();
    world.advance(3_000);
    assert_eq!(world.host.connects, 1, "no new connection");
    assert_eq!(world.host.worker.starts, 1, "no new worker");
    assert_eq!(world.host.code(), code);
    assert_eq!(world.host.view.status, CallStatus::Connected);
    world.assert_locked();
}

#[test]
fn each_new_connection_gets_a_fresh_worker_that_never_holds_the_old_keys() {
    let mut world = healthy_call();
    let old = world.host.keys().unwrap();
    let old_guest = world.guest.keys().unwrap();
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(1_000);
    assert_eq!(world.host.worker.starts, 2);
    assert_eq!(world.guest.worker.starts, 2);
    world.assert_locked();
    let new = world.host.keys().unwrap();
    assert_ne!(new.0, old.0);
    assert_ne!(new.1, old.1);
    assert_ne!(world.guest.keys().unwrap().0, old_guest.0);
    assert_eq!(world.host.worker.keyings, 2);
}

#[test]
fn a_new_workers_keys_wait_for_the_new_confirmation() {
    let mut world = healthy_call();
    // The guest's confirmations of the new connection are held back.
    world.relay = dropping(|from, s| from == From::Guest && is_confirm(s));
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(1_000);
    assert_eq!(world.host.worker.starts, 2);
    assert_eq!(world.host.worker.mode, WorkerMode::AwaitKeys);
    assert_eq!(world.host.shield(), ShieldState::Connecting);
}

#[test]
fn a_peer_who_leaves_for_good_leaves_the_host_waiting_without_keys() {
    let mut world = healthy_call();
    world.guest_page_goes(true);
    world.advance(60_000);
    assert_eq!(world.host.view.status, CallStatus::PeerLeft);
    assert_eq!(world.host.shield(), ShieldState::Connecting);
    assert_eq!(world.host.keys(), None);
    assert_eq!(world.host.connects, 1, "nobody to connect to");
    assert_eq!(world.host.warning(), None, "nobody to time out");
}

#[test]
fn a_guest_reload_hidden_by_the_hosts_own_relay_drop_is_recognised_by_the_new_key() {
    let mut world = healthy_call();
    let old_code = world.host.code();
    // The host's relay socket drops; meanwhile the guest reloads. The host hears nothing of it,
    // only its browser sees the connection fail.
    world.host.on_relay = false;
    world.guest.on_relay = false;
    world.guest.link = None;
    world.media_drops(LinkState::Failed);
    world.settle();
    world.new_guest_page();
    world.guest.on_relay = true;
    world.relay_event(From::Guest, joined(1));
    world.settle();
    // The host's socket comes back; the relay kept its place.
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(1));
    world.settle();
    world.advance(10_000);
    world.assert_locked();
    assert_ne!(world.host.code(), old_code);
    assert_eq!(world.host.notices_with(CODE_CHANGED), 1);
    assert_eq!(world.host.view.status, CallStatus::Connected);
}

#[test]
fn a_guest_gone_while_the_hosts_relay_dropped_is_waited_for_and_a_new_page_locks_again() {
    // As above, but the host's socket comes back to an empty room: the guest's page went
    // (its `peer-left` lost with the host's socket), and a new page of theirs joins later.
    for media in [LinkState::Failed, LinkState::Connected] {
        let mut world = healthy_call();
        let old_code = world.host.code();
        world.host.on_relay = false;
        world.guest.on_relay = false;
        world.guest.link = None;
        if media == LinkState::Failed {
            world.media_drops(LinkState::Failed);
        }
        world.settle();
        world.host.on_relay = true;
        world.relay_event(From::Host, joined(0));
        world.settle();
        world.advance(15_000);
        assert_eq!(world.host.warning(), None, "nobody to time out: {:?}", world.host.view);
        // The guest's new page (a new key) joins: a fresh agreement, locked, a new code.
        world.new_guest_page_joins();
        world.advance(10_000);
        world.assert_locked();
        assert_ne!(world.host.code(), old_code);
        assert!(!world.host.ever_shown(|s| matches!(s, ShieldState::Warning { .. })));
    }
}

#[test]
fn a_retry_pending_for_a_guest_who_left_does_not_cut_the_next_guests_connection() {
    let mut world = healthy_call();
    world.media_drops(LinkState::Failed);
    world.settle();
    assert!(world.host.retry_at.is_some());
    world.guest_page_goes(false);
    assert_eq!(world.host.view.status, CallStatus::PeerLeft);
    world.new_guest_page_joins();
    world.assert_locked();
    let connects = world.host.connects;
    world.advance(10_000);
    world.assert_locked();
    assert_eq!(world.host.connects, connects, "the old attempt made no new connection");
}

#[test]
fn a_failure_only_the_hosts_browser_sees_is_retried_by_the_host() {
    let mut world = healthy_call();
    let generation = world.host.generation();
    world.host.link.as_mut().unwrap().state = LinkState::Failed;
    world.input(From::Host, Input::LinkState { generation, state: LinkState::Failed });
    assert_eq!(world.host.notices_with(MEDIA_FAILED), 1);
    // The guest's browser still shows its side connected (it notices only much later).
    world.advance(10_000);
    assert_eq!(world.host.connects, 2, "the host made the connection again");
    world.assert_locked();
    assert_eq!(world.host.view.status, CallStatus::Connected);
}

/// The guest's network goes for `ms`: its relay socket falls silent (before the relay notices)
/// and the media connection fails; then it comes back, on the same page with the same key.
fn guest_offline_for(world: &mut World, ms: u64) {
    world.guest.on_relay = false;
    world.network_up = false;
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(ms);
    world.network_up = true;
    world.guest.on_relay = true;
    world.relay_event(From::Guest, joined(1));
    world.settle();
}

#[test]
fn a_network_outage_longer_than_the_confirmation_wait_turns_red_then_locks_again() {
    let mut world = healthy_call();
    let code = world.host.code();
    guest_offline_for(&mut world, 20_000);
    // While the guest was away, the host's new connection waited for its confirmation in vain.
    assert!(
        world.host.ever_shown(
            |s| *s == ShieldState::Warning { reason: WarningReason::ConfirmationTimeout }
        )
    );
    // Back: a new connection, confirmed, locks both again with new keys (change 56).
    world.advance(30_000);
    world.assert_locked();
    assert_ne!(world.host.code(), code, "a new agreement");
    assert!(world.host.connected() && world.guest.connected());
    assert_eq!(world.host.view.status, CallStatus::Connected);
    assert_eq!(world.host.warned_in_call(), None, "nothing was seen to tamper");
    // What the guest sent while the host was still red (its media state, once locked) was
    // kept, not dropped, and shown once the host locked.
    assert!(world.host.view.remote_media.is_some(), "{:?}", world.host.view.remote_media);
    world.say(From::Guest, "back");
    assert!(world.host.view.chat.iter().any(|(_, text)| text == "back"));
}

#[test]
fn a_side_that_saw_evidence_turns_the_other_red_when_a_new_connection_is_made() {
    let mut world = healthy_call();
    // The guest's media keeps failing to decrypt: red for good there.
    let mut video = TransformStats::new(Slot::Camera, Direction::Receive);
    for _ in 0..5 {
        video.dropped_bad_tag += 30;
        world.stats(From::Guest, video.clone());
        world.advance(1_000);
    }
    assert_eq!(world.guest.warning(), Some(WarningReason::DecryptFailures));
    // An outage: the host, which saw only a timeout, makes a new connection once the guest is
    // back; the guest never confirms again, so the host turns red too, never locked.
    guest_offline_for(&mut world, 20_000);
    let locks = world.host.view.shields.len();
    world.advance(60_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!(world.guest.warning(), Some(WarningReason::DecryptFailures));
    assert!(
        !world.host.view.shields[locks..]
            .iter()
            .any(|s| matches!(s.state, ShieldState::Locked { .. })),
        "{:?}",
        world.host.view.shields
    );
}
