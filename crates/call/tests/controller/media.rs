//! What the media worker's counters tell the person: media that does not get through (and
//! why), media that keeps failing to decrypt under a lock (an attack sign: the shield turns
//! red), and the other person's screen share shown while its frames arrive.

use shieldcall_call::controller::LinkState;
use shieldcall_e2ee::session::WarningReason;
use shieldcall_protocol::{Direction, Slot, TransformStats};

use crate::harness::{From, Settings, World};

const VIDEO_UNPLAYABLE: &str = "The other person's video cannot be played: its codec cannot be \
    end-to-end encrypted between these two browsers. Every frame is dropped rather than sent \
    unprotected.";

/// Reports `stats` to `who` once a second for `seconds`, `step` applied before each.
fn feed(
    world: &mut World,
    who: From,
    stats: &mut TransformStats,
    seconds: u32,
    step: impl Fn(&mut TransformStats),
) {
    for _ in 0..seconds {
        step(stats);
        world.stats(who, stats.clone());
        world.advance(1_000);
    }
}

#[test]
fn video_whose_frames_are_all_dropped_for_three_seconds_is_said() {
    let mut world = World::call(Settings::default());
    let mut video = TransformStats::new(Slot::Camera, Direction::Receive);
    feed(&mut world, From::Guest, &mut video, 3, |s| s.dropped_codec += 30);
    assert!(world.guest.view.problems.is_empty(), "not yet");
    feed(&mut world, From::Guest, &mut video, 1, |s| s.dropped_codec += 30);
    assert_eq!(world.guest.view.problems, [VIDEO_UNPLAYABLE]);
    assert!(world.host.view.problems.is_empty(), "the host's side is fine");
}

#[test]
fn the_problem_clears_when_frames_flow_again() {
    let mut world = World::call(Settings::default());
    let mut video = TransformStats::new(Slot::Camera, Direction::Receive);
    feed(&mut world, From::Guest, &mut video, 5, |s| s.dropped_codec += 30);
    assert_eq!(world.guest.view.problems.len(), 1);
    feed(&mut world, From::Guest, &mut video, 1, |s| s.processed += 30);
    assert!(world.guest.view.problems.is_empty());
}

#[test]
fn sending_problems_name_this_persons_media() {
    let mut world = World::call(Settings::default());
    let mut mic = TransformStats::new(Slot::MicAudio, Direction::Send);
    feed(&mut world, From::Host, &mut mic, 4, |s| s.dropped_malformed += 50);
    assert_eq!(world.host.view.problems.len(), 1);
    assert!(world.host.view.problems[0].starts_with("Your microphone does not reach"));
    world.assert_locked();
}

#[test]
fn frames_dropped_for_want_of_keys_are_no_media_problem() {
    let mut world = World::call(Settings::default());
    let mut video = TransformStats::new(Slot::Camera, Direction::Receive);
    feed(&mut world, From::Guest, &mut video, 6, |s| s.dropped_no_key += 30);
    assert!(world.guest.view.problems.is_empty());
}

#[test]
fn media_that_keeps_failing_to_decrypt_under_a_lock_turns_the_shield_red() {
    let mut world = World::call(Settings::default());
    let mut video = TransformStats::new(Slot::Camera, Direction::Receive);
    feed(&mut world, From::Guest, &mut video, 3, |s| s.dropped_bad_tag += 30);
    world.assert_locked();
    feed(&mut world, From::Guest, &mut video, 1, |s| s.dropped_bad_tag += 30);
    assert_eq!(world.guest.warning(), Some(WarningReason::DecryptFailures));
    assert_eq!(world.guest.keys(), None, "the worker lost its keys");
    assert!(world.guest.view.problems[0].contains("fail to decrypt"));
}

#[test]
fn decrypt_failures_with_e2ee_off_raise_no_warning() {
    let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    let mut video = TransformStats::new(Slot::Camera, Direction::Receive);
    feed(&mut world, From::Guest, &mut video, 6, |s| s.dropped_bad_tag += 30);
    assert_eq!(world.guest.warning(), None);
}

#[test]
fn a_remote_screen_share_is_shown_while_its_frames_arrive() {
    let mut world = World::call(Settings::default());
    assert!(!world.guest.view.remote_screen);
    let mut screen = TransformStats::new(Slot::ScreenVideo, Direction::Receive);
    feed(&mut world, From::Guest, &mut screen, 2, |s| s.processed += 10);
    assert!(world.guest.view.remote_screen);
    assert!(!world.host.view.remote_screen);
}

#[test]
fn a_remote_screen_share_idle_for_over_two_and_a_half_seconds_is_hidden() {
    let mut world = World::call(Settings::default());
    let mut screen = TransformStats::new(Slot::ScreenVideo, Direction::Receive);
    // New frames reported now; a second later, the same count: the share stopped.
    screen.processed += 10;
    world.stats(From::Guest, screen.clone());
    assert!(world.guest.view.remote_screen);
    world.advance(1_000);
    world.stats(From::Guest, screen.clone());
    world.advance(1_000);
    assert!(world.guest.view.remote_screen, "2 s without a new frame is not yet idle");
    world.advance(1_000);
    assert!(!world.guest.view.remote_screen);
    // Frames again: shown again.
    feed(&mut world, From::Guest, &mut screen, 1, |s| s.processed += 10);
    assert!(world.guest.view.remote_screen);
}

#[test]
fn sending_a_screen_share_does_not_show_one() {
    let mut world = World::call(Settings::default());
    let mut screen = TransformStats::new(Slot::ScreenVideo, Direction::Send);
    feed(&mut world, From::Host, &mut screen, 3, |s| s.processed += 10);
    assert!(!world.host.view.remote_screen);
}

#[test]
fn a_new_connection_starts_with_no_media_problems() {
    let mut world = World::call(Settings::default());
    world.advance(30_000);
    let mut video = TransformStats::new(Slot::Camera, Direction::Receive);
    feed(&mut world, From::Guest, &mut video, 5, |s| s.dropped_codec += 30);
    assert_eq!(world.guest.view.problems.len(), 1);
    world.media_drops(LinkState::Failed);
    world.settle();
    world.advance(1_000);
    world.assert_locked();
    assert!(world.guest.view.problems.is_empty());
}

#[test]
fn a_frame_stream_the_worker_stopped_is_said_and_the_shield_stays_as_it_was() {
    use shieldcall_call::controller::Input;
    use shieldcall_protocol::{TransformOptions, WorkerEvent};
    let mut world = World::call(Settings::default());
    let transform = TransformOptions::new(Slot::Camera, Direction::Receive);
    let message = "the frame stream stopped: TypeError".to_string();
    world.input(From::Guest, Input::Worker(WorkerEvent::StreamStopped { transform, message }));
    assert_eq!(
        world.guest.view.problems,
        ["The other person's video cannot be played: the page stopped handling its frames \
             after an error (hang up and call again)."]
    );
    world.advance(30_000);
    assert_eq!(world.guest.view.problems.len(), 1, "said until it changes, not forgotten");
    world.assert_locked();
}
