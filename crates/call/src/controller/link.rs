//! The peer connection of one attempt: made (the host with its offer, the guest with the
//! host's), its descriptions exchanged, given the ICE candidates kept for it, its certificate
//! checked against the one the keys are bound to, and dropped. Whatever an older attempt
//! reports is stale: one check, `is_current`, says so.

use shieldcall_e2ee::session::Role;
use shieldcall_protocol::{PayloadTypes, Signal, WorkerCommand};

use super::{CallStatus, Controller, Effect, Generation, IceCandidate, LinkState};

/// (Host) how long an answer may take once the guest's early confirmation locked the call
/// (ms): nothing else waits for it then. An honest one follows within about a second.
pub const ANSWER_WAIT_MS: u64 = 6_000;

/// ICE candidates kept for a connection not yet made or described: a browser gathers a few per
/// network interface and server, so more than this is a relay's flood, dropped.
pub const MAX_WAITING_CANDIDATES: usize = 100;

/// What a browser that reports no remote DTLS certificate (Firefox) is told: one of the checks
/// behind the lock cannot run there.
pub const CERTIFICATE_UNCHECKED: &str = "This browser does not report the media connection's \
    certificate, so one check is skipped here: that the certificate it accepted is the one the \
    keys are bound to. The call's setup names exactly one certificate, and a browser accepts \
    only the one named.";

/// (Guest) where the next connection's certificate, made ahead, stands.
#[derive(Debug)]
pub(super) enum CertificateAhead {
    /// None made or asked for.
    None,
    /// The browser is making one ([`Effect::MakeCertificate`]).
    Making,
    /// Made: `(hash function, digest)` as the browser names it.
    Ready(String, String),
    /// The browser could not make one: the guest confirms after its answer, as in version 2.
    Unavailable,
}

/// The current attempt at a peer connection.
#[derive(Debug)]
pub(super) struct Link {
    /// The browser has made the connection and its transceivers ([`Effect::Connect`]).
    made: bool,
    /// Both descriptions are applied: ICE candidates can go in.
    descriptions_applied: bool,
    /// (Host) the offer went out and no answer has been taken since.
    pub(super) awaiting_answer: bool,
    /// (Guest) the offer this connection answers. The host never sends one twice (a new
    /// connection has new certificates), so a copy of it is the relay's.
    pub(super) offer: Option<String>,
    /// (Host) since when (ms, the tick's clock) the session has been confirmed while the
    /// answer is still out.
    locked_before_answer: Option<u64>,
    /// The peer's candidates, kept until the descriptions are applied.
    pending_ice: Vec<IceCandidate>,
    /// This side's candidates that its own description carried (the host's prepared offer,
    /// made after gathering while it waited), by media section and
    /// [`crate::sdp::candidate_identity`]: not trickled again.
    in_description: Vec<(Option<String>, String)>,
    state: LinkState,
    /// The browser gathered a relay candidate: a TURN server took this connection.
    pub(super) relay_candidate: bool,
    /// A TURN server refused the credentials.
    pub(super) turn_refused: bool,
    /// The browser has gathered all its candidates.
    pub(super) gathered: bool,
}

impl Controller {
    /// Whether media flows on the current connection.
    pub(super) fn media_connected(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.made && l.state == LinkState::Connected)
    }

    /// Whether the browser has made the current connection (not only started making it).
    pub(super) fn link_made(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.made)
    }

    /// Make the peer connection: the host with its offer, the guest with the host's.
    ///
    /// A guest with a certificate made ahead confirms now, before the browser has even applied
    /// the offer (change 52): its transcript needs nothing of its answer but that certificate.
    pub(super) fn start_link(&mut self, offer: Option<String>) {
        if !self.worker_ready {
            return;
        }
        let mut certificate = false;
        if let Some(offer) = &offer {
            // The session may have it already (`confirm_before_the_worker`).
            certificate =
                std::mem::take(&mut self.certificate_taken) || self.certificate_to_session();
            self.offer_to_session(offer);
        }
        self.retry.started(self.now);
        self.link = Some(Link {
            made: false,
            descriptions_applied: false,
            awaiting_answer: false,
            offer: offer.clone(),
            locked_before_answer: None,
            pending_ice: std::mem::take(&mut self.early_ice),
            in_description: Vec::new(),
            state: LinkState::Connecting,
            relay_candidate: false,
            turn_refused: false,
            gathered: false,
        });
        // Codecs are chosen from what the hellos say; the worker still waits for the
        // confirmed agreement (keys, or transport only) before any frame passes.
        let e2ee = self.session.e2ee_intended();
        let ice = self.ice.with_turn(self.turn.as_ref());
        self.emit(Effect::Connect { generation: self.generation, offer, e2ee, ice, certificate });
    }

    /// (Guest) have the browser make the next connection's certificate ahead, unless one is
    /// ready, on its way, or cannot be made. Asked as the controller starts (the page started
    /// making the first one on the pre-join screen), and on the clock's next tick after a
    /// connection took the last one, so that it never competes with the set-up of the
    /// connection just made. Not while the page still keeps one the session took for a
    /// connection to come (`certificate_taken`): the page keeps one at a time.
    pub(super) fn make_certificate(&mut self) {
        let none = matches!(self.certificate, CertificateAhead::None);
        if self.role == Role::Guest && none && !self.certificate_taken {
            self.certificate = CertificateAhead::Making;
            self.emit(Effect::MakeCertificate);
        }
    }

    /// The browser made the certificate asked for (or could not: then none is asked again).
    /// An offer that waited for it goes on.
    pub(super) fn certificate_made(&mut self, fingerprint: Option<(String, String)>) {
        if !matches!(self.certificate, CertificateAhead::Making) {
            return self.log("a certificate nobody asked for");
        }
        self.certificate = match fingerprint {
            Some((algorithm, digest)) => CertificateAhead::Ready(algorithm, digest),
            None => {
                self.log("this browser could not make a certificate ahead");
                CertificateAhead::Unavailable
            }
        };
        if let Some((sdp, _)) = self.offer_awaiting_certificate.take() {
            self.offer(sdp);
        }
    }

    /// (Guest) an offer has waited a second for a certificate that takes a few ms: the
    /// browser's answer was lost or never comes. The offer goes on without it (the guest then
    /// confirms after its answer), and so do later ones: none is asked for again, so that a
    /// late one can never stand in the page's place of another.
    pub(super) fn certificate_overdue(&mut self) {
        let overdue = |(_, since): &(String, u64)| self.now >= since + 1_000;
        if let Some((sdp, _)) = self.offer_awaiting_certificate.take_if(|waiting| overdue(waiting))
        {
            self.log("no certificate came; answering with one the connection makes");
            self.certificate = CertificateAhead::Unavailable;
            self.offer(sdp);
        }
    }

    /// (Guest) give the session the certificate made ahead, if one is ready (`Making` and
    /// `Unavailable` stay): whether it took it.
    pub(super) fn certificate_to_session(&mut self) -> bool {
        let (algorithm, digest) =
            match std::mem::replace(&mut self.certificate, CertificateAhead::None) {
                CertificateAhead::Ready(algorithm, digest) => (algorithm, digest),
                other => {
                    self.certificate = other;
                    return false;
                }
            };
        let taken = self.session.local_certificate(&algorithm, &digest).is_ok();
        if !taken {
            self.log("the certificate made ahead has no usable fingerprint");
        }
        taken
    }

    /// (Guest) give the session the host's offer (its certificate), and follow what that
    /// completes: with this side's certificate in, the confirmation goes.
    pub(super) fn offer_to_session(&mut self, sdp: &str) {
        if let Err(e) = self.session.remote_sdp(sdp) {
            self.log(format!("relay: an offer refused: {e}"));
        }
        self.follow_session();
    }

    /// (Guest) whether an offer should wait for the certificate being made: it takes a few ms,
    /// and the answer's path saves tens of them with it.
    pub(super) fn offer_waits_for_certificate(&mut self, sdp: &str) -> bool {
        if !matches!(self.certificate, CertificateAhead::Making) {
            return false;
        }
        self.offer_awaiting_certificate = Some((sdp.to_owned(), self.now));
        true
    }

    /// (Host) locked on the guest's early confirmation, with the answer still out: a relay may
    /// hold it back, and nothing else waits for it. [`ANSWER_WAIT_MS`] after the lock (on the
    /// once-a-second tick), the connection is made again, as after a failure (change 24).
    pub(super) fn answer_deadline(&mut self) {
        let now = self.now;
        let confirmed = self.session.confirmed();
        let Some(link) = self.link.as_mut() else { return };
        if !link.awaiting_answer || !confirmed {
            link.locked_before_answer = None;
            return;
        }
        let since = *link.locked_before_answer.get_or_insert(now);
        if now >= since + ANSWER_WAIT_MS {
            link.awaiting_answer = false;
            link.locked_before_answer = None;
            self.log("relay: no answer came; making the connection again");
            self.retry_later(None);
        }
    }

    /// (Host) Alone in the room, with a media worker and the relay's TURN credentials: let the
    /// browser prepare the connection to offer, so that the offer can leave as soon as the
    /// other person's hello comes. Again whenever what the next `Connect` would be made with
    /// changes (each `joined` brings fresh TURN credentials), once per worker otherwise.
    pub(super) fn prepare_connection(&mut self) {
        let ready = self.role == Role::Host
            && self.alone_in_room
            && self.worker_ready
            && self.link.is_none()
            && !self.session.has_peer()
            && !self.ended;
        if !ready {
            return;
        }
        let settings = (self.session.e2ee_intended(), self.ice.with_turn(self.turn.as_ref()));
        if self.connection_prepared_with.as_ref() != Some(&settings) {
            self.connection_prepared_with = Some(settings.clone());
            let (e2ee, ice) = settings;
            self.emit(Effect::PrepareConnection { e2ee, ice });
        }
    }

    /// The browser made the connection (the guest's with the host's offer applied).
    pub(super) fn link_made_by_browser(&mut self, generation: Generation) {
        if !self.is_current(generation) {
            return;
        }
        let Some(link) = self.link.as_mut() else { return };
        link.made = true;
        self.new_remote_media();
    }

    /// This side's offer or answer is made: it goes to the peer, unless it cannot be bound.
    pub(super) fn local_description(
        &mut self,
        generation: Generation,
        sdp: String,
        payload_types: PayloadTypes,
    ) {
        if !self.is_current(generation) {
            // A connection dropped meanwhile must not send its offer or answer.
            return;
        }
        if self.session.local_sdp(&sdp).is_err() {
            // This browser's own description names no certificate or more than one: nothing
            // can bind it, so it is not sent (the shield says why).
            return self.follow_session();
        }
        if let Some(link) = self.link.as_mut() {
            let carried = crate::sdp::candidates(&sdp).into_iter();
            link.in_description = carried
                .map(|(mid, candidate)| {
                    (mid.map(Into::into), crate::sdp::candidate_identity(candidate))
                })
                .collect();
        }
        match self.role {
            Role::Host => {
                self.send(Signal::Offer { sdp });
                if let Some(link) = self.link.as_mut() {
                    link.awaiting_answer = true;
                }
                self.follow_session();
            }
            Role::Guest => {
                self.send(Signal::Answer { sdp });
                self.descriptions_applied(payload_types);
            }
        }
    }

    /// Both descriptions of the connection are in: the worker learns the negotiated codecs
    /// (it drops every frame until then), and the ICE candidates kept for it go in. The
    /// session goes first: a guest that could make no certificate ahead confirms with its
    /// answer, and that confirmation leaves before the candidates go to the browser
    /// (Chromium's `addIceCandidate` held the page for 10 ms a candidate while the connection
    /// was being set up, and the host waits for it).
    pub(super) fn descriptions_applied(&mut self, payload_types: PayloadTypes) {
        let generation = self.generation;
        if self.worker_ready {
            self.emit(Effect::Worker(WorkerCommand::Codecs { payload_types }));
        }
        self.follow_session();
        if let Some(link) = self.link.as_mut() {
            link.descriptions_applied = true;
            let pending = std::mem::take(&mut link.pending_ice);
            for candidate in pending {
                self.emit(Effect::AddIce { generation, candidate });
            }
        }
    }

    /// One of this side's candidates, found by its browser: to the peer, unless this side's
    /// description already carried it.
    pub(super) fn local_candidate(&mut self, generation: Generation, candidate: IceCandidate) {
        if !self.is_current(generation) {
            return;
        }
        self.note_local_candidate(&candidate);
        // The same candidate of the same media section: before the answer the browser may
        // gather a transport per section, whose candidates can differ only in their ufrag.
        let identity = crate::sdp::candidate_identity(&candidate.candidate);
        let same = |(mid, carried): &(Option<String>, String)| {
            *carried == identity
                && (mid.is_none() || candidate.sdp_mid.is_none() || *mid == candidate.sdp_mid)
        };
        let carried = self.link.as_ref().is_some_and(|link| link.in_description.iter().any(same));
        if !carried {
            self.send(candidate.to_signal());
        }
    }

    pub(super) fn add_ice(&mut self, candidate: IceCandidate) {
        let generation = self.generation;
        let waiting = match self.link.as_mut() {
            Some(link) if link.descriptions_applied => {
                return self.emit(Effect::AddIce { generation, candidate });
            }
            Some(link) => &mut link.pending_ice,
            // The host trickles right after its offer, while the guest's connection is still
            // to be made: keep them for it.
            None => &mut self.early_ice,
        };
        if waiting.len() >= MAX_WAITING_CANDIDATES {
            return self.log("relay: more ICE candidates than a connection gathers, dropped");
        }
        waiting.push(candidate);
    }

    pub(super) fn link_state(&mut self, generation: Generation, state: LinkState) {
        if !self.is_current(generation) {
            return;
        }
        if let Some(link) = self.link.as_mut() {
            link.state = state;
        }
        match state {
            LinkState::Connected => {
                self.set_status(CallStatus::Connected);
                self.check_certificate();
            }
            LinkState::Disconnected | LinkState::Failed if self.peer_away => self.peer_left(),
            LinkState::Failed => {
                // Its channel and its statistics went with it: what they said is stale.
                self.indicators_dropped();
                self.notice("The media connection failed; trying to connect again.");
                // The host makes connections: it schedules the next one itself, since the
                // guest's browser may notice the failure much later, or never. The guest says
                // hello, which makes the host do the same (see `peer_hello`).
                if self.role == Role::Host {
                    self.retry_later(None);
                }
                self.say_hello();
            }
            LinkState::Disconnected => self.quality_interrupted(),
            _ => {}
        }
    }

    /// Once the media connection is up: the certificate the browser accepted, and the one its
    /// applied description names, must be the one the peer's description named, which the keys
    /// and the confirmations are bound to.
    fn check_certificate(&mut self) {
        if self.certificate_checked == Some(self.generation) {
            return;
        }
        self.certificate_checked = Some(self.generation);
        self.emit(Effect::CheckCertificate { generation: self.generation });
    }

    pub(super) fn remote_certificates(
        &mut self,
        generation: Generation,
        certificates: &[(String, String)],
        description: Option<&str>,
    ) {
        if !self.is_current(generation) {
            return;
        }
        let applied_matches = match description {
            Some(sdp) => self.session.remote_description_applied(sdp),
            None => {
                // Unexpected once connected; nothing to read, so nothing is claimed of it.
                self.log("browser: no applied remote description to read back");
                true
            }
        };
        // Firefox's statistics have no certificates: the descriptions' single fingerprint, as
        // the page and the browser read them, is then all that binds DTLS. Said once, and not
        // beside a red shield that says otherwise.
        if certificates.is_empty() && applied_matches && !self.said_certificate_unchecked {
            self.said_certificate_unchecked = true;
            self.notice(CERTIFICATE_UNCHECKED);
        }
        for (algorithm, fingerprint) in certificates {
            self.session.remote_certificate(algorithm, fingerprint);
        }
        self.follow_session();
    }

    /// Let go of the current connection: whatever it still reports is stale from now on.
    pub(super) fn drop_link(&mut self) {
        self.generation += 1;
        self.early_ice.clear();
        if self.link.take().is_some() {
            self.emit(Effect::DropLink);
        }
        self.indicators_dropped();
    }
}
