//! Moving this person's place to another device: ask the relay for a one-time token, show the
//! link; the relay's word that the place moved, here or on the other side; a move link the
//! relay refuses. Out of a transport-only call the move stays transport-only (PROTOCOL.md
//! change 43); out of a locked E2EE call it is re-keyed (change 44): the link carries the
//! move's secret, the new device agrees fresh keys with the other person, and both are told
//! to compare the new security code.

use rand_core::{OsRng, RngCore};
use shieldcall_e2ee::session::{MAX_MOVE_TTL_SECS, Role, ShieldState};
use shieldcall_protocol::{MoveIntent, MoveRefusal, MoveToken, RelayRequest};

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
/// What the person is told when the relay's connection dropped before it answered a move.
pub const MOVE_LOST: &str =
    "The call was not moved: the connection to the relay dropped. Move it again.";
/// What the person is told when the relay refused a move (in a group, or a place no longer
/// this page's).
pub const MOVE_REFUSED: &str =
    "The call was not moved: this call's relay refused to move it. The call goes on here.";
/// Why moving is not offered under a red shield.
pub const MOVE_NOT_WHILE_RED: &str =
    "The call cannot be moved while its shield is red: there is nothing safe to move.";
/// What the other person sees when the relay says this person moved, in a locked call, without
/// their announcement: the relay's word alone moves nothing under E2EE.
pub const PEER_MOVED_UNANNOUNCED: &str = "The relay says the other person moved the call to \
    another device, but they did not announce it in the call: waiting for them to come back.";

/// How long after asking a move token may come (ms): anything later, or unasked, is ignored,
/// so that a relay cannot make a move link show by itself.
const MOVE_ANSWER_MS: u64 = 10_000;

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
    /// (the new device confirms with the same link secret) or locked with the media connection
    /// open (the move is announced on it, and the new device agrees keys under its secret).
    pub fn move_unavailable(&self) -> Option<&'static str> {
        let channel_open = self.channel_open.is_some() && self.channel_open == self.current_link();
        match self.session.state() {
            _ if self.ended => Some(MOVE_NOT_YET),
            ShieldState::Unlocked { .. } if self.session.confirmed() => None,
            ShieldState::Locked { .. } if self.session.moves_rekeyed() && channel_open => None,
            ShieldState::Warning { .. } => Some(MOVE_NOT_WHILE_RED),
            _ => Some(MOVE_NOT_YET),
        }
    }

    /// The person asked to move the call: ask the relay for a token.
    pub(super) fn ask_to_move(&mut self) {
        match self.move_unavailable() {
            None => {
                self.move_asked_at = Some(self.now);
                self.emit(Effect::Relay(RelayRequest::Move {}))
            }
            Some(why) => self.notice(why),
        }
    }

    /// The relay socket this page's move request went on closed: if the answer was still
    /// waited for, the person is told, and can ask again.
    pub(super) fn forget_move_asked(&mut self) {
        if self.move_asked_at.take().is_some_and(|at| self.now <= at + MOVE_ANSWER_MS) {
            self.notice(MOVE_LOST);
        }
    }

    /// The relay refused this page's move request: if it is still waited for, the person is
    /// told, and can ask again.
    pub(super) fn move_request_refused(&mut self) {
        if self.move_asked_at.take().is_some() {
            self.notice(MOVE_REFUSED);
        }
    }

    /// The relay's token: show the link (until it expires), if this page asked for one just
    /// now and moving is still allowed. Out of a locked call the move is first announced to
    /// the other person on the media connection, with a fresh nonce the link's secret comes
    /// from.
    pub(super) fn move_token(&mut self, token: MoveToken, ttl_secs: u64) {
        let asked = self.move_asked_at.take().is_some_and(|at| self.now <= at + MOVE_ANSWER_MS);
        if !asked || self.move_unavailable().is_some() {
            return self.log("relay: a move token nobody asked for now");
        }
        let commitment = match self.role {
            Role::Host => None,
            Role::Guest => self.session.commitment(),
        };
        let ttl = u32::try_from(ttl_secs).unwrap_or(u32::MAX).min(MAX_MOVE_TTL_SECS);
        let (secret, rekeyed) = if self.session.moves_rekeyed() {
            let mut nonce = [0u8; 16];
            OsRng.fill_bytes(&mut nonce);
            let Some((intent, secret)) = self.session.announce_move(nonce, ttl) else { return };
            self.emit(Effect::SendBinary(intent.to_message()));
            (secret, true)
        } else {
            (self.session.link_secret().clone(), false)
        };
        let link = MoveLink { role: self.role, token, secret, rekeyed, commitment };
        // The latest token of a place is the one that counts: this is no transfer now.
        (self.transfer_asked, self.handing_to) = (None, None);
        self.move_link_until = Some(self.now + u64::from(ttl) * 1000);
        self.link_made_for_another_device = true;
        self.emit(Effect::ShowMoveLink { link, ttl_secs: u64::from(ttl) });
    }

    /// The other person's move intent, from the media connection.
    pub(super) fn peer_move_intent(&mut self, intent: &MoveIntent) {
        match self.session.peer_move_intent(intent, self.now) {
            Ok(()) => self.log("the other person announced a move to another device"),
            Err(why) => self.log(format!("a move announcement was dropped: {why}")),
        }
    }

    /// Confirmed after a re-keyed move, a guest's page keeps the link it can reload with.
    pub(super) fn keep_link(&mut self) {
        if !self.session.confirmed() || !std::mem::take(&mut self.keep_link_when_confirmed) {
            return;
        }
        if let Some(commitment) = self.session.commitment() {
            let secret = self.session.link_secret().clone();
            self.emit(Effect::KeepLink { commitment, secret });
        }
    }

    /// Take the move link off the screen, if one shows.
    pub(super) fn hide_move_link(&mut self) {
        if self.move_link_until.take().is_some() {
            self.emit(Effect::HideMoveLink);
        }
    }

    /// Once a second: a move link past its time, or of a call that can no longer move (the
    /// other person left, the shield turned red), is taken off the screen.
    pub(super) fn move_link_tick(&mut self) {
        if self.move_link_until.is_some_and(|until| self.now >= until)
            || self.move_unavailable().is_some()
        {
            self.hide_move_link();
        }
    }

    /// The relay says the other person's place went to their other device: a new agreement
    /// and connection with it, as after a reconnection, without anyone doing anything. Out of
    /// a locked call, only a move they announced is re-keyed; the relay's word alone is taken
    /// as them leaving.
    pub(super) fn peer_moved(&mut self) {
        if self.session.moves_rekeyed() && !self.session.peer_move_announced(self.now) {
            // As if the relay said they left: while media still flows the call goes on, and
            // a new key that comes is the attack it always was.
            self.notice(PEER_MOVED_UNANNOUNCED);
            return self.peer_away();
        }
        // A parked place is taken as a move is: the hold ends.
        let picked_up = std::mem::take(&mut self.held);
        let rekeyed = self.start_afresh_with_new_device();
        self.notice(if picked_up {
            super::handover::PICKED_UP
        } else if rekeyed {
            PEER_MOVED_REKEYED
        } else {
            PEER_MOVED
        });
        self.keep_link_when_confirmed |= rekeyed && self.role == Role::Guest;
    }

    /// The other person's place is someone else's now (their other device, a pickup, a
    /// transfer): a new agreement and connection, as after a reconnection. Whether it is
    /// re-keyed (a move out of an E2EE call).
    pub(super) fn start_afresh_with_new_device(&mut self) -> bool {
        // The session first: it takes the move's secret from the agreement `peer_left` ends.
        let rekeyed = self.session.peer_moved(self.now);
        self.peer_left();
        self.session.expect_peer();
        self.say_hello();
        rekeyed
    }
}
