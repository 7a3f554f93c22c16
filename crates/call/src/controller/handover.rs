//! Handing this person's place over, in transport-only calls (PROTOCOL.md change 45): parking
//! the call (the relay holds the place for a pickup by code or link, the other person is on
//! hold) and a blind transfer (a one-time link for someone else, whose name, as typed here,
//! the other person is told). Both are taken as a move is (`moving`): the new page opens a
//! move link and makes a fresh agreement, confirmed with the same link secret.

use shieldcall_e2ee::session::{MAX_MOVE_TTL_SECS, Role, ShieldState};
use shieldcall_protocol::{
    MoveRefusal, MoveToken, RefusedRequest, RelayFeature, RelayRequest, valid_transfer_name,
};

use super::{CallStatus, Controller, Effect};
use crate::move_link::MoveLink;
use crate::pickup::{Arrival, DepositSeal, PickupCode, link_rest, page_half, read_pickup_path};
use crate::texts::lacked_by_relay;

/// What the parking page says once the place is parked (the code and link stay on screen).
pub const PARKED_HERE: &str = "You parked the call. Whoever has the pickup code or link can pick \
    it up on any device, you included.";
/// What the other person is told when the call is parked.
pub const ON_HOLD: &str = "The other person parked the call: you are on hold until it is \
    picked up.";
/// What the other person is told when the parked call is picked up.
pub const PICKED_UP: &str = "The parked call was picked up.";
/// Why the call ends for the other person when nobody picked the parked call up in time.
pub const PARK_ENDED: &str =
    "The call was on hold and nobody picked it up in time, so it has ended.";
/// What the other person is told when the relay alone says the call was parked or transferred
/// where neither can be done (end-to-end encrypted).
pub const PEER_HANDOVER_UNANNOUNCED: &str = "The relay says the other person parked or \
    transferred the call, which cannot be done in an end-to-end encrypted call: waiting for them \
    to come back.";
/// Why a transfer is not offered without a name.
pub const TRANSFER_NEEDS_NAME: &str = "Type the name of the person you transfer the call to (up \
    to 40 characters).";

/// What the page that transferred the call shows once the new person has taken its place.
pub fn transferred_away(name: &str) -> String {
    format!("You transferred the call to {name}.")
}

/// What the other person is told when someone takes the place by a transfer link: only what
/// the link's maker typed, said as such.
pub fn peer_transferred(name: &str) -> String {
    format!(
        "{name} is joining: the other person transferred the call to them. (The name is as they \
         typed it.)"
    )
}

/// What the consulting page says once the other person is on hold.
pub const CONSULTING: &str = "The other person is on hold while you consult. Call the person \
    you want to transfer to, then transfer the call to them, or return to it.";
/// What the consulting page says once the held call's link went to the person consulted.
pub const TRANSFER_SENT: &str = "The held call was sent to the other person: they can join it \
    now. You leave this call when they do.";
/// What the consulting page says once the person consulted has gone to the held call.
pub const CONSULT_DONE: &str = "You transferred the held call.";
/// What the person consulted is told when a call is handed to them.
pub const TRANSFER_OFFERED: &str =
    "The other person is transferring a call to you: press \"Join the transferred call\".";
/// Why a transfer cannot be sent yet.
pub const OFFER_NOT_YET: &str = "The call can be transferred once this call is connected.";

/// The first byte of a data-channel message that hands the other person a held call's pickup
/// link (with E2EE off; media states are 2, move intents 3).
pub const TRANSFER_OFFER_KIND: u8 = 4;

/// What the person is told when this page could not seal the deposit: the browser offers it
/// no WebCrypto (outside a secure context), the one way its AES-GCM fails.
pub const PARK_FAILED: &str = "This browser cannot park the call from this page: it offers the \
     page no WebCrypto to seal the pickup code's part. Transfer the call instead.";
/// What the person is told when the relay refused a park (a relay cluster whose nodes share no
/// secret offers none).
pub const PARK_REFUSED: &str =
    "The call was not parked: this call's relay refused to hold it. The call goes on.";
/// What the person is told when the relay's connection dropped before it answered a park.
pub const PARK_LOST: &str =
    "The call was not parked: the connection to the relay dropped. Park it again.";
/// What the person is told when the relay's connection dropped before it answered a transfer.
pub const TRANSFER_LOST: &str =
    "The call was not transferred: the connection to the relay dropped. Transfer it again.";
/// What the person is told when the relay refused a transfer (a place no longer its own, a name
/// it cannot take).
pub const TRANSFER_REFUSED: &str = "The call was not transferred: this call's relay refused to \
    hand it over. The call goes on.";
/// Why parking, transferring and consulting are not offered under end-to-end encryption.
pub const HANDOVER_NEEDS_E2EE_OFF: &str =
    "Parking and transferring a call need a call without end-to-end encryption.";
/// Why they are not offered before the call is set up.
pub const HANDOVER_NOT_YET: &str = "The call can be parked or transferred once it is connected.";

/// A park asked for: the page's half of its pickup code, whether to consult, and the nonce of
/// its deposit while the page seals it (`None` once sent to the relay).
pub(super) struct Parking {
    half: String,
    consult: bool,
    sealing: Option<[u8; 12]>,
}

/// The random bytes a park takes: the page's half of the pickup code, and the deposit's nonce.
pub type ParkRandom = [u8; 18];

impl Controller {
    /// Why this call cannot be parked or transferred now, if it cannot: only once confirmed
    /// transport-only (the new page confirms with the same link secret; under E2EE the held
    /// or transferred place would have no keys to agree under).
    pub fn handover_unavailable(&self) -> Option<&'static str> {
        match self.session.state() {
            _ if self.ended => Some(HANDOVER_NOT_YET),
            ShieldState::Unlocked { .. } if self.session.confirmed() => None,
            ShieldState::Locked { .. } => Some(HANDOVER_NEEDS_E2EE_OFF),
            _ if self.session.offers_e2ee() && self.session.e2ee_intended() => {
                Some(HANDOVER_NEEDS_E2EE_OFF)
            }
            _ => Some(HANDOVER_NOT_YET),
        }
    }

    /// Why this call cannot be parked (or parked to consult) now, if it cannot: as any hand
    /// over, and only on a relay that parks calls.
    pub fn park_unavailable(&self) -> Option<&'static str> {
        self.handover_unavailable()
            .or_else(|| lacked_by_relay(RelayFeature::Park, &self.relay_lacks))
    }

    /// The person parks the call: seal the pickup link's secret part under this page's half
    /// of the code, and ask the relay to hold the place.
    pub(super) fn ask_to_park(&mut self, random: ParkRandom, consult: bool) {
        if let Some(why) = self.park_unavailable() {
            return self.notice(why);
        }
        // One park at a time: the relay's answer names no park, so a second one asked on the
        // same socket would pair the answer to the first with the second's page half, a code
        // that opens nothing. A new socket forgets a park already sent (`relay_open`).
        if self.parking.is_some() {
            return self.log("a park already under way");
        }
        // Unwraps: the slices are the array's first 6 and last 12 bytes.
        let half = page_half(&random[..6].try_into().expect("6 bytes"));
        let nonce: [u8; 12] = random[6..].try_into().expect("12 bytes");
        // The token is not known yet; the part after it is what the deposit carries.
        let link = self.pickup_link(MoveToken(String::new()));
        let seal = DepositSeal::new(&half, nonce, &link_rest(&link));
        self.parking = Some(Parking { half, consult, sealing: Some(nonce) });
        (self.transfer_asked, self.handing_to) = (None, None);
        self.emit(Effect::SealDeposit(seal));
    }

    /// [`Effect::SealDeposit`]'s answer for the deposit of `nonce`: ask the relay to hold the
    /// place with it, if that park still stands (the call can have ended, or gone E2EE, while
    /// the page sealed).
    pub(super) fn deposit_sealed(&mut self, nonce: [u8; 12], deposit: Option<String>) {
        if self.parking.as_ref().is_none_or(|p| p.sealing != Some(nonce)) {
            return self.log("a sealed deposit for no park");
        }
        if self.ended {
            self.parking = None;
            return;
        }
        if let Some(why) = self.handover_unavailable() {
            self.parking = None;
            return self.notice(why);
        }
        let Some(deposit) = deposit else {
            self.parking = None;
            return self.notice(PARK_FAILED);
        };
        if let Some(parking) = self.parking.as_mut() {
            parking.sealing = None;
        }
        self.emit(Effect::Relay(RelayRequest::Park { deposit }));
    }

    /// A new relay socket: a park, transfer, move or group asked on the one before is
    /// answered on none, so it is forgotten and the person told; a park still being sealed
    /// goes on this one.
    pub(super) fn forget_requests_sent(&mut self) {
        self.give_up_park_sent(PARK_LOST);
        if self.transfer_asked.take().is_some() {
            self.notice(TRANSFER_LOST);
        }
        self.forget_move_asked();
        self.group_not_opened(false);
    }

    /// The relay refused something on this socket. A park, transfer, move or group of this
    /// page's that it names did not happen (a cluster whose nodes share no secret parks
    /// nothing; a place no longer this page's cannot be handed over): the person is told, in
    /// words of the page's own (never the relay's text), and can ask again.
    pub(super) fn relay_refused(&mut self, reason: String, request: Option<RefusedRequest>) {
        self.log(format!("relay: {reason}"));
        match request {
            Some(RefusedRequest::Park) => self.give_up_park_sent(PARK_REFUSED),
            Some(RefusedRequest::Transfer) if self.transfer_asked.take().is_some() => {
                self.notice(TRANSFER_REFUSED)
            }
            Some(RefusedRequest::Move) => self.move_request_refused(),
            Some(RefusedRequest::OpenGroup) => self.group_not_opened(true),
            // Nothing of this page's waits for it, or a signal was refused: the call's own
            // messages are checked and answered on their own.
            _ => {}
        }
    }

    /// A park sent to the relay and not answered will not be: forget it (Park can be pressed
    /// again) and tell the person `why`. A park still being sealed is not touched.
    fn give_up_park_sent(&mut self, why: &'static str) {
        if self.parking.as_ref().is_some_and(|p| p.sealing.is_none()) {
            self.parking = None;
            self.notice(why);
        }
    }

    /// The relay holds the place: show the code and link, and leave the call on this page
    /// (its socket going is what leaves the place held).
    pub(super) fn parked(&mut self, token: MoveToken, relay_half: &str, ttl_secs: u64) {
        let Some(Parking { half, consult, sealing: None }) = self.parking.take() else {
            return self.log("relay: a park nobody asked for");
        };
        let Some(code) = PickupCode::new(relay_half, &half) else {
            return self.log("relay: a pickup code that is not 6 characters of the alphabet");
        };
        let link = self.pickup_link(token);
        self.emit(Effect::ShowParked { link, code, ttl_secs, consult });
        self.end(Some(if consult { CONSULTING } else { PARKED_HERE }.into()), true);
    }

    /// The person transfers the call to someone called `name`: ask the relay for a token.
    pub(super) fn ask_to_transfer(&mut self, name: String) {
        if let Some(why) = self.handover_unavailable() {
            return self.notice(why);
        }
        let name = name.trim().to_string();
        if !valid_transfer_name(&name) {
            return self.notice(TRANSFER_NEEDS_NAME);
        }
        self.transfer_asked = Some(name.clone());
        self.emit(Effect::Relay(RelayRequest::Transfer { name }));
    }

    /// The relay's transfer token: show the link (until it expires). From then on its use
    /// ends this page's call, saying to whom it went.
    pub(super) fn transfer_token(&mut self, token: MoveToken, ttl_secs: u64) {
        let Some(name) = self.transfer_asked.take() else {
            return self.log("relay: a transfer token nobody asked for");
        };
        if self.handover_unavailable().is_some() {
            return self.log("relay: a transfer token nobody asked for now");
        }
        // A transfer link lives no longer than a move link may (the relay's word is not the
        // limit).
        let ttl_secs = ttl_secs.min(u64::from(MAX_MOVE_TTL_SECS));
        self.handing_to = Some(name.clone());
        let link = self.pickup_link(token);
        self.move_link_until = Some(self.now + ttl_secs * 1000);
        self.link_made_for_another_device = true;
        self.emit(Effect::ShowTransferLink { link, name, ttl_secs });
    }

    /// The relay says this place was taken by its move, transfer or pickup link: the call goes
    /// on there. Only a page that made such a link can be left that way (a parked page has
    /// ended already); the relay's word alone ends no call.
    pub(super) fn moved_away(&mut self) {
        if !self.link_made_for_another_device {
            return self.log("relay: moved, but this page made no move or transfer link");
        }
        let why = match self.handing_to.take() {
            Some(name) => transferred_away(&name),
            None => super::MOVED_AWAY.into(),
        };
        self.end(Some(why), true)
    }

    /// Whether the relay's word that the other person parked or transferred the call is all
    /// there is: neither can be done while the call is end-to-end encrypted (or meant to be),
    /// on their side as on this one.
    fn handover_impossible(&self) -> bool {
        self.handover_unavailable() == Some(HANDOVER_NEEDS_E2EE_OFF)
    }

    /// The relay says the other person parked the call: their place waits for a pickup,
    /// without them. This connection goes; the next is made with whoever picks it up.
    pub(super) fn peer_parked(&mut self) {
        if self.handover_impossible() {
            // As if the relay said they left: while media still flows the call goes on.
            self.notice(PEER_HANDOVER_UNANNOUNCED);
            return self.peer_away();
        }
        self.peer_left();
        self.held = true;
        self.set_status(CallStatus::OnHold);
        self.notice(ON_HOLD);
    }

    /// The relay says the other person's place was transferred to someone called `name`.
    pub(super) fn peer_transferred(&mut self, name: &str) {
        if self.handover_impossible() {
            self.notice(PEER_HANDOVER_UNANNOUNCED);
            return self.peer_away();
        }
        self.held = false;
        self.start_afresh_with_new_device();
        self.notice(peer_transferred(name));
    }

    /// The parked place was not picked up in time: only a call on hold ends that way. A page
    /// that does not know of the hold (reloaded since) takes it as the other person gone, as
    /// it would `peer-left`.
    pub(super) fn park_ended(&mut self) {
        if !self.held {
            self.log("relay: a park ended, but this call is not on hold");
            return self.relay_says_peer_left();
        }
        self.end(Some(PARK_ENDED.into()), true);
    }

    /// This page was opened from a pickup or transfer link (or a pickup code): a refusal of
    /// its token is said in those words.
    pub fn arrived_by(&mut self, arrival: Arrival) {
        self.arrival = arrival;
    }

    /// What this page is told when the relay refuses its token.
    pub(super) fn token_refused(&self, reason: MoveRefusal) -> String {
        self.arrival.refused(reason).into()
    }

    /// (Consulting) hand the other person the held call's pickup link, `path`, on this call's
    /// data channel: their page offers to join it.
    pub(super) fn offer_transfer(&mut self, path: &str) {
        if let Some(why) = self.handover_unavailable() {
            return self.notice(why);
        }
        let Some(path) = read_pickup_path(path) else {
            return self.log("no held call's link to offer");
        };
        if self.channel_open != self.current_link() || self.channel_open.is_none() {
            return self.notice(OFFER_NOT_YET);
        }
        let mut message = vec![TRANSFER_OFFER_KIND];
        message.extend_from_slice(path.as_bytes());
        self.emit(Effect::SendBinary(message));
        self.transfer_sent = true;
        self.notice(TRANSFER_SENT);
    }

    /// The other person hands this person a held call (`bytes` after the kind): offer to
    /// join it, if it is a pickup link's path (on this page's own origin, nowhere else).
    pub(super) fn transfer_offer_received(&mut self, bytes: &[u8]) {
        let path = std::str::from_utf8(bytes).ok().and_then(read_pickup_path);
        match path {
            Some(path) => {
                self.emit(Effect::TransferOffered { path });
                self.notice(TRANSFER_OFFERED);
            }
            None => self.notice("A chat message was dropped: not a call's link."),
        }
    }

    /// The relay says the other person left: after handing them the held call, this call's
    /// work is done.
    pub(super) fn peer_left_after_offer(&mut self) -> bool {
        if self.transfer_sent {
            self.end(Some(CONSULT_DONE.into()), true);
        }
        self.transfer_sent
    }

    /// A link that takes this place: the side, the link secret and (a guest) the commitment.
    fn pickup_link(&self, token: MoveToken) -> MoveLink {
        let commitment = match self.role {
            Role::Host => None,
            Role::Guest => self.session.commitment(),
        };
        let secret = self.session.link_secret().clone();
        // Only out of transport-only calls: the new page confirms with the call's own secret.
        MoveLink { role: self.role, token, secret, rekeyed: false, commitment }
    }
}
