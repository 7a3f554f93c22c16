//! The group layer, pure: who is who in a group call and where each of the relay's messages
//! goes (the first controller, another member's, nowhere), who plays host for each pair, and
//! what a member leaving or hanging up does.

use shieldcall_call::group::{Group, Route, is_add_fragment, role_towards};
use shieldcall_e2ee::session::Role;
use shieldcall_protocol::{GroupEvent, Inbound, RelayEvent, RelayRequest, Signal};

fn group(me: u32, members: &[u32]) -> Inbound {
    Inbound::Group(GroupEvent::Group { me, members: members.to_vec() })
}

fn from(id: u32, s: Signal) -> Inbound {
    Inbound::Group(GroupEvent::From { from: id, s })
}

fn ice() -> Signal {
    Signal::Ice { candidate: "c".into(), sdp_mid: None, sdp_m_line_index: None }
}

fn joined(peers: u8) -> Inbound {
    Inbound::Relay(RelayEvent::Joined { peers, rejoin: String::new(), turn: None, lacks: vec![] })
}

#[test]
fn the_earlier_member_plays_host() {
    assert_eq!(role_towards(1, 3), Role::Host);
    assert_eq!(role_towards(3, 1), Role::Guest);
}

#[test]
fn a_pair_that_grows_keeps_its_controller_and_adds_one_per_newcomer() {
    let mut g = Group::default();
    // A pair: signals travel as before, everything goes to the first controller.
    assert_eq!(g.main_signal(ice()), Err(ice()));
    assert_eq!(
        g.inbound(from(2, ice())),
        vec![Route::Ignore("relay: group news in a call of two")]
    );
    assert_eq!(g.inbound(Inbound::Peer(ice())), vec![Route::Main(Inbound::Peer(ice()))]);

    assert_eq!(g.inbound(group(1, &[1, 2])), vec![Route::JoinMain]);
    assert_eq!((g.me(), g.main(), g.members()), (Some(1), Some(2), vec![2]));
    assert_eq!(g.main_signal(ice()), Ok(RelayRequest::To { to: 2, s: ice() }));

    // Someone new: this page came earlier, so it plays host, and waits for their hello.
    let routes = g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 3 }));
    let start = vec![joined(0), Inbound::Relay(RelayEvent::PeerJoined)];
    assert_eq!(routes, vec![Route::Add { id: 3, role: Role::Host, start }]);
    assert_eq!(g.members(), vec![2, 3]);
    // Signals go to whoever the relay says sent them.
    assert_eq!(g.inbound(from(3, ice())), vec![Route::Peer(3, Inbound::Peer(ice()))]);
    assert_eq!(g.inbound(from(2, ice())), vec![Route::Main(Inbound::Peer(ice()))]);
    assert_eq!(
        g.inbound(from(7, ice())),
        vec![Route::Ignore("relay: a signal from nobody in the group")]
    );

    // The newcomer leaves mid-call: its controller goes, the pair goes on.
    let left = Inbound::Group(GroupEvent::MemberLeft { id: 3 });
    assert_eq!(g.inbound(left.clone()), vec![Route::Drop(3)]);
    assert_eq!(g.members(), vec![2]);
    assert_eq!(g.inbound(left), vec![Route::Ignore("relay: someone left who never joined")]);
    // The partner hanging up is the partner leaving: the group goes on.
    assert_eq!(
        g.inbound(from(2, Signal::Bye { mac: None })),
        vec![Route::Main(Inbound::Relay(RelayEvent::PeerLeft))]
    );
}

#[test]
fn someone_joining_a_group_pairs_with_the_earliest_first_and_is_guest_to_all() {
    let mut g = Group::default();
    // Too late: the relay says so before any place is taken.
    assert_eq!(g.inbound(Inbound::Group(GroupEvent::GroupFull { max: 4 })), vec![Route::Full]);
    let routes = g.inbound(group(4, &[1, 2, 4]));
    assert_eq!(
        routes,
        vec![Route::JoinMain, Route::Add { id: 2, role: Role::Guest, start: vec![joined(1)] }]
    );
    assert_eq!(g.main(), Some(1));
    // Its `joined` (with TURN credentials, kept for later controllers) goes to the first.
    assert_eq!(g.inbound(joined(2)), vec![Route::Main(joined(2))]);
    assert_eq!(
        g.main_signal(Signal::Bye { mac: None }),
        Ok(RelayRequest::To { to: 1, s: Signal::Bye { mac: None } })
    );
    // A member hanging up leaves: its controller goes.
    assert_eq!(g.inbound(from(2, Signal::Bye { mac: None })), vec![Route::Drop(2)]);
    // A member back after a lost connection says hello again to the same controller.
    let routes = g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 1 }));
    assert_eq!(routes, vec![Route::Main(Inbound::Relay(RelayEvent::PeerJoined))]);
    assert_eq!(g.inbound(Inbound::Group(GroupEvent::GroupFull { max: 4 })), vec![Route::Full]);
}

#[test]
fn coming_back_to_the_group_finds_who_left_and_who_came_meanwhile() {
    let mut g = Group::default();
    g.inbound(group(1, &[1, 2]));
    g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 3 }));
    // This page's socket dropped; back, the relay says who is there now.
    let routes = g.inbound(group(1, &[1, 2, 4]));
    let start = vec![joined(0), Inbound::Relay(RelayEvent::PeerJoined)];
    assert_eq!(routes, vec![Route::Drop(3), Route::Add { id: 4, role: Role::Host, start }]);
    assert_eq!(g.members(), vec![2, 4]);
}

#[test]
fn a_relay_cannot_make_a_group_that_cannot_be() {
    let mut g = Group::default();
    assert_eq!(g.inbound(group(9, &[1, 2])), vec![Route::Ignore("relay: a group that cannot be")]);
    assert_eq!(
        g.inbound(group(1, &[1, 2, 3, 4, 5])),
        vec![Route::Ignore("relay: a group that cannot be")]
    );
    assert!(!g.active());
    assert_eq!(
        g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 1 })),
        vec![Route::Ignore("relay: group news in a call of two")]
    );
}

#[test]
fn an_add_link_says_so() {
    assert!(is_add_fragment("k=abc&s=def&g=1"));
    assert!(!is_add_fragment("k=abc&s=def"));
}

#[test]
fn a_merge_link_reads_back_and_refuses_anything_else() {
    use shieldcall_call::group::{AddLink, MERGE_KIND, MergeLink};
    use shieldcall_e2ee::keys::EphemeralSecret;
    use shieldcall_e2ee::link::{LinkSecret, new_call_id};
    let mut rng = rand_core::OsRng;
    let link = MergeLink {
        call_id: new_call_id(&mut rng),
        add: AddLink {
            commitment: EphemeralSecret::generate(&mut rng).public_key().commitment(),
            secret: LinkSecret::generate(&mut rng),
        },
    };
    let message = link.to_message();
    assert_eq!(message[0], MERGE_KIND);
    assert_eq!(MergeLink::from_message(&message), Some(link.clone()));
    let text = link.to_text();
    assert!(text.ends_with("&g=1"), "{text}");
    // No URL of the sender's choice: only the parts, each checked.
    for bad in [
        format!("https://evil.example/call/{text}"),
        text.replace("&g=1", ""),
        text.replace("s=", "s=x"),
        "AAAA#k=&s=&g=1".to_string(),
    ] {
        assert_eq!(MergeLink::parse(&bad), None, "{bad}");
    }
    assert_eq!(MergeLink::from_message(&[2, 1]), None, "a media state is no merge");
    assert_eq!(MergeLink::from_message(&[MERGE_KIND, 0xff]), None);
}

#[test]
fn a_relay_cannot_add_more_members_than_a_group_holds() {
    let mut g = Group::default();
    g.inbound(group(1, &[1, 2]));
    let adds = (3..1000)
        .flat_map(|id| g.inbound(Inbound::Group(GroupEvent::MemberJoined { id })))
        .filter(|route| matches!(route, Route::Add { .. }))
        .count();
    assert_eq!(adds, shieldcall_protocol::MAX_GROUP - 2, "this page, its partner, and the rest");
    assert_eq!(g.members().len(), shieldcall_protocol::MAX_GROUP - 1);
    // One leaves: a place for one more.
    g.inbound(Inbound::Group(GroupEvent::MemberLeft { id: 3 }));
    let routes = g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 2000 }));
    assert!(matches!(routes.as_slice(), [Route::Add { id: 2000, .. }]), "{routes:?}");
}

#[test]
fn a_partner_who_left_leaves_a_place_for_someone_new() {
    let mut g = Group::default();
    g.inbound(group(1, &[1, 2, 3, 4]));
    assert_eq!(g.main(), Some(2));
    let routes = g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 5 }));
    assert!(matches!(routes.as_slice(), [Route::Ignore(_)]), "a full group: {routes:?}");
    // The partner leaves (a reload gives it a new place): whoever comes next is added.
    g.inbound(Inbound::Group(GroupEvent::MemberLeft { id: 2 }));
    let routes = g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 6 }));
    assert!(matches!(routes.as_slice(), [Route::Add { id: 6, .. }]), "{routes:?}");
    // The partner back under its old id, the group full again: not a fifth.
    let routes = g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 2 }));
    assert!(matches!(routes.as_slice(), [Route::Ignore(_)]), "{routes:?}");
    // So after a hang-up, and after a group snapshot without the partner.
    let mut g = Group::default();
    g.inbound(group(1, &[1, 2, 3, 4]));
    g.inbound(from(2, Signal::Bye { mac: None }));
    let routes = g.inbound(Inbound::Group(GroupEvent::MemberJoined { id: 7 }));
    assert!(matches!(routes.as_slice(), [Route::Add { id: 7, .. }]), "{routes:?}");
    let mut g = Group::default();
    g.inbound(group(1, &[1, 2, 3]));
    g.inbound(group(1, &[1, 3, 8]));
    assert!(g.members().contains(&8), "{:?}", g.members());
}
