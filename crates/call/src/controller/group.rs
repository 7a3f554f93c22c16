//! This controller's pair in a group call: opening the call to more people (transport-only,
//! once confirmed), joining a group (only with E2EE off), and a full group.

use shieldcall_e2ee::session::{Role, ShieldState};
use shieldcall_protocol::{RelayFeature, RelayRequest};

use crate::texts::lacked_by_relay;

use super::{Controller, Effect};
use crate::group::{
    AddLink, GROUP_FULL, GROUP_LOST, GROUP_NEEDS_E2EE_OFF, GROUP_NOT_YET, GROUP_REFUSED,
    GROUP_WITHOUT_E2EE, MERGE_LOST, MERGE_REFUSED, MERGED_AWAY, MERGED_HERE, MERGING, MergeLink,
};

/// How long the tab whose call is merged away stays, so its message crosses the channel.
const MERGE_HANDOVER_MS: u64 = 3000;

/// How long the relay's `group` may take after `open-group` (ms): an ask left without an
/// answer is given up, so that a `group` much later (the other person adding someone, say)
/// shows no old link and merges no other call.
const GROUP_ANSWER_MS: u64 = 10_000;

/// What waits for the relay to open the room to a group.
pub(super) enum GroupAsked {
    /// The add link, to show.
    Add(AddLink),
    /// The merge, to offer the person's other tabs.
    Merge(MergeLink),
}

impl GroupAsked {
    fn same_kind(&self, other: &GroupAsked) -> bool {
        matches!(
            (self, other),
            (GroupAsked::Add(_), GroupAsked::Add(_)) | (GroupAsked::Merge(_), GroupAsked::Merge(_))
        )
    }

    fn into_effect(self) -> Effect {
        match self {
            GroupAsked::Add(link) => Effect::ShowAddLink(link),
            GroupAsked::Merge(link) => Effect::OfferMerge(link),
        }
    }

    /// What the person is told when the room did not open: `refused` by the relay, or the
    /// socket it was asked on closed.
    fn not_opened(&self, refused: bool) -> &'static str {
        match (self, refused) {
            (GroupAsked::Add(_), true) => GROUP_REFUSED,
            (GroupAsked::Add(_), false) => GROUP_LOST,
            (GroupAsked::Merge(_), true) => MERGE_REFUSED,
            (GroupAsked::Merge(_), false) => MERGE_LOST,
        }
    }
}

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

    /// The relay's `joined` says what it does not offer: the page's menu says so.
    pub(super) fn relay_lacks(&mut self, lacks: &[RelayFeature]) {
        if self.relay_lacks != lacks {
            self.relay_lacks = lacks.to_vec();
            let group = lacked_by_relay(RelayFeature::Group, lacks);
            let park = lacked_by_relay(RelayFeature::Park, lacks);
            self.emit(Effect::RelayLacks { group, park });
        }
    }

    /// The person asks to add someone: the relay opens the room, and once it says so the page
    /// shows the link (a link to a room that stayed closed would meet `full`).
    pub(super) fn add_participant(&mut self) {
        if let Some(link) = self.add_link() {
            self.ask_for_group(GroupAsked::Add(link));
        }
    }

    /// The add link of this call, if it may become a group now.
    fn add_link(&mut self) -> Option<AddLink> {
        // This call's relay must offer groups too (what a call merged into it asks of its own
        // relay is that call's business).
        let why = self.group_unavailable();
        if let Some(why) = why.or_else(|| lacked_by_relay(RelayFeature::Group, &self.relay_lacks)) {
            self.notice(why);
            return None;
        }
        let commitment = match self.role {
            Role::Host => self.session.link_commitment(),
            Role::Guest => match self.session.commitment() {
                Some(commitment) => commitment,
                None => {
                    self.notice(GROUP_NOT_YET);
                    return None;
                }
            },
        };
        Some(AddLink { commitment, secret: self.session.link_secret().clone() })
    }

    /// Ask the relay to open the room, unless it is a group already, and do `asked` once it is
    /// (an add link and a merge may both wait; a second press of one replaces the first).
    fn ask_for_group(&mut self, asked: GroupAsked) {
        if self.in_group {
            return self.emit(asked.into_effect());
        }
        self.group_asked.retain(|waiting| !waiting.same_kind(&asked));
        self.group_asked.push(asked);
        self.group_asked_at = self.now;
        self.emit(Effect::Relay(RelayRequest::OpenGroup {}));
    }

    /// The relay refused to open the room (a cluster has no groups; a place is parked), did
    /// not answer in time, or the socket it was asked on closed: nobody is sent a link, and
    /// the person is told.
    pub(super) fn group_not_opened(&mut self, refused: bool) {
        for asked in std::mem::take(&mut self.group_asked) {
            self.notice(asked.not_opened(refused));
        }
    }

    /// The person merges their other call into this one: this call opens to a group, and
    /// then the other tab is told where its peer is to go.
    pub(super) fn merge(&mut self) {
        if let Some(add) = self.add_link() {
            let call_id = self.call_id;
            self.notice(MERGING);
            self.ask_for_group(GroupAsked::Merge(MergeLink { call_id, add }));
        }
    }

    /// The person's other tab merges this call into its own: the peer is sent the link over
    /// the data channel (never the relay), and this page leaves once it has crossed. Only in a
    /// call confirmed transport-only, whose channel is open.
    pub(super) fn merge_into(&mut self, link: MergeLink) {
        if link.call_id == self.call_id {
            return;
        }
        if self.group_unavailable().is_some() || self.channel_open.is_none() {
            return self.log("a merge this call cannot take part in now");
        }
        self.emit(Effect::SendBinary(link.to_message()));
        self.merge_leaves_at = Some(self.now + MERGE_HANDOVER_MS);
    }

    /// Once a second: an ask the relay left unanswered is given up.
    pub(super) fn group_tick(&mut self) {
        if !self.group_asked.is_empty() && self.now >= self.group_asked_at + GROUP_ANSWER_MS {
            self.group_not_opened(true);
        }
    }

    /// Once a second: the merged-away call leaves once its message has had time to cross.
    pub(super) fn merge_tick(&mut self) {
        if self.merge_leaves_at.is_some_and(|at| self.now >= at) {
            self.merge_leaves_at = None;
            self.end(Some(MERGED_AWAY.into()), true);
        }
    }

    /// The other person merged this call into another of theirs: go there (only from a call
    /// confirmed transport-only; under E2EE nothing on the channel is plain).
    pub(super) fn merge_received(&mut self, bytes: &[u8]) {
        let Some(link) = MergeLink::from_message(bytes) else {
            return self.notice("A merge message was dropped: it is not valid.");
        };
        if self.group_unavailable().is_some() {
            return self.log("a merge message outside a confirmed transport-only call");
        }
        self.notice(MERGED_HERE);
        self.emit(Effect::FollowMerge(link));
        self.end(Some(MERGED_HERE.into()), true);
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
        self.in_group = true;
        // The room is open: the links this page asked it for lead somewhere now.
        for asked in std::mem::take(&mut self.group_asked) {
            self.emit(asked.into_effect());
        }
        // A member's pair has no socket of its own: the group layer (crate::group) answers for
        // it with one `joined`, as the relay would its join.
        if !self.relay_opened {
            self.join_outstanding = true;
        }
        if !self.session.has_peer() {
            self.session.join_group();
        }
    }

    /// The relay's answer to this page's join: the group holds as many as it may. (Only as
    /// that answer: in a call going on it would be forged.)
    pub(super) fn group_full(&mut self) {
        if !std::mem::take(&mut self.join_outstanding) {
            return self.log("relay: an answer to no join sent");
        }
        self.end(Some(GROUP_FULL.into()), false);
    }
}
