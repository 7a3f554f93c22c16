//! Shieldcall's end-to-end encryption core.
//!
//! Pure Rust: no web-sys, no I/O, no clock, no randomness of its own. Time and randomness come
//! in as arguments, so everything here tests on the host.

pub mod code;
pub mod keys;
pub mod layout;
pub mod link;
pub mod messages;
mod secret;
pub mod session;
pub mod sframe;

pub use secret::BaseKey;
