//! The call controller: every decision of one call, made without a browser.
//!
//! ```text
//!  relay, peer, browser, worker, timers, person ──handle(input, now)──▶ Controller
//!                                                                          │ Session (keys, shield)
//!                                  browser glue ◀──────poll_effect()───────┘ Retry, MediaHealth
//! ```
//! In the manner of str0m's `poll_output` and quinn-proto's `poll_transmit`: the page feeds in
//! what happened ([`Input`]) with the time, and carries out what comes back ([`Effect`]) in
//! order. Nothing here sleeps, spawns, or touches the network; the generation of the peer
//! connection, the retry schedule, the buffered ICE candidates and offer, the confirmation
//! last sent, and what the person was last shown are all data here, tested on the host.
//!
//! The host sends the offer once it has the guest's hello; the guest answers. A guest who
//! leaves (or reloads) is waited for; the host's key stays, since the link commits to it.
//! Each job has its file, as more `impl Controller` blocks: `signalling` (the relay's news and
//! the other person's signals), `link` (the peer connection of one attempt), `reconnect` (the
//! other person leaving or coming back, a failed connection made again), `media` (the worker's
//! mode and reports, the remote screen share), `chat`, `indicators` (each side's media state
//! told to the other, the connection's quality).

mod chat;
mod group;
mod handover;
mod indicators;
mod io;
mod link;
mod media;
mod moving;
mod reconnect;
mod signalling;
mod trace;
mod turn;

use std::collections::VecDeque;

use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::{Commitment, LinkSecret};
use shieldcall_e2ee::session::{Role, Session, SessionConfig};
use shieldcall_protocol::{Hello, Inbound, MediaState, RelayFeature, Signal, TurnCredentials};

pub use handover::{
    CONSULT_DONE, CONSULTING, HANDOVER_NEEDS_E2EE_OFF, HANDOVER_NOT_YET, OFFER_NOT_YET, ON_HOLD,
    PARK_ENDED, PARK_FAILED, PARK_LOST, PARK_REFUSED, PARKED_HERE, PEER_HANDOVER_UNANNOUNCED,
    PICKED_UP, ParkRandom, TRANSFER_LOST, TRANSFER_NEEDS_NAME, TRANSFER_OFFER_KIND,
    TRANSFER_OFFERED, TRANSFER_REFUSED, TRANSFER_SENT, peer_transferred, transferred_away,
};
pub use io::{CallStatus, Effect, Generation, IceCandidate, Input, LinkState, ShieldView};
pub use link::{ANSWER_WAIT_MS, MAX_WAITING_CANDIDATES};
pub use moving::{
    MOVE_LOST, MOVE_NOT_WHILE_RED, MOVE_NOT_YET, MOVE_REFUSED, MOVED_AWAY, MOVED_HERE_NEW_CODE,
    PEER_MOVED, PEER_MOVED_REKEYED, PEER_MOVED_UNANNOUNCED, move_refused,
};
pub use turn::{TURN_REFUSED, TURN_REFUSED_NOTICE, TURN_UNREACHABLE};

use crate::config::IceSettings;
use crate::media_health::MediaHealth;
use crate::quality::QualityMeter;
use crate::retry::Retry;
use chat::{Early, Pending};
use link::{CertificateAhead, Link};
use media::{RemoteScreen, WorkerMode};

/// What a person who opens a full call is told. The relay may still hold the place of someone
/// who just reloaded (until it finds their old connection dead, up to a minute).
pub const CALL_FULL: &str = "This call already has two people. If you were in it a moment ago, \
    wait a minute and open the link again; otherwise ask for a new link.";

/// Why a call ends when its media worker cannot start.
pub const WORKER_FAILED: &str =
    "The media worker could not start, so the call cannot be protected. Reload the page.";

/// One call's decisions and the state they rest on.
pub struct Controller {
    role: Role,
    /// This call's id (a merge names the call it goes to).
    call_id: shieldcall_protocol::CallId,
    session: Session,
    /// The caller's clock at the input being handled (ms, monotonic).
    now: u64,
    effects: VecDeque<Effect>,
    /// A media worker runs; until it does, inbound messages wait in `backlog`.
    worker_ready: bool,
    /// The first worker has started: the call has joined.
    first_worker_started: bool,
    backlog: Vec<Inbound>,
    /// The peer connection of the current attempt, if one is being made or runs.
    link: Option<Link>,
    /// Which connection is current: bumped whenever the link is dropped.
    generation: Generation,
    /// ICE candidates that arrived before any connection was being made.
    early_ice: Vec<IceCandidate>,
    /// (Guest) an offer that arrived before the host's hello.
    early_offer: Option<String>,
    /// The relay said the other person left while media still flowed: their relay connection
    /// may be all that went. The call goes on until the media connection drops too, or
    /// someone new arrives.
    peer_away: bool,
    /// The worker mode last commanded, so it is commanded once per change.
    worker_mode: Option<WorkerMode>,
    /// The last security code shown as locked, to tell the person when it changes.
    last_code: Option<SecurityCode>,
    /// When to make a failing media connection again (the host makes connections).
    retry: Retry,
    /// The pending attempt, while its timer runs, with the peer's hello that asked for it
    /// (none when this side's own connection failed).
    retry_pending: Option<Option<Hello>>,
    /// (Host) make the connection again as soon as the fresh worker runs.
    reconnect_when_ready: bool,
    /// (Guest) the certificate of the next connection, made ahead.
    certificate: CertificateAhead,
    /// (Guest) the session took the certificate made ahead for the offer waiting in the backlog
    /// (its confirmation went before the first worker ran): that offer's connection uses it.
    certificate_taken: bool,
    /// (Guest) an offer that waits for the certificate being made (a few ms), since when (ms).
    offer_awaiting_certificate: Option<(String, u64)>,
    /// The connection whose certificate has been checked against the bound one.
    certificate_checked: Option<Generation>,
    /// Whether the person was told that this browser reports no remote certificate.
    said_certificate_unchecked: bool,
    /// Which media gets through, from the worker's counters.
    media_health: MediaHealth,
    remote_screen: RemoteScreen,
    chat_seq: u32,
    /// Chat being sealed in the worker, by id (a few at a time, while the worker works: a
    /// plain list, where a hash map cost the page's wasm its own code).
    chat_pending: Vec<(u32, Pending)>,
    /// What came on the data channel before this side could check it.
    early_chat: Vec<Early>,
    /// The connection whose data channel is open, if the current one's is.
    channel_open: Option<Generation>,
    /// One pair of a group call: hanging up is leaving, and the relay's `bye` tells the group
    /// layer who left, so no hang-up goes on (or is read from) the data channel.
    in_group: bool,
    /// The add link and merge waiting for the relay to open the room, asked at
    /// `group_asked_at`.
    group_asked: Vec<group::GroupAsked>,
    group_asked_at: u64,
    /// What this call's relay does not offer, as its latest `joined` said.
    relay_lacks: Vec<RelayFeature>,
    /// This person's microphone, camera and screen share, as the page last said.
    local_media: MediaState,
    /// The media state last sent (or being sealed) on the open channel.
    media_shared: Option<MediaState>,
    /// The other person's media state, once one arrived on this connection.
    remote_media: Option<MediaState>,
    /// The connection's quality, from the browser's statistics.
    quality: QualityMeter,
    quality_shown: bool,
    ended: bool,
    /// config.json's ICE servers and transport policy.
    ice: IceSettings,
    /// The TURN servers and credentials of the latest `joined` (fresh with every rejoin).
    turn: Option<TurnCredentials>,
    /// Whether the person was told that the TURN server refused the credentials.
    said_turn_refused: bool,
    /// (Guest) a relay socket has opened before: only the first one says hello early.
    relay_opened: bool,
    /// This page's socket sent its `join` (`Input::RelayOpen`) and the relay has not answered
    /// it (`joined` or `full`) yet: see `arrived`.
    join_outstanding: bool,
    /// (Host) the relay said nobody else is in the room (its `joined`, or `peer-left`).
    alone_in_room: bool,
    /// (Host) what the current media worker's connection was prepared with (E2EE, ICE), if it
    /// was ([`Effect::PrepareConnection`]).
    connection_prepared_with: Option<(bool, IceSettings)>,
    /// (Guest) the hello went out right behind the first socket's `join`: its `joined` need not
    /// say it again.
    hello_before_joined: bool,
    /// This page came from a re-keyed move: its first lock says the code is new.
    announce_new_code: bool,
    /// (Guest) a re-keyed move changed the secret (and maybe the host key): once confirmed,
    /// the page keeps the link to reload with.
    keep_link_when_confirmed: bool,
    /// When (ms) this page last asked the relay for a move token.
    move_asked_at: Option<u64>,
    /// Until when (ms) the move (or transfer) link shown is valid.
    move_link_until: Option<u64>,
    /// A move or transfer link was made here: the relay's `moved` (its use) can end this page.
    link_made_for_another_device: bool,
    /// When (ms) this call, merged into the person's other call, leaves.
    merge_leaves_at: Option<u64>,
    /// A park asked for, until the relay answers (or its socket closes).
    parking: Option<handover::Parking>,
    /// (Consulting) the held call's link went to the other person on this call.
    transfer_sent: bool,
    /// A transfer asked for (the name typed), until the relay answers with its token or
    /// refuses it.
    transfer_asked: Option<String>,
    /// The name the latest transfer link was made for (its use ends this page's call).
    handing_to: Option<String>,
    /// The other person parked the call: on hold until a pickup.
    held: bool,
    /// How this page came to take someone's place, if it did (for the words of a refusal).
    arrival: crate::pickup::Arrival,
    /// What the person was last shown, so each change is shown once.
    status: CallStatus,
    shield: Option<ShieldView>,
    problems: Vec<String>,
}

/// How a controller starts: the session's settings and secrets.
pub struct CallSetup {
    pub config: SessionConfig,
    /// This side's ephemeral key (the host's is the one its link commits to).
    pub own: EphemeralSecret,
    pub link_secret: LinkSecret,
    /// (Guest) the commitment to the host's key, from the link.
    pub commitment: Option<Commitment>,
    /// config.json's ICE servers and transport policy.
    pub ice: IceSettings,
    /// How this page came into the call: from a move link, it takes another device's place.
    pub arrival: Arrival,
}

/// How a page came into the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arrival {
    /// From the call link, or as the page that made it.
    #[default]
    Link,
    /// From a move link out of a transport-only call: the call stays transport-only.
    Moved,
    /// From a re-keyed move link out of an E2EE call (PROTOCOL.md change 44): fresh keys with
    /// the other person, under the move's secret, and a new security code to compare.
    MovedRekeyed,
}

impl Controller {
    pub fn new(setup: CallSetup) -> Controller {
        let CallSetup { config, own, link_secret, commitment, ice, arrival } = setup;
        let mut session = Session::new(config, own, link_secret);
        if arrival == Arrival::Moved {
            session.moved_here();
        }
        if let Some(commitment) = commitment {
            session.set_link_commitment(commitment);
        }
        let mut controller = Controller {
            role: config.role,
            call_id: config.call_id,
            session,
            now: 0,
            effects: VecDeque::new(),
            worker_ready: false,
            first_worker_started: false,
            backlog: Vec::new(),
            link: None,
            generation: 0,
            early_ice: Vec::new(),
            early_offer: None,
            peer_away: false,
            worker_mode: None,
            last_code: None,
            retry: Retry::new(),
            retry_pending: None,
            reconnect_when_ready: false,
            certificate: CertificateAhead::None,
            certificate_taken: false,
            offer_awaiting_certificate: None,
            certificate_checked: None,
            said_certificate_unchecked: false,
            media_health: MediaHealth::default(),
            remote_screen: RemoteScreen::default(),
            chat_seq: 0,
            chat_pending: Vec::new(),
            early_chat: Vec::new(),
            channel_open: None,
            in_group: false,
            group_asked: Vec::new(),
            group_asked_at: 0,
            relay_lacks: Vec::new(),
            local_media: MediaState::ALL_ON,
            media_shared: None,
            remote_media: None,
            quality: QualityMeter::default(),
            quality_shown: false,
            ended: false,
            ice,
            turn: None,
            said_turn_refused: false,
            relay_opened: false,
            join_outstanding: false,
            alone_in_room: false,
            connection_prepared_with: None,
            hello_before_joined: false,
            announce_new_code: arrival == Arrival::MovedRekeyed,
            keep_link_when_confirmed: arrival == Arrival::MovedRekeyed
                && config.role == Role::Guest,
            move_asked_at: None,
            move_link_until: None,
            link_made_for_another_device: false,
            merge_leaves_at: None,
            parking: None,
            transfer_sent: false,
            transfer_asked: None,
            handing_to: None,
            held: false,
            arrival: crate::pickup::Arrival::Move,
            status: CallStatus::Preparing,
            shield: None,
            problems: Vec::new(),
        };
        controller.show_shield();
        controller.make_certificate();
        controller
    }

    /// Something happened at `now_ms` (the caller's monotonic clock). Its effects wait in
    /// [`Controller::poll_effect`].
    pub fn handle(&mut self, input: Input, now_ms: u64) {
        self.now = now_ms;
        if self.ended {
            return;
        }
        match input {
            Input::WorkerStarted => self.worker_started(),
            Input::WorkerFailed => self.end(Some(WORKER_FAILED.into()), false),
            Input::Inbound(inbound) => self.arrived(inbound),
            Input::RelayOpen => self.relay_open(),
            Input::LinkMade { generation } => self.link_made_by_browser(generation),
            Input::LocalDescription { generation, sdp, payload_types } => {
                self.local_description(generation, sdp, payload_types)
            }
            Input::DescriptionsApplied { generation, payload_types } => {
                if self.is_current(generation) {
                    self.descriptions_applied(payload_types);
                }
            }
            Input::ConnectFailed { generation } => {
                // A connection dropped meanwhile fails its next step: that is no failure.
                if self.is_current(generation) {
                    let why = "The call could not be set up: the browser could not make the connection or send your camera or screen.";
                    self.end(Some(why.into()), false);
                }
            }
            Input::AnswerRefused { generation } => {
                if self.is_current(generation) {
                    self.end(Some("The other person's answer was not valid.".into()), false);
                }
            }
            Input::LocalIce { generation, candidate } => {
                self.local_candidate(generation, candidate)
            }
            Input::IceServerError { generation, code, url } => {
                self.ice_server_error(generation, code, url)
            }
            Input::IceGatheringComplete { generation } => self.gathering_complete(generation),
            Input::LinkState { generation, state } => self.link_state(generation, state),
            Input::Certificate { fingerprint } => self.certificate_made(fingerprint),
            Input::RemoteCertificates { generation, certificates, description } => {
                self.remote_certificates(generation, &certificates, description.as_deref())
            }
            Input::Worker(event) => self.worker_event(event),
            Input::ChatFrame(frame) => self.chat_received(frame),
            Input::SendChat { text, channel_open } => self.send_chat(text, channel_open),
            Input::ChannelOpen { generation } => {
                if self.is_current(generation) {
                    self.channel_open = Some(generation);
                    self.media_shared = None;
                }
            }
            Input::ChatBinary(bytes) => self.binary_received(&bytes),
            Input::LocalMedia(state) => self.local_media = state,
            Input::LinkStats { generation, stats } => {
                if self.is_current(generation) {
                    self.link_stats(stats);
                }
            }
            Input::RetryDue => self.retry_due(),
            Input::Tick => self.tick(),
            Input::MoveToAnotherDevice => self.ask_to_move(),
            Input::AddParticipant => self.add_participant(),
            Input::JoinGroup => self.join_group(),
            Input::GroupFull => self.group_full(),
            Input::Merge => self.merge(),
            Input::MergeInto(link) => self.merge_into(link),
            Input::Park { random } => self.ask_to_park(random, false),
            Input::DepositSealed { nonce, deposit } => self.deposit_sealed(nonce, deposit),
            Input::Consult { random } => self.ask_to_park(random, true),
            Input::OfferTransfer { path } => self.offer_transfer(&path),
            Input::Transfer { name } => self.ask_to_transfer(name),
            Input::HangUp => self.hang_up(),
            Input::PageLeft => self.end(None, true),
        }
        // Whatever changed (the channel, the shield, the worker, the person's own media): what
        // came early on the channel is read once it can be checked, and the other side learns
        // this person's media state once it can be sent.
        if !self.ended {
            self.release_early();
            self.share_media_state();
        }
    }

    /// The next thing for the browser to do, in order.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// The connection being made or running now, if any: a task of an older one lets go.
    pub fn current_link(&self) -> Option<Generation> {
        self.link.as_ref().map(|_| self.generation)
    }

    /// Whether `generation` is the connection being made or running now.
    pub fn is_current(&self, generation: Generation) -> bool {
        self.current_link() == Some(generation)
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The session, to read (the shield, the code): its inputs come only through `handle`.
    pub fn session(&self) -> &Session {
        &self.session
    }

    fn emit(&mut self, effect: Effect) {
        self.effects.push_back(effect);
    }

    fn send(&mut self, signal: Signal) {
        self.emit(Effect::Send(signal));
    }

    fn notice(&mut self, text: impl Into<String>) {
        self.emit(Effect::Notice(text.into()));
    }

    fn log(&mut self, text: impl Into<String>) {
        self.emit(Effect::Log(text.into()));
    }

    fn set_status(&mut self, status: CallStatus) {
        if self.status != status {
            self.status = status.clone();
            self.emit(Effect::Status(status));
        }
    }

    /// A media worker runs: the call joins (the first time), and what waited for it goes in.
    fn worker_started(&mut self) {
        self.worker_ready = true;
        self.worker_mode = None;
        let first = !self.first_worker_started;
        if first {
            self.first_worker_started = true;
            if self.status == CallStatus::Preparing {
                self.set_status(CallStatus::Waiting);
            }
        }
        self.follow_session();
        for inbound in std::mem::take(&mut self.backlog) {
            self.inbound(inbound);
        }
        // The hellos went both ways while this first worker started: the host offers now.
        if first && self.role == Role::Host && self.session.has_peer() && self.link.is_none() {
            self.start_link(None);
        }
        self.prepare_connection();
        if std::mem::take(&mut self.reconnect_when_ready)
            && self.session.has_peer()
            && self.link.is_none()
        {
            self.start_link(None);
        }
    }

    /// Once a second: the session's confirmation deadline, the retry countdown, how long the
    /// connection has been healthy, stalled media, and a screen share that stopped.
    fn tick(&mut self) {
        let now = self.now;
        self.session.handle_timeout(now);
        self.follow_session();
        self.answer_deadline();
        self.certificate_overdue();
        self.make_certificate();
        if self.retry_pending.is_some() && !self.media_connected() {
            self.show_retry();
        } else if self.session.confirmed() && self.media_connected() {
            self.retry.healthy(now);
        } else {
            self.retry.unhealthy();
        }
        if self.media_health.tick(now) {
            self.show_media_problems();
        }
        self.screen_idle_check();
        self.ask_for_stats();
        self.move_link_tick();
        self.merge_tick();
        self.group_tick();
    }

    /// End the call (`why` shown to the person, or nothing when the page is just leaving).
    /// `forget_link` for a hang-up on either side: other endings (an error, a full call) keep
    /// the link, so that a reload can try again.
    fn end(&mut self, why: Option<String>, forget_link: bool) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.drop_link();
        self.worker_ready = false;
        self.retry_pending = None;
        self.emit(Effect::End { why: why.clone(), forget_link });
        if let Some(why) = why {
            self.set_status(CallStatus::Ended(why));
        }
    }
}
