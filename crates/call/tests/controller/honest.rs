//! Calls where nobody interferes.

use shieldcall_call::controller::CallStatus;

use crate::harness::{Settings, World};

#[test]
fn both_lock_with_the_same_code_and_matching_keys() {
    let world = World::call(Settings::default());
    world.assert_locked();
    assert_eq!(world.host.view.status, CallStatus::Connected);
    assert_eq!(world.guest.view.status, CallStatus::Connected);
    assert_eq!(world.host.connects, 1);
    assert!(world.host.worker.codecs && world.guest.worker.codecs, "codecs told to both workers");
}
