//! Names for the steps of a call's set-up, which the page marks on its performance timeline
//! (`performance.mark`), so that the time from opening a link to a locked shield can be taken
//! apart step by step (the end-to-end test prints both pages' steps on one clock).
//!
//! Only fixed names: no SDP, key, code, candidate or any other value of the call reaches the
//! timeline. Steps that repeat many times a call (ICE candidates, chat, statistics, the clock)
//! have none.

use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::{Inbound, RelayEvent, Signal, WorkerCommand};

use super::{CallStatus, Effect, Input, LinkState};

impl Input {
    /// This input's step of the set-up, if it is one.
    pub fn trace_name(&self) -> Option<&'static str> {
        Some(match self {
            Input::WorkerStarted => "worker started",
            Input::RelayOpen => "relay: join sent",
            Input::Inbound(Inbound::Relay(RelayEvent::Joined { .. })) => "relay joined",
            Input::Inbound(Inbound::Relay(RelayEvent::PeerJoined)) => "relay: peer joined",
            Input::Inbound(Inbound::Peer(Signal::Hello(_))) => "hello received",
            Input::Inbound(Inbound::Peer(Signal::Offer { .. })) => "offer received",
            Input::Inbound(Inbound::Peer(Signal::Answer { .. })) => "answer received",
            Input::Inbound(Inbound::Peer(Signal::Confirm(_))) => "confirmation received",
            Input::LinkMade { .. } => "connection made",
            Input::LocalDescription { .. } => "own description set",
            Input::DescriptionsApplied { .. } => "both descriptions applied",
            Input::LinkState { state: LinkState::Connected, .. } => "connection connected",
            Input::RemoteCertificates { .. } => "remote certificate read",
            Input::Certificate { fingerprint: Some(_) } => "own certificate made",
            _ => return None,
        })
    }
}

impl Effect {
    /// This effect's step of the set-up, if it is one.
    pub fn trace_name(&self) -> Option<&'static str> {
        Some(match self {
            Effect::Send(Signal::Hello(_)) => "hello sent",
            Effect::Send(Signal::Offer { .. }) => "offer sent",
            Effect::Send(Signal::Answer { .. }) => "answer sent",
            Effect::Send(Signal::Confirm(_)) => "confirmation sent",
            Effect::Connect { .. } => "connect",
            Effect::CheckCertificate { .. } => "check certificate",
            Effect::Worker(WorkerCommand::UseKeys { .. }) => "keys to the worker",
            Effect::Status(CallStatus::Connected) => "status: connected",
            Effect::Shield(view) => match view.state {
                ShieldState::Locked { .. } => "shield locked",
                ShieldState::Unlocked { .. } => "shield unlocked",
                ShieldState::Warning { .. } => "shield warning",
                ShieldState::Connecting => return None,
            },
            _ => return None,
        })
    }
}
