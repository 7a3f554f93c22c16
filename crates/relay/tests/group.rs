//! Group calls against the real `shieldcall-relay` binary: a room of two refuses a third
//! until a member opens it (`open-group`); an open room takes up to four, then `group-full`;
//! signals travel addressed (`to`) and reach only their addressee, with the sender's id as the
//! relay knows it (`from`); a member leaving is announced to the others by id.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::time::Duration;

use common::{Client, call_id, join, join_pair, open, spawn, still_talking};

const QUIET: Duration = Duration::from_millis(100);

/// The next message must be the relay's `group` event; returns `(me, members)`.
async fn group_event(client: &mut Client) -> (u64, Vec<u64>) {
    let text = client.recv().await;
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["t"], "group", "{text}");
    let members = value["members"].as_array().unwrap().iter().map(|m| m.as_u64().unwrap());
    (value["me"].as_u64().unwrap(), members.collect())
}

/// Join an open group of `before` people: `group` first (its id and everyone's), then
/// `joined`. Returns the client and its id.
async fn join_group(addr: std::net::SocketAddr, call: &str, before: u8) -> (Client, u64) {
    let mut client = open(addr, call, None).await;
    let (me, members) = group_event(&mut client).await;
    assert_eq!(members.len(), usize::from(before) + 1, "{members:?}");
    assert_eq!(members.last(), Some(&me), "the newest member is the last");
    let joined: serde_json::Value = serde_json::from_str(&client.recv().await).unwrap();
    assert_eq!(
        (joined["t"].as_str(), joined["peers"].as_u64()),
        (Some("joined"), Some(before.into()))
    );
    client.rejoin = joined["rejoin"].as_str().unwrap().to_string();
    (client, me)
}

fn to(id: u64, candidate: &str) -> String {
    format!(r#"{{"t":"to","to":{id},"s":{{"t":"ice","candidate":"{candidate}"}}}}"#)
}

fn from(id: u64, candidate: &str) -> String {
    format!(r#"{{"t":"from","from":{id},"s":{{"t":"ice","candidate":"{candidate}"}}}}"#)
}

/// A pair that one of them opened to a group: both hear their ids.
async fn open_pair(addr: std::net::SocketAddr, call: &str) -> (Client, Client) {
    let (mut a, mut b) = join_pair(addr, call).await;
    a.send(r#"{"t":"open-group"}"#).await;
    assert_eq!(group_event(&mut a).await, (1, vec![1, 2]));
    assert_eq!(group_event(&mut b).await, (2, vec![1, 2]));
    (a, b)
}

#[tokio::test]
async fn a_room_refuses_a_third_until_a_member_opens_it() {
    let relay = spawn(&[]);
    let call = call_id();
    let (mut a, mut b) = join_pair(relay.addr, &call).await;
    let mut third = open(relay.addr, &call, None).await;
    assert_eq!(third.recv().await, r#"{"t":"full"}"#);
    assert_eq!(third.recv_close().await, (1008, "call is full".to_string()));
    a.expect_quiet(QUIET).await;
    // Only a member can open the room: a stranger's socket has no place to ask from.
    let mut stranger = open(relay.addr, &call, None).await;
    assert_eq!(stranger.recv().await, r#"{"t":"full"}"#);

    // (Also in a longer form than a page sends, past the relay's cheap check for requests.)
    b.send(&format!(r#"{{"t":"open-group"{}}}"#, " ".repeat(64))).await;
    assert_eq!(group_event(&mut a).await, (1, vec![1, 2]));
    assert_eq!(group_event(&mut b).await, (2, vec![1, 2]));
    // Two people in an open room still speak as a pair until a third arrives.
    still_talking(&mut a, &mut b).await;
    let (mut c, c_id) = join_group(relay.addr, &call, 2).await;
    assert_eq!(c_id, 3);
    assert_eq!(a.recv().await, r#"{"t":"member-joined","id":3}"#);
    assert_eq!(b.recv().await, r#"{"t":"member-joined","id":3}"#);
    // Now a signal must say whom it is for.
    a.send(r#"{"t":"ice","candidate":"x"}"#).await;
    assert!(a.recv_error().await.contains("says whom it is for"));
    b.expect_quiet(QUIET).await;
    c.expect_quiet(QUIET).await;
    // A move in a group would take a place the others know by id: refused.
    a.send(r#"{"t":"move"}"#).await;
    let (reason, request) = a.recv_refusal().await;
    assert!(reason.contains("group call cannot be moved"));
    assert_eq!(request.as_deref(), Some("move"));
}

#[tokio::test]
async fn signals_reach_only_their_addressee_with_the_relays_from() {
    let relay = spawn(&[]);
    let call = call_id();
    let (mut a, mut b) = open_pair(relay.addr, &call).await;
    let (mut c, _) = join_group(relay.addr, &call, 2).await;
    for x in [&mut a, &mut b] {
        assert_eq!(x.recv().await, r#"{"t":"member-joined","id":3}"#);
    }
    c.send(&to(1, "c-to-a")).await;
    assert_eq!(a.recv().await, from(3, "c-to-a"));
    b.expect_quiet(QUIET).await;
    a.send(&to(3, "a-to-c")).await;
    assert_eq!(c.recv().await, from(1, "a-to-c"));
    b.send(&to(3, "b-to-c")).await;
    assert_eq!(c.recv().await, from(2, "b-to-c"));
    // A claimed sender is no part of the message: refused, nothing delivered.
    c.send(r#"{"t":"to","to":1,"from":2,"s":{"t":"bye"}}"#).await;
    assert!(c.recv_error().await.contains("not a valid"));
    // Nobody by that id (or oneself): refused.
    c.send(&to(9, "nobody")).await;
    assert!(c.recv_error().await.contains("nobody in this group call has that id"));
    c.send(&to(3, "myself")).await;
    assert!(c.recv_error().await.contains("nobody in this group call has that id"));
    // Only valid signals travel inside.
    c.send(r#"{"t":"to","to":1,"s":{"t":"peer-left"}}"#).await;
    assert!(c.recv_error().await.contains("not a valid"));
    a.expect_quiet(QUIET).await;
    b.expect_quiet(QUIET).await;
}

#[tokio::test]
async fn an_open_room_takes_four_then_is_full_and_leaving_tells_the_others() {
    let relay = spawn(&[]);
    let call = call_id();
    let (mut a, mut b) = open_pair(relay.addr, &call).await;
    let (c, c_id) = join_group(relay.addr, &call, 2).await;
    let (mut d, d_id) = join_group(relay.addr, &call, 3).await;
    assert_eq!((c_id, d_id), (3, 4));
    let mut fifth = open(relay.addr, &call, None).await;
    assert_eq!(fifth.recv().await, r#"{"t":"group-full","max":4}"#);
    assert_eq!(fifth.recv_close().await, (1008, "group call is full".to_string()));
    for x in [&mut a, &mut b] {
        assert_eq!(x.recv().await, r#"{"t":"member-joined","id":3}"#);
        assert_eq!(x.recv().await, r#"{"t":"member-joined","id":4}"#);
    }
    // The third leaves mid-call: the others hear who, and go on.
    c.close().await;
    for x in [&mut a, &mut b, &mut d] {
        assert_eq!(x.recv().await, r#"{"t":"member-left","id":3}"#);
    }
    a.send(&to(4, "still")).await;
    assert_eq!(d.recv().await, from(1, "still"));
    // The free place goes to someone new, with a new id; nobody takes id 3 again.
    let (mut e, e_id) = join_group(relay.addr, &call, 3).await;
    assert_eq!(e_id, 5);
    for x in [&mut a, &mut b, &mut d] {
        assert_eq!(x.recv().await, r#"{"t":"member-joined","id":5}"#);
    }
    e.send(&to(2, "hello-b")).await;
    assert_eq!(b.recv().await, from(5, "hello-b"));
}

#[tokio::test]
async fn a_member_that_reconnects_keeps_its_id() {
    let relay = spawn(&[]);
    let call = call_id();
    let (mut a, mut b) = open_pair(relay.addr, &call).await;
    let (c, _) = join_group(relay.addr, &call, 2).await;
    for x in [&mut a, &mut b] {
        assert_eq!(x.recv().await, r#"{"t":"member-joined","id":3}"#);
    }
    // c's connection went half-open; it comes back with its rejoin token.
    let mut again = open(relay.addr, &call, Some(&c.rejoin)).await;
    let (me, members) = group_event(&mut again).await;
    assert_eq!((me, members), (3, vec![1, 2, 3]));
    let joined: serde_json::Value = serde_json::from_str(&again.recv().await).unwrap();
    assert_eq!(joined["rejoin"].as_str(), Some(c.rejoin.as_str()));
    for x in [&mut a, &mut b] {
        assert_eq!(x.recv().await, r#"{"t":"member-joined","id":3}"#);
    }
    again.send(&to(1, "back")).await;
    assert_eq!(a.recv().await, from(3, "back"));
}

#[tokio::test]
async fn a_pair_that_never_opened_speaks_as_before() {
    let relay = spawn(&[]);
    let call = call_id();
    let (mut a, mut b) = join_pair(relay.addr, &call).await;
    // Addressed signals belong to groups.
    a.send(&to(2, "x")).await;
    assert!(a.recv_error().await.contains("nobody in this group call has that id"));
    still_talking(&mut a, &mut b).await;
    b.close().await;
    assert_eq!(a.recv().await, r#"{"t":"peer-left"}"#);
    let _ = join(relay.addr, &call, 1).await;
}
