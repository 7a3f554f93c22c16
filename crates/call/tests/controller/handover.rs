//! Parking and transferring one's place in a transport-only call: the parked page shows the
//! pickup code and link and leaves, the other person is on hold, a pickup by link or by code
//! takes the place and the call goes on; a park not picked up in time ends the call with the
//! reason; a blind transfer names who joins; under E2EE, none of it.

use shieldcall_call::controller::{
    CONSULT_DONE, CONSULTING, CallStatus, HANDOVER_NEEDS_E2EE_OFF, HANDOVER_NOT_YET, Input,
    LinkState, ON_HOLD, PARK_ENDED, PARK_FAILED, PARK_LOST, PARK_REFUSED, PARKED_HERE, PICKED_UP,
    TRANSFER_LOST, TRANSFER_NEEDS_NAME, TRANSFER_OFFER_KIND, TRANSFER_OFFERED, TRANSFER_REFUSED,
    TRANSFER_SENT, peer_transferred, transferred_away,
};
use shieldcall_call::move_link::MoveLink;
use shieldcall_call::pickup::host_aes_gcm::open_link;
use shieldcall_call::pickup::{PickupCode, pickup_path, read_pickup_path};
use shieldcall_e2ee::session::{Role, ShieldState};
use shieldcall_protocol::{MoveToken, RefusedRequest, RelayEvent, RelayRequest, Signal};

use crate::harness::{From, Settings, WorkerMode, World, joined};

const TOKEN: &str = "cGFyay10b2tlbi0xMjM0NT";
const RELAY_HALF: &str = "7K3M9Q";

fn transport_only() -> Settings {
    Settings { host_e2ee: false, ..Settings::default() }
}

fn other(who: From) -> From {
    match who {
        From::Host => From::Guest,
        From::Guest => From::Host,
    }
}

/// Both connected and confirmed, transport only.
fn goes_on(world: &World) {
    for side in [&world.host, &world.guest] {
        assert!(side.connected(), "{:?}", side.view);
        assert!(matches!(side.shield(), ShieldState::Unlocked { .. }), "{:?}", side.view);
        assert_eq!(side.warned_in_call(), None);
        assert_eq!(side.worker.mode, WorkerMode::TransportOnly);
        assert_eq!(side.view.status, CallStatus::Connected);
    }
}

/// `who` parks the call, the relay holds the place for `ttl`: returns the pickup link and
/// code the page shows, and the deposit it sent.
fn park(world: &mut World, who: From, ttl: u64) -> (MoveLink, PickupCode, String) {
    world.input(who, Input::Park { random: [9; 18] });
    let Some(RelayRequest::Park { deposit }) = world.side(who).relay_requests.pop() else {
        panic!("no park asked for: {:?}", world.side(who).view);
    };
    let token = MoveToken(TOKEN.into());
    world.relay_event(who, RelayEvent::Parked { token, code: RELAY_HALF.into(), ttl });
    world.relay_event(other(who), RelayEvent::PeerParked { ttl });
    world.settle();
    let (link, code, shown_ttl) = world.side(who).view.parked.clone().expect("code shown");
    assert_eq!(shown_ttl, ttl);
    (link, code, deposit)
}

/// A page opened from `link` takes `who`'s held place; the other person hears `peer-moved`.
fn picks_up(world: &mut World, who: From, link: MoveLink) {
    let mut page = world.page_from_move_link(link);
    page.on_relay = true;
    *world.side(who) = page;
    world.relay_event(who, joined(1));
    world.relay_event(other(who), RelayEvent::PeerMoved);
    world.settle();
}

#[test]
fn a_parked_call_puts_the_other_person_on_hold_and_a_pickup_link_takes_it_up() {
    for who in [From::Host, From::Guest] {
        let mut world = World::call(transport_only());
        goes_on(&world);
        let (link, code, deposit) = park(&mut world, who, 300);
        assert_eq!(link.role, if who == From::Host { Role::Host } else { Role::Guest });
        assert_eq!(code.relay_half(), RELAY_HALF);
        // The parking page leaves (no bye: the other person's call goes on, on hold).
        let parker = world.side(who);
        assert_eq!(parker.view.ended, Some((Some(PARKED_HERE.into()), true)));
        assert!(parker.link.is_none());
        assert!(parker.sent.iter().all(|(_, s)| !matches!(s, Signal::Bye { .. })));
        // The deposit holds the link's secret part, sealed: the code opens it into the link.
        assert!(!deposit.contains(&link.secret.to_link_text()));
        assert_eq!(open_link(&code, &MoveToken(TOKEN.into()), &deposit), Ok(link.clone()));
        // The other person: on hold, told, no connection, the call not over.
        let held = world.side(other(who));
        assert_eq!(held.view.status, CallStatus::OnHold);
        assert_eq!(held.notices_with(ON_HOLD), 1);
        assert!(held.link.is_none(), "no media from the parked place");
        assert_eq!(held.view.ended, None);
        world.advance(60_000);
        assert_eq!(world.side(other(who)).view.status, CallStatus::OnHold);

        picks_up(&mut world, who, link);
        assert_eq!(world.side(other(who)).notices_with(PICKED_UP), 1);
        goes_on(&world);
    }
}

#[test]
fn on_hold_a_reconnection_of_ones_own_relay_socket_stays_on_hold() {
    for who in [From::Host, From::Guest] {
        let mut world = World::call(transport_only());
        let (link, ..) = park(&mut world, who, 300);
        // The held side's socket drops and comes back: the relay counts the held place.
        world.relay_event(other(who), joined(1));
        world.advance(20_000);
        let held = world.side(other(who));
        assert_eq!(held.view.status, CallStatus::OnHold, "{:?}", held.view);
        assert_eq!(held.warned_in_call(), None, "no hello to time out");
        picks_up(&mut world, who, link);
        goes_on(&world);
        // Back to an empty room instead: the park ended meanwhile (its `park-ended` lost).
        let mut world = World::call(transport_only());
        park(&mut world, who, 300);
        world.relay_event(other(who), joined(0));
        world.settle();
        let held = world.side(other(who));
        assert_eq!(held.view.ended, Some((Some(PARK_ENDED.into()), true)), "{:?}", held.view);
    }
}

#[test]
fn a_pickup_while_the_held_sides_socket_was_down_is_heard_from_the_pickers_hello() {
    for who in [From::Host, From::Guest] {
        let mut world = World::call(transport_only());
        let (link, ..) = park(&mut world, who, 300);
        // The held side's socket is down when the pickup comes: its `peer-moved` is lost.
        let mut page = world.page_from_move_link(link);
        page.on_relay = true;
        *world.side(who) = page;
        world.relay_event(who, joined(1));
        world.settle();
        // Back on the relay, it finds someone in the held place, who hears it joined.
        world.relay_event(other(who), joined(1));
        world.relay_event(who, RelayEvent::PeerJoined);
        world.settle();
        goes_on(&world);
        assert_eq!(world.side(other(who)).notices_with(PICKED_UP), 1);
    }
}

#[test]
fn a_hold_is_over_once_the_other_person_is_back_and_a_late_park_ended_ends_nothing() {
    // The parker's own page took its place back (its park's answer lost), or the relay's
    // `peer-parked` was forged: the relay then says `peer-joined`, and the two agree again.
    let mut world = World::call(transport_only());
    world.relay_event(From::Guest, RelayEvent::PeerParked { ttl: 300 });
    world.settle();
    assert_eq!(world.guest.view.status, CallStatus::OnHold);
    // The guest's page dropped the connection: the host's browser sees it fail.
    world.media_drops(LinkState::Failed);
    world.relay_event(From::Guest, RelayEvent::PeerJoined);
    world.settle();
    world.advance(20_000);
    goes_on(&world);
    world.relay_event(From::Guest, RelayEvent::ParkEnded);
    world.settle();
    assert_eq!(world.guest.view.ended, None, "{:?}", world.guest.view);
}

#[test]
fn a_pickup_by_code_opens_the_same_link_and_a_typo_opens_nothing() {
    let mut world = World::call(transport_only());
    let (link, code, deposit) = park(&mut world, From::Host, 300);
    let typed = PickupCode::parse(&code.to_text().to_lowercase()).unwrap();
    let opened = open_link(&typed, &MoveToken(TOKEN.into()), &deposit).unwrap();
    assert_eq!(opened, link);
    let mut text = code.to_text();
    let last = if text.ends_with('0') { '1' } else { '0' };
    text.pop();
    text.push(last);
    let typo = PickupCode::parse(&text).unwrap();
    assert!(open_link(&typo, &MoveToken(TOKEN.into()), &deposit).is_err());
    picks_up(&mut world, From::Host, opened);
    goes_on(&world);
}

#[test]
fn a_page_that_cannot_seal_the_deposit_says_so_and_the_call_goes_on() {
    let mut world = World::call(transport_only());
    world.host.cannot_seal = true;
    world.input(From::Host, Input::Park { random: [9; 18] });
    assert!(world.host.relay_requests.is_empty(), "nothing deposited");
    assert_eq!(world.host.notices_with(PARK_FAILED), 1);
    assert_eq!(world.host.view.ended, None);
    goes_on(&world);
    // The relay's answer to a park never asked for shows nothing.
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Host, RelayEvent::Parked { token, code: RELAY_HALF.into(), ttl: 9 });
    world.settle();
    assert!(world.host.view.parked.is_none());
    // Once it can, the park goes ahead.
    world.host.cannot_seal = false;
    park(&mut world, From::Host, 300);
    assert_eq!(world.host.view.ended, Some((Some(PARKED_HERE.into()), true)));
}

#[test]
fn park_pressed_twice_parks_once_and_the_code_shown_opens_its_deposit() {
    let mut world = World::call(transport_only());
    // A sealed deposit nobody asked for goes nowhere.
    let stray = Input::DepositSealed { nonce: [9; 12], deposit: Some("AAAA".into()) };
    world.input(From::Host, stray);
    assert!(world.host.relay_requests.is_empty());
    // The second press comes before the first's deposit is sealed.
    let now = world.now;
    world.host.handle(Input::Park { random: [9; 18] }, now);
    world.input(From::Host, Input::Park { random: [3; 18] });
    let [RelayRequest::Park { deposit }] = &world.host.relay_requests[..] else {
        panic!("one park asked for: {:?}", world.host.relay_requests);
    };
    let deposit = deposit.clone();
    let token = MoveToken(TOKEN.into());
    world.relay_event(
        From::Host,
        RelayEvent::Parked { token: token.clone(), code: RELAY_HALF.into(), ttl: 300 },
    );
    world.settle();
    let (link, code, _) = world.host.view.parked.clone().expect("code shown");
    assert_eq!(open_link(&code, &token, &deposit), Ok(link));
}

#[test]
fn a_park_sealed_across_a_new_relay_socket_still_goes_to_the_relay() {
    let mut world = World::call(transport_only());
    let now = world.now;
    // The socket is replaced while the page seals: the deposit goes on the new one.
    world.host.handle(Input::Park { random: [9; 18] }, now);
    world.input(From::Host, Input::RelayOpen);
    assert!(matches!(world.host.relay_requests[..], [RelayRequest::Park { .. }]));
    // An answer for another deposit (another nonce) is no park's.
    let stray = Input::DepositSealed { nonce: [1; 12], deposit: Some("AAAA".into()) };
    world.input(From::Host, stray);
    assert_eq!(world.host.relay_requests.len(), 1);
}

#[test]
fn a_park_whose_socket_drops_before_the_answer_is_said_and_can_be_asked_again() {
    let mut world = World::call(transport_only());
    world.input(From::Host, Input::Park { random: [9; 18] });
    assert_eq!(world.host.relay_requests.len(), 1);
    world.input(From::Host, Input::Park { random: [3; 18] });
    assert_eq!(world.host.relay_requests.len(), 1, "the second press waits for the first");
    world.input(From::Host, Input::RelayOpen);
    assert_eq!(world.host.notices_with(PARK_LOST), 1);
    // The old socket's answer never comes on the new one; a late one shows nothing.
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Host, RelayEvent::Parked { token, code: RELAY_HALF.into(), ttl: 9 });
    world.settle();
    assert!(world.host.view.parked.is_none());
    assert_eq!(world.host.view.ended, None);
    // Asked again, on the new socket: the code shown opens the deposit sent with it.
    let (link, code, deposit) = park(&mut world, From::Host, 300);
    assert_eq!(open_link(&code, &MoveToken(TOKEN.into()), &deposit), Ok(link));
}

#[test]
fn a_park_the_relay_refuses_is_said_and_can_be_asked_again() {
    let mut world = World::call(transport_only());
    world.input(From::Host, Input::Park { random: [9; 18] });
    // What a relay cluster answers (crates/relay/src/handover.rs); a refusal of something
    // else first, which leaves the park waiting.
    let reason = "not a valid Shieldcall signalling message".to_string();
    world.relay_event(From::Host, RelayEvent::Error { reason, request: None });
    let transfer = Some(RefusedRequest::Transfer);
    world.relay_event(From::Host, RelayEvent::Error { reason: "no".into(), request: transfer });
    world.settle();
    assert_eq!(world.host.notices_with(PARK_REFUSED), 0);
    let reason = "parking or transferring a call is not available on this relay".to_string();
    let request = Some(RefusedRequest::Park);
    world.relay_event(From::Host, RelayEvent::Error { reason: reason.clone(), request });
    world.settle();
    assert_eq!(world.host.notices_with(PARK_REFUSED), 1);
    assert!(world.host.view.notices.iter().all(|n| !n.contains(&reason)), "the page's words");
    assert_eq!(world.host.view.ended, None);
    goes_on(&world);
    world.input(From::Host, Input::Park { random: [3; 18] });
    assert_eq!(world.host.relay_requests.len(), 2, "asked again");
    // A park refusal with no park on its way says nothing of parking.
    let request = Some(RefusedRequest::Park);
    world.relay_event(From::Guest, RelayEvent::Error { reason: "no".into(), request });
    world.settle();
    assert_eq!(world.guest.notices_with(PARK_REFUSED), 0);
}

#[test]
fn a_transfer_whose_socket_drops_before_the_answer_is_said_and_can_be_asked_again() {
    let mut world = World::call(transport_only());
    world.input(From::Guest, Input::Transfer { name: "Alex".into() });
    world.input(From::Guest, Input::RelayOpen);
    assert_eq!(world.guest.notices_with(TRANSFER_LOST), 1);
    // The old socket's answer never comes on the new one; a late one shows nothing.
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Guest, RelayEvent::TransferToken { token: token.clone(), ttl: 120 });
    world.settle();
    assert!(world.guest.view.transfer_link.is_none());
    goes_on(&world);
    // Asked again on the new socket, the link shows; the next new socket says nothing of it.
    world.input(From::Guest, Input::Transfer { name: "Alex".into() });
    world.relay_event(From::Guest, RelayEvent::TransferToken { token, ttl: 120 });
    world.settle();
    assert!(world.guest.view.transfer_link.is_some());
    world.input(From::Guest, Input::RelayOpen);
    assert_eq!(world.guest.notices_with(TRANSFER_LOST), 1);
}

#[test]
fn a_transfer_token_lives_no_longer_than_a_move_link_whatever_the_relay_says() {
    let mut world = World::call(transport_only());
    world.input(From::Guest, Input::Transfer { name: "Alex".into() });
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Guest, RelayEvent::TransferToken { token, ttl: u64::MAX });
    world.settle();
    let (_, _, ttl) = world.guest.view.transfer_link.clone().expect("the link shows");
    assert_eq!(ttl, u64::from(shieldcall_e2ee::session::MAX_MOVE_TTL_SECS));
    world.advance(ttl * 1000 + 1000);
    assert!(world.guest.view.transfer_link.is_none(), "taken off the screen in time");
    goes_on(&world);
}

#[test]
fn a_transfer_the_relay_refuses_is_said_and_can_be_asked_again() {
    let mut world = World::call(transport_only());
    world.input(From::Guest, Input::Transfer { name: "Alex".into() });
    assert_eq!(world.guest.relay_requests.len(), 1);
    let reason = "parking or transferring a call is not available on this relay".to_string();
    let request = Some(RefusedRequest::Transfer);
    world.relay_event(From::Guest, RelayEvent::Error { reason, request });
    world.settle();
    assert_eq!(world.guest.notices_with(TRANSFER_REFUSED), 1);
    goes_on(&world);
    // A token the relay sends after its refusal shows nothing; asked again, one does.
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Guest, RelayEvent::TransferToken { token: token.clone(), ttl: 120 });
    world.settle();
    assert!(world.guest.view.transfer_link.is_none());
    world.input(From::Guest, Input::Transfer { name: "Alex".into() });
    world.relay_event(From::Guest, RelayEvent::TransferToken { token, ttl: 120 });
    world.settle();
    assert!(world.guest.view.transfer_link.is_some());
    // A refusal once the link is shown (the rate limit, say, on a second press) refuses
    // nothing that waits: the link stays, and its use still says to whom the call went.
    let request = Some(RefusedRequest::Transfer);
    world.relay_event(From::Guest, RelayEvent::Error { reason: "no".into(), request });
    world.settle();
    assert_eq!(world.guest.notices_with(TRANSFER_REFUSED), 1, "said once, for the refused one");
    assert!(world.guest.view.transfer_link.is_some());
    world.relay_event(From::Guest, RelayEvent::Moved);
    world.settle();
    assert_eq!(world.guest.view.ended, Some((Some(transferred_away("Alex")), true)));
}

#[test]
fn a_call_hung_up_while_the_deposit_is_sealed_deposits_nothing() {
    let mut world = World::call(transport_only());
    let now = world.now;
    // Park pressed, and Hang up before the browser has sealed.
    world.host.handle(Input::Park { random: [9; 18] }, now);
    world.input(From::Host, Input::HangUp);
    assert!(world.host.relay_requests.is_empty(), "nothing deposited");
    // Nor is the person who hung up told anything about parking.
    assert_eq!(world.host.notices_with(PARK_FAILED), 0);
    assert_eq!(world.host.notices_with(HANDOVER_NOT_YET), 0);
    assert!(world.host.view.parked.is_none());
}

#[test]
fn a_park_nobody_picks_up_ends_the_call_for_the_other_person() {
    let mut world = World::call(transport_only());
    park(&mut world, From::Guest, 1);
    world.relay_event(From::Host, RelayEvent::ParkEnded);
    world.settle();
    assert_eq!(world.host.view.ended, Some((Some(PARK_ENDED.into()), true)));
    assert_eq!(world.host.view.status, CallStatus::Ended(PARK_ENDED.into()));
}

#[test]
fn a_blind_transfer_names_who_joins_and_the_old_page_leaves() {
    let mut world = World::call(transport_only());
    world.input(From::Guest, Input::Transfer { name: "  Alex <b>Martin</b> ".into() });
    let name = "Alex <b>Martin</b>";
    assert_eq!(
        world.guest.relay_requests.pop(),
        Some(RelayRequest::Transfer { name: name.into() })
    );
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Guest, RelayEvent::TransferToken { token, ttl: 120 });
    world.settle();
    let (link, shown_name, ttl) = world.guest.view.transfer_link.clone().expect("link shown");
    assert_eq!((shown_name.as_str(), ttl, link.role), (name, 120, Role::Guest));
    assert!(link.commitment.is_some(), "the new guest checks the host's key too");
    // Nothing changes until someone takes the place.
    goes_on(&world);

    let mut page = world.page_from_move_link(link);
    page.on_relay = true;
    let mut old = std::mem::replace(&mut world.guest, page);
    old.handle(Input::Inbound(shieldcall_protocol::Inbound::Relay(RelayEvent::Moved)), world.now);
    assert_eq!(old.view.ended, Some((Some(transferred_away(name)), true)));
    world.relay_event(From::Guest, joined(1));
    world.relay_event(From::Host, RelayEvent::PeerTransferred { name: name.into() });
    world.settle();
    assert_eq!(world.host.notices_with(&peer_transferred(name)), 1);
    goes_on(&world);
    // The link's time runs out on the old page only; nothing to show on the new one.
    world.advance(120_000);
    assert!(world.guest.view.transfer_link.is_none());
}

#[test]
fn a_transfer_without_a_usable_name_asks_for_one() {
    let mut world = World::call(transport_only());
    for bad in ["", "   ", "a\u{7}b", &"x".repeat(41)] {
        world.input(From::Host, Input::Transfer { name: bad.into() });
    }
    assert!(world.host.relay_requests.is_empty());
    assert_eq!(world.host.notices_with(TRANSFER_NEEDS_NAME), 4);
    // A transfer token nobody asked for shows nothing.
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Host, RelayEvent::TransferToken { token, ttl: 120 });
    world.settle();
    assert!(world.host.view.transfer_link.is_none());
}

#[test]
fn under_e2ee_nothing_is_parked_or_transferred() {
    let mut world = World::call(Settings::default());
    world.assert_locked();
    world.input(From::Host, Input::Park { random: [1; 18] });
    world.input(From::Host, Input::Transfer { name: "Alex".into() });
    assert!(world.host.relay_requests.is_empty(), "nothing asked of the relay");
    assert_eq!(world.host.notices_with(HANDOVER_NEEDS_E2EE_OFF), 2);
    // What a relay sends unasked shows nothing and ends nothing.
    let token = MoveToken(TOKEN.into());
    world.relay_event(From::Host, RelayEvent::Parked { token, code: RELAY_HALF.into(), ttl: 9 });
    world.settle();
    assert!(world.host.view.parked.is_none());
    assert_eq!(world.host.view.ended, None);
    world.assert_locked();
}

#[test]
fn a_refused_pickup_or_transfer_link_is_said_in_its_own_words() {
    use shieldcall_call::pickup::Arrival;
    use shieldcall_protocol::{Inbound, MoveRefusal};
    let mut world = World::call(transport_only());
    let link = world.ask_to_move(From::Host, 120);
    for arrival in [Arrival::Transfer, Arrival::Pickup] {
        for reason in [MoveRefusal::Used, MoveRefusal::Expired, MoveRefusal::Unknown] {
            let mut page = world.page_from_move_link(link.clone());
            page.ctl.arrived_by(arrival);
            // The relay's answer to the page's join, its token refused.
            page.handle(Input::RelayOpen, 0);
            page.handle(Input::Inbound(Inbound::Relay(RelayEvent::MoveRefused { reason })), 0);
            assert_eq!(page.view.ended, Some((Some(arrival.refused(reason).into()), true)));
            assert_eq!(page.connects, 0);
        }
    }
    assert!(Arrival::Transfer.refused(MoveRefusal::Used).starts_with("This transfer link"));
    goes_on(&world);
}

/// `who`'s page puts the other person on hold to consult: returns the held call's pickup link.
fn consult(world: &mut World, who: From) -> MoveLink {
    world.input(who, Input::Consult { random: [4; 18] });
    assert!(matches!(world.side(who).relay_requests.pop(), Some(RelayRequest::Park { .. })));
    let token = MoveToken(TOKEN.into());
    world.relay_event(who, RelayEvent::Parked { token, code: RELAY_HALF.into(), ttl: 300 });
    world.relay_event(other(who), RelayEvent::PeerParked { ttl: 300 });
    world.settle();
    assert!(world.side(who).view.consulting);
    assert_eq!(world.side(who).view.ended, Some((Some(CONSULTING.into()), true)));
    assert_eq!(world.side(other(who)).view.status, CallStatus::OnHold);
    world.side(who).view.parked.clone().expect("the held call's link").0
}

const HELD_CALL: &str = "AAECAwQFBgcICQoLDA0ODw";

#[test]
fn consult_then_transfer_hands_the_held_call_to_the_person_consulted() {
    let mut held = World::call(transport_only());
    let link = consult(&mut held, From::Host);
    let path = pickup_path(HELD_CALL, &link);

    // The consult call: the consulting person (host) and the person consulted (guest).
    let mut consult_call = World::call(transport_only());
    consult_call.input(From::Host, Input::OfferTransfer { path: path.clone() });
    assert_eq!(consult_call.host.notices_with(TRANSFER_SENT), 1);
    assert_eq!(consult_call.guest.view.transfer_offered, Some(path.clone()));
    assert_eq!(consult_call.guest.notices_with(TRANSFER_OFFERED), 1);

    // They join the held call from it (its pickup link); the held person is picked up.
    let offered = read_pickup_path(&path).unwrap();
    let fragment = offered.split_once('#').unwrap().1;
    let their_link = MoveLink::parse_fragment(fragment).unwrap();
    picks_up(&mut held, From::Host, their_link);
    assert_eq!(held.guest.notices_with(PICKED_UP), 1);
    goes_on(&held);
    // Their page leaves the consult call; the consulting page leaves it too.
    consult_call.relay_event(From::Host, RelayEvent::PeerLeft);
    consult_call.settle();
    assert_eq!(consult_call.host.view.ended, Some((Some(CONSULT_DONE.into()), true)));
}

#[test]
fn consult_then_return_picks_the_held_call_up_again() {
    let mut held = World::call(transport_only());
    let link = consult(&mut held, From::Guest);
    picks_up(&mut held, From::Guest, link);
    assert_eq!(held.host.notices_with(PICKED_UP), 1);
    goes_on(&held);
}

#[test]
fn only_a_pickup_link_on_this_origin_is_offered_or_taken() {
    let mut world = World::call(transport_only());
    world.input(From::Host, Input::OfferTransfer { path: "https://evil.example/".into() });
    assert!(world.guest.view.transfer_offered.is_none());
    assert_eq!(world.host.notices_with(TRANSFER_SENT), 0);
    // Forged on the channel: dropped, said, never offered.
    let mut forged = vec![TRANSFER_OFFER_KIND];
    forged.extend_from_slice(b"//evil.example/call/x#m=y");
    world.input(From::Guest, Input::ChatBinary(forged.clone()));
    assert!(world.guest.view.transfer_offered.is_none());
    assert!(world.guest.view.notices.iter().any(|n| n.contains("not a call's link")));
    // Under E2EE nothing plain on the channel is taken.
    let mut locked = World::call(Settings::default());
    locked.assert_locked();
    let link =
        MoveLink::parse_fragment(&format!("m={TOKEN}&s=ICEiIyQlJicoKSorLC0uLw&r=host")).unwrap();
    let mut offer = vec![TRANSFER_OFFER_KIND];
    offer.extend_from_slice(pickup_path(HELD_CALL, &link).as_bytes());
    locked.input(From::Guest, Input::ChatBinary(offer));
    assert!(locked.guest.view.transfer_offered.is_none());
    locked.input(From::Host, Input::OfferTransfer { path: pickup_path(HELD_CALL, &link) });
    assert_eq!(locked.host.notices_with(HANDOVER_NEEDS_E2EE_OFF), 1);
}
