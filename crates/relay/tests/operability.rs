//! What an operator sees of the real binary: `/healthz` and `/metrics` on `--metrics-listen`,
//! counters that move by what a real call did, and JSON logs that never carry what would let
//! someone into a call.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{
    call_id, http_get, join, join_pair, metric, open, rejoin, scrape, spawn, spawn_with_env,
    wait_health,
};
use shieldcall_protocol::MAX_SIGNAL_BYTES;
use tokio_tungstenite::tungstenite::Message;

const METRICS: [&str; 2] = ["--metrics-listen", "127.0.0.1:0"];
const OFFER: &str =
    r#"{"t":"offer","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n"}"#;
const ANSWER: &str = r#"{"t":"answer","sdp":"v=0\r\no=- 2849302848209385 2 IN IP4 127.0.0.1\r\n"}"#;
const ICE: &str = r#"{"t":"ice","candidate":"candidate:842163049 1 udp 1677729535 198.51.100.7 46154 typ srflx","sdpMid":"0","sdpMLineIndex":0}"#;

fn refused(text: &str, reason: &str) -> u64 {
    metric(text, &format!("shieldcall_relay_messages_refused_total{{reason=\"{reason}\"}}"))
}

#[tokio::test]
async fn metrics_move_by_what_a_real_call_did() {
    let file = std::env::temp_dir().join(format!("shieldcall-relay-ops-{}", std::process::id()));
    std::fs::write(&file, "north-wind\n").unwrap(); // the temp dir is writable
    let turn = ["--turn-secret-file", file.to_str().unwrap(), "--turn-url", "turn:127.0.0.1:3478"];
    let relay = spawn(&[&METRICS[..], &turn[..]].concat());

    let before = scrape(&relay).await;
    // Every metric says what it is, in the exposition format.
    for (name, kind) in [
        ("shieldcall_relay_rooms", "gauge"),
        ("shieldcall_relay_sockets_open", "gauge"),
        ("shieldcall_relay_messages_forwarded_total", "counter"),
        ("shieldcall_relay_messages_refused_total", "counter"),
        ("shieldcall_relay_rejoins_total", "counter"),
        ("shieldcall_relay_turn_credentials_issued_total", "counter"),
    ] {
        assert!(before.contains(&format!("# HELP {name} ")), "{name}: {before}");
        assert!(before.contains(&format!("# TYPE {name} {kind}\n")), "{name}: {before}");
    }
    assert!(
        !before.contains("shieldcall_relay_cluster_"),
        "no cluster metrics without --cluster: {before}"
    );
    assert_eq!(metric(&before, "shieldcall_relay_rooms"), 0);
    assert_eq!(metric(&before, "shieldcall_relay_sockets_open"), 0);

    // A call: both say hello-sized things, offer, answer and three candidates.
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    host.send(OFFER).await;
    assert_eq!(guest.recv().await, OFFER);
    guest.send(ANSWER).await;
    assert_eq!(host.recv().await, ANSWER);
    for _ in 0..3 {
        guest.send(ICE).await;
        assert_eq!(host.recv().await, ICE);
    }
    // Refused, one of each: garbage, binary, over 64 KiB, and a message with nobody to hear.
    host.send("garbage").await;
    host.recv_error().await;
    host.send_msg(Message::binary(vec![1u8, 2, 3])).await;
    host.recv_error().await;
    host.send(&format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(MAX_SIGNAL_BYTES))).await;
    host.recv_error().await;
    let mut alone = join(relay.addr, &call_id(), 0).await;
    alone.send(OFFER).await;
    alone.recv_error().await;
    // A third person: full. The guest reconnects with its token: a rejoin.
    let mut third = open(relay.addr, &call, None).await;
    assert_eq!(third.recv().await, r#"{"t":"full"}"#);
    third.recv_close().await;
    let mut guest_again = rejoin(relay.addr, &call, Some(&guest.rejoin), 1).await;
    assert_eq!(host.recv().await, r#"{"t":"peer-joined"}"#);
    guest.recv_close().await;
    guest_again.send(ICE).await;
    assert_eq!(host.recv().await, ICE);

    let after = scrape(&relay).await;
    let delta = |name: &str| metric(&after, name) - metric(&before, name);
    assert_eq!(delta("shieldcall_relay_messages_forwarded_total"), 6, "{after}");
    for reason in ["malformed", "binary", "too_large", "alone"] {
        assert_eq!(refused(&after, reason) - refused(&before, reason), 1, "{reason}: {after}");
    }
    for reason in ["rate_limited", "peer_too_slow", "peer_unreachable", "cluster_down"] {
        assert_eq!(refused(&after, reason), 0, "{reason}: {after}");
    }
    // host, guest, alone, guest again; the third got no place.
    assert_eq!(delta("shieldcall_relay_joins_total"), 4, "{after}");
    assert_eq!(delta("shieldcall_relay_rejoins_total"), 1, "{after}");
    assert_eq!(delta("shieldcall_relay_full_total"), 1, "{after}");
    assert_eq!(delta("shieldcall_relay_turn_credentials_issued_total"), 4, "{after}");
    assert_eq!(metric(&after, "shieldcall_relay_rooms"), 2, "{after}");
    assert_eq!(metric(&after, "shieldcall_relay_sockets_open"), 3, "{after}");

    // Everyone leaves: the gauges come back to nothing.
    for client in [host, guest_again, alone] {
        client.close().await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = scrape(&relay).await;
        let gauges =
            (metric(&now, "shieldcall_relay_rooms"), metric(&now, "shieldcall_relay_sockets_open"));
        if gauges == (0, 0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "rooms and sockets stay {gauges:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn healthz_is_ok_while_serving_and_503_while_shutting_down() {
    let relay = spawn(&METRICS);
    let at = relay.metrics.unwrap();
    assert_eq!(http_get(at, "/healthz").await, (200, "ok\n".to_string()));
    // Only on the private address: the public one serves neither.
    assert_eq!(http_get(relay.addr, "/healthz").await.0, 404);
    assert_eq!(http_get(relay.addr, "/metrics").await.0, 404);

    // Two sockets that never answer the closing handshake keep the relay in its shutdown grace.
    let (_a, _b) = join_pair(relay.addr, &call_id()).await;
    let pid = relay.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    wait_health(&relay, 503).await;
    assert_eq!(http_get(at, "/healthz").await, (503, "shutting down\n".to_string()));
}

#[tokio::test]
async fn json_logs_of_a_real_session_carry_no_call_id_token_or_sdp() {
    // debug: the most a curious operator would turn on.
    let exe = env!("CARGO_BIN_EXE_shieldcall-relay");
    let relay = spawn_with_env(exe, &["--log-format", "json"], &[("RUST_LOG", "debug")]);
    let call = call_id();
    let (mut host, mut guest) = join_pair(relay.addr, &call).await;
    host.send(OFFER).await;
    assert_eq!(guest.recv().await, OFFER);
    guest.send(ANSWER).await;
    assert_eq!(host.recv().await, ANSWER);
    guest.send(ICE).await;
    assert_eq!(host.recv().await, ICE);
    host.send("garbage with a secret: hunter2").await;
    host.recv_error().await;
    let (host_token, guest_token) = (host.rejoin.clone(), guest.rejoin.clone());
    let guest_again = rejoin(relay.addr, &call, Some(&guest_token), 1).await;
    assert_eq!(host.recv().await, r#"{"t":"peer-joined"}"#);
    guest.recv_close().await;
    guest_again.close().await;
    assert_eq!(host.recv().await, r#"{"t":"peer-left"}"#);
    host.close().await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let logs = relay.stderr();
    let mut events = 0;
    for line in logs.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
        assert!(event["level"].is_string() && event["fields"].is_object(), "{line}");
        events += 1;
    }
    let short = format!("{}…", &call[..4]);
    assert!(
        logs.contains(&format!(r#""call":"{short}""#)),
        "calls are followed by short id: {logs}"
    );
    assert!(events >= 6, "joins, rejoin and leaves are logged: {logs}");
    for secret in [
        call.as_str(),
        &call[4..],
        &host_token,
        &guest_token,
        "4611731400430051336",
        "IN IP4",
        "198.51.100.7",
        "candidate:",
        "hunter2",
    ] {
        assert!(!logs.contains(secret), "{secret:?} in the log: {logs}");
    }
}
