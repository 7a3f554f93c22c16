//! Browser APIs as hooks over web-sys, each cleaning up after itself.

pub mod peer;
pub mod use_relay;
pub mod worker;
