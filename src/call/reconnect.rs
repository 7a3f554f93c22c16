//! When the other person goes (for good, or only off the relay) and when the media connection
//! fails: the host makes it again after a delay that grows while attempts keep failing.

use leptos::prelude::*;
use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::{Inbound, Signal};

use super::{Call, CallStatus, now_ms, with_call};

impl Call {
    /// The relay says the other person left. With media still connected, wait: only their
    /// relay connection may have gone (or the relay itself).
    pub(super) fn peer_away(&mut self) {
        if self.media_connected() {
            self.peer_away = true;
        } else {
            self.peer_left();
        }
    }

    /// The other person left: drop everything learnt from them and wait for them to return.
    pub(super) fn peer_left(&mut self) {
        self.peer_away = false;
        // An attempt meant for the old connection must not cut the next person's, and the next
        // person starts a fresh schedule.
        self.retry.reset();
        self.retry_timer = None;
        self.early_offer = None;
        self.session.restart();
        self.reset_media();
        self.set.status.set(CallStatus::PeerLeft);
    }

    /// Schedule the next attempt at the media connection (once: both sides' reports of the
    /// same failure share it), and say when it will be.
    pub(super) fn retry_later(&mut self, hello: Signal) {
        let now = now_ms();
        let attempt = self.retry.failed(now);
        self.show_retry(now);
        if self.retry_timer.is_some() {
            return;
        }
        let weak = self.me.clone();
        let delay = u32::try_from(attempt.at_ms.saturating_sub(now)).unwrap_or(u32::MAX);
        let timer = gloo_timers::callback::Timeout::new(delay, move || {
            with_call(&weak, Call::retry_due);
        });
        self.retry_timer = Some((timer, hello));
    }

    pub(super) fn show_retry(&self, now: u64) {
        if let Some(attempt) = self.retry.pending() {
            self.set.status.set(CallStatus::Retrying {
                in_secs: attempt.seconds_from(now),
                attempt: attempt.number,
            });
        }
    }

    /// The pending attempt is due: make the connection again, unless it recovered meanwhile,
    /// the other person left, or a warning stopped the call's media.
    fn retry_due(&mut self) {
        let Some((_, hello)) = self.retry_timer.take() else { return };
        // The timer is the clock here: whatever the page's clock did meanwhile, it is due.
        self.retry.cancel();
        if self.ended {
            return;
        }
        let warned = matches!(self.session.state(), ShieldState::Warning { .. });
        if self.link.is_none() || warned || (self.session.confirmed() && self.media_connected()) {
            let status =
                if self.media_connected() { CallStatus::Connected } else { CallStatus::Connecting };
            return self.set.status.set(status);
        }
        self.set.status.set(CallStatus::Connecting);
        self.session.restart_connection();
        self.reset_media();
        self.backlog.push(Inbound::Peer(hello));
    }
}
