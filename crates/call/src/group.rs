//! A small group call (up to four people, transport-only) as a full mesh: one call
//! [`Controller`](crate::controller::Controller) per other member, each pair running the
//! ordinary version-2 agreement (the earlier member plays host), so each pair's DTLS is bound
//! to the link secret by its confirmation. This is who is who, and where each message of the
//! relay goes: to the page's first controller (the call it started with: its partner of the
//! pair that grew, or for someone who joined a group, the earliest member), to another
//! member's controller, or nowhere.
//!
//! A relay cannot make a shield lie with any of it: a page joins a group only with E2EE off
//! (its first controller checks, and ends the call otherwise), every pair is transport-only,
//! and a hello or signal still has to be confirmed with the link secret.

use std::collections::BTreeSet;

use shieldcall_e2ee::link::{Commitment, LinkSecret};
use shieldcall_e2ee::session::Role;
use shieldcall_protocol::{
    CallId, GroupEvent, Inbound, MAX_GROUP, MemberId, RelayEvent, RelayRequest, Signal,
    TurnCredentials,
};

/// Why adding a participant is not offered under end-to-end encryption.
pub const GROUP_NEEDS_E2EE_OFF: &str =
    "Adding a participant needs a call without end-to-end encryption.";
/// Why it is not offered before the call is set up.
pub const GROUP_NOT_YET: &str = "People can be added once the call is connected.";
/// What a page whose E2EE setting is on is told when the call it opens is a group.
pub const GROUP_WITHOUT_E2EE: &str = "This is a group call, without end-to-end encryption, and \
    you asked for end-to-end encryption. To join it, open the link again and turn end-to-end \
    encryption off before you join.";
/// Why no add link is shown: the relay did not open the call to more people (a relay
/// cluster has no groups; a place in the call is being parked).
pub const GROUP_REFUSED: &str =
    "No one can be added now: the relay did not open this call to more people. The call goes on.";
/// Why no add link is shown: the relay socket it was asked on closed first.
pub const GROUP_LOST: &str =
    "No one was added: the connection to the relay dropped. Add them again.";
/// Why the other call was not merged into this one: the relay did not open it.
pub const MERGE_REFUSED: &str = "The calls were not merged: the relay did not open this call to \
    more people. Both calls go on.";
/// Why the other call was not merged: the relay socket it was asked on closed first.
pub const MERGE_LOST: &str =
    "The calls were not merged: the connection to the relay dropped. Merge them again.";
/// What the fifth person is told.
pub const GROUP_FULL: &str = "This group call is full: it holds four people.";
/// What the others see when a member leaves.
pub const MEMBER_LEFT: &str = "Someone left the call.";
/// What the others see when someone new joins.
pub const MEMBER_JOINED: &str = "Someone joined the call.";
/// What the tab that pressed Merge says.
pub const MERGING: &str = "Merging: the person in your other call is being brought into this one.";
/// What the other tab says as it hands its call over.
pub const MERGED_AWAY: &str = "This call was merged into your other call.";
/// What the person whose call is merged sees, on the way to the merged call.
pub const MERGED_HERE: &str = "The other person merged this call with another one: joining it.";

/// The link that adds a person: the call's own guest link (`k=` commitment to the host's key,
/// `s=` link secret). The new person's agreements are transport-only, each confirmed with the
/// secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AddLink {
    pub commitment: Commitment,
    pub secret: LinkSecret,
}

impl std::fmt::Debug for AddLink {
    /// Nothing: the secret is the whole claim to the call.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddLink").finish_non_exhaustive()
    }
}

impl AddLink {
    /// The part after `#` (`g=1` makes the pre-join screen plan no E2EE, as a group has none).
    pub fn to_fragment(&self) -> String {
        format!("k={}&s={}&g=1", self.commitment, self.secret.to_link_text())
    }
}

/// What a merge says where to go: the call that grew to a group and its add link.
///
/// Merging joins two calls of one person (two tabs) into one group call: the tab where the
/// person presses Merge opens its call to a group and tells the person's other tab (a
/// `BroadcastChannel` of this origin: it never leaves the browser); that tab sends this to its
/// peer over its connection's data channel (DTLS, never through the relay, which must not learn
/// the call's secret), as `0x05 || text`, and leaves; the peer's page opens the link.
#[derive(Clone, PartialEq, Eq)]
pub struct MergeLink {
    pub call_id: CallId,
    pub add: AddLink,
}

/// The first byte of the binary data-channel message that carries a [`MergeLink`] (E2EE off;
/// 2 is a media state).
pub const MERGE_KIND: u8 = 5;

impl std::fmt::Debug for MergeLink {
    /// The call only: the secret is the whole claim to it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergeLink").field("call_id", &self.call_id).finish_non_exhaustive()
    }
}

impl MergeLink {
    /// `{call id}#k=..&s=..&g=1`: the path and fragment of the add link, on any origin.
    pub fn to_text(&self) -> String {
        format!("{}#{}", self.call_id, self.add.to_fragment())
    }

    /// Reads [`MergeLink::to_text`]; `None` for anything else (no URL of the sender's choice
    /// is ever opened: the page makes one on its own origin from these parts).
    pub fn parse(text: &str) -> Option<MergeLink> {
        let (id, fragment) = text.split_once('#')?;
        if !is_add_fragment(fragment) {
            return None;
        }
        let part = |name: &str| fragment.split('&').find_map(|part| part.strip_prefix(name));
        let commitment = Commitment::parse(part("k=")?).ok()?;
        let secret = LinkSecret::parse(part("s=")?).ok()?;
        Some(MergeLink { call_id: CallId::parse(id).ok()?, add: AddLink { commitment, secret } })
    }

    /// The binary data-channel message: `0x05 || text`.
    pub fn to_message(&self) -> Vec<u8> {
        let mut message = vec![MERGE_KIND];
        message.extend_from_slice(self.to_text().as_bytes());
        message
    }

    /// Reads [`MergeLink::to_message`].
    pub fn from_message(bytes: &[u8]) -> Option<MergeLink> {
        match bytes {
            [MERGE_KIND, text @ ..] if text.len() < 256 => {
                MergeLink::parse(std::str::from_utf8(text).ok()?)
            }
            _ => None,
        }
    }
}

/// Whether a link's fragment is an add link (a group call's, planning no E2EE).
pub fn is_add_fragment(fragment: &str) -> bool {
    fragment.split('&').any(|part| part == "g=1")
}

/// Where one thing the relay sent goes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// To the page's first controller.
    Main(Inbound),
    /// The first controller joins a group: it checks E2EE is off (or ends the call).
    JoinMain,
    /// Make a controller for member `id`, playing `role`, that starts with `start` (as if the
    /// relay had said it): a host waits for the member's hello, a guest says its own.
    Add { id: MemberId, role: Role, start: Vec<Inbound> },
    /// To member `id`'s controller.
    Peer(MemberId, Inbound),
    /// Member `id` left: its controller and tile go.
    Drop(MemberId),
    /// The group is full: the first controller ends with [`GROUP_FULL`].
    Full,
    /// A message about nobody this page knows: not acted on (a console line says what).
    Ignore(&'static str),
}

/// Who is in the group call, as this page knows it.
#[derive(Clone, Debug, Default)]
pub struct Group {
    me: Option<MemberId>,
    /// The member the first controller talks to.
    main: Option<MemberId>,
    /// Whether that member is in the room now (it may leave, and someone take its place).
    main_here: bool,
    /// The members with a controller of their own.
    others: BTreeSet<MemberId>,
    /// The TURN credentials of the latest `joined`, for the controllers made later.
    turn: Option<TurnCredentials>,
}

/// The earlier member (the lower id) plays host for the pair.
pub fn role_towards(me: MemberId, other: MemberId) -> Role {
    if me < other { Role::Host } else { Role::Guest }
}

impl Group {
    /// Whether this page is in a group call.
    pub fn active(&self) -> bool {
        self.me.is_some()
    }

    /// This page's id in the group.
    pub fn me(&self) -> Option<MemberId> {
        self.me
    }

    /// The member the first controller talks to.
    pub fn main(&self) -> Option<MemberId> {
        self.main
    }

    /// Everyone else in the call, earliest first.
    pub fn members(&self) -> Vec<MemberId> {
        let mut all: Vec<MemberId> = self.others.iter().copied().chain(self.main).collect();
        all.sort_unstable();
        all
    }

    /// The members with a controller of their own (not the first controller's).
    pub fn others(&self) -> impl Iterator<Item = MemberId> + '_ {
        self.others.iter().copied()
    }

    /// How the first controller's signal travels: addressed to its member in a group, as
    /// before in a pair.
    pub fn main_signal(&self, signal: Signal) -> Result<RelayRequest, Signal> {
        match (self.me, self.main) {
            (Some(_), Some(to)) => Ok(RelayRequest::To { to, s: signal }),
            _ => Err(signal),
        }
    }

    /// Where what the relay sent goes.
    pub fn inbound(&mut self, inbound: Inbound) -> Vec<Route> {
        match inbound {
            Inbound::Group(event) => self.event(event),
            Inbound::Relay(RelayEvent::Joined { turn, peers, rejoin, lacks }) => {
                self.turn = turn.clone();
                let joined = RelayEvent::Joined { peers, rejoin, turn, lacks };
                vec![Route::Main(Inbound::Relay(joined))]
            }
            // A pair's news and signals, also those sent just before the pair became a group.
            other => vec![Route::Main(other)],
        }
    }

    fn event(&mut self, event: GroupEvent) -> Vec<Route> {
        match event {
            GroupEvent::Group { me, members } => self.group(me, members),
            // Before any place: this page never joined the group.
            GroupEvent::GroupFull { .. } => vec![Route::Full],
            _ if !self.active() => vec![Route::Ignore("relay: group news in a call of two")],
            GroupEvent::MemberJoined { id } => self.joined(id),
            GroupEvent::MemberLeft { id } => self.left(id),
            GroupEvent::From { from, s } => self.from(from, s),
        }
    }

    /// The room is a group (it opened, or this page joined or came back to one).
    fn group(&mut self, me: MemberId, members: Vec<MemberId>) -> Vec<Route> {
        if members.len() > MAX_GROUP || !members.contains(&me) {
            return vec![Route::Ignore("relay: a group that cannot be")];
        }
        let mut routes = Vec::new();
        if self.me.is_none() {
            self.me = Some(me);
            // The pair's partner, or for someone new, the earliest member.
            self.main = members.iter().copied().find(|&m| m != me);
            routes.push(Route::JoinMain);
        }
        self.main_here = self.main.is_some_and(|main| members.contains(&main));
        if self.main.is_some() && !self.main_here {
            // The partner left while this page was away from the relay.
            routes.push(Route::Main(Inbound::Relay(RelayEvent::PeerLeft)));
        }
        let gone: Vec<MemberId> =
            self.others.iter().copied().filter(|m| !members.contains(m)).collect();
        for id in gone {
            self.others.remove(&id);
            routes.push(Route::Drop(id));
        }
        for id in members {
            if id != me && Some(id) != self.main && !self.others.contains(&id) {
                routes.push(self.add(me, id));
            }
        }
        routes
    }

    fn add(&mut self, me: MemberId, id: MemberId) -> Route {
        self.others.insert(id);
        let role = role_towards(me, id);
        let joined = |peers| {
            Inbound::Relay(RelayEvent::Joined {
                peers,
                rejoin: String::new(),
                turn: self.turn.clone(),
                lacks: Vec::new(),
            })
        };
        // As in a pair: the host hears that the guest arrived and says hello; the guest,
        // arriving where the host is, says its own.
        let start = match role {
            Role::Host => vec![joined(0), Inbound::Relay(RelayEvent::PeerJoined)],
            Role::Guest => vec![joined(1)],
        };
        Route::Add { id, role, start }
    }

    fn joined(&mut self, id: MemberId) -> Vec<Route> {
        let Some(me) = self.me.filter(|&me| me != id) else {
            return vec![Route::Ignore("relay: this page joined itself")];
        };
        let back = Inbound::Relay(RelayEvent::PeerJoined);
        match self.main {
            // Back after a lost connection: it says hello again, as in a pair.
            Some(main) if main == id => {
                if !self.main_here && self.full() {
                    // Someone new took its place meanwhile.
                    return vec![Route::Ignore("relay: more members than a group holds")];
                }
                self.main_here = true;
                vec![Route::Main(back)]
            }
            None => {
                (self.main, self.main_here) = (Some(id), true);
                vec![Route::Main(back)]
            }
            _ if self.others.contains(&id) => vec![Route::Peer(id, back)],
            _ if self.full() => {
                vec![Route::Ignore("relay: more members than a group holds")]
            }
            _ => vec![self.add(me, id)],
        }
    }

    /// Whether the group holds as many as it may: this page, its partner if here, the others.
    /// (Each member costs a connection and a media worker.)
    fn full(&self) -> bool {
        1 + usize::from(self.main_here) + self.others.len() >= MAX_GROUP
    }

    fn left(&mut self, id: MemberId) -> Vec<Route> {
        if self.main == Some(id) {
            self.main_here = false;
            vec![Route::Main(Inbound::Relay(RelayEvent::PeerLeft))]
        } else if self.others.remove(&id) {
            vec![Route::Drop(id)]
        } else {
            vec![Route::Ignore("relay: someone left who never joined")]
        }
    }

    fn from(&mut self, from: MemberId, signal: Signal) -> Vec<Route> {
        // In a group, hanging up is leaving: the others' call goes on.
        let bye = matches!(signal, Signal::Bye { .. });
        if self.main == Some(from) {
            self.main_here &= !bye;
            let inbound =
                if bye { Inbound::Relay(RelayEvent::PeerLeft) } else { Inbound::Peer(signal) };
            vec![Route::Main(inbound)]
        } else if self.others.contains(&from) {
            if bye {
                self.others.remove(&from);
                return vec![Route::Drop(from)];
            }
            vec![Route::Peer(from, Inbound::Peer(signal))]
        } else {
            vec![Route::Ignore("relay: a signal from nobody in the group")]
        }
    }
}
