//! The rooms: who is in which call, and the hand-off of messages between the two members.
//!
//! All state sits behind one `std::sync::Mutex`, held only for a few map operations and never
//! across an `.await`; messages for a member go into that member's bounded queue, drained by its
//! own socket task, so one slow or hostile socket never blocks another room. A queue is bounded
//! in messages and in bytes: a member that does not read is dropped, not buffered for.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use shieldcall_protocol::base64url::{decode16, encode16};
use shieldcall_protocol::{
    GroupEvent, MAX_GROUP, MemberId, MoveRefusal, RelayEvent, RelayFeature, Signal,
};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::config::Config;
use crate::limit::{ClientSlot, PerClient, PerMinute};
use crate::metrics::Metrics;

mod handover;
pub use handover::{HandOver, KICK_PARK_ENDED, ParkLookup, new_park_code};

/// Messages a member may have waiting before it counts as not keeping up and is dropped.
pub const QUEUE_LEN: usize = 256;

/// Why the relay closes a socket: a WebSocket close code and a reason the client may show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kick {
    pub code: u16,
    pub reason: &'static str,
}

pub const KICK_IDLE: Kick = Kick { code: 1000, reason: "room idle: closed by the relay" };
pub const KICK_SLOW: Kick = Kick { code: 1008, reason: "not reading messages fast enough" };
pub const KICK_SHUTDOWN: Kick = Kick { code: 1001, reason: "relay shutting down" };
pub const KICK_REPLACED: Kick =
    Kick { code: 1000, reason: "replaced by a newer connection of the same person" };
/// The place was taken by a move token: the socket gets `moved` rather than an `error`.
pub const KICK_MOVED: Kick = Kick { code: 1000, reason: "moved to another device" };

/// Move tokens a room remembers (used or not), so that a link opened twice is told it was
/// used rather than that it is unknown; the oldest is forgotten first.
const MOVES_REMEMBERED: usize = 8;

/// Pickup codes one client may try a minute: a person mistypes a few times; a guesser, with
/// 2^30 codes to try, gets nowhere.
pub const PICKUPS_PER_MINUTE: u32 = 10;

/// A member's secret claim to its place in a room: 16 random bytes, given to it in `joined`,
/// presented again when it reconnects (unpadded base64url, 22 characters). It stays the same for
/// the life of the place, across reconnections: a `joined` lost on a flapping network must not
/// leave the client holding a token that no longer counts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RejoinToken([u8; 16]);

impl RejoinToken {
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 16];
        // Without the OS's randomness the relay cannot run safely at all.
        getrandom::getrandom(&mut bytes).expect("the OS provides randomness");
        RejoinToken(bytes)
    }

    /// Reads a token as a client sends it; `None` if it is not 22 base64url characters.
    pub fn parse(text: &str) -> Option<Self> {
        decode16(text).map(RejoinToken)
    }

    /// The secret bytes, for the cluster to hash (it stores no token, only its hash).
    pub(crate) fn bytes(&self) -> [u8; 16] {
        self.0
    }

    pub fn to_text(self) -> String {
        encode16(&self.0)
    }

    fn matches(&self, other: &RejoinToken) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for RejoinToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RejoinToken(<redacted>)")
    }
}

/// A member's side of the room, as the other member's task sees it.
struct Member {
    id: u64,
    /// 0 for the first to join, 1 for the second (a rejoin takes the free one).
    slot: usize,
    queue: mpsc::Sender<Utf8Bytes>,
    /// Bytes in `queue`, shared with the member's socket task, which takes them out.
    queued: Arc<AtomicUsize>,
    kick: watch::Sender<Option<Kick>>,
    rejoin: RejoinToken,
    /// Its id in a group call: stable for the place (a rejoin keeps it), unlike `id`.
    place: MemberId,
    /// Parked, and its socket gone: the place is kept for the park's pickup (or its end).
    held: bool,
}

/// A move token the relay issued (the same kind of secret as a rejoin token: 16 random bytes,
/// compared in constant time, never in `Debug`).
struct IssuedMove {
    token: RejoinToken,
    /// The member whose place it moves.
    from: u64,
    expires: Instant,
    used: bool,
    /// A move, a park or a transfer: what the other member is told when it is used.
    kind: HandOver,
}

struct Room {
    members: Vec<Member>,
    last_activity: Instant,
    moves: Vec<IssuedMove>,
    /// A member opened the room to a group (transport-only): up to [`MAX_GROUP`] people,
    /// signals addressed by place. It stays open while anyone is in it.
    group: bool,
    /// The place id the next new member gets (from 1, earliest first).
    next_place: MemberId,
}

impl Room {
    /// What the others hear when the member in `place` leaves.
    fn left_event(&self, place: MemberId) -> String {
        if self.group {
            GroupEvent::MemberLeft { id: place }.to_json()
        } else {
            RelayEvent::PeerLeft.to_json()
        }
    }

    /// `member`'s view of the group: its id and everyone's, earliest first.
    fn group_event(&self, member: MemberId) -> GroupEvent {
        let mut members: Vec<MemberId> = self.members.iter().map(|m| m.place).collect();
        members.sort_unstable();
        GroupEvent::Group { me: member, members }
    }
}

/// What a socket task holds after joining.
pub struct Membership {
    pub id: u64,
    pub slot: usize,
    /// How many were already in the room (0 or 1).
    pub peers: u8,
    /// To give the client, for its next reconnection.
    pub rejoin: RejoinToken,
    /// This socket took the place of an older one of the same client.
    pub replaced: bool,
    /// This socket took its place with a move token (from another device).
    pub moved: bool,
    /// Its id in a group call (unused in a room of two).
    pub place: MemberId,
    /// The room is a group: this goes to the socket before its `joined`.
    pub group: Option<GroupEvent>,
    pub queue: mpsc::Receiver<Utf8Bytes>,
    /// Bytes waiting in `queue`: subtract each message's length on taking it out.
    pub queued: Arc<AtomicUsize>,
    pub kick: watch::Receiver<Option<Kick>>,
}

/// Why a socket did not get a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Two people are already in the call.
    Full,
    /// A group call already holds [`MAX_GROUP`] people.
    GroupFull,
    /// This address opened too many rooms in the last minute.
    TooManyNewRooms,
    /// Cluster mode: this relay cannot reach the engine that holds the rooms.
    ClusterDown,
    /// A move token that takes no place (the room is left as it was).
    Move(MoveRefusal),
}

/// Why a socket was refused before its upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crowded {
    /// The relay holds as many sockets as it may.
    Relay,
    /// This address holds as many sockets as it may.
    Address,
}

/// Outcome of handing a message to the other member.
#[derive(Debug, PartialEq, Eq)]
pub enum Forward {
    Sent,
    NoPeer,
    /// The other member's queue was full: it has been dropped and the message with it.
    PeerTooSlow,
    /// Cluster mode: the other member's relay is not listening (it died; its member will
    /// reconnect to another).
    PeerUnreachable,
    /// Cluster mode: the engine cannot be reached.
    ClusterDown,
    /// The sender's place is no longer its own (in a cluster, or dropped here); its socket is
    /// being closed.
    Lost,
    /// A signal without an addressee in a group of more than two.
    Unaddressed,
    /// An addressed signal for nobody in this group (or in a room that is no group).
    NoSuchMember,
}

/// The relay's shared state.
pub struct Relay {
    rooms: Mutex<HashMap<String, Room>>,
    /// Locked only inside `rooms`, never the other way round.
    new_rooms: Mutex<PerMinute>,
    /// Pickup codes tried, per client: guessing one takes about a billion tries.
    pickups_tried: Mutex<PerMinute>,
    next_id: AtomicU64,
    sockets: AtomicUsize,
    /// Open sockets per client.
    per_client: PerClient,
    max_sockets: usize,
    max_sockets_per_ip: usize,
    max_queued_bytes: usize,
    /// How long a move (or transfer) token stays valid.
    move_ttl: Duration,
    /// How long a parked place is held.
    park_ttl: Duration,
    /// Live parks by the relay's half of their pickup code.
    parks: Mutex<HashMap<String, handover::Park>>,
    shutdown: watch::Sender<bool>,
    pub metrics: Metrics,
    /// With `--cluster`, the rooms live there instead of in `rooms`.
    cluster: Option<Arc<Cluster>>,
}

impl Default for Relay {
    fn default() -> Self {
        Relay::new(&Config::default())
    }
}

/// A call id shortened for logs: enough to follow one call, too little to join it.
pub fn short(call_id: &str) -> String {
    format!("{}…", call_id.get(..4).unwrap_or(call_id))
}

/// Counts an open socket (in all and for its address) while alive: for the caps, and so that
/// shutdown can wait for the closing handshakes.
pub struct SocketGuard {
    relay: Arc<Relay>,
    _client: ClientSlot,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.relay.sockets.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A panic while holding a lock would be a bug in a few lines of map code; the map itself stays
/// consistent, so keep serving rather than poisoning every later call.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Relay {
    /// A relay with the limits of `config`.
    pub fn new(config: &Config) -> Self {
        Relay {
            rooms: Mutex::new(HashMap::new()),
            new_rooms: Mutex::new(PerMinute::new(config.new_rooms_per_minute)),
            pickups_tried: Mutex::new(PerMinute::new(PICKUPS_PER_MINUTE)),
            next_id: AtomicU64::new(1),
            sockets: AtomicUsize::new(0),
            per_client: PerClient::default(),
            max_sockets: config.max_sockets,
            max_sockets_per_ip: config.max_sockets_per_ip,
            max_queued_bytes: config.max_queued_bytes,
            move_ttl: config.move_ttl,
            park_ttl: config.park_ttl,
            parks: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            metrics: Metrics::default(),
            cluster: config
                .cluster
                .as_ref()
                .map(|c| Arc::new(Cluster::new(c, config.max_queued_bytes))),
        }
    }

    /// The cluster this relay shares its rooms with, if any.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Whether `ip` may open one more room now (and count it if so).
    pub fn allow_new_room(&self, ip: IpAddr) -> bool {
        lock(&self.new_rooms).allow(ip, std::time::Instant::now())
    }

    /// Whether `ip` may try one more pickup code now (and count it if so).
    pub fn allow_pickup(&self, ip: IpAddr) -> bool {
        lock(&self.pickups_tried).allow(ip, std::time::Instant::now())
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        lock(&self.rooms)
    }

    /// Count a new socket from `ip`, unless the relay or that address is at its cap.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<SocketGuard, Crowded> {
        // Each count is checked and taken in one step, so two racing sockets cannot both take
        // the last place. The address's first: a socket it refuses never holds a place of the
        // relay's, which another address could have had. A full relay is said first.
        let Some(client) = self.per_client.take(ip, self.max_sockets_per_ip) else {
            let full = self.sockets.load(Ordering::SeqCst) >= self.max_sockets;
            return Err(if full { Crowded::Relay } else { Crowded::Address });
        };
        let below_cap = |n: usize| (n < self.max_sockets).then_some(n + 1);
        if self.sockets.fetch_update(Ordering::SeqCst, Ordering::SeqCst, below_cap).is_err() {
            return Err(Crowded::Relay); // `client` is given back as it drops
        }
        Ok(SocketGuard { relay: self.clone(), _client: client })
    }

    pub fn open_sockets(&self) -> usize {
        self.sockets.load(Ordering::SeqCst)
    }

    /// Rooms with a member on this relay.
    pub fn room_count(&self) -> usize {
        match &self.cluster {
            Some(cluster) => cluster.room_count(),
            None => self.rooms().len(),
        }
    }

    /// Tell every socket and the idle reaper to stop.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Join `call_id` from `ip`. The other member, if any, is told.
    ///
    /// A client that presents the `rejoin` token of a member still in the room takes that
    /// member's place: the old socket (half-open, most likely) is closed, and the other member
    /// hears `peer-joined` (not `peer-left`), so it says hello again to the same person.
    pub fn join(
        &self,
        call_id: &str,
        rejoin: Option<RejoinToken>,
        ip: IpAddr,
    ) -> Result<Membership, Refused> {
        let mut rooms = self.rooms();
        if !rooms.contains_key(call_id)
            && !lock(&self.new_rooms).allow(ip, std::time::Instant::now())
        {
            return Err(Refused::TooManyNewRooms);
        }
        let room = rooms.entry(call_id.to_string()).or_insert_with(|| Room {
            members: Vec::new(),
            last_activity: Instant::now(),
            moves: Vec::new(),
            group: false,
            next_place: 1,
        });
        let stale =
            rejoin.and_then(|token| room.members.iter().position(|m| m.rejoin.matches(&token)));
        let replaced = stale.map(|index| {
            let old = room.members.remove(index);
            old.kick.send_replace(Some(KICK_REPLACED));
            // Its place is its own again: a park of it (held, or its answer lost) is over, and
            // its code says so at once, as on a cluster (PROTOCOL.md change 60).
            handover::end_park_of(room, &self.parks, old.id);
            (old.rejoin, old.place, old.id)
        });
        if room.group && room.members.len() >= MAX_GROUP {
            return Err(Refused::GroupFull);
        }
        if !room.group && room.members.len() >= 2 {
            return Err(Refused::Full);
        }
        let (token, place) = match replaced {
            Some((token, place, _)) => (token, place),
            None => {
                room.next_place += 1;
                (RejoinToken::generate(), room.next_place - 1)
            }
        };
        let mut member = self.seat(room, token, place, RelayEvent::PeerJoined);
        member.replaced = replaced.is_some();
        // A move or transfer link its page still shows takes the place it now holds (a park
        // is over: see above).
        if let Some((_, _, old_id)) = replaced {
            let handed = room.moves.iter_mut().filter(|m| m.from == old_id && !m.used);
            for issued in handed.filter(|m| !matches!(m.kind, HandOver::Park { .. })) {
                issued.from = member.id;
            }
        }
        Ok(member)
    }

    /// Join `call_id` with a move token: take the place of the member that asked for it, which
    /// is told `moved` and closed, while the other member hears `peer-moved`. The new device
    /// gets a fresh rejoin token, so the old device can never take the place back. A token
    /// that was used, has expired, whose member has left, or that this room never issued,
    /// changes nothing (and makes no room).
    pub fn join_moving(
        &self,
        call_id: &str,
        moving: RejoinToken,
        now: Instant,
    ) -> Result<Membership, Refused> {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(call_id).filter(|room| !room.group) else {
            return Err(Refused::Move(MoveRefusal::Unknown));
        };
        let Some(issued) = room.moves.iter_mut().find(|m| m.token.matches(&moving)) else {
            return Err(Refused::Move(MoveRefusal::Unknown));
        };
        if issued.used {
            return Err(Refused::Move(MoveRefusal::Used));
        }
        let from = issued.from;
        let Some(index) = room.members.iter().position(|m| m.id == from) else {
            // Whoever asked for it left the call: there is no place to take.
            return Err(Refused::Move(MoveRefusal::Expired));
        };
        if now >= issued.expires {
            return Err(Refused::Move(MoveRefusal::Expired));
        }
        issued.used = true;
        let event = issued.kind.told_to_the_other();
        if let HandOver::Park { code } = &issued.kind {
            handover::picked_up(&self.parks, code);
        }
        let old = room.members.remove(index);
        old.kick.send_replace(Some(KICK_MOVED));
        let mut member = self.seat(room, RejoinToken::generate(), old.place, event);
        member.moved = true;
        Ok(member)
    }

    /// A token for another device to take member `id`'s place in `call_id` (replacing any
    /// unused earlier one of its own); `None` if it has no place there, or the room is a group
    /// (whose members would all have to follow a place to a new device).
    pub fn issue_move(&self, call_id: &str, id: u64, now: Instant) -> Option<RejoinToken> {
        self.issue(call_id, id, now + self.move_ttl, HandOver::Move)
    }

    /// A token of `kind` for member `id`'s place, valid until `expires`; `None` if it has no
    /// place there.
    fn issue(
        &self,
        call_id: &str,
        id: u64,
        expires: Instant,
        kind: HandOver,
    ) -> Option<RejoinToken> {
        let mut rooms = self.rooms();
        self.issue_in(rooms.get_mut(call_id)?, id, expires, kind)
    }

    /// [`Relay::issue`] in `room`, whose lock the caller holds.
    fn issue_in(
        &self,
        room: &mut Room,
        id: u64,
        expires: Instant,
        kind: HandOver,
    ) -> Option<RejoinToken> {
        if room.group {
            return None;
        }
        if !room.members.iter().any(|m| m.id == id && !m.held) {
            return None;
        }
        // One live link per place: the latest shown is the one that works. An earlier park's
        // code goes with its token, so parking again and again cannot crowd out other codes.
        let mut codes = Vec::new();
        room.moves.retain(|m| {
            let replaced = !m.used && m.from == id;
            if let (true, HandOver::Park { code }) = (replaced, &m.kind) {
                codes.push(code.clone());
            }
            !replaced
        });
        if !codes.is_empty() {
            let mut parks = lock(&self.parks);
            for code in codes {
                parks.remove(&code);
            }
        }
        if room.moves.len() >= MOVES_REMEMBERED {
            room.moves.remove(0);
        }
        let token = RejoinToken::generate();
        room.moves.push(IssuedMove { token, from: id, expires, used: false, kind });
        Some(token)
    }

    /// What this relay does not offer, as `joined` tells each page: a cluster's rooms live in
    /// Redis, which holds no groups (yet), and its nodes park only with a shared secret.
    pub fn lacks(&self) -> Vec<RelayFeature> {
        match self.cluster() {
            Some(cluster) if cluster.parks() => vec![RelayFeature::Group],
            Some(_) => vec![RelayFeature::Group, RelayFeature::Park],
            None => Vec::new(),
        }
    }

    /// Whether `call_id` was opened to a group.
    pub fn is_group(&self, call_id: &str) -> bool {
        self.rooms().get(call_id).is_some_and(|room| room.group)
    }

    /// Seconds a move token stays valid.
    pub fn move_ttl_secs(&self) -> u64 {
        self.move_ttl.as_secs()
    }

    /// How long a move token stays valid.
    pub fn move_ttl(&self) -> Duration {
        self.move_ttl
    }

    /// Give a new socket place `place` in `room` (which has one free), telling the other member
    /// `event` (in a group, every other member `member-joined`).
    fn seat(
        &self,
        room: &mut Room,
        token: RejoinToken,
        place: MemberId,
        event: RelayEvent,
    ) -> Membership {
        let peers = room.members.len() as u8;
        let slot = if room.members.iter().any(|m| m.slot == 0) { 1 } else { 0 };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue_tx, queue_rx) = mpsc::channel(QUEUE_LEN);
        let queued = Arc::new(AtomicUsize::new(0));
        let (kick_tx, kick_rx) = watch::channel(None);
        room.last_activity = Instant::now();
        let event = match room.group {
            true => GroupEvent::MemberJoined { id: place }.to_json(),
            false => event.to_json(),
        };
        for other in &room.members {
            self.deliver(other, event.as_str().into());
        }
        room.members.push(Member {
            id,
            slot,
            queue: queue_tx,
            queued: queued.clone(),
            kick: kick_tx,
            rejoin: token,
            place,
            held: false,
        });
        Membership {
            id,
            slot,
            peers,
            rejoin: token,
            replaced: false,
            moved: false,
            place,
            group: room.group.then(|| room.group_event(place)),
            queue: queue_rx,
            queued,
            kick: kick_rx,
        }
    }

    /// Hand `text` from member `from` to the other member of `call_id`. A member too slow to
    /// take it leaves the room at once (its place is free, the sender hears `peer-left`), so
    /// nothing more is queued for it while its socket task winds down.
    pub fn forward(&self, call_id: &str, from: u64, text: Utf8Bytes) -> Forward {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(call_id) else {
            return Forward::NoPeer;
        };
        // A socket dropped (slow, replaced, reaped) may still have a message under way: it is
        // no longer in the room, so it reaches nobody (its kick closes it next).
        if !room.members.iter().any(|m| m.id == from) {
            return Forward::Lost;
        }
        room.last_activity = Instant::now();
        if room.group && room.members.len() > 2 {
            return Forward::Unaddressed;
        }
        let Some(other) = room.members.iter().find(|m| m.id != from) else {
            return Forward::NoPeer;
        };
        // A parked place has nobody to read.
        if other.held {
            return Forward::NoPeer;
        }
        if self.deliver(other, text) {
            return Forward::Sent;
        }
        let slow = other.id;
        self.drop_slow(room, slow);
        Forward::PeerTooSlow
    }

    /// A member too slow to take its messages leaves the room at once; the others are told.
    fn drop_slow(&self, room: &mut Room, slow: u64) {
        let Some(index) = room.members.iter().position(|m| m.id == slow) else {
            return;
        };
        let gone = room.members.remove(index);
        let left = room.left_event(gone.place);
        for member in &room.members {
            self.deliver(member, left.as_str().into());
        }
    }

    /// Open `call_id` to a group, at member `id`'s request (its page has confirmed the call
    /// transport-only: the relay cannot tell, and a page under E2EE never asks). Every member
    /// hears `group` with its id; `false` if `id` has no place there, or a place is parked
    /// (held, or its park under way): the park's token must keep taking it, and a group's
    /// members address places a pickup would hand to someone else.
    pub fn open_group(&self, call_id: &str, id: u64) -> bool {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(call_id) else {
            return false;
        };
        if !room.members.iter().any(|m| m.id == id) {
            return false;
        }
        let now = Instant::now();
        let parked = room.members.iter().any(|m| m.held)
            || room.moves.iter().any(|m| {
                !m.used
                    && now < m.expires
                    && matches!(m.kind, HandOver::Park { .. })
                    && room.members.iter().any(|member| member.id == m.from)
            });
        if parked {
            return false;
        }
        room.group = true;
        room.last_activity = now;
        // Move links issued before would take a place the others address by id.
        room.moves.clear();
        for member in &room.members {
            self.deliver(member, room.group_event(member.place).to_json().into());
        }
        true
    }

    /// Hand `signal` from member `from` to the member of the group in place `to` only, as
    /// `from` with the sender's place (the relay's, not anything the sender claimed).
    pub fn forward_to(&self, call_id: &str, from: u64, to: MemberId, signal: Signal) -> Forward {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(call_id).filter(|room| room.group) else {
            return Forward::NoSuchMember;
        };
        room.last_activity = Instant::now();
        let Some(sender) = room.members.iter().find(|m| m.id == from).map(|m| m.place) else {
            return Forward::NoSuchMember;
        };
        let Some(other) = room.members.iter().find(|m| m.place == to && m.id != from) else {
            return Forward::NoSuchMember;
        };
        let text = GroupEvent::From { from: sender, s: signal }.to_json();
        if self.deliver(other, text.into()) {
            return Forward::Sent;
        }
        let slow = other.id;
        self.drop_slow(room, slow);
        Forward::PeerTooSlow
    }

    /// Remove member `id` from `call_id`, tell the other one (unless the relay is shutting
    /// down), drop the room if empty.
    /// A no-op if the room was already dropped (idle) or is a newer room of the same id.
    pub fn leave(&self, call_id: &str, id: u64) {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(call_id) else {
            return;
        };
        // A parked place outlives its socket: it waits for its pickup, or the park's end.
        if handover::hold(room, id, Instant::now()) {
            return;
        }
        let Some(index) = room.members.iter().position(|m| m.id == id) else {
            return;
        };
        let gone = room.members.remove(index);
        // While the relay shuts down it is the relay that goes, not the peer: the other socket
        // gets "relay shutting down" next, and a `peer-left` first would send its client
        // waiting for someone who never left.
        if !*self.shutdown.borrow() {
            let left = room.left_event(gone.place);
            for other in &room.members {
                self.deliver(other, left.as_str().into());
            }
        }
        if room.members.is_empty() {
            rooms.remove(call_id);
        }
    }

    /// Drop every room without a message for `idle`, closing its sockets. Returns the
    /// shortened ids of the rooms dropped, for the log.
    pub fn reap_idle(&self, idle: Duration, now: Instant) -> Vec<String> {
        // Per node in a cluster too: each node drops its own members of quiet rooms.
        if let Some(cluster) = &self.cluster {
            return cluster.reap_idle(idle, now);
        }
        let mut rooms = self.rooms();
        let stale: Vec<String> = rooms
            .iter()
            .filter(|(_, room)| now.saturating_duration_since(room.last_activity) >= idle)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &stale {
            if let Some(room) = rooms.remove(id) {
                for member in room.members {
                    member.kick.send_replace(Some(KICK_IDLE));
                }
            }
        }
        stale.iter().map(|id| short(id)).collect()
    }

    /// Queue `text` for `member`; if its queue is full (in messages or in bytes) it is not
    /// reading, so kick it rather than buffer without bound. Returns whether it was queued.
    fn deliver(&self, member: &Member, text: Utf8Bytes) -> bool {
        deliver_to(&member.queue, &member.queued, &member.kick, self.max_queued_bytes, text)
    }
}

/// Queue `text` on a member's `queue`; if it is full (in messages, or `queued` bytes over
/// `max_queued_bytes`) the member is not reading, so kick it rather than buffer without bound.
/// Returns whether it was queued.
pub(crate) fn deliver_to(
    queue: &mpsc::Sender<Utf8Bytes>,
    queued: &AtomicUsize,
    kick: &watch::Sender<Option<Kick>>,
    max_queued_bytes: usize,
    text: Utf8Bytes,
) -> bool {
    let len = text.len();
    if queued.load(Ordering::SeqCst) + len > max_queued_bytes {
        kick.send_replace(Some(KICK_SLOW));
        return false;
    }
    // Counted before it can be taken out, so the count never goes below zero.
    queued.fetch_add(len, Ordering::SeqCst);
    let result = queue.try_send(text);
    if result.is_err() {
        queued.fetch_sub(len, Ordering::SeqCst);
    }
    match result {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            kick.send_replace(Some(KICK_SLOW));
            false
        }
        // Its task already ended and will leave the room itself.
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` is an assertion.
    use super::*;

    const CALL: &str = "AAAAAAAAAAAAAAAAAAAAAA";
    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn text(m: &mut Membership) -> Option<String> {
        m.queue.try_recv().ok().map(|t| t.as_str().to_string())
    }

    #[test]
    fn two_join_a_third_is_refused_and_leaving_is_announced() {
        let relay = Relay::default();
        let mut a = relay.join(CALL, None, IP).unwrap();
        assert_eq!((a.peers, a.slot), (0, 0));
        let mut b = relay.join(CALL, None, IP).unwrap();
        assert_eq!((b.peers, b.slot), (1, 1));
        assert_eq!(text(&mut a).as_deref(), Some(r#"{"t":"peer-joined"}"#));
        assert_eq!(relay.join(CALL, None, IP).err(), Some(Refused::Full));

        assert_eq!(relay.forward(CALL, a.id, "x".into()), Forward::Sent);
        assert_eq!(text(&mut b).as_deref(), Some("x"));
        assert_eq!(text(&mut a), None);

        // Nobody that is not in the room speaks through it.
        assert_eq!(relay.forward(CALL, 999, "x".into()), Forward::Lost);
        assert_eq!(text(&mut b), None);

        relay.leave(CALL, a.id);
        assert_eq!(text(&mut b).as_deref(), Some(r#"{"t":"peer-left"}"#));
        // The free slot is the first one again.
        let c = relay.join(CALL, None, IP).unwrap();
        assert_eq!((c.peers, c.slot), (1, 0));
        relay.leave(CALL, b.id);
        relay.leave(CALL, c.id);
        assert_eq!(relay.room_count(), 0);
    }

    #[test]
    fn a_reconnection_with_its_token_takes_back_a_place_still_held() {
        let relay = Relay::default();
        let mut a = relay.join(CALL, None, IP).unwrap();
        let b = relay.join(CALL, None, IP).unwrap();
        assert_eq!(text(&mut a).as_deref(), Some(r#"{"t":"peer-joined"}"#));
        // b's connection went half-open: the relay still holds it. Without the token: full.
        assert_eq!(relay.join(CALL, None, IP).err(), Some(Refused::Full));
        let mut b_again = relay.join(CALL, Some(b.rejoin), IP).expect("b takes its place back");
        assert!(b_again.replaced);
        assert_eq!((b_again.peers, b_again.slot), (1, b.slot));
        assert_eq!(b_again.rejoin, b.rejoin, "the place keeps its token");
        assert_eq!(*b.kick.borrow(), Some(KICK_REPLACED));
        // a hears that b is here (again), never that b left.
        assert_eq!(text(&mut a).as_deref(), Some(r#"{"t":"peer-joined"}"#));
        assert_eq!(text(&mut a), None);
        // The old socket leaving later changes nothing.
        relay.leave(CALL, b.id);
        assert_eq!(text(&mut a), None);
        assert_eq!(relay.forward(CALL, a.id, "x".into()), Forward::Sent);
        assert_eq!(text(&mut b_again).as_deref(), Some("x"));
        // The token still counts if that `joined` was lost and b reconnects once more; a
        // made-up one is worth nothing, and a's token never takes b's place.
        let b_third = relay.join(CALL, Some(b.rejoin), IP).expect("b takes its place back again");
        assert_eq!((b_third.peers, b_third.slot), (1, b.slot));
        assert_eq!(*b_again.kick.borrow(), Some(KICK_REPLACED));
        assert_eq!(
            relay.join(CALL, RejoinToken::parse("AAAAAAAAAAAAAAAAAAAAAA"), IP).err(),
            Some(Refused::Full)
        );
        let a_again = relay.join(CALL, Some(a.rejoin), IP).expect("a takes its own place");
        assert_eq!(a_again.slot, a.slot);
        assert_eq!(*b_third.kick.borrow(), None, "b is untouched");
    }

    #[test]
    fn a_move_token_takes_the_place_once_and_the_old_device_cannot_come_back() {
        let relay = Relay::default();
        let a = relay.join(CALL, None, IP).unwrap();
        let mut b = relay.join(CALL, None, IP).unwrap();
        let now = Instant::now();
        let token = relay.issue_move(CALL, a.id, now).expect("a has a place");
        assert_ne!(token, a.rejoin, "a move token is not the rejoin token");
        let mut c = relay.join_moving(CALL, token, now).expect("the token takes a's place");
        assert!(c.moved && !c.replaced);
        assert_eq!((c.peers, c.slot), (1, a.slot));
        assert_ne!(c.rejoin, a.rejoin, "the new device gets a token of its own");
        assert_eq!(*a.kick.borrow(), Some(KICK_MOVED));
        assert_eq!(text(&mut b).as_deref(), Some(r#"{"t":"peer-moved"}"#));
        assert_eq!(text(&mut b), None, "never peer-left");
        // The old socket leaving afterwards changes nothing; the two talk on.
        relay.leave(CALL, a.id);
        assert_eq!(text(&mut b), None);
        assert_eq!(relay.forward(CALL, b.id, "x".into()), Forward::Sent);
        assert_eq!(text(&mut c).as_deref(), Some("x"));
        // The link opened twice: refused, and nobody is moved again.
        let again = relay.join_moving(CALL, token, now);
        assert_eq!(again.err(), Some(Refused::Move(MoveRefusal::Used)));
        assert_eq!(*c.kick.borrow(), None);
        assert_eq!(text(&mut b), None);
        // The old device's rejoin token no longer counts.
        assert_eq!(relay.join(CALL, Some(a.rejoin), IP).err(), Some(Refused::Full));
    }

    #[test]
    fn a_move_token_expires_belongs_to_one_room_and_only_the_latest_counts() {
        let relay = Relay::new(&Config { move_ttl: Duration::from_secs(120), ..Config::default() });
        let a = relay.join(CALL, None, IP).unwrap();
        let mut b = relay.join(CALL, None, IP).unwrap();
        let now = Instant::now();
        let first = relay.issue_move(CALL, a.id, now).unwrap();
        let latest = relay.issue_move(CALL, a.id, now).unwrap();
        let unknown = Some(Refused::Move(MoveRefusal::Unknown));
        assert_eq!(relay.join_moving(CALL, first, now).err(), unknown, "replaced by the latest");
        // Another call's token, or one the relay never made: refused, and no room is made.
        let other = "BBBBBBBBBBBBBBBBBBBBBB";
        assert_eq!(relay.join_moving(other, latest, now).err(), unknown);
        assert_eq!(relay.room_count(), 1);
        let made_up = RejoinToken::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert_eq!(relay.join_moving(CALL, made_up, now).err(), unknown);
        // A rejoin token is no move token.
        assert_eq!(relay.join_moving(CALL, a.rejoin, now).err(), unknown);
        let late = now + Duration::from_secs(120);
        let expired = Some(Refused::Move(MoveRefusal::Expired));
        assert_eq!(relay.join_moving(CALL, latest, late).err(), expired);
        assert_eq!(*a.kick.borrow(), None);
        assert_eq!(text(&mut b), None);
        // Whoever asked for a token and then left has no place to move.
        let fresh = relay.issue_move(CALL, a.id, now).unwrap();
        relay.leave(CALL, a.id);
        assert_eq!(relay.join_moving(CALL, fresh, now).err(), expired);
        // Nobody else can ask for a token for someone's place.
        assert_eq!(relay.issue_move(CALL, a.id, now), None);
        assert_eq!(relay.issue_move(other, b.id, now), None);
    }

    #[test]
    fn shutting_down_is_not_announced_as_the_peer_leaving() {
        let relay = Relay::default();
        let a = relay.join(CALL, None, IP).unwrap();
        let mut b = relay.join(CALL, None, IP).unwrap();
        relay.begin_shutdown();
        relay.leave(CALL, a.id);
        assert_eq!(text(&mut b), None);
    }

    #[test]
    fn a_member_that_does_not_read_is_dropped() {
        let relay = Relay::default();
        let a = relay.join(CALL, None, IP).unwrap();
        let mut b = relay.join(CALL, None, IP).unwrap();
        // `a` already holds one peer-joined event.
        for _ in 1..QUEUE_LEN {
            assert_eq!(relay.forward(CALL, b.id, "x".into()), Forward::Sent);
        }
        assert_eq!(relay.forward(CALL, b.id, "x".into()), Forward::PeerTooSlow);
        assert_eq!(*a.kick.borrow(), Some(KICK_SLOW));
        // Its place is free at once, and b is told.
        assert_eq!(text(&mut b).as_deref(), Some(r#"{"t":"peer-left"}"#));
        assert_eq!(relay.forward(CALL, b.id, "x".into()), Forward::NoPeer);
    }

    #[test]
    fn a_member_with_too_many_bytes_waiting_is_dropped() {
        let relay = Relay::new(&Config { max_queued_bytes: 1000, ..Config::default() });
        let mut a = relay.join(CALL, None, IP).unwrap();
        let b = relay.join(CALL, None, IP).unwrap();
        let peer_joined = text(&mut a).unwrap();
        a.queued.fetch_sub(peer_joined.len(), Ordering::SeqCst);
        let chunk = "x".repeat(400);
        assert_eq!(relay.forward(CALL, b.id, chunk.as_str().into()), Forward::Sent);
        assert_eq!(relay.forward(CALL, b.id, chunk.as_str().into()), Forward::Sent);
        // a reads one: room for another.
        assert_eq!(text(&mut a), Some(chunk.clone()));
        a.queued.fetch_sub(chunk.len(), Ordering::SeqCst);
        assert_eq!(relay.forward(CALL, b.id, chunk.as_str().into()), Forward::Sent);
        assert_eq!(*a.kick.borrow(), None);
        // 1200 bytes would be waiting: too many.
        assert_eq!(relay.forward(CALL, b.id, chunk.as_str().into()), Forward::PeerTooSlow);
        assert_eq!(*a.kick.borrow(), Some(KICK_SLOW));
    }

    #[test]
    fn sockets_are_capped_per_address_and_in_all() {
        let relay = Arc::new(Relay::new(&Config {
            max_sockets: 3,
            max_sockets_per_ip: 2,
            ..Config::default()
        }));
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        let first = relay.admit(IP).unwrap();
        let _second = relay.admit(IP).unwrap();
        assert_eq!(relay.admit(IP).err(), Some(Crowded::Address));
        let _third = relay.admit(other).unwrap();
        assert_eq!(relay.admit(other).err(), Some(Crowded::Relay));
        assert_eq!(relay.open_sockets(), 3);
        // A socket that closes gives its place back, to its own address as to any other.
        drop(first);
        let _again = relay.admit(IP).unwrap();
        assert_eq!(relay.admit(other).err(), Some(Crowded::Relay));
    }

    #[test]
    fn new_rooms_are_limited_per_address_but_joining_one_is_not() {
        let relay = Relay::new(&Config { new_rooms_per_minute: 1, ..Config::default() });
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        let _a = relay.join(CALL, None, IP).unwrap();
        let second = "BBBBBBBBBBBBBBBBBBBBBB";
        assert_eq!(relay.join(second, None, IP).err(), Some(Refused::TooManyNewRooms));
        assert_eq!(relay.room_count(), 1, "a refused room is not made");
        // Joining a room that exists is no new room.
        let _b = relay.join(CALL, None, IP).unwrap();
        relay.join(second, None, other).unwrap();
    }

    #[test]
    fn idle_rooms_are_dropped_and_their_members_kicked() {
        let relay = Relay::default();
        let a = relay.join(CALL, None, IP).unwrap();
        let now = Instant::now();
        assert!(relay.reap_idle(Duration::from_secs(60), now).is_empty());
        let dropped = relay.reap_idle(Duration::from_secs(60), now + Duration::from_secs(61));
        assert_eq!(dropped, vec!["AAAA…".to_string()]);
        assert_eq!(*a.kick.borrow(), Some(KICK_IDLE));
        assert_eq!(relay.room_count(), 0);
        // Leaving a dropped room is harmless.
        relay.leave(CALL, a.id);
    }
}
