//! A group call's people in headless Chromium: who is in the call, a tile per other member,
//! a tile that goes when its member leaves, and the warning on the tile of a member whose
//! connection could not be confirmed.

use leptos::prelude::*;
use shieldcall::call::{CallStatus, GroupView, MemberTile};
use shieldcall::components::{GroupPanel, MEMBER_WARNING};
use shieldcall_e2ee::session::{ShieldState, UnlockedReason, WarningReason};
use wasm_bindgen_test::*;

use crate::common::{container, find, settle, text};

#[wasm_bindgen_test]
async fn the_people_and_a_tile_per_member_and_a_warning_where_a_pair_failed() {
    let (group, set_group) = signal_local(None::<GroupView>);
    let unlocked = ShieldState::Unlocked { reason: UnlockedReason::YouTurnedOff };
    let (shield, set_shield) = signal(unlocked);
    let tile = |id, shield| MemberTile {
        id,
        video: signal_local(None).0,
        status: signal(CallStatus::Connected).0,
        shield,
    };
    let root = container();
    let _view = leptos::mount::mount_to(root.clone(), move || view! { <GroupPanel group /> });
    settle().await;
    assert!(find(&root, "[data-group]").hidden(), "nothing in a call of two");

    let others = vec![tile(3, shield), tile(4, signal(unlocked).0)];
    set_group.set(Some(GroupView { me: Some(2), main: Some(1), others }));
    settle().await;
    assert!(!find(&root, "[data-group]").hidden());
    let people = text(&find(&root, "[data-participants]"));
    for who in ["You (person 2)", "Person 1", "Person 3", "Person 4"] {
        assert!(people.contains(who), "{people}");
    }
    assert_eq!(root.query_selector_all("[data-member]").unwrap().length(), 2);
    assert!(root.query_selector("[data-member-warning]").unwrap().is_none());

    // The pair with person 3 never confirmed: its tile says so.
    set_shield.set(ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    settle().await;
    assert_eq!(text(&find(&root, "[data-member='3'] [data-member-warning]")), MEMBER_WARNING);

    // Person 4 leaves: their tile and entry go, the others' stay.
    let others = vec![tile(3, shield)];
    set_group.set(Some(GroupView { me: Some(2), main: Some(1), others }));
    settle().await;
    assert_eq!(root.query_selector_all("[data-member]").unwrap().length(), 1);
    assert!(!text(&find(&root, "[data-participants]")).contains("Person 4"));
}
