//! Shieldcall's media worker: every encoded audio and video frame of the call passes through
//! here, in a dedicated Worker, by way of `RTCRtpScriptTransform`.
//!
//! The page talks to it with [`WorkerCommand`](shieldcall_protocol::WorkerCommand)s and hears
//! back [`WorkerEvent`](shieldcall_protocol::WorkerEvent)s (one message type each way, shared
//! with the app through `shieldcall-protocol`). Keys arrive once and live only here.
//!
//! What decides (the [`message`] step a command makes, the [`mode`] it sets, the [`registry`] of
//! live transforms, the [`chat`] cryptor's seal and open, the [`hybrid`] crossovers, and each
//! transform's [`cryptor`]: its keys, its frames' WebCrypto jobs and their outcomes) is pure and
//! tested on the host (`cargo test -p shieldcall-worker --lib`); the browser glue around it
//! (`wasm.rs`, `transform.rs`, `frame.rs`, `webcrypto.rs`, and `js/frames.js`, the loop over
//! each transform's frames) exists only in the browser and is tested there.

pub mod chat;
pub mod cryptor;
#[cfg(target_arch = "wasm32")]
pub mod frame;
pub mod hybrid;
pub mod message;
pub mod mode;
pub mod registry;
#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
#[cfg(target_arch = "wasm32")]
mod transform;
#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub mod webcrypto;
