//! The real `shieldcall-relay` binary, spawned on port 0: its flags, its address line, the
//! static app, the test-only man-in-the-middle mode and a clean shutdown.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{call_id, http_get, join, join_pair, spawn};
use shieldcall_e2ee::messages::Signal;

fn relay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shieldcall-relay"))
}

#[tokio::test]
async fn prints_its_address_and_relays() {
    let relay = spawn(&[]);
    assert!(relay.addr.ip().is_loopback() && relay.addr.port() != 0);
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    a.send(r#"{"t":"bye"}"#).await;
    assert_eq!(b.recv().await, r#"{"t":"bye"}"#);
    b.close().await;
    assert_eq!(a.recv().await, r#"{"t":"peer-left"}"#);

    // The log says what happened, never what was said.
    let logs = relay.stderr();
    assert!(logs.contains("joined") && logs.contains("left"), "{logs}");
    assert!(!logs.contains("bye"), "message contents in the log: {logs}");
}

#[tokio::test]
async fn mitm_mode_swaps_the_hello_keys_and_warns() {
    let relay = spawn(&["--mitm-swap-keys"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    let host_key = "BHostHostHostHost";
    let guest_key = "BGuestGuestGuest";

    host.send(&format!(r#"{{"t":"hello","v":1,"e2ee":true,"pub":"{host_key}"}}"#)).await;
    let to_guest = Signal::parse(&guest.recv().await).unwrap(); // the relay sends valid signals
    guest.send(&format!(r#"{{"t":"hello","v":1,"e2ee":false,"pub":"{guest_key}"}}"#)).await;
    let to_host = Signal::parse(&host.recv().await).unwrap();

    let (
        Signal::Hello { e2ee: true, public_key: k1, .. },
        Signal::Hello { e2ee: false, public_key: k2, .. },
    ) = (to_guest, to_host)
    else {
        panic!("hellos arrive as hellos with the sender's e2ee setting");
    };
    assert_ne!(k1, host_key);
    assert_ne!(k2, guest_key);
    assert_ne!(k1, k2, "one key per direction");
    assert_eq!((k1.len(), k2.len()), (87, 87), "65-byte points in base64url");

    // Everything else still passes verbatim.
    let offer = r#"{ "t":"offer","sdp":"x" }"#;
    host.send(offer).await;
    assert_eq!(guest.recv().await, offer);

    assert!(relay.stderr().contains("MAN-IN-THE-MIDDLE"));
}

#[tokio::test]
async fn serves_the_app_with_an_spa_fallback() {
    let dist = std::env::temp_dir().join(format!("shieldcall-relay-dist-{}", std::process::id()));
    std::fs::create_dir_all(dist.join("assets")).unwrap(); // the temp dir is writable
    std::fs::write(dist.join("index.html"), "<!doctype html><title>Shieldcall</title>").unwrap();
    std::fs::write(dist.join("assets/app.js"), "console.log(1)").unwrap();
    let relay = spawn(&["--dist", dist.to_str().unwrap()]); // a temp path is UTF-8 here

    let index = "<!doctype html><title>Shieldcall</title>";
    assert_eq!(http_get(relay.addr, "/").await, (200, index.into()));
    assert_eq!(http_get(relay.addr, "/assets/app.js").await, (200, "console.log(1)".into()));
    // Client-side routes load the app.
    assert_eq!(http_get(relay.addr, &format!("/call/{}", call_id())).await, (200, index.into()));
    assert_eq!(http_get(relay.addr, "/settings").await, (200, index.into()));
    // A missing file stays missing, and a bad call id is not swallowed by the fallback.
    assert_eq!(http_get(relay.addr, "/assets/missing.wasm").await.0, 404);
    assert_eq!(http_get(relay.addr, "/ws/nope").await.0, 400);
    // The WebSocket still works beside the files.
    join(relay.addr, &call_id(), 0).await;

    drop(relay);
    let _ = std::fs::remove_dir_all(&dist);
}

#[tokio::test]
async fn without_dist_unknown_paths_are_404() {
    let relay = spawn(&[]);
    assert_eq!(http_get(relay.addr, "/").await.0, 404);
}

#[tokio::test]
async fn the_idle_timeout_flag_drops_quiet_rooms() {
    let relay = spawn(&["--idle-timeout-secs", "1"]);
    let mut a = join(relay.addr, &call_id(), 0).await;
    assert_eq!(a.recv_error().await, "room idle: closed by the relay");
    assert_eq!(a.recv_close().await.0, 1000);
}

#[tokio::test]
async fn sigterm_closes_sockets_and_exits_cleanly() {
    let mut relay = spawn(&[]);
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    let pid = relay.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    for client in [&mut a, &mut b] {
        assert_eq!(client.recv_error().await, "relay shutting down");
        assert_eq!(client.recv_close().await, (1001, "relay shutting down".to_string()));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = relay.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the relay did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_arguments_exit_2_with_usage_and_help_exits_0() {
    let out = relay().arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown argument: --bogus") && err.contains("USAGE"), "{err}");

    let out = relay().args(["--listen", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = relay().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--mitm-swap-keys"));
}

#[test]
fn the_environment_sets_the_listen_address() {
    // An address that cannot be bound proves the variable was read, without racing for a port.
    let out = relay().env("SHIELDCALL_RELAY_ADDR", "192.0.2.1:1").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on 192.0.2.1:1"));
}
