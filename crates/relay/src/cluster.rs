//! Rooms shared by several relay processes through Redis (`--cluster redis://HOST:PORT`).
//!
//! Redis holds who is where; each node holds its own sockets. A room is two keys, one per place:
//!
//! ```text
//! shieldcall:room:<sha-256 of the call id, 32 hex>:0   "<node> <member> <sha-256 of its rejoin token>"
//! shieldcall:room:<...>:1                               (same; PX = the lease)
//! ```
//!
//! The call id and the rejoin tokens are hashed, so neither Redis's memory nor its `MONITOR`
//! shows anything that would let someone join a call or take a place. Every rule that needs two
//! reads and a write is one Lua script, atomic in Redis: joining (the "full" rule, and a
//! rejoin token taking its place back), forwarding (find the other place, publish to its
//! node), leaving and renewing. Each node subscribes to `shieldcall:node:<id>`; a script that
//! changes a place publishes what the other member's node must tell its socket (`peer-joined`,
//! `peer-left`, a signal, "your socket was replaced", `moved`, `peer-moved`,
//! `peer-transferred`). One socket's messages are forwarded one
//! at a time (each script awaited before the next message is read), and Redis delivers one
//! connection's publishes in order, so the order between two members is kept.
//!
//! A place lasts [`crate::config::ClusterConfig::lease`] unless its node renews it (every third
//! of the lease): a node killed with SIGKILL stops renewing, and its members' places expire. Its
//! clients reconnect to another node with their token within the lease and take the places
//! back; the other member hears `peer-joined` (as when a half-open socket is replaced on one
//! relay). A member that does not come back: its place expires, and the other member's node,
//! seeing it gone at three renewals in a row, tells its socket `peer-left`.
//!
//! Moving a place to another device, or transferring it to someone else: a member's move (or
//! transfer) token is named to Redis by its hash,
//!
//! ```text
//! shieldcall:move:<sha-256 of the token, 32 hex>   "<its place's key> <node> <member> <expiry, ms>[ <name>]"
//! ```
//!
//! (the name a transfer's newcomer goes by; kept [`MOVE_REMEMBERED_MS`] past its expiry, then
//! "used" once used, so that a late or second try is told why). One script issues it (only
//! while the place is the member's, replacing its earlier unused one); one takes the place with
//! it, atomically: the new socket gets the place and a fresh token, the old socket's node is
//! told `moved`, the other member's `peer-moved` (or `peer-transferred` with the name).
//!
//! Parking a place (only with `--cluster-secret-file`): the place becomes `=held <member> <T>`,
//! held by Redis alone for the park's time; its token is a move token from that held place; and
//! the park's record, which `POST /pickup` on any node finds by the code's relay half, is
//! sealed under the nodes' shared secret ([`crate::park_seal`]):
//!
//! ```text
//! shieldcall:park:<HMAC of the code, 32 hex>   nonce || AES-GCM("call token deposit")
//! ```
//!
//! Redis unreachable: joins get `error` "the relay cannot reach its cluster", messages get an
//! `error` back, `/healthz` says 503, and the node retries. When Redis comes back empty (a
//! restart), each node's renewal writes its members' places back, so calls go on; parked places
//! are nobody's to write back, so their parks end (`park-ended`).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, FromRedisValue, RedisError, RedisResult, Script, ScriptInvocation,
};
use sha2::{Digest, Sha256};
use shieldcall_protocol::{MoveRefusal, MoveToken, PickupAnswer, RelayEvent};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, timeout};
use tracing::{error, info, warn};

use crate::config::ClusterConfig;
use crate::park_seal::{ParkRecord, ParkSeal};
use crate::rooms::{
    Forward, KICK_IDLE, KICK_MOVED, KICK_REPLACED, Kick, Membership, QUEUE_LEN, Refused,
    RejoinToken, Relay, deliver_to, new_park_code, short,
};

/// How long to wait for Redis to accept a connection, and for one answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

const ENGINE_UNKNOWN: u8 = 0;
const ENGINE_UP: u8 = 1;
const ENGINE_DOWN: u8 = 2;

/// Places renewed per script call: keeps one call short even with many members.
const RENEW_BATCH: usize = 512;

/// The removal of a member whose place is no longer its own (taken after its lease ran out).
const KICK_LOST: Kick = Kick { code: 1011, reason: "removed from the room" };

/// Join (KEYS: the two places; ARGV: holder, hash of the presented token or "", hash of a
/// fresh token, lease ms, 1 if this may open a new room). Returns {outcome, place, other}:
/// "replaced" (the token matched: same place, same token, the old socket is told), "joined"
/// (a free place, the fresh token), "full", or "new" (the room is empty and `ARGV[5]` is 0: the
/// node checks its per-address budget of new rooms, then asks again).
const JOIN: &str = r"
local held = {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}
local function holder(v) return string.match(v, '^(%S+) (%S+) ') end
local function tell_other(i, what)
  local o = held[3 - i]
  if o then
    local n, m = holder(o)
    if n ~= '=held' then
      redis.call('PUBLISH', 'shieldcall:node:' .. n, what .. ' ' .. m .. ' ' .. ARGV[1])
    end
    return n .. ' ' .. m
  end
  return ''
end
if ARGV[2] ~= '' then
  for i = 1, 2 do
    local v = held[i]
    if v and string.match(v, ' (%S+)$') == ARGV[2] then
      local n, m = holder(v)
      redis.call('SET', KEYS[i], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[4])
      if n ~= '=held' then redis.call('PUBLISH', 'shieldcall:node:' .. n, 'replaced ' .. m) end
      return {'replaced', tostring(i - 1), tell_other(i, 'joined')}
    end
  end
end
if held[1] and held[2] then return {'full', '', ''} end
if not held[1] and not held[2] and ARGV[5] ~= '1' then return {'new', '', ''} end
local i = held[1] and 2 or 1
redis.call('SET', KEYS[i], ARGV[1] .. ' ' .. ARGV[3], 'PX', ARGV[4])
return {'joined', tostring(i - 1), tell_other(i, 'joined')}
";

/// Forward (KEYS: own place, other place; ARGV: holder, text). 1: published to the other
/// member's node; 0: no other member; -1: the own place is no longer this member's; -2: the
/// other member's node is not listening (dead: its member will come back elsewhere).
const FORWARD: &str = r"
local mine = redis.call('GET', KEYS[1])
if not mine or string.sub(mine, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return -1 end
local o = redis.call('GET', KEYS[2])
if not o then return 0 end
local n, m = string.match(o, '^(%S+) (%S+) ')
if n == '=held' then return 0 end
if redis.call('PUBLISH', 'shieldcall:node:' .. n, 'm ' .. m .. ' ' .. ARGV[2]) > 0 then return 1 end
return -2
";

/// Leave (KEYS: own place, other place; ARGV: holder, 1 to tell the other member). Frees the
/// place if it is still this member's.
const LEAVE: &str = r"
local mine = redis.call('GET', KEYS[1])
if not mine or string.sub(mine, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return 0 end
redis.call('DEL', KEYS[1])
local o = redis.call('GET', KEYS[2])
if o and ARGV[2] == '1' then
  local n, m = string.match(o, '^(%S+) (%S+) ')
  if n ~= '=held' then
    redis.call('PUBLISH', 'shieldcall:node:' .. n, 'left ' .. m .. ' ' .. ARGV[1])
  end
end
return 1
";

/// Renew (KEYS: own place, other place, for each member; ARGV: lease ms, own channel, then
/// each member's full place value). Extends each place that is still the member's, writes it
/// back if Redis lost it (a restart), and reports the other place's holder (a parked one with
/// the ms its park has left); a place the member itself parked meanwhile is 'parked', one held
/// by another socket 'replaced' (its token: the same person reconnected) or 'lost'. The first
/// value returned is how many subscribers the node's own channel has: 0 means its subscription
/// is down, whatever the subscriber task believes.
pub const RENEW: &str = r"
local out = {tostring(redis.call('PUBLISH', ARGV[2], 'ping'))}
for i = 1, #KEYS, 2 do
  local want = ARGV[2 + (i + 1) / 2]
  local cur = redis.call('GET', KEYS[i])
  local state = 'ok'
  if cur == want then redis.call('PEXPIRE', KEYS[i], ARGV[1])
  elseif not cur then redis.call('SET', KEYS[i], want, 'PX', ARGV[1])
  elseif cur == '=held ' .. string.match(want, '^%S+ (%S+ %S+)$') then state = 'parked'
  elseif string.match(cur, ' (%S+)$') == string.match(want, ' (%S+)$') then state = 'replaced'
  else state = 'lost' end
  local o = redis.call('GET', KEYS[i + 1])
  local other = o and string.match(o, '^(%S+ %S+) ') or ''
  if string.sub(other, 1, 6) == '=held ' then
    other = other .. ' ' .. redis.call('PTTL', KEYS[i + 1])
  end
  out[#out + 1] = state
  out[#out + 1] = other
end
return out
";

/// How long a move token's key outlives the token, so that a late try hears "expired" or
/// "used", not "unknown".
pub const MOVE_REMEMBERED_MS: u64 = 10 * 60 * 1000;

/// The start of a script that issues a token for a place (KEYS: own place, the token's key,
/// the member's previous token's key or the token's again; `ARGV[1]`: holder): nothing unless the
/// place is still the member's (0), then its earlier unused token goes (one live token per
/// place), and `now` is Redis's clock in ms.
macro_rules! issue_prelude {
    () => {
        r"
local mine = redis.call('GET', KEYS[1])
if not mine or string.sub(mine, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return 0 end
local prev = redis.call('GET', KEYS[3])
if KEYS[3] ~= KEYS[2] and prev and string.sub(prev, 1, 5) ~= 'used ' then
  redis.call('DEL', KEYS[3])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"
    };
}

/// Issue a move or transfer token (KEYS: as [`issue_prelude`]; ARGV: holder, validity ms,
/// [`MOVE_REMEMBERED_MS`], and a transfer's name or ""). 1: issued; 0: the place is no longer
/// this member's.
const ISSUE_MOVE: &str = concat!(
    issue_prelude!(),
    r"
local ttl = tonumber(ARGV[2])
local name = ARGV[4] ~= '' and (' ' .. ARGV[4]) or ''
local value = KEYS[1] .. ' ' .. ARGV[1] .. ' ' .. string.format('%d', now + ttl) .. name
redis.call('SET', KEYS[2], value, 'PX', ttl + tonumber(ARGV[3]))
return 1
"
);

/// Take a place with a move token (KEYS: the token's key, the room's two places; ARGV: holder,
/// hash of a fresh token, lease ms). Returns {outcome, place, other}: "moved" (the place is
/// the new socket's; the old one's node is told `moved`, the other member's `peer-moved`, or for
/// a transfer `peer-transferred` and the name), or "unknown", "used", "expired" (the token's
/// time is up, or whoever asked for it left). A used token remembers who used it, so that the
/// same holder asking again (its answer was lost on the way) hears "moved" again.
pub const JOIN_MOVING: &str = r"
local function other_of(v)
  if not v then return '' end
  local on, om = string.match(v, '^(%S+) (%S+) ')
  return on and (on .. ' ' .. om) or nil
end
local mv = redis.call('GET', KEYS[1])
if not mv then return {'unknown', '', ''} end
local me = ARGV[1] .. ' ' .. ARGV[2]
if string.sub(mv, 1, 5) == 'used ' then
  if string.sub(mv, 6) == me then
    for i = 1, 2 do
      if redis.call('GET', KEYS[1 + i]) == me then
        return {'moved', tostring(i - 1), other_of(redis.call('GET', KEYS[4 - i])) or ''}
      end
    end
  end
  return {'used', '', ''}
end
local place, n, m, expires, name = string.match(mv, '^(%S+) (%S+) (%S+) (%d+) ?(.*)$')
local i
if place == KEYS[2] then i = 1 elseif place == KEYS[3] then i = 2 else return {'unknown', '', ''} end
local cur = redis.call('GET', KEYS[1 + i])
if not cur or string.sub(cur, 1, #n + #m + 2) ~= n .. ' ' .. m .. ' ' then return {'expired', '', ''} end
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) >= tonumber(expires) then
  return {'expired', '', ''}
end
-- Read before anything is written: a value that is not ours changes nothing.
local other = other_of(redis.call('GET', KEYS[4 - i]))
if not other then return {'unknown', '', ''} end
redis.call('SET', KEYS[1], 'used ' .. me, 'KEEPTTL')
redis.call('SET', KEYS[1 + i], me, 'PX', ARGV[3])
if n ~= '=held' then redis.call('PUBLISH', 'shieldcall:node:' .. n, 'moved ' .. m) end
local on, om = string.match(other, '^(%S+) (%S+)$')
if on and on ~= '=held' then
  if name == '' then
    redis.call('PUBLISH', 'shieldcall:node:' .. on, 'peer-moved ' .. om .. ' ' .. ARGV[1])
  else
    redis.call('PUBLISH', 'shieldcall:node:' .. on, 'peer-transferred ' .. om .. ' ' .. ARGV[1] .. ' ' .. name)
  end
end
return {'moved', tostring(i - 1), other}
";

/// The holder a parked place names in Redis instead of `<node> <member>`: `=` is in no node id
/// (config.rs), so no node subscribes to it, and no script publishes to it (each checks; the
/// Lua spells it `'=held'`).
const HELD: &str = "=held";

/// Park a place (KEYS: as [`issue_prelude`], then the other place and the park's record;
/// ARGV: holder, the park's time in ms, [`MOVE_REMEMBERED_MS`], the member, the sealed record,
/// the park's time in seconds, its rejoin token's hash). The place becomes `=held <member>
/// <token hash>` for the park's time, with nobody to renew it: its rejoin token still takes it
/// back (a parker whose answer was lost), as on one relay. The park's token is a move token from
/// that held place. 1: parked; 0: the place is no longer this member's; -1: the code is taken
/// (another live or remembered park has it): the node draws another, and nothing was written.
const PARK: &str = concat!(
    r"
if redis.call('EXISTS', KEYS[5]) == 1 then return -1 end
",
    issue_prelude!(),
    r"
local ttl = tonumber(ARGV[2])
local keep = ttl + tonumber(ARGV[3])
local held = '=held ' .. ARGV[4]
redis.call('SET', KEYS[2], KEYS[1] .. ' ' .. held .. ' ' .. string.format('%d', now + ttl), 'PX', keep)
redis.call('SET', KEYS[5], ARGV[5], 'PX', keep)
redis.call('SET', KEYS[1], held .. ' ' .. ARGV[7], 'PX', ttl)
local o = redis.call('GET', KEYS[4])
if o then
  local n, m = string.match(o, '^(%S+) (%S+) ')
  if n ~= '=held' then
    redis.call('PUBLISH', 'shieldcall:node:' .. n, 'parked ' .. m .. ' ' .. ARGV[6] .. ' ' .. held)
  end
end
return 1
"
);

/// A park's record (KEYS: its key), or nil: a script, so that a read is retried as one.
const PARK_RECORD: &str = r"return redis.call('GET', KEYS[1])";

/// Count one pickup code tried by a client (KEYS: its counter; ARGV: the window in ms, the
/// codes allowed in it). 1 if allowed.
const PICKUP_TRIED: &str = r"
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n <= tonumber(ARGV[2]) then return 1 end
return 0
";

/// Where a park's token stands (KEYS: the token's key, the room's two places): "live",
/// "used", "expired" (its time is up, or its held place is gone) or "unknown".
const PARK_STATE: &str = r"
local mv = redis.call('GET', KEYS[1])
if not mv then return 'unknown' end
if string.sub(mv, 1, 5) == 'used ' then return 'used' end
local place, n, m, expires = string.match(mv, '^(%S+) (%S+) (%S+) (%d+)')
if not place or (place ~= KEYS[2] and place ~= KEYS[3]) then return 'unknown' end
local cur = redis.call('GET', place)
if not cur or string.sub(cur, 1, #n + #m + 2) ~= n .. ' ' .. m .. ' ' then return 'expired' end
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) >= tonumber(expires) then
  return 'expired'
end
return 'live'
";

/// A member whose socket is on this node.
struct Local {
    /// `shieldcall:room:<hash>`, the prefix of its two places.
    room: String,
    /// Its place (0 or 1) once joined.
    slot: Option<usize>,
    /// `<token hash>` of its place, once joined.
    token_hash: String,
    /// The other member as last known (`<node> <member>`), to tell `peer-left` once.
    peer: Option<String>,
    /// Renewals in a row that found the other place empty.
    peer_missing: u8,
    /// Renewals in a row that found the other place held by someone other than `peer`.
    peer_unannounced: u8,
    queue: mpsc::Sender<Utf8Bytes>,
    queued: Arc<AtomicUsize>,
    kick: watch::Sender<Option<Kick>>,
    last_activity: Instant,
    /// The call id as logs show it.
    call: String,
    /// The key of the latest move token issued for its place (an earlier unused one goes).
    move_key: Option<String>,
}

impl Local {
    fn deliver(&self, text: Utf8Bytes, max_queued_bytes: usize) -> bool {
        deliver_to(&self.queue, &self.queued, &self.kick, max_queued_bytes, text)
    }

    fn keys(&self, slot: usize) -> (String, String) {
        (format!("{}:{slot}", self.room), format!("{}:{}", self.room, 1 - slot))
    }
}

/// This node's side of the cluster.
pub struct Cluster {
    client: redis::Client,
    node: String,
    channel: String,
    lease: Duration,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// [`ENGINE_UNKNOWN`] until the first request, then [`ENGINE_UP`] or [`ENGINE_DOWN`]:
    /// each change is logged once, the first failure too (Redis down at start).
    engine: AtomicU8,
    sub_up: AtomicBool,
    errors: AtomicU64,
    members: Mutex<HashMap<u64, Local>>,
    next_id: AtomicU64,
    max_queued_bytes: usize,
    join: Script,
    forward: Script,
    leave: Script,
    renew: Script,
    issue_move: Script,
    join_moving: Script,
    park: Script,
    park_record: Script,
    park_state: Script,
    pickup_tried: Script,
    /// The keys parks are sealed with, if the nodes share a secret: without, no parks.
    park_seal: Option<Arc<ParkSeal>>,
    /// A park record that did not open was logged once.
    warned_seal: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A few map operations: a panic inside leaves the map usable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A random start for this process's member ids, with room to count up without wrapping.
fn first_member_id() -> u64 {
    let mut bytes = [0u8; 8];
    // Without the OS's randomness the relay cannot run safely at all.
    getrandom::getrandom(&mut bytes).expect("the OS provides randomness");
    u64::from_le_bytes(bytes) >> 12
}

/// A member registered on this node, before its script said which place it has.
struct Pending {
    id: u64,
    queue: mpsc::Receiver<Utf8Bytes>,
    queued: Arc<AtomicUsize>,
    kick: watch::Receiver<Option<Kick>>,
}

/// Whether `holder` (`<node> <member>`) is a parked place.
fn is_held(holder: &str) -> bool {
    holder.split_once(' ').is_some_and(|(node, _)| node == HELD)
}

/// The other place's holder as the renewal reports it, and for a parked one (`=held <member>
/// <ms left>`) the ms its park has left.
fn held_for(reported: &str) -> (&str, Option<u64>) {
    if !is_held(reported) {
        return (reported, None);
    }
    match reported.rsplit_once(' ') {
        Some((holder, ms)) if is_held(holder) => (holder, Some(ms.parse::<u64>().unwrap_or(0))),
        _ => (reported, None),
    }
}

/// `shieldcall:room:<hash>`, the prefix of a call's two places.
fn room_key(call_id: &str) -> String {
    format!("shieldcall:room:{}", hex32(call_id.as_bytes()))
}

/// `shieldcall:move:<hash>`: a move token as Redis knows it.
fn move_key(token: &RejoinToken) -> String {
    format!("shieldcall:move:{}", hex32(&token.bytes()))
}

/// The first 16 bytes of SHA-256 of `bytes`, in hex: how call ids and rejoin tokens are named
/// to Redis (enough to tell rooms and places apart, useless to join one).
fn hex32(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl Cluster {
    pub fn new(config: &ClusterConfig, max_queued_bytes: usize) -> Cluster {
        Cluster {
            // The URL was checked when the flags were read (config.rs).
            client: redis::Client::open(config.url.as_str()).expect("--cluster URL was checked"),
            node: config.node_id.clone(),
            channel: format!("shieldcall:node:{}", config.node_id),
            lease: config.lease,
            conn: tokio::sync::Mutex::new(None),
            engine: AtomicU8::new(ENGINE_UNKNOWN),
            sub_up: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            members: Mutex::new(HashMap::new()),
            // Random, not 1: a node restarted under the same --node-id must not take its
            // old members' places (still in Redis until their lease ends) for its new ones'.
            next_id: AtomicU64::new(first_member_id()),
            max_queued_bytes,
            join: Script::new(JOIN),
            forward: Script::new(FORWARD),
            leave: Script::new(LEAVE),
            renew: Script::new(RENEW),
            issue_move: Script::new(ISSUE_MOVE),
            join_moving: Script::new(JOIN_MOVING),
            park: Script::new(PARK),
            park_record: Script::new(PARK_RECORD),
            park_state: Script::new(PARK_STATE),
            pickup_tried: Script::new(PICKUP_TRIED),
            park_seal: config.park_seal.clone(),
            warned_seal: AtomicBool::new(false),
        }
    }

    /// Whether this node reaches Redis and receives its channel.
    pub fn is_up(&self) -> bool {
        self.engine.load(Ordering::SeqCst) == ENGINE_UP && self.sub_up.load(Ordering::SeqCst)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Rooms with a member on this node.
    pub fn room_count(&self) -> usize {
        lock(&self.members).values().map(|m| m.room.as_str()).collect::<HashSet<_>>().len()
    }

    fn holder(&self, id: u64) -> String {
        format!("{} {id}", self.node)
    }

    /// The shared connection, made on first use and after a failure.
    async fn conn(&self) -> Result<MultiplexedConnection, RedisError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = &*slot {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let conn = self.client.get_multiplexed_async_connection_with_config(&config).await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Run a script on the shared connection.
    async fn invoke<T: FromRedisValue>(&self, call: &ScriptInvocation<'_>) -> RedisResult<T> {
        let mut conn = self.conn().await?;
        call.invoke_async(&mut conn).await
    }

    /// Run a script that is safe to run twice: once more, on a new connection, if the first
    /// try failed on a connection Redis dropped (a restart fails at its first use).
    async fn invoke_repeatable<T: FromRedisValue>(
        &self,
        call: &ScriptInvocation<'_>,
    ) -> RedisResult<T> {
        let result = self.invoke(call).await;
        if result.as_ref().is_err_and(|e| e.is_io_error() || e.is_connection_dropped()) {
            self.errors.fetch_add(1, Ordering::Relaxed);
            *self.conn.lock().await = None;
            return self.invoke(call).await;
        }
        result
    }

    fn succeeded(&self) {
        if self.engine.swap(ENGINE_UP, Ordering::SeqCst) != ENGINE_UP {
            info!(node = self.node, "cluster engine reachable");
        }
    }

    /// Count the failure, say so once when the engine goes away, and reconnect next time.
    async fn failed(&self, e: &RedisError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if self.engine.swap(ENGINE_DOWN, Ordering::SeqCst) != ENGINE_DOWN {
            // A Redis error names the failure (refused, timed out), never our keys or values.
            error!(node = self.node, error = %e, "cannot reach the cluster engine (Redis): refusing joins until it is back");
        }
        *self.conn.lock().await = None;
    }

    /// Join `call_id` as [`Relay::join`] does, with the room in Redis.
    pub async fn join(
        &self,
        relay: &Relay,
        call_id: &str,
        rejoin: Option<RejoinToken>,
        ip: IpAddr,
    ) -> Result<Membership, Refused> {
        let (pending, room, fresh) = self.begin_join(call_id)?;
        let presented = rejoin.map(|t| hex32(&t.bytes())).unwrap_or_default();
        let mut may_create = false;
        let answer: Vec<String> = loop {
            let mut call = self.join.prepare_invoke();
            call.key(format!("{room}:0")).key(format!("{room}:1")).arg(self.holder(pending.id));
            call.arg(&presented).arg(hex32(&fresh.bytes()));
            call.arg(self.lease.as_millis() as u64).arg(u8::from(may_create));
            let answer: Vec<String> = match self.invoke(&call).await {
                Ok(answer) => answer,
                Err(e) => {
                    self.failed(&e).await;
                    return self.refused(pending, Refused::ClusterDown);
                }
            };
            self.succeeded();
            if answer.first().map(String::as_str) == Some("new") && !may_create {
                if !relay.allow_new_room(ip) {
                    return self.refused(pending, Refused::TooManyNewRooms);
                }
                may_create = true;
                continue;
            }
            break answer;
        };
        let [outcome, slot, other] = answer.as_slice() else {
            return self.unexpected(pending, "join");
        };
        let (replaced, slot) = match (outcome.as_str(), slot.parse::<usize>()) {
            ("full", _) => return self.refused(pending, Refused::Full),
            ("replaced", Ok(slot @ 0..=1)) => (true, slot),
            ("joined", Ok(slot @ 0..=1)) => (false, slot),
            _ => return self.unexpected(pending, "join"),
        };
        let token = match (replaced, rejoin) {
            (true, Some(token)) => token,
            _ => fresh,
        };
        Ok(self.seat(pending, slot, token, other, replaced, false))
    }

    /// Take the place a move token was issued for, as [`Relay::join_moving`] does.
    pub async fn join_moving(
        &self,
        call_id: &str,
        moving: RejoinToken,
    ) -> Result<Membership, Refused> {
        let (pending, room, fresh) = self.begin_join(call_id)?;
        let mut call = self.join_moving.prepare_invoke();
        call.key(move_key(&moving)).key(format!("{room}:0")).key(format!("{room}:1"));
        call.arg(self.holder(pending.id)).arg(hex32(&fresh.bytes()));
        call.arg(self.lease.as_millis() as u64);
        // The script may have run and its answer been lost: the token is then used, and the
        // place this socket's. Asked again by the same holder, it answers "moved" again.
        let answer: Vec<String> = match self.invoke_repeatable(&call).await {
            Ok(answer) => answer,
            Err(e) => {
                self.failed(&e).await;
                return self.refused(pending, Refused::ClusterDown);
            }
        };
        self.succeeded();
        let [outcome, slot, other] = answer.as_slice() else {
            return self.unexpected(pending, "move");
        };
        let slot = match (outcome.as_str(), slot.parse::<usize>()) {
            ("moved", Ok(slot @ 0..=1)) => slot,
            ("unknown", _) => return self.refused(pending, Refused::Move(MoveRefusal::Unknown)),
            ("used", _) => return self.refused(pending, Refused::Move(MoveRefusal::Used)),
            ("expired", _) => return self.refused(pending, Refused::Move(MoveRefusal::Expired)),
            _ => return self.unexpected(pending, "move"),
        };
        Ok(self.seat(pending, slot, fresh, other, false, true))
    }

    /// A token for another device to take member `id`'s place, or with `transfer_to` for
    /// someone else going by that name, valid for `ttl` (replacing its earlier unused one):
    /// `Ok(None)` if the place is no longer its own.
    pub async fn issue_move(
        &self,
        id: u64,
        ttl: Duration,
        transfer_to: Option<&str>,
    ) -> Result<Option<RejoinToken>, Refused> {
        let token = RejoinToken::generate();
        let key = move_key(&token);
        let (mine, previous) = {
            let members = lock(&self.members);
            let Some(local) = members.get(&id) else { return Ok(None) };
            let Some(slot) = local.slot else { return Ok(None) };
            (local.keys(slot).0, local.move_key.clone().unwrap_or_else(|| key.clone()))
        };
        let mut call = self.issue_move.prepare_invoke();
        call.key(mine).key(&key).key(previous).arg(self.holder(id));
        call.arg(ttl.as_millis() as u64).arg(MOVE_REMEMBERED_MS).arg(transfer_to.unwrap_or(""));
        match self.invoke::<i64>(&call).await {
            Ok(1) => {
                self.succeeded();
                if let Some(local) = lock(&self.members).get_mut(&id) {
                    local.move_key = Some(key);
                }
                Ok(Some(token))
            }
            Ok(_) => Ok(None),
            Err(e) => {
                self.failed(&e).await;
                Err(Refused::ClusterDown)
            }
        }
    }

    /// Whether this cluster can park a call (its nodes share a secret to seal parks with).
    pub fn parks(&self) -> bool {
        self.park_seal.is_some()
    }

    /// Park member `id`'s place in `call_id` for `ttl`, as [`Relay::park`] does: its token and
    /// the relay's half of its pickup code; `Ok(None)` if the place is no longer its own (or
    /// this cluster parks nothing). The member's socket keeps no place: the held one is
    /// Redis's alone until its pickup or its end.
    pub async fn park(
        &self,
        call_id: &str,
        id: u64,
        ttl: Duration,
        deposit: String,
    ) -> Result<Option<(RejoinToken, String)>, Refused> {
        let Some(seal) = &self.park_seal else { return Ok(None) };
        let token = RejoinToken::generate();
        let key = move_key(&token);
        let (mine, other, previous, token_hash) = {
            let members = lock(&self.members);
            let Some(local) = members.get(&id) else { return Ok(None) };
            let Some(slot) = local.slot else { return Ok(None) };
            let (mine, other) = local.keys(slot);
            let previous = local.move_key.clone().unwrap_or_else(|| key.clone());
            (mine, other, previous, local.token_hash.clone())
        };
        let record = ParkRecord { call_id: call_id.to_string(), token, deposit };
        // 2^30 codes: a second draw is rare, a fourth never needed but by a broken Redis.
        for _ in 0..4 {
            let code = new_park_code();
            let record_key = seal.record_key(&code);
            let mut call = self.park.prepare_invoke();
            call.key(&mine).key(&key).key(&previous).key(&other).key(&record_key);
            call.arg(self.holder(id)).arg(ttl.as_millis() as u64).arg(MOVE_REMEMBERED_MS);
            call.arg(id).arg(seal.seal(&record_key, &record)).arg(ttl.as_secs()).arg(&token_hash);
            match self.invoke::<i64>(&call).await {
                Ok(1) => {
                    self.succeeded();
                    if let Some(local) = lock(&self.members).get_mut(&id) {
                        local.slot = None;
                        local.peer = None;
                        local.move_key = None;
                    }
                    return Ok(Some((token, code)));
                }
                Ok(-1) => continue,
                Ok(_) => return Ok(None),
                Err(e) => {
                    self.failed(&e).await;
                    return Err(Refused::ClusterDown);
                }
            }
        }
        // Only a Redis that answers "taken" to everything gets here.
        warn!("no free pickup code in four draws: refusing the park");
        Err(Refused::ClusterDown)
    }

    /// Whether `ip` may try one more pickup code now, counted across the cluster (each node's
    /// own count would give a guesser behind a balancer one budget per node). Redis names the
    /// client by an HMAC only. Asked only where the nodes [park](Cluster::parks); without
    /// parks no code finds anything, so none is let through here.
    pub async fn allow_pickup(&self, ip: IpAddr) -> Result<bool, Refused> {
        debug_assert!(self.parks(), "pickups are counted here only where the nodes park");
        let Some(seal) = &self.park_seal else { return Ok(false) };
        let mut call = self.pickup_tried.prepare_invoke();
        call.key(seal.pickups_key(crate::limit::client_of(ip)));
        call.arg(60_000).arg(crate::rooms::PICKUPS_PER_MINUTE);
        // Repeated on a dropped connection: a lost answer counts one try too many, no more.
        match self.invoke_repeatable::<i64>(&call).await {
            Ok(allowed) => {
                self.succeeded();
                Ok(allowed == 1)
            }
            Err(e) => {
                self.failed(&e).await;
                Err(Refused::ClusterDown)
            }
        }
    }

    /// What the relay's half of a pickup code finds, on any node, as [`Relay::pickup`] says.
    pub async fn pickup(&self, code: &str) -> Result<PickupAnswer, Refused> {
        let unknown = PickupAnswer::Refused { reason: MoveRefusal::Unknown };
        let Some(seal) = &self.park_seal else { return Ok(unknown) };
        let record_key = seal.record_key(&code.trim().to_ascii_uppercase());
        let mut call = self.park_record.prepare_invoke();
        call.key(&record_key);
        let sealed = match self.invoke_repeatable::<Option<Vec<u8>>>(&call).await {
            Ok(Some(sealed)) => sealed,
            Ok(None) => return Ok(unknown),
            Err(e) => {
                self.failed(&e).await;
                return Err(Refused::ClusterDown);
            }
        };
        let Some(record) = seal.open(&record_key, &sealed) else {
            if !self.warned_seal.swap(true, Ordering::Relaxed) {
                // Named by an HMAC under the same secret, so written by a node that has it: the
                // record was changed in Redis.
                warn!(
                    node = self.node,
                    "a park record in the cluster does not open: changed in Redis?"
                );
            }
            return Ok(unknown);
        };
        let room = room_key(&record.call_id);
        let mut call = self.park_state.prepare_invoke();
        call.key(move_key(&record.token)).key(format!("{room}:0")).key(format!("{room}:1"));
        let state: String = match self.invoke_repeatable(&call).await {
            Ok(state) => state,
            Err(e) => {
                self.failed(&e).await;
                return Err(Refused::ClusterDown);
            }
        };
        self.succeeded();
        let reason = match state.as_str() {
            "live" => {
                return Ok(PickupAnswer::Found {
                    call: record.call_id,
                    token: MoveToken(record.token.to_text()),
                    deposit: record.deposit,
                });
            }
            "used" => MoveRefusal::Used,
            "expired" => MoveRefusal::Expired,
            _ => MoveRefusal::Unknown,
        };
        Ok(PickupAnswer::Refused { reason })
    }

    /// How every join starts: refused at once while the cluster is down, else a member
    /// registered for `call_id`, its room's key, and a fresh rejoin token for the place.
    fn begin_join(&self, call_id: &str) -> Result<(Pending, String, RejoinToken), Refused> {
        if !self.is_up() {
            return Err(Refused::ClusterDown);
        }
        Ok((self.register(call_id), room_key(call_id), RejoinToken::generate()))
    }

    /// A new member id, registered before its script runs: the other member's first events
    /// may arrive before its answer does.
    fn register(&self, call_id: &str) -> Pending {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue_tx, queue) = mpsc::channel(QUEUE_LEN);
        let queued = Arc::new(AtomicUsize::new(0));
        let (kick_tx, kick) = watch::channel(None);
        lock(&self.members).insert(
            id,
            Local {
                room: room_key(call_id),
                slot: None,
                token_hash: String::new(),
                peer: None,
                peer_missing: 0,
                peer_unannounced: 0,
                queue: queue_tx,
                queued: queued.clone(),
                kick: kick_tx,
                last_activity: Instant::now(),
                call: short(call_id),
                move_key: None,
            },
        );
        Pending { id, queue, queued, kick }
    }

    fn refused(&self, pending: Pending, why: Refused) -> Result<Membership, Refused> {
        lock(&self.members).remove(&pending.id);
        Err(why)
    }

    /// A script of this very file answers: anything else is a bug, or not our Redis.
    fn unexpected(&self, pending: Pending, script: &str) -> Result<Membership, Refused> {
        warn!(script, "unexpected answer from a cluster script");
        self.refused(pending, Refused::ClusterDown)
    }

    /// `pending` got place `slot` with `token`, `other` (`<node> <member>`, or empty) in the
    /// other place.
    fn seat(
        &self,
        pending: Pending,
        slot: usize,
        token: RejoinToken,
        other: &str,
        replaced: bool,
        moved: bool,
    ) -> Membership {
        let peer = (!other.is_empty()).then(|| other.to_string());
        let peers = u8::from(peer.is_some());
        if let Some(local) = lock(&self.members).get_mut(&pending.id) {
            local.slot = Some(slot);
            local.token_hash = hex32(&token.bytes());
            // Only if nothing was heard meanwhile: whatever reached this member before its
            // script's answer (a peer that joined, moved or parked just after) is newer.
            if local.peer.is_none() {
                local.peer = peer;
            }
        }
        Membership {
            id: pending.id,
            slot,
            peers,
            rejoin: token,
            replaced,
            moved,
            // A cluster's rooms are never opened to a group.
            place: 0,
            group: None,
            queue: pending.queue,
            queued: pending.queued,
            kick: pending.kick,
        }
    }

    /// Hand `text` from member `from` to the other member, wherever it is.
    pub async fn forward(&self, from: u64, text: Utf8Bytes) -> Forward {
        let keys = {
            let mut members = lock(&self.members);
            let Some(local) = members.get_mut(&from) else { return Forward::NoPeer };
            local.last_activity = Instant::now();
            let Some(slot) = local.slot else { return Forward::NoPeer };
            local.keys(slot)
        };
        let mut call = self.forward.prepare_invoke();
        call.key(keys.0).key(keys.1).arg(self.holder(from)).arg(text.as_str());
        match self.invoke::<i64>(&call).await {
            Ok(1) => Forward::Sent,
            Ok(0) => Forward::NoPeer,
            Ok(-2) => Forward::PeerUnreachable,
            Ok(_) => {
                // Its place is someone else's now: it expired while this node was cut off, or
                // a move took it.
                self.place_lost(from).await;
                Forward::Lost
            }
            Err(e) => {
                self.failed(&e).await;
                Forward::ClusterDown
            }
        }
    }

    /// Member `id`'s place is someone else's: closed as moved if its latest move token was
    /// used (the `moved` published for it may still be on its way), else as removed; unless
    /// already told why (replaced by its own reconnection, most likely).
    async fn place_lost(&self, id: u64) {
        let move_key = lock(&self.members).get(&id).and_then(|local| local.move_key.clone());
        let mut moved = false;
        if let Some(key) = move_key
            && let Ok(mut conn) = self.conn().await
        {
            let used: RedisResult<Option<String>> =
                redis::cmd("GET").arg(key).query_async(&mut conn).await;
            moved = used.is_ok_and(|v| v.is_some_and(|v| v.starts_with("used ")));
        }
        if let Some(local) = lock(&self.members).get(&id) {
            local.kick.send_if_modified(|kick| {
                let unset = kick.is_none();
                if unset {
                    *kick = Some(if moved { KICK_MOVED } else { KICK_LOST });
                }
                unset
            });
        }
    }

    /// Member `id` leaves; `announce`: tell the other member `peer-left` (not when the relay
    /// shuts down or dropped the room as idle: then the member may come back on another node
    /// with its token, or its place simply expires).
    pub async fn leave(&self, id: u64, announce: bool) {
        let Some(local) = lock(&self.members).remove(&id) else { return };
        let Some(slot) = local.slot else { return };
        if !announce {
            return;
        }
        let keys = local.keys(slot);
        let mut call = self.leave.prepare_invoke();
        call.key(keys.0).key(keys.1).arg(self.holder(id)).arg(1);
        if let Err(e) = self.invoke::<i64>(&call).await {
            // The place expires with its lease; the other member hears peer-left then.
            self.failed(&e).await;
        }
    }

    /// Kick the local members of rooms quiet for `idle`; the short ids of those rooms.
    pub fn reap_idle(&self, idle: Duration, now: Instant) -> Vec<String> {
        let members = lock(&self.members);
        let mut dropped = Vec::new();
        for local in members.values() {
            if now.saturating_duration_since(local.last_activity) >= idle
                && local.kick.borrow().is_none()
            {
                local.kick.send_replace(Some(KICK_IDLE));
                dropped.push(local.call.clone());
            }
        }
        dropped.sort();
        dropped.dedup();
        dropped
    }

    /// What another node (or this one) published for a member here.
    fn dispatch(&self, payload: &[u8]) {
        let Ok(payload) = std::str::from_utf8(payload) else { return };
        let (kind, rest) = payload.split_once(' ').unwrap_or((payload, ""));
        let (member, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let Ok(id) = member.parse::<u64>() else { return };
        let mut members = lock(&self.members);
        let Some(local) = members.get_mut(&id) else { return };
        match kind {
            "m" => {
                local.last_activity = Instant::now();
                local.deliver(rest.to_string().into(), self.max_queued_bytes);
            }
            "joined" => {
                local.peer = Some(rest.to_string());
                local.peer_missing = 0;
                local.deliver(RelayEvent::PeerJoined.to_json().into(), self.max_queued_bytes);
            }
            "left" if local.peer.as_deref() == Some(rest) => {
                local.peer = None;
                local.deliver(RelayEvent::PeerLeft.to_json().into(), self.max_queued_bytes);
            }
            "replaced" => {
                local.kick.send_replace(Some(KICK_REPLACED));
            }
            "moved" => {
                local.kick.send_replace(Some(KICK_MOVED));
            }
            // `<ttl secs> =held <member>`: the other member parked its place.
            "parked" => {
                let Some((ttl, held)) = rest.split_once(' ') else { return };
                let Ok(ttl) = ttl.parse::<u64>() else { return };
                if local.peer.as_deref() == Some(held) {
                    return; // a renewal found it first (this message was late)
                }
                local.peer = Some(held.to_string());
                local.peer_missing = 0;
                let event = RelayEvent::PeerParked { ttl };
                local.deliver(event.to_json().into(), self.max_queued_bytes);
            }
            "peer-moved" => {
                local.peer = Some(rest.to_string());
                local.peer_missing = 0;
                local.deliver(RelayEvent::PeerMoved.to_json().into(), self.max_queued_bytes);
            }
            // `<node> <member> <name>`: the newcomer's place, and the name it goes by.
            "peer-transferred" => {
                let mut parts = rest.splitn(3, ' ');
                let (Some(node), Some(member), Some(name)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return;
                };
                local.peer = Some(format!("{node} {member}"));
                local.peer_missing = 0;
                let event = RelayEvent::PeerTransferred { name: name.to_string() };
                local.deliver(event.to_json().into(), self.max_queued_bytes);
            }
            _ => {}
        }
    }

    /// Receive this node's channel until `stop`, reconnecting whenever the subscription breaks.
    pub async fn run_subscriber(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        // A renewal pings the channel every third of the lease; silence for longer means the
        // subscription is half-open.
        let silent = self.lease;
        loop {
            match timeout(CONNECT_TIMEOUT, self.client.get_async_pubsub()).await {
                Ok(Ok(mut pubsub)) => match pubsub.subscribe(&self.channel).await {
                    Ok(()) => {
                        self.sub_up.store(true, Ordering::SeqCst);
                        info!(node = self.node, "subscribed to this node's cluster channel");
                        let mut messages = pubsub.into_on_message();
                        loop {
                            tokio::select! {
                                _ = async { _ = stop.wait_for(|s| *s).await } => return,
                                msg = timeout(silent, messages.next()) => match msg {
                                    Ok(Some(msg)) => self.dispatch(msg.get_payload_bytes()),
                                    Ok(None) | Err(_) => break,
                                },
                            }
                        }
                        self.sub_up.store(false, Ordering::SeqCst);
                        error!(node = self.node, "lost this node's cluster channel: resubscribing");
                    }
                    Err(e) => self.failed(&e).await,
                },
                Ok(Err(e)) => self.failed(&e).await,
                Err(_) => {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                    if self.engine.swap(ENGINE_DOWN, Ordering::SeqCst) != ENGINE_DOWN {
                        error!(
                            node = self.node,
                            "cannot reach the cluster engine (Redis): timed out"
                        );
                    }
                }
            }
            tokio::select! {
                _ = async { _ = stop.wait_for(|s| *s).await } => return,
                _ = tokio::time::sleep(self.lease / 6) => {}
            }
        }
    }

    /// Renew this node's places every third of the lease until `stop`.
    pub async fn run_renewer(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.lease / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = async { _ = stop.wait_for(|s| *s).await } => return,
                _ = tick.tick() => self.renew().await,
            }
        }
    }

    async fn renew(&self) {
        // (id, own place, other place, own place's value)
        let places: Vec<(u64, String, String, String)> = lock(&self.members)
            .iter()
            .filter_map(|(&id, local)| {
                let slot = local.slot?;
                let (mine, other) = local.keys(slot);
                Some((id, mine, other, format!("{} {}", self.holder(id), local.token_hash)))
            })
            .collect();
        // With no members, one empty call still checks the connection and the subscription.
        let batches: Vec<&[_]> =
            if places.is_empty() { vec![&[]] } else { places.chunks(RENEW_BATCH).collect() };
        let mut first = true;
        let mut lost = Vec::new();
        for batch in batches {
            let mut call = self.renew.prepare_invoke();
            call.arg(self.lease.as_millis() as u64).arg(&self.channel);
            for (_, mine, other, value) in batch {
                call.key(mine).key(other).arg(value);
            }
            // A renewal is safe to repeat, and a missed one could cost a member its place.
            let answer = match self.invoke_repeatable::<Vec<String>>(&call).await {
                Ok(answer) => answer,
                Err(e) => return self.failed(&e).await,
            };
            self.succeeded();
            if first {
                // How many subscribe to this node's channel, by Redis's count: 0 means nothing
                // published to this node arrives, whatever the subscriber task believes (it
                // notices a dead subscription by the pings stopping, and resubscribes).
                let live = answer.first().is_some_and(|n| n != "0");
                if self.sub_up.swap(live, Ordering::SeqCst) && !live {
                    warn!(node = self.node, "this node's cluster channel has no subscriber");
                }
            }
            first = false;
            let mut members = lock(&self.members);
            // `get(1..)`: an answer shorter than asked (a broken or hostile server) renews
            // nothing, and does not bring the node down.
            let states = answer.get(1..).unwrap_or_default();
            for ((id, ..), state) in batch.iter().zip(states.chunks(2)) {
                let [state, peer] = state else { continue };
                let Some(local) = members.get_mut(id) else { continue };
                if local.slot.is_none() {
                    continue; // parked since the batch was read: its place is Redis's now
                }
                let (peer, held_ms) = held_for(peer);
                if state == "parked" {
                    continue; // its own park, whose answer is on its way: its place is Redis's
                }
                if state == "lost" {
                    lost.push(*id);
                    continue;
                }
                if state != "ok" {
                    if local.kick.borrow().is_none() {
                        local.kick.send_replace(Some(KICK_REPLACED));
                    }
                    continue;
                }
                if !peer.is_empty() {
                    local.peer_missing = 0;
                    if local.peer.as_deref() == Some(peer) {
                        local.peer_unannounced = 0;
                        continue;
                    }
                    // A member, or a park, this node was never told about: its peer-joined or
                    // peer-parked was published while this node's subscription was down (Redis
                    // restarting). Made up at the second renewal that sees it, long after any
                    // publish would have arrived.
                    local.peer_unannounced += 1;
                    if local.peer_unannounced >= 2 {
                        local.peer = Some(peer.to_string());
                        local.peer_unannounced = 0;
                        let event = match held_ms {
                            Some(ms) => RelayEvent::PeerParked { ttl: ms.div_ceil(1000) },
                            None => RelayEvent::PeerJoined,
                        };
                        info!(call = local.call, "the other member joined or parked unannounced");
                        local.deliver(event.to_json().into(), self.max_queued_bytes);
                    }
                } else if local.peer.as_deref().is_some_and(is_held) {
                    // A held place is written back by no node: gone is gone, at once. Its
                    // pickup would have named the new holder (`peer-moved`).
                    local.peer = None;
                    local.peer_unannounced = 0;
                    info!(call = local.call, "parked place not picked up in time: ended");
                    local.deliver(RelayEvent::ParkEnded.to_json().into(), self.max_queued_bytes);
                } else if local.peer.is_some() {
                    local.peer_unannounced = 0;
                    // Three renewals in a row (two thirds of a lease), so that a place missing
                    // for a moment after a Redis restart, until its node writes it back at its
                    // next renewal, is not taken for a member gone.
                    local.peer_missing += 1;
                    if local.peer_missing >= 3 {
                        local.peer = None;
                        local.peer_missing = 0;
                        info!(call = local.call, "the other member's place expired");
                        local.deliver(RelayEvent::PeerLeft.to_json().into(), self.max_queued_bytes);
                    }
                }
            }
        }
        for id in lost {
            self.place_lost(id).await;
        }
    }
}
