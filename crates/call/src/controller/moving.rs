//! Moving this person's place to another device (transport-only calls): ask the relay for a
//! one-time token, show the link; the relay's word that the place moved, here or on the other
//! side; a move link the relay refuses.

use shieldcall_e2ee::session::{Role, ShieldState};
use shieldcall_protocol::{MoveRefusal, MoveToken, RelayRequest};

use super::{Controller, Effect};
use crate::move_link::MoveLink;

/// What the other person sees when this person's place moves to their other device.
pub const PEER_MOVED: &str = "The other person moved the call to another device.";
/// What the old device shows once the new one has taken its place.
pub const MOVED_AWAY: &str = "This call moved to another device.";
/// Why moving is not offered under end-to-end encryption.
pub const MOVE_NEEDS_E2EE_OFF: &str =
    "Moving to another device needs a call without end-to-end encryption.";
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
    /// Why this call cannot be moved now, if it cannot: only a transport-only call, once
    /// confirmed (the new device confirms with the same link secret).
    pub fn move_unavailable(&self) -> Option<&'static str> {
        match self.session.state() {
            _ if self.ended => Some(MOVE_NOT_YET),
            ShieldState::Unlocked { .. } if self.session.confirmed() => None,
            ShieldState::Locked { .. } => Some(MOVE_NEEDS_E2EE_OFF),
            _ if self.session.offers_e2ee() && self.session.e2ee_intended() => {
                Some(MOVE_NEEDS_E2EE_OFF)
            }
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
            Role::Guest => self.commitment,
        };
        let link =
            MoveLink { role: self.role, token, secret: self.link_secret.clone(), commitment };
        // The latest token of a place is the one that counts: this is no transfer now.
        self.handing_to = None;
        self.move_link_until = Some(self.now + ttl_secs * 1000);
        self.emit(Effect::ShowMoveLink { link, ttl_secs });
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
        self.start_afresh_with_new_device();
        self.notice(if picked_up { super::handover::PICKED_UP } else { PEER_MOVED });
    }

    /// The other person's place is someone else's now (their other device, a pickup, a
    /// transfer): a new agreement and connection, as after a reconnection.
    pub(super) fn start_afresh_with_new_device(&mut self) {
        self.peer_left();
        self.session.peer_moved();
        self.session.expect_peer();
        self.say_hello();
    }
}
