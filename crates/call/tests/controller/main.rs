//! The call controller, host-tested: two real controllers (real sessions, real key agreement)
//! through an in-memory relay that can be hostile, over a stand-in for each browser.

// Not every test file uses every helper.
#[allow(dead_code)]
mod harness;

mod attacks;
mod chat;
mod e2ee_off;
mod early_hello;
mod failures;
mod group;
mod handover;
mod honest;
mod indicators;
mod media;
mod moving;
mod prepared;
mod reconnect;
mod timing;
mod turn;
