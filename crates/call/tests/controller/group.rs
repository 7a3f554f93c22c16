//! One pair of a group call: adding someone is offered only once the call is confirmed
//! transport-only (the relay is asked to open the room, the page shows the link once it has,
//! and says so if it does not); a page that
//! asked for E2EE leaves a group with the reason; a group guest accepts a host key the link
//! does not commit to (its pair's host may be anyone earlier), transport-only and confirmed
//! with the link secret, so a relay with a key of its own still gets a red shield, never a lock.

use shieldcall_call::controller::{CallStatus, Input};
use shieldcall_call::group::{
    GROUP_FULL, GROUP_LOST, GROUP_NEEDS_E2EE_OFF, GROUP_REFUSED, GROUP_WITHOUT_E2EE, MERGE_LOST,
    MERGE_REFUSED, MERGED_AWAY, MERGED_HERE, MERGING,
};
use shieldcall_call::texts::{GROUP_NOT_ON_RELAY, PARK_NOT_ON_RELAY};
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::LinkSecret;
use shieldcall_e2ee::session::{ShieldState, WarningReason};
use shieldcall_protocol::{RefusedRequest, RelayEvent, RelayRequest, Signal};

use crate::harness::{From, Settings, World, joined};

fn transport_only() -> Settings {
    Settings { host_e2ee: false, guest_e2ee: false, ..Settings::default() }
}

/// A pair whose host is some earlier member of the group, not the link's host: the guest's
/// link commits to another key.
fn pair_with_another_host(settings: Settings, secret: bool) -> World {
    World::with_guest_link(settings, |rng, link_secret, _| {
        let other = EphemeralSecret::generate(rng).public_key().commitment();
        let secret = if secret { link_secret } else { LinkSecret::generate(rng) };
        (secret, other)
    })
}

#[test]
fn adding_someone_opens_the_room_and_shows_the_link_once_transport_only() {
    for who in [From::Host, From::Guest] {
        let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
        world.input(who, Input::AddParticipant);
        assert_eq!(world.side(who).relay_requests, vec![RelayRequest::OpenGroup {}]);
        // Not before the relay says the room is open (its `group`, as the group layer reads
        // it): a link to a room still closed meets `full`.
        assert!(world.side(who).view.add_link.is_none());
        world.input(who, Input::JoinGroup);
        let side = world.side(who);
        let link = side.view.add_link.clone().expect("the add link is shown");
        let fragment = link.to_fragment();
        assert!(fragment.starts_with("k=") && fragment.ends_with("&g=1"), "{fragment}");
        assert!(!format!("{link:?}").contains(&fragment[2..10]), "no secret in Debug");
        // In a group already, a second press shows it at once, asking the relay nothing.
        world.side(who).view.add_link = None;
        world.input(who, Input::AddParticipant);
        assert!(world.side(who).view.add_link.is_some());
        assert_eq!(world.side(who).relay_requests.len(), 1);
    }
}

#[test]
fn a_room_the_relay_does_not_open_shows_no_link_and_merges_nothing() {
    let refused = || RelayEvent::Error {
        reason: "group calls are not available on this relay".into(),
        request: Some(RefusedRequest::OpenGroup),
    };
    let mut world = World::call(transport_only());
    world.input(From::Host, Input::AddParticipant);
    world.relay_event(From::Host, refused());
    world.settle();
    assert_eq!(world.host.notices_with(GROUP_REFUSED), 1);
    // A `group` after it (a relay that changed its mind) shows nothing asked for before.
    world.input(From::Host, Input::JoinGroup);
    assert!(world.host.view.add_link.is_none());

    let mut world = World::call(transport_only());
    world.input(From::Host, Input::Merge);
    assert!(world.host.view.merge_offered.is_none(), "the other tab waits for the relay");
    world.relay_event(From::Host, refused());
    world.settle();
    assert_eq!(world.host.notices_with(MERGE_REFUSED), 1);
    assert!(world.host.view.merge_offered.is_none());
    // A refusal that names nothing of this page's (a signal) says nothing of the group.
    world.input(From::Host, Input::Merge);
    let signal = RelayEvent::Error { reason: "no".into(), request: None };
    world.relay_event(From::Host, signal);
    world.settle();
    assert_eq!(world.host.notices_with(MERGE_REFUSED), 1);
    // Asked on a socket that then closes: the answer never comes on the next one.
    world.input(From::Host, Input::RelayOpen);
    assert_eq!(world.host.notices_with(MERGE_LOST), 1);
    world.input(From::Host, Input::AddParticipant);
    world.input(From::Host, Input::RelayOpen);
    assert_eq!(world.host.notices_with(GROUP_LOST), 1);
    // No answer at all: given up after 10 s, so that a `group` much later (the other person
    // adding someone) shows no old link.
    world.input(From::Host, Input::AddParticipant);
    world.advance(11_000);
    assert_eq!(world.host.notices_with(GROUP_REFUSED), 1);
    world.input(From::Host, Input::JoinGroup);
    assert!(world.host.view.add_link.is_none());
    assert!(world.host.connected() && world.host.view.ended.is_none());
}

#[test]
fn a_merge_and_an_add_link_asked_together_both_wait_for_the_room() {
    let mut world = World::call(transport_only());
    world.input(From::Host, Input::Merge);
    world.input(From::Host, Input::AddParticipant);
    // Each press asks (the relay answers each with `group`); the room opens once.
    assert_eq!(world.host.relay_requests, vec![RelayRequest::OpenGroup {}; 2]);
    world.input(From::Host, Input::JoinGroup);
    assert!(world.host.view.merge_offered.is_some() && world.host.view.add_link.is_some());
}

#[test]
fn a_relay_without_groups_or_parks_says_so_before_anyone_presses() {
    use shieldcall_protocol::RelayFeature::{Group, Park};
    let mut world = World::call(transport_only());
    assert_eq!(world.host.ctl.group_unavailable(), None);
    // Back through another node of a cluster (its nodes share no park secret): its `joined`
    // says what it lacks, and the page's menu is told.
    let joined = |lacks| RelayEvent::Joined { peers: 1, rejoin: "t".into(), turn: None, lacks };
    world.relay_event(From::Host, joined(vec![Group, Park]));
    world.settle();
    let lacking = (Some(GROUP_NOT_ON_RELAY), Some(PARK_NOT_ON_RELAY));
    assert_eq!(world.host.view.relay_lacks, lacking);
    assert_eq!(world.host.ctl.park_unavailable(), Some(PARK_NOT_ON_RELAY));
    assert_eq!(world.host.ctl.handover_unavailable(), None, "a transfer still works");
    let asked = world.host.relay_requests.len();
    world.input(From::Host, Input::AddParticipant);
    world.input(From::Host, Input::Merge);
    assert_eq!(world.host.notices_with(GROUP_NOT_ON_RELAY), 2);
    assert_eq!(world.host.relay_requests.len(), asked, "nothing asked of the relay");
    // Another node that offers everything: on again. The call went on throughout.
    world.relay_event(From::Host, joined(vec![]));
    world.settle();
    assert_eq!(world.host.view.relay_lacks, (None, None));
    world.input(From::Host, Input::AddParticipant);
    assert_eq!(world.host.relay_requests.len(), asked + 1, "asked, now");
    assert!(world.host.connected() && world.guest.connected());
}

#[test]
fn under_e2ee_nobody_can_be_added() {
    let mut world = World::call(Settings::default());
    world.assert_locked();
    world.input(From::Host, Input::AddParticipant);
    assert!(world.host.relay_requests.is_empty());
    assert_eq!(world.host.notices_with(GROUP_NEEDS_E2EE_OFF), 1);
    assert!(world.host.view.add_link.is_none());
    assert_eq!(world.host.ctl.group_unavailable(), Some(GROUP_NEEDS_E2EE_OFF));
}

#[test]
fn a_page_that_asked_for_e2ee_leaves_a_group_saying_why() {
    let mut world = World::new(Settings::default());
    world.input(From::Guest, Input::JoinGroup);
    assert_eq!(world.guest.view.ended, Some((Some(GROUP_WITHOUT_E2EE.into()), false)));
    assert_eq!(world.guest.view.status, CallStatus::Ended(GROUP_WITHOUT_E2EE.into()));

    // Also in a call that is end-to-end encrypted: the relay cannot make it a group.
    let mut world = World::call(Settings::default());
    world.input(From::Host, Input::JoinGroup);
    assert_eq!(world.host.view.ended, Some((Some(GROUP_WITHOUT_E2EE.into()), false)));

    // A guest who asked for E2EE but is already in a confirmed transport-only call (the host
    // has it off, its shield says so) stays when the host adds someone.
    let mut world = World::call(Settings { host_e2ee: false, ..Settings::default() });
    world.input(From::Guest, Input::JoinGroup);
    assert_eq!(world.guest.view.ended, None);
    assert!(world.guest.connected());
}

#[test]
fn a_pair_the_group_layer_starts_connects_on_its_one_joined() {
    // As `crate::group` starts a member's pair: no socket of its own (no `RelayOpen`), one
    // `joined` for it after `JoinGroup`, and the host's `peer-joined`.
    let mut world = pair_with_another_host(transport_only(), true);
    for who in [From::Host, From::Guest] {
        world.side(who).on_relay = true;
        world.input(who, Input::JoinGroup);
    }
    world.relay_event_on_socket(From::Host, joined(0));
    world.relay_event_on_socket(From::Guest, joined(1));
    world.relay_event_on_socket(From::Host, RelayEvent::PeerJoined);
    world.settle();
    world.advance(2_000);
    for side in [&world.host, &world.guest] {
        assert!(side.connected(), "{:?}", side.view);
        assert!(!side.view.logs.iter().any(|l| l.contains("an answer to no join sent")));
    }
}

#[test]
fn in_a_group_hanging_up_is_left_to_the_relay_and_the_group_layer() {
    // In a group hanging up is leaving, which the group layer reads from the relay's `bye`
    // (crate::group): a pair neither sends its hang-up on the data channel nor ends on one.
    let mut world = World::call(transport_only());
    for who in [From::Host, From::Guest] {
        world.input(who, Input::JoinGroup);
    }
    let guests = world.guest.ctl.session().hang_up().unwrap().0;
    world.input(From::Host, Input::ChatBinary(shieldcall_protocol::hang_up_message(&guests)));
    assert_eq!(world.host.view.ended, None);
    assert!(world.host.view.logs.iter().any(|l| l.contains("of a group pair was not read")));
    world.input(From::Guest, Input::HangUp);
    let kinds: Vec<u8> = world.guest.binary_sent.iter().map(|m| m[0]).collect();
    assert!(!kinds.contains(&shieldcall_protocol::HANG_UP_KIND), "{kinds:?}");
    assert!(world.guest.sent_since(0, |s| matches!(s, Signal::Bye { mac: Some(_) })) > 0);
    // Its signed `bye`, delivered unaddressed (as a relay may), is the member leaving: this
    // page's call, with everyone else in the group, goes on.
    assert_eq!(world.host.view.ended, None);
    assert!(world.host.view.logs.iter().any(|l| l.contains("taken as the member leaving")));
}

#[test]
fn a_full_group_is_said_so() {
    let mut world = World::new(transport_only());
    // The relay's answer to the join this page sent (beyond it, forged: attacks.rs).
    world.input(From::Guest, Input::RelayOpen);
    world.input(From::Guest, Input::GroupFull);
    assert_eq!(world.guest.view.ended, Some((Some(GROUP_FULL.into()), false)));
}

#[test]
fn a_group_guest_takes_another_host_key_only_transport_only_and_confirmed() {
    // Without the group, a host key the link does not commit to is an attack.
    let mut world = pair_with_another_host(transport_only(), true);
    world.join();
    assert_eq!(world.guest.warning(), Some(WarningReason::CommitmentMismatch));

    // In a group the pair's host is whoever came earlier: connected, confirmed, never locked.
    let mut world = pair_with_another_host(transport_only(), true);
    world.input(From::Guest, Input::JoinGroup);
    world.join();
    world.advance(30_000);
    for side in [&world.host, &world.guest] {
        assert!(side.connected(), "{:?}", side.view);
        assert!(matches!(side.shield(), ShieldState::Unlocked { .. }), "{:?}", side.view);
        assert_eq!(side.warned_in_call(), None);
        assert!(!side.ever_shown(|s| matches!(s, ShieldState::Locked { .. })));
    }

    // A relay playing a host of its own has no link secret: no confirmation, a red shield.
    let mut world = pair_with_another_host(transport_only(), false);
    world.input(From::Guest, Input::JoinGroup);
    world.join();
    world.advance(30_000);
    assert!(world.guest.warning().is_some(), "{:?}", world.guest.view);
    assert!(!world.guest.ever_shown(|s| matches!(s, ShieldState::Locked { .. })));
}

#[test]
fn a_merge_sends_the_other_call_to_the_group_over_the_channel_and_leaves() {
    // Call 1: the person (host) with B; call 2, in another tab: the person (host) with C.
    let mut one = World::call(transport_only());
    let mut two = World::call(transport_only());
    one.input(From::Host, Input::Merge);
    assert_eq!(one.host.relay_requests, vec![RelayRequest::OpenGroup {}]);
    assert_eq!(one.host.notices_with(MERGING), 1);
    one.input(From::Host, Input::JoinGroup);
    let link = one.host.view.merge_offered.clone().expect("the other tabs are told");
    assert!(!format!("{link:?}").contains(&link.add.secret.to_link_text()), "no secret in Debug");
    // The tab of call 2 hears it: C is sent the link over the data channel, never the relay.
    let relayed = two.host.sent.len();
    two.input(From::Host, Input::MergeInto(link.clone()));
    two.settle();
    assert_eq!(two.host.sent.len(), relayed, "nothing through the relay");
    assert_eq!(two.guest.view.merge_followed, Some(link.clone()));
    assert_eq!(two.guest.view.ended, Some((Some(MERGED_HERE.into()), true)));
    // The tab of call 2 leaves once the message has had time to cross.
    assert_eq!(two.host.view.ended, None);
    two.advance(4_000);
    assert_eq!(two.host.view.ended, Some((Some(MERGED_AWAY.into()), true)));
    // The same call's own merge is not one to follow.
    let mut three = World::call(transport_only());
    let own = shieldcall_call::group::MergeLink { call_id: three.call_id(), ..link };
    three.input(From::Host, Input::MergeInto(own));
    three.settle();
    assert_eq!(three.guest.view.merge_followed, None);
}

#[test]
fn under_e2ee_there_is_no_merge_and_a_merge_message_is_not_followed() {
    let mut world = World::call(Settings::default());
    world.input(From::Host, Input::Merge);
    assert!(world.host.relay_requests.is_empty());
    assert!(world.host.view.merge_offered.is_none());
    let mut open = World::call(transport_only());
    open.input(From::Host, Input::Merge);
    open.input(From::Host, Input::JoinGroup);
    let link = open.host.view.merge_offered.clone().unwrap();
    world.input(From::Host, Input::MergeInto(link.clone()));
    world.settle();
    assert_eq!(world.guest.view.merge_followed, None);
    assert_eq!(world.host.view.ended, None);
    // A merge message that arrives in an end-to-end encrypted call (a peer's page that
    // sent it in plain) is not followed.
    world.input(From::Guest, Input::ChatBinary(link.to_message()));
    assert_eq!(world.guest.view.merge_followed, None);
    assert_eq!(world.guest.view.ended, None);
    // Nor garbage in a transport-only one.
    open.input(From::Guest, Input::ChatBinary(vec![5, b'x']));
    assert_eq!(open.guest.view.merge_followed, None);
    assert_eq!(open.guest.view.ended, None);
}
