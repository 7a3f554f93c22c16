//! What crosses the relay's socket: [`RelayRequest`] (a client to the relay itself),
//! [`RelayEvent`] (the relay about its room) and [`Signal`] (one client to the other, which the
//! relay only forwards). All are JSON objects tagged by `t`, so a client reads relay events and
//! signals from the same socket ([`Inbound`]). Each is written (`to_json`) and read (`parse`) by
//! hand through [`crate::json`], by the same names, refusing any field it does not have.

use crate::json::{self, FromJson, Json, Object, ObjectWriter};

/// Protocol version carried in [`Hello`].
pub const PROTOCOL_VERSION: u8 = 3;

/// Largest text message the relay accepts or forwards, in bytes.
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// An event the relay sends about the room a client joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayEvent {
    /// You are in the room; `peers` others were already there (0 or 1). `rejoin` is this
    /// place's token: a reconnection that presents it (in [`RelayRequest::Join`]) takes
    /// the place back even while the relay still holds the old socket (a half-open connection
    /// it has not yet found dead), instead of being told the call is full. `turn`: TURN
    /// servers and short-lived credentials for this place, when the relay has a TURN server
    /// configured; absent otherwise, so a relay without TURN sends what it always sent.
    /// `lacks`: what this relay does not offer (a relay cluster has no groups, and parks no
    /// call unless its nodes share a secret), so that the page can say so before anyone
    /// presses; absent when it offers everything.
    Joined { peers: u8, rejoin: String, turn: Option<TurnCredentials>, lacks: Vec<RelayFeature> },
    /// The other person arrived.
    PeerJoined,
    /// The other person left or lost their connection.
    PeerLeft,
    /// The room already holds two people; this socket is closed next.
    Full,
    /// The relay rejected something this client sent; the room is unharmed. `request`: the
    /// request it refused, when it was one the relay answers (a move, park, transfer or
    /// open-group), so that the page can tell the person which of theirs did not happen;
    /// absent for a signal refused or anything else. `reason` is the relay's own words, for logs only: a page
    /// shows the person words of its own, never a relay's text.
    Error { reason: String, request: Option<RefusedRequest> },
    /// The answer to [`RelayRequest::Move`]: a one-time token that lets another device take
    /// this place, valid for `ttl` seconds (the latest one replaces any unused earlier one).
    MoveToken { token: MoveToken, ttl: u64 },
    /// The other person's place was taken by their other device (a move token): a new
    /// connection follows, as after a reconnection.
    PeerMoved,
    /// This place was taken by this person's other device: the socket is closed next, and the
    /// page must not reconnect.
    Moved,
    /// A [`RelayRequest::Join`] with a move token that does not take a place, and why; the
    /// socket is closed next and nothing in the room changed.
    MoveRefused { reason: MoveRefusal },
    /// The answer to [`RelayRequest::Park`]: this place is held for `ttl` seconds after this
    /// socket goes; `token` takes it (in a join's `move`, as a move token does), and `code`
    /// (the relay's half of a pickup code) finds it through `POST /pickup`.
    Parked { token: MoveToken, code: String, ttl: u64 },
    /// The other person parked the call: their place is held for `ttl` seconds, without them.
    PeerParked { ttl: u64 },
    /// The other person's parked place was not picked up in time and is gone.
    ParkEnded,
    /// The answer to [`RelayRequest::Transfer`]: a one-time token that hands this place to
    /// someone else, valid for `ttl` seconds.
    TransferToken { token: MoveToken, ttl: u64 },
    /// The other person's place was taken by someone they transferred the call to, who says
    /// (as typed by the one who transferred; untrusted) they are `name`.
    PeerTransferred { name: String },
}

/// A feature a relay may not offer, named in [`RelayEvent::Joined`]'s `lacks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayFeature {
    /// Opening a call to a group (`open-group`).
    Group,
    /// Parking a call (`park`), and so consulting before a transfer.
    Park,
}

impl RelayFeature {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayFeature::Group => "group",
            RelayFeature::Park => "park",
        }
    }
}

impl RelayFeature {
    /// The features in `names` this page knows: a relay may name more (a newer relay's), which
    /// an older page has none of anyway, so they are skipped, never the whole `joined`.
    fn known(names: Vec<String>) -> Vec<RelayFeature> {
        let all = [RelayFeature::Group, RelayFeature::Park];
        names.iter().filter_map(|name| all.into_iter().find(|f| f.as_str() == name)).collect()
    }
}

/// A request the relay answers, named in an [`RelayEvent::Error`] that refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedRequest {
    Move,
    Park,
    Transfer,
    OpenGroup,
}

impl RefusedRequest {
    /// Its name on the wire (the request's own tag).
    pub fn as_str(self) -> &'static str {
        match self {
            RefusedRequest::Move => "move",
            RefusedRequest::Park => "park",
            RefusedRequest::Transfer => "transfer",
            RefusedRequest::OpenGroup => "open-group",
        }
    }

    /// The request `request` is, if the relay answers it.
    pub fn of(request: &RelayRequest) -> Option<Self> {
        match request {
            RelayRequest::Move {} => Some(RefusedRequest::Move),
            RelayRequest::Park { .. } => Some(RefusedRequest::Park),
            RelayRequest::Transfer { .. } => Some(RefusedRequest::Transfer),
            RelayRequest::OpenGroup {} => Some(RefusedRequest::OpenGroup),
            RelayRequest::Join { .. } | RelayRequest::To { .. } => None,
        }
    }
}

/// Why a move token took no place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveRefusal {
    /// It has taken a place already: move links are one-time.
    Used,
    /// Its time ran out, or the person who asked for it has left the call since.
    Expired,
    /// This call never issued it (a link for another call, a made-up token), or, for a pickup
    /// code, a relay that cannot find it (a cluster whose nodes share no secret parks nothing).
    Unknown,
}

/// A move token: 16 random bytes from the relay, base64url. It is the whole claim to a place,
/// so it is kept out of `Debug` (logs, panics); it travels only in a socket's messages and in
/// a link's fragment, never in a URL the relay sees.
#[derive(Clone, PartialEq, Eq)]
pub struct MoveToken(pub String);

impl std::fmt::Debug for MoveToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MoveToken(<redacted>)")
    }
}

/// TURN servers and credentials for them, from the relay in [`RelayEvent::Joined`]: the TURN
/// REST API scheme that coturn's `use-auth-secret` checks, `username` = `<expiry unix
/// time>:<opaque id>` and `credential` = base64(HMAC-SHA1(shared secret, username)). Valid for
/// `ttl` seconds from when the relay sent them. (In `joined` rather than from an HTTP endpoint:
/// only someone who holds a place in a call gets them, with no endpoint of its own to guard
/// and rate-limit, they arrive before any peer connection is made, and every rejoin after a
/// lost socket brings fresh ones.)
#[derive(Clone, PartialEq, Eq)]
pub struct TurnCredentials {
    /// `turn:` / `turns:` URLs, as in `RTCIceServer.urls`.
    pub urls: Vec<String>,
    pub username: String,
    pub credential: String,
    /// Seconds the credential stays valid.
    pub ttl: u64,
}

impl std::fmt::Debug for TurnCredentials {
    /// Without the credential: it lets anyone relay traffic through the TURN server.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnCredentials")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("credential", &"<redacted>")
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The first message on a relay socket, from the client to the relay (never forwarded). The
/// rejoin token travels here rather than in the URL, where access logs and proxies would keep it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayRequest {
    /// Join the room: a new place, or with `rejoin` (from an earlier `joined`) that place back,
    /// or with `move` (from another device's [`RelayEvent::MoveToken`]) that device's place.
    Join { rejoin: Option<String>, moving: Option<MoveToken> },
    /// (Once joined, the only request besides signals.) Ask for a token to move this place to
    /// another device: answered by [`RelayEvent::MoveToken`], or an `error`.
    Move {},
    /// (Once joined, transport-only.) Open this room to a group of up to four: answered, to
    /// every member, by [`crate::GroupEvent::Group`], or by an `error`.
    OpenGroup {},
    /// (In a group) a signal for member `to` only; it arrives as [`crate::GroupEvent::From`].
    To { to: crate::MemberId, s: Signal },
    /// Park this place: hold it for a while after this socket goes, for whoever presents the
    /// token (or finds it by the code) to take. `deposit`: the pickup link's secret part,
    /// sealed by the page with the half of the pickup code the relay never sees (base64url, at
    /// most [`MAX_DEPOSIT`] characters). Answered by [`RelayEvent::Parked`], or an `error`.
    Park { deposit: String },
    /// Ask for a token that hands this place to someone else, whom the other person will be
    /// told is `name` (1 to [`MAX_NAME`] characters, no control characters). Answered by
    /// [`RelayEvent::TransferToken`], or an `error`.
    Transfer { name: String },
}

/// The longest deposit a park may carry (base64url characters).
pub const MAX_DEPOSIT: usize = 512;
/// The longest display name a transfer may carry (characters).
pub const MAX_NAME: usize = 40;

/// Whether `name` is a display name a transfer may carry.
pub fn valid_transfer_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=MAX_NAME).contains(&count)
        && !name.chars().any(char::is_control)
        && !name.trim().is_empty()
}

/// What `POST /pickup` answers for a pickup code's relay half: where the parked place is and
/// what the parker deposited, or why not.
#[derive(Clone, PartialEq, Eq)]
pub enum PickupAnswer {
    Found { call: String, token: MoveToken, deposit: String },
    Refused { reason: MoveRefusal },
}

impl std::fmt::Debug for PickupAnswer {
    /// Without the token or the deposit.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PickupAnswer::Found { .. } => f.write_str("PickupAnswer::Found(<redacted>)"),
            PickupAnswer::Refused { reason } => write!(f, "PickupAnswer::Refused({reason:?})"),
        }
    }
}

impl RelayRequest {
    /// Parse the first message of a socket; `Err` never echoes the message.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        parse_signalling(text)
    }

    /// The JSON text of this request.
    pub fn to_json(&self) -> String {
        match self {
            RelayRequest::Join { rejoin, moving } => ObjectWriter::tagged("join")
                .optional_string("rejoin", rejoin.as_deref())
                .optional_string("move", moving.as_ref().map(|m| m.0.as_str()))
                .finish(),
            RelayRequest::Move {} => ObjectWriter::tagged("move").finish(),
            RelayRequest::OpenGroup {} => ObjectWriter::tagged("open-group").finish(),
            RelayRequest::To { to, s } => ObjectWriter::tagged("to")
                .number("to", u64::from(*to))
                .json("s", &s.to_json())
                .finish(),
            RelayRequest::Park { deposit } => {
                ObjectWriter::tagged("park").string("deposit", deposit).finish()
            }
            RelayRequest::Transfer { name } => {
                ObjectWriter::tagged("transfer").string("name", name).finish()
            }
        }
    }
}

/// Each party's E2EE setting and ephemeral P-256 public key (65-byte SEC1, base64url): the
/// first signal each side sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The protocol version ([`PROTOCOL_VERSION`]).
    pub v: u8,
    pub e2ee: bool,
    pub public_key: String,
}

/// The sender's key confirmation (32 bytes, base64url; `Confirmation` in the E2EE core): proof,
/// keyed by the link secret, of the transcript it saw. The guest's names its own DTLS
/// certificate too (`fp`, the SHA-256 digest, 32 bytes base64url): it confirms as the offer
/// arrives, before its answer, so the host learns that fingerprint here first (PROTOCOL.md
/// change 52) and takes it only if the MAC verifies over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirm {
    pub mac: String,
    pub fp: Option<String>,
}

/// A message from one client to the other, forwarded unchanged by the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    Hello(Hello),
    Confirm(Confirm),
    /// The host's SDP offer.
    Offer {
        sdp: String,
    },
    /// The guest's SDP answer.
    Answer {
        sdp: String,
    },
    /// A trickled ICE candidate, as `RTCIceCandidateInit`.
    Ice {
        candidate: String,
        sdp_mid: Option<String>,
        sdp_m_line_index: Option<u16>,
    },
    /// The sender is hanging up. `mac`, once the sender has the other's hello, proves the
    /// hang-up is its own and not the relay's (PROTOCOL.md change 55); `{"t":"bye"}` without it.
    Bye {
        mac: Option<String>,
    },
}

/// Anything a client can receive on its relay socket: which of the three, its tag says (no
/// two of them share one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    Relay(RelayEvent),
    Peer(Signal),
    /// About a group call (a room opened to more than two).
    Group(crate::GroupEvent),
}

impl Signal {
    /// Parse a text message from a peer; `Err` carries a reason that is safe to show or log
    /// (it never echoes the message back).
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        parse_signalling(text)
    }

    /// The JSON text of this message.
    pub fn to_json(&self) -> String {
        match self {
            Signal::Hello(Hello { v, e2ee, public_key }) => ObjectWriter::tagged("hello")
                .number("v", u64::from(*v))
                .bool("e2ee", *e2ee)
                .string("pub", public_key)
                .finish(),
            Signal::Confirm(Confirm { mac, fp }) => ObjectWriter::tagged("confirm")
                .string("mac", mac)
                .optional_string("fp", fp.as_deref())
                .finish(),
            Signal::Offer { sdp } => ObjectWriter::tagged("offer").string("sdp", sdp).finish(),
            Signal::Answer { sdp } => ObjectWriter::tagged("answer").string("sdp", sdp).finish(),
            Signal::Ice { candidate, sdp_mid, sdp_m_line_index } => {
                let mut ice = ObjectWriter::tagged("ice");
                ice.string("candidate", candidate).optional_string("sdpMid", sdp_mid.as_deref());
                if let Some(index) = sdp_m_line_index {
                    ice.number("sdpMLineIndex", u64::from(*index));
                }
                ice.finish()
            }
            Signal::Bye { mac } => {
                ObjectWriter::tagged("bye").optional_string("mac", mac.as_deref()).finish()
            }
        }
    }
}

impl RelayEvent {
    /// The JSON text of this event.
    pub fn to_json(&self) -> String {
        let tagged = ObjectWriter::tagged;
        match self {
            RelayEvent::Joined { peers, rejoin, turn, lacks } => {
                let mut joined = tagged("joined");
                joined.number("peers", u64::from(*peers)).string("rejoin", rejoin);
                if let Some(turn) = turn {
                    joined.json("turn", &turn.to_json());
                }
                if !lacks.is_empty() {
                    let names: Vec<String> = lacks.iter().map(|f| f.as_str().into()).collect();
                    joined.strings("lacks", &names);
                }
                joined.finish()
            }
            RelayEvent::PeerJoined => tagged("peer-joined").finish(),
            RelayEvent::PeerLeft => tagged("peer-left").finish(),
            RelayEvent::Full => tagged("full").finish(),
            RelayEvent::Error { reason, request } => tagged("error")
                .string("reason", reason)
                .optional_string("request", request.map(RefusedRequest::as_str))
                .finish(),
            RelayEvent::MoveToken { token, ttl } => {
                tagged("move-token").string("token", &token.0).number("ttl", *ttl).finish()
            }
            RelayEvent::PeerMoved => tagged("peer-moved").finish(),
            RelayEvent::Moved => tagged("moved").finish(),
            RelayEvent::MoveRefused { reason } => {
                tagged("move-refused").string("reason", reason.as_str()).finish()
            }
            RelayEvent::Parked { token, code, ttl } => tagged("parked")
                .string("token", &token.0)
                .string("code", code)
                .number("ttl", *ttl)
                .finish(),
            RelayEvent::PeerParked { ttl } => tagged("peer-parked").number("ttl", *ttl).finish(),
            RelayEvent::ParkEnded => tagged("park-ended").finish(),
            RelayEvent::TransferToken { token, ttl } => {
                tagged("transfer-token").string("token", &token.0).number("ttl", *ttl).finish()
            }
            RelayEvent::PeerTransferred { name } => {
                tagged("peer-transferred").string("name", name).finish()
            }
        }
    }
}

impl Inbound {
    /// Parse whatever arrived on a client's relay socket.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        parse_signalling(text)
    }
}

/// One signalling message of at most [`MAX_SIGNAL_BYTES`]; the error never echoes the text.
fn parse_signalling<T: FromJson>(text: &str) -> Result<T, SignalError> {
    if text.len() > MAX_SIGNAL_BYTES {
        return Err(SignalError::TooLarge);
    }
    json::decode(text).map_err(|_| SignalError::Malformed)
}

impl PickupAnswer {
    /// Parse the answer of `POST /pickup`.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        parse_signalling(text)
    }

    /// The JSON text of this answer, tagged from outside: `{"found": {...}}` or
    /// `{"refused": {...}}`.
    pub fn to_json(&self) -> String {
        let (tag, inside) = match self {
            PickupAnswer::Found { call, token, deposit } => (
                "found",
                ObjectWriter::default()
                    .string("call", call)
                    .string("token", &token.0)
                    .string("deposit", deposit)
                    .finish(),
            ),
            PickupAnswer::Refused { reason } => {
                ("refused", ObjectWriter::default().string("reason", reason.as_str()).finish())
            }
        };
        ObjectWriter::default().json(tag, &inside).finish()
    }
}

impl MoveRefusal {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveRefusal::Used => "used",
            MoveRefusal::Expired => "expired",
            MoveRefusal::Unknown => "unknown",
        }
    }
}

impl TurnCredentials {
    fn to_json(&self) -> String {
        ObjectWriter::default()
            .strings("urls", &self.urls)
            .string("username", &self.username)
            .string("credential", &self.credential)
            .number("ttl", self.ttl)
            .finish()
    }
}

// Reading: each message takes its fields by the names `to_json` writes (the tests check that
// what it writes reads back the same), and refuses any other (`Object::done`).

impl FromJson for MoveToken {
    fn from_json(json: Json) -> Option<Self> {
        String::from_json(json).map(MoveToken)
    }
}

/// The one of `all` whose name on the wire (`name`) the string `json` is.
fn named<T: Copy>(json: Json, all: &[T], name: fn(T) -> &'static str) -> Option<T> {
    let text = String::from_json(json)?;
    all.iter().copied().find(|&value| name(value) == text)
}

impl FromJson for RefusedRequest {
    fn from_json(json: Json) -> Option<Self> {
        let all = [
            RefusedRequest::Move,
            RefusedRequest::Park,
            RefusedRequest::Transfer,
            RefusedRequest::OpenGroup,
        ];
        named(json, &all, RefusedRequest::as_str)
    }
}

impl FromJson for MoveRefusal {
    fn from_json(json: Json) -> Option<Self> {
        let all = [MoveRefusal::Used, MoveRefusal::Expired, MoveRefusal::Unknown];
        named(json, &all, MoveRefusal::as_str)
    }
}

impl FromJson for TurnCredentials {
    fn from_json(json: Json) -> Option<Self> {
        let mut f = Object::from_json(json)?;
        let turn = TurnCredentials {
            urls: f.required("urls")?,
            username: f.required("username")?,
            credential: f.required("credential")?,
            ttl: f.required("ttl")?,
        };
        f.done(turn)
    }
}

impl RelayEvent {
    /// The event tagged `tag`, its fields taken from `f`; `None` (with `f` untouched) when no
    /// event has that tag.
    fn from_tag(tag: &str, f: &mut Object) -> Option<Self> {
        Some(match tag {
            "joined" => RelayEvent::Joined {
                peers: f.required("peers")?,
                rejoin: f.required("rejoin")?,
                turn: f.optional("turn")?,
                lacks: RelayFeature::known(f.defaulted("lacks", Vec::new())?),
            },
            "peer-joined" => RelayEvent::PeerJoined,
            "peer-left" => RelayEvent::PeerLeft,
            "full" => RelayEvent::Full,
            "error" => {
                RelayEvent::Error { reason: f.required("reason")?, request: f.optional("request")? }
            }
            "move-token" => {
                RelayEvent::MoveToken { token: f.required("token")?, ttl: f.required("ttl")? }
            }
            "peer-moved" => RelayEvent::PeerMoved,
            "moved" => RelayEvent::Moved,
            "move-refused" => RelayEvent::MoveRefused { reason: f.required("reason")? },
            "parked" => RelayEvent::Parked {
                token: f.required("token")?,
                code: f.required("code")?,
                ttl: f.required("ttl")?,
            },
            "peer-parked" => RelayEvent::PeerParked { ttl: f.required("ttl")? },
            "park-ended" => RelayEvent::ParkEnded,
            "transfer-token" => {
                RelayEvent::TransferToken { token: f.required("token")?, ttl: f.required("ttl")? }
            }
            "peer-transferred" => RelayEvent::PeerTransferred { name: f.required("name")? },
            _ => return None,
        })
    }
}

impl FromJson for RelayEvent {
    fn from_json(json: Json) -> Option<Self> {
        Object::read_tagged(json, RelayEvent::from_tag)
    }
}

impl RelayRequest {
    /// The request tagged `tag`, its fields taken from `f`.
    fn from_tag(tag: &str, f: &mut Object) -> Option<Self> {
        Some(match tag {
            "join" => {
                RelayRequest::Join { rejoin: f.optional("rejoin")?, moving: f.optional("move")? }
            }
            "move" => RelayRequest::Move {},
            "open-group" => RelayRequest::OpenGroup {},
            "to" => RelayRequest::To { to: f.required("to")?, s: f.required("s")? },
            "park" => RelayRequest::Park { deposit: f.required("deposit")? },
            "transfer" => RelayRequest::Transfer { name: f.required("name")? },
            _ => return None,
        })
    }
}

impl FromJson for RelayRequest {
    fn from_json(json: Json) -> Option<Self> {
        Object::read_tagged(json, RelayRequest::from_tag)
    }
}

impl FromJson for PickupAnswer {
    /// Tagged from outside: `{"found": {...}}` or `{"refused": {...}}`.
    fn from_json(json: Json) -> Option<Self> {
        let mut outer = Object::from_json(json)?;
        let answer = if let Some(found) = outer.take("found") {
            let mut f = Object::from_json(found)?;
            let found = PickupAnswer::Found {
                call: f.required("call")?,
                token: f.required("token")?,
                deposit: f.required("deposit")?,
            };
            f.done(found)?
        } else {
            let mut f = Object::from_json(outer.take("refused")?)?;
            let reason = f.required("reason")?;
            f.done(PickupAnswer::Refused { reason })?
        };
        outer.done(answer)
    }
}

impl Signal {
    /// The signal tagged `tag`, its fields taken from `f`; `None` (with `f` untouched) when no
    /// signal has that tag.
    fn from_tag(tag: &str, f: &mut Object) -> Option<Self> {
        Some(match tag {
            "hello" => Signal::Hello(Hello {
                v: f.required("v")?,
                e2ee: f.required("e2ee")?,
                public_key: f.required("pub")?,
            }),
            "confirm" => {
                Signal::Confirm(Confirm { mac: f.required("mac")?, fp: f.optional("fp")? })
            }
            "offer" => Signal::Offer { sdp: f.required("sdp")? },
            "answer" => Signal::Answer { sdp: f.required("sdp")? },
            "ice" => Signal::Ice {
                candidate: f.required("candidate")?,
                sdp_mid: f.optional("sdpMid")?,
                sdp_m_line_index: f.optional("sdpMLineIndex")?,
            },
            "bye" => Signal::Bye { mac: f.optional("mac")? },
            _ => return None,
        })
    }
}

impl FromJson for Signal {
    fn from_json(json: Json) -> Option<Self> {
        Object::read_tagged(json, Signal::from_tag)
    }
}

impl FromJson for Inbound {
    fn from_json(json: Json) -> Option<Self> {
        // The three have no tag in common, so at most one of them knows `tag`; the others
        // leave `f` untouched.
        Object::read_tagged(json, |tag, f| {
            RelayEvent::from_tag(tag, f)
                .map(Inbound::Relay)
                .or_else(|| Signal::from_tag(tag, f).map(Inbound::Peer))
                .or_else(|| crate::GroupEvent::from_tag(tag, f).map(Inbound::Group))
        })
    }
}

/// Why a signalling message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalError {
    TooLarge,
    Malformed,
}

impl std::fmt::Display for SignalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignalError::TooLarge => "message larger than 64 KiB",
            SignalError::Malformed => "not a valid Shieldcall signalling message",
        })
    }
}

impl std::error::Error for SignalError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_uses_the_protocol_field_names() {
        let hello =
            Signal::Hello(Hello { v: PROTOCOL_VERSION, e2ee: true, public_key: "AAAA".into() });
        assert_eq!(hello.to_json(), r#"{"t":"hello","v":3,"e2ee":true,"pub":"AAAA"}"#);
        assert_eq!(Signal::parse(&hello.to_json()), Ok(hello));
        let confirm = Signal::Confirm(Confirm { mac: "AAAA".into(), fp: None });
        assert_eq!(confirm.to_json(), r#"{"t":"confirm","mac":"AAAA"}"#);
        assert_eq!(Signal::parse(&confirm.to_json()), Ok(confirm));
        let guest = Signal::Confirm(Confirm { mac: "AAAA".into(), fp: Some("BBBB".into()) });
        assert_eq!(guest.to_json(), r#"{"t":"confirm","mac":"AAAA","fp":"BBBB"}"#);
        assert_eq!(Signal::parse(&guest.to_json()), Ok(guest));
        assert_eq!(
            Signal::parse(r#"{"t":"confirm","mac":"A","fp":1}"#),
            Err(SignalError::Malformed)
        );
        // Unknown fields are refused inside the typed messages too.
        let extra = r#"{"t":"hello","v":3,"e2ee":true,"pub":"AAAA","x":1}"#;
        assert_eq!(Signal::parse(extra), Err(SignalError::Malformed));
        assert_eq!(
            Signal::parse(r#"{"t":"confirm","mac":"A","x":1}"#),
            Err(SignalError::Malformed)
        );
    }

    #[test]
    fn relay_events_and_peer_signals_share_one_socket() {
        let joined = RelayEvent::Joined { peers: 1, rejoin: "T".into(), turn: None, lacks: vec![] }
            .to_json();
        assert_eq!(joined, r#"{"t":"joined","peers":1,"rejoin":"T"}"#);
        assert_eq!(
            Inbound::parse(&joined),
            Ok(Inbound::Relay(RelayEvent::Joined {
                peers: 1,
                rejoin: "T".into(),
                turn: None,
                lacks: vec![]
            }))
        );
        assert_eq!(Inbound::parse(r#"{"t":"bye"}"#), Ok(Inbound::Peer(Signal::Bye { mac: None })));
    }

    #[test]
    fn joined_names_what_the_relay_lacks_only_when_it_lacks_something() {
        let lacks = vec![RelayFeature::Group, RelayFeature::Park];
        let joined = RelayEvent::Joined { peers: 0, rejoin: "T".into(), turn: None, lacks };
        let wire = r#"{"t":"joined","peers":0,"rejoin":"T","lacks":["group","park"]}"#;
        assert_eq!(joined.to_json(), wire);
        assert_eq!(Inbound::parse(wire), Ok(Inbound::Relay(joined)));
        // A name it does not know (a newer relay's) is skipped, not the whole `joined`.
        let newer = r#"{"t":"joined","peers":0,"rejoin":"T","lacks":["record","park"]}"#;
        let Ok(Inbound::Relay(RelayEvent::Joined { lacks, .. })) = Inbound::parse(newer) else {
            panic!("{newer}");
        };
        assert_eq!(lacks, [RelayFeature::Park]);
        // Not a list of names: refused, as any field of the wrong kind.
        for bad in [r#""group""#, "[1]", "{}"] {
            let text = format!(r#"{{"t":"joined","peers":0,"rejoin":"T","lacks":{bad}}}"#);
            assert!(Inbound::parse(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn joined_carries_turn_credentials_only_when_there_are_some() {
        let turn = TurnCredentials {
            urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            username: "1700000000:abc".into(),
            credential: "c2VjcmV0".into(),
            ttl: 3600,
        };
        let joined = RelayEvent::Joined {
            peers: 0,
            rejoin: "T".into(),
            turn: Some(turn.clone()),
            lacks: vec![],
        };
        let text = joined.to_json();
        assert_eq!(
            text,
            r#"{"t":"joined","peers":0,"rejoin":"T","turn":{"urls":["turn:127.0.0.1:3478?transport=udp"],"username":"1700000000:abc","credential":"c2VjcmV0","ttl":3600}}"#
        );
        assert_eq!(Inbound::parse(&text), Ok(Inbound::Relay(joined)));
        // The credential never reaches Debug output (logs, panics).
        let debug = format!("{turn:?}");
        assert!(!debug.contains("c2VjcmV0") && debug.contains("1700000000:abc"), "{debug}");
        // A peer cannot hand out TURN servers: `joined` is no Signal.
        assert_eq!(Signal::parse(&text), Err(SignalError::Malformed));
    }

    #[test]
    fn the_join_request_carries_the_token_and_is_no_signal() {
        let first = RelayRequest::Join { rejoin: None, moving: None };
        assert_eq!(first.to_json(), r#"{"t":"join"}"#);
        let again = RelayRequest::Join { rejoin: Some("T".into()), moving: None };
        assert_eq!(again.to_json(), r#"{"t":"join","rejoin":"T"}"#);
        assert_eq!(RelayRequest::parse(&again.to_json()), Ok(again));
        assert_eq!(RelayRequest::parse(r#"{"t":"join","x":1}"#), Err(SignalError::Malformed));
        assert_eq!(RelayRequest::parse(r#"{"t":"bye"}"#), Err(SignalError::Malformed));
        // Never forwarded: a join request is not a signal.
        assert_eq!(Signal::parse(r#"{"t":"join"}"#), Err(SignalError::Malformed));
    }

    #[test]
    fn moving_a_place_is_a_request_an_event_and_a_join() {
        let ask = RelayRequest::Move {};
        assert_eq!(ask.to_json(), r#"{"t":"move"}"#);
        assert_eq!(RelayRequest::parse(r#"{"t":"move","x":1}"#), Err(SignalError::Malformed));
        // Never forwarded: the other person has nothing to do with it.
        assert_eq!(Signal::parse(r#"{"t":"move"}"#), Err(SignalError::Malformed));
        let token = RelayEvent::MoveToken { token: MoveToken("M".into()), ttl: 120 };
        assert_eq!(token.to_json(), r#"{"t":"move-token","token":"M","ttl":120}"#);
        assert_eq!(Inbound::parse(&token.to_json()), Ok(Inbound::Relay(token.clone())));
        let join = RelayRequest::Join { rejoin: None, moving: Some(MoveToken("M".into())) };
        assert_eq!(join.to_json(), r#"{"t":"join","move":"M"}"#);
        assert_eq!(RelayRequest::parse(&join.to_json()), Ok(join.clone()));
        let refused = RelayEvent::MoveRefused { reason: MoveRefusal::Used };
        assert_eq!(refused.to_json(), r#"{"t":"move-refused","reason":"used"}"#);
        assert_eq!(RelayEvent::PeerMoved.to_json(), r#"{"t":"peer-moved"}"#);
        assert_eq!(RelayEvent::Moved.to_json(), r#"{"t":"moved"}"#);
        // A peer cannot tell the other one it moved, or hand out tokens.
        assert_eq!(Signal::parse(r#"{"t":"peer-moved"}"#), Err(SignalError::Malformed));
        assert_eq!(Signal::parse(&token.to_json()), Err(SignalError::Malformed));
        // The token is the whole claim to a place: never in Debug output.
        for debug in [format!("{token:?}"), format!("{join:?}")] {
            assert!(!debug.contains("\"M\""), "{debug}");
        }
    }

    #[test]
    fn an_error_names_the_request_it_refuses_by_its_tag() {
        let requests = [
            RelayRequest::Move {},
            RelayRequest::Park { deposit: "D".into() },
            RelayRequest::Transfer { name: "Alex".into() },
            RelayRequest::OpenGroup {},
        ];
        for request in requests {
            let refused = RefusedRequest::of(&request).expect("a request the relay answers");
            let error = RelayEvent::Error { reason: "no".into(), request: Some(refused) };
            let tag = format!(r#"{{"t":"{}""#, refused.as_str());
            assert!(request.to_json().starts_with(&tag), "{}", request.to_json());
            let wire = format!(r#"{{"t":"error","reason":"no","request":"{}"}}"#, refused.as_str());
            assert_eq!(error.to_json(), wire);
            assert_eq!(Inbound::parse(&wire), Ok(Inbound::Relay(error)));
        }
        // A refused signal names no request; an unknown name is refused.
        let signal = RelayRequest::To { to: 1, s: Signal::Bye { mac: None } };
        assert_eq!(RefusedRequest::of(&signal), None);
        let plain = RelayEvent::Error { reason: "no".into(), request: None };
        assert_eq!(plain.to_json(), r#"{"t":"error","reason":"no"}"#);
        assert!(Inbound::parse(r#"{"t":"error","reason":"no","request":"join"}"#).is_err());
    }

    #[test]
    fn parking_and_transferring_are_requests_and_events() {
        let park = RelayRequest::Park { deposit: "D".into() };
        assert_eq!(park.to_json(), r#"{"t":"park","deposit":"D"}"#);
        assert_eq!(RelayRequest::parse(&park.to_json()), Ok(park));
        let transfer = RelayRequest::Transfer { name: "Alex".into() };
        assert_eq!(transfer.to_json(), r#"{"t":"transfer","name":"Alex"}"#);
        let parked =
            RelayEvent::Parked { token: MoveToken("M".into()), code: "ABCDEF".into(), ttl: 300 };
        assert_eq!(parked.to_json(), r#"{"t":"parked","token":"M","code":"ABCDEF","ttl":300}"#);
        assert_eq!(RelayEvent::PeerParked { ttl: 9 }.to_json(), r#"{"t":"peer-parked","ttl":9}"#);
        assert_eq!(RelayEvent::ParkEnded.to_json(), r#"{"t":"park-ended"}"#);
        let told = RelayEvent::PeerTransferred { name: "Alex".into() };
        assert_eq!(told.to_json(), r#"{"t":"peer-transferred","name":"Alex"}"#);
        // A peer cannot say any of these.
        for text in [r#"{"t":"peer-parked","ttl":9}"#, r#"{"t":"peer-transferred","name":"A"}"#] {
            assert_eq!(Signal::parse(text), Err(SignalError::Malformed));
        }
        assert!(valid_transfer_name("Alex Martin") && valid_transfer_name("李"));
        assert!(!valid_transfer_name("") && !valid_transfer_name("  "));
        assert!(!valid_transfer_name("a\nb") && !valid_transfer_name(&"x".repeat(41)));
        let found = PickupAnswer::Found {
            call: "C".into(),
            token: MoveToken("SECRETTOKEN".into()),
            deposit: "SEALED".into(),
        };
        let debug = format!("{found:?}");
        assert!(!debug.contains("SECRETTOKEN") && !debug.contains("SEALED"), "{debug}");
        let refused = PickupAnswer::Refused { reason: MoveRefusal::Expired };
        assert_eq!(refused.to_json(), r#"{"refused":{"reason":"expired"}}"#);
        let found = PickupAnswer::Found {
            call: "C".into(),
            token: MoveToken("T".into()),
            deposit: "D".into(),
        };
        assert_eq!(found.to_json(), r#"{"found":{"call":"C","token":"T","deposit":"D"}}"#);
    }

    #[test]
    fn a_peer_cannot_pass_as_the_relay() {
        // A client message that claims to be a relay event is not a valid Signal.
        assert_eq!(Signal::parse(r#"{"t":"peer-left"}"#), Err(SignalError::Malformed));
        assert_eq!(Signal::parse(r#"{"t":"full"}"#), Err(SignalError::Malformed));
    }

    #[test]
    fn garbage_and_oversize_are_refused() {
        assert_eq!(Signal::parse("not json"), Err(SignalError::Malformed));
        assert_eq!(Signal::parse(r#"{"t":"offer"}"#), Err(SignalError::Malformed));
        assert_eq!(Signal::parse(r#"{"t":"bye","extra":1}"#), Err(SignalError::Malformed));
        let huge = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(MAX_SIGNAL_BYTES));
        assert_eq!(Signal::parse(&huge), Err(SignalError::TooLarge));
    }

    use crate::GroupEvent;
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = MoveToken> {
        any::<String>().prop_map(MoveToken)
    }

    fn lacks() -> impl Strategy<Value = Vec<RelayFeature>> {
        let feature = prop_oneof![Just(RelayFeature::Group), Just(RelayFeature::Park)];
        prop::collection::vec(feature, 0..3)
    }

    fn refused() -> impl Strategy<Value = RefusedRequest> {
        prop_oneof![
            Just(RefusedRequest::Move),
            Just(RefusedRequest::Park),
            Just(RefusedRequest::Transfer),
            Just(RefusedRequest::OpenGroup)
        ]
    }

    fn refusal() -> impl Strategy<Value = MoveRefusal> {
        prop_oneof![Just(MoveRefusal::Used), Just(MoveRefusal::Expired), Just(MoveRefusal::Unknown)]
    }

    fn signal() -> impl Strategy<Value = Signal> {
        let s = any::<String>;
        prop_oneof![
            (any::<u8>(), any::<bool>(), s())
                .prop_map(|(v, e2ee, public_key)| Signal::Hello(Hello { v, e2ee, public_key })),
            (s(), any::<Option<String>>())
                .prop_map(|(mac, fp)| Signal::Confirm(Confirm { mac, fp })),
            s().prop_map(|sdp| Signal::Offer { sdp }),
            s().prop_map(|sdp| Signal::Answer { sdp }),
            (s(), any::<Option<String>>(), any::<Option<u16>>()).prop_map(
                |(candidate, sdp_mid, sdp_m_line_index)| Signal::Ice {
                    candidate,
                    sdp_mid,
                    sdp_m_line_index
                }
            ),
            any::<Option<String>>().prop_map(|mac| Signal::Bye { mac }),
        ]
    }

    fn relay_event() -> impl Strategy<Value = RelayEvent> {
        let s = any::<String>;
        let turn = (prop::collection::vec(s(), 0..3), s(), s(), any::<u64>()).prop_map(
            |(urls, username, credential, ttl)| TurnCredentials { urls, username, credential, ttl },
        );
        prop_oneof![
            (any::<u8>(), s(), prop::option::of(turn), lacks()).prop_map(
                |(peers, rejoin, turn, lacks)| RelayEvent::Joined { peers, rejoin, turn, lacks }
            ),
            Just(RelayEvent::PeerJoined),
            Just(RelayEvent::PeerLeft),
            Just(RelayEvent::Full),
            (s(), prop::option::of(refused()))
                .prop_map(|(reason, request)| RelayEvent::Error { reason, request }),
            (token(), any::<u64>()).prop_map(|(token, ttl)| RelayEvent::MoveToken { token, ttl }),
            Just(RelayEvent::PeerMoved),
            Just(RelayEvent::Moved),
            refusal().prop_map(|reason| RelayEvent::MoveRefused { reason }),
            (token(), s(), any::<u64>()).prop_map(|(token, code, ttl)| RelayEvent::Parked {
                token,
                code,
                ttl
            }),
            any::<u64>().prop_map(|ttl| RelayEvent::PeerParked { ttl }),
            Just(RelayEvent::ParkEnded),
            (token(), any::<u64>())
                .prop_map(|(token, ttl)| RelayEvent::TransferToken { token, ttl }),
            s().prop_map(|name| RelayEvent::PeerTransferred { name }),
        ]
    }

    fn group_event() -> impl Strategy<Value = GroupEvent> {
        prop_oneof![
            (any::<u32>(), prop::collection::vec(any::<u32>(), 0..5))
                .prop_map(|(me, members)| GroupEvent::Group { me, members }),
            any::<u32>().prop_map(|id| GroupEvent::MemberJoined { id }),
            any::<u32>().prop_map(|id| GroupEvent::MemberLeft { id }),
            (any::<u32>(), signal()).prop_map(|(from, s)| GroupEvent::From { from, s }),
            any::<u8>().prop_map(|max| GroupEvent::GroupFull { max }),
        ]
    }

    fn relay_request() -> impl Strategy<Value = RelayRequest> {
        let s = any::<String>;
        prop_oneof![
            (any::<Option<String>>(), prop::option::of(token()))
                .prop_map(|(rejoin, moving)| RelayRequest::Join { rejoin, moving }),
            Just(RelayRequest::Move {}),
            Just(RelayRequest::OpenGroup {}),
            (any::<u32>(), signal()).prop_map(|(to, s)| RelayRequest::To { to, s }),
            s().prop_map(|deposit| RelayRequest::Park { deposit }),
            s().prop_map(|name| RelayRequest::Transfer { name }),
        ]
    }

    fn pickup_answer() -> impl Strategy<Value = PickupAnswer> {
        let s = any::<String>;
        prop_oneof![
            (s(), token(), s()).prop_map(|(call, token, deposit)| PickupAnswer::Found {
                call,
                token,
                deposit
            }),
            refusal().prop_map(|reason| PickupAnswer::Refused { reason }),
        ]
    }

    /// Every member of `text`'s object and of the objects in it (a signal inside `to` or
    /// `from`, TURN credentials, a pickup answer's inside), taken out or replaced by `value`
    /// in turn: one text per change, with the tag of the object changed (if it has one) and
    /// the member's key.
    fn damaged(text: &str, value: serde_json::Value) -> Vec<(String, String, bool, String)> {
        fn walk(
            root: &serde_json::Value,
            at: &mut Vec<String>,
            node: &serde_json::Value,
            value: &serde_json::Value,
            out: &mut Vec<(String, String, bool, String)>,
        ) {
            let Some(map) = node.as_object() else { return };
            let tag = map.get("t").and_then(|t| t.as_str()).unwrap_or_default().to_string();
            for (key, inner) in map {
                at.push(key.clone());
                for removed in [true, false] {
                    let mut copy = root.clone();
                    let mut target = &mut copy;
                    for step in &at[..at.len() - 1] {
                        target = target.get_mut(step).unwrap();
                    }
                    let object = target.as_object_mut().unwrap();
                    if removed {
                        object.remove(key);
                    } else {
                        object.insert(key.clone(), value.clone());
                    }
                    out.push((tag.clone(), key.clone(), removed, copy.to_string()));
                }
                walk(root, at, inner, value, out);
                at.pop();
            }
        }
        let root: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        walk(&root, &mut Vec::new(), &root, &value, &mut out);
        out
    }

    /// The members a message may leave out (`Option`s, absent or `null`), by tag.
    const OPTIONAL: [(&str, &str); 9] = [
        ("confirm", "fp"),
        ("bye", "mac"),
        ("joined", "turn"),
        ("joined", "lacks"),
        ("error", "request"),
        ("join", "rejoin"),
        ("join", "move"),
        ("ice", "sdpMid"),
        ("ice", "sdpMLineIndex"),
    ];

    proptest! {
        /// What `to_json` writes reads back the same, through `Inbound` as the right kind, and
        /// as nothing else.
        #[test]
        fn every_message_reads_back_as_written(
            signal in signal(),
            event in relay_event(),
            group in group_event(),
            request in relay_request(),
            answer in pickup_answer(),
        ) {
            let text = signal.to_json();
            prop_assert_eq!(Signal::parse(&text), Ok(signal.clone()));
            prop_assert_eq!(Inbound::parse(&text), Ok(Inbound::Peer(signal)));
            prop_assert!(RelayRequest::parse(&text).is_err());
            let text = event.to_json();
            prop_assert_eq!(Inbound::parse(&text), Ok(Inbound::Relay(event)));
            prop_assert!(Signal::parse(&text).is_err() && RelayRequest::parse(&text).is_err());
            let text = group.to_json();
            prop_assert_eq!(Inbound::parse(&text), Ok(Inbound::Group(group)));
            prop_assert!(Signal::parse(&text).is_err() && RelayRequest::parse(&text).is_err());
            let text = request.to_json();
            prop_assert_eq!(RelayRequest::parse(&text), Ok(request));
            prop_assert!(Inbound::parse(&text).is_err(), "a request is never received");
            prop_assert_eq!(PickupAnswer::parse(&answer.to_json()), Ok(answer));
        }

        /// A member taken out is refused unless the message may leave it out; one added, or
        /// given a value of another shape, is always refused, at any depth.
        #[test]
        fn a_missing_extra_or_misshapen_member_is_refused(
            signal in signal(),
            event in relay_event(),
            group in group_event(),
            request in relay_request(),
            answer in pickup_answer(),
        ) {
            let texts = [
                signal.to_json(), event.to_json(), group.to_json(), request.to_json(),
                answer.to_json(),
            ];
            for text in texts {
                let parses = |t: &str| {
                    Inbound::parse(t).is_ok()
                        || RelayRequest::parse(t).is_ok()
                        || PickupAnswer::parse(t).is_ok()
                };
                prop_assert!(parses(&text));
                let mut extra: serde_json::Value = serde_json::from_str(&text).unwrap();
                extra.as_object_mut().unwrap().insert("x".into(), 1.into());
                prop_assert!(!parses(&extra.to_string()), "an extra member in {}", text);
                for (tag, key, removed, damaged) in damaged(&text, serde_json::json!({"x": []})) {
                    let optional = OPTIONAL.contains(&(tag.as_str(), key.as_str()));
                    if removed && optional {
                        prop_assert!(parses(&damaged), "{} may be left out: {}", key, damaged);
                    } else {
                        prop_assert!(!parses(&damaged), "{}", damaged);
                    }
                }
            }
        }
    }

    #[test]
    fn a_null_optional_member_is_absent_and_a_repeated_one_is_refused() {
        let ice = r#"{"t":"ice","candidate":"c","sdpMid":null,"sdpMLineIndex":null}"#;
        let absent = Signal::Ice { candidate: "c".into(), sdp_mid: None, sdp_m_line_index: None };
        assert_eq!(Signal::parse(ice), Ok(absent));
        let twice = r#"{"t":"offer","sdp":"a","sdp":"b"}"#;
        assert_eq!(Signal::parse(twice), Err(SignalError::Malformed));
        // An extra member on an event without fields: serde's derived reader let it through.
        assert_eq!(Inbound::parse(r#"{"t":"peer-left","x":1}"#), Err(SignalError::Malformed));
        assert_eq!(
            Inbound::parse(r#"{"t":"peer-left"}"#),
            Ok(Inbound::Relay(RelayEvent::PeerLeft))
        );
    }
}
