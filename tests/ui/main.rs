//! The call UI in headless Chromium, a file per component: the shield and its security code,
//! the features that E2EE rules out, recording, captions, the controls, the chat, the call
//! screen's layout and keyboard, the pre-join screen, the settings and home pages with the
//! organisation's policy, and config.json. One test binary (one page): a test that changes the
//! page for everyone (a global hidden, the storage emptied) does it through a guard of `common`
//! that puts it back, even when the test fails.

#![cfg(target_arch = "wasm32")]

#[path = "../common/mod.rs"]
mod common;

mod call_layout;
mod call_screen;
mod captions;
mod chat;
mod config;
mod controls;
mod features;
mod group;
mod home;
mod prejoin;
mod recording;
mod settings;
mod shield;
mod shortcuts;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
