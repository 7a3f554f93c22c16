//! How a call ends (hang-ups, a full call, a worker that cannot start, a browser that cannot
//! make the connection), and what an older connection or an ended call still reports: nothing
//! that changes what the person sees.

use shieldcall_call::controller::{CALL_FULL, CallStatus, Input, LinkState, WORKER_FAILED};
use shieldcall_e2ee::session::WarningReason;
use shieldcall_protocol::{PayloadTypes, RelayEvent, Signal};

use crate::harness::{From, Settings, World, candidate, sdp};

/// A locked call whose host has moved on to its second connection: the first one's generation.
fn call_on_second_connection() -> (World, u64) {
    let mut world = World::call(Settings::default());
    world.advance(30_000);
    let old = world.host.generation();
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(1_000);
    world.assert_locked();
    assert_ne!(world.host.generation(), old);
    (world, old)
}

fn ended(world: &World, who: From) -> Option<(Option<String>, bool)> {
    match who {
        From::Host => world.host.view.ended.clone(),
        From::Guest => world.guest.view.ended.clone(),
    }
}

#[test]
fn the_other_person_hanging_up_ends_the_call_and_forgets_the_link() {
    let mut world = World::call(Settings::default());
    world.input(From::Guest, Input::HangUp);
    let why = "The other person hung up.".to_string();
    assert_eq!(ended(&world, From::Host), Some((Some(why.clone()), true)));
    assert_eq!(world.host.view.status, CallStatus::Ended(why));
    assert!(world.host.link.is_none(), "the connection is closed");
}

#[test]
fn hanging_up_sends_bye_and_says_you_left() {
    let mut world = World::call(Settings::default());
    world.input(From::Guest, Input::HangUp);
    assert!(matches!(world.guest.sent.last(), Some((_, Signal::Bye { .. }))));
    let why = "You left the call.".to_string();
    assert_eq!(ended(&world, From::Guest), Some((Some(why.clone()), true)));
    assert_eq!(world.guest.view.status, CallStatus::Ended(why));
}

#[test]
fn a_full_call_ends_and_keeps_the_link_for_a_later_try() {
    let mut world = World::new(Settings::default());
    world.guest.on_relay = true;
    world.relay_event(From::Guest, RelayEvent::Full);
    world.settle();
    assert_eq!(ended(&world, From::Guest), Some((Some(CALL_FULL.into()), false)));
    assert_eq!(world.guest.view.status, CallStatus::Ended(CALL_FULL.into()));
}

#[test]
fn a_worker_that_cannot_start_ends_the_call() {
    let mut world = World::new(Settings::default());
    world.guest.pending.clear();
    world.guest.pending.push_back(Input::WorkerFailed);
    world.join();
    assert_eq!(ended(&world, From::Guest), Some((Some(WORKER_FAILED.into()), false)));
    assert_eq!(world.guest.connects, 0);
    assert_eq!(world.guest.worker.keyings, 0);
}

#[test]
fn a_fresh_worker_that_cannot_start_ends_the_call() {
    let mut world = World::call(Settings::default());
    world.advance(30_000);
    world.host.worker_fails = true;
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(1_000);
    assert_eq!(ended(&world, From::Host), Some((Some(WORKER_FAILED.into()), false)));
    assert_eq!(world.host.view.status, CallStatus::Ended(WORKER_FAILED.into()));
}

#[test]
fn a_connection_the_browser_cannot_make_ends_the_call() {
    let mut world = World::call(Settings::default());
    let generation = world.host.generation();
    world.input(From::Host, Input::ConnectFailed { generation });
    let (why, forget) = ended(&world, From::Host).expect("ended");
    assert!(why.unwrap().contains("could not be set up"));
    assert!(!forget);
}

#[test]
fn a_refused_answer_ends_the_call() {
    let mut world = World::call(Settings::default());
    let generation = world.host.generation();
    world.input(From::Host, Input::AnswerRefused { generation });
    let (why, _) = ended(&world, From::Host).expect("ended");
    assert_eq!(why.as_deref(), Some("The other person's answer was not valid."));
}

#[test]
fn failures_of_an_older_connection_end_nothing() {
    let (mut world, old) = call_on_second_connection();
    world.input(From::Host, Input::ConnectFailed { generation: old });
    world.input(From::Host, Input::AnswerRefused { generation: old });
    world.input(From::Guest, Input::ConnectFailed { generation: old });
    assert_eq!(world.host.view.ended, None);
    assert_eq!(world.guest.view.ended, None);
    world.assert_locked();
}

#[test]
fn a_state_change_of_an_older_connection_is_ignored() {
    let (mut world, old) = call_on_second_connection();
    let notices = world.host.view.notices.len();
    world.input(From::Host, Input::LinkState { generation: old, state: LinkState::Failed });
    assert_eq!(world.host.view.notices.len(), notices, "no 'media failed' for the old one");
    assert_eq!(world.host.view.status, CallStatus::Connected);
    world.advance(5_000);
    assert_eq!(world.host.connects, 2);
}

#[test]
fn a_description_of_an_older_connection_is_never_sent() {
    let (mut world, old) = call_on_second_connection();
    let offers = world.host.sent_since(0, |s| matches!(s, Signal::Offer { .. }));
    world.input(
        From::Host,
        Input::LocalDescription {
            generation: old,
            sdp: sdp("EE"),
            payload_types: PayloadTypes::default(),
        },
    );
    world.input(From::Host, Input::LocalIce { generation: old, candidate: candidate("stale") });
    assert_eq!(world.host.sent_since(0, |s| matches!(s, Signal::Offer { .. })), offers);
    let stale =
        |s: &Signal| matches!(s, Signal::Ice { candidate, .. } if candidate.contains("stale"));
    assert_eq!(world.host.sent_since(0, stale), 0);
    world.assert_locked();
}

#[test]
fn certificates_reported_for_an_older_connection_are_ignored() {
    let (mut world, old) = call_on_second_connection();
    let certificates = vec![("sha-256".to_string(), vec!["EE"; 32].join(":"))];
    let description = Some(sdp("EE"));
    world.input(
        From::Host,
        Input::RemoteCertificates { generation: old, certificates, description },
    );
    world.assert_locked();
    assert_eq!(world.host.warned_in_call(), None);
}

#[test]
fn nothing_after_the_end_changes_anything() {
    let mut world = World::call(Settings::default());
    world.input(From::Host, Input::HangUp);
    let status = world.host.view.status.clone();
    let sent = world.host.sent.len();
    let shields = world.host.view.shields.len();
    let generation = 0;
    for input in [
        Input::Tick,
        Input::RetryDue,
        Input::WorkerStarted,
        Input::LinkState { generation, state: LinkState::Failed },
        Input::SendChat { text: "hello?".into(), channel_open: true },
        Input::ChatFrame("anything".into()),
        Input::HangUp,
    ] {
        world.host.handle(input, world.now);
        assert_eq!(world.host.ctl.poll_effect(), None);
    }
    world.inject(From::Host, Signal::Bye { mac: None });
    world.advance(20_000);
    assert_eq!(world.host.view.status, status);
    assert_eq!(world.host.sent.len(), sent, "nothing more sent");
    assert_eq!(world.host.view.shields.len(), shields);
    assert_eq!(world.host.connects, 1);
}

#[test]
fn leaving_the_page_ends_the_call_silently() {
    let mut world = World::call(Settings::default());
    world.input(From::Guest, Input::PageLeft);
    assert_eq!(ended(&world, From::Guest), Some((None, true)));
    assert!(!matches!(world.guest.view.status, CallStatus::Ended(_)), "nothing to say");
    assert_eq!(world.guest.sent_since(0, |s| matches!(s, Signal::Bye { .. })), 0);
}

#[test]
fn a_relay_error_is_logged_and_the_call_goes_on() {
    let mut world = World::call(Settings::default());
    world.relay_event(From::Host, RelayEvent::Error { reason: "too fast".into(), request: None });
    world.settle();
    assert!(world.host.view.logs.iter().any(|l| l.contains("too fast")));
    assert!(world.host.view.notices.is_empty());
    world.assert_locked();
}

#[test]
fn a_description_without_a_certificate_is_never_sent() {
    let mut world = World::new(Settings::default());
    world.host.describe_without_certificate = true;
    world.join();
    assert_eq!(world.host.sent_since(0, |s| matches!(s, Signal::Offer { .. })), 0);
    assert_eq!(world.host.warning(), Some(WarningReason::BadFingerprint));
    assert_eq!(world.guest.connects, 0);
}
