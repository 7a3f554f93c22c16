//! Shieldcall's call logic as pure data: what the call decides, made and tested without a
//! browser. Time comes in as milliseconds on the caller's monotonic clock; nothing here sleeps,
//! spawns or touches the network.

pub mod media_health;
pub mod retry;
pub mod sdp;
pub mod support;

pub use retry::Retry;
