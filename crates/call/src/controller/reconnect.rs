//! When the other person goes (for good, or only off the relay) and when the media connection
//! fails: the host makes it again after a delay that grows while attempts keep failing.

use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::{Hello, Inbound, Signal};

use super::{CallStatus, Controller, Effect};

impl Controller {
    /// The relay says the other person left. With media still connected, wait: only their
    /// relay connection may have gone (or the relay itself). Under a relay-only policy, wait
    /// too while this connection's ICE gathering has yet to say whether TURN works: they may
    /// have left because it does not (their browser, gathering first, found out first), and
    /// this side can then say so instead of "left".
    pub(super) fn peer_away(&mut self) {
        if self.media_connected() || self.turn_verdict_pending() {
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
        self.retry_pending = None;
        self.reconnect_when_ready = false;
        self.early_offer = None;
        self.offer_awaiting_certificate = None;
        self.certificate_taken = false;
        self.session.restart();
        self.reset_media();
        self.hide_move_link();
        self.set_status(CallStatus::PeerLeft);
    }

    /// Schedule the next attempt at the media connection (once: both sides' reports of the
    /// same failure share it), and say when it will be. `hello` is the peer's, when theirs
    /// asked for it: it goes in again once the fresh worker runs, and makes the connection.
    pub(super) fn retry_later(&mut self, hello: Option<Hello>) {
        let attempt = self.retry.failed(self.now);
        self.show_retry();
        match &mut self.retry_pending {
            Some(pending) => {
                if pending.is_none() {
                    *pending = hello;
                }
            }
            None => {
                self.emit(Effect::ArmRetry { delay_ms: attempt.at_ms.saturating_sub(self.now) });
                self.retry_pending = Some(hello);
            }
        }
    }

    pub(super) fn show_retry(&mut self) {
        if let Some(attempt) = self.retry.pending() {
            let status = CallStatus::Retrying {
                in_secs: attempt.seconds_from(self.now),
                attempt: attempt.number,
            };
            self.set_status(status);
        }
    }

    /// Whether the shield shows evidence of tampering, which stops the call's media for good.
    /// A confirmation timeout does not: a network outage longer than the wait looks the same,
    /// so connections are still made, and a confirmation that verifies turns it back (change
    /// 56).
    pub(super) fn warned_for_good(&self) -> bool {
        matches!(self.session.state(), ShieldState::Warning { reason } if reason.is_evidence())
    }

    /// The pending attempt is due: make the connection again, unless it recovered meanwhile,
    /// the other person left, or evidence of tampering stopped the call's media.
    pub(super) fn retry_due(&mut self) {
        let Some(hello) = self.retry_pending.take() else { return };
        // The timer is the clock here: whatever the page's clock did meanwhile, it is due.
        self.retry.cancel();
        let warned = self.warned_for_good();
        // Without a hello that asked for it, a connection is made only with a peer known to be
        // the same: after a relay drop their next hello tells (a reloaded page has a new key,
        // and a connection bound to the old one would show a false red shield).
        let unsure_of_peer = hello.is_none() && self.peer_away;
        let recovered = self.session.confirmed() && self.media_connected();
        if !self.link_made() || warned || recovered || unsure_of_peer {
            let status =
                if self.media_connected() { CallStatus::Connected } else { CallStatus::Connecting };
            return self.set_status(status);
        }
        self.set_status(CallStatus::Connecting);
        self.session.restart_connection();
        self.reset_media();
        match hello {
            Some(hello) => self.backlog.push(Inbound::Peer(Signal::Hello(hello))),
            None => self.reconnect_when_ready = true,
        }
    }
}
