//! What each side shows of the other: the media state (microphone, camera, screen share) told
//! over the chat channel, and the connection's quality from the browser's statistics.
//!
//! The media state goes as chat does: under E2EE sealed in the worker (chat kind 2, numbered
//! like any message, so a replayed or reordered one is caught by the same sequence checks),
//! with E2EE off as a binary data-channel message (chat is text, so the two cannot be taken
//! for each other), and while the call is neither, not at all. It is sent once the channel is
//! open and the call confirmed (so a late joiner or a reconnection learns it), then on every
//! change. A state that does not open, or is not well formed, is never shown.

use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::{ChatOrder, HANG_UP_KIND, MediaState, MoveIntent, WorkerCommand};

use super::chat::{Early, Pending};
use super::{Controller, Effect};
use crate::quality::{LinkStats, QualityMeter, QualityView};
use crate::remote_media::announcement;

/// Seconds between two readings of the connection's statistics (the clock ticks each second).
const STATS_EVERY_TICKS: u64 = 2;

impl Controller {
    /// Send this person's media state if the other side has not got it yet and it can go.
    pub(super) fn share_media_state(&mut self) {
        let state = self.local_media;
        if self.media_shared == Some(state)
            || self.channel_open.is_none()
            || self.channel_open != self.current_link()
        {
            return;
        }
        match self.session.state() {
            ShieldState::Locked { .. } if self.worker_ready => {
                let id = self.next_chat_id();
                self.chat_pending.push((id, Pending::MediaState));
                self.emit(Effect::Worker(WorkerCommand::SealMediaState { id, state }));
            }
            ShieldState::Unlocked { .. } if self.session.confirmed() => {
                self.emit(Effect::SendBinary(state.to_message().to_vec()));
            }
            // Held back, as chat is, until the call is known to be secure (or known not to be).
            _ => return,
        }
        self.media_shared = Some(state);
    }

    /// The worker could not seal this side's state: said in the console, and tried again with
    /// the next change (nothing the person can act on).
    pub(super) fn media_state_not_sent(&mut self, reason: &str) {
        self.media_shared = None;
        self.log(format!("the media state was not sent: {reason}"));
    }

    /// A binary message on the data channel: a merge; under E2EE a hang-up or a move intent
    /// (chat and the media state come sealed); with E2EE off the other person's media state, a
    /// transfer offer or a hang-up.
    pub(super) fn binary_received(&mut self, bytes: &[u8]) {
        if bytes.first() == Some(&crate::group::MERGE_KIND) {
            return self.merge_received(bytes);
        }
        match self.session.state() {
            // Under E2EE everything on the channel is sealed: a plain state is not theirs to
            // trust.
            ShieldState::Locked { .. } if bytes.first() == Some(&HANG_UP_KIND) => {
                self.hang_up_on_channel(bytes)
            }
            ShieldState::Locked { .. } => match MoveIntent::from_message(bytes) {
                // The plain messages under E2EE (this and a hang-up) carry their own MAC.
                Ok(intent) => self.peer_move_intent(&intent),
                Err(_) => self.notice("A chat message was dropped: not an encrypted chat message."),
            },
            ShieldState::Unlocked { .. } if self.session.confirmed() => {
                match bytes.split_first() {
                    Some((&super::TRANSFER_OFFER_KIND, path)) => {
                        return self.transfer_offer_received(path);
                    }
                    Some((&HANG_UP_KIND, _)) => return self.hang_up_on_channel(bytes),
                    _ => {}
                }
                match MediaState::from_message(bytes) {
                    Ok(state) => self.remote_media_state(state, ChatOrder::InOrder),
                    Err(why) => self.notice(format!("A chat message was dropped: {why}.")),
                }
            }
            // Never shown before it can be checked; kept until then.
            _ => self.hold_early(Early::Binary(bytes.to_vec())),
        }
    }

    /// The other person's state arrived, `order` in their sequence: shown unless it is late
    /// (a newer one was already shown, or a message after it: either way it is stale).
    pub(super) fn remote_media_state(&mut self, state: MediaState, order: ChatOrder) {
        if order == ChatOrder::Late {
            return self.log("a media state that arrived out of order was not shown");
        }
        if self.remote_media == Some(state) {
            return;
        }
        let announce = announcement(self.remote_media, state);
        self.remote_media = Some(state);
        self.emit(Effect::RemoteMedia { state: Some(state), announce });
    }

    /// Once every two ticks, while media flows, ask for the connection's statistics.
    pub(super) fn ask_for_stats(&mut self) {
        if !self.media_connected() || !(self.now / 1000).is_multiple_of(STATS_EVERY_TICKS) {
            return;
        }
        self.emit(Effect::ReadStats { generation: self.generation });
    }

    pub(super) fn link_stats(&mut self, stats: LinkStats) {
        if let Some(view) = self.quality.sample(stats) {
            self.quality_shown = true;
            self.emit(Effect::Quality(Some(view)));
        }
    }

    /// The browser says the connection is interrupted: the icon says so at once (the figures
    /// of before are no longer true), and the readings start afresh once it is back.
    pub(super) fn quality_interrupted(&mut self) {
        self.quality = QualityMeter::default();
        self.quality_shown = true;
        self.emit(Effect::Quality(Some(QualityView::INTERRUPTED)));
    }

    /// The connection went: nothing is known of the other side's media or the connection
    /// until the next one says.
    pub(super) fn indicators_dropped(&mut self) {
        self.channel_open = None;
        self.media_shared = None;
        self.early_chat.clear();
        self.quality = QualityMeter::default();
        if self.remote_media.take().is_some() {
            self.emit(Effect::RemoteMedia { state: None, announce: None });
        }
        if std::mem::take(&mut self.quality_shown) {
            self.emit(Effect::Quality(None));
        }
    }
}
