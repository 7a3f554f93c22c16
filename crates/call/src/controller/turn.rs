//! What the browser's ICE gathering says about the TURN servers: credentials refused, or no
//! relay candidate at all where the organisation allows only relayed media. A call that
//! cannot connect says why at once, instead of waiting on a connection that never comes.
//!
//! Measured (coturn 4.6, `use-auth-secret`, wrong or expired credentials, relay-only policy):
//! Chromium 156 fires `icecandidateerror` with `errorCode` 401 ("Unauthorized.") about 60 ms
//! in, then completes gathering with no candidate (about 120 ms). Firefox ESR 140 fires no
//! `icecandidateerror` at all: it completes gathering with no candidate. So the decision is
//! made when gathering completes; a 401 only chooses the words.

use super::{Controller, Generation, IceCandidate};
use crate::config::IceTransportPolicy;

/// Why a relay-only call ends when the TURN server refused the credentials the relay gave.
pub const TURN_REFUSED: &str = "The TURN server refused this call's credentials, and this \
    organisation allows calls only through it, so the call cannot connect. Reload the page to \
    get new credentials; if that does not help, tell your administrator.";

/// Why a relay-only call ends when no TURN server gave a relay address.
pub const TURN_UNREACHABLE: &str = "No TURN server could be used (none is set up, none could \
    be reached, or it refused this call's credentials), and this organisation allows calls \
    only through one, so the call cannot connect. Reload the page to try again; if that does \
    not help, tell your administrator.";

/// What a call that may also connect directly is told when the TURN server refuses it.
pub const TURN_REFUSED_NOTICE: &str = "The TURN server refused this call's credentials: the \
    call can connect only directly, which may not work between different networks.";

/// STUN error codes that mean "these credentials are not accepted" (RFC 8489 §14.8, RFC 8656):
/// 401 Unauthorized (what coturn answers to a wrong or expired REST API credential), 431
/// Integrity Check Failure, 441 Wrong Credentials.
fn refuses_credentials(code: u16) -> bool {
    matches!(code, 401 | 431 | 441)
}

impl Controller {
    /// This side's browser found a local candidate: a relay one means a TURN server took it.
    pub(super) fn note_local_candidate(&mut self, candidate: &IceCandidate) {
        // `candidate:... <address> <port> typ relay raddr ...`
        let mut words = candidate.candidate.split_whitespace();
        let kind = words.by_ref().find(|w| *w == "typ").and_then(|_| words.next());
        if kind == Some("relay")
            && let Some(link) = self.link.as_mut()
        {
            link.relay_candidate = true;
        }
    }

    /// An ICE server answered with an error (`icecandidateerror`).
    pub(super) fn ice_server_error(&mut self, generation: Generation, code: u16, url: String) {
        if !self.is_current(generation) || !refuses_credentials(code) {
            return;
        }
        // For the console: which server, never the credential (the URL carries none).
        self.log(format!("ICE server {url} refused this call's credentials ({code})"));
        if let Some(link) = self.link.as_mut() {
            link.turn_refused = true;
        }
        if self.ice.policy == IceTransportPolicy::All && !self.said_turn_refused {
            self.said_turn_refused = true;
            self.notice(TURN_REFUSED_NOTICE);
        }
    }

    /// Under a relay-only policy, whether the current connection's gathering has yet to show
    /// whether a TURN server takes it.
    pub(super) fn turn_verdict_pending(&self) -> bool {
        self.ice.policy == IceTransportPolicy::Relay
            && self.link.as_ref().is_some_and(|l| !l.gathered && !l.relay_candidate)
    }

    /// The browser has gathered every candidate it will: with a relay-only policy and no relay
    /// candidate, this connection can never connect.
    pub(super) fn gathering_complete(&mut self, generation: Generation) {
        if !self.is_current(generation) {
            return;
        }
        let Some(link) = self.link.as_mut() else { return };
        link.gathered = true;
        if self.ice.policy == IceTransportPolicy::Relay && !link.relay_candidate {
            let why = if link.turn_refused { TURN_REFUSED } else { TURN_UNREACHABLE };
            // The link stays: a reload joins again and gets fresh credentials.
            return self.end(Some(why.into()), false);
        }
        // The other person left while this waited for the verdict (see `peer_away`).
        if self.peer_away && !self.media_connected() {
            self.peer_left();
        }
    }
}
