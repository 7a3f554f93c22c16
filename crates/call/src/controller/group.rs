//! This controller's pair in a group call: opening the call to more people (transport-only,
//! once confirmed), joining a group (only with E2EE off), and a full group.

use shieldcall_e2ee::session::{Role, ShieldState};
use shieldcall_protocol::RelayRequest;

use super::{Controller, Effect};
use crate::group::{AddLink, GROUP_FULL, GROUP_NEEDS_E2EE_OFF, GROUP_NOT_YET, GROUP_WITHOUT_E2EE};

impl Controller {
    /// Why no one can be added now, if no one can: only to a transport-only call, once
    /// confirmed (the new people confirm with the same link secret).
    pub fn group_unavailable(&self) -> Option<&'static str> {
        match self.session.state() {
            _ if self.ended => Some(GROUP_NOT_YET),
            ShieldState::Unlocked { .. } if self.session.confirmed() => None,
            ShieldState::Locked { .. } => Some(GROUP_NEEDS_E2EE_OFF),
            _ if self.session.offers_e2ee() && self.session.e2ee_intended() => {
                Some(GROUP_NEEDS_E2EE_OFF)
            }
            _ => Some(GROUP_NOT_YET),
        }
    }

    /// The person asks to add someone: the relay opens the room, and the page shows the link.
    pub(super) fn add_participant(&mut self) {
        if let Some(why) = self.group_unavailable() {
            return self.notice(why);
        }
        let commitment = match self.role {
            Role::Host => self.session.link_commitment(),
            Role::Guest => match self.commitment {
                Some(commitment) => commitment,
                None => return self.notice(GROUP_NOT_YET),
            },
        };
        self.emit(Effect::Relay(RelayRequest::OpenGroup {}));
        self.emit(Effect::ShowAddLink(AddLink { commitment, secret: self.link_secret.clone() }));
    }

    /// The relay says this call is a group: a page that asked for E2EE leaves, saying why
    /// (a group has none, and the relay alone cannot be trusted to say so), unless its call
    /// is already confirmed transport-only (its person has been shown so); otherwise, an
    /// agreement not yet begun accepts a host key other than the link's, as only a
    /// transport-only agreement may (its confirmation, keyed by the link secret, still proves
    /// the transcript).
    pub(super) fn join_group(&mut self) {
        let transport_only = self.session.confirmed()
            && matches!(self.session.state(), ShieldState::Unlocked { .. });
        if self.session.offers_e2ee() && !transport_only {
            return self.end(Some(GROUP_WITHOUT_E2EE.into()), false);
        }
        if !self.session.has_peer() {
            self.session.peer_moved();
        }
    }

    pub(super) fn group_full(&mut self) {
        self.end(Some(GROUP_FULL.into()), false);
    }
}
