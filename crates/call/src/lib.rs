//! Shieldcall's call logic as pure data: what the call decides, made and tested without a
//! browser. Time comes in as milliseconds on the caller's monotonic clock; nothing here sleeps,
//! spawns or touches the network. The app's configuration is parsed here, and the words of the
//! call screen are chosen here (`texts`), so that both are tested on the host.

pub mod config;
pub mod controller;
pub mod devices;
pub mod e2ee_health;
pub mod group;
pub mod media_health;
pub mod move_link;
pub mod pickup;
pub mod prejoin;
pub mod qr;
pub mod quality;
pub mod remote_media;
pub mod retry;
pub mod sdp;
pub mod self_view;
pub mod shortcuts;
pub mod support;
pub mod texts;

pub use retry::Retry;
