//! The call screen's parts, as components that take signals and callbacks as props (no WebRTC
//! inside): one component per file.
//!
//! ```text
//! CallLayout ─ Shield (top left) ─ SecurityCodePanel (when the lock is clicked)
//!            ├ ChatPanel (prop `chat`: beside the stage, a bottom sheet when narrow)
//!            └ children: Controls, FeaturesMenu, Captions
//! ```

mod call_layout;
mod captions;
mod chat;
mod controls;
mod features;
mod security_code;
mod shield;

pub use call_layout::{CallLayout, StreamSignal};
pub use captions::Captions;
pub use chat::{ChatMessage, ChatPanel};
pub use controls::{Controls, Device};
pub use features::{E2EE_REASON, FEATURES, FeaturesMenu, WEB_CALLS_REASON};
pub use security_code::{COMPARE_TEXT, MISMATCH_TEXT, SecurityCodePanel};
pub use shield::Shield;
