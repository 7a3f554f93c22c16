//! A hostile relay (and a tampered link): whatever it changes, adds, drops or replays, no
//! shield locks on keys the two people do not share, and what was detected turns red.

use shieldcall_call::controller::{CallStatus, Input, LinkState, MAX_WAITING_CANDIDATES};
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::LinkSecret;
use shieldcall_e2ee::session::{ShieldState, WarningReason};
use shieldcall_protocol::{Confirm, Hello, PROTOCOL_VERSION, RelayEvent, Signal};

use crate::harness::{
    From, Settings, WorkerMode, World, candidate, dropping, is_confirm, is_hello, joined,
    other_key, rewriting, sdp, with_other_key,
};

fn never_locked(world: &World) -> bool {
    ![&world.host, &world.guest]
        .iter()
        .any(|side| side.ever_shown(|s| matches!(s, ShieldState::Locked { .. })))
}

fn no_keys_ever(world: &World) -> bool {
    world.host.worker.keyings == 0 && world.guest.worker.keyings == 0
}

/// Adds a second certificate's fingerprint to every description that passes.
fn extra_fingerprint(sdp: String) -> String {
    let extra = vec!["EE"; 32].join(":");
    format!("{sdp}a=fingerprint:sha-256 {extra}\r\n")
}

#[test]
fn swapped_hello_keys_turn_both_shields_red_and_no_worker_gets_keys() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| if is_hello(&s) { with_other_key(s) } else { s });
    world.join();
    assert_eq!(world.guest.warning(), Some(WarningReason::CommitmentMismatch));
    assert!(world.host.warning().is_some(), "host: {:?}", world.host.view);
    assert!(never_locked(&world));
    assert!(no_keys_ever(&world));
}

#[test]
fn a_swapped_host_key_gives_the_two_people_different_codes() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|from, s| match from {
        From::Host if is_hello(&s) => with_other_key(s),
        _ => s,
    });
    world.join();
    assert_eq!(world.guest.warning(), Some(WarningReason::CommitmentMismatch));
    assert!(world.host.code().is_some() && world.guest.code().is_some());
    assert_ne!(world.host.code(), world.guest.code(), "comparing the codes shows the attack");
    assert!(no_keys_ever(&world));
}

#[test]
fn a_flipped_e2ee_flag_is_a_downgrade_that_turns_both_red_and_never_unlocks() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| match s {
        Signal::Hello(Hello { v, public_key, .. }) => {
            Signal::Hello(Hello { v, e2ee: false, public_key })
        }
        other => other,
    });
    world.join();
    world.advance(3_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationMismatch));
    for side in [&world.host, &world.guest] {
        assert!(!side.ever_shown(|s| matches!(s, ShieldState::Unlocked { .. })), "{:?}", side.view);
        assert_ne!(side.worker.mode, WorkerMode::TransportOnly, "no frame passes unprotected");
    }
    assert!(no_keys_ever(&world));
}

#[test]
fn dropped_confirmations_end_in_a_timeout_not_endless_connecting() {
    let mut world = World::new(Settings::default());
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    world.advance(11_000);
    assert_eq!(world.host.shield(), ShieldState::Connecting, "not red before the time is up");
    world.advance(2_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationTimeout));
    assert!(no_keys_ever(&world));
}

#[test]
fn confirmations_dropped_one_way_turn_the_side_left_waiting_red() {
    let mut world = World::new(Settings::default());
    world.relay = dropping(|from, s| from == From::Host && is_confirm(s));
    world.join();
    assert!(world.host.locked(), "the host got the guest's confirmation: {:?}", world.host.view);
    world.advance(13_000);
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationTimeout));
    assert!(!world.guest.ever_shown(|s| matches!(s, ShieldState::Locked { .. })));
}

/// The relay tells the guest `joined` every 4 s on the socket it has, for 16 s: past the 12 s
/// wait for a confirmation, the guest is red all the same.
fn joined_again_and_again_until_red(world: &mut World) {
    for _ in 0..4 {
        world.advance(4_000);
        world.relay_event_on_socket(From::Guest, joined(1));
        world.settle();
    }
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationTimeout));
}

#[test]
fn a_joined_on_the_same_socket_does_not_restart_the_wait_for_a_confirmation() {
    // A relay that keeps the host's confirmation from the guest and, to keep the guest from
    // ever turning red, tells it `joined` again every few seconds on the socket it has.
    let mut world = World::new(Settings::default());
    world.relay = dropping(|from, s| from == From::Host && is_confirm(s));
    world.join();
    joined_again_and_again_until_red(&mut world);
    assert!(world.guest.view.logs.iter().any(|l| l.contains("an answer to no join sent")));
}

#[test]
fn a_socket_that_closes_before_its_joined_leaves_no_answer_to_forge() {
    // Two sockets open (the first closed before the relay answered), one `joined` comes: a
    // second `joined` on the live socket is still one too many.
    let mut world = World::new(Settings::default());
    world.relay = dropping(|from, s| from == From::Host && is_confirm(s));
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(0));
    world.settle();
    world.guest.on_relay = true;
    world.input(From::Guest, Input::RelayOpen);
    world.input(From::Guest, Input::RelayOpen);
    world.relay_event_on_socket(From::Guest, joined(1));
    world.relay_event(From::Host, RelayEvent::PeerJoined);
    world.settle();
    joined_again_and_again_until_red(&mut world);
}

#[test]
fn a_joined_taken_while_the_worker_starts_is_the_answer_to_its_join() {
    // Both workers start late: the relay's answers come first, and count as answers.
    let mut world = World::new(Settings::default());
    for who in [From::Host, From::Guest] {
        world.side(who).pending.retain(|input| !matches!(input, Input::WorkerStarted));
    }
    world.join();
    for who in [From::Host, From::Guest] {
        world.side(who).pending.push_back(Input::WorkerStarted);
    }
    world.settle();
    world.assert_locked();
    for side in [&world.host, &world.guest] {
        assert!(!side.view.logs.iter().any(|l| l.contains("an answer to no join sent")));
    }
}

#[test]
fn the_relay_alone_cannot_park_transfer_move_or_end_an_encrypted_call() {
    use shieldcall_call::controller::PEER_HANDOVER_UNANNOUNCED;
    let forged = [
        RelayEvent::PeerTransferred { name: "Mallory".into() },
        RelayEvent::PeerParked { ttl: 300 },
        RelayEvent::Moved,
        RelayEvent::ParkEnded,
        RelayEvent::Full,
        // Answers to a join alone (a move link's refused, a full group's), never news.
        RelayEvent::MoveRefused { reason: shieldcall_protocol::MoveRefusal::Used },
        // (Standing for `group-full`, which reaches the controller as the group layer routes it.)
        RelayEvent::Error { reason: "group-full".into(), request: None },
    ];
    for event in forged {
        let mut world = World::call(Settings::default());
        world.assert_locked();
        let code = world.guest.code();
        match event {
            RelayEvent::Error { .. } => world.input(From::Guest, Input::GroupFull),
            _ => world.relay_event_on_socket(From::Guest, event.clone()),
        }
        world.settle();
        world.advance(30_000);
        world.assert_locked();
        assert_eq!(world.guest.code(), code, "{event:?}: the same agreement");
        assert_eq!(world.guest.connects, 1, "{event:?}: the connection was never dropped");
        assert_eq!(world.guest.view.ended, None, "{event:?}");
        assert_eq!(world.guest.notices_with("Mallory"), 0, "{event:?}");
        assert!(world.guest.connected(), "{event:?}");
        let expect_notice =
            matches!(event, RelayEvent::PeerTransferred { .. } | RelayEvent::PeerParked { .. });
        assert_eq!(world.guest.notices_with(PEER_HANDOVER_UNANNOUNCED), usize::from(expect_notice));
    }
}

/// Hang-ups the relay can make up: none signed, a MAC of garbage, the side's own reflected.
fn forged_byes(world: &World, to: From) -> Vec<Signal> {
    let own = match to {
        From::Host => world.host.ctl.session().hang_up(),
        From::Guest => world.guest.ctl.session().hang_up(),
    };
    assert!(own.is_some(), "a confirmed call has a transcript to sign");
    let own = own.map(|mac| mac.to_base64url());
    let (short, not_base64) = (Some("A".repeat(42)), Some("*".repeat(43)));
    [None, Some("A".repeat(43)), short, not_base64, Some(String::new()), own]
        .into_iter()
        .map(|mac| Signal::Bye { mac })
        .collect()
}

#[test]
fn a_hang_up_the_other_person_did_not_sign_does_not_end_a_call_whose_media_flows() {
    for host_e2ee in [true, false] {
        for to in [From::Host, From::Guest] {
            let mut world = World::call(Settings { host_e2ee, ..Settings::default() });
            let (shield, code) = (world.side(to).shield(), world.side(to).code());
            for bye in forged_byes(&world, to) {
                world.inject(to, bye.clone());
                world.advance(10_000);
                let side = world.side(to);
                assert_eq!(side.view.ended, None, "{bye:?}");
                assert!(side.connected(), "{bye:?}: the connection was never dropped");
                assert_eq!(side.connects, 1, "{bye:?}");
                assert_eq!((side.shield(), side.code()), (shield, code), "{bye:?}");
                assert!(side.view.logs.iter().any(|l| l.contains("did not sign")));
            }
            if host_e2ee {
                world.assert_locked();
            }
            // Media still flows, and chat too.
            world.say(to.other(), "still here");
            assert!(world.side(to).view.chat.iter().any(|(_, text)| text == "still here"));
            // The other person's own hang-up still ends it.
            world.input(to.other(), Input::HangUp);
            let why = "The other person hung up.".to_string();
            assert_eq!(world.side(to).view.status, CallStatus::Ended(why));
        }
    }
}

#[test]
fn a_hang_up_the_relay_drops_still_reaches_a_locked_call_on_the_media_connection() {
    let mut world = World::new(Settings::default());
    world.relay = dropping(|_, s| matches!(s, Signal::Bye { .. }));
    world.join();
    world.assert_locked();
    world.input(From::Guest, Input::HangUp);
    let why = "The other person hung up.".to_string();
    assert_eq!(world.host.view.status, CallStatus::Ended(why));
    let kinds: Vec<u8> = world.guest.binary_sent.iter().map(|m| m[0]).collect();
    assert!(kinds.contains(&shieldcall_protocol::HANG_UP_KIND), "{kinds:?}");
}

#[test]
fn a_hang_up_the_relay_drops_still_reaches_a_confirmed_transport_only_call() {
    for (host_e2ee, guest_e2ee) in [(false, true), (true, false), (false, false)] {
        for who in [From::Host, From::Guest] {
            let mut world = World::new(Settings { host_e2ee, guest_e2ee, ..Settings::default() });
            world.relay = dropping(|_, s| matches!(s, Signal::Bye { .. }));
            world.join();
            let other = world.side(who.other());
            assert!(matches!(other.shield(), ShieldState::Unlocked { .. }), "{:?}", other.view);
            world.input(who, Input::HangUp);
            let why = "The other person hung up.".to_string();
            assert_eq!(world.side(who.other()).view.status, CallStatus::Ended(why));
            let kinds: Vec<u8> = world.side(who).binary_sent.iter().map(|m| m[0]).collect();
            assert!(kinds.contains(&shieldcall_protocol::HANG_UP_KIND), "{kinds:?}");
        }
    }
}

#[test]
fn a_transport_only_hang_up_on_the_media_connection_that_does_not_verify_is_dropped() {
    use shieldcall_protocol::hang_up_message;
    let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    let own = world.host.ctl.session().hang_up().unwrap().0;
    let mut short = hang_up_message(&[7; 32]);
    short.pop();
    for message in [hang_up_message(&[7; 32]), hang_up_message(&own), short] {
        world.input(From::Host, Input::ChatBinary(message));
        assert_eq!(world.host.view.ended, None);
        assert!(world.host.connected());
    }
    assert!(world.host.view.logs.iter().any(|l| l.contains("does not verify")));
}

#[test]
fn a_hang_up_before_the_call_is_confirmed_goes_through_the_relay_alone() {
    for host_e2ee in [true, false] {
        let mut world = World::new(Settings { host_e2ee, ..Settings::default() });
        world.relay = dropping(|_, s| matches!(s, Signal::Confirm(_)));
        world.join();
        assert!(world.guest.link.as_ref().is_some_and(|l| l.channel_open));
        assert!(!world.guest.ctl.session().confirmed());
        world.input(From::Guest, Input::HangUp);
        let kinds: Vec<u8> = world.guest.binary_sent.iter().map(|m| m[0]).collect();
        assert!(!kinds.contains(&shieldcall_protocol::HANG_UP_KIND), "{kinds:?}");
        // Before any confirmation the relay's `bye` counts.
        let why = "The other person hung up.".to_string();
        assert_eq!(world.host.view.status, CallStatus::Ended(why));
    }
}

#[test]
fn a_hang_up_on_the_media_connection_that_does_not_verify_is_dropped() {
    use shieldcall_protocol::hang_up_message;
    let mut world = World::call(Settings::default());
    let own = world.host.ctl.session().hang_up().unwrap().0;
    let mut short = hang_up_message(&[7; 32]);
    short.pop();
    for message in [hang_up_message(&[7; 32]), hang_up_message(&own), short] {
        world.input(From::Host, Input::ChatBinary(message));
        world.assert_locked();
        assert_eq!(world.host.view.ended, None);
    }
    assert!(world.host.view.logs.iter().any(|l| l.contains("does not verify")));
}

#[test]
fn an_unsigned_hang_up_then_a_lost_connection_is_the_other_person_gone() {
    let mut world = World::call(Settings::default());
    world.inject(From::Host, Signal::Bye { mac: None });
    world.media_drops(LinkState::Disconnected);
    world.settle();
    assert_eq!(world.host.view.status, CallStatus::PeerLeft, "waits for the guest to return");
    assert_eq!(world.host.view.ended, None);
}

#[test]
fn a_hang_up_of_an_earlier_guest_does_not_end_the_next_ones_call() {
    let mut world = World::call(Settings::default());
    let earlier = world.guest.ctl.session().hang_up();
    world.guest_reloads();
    world.settle();
    world.advance(5_000);
    world.assert_locked();
    assert_ne!(world.guest.ctl.session().hang_up(), earlier, "a new key, a new signature");
    world.inject(From::Host, Signal::Bye { mac: earlier.map(|mac| mac.to_base64url()) });
    world.advance(5_000);
    assert_eq!(world.host.view.ended, None);
    world.assert_locked();
    let current = world.guest.ctl.session().hang_up();
    world.inject(From::Host, Signal::Bye { mac: current.map(|mac| mac.to_base64url()) });
    assert!(world.host.view.ended.is_some(), "this guest's own hang-up");
}

#[test]
fn a_forged_offer_then_an_unsigned_hang_up_does_not_end_a_confirmed_call() {
    let mut world = World::call(Settings::default());
    // The offer makes the guest start a new connection, with no transcript for a moment.
    world.inject(From::Guest, Signal::Offer { sdp: sdp("EE") });
    world.inject(From::Guest, Signal::Bye { mac: None });
    world.advance(10_000);
    assert_eq!(world.guest.view.ended, None);
    assert!(world.guest.view.logs.iter().any(|l| l.contains("did not sign")));
}

#[test]
fn a_relay_that_turns_a_call_red_or_restarts_it_still_cannot_make_it_hang_up() {
    let hung_up = |world: &World, to: From| {
        let side = match to {
            From::Host => &world.host,
            From::Guest => &world.guest,
        };
        side.ever_status(|s| matches!(s, CallStatus::Ended(why) if why.contains("hung up")))
    };
    // A forged confirmation turns the host red (evidence); then an unsigned hang-up.
    let mut world = World::call(Settings::default());
    let forged = shieldcall_protocol::base64url::encode(&[7; 32]);
    world.inject(From::Host, Signal::Confirm(Confirm { mac: forged, fp: None }));
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    world.inject(From::Host, Signal::Bye { mac: None });
    assert!(!hung_up(&world, From::Host));
    // A forged peer-left while media flows, then a hello with another key (the session starts
    // afresh for "someone new"), then an unsigned hang-up.
    let mut world = World::call(Settings::default());
    world.relay_event_on_socket(From::Host, RelayEvent::PeerLeft);
    let hello = Hello { v: PROTOCOL_VERSION, e2ee: true, public_key: other_key() };
    world.inject(From::Host, Signal::Hello(hello));
    world.inject(From::Host, Signal::Bye { mac: None });
    assert!(!hung_up(&world, From::Host));
    // A transport-only call: a forged move of the other person, then an unsigned hang-up.
    let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    world.relay_event_on_socket(From::Guest, RelayEvent::PeerMoved);
    world.inject(From::Guest, Signal::Bye { mac: None });
    assert!(!hung_up(&world, From::Guest));
}

#[test]
fn a_hang_up_while_the_connection_is_made_again_still_says_so() {
    let mut world = World::call(Settings::default());
    world.media_drops(LinkState::Failed);
    world.settle();
    let delay = world.host.retry_at.expect("a retry") - world.now;
    world.relay = dropping(|_, s| is_confirm(s));
    world.advance(delay);
    assert!(!world.host.locked(), "a new connection, not confirmed yet");
    world.input(From::Host, Input::HangUp);
    let why = "The other person hung up.".to_string();
    assert_eq!(world.guest.view.status, CallStatus::Ended(why));
}

#[test]
fn the_relay_alone_cannot_end_a_transport_only_call_as_moved_or_unparked() {
    for event in [RelayEvent::Moved, RelayEvent::ParkEnded, RelayEvent::Full] {
        let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
        world.relay_event_on_socket(From::Host, event.clone());
        world.settle();
        world.advance(10_000);
        assert_eq!(world.host.view.ended, None, "{event:?}");
        assert!(world.host.connected(), "{event:?}");
    }
}

#[test]
fn a_flood_of_candidates_before_the_connection_is_bounded_and_the_call_still_locks() {
    let mut world = World::new(Settings::default());
    for i in 0..10_000 {
        world.inject(From::Guest, candidate(&format!("flood{i}")).to_signal());
    }
    world.join();
    world.assert_locked();
    let added = world.guest.link.as_ref().expect("a connection").ice_added.len();
    assert!(added <= MAX_WAITING_CANDIDATES + 10, "{added} candidates given to the browser");
    assert!(world.guest.view.logs.iter().any(|l| l.contains("dropped")));
}

#[test]
fn an_extra_fingerprint_in_the_offer_is_refused() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| match s {
        Signal::Offer { sdp } => Signal::Offer { sdp: extra_fingerprint(sdp) },
        other => other,
    });
    world.join();
    assert_eq!(world.guest.warning(), Some(WarningReason::ExtraFingerprint));
    assert_eq!(world.guest.connects, 0, "an offer naming two certificates is not answered");
    assert!(never_locked(&world));
}

#[test]
fn an_extra_fingerprint_in_the_answer_is_refused() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| match s {
        Signal::Answer { sdp } => Signal::Answer { sdp: extra_fingerprint(sdp) },
        other => other,
    });
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::ExtraFingerprint));
    assert!(world.host.link.as_ref().is_some_and(|l| !l.applied), "never given to the browser");
    // Both had locked on the confirmations, sent before the answer (change 52); the host takes
    // its own back, so the guest turns red too, and neither worker keeps keys.
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!((world.host.keys(), world.guest.keys()), (None, None));
}

#[test]
fn a_rewritten_fingerprint_never_locks() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| match s {
        Signal::Offer { .. } => Signal::Offer { sdp: sdp("EE") },
        other => other,
    });
    world.join();
    world.advance(3_000);
    assert!(never_locked(&world));
    assert!(no_keys_ever(&world));
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationMismatch));
}

#[test]
fn a_certificate_other_than_the_bound_one_turns_the_shield_red() {
    let mut world = World::new(Settings::default());
    world.host.reported_certificate = Some(Some("EE".into()));
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::CertificateMismatch));
    assert_eq!(world.host.keys(), None, "the worker lost its keys");
}

#[test]
fn a_description_the_browser_read_otherwise_turns_the_shield_red() {
    // The page read one certificate in the answer; the browser, as it writes the answer back
    // once applied, names another (a parser's quirk): DTLS may end there. Chromium's
    // certificate statistics agree with the page here, so only the description tells.
    let mut world = World::new(Settings::default());
    world.host.reported_description = Some(Some("EE".into()));
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::CertificateMismatch));
    assert_eq!(world.host.keys(), None, "the worker lost its keys");
    // Likewise where the browser reports no certificate at all (Firefox).
    let mut world = World::new(Settings::default());
    world.guest.reported_certificate = Some(None);
    world.guest.reported_description = Some(Some("EE".into()));
    world.join();
    assert_eq!(world.guest.warning(), Some(WarningReason::CertificateMismatch));
    assert_eq!(world.guest.keys(), None, "the worker lost its keys");
    // And nobody is told beside the red shield that the setup names the one certificate.
    assert_eq!(world.guest.notices_with("does not report"), 0);
}

#[test]
fn a_candidate_that_is_not_one_plain_line_is_never_given_to_the_browser() {
    // It would become a line of the description the browser writes back (change 61), and
    // turn the shield red as a certificate the page cannot vouch for.
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| match s {
        Signal::Ice { candidate, sdp_mid, sdp_m_line_index } => Signal::Ice {
            candidate: candidate.replace(" typ ", "\ttyp "),
            sdp_mid,
            sdp_m_line_index,
        },
        other => other,
    });
    world.join();
    world.assert_locked();
    for side in [&world.host, &world.guest] {
        let added = side.link.as_ref().map(|l| l.ice_added.len());
        assert_eq!(added, Some(0), "none of the altered candidates reached the browser");
        let logged = side.view.logs.iter().filter(|l| l.contains("not one plain line")).count();
        assert!(logged >= 1, "said in the log");
    }
}

#[test]
fn a_tampered_link_commitment_is_a_commitment_mismatch() {
    let mut world = World::with_guest_link(Settings::default(), |rng, secret, _| {
        (secret, EphemeralSecret::generate(rng).public_key().commitment())
    });
    world.join();
    assert_eq!(world.guest.warning(), Some(WarningReason::CommitmentMismatch));
    assert_eq!(world.guest.worker.keyings, 0);
    assert!(!world.guest.ever_shown(|s| matches!(s, ShieldState::Locked { .. })));
}

#[test]
fn a_guest_holding_another_link_secret_gets_a_confirmation_mismatch() {
    let mut world = World::with_guest_link(Settings::default(), |rng, _, commitment| {
        (LinkSecret::generate(rng), commitment)
    });
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationMismatch));
    assert!(no_keys_ever(&world));
}

#[test]
fn a_confirmation_of_an_earlier_connection_in_place_of_the_new_one_never_locks_it() {
    let mut world = World::call(Settings::default());
    world.assert_locked();
    let old = world.guest.sent.iter().find(|(_, s)| is_confirm(s)).unwrap().1.clone();
    world.advance(30_000);
    // From now on the guest's confirmations are replaced by the old one.
    world.relay = Box::new(move |from, s| match from {
        From::Guest if is_confirm(&s) => vec![old.clone()],
        _ => vec![s],
    });
    let shown_before = world.host.view.shields.len();
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(16_000);
    assert!(world.host.connects >= 2, "a new connection was made");
    let relocked = world.host.view.shields[shown_before..]
        .iter()
        .any(|v| matches!(v.state, ShieldState::Locked { .. }));
    assert!(!relocked, "the host never locks on the new connection");
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
    assert_eq!(world.host.keys(), None);
}

#[test]
fn a_replayed_confirmation_beside_the_real_one_changes_nothing() {
    let mut world = World::call(Settings::default());
    let old = world.guest.sent.iter().find(|(_, s)| is_confirm(s)).unwrap().1.clone();
    world.advance(30_000);
    world.relay = Box::new(move |from, s| match from {
        From::Guest if is_confirm(&s) => vec![old.clone(), s],
        _ => vec![s],
    });
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(5_000);
    world.assert_locked();
    assert_eq!(world.host.warned_in_call(), None);
}

#[test]
fn a_malformed_confirmation_is_logged_and_changes_nothing() {
    let mut world = World::call(Settings::default());
    let code = world.host.code();
    world.inject(
        From::Host,
        Signal::Confirm(Confirm { mac: "not a confirmation".into(), fp: None }),
    );
    world.assert_locked();
    assert_eq!(world.host.code(), code);
    assert!(world.host.view.logs.iter().any(|l| l.contains("malformed key confirmation")));
    assert!(world.host.view.notices.is_empty());
}

#[test]
fn a_forged_confirmation_turns_a_locked_call_red() {
    let mut world = World::call(Settings::default());
    let Signal::Confirm(Confirm { mac, .. }) =
        world.guest.sent.iter().find(|(_, s)| is_confirm(s)).unwrap().1.clone()
    else {
        unreachable!()
    };
    // The same length, one character (six bits of the first byte) changed.
    let first = if mac.starts_with('A') { "B" } else { "A" };
    let forged = format!("{first}{}", &mac[1..]);
    world.inject(From::Host, Signal::Confirm(Confirm { mac: forged, fp: None }));
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!(world.host.keys(), None);
}

#[test]
fn an_offer_without_a_hello_is_not_answered() {
    let mut world = World::new(Settings::default());
    world.relay = dropping(|from, s| from == From::Host && is_hello(s));
    world.join();
    assert!(world.host.sent.iter().any(|(_, s)| matches!(s, Signal::Offer { .. })));
    assert_eq!(world.guest.connects, 0, "the guest waits for the host's hello");
    world.advance(13_000);
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationTimeout));
    assert_eq!(world.guest.connects, 0);
}

#[test]
fn an_offer_that_overtakes_the_hello_waits_for_it() {
    let mut world = World::new(Settings::default());
    let mut held: Option<Signal> = None;
    world.relay = Box::new(move |from, s| match (from, &s) {
        (From::Host, Signal::Hello(Hello { .. })) if held.is_none() => {
            held = Some(s);
            vec![]
        }
        (From::Host, Signal::Offer { .. }) => match held.take() {
            Some(hello) => vec![s, hello],
            None => vec![s],
        },
        _ => vec![s],
    });
    world.join();
    world.assert_locked();
    assert_eq!(world.guest.connects, 1);
}

#[test]
fn an_answer_nobody_waits_for_is_logged_and_ignored() {
    let mut world = World::call(Settings::default());
    let code = world.host.code();
    world.inject(From::Host, Signal::Answer { sdp: sdp("EE") });
    world.assert_locked();
    assert_eq!(world.host.code(), code);
    assert!(world.host.view.logs.iter().any(|l| l.contains("an answer nobody waits for")));
    assert_eq!(world.host.link.as_ref().unwrap().remote.as_deref(), Some("81"), "not applied");
}

#[test]
fn an_offer_sent_to_the_host_is_ignored() {
    let mut world = World::call(Settings::default());
    world.inject(From::Host, Signal::Offer { sdp: sdp("EE") });
    world.assert_locked();
    assert_eq!(world.host.connects, 1);
    assert!(world.host.view.notices.is_empty());
}

#[test]
fn a_second_hello_with_another_key_is_a_peer_key_change() {
    let mut world = World::call(Settings::default());
    world.inject(
        From::Host,
        Signal::Hello(Hello { v: PROTOCOL_VERSION, e2ee: true, public_key: other_key() }),
    );
    assert_eq!(world.host.warning(), Some(WarningReason::PeerKeyChanged));
    assert_eq!(world.host.keys(), None);
}

#[test]
fn a_hello_of_another_protocol_version_is_a_version_mismatch() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|from, s| match (from, s) {
        (From::Guest, Signal::Hello(Hello { e2ee, public_key, .. })) => {
            Signal::Hello(Hello { v: PROTOCOL_VERSION + 1, e2ee, public_key })
        }
        (_, s) => s,
    });
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::VersionMismatch));
    assert!(never_locked(&world));
    assert!(no_keys_ever(&world));
}

#[test]
fn a_warning_is_remembered_after_the_peer_leaves() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| if is_hello(&s) { with_other_key(s) } else { s });
    world.join();
    let reason = world.host.warning().expect("the host saw the attack");
    world.guest_page_goes(true);
    assert_eq!(world.host.view.status, CallStatus::PeerLeft);
    assert_eq!(world.host.warning(), None, "the warning was about the one who left");
    assert_eq!(world.host.warned_in_call(), Some(reason), "but the call remembers it");
}

#[test]
fn a_relay_that_announces_a_peer_and_sends_nothing_ends_in_a_timeout() {
    let mut world = World::new(Settings::default());
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(1));
    world.settle();
    world.advance(13_000);
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationTimeout));
    assert_eq!(world.host.connects, 0);
}

#[test]
fn a_downgrade_of_only_the_guests_hello_turns_both_red() {
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|from, s| match (from, s) {
        (From::Guest, Signal::Hello(Hello { v, public_key, .. })) => {
            Signal::Hello(Hello { v, e2ee: false, public_key })
        }
        (_, s) => s,
    });
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationMismatch));
    assert!(!world.host.ever_shown(|s| matches!(s, ShieldState::Unlocked { .. })));
    assert_ne!(world.host.worker.mode, WorkerMode::TransportOnly);
}

#[test]
fn a_hello_with_an_invalid_key_turns_a_locked_call_red_for_good() {
    // A hello must not change; one whose key is no P-256 point can only be forged (or a faulty
    // app): evidence, which no later confirmation lifts.
    let mut world = World::call(Settings::default());
    world.assert_locked();
    let public_key = "AAAA".to_string();
    world.inject(From::Host, Signal::Hello(Hello { v: PROTOCOL_VERSION, e2ee: true, public_key }));
    assert_eq!(world.host.warning(), Some(WarningReason::InvalidPeerKey));
    assert!(world.host.view.logs.iter().any(|l| l.contains("a hello with an invalid key")));
    world.advance(30_000);
    assert_eq!(world.host.warning(), Some(WarningReason::InvalidPeerKey));
    assert!(!world.host.locked());
}

#[test]
fn a_copy_of_the_offer_the_connection_answers_changes_nothing() {
    for (host_e2ee, guest_e2ee) in [(true, true), (false, true), (true, false)] {
        let mut world = World::call(Settings { host_e2ee, guest_e2ee, ..Settings::default() });
        world.advance(30_000);
        let (shield, code, keys) = (world.guest.shield(), world.guest.code(), world.guest.keys());
        let offer = world.host.sent.iter().find(|(_, s)| matches!(s, Signal::Offer { .. }));
        let offer = offer.unwrap().1.clone();
        world.inject(From::Guest, offer);
        world.advance(30_000);
        for side in [&world.host, &world.guest] {
            assert_eq!(side.warned_in_call(), None, "{:?}", side.view.shield);
            assert_eq!(side.connects, 1, "the connection was never made again");
        }
        assert_eq!(
            (world.guest.shield(), world.guest.code(), world.guest.keys()),
            (shield, code, keys)
        );
        assert!(world.guest.view.logs.iter().any(|l| l.contains("a copy of the offer")));
        world.say(From::Host, "still here");
        assert!(world.guest.view.chat.iter().any(|(_, text)| text == "still here"));
    }
}

#[test]
fn an_offer_of_an_earlier_connection_turns_the_call_red_and_never_locks_on_other_keys() {
    let mut world = World::call(Settings::default());
    let first = world.host.sent.iter().find(|(_, s)| matches!(s, Signal::Offer { .. }));
    let first = first.unwrap().1.clone();
    world.fail_and_reconnect();
    world.settle();
    world.advance(10_000);
    world.assert_locked();
    world.inject(From::Guest, first);
    world.advance(30_000);
    assert!(world.host.warning().is_some(), "{:?}", world.host.view.shield);
    assert!(world.guest.warning().is_some(), "{:?}", world.guest.view.shield);
    assert_eq!((world.host.keys(), world.guest.keys()), (None, None));
}

#[test]
fn a_confirmation_that_overtakes_the_answer_still_locks() {
    // A guest confirming after its answer (it could make no certificate ahead), the relay
    // swapping the two: the confirmation is kept until the answer completes the transcript.
    let mut world = World::new(Settings::default());
    world.guest.cannot_make_certificates();
    let mut held: Option<Signal> = None;
    world.relay = Box::new(move |from, s| match (from, &s) {
        (From::Guest, Signal::Answer { .. }) => {
            held = Some(s);
            vec![]
        }
        (From::Guest, Signal::Confirm(Confirm { .. })) => match held.take() {
            Some(answer) => vec![s, answer],
            None => vec![s],
        },
        _ => vec![s],
    });
    world.join();
    world.assert_locked();
    assert!(world.host.link.as_ref().is_some_and(|l| l.applied), "the answer went in");
}

#[test]
fn an_answer_whose_certificate_was_replaced_turns_both_red_and_is_never_applied() {
    // The guest confirmed with its own certificate before answering (change 52); a relay that
    // then puts another one in the answer, to end DTLS itself, is caught on both sides.
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| match s {
        Signal::Answer { .. } => Signal::Answer { sdp: sdp("EE") },
        other => other,
    });
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::BadFingerprint));
    assert!(world.host.link.as_ref().is_some_and(|l| !l.applied), "never given to the browser");
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!((world.host.keys(), world.guest.keys()), (None, None));
    world.advance(30_000);
    assert_eq!(world.host.warning(), Some(WarningReason::BadFingerprint), "final");
}

#[test]
fn a_certificate_rewritten_in_the_guests_confirmation_brings_no_lock_on_it() {
    // The MAC is not over the relay's certificate: the host waits for the answer, whose
    // certificate then completes the transcript the guest confirmed.
    let mut world = World::new(Settings::default());
    world.relay = rewriting(|_, s| match s {
        Signal::Confirm(Confirm { mac, fp: Some(_) }) => {
            let fp = Some(shieldcall_protocol::base64url::encode(&[0xEE; 32]));
            Signal::Confirm(Confirm { mac, fp })
        }
        other => other,
    });
    world.join();
    world.assert_locked();
    let host = &world.host.trace;
    let step = |name: &str| host.iter().position(|t| *t == name).expect(name);
    let (answer, lock) = (step("answer received"), step("shield locked"));
    assert!(answer < lock, "locked only once the answer was in: {host:?}");
}

#[test]
fn a_dropped_take_back_is_sent_again_when_the_guest_says_hello() {
    // The relay replaces the answer's certificate and drops the host's second confirmation
    // (its take-back): the guest stays locked on genuine keys, with no media, until its hello
    // makes the host say it again.
    let mut world = World::new(Settings::default());
    let mut host_confirms = 0;
    world.relay = Box::new(move |from, s| match (from, &s) {
        (From::Guest, Signal::Answer { .. }) => vec![Signal::Answer { sdp: sdp("EE") }],
        (From::Host, Signal::Confirm(_)) => {
            host_confirms += 1;
            if host_confirms == 2 { vec![] } else { vec![s] }
        }
        _ => vec![s],
    });
    world.join();
    assert_eq!(world.host.warning(), Some(WarningReason::BadFingerprint));
    assert!(world.guest.locked(), "the take-back was dropped");
    world.media_drops(LinkState::Failed);
    world.settle();
    assert_eq!(world.guest.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!((world.host.keys(), world.guest.keys()), (None, None));
}

#[test]
fn a_guest_browser_that_ignores_the_certificate_made_ahead_turns_both_red() {
    // Its answer names another certificate than the one it confirmed: it is not sent, and the
    // guest takes its confirmation back, so the host, locked on it, turns red too.
    let mut world = World::new(Settings::default());
    world.guest.ignores_certificates = true;
    world.join();
    assert_eq!(world.guest.warning(), Some(WarningReason::BadFingerprint));
    assert_eq!(world.host.warning(), Some(WarningReason::ConfirmationMismatch));
    assert_eq!(world.guest.sent_since(0, |s| matches!(s, Signal::Answer { .. })), 0);
    assert_eq!((world.host.keys(), world.guest.keys()), (None, None));
}
