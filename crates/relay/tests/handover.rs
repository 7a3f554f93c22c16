//! Parking and transferring a place, against the real `shieldcall-relay` binary. A park holds
//! the place after its socket goes, tells the other member `peer-parked`, and is picked up by
//! its token (a pickup link) or found by its code (`POST /pickup`); when nobody picks it up in
//! time the other member hears `park-ended`. A transfer token hands the place to someone else
//! and the other member hears the name it was given. Tokens work once, in their own call, and
//! never reach the logs.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::time::Duration;

use common::{
    Client, DEPOSIT, ask_to_move, call_id, join_pair, move_refused, open, park, pickup, pickup_raw,
    rejoin, spawn, still_talking, take, took_the_place,
};

/// Ask for a transfer token naming `name`.
async fn transfer(client: &mut Client, name: &str) -> String {
    client.send(&format!(r#"{{"t":"transfer","name":"{name}"}}"#)).await;
    let answer: serde_json::Value = serde_json::from_str(&client.recv().await).unwrap();
    assert_eq!(answer["t"].as_str(), Some("transfer-token"), "{answer}");
    answer["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_move_or_transfer_link_outlives_a_reconnection_of_the_socket_that_asked_for_it() {
    let relay = spawn(&[]);
    for transfer in [false, true] {
        let call = call_id();
        let (mut host, mut guest) = join_pair(relay.addr, &call).await;
        let token = match transfer {
            true => self::transfer(&mut host, "Alex").await,
            false => ask_to_move(&mut host, 120).await,
        };
        // The host's socket drops and its page comes back with its rejoin token, the link
        // still on its screen: the link still takes the place.
        let mut host = rejoin(relay.addr, &call, Some(&host.rejoin), 1).await;
        assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
        let mut phone = take(relay.addr, &call, &token).await;
        let told = match transfer {
            true => r#"{"t":"peer-transferred","name":"Alex"}"#,
            false => r#"{"t":"peer-moved"}"#,
        };
        took_the_place(&phone, &mut host, &mut guest, told).await;
        still_talking(&mut guest, &mut phone).await;
    }
}

#[tokio::test]
async fn a_parked_place_is_held_without_its_socket_and_picked_up_by_link_once() {
    let relay = spawn(&["--park-ttl-secs", "30"]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    // A deposit that is not base64url, or too long: refused, naming the park, nothing held.
    for bad in ["not base64url!", &"A".repeat(513)] {
        host.send(&format!(r#"{{"t":"park","deposit":"{bad}"}}"#)).await;
        let (reason, request) = host.recv_refusal().await;
        assert!(reason.starts_with("invalid park deposit"), "{reason}");
        assert_eq!(request.as_deref(), Some("park"));
    }
    guest.expect_quiet(Duration::from_millis(100)).await;
    let (token, _code) = park(&mut host, 30).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-parked","ttl":30}"#);
    // The parker's page leaves: the guest hears nothing, and the place stays taken.
    host.close().await;
    guest.expect_quiet(Duration::from_millis(200)).await; // never `peer-left`
    let mut stranger = open(relay.addr, &call, None).await;
    assert_eq!(stranger.recv().await, r#"{"t":"full"}"#);
    // Signals meanwhile reach nobody.
    guest.send(r#"{"t":"bye"}"#).await;
    assert!(guest.recv_error().await.contains("nobody else"));
    // Nor does the room become a group (whose members address places a pickup hands over):
    // refused, and the park's token still takes the place below.
    guest.send(r#"{"t":"open-group"}"#).await;
    let (refused, request) = guest.recv_refusal().await;
    assert!(refused.contains("cannot become a group now"), "{refused}");
    assert_eq!(request.as_deref(), Some("open-group"), "named, so the page shows no add link");

    // The pickup link: another device takes the held place; the guest hears it as a move.
    let mut phone = take(relay.addr, &call, &token).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-moved"}"#);
    still_talking(&mut guest, &mut phone).await;
    // Opened again (a third device): refused, and the call goes on.
    move_refused(relay.addr, &call, &token, "used").await;
    still_talking(&mut guest, &mut phone).await;
}

#[tokio::test]
async fn a_parked_place_is_found_by_its_code_and_the_code_works_once() {
    let relay = spawn(&["--park-ttl-secs", "30"]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let (token, code) = park(&mut host, 30).await;
    let _ = guest.recv().await;
    host.close().await;
    // The code finds the call, the token and the deposit, whatever its case.
    let (status, found) = pickup(relay.addr, &code.to_ascii_lowercase()).await;
    assert_eq!(status, 200, "{found}");
    let found = &found["found"];
    assert_eq!(found["call"].as_str(), Some(call.as_str()));
    assert_eq!(found["token"].as_str(), Some(token.as_str()));
    assert_eq!(found["deposit"].as_str(), Some(DEPOSIT));
    let mut laptop = take(relay.addr, &call, &token).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-moved"}"#);
    still_talking(&mut guest, &mut laptop).await;
    // Typed again: used. Made up: unknown.
    let (status, answer) = pickup(relay.addr, &code).await;
    assert_eq!((status, answer["refused"]["reason"].as_str()), (410, Some("used")));
    let made_up = if code == "ZZZZZZ" { "YYYYYY" } else { "ZZZZZZ" };
    let (status, answer) = pickup(relay.addr, made_up).await;
    assert_eq!((status, answer["refused"]["reason"].as_str()), (404, Some("unknown")));
}

#[tokio::test]
async fn guessing_pickup_codes_from_one_address_is_cut_off_after_ten_a_minute() {
    let relay = spawn(&[]);
    for guess in 0..10 {
        let (status, body) = pickup_raw(relay.addr, &format!("ZZZZZ{guess}")).await;
        assert_eq!(status, 404, "{body}");
    }
    let (status, body) = pickup_raw(relay.addr, "ZZZZZA").await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too many pickup codes"), "{body}");
}

#[tokio::test]
async fn a_park_not_picked_up_in_time_ends_the_call_for_the_other_person() {
    let relay = spawn(&["--park-ttl-secs", "1"]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let (token, code) = park(&mut host, 1).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-parked","ttl":1}"#);
    host.close().await;
    // Within about a second of the limit, the other person is told.
    assert_eq!(guest.recv().await, r#"{"t":"park-ended"}"#);
    let (status, answer) = pickup(relay.addr, &code).await;
    assert_eq!((status, answer["refused"]["reason"].as_str()), (410, Some("expired")));
    move_refused(relay.addr, &call, &token, "unknown").await;
    // The place is free again: the guest is alone in the call.
    guest.send(r#"{"t":"bye"}"#).await;
    assert!(guest.recv_error().await.contains("nobody else"));
}

#[tokio::test]
async fn a_parker_whose_answer_was_lost_takes_its_held_place_back_and_the_park_is_over() {
    let relay = spawn(&["--park-ttl-secs", "30"]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let (token, code) = park(&mut host, 30).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-parked","ttl":30}"#);
    // The page knows only its rejoin token, as after any dropped socket.
    let parker = host.rejoin.clone();
    host.close().await;
    let mut back = rejoin(relay.addr, &call, Some(&parker), 1).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut guest, &mut back).await;
    // The code and the token say so at once, and take nothing.
    let (status, expired) = pickup(relay.addr, &code).await;
    assert_eq!((status, expired["refused"]["reason"].as_str()), (410, Some("expired")));
    move_refused(relay.addr, &call, &token, "expired").await;
    // Nor does the park that is over keep the call from growing to a group.
    guest.send(r#"{"t":"open-group"}"#).await;
    let group: serde_json::Value = serde_json::from_str(&guest.recv().await).unwrap();
    assert_eq!(group["t"].as_str(), Some("group"), "{group}");
}

#[tokio::test]
async fn a_transfer_link_takes_the_place_once_and_the_other_person_hears_the_name() {
    let relay = spawn(&[]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let token = transfer(&mut host, "Alex Martin").await;
    // Nothing is said until someone takes the place.
    guest.expect_quiet(Duration::from_millis(100)).await;
    let mut alex = take(relay.addr, &call, &token).await;
    let told = r#"{"t":"peer-transferred","name":"Alex Martin"}"#;
    took_the_place(&alex, &mut host, &mut guest, told).await;
    still_talking(&mut guest, &mut alex).await;
    // A third device with the same link: refused.
    move_refused(relay.addr, &call, &token, "used").await;
    still_talking(&mut guest, &mut alex).await;
    // A name that is empty, too long or has control characters: refused, nothing issued.
    for bad in ["", &"x".repeat(41), "a\\u0007b"] {
        alex.send(&format!(r#"{{"t":"transfer","name":"{bad}"}}"#)).await;
        let (reason, request) = alex.recv_refusal().await;
        assert!(reason.starts_with("invalid transfer name"), "{bad}");
        assert_eq!(request.as_deref(), Some("transfer"));
    }
}

#[tokio::test]
async fn tokens_of_another_call_are_refused_and_nothing_is_logged() {
    let relay = spawn(&["--log-format", "json", "--park-ttl-secs", "30"]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let transfer_token = transfer(&mut guest, "Sam").await;
    let (park_token, code) = park(&mut host, 30).await;
    // A park replaces nobody else's token: the guest's transfer still counts, in its call.
    let other = call_id();
    let (mut a, mut b) = join_pair(relay.addr, &other).await;
    move_refused(relay.addr, &other, &park_token, "unknown").await;
    move_refused(relay.addr, &other, &transfer_token, "unknown").await;
    a.expect_quiet(Duration::from_millis(50)).await;
    b.expect_quiet(Duration::from_millis(50)).await;
    // Only a joined socket may park or transfer.
    let ws = common::try_connect(relay.addr, &format!("/ws/{call}")).await.unwrap();
    let mut early = Client { ws, rejoin: String::new() };
    early.send(&format!(r#"{{"t":"park","deposit":"{DEPOSIT}"}}"#)).await;
    assert_eq!(early.recv_error().await, r#"expected {"t":"join"} first"#);
    let _ = guest.recv().await; // peer-parked
    let mut sam = take(relay.addr, &call, &transfer_token).await;
    assert_eq!(host.recv().await, r#"{"t":"peer-transferred","name":"Sam"}"#);
    still_talking(&mut host, &mut sam).await;
    let _ = pickup(relay.addr, &code).await;
    let logs = relay.stderr();
    assert!(logs.contains("place parked"), "{logs}");
    for secret in [&park_token, &transfer_token, &code, &DEPOSIT.to_string()] {
        assert!(!logs.contains(secret.as_str()), "a secret in the logs: {logs}");
    }
    assert!(!logs.contains("Sam"), "the name in the logs: {logs}");
}
