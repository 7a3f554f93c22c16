//! Shared helpers: start a relay (in-process or the real binary) on a loopback port, and
//! a small WebSocket client whose every receive has a timeout.

#![allow(dead_code)] // Each test file uses a different subset.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use shieldcall_protocol::{MoveToken, RelayRequest};
use shieldcall_relay::Config;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous for a loaded CI machine; a passing test never waits this long.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh, valid call id per call, so tests never share a room by accident.
pub fn call_id() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("t{:08}-{:012}", std::process::id() % 100_000_000, n)
}

/// A relay running in this process; shut down when dropped.
pub struct InProcess {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl InProcess {
    /// Ask the relay to shut down (as ctrl-c would).
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub async fn start(config: Config) -> InProcess {
    // Binding port 0 on loopback cannot fail short of a broken test machine.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let done = tokio::spawn(shieldcall_relay::serve(listener, config, async move {
        let _ = stopped.await;
    }));
    InProcess { addr, stop: Some(stop), done: Some(done) }
}

/// The real `shieldcall-relay` binary, killed when dropped.
pub struct Spawned {
    pub addr: SocketAddr,
    /// Where it serves `/healthz` and `/metrics`, if started with `--metrics-listen`.
    pub metrics: Option<SocketAddr>,
    pub child: Child,
}

impl Spawned {
    /// Everything the relay wrote on stderr (its logs); kills it first.
    pub fn stderr(mut self) -> String {
        let _ = self.child.kill();
        let mut err: ChildStderr = self.child.stderr.take().unwrap(); // piped in `spawn`
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start the binary on port 0 with `args` and read the address it prints.
pub fn spawn(args: &[&str]) -> Spawned {
    spawn_exe(env!("CARGO_BIN_EXE_shieldcall-relay"), args)
}

/// Start the binary `exe` (the relay, or the test-only `shieldcall-relay-mitm`) as [`spawn`].
pub fn spawn_exe(exe: &str, args: &[&str]) -> Spawned {
    spawn_with_env(exe, args, &[])
}

/// [`spawn_exe`] with these environment variables set (`RUST_LOG`, say).
pub fn spawn_with_env(exe: &str, args: &[&str], env: &[(&str, &str)]) -> Spawned {
    let mut child = Command::new(exe)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("SHIELDCALL_RELAY_ADDR")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the relay binary starts");
    // Piped just above.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the relay prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .expect("a socket address");
    let metrics = args.iter().any(|a| a.starts_with("--metrics-listen")).then(|| {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the relay prints its metrics address");
        line.trim()
            .strip_prefix("metrics on http://")
            .unwrap_or_else(|| panic!("unexpected second line: {line:?}"))
            .parse()
            .expect("a socket address")
    });
    Spawned { addr, metrics, child }
}

/// The value of the sample `name` (with its labels, as written: `x{reason="alone"}`) in the
/// Prometheus text `text`; panics if it is not there.
pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
}

/// A scrape of `/metrics` of `relay` (started with `--metrics-listen`).
pub async fn scrape(relay: &Spawned) -> String {
    let (status, body) =
        http_get(relay.metrics.expect("started with --metrics-listen"), "/metrics").await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Poll `GET /healthz` of `relay` until it answers `want` (within 10 s).
pub async fn wait_health(relay: &Spawned, want: u16) {
    let at = relay.metrics.expect("started with --metrics-listen");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = http_get(at, "/healthz").await;
        if status == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "/healthz stays {status} {body:?}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A test client on one relay socket.
pub struct Client {
    pub ws: Ws,
    /// The token its `joined` event gave it, for a reconnection (empty before).
    pub rejoin: String,
}

pub async fn try_connect(addr: SocketAddr, path: &str) -> Result<Ws, tungstenite::Error> {
    tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await.map(|(ws, _)| ws)
}

/// Join `call` and check the `joined` event says `peers`.
pub async fn join(addr: SocketAddr, call: &str, peers: u8) -> Client {
    rejoin(addr, call, None, peers).await
}

/// Open a socket to `call` and send its first message, `join` with `token` if any.
pub async fn open(addr: SocketAddr, call: &str, token: Option<&str>) -> Client {
    let mut client = Client {
        ws: try_connect(addr, &format!("/ws/{call}")).await.unwrap(),
        rejoin: String::new(),
    };
    let join = RelayRequest::Join { rejoin: token.map(String::from), moving: None };
    client.send(&join.to_json()).await;
    client
}

/// Open a socket to `call` whose `join` presents the move token `token`.
pub async fn open_moving(addr: SocketAddr, call: &str, token: &str) -> Client {
    let mut client = Client {
        ws: try_connect(addr, &format!("/ws/{call}")).await.unwrap(),
        rejoin: String::new(),
    };
    let join = RelayRequest::Join { rejoin: None, moving: Some(MoveToken(token.into())) };
    client.send(&join.to_json()).await;
    client
}

/// Ask for a move token on `client`'s socket; returns it, checking it lasts `ttl` seconds.
pub async fn ask_to_move(client: &mut Client, ttl: u64) -> String {
    client.send(r#"{"t":"move"}"#).await;
    let answer: serde_json::Value = serde_json::from_str(&client.recv().await).unwrap();
    assert_eq!((answer["t"].as_str(), answer["ttl"].as_u64()), (Some("move-token"), Some(ttl)));
    let token = answer["token"].as_str().expect("a token").to_string();
    assert_eq!(token.len(), 22, "16 bytes, base64url");
    token
}

/// Present `token` for `call` and expect `move-refused` with `reason`, then the close.
pub async fn move_refused(addr: std::net::SocketAddr, call: &str, token: &str, reason: &str) {
    let mut late = open_moving(addr, call, token).await;
    let expected = format!(r#"{{"t":"move-refused","reason":"{reason}"}}"#);
    assert_eq!(late.recv().await, expected);
    assert_eq!(late.recv_close().await, (1008, "move token refused".to_string()));
}

/// What the tests' parks deposit: a page seals its own, which the relay never opens.
pub const DEPOSIT: &str = "c2VhbGVkLWJ5LXRoZS1wYWdl";

/// Park `client`'s place; returns (token, code), checking the park lasts `ttl` seconds.
pub async fn park(client: &mut Client, ttl: u64) -> (String, String) {
    client.send(&format!(r#"{{"t":"park","deposit":"{DEPOSIT}"}}"#)).await;
    let answer: serde_json::Value = serde_json::from_str(&client.recv().await).unwrap();
    assert_eq!((answer["t"].as_str(), answer["ttl"].as_u64()), (Some("parked"), Some(ttl)));
    let token = answer["token"].as_str().unwrap().to_string();
    let code = answer["code"].as_str().unwrap().to_string();
    assert_eq!((token.len(), code.len()), (22, 6));
    (token, code)
}

/// `POST /pickup` with `code`: the status and the JSON answer.
pub async fn pickup(addr: SocketAddr, code: &str) -> (u16, serde_json::Value) {
    let (status, body) = pickup_raw(addr, code).await;
    (status, serde_json::from_str(&body).unwrap())
}

/// `POST /pickup` with `code`: the status and the body.
pub async fn pickup_raw(addr: SocketAddr, code: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /pickup HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{code}",
        code.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    if status != 429 {
        assert!(head.to_ascii_lowercase().contains("cache-control: no-store"), "{head}");
    }
    (status, body.to_string())
}

/// A device takes a place with `token`: it is told `joined` with one peer.
pub async fn take(addr: SocketAddr, call: &str, token: &str) -> Client {
    let mut device = open_moving(addr, call, token).await;
    let joined: serde_json::Value = serde_json::from_str(&device.recv().await).unwrap();
    assert_eq!((joined["t"].as_str(), joined["peers"].as_u64()), (Some("joined"), Some(1)));
    device.rejoin = joined["rejoin"].as_str().expect("a rejoin token").to_string();
    device
}

/// `device` took `old`'s place (a move or a transfer): the place has a rejoin token of its
/// own, `other` hears `told` (never `peer-left`), and `old` is told `moved` and closed without
/// an error (it is not to reconnect).
pub async fn took_the_place(device: &Client, old: &mut Client, other: &mut Client, told: &str) {
    assert_ne!(device.rejoin, old.rejoin, "the new device's place has a token of its own");
    assert_eq!(other.recv().await, told);
    assert_eq!(old.recv().await, r#"{"t":"moved"}"#);
    assert_eq!(old.recv_close().await, (1000, "moved to another device".to_string()));
}

/// Join `call` with the rejoin `token` of an earlier `joined`, if any, and check the new
/// `joined` says `peers`.
pub async fn rejoin(addr: SocketAddr, call: &str, token: Option<&str>, peers: u8) -> Client {
    let mut client = open(addr, call, token).await;
    let joined: serde_json::Value = serde_json::from_str(&client.recv().await).unwrap();
    assert_eq!(
        (joined["t"].as_str(), joined["peers"].as_u64()),
        (Some("joined"), Some(peers.into()))
    );
    client.rejoin = joined["rejoin"].as_str().expect("a rejoin token").to_string();
    assert_eq!(client.rejoin.len(), 22, "16 bytes, base64url");
    client
}

/// Join `call` as the second member; `first` must hear `peer-joined`.
pub async fn join_pair(addr: SocketAddr, call: &str) -> (Client, Client) {
    let mut a = join(addr, call, 0).await;
    let b = join(addr, call, 1).await;
    assert_eq!(a.recv().await, r#"{"t":"peer-joined"}"#);
    (a, b)
}

/// Each of `a` and `b` hears the other: the room still forwards both ways.
pub async fn still_talking(a: &mut Client, b: &mut Client) {
    a.send(r#"{"t":"ice","candidate":"still-a"}"#).await;
    assert_eq!(b.recv().await, r#"{"t":"ice","candidate":"still-a"}"#);
    b.send(r#"{"t":"ice","candidate":"still-b"}"#).await;
    assert_eq!(a.recv().await, r#"{"t":"ice","candidate":"still-b"}"#);
}

impl Client {
    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// Send, tolerating a relay that has already closed the socket.
    pub async fn try_send(&mut self, text: &str) -> Result<(), tungstenite::Error> {
        self.ws.send(Message::text(text)).await
    }

    pub async fn send_msg(&mut self, msg: Message) {
        self.ws.send(msg).await.expect("send");
    }

    /// The next message, whatever it is (pings and pongs skipped); `None` if the stream ended.
    pub async fn next(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        loop {
            let msg = timeout(RECV_TIMEOUT, self.ws.next()).await.expect("timed out waiting");
            match msg {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => return other,
            }
        }
    }

    /// The next text message.
    pub async fn recv(&mut self) -> String {
        match self.next().await {
            Some(Ok(Message::Text(t))) => t.as_str().to_string(),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    /// The next message must be an `error`; returns its reason and the request it names (the
    /// tag of a move, park or transfer it refuses), if any.
    pub async fn recv_refusal(&mut self) -> (String, Option<String>) {
        let text = self.recv().await;
        let value: serde_json::Value = serde_json::from_str(&text).expect("relay sends JSON");
        assert_eq!(value["t"], "error", "expected an error event, got {text}");
        let reason = value["reason"].as_str().expect("a reason").to_string();
        (reason, value.get("request").map(|r| r.as_str().expect("a tag").to_string()))
    }

    /// The next message must be `error {reason}` refusing no move, park or transfer; returns
    /// the reason.
    pub async fn recv_error(&mut self) -> String {
        match self.recv_refusal().await {
            (reason, None) => reason,
            (reason, Some(request)) => panic!("{reason:?} names a request, {request:?}"),
        }
    }

    /// The next message must be a close frame; returns its code and reason.
    pub async fn recv_close(&mut self) -> (u16, String) {
        match self.next().await {
            Some(Ok(Message::Close(Some(CloseFrame { code, reason })))) => {
                // Reading on sends our half of the closing handshake, so the relay need not wait.
                while let Ok(Some(Ok(_))) = timeout(RECV_TIMEOUT, self.ws.next()).await {}
                (code.into(), reason.as_str().to_string())
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    /// Nothing arrives for `wait` (used sparingly: it always costs `wait`).
    pub async fn expect_quiet(&mut self, wait: Duration) {
        if let Ok(msg) = timeout(wait, self.ws.next()).await {
            panic!("expected nothing, got {msg:?}");
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Read to the end so the close handshake completes.
        while let Ok(Some(Ok(_))) = timeout(RECV_TIMEOUT, self.ws.next()).await {}
    }
}

/// A plain HTTP/1.1 GET; returns the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let (status, _, body) = http_get_with_headers(addr, path).await;
    (status, body)
}

/// A plain HTTP/1.1 GET; returns the status code, the header block (names in lower case) and
/// the body.
pub async fn http_get_with_headers(addr: SocketAddr, path: &str) -> (u16, String, String) {
    http_get_sending(addr, path, "").await
}

/// [`http_get_with_headers`], the request with `headers` (each line ending in `\r\n`) too.
pub async fn http_get_sending(
    addr: SocketAddr,
    path: &str,
    headers: &str,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    timeout(RECV_TIMEOUT, stream.read_to_string(&mut response))
        .await
        .expect("timed out waiting")
        .expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {response:?}"));
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let head = head.lines().skip(1).map(|line| match line.split_once(':') {
        Some((name, value)) => format!("{}:{}\n", name.to_ascii_lowercase(), value),
        None => format!("{line}\n"),
    });
    (status, head.collect(), body.to_string())
}
