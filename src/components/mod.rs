//! The call screen's parts, as components that take signals and callbacks as props (no WebRTC
//! inside): one component per file.
//!
//! ```text
//! CallScreen ─ status line, QualityIndicator, CallTimer, shortcuts button; alerts
//!            └ CallLayout ─ Shield (top left) ─ SecurityCodePanel ─ E2eeHealthView
//!                         ├ the remote tile's muted-mic badge and "Camera off" placeholder
//!                         ├ ChatPanel (prop `chat`: beside the stage, a bottom sheet when narrow)
//!                         └ children: Controls (with FeaturesMenu and the device popover)
//! ShortcutsHelp (the `?` dialog)
//! PreJoinScreen (before the call: preview, level, devices, E2EE, Join)
//! ```

mod call_layout;
mod call_screen;
mod captions;
mod chat;
mod controls;
mod features;
mod group;
mod handover;
mod health;
mod icons;
mod move_link;
mod prejoin;
mod quality;
mod security_code;
mod shield;
mod shortcuts_help;

pub use call_layout::{CallLayout, StreamSignal};
pub use call_screen::{CallScreen, CallTimer, now_ms};
pub use captions::Captions;
pub use chat::{ChatMessage, ChatPanel};
pub use controls::{Controls, Device};
pub use features::{E2EE_REASON, FEATURES, FeaturesMenu, WEB_CALLS_REASON};
pub use group::{AddLinkPanel, GroupPanel, MEMBER_WARNING};
pub use handover::{ParkedPanel, TransferForm, TransferLinkPanel};
pub use health::E2eeHealthView;
pub use icons::Icon;
pub use move_link::MoveLinkPanel;
pub use prejoin::PreJoinScreen;
pub use quality::QualityIndicator;
pub use security_code::{COMPARE_TEXT, MISMATCH_TEXT, SecurityCodePanel, VERIFIED_TEXT};
pub use shield::Shield;
pub use shortcuts_help::ShortcutsHelp;
