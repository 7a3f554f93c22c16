//! Handing a place over: a park (the place held without its socket, for a pickup by token or
//! by code), and a transfer (the place handed to someone else, whose name the other member is
//! told). Both are taken as a move token is (`join` with `move`), so they share its rules: one
//! use, a time limit, one live token per place, refused with `used`, `expired` or `unknown`.

use std::collections::HashMap;
use std::sync::Mutex;

use shieldcall_protocol::{MoveRefusal, MoveToken, PickupAnswer, RelayEvent};
use tokio::time::Instant;

use super::{Kick, RejoinToken, Relay, Room, lock};

/// Parks a relay remembers after their end (picked up or expired), so that a code typed late
/// is told why rather than that it is unknown; beyond this the oldest are forgotten.
const PARKS_REMEMBERED: usize = 1024;

/// How long a park's code is remembered after its end.
const REMEMBER_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// The held place's socket, still open when the park ends, is closed with this.
pub const KICK_PARK_ENDED: Kick =
    Kick { code: 1000, reason: "the parked call was not picked up in time" };

/// What a token hands over, and so what the other member is told when it is used.
#[derive(Clone, PartialEq, Eq)]
pub enum HandOver {
    /// To this person's other device: `peer-moved`.
    Move,
    /// A parked place, found by `code` (the relay's half of the pickup code): `peer-moved`,
    /// which ends the other member's hold.
    Park { code: String },
    /// To someone else, who the one transferring says is `name`: `peer-transferred`.
    Transfer { name: String },
}

impl HandOver {
    pub(super) fn told_to_the_other(&self) -> RelayEvent {
        match self {
            HandOver::Move | HandOver::Park { .. } => RelayEvent::PeerMoved,
            HandOver::Transfer { name } => RelayEvent::PeerTransferred { name: name.clone() },
        }
    }
}

/// A park, by its code: enough to answer `POST /pickup`.
pub(super) struct Park {
    call_id: String,
    token: RejoinToken,
    /// Sealed by the parker's page with the half of the code the relay never sees.
    deposit: String,
    expires: Instant,
    used: bool,
}

/// What a pickup code's relay half finds.
pub type ParkLookup = PickupAnswer;

/// The relay's half of a pickup code: 6 characters of Crockford's base32 (30 bits).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CODE_LEN: usize = 6;

pub fn new_park_code() -> String {
    let mut bytes = [0u8; CODE_LEN];
    // Without the OS's randomness the relay cannot run safely at all.
    getrandom::getrandom(&mut bytes).expect("the OS provides randomness");
    bytes.iter().map(|b| CODE_ALPHABET[(b & 31) as usize] as char).collect()
}

/// Member `id` of `room` left: if its place is parked (a park not used, not over), keep it,
/// held, and say so. Whether it was kept.
pub(super) fn hold(room: &mut Room, id: u64, now: Instant) -> bool {
    let parked = room.moves.iter().any(|m| {
        m.from == id && !m.used && now < m.expires && matches!(m.kind, HandOver::Park { .. })
    });
    if !parked {
        return false;
    }
    match room.members.iter_mut().find(|m| m.id == id) {
        Some(member) => {
            member.held = true;
            true
        }
        None => false,
    }
}

/// Member `id` of `room` is gone from its place (replaced by its own rejoin): a park of it is
/// over, and its code says `expired` at once, as its token does (whose member is gone).
pub(super) fn end_park_of(room: &Room, parks: &Mutex<HashMap<String, Park>>, id: u64) {
    let now = Instant::now();
    for issued in room.moves.iter().filter(|m| m.from == id && !m.used) {
        if let HandOver::Park { code } = &issued.kind
            && let Some(park) = lock(parks).get_mut(code)
        {
            park.expires = park.expires.min(now);
        }
    }
}

/// The park of `code` was picked up.
pub(super) fn picked_up(parks: &Mutex<HashMap<String, Park>>, code: &str) {
    if let Some(park) = lock(parks).get_mut(code) {
        park.used = true;
    }
}

impl Relay {
    /// Park member `id`'s place in `call_id`: a token that takes it (as a move token does),
    /// valid for the park's time, and the relay's half of its pickup code, which finds the
    /// token and `deposit`. The other member hears `peer-parked`. `None` if it has no place.
    pub fn park(
        &self,
        call_id: &str,
        id: u64,
        deposit: String,
        now: Instant,
    ) -> Option<(RejoinToken, String)> {
        let expires = now + self.park_ttl;
        // All under the rooms lock (taken before the parks', as everywhere): a rejoin that ends
        // this park (`end_park_of`) finds its code recorded, and no other park takes the code
        // between its choice and its record.
        let mut rooms = self.rooms();
        let room = rooms.get_mut(call_id)?;
        let code = {
            let mut parks = lock(&self.parks);
            parks.retain(|_, p| now < p.expires + REMEMBER_FOR);
            if parks.len() >= PARKS_REMEMBERED {
                // Forget the one that ends first (a flood of parks cannot grow the map).
                let oldest = parks.iter().min_by_key(|(_, p)| p.expires).map(|(c, _)| c.clone());
                if let Some(oldest) = oldest {
                    parks.remove(&oldest);
                }
            }
            loop {
                let code = new_park_code();
                if !parks.contains_key(&code) {
                    break code;
                }
            }
        };
        let token = self.issue_in(room, id, expires, HandOver::Park { code: code.clone() })?;
        let ttl = self.park_ttl.as_secs();
        for other in room.members.iter().filter(|m| m.id != id) {
            self.deliver(other, RelayEvent::PeerParked { ttl }.to_json().into());
        }
        let park = Park { call_id: call_id.to_string(), token, deposit, expires, used: false };
        lock(&self.parks).insert(code.clone(), park);
        Some((token, code))
    }

    /// A token that hands member `id`'s place to someone the other member will be told is
    /// `name`; `None` if it has no place.
    pub fn issue_transfer(
        &self,
        call_id: &str,
        id: u64,
        name: String,
        now: Instant,
    ) -> Option<RejoinToken> {
        self.issue(call_id, id, now + self.move_ttl, HandOver::Transfer { name })
    }

    /// What the relay's half of a pickup code finds: the call, the token and the deposit of a
    /// live park, or why not.
    pub fn pickup(&self, code: &str, now: Instant) -> PickupAnswer {
        let code = code.trim().to_ascii_uppercase();
        let parks = lock(&self.parks);
        match parks.get(&code) {
            None => PickupAnswer::Refused { reason: MoveRefusal::Unknown },
            Some(park) if park.used => PickupAnswer::Refused { reason: MoveRefusal::Used },
            Some(park) if now >= park.expires => {
                PickupAnswer::Refused { reason: MoveRefusal::Expired }
            }
            Some(park) => PickupAnswer::Found {
                call: park.call_id.clone(),
                token: MoveToken(park.token.to_text()),
                deposit: park.deposit.clone(),
            },
        }
    }

    /// How long a parked place is held.
    pub fn park_ttl(&self) -> std::time::Duration {
        self.park_ttl
    }

    /// Seconds a parked place is held.
    pub fn park_ttl_secs(&self) -> u64 {
        self.park_ttl.as_secs()
    }

    /// End every park whose time ran out: its place goes (its socket, if still open, is
    /// closed), and the other member hears `park-ended`. Returns the shortened ids of those
    /// calls, for the log.
    pub fn end_parks(&self, now: Instant) -> Vec<String> {
        let mut rooms = self.rooms();
        let mut ended = Vec::new();
        for (call_id, room) in rooms.iter_mut() {
            let over: Vec<u64> = room
                .moves
                .iter()
                .filter(|m| !m.used && now >= m.expires && matches!(m.kind, HandOver::Park { .. }))
                .map(|m| m.from)
                .collect();
            for id in over {
                room.moves.retain(|m| m.from != id || m.used);
                let Some(index) = room.members.iter().position(|m| m.id == id) else {
                    continue;
                };
                let gone = room.members.remove(index);
                gone.kick.send_replace(Some(KICK_PARK_ENDED));
                for other in &room.members {
                    self.deliver(other, RelayEvent::ParkEnded.to_json().into());
                }
                ended.push(super::short(call_id));
            }
        }
        rooms.retain(|_, room| !room.members.is_empty());
        ended
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn parking_again_and_again_keeps_one_code_and_crowds_out_nobody_elses() {
        let relay = Relay::default();
        let now = Instant::now();
        let (one, two) = ("AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB");
        let a = relay.join(one, None, IP).unwrap();
        let _a_peer = relay.join(one, None, IP).unwrap();
        let b = relay.join(two, None, IP).unwrap();
        let _b_peer = relay.join(two, None, IP).unwrap();
        let (_, code_a) = relay.park(one, a.id, "deposit a".into(), now).unwrap();
        let mut last = String::new();
        let mut first = None;
        for _ in 0..PARKS_REMEMBERED + 10 {
            last = relay.park(two, b.id, "deposit b".into(), now).unwrap().1;
            first.get_or_insert_with(|| last.clone());
        }
        assert!(matches!(relay.pickup(&code_a, now), PickupAnswer::Found { .. }));
        assert!(matches!(relay.pickup(&last, now), PickupAnswer::Found { .. }));
        let first = first.unwrap();
        assert!(
            matches!(
                relay.pickup(&first, now),
                PickupAnswer::Refused { reason: MoveRefusal::Unknown }
            ),
            "an earlier code of the same place finds nothing"
        );
        assert_eq!(lock(&relay.parks).len(), 2);
    }
}
