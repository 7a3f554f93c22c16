//! The real `shieldcall-relay` binary, spawned on port 0: its flags, its address line, the
//! static app and its headers, its limits, and a clean shutdown. (The test-only man in the
//! middle is another binary: tests/mitm.rs.)

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{
    Client, call_id, http_get, http_get_sending, http_get_with_headers, join, join_pair, open,
    spawn,
};
use futures_util::StreamExt;
use shieldcall_protocol::MAX_SIGNAL_BYTES;
use shieldcall_relay::{CONTENT_SECURITY_POLICY, READ_BUFFER_SIZE};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};

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

/// A `--dist` directory of this test process's own (`name` tells the tests apart), with an
/// index.html; the test removes it when done.
fn temp_dist(name: &str) -> std::path::PathBuf {
    let dist = std::env::temp_dir().join(format!("shieldcall-relay-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dist).unwrap(); // the temp dir is writable
    std::fs::write(dist.join("index.html"), "<!doctype html><title>Shieldcall</title>").unwrap();
    dist
}

#[tokio::test]
async fn serves_the_app_with_an_spa_fallback() {
    let dist = temp_dist("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
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

/// The build's compressed copies (scripts/precompress.mjs) go to a browser that accepts them,
/// the file itself to one that does not; a file without copies is sent as it is.
#[tokio::test]
async fn serves_the_compressed_copy_a_browser_accepts() {
    let dist = temp_dist("br");
    // Stand-ins: the relay picks a copy by its name, never decodes it.
    std::fs::write(dist.join("app.wasm"), "the wasm").unwrap();
    std::fs::write(dist.join("app.wasm.br"), "the wasm, brotli").unwrap();
    std::fs::write(dist.join("app.wasm.gz"), "the wasm, gzip").unwrap();
    std::fs::write(dist.join("config.json"), "{}").unwrap();
    let relay = spawn(&["--dist", dist.to_str().unwrap()]); // a temp path is UTF-8 here

    let get = |path: &'static str, accept: &'static str| async move {
        let sent = format!("Accept-Encoding: {accept}\r\n");
        http_get_sending(relay.addr, path, if accept.is_empty() { "" } else { &sent }).await
    };
    let (status, headers, body) = get("/app.wasm", "gzip, deflate, br, zstd").await;
    assert_eq!((status, body.as_str()), (200, "the wasm, brotli"));
    assert!(headers.contains("content-encoding: br\n"), "{headers}");
    assert!(headers.contains("content-type: application/wasm\n"), "{headers}");
    assert!(headers.contains("vary: accept-encoding\n"), "{headers}");
    let (_, headers, body) = get("/app.wasm", "gzip").await;
    assert_eq!(body, "the wasm, gzip");
    assert!(headers.contains("content-encoding: gzip\n"), "{headers}");
    let (_, headers, body) = get("/app.wasm", "").await;
    assert_eq!(body, "the wasm");
    assert!(!headers.contains("content-encoding"), "{headers}");
    let (_, headers, body) = get("/config.json", "br").await;
    assert_eq!(body, "{}");
    assert!(!headers.contains("content-encoding"), "{headers}");
    // The policy is on the compressed copies too.
    let (_, headers, _) = get("/app.wasm", "br").await;
    assert!(headers.contains("content-security-policy: "), "{headers}");
    // A file without a hash in its name, the page and config.json are asked for again on
    // every load.
    for path in ["/app.wasm", "/", "/config.json", "/settings"] {
        let (_, headers, _) = get(path, "").await;
        assert!(headers.contains("cache-control: no-cache\n"), "{path}: {headers}");
    }

    drop(relay);
    let _ = std::fs::remove_dir_all(&dist);
}

/// Trunk's hashed names are kept for a year; everything else is checked on every load.
#[test]
fn only_files_named_by_their_hash_are_kept() {
    use axum::http::StatusCode;
    use shieldcall_relay::cache_control;
    let year = "public, max-age=31536000, immutable";
    for path in [
        "/shieldcall-7e50e1401978aedc_bg.wasm",
        "/shieldcall-147f35ad3e76723b.js",
        "/boot-fbd1590b999ae7b5.js",
        "/main-d4a51a507f71e297.css",
    ] {
        assert_eq!(cache_control(path, StatusCode::OK), year, "{path}");
        assert_eq!(cache_control(path, StatusCode::NOT_MODIFIED), year, "{path}");
        assert_eq!(cache_control(path, StatusCode::NOT_FOUND), "no-cache", "{path}");
    }
    for path in [
        "/",
        "/index.html",
        "/config.json",
        "/call/AAAAAAAAAAAAAAAAAAAAAA",
        "/shieldcall-worker.js",
        "/shieldcall-worker_bg.wasm",
        "/media-worker.js",
        "/frames.js",
        "/shieldcall-7e50e1401978aed_bg.wasm",
        "/shieldcall-7e50e1401978aedcX.js",
        "/a-gggggggggggggggg.js",
        // A page path (index.html comes back) that ends like a hashed name: a valid call id.
        "/call/abcde-0123456789abcdef",
        "/x/a-0123456789abcdef",
    ] {
        assert_eq!(cache_control(path, StatusCode::OK), "no-cache", "{path}");
    }
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
    exits_cleanly_within(&mut relay.child, Duration::from_secs(10)).await;
}

/// `child` exits with status 0 within `time`.
async fn exits_cleanly_within(child: &mut std::process::Child, time: Duration) {
    let deadline = std::time::Instant::now() + time;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the relay did not exit in {time:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_request_head_sent_slowly_is_cut_off_and_never_holds_up_a_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut relay = spawn(&[]);
    // Half a request head, then a byte every two seconds: a slowloris.
    let mut slow = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    let started = std::time::Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if slow.write_all(b"a").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(10), slow.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "a head trickled in for 20 s and the connection stayed");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());

    // Another one, left half-sent: SIGTERM does not wait for it.
    let mut half = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = relay.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // Not held up by the half-sent head.
    exits_cleanly_within(&mut relay.child, Duration::from_secs(8)).await;
}

#[tokio::test]
async fn one_client_holds_as_many_http_connections_as_sockets_at_most() {
    use tokio::io::AsyncReadExt;
    let relay = spawn(&[]);
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(tokio::net::TcpStream::connect(relay.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The ones past the cap were closed at once: a read sees the end (or a reset).
    let mut closed = 0;
    for stream in &mut held {
        let mut buf = [0u8; 16];
        if let Ok(read) =
            tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf)).await
        {
            assert!(read.map_or(true, |n| n == 0), "nothing was asked, nothing said");
            closed += 1;
        }
    }
    assert_eq!(closed, 40 - 32, "the relay's per-client cap (--max-sockets-per-ip, 32)");
    // The same client, once it lets go of some, is served again.
    held.truncate(20);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut client = open(relay.addr, &call_id(), None).await;
    assert!(client.recv().await.contains("joined"));
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
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--max-sockets-per-ip") && help.contains("--allow-origin"), "{help}");
}

#[test]
fn the_shipped_relay_offers_no_man_in_the_middle() {
    let out = relay().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.to_lowercase().contains("mitm") && !help.contains("TEST ONLY"), "{help}");
    for attack in
        ["--mitm-swap-keys", "--mitm-flip-e2ee", "--mitm-add-fingerprint", "--mitm-drop-confirm"]
    {
        let out = relay().args(["--listen", "127.0.0.1:0", attack]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{attack}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("unknown argument: {attack}")), "{err}");
    }
}

#[test]
fn the_environment_sets_the_listen_address() {
    // An address that cannot be bound proves the variable was read, without racing for a port.
    let out = relay().env("SHIELDCALL_RELAY_ADDR", "192.0.2.1:1").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on 192.0.2.1:1"));
}

/// The page's headers on every response of the app: the entry points and a static file.
#[tokio::test]
async fn the_app_is_served_with_a_strict_policy() {
    let dist = temp_dist("csp");
    std::fs::write(dist.join("boot.js"), "import('/app.js')").unwrap();
    let relay = spawn(&["--dist", dist.to_str().unwrap()]); // a temp path is UTF-8 here

    assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self' 'wasm-unsafe-eval';"));
    let id = "AAAAAAAAAAAAAAAAAAAAAA";
    for path in ["/", "/index.html", &format!("/call/{id}"), "/settings", "/boot.js"] {
        let (status, headers, _) = http_get_with_headers(relay.addr, path).await;
        assert_eq!(status, 200, "{path}");
        let csp = format!("content-security-policy: {CONTENT_SECURITY_POLICY}\n");
        assert!(headers.contains(&csp), "{path}: {headers}");
        assert!(headers.contains("referrer-policy: no-referrer\n"), "{path}: {headers}");
    }
    drop(relay);
    let _ = std::fs::remove_dir_all(&dist);
}

/// `trunk serve` (`make run`) sends the page the same policy as the relay.
#[test]
fn trunk_serve_sends_the_same_policy() {
    let trunk = include_str!("../../../Trunk.toml");
    let line = format!("\"Content-Security-Policy\" = \"{CONTENT_SECURITY_POLICY}\"\n");
    assert!(trunk.contains(&line), "Trunk.toml's [serve.headers] differ from {line}");
    assert!(trunk.contains("\"Referrer-Policy\" = \"no-referrer\"\n"));
}

/// A socket from `ip` (any address of 127/8 reaches the relay on 127.0.0.1) with `origin`.
async fn connect_from(
    addr: std::net::SocketAddr,
    ip: &str,
    call: &str,
    origin: Option<&str>,
) -> Result<Client, tungstenite::Error> {
    connect_via(addr, ip, call, origin, None).await
}

/// [`connect_from`], with an `X-Forwarded-For` header as a reverse proxy sends it.
async fn connect_via(
    addr: std::net::SocketAddr,
    ip: &str,
    call: &str,
    origin: Option<&str>,
    forwarded_for: Option<&str>,
) -> Result<Client, tungstenite::Error> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap(); // 127/8 is all loopback on Linux
    let stream = socket.connect(addr).await.unwrap();
    let mut request = format!("ws://{addr}/ws/{call}").into_client_request().unwrap();
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    if let Some(hops) = forwarded_for {
        request.headers_mut().insert("x-forwarded-for", HeaderValue::from_str(hops).unwrap());
    }
    let (ws, _) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await?;
    let mut client = Client { ws, rejoin: String::new() };
    client.send(r#"{"t":"join"}"#).await;
    let joined = client.recv().await;
    assert!(joined.starts_with(r#"{"t":"joined""#), "{joined}");
    Ok(client)
}

fn http_status(result: Result<Client, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, got a socket"),
    }
}

#[tokio::test]
async fn sockets_are_capped_per_address_and_in_all() {
    let relay = spawn(&["--max-sockets", "3", "--max-sockets-per-ip", "2"]);
    let a = relay.addr;
    let first = connect_from(a, "127.0.0.1", &call_id(), None).await.unwrap();
    let _second = connect_from(a, "127.0.0.1", &call_id(), None).await.unwrap();
    assert_eq!(http_status(connect_from(a, "127.0.0.1", &call_id(), None).await), 429);
    // Another address has its own share, up to the relay's total.
    let _third = connect_from(a, "127.0.0.2", &call_id(), None).await.unwrap();
    assert_eq!(http_status(connect_from(a, "127.0.0.3", &call_id(), None).await), 503);
    // A socket that closes frees its place.
    first.close().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while connect_from(a, "127.0.0.3", &call_id(), None).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the closed socket's place stays taken");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Behind a reverse proxy every socket comes from the proxy's address; with --trusted-proxy the
/// caps count the client its X-Forwarded-For names, and nobody else's header counts.
#[tokio::test]
async fn behind_a_trusted_proxy_the_caps_count_the_forwarded_client() {
    let relay = spawn(&["--trusted-proxy", "127.0.0.1", "--max-sockets-per-ip", "1"]);
    let a = relay.addr;
    let via = |ip: &'static str, hops: &'static str| async move {
        connect_via(a, ip, &call_id(), None, Some(hops)).await
    };
    let _first = via("127.0.0.1", "203.0.113.1").await.unwrap();
    let _second = via("127.0.0.1", "203.0.113.2").await.unwrap();
    // What a client wrote to the left of the proxy's entry changes nothing.
    assert_eq!(http_status(via("127.0.0.1", "198.51.100.9, 203.0.113.1").await), 429);
    // Not from the proxy: the header is ignored and the connection's own address counts.
    let _third = via("127.0.0.2", "203.0.113.3").await.unwrap();
    assert_eq!(http_status(via("127.0.0.2", "203.0.113.4").await), 429);
}

#[tokio::test]
async fn only_pages_of_allowed_origins_may_open_a_socket() {
    let relay = spawn(&["--allow-origin", "https://app.example.org"]);
    let a = relay.addr;
    let own = format!("http://{a}");
    for origin in [None, Some(own.as_str()), Some("https://app.example.org")] {
        assert!(connect_from(a, "127.0.0.1", &call_id(), origin).await.is_ok(), "{origin:?}");
    }
    let other_port = format!("http://127.0.0.1:{}", a.port() + 1);
    for origin in ["https://evil.example", "http://app.example.org", &other_port, "null"] {
        let refused = connect_from(a, "127.0.0.1", &call_id(), Some(origin)).await;
        assert_eq!(http_status(refused), 403, "{origin}");
    }
}

#[tokio::test]
async fn new_rooms_are_capped_per_address() {
    let relay = spawn(&["--max-new-rooms-per-ip", "2"]);
    let (busy, quiet) = (call_id(), call_id());
    let _first = join(relay.addr, &busy, 0).await;
    let _second = join(relay.addr, &quiet, 0).await;
    let mut third = open(relay.addr, &call_id(), None).await;
    let reason = "too many new calls from this address: try again in a minute";
    assert_eq!(third.recv_error().await, reason);
    assert_eq!(third.recv_close().await, (1008, reason.to_string()));
    // Joining a call that exists opens no room; another address has its own budget.
    let _guest = join(relay.addr, &busy, 1).await;
    connect_from(relay.addr, "127.0.0.2", &call_id(), None).await.unwrap();
}

/// A member that does not read is dropped once about 1 MiB waits for it, long before 256
/// messages of 60 KiB (15 MiB) would.
#[tokio::test]
async fn a_slow_reader_is_dropped_not_buffered() {
    let relay = spawn(&[]);
    let (mut sender, _never_reads) = join_pair(relay.addr, &call_id()).await;
    let offer = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(60 * 1024));
    let mut sent = 0;
    let dropped_after = loop {
        assert!(sent < 160, "still queued for a reader that never reads after {sent} messages");
        sender.send(&offer).await;
        sent += 1;
        // Under the rate limit (a burst of 100, then 50/s).
        if sent > 90 {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let next = tokio::time::timeout(Duration::from_millis(1), sender.ws.next()).await;
        if let Ok(Some(Ok(tungstenite::Message::Text(text)))) = next {
            assert!(text.contains("not keeping up"), "{text}");
            break sent;
        }
    };
    // Its place is free at once.
    assert_eq!(sender.recv().await, r#"{"t":"peer-left"}"#);
    eprintln!("dropped after {dropped_after} messages of 60 KiB");
}

/// The socket buffers are sized for idle sockets (`READ_BUFFER_SIZE`, no write buffer), not for
/// the largest message: a message of exactly 64 KiB still crosses the real binary whole, both
/// ways, and one byte more is refused as ever while the socket lives on.
#[tokio::test]
async fn messages_up_to_64_kib_pass_the_small_socket_buffers() {
    let relay = spawn(&[]);
    let (mut a, mut b) = join_pair(relay.addr, &call_id()).await;
    let offer = |len: usize| {
        let padding = len - r#"{"t":"offer","sdp":""}"#.len();
        // Not one repeated byte, so a message cut or spliced at a buffer boundary shows.
        let sdp: String = (0..padding).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        format!(r#"{{"t":"offer","sdp":"{sdp}"}}"#)
    };
    const { assert!(MAX_SIGNAL_BYTES > 8 * READ_BUFFER_SIZE, "the test must span many reads") };
    let at_limit = offer(MAX_SIGNAL_BYTES);
    a.send(&at_limit).await;
    assert_eq!(b.recv().await, at_limit);
    let just_under = offer(MAX_SIGNAL_BYTES - 100);
    b.send(&just_under).await;
    assert_eq!(a.recv().await, just_under);

    a.send(&offer(MAX_SIGNAL_BYTES + 1)).await;
    assert_eq!(a.recv_error().await, "message larger than 64 KiB");
    // Nothing of it reached the peer, and both directions still carry the largest message.
    a.send(&at_limit).await;
    assert_eq!(b.recv().await, at_limit);
    b.send(&at_limit).await;
    assert_eq!(a.recv().await, at_limit);
}

/// The `joined` a client gets on `call` (as JSON), after its join.
async fn joined_event(
    addr: std::net::SocketAddr,
    call: &str,
    token: Option<&str>,
) -> serde_json::Value {
    let mut client = open(addr, call, token).await;
    let joined: serde_json::Value = serde_json::from_str(&client.recv().await).unwrap();
    assert_eq!(joined["t"], "joined");
    joined
}

#[tokio::test]
async fn hands_out_turn_credentials_only_when_configured() {
    let file = std::env::temp_dir().join(format!("shieldcall-relay-turn-{}", std::process::id()));
    std::fs::write(&file, "north-wind\n").unwrap(); // the temp dir is writable
    let path = file.to_str().unwrap(); // a temp path is UTF-8 here
    let urls = ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"];
    let relay = spawn(&[
        "--turn-secret-file",
        path,
        "--turn-url",
        urls[0],
        "--turn-url",
        urls[1],
        "--turn-ttl",
        "600",
    ]);
    let call = call_id();
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let host = joined_event(relay.addr, &call, None).await;
    let guest = joined_event(relay.addr, &call, None).await;
    let secret = shieldcall_relay::turn::TurnSecret::from_file_text("north-wind").unwrap();
    let mut usernames = Vec::new();
    for joined in [&host, &guest] {
        let turn = &joined["turn"];
        assert_eq!(turn["urls"], serde_json::json!(urls));
        assert_eq!(turn["ttl"], 600);
        let username = turn["username"].as_str().unwrap();
        let (expiry, _id) = username.split_once(':').unwrap();
        let expiry: u64 = expiry.parse().unwrap();
        assert!((before.as_secs() + 600..=before.as_secs() + 602).contains(&expiry), "{expiry}");
        // coturn's check: the credential is the HMAC of the username under the shared secret.
        let credential = shieldcall_relay::turn::credential(&secret, username);
        assert_eq!(turn["credential"].as_str(), Some(credential.as_str()));
        usernames.push(username.to_string());
    }
    assert_ne!(usernames[0], usernames[1], "each place its own username");
    let logs = relay.stderr();
    for secret_text in ["north-wind", host["turn"]["credential"].as_str().unwrap()] {
        assert!(!logs.contains(secret_text), "a secret in the log: {logs}");
    }

    // Without the flags, `joined` is what it always was.
    let plain = spawn(&[]);
    let joined = joined_event(plain.addr, &call_id(), None).await;
    assert_eq!(joined.as_object().unwrap().len(), 3, "t, peers, rejoin only: {joined}");
    // A bad TURN setting stops the relay before it listens: status 2, and the secret file's
    // contents are never echoed.
    let out = relay_cmd_output(&["--turn-secret-file", path]);
    assert_eq!(out.0, Some(2));
    assert!(out.1.contains("--turn-url") && !out.1.contains("north-wind"), "{}", out.1);
    let _ = std::fs::remove_file(&file);
}

/// Run the relay with `args` to its exit: its status and stderr.
fn relay_cmd_output(args: &[&str]) -> (Option<i32>, String) {
    let out = relay().args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}
