//! The media worker in headless Chromium, driven from Rust as the app drives it.

#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{eventually, spawn_media_worker};
use shieldcall_e2ee::messages::{Direction, WorkerCommand, WorkerEvent};
use wasm_bindgen_test::*;
use web_sys::{RtcPeerConnection, RtcRtpTransceiverDirection, RtcRtpTransceiverInit};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_script_transform_runs_on_the_projects_own_worker() {
    let worker = spawn_media_worker().await;
    worker.command(&WorkerCommand::TransportOnly).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let seen = events.clone();
    worker.on_event(move |event| seen.borrow_mut().push(event));

    let pc = RtcPeerConnection::new().unwrap();
    let init = RtcRtpTransceiverInit::new();
    init.set_direction(RtcRtpTransceiverDirection::Sendonly);
    let transceiver = pc.add_transceiver_with_str_and_init("video", &init);
    let transform = worker.transform(1, Direction::Send).unwrap();
    transceiver.sender().set_transform_opt_rtc_rtp_script_transform(Some(&transform));
    assert!(transceiver.sender().transform().is_some());

    // The worker answers for the transform it was handed: slot 1, sending.
    let attached = eventually(3000, || {
        events.borrow().iter().any(|event| {
            matches!(event, WorkerEvent::Stats(stats)
                if stats.slot == 1 && stats.direction == Some(Direction::Send))
        })
    })
    .await;
    pc.close();
    assert!(attached, "the worker reported the transform; events: {:?}", events.borrow());
}
