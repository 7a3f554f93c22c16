//! The E2EE health view of the shield's panel: per track and direction, what the media worker
//! did with its frames (encrypted or decrypted, how many through WebCrypto, authentication
//! failures, other drops, key-frame requests) and which keys it runs under. A person, or a
//! support engineer, reads a key problem (authentication failures) apart from a network one
//! (frames that stop coming, with nothing failing).
//!
//! Fed with the worker's counters ([`TransformStats`], cumulative per transform) and the
//! commands the page gives the worker; turned into rows and sentences here, shown as they are by
//! the panel.

use shieldcall_protocol::{Direction, Slot, TransformStats, WorkerCommand};

/// What the worker does with frames, as far as the page told it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyState {
    /// No keys yet: every frame is dropped.
    #[default]
    Waiting,
    /// End-to-end keys of this epoch.
    Keys { epoch: u64 },
    /// Transport encryption only: frames pass unchanged.
    TransportOnly,
}

/// One row of the health table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthRow {
    /// The track and direction, in words: "Video sent".
    pub track: String,
    /// A stable hook: `camera-send`, `mic-audio-receive`, ...
    pub hook: String,
    /// Frames encrypted (sent) or decrypted (received).
    pub frames: u64,
    /// Of those, the ones whose AES-GCM ran in WebCrypto.
    pub webcrypto: u64,
    /// Received frames that failed authentication (a wrong key, or tampering).
    pub auth_failures: u64,
    /// Every other dropped frame (no key yet, unknown key, replay, malformed, codec).
    pub other_drops: u64,
    pub key_frame_requests: u64,
}

/// The counters of every transform of the current media worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct E2eeHealth {
    tracks: Vec<TransformStats>,
    keys: KeyState,
}

impl E2eeHealth {
    /// A transform's counters (the latest report of a transform replaces the one before).
    pub fn observe(&mut self, stats: &TransformStats) {
        let key = (stats.slot, stats.direction);
        match self.tracks.iter_mut().find(|t| (t.slot, t.direction) == key) {
            Some(track) => *track = stats.clone(),
            None => self.tracks.push(stats.clone()),
        }
    }

    /// A command to the worker: what it does with frames from now on.
    pub fn command(&mut self, command: &WorkerCommand) {
        self.keys = match command {
            WorkerCommand::UseKeys { epoch, .. } => KeyState::Keys { epoch: *epoch },
            WorkerCommand::TransportOnly => KeyState::TransportOnly,
            WorkerCommand::AwaitKeys => KeyState::Waiting,
            _ => return,
        };
    }

    /// A fresh worker (a new connection): its transforms count from zero, and it has no keys.
    pub fn new_worker(&mut self) {
        *self = E2eeHealth::default();
    }

    pub fn keys(&self) -> KeyState {
        self.keys
    }

    /// The keys, in words.
    pub fn keys_text(&self) -> String {
        match self.keys {
            KeyState::Waiting => {
                "No keys yet: every frame is dropped until they are agreed.".into()
            }
            KeyState::Keys { epoch } => format!("End-to-end keys, epoch {epoch}."),
            KeyState::TransportOnly => {
                "No end-to-end keys: frames pass with transport encryption only.".into()
            }
        }
    }

    /// The rows, audio first, then video, the screen and its sound; sent before received.
    pub fn rows(&self) -> Vec<HealthRow> {
        let mut tracks: Vec<&TransformStats> =
            self.tracks.iter().filter(|t| t.slot != Slot::Chat).collect();
        tracks.sort_by_key(|t| (order(t.slot), t.direction == Direction::Receive));
        tracks
            .into_iter()
            .map(|t| HealthRow {
                track: format!("{} {}", media(t.slot), way(t.direction)),
                hook: format!("{}-{}", hook(t.slot), hook_way(t.direction)),
                frames: t.processed,
                webcrypto: t.webcrypto,
                auth_failures: t.dropped_bad_tag,
                other_drops: t.dropped() - t.dropped_bad_tag,
                key_frame_requests: t.key_frame_requests,
            })
            .collect()
    }

    /// One sentence on what the counters say.
    pub fn summary(&self) -> &'static str {
        let received = || self.tracks.iter().filter(|t| t.direction == Direction::Receive);
        if received().any(|t| t.dropped_bad_tag > 0) {
            "Some received frames failed authentication: they were dropped. That is a key \
             problem (or tampering), not a network one."
        } else if self.tracks.is_empty() {
            "No media has gone through the encryption yet."
        } else if received().any(|t| t.processed > 0) {
            "Every received frame that was decrypted passed authentication."
        } else {
            "No frame received yet: if this lasts, the network is the likely cause."
        }
    }
}

fn order(slot: Slot) -> u8 {
    match slot {
        Slot::MicAudio => 0,
        Slot::Camera => 1,
        Slot::ScreenVideo => 2,
        Slot::ScreenAudio => 3,
        Slot::Chat => 4,
    }
}

fn media(slot: Slot) -> &'static str {
    match slot {
        Slot::MicAudio => "Audio",
        Slot::Camera => "Video",
        Slot::ScreenVideo => "Screen",
        Slot::ScreenAudio => "Screen sound",
        Slot::Chat => "Chat",
    }
}

fn way(direction: Direction) -> &'static str {
    match direction {
        Direction::Send => "sent",
        Direction::Receive => "received",
    }
}

fn hook(slot: Slot) -> &'static str {
    match slot {
        Slot::MicAudio => "audio",
        Slot::Camera => "video",
        Slot::ScreenVideo => "screen",
        Slot::ScreenAudio => "screen-audio",
        Slot::Chat => "chat",
    }
}

fn hook_way(direction: Direction) -> &'static str {
    match direction {
        Direction::Send => "send",
        Direction::Receive => "receive",
    }
}

#[cfg(test)]
mod tests {
    use shieldcall_protocol::SecretBytes;

    use super::*;

    fn stats(slot: Slot, direction: Direction, processed: u64) -> TransformStats {
        TransformStats { processed, ..TransformStats::new(slot, direction) }
    }

    #[test]
    fn rows_come_audio_video_screen_sent_before_received_with_their_counters() {
        let mut health = E2eeHealth::default();
        health.observe(&stats(Slot::ScreenVideo, Direction::Receive, 5));
        health.observe(&TransformStats {
            webcrypto: 90,
            dropped_bad_tag: 3,
            dropped_replay: 1,
            dropped_no_key: 2,
            key_frame_requests: 4,
            ..stats(Slot::Camera, Direction::Receive, 100)
        });
        health.observe(&stats(Slot::Camera, Direction::Send, 7));
        health.observe(&stats(Slot::MicAudio, Direction::Receive, 50));
        let rows = health.rows();
        let tracks: Vec<&str> = rows.iter().map(|r| r.track.as_str()).collect();
        assert_eq!(tracks, ["Audio received", "Video sent", "Video received", "Screen received"]);
        let video = &rows[2];
        assert_eq!(video.hook, "video-receive");
        assert_eq!(
            (video.frames, video.webcrypto, video.auth_failures, video.other_drops),
            (100, 90, 3, 3)
        );
        assert_eq!(video.key_frame_requests, 4);
    }

    #[test]
    fn a_new_report_replaces_the_old_and_a_new_worker_starts_from_nothing() {
        let mut health = E2eeHealth::default();
        health.observe(&stats(Slot::Camera, Direction::Send, 7));
        health.observe(&stats(Slot::Camera, Direction::Send, 30));
        assert_eq!(health.rows().len(), 1);
        assert_eq!(health.rows()[0].frames, 30);
        health.command(&WorkerCommand::UseKeys {
            suite: 4,
            epoch: 2,
            send: SecretBytes::new(vec![0; 16]),
            receive: SecretBytes::new(vec![0; 16]),
        });
        assert_eq!(health.keys(), KeyState::Keys { epoch: 2 });
        assert_eq!(health.keys_text(), "End-to-end keys, epoch 2.");
        health.new_worker();
        assert!(health.rows().is_empty());
        assert_eq!(health.keys(), KeyState::Waiting);
    }

    #[test]
    fn the_keys_follow_the_commands_and_other_commands_change_nothing() {
        let mut health = E2eeHealth::default();
        health.command(&WorkerCommand::TransportOnly);
        assert_eq!(health.keys(), KeyState::TransportOnly);
        assert!(health.keys_text().contains("transport encryption only"));
        health.command(&WorkerCommand::SealChat { id: 1, text: "hi".into() });
        assert_eq!(health.keys(), KeyState::TransportOnly);
        health.command(&WorkerCommand::AwaitKeys);
        assert!(health.keys_text().starts_with("No keys yet"));
    }

    #[test]
    fn the_summary_tells_a_key_problem_from_a_quiet_network() {
        let mut health = E2eeHealth::default();
        assert!(health.summary().contains("No media"));
        health.observe(&stats(Slot::Camera, Direction::Send, 7));
        health.observe(&stats(Slot::Camera, Direction::Receive, 0));
        assert!(health.summary().contains("network"));
        health.observe(&stats(Slot::Camera, Direction::Receive, 10));
        assert!(health.summary().contains("passed authentication"));
        health.observe(&TransformStats {
            dropped_bad_tag: 1,
            ..stats(Slot::Camera, Direction::Receive, 10)
        });
        assert!(health.summary().contains("key problem"));
    }
}
