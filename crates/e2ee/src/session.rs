//! The sans-IO call session: feed it what arrives, read the shield state and the keys.
//!
//! ```text
//! new(config, own key, link secret) ──► hello() to send
//! peer_hello(&Hello)      ─┐
//! local_sdp(..)            ├─► poll_transmit(): this side's key confirmation, to send once
//! remote_sdp(..)           │
//! (guest) link commitment ─┤
//! peer_confirm(&Confirm)  ─┤
//! handle_timeout(now)     ─┴─► poll_event(): ShieldChanged(Connecting → Locked{code} |
//!                              Unlocked{reason} | Warning{reason}), AskAgain
//!                              take_keys(): send/receive base keys once Locked
//! report_decrypt_failures() ──► Warning{DecryptFailures}
//! ```
//! Sans-IO: nothing here sends, sleeps or reads a clock; the caller feeds in what arrived and
//! the time, and polls for what to send and what changed.
//! The shield locks, or shows "the other person has it off", only once the peer's confirmation
//! of the same transcript has arrived: until then nothing proves that the relay changed none of
//! the hellos or descriptions. A warning is final for the call: nothing turns it back into a lock.

use std::collections::VecDeque;

use sha2::{Digest, Sha256};

use shieldcall_protocol::{CallId, Confirm, Hello, MoveIntent, PROTOCOL_VERSION, base64url};

use crate::BaseKey;
use crate::code::SecurityCode;
use crate::keys::{
    self, ConfirmFrom, Confirmation, EphemeralSecret, Fingerprint, FingerprintError, KeyError,
    MoveKeys, PublicKey, Transcript, TranscriptHash, dtls_fingerprint,
};
use crate::link::{Commitment, LinkSecret};
use crate::sframe::CipherSuite;

/// Which side of the call this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Made the link; sends the offer.
    Host,
    /// Opened the link; checks the host's key against its commitment.
    Guest,
}

impl Role {
    /// The other side of the call.
    pub fn peer(self) -> Role {
        match self {
            Role::Host => Role::Guest,
            Role::Guest => Role::Host,
        }
    }
}

/// The label under which `role` confirms a transcript.
fn confirms_as(role: Role) -> ConfirmFrom {
    match role {
        Role::Host => ConfirmFrom::Host,
        Role::Guest => ConfirmFrom::Guest,
    }
}

/// What the organisation allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Allowed,
    Disabled,
}

/// Why the call is transport-encrypted only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlockedReason {
    YouTurnedOff,
    PeerTurnedOff,
    OrganisationDisabled,
    /// This device took the call over from the person's other device (a move link), and a
    /// moved call stays transport-only.
    MovedHere,
}

/// Why the call shows the red shield.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningReason {
    /// The host key that arrived is not the one the link commits to: someone swapped keys.
    CommitmentMismatch,
    /// Media keeps failing to decrypt (reported by the app).
    DecryptFailures,
    /// The peer's public key is not a valid P-256 point.
    InvalidPeerKey,
    /// The peer sent a second hello with a different key.
    PeerKeyChanged,
    /// The peer speaks another protocol version.
    VersionMismatch,
    /// An SDP had no usable DTLS fingerprint, or it changed after the keys were made.
    BadFingerprint,
    /// An SDP named a second certificate (another fingerprint, or one with another hash
    /// function): the browser could accept a certificate the keys are not bound to.
    ExtraFingerprint,
    /// The browser reports that the other side's DTLS certificate is not the one the
    /// descriptions named and the keys are bound to.
    CertificateMismatch,
    /// Both hellos were in, but no key confirmation from the peer came in time: a relay may be
    /// holding it back (or changed a description so that the peer refused it), or the network
    /// is down. The one warning that proves nothing: a confirmation that verifies lifts it
    /// (PROTOCOL.md change 56).
    ConfirmationTimeout,
    /// A new connection would derive keys used before (same keys and fingerprints): their
    /// counters would start again, reusing nonces. Refused.
    RepeatedKeys,
    /// The peer's key confirmation is not for the transcript this side saw: a hello or a
    /// description was changed on the way (keys swapped, E2EE flags flipped, DTLS certificates
    /// replaced), or the peer holds another link.
    ConfirmationMismatch,
}

impl WarningReason {
    /// Whether this warning is evidence that the call was tampered with, and so stays for the
    /// rest of the agreement: every one but a wait that ran out.
    pub fn is_evidence(self) -> bool {
        self != WarningReason::ConfirmationTimeout
    }
}

/// What the UI shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShieldState {
    Connecting,
    Locked { code: SecurityCode },
    Unlocked { reason: UnlockedReason },
    Warning { reason: WarningReason },
}

/// The base keys of this party's two directions; zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    pub suite: CipherSuite,
    /// For this party's senders.
    pub send: BaseKey,
    /// For the receivers of the peer's frames.
    pub receive: BaseKey,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("suite", &self.suite)
            .field("keys", &"<redacted>")
            .finish()
    }
}

/// How long after the peer's hello its key confirmation may take before the shield turns red
/// (milliseconds). Confirmations travel over the relay, not the media path, right behind the
/// descriptions: an honest call confirms within about a second.
pub const CONFIRMATION_TIMEOUT_MS: u64 = 12_000;

/// Fixed facts about this party's side of the call.
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    pub role: Role,
    pub call_id: CallId,
    /// This person's E2EE setting.
    pub e2ee: bool,
    pub policy: Policy,
    /// Must match the peer's: v1 hellos do not negotiate it, so use the default.
    pub suite: CipherSuite,
}

/// What changed in a session, for its caller ([`Session::poll_event`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The shield shows something else now.
    ShieldChanged(ShieldState),
    /// Half-way through the wait for the peer's confirmation: time to say hello again and
    /// repeat this side's confirmation ([`Session::repeat_confirmation`]), which makes the
    /// peer repeat its own (or start a fresh connection), in case one was lost with a relay
    /// socket.
    AskAgain,
}

/// Why an input was refused. The shield state says what it means for the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// A confirmation whose `mac` is not 32 bytes of base64url.
    NotAConfirmation,
    Key(KeyError),
    Fingerprint(FingerprintError),
    /// A description naming another certificate than the one the transcript is bound to.
    FingerprintChanged,
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::NotAConfirmation => f.write_str("expected a 32-byte key confirmation"),
            SessionError::Key(e) => e.fmt(f),
            SessionError::Fingerprint(e) => e.fmt(f),
            SessionError::FingerprintChanged => {
                f.write_str("the description names another certificate than the one confirmed")
            }
        }
    }
}

impl std::error::Error for SessionError {}

/// One party's view of the call's security.
pub struct Session {
    config: SessionConfig,
    own: EphemeralSecret,
    link_secret: LinkSecret,
    commitment: Option<Commitment>,
    /// (Guest) the host moved the call to another device, or the call became a group, so the
    /// host's key may be one the link does not commit to: accepted for transport-only
    /// agreements only (see [`Session::peer_moved`], [`Session::join_group`]).
    host_moved: bool,
    /// (Guest) the host moved its E2EE call to another device with a re-keyed move (PROTOCOL.md
    /// change 44): a host key other than the one the link commits to is taken, and becomes the
    /// one checked, once its agreement confirms under the move's secret.
    host_rekeyed: bool,
    /// An E2EE agreement with the current peer has locked: a move out of it can be re-keyed.
    locked_with_peer: bool,
    /// A peer confirmed an agreement at some time in this call: hang-ups are signed since.
    confirmed_in_call: bool,
    /// The peer's latest move intent (its nonce) and until when (ms) it is live.
    peer_intent: Option<([u8; 16], u64)>,
    /// Nonces of the peer's intents in this agreement: a repeated one is refused.
    seen_intents: Vec<[u8; 16]>,
    /// What a re-keyed move replaced, until its agreement confirms: if the peer who "moved"
    /// says hello again with its old key, the move was not real and this is put back.
    before_move: Option<BeforeMove>,
    /// This device took its place from a move link (see [`Session::moved_here`]).
    moved_here: bool,
    peer: Option<(bool, PublicKey)>,
    local_fp: Option<Fingerprint>,
    remote_fp: Option<Fingerprint>,
    /// The transcript of the current agreement, once both hellos and descriptions are in.
    transcript: Option<TranscriptHash>,
    /// A confirmation that arrived before this side's transcript was complete, with the
    /// certificate it named (a guest's).
    early_confirmation: Option<(Confirmation, Option<Fingerprint>)>,
    /// The peer confirmed the current transcript.
    confirmed: bool,
    code: Option<SecurityCode>,
    keys: Option<SessionKeys>,
    warning: Option<WarningReason>,
    /// The first warning shown in this call, kept through the peer leaving: an attack seen
    /// once is not forgotten until hang-up.
    warned_in_call: Option<WarningReason>,
    /// Since when (ms, the caller's clock) this side has waited for the peer's confirmation.
    awaiting_since: Option<u64>,
    /// The relay says someone else is in the call, whose hello has not come yet.
    peer_expected: bool,
    /// This wait has already asked the peer to say everything again (once, half-way).
    reasked: bool,
    /// Transcripts of earlier agreements in this session, so keys are never derived twice.
    used_transcripts: Vec<TranscriptHash>,
    /// This side's confirmation of the current transcript has been handed to the caller.
    confirmation_sent: bool,
    /// A description contradicted the transcript this side had confirmed (change 52): its
    /// confirmation is withdrawn (see [`Session::confirm`]).
    withdrawn: bool,
    /// Events not yet polled (the shield's changes are found when polled).
    events: VecDeque<SessionEvent>,
    /// The shield state last reported by `poll_event`.
    reported: Option<ShieldState>,
}

/// The secret, commitment and peer key a re-keyed move replaced.
struct BeforeMove {
    link_secret: LinkSecret,
    commitment: Option<Commitment>,
    peer_key: PublicKey,
}

/// The longest a peer's move intent stays live, whatever it says (seconds).
pub const MAX_MOVE_TTL_SECS: u32 = 600;

/// Why a peer's move intent was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveIntentRefused {
    /// No locked E2EE agreement with the peer to move out of.
    NotLocked,
    /// Its MAC is not the peer's: altered, or from someone else.
    BadMac,
    /// An intent with this nonce was taken before.
    Repeated,
}

impl std::fmt::Display for MoveIntentRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MoveIntentRefused::NotLocked => "a move announcement outside a locked call",
            MoveIntentRefused::BadMac => "a move announcement that does not authenticate",
            MoveIntentRefused::Repeated => "a move announcement seen before",
        })
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .field("state", &self.state())
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl Session {
    pub fn new(config: SessionConfig, own: EphemeralSecret, link_secret: LinkSecret) -> Session {
        Session {
            config,
            own,
            link_secret,
            commitment: None,
            host_moved: false,
            host_rekeyed: false,
            locked_with_peer: false,
            confirmed_in_call: false,
            peer_intent: None,
            seen_intents: Vec::new(),
            before_move: None,
            moved_here: false,
            peer: None,
            local_fp: None,
            remote_fp: None,
            transcript: None,
            early_confirmation: None,
            confirmed: false,
            code: None,
            keys: None,
            warning: None,
            warned_in_call: None,
            awaiting_since: None,
            peer_expected: false,
            reasked: false,
            used_transcripts: Vec::new(),
            confirmation_sent: false,
            withdrawn: false,
            events: VecDeque::new(),
            reported: None,
        }
    }

    /// The peer left (a reload, a lost connection): forget everything learnt from them, keep
    /// this side's key (the link commits to the host's), the link secret and commitment, so the
    /// next peer to arrive starts a fresh agreement. A warning goes too, as it was about that
    /// peer, but [`Session::warned_in_call`] remembers it.
    pub fn restart(&mut self) {
        self.peer = None;
        self.locked_with_peer = false;
        self.peer_intent = None;
        self.seen_intents.clear();
        self.warning = None;
        self.peer_expected = false;
        self.reset_wait();
        self.restart_connection();
    }

    /// The relay says the peer's place was taken by their other device (a move link): start
    /// afresh as after [`Session::restart`]. Returns whether the move is re-keyed.
    ///
    /// Out of a transport-only call (change 43) that device has a key of its own, so a guest
    /// can no longer hold the host's key to the link's commitment; it accepts another host key
    /// only for a transport-only agreement, which the key secures nothing in but the
    /// transcript, and which the peer's confirmation (keyed by the link secret) still proves
    /// unaltered.
    ///
    /// Out of a locked E2EE agreement the move is re-keyed (change 44) if, and only if, the
    /// peer announced it with an intent that is still live ([`Session::peer_move_intent`]):
    /// the agreement with the new device must then confirm under that move's secret, which
    /// only the peer could put in its link. The intent is used up. Without one, the relay's
    /// word is taken as the peer leaving: a new key is then the attack it always was, and the
    /// peer, if it never left, is taken back with its old key.
    pub fn peer_moved(&mut self, now_ms: u64) -> bool {
        let keys = self.move_keys();
        let announced = self.peer_intent.take().filter(|(_, until)| now_ms <= *until);
        let rekey = match (&keys, announced) {
            (Some(keys), Some((nonce, _))) => {
                Some(keys.secret(confirms_as(self.config.role.peer()), &nonce))
            }
            _ => None,
        };
        let peer_key = self.peer.as_ref().map(|(_, key)| key.clone());
        self.restart();
        match (rekey, peer_key) {
            (Some(secret), Some(peer_key)) => {
                let link_secret = std::mem::replace(&mut self.link_secret, secret);
                let commitment = self.commitment;
                self.before_move = Some(BeforeMove { link_secret, commitment, peer_key });
                self.host_rekeyed = self.config.role == Role::Guest;
                true
            }
            // An E2EE call's move nobody announced: as if the peer left.
            _ if keys.is_some() => false,
            _ => {
                self.host_moved = self.config.role == Role::Guest;
                false
            }
        }
    }

    /// (Before any hello) this call became a group (PROTOCOL.md change 46): a pair's host may
    /// be any earlier member, whose key the link does not commit to. As after a transport-only
    /// move (change 43), a guest takes another host key for a transport-only agreement only.
    pub fn join_group(&mut self) {
        self.restart();
        self.host_moved = self.config.role == Role::Guest;
    }

    /// Whether the peer announced a move that is still live at `now_ms`.
    pub fn peer_move_announced(&self, now_ms: u64) -> bool {
        self.peer_intent.is_some_and(|(_, until)| now_ms <= until)
    }

    /// The keys of moves out of the current agreement, while it is a locked E2EE one.
    fn move_keys(&self) -> Option<MoveKeys> {
        let (peer_e2ee, peer_key) = self.peer.as_ref()?;
        let locked = self.locked_with_peer || matches!(self.state(), ShieldState::Locked { .. });
        if !(locked && *peer_e2ee && self.offers_e2ee()) || self.warning.is_some() {
            return None;
        }
        let (host_pub, guest_pub) = self.pair()?;
        let z = self.own.diffie_hellman(peer_key);
        Some(MoveKeys::new(&z, &self.link_secret, &self.config.call_id, host_pub, guest_pub))
    }

    /// Whether a move out of this call now would be re-keyed: a locked E2EE agreement.
    pub fn moves_rekeyed(&self) -> bool {
        self.move_keys().is_some()
    }

    /// This side is about to show a re-keyed move link valid for `ttl_secs`: the intent to
    /// send the peer over the media connection (before the link is shown), and the move's
    /// secret for the link. `nonce` must be fresh random bytes. `None` unless locked.
    pub fn announce_move(
        &self,
        nonce: [u8; 16],
        ttl_secs: u32,
    ) -> Option<(MoveIntent, LinkSecret)> {
        let keys = self.move_keys()?;
        let mover = confirms_as(self.config.role);
        let mac = keys.intent_mac(mover, &nonce, ttl_secs);
        Some((MoveIntent { nonce, ttl_secs, mac }, keys.secret(mover, &nonce)))
    }

    /// The peer's move intent, as received at `now_ms` on the media connection: taken (in
    /// place of any earlier one) if it authenticates and is new, and live for its `ttl_secs`
    /// (at most [`MAX_MOVE_TTL_SECS`]) from now.
    pub fn peer_move_intent(
        &mut self,
        intent: &MoveIntent,
        now_ms: u64,
    ) -> Result<(), MoveIntentRefused> {
        let keys = self.move_keys().ok_or(MoveIntentRefused::NotLocked)?;
        let mover = confirms_as(self.config.role.peer());
        let MoveIntent { nonce, ttl_secs, mac } = intent;
        if !keys.intent_verifies(mover, nonce, *ttl_secs, mac) {
            return Err(MoveIntentRefused::BadMac);
        }
        if self.seen_intents.contains(nonce) {
            return Err(MoveIntentRefused::Repeated);
        }
        self.seen_intents.push(*nonce);
        let lives_ms = u64::from((*ttl_secs).min(MAX_MOVE_TTL_SECS)) * 1000;
        self.peer_intent = Some((*nonce, now_ms + lives_ms));
        Ok(())
    }

    /// The secret this side's confirmations are keyed with now: the link's, or after a
    /// re-keyed move, the move's.
    pub fn link_secret(&self) -> &LinkSecret {
        &self.link_secret
    }

    /// (Guest) the commitment the host's key is checked against: the link's, or after a
    /// re-keyed move of the host, the new host key's.
    pub fn commitment(&self) -> Option<Commitment> {
        self.commitment
    }

    /// This device opened a move link: it says E2EE is off (whatever its setting), since the
    /// other side accepts its key only for a transport-only agreement, and its shield says why.
    pub fn moved_here(&mut self) {
        self.moved_here = true;
        self.config.e2ee = false;
    }

    /// A new connection with the same peer (its DTLS fingerprints change): forget the
    /// fingerprints, the code and the keys; keep the peer's key and any warning about them.
    /// The next keys must differ from every earlier set (see [`WarningReason::RepeatedKeys`]).
    pub fn restart_connection(&mut self) {
        self.local_fp = None;
        self.remote_fp = None;
        self.transcript = None;
        self.confirmation_sent = false;
        self.withdrawn = false;
        self.early_confirmation = None;
        self.confirmed = false;
        self.code = None;
        self.keys = None;
    }

    /// Whether this side offers E2EE: its own setting, if the organisation allows it.
    pub fn offers_e2ee(&self) -> bool {
        self.config.e2ee && self.config.policy == Policy::Allowed
    }

    /// The hello to send to the peer.
    pub fn hello(&self) -> Hello {
        Hello {
            v: PROTOCOL_VERSION,
            e2ee: self.offers_e2ee(),
            public_key: self.own.public_key().to_base64url(),
        }
    }

    pub fn public_key(&self) -> &PublicKey {
        self.own.public_key()
    }

    /// The commitment for the host's link.
    pub fn link_commitment(&self) -> Commitment {
        self.own.public_key().commitment()
    }

    /// (Guest) the commitment from the link's `#k=`.
    pub fn set_link_commitment(&mut self, commitment: Commitment) {
        self.commitment = Some(commitment);
        self.update();
    }

    fn warn(&mut self, reason: WarningReason) {
        // The first warning stays: it is the cause, later ones are consequences. But a wait
        // that ran out proves nothing, so evidence that comes after it takes its place (and
        // can then never be lifted with it).
        for slot in [&mut self.warning, &mut self.warned_in_call] {
            if slot.is_none_or(|first| !first.is_evidence()) {
                *slot = Some(reason);
            }
        }
        self.keys = None;
    }

    /// The peer's confirmation of the current transcript verified (on arrival, or kept from
    /// before the transcript was complete): everything that follows from it, in one place.
    /// - From now on the peers sign their hang-ups (change 55).
    /// - What a confirmation timeout waited for has come (late, or over a connection made
    ///   since), so its red shield goes, and the keys of this transcript are made as if it had
    ///   never shown; a timeout remembered from an earlier peer goes too, as it proved nothing
    ///   (change 56).
    /// - A re-keyed move is done ([`Session::moved_peer_confirmed`]), and the wait is over.
    fn confirmation_came(&mut self) {
        self.confirmed = true;
        self.confirmed_in_call = true;
        if self.warned_in_call == Some(WarningReason::ConfirmationTimeout) {
            self.warned_in_call = None;
        }
        if self.warning == Some(WarningReason::ConfirmationTimeout) {
            self.warning = None;
            if let Some(th) = self.transcript {
                self.derive_keys(&th);
            }
        }
        self.moved_peer_confirmed();
        self.reset_wait();
    }

    /// Whether the peer's hello is in.
    pub fn has_peer(&self) -> bool {
        self.peer.is_some()
    }

    /// Whether `hello` carries the key of the peer this session already knows (the same
    /// person again after their relay connection dropped, rather than someone new).
    pub fn knows_peer(&self, hello: &Hello) -> bool {
        let Ok(key) = PublicKey::from_base64url(&hello.public_key) else { return false };
        self.peer.as_ref().is_some_and(|(_, known)| *known == key)
    }

    /// Hand the base keys over (to the media worker) and keep no copy here: from then on they
    /// live only where they are used. `None` unless locked, or if already handed over.
    pub fn take_keys(&mut self) -> Option<SessionKeys> {
        match self.state() {
            ShieldState::Locked { .. } => self.keys.take(),
            _ => None,
        }
    }

    /// This side's key confirmation of the current transcript; `None` until both hellos and
    /// both descriptions are in. Sent even under a warning: it lets the peer see the attack
    /// too. Under a warning that is evidence (every one but a confirmation timeout), it is
    /// made over the transcript marked as refused, as below, so that it never verifies.
    ///
    /// A side whose transcript was complete before the answer (change 52) and which then sees
    /// an answer naming another certificate (or several) withdraws it: it confirms again over
    /// the transcript marked as refused, which matches nothing the peer saw, so the peer's
    /// shield turns red too. Without this the peer would stay locked on a call whose media
    /// will never connect.
    pub fn confirm(&self) -> Option<Confirm> {
        let mut th = *self.transcript.as_ref()?;
        // A side that saw evidence of tampering never confirms again, so that no new connection
        // locks the peer on a call this side shows red (change 56).
        if self.withdrawn || self.warning.is_some_and(WarningReason::is_evidence) {
            th = keys::TranscriptHash(
                Sha256::new()
                    .chain_update(b"shieldcall/v3/refused")
                    .chain_update(th.0)
                    .finalize()
                    .into(),
            );
        }
        let from = confirms_as(self.config.role);
        let mac = Confirmation::new(&self.link_secret, from, &th).to_base64url();
        // The guest confirms before its answer is out (change 52): the host learns its
        // certificate here, and takes it only from a confirmation that verifies over it.
        let fp = match self.config.role {
            Role::Guest => self.local_fp.map(|fp| base64url::encode(&fp)),
            Role::Host => None,
        };
        Some(Confirm { mac, fp })
    }

    /// What this side has to send to the peer now: its key confirmation, once per transcript
    /// (and once more after [`Session::repeat_confirmation`]).
    pub fn poll_transmit(&mut self) -> Option<Confirm> {
        if self.confirmation_sent {
            return None;
        }
        let confirm = self.confirm()?;
        self.confirmation_sent = true;
        Some(confirm)
    }

    /// Send this side's confirmation again (it may have been lost with a relay socket).
    pub fn repeat_confirmation(&mut self) {
        self.confirmation_sent = false;
    }

    /// What changed since the last poll: the shield (each change once), and the half-way
    /// point of a wait for the peer's confirmation.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        let state = self.state();
        if matches!(state, ShieldState::Locked { .. }) {
            self.locked_with_peer = true;
        }
        if self.reported == Some(state) {
            return None;
        }
        self.reported = Some(state);
        Some(SessionEvent::ShieldChanged(state))
    }

    /// This side's hang-up: with a MAC over the two keys once the peer's hello is in, so that
    /// a peer who confirmed can tell it from the relay's word (PROTOCOL.md change 55).
    pub fn hang_up(&self) -> Option<Confirmation> {
        let (host_pub, guest_pub) = self.pair()?;
        let from = confirms_as(self.config.role);
        let call_id = &self.config.call_id;
        Some(Confirmation::hang_up(&self.link_secret, from, call_id, host_pub, guest_pub))
    }

    /// Whether a `bye` with `mac` is the peer's own hang-up. Once anyone has confirmed an
    /// agreement in this call, the peers sign their hang-ups, so only a MAC that verifies over
    /// the present pair of keys counts: no new connection, warning or new peer since changes
    /// that (a relay could otherwise forge an offer, a confirmation or a hello first, then a
    /// `bye`). Anything else is the relay's word alone, which the caller takes as no more than
    /// "the other person left". Before the first confirmation every `bye` counts: the relay
    /// could stop such a call anyway, by withholding the confirmation for good.
    pub fn peer_hung_up(&self, mac: Option<&Confirmation>) -> bool {
        if !self.confirmed_in_call {
            return true;
        }
        let Some((host_pub, guest_pub)) = self.pair() else { return false };
        let (from, call_id) = (self.peer_confirms_as(), &self.config.call_id);
        mac.is_some_and(|mac| {
            mac.verifies_hang_up(&self.link_secret, from, call_id, host_pub, guest_pub)
        })
    }

    /// The host's and the guest's keys, once the peer's hello is in.
    fn pair(&self) -> Option<(&PublicKey, &PublicKey)> {
        let (_, peer_key) = self.peer.as_ref()?;
        Some(match self.config.role {
            Role::Host => (self.own.public_key(), peer_key),
            Role::Guest => (peer_key, self.own.public_key()),
        })
    }

    /// The peer's key confirmation, as received.
    ///
    /// Each side confirms only after it has sent its last description, so with the relay's
    /// in-order delivery the peer's confirmation arrives after this side's transcript is
    /// complete. One that comes earlier is kept and accepted if it matches, but not held against
    /// the peer if it does not: it can be a late one meant for someone who was here before (a
    /// guest who reloaded). Without a matching one there is never a lock, so nothing is lost.
    ///
    /// A host takes the guest's certificate from its confirmation (change 52), before the
    /// answer: only if the MAC verifies over the transcript with that certificate in it, so a
    /// relay that rewrites `fp` gains nothing. The answer must then name the same one.
    pub fn peer_confirm(&mut self, confirm: &Confirm) -> Result<(), SessionError> {
        let confirmation =
            Confirmation::from_base64url(&confirm.mac).ok_or(SessionError::NotAConfirmation)?;
        let Some(th) = self.transcript else {
            let named = match (self.config.role, &confirm.fp) {
                (Role::Host, Some(fp)) => Some(
                    base64url::decode(fp)
                        .and_then(|bytes| Fingerprint::try_from(bytes.as_slice()).ok())
                        .ok_or(SessionError::Fingerprint(FingerprintError::Malformed))?,
                ),
                _ => None,
            };
            self.early_confirmation = Some((confirmation, named));
            if let Some(fp) = named
                && self.remote_fp.is_none()
                && !self.warning.is_some_and(WarningReason::is_evidence)
                && self.transcript_with(fp).is_some_and(|th| {
                    confirmation.verifies(&self.link_secret, self.peer_confirms_as(), &th)
                })
            {
                self.remote_fp = Some(fp);
                self.update();
            }
            return Ok(());
        };
        let from = self.peer_confirms_as();
        if confirmation.verifies(&self.link_secret, from, &th) {
            self.confirmation_came();
        } else if !self.confirms_an_earlier_transcript(&confirmation) {
            // Not this agreement, nor a late one of an earlier connection: the peer saw
            // something else than this side did.
            self.warn(WarningReason::ConfirmationMismatch);
        }
        Ok(())
    }

    /// The agreement confirmed: a re-keyed move is done. A guest now checks the host's key
    /// against the moved host's (for a reload, and for anyone who comes after).
    fn moved_peer_confirmed(&mut self) {
        self.before_move = None;
        if std::mem::take(&mut self.host_rekeyed)
            && let Some((_, key)) = &self.peer
        {
            self.commitment = Some(key.commitment());
        }
    }

    /// Whether the peer's `confirmation` is of an earlier agreement of this session (a late
    /// one, from a connection before a restart): ignored, never held against the peer.
    fn confirms_an_earlier_transcript(&self, confirmation: &Confirmation) -> bool {
        let from = self.peer_confirms_as();
        self.used_transcripts.iter().any(|old| confirmation.verifies(&self.link_secret, from, old))
    }

    fn peer_confirms_as(&self) -> ConfirmFrom {
        confirms_as(self.config.role.peer())
    }

    /// The peer's hello, as received.
    pub fn peer_hello(&mut self, hello: &Hello) -> Result<(), SessionError> {
        let Hello { v, e2ee, public_key } = hello;
        if *v != PROTOCOL_VERSION {
            self.warn(WarningReason::VersionMismatch);
            return Ok(());
        }
        let key = match PublicKey::from_base64url(public_key) {
            Ok(key) => key,
            Err(e) => {
                self.warn(WarningReason::InvalidPeerKey);
                return Err(SessionError::Key(e));
            }
        };
        match &self.peer {
            // A hello must not change: a new key is someone else, and a flipped E2EE flag would
            // take the call from locked to unlocked and back, handing out the same keys again.
            Some((old_e2ee, old)) if *old != key || old_e2ee != e2ee => {
                self.warn(WarningReason::PeerKeyChanged)
            }
            _ => {
                if self.peer.is_none()
                    && let Some(before) = self.before_move.take_if(|b| b.peer_key == key)
                {
                    // The peer that "moved" is here with its old key: it never moved (the
                    // relay said so falsely, or its move fell through). Back as it was.
                    self.link_secret = before.link_secret;
                    self.commitment = before.commitment;
                    self.host_rekeyed = false;
                }
                self.peer = Some((*e2ee, key))
            }
        }
        self.update();
        Ok(())
    }

    /// This side's SDP (offer for the host, answer for the guest).
    pub fn local_sdp(&mut self, sdp: &str) -> Result<(), SessionError> {
        self.set_fingerprint(dtls_fingerprint(sdp), true)
    }

    /// The peer's SDP.
    pub fn remote_sdp(&mut self, sdp: &str) -> Result<(), SessionError> {
        self.set_fingerprint(dtls_fingerprint(sdp), false)
    }

    /// (Guest) the certificate this side's next connection will use, made ahead
    /// (`RTCPeerConnection.generateCertificate`), as its hash function's name and digest: with
    /// it, the transcript is complete as soon as the host's hello and offer are in, and this
    /// side confirms before its answer is made (change 52). The answer must name it.
    pub fn local_certificate(
        &mut self,
        algorithm: &str,
        fingerprint: &str,
    ) -> Result<(), SessionError> {
        // A digest this side's own browser gave that does not parse is no attack: the caller
        // lets the connection make its own certificate instead, so no warning.
        let line = format!("a=fingerprint:{algorithm} {fingerprint}");
        let fp = dtls_fingerprint(&line).map_err(SessionError::Fingerprint)?;
        self.set_fingerprint(Ok(fp), true)
    }

    fn set_fingerprint(
        &mut self,
        fp: Result<Fingerprint, FingerprintError>,
        local: bool,
    ) -> Result<(), SessionError> {
        let bound = if local { self.local_fp } else { self.remote_fp };
        if self.transcript.is_some() && fp.as_ref().ok() != bound.as_ref() {
            // A description that contradicts the transcript this side confirmed (the host: an
            // answer naming another certificate than the guest confirmed ahead; the guest: its
            // own answer, if the browser did not take the certificate made ahead): it takes its
            // confirmation back (see `confirm`).
            self.withdrawn = true;
            self.confirmation_sent = false;
        }
        let fp = match fp {
            Ok(fp) => fp,
            Err(e) => {
                // Without exactly one fingerprint neither the keys nor the confirmation can
                // bind the certificate the browser will accept.
                self.warn(match e {
                    FingerprintError::OtherHashFunction | FingerprintError::Conflicting => {
                        WarningReason::ExtraFingerprint
                    }
                    FingerprintError::Missing | FingerprintError::Malformed => {
                        WarningReason::BadFingerprint
                    }
                });
                return Err(SessionError::Fingerprint(e));
            }
        };
        let slot = if local { &mut self.local_fp } else { &mut self.remote_fp };
        match slot {
            Some(old) if *old != fp && self.transcript.is_some() => {
                // Not the certificate the keys and confirmations are bound to: the browser
                // must not be given it (a host locked on the guest's early confirmation, an
                // answer whose certificate a relay replaced).
                self.warn(WarningReason::BadFingerprint);
                return Err(SessionError::FingerprintChanged);
            }
            _ => *slot = Some(fp),
        }
        self.update();
        Ok(())
    }

    /// The certificate fingerprint the browser reports for the other side of the media
    /// connection (`getStats`: the transport's remote `certificate`), with its hash function's
    /// name. It must be the one the peer's description named: anything else means DTLS ended
    /// somewhere else than at the peer the keys were agreed with. Ignored before the remote
    /// description is in (a connection being replaced).
    pub fn remote_certificate(&mut self, algorithm: &str, fingerprint: &str) {
        self.check_bound(&format!("a=fingerprint:{algorithm} {fingerprint}"));
    }

    /// The peer's description as the browser applied it and writes it back
    /// (`currentRemoteDescription`, with the candidates it took since): read the same way as
    /// when it arrived, it must name the bound certificate only, in plain lines. A description
    /// the browser parsed otherwise than this session did (a parser's quirk a relay found) is
    /// caught here, in every browser, once applied. Whether it passed (`true` too when there is
    /// nothing yet to compare with).
    pub fn remote_description_applied(&mut self, sdp: &str) -> bool {
        self.check_bound(sdp)
    }

    /// `sdp` (a description, or one fingerprint line) must name the bound certificate and no
    /// other; otherwise DTLS may end elsewhere: [`WarningReason::CertificateMismatch`], and
    /// `false`.
    fn check_bound(&mut self, sdp: &str) -> bool {
        let Some(bound) = self.remote_fp else { return true };
        match dtls_fingerprint(sdp) {
            Ok(seen) if bool::from(subtle::ConstantTimeEq::ct_eq(&seen[..], &bound[..])) => true,
            _ => {
                self.warn(WarningReason::CertificateMismatch);
                false
            }
        }
    }

    /// The relay says someone else is in the call (`joined` with peers, `peer-joined`): their
    /// hello, then their confirmation, must follow in time, as if the hello were in. A relay
    /// that drops the hello and offers a connection of its own is caught the same way.
    pub fn expect_peer(&mut self) {
        self.peer_expected = true;
    }

    /// This side's relay socket came back after a drop: the wait for the peer's confirmation
    /// starts again, since nothing could arrive meanwhile. (The page shows the lost relay.)
    pub fn relay_rejoined(&mut self) {
        self.reset_wait();
    }

    fn reset_wait(&mut self) {
        self.awaiting_since = None;
        self.reasked = false;
    }

    /// The clock moved on (`now_ms`: milliseconds on any monotonic clock of the caller's). Once
    /// someone else is in the call, their key confirmation must follow within
    /// [`CONFIRMATION_TIMEOUT_MS`]; otherwise the shield turns red rather than stay "connecting"
    /// (or "you turned it off") for ever. A new connection with the same peer does not restart
    /// the wait: only a confirmation, a new peer, or this side's relay socket coming back does.
    ///
    /// Half-way through a wait, [`SessionEvent::AskAgain`] is queued, once.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let someone = self.peer.is_some() || self.peer_expected;
        if !someone || self.confirmed {
            self.reset_wait();
            return;
        }
        if self.warning.is_some() {
            return;
        }
        let since = *self.awaiting_since.get_or_insert(now_ms);
        let waited = now_ms.saturating_sub(since);
        if waited >= CONFIRMATION_TIMEOUT_MS {
            self.warn(WarningReason::ConfirmationTimeout);
        } else if waited >= CONFIRMATION_TIMEOUT_MS / 2 && !self.reasked {
            self.reasked = true;
            self.events.push_back(SessionEvent::AskAgain);
        }
    }

    /// The first warning shown in this call, even if the peer it was about has left since.
    pub fn warned_in_call(&self) -> Option<WarningReason> {
        self.warned_in_call
    }

    /// The app saw media keep failing to decrypt.
    pub fn report_decrypt_failures(&mut self) {
        if matches!(self.state(), ShieldState::Locked { .. }) {
            self.warn(WarningReason::DecryptFailures);
        }
    }

    fn update(&mut self) {
        let Some((host_pub, _)) = self.pair() else { return };
        let host_commitment = host_pub.commitment();
        let both_e2ee = self.offers_e2ee() && self.peer.as_ref().is_some_and(|(e2ee, _)| *e2ee);
        if self.config.role == Role::Guest
            && self.commitment.is_some_and(|c| c != host_commitment)
            && !self.host_rekeyed
            && (both_e2ee || !self.host_moved)
        {
            // A swapped key is an attack whatever the E2EE setting (but for a host that moved
            // its transport-only call to another device: see `peer_moved`).
            self.warn(WarningReason::CommitmentMismatch);
        }
        if self.transcript.is_some() {
            return;
        }
        let Some(remote) = self.remote_fp else { return };
        let Some(th) = self.transcript_with(remote) else { return };
        let repeated = self.used_transcripts.contains(&th);
        if let Some((early, named)) = self.early_confirmation.take() {
            self.confirmed = early.verifies(&self.link_secret, self.peer_confirms_as(), &th);
            if self.confirmed {
                self.confirmation_came();
            } else if named == Some(remote) && !self.confirms_an_earlier_transcript(&early) {
                // It named the very certificate of this transcript, so it is about this
                // agreement, not a late one for someone before: the peer saw something else.
                self.warn(WarningReason::ConfirmationMismatch);
            }
        }
        self.transcript = Some(th);
        self.used_transcripts.push(th);
        if !both_e2ee {
            return;
        }
        // The code is computed even under a warning: comparing it shows the attack too.
        self.code = Some(SecurityCode::from_transcript(&th));
        if repeated {
            self.warn(WarningReason::RepeatedKeys);
        }
        self.derive_keys(&th);
    }

    /// The media keys of transcript `th`, unless the agreement is not end-to-end encrypted or
    /// a warning stands.
    fn derive_keys(&mut self, th: &TranscriptHash) {
        let Some((true, peer_key)) = self.peer.clone() else { return };
        if !self.offers_e2ee() || self.warning.is_some() {
            return;
        }
        let z = self.own.diffie_hellman(&peer_key);
        let media = keys::media_keys(self.config.suite, &z, &self.link_secret, th);
        let (send, receive) = match self.config.role {
            Role::Host => (media.host.clone(), media.guest.clone()),
            Role::Guest => (media.guest.clone(), media.host.clone()),
        };
        self.keys = Some(SessionKeys { suite: self.config.suite, send, receive });
    }

    /// The transcript of the current agreement if the peer's certificate is `remote`; `None`
    /// until the peer's hello and this side's certificate are in.
    fn transcript_with(&self, remote: Fingerprint) -> Option<TranscriptHash> {
        let (peer_e2ee, peer_key) = self.peer.as_ref()?;
        let local = self.local_fp?;
        let own = self.own.public_key();
        let (host_pub, guest_pub, fp_host, fp_guest, host_e2ee, guest_e2ee) = match self.config.role
        {
            Role::Host => (own, peer_key, local, remote, self.offers_e2ee(), *peer_e2ee),
            Role::Guest => (peer_key, own, remote, local, *peer_e2ee, self.offers_e2ee()),
        };
        let th = Transcript {
            call_id: &self.config.call_id,
            host_pub,
            guest_pub,
            fp_host: &fp_host,
            fp_guest: &fp_guest,
            host_e2ee,
            guest_e2ee,
        };
        Some(th.hash())
    }

    /// What the shield shows now.
    pub fn state(&self) -> ShieldState {
        if let Some(reason) = self.warning {
            return ShieldState::Warning { reason };
        }
        if self.config.policy == Policy::Disabled {
            return ShieldState::Unlocked { reason: UnlockedReason::OrganisationDisabled };
        }
        if !self.config.e2ee {
            let reason = if self.moved_here {
                UnlockedReason::MovedHere
            } else {
                UnlockedReason::YouTurnedOff
            };
            return ShieldState::Unlocked { reason };
        }
        if !self.confirmed {
            // A peer that "has it off" may be a relay flipping its hello: wait for the proof.
            return ShieldState::Connecting;
        }
        match (&self.peer, self.code) {
            (Some((false, _)), _) => {
                ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff }
            }
            (Some((true, _)), Some(code)) if self.guest_may_lock() => ShieldState::Locked { code },
            _ => ShieldState::Connecting,
        }
    }

    /// Whether the peer has confirmed the current transcript. Media and chat flow only after it,
    /// transport-only calls included: a shield that shows "you turned it off" still waits for
    /// the proof that nobody replaced the DTLS certificates on the way.
    pub fn confirmed(&self) -> bool {
        self.confirmed && self.warning.is_none()
    }

    /// Whether media is to be end-to-end encrypted as far as the hellos tell so far (the shield
    /// may still be connecting): for choosing codecs before the agreement is confirmed.
    pub fn e2ee_intended(&self) -> bool {
        self.offers_e2ee() && self.peer.as_ref().is_none_or(|(peer_e2ee, _)| *peer_e2ee)
    }

    /// A guest locks only after checking the host's key against the link.
    fn guest_may_lock(&self) -> bool {
        self.config.role == Role::Host || self.commitment.is_some()
    }

    /// The security code, once computed (also while a warning shows, to compare).
    pub fn security_code(&self) -> Option<SecurityCode> {
        self.code
    }

    /// The base keys, only while the shield is locked: a warning withdraws them.
    pub fn keys(&self) -> Option<&SessionKeys> {
        match self.state() {
            ShieldState::Locked { .. } => self.keys.as_ref(),
            _ => None,
        }
    }
}
