//! Calls where nobody interferes: both shields lock on the same code, the workers hold
//! matching keys, and the status line walks through the call's stages.

use shieldcall_call::controller::{CallStatus, Input, LinkState};
use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::Signal;

use crate::harness::{From, Settings, WorkerMode, World, dropping, is_confirm, joined};

#[test]
fn both_lock_with_the_same_code_and_matching_keys() {
    let world = World::call(Settings::default());
    world.assert_locked();
    assert_eq!(world.host.view.status, CallStatus::Connected);
    assert_eq!(world.guest.view.status, CallStatus::Connected);
    assert_eq!(world.host.connects, 1);
    assert!(world.host.worker.codecs && world.guest.worker.codecs, "codecs told to both workers");
}

#[test]
fn two_separate_calls_have_different_codes_and_keys() {
    let first = World::call(Settings::default());
    let second = World::call(Settings::default());
    first.assert_locked();
    second.assert_locked();
    assert_ne!(first.host.code(), second.host.code(), "a new call, a new security code");
    assert_ne!(first.host.keys(), second.host.keys(), "a new call, new keys");
}

#[test]
fn the_status_goes_preparing_waiting_connecting_connected() {
    let world = World::call(Settings::default());
    let expected =
        [CallStatus::Preparing, CallStatus::Waiting, CallStatus::Connecting, CallStatus::Connected];
    assert_eq!(world.host.view.statuses, expected);
    assert_eq!(world.guest.view.statuses, expected);
}

#[test]
fn a_host_alone_waits_and_makes_no_connection() {
    let mut world = World::new(Settings::default());
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(0));
    world.settle();
    world.advance(30_000);
    assert_eq!(world.host.view.status, CallStatus::Waiting);
    assert_eq!(world.host.connects, 0);
    assert_eq!(world.host.shield(), ShieldState::Connecting, "nobody to agree with yet");
    assert!(world.host.view.notices.is_empty(), "{:?}", world.host.view.notices);
}

#[test]
fn the_guests_worker_gets_the_negotiated_codecs() {
    let world = World::call(Settings::default());
    assert!(world.guest.worker.codecs);
}

#[test]
fn workers_hold_no_keys_before_the_call_locks() {
    let mut world = World::new(Settings::default());
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(0));
    world.settle();
    assert_eq!(world.host.worker.mode, WorkerMode::AwaitKeys);
    assert_eq!(world.host.worker.keyings, 0);
}

#[test]
fn the_certificate_check_passes_in_an_honest_call() {
    let mut world = World::call(Settings::default());
    assert_eq!(world.host.certificate_checks, 1);
    assert_eq!(world.guest.certificate_checks, 1);
    world.advance(5_000);
    world.assert_locked();
    assert_eq!(world.host.warned_in_call(), None);
    assert_eq!(world.guest.warned_in_call(), None);
}

#[test]
fn a_browser_without_certificate_reports_is_told_once_and_still_locks() {
    let mut world = World::new(Settings::default());
    world.guest.reported_certificate = Some(None);
    world.join();
    world.assert_locked();
    assert_eq!(world.guest.notices_with("does not report the media connection's certificate"), 1);
    assert_eq!(world.host.notices_with("does not report"), 0, "the host's browser reports it");
    // A second connection checks again, but the person is not told twice.
    world.advance(30_000);
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(5_000);
    world.assert_locked();
    assert_eq!(world.guest.certificate_checks, 2);
    assert_eq!(world.guest.notices_with("does not report the media connection's certificate"), 1);
}

#[test]
fn a_browser_with_nothing_to_read_back_still_locks_and_is_told_what_is_skipped() {
    // Neither certificate statistics nor an applied description (not seen in any browser
    // here, once connected): nothing can be compared, so nothing turns red, and the person
    // hears what is not checked.
    let mut world = World::new(Settings::default());
    world.guest.reported_certificate = Some(None);
    world.guest.reported_description = Some(None);
    world.join();
    world.assert_locked();
    assert_eq!(world.guest.notices_with("does not report the media connection's certificate"), 1);
}

#[test]
fn every_honest_form_of_candidate_reaches_the_browser() {
    // What Chromium and Firefox trickle: IPv4, IPv6, an mDNS name, TCP, a relayed one, and the
    // empty end of candidates. Each is one plain line (change 61 drops any other).
    let mut world = World::call(Settings::default());
    let before = world.guest.link.as_ref().map_or(0, |l| l.ice_added.len());
    let honest = [
        "candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host generation 0 ufrag u",
        "candidate:2 1 udp 2122262783 2001:db8::7 50001 typ host generation 0 ufrag u",
        "candidate:3 1 udp 2122260223 0b3c1e51-5f8e-4f5a-9f3e-2d5c8b1a7e6f.local 50002 typ host",
        "candidate:4 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0",
        "candidate:5 1 udp 41885439 203.0.113.9 3478 typ relay raddr 0.0.0.0 rport 0",
        "",
    ];
    for line in honest {
        let ice = Signal::Ice {
            candidate: line.into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        };
        world.inject(From::Guest, ice);
    }
    world.settle();
    let added = world.guest.link.as_ref().map_or(0, |l| l.ice_added.len());
    assert_eq!(added - before, honest.len(), "every one given to the browser");
    world.assert_locked();
}

#[test]
fn an_honest_call_stays_locked_and_quiet_for_a_minute() {
    let mut world = World::call(Settings::default());
    let code = world.host.code();
    world.advance(60_000);
    world.assert_locked();
    assert_eq!(world.host.code(), code);
    assert_eq!(world.host.connects, 1);
    assert!(world.host.view.notices.is_empty() && world.guest.view.notices.is_empty());
    assert!(world.host.view.problems.is_empty());
}

/// The host's confirmation goes as it takes the answer's fingerprint, not once its browser has
/// applied the answer (tens of ms in Chromium): the guest's shield waits for it (PROTOCOL.md
/// change 49). The guest's own confirmation is held back here, so nothing else can prompt it.
#[test]
fn the_host_confirms_before_its_browser_has_applied_the_answer() {
    let mut world = World::new(Settings::default());
    world.relay = dropping(|from, s| from == From::Guest && is_confirm(s));
    world.join();
    let early = ["answer received", "confirmation sent", "both descriptions applied"];
    assert!(in_order(&world.host.trace, &early), "host: {:?}", world.host.trace);
    // Without the guest's proof the host does not lock; the guest, with the host's, does.
    assert_eq!(world.host.shield(), ShieldState::Connecting);
    assert!(matches!(world.guest.shield(), ShieldState::Locked { .. }));
}

/// Whether `steps` appear in `trace` in this order (others may come between).
fn in_order(trace: &[&str], steps: &[&str]) -> bool {
    let mut rest = trace.iter();
    steps.iter().all(|step| rest.any(|t| t == step))
}

#[test]
fn the_set_up_steps_are_named_in_the_order_they_happen() {
    let world = World::call(Settings::default());
    let (host, guest) = (&world.host.trace, &world.guest.trace);
    let host_steps = [
        "relay joined",
        "relay: peer joined",
        "hello sent",
        "hello received",
        "connect",
        "offer sent",
        // The guest confirms before it answers (change 52): the host locks on it.
        "confirmation received",
        "confirmation sent",
        "shield locked",
        "keys to the worker",
        "answer received",
        "connection connected",
        "remote certificate read",
    ];
    assert!(in_order(host, &host_steps), "host: {host:?}");
    let guest_steps = [
        // The guest's hello goes out right behind its join (PROTOCOL.md change 47).
        "relay: join sent",
        "hello sent",
        "relay joined",
        "hello received",
        "offer received",
        "confirmation sent",
        "connect",
        "confirmation received",
        "shield locked",
        "keys to the worker",
        "answer sent",
    ];
    assert!(in_order(guest, &guest_steps), "guest: {guest:?}");
    // Its certificate was made ahead, while it waited.
    assert!(in_order(guest, &["own certificate made", "offer received"]), "guest: {guest:?}");
    // Repeated events (ICE candidates, statistics, the clock) are not steps.
    for trace in [host, guest] {
        assert_eq!(trace.iter().filter(|t| **t == "shield locked").count(), 1, "{trace:?}");
        assert!(trace.len() < 25, "only the set-up's steps: {trace:?}");
    }
}

#[test]
fn a_guest_whose_worker_is_slow_says_hello_at_once_and_answers_once_it_runs() {
    let mut world = World::new(Settings::default());
    // The guest's worker has not started yet (its certificate is made: that needs no worker).
    world.guest.pending.retain(|input| !matches!(input, Input::WorkerStarted));
    world.join();
    let hellos = world.guest.sent_since(0, |s| matches!(s, Signal::Hello(_)));
    assert_eq!(hellos, 1, "the guest's hello does not wait for its worker");
    assert_eq!(world.host.connects, 1, "so the host offers at once");
    assert!(world.guest.link.is_none(), "the connection waits for the guest's worker");
    // Not the confirmation: with the certificate made ahead it needs no worker (change 52).
    assert_eq!(world.guest.sent_since(0, is_confirm), 1);
    assert!(world.host.locked() && world.guest.locked());
    assert_eq!((world.host.worker.keyings, world.guest.worker.keyings), (1, 0), "no worker yet");

    world.guest.pending.push_back(Input::WorkerStarted);
    world.settle();
    world.assert_locked();
    assert_eq!((world.host.connects, world.guest.connects), (1, 1));
    let guest_link = world.guest.link.as_ref().unwrap();
    assert_eq!(world.guest.certificates_made, 1, "the connection took the one confirmed");
    assert!(guest_link.applied);
    let expected = [CallStatus::Preparing, CallStatus::Connecting, CallStatus::Connected];
    assert_eq!(world.guest.view.statuses, expected, "no step back to waiting");
}

#[test]
fn a_host_whose_worker_is_slow_offers_once_it_runs() {
    let mut world = World::new(Settings::default());
    world.host.pending.clear();
    world.join();
    assert_eq!(world.host.connects, 0, "no connection without a worker");
    assert_eq!(world.host.sent_since(0, |s| matches!(s, Signal::Hello(_))), 1);
    assert!(!world.guest.locked());

    world.host.pending.push_back(Input::WorkerStarted);
    world.settle();
    world.assert_locked();
    assert_eq!((world.host.connects, world.guest.connects), (1, 1));
}

#[test]
fn the_guest_confirms_before_its_browser_takes_the_host_candidates() {
    // Where it confirms after its answer (no certificate made ahead): that confirmation still
    // goes before the candidates.
    let mut world = World::new(Settings::default());
    world.guest.cannot_make_certificates();
    world.join();
    world.assert_locked();
    let guest = &world.guest;
    let first_added = *guest.ice_added_after.first().expect("the host's candidates went in");
    let confirmed = guest.sent.iter().position(|(_, s)| is_confirm(s)).expect("a confirmation");
    // The host waits for that confirmation to lock; the candidates can wait for it.
    assert!(confirmed < first_added, "confirmation #{confirmed}, candidates after #{first_added}");
}

#[test]
fn a_guest_that_cannot_make_a_certificate_ahead_confirms_after_its_answer() {
    let mut world = World::new(Settings::default());
    world.guest.cannot_make_certificates();
    world.join();
    world.assert_locked();
    assert!(!world.guest.confirmed_before_answering(), "the answer first, as in version 2");
    assert_eq!(world.guest.certificates_made, 0);
}

#[test]
fn an_offer_waits_the_few_ms_the_certificate_takes_then_is_answered_with_it() {
    let mut world = World::new(Settings::default());
    // The browser has not made the certificate yet when the offer comes.
    let made = world.guest.pending.iter().position(|i| matches!(i, Input::Certificate { .. }));
    let made = world.guest.pending.remove(made.unwrap()).unwrap();
    world.join();
    assert_eq!(world.host.connects, 1);
    assert_eq!(world.guest.connects, 0, "the offer waits for the certificate");
    world.guest.pending.push_back(made);
    world.settle();
    world.assert_locked();
    assert!(world.guest.confirmed_before_answering());
}

#[test]
fn a_certificate_whose_fingerprint_does_not_parse_is_not_used() {
    let mut world = World::new(Settings::default());
    for input in world.guest.pending.iter_mut() {
        if let Input::Certificate { fingerprint } = input {
            *fingerprint = Some(("sha-256".into(), "not hex".into()));
        }
    }
    world.join();
    world.assert_locked();
    assert_eq!(world.guest.warned_in_call(), None, "its own browser's slip is no attack");
    assert!(!world.guest.confirmed_before_answering(), "the connection made its own: v2's order");
}

#[test]
fn an_offer_waits_for_a_certificate_that_never_comes_a_second_at_most() {
    let mut world = World::new(Settings::default());
    world.guest.pending.retain(|input| !matches!(input, Input::Certificate { .. }));
    world.join();
    assert_eq!(world.guest.connects, 0, "the offer waits for the certificate");
    world.advance(2_000);
    world.assert_locked();
    assert_eq!(world.guest.connects, 1);
    assert!(world.guest.view.logs.iter().any(|l| l.contains("no certificate came")));
    // None is asked for again, so a late one cannot stand in for another.
    world.media_drops(LinkState::Failed);
    world.advance(5_000);
    world.assert_locked();
    assert_eq!(world.guest.connects, 2);
    assert_eq!(world.guest.certificates_made, 1, "asked for once");
}
