//! Shieldcall's messages, defined once and shared by every crate: the relay, the app, the media
//! worker and the E2EE core.
//!
//! - [`RelayRequest`]: the first message a client sends the relay itself: which place it takes.
//! - [`RelayEvent`]: what the relay itself tells a client about its room.
//! - [`Signal`]: what one client sends the other through the relay (the relay only forwards it).
//! - [`WorkerCommand`] and [`WorkerEvent`]: what the page and the media worker tell each other,
//!   and the [`TransformOptions`] (a [`Slot`] and a [`Direction`]) of each encoded transform.
//! - [`CallId`], and the [`base64url`] spelling of the byte strings in messages and links.
//!
//! Relay events and signals are JSON objects tagged by `t`, so a client reads either from the
//! same socket; worker messages are bytes ([`packed`]), tagged by their first.
//!
//! Data, and the JSON the messages are written and read in ([`json`]), only: no cryptography, no I/O. The relay links this crate and not the E2EE
//! core, so it carries no key agreement or cipher code at all.

pub mod base64url;
mod call_id;
mod codec;
mod group;
mod hang_up;
pub mod json;
mod media_state;
mod move_intent;
pub mod packed;
mod signalling;
mod slot;
mod worker;

pub use call_id::{CallId, InvalidCallId};
pub use codec::{Codec, CodecError, PayloadTypes};
pub use group::{GroupEvent, MAX_GROUP, MemberId};
pub use hang_up::{HANG_UP_KIND, hang_up_mac, hang_up_message};
pub use media_state::{BadMediaState, MEDIA_STATE_KIND, MediaState};
pub use move_intent::{BadMoveIntent, MOVE_INTENT_KIND, MoveIntent};
pub use signalling::{
    Confirm, Hello, Inbound, MAX_DEPOSIT, MAX_NAME, MAX_SIGNAL_BYTES, MoveRefusal, MoveToken,
    PROTOCOL_VERSION, PickupAnswer, RefusedRequest, RelayEvent, RelayFeature, RelayRequest, Signal,
    SignalError, TurnCredentials, valid_transfer_name,
};
pub use slot::{Slot, UnknownSlot};
pub use worker::{
    COMMAND_FIELD, ChatOrder, CommandError, Direction, KEYS_FIELD, OptionsError, READABLE_FIELD,
    SecretBytes, Transferred, TransformOptions, TransformStats, WRITABLE_FIELD, WorkerCommand,
    WorkerEvent,
};
