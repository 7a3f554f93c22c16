//! Moving a place to another device, against the real `shieldcall-relay` binary: a member asks
//! for a move token, another socket presents it in its `join` and takes the place; the old
//! socket is told `moved` and closed, the other member hears `peer-moved`. A token works once,
//! for a while, in its own call. (Across a cluster's nodes: `tests/cluster.rs`.)

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::time::Duration;

use common::{
    Client, ask_to_move, call_id, join_pair, metric, move_refused, open, open_moving, scrape,
    spawn, still_talking, take, took_the_place,
};

/// A socket to `call` that has sent nothing yet.
async fn raw(addr: std::net::SocketAddr, call: &str) -> Client {
    let ws = common::try_connect(addr, &format!("/ws/{call}")).await.unwrap();
    Client { ws, rejoin: String::new() }
}

#[tokio::test]
async fn a_move_token_takes_the_place_once() {
    let relay = spawn(&[]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let token = ask_to_move(&mut host, 120).await;
    // The request is the relay's business: the guest hears nothing of it.
    guest.expect_quiet(Duration::from_millis(100)).await;

    let mut phone = take(relay.addr, &call, &token).await;
    took_the_place(&phone, &mut host, &mut guest, r#"{"t":"peer-moved"}"#).await;
    guest.expect_quiet(Duration::from_millis(100)).await; // never `peer-left`
    still_talking(&mut guest, &mut phone).await;

    // The link opened a second time: refused, and the phone keeps its place.
    move_refused(relay.addr, &call, &token, "used").await;
    still_talking(&mut guest, &mut phone).await;
    // The old device's rejoin token no longer counts.
    let mut old = open(relay.addr, &call, Some(&host.rejoin)).await;
    assert_eq!(old.recv().await, r#"{"t":"full"}"#);
    guest.expect_quiet(Duration::from_millis(100)).await;
    // The phone can move on again, with a new token.
    let again = ask_to_move(&mut phone, 120).await;
    assert_ne!(again, token);
}

#[tokio::test]
async fn a_move_token_expires_and_belongs_to_its_own_call() {
    let relay = spawn(&["--move-ttl-secs", "1"]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let token = ask_to_move(&mut host, 1).await;
    // Another call's room knows nothing of it (and none is made for it).
    let (mut other_a, mut other_b) = join_pair(relay.addr, &call_id()).await;
    move_refused(relay.addr, &call_id(), &token, "unknown").await;
    other_a.expect_quiet(Duration::from_millis(50)).await;
    other_b.expect_quiet(Duration::from_millis(50)).await;
    // A made-up token, or the rejoin token, is no move token.
    move_refused(relay.addr, &call, "AAAAAAAAAAAAAAAAAAAAAA", "unknown").await;
    move_refused(relay.addr, &call, &host.rejoin.clone(), "unknown").await;
    // Only the latest token of a place counts.
    let latest = ask_to_move(&mut host, 1).await;
    move_refused(relay.addr, &call, &token, "unknown").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    move_refused(relay.addr, &call, &latest, "expired").await;
    // Nothing changed in the call.
    still_talking(&mut host, &mut guest).await;
    // A malformed token, or both kinds at once, is refused with a reason.
    let mut malformed = open_moving(relay.addr, &call, "nope").await;
    let reason = "invalid move token: expected 22 base64url characters";
    assert_eq!(malformed.recv_error().await, reason);
    assert_eq!(malformed.recv_close().await, (1008, reason.to_string()));
    let mut both = raw(relay.addr, &call).await;
    let two = format!(r#"{{"t":"join","rejoin":"{}","move":"{latest}"}}"#, host.rejoin);
    both.send(&two).await;
    let reason = "a join carries a rejoin token or a move token, not both";
    assert_eq!(both.recv_error().await, reason);
    // Only a joined socket may ask for a token.
    let mut early = raw(relay.addr, &call).await;
    early.send(r#"{"t":"move"}"#).await;
    assert_eq!(early.recv_error().await, r#"expected {"t":"join"} first"#);
}

#[tokio::test]
async fn the_relay_counts_moves_and_never_logs_a_move_token() {
    let relay = spawn(&["--log-format", "json", "--metrics-listen", "127.0.0.1:0"]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    let token = ask_to_move(&mut host, 120).await;
    let mut phone = open_moving(relay.addr, &call, &token).await;
    let _joined = phone.recv().await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-moved"}"#);
    move_refused(relay.addr, &call, &token, "used").await;
    let metrics = scrape(&relay).await;
    assert_eq!(metric(&metrics, "shieldcall_relay_move_tokens_issued_total"), 1, "{metrics}");
    assert_eq!(metric(&metrics, "shieldcall_relay_moves_total"), 1);
    assert_eq!(metric(&metrics, "shieldcall_relay_moves_refused_total"), 1);
    assert!(!metrics.contains(&token));
    let logs = relay.stderr();
    assert!(logs.contains("took a place moved from another device"), "{logs}");
    assert!(!logs.contains(&token), "a move token in the logs: {logs}");
}
