//! Whether each direction of each media slot gets through, from the media worker's counters.
//!
//! The shield says whose keys protect the call; it cannot say that nothing can be seen or
//! heard. When one transform drops every frame for a while (a codec without a frame layout,
//! frames that do not decrypt), the page must say which media and why: a locked shield over a
//! black video is a lie by omission. Frames dropped for want of keys are the shield's business
//! (it shows "connecting" until they arrive) and are not counted here.
//!
//! Media that keeps failing to *decrypt* is also a security signal: keys that do not match
//! what the other person uses mean someone is in between, or something is broken
//! ([`MediaHealth::decrypt_failing`]).

use shieldcall_protocol::{Direction, Slot, TransformStats};

/// How long a transform must drop every frame before the page says so.
pub const STALL_MS: u64 = 3000;
/// A problem whose transform has dropped nothing for this long is forgotten: its frames stopped
/// coming at all (a camera turned off), and there is nothing left to say about them.
pub const QUIET_MS: u64 = 5000;
/// Consecutive counter reports (about one a second) with new decryption failures and no frame
/// opened, after which the media is taken to be under keys other than the agreed ones.
pub const DECRYPT_FAILURE_REPORTS: u32 = 4;

/// Why a transform's frames do not get through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropCause {
    /// The negotiated codec has no E2EE frame layout (or its payload type is unknown).
    Codec,
    /// Frames fail authentication: a wrong key, or tampering.
    Decryption,
    /// Frames name a key this side does not have.
    UnknownKey,
    /// Frames arrive again, or too late.
    Replay,
    /// Frames could not be encrypted, or what arrives is no SFrame frame.
    Malformed,
    /// The media worker stopped handling this media after an error: nothing passes any more.
    Stopped,
}

/// One media direction that does not get through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaProblem {
    pub slot: Slot,
    pub direction: Direction,
    pub cause: DropCause,
}

impl MediaProblem {
    /// What the page says, in words.
    pub fn sentence(&self) -> String {
        let media = match (self.direction, self.slot) {
            (Direction::Send, Slot::MicAudio) => "Your microphone",
            (Direction::Send, Slot::Camera) => "Your camera",
            (Direction::Send, Slot::ScreenVideo) => "Your screen share",
            (Direction::Send, Slot::ScreenAudio) => "Your screen share's sound",
            (Direction::Receive, Slot::MicAudio) => "The other person's sound",
            (Direction::Receive, Slot::Camera) => "The other person's video",
            (Direction::Receive, Slot::ScreenVideo) => "The other person's screen share",
            (Direction::Receive, Slot::ScreenAudio) => "The other person's screen share sound",
            (_, Slot::Chat) => "Chat",
        };
        let what = match self.direction {
            Direction::Send => "does not reach the other person",
            Direction::Receive => "cannot be played",
        };
        let cause = match (self.cause, self.direction) {
            (DropCause::Codec, _) => {
                "its codec cannot be end-to-end encrypted between these two browsers"
            }
            (DropCause::Decryption, _) => "its frames fail to decrypt",
            (DropCause::UnknownKey, _) => "its frames are under a key this call does not use",
            (DropCause::Replay, _) => "its frames arrive as copies of earlier ones",
            (DropCause::Malformed, Direction::Send) => "its frames cannot be encrypted",
            (DropCause::Malformed, Direction::Receive) => "what arrives is not encrypted media",
            (DropCause::Stopped, _) => {
                "the page stopped handling its frames after an error (hang up and call again)"
            }
        };
        // A stopped stream passes nothing at all, with or without E2EE.
        let ending = match self.cause {
            DropCause::Stopped => "",
            _ => " Every frame is dropped rather than sent unprotected.",
        };
        format!("{media} {what}: {cause}.{ending}")
    }
}

/// Drop counters of one transform, by cause (frames dropped for want of keys left out).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Drops {
    codec: u64,
    decryption: u64,
    unknown_key: u64,
    replay: u64,
    malformed: u64,
}

impl Drops {
    fn of(stats: &TransformStats) -> Self {
        Drops {
            codec: stats.dropped_codec,
            decryption: stats.dropped_bad_tag,
            unknown_key: stats.dropped_unknown_key,
            replay: stats.dropped_replay,
            malformed: stats.dropped_malformed,
        }
    }

    fn total(&self) -> u64 {
        self.codec + self.decryption + self.unknown_key + self.replay + self.malformed
    }

    /// The cause with the most drops since `earlier` (ties go to the first listed).
    fn main_cause_since(&self, earlier: &Drops) -> DropCause {
        [
            (self.codec - earlier.codec, DropCause::Codec),
            (self.decryption - earlier.decryption, DropCause::Decryption),
            (self.unknown_key - earlier.unknown_key, DropCause::UnknownKey),
            (self.replay - earlier.replay, DropCause::Replay),
            (self.malformed - earlier.malformed, DropCause::Malformed),
        ]
        .into_iter()
        .rev()
        .max_by_key(|(count, _)| *count)
        .map_or(DropCause::Malformed, |(_, cause)| cause)
    }

    /// Counters only grow within one transform; any that shrank means a new transform.
    fn restarted_since(&self, earlier: &Drops) -> bool {
        self.codec < earlier.codec
            || self.decryption < earlier.decryption
            || self.unknown_key < earlier.unknown_key
            || self.replay < earlier.replay
            || self.malformed < earlier.malformed
    }
}

/// What is known of one transform.
struct Watch {
    slot: Slot,
    direction: Direction,
    /// Frames that got through (processed or passed unchanged).
    through: u64,
    drops: Drops,
    /// Since when every frame has been dropped, and the counters then.
    stalled: Option<(u64, Drops)>,
    last_drop_ms: u64,
    problem: Option<DropCause>,
    /// Reports in a row with new decryption failures and no frame through.
    failing_reports: u32,
    /// Its frame stream stopped for good: said until a new transform takes the slot.
    stopped: bool,
}

/// The health of every transform of the call, fed with the worker's counters.
#[derive(Default)]
pub struct MediaHealth {
    watches: Vec<Watch>,
}

impl MediaHealth {
    /// Take one transform's counters, reported at `now_ms`. Returns whether the problems to
    /// show changed.
    pub fn observe(&mut self, stats: &TransformStats, now_ms: u64) -> bool {
        let before = self.problems();
        self.forget_quiet(now_ms);
        let (slot, direction) = (stats.slot, stats.direction);
        let through = stats.processed + stats.passed;
        let drops = Drops::of(stats);
        let watch = self.watch(slot, direction, now_ms);
        if through < watch.through || drops.restarted_since(&watch.drops) {
            // A new transform for this slot: its counters start again.
            *watch = Watch { through: 0, drops: Drops::default(), stalled: None, ..*watch };
            watch.problem = None;
            watch.failing_reports = 0;
            watch.stopped = false;
        }
        if watch.stopped {
            // The worker posts a stopped transform's last counters before it says it stopped:
            // counters that move after that are a new transform's, and the slot works again.
            let moved = through > watch.through || drops.total() > watch.drops.total();
            if !moved {
                return before != self.problems();
            }
            (watch.stopped, watch.problem) = (false, None);
        }
        let got_through = through > watch.through;
        let dropped = drops.total() > watch.drops.total();
        let new_decrypt_failures =
            drops.decryption + drops.unknown_key > watch.drops.decryption + watch.drops.unknown_key;
        if got_through {
            watch.stalled = None;
            watch.problem = None;
            watch.failing_reports = 0;
        } else if dropped {
            watch.last_drop_ms = now_ms;
            let (since, at_start) = *watch.stalled.get_or_insert((now_ms, watch.drops));
            if now_ms.saturating_sub(since) >= STALL_MS {
                watch.problem = Some(drops.main_cause_since(&at_start));
            }
            if new_decrypt_failures {
                watch.failing_reports += 1;
            }
        }
        watch.through = through;
        watch.drops = drops;
        before != self.problems()
    }

    /// Forget problems whose frames stopped coming; returns whether the problems changed.
    pub fn tick(&mut self, now_ms: u64) -> bool {
        let before = self.problems();
        self.forget_quiet(now_ms);
        before != self.problems()
    }

    /// The worker says the frame stream of `slot` in `direction` stopped for good. Returns
    /// whether the problems to show changed.
    pub fn stream_stopped(&mut self, slot: Slot, direction: Direction) -> bool {
        let before = self.problems();
        let watch = self.watch(slot, direction, 0);
        (watch.problem, watch.stopped, watch.stalled) = (Some(DropCause::Stopped), true, None);
        before != self.problems()
    }

    /// The watch of `slot` in `direction`, new (as of `now_ms`) if there was none.
    fn watch(&mut self, slot: Slot, direction: Direction, now_ms: u64) -> &mut Watch {
        let index =
            match self.watches.iter().position(|w| (w.slot, w.direction) == (slot, direction)) {
                Some(index) => index,
                None => {
                    self.watches.push(Watch {
                        slot,
                        direction,
                        through: 0,
                        drops: Drops::default(),
                        stalled: None,
                        last_drop_ms: now_ms,
                        problem: None,
                        failing_reports: 0,
                        stopped: false,
                    });
                    self.watches.len() - 1
                }
            };
        &mut self.watches[index]
    }

    fn forget_quiet(&mut self, now_ms: u64) {
        for watch in self.watches.iter_mut().filter(|w| !w.stopped) {
            if now_ms.saturating_sub(watch.last_drop_ms) >= QUIET_MS {
                watch.problem = None;
                watch.stalled = None;
            }
        }
    }

    /// The directions that do not get through now, in slot order, sending first.
    pub fn problems(&self) -> Vec<MediaProblem> {
        let mut problems: Vec<MediaProblem> = self
            .watches
            .iter()
            .filter_map(|w| {
                w.problem.map(|cause| MediaProblem { slot: w.slot, direction: w.direction, cause })
            })
            .collect();
        problems.sort_by_key(|p| (p.slot.id(), p.direction == Direction::Receive));
        problems
    }

    /// Whether some received media has kept failing to decrypt for
    /// [`DECRYPT_FAILURE_REPORTS`] reports in a row, with nothing opened meanwhile.
    pub fn decrypt_failing(&self) -> bool {
        self.watches.iter().any(|w| {
            w.direction == Direction::Receive && w.failing_reports >= DECRYPT_FAILURE_REPORTS
        })
    }

    /// A new connection: every transform starts again.
    pub fn reset(&mut self) {
        self.watches.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(slot: Slot, direction: Direction) -> TransformStats {
        TransformStats::new(slot, direction)
    }

    /// Reports once a second from `start_ms` on, each with `step` applied once more.
    fn feed(
        health: &mut MediaHealth,
        stats: &mut TransformStats,
        start_ms: u64,
        seconds: u64,
        step: impl Fn(&mut TransformStats),
    ) -> bool {
        let mut changed = false;
        for i in 0..seconds {
            step(stats);
            changed |= health.observe(stats, start_ms + i * 1000);
        }
        changed
    }

    #[test]
    fn a_codec_without_layout_is_said_after_three_seconds_of_drops() {
        let mut health = MediaHealth::default();
        let mut camera = stats(Slot::Camera, Direction::Send);
        assert!(!feed(&mut health, &mut camera, 0, 3, |s| s.dropped_codec += 30));
        assert!(health.problems().is_empty(), "2 s of drops is not yet a problem");
        assert!(feed(&mut health, &mut camera, 3000, 1, |s| s.dropped_codec += 30));
        let problem = MediaProblem {
            slot: Slot::Camera,
            direction: Direction::Send,
            cause: DropCause::Codec,
        };
        assert_eq!(health.problems(), [problem]);
        assert_eq!(
            problem.sentence(),
            "Your camera does not reach the other person: its codec cannot be end-to-end \
             encrypted between these two browsers. Every frame is dropped rather than sent \
             unprotected."
        );
        assert!(!health.decrypt_failing(), "a codec problem is no attack");
    }

    #[test]
    fn frames_getting_through_again_clear_the_problem() {
        let mut health = MediaHealth::default();
        let mut audio = stats(Slot::MicAudio, Direction::Receive);
        feed(&mut health, &mut audio, 0, 5, |s| s.dropped_replay += 50);
        assert_eq!(health.problems()[0].cause, DropCause::Replay);
        assert!(feed(&mut health, &mut audio, 5000, 1, |s| s.processed += 1));
        assert!(health.problems().is_empty());
    }

    #[test]
    fn some_frames_through_among_drops_is_no_problem() {
        let mut health = MediaHealth::default();
        let mut video = stats(Slot::Camera, Direction::Receive);
        feed(&mut health, &mut video, 0, 10, |s| {
            s.processed += 28;
            s.dropped_bad_tag += 2;
        });
        assert!(health.problems().is_empty());
        assert!(!health.decrypt_failing());
    }

    #[test]
    fn drops_for_want_of_keys_are_the_shield_s_business() {
        let mut health = MediaHealth::default();
        let mut video = stats(Slot::Camera, Direction::Receive);
        feed(&mut health, &mut video, 0, 10, |s| s.dropped_no_key += 30);
        assert!(health.problems().is_empty());
    }

    #[test]
    fn the_main_cause_is_the_one_with_most_drops_since_the_stall_began() {
        let mut health = MediaHealth::default();
        let mut video = stats(Slot::Camera, Direction::Receive);
        // Many replays long ago, then only decryption failures.
        video.dropped_replay = 1000;
        video.processed = 10;
        health.observe(&video, 0);
        feed(&mut health, &mut video, 1000, 4, |s| s.dropped_bad_tag += 5);
        assert_eq!(health.problems()[0].cause, DropCause::Decryption);
    }

    #[test]
    fn decryption_failing_four_reports_in_a_row_is_a_security_signal() {
        let mut health = MediaHealth::default();
        let mut video = stats(Slot::Camera, Direction::Receive);
        feed(&mut health, &mut video, 0, 3, |s| s.dropped_bad_tag += 30);
        assert!(!health.decrypt_failing());
        feed(&mut health, &mut video, 3000, 1, |s| s.dropped_unknown_key += 30);
        assert!(health.decrypt_failing());
        // Sending-side failures never count as received media failing to decrypt.
        let mut health = MediaHealth::default();
        let mut sent = stats(Slot::Camera, Direction::Send);
        feed(&mut health, &mut sent, 0, 10, |s| s.dropped_bad_tag += 30);
        assert!(!health.decrypt_failing());
    }

    #[test]
    fn one_frame_through_starts_the_failure_count_again() {
        let mut health = MediaHealth::default();
        let mut video = stats(Slot::Camera, Direction::Receive);
        feed(&mut health, &mut video, 0, 3, |s| s.dropped_bad_tag += 30);
        feed(&mut health, &mut video, 3000, 1, |s| s.processed += 1);
        feed(&mut health, &mut video, 4000, 3, |s| s.dropped_bad_tag += 30);
        assert!(!health.decrypt_failing());
    }

    #[test]
    fn a_problem_is_forgotten_once_its_frames_stop_coming() {
        let mut health = MediaHealth::default();
        let mut video = stats(Slot::Camera, Direction::Send);
        feed(&mut health, &mut video, 0, 5, |s| s.dropped_codec += 30);
        assert_eq!(health.problems().len(), 1);
        assert!(!health.tick(4000 + QUIET_MS - 1));
        assert!(health.tick(4000 + QUIET_MS));
        assert!(health.problems().is_empty());
    }

    #[test]
    fn a_new_transform_starts_its_counters_again() {
        let mut health = MediaHealth::default();
        let mut video = stats(Slot::Camera, Direction::Receive);
        feed(&mut health, &mut video, 0, 5, |s| s.dropped_bad_tag += 30);
        assert_eq!(health.problems().len(), 1);
        // A respawned worker's transform: lower counters, frames opening.
        let mut fresh = stats(Slot::Camera, Direction::Receive);
        fresh.processed = 3;
        assert!(health.observe(&fresh, 6000));
        assert!(health.problems().is_empty());
        assert!(!health.decrypt_failing());
    }

    #[test]
    fn problems_are_listed_per_slot_and_direction_in_order() {
        let mut health = MediaHealth::default();
        for (slot, direction) in [
            (Slot::Camera, Direction::Receive),
            (Slot::MicAudio, Direction::Receive),
            (Slot::Camera, Direction::Send),
        ] {
            let mut s = stats(slot, direction);
            feed(&mut health, &mut s, 0, 4, |s| s.dropped_codec += 1);
        }
        let order: Vec<_> = health.problems().iter().map(|p| (p.slot, p.direction)).collect();
        assert_eq!(
            order,
            [
                (Slot::MicAudio, Direction::Receive),
                (Slot::Camera, Direction::Send),
                (Slot::Camera, Direction::Receive)
            ]
        );
        health.reset();
        assert!(health.problems().is_empty());
    }

    #[test]
    fn every_sentence_names_the_media_and_the_cause() {
        for slot in [Slot::MicAudio, Slot::Camera, Slot::ScreenVideo, Slot::ScreenAudio] {
            for direction in [Direction::Send, Direction::Receive] {
                for cause in [
                    DropCause::Codec,
                    DropCause::Decryption,
                    DropCause::UnknownKey,
                    DropCause::Replay,
                    DropCause::Malformed,
                ] {
                    let text = MediaProblem { slot, direction, cause }.sentence();
                    assert!(text.contains(": its ") || text.contains(": what"), "{text}");
                    assert!(text.ends_with("unprotected."), "{text}");
                }
            }
        }
    }

    #[test]
    fn a_stopped_stream_is_said_until_a_new_transform_takes_its_slot() {
        let mut health = MediaHealth::default();
        let mut camera = stats(Slot::Camera, Direction::Receive);
        camera.processed = 40;
        health.observe(&camera, 0);
        assert!(health.stream_stopped(Slot::Camera, Direction::Receive));
        let stopped = MediaProblem {
            slot: Slot::Camera,
            direction: Direction::Receive,
            cause: DropCause::Stopped,
        };
        assert_eq!(health.problems(), [stopped]);
        assert!(stopped.sentence().contains("hang up and call again"), "{}", stopped.sentence());
        // The same counters again, long after: still stopped (nothing passes there any more).
        health.observe(&camera, 1000);
        assert!(!health.tick(60_000));
        assert_eq!(health.problems(), [stopped]);
        // A new transform for the slot (its counters start again) that gets frames through.
        let mut fresh = stats(Slot::Camera, Direction::Receive);
        fresh.processed = 3;
        assert!(health.observe(&fresh, 61_000));
        assert!(health.problems().is_empty());
        // A slot that stopped before it counted anything: the next transform's first frames
        // clear it, though its counters start no lower.
        assert!(health.stream_stopped(Slot::MicAudio, Direction::Send));
        assert_eq!(health.problems().len(), 1);
        let mut mic = stats(Slot::MicAudio, Direction::Send);
        assert!(!health.observe(&mic, 62_000), "nothing moved yet");
        mic.processed = 1;
        assert!(health.observe(&mic, 63_000));
        assert!(health.problems().is_empty());
    }
}
