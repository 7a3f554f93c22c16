//! What goes into the call controller ([`Input`]) and what comes out ([`Effect`]): the one
//! boundary between the call's decisions and the browser that carries them out.

use crate::config::IceSettings;
use crate::group::{AddLink, MergeLink};
use crate::move_link::MoveLink;
use crate::pickup::{DepositSeal, PickupCode};
use crate::quality::{LinkStats, QualityView};
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::link::{Commitment, LinkSecret};
use shieldcall_e2ee::session::{ShieldState, WarningReason};
use shieldcall_protocol::{
    Inbound, MediaState, PayloadTypes, RelayRequest, Signal, WorkerCommand, WorkerEvent,
};

/// Which peer connection an input or effect is about: bumped whenever the connection is
/// dropped, so that what an older one reports (an offer made, an answer applied, a state
/// change) is recognised as stale in one place, the controller.
pub type Generation = u64;

/// Where the call is, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// Getting the camera and microphone, starting the media worker.
    Preparing,
    /// In the room, alone.
    Waiting,
    /// Agreeing keys and connecting media.
    Connecting,
    /// Media flows.
    Connected,
    /// The other person left; waiting for them to come back.
    PeerLeft,
    /// The other person parked the call; waiting for someone to pick it up.
    OnHold,
    /// The media connection failed; the next attempt is this many seconds away (its number).
    Retrying { in_secs: u64, attempt: u32 },
    /// The call is over, and why.
    Ended(String),
}

impl CallStatus {
    /// A name for the page's data attributes (what tests and styles read), kebab-case: the
    /// release build has no `Debug` text to offer.
    pub fn hook(&self) -> &'static str {
        match self {
            CallStatus::Preparing => "preparing",
            CallStatus::Waiting => "waiting",
            CallStatus::Connecting => "connecting",
            CallStatus::Connected => "connected",
            CallStatus::PeerLeft => "peer-left",
            CallStatus::OnHold => "on-hold",
            CallStatus::Retrying { .. } => "retrying",
            CallStatus::Ended(_) => "ended",
        }
    }
}

/// An ICE candidate as trickled between the peers (`RTCIceCandidateInit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceCandidate {
    pub candidate: String,
    pub sdp_mid: Option<String>,
    pub sdp_m_line_index: Option<u16>,
}

impl IceCandidate {
    /// The signal that carries this candidate to the peer.
    pub fn to_signal(&self) -> Signal {
        Signal::Ice {
            candidate: self.candidate.clone(),
            sdp_mid: self.sdp_mid.clone(),
            sdp_m_line_index: self.sdp_m_line_index,
        }
    }
}

/// The peer connection's `connectionState`, as far as the call cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// New or connecting.
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

/// What the shield shows: its state, the security code, and the first warning of this call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShieldView {
    pub state: ShieldState,
    /// This side's security code, once computed; also under a warning, where comparing it
    /// shows the mismatch.
    pub code: Option<SecurityCode>,
    /// The first security problem seen in this call, kept until hang-up.
    pub warned_in_call: Option<WarningReason>,
}

/// Something that happened: the relay, the other person, the browser, the worker, a timer or
/// the person using the page.
#[derive(Clone, Debug)]
pub enum Input {
    /// A media worker is running (the first, or a fresh one after [`Effect::StartWorker`]).
    WorkerStarted,
    /// The media worker could not start.
    WorkerFailed,
    /// What arrived on the relay socket: the relay's news or the other person's signal.
    Inbound(Inbound),
    /// This side's `join` just went out on a new relay socket: what is sent now follows it, on
    /// the same socket, before the relay's `joined` can come back.
    RelayOpen,
    /// [`Effect::Connect`] made the connection, its transceivers and the data channel.
    LinkMade { generation: Generation },
    /// This side's description (offer or answer) is made and set: to send. `payload_types`
    /// are what the connection's descriptions negotiate so far; for the guest, whose answer
    /// completes them, the final ones.
    LocalDescription { generation: Generation, sdp: String, payload_types: PayloadTypes },
    /// Both descriptions are applied; the payload types they negotiated.
    DescriptionsApplied { generation: Generation, payload_types: PayloadTypes },
    /// [`Effect::Connect`] failed: an offer or answer the browser refused or could not make,
    /// or, after the description, the camera or screen it could not send.
    ConnectFailed { generation: Generation },
    /// The browser refused the answer of [`Effect::ApplyAnswer`].
    AnswerRefused { generation: Generation },
    /// The browser found a local ICE candidate.
    LocalIce { generation: Generation, candidate: IceCandidate },
    /// An ICE server answered with an error (`icecandidateerror`: the STUN error code, and
    /// the server's URL).
    IceServerError { generation: Generation, code: u16, url: String },
    /// The browser has gathered all its local candidates (`iceGatheringState` "complete").
    IceGatheringComplete { generation: Generation },
    /// The connection's state changed.
    LinkState { generation: Generation, state: LinkState },
    /// [`Effect::MakeCertificate`]'s answer: the certificate's `(hash function, fingerprint)`
    /// as the browser gives them (`getFingerprints`), or `None` if it could not make one (the
    /// guest's connections then make their own, and it confirms after its answer).
    Certificate { fingerprint: Option<(String, String)> },
    /// [`Effect::CheckCertificate`]'s answer: the remote certificates the browser reports,
    /// `(hash function, fingerprint)`, empty where the browser reports none; and the peer's
    /// description as the browser applied it and writes it back (`currentRemoteDescription`),
    /// if it has one.
    RemoteCertificates {
        generation: Generation,
        certificates: Vec<(String, String)>,
        description: Option<String>,
    },
    /// What the media worker reports.
    Worker(WorkerEvent),
    /// A chat message arrived on the data channel.
    ChatFrame(String),
    /// The person sends a chat message; whether the data channel is open now.
    SendChat { text: String, channel_open: bool },
    /// The data channel of connection `generation` opened.
    ChannelOpen { generation: Generation },
    /// A binary message arrived on the data channel (with E2EE off, a media state; chat is
    /// text).
    ChatBinary(Vec<u8>),
    /// This person's microphone, camera or screen share changed (or is first known): the
    /// whole state.
    LocalMedia(MediaState),
    /// [`Effect::ReadStats`]'s answer.
    LinkStats { generation: Generation, stats: LinkStats },
    /// The timer of [`Effect::ArmRetry`] went off.
    RetryDue,
    /// The once-a-second clock.
    Tick,
    /// The person asks to move the call to another device.
    MoveToAnotherDevice,
    /// The person asks to add someone: the call opens to a group.
    AddParticipant,
    /// The relay says this call is a group (see [`crate::group`]).
    JoinGroup,
    /// The relay says the group is full.
    GroupFull,
    /// The person merges their other call (another tab) into this one.
    Merge,
    /// The person's other tab merges this call into its own (see [`crate::group::MergeLink`]).
    MergeInto(MergeLink),
    /// The person parks the call; `random` from the OS, for the pickup code and its deposit.
    Park { random: super::ParkRandom },
    /// [`Effect::SealDeposit`]'s answer for the deposit of `nonce`: the deposit as the relay
    /// is to hold it, or `None` if the browser could not seal it.
    DepositSealed { nonce: [u8; 12], deposit: Option<String> },
    /// The person transfers the call to someone they call `name`.
    Transfer { name: String },
    /// The person puts the other person on hold to consult someone in another call (a park
    /// whose page stays to start that call); `random` as for [`Input::Park`].
    Consult { random: super::ParkRandom },
    /// (In the consult call) the person transfers the held call, whose pickup link's path is
    /// `path`, to the other person here.
    OfferTransfer { path: String },
    /// The person hangs up.
    HangUp,
    /// The page goes away: end without a word.
    PageLeft,
}

/// What the browser is to do, in order.
#[derive(Debug, PartialEq)]
pub enum Effect {
    /// Send a signal to the other person through the relay.
    Send(Signal),
    /// Send a request to the relay itself.
    Relay(RelayRequest),
    /// Seal a park's deposit (AES-128-GCM, WebCrypto's in the page) and answer with
    /// [`Input::DepositSealed`].
    SealDeposit(DepositSeal),
    /// Show the link (and its QR code) that moves this place to another device, valid for
    /// `ttl_secs`; it replaces any shown before.
    ShowMoveLink {
        link: MoveLink,
        ttl_secs: u64,
    },
    /// Take the move link off the screen (it expired).
    HideMoveLink,
    /// The call is parked: show its pickup code and link (valid for `ttl_secs`); the call on
    /// this page ends next, and they stay on screen.
    ShowParked {
        link: MoveLink,
        code: PickupCode,
        ttl_secs: u64,
        /// Parked to consult: the page offers to start the consult call, or to return.
        consult: bool,
    },
    /// The other person handed this person a held call: offer to join it (`path`, a pickup
    /// link's path and fragment, on this page's origin).
    TransferOffered {
        path: String,
    },
    /// Show the link that transfers this place to `name` (valid for `ttl_secs`), in place of
    /// any move link; [`Effect::HideMoveLink`] takes it off too.
    ShowTransferLink {
        link: MoveLink,
        name: String,
        ttl_secs: u64,
    },
    /// (Guest) keep this call's link for a reload of this tab as `#k={commitment}&s={secret}`:
    /// after a re-keyed move the host's key and the secret are no longer the link's
    /// (PROTOCOL.md change 44), and a reload with the old ones would show a false red shield.
    KeepLink {
        commitment: Commitment,
        secret: LinkSecret,
    },
    /// Show the link that adds a person to this (now group) call.
    ShowAddLink(AddLink),
    /// What this call's relay does not offer (its `joined` said so), as why adding someone
    /// (or merging) and parking (or consulting) are off, if they are: the menu's items say so
    /// before anyone presses them ([`crate::texts::menu_item_needs`]).
    RelayLacks {
        group: Option<&'static str>,
        park: Option<&'static str>,
    },
    /// Tell this person's other tabs to merge their call into this one.
    OfferMerge(MergeLink),
    /// Open the merged call (on this page's origin), as the other person asked.
    FollowMerge(MergeLink),
    Status(CallStatus),
    Shield(ShieldView),
    /// Tell the person something that does not stop the call.
    Notice(String),
    /// What media does not get through now, in words (empty when all is well).
    MediaProblems(Vec<String>),
    /// Give the media worker a command.
    Worker(WorkerCommand),
    /// Drop the media worker (and its keys) and start a fresh one; answered by
    /// [`Input::WorkerStarted`] or [`Input::WorkerFailed`].
    StartWorker,
    /// (Host, alone in the room, its media worker running) the browser may make now the
    /// connection it will offer, with its transceivers and its offer, for the
    /// [`Effect::Connect`] that follows the other person's hello: that offer then leaves at
    /// once, not after the browser's work (100 ms and more on a busy machine). Nothing of it
    /// goes out before that `Connect`, which makes a connection of its own instead if its
    /// `e2ee` or `ice` differ, or the media worker changed. A later one replaces it (new TURN
    /// credentials after a rejoin, say). No answer.
    PrepareConnection {
        e2ee: bool,
        ice: IceSettings,
    },
    /// (Guest) make, ahead, the DTLS certificate of the next connection
    /// (`RTCPeerConnection.generateCertificate`, ECDSA P-256) and keep it for the next
    /// [`Effect::Connect`] that asks for it; answered by [`Input::Certificate`]. At most one is
    /// asked for at a time.
    MakeCertificate,
    /// Make a peer connection: the host with its own offer (`offer` is `None`), the guest
    /// answering `offer`; codecs chosen for E2EE if `e2ee`. Answered by [`Input::LinkMade`],
    /// then [`Input::LocalDescription`] (and, for the guest, [`Input::DescriptionsApplied`]);
    /// [`Input::ConnectFailed`] instead, or after them if the local tracks cannot be sent.
    /// `ice`: its ICE servers (config.json's, then the relay's TURN servers with this place's
    /// credentials) and transport policy. With `certificate`, the connection uses the
    /// certificate of the last [`Input::Certificate`] (and it is used up): the guest has
    /// confirmed with its fingerprint already.
    Connect {
        generation: Generation,
        offer: Option<String>,
        e2ee: bool,
        ice: IceSettings,
        certificate: bool,
    },
    /// (Host) apply the guest's answer; answered by [`Input::DescriptionsApplied`] or
    /// [`Input::AnswerRefused`].
    ApplyAnswer {
        generation: Generation,
        sdp: String,
    },
    /// Give the connection the peer's ICE candidate.
    AddIce {
        generation: Generation,
        candidate: IceCandidate,
    },
    /// Ask the browser for the remote certificate and the description it applied
    /// ([`Input::RemoteCertificates`]).
    CheckCertificate {
        generation: Generation,
    },
    /// Close the connection and stop showing the other person's media.
    DropLink,
    /// Show the other person's screen share (`true`) or take it off the stage.
    RemoteScreen(bool),
    /// Fire [`Input::RetryDue`] after this long (replacing any earlier timer).
    ArmRetry {
        delay_ms: u64,
    },
    /// Send a chat frame on the data channel. With `shown`, this person's message: shown if
    /// the frame went, otherwise the person is told it could not be sent.
    SendChat {
        frame: String,
        shown: Option<String>,
    },
    /// Send a binary message on the data channel (with E2EE off, this side's media state).
    SendBinary(Vec<u8>),
    /// Show the other person's media state (`None`: not known, no indicator), and announce
    /// `announce` politely if there is something to say.
    RemoteMedia {
        state: Option<MediaState>,
        announce: Option<String>,
    },
    /// Read the connection's statistics ([`Input::LinkStats`]).
    ReadStats {
        generation: Generation,
    },
    /// Show the connection's quality (`None`: no indicator).
    Quality(Option<QualityView>),
    /// Show a chat message.
    ChatShown {
        from_me: bool,
        text: String,
    },
    /// A warning for the console, never for the person (it names no secret).
    Log(String),
    /// The call is over: close the relay socket, the connection and the worker, stop the
    /// tracks. `forget_link` when this tab is done with the link (a hang-up on either side).
    End {
        why: Option<String>,
        forget_link: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::CallStatus;

    #[test]
    fn every_status_has_a_hook_of_its_own() {
        let all = [
            CallStatus::Preparing,
            CallStatus::Waiting,
            CallStatus::Connecting,
            CallStatus::Connected,
            CallStatus::PeerLeft,
            CallStatus::OnHold,
            CallStatus::Retrying { in_secs: 2, attempt: 1 },
            CallStatus::Ended("the other person left".into()),
        ];
        let mut hooks: Vec<&str> = all.iter().map(CallStatus::hook).collect();
        assert!(
            hooks
                .iter()
                .all(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
        hooks.sort_unstable();
        hooks.dedup();
        assert_eq!(hooks.len(), all.len());
    }
}
