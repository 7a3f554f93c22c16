//! The relay in-process on a loopback port, driven by real WebSocket clients.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::time::Duration;

use common::{Client, call_id, join, join_pair, open, rejoin, start, still_talking, try_connect};
use shieldcall_protocol::MAX_SIGNAL_BYTES;
use shieldcall_relay::{Config, HARD_MESSAGE_CAP};
use tokio_tungstenite::tungstenite::{self, Message};

const HELLO: &str = r#"{"t":"hello","v":1,"e2ee":true,"pub":"BAAA"}"#;

#[tokio::test]
async fn two_clients_exchange_messages_verbatim_both_ways() {
    let relay = start(Config::default()).await;
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;

    // Odd spacing and key order survive: the relay forwards bytes, it does not re-serialise.
    let hello = r#"{ "pub":"BAAA", "t" : "hello","v":1,"e2ee":true }"#;
    host.send(hello).await;
    assert_eq!(guest.recv().await, hello);
    let offer = r#"{"t":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#;
    host.send(offer).await;
    assert_eq!(guest.recv().await, offer);

    guest.send(HELLO).await;
    assert_eq!(host.recv().await, HELLO);
    let answer = r#"{"t":"answer","sdp":"v=0 é ✓"}"#;
    guest.send(answer).await;
    assert_eq!(host.recv().await, answer);
    let ice = r#"{"t":"ice","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}"#;
    guest.send(ice).await;
    assert_eq!(host.recv().await, ice);
    host.send(r#"{"t":"bye"}"#).await;
    assert_eq!(guest.recv().await, r#"{"t":"bye"}"#);
    // Nothing is echoed back to a sender.
    host.expect_quiet(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn one_relay_offers_everything_so_its_joined_names_nothing_it_lacks() {
    let relay = start(Config::default()).await;
    let mut page = open(relay.addr, &call_id(), None).await;
    let joined: serde_json::Value = serde_json::from_str(&page.recv().await).unwrap();
    assert_eq!(joined["t"].as_str(), Some("joined"));
    assert!(joined.get("lacks").is_none(), "{joined}");
}

#[tokio::test]
async fn a_third_socket_gets_full_and_is_closed() {
    let relay = start(Config::default()).await;
    let call = call_id();
    let (mut a, mut b) = join_pair(relay.addr, &call).await;

    let mut third = open(relay.addr, &call, None).await;
    assert_eq!(third.recv().await, r#"{"t":"full"}"#);
    assert_eq!(third.recv_close().await, (1008, "call is full".to_string()));

    // The two inside heard nothing of it and still talk.
    still_talking(&mut a, &mut b).await;
}

#[tokio::test]
async fn a_reconnection_with_its_token_replaces_a_half_open_socket() {
    let relay = start(Config::default()).await;
    let call = call_id();
    let (mut a, mut stale_b) = join_pair(relay.addr, &call).await;
    // b's network went away without a close: the relay still holds b's old socket. Without
    // the token, or with a made-up one, b's reconnection finds the call full.
    for token in [None, Some("AAAAAAAAAAAAAAAAAAAAAA")] {
        let mut refused = open(relay.addr, &call, token).await;
        assert_eq!(refused.recv().await, r#"{"t":"full"}"#, "{token:?}");
    }
    // A malformed token is refused with a reason.
    let mut malformed = open(relay.addr, &call, Some("nope")).await;
    let reason = "invalid rejoin token: expected 22 base64url characters";
    assert_eq!(malformed.recv_error().await, reason);
    assert_eq!(malformed.recv_close().await, (1008, reason.to_string()));
    // The token never goes in the URL, where logs would keep it: such a URL gets no socket.
    let in_url = format!("/ws/{call}?rejoin={}", stale_b.rejoin);
    match try_connect(relay.addr, &in_url).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
        other => panic!("a token in the URL: expected HTTP 400, got {other:?}"),
    }

    // With its token in the first message b takes its place back; a hears that b joined, never
    // that b left.
    let token = stale_b.rejoin.clone();
    let mut b = rejoin(relay.addr, &call, Some(&token), 1).await;
    assert_eq!(b.rejoin, stale_b.rejoin, "the place keeps its token");
    assert_eq!(a.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut a, &mut b).await;
    let replaced = (1000, "replaced by a newer connection of the same person".to_string());
    assert_eq!(stale_b.recv_close().await, replaced);
    a.expect_quiet(Duration::from_millis(100)).await;

    // Had that `joined` been lost, the same token would still take the place back.
    let mut b_again = rejoin(relay.addr, &call, Some(&token), 1).await;
    assert_eq!(a.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut a, &mut b_again).await;
    assert_eq!(b.recv_close().await, replaced);
}

#[tokio::test]
async fn a_peer_leaving_is_announced_and_its_place_freed() {
    let relay = start(Config::default()).await;
    let call = call_id();
    let (mut a, b) = join_pair(relay.addr, &call).await;

    b.close().await;
    assert_eq!(a.recv().await, r#"{"t":"peer-left"}"#);

    // Someone else may take the place; then vanish without a close frame.
    let c = join(relay.addr, &call, 1).await;
    assert_eq!(a.recv().await, r#"{"t":"peer-joined"}"#);
    drop(c);
    assert_eq!(a.recv().await, r#"{"t":"peer-left"}"#);

    // The last one out removes the room: the next joiner finds it empty.
    a.close().await;
    join(relay.addr, &call, 0).await;
}

#[tokio::test]
async fn a_message_with_nobody_to_receive_it_gets_an_error() {
    let relay = start(Config::default()).await;
    let mut alone = join(relay.addr, &call_id(), 0).await;
    alone.send(HELLO).await;
    assert_eq!(alone.recv_error().await, "nobody else is in the call yet: message not delivered");
}

#[tokio::test]
async fn bad_messages_get_clear_errors_and_harm_no_room() {
    let relay = start(Config::default()).await;
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    let (mut c, mut d) = join_pair(relay.addr, &call_id()).await;

    let malformed = "not a valid Shieldcall signalling message";
    for bad in [
        "garbage",
        "",
        "{",
        "[1,2,3]",
        r#"{"t":"offer"}"#,
        r#"{"t":"hello","v":1,"e2ee":"yes","pub":"BAAA"}"#,
        r#"{"t":"ice","candidate":"c","extra":1}"#,
        // A client may not pass itself off as the relay.
        r#"{"t":"peer-left"}"#,
        r#"{"t":"joined","peers":0}"#,
        r#"{"t":"error","reason":"fake"}"#,
    ] {
        a.send(bad).await;
        assert_eq!(a.recv_error().await, malformed, "for {bad:?}");
    }

    a.send_msg(Message::binary(vec![0u8, 159, 146, 150])).await;
    assert_eq!(a.recv_error().await, "binary messages are not accepted: send JSON text");

    // Just over the limit, but under the socket's hard cap: refused, and the socket lives on.
    let oversized = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(MAX_SIGNAL_BYTES));
    a.send(&oversized).await;
    assert_eq!(a.recv_error().await, "message larger than 64 KiB");
    // Exactly at the limit is fine.
    let padding = MAX_SIGNAL_BYTES - r#"{"t":"offer","sdp":""}"#.len();
    let at_limit = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(padding));
    a.send(&at_limit).await;
    assert_eq!(b.recv().await, at_limit);

    // None of it reached the peer, both rooms still work, and the sender's own room too.
    still_talking(&mut c, &mut d).await;
    still_talking(&mut a, &mut b).await;
}

#[tokio::test]
async fn a_message_over_the_hard_cap_closes_only_that_socket() {
    let relay = start(Config::default()).await;
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    let (mut c, mut d) = join_pair(relay.addr, &call_id()).await;

    let huge = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(HARD_MESSAGE_CAP));
    // The relay may close before the client has finished writing.
    let _ = a.try_send(&huge).await;
    // The frame cannot be skipped, so the socket ends; the peer hears that it left.
    assert_eq!(b.recv().await, r#"{"t":"peer-left"}"#);
    // The sender is told why, then the socket is closed with 1009 (message too big).
    assert_eq!(a.recv_error().await, "message too large or not a valid WebSocket frame");
    let (code, _) = a.recv_close().await;
    assert_eq!(code, 1009);

    still_talking(&mut c, &mut d).await;
}

#[tokio::test]
async fn invalid_call_ids_are_refused_before_the_upgrade() {
    let relay = start(Config::default()).await;
    for path in [
        "/ws",
        "/ws/",
        "/ws/short",
        "/ws/AAAAAAAAAAAAAAAAAAAAAAA", // 23
        "/ws/AAAAAAAAAAAAAAAAAAAAA",   // 21
        "/ws/AAAAAAAAAAAAAAAAAAAAA=",  // padding is not base64url here
        "/ws/AAAAAAAAAAAAAAAAAAAA.A",
        "/ws/AAAAAAAAAAA/AAAAAAAAAA",
        "/ws/AAAAAAAAAAAAAAAAAAAAAA/x",
    ] {
        match try_connect(relay.addr, path).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{path}");
            }
            other => panic!("{path}: expected HTTP 400, got {other:?}"),
        }
    }
    let (status, body) = common::http_get(relay.addr, "/ws/short").await;
    assert_eq!(
        (status, body.as_str()),
        (400, "invalid call id: expected 22 base64url characters\n")
    );
}

#[tokio::test]
async fn a_request_the_rate_limit_drops_is_named_in_its_refusal() {
    // A page waiting for its move's, park's, transfer's or group's answer must hear that it
    // will not come. (Each flood on a socket of its own: 150 stays under the strikes that close one.)
    let relay = start(Config::default()).await;
    let requests = [
        (r#"{"t":"move"}"#, "move-token", "move"),
        (r#"{"t":"park","deposit":"AAAA"}"#, "parked", "park"),
        (r#"{"t":"transfer","name":"Alex"}"#, "transfer-token", "transfer"),
        (r#"{"t":"open-group"}"#, "group", "open-group"),
    ];
    for (request, answer, name) in requests {
        let (mut a, _b) = join_pair(relay.addr, &call_id()).await;
        const SENT: usize = 150;
        for _ in 0..SENT {
            a.send(request).await;
        }
        let (mut answered, mut refused) = (0, 0);
        for _ in 0..SENT {
            let text = a.recv().await;
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            match value["t"].as_str() {
                Some(t) if t == answer => answered += 1,
                Some("error") => {
                    assert_eq!(value["request"], name, "{text}");
                    refused += 1;
                }
                _ => panic!("neither {answer} nor a refusal of {name}: {text}"),
            }
        }
        assert!(answered >= 1 && refused >= 1, "{name}: answered {answered}, refused {refused}");
    }
}

#[tokio::test]
async fn the_rate_limit_drops_a_flood_and_then_recovers() {
    let relay = start(Config::default()).await;
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    const SENT: usize = 150;
    for _ in 0..SENT {
        a.send(r#"{"t":"bye"}"#).await;
    }
    // Every message is either forwarded or refused; count both until all are accounted for.
    let (mut forwarded, mut refused) = (0, 0);
    while forwarded + refused < SENT {
        tokio::select! {
            text = b.recv() => { assert_eq!(text, r#"{"t":"bye"}"#); forwarded += 1; }
            reason = a.recv_error() => {
                assert_eq!(reason, "rate limit exceeded: message dropped");
                refused += 1;
            }
        }
    }
    // The burst of 100 fits (ICE trickle); a few more may fit as tokens refill.
    assert!(forwarded >= 100 && refused >= 1, "forwarded {forwarded}, refused {refused}");

    // After a short pause, tokens are back (50 per second).
    tokio::time::sleep(Duration::from_millis(100)).await;
    still_talking(&mut a, &mut b).await;
}

#[tokio::test]
async fn sustained_abuse_closes_the_socket() {
    let relay = start(Config::default()).await;
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    for _ in 0..400 {
        // The relay closes part-way; later sends may fail.
        if a.try_send(r#"{"t":"bye"}"#).await.is_err() {
            break;
        }
    }
    loop {
        match a.next().await {
            Some(Ok(Message::Text(_))) => continue,
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1008);
                assert_eq!(frame.reason.as_str(), "rate limit exceeded for too long");
                break;
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    loop {
        let text = b.recv().await;
        if text == r#"{"t":"peer-left"}"# {
            break;
        }
        assert_eq!(text, r#"{"t":"bye"}"#);
    }
}

#[tokio::test]
async fn a_half_open_socket_is_dropped() {
    let config = Config {
        ping_interval: Duration::from_millis(50),
        dead_after: Duration::from_millis(200),
        ..Config::default()
    };
    let relay = start(config).await;
    let (mut a, silent) = join_pair(relay.addr, &call_id()).await;
    // `silent` never reads again, so it never answers a ping; `a` keeps answering.
    assert_eq!(a.recv().await, r#"{"t":"peer-left"}"#);
    drop(silent);
}

#[tokio::test]
async fn an_idle_room_is_dropped_and_a_busy_one_kept() {
    let config = Config { idle_timeout: Duration::from_millis(400), ..Config::default() };
    let relay = start(config).await;
    let call = call_id();
    let (mut a, mut b) = join_pair(relay.addr, &call).await;
    let (mut c, mut d) = join_pair(relay.addr, &call_id()).await;

    // c and d keep talking while a and b fall silent.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        c.send(r#"{"t":"bye"}"#).await;
        assert_eq!(d.recv().await, r#"{"t":"bye"}"#);
    }
    for idle in [&mut a, &mut b] {
        assert_eq!(idle.recv_error().await, "room idle: closed by the relay");
        assert_eq!(idle.recv_close().await, (1000, "room idle: closed by the relay".to_string()));
    }
    still_talking(&mut c, &mut d).await;
    // The dropped room starts afresh.
    join(relay.addr, &call, 0).await;
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_going_away() {
    let mut relay = start(Config::default()).await;
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    relay.shutdown();
    for client in [&mut a, &mut b] {
        assert_eq!(client.recv_error().await, "relay shutting down");
        assert_eq!(client.recv_close().await, (1001, "relay shutting down".to_string()));
    }
    // serve() returns once the sockets are closed.
    let done = relay.done.take().unwrap(); // set by `start`
    tokio::time::timeout(common::RECV_TIMEOUT, done).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_socket_must_say_join_first_and_in_time() {
    let config = Config { join_timeout: Duration::from_millis(300), ..Config::default() };
    let relay = start(config).await;
    let call = call_id();
    let expected = r#"expected {"t":"join"} first"#;
    // A signal before the join is refused, and joins nothing: the room is still empty after.
    for first in [HELLO, "garbage", r#"{"t":"join","rejoin":1}"#] {
        let ws = try_connect(relay.addr, &format!("/ws/{call}")).await.unwrap();
        let mut early = Client { ws, rejoin: String::new() };
        early.send(first).await;
        assert_eq!(early.recv_error().await, expected, "{first}");
        assert_eq!(early.recv_close().await, (1008, expected.to_string()));
    }
    // Silence: closed once the join is late.
    let ws = try_connect(relay.addr, &format!("/ws/{call}")).await.unwrap();
    let mut silent = Client { ws, rejoin: String::new() };
    assert_eq!(silent.recv_error().await, "no join message in time");
    assert_eq!(silent.recv_close().await.0, 1008);
    join(relay.addr, &call, 0).await;
}
