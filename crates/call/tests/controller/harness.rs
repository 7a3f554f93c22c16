//! Two call controllers in memory, each with a small stand-in for its browser, and a relay
//! between them that a test may make hostile. The controllers, their sessions and all the key
//! agreement are the real ones; what stands in is only what a browser does when told to
//! (make a connection with a fresh certificate, apply a description, connect when both sides
//! agree and the network lets it, start a worker), answered later, as a browser would.

use std::collections::VecDeque;

use rand_core::OsRng;
use shieldcall_call::config::IceSettings;
use shieldcall_call::controller::{
    Arrival, CallSetup, CallStatus, Controller, Effect, Generation, IceCandidate, Input, LinkState,
    ShieldView,
};
use shieldcall_call::group::{AddLink, MergeLink};
use shieldcall_call::move_link::MoveLink;
use shieldcall_call::pickup::{PickupCode, host_aes_gcm};
use shieldcall_call::quality::QualityView;
use shieldcall_e2ee::code::SecurityCode;
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::{LinkSecret, new_call_id};
use shieldcall_e2ee::session::{Policy, Role, SessionConfig, ShieldState, WarningReason};
use shieldcall_protocol::{
    ChatOrder, Confirm, Hello, Inbound, MediaState, MoveToken, PayloadTypes, RelayEvent,
    RelayRequest, Signal, TransformStats, WorkerCommand, WorkerEvent,
};

/// A description naming one certificate whose SHA-256 fingerprint is `fill` 32 times.
pub fn sdp(fill: &str) -> String {
    let fp = vec![fill; 32].join(":");
    format!(
        "v=0\r\na=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\n"
    )
}

/// The fill of the one fingerprint in `sdp`, as `sdp` wrote it.
fn fill_of(sdp: &str) -> Option<String> {
    let line = sdp.lines().find(|l| l.starts_with("a=fingerprint:sha-256 "))?;
    Some(line.rsplit(':').next()?.trim().to_string())
}

/// What the media worker holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum WorkerMode {
    #[default]
    AwaitKeys,
    TransportOnly,
    Keys {
        send: Vec<u8>,
        receive: Vec<u8>,
    },
}

/// A stand-in for the browser's media worker.
#[derive(Debug, Default)]
pub struct Worker {
    pub mode: WorkerMode,
    pub codecs: bool,
    /// Workers started so far (the first included).
    pub starts: u32,
    /// Times keys were given to a worker.
    pub keyings: u32,
}

/// A stand-in for one attempt's `RTCPeerConnection`.
#[derive(Debug)]
pub struct Link {
    pub generation: Generation,
    /// The fill of this connection's own certificate fingerprint.
    pub local: String,
    /// The fill of the certificate the peer's description named, once applied.
    pub remote: Option<String>,
    /// The peer's description as applied, with the candidates added since: what the browser
    /// writes back (`currentRemoteDescription`).
    pub remote_sdp: Option<String>,
    pub applied: bool,
    pub ice_added: Vec<IceCandidate>,
    pub state: LinkState,
    pub channel_open: bool,
}

/// What the person sees.
#[derive(Debug)]
pub struct View {
    pub status: CallStatus,
    pub shield: Option<ShieldView>,
    pub notices: Vec<String>,
    pub problems: Vec<String>,
    pub chat: Vec<(bool, String)>,
    pub remote_screen: bool,
    pub logs: Vec<String>,
    /// `End`'s why and whether the tab forgets the link.
    pub ended: Option<(Option<String>, bool)>,
    /// Every status shown, in order, the first (`Preparing`) included.
    pub statuses: Vec<CallStatus>,
    /// Every shield shown, in order.
    pub shields: Vec<ShieldView>,
    /// The other person's media state as the remote tile shows it.
    pub remote_media: Option<MediaState>,
    /// What was announced of it, in order.
    pub announced: Vec<String>,
    /// The connection quality icon.
    pub quality: Option<QualityView>,
    /// The move link on the screen, and for how many seconds it was said to be valid.
    pub move_link: Option<(MoveLink, u64)>,
    /// The parked call's pickup link and code, and their time.
    pub parked: Option<(MoveLink, PickupCode, u64)>,
    /// The transfer link on the screen, the name it is for, and its time.
    pub transfer_link: Option<(MoveLink, String, u64)>,
    /// The park was to consult.
    pub consulting: bool,
    /// A held call offered by the other person: its pickup path.
    pub transfer_offered: Option<String>,
    /// The link this tab keeps for a reload, as the page last said (a guest after a re-keyed
    /// move).
    pub kept_link: Option<(shieldcall_e2ee::link::Commitment, LinkSecret)>,
    /// The link that adds a person, once shown.
    pub add_link: Option<AddLink>,
    /// What a merge told the person's other tabs, and the merge this page followed.
    pub merge_offered: Option<MergeLink>,
    /// Why adding someone and parking are off on this relay, as the page was told.
    pub relay_lacks: (Option<&'static str>, Option<&'static str>),
    pub merge_followed: Option<MergeLink>,
}

/// One person's page: the controller and its stand-in browser.
pub struct Side {
    pub role: Role,
    pub ctl: Controller,
    pub view: View,
    pub worker: Worker,
    pub link: Option<Link>,
    /// Connections made so far.
    pub connects: u32,
    /// When each connection was made (ms).
    pub connect_times: Vec<u64>,
    /// What each connection was made with: ICE servers and policy.
    pub connect_ice: Vec<IceSettings>,
    /// What each `Connect` said of E2EE, in order.
    pub connect_e2ee: Vec<bool>,
    /// For each of the peer's ICE candidates given to the browser, how many signals this side
    /// had sent by then.
    pub ice_added_after: Vec<usize>,
    /// Each connection the browser was told to prepare (E2EE, ICE), in order.
    pub prepared: Vec<(bool, IceSettings)>,
    /// Every signal this side sent, with when (ms), whether or not the relay carried it.
    pub sent: Vec<(u64, Signal)>,
    /// Certificate checks the controller asked the browser for.
    pub certificate_checks: u32,
    pub retry_at: Option<u64>,
    /// What the browser answers later, in order.
    pub pending: VecDeque<Input>,
    pub outbox: VecDeque<Signal>,
    /// The data channel's frames sent to the peer.
    pub chat_out: VecDeque<String>,
    /// The data channel's binary messages sent to the peer.
    pub binary_out: VecDeque<Vec<u8>>,
    /// Every binary message this page sent on its data channel.
    pub binary_sent: Vec<Vec<u8>>,
    /// Times the controller asked for the connection's statistics.
    pub stats_reads: u32,
    pub on_relay: bool,
    /// The next worker to start fails.
    pub worker_fails: bool,
    /// This browser cannot seal a park's deposit (no WebCrypto).
    pub cannot_seal: bool,
    /// The browser reports this certificate fill instead of the one it connected to.
    pub reported_certificate: Option<Option<String>>,
    /// The browser writes back the description it applied as the description of this fill
    /// instead of as it came with its candidates (`Some(None)`: it has none to write back).
    pub reported_description: Option<Option<String>>,
    /// The next description this browser makes names no certificate.
    pub describe_without_certificate: bool,
    /// Its next description carries the candidate it then reports, in a media section with
    /// this mid, as a prepared offer made after gathering does (the candidate's own is "0").
    pub describes_its_candidate: Option<&'static str>,
    /// This browser cannot make a certificate ahead (`generateCertificate` fails).
    pub no_certificate_ahead: bool,
    /// The certificate made ahead (its fill), kept for the `Connect` that asks for it.
    pub made_certificate: Option<String>,
    /// Certificates made ahead so far.
    pub certificates_made: u32,
    /// This browser makes its connections with certificates of its own, whatever it is given.
    pub ignores_certificates: bool,
    /// The set-up steps the page would mark on its timeline, in order.
    pub trace: Vec<&'static str>,
    /// What this page asked of the relay itself (not forwarded), in order.
    pub relay_requests: Vec<RelayRequest>,
    cert_seq: u32,
    cert_base: u32,
}

impl Side {
    fn new(role: Role, setup: CallSetup) -> Side {
        Side {
            role,
            ctl: Controller::new(setup),
            view: View {
                status: CallStatus::Preparing,
                shield: None,
                notices: Vec::new(),
                problems: Vec::new(),
                chat: Vec::new(),
                remote_screen: false,
                logs: Vec::new(),
                ended: None,
                statuses: vec![CallStatus::Preparing],
                shields: Vec::new(),
                remote_media: None,
                announced: Vec::new(),
                quality: None,
                move_link: None,
                parked: None,
                transfer_link: None,
                consulting: false,
                transfer_offered: None,
                kept_link: None,
                add_link: None,
                merge_offered: None,
                relay_lacks: (None, None),
                merge_followed: None,
            },
            worker: Worker { starts: 1, ..Worker::default() },
            link: None,
            connects: 0,
            connect_times: Vec::new(),
            connect_ice: Vec::new(),
            connect_e2ee: Vec::new(),
            ice_added_after: Vec::new(),
            prepared: Vec::new(),
            sent: Vec::new(),
            certificate_checks: 0,
            retry_at: None,
            pending: VecDeque::from([Input::WorkerStarted]),
            outbox: VecDeque::new(),
            chat_out: VecDeque::new(),
            binary_out: VecDeque::new(),
            binary_sent: Vec::new(),
            stats_reads: 0,
            on_relay: false,
            worker_fails: false,
            cannot_seal: false,
            reported_certificate: None,
            reported_description: None,
            describe_without_certificate: false,
            describes_its_candidate: None,
            no_certificate_ahead: false,
            made_certificate: None,
            certificates_made: 0,
            ignores_certificates: false,
            trace: Vec::new(),
            relay_requests: Vec::new(),
            cert_seq: 0,
            cert_base: if role == Role::Host { 0x10 } else { 0x80 },
        }
        .with_effects()
    }

    fn with_effects(mut self) -> Side {
        self.apply_effects(0);
        self
    }

    /// Whether this side's first key confirmation went before its first answer (PROTOCOL.md
    /// change 52: a guest with a certificate made ahead); both must have gone.
    pub fn confirmed_before_answering(&self) -> bool {
        let position =
            |pick: fn(&Signal) -> bool| self.sent.iter().position(|(_, s)| pick(s)).expect("sent");
        position(is_confirm) < position(|s| matches!(s, Signal::Answer { .. }))
    }

    /// This browser cannot make certificates ahead: the one asked for as the page started
    /// fails too.
    pub fn cannot_make_certificates(&mut self) {
        self.no_certificate_ahead = true;
        self.made_certificate = None;
        self.certificates_made = 0;
        for input in self.pending.iter_mut() {
            if let Input::Certificate { fingerprint } = input {
                *fingerprint = None;
            }
        }
    }

    pub fn shield(&self) -> ShieldState {
        self.view.shield.expect("a shield is always shown").state
    }

    pub fn code(&self) -> Option<SecurityCode> {
        self.view.shield.and_then(|s| s.code)
    }

    pub fn warned_in_call(&self) -> Option<WarningReason> {
        self.view.shield.and_then(|s| s.warned_in_call)
    }

    pub fn locked(&self) -> bool {
        matches!(self.shield(), ShieldState::Locked { .. })
    }

    pub fn warning(&self) -> Option<WarningReason> {
        match self.shield() {
            ShieldState::Warning { reason } => Some(reason),
            _ => None,
        }
    }

    pub fn connected(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.state == LinkState::Connected)
    }

    /// The keys the worker holds (send, receive), if any.
    pub fn keys(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        match &self.worker.mode {
            WorkerMode::Keys { send, receive } => Some((send.clone(), receive.clone())),
            _ => None,
        }
    }

    /// The generation of the connection this browser has now.
    pub fn generation(&self) -> Generation {
        self.link.as_ref().expect("a connection").generation
    }

    /// The signals sent from `from_ms` on (inclusive) that `pick` keeps.
    pub fn sent_since(&self, from_ms: u64, pick: impl Fn(&Signal) -> bool) -> usize {
        self.sent.iter().filter(|(at, s)| *at >= from_ms && pick(s)).count()
    }

    /// Whether a notice containing `text` was shown, and how many times.
    pub fn notices_with(&self, text: &str) -> usize {
        self.view.notices.iter().filter(|n| n.contains(text)).count()
    }

    /// Whether the shield ever showed `pick`.
    pub fn ever_shown(&self, pick: impl Fn(&ShieldState) -> bool) -> bool {
        self.view.shields.iter().any(|v| pick(&v.state))
    }

    /// Whether the status line ever showed `pick`.
    pub fn ever_status(&self, pick: impl Fn(&CallStatus) -> bool) -> bool {
        self.view.statuses.iter().any(pick)
    }

    /// The `Retrying` statuses shown, in order: (seconds, attempt).
    pub fn retries_shown(&self) -> Vec<(u64, u32)> {
        self.view
            .statuses
            .iter()
            .filter_map(|s| match s {
                CallStatus::Retrying { in_secs, attempt } => Some((*in_secs, *attempt)),
                _ => None,
            })
            .collect()
    }

    pub fn handle(&mut self, input: Input, now: u64) {
        self.trace.extend(input.trace_name());
        self.ctl.handle(input, now);
        self.apply_effects(now);
    }

    /// Carry out what the controller asked for; the browser's answers go to `pending`.
    fn apply_effects(&mut self, now: u64) {
        while let Some(effect) = self.ctl.poll_effect() {
            self.trace.extend(effect.trace_name());
            self.apply(effect, now);
        }
    }

    fn next_certificate(&mut self) -> String {
        self.cert_seq += 1;
        format!("{:02X}", self.cert_base + self.cert_seq)
    }

    fn apply(&mut self, effect: Effect, now: u64) {
        match effect {
            Effect::Send(signal) => {
                self.sent.push((now, signal.clone()));
                self.outbox.push_back(signal)
            }
            Effect::Status(status) => {
                self.view.statuses.push(status.clone());
                self.view.status = status
            }
            Effect::Shield(view) => {
                self.view.shields.push(view);
                self.view.shield = Some(view)
            }
            Effect::Notice(text) => self.view.notices.push(text),
            Effect::Relay(request) => self.relay_requests.push(request),
            Effect::SealDeposit(seal) => {
                // The page's WebCrypto; here the host's AES-GCM, which seals the same bytes.
                let deposit = (!self.cannot_seal).then(|| host_aes_gcm::seal(&seal));
                self.pending.push_back(Input::DepositSealed { nonce: seal.nonce, deposit });
            }
            Effect::ShowMoveLink { link, ttl_secs } => self.view.move_link = Some((link, ttl_secs)),
            Effect::HideMoveLink => {
                self.view.move_link = None;
                self.view.transfer_link = None;
            }
            Effect::ShowParked { link, code, ttl_secs, consult } => {
                self.view.parked = Some((link, code, ttl_secs));
                self.view.consulting = consult;
            }
            Effect::TransferOffered { path } => self.view.transfer_offered = Some(path),
            Effect::ShowTransferLink { link, name, ttl_secs } => {
                self.view.transfer_link = Some((link, name, ttl_secs))
            }
            Effect::KeepLink { commitment, secret } => {
                self.view.kept_link = Some((commitment, secret))
            }
            Effect::ShowAddLink(link) => self.view.add_link = Some(link),
            Effect::OfferMerge(link) => self.view.merge_offered = Some(link),
            Effect::RelayLacks { group, park } => self.view.relay_lacks = (group, park),
            Effect::FollowMerge(link) => self.view.merge_followed = Some(link),
            Effect::MediaProblems(problems) => self.view.problems = problems,
            Effect::Worker(command) => self.command_worker(command),
            Effect::StartWorker => {
                self.worker.starts += 1;
                self.worker.mode = WorkerMode::AwaitKeys;
                self.worker.codecs = false;
                let answer =
                    if self.worker_fails { Input::WorkerFailed } else { Input::WorkerStarted };
                self.pending.push_back(answer);
            }
            Effect::PrepareConnection { e2ee, ice } => self.prepared.push((e2ee, ice)),
            Effect::MakeCertificate => {
                let fingerprint = if self.no_certificate_ahead {
                    None
                } else {
                    self.certificates_made += 1;
                    let fill = self.next_certificate();
                    self.made_certificate = Some(fill.clone());
                    Some(("sha-256".to_string(), vec![fill; 32].join(":")))
                };
                self.pending.push_back(Input::Certificate { fingerprint });
            }
            Effect::Connect { generation, offer, e2ee, ice, certificate } => {
                self.connects += 1;
                self.connect_e2ee.push(e2ee);
                self.connect_ice.push(ice);
                self.connect_times.push(now);
                let made = if certificate { self.made_certificate.take() } else { None };
                assert!(
                    made.is_some() || !certificate,
                    "a Connect asked for a certificate never made"
                );
                let local = match made {
                    Some(made) if !self.ignores_certificates => made,
                    _ => self.next_certificate(),
                };
                let remote = offer.as_deref().and_then(fill_of);
                self.link = Some(Link {
                    generation,
                    local: local.clone(),
                    remote,
                    remote_sdp: offer.clone(),
                    applied: false,
                    ice_added: Vec::new(),
                    state: LinkState::Connecting,
                    channel_open: false,
                });
                let found = candidate(&format!("{}-{generation}", self.role_name()));
                let mut description = if self.describe_without_certificate {
                    self.describe_without_certificate = false;
                    "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n".to_string()
                } else {
                    sdp(&local)
                };
                if let Some(mid) = self.describes_its_candidate.take() {
                    // As Chromium writes it there: without the `ufrag` that `onicecandidate` has.
                    let line = found.candidate.replace(" ufrag u", "");
                    description.push_str(&format!("a=mid:{mid}\r\na={line}\r\n"));
                }
                self.pending.push_back(Input::LinkMade { generation });
                self.pending.push_back(Input::LocalDescription {
                    generation,
                    sdp: description,
                    payload_types: PayloadTypes::default(),
                });
                self.pending.push_back(Input::LocalIce { generation, candidate: found });
                if offer.is_some()
                    && let Some(link) = self.link.as_mut()
                {
                    link.applied = true;
                }
            }
            Effect::ApplyAnswer { generation, sdp } => {
                if let Some(link) = self.link.as_mut().filter(|l| l.generation == generation) {
                    link.remote = fill_of(&sdp);
                    link.remote_sdp = Some(sdp.clone());
                    link.applied = true;
                }
                self.pending.push_back(Input::DescriptionsApplied {
                    generation,
                    payload_types: PayloadTypes::default(),
                });
            }
            Effect::AddIce { generation, candidate } => {
                self.ice_added_after.push(self.sent.len());
                if let Some(link) = self.link.as_mut().filter(|l| l.generation == generation) {
                    if let Some(sdp) = link.remote_sdp.as_mut() {
                        sdp.push_str(&format!("a={}\r\n", candidate.candidate));
                    }
                    link.ice_added.push(candidate);
                }
            }
            Effect::CheckCertificate { generation } => {
                self.certificate_checks += 1;
                let seen = self.link.as_ref().and_then(|l| l.remote.clone());
                let reported = self.reported_certificate.clone().unwrap_or(seen);
                let certificates = reported
                    .map(|fill| vec![("sha-256".to_string(), vec![fill; 32].join(":"))])
                    .unwrap_or_default();
                let applied = self.link.as_ref().and_then(|l| l.remote_sdp.clone());
                let description = match self.reported_description.clone() {
                    Some(fill) => fill.map(|fill| sdp(&fill)),
                    None => applied,
                };
                self.pending.push_back(Input::RemoteCertificates {
                    generation,
                    certificates,
                    description,
                });
            }
            Effect::DropLink => self.link = None,
            Effect::RemoteScreen(shown) => self.view.remote_screen = shown,
            Effect::ArmRetry { delay_ms } => self.retry_at = Some(now + delay_ms),
            Effect::SendChat { frame, shown } => {
                let open = self.link.as_ref().is_some_and(|l| l.channel_open);
                if open {
                    self.chat_out.push_back(frame);
                }
                match shown {
                    Some(text) if open => self.view.chat.push((true, text)),
                    Some(_) => self.view.notices.push("Your message could not be sent.".into()),
                    None => {}
                }
            }
            Effect::ChatShown { from_me, text } => self.view.chat.push((from_me, text)),
            Effect::SendBinary(bytes) => {
                if self.link.as_ref().is_some_and(|l| l.channel_open) {
                    self.binary_sent.push(bytes.clone());
                    self.binary_out.push_back(bytes);
                }
            }
            Effect::RemoteMedia { state, announce } => {
                self.view.remote_media = state;
                self.view.announced.extend(announce);
            }
            Effect::ReadStats { .. } => self.stats_reads += 1,
            Effect::Quality(view) => self.view.quality = view,
            Effect::Log(text) => self.view.logs.push(text),
            Effect::End { why, forget_link } => {
                self.link = None;
                self.view.ended = Some((why, forget_link));
            }
        }
    }

    fn role_name(&self) -> &'static str {
        match self.role {
            Role::Host => "host",
            Role::Guest => "guest",
        }
    }

    /// The worker stand-in: keys are kept to compare; chat is "sealed" by tagging it with the
    /// send key's first byte and opened only under the matching receive key, so a key
    /// mismatch shows as a refusal.
    fn command_worker(&mut self, command: WorkerCommand) {
        match command {
            WorkerCommand::AwaitKeys => self.worker.mode = WorkerMode::AwaitKeys,
            WorkerCommand::TransportOnly => self.worker.mode = WorkerMode::TransportOnly,
            WorkerCommand::UseKeys { send, receive, .. } => {
                self.worker.keyings += 1;
                self.worker.mode = WorkerMode::Keys {
                    send: send.expose().to_vec(),
                    receive: receive.expose().to_vec(),
                }
            }
            WorkerCommand::Codecs { .. } => self.worker.codecs = true,
            WorkerCommand::AttachStreams { .. } => {}
            WorkerCommand::SealChat { id, text } => {
                let event = match &self.worker.mode {
                    WorkerMode::Keys { send, .. } => {
                        let frame = format!("{:02x}|{text}", send[0]).into_bytes();
                        WorkerEvent::ChatSealed { id, frame }
                    }
                    _ => WorkerEvent::ChatRefused { id, reason: "no keys".into() },
                };
                self.pending.push_back(Input::Worker(event));
            }
            WorkerCommand::SealChatReport { id, order } => {
                let event = match &self.worker.mode {
                    WorkerMode::Keys { send, .. } => WorkerEvent::ChatSealed {
                        id,
                        frame: format!("{:02x}|{REPORT}{}", send[0], order_text(order))
                            .into_bytes(),
                    },
                    _ => WorkerEvent::ChatRefused { id, reason: "no keys".into() },
                };
                self.pending.push_back(Input::Worker(event));
            }
            WorkerCommand::SealMediaState { id, state } => {
                let event = match &self.worker.mode {
                    WorkerMode::Keys { send, .. } => WorkerEvent::ChatSealed {
                        id,
                        frame: format!("{:02x}|{STATE}{}", send[0], state.to_byte()).into_bytes(),
                    },
                    _ => WorkerEvent::ChatRefused { id, reason: "no keys".into() },
                };
                self.pending.push_back(Input::Worker(event));
            }
            WorkerCommand::OpenChat { id, frame } => {
                let frame = String::from_utf8(frame).unwrap_or_default();
                let event = match (&self.worker.mode, frame.split_once('|')) {
                    (WorkerMode::Keys { receive, .. }, Some((tag, text)))
                        if *tag == format!("{:02x}", receive[0]) =>
                    {
                        let state = text
                            .strip_prefix(STATE)
                            .and_then(|flags| MediaState::from_byte(flags.parse().ok()?).ok());
                        if let Some(state) = state {
                            let opened = WorkerEvent::MediaStateOpened {
                                id,
                                state,
                                order: ChatOrder::InOrder,
                            };
                            self.pending.push_back(Input::Worker(opened));
                            return;
                        }
                        match text.strip_prefix(REPORT).and_then(order_of) {
                            Some(report) => WorkerEvent::ChatReportOpened {
                                id,
                                report,
                                order: ChatOrder::InOrder,
                            },
                            None => WorkerEvent::ChatOpened {
                                id,
                                text: text.into(),
                                order: ChatOrder::InOrder,
                            },
                        }
                    }
                    _ => WorkerEvent::ChatRefused { id, reason: "bad tag".into() },
                };
                self.pending.push_back(Input::Worker(event));
            }
        }
    }
}

/// How the stand-in worker marks a sealed report (inside the tagged frame).
const REPORT: &str = "\u{0}report:";
/// How the stand-in worker marks a sealed media state (its flags byte, in decimal).
pub const STATE: &str = "\u{0}state:";

fn order_text(order: ChatOrder) -> String {
    match order {
        ChatOrder::InOrder => "in-order".into(),
        ChatOrder::AfterGap { missing } => format!("gap:{missing}"),
        ChatOrder::Late => "late".into(),
    }
}

fn order_of(text: &str) -> Option<ChatOrder> {
    match text {
        "in-order" => Some(ChatOrder::InOrder),
        "late" => Some(ChatOrder::Late),
        _ => Some(ChatOrder::AfterGap { missing: text.strip_prefix("gap:")?.parse().ok()? }),
    }
}

pub fn candidate(name: &str) -> IceCandidate {
    IceCandidate {
        candidate: format!(
            "candidate:{name} 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 ufrag u"
        ),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    }
}

/// Which way a signal travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    Host,
    Guest,
}

impl From {
    pub fn other(self) -> From {
        match self {
            From::Host => From::Guest,
            From::Guest => From::Host,
        }
    }
}

/// What the relay does with each signal: forward it (as it is or changed), drop it, or add
/// more.
pub type Relay = Box<dyn FnMut(From, Signal) -> Vec<Signal>>;

pub fn honest() -> Relay {
    Box::new(|_, signal| vec![signal])
}

/// Each person's settings.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub host_e2ee: bool,
    pub guest_e2ee: bool,
    pub host_policy: Policy,
    pub guest_policy: Policy,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            host_e2ee: true,
            guest_e2ee: true,
            host_policy: Policy::Allowed,
            guest_policy: Policy::Allowed,
        }
    }
}

/// Two people, their pages, the relay between them, the network under their media, and a
/// clock.
pub struct World {
    pub host: Side,
    pub guest: Side,
    pub relay: Relay,
    /// Whether ICE can connect the two browsers.
    pub network_up: bool,
    pub now: u64,
    /// What a guest page opened from the link starts with (its key is new each time).
    pub guest_link: (SessionConfig, LinkSecret, shieldcall_e2ee::link::Commitment, IceSettings),
}

impl World {
    pub fn new(settings: Settings) -> World {
        World::with_guest_link(settings, |_, link_secret, commitment| (link_secret, commitment))
    }

    /// A call whose guest holds the link as `tamper` changes it (another secret, another
    /// commitment).
    pub fn with_guest_link(
        settings: Settings,
        tamper: impl FnOnce(
            &mut OsRng,
            LinkSecret,
            shieldcall_e2ee::link::Commitment,
        ) -> (LinkSecret, shieldcall_e2ee::link::Commitment),
    ) -> World {
        World::with_ice_and_guest_link(settings, IceSettings::default(), tamper)
    }

    /// A call whose pages both have `ice` from config.json.
    pub fn with_ice(settings: Settings, ice: IceSettings) -> World {
        World::with_ice_and_guest_link(settings, ice, |_, link_secret, commitment| {
            (link_secret, commitment)
        })
    }

    fn with_ice_and_guest_link(
        settings: Settings,
        ice: IceSettings,
        tamper: impl FnOnce(
            &mut OsRng,
            LinkSecret,
            shieldcall_e2ee::link::Commitment,
        ) -> (LinkSecret, shieldcall_e2ee::link::Commitment),
    ) -> World {
        let mut rng = OsRng;
        let call_id = new_call_id(&mut rng);
        let host_key = EphemeralSecret::generate(&mut rng);
        let commitment = host_key.public_key().commitment();
        let link_secret = LinkSecret::generate(&mut rng);
        let config = |role, e2ee, policy| SessionConfig {
            role,
            call_id,
            e2ee,
            policy,
            suite: Default::default(),
        };
        let host = Side::new(
            Role::Host,
            CallSetup {
                config: config(Role::Host, settings.host_e2ee, settings.host_policy),
                own: host_key,
                link_secret: link_secret.clone(),
                commitment: None,
                ice: ice.clone(),
                arrival: Arrival::Link,
            },
        );
        let (guest_secret, guest_commitment) = tamper(&mut rng, link_secret, commitment);
        let guest_config = config(Role::Guest, settings.guest_e2ee, settings.guest_policy);
        let guest_link = (guest_config, guest_secret, guest_commitment, ice);
        let guest = World::guest_page(&guest_link);
        World { host, guest, relay: honest(), network_up: true, now: 0, guest_link }
    }

    fn guest_page(
        link: &(SessionConfig, LinkSecret, shieldcall_e2ee::link::Commitment, IceSettings),
    ) -> Side {
        let (config, link_secret, commitment, ice) = link.clone();
        Side::new(
            Role::Guest,
            CallSetup {
                config,
                own: EphemeralSecret::generate(&mut OsRng),
                link_secret,
                commitment: Some(commitment),
                ice,
                arrival: Arrival::Link,
            },
        )
    }

    /// The guest's page goes away (a reload, a closed tab): its relay socket and its browser's
    /// connection with it. The relay tells the host; the host's browser notices the connection
    /// go (`Disconnected`) when `ice_notices`.
    pub fn guest_page_goes(&mut self, ice_notices: bool) {
        let now = self.now;
        self.guest.on_relay = false;
        self.guest.link = None;
        self.relay_event(From::Host, RelayEvent::PeerLeft);
        if ice_notices && let Some(link) = self.host.link.as_mut() {
            link.state = LinkState::Disconnected;
            link.channel_open = false;
            let generation = link.generation;
            let input = Input::LinkState { generation, state: LinkState::Disconnected };
            self.host.handle(input, now);
        }
        self.settle();
    }

    /// A new guest page opens the same link (a new key); it is not on the relay yet.
    pub fn new_guest_page(&mut self) {
        self.guest = World::guest_page(&self.guest_link);
        self.settle();
    }

    /// A new guest page opens the same link (a new key) and joins: the relay's news to both.
    pub fn new_guest_page_joins(&mut self) {
        self.new_guest_page();
        self.guest.on_relay = true;
        self.relay_event(From::Guest, joined(1));
        self.relay_event(From::Host, RelayEvent::PeerJoined);
        self.settle();
    }

    /// The guest reloads: the page goes (the host's ICE notices), a new one joins.
    pub fn guest_reloads(&mut self) {
        self.guest_page_goes(true);
        self.new_guest_page_joins();
    }

    /// `who` asks to move the call; the relay answers with a token valid for `ttl_secs`.
    /// Returns the link `who`'s page shows.
    pub fn ask_to_move(&mut self, who: From, ttl_secs: u64) -> MoveLink {
        self.input(who, Input::MoveToAnotherDevice);
        let asked = self.side(who).relay_requests.pop();
        assert_eq!(asked, Some(RelayRequest::Move {}), "{:?}", self.side(who).view);
        let token = MoveToken("bW92ZS10b2tlbi0xMjM0NQ".into());
        self.relay_event(who, RelayEvent::MoveToken { token, ttl: ttl_secs });
        self.settle();
        let (link, ttl) = self.side(who).view.move_link.clone().expect("a move link shown");
        assert_eq!(ttl, ttl_secs);
        link
    }

    /// A page on another device opens `link`, the relay lets it take `who`'s place: the old
    /// page is told `moved`, the other person `peer-moved`. Returns the old page.
    pub fn moves_to_new_device(&mut self, who: From, link: MoveLink) -> Side {
        let mut page = self.page_from_move_link(link);
        page.on_relay = true;
        let mut old = std::mem::replace(self.side(who), page);
        self.settle();
        // In the relay's order: the old socket is told and closed, then the new one joins and
        // the other member hears of it.
        old.on_relay = false;
        old.handle(Input::Inbound(Inbound::Relay(RelayEvent::Moved)), self.now);
        self.relay_event(who, joined(1));
        let other = match who {
            From::Host => From::Guest,
            From::Guest => From::Host,
        };
        self.relay_event(other, RelayEvent::PeerMoved);
        self.settle();
        old
    }

    /// The page another device opens from a move link (not on the relay yet).
    pub fn page_from_move_link(&self, link: MoveLink) -> Side {
        let call_id = self.guest_link.0.call_id;
        // Its own setting says E2EE on: the controller turns it off for a transport-only move.
        let config = SessionConfig {
            role: link.role,
            call_id,
            e2ee: true,
            policy: Policy::Allowed,
            suite: Default::default(),
        };
        let mut page = Side::new(
            link.role,
            CallSetup {
                config,
                own: EphemeralSecret::generate(&mut OsRng),
                link_secret: link.secret,
                commitment: link.commitment,
                ice: self.guest_link.3.clone(),
                arrival: if link.rekeyed { Arrival::MovedRekeyed } else { Arrival::Moved },
            },
        );
        page.cert_base += 0x30;
        page
    }

    /// `signal` arrives at `to` as if from the other person, past the relay function.
    pub fn inject(&mut self, to: From, signal: Signal) {
        let now = self.now;
        self.side(to).handle(Input::Inbound(Inbound::Peer(signal)), now);
        self.settle();
    }

    /// `who`'s browser reports `input` now, then everything settles.
    pub fn input(&mut self, who: From, input: Input) {
        let now = self.now;
        self.side(who).handle(input, now);
        self.settle();
    }

    /// `who`'s worker reports these counters now.
    pub fn stats(&mut self, who: From, stats: TransformStats) {
        self.input(who, Input::Worker(WorkerEvent::Stats(stats)));
    }

    /// `who` types `text` and sends it (the data channel as the browser has it).
    pub fn say(&mut self, who: From, text: &str) {
        let open = self.side(who).link.as_ref().is_some_and(|l| l.channel_open);
        self.input(who, Input::SendChat { text: text.into(), channel_open: open });
    }

    pub fn side(&mut self, who: From) -> &mut Side {
        match who {
            From::Host => &mut self.host,
            From::Guest => &mut self.guest,
        }
    }

    /// The relay tells `who` something about the room. A `joined` (or `full`) answers a new
    /// socket's join, which the page says first (`Input::RelayOpen`), as the browser glue does.
    pub fn relay_event(&mut self, who: From, event: RelayEvent) {
        let now = self.now;
        if matches!(event, RelayEvent::Joined { .. } | RelayEvent::Full) {
            self.side(who).handle(Input::RelayOpen, now);
        }
        self.relay_event_on_socket(who, event);
    }

    /// The relay tells `who` something on the socket it has: no new join goes out first (an
    /// answer to one already sent, or, beyond it, a forged one).
    pub fn relay_event_on_socket(&mut self, who: From, event: RelayEvent) {
        let now = self.now;
        self.side(who).handle(Input::Inbound(Inbound::Relay(event)), now);
    }

    /// The host opens the call, then the guest joins: the relay's own news to both.
    pub fn join(&mut self) {
        self.host.on_relay = true;
        self.relay_event(From::Host, joined(0));
        self.settle();
        self.guest.on_relay = true;
        self.relay_event(From::Guest, joined(1));
        self.relay_event(From::Host, RelayEvent::PeerJoined);
        self.settle();
    }

    /// Everything in flight arrives, and every answer of the browsers comes, until nothing
    /// moves (no time passes).
    pub fn settle(&mut self) {
        for _ in 0..500 {
            if !self.step() {
                return;
            }
        }
        panic!("the call never settles");
    }

    /// One round: each browser answers one thing, the relay carries what was sent, the network
    /// connects or fails what it can. Whether anything happened.
    pub fn step(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        for who in [From::Host, From::Guest] {
            let side = self.side(who);
            if let Some(input) = side.pending.pop_front() {
                side.handle(input, now);
                moved = true;
            }
        }
        moved |= self.carry_signals();
        moved |= self.carry_chat();
        moved |= self.network();
        moved
    }

    fn carry_signals(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        for who in [From::Host, From::Guest] {
            let (to, from_on_relay) = match who {
                From::Host => (From::Guest, self.host.on_relay),
                From::Guest => (From::Host, self.guest.on_relay),
            };
            while let Some(signal) = self.side(who).outbox.pop_front() {
                moved = true;
                if !from_on_relay || !self.side(to).on_relay {
                    continue;
                }
                for signal in (self.relay)(who, signal) {
                    self.side(to).handle(Input::Inbound(Inbound::Peer(signal)), now);
                }
            }
        }
        moved
    }

    fn carry_chat(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        for (who, to) in [(From::Host, From::Guest), (From::Guest, From::Host)] {
            while let Some(frame) = self.side(who).chat_out.pop_front() {
                moved = true;
                if self.side(to).link.as_ref().is_some_and(|l| l.channel_open) {
                    self.side(to).handle(Input::ChatFrame(frame), now);
                }
            }
            while let Some(bytes) = self.side(who).binary_out.pop_front() {
                moved = true;
                if self.side(to).link.as_ref().is_some_and(|l| l.channel_open) {
                    self.side(to).handle(Input::ChatBinary(bytes), now);
                }
            }
        }
        moved
    }

    /// Both connections have both descriptions: ICE connects them if the network is up and
    /// both name each other's certificates (DTLS would fail otherwise), or fails them.
    fn network(&mut self) -> bool {
        let now = self.now;
        let (Some(h), Some(g)) = (&self.host.link, &self.guest.link) else { return false };
        if !(h.applied && g.applied) || h.state != LinkState::Connecting {
            return false;
        }
        let matched = h.remote.as_ref() == Some(&g.local) && g.remote.as_ref() == Some(&h.local);
        let state =
            if self.network_up && matched { LinkState::Connected } else { LinkState::Failed };
        for who in [From::Host, From::Guest] {
            let side = self.side(who);
            let link = side.link.as_mut().expect("both have a link");
            link.state = state;
            link.channel_open = state == LinkState::Connected;
            let generation = link.generation;
            side.handle(Input::LinkState { generation, state }, now);
            if state == LinkState::Connected {
                side.handle(Input::ChannelOpen { generation }, now);
            }
        }
        true
    }

    /// The network under a running connection goes: ICE reports it to both browsers.
    pub fn media_drops(&mut self, state: LinkState) {
        let now = self.now;
        for who in [From::Host, From::Guest] {
            let side = self.side(who);
            if let Some(link) = side.link.as_mut() {
                link.state = state;
                link.channel_open = false;
                let generation = link.generation;
                side.handle(Input::LinkState { generation, state }, now);
            }
        }
    }

    /// The media connection fails on both sides; the host's retry comes due, and the new
    /// connection has a few seconds to be made.
    pub fn fail_and_reconnect(&mut self) {
        self.media_drops(LinkState::Failed);
        self.settle();
        let delay = self.host.retry_at.expect("a retry is scheduled") - self.now;
        self.advance(delay);
        self.advance(6_000);
    }

    /// `ms` pass, in one-second ticks; retry timers fire when due.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now < end {
            self.now = (self.now + 1000).min(end);
            let now = self.now;
            for who in [From::Host, From::Guest] {
                let side = self.side(who);
                if side.retry_at.is_some_and(|at| at <= now) {
                    side.retry_at = None;
                    side.handle(Input::RetryDue, now);
                }
                side.handle(Input::Tick, now);
            }
            self.settle();
        }
    }

    /// This call's id.
    pub fn call_id(&self) -> shieldcall_protocol::CallId {
        self.guest_link.0.call_id
    }

    /// The usual call: both join and settle.
    pub fn call(settings: Settings) -> World {
        let mut world = World::new(settings);
        world.join();
        world
    }

    /// Both shields locked with the same code, and each worker holds the other's send key as
    /// its receive key.
    pub fn assert_locked(&self) {
        assert!(self.host.locked(), "host: {:?}", self.host.view);
        assert!(self.guest.locked(), "guest: {:?}", self.guest.view);
        assert_eq!(self.host.code(), self.guest.code(), "the same security code");
        let (
            WorkerMode::Keys { send: hs, receive: hr },
            WorkerMode::Keys { send: gs, receive: gr },
        ) = (&self.host.worker.mode, &self.guest.worker.mode)
        else {
            panic!("both workers keyed: {:?} / {:?}", self.host.worker, self.guest.worker);
        };
        assert_eq!(hs, gr, "host's send key is the guest's receive key");
        assert_eq!(gs, hr, "guest's send key is the host's receive key");
        assert_ne!(hs, gs, "each direction has its own key");
    }
}

/// A hello as `hello` was, with another (valid) key.
pub fn with_other_key(hello: Signal) -> Signal {
    match hello {
        Signal::Hello(Hello { v, e2ee, .. }) => {
            Signal::Hello(Hello { v, e2ee, public_key: other_key() })
        }
        other => other,
    }
}

/// A valid public key nobody in the call holds.
pub fn other_key() -> String {
    EphemeralSecret::generate(&mut OsRng).public_key().to_base64url()
}

pub fn is_hello(signal: &Signal) -> bool {
    matches!(signal, Signal::Hello(Hello { .. }))
}

pub fn is_confirm(signal: &Signal) -> bool {
    matches!(signal, Signal::Confirm(Confirm { .. }))
}

/// A relay that drops what `drop` picks and carries the rest.
pub fn dropping(mut drop: impl FnMut(From, &Signal) -> bool + 'static) -> Relay {
    Box::new(move |from, signal| if drop(from, &signal) { vec![] } else { vec![signal] })
}

/// A relay that changes what passes with `change`.
pub fn rewriting(mut change: impl FnMut(From, Signal) -> Signal + 'static) -> Relay {
    Box::new(move |from, signal| vec![change(from, signal)])
}

pub fn joined(peers: u8) -> RelayEvent {
    RelayEvent::Joined { peers, rejoin: "token".into(), turn: None, lacks: vec![] }
}
