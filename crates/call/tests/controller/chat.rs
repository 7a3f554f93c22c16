//! Chat on the data channel: sealed under the call's keys once locked, plain once a call is
//! confirmed as transport-only, held back otherwise; too long, empty or undecryptable messages
//! and gaps are said to the person.

use shieldcall_call::controller::Input;
use shieldcall_protocol::{ChatOrder, WorkerEvent};

use crate::harness::{From, Settings, WorkerMode, World, dropping, is_confirm, joined};

const HELD_BACK: &str = "Chat is held back until the call is secure.";
const NOT_CONNECTED: &str = "Chat works once the other person is connected.";

#[test]
fn in_a_locked_call_a_message_is_shown_on_both_sides() {
    let mut world = World::call(Settings::default());
    world.say(From::Host, "hello there");
    assert_eq!(world.host.view.chat, [(true, "hello there".to_string())]);
    assert_eq!(world.guest.view.chat, [(false, "hello there".to_string())]);
    world.say(From::Guest, "hi");
    assert_eq!(world.host.view.chat.last(), Some(&(false, "hi".to_string())));
}

#[test]
fn in_a_locked_call_the_frame_on_the_wire_is_sealed() {
    let mut world = World::call(Settings::default());
    let now = world.now;
    world.host.handle(Input::SendChat { text: "secret".into(), channel_open: true }, now);
    assert!(world.host.chat_out.is_empty(), "nothing goes out before the worker sealed it");
    // The worker's answer: the sealed frame goes out.
    let sealed = world.host.pending.pop_front().expect("the worker answers");
    world.host.handle(sealed, now);
    let frames: Vec<String> = world.host.chat_out.iter().cloned().collect();
    assert_eq!(frames.len(), 1);
    assert_ne!(frames[0], "secret", "the text does not go out plain");
    world.settle();
    assert_eq!(world.guest.view.chat, [(false, "secret".to_string())]);
}

#[test]
fn with_e2ee_off_and_confirmed_chat_goes_plain_both_ways() {
    let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    let open = world.host.link.as_ref().unwrap().channel_open;
    world.host.handle(Input::SendChat { text: "plain".into(), channel_open: open }, world.now);
    assert_eq!(world.host.chat_out.iter().collect::<Vec<_>>(), ["plain"]);
    world.settle();
    assert_eq!(world.guest.view.chat, [(false, "plain".to_string())]);
    world.say(From::Guest, "back");
    assert_eq!(world.host.view.chat.last(), Some(&(false, "back".to_string())));
}

#[test]
fn before_the_confirmation_chat_is_held_back() {
    let mut world = World::new(Settings::default());
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    assert!(world.host.link.as_ref().unwrap().channel_open, "the data channel is open");
    world.say(From::Host, "too early");
    assert_eq!(world.host.notices_with(HELD_BACK), 1);
    assert!(world.host.view.chat.is_empty() && world.guest.view.chat.is_empty());
}

#[test]
fn with_e2ee_off_chat_is_also_held_back_until_confirmed() {
    let mut world = World::new(Settings { guest_e2ee: false, ..Settings::default() });
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    world.say(From::Guest, "too early");
    assert_eq!(world.guest.notices_with(HELD_BACK), 1);
    assert!(world.guest.chat_out.is_empty() && world.host.view.chat.is_empty());
}

#[test]
fn a_message_arriving_before_confirmation_is_never_shown() {
    let mut world = World::new(Settings { host_e2ee: false, ..Settings::default() });
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    world.input(From::Guest, Input::ChatFrame("from the relay?".into()));
    assert!(world.guest.view.chat.is_empty());
}

#[test]
fn without_an_open_channel_chat_waits_for_the_other_person() {
    let mut world = World::new(Settings::default());
    world.host.on_relay = true;
    world.relay_event(From::Host, joined(0));
    world.settle();
    world.say(From::Host, "anyone?");
    assert_eq!(world.host.notices_with(NOT_CONNECTED), 1);
    // Also in a locked call whose channel is closed just now.
    let mut world = World::call(Settings::default());
    world.input(From::Host, Input::SendChat { text: "hi".into(), channel_open: false });
    assert_eq!(world.host.notices_with(NOT_CONNECTED), 1);
    assert!(world.guest.view.chat.is_empty());
}

#[test]
fn a_message_over_4096_bytes_is_refused_with_a_notice() {
    let mut world = World::call(Settings::default());
    world.say(From::Host, &"é".repeat(2049));
    assert_eq!(world.host.notices_with("too long"), 1, "{:?}", world.host.view.notices);
    assert!(world.host.view.chat.is_empty() && world.guest.view.chat.is_empty());
    // Exactly 4096 bytes is fine.
    world.say(From::Host, &"a".repeat(4096));
    assert_eq!(world.guest.view.chat.len(), 1);
}

#[test]
fn a_plain_message_over_4096_bytes_from_the_peer_is_dropped() {
    let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    world.input(From::Guest, Input::ChatFrame("x".repeat(5000)));
    assert!(world.guest.view.chat.is_empty());
    assert_eq!(world.guest.notices_with("over 4,096 bytes was dropped"), 1);
}

#[test]
fn a_message_under_other_keys_is_dropped_and_said() {
    let mut world = World::call(Settings::default());
    // The host's worker seals under a key the guest does not hold.
    if let WorkerMode::Keys { send, .. } = &mut world.host.worker.mode {
        send[0] ^= 0xff;
    }
    world.say(From::Host, "who am I?");
    assert!(world.guest.view.chat.is_empty());
    assert_eq!(world.guest.notices_with("A chat message was dropped"), 1);
}

#[test]
fn empty_and_whitespace_messages_are_ignored() {
    let mut world = World::call(Settings::default());
    world.say(From::Host, "");
    world.say(From::Host, "   \n\t ");
    assert!(world.host.view.chat.is_empty() && world.guest.view.chat.is_empty());
    assert!(world.host.view.notices.is_empty());
    assert_eq!(world.host.worker.keyings, 1);
}

#[test]
fn messages_are_trimmed_before_they_are_sent() {
    let mut world = World::call(Settings::default());
    world.say(From::Host, "  padded  ");
    assert_eq!(world.guest.view.chat, [(false, "padded".to_string())]);
}

#[test]
fn a_gap_is_said_here_and_reported_to_the_sender() {
    let mut world = World::call(Settings::default());
    let event = WorkerEvent::ChatOpened {
        id: 99,
        text: "after a gap".into(),
        order: ChatOrder::AfterGap { missing: 2 },
    };
    world.input(From::Guest, Input::Worker(event));
    assert_eq!(world.guest.notices_with("2 chat messages from the other person are missing."), 1);
    assert_eq!(world.guest.view.chat, [(false, "after a gap".to_string())]);
    assert_eq!(
        world.host.notices_with("2 of your chat messages did not reach the other person."),
        1,
        "the sealed report reached the sender"
    );
}

#[test]
fn a_late_message_is_said_before_it_is_shown() {
    let mut world = World::call(Settings::default());
    let event = WorkerEvent::ChatOpened { id: 5, text: "late".into(), order: ChatOrder::Late };
    world.input(From::Host, Input::Worker(event));
    assert_eq!(world.host.notices_with("arrived out of order"), 1);
    assert_eq!(world.guest.notices_with("reached the other person out of order"), 1);
}

#[test]
fn a_message_the_worker_cannot_seal_is_said_to_the_sender() {
    let mut world = World::call(Settings::default());
    world.host.worker.mode = WorkerMode::AwaitKeys;
    world.say(From::Host, "lost");
    assert_eq!(world.host.notices_with("Your message was not sent: no keys."), 1);
    assert!(world.guest.view.chat.is_empty());
}

#[test]
fn in_a_locked_call_text_that_is_no_sealed_frame_is_dropped_and_said() {
    let mut world = World::call(Settings::default());
    world.input(From::Guest, Input::ChatFrame("plain words, not base64url!".into()));
    assert!(world.guest.view.chat.is_empty(), "never shown");
    assert_eq!(
        world.guest.notices_with("A chat message was dropped: not an encrypted chat message."),
        1
    );
}

#[test]
fn whether_a_message_will_go_is_known_before_it_is_sent_so_the_page_keeps_a_refused_one() {
    // Before the confirmation: refused, with the words the notice uses.
    let mut world = World::new(Settings::default());
    world.relay = dropping(|_, s| is_confirm(s));
    world.join();
    assert_eq!(world.host.ctl.chat_refusal("hi", true).as_deref(), Some(HELD_BACK));
    assert_eq!(world.host.ctl.chat_refusal("hi", false).as_deref(), Some(NOT_CONNECTED));
    // Locked: taken; too long: refused, whatever the call.
    let world = World::call(Settings::default());
    assert_eq!(world.host.ctl.chat_refusal("hi", true), None);
    let long = "x".repeat(5_000);
    assert!(world.host.ctl.chat_refusal(&long, true).is_some());
    // Transport-only and confirmed: taken.
    let world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    assert_eq!(world.host.ctl.chat_refusal("hi", true), None);
}
