//! What arrives through the relay: the relay's own news (joined, the other person joined or
//! left, a full call) and the other person's signals (hello, key confirmation, offer, answer,
//! ICE candidates, bye); and the hello and confirmation this side sends.

use shieldcall_e2ee::keys::{Confirmation, dtls_fingerprint};
use shieldcall_e2ee::session::Role;
use shieldcall_protocol::{Hello, Inbound, RelayEvent, Signal, hang_up_mac, hang_up_message};

use super::{CALL_FULL, CallStatus, Controller, Effect, IceCandidate};

/// What the relay sends while the media worker starts is kept for it (the offer, candidates):
/// an honest set-up sends a few dozen messages, so more than this is a relay's flood, dropped.
const MAX_BACKLOG: usize = 200;

impl Controller {
    /// What came on the relay socket, as it comes (before anything waits for the worker): a
    /// `joined`, `full` or `move-refused` is the relay's one answer to the join this page sent
    /// on its socket, and one beyond it is forged. (It would restart the wait for the other
    /// person's key confirmation, for ever, or end the call.)
    pub(super) fn arrived(&mut self, inbound: Inbound) {
        let answer = matches!(
            inbound,
            Inbound::Relay(
                RelayEvent::Joined { .. } | RelayEvent::Full | RelayEvent::MoveRefused { .. }
            )
        );
        if answer && !std::mem::take(&mut self.join_outstanding) {
            return self.log("relay: an answer to no join sent");
        }
        if let Inbound::Relay(RelayEvent::Joined { lacks, .. }) = &inbound {
            self.relay_lacks(lacks);
        }
        self.inbound(inbound)
    }

    pub(super) fn inbound(&mut self, inbound: Inbound) {
        // A place moved or parked away only ends this page's call, which needs no worker; at
        // once, so that the socket the relay closes next is not taken for a dropped one (in
        // order behind anything already waiting, a move's token say).
        let ends = matches!(inbound, Inbound::Relay(RelayEvent::Moved | RelayEvent::Parked { .. }));
        let at_once = ends && self.backlog.is_empty();
        if !self.worker_ready && !at_once && !self.agrees_before_the_worker(&inbound) {
            if let Inbound::Peer(Signal::Offer { sdp }) = &inbound {
                self.confirm_before_the_worker(sdp);
            }
            if self.backlog.len() >= MAX_BACKLOG {
                return self.log("relay: more messages than a starting call gets, dropped");
            }
            self.backlog.push(inbound);
            return;
        }
        if let Inbound::Relay(RelayEvent::Joined { turn, .. }) = &inbound {
            // Each joined brings fresh credentials (or none): the next connection uses them.
            self.turn = turn.clone();
        }
        match inbound {
            // On hold, back on the relay after our own socket dropped: the other place is
            // still held (the relay counts it), and its pickup's `peer-moved` brings the next
            // person; nobody is there to hello. An empty room: the park ended meanwhile.
            Inbound::Relay(RelayEvent::Joined { peers, .. }) if self.held => {
                self.hello_before_joined = false;
                self.session.relay_rejoined();
                if peers == 0 {
                    self.park_ended();
                }
            }
            Inbound::Relay(RelayEvent::Joined { peers, .. }) if peers > 0 => {
                self.alone_in_room = false;
                // Back on the relay after our own socket dropped: whatever happened meanwhile
                // (the other person may have reloaded, and that news is lost), their hello
                // tells whether they are the same person, as after a `peer-left`.
                if self.session.has_peer() {
                    self.peer_away = true;
                }
                self.session.relay_rejoined();
                self.session.expect_peer();
                if std::mem::take(&mut self.hello_before_joined) {
                    // The hello is on its way already (`relay_open`): the rest of saying
                    // everything again.
                    self.connecting();
                    self.session.repeat_confirmation();
                    self.follow_session();
                } else {
                    // Our confirmation may have been lost with the old socket.
                    self.say_everything_again();
                }
            }
            Inbound::Relay(RelayEvent::Joined { .. }) => {
                // An early hello found nobody (the relay says so): the other person's
                // `peer-joined` brings the next one.
                self.hello_before_joined = false;
                self.session.relay_rejoined();
                self.alone_in_room = true;
                // Back on the relay to an empty room: the other person left while our socket
                // was down, and the relay's `peer-left` went with it. Waited for as after one
                // (not their key kept, which a new page of theirs would turn red).
                if self.session.has_peer() {
                    self.relay_says_peer_left();
                }
                self.prepare_connection();
            }
            // Whether this is the same person back on the relay or someone new, their hello
            // tells (see `peer_hello`).
            Inbound::Relay(RelayEvent::PeerJoined) => {
                self.alone_in_room = false;
                // Someone is in the other place again (the parker itself, whose park's answer
                // was lost, took it back): no longer on hold, so a late `park-ended` ends
                // nothing. A pickup is announced as `peer-moved`, which ends the hold too.
                self.held = false;
                self.session.expect_peer();
                self.say_hello()
            }
            Inbound::Relay(RelayEvent::PeerLeft) => self.relay_says_peer_left(),
            Inbound::Relay(RelayEvent::Full) => self.end(Some(CALL_FULL.into()), false),
            Inbound::Relay(RelayEvent::Error { reason, request }) => {
                self.relay_refused(reason, request)
            }
            Inbound::Relay(RelayEvent::MoveToken { token, ttl }) => self.move_token(token, ttl),
            Inbound::Relay(RelayEvent::PeerMoved) => self.peer_moved(),
            // The new device took this place: nothing to hang up, the call goes on there.
            Inbound::Relay(RelayEvent::Moved) => self.moved_away(),
            Inbound::Relay(RelayEvent::Parked { token, code, ttl }) => {
                self.parked(token, &code, ttl)
            }
            Inbound::Relay(RelayEvent::PeerParked { .. }) => self.peer_parked(),
            Inbound::Relay(RelayEvent::ParkEnded) => self.park_ended(),
            Inbound::Relay(RelayEvent::TransferToken { token, ttl }) => {
                self.transfer_token(token, ttl)
            }
            Inbound::Relay(RelayEvent::PeerTransferred { name }) => self.peer_transferred(&name),
            Inbound::Relay(RelayEvent::MoveRefused { reason }) => {
                let why = self.token_refused(reason);
                self.end(Some(why), true)
            }
            Inbound::Peer(Signal::Hello(hello)) => self.peer_hello(hello),
            Inbound::Peer(Signal::Confirm(confirm)) => {
                if self.session.peer_confirm(&confirm).is_err() {
                    self.log("relay: a malformed key confirmation");
                }
                self.follow_session();
            }
            Inbound::Peer(Signal::Offer { sdp }) => self.offer(sdp),
            Inbound::Peer(Signal::Answer { sdp }) => self.answer(sdp),
            // A candidate becomes a line of the description the browser writes back, which is
            // read again once connected (change 61): only one plain line is ever given to it.
            Inbound::Peer(Signal::Ice { candidate, .. })
                if !candidate.bytes().all(|b| (0x20..=0x7e).contains(&b)) =>
            {
                self.log("relay: an ICE candidate that is not one plain line, dropped");
            }
            Inbound::Peer(Signal::Ice { candidate, sdp_mid, sdp_m_line_index }) => {
                self.add_ice(IceCandidate { candidate, sdp_mid, sdp_m_line_index })
            }
            Inbound::Peer(Signal::Bye { mac }) => self.peer_bye(mac.as_deref()),
            // The page's group layer routes these (crate::group); one pair never sees them.
            Inbound::Group(_) => self.log("relay: group news for one pair"),
        }
    }

    /// While the call's first media worker starts, the relay's news, the hellos and the
    /// confirmations go in at once: the key agreement needs no worker, and the other side waits
    /// for this side's hello before it offers (a guest's confirmation may go before its worker
    /// runs: `confirm_before_the_worker`). What needs the connection (offer, answer,
    /// candidates) waits. After a reset everything waits, as the fresh worker belongs to a new
    /// agreement.
    fn agrees_before_the_worker(&self, inbound: &Inbound) -> bool {
        !self.first_worker_started
            && matches!(
                inbound,
                Inbound::Relay(
                    RelayEvent::Joined { .. }
                        | RelayEvent::PeerJoined
                        | RelayEvent::Full
                        | RelayEvent::MoveRefused { .. }
                ) | Inbound::Peer(Signal::Hello(_) | Signal::Confirm(_))
            )
    }

    /// The person hangs up: signed once the other's hello is in (change 55), and once the call
    /// is confirmed also on the media connection, where no relay can drop it (changes 57 and
    /// 58). Not in a group, where hanging up is leaving and the relay says who left.
    pub(super) fn hang_up(&mut self) {
        let mac = self.session.hang_up();
        let channel = self.channel_open.is_some() && self.channel_open == self.current_link();
        let on_channel = self.session.confirmed() && channel && !self.in_group;
        if let Some(signed) = mac.as_ref().filter(|_| on_channel) {
            self.emit(Effect::SendBinary(hang_up_message(&signed.0)));
        }
        self.send(Signal::Bye { mac: mac.map(|mac| mac.to_base64url()) });
        self.end(Some("You left the call.".into()), true);
    }

    /// A hang-up on the media connection (only read once the call is confirmed): it ends the
    /// call if it is the other person's own, like a signed `bye`; anything else there is
    /// dropped. In a group the relay's `bye` says who left (the group layer reads it).
    pub(super) fn hang_up_on_channel(&mut self, message: &[u8]) {
        if self.in_group {
            return self.log("a hang-up on the media connection of a group pair was not read");
        }
        let mac = hang_up_mac(message).map(Confirmation);
        if mac.is_some() && self.session.peer_hung_up(mac.as_ref()) {
            return self.end(Some("The other person hung up.".into()), true);
        }
        self.log("a hang-up on the media connection that does not verify was dropped");
    }

    /// A hang-up came: once anyone has confirmed in this call, only one that proves it is the
    /// other person's ends it (change 55). The relay's word alone is taken as the other person
    /// leaving, which a call whose media still flows outlives.
    fn peer_bye(&mut self, mac: Option<&str>) {
        if self.in_group {
            // Hanging up is leaving a group, also when a relay sends the `bye` unaddressed:
            // it would otherwise end this page's calls with every other member.
            self.log("relay: a hang-up in a group, taken as the member leaving");
            return self.relay_says_peer_left();
        }
        let mac = mac.and_then(Confirmation::from_base64url);
        if self.session.peer_hung_up(mac.as_ref()) {
            return self.end(Some("The other person hung up.".into()), true);
        }
        self.log("relay: a hang-up the other person did not sign, taken as them leaving");
        self.relay_says_peer_left();
    }

    /// The relay says the other person left (or says what amounts to it).
    pub(super) fn relay_says_peer_left(&mut self) {
        self.alone_in_room = true;
        if !self.peer_left_after_offer() {
            self.peer_away()
        }
    }

    pub(super) fn say_hello(&mut self) {
        self.connecting();
        self.send_hello();
    }

    fn send_hello(&mut self) {
        let hello = self.session.hello();
        self.send(Signal::Hello(hello));
    }

    fn connecting(&mut self) {
        // A call whose media still flows stays "connected" through a relay reconnection.
        if !self.media_connected() {
            self.set_status(CallStatus::Connecting);
        }
    }

    /// A relay socket opened and its `join` went out. A guest's first says hello at once,
    /// behind the join on the same socket, instead of after the relay's `joined`: the host,
    /// who waits for it to make the offer, has it one round trip sooner. The relay handles a
    /// socket's messages in order, so the host hears `peer-joined` first, as before; and if
    /// the join is refused (a full call, a used move token) the hello goes nowhere. The host
    /// keeps waiting for `peer-joined` (it makes the room, so it is usually there first, and a
    /// hello to an empty room is only refused); so do later sockets, whose `joined` says
    /// whether anyone is there to hear it.
    pub(super) fn relay_open(&mut self) {
        self.forget_requests_sent();
        self.join_outstanding = true;
        let first = !std::mem::replace(&mut self.relay_opened, true);
        if first && self.role == Role::Guest && !self.link_made() {
            self.hello_before_joined = true;
            self.send_hello();
        }
    }

    /// Say hello and repeat this side's key confirmation (if there is one), in case either was
    /// lost with a relay socket: the peer then repeats its own, or the host starts afresh.
    pub(super) fn say_everything_again(&mut self) {
        self.say_hello();
        self.session.repeat_confirmation();
        self.follow_session();
    }

    fn peer_hello(&mut self, hello: Hello) {
        if std::mem::take(&mut self.held) {
            // On hold, someone says hello from the held place: it was picked up while this
            // page's socket was down, and the relay's `peer-moved` went with the socket. Taken
            // as that news (only transport-only calls are ever held, and the new device
            // confirms with the link's secret as any pickup does).
            self.log("relay: a hello from the held place: picked up");
            self.start_afresh_with_new_device();
            self.notice(super::handover::PICKED_UP);
            // Read again once the fresh worker runs, as a hello after the news would be.
            self.backlog.push(Inbound::Peer(Signal::Hello(hello)));
            return;
        }
        if self.peer_away {
            self.peer_away = false;
            if !self.session.knows_peer(&hello) {
                // Someone new (the same person after a reload, say): start afresh with them.
                self.peer_left();
                self.backlog.push(Inbound::Peer(Signal::Hello(hello)));
                return;
            }
            // The same person, back on the relay; the media connection never dropped.
        }
        let known = self.session.knows_peer(&hello);
        let healthy = self.session.confirmed() && self.media_connected();
        let stalled = !healthy && !self.warned_for_good();
        if known && self.role == Role::Host && self.link_made() && stalled {
            // The same person again, before the agreement was confirmed or while the media
            // connection is down: the relay dropped while the offer, answer or confirmations
            // were on their way (none of them is ever sent twice), or the network changed under
            // the connection. Start it afresh (new certificates, so a new transcript and new
            // keys), after a delay that grows while attempts keep failing; the guest answers a
            // new offer as it would any.
            return self.retry_later(Some(hello));
        }
        if self.session.peer_hello(&hello).is_err() {
            // The shield says what it means; the console, what it was.
            self.log("relay: a hello with an invalid key");
        }
        if known {
            // Our confirmation may have been lost with the relay: say it again. (Only to the
            // same person: to someone new it would be about another agreement.)
            self.session.repeat_confirmation();
        }
        self.follow_session();
        if self.role == Role::Host && self.link.is_none() {
            self.start_link(None);
        }
        if let Some(sdp) = self.early_offer.take() {
            self.offer(sdp);
        }
    }

    pub(super) fn offer(&mut self, sdp: String) {
        if self.role != Role::Guest {
            return;
        }
        if !self.session.has_peer() {
            // The host says hello before it offers; an offer without one may be the relay's.
            // It waits for the hello (and the wait for a confirmation runs meanwhile).
            self.early_offer = Some(sdp);
            return;
        }
        if self.link.as_ref().is_some_and(|l| l.offer.as_deref() == Some(sdp.as_str())) {
            // A copy of the offer this connection answers, as a copy of the answer is on the
            // host's side: it changes nothing (PROTOCOL.md change 59).
            return self.log("relay: a copy of the offer this connection answers");
        }
        if self.link.is_some() {
            // The host started a new connection (after losing this page's relay socket, say):
            // new connection, new agreement, and a fresh worker, so that no transform ever runs
            // on keys of the old connection with its counters starting again.
            self.session.restart_connection();
            self.reset_media();
            self.backlog.push(Inbound::Peer(Signal::Offer { sdp }));
            return;
        }
        if dtls_fingerprint(&sdp).is_err() {
            // An offer that names no certificate, or more than one, is not answered: the browser
            // might accept a certificate the keys are not bound to. The shield says why; the
            // host, without a confirmation, says so too.
            return self.offer_to_session(&sdp);
        }
        if self.offer_waits_for_certificate(&sdp) {
            return;
        }
        self.start_link(Some(sdp));
    }

    /// (Guest) the first offer, come before the first media worker runs: with the host's hello
    /// in and a certificate made ahead, the transcript needs nothing else, so the confirmation
    /// goes now (the worker starts in tens of ms) and the connection, made once the worker
    /// runs, takes that certificate (`start_link`).
    fn confirm_before_the_worker(&mut self, sdp: &str) {
        let ready = self.role == Role::Guest
            && !self.first_worker_started
            && self.link.is_none()
            && !self.certificate_taken
            && self.session.has_peer()
            && dtls_fingerprint(sdp).is_ok();
        if ready && self.certificate_to_session() {
            self.certificate_taken = true;
            self.offer_to_session(sdp);
        }
    }

    fn answer(&mut self, sdp: String) {
        if self.role != Role::Host {
            return;
        }
        let generation = self.generation;
        let Some(link) = self.link.as_mut().filter(|l| l.awaiting_answer) else {
            // Not waiting for an answer: one for an offer of an earlier connection, or a copy.
            return self.log("relay: an answer nobody waits for");
        };
        link.awaiting_answer = false;
        // The session takes the answer's fingerprint now, not once the browser has applied it:
        // a guest that made no certificate ahead confirms right behind its answer, and its
        // confirmation must find the transcript complete. (An answer the browser refuses ends
        // the call.) An answer that names no certificate, or more than one, or another one
        // than the guest confirmed (change 52), is never given to the browser.
        let taken = self.session.remote_sdp(&sdp);
        if let Err(e) = &taken {
            self.log(format!("relay: an answer refused: {e}"));
        }
        // With the transcript complete this side's confirmation goes now, ahead of the answer
        // the browser then applies (tens of ms): the guest's shield waits for it.
        self.follow_session();
        if taken.is_ok() {
            self.emit(Effect::ApplyAnswer { generation, sdp });
        }
    }

    /// Send what the session has for the peer: its key confirmation, once per agreement (and
    /// again when repeated).
    pub(super) fn send_confirmation(&mut self) {
        while let Some(confirm) = self.session.poll_transmit() {
            self.send(Signal::Confirm(confirm));
        }
    }
}
