//! Moving this person's place to another device: ask the relay for a one-time token, show the
//! link; the relay's word that the place moved, here or on the other side; a move link the
//! relay refuses. Out of a transport-only call the move stays transport-only (PROTOCOL.md
//! change 43); out of a locked E2EE call it is re-keyed (change 44): the link carries the
//! move's secret, the new device agrees fresh keys with the other person, and both are told
//! to compare the new security code.

use shieldcall_e2ee::session::{Role, ShieldState};
use shieldcall_protocol::{MoveRefusal, MoveToken, RelayRequest};

use super::{Controller, Effect};
use crate::move_link::MoveLink;

/// What the other person sees when this person's place moves to their other device.
pub const PEER_MOVED: &str = "The other person moved the call to another device.";
/// The same, out of an E2EE call: new keys follow, so a new code.
pub const PEER_MOVED_REKEYED: &str = "The other person moved the call to another device. New \
    keys are being agreed with it: compare the new security code with them.";
/// What the new device says once its re-keyed move locks.
pub const MOVED_HERE_NEW_CODE: &str = "The call moved to this device with new keys. Compare \
    the new security code with the other person.";
/// What the old device shows once the new one has taken its place.
pub const MOVED_AWAY: &str = "This call moved to another device.";
/// Why moving is not offered before the call is set up.
pub const MOVE_NOT_YET: &str = "The call can be moved once it is connected.";

/// What a device that opened a move link the relay refused is told.
pub fn move_refused(reason: MoveRefusal) -> &'static str {
    match reason {
        MoveRefusal::Used => {
            "This move link was already used: a move link works once. To move the call again, \
             get a new link on the device that is in the call."
        }
        MoveRefusal::Expired => {
            "This move link has expired. Get a new one on the device that is in the call."
        }
        MoveRefusal::Unknown => "This move link is not valid for this call.",
    }
}

impl Controller {
    /// Why this call cannot be moved now, if it cannot: only once confirmed, transport-only
    /// (the new device confirms with the same link secret) or locked (it agrees new keys under
    /// the move's secret).
    pub fn move_unavailable(&self) -> Option<&'static str> {
        match self.session.state() {
            _ if self.ended => Some(MOVE_NOT_YET),
            ShieldState::Unlocked { .. } if self.session.confirmed() => None,
            ShieldState::Locked { .. } if self.session.move_secret().is_some() => None,
            _ => Some(MOVE_NOT_YET),
        }
    }

    /// The person asked to move the call: ask the relay for a token.
    pub(super) fn ask_to_move(&mut self) {
        match self.move_unavailable() {
            None => self.emit(Effect::Relay(RelayRequest::Move {})),
            Some(why) => self.notice(why),
        }
    }

    /// The relay's token: show the link (until it expires), if moving is still allowed.
    pub(super) fn move_token(&mut self, token: MoveToken, ttl_secs: u64) {
        if self.move_unavailable().is_some() {
            return self.log("relay: a move token nobody asked for now");
        }
        let commitment = match self.role {
            Role::Host => None,
            Role::Guest => self.session.commitment(),
        };
        let (secret, rekeyed) = match self.session.move_secret() {
            Some(secret) => (secret, true),
            None => (self.session.link_secret().clone(), false),
        };
        let link = MoveLink { role: self.role, token, secret, rekeyed, commitment };
        // The latest token of a place is the one that counts: this is no transfer now.
        self.handing_to = None;
        self.move_link_until = Some(self.now + ttl_secs * 1000);
        self.emit(Effect::ShowMoveLink { link, ttl_secs });
    }

    /// Locked after a re-keyed move, a guest's page keeps the link it can reload with.
    pub(super) fn keep_link(&mut self) {
        if !std::mem::take(&mut self.keep_link_when_locked) {
            return;
        }
        if let Some(commitment) = self.session.commitment() {
            let secret = self.session.link_secret().clone();
            self.emit(Effect::KeepLink { commitment, secret });
        }
    }

    /// Once a second: a move link past its time is taken off the screen.
    pub(super) fn move_link_tick(&mut self) {
        if self.move_link_until.is_some_and(|until| self.now >= until) {
            self.move_link_until = None;
            self.emit(Effect::HideMoveLink);
        }
    }

    /// The relay says the other person's place went to their other device: a new agreement
    /// and connection with it, as after a reconnection, without anyone doing anything.
    pub(super) fn peer_moved(&mut self) {
        // A parked place is taken as a move is: the hold ends.
        let picked_up = std::mem::take(&mut self.held);
        let rekeyed = self.session.move_secret().is_some();
        self.start_afresh_with_new_device();
        self.notice(if picked_up {
            super::handover::PICKED_UP
        } else if rekeyed {
            PEER_MOVED_REKEYED
        } else {
            PEER_MOVED
        });
        self.keep_link_when_locked |= rekeyed && self.role == Role::Guest;
    }

    /// The other person's place is someone else's now (their other device, a pickup, a
    /// transfer): a new agreement and connection, as after a reconnection.
    pub(super) fn start_afresh_with_new_device(&mut self) {
        // The session first: it takes the move's secret from the agreement `peer_left` ends.
        self.session.peer_moved();
        self.peer_left();
        self.session.expect_peer();
        self.say_hello();
    }
}
