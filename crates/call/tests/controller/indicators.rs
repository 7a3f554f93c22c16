//! What each side shows of the other: the media state (mic, camera, screen) carried in the chat
//! channel, sealed under E2EE and binary with E2EE off, never shown unless it opened; and the
//! connection's quality from the statistics the controller asks for.

use shieldcall_call::controller::Input;
use shieldcall_call::controller::LinkState;
use shieldcall_call::quality::{LinkStats, Quality, QualityView};
use shieldcall_protocol::{ChatOrder, MediaState, WorkerEvent};

use crate::harness::{From, Settings, WorkerMode, World, dropping, is_confirm, joined};

const ON: MediaState = MediaState::ALL_ON;
const MUTED: MediaState = MediaState { mic: false, camera: true, screen: false };
const DARK: MediaState = MediaState { mic: false, camera: false, screen: false };

#[test]
fn in_a_locked_call_each_side_learns_the_others_state_and_each_change_sealed() {
    let mut world = World::call(Settings::default());
    world.assert_locked();
    // Sent once the channel opened: both know the other is on, and nothing is announced.
    assert_eq!(world.host.view.remote_media, Some(ON));
    assert_eq!(world.guest.view.remote_media, Some(ON));
    assert!(world.guest.view.announced.is_empty());
    // The host mutes: the state goes out sealed (never as a plain binary message).
    let now = world.now;
    world.host.handle(Input::LocalMedia(MUTED), now);
    assert!(world.host.binary_out.is_empty(), "nothing goes out plain under E2EE");
    world.settle();
    assert_eq!(world.guest.view.remote_media, Some(MUTED));
    assert_eq!(world.guest.view.announced, ["The other person muted their microphone."]);
    world.input(From::Host, Input::LocalMedia(DARK));
    world.input(From::Host, Input::LocalMedia(DARK));
    world.input(From::Host, Input::LocalMedia(ON));
    assert_eq!(
        world.guest.view.announced,
        [
            "The other person muted their microphone.",
            "The other person turned their camera off.",
            "The other person turned their microphone on. The other person turned their camera on.",
        ],
        "each change once; the same state twice is not sent again"
    );
    assert_eq!(world.guest.view.remote_media, Some(ON));
    assert!(world.guest.view.chat.is_empty(), "a state is never shown as chat");
}

#[test]
fn with_e2ee_off_the_state_goes_as_a_binary_message_never_as_chat_text() {
    let mut world = World::call(Settings { guest_e2ee: false, ..Settings::default() });
    assert_eq!(world.host.view.remote_media, Some(ON));
    let now = world.now;
    world.host.handle(Input::LocalMedia(DARK), now);
    assert_eq!(world.host.binary_out.iter().collect::<Vec<_>>(), [&vec![2, 0]]);
    assert!(world.host.chat_out.is_empty(), "chat text stays for chat");
    world.settle();
    assert_eq!(world.guest.view.remote_media, Some(DARK));
    assert_eq!(
        world.guest.view.announced,
        ["The other person muted their microphone. The other person turned their camera off."]
    );
    assert!(world.guest.view.chat.is_empty());
}

#[test]
fn someone_who_joins_later_learns_the_state_when_the_channel_opens() {
    let mut world = World::new(Settings::default());
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(0));
    world.settle();
    // Muted and camera off while alone: nothing can go yet.
    world.input(From::Host, Input::LocalMedia(DARK));
    world.guest.on_relay = true;
    world.relay_event(From::Guest, joined(1));
    world.relay_event(From::Host, shieldcall_protocol::RelayEvent::PeerJoined);
    world.settle();
    world.assert_locked();
    assert_eq!(world.guest.view.remote_media, Some(DARK));
    assert_eq!(world.guest.view.announced, ["The other person's microphone and camera are off."]);
}

#[test]
fn a_new_connection_forgets_the_old_state_and_tells_it_again() {
    let mut world = World::call(Settings::default());
    world.input(From::Guest, Input::LocalMedia(MUTED));
    assert_eq!(world.host.view.remote_media, Some(MUTED));
    // The host drops a failed connection at once (and makes the next one).
    world.media_drops(LinkState::Failed);
    world.settle();
    assert_eq!(world.host.view.remote_media, None, "unknown while there is no connection");
    let delay = world.host.retry_at.expect("a retry is scheduled") - world.now;
    world.advance(delay);
    world.advance(6_000);
    world.assert_locked();
    assert_eq!(world.host.view.remote_media, Some(MUTED), "told again on the new channel");
    assert_eq!(
        world.host.view.announced,
        ["The other person muted their microphone.", "The other person's microphone is off."]
    );
}

#[test]
fn before_the_confirmation_no_state_goes_or_is_shown() {
    let mut world = World::new(Settings { host_e2ee: false, ..Settings::default() });
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    assert!(world.host.link.as_ref().unwrap().channel_open);
    world.input(From::Host, Input::LocalMedia(MUTED));
    assert!(world.host.binary_out.is_empty() && world.host.chat_out.is_empty());
    world.input(From::Guest, Input::ChatBinary(vec![2, 0]));
    assert_eq!(world.guest.view.remote_media, None);
    assert!(world.guest.view.notices.is_empty());
}

#[test]
fn a_state_that_does_not_open_or_is_not_well_formed_is_dropped_and_said() {
    // Under other keys: the worker refuses it, and the person is told as for chat.
    let mut world = World::call(Settings::default());
    if let WorkerMode::Keys { send, .. } = &mut world.host.worker.mode {
        send[0] ^= 0xff;
    }
    world.input(From::Host, Input::LocalMedia(MUTED));
    assert_eq!(world.guest.view.remote_media, Some(ON), "the old state stays");
    assert_eq!(world.guest.notices_with("A chat message was dropped"), 1);
    // A plain binary state in a locked call is not sealed: dropped and said.
    world.input(From::Guest, Input::ChatBinary(vec![2, 0]));
    assert_eq!(world.guest.view.remote_media, Some(ON));
    assert_eq!(
        world.guest.notices_with("A chat message was dropped: not an encrypted chat message."),
        1
    );
    // With E2EE off, a binary message that is no state (or a state of unknown flags).
    let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    world.input(From::Guest, Input::ChatBinary(vec![2, 0x40]));
    world.input(From::Guest, Input::ChatBinary(vec![7]));
    assert_eq!(world.guest.view.remote_media, Some(ON));
    assert_eq!(world.guest.notices_with("a media state with unknown flags"), 1);
    assert_eq!(world.guest.notices_with("a binary message that is not a media state"), 1);
}

#[test]
fn a_state_that_arrives_late_is_stale_and_not_shown_but_a_gap_is_said() {
    let mut world = World::call(Settings::default());
    let late = WorkerEvent::MediaStateOpened { id: 90, state: DARK, order: ChatOrder::Late };
    world.input(From::Guest, Input::Worker(late));
    assert_eq!(world.guest.view.remote_media, Some(ON));
    assert_eq!(world.guest.notices_with("arrived out of order"), 1);
    let after_gap = WorkerEvent::MediaStateOpened {
        id: 91,
        state: MUTED,
        order: ChatOrder::AfterGap { missing: 1 },
    };
    world.input(From::Guest, Input::Worker(after_gap));
    assert_eq!(world.guest.view.remote_media, Some(MUTED), "the newest state shows");
    assert_eq!(world.guest.notices_with("A chat message from the other person is missing."), 1);
    assert_eq!(world.host.notices_with("did not reach the other person"), 1, "reported back");
}

/// Statistics `n` readings in (2 s apart) with `rtt` ms round trip and no loss.
fn stats(n: u64, rtt: u32) -> LinkStats {
    LinkStats {
        at_ms: n * 2000,
        rtt_ms: Some(rtt),
        jitter_ms: Some(4),
        packets_received: n * 200,
        packets_lost: 0,
        bytes_received: n * 300_000,
        bytes_sent: n * 300_000,
    }
}

#[test]
fn quality_is_read_every_two_seconds_while_connected_and_shown_in_words() {
    let mut world = World::call(Settings::default());
    assert_eq!(world.host.stats_reads, 0);
    world.advance(10_000);
    assert_eq!(world.host.stats_reads, 5, "every two seconds");
    let generation = world.host.generation();
    world.input(From::Host, Input::LinkStats { generation, stats: stats(1, 24) });
    assert_eq!(world.host.view.quality, None, "one reading is no interval");
    world.input(From::Host, Input::LinkStats { generation, stats: stats(2, 24) });
    let view = world.host.view.quality.expect("shown");
    assert_eq!(view.quality, Quality::Good);
    assert_eq!(
        view.description(),
        "Good connection: 24 ms round trip, 0% loss, 4 ms jitter, 1.2 Mb/s received, 1.2 Mb/s sent"
    );
    // A reading of an older connection is ignored; a connection that goes takes the icon away.
    let stale = generation + 1;
    world.input(From::Host, Input::LinkStats { generation: stale, stats: stats(3, 900) });
    assert_eq!(world.host.view.quality.unwrap().rtt_ms, Some(24));
    world.media_drops(LinkState::Failed);
    world.settle();
    assert_eq!(world.host.view.quality, None);
    let reads = world.host.stats_reads;
    world.advance(1_000);
    assert_eq!(world.host.stats_reads, reads, "nothing to read without a connection");
}

#[test]
fn an_interrupted_connection_shows_poor_at_once_and_measures_afresh_when_back() {
    let mut world = World::call(Settings::default());
    let generation = world.host.generation();
    world.input(From::Host, Input::LinkStats { generation, stats: stats(1, 24) });
    world.input(From::Host, Input::LinkStats { generation, stats: stats(2, 24) });
    assert_eq!(world.host.view.quality.unwrap().quality, Quality::Good);
    let disconnected = Input::LinkState { generation, state: LinkState::Disconnected };
    world.input(From::Host, disconnected);
    assert_eq!(world.host.view.quality, Some(QualityView::INTERRUPTED));
    world.input(From::Host, Input::LinkState { generation, state: LinkState::Connected });
    // No hysteresis against the interruption: the first interval after it shows as it is.
    world.input(From::Host, Input::LinkStats { generation, stats: stats(3, 24) });
    assert_eq!(
        world.host.view.quality,
        Some(QualityView::INTERRUPTED),
        "one reading is no interval"
    );
    world.input(From::Host, Input::LinkStats { generation, stats: stats(4, 24) });
    assert_eq!(world.host.view.quality.unwrap().quality, Quality::Good);
}

#[test]
fn a_state_that_comes_before_this_side_is_locked_waits_and_is_shown_once_locked() {
    // The host's confirmation reaches the guest late (after the data channel opened): the
    // host, locked already, sends its state at once, and the guest cannot check it yet.
    let mut world = World::new(Settings::default());
    let held = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let keep = held.clone();
    world.relay = Box::new(move |from, signal| {
        if from == From::Host && is_confirm(&signal) {
            keep.borrow_mut().push(signal);
            return vec![];
        }
        vec![signal]
    });
    world.input(From::Host, Input::LocalMedia(MUTED));
    world.join();
    assert!(world.host.locked() && !world.guest.locked());
    assert!(world.guest.link.as_ref().unwrap().channel_open);
    assert_eq!(world.guest.view.remote_media, None, "not shown before it can be checked");
    assert!(world.guest.view.notices.is_empty(), "and not dropped either");
    let confirmations: Vec<_> = held.borrow_mut().drain(..).collect();
    for confirm in confirmations {
        world.inject(From::Guest, confirm);
    }
    world.assert_locked();
    assert_eq!(world.guest.view.remote_media, Some(MUTED));
    assert_eq!(world.guest.view.announced, ["The other person's microphone is off."]);
}
