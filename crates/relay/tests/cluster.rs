//! Several real `shieldcall-relay` processes sharing rooms through a real `redis-server`
//! (`--cluster`): the room rules across nodes, a node killed mid-call, a member that never
//! comes back, bad messages, and Redis itself restarted.
//!
//! redis-server comes from `scripts/setup.sh` (Debian's package); without it these tests fail,
//! they never skip.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    Client, DEPOSIT, Spawned, ask_to_move, call_id, http_get, join, metric, move_refused, open,
    open_moving, park, pickup, pickup_raw, rejoin, scrape, spawn, still_talking, take,
    took_the_place, wait_health,
};
use futures_util::StreamExt;
use shieldcall_protocol::MAX_SIGNAL_BYTES;
use shieldcall_relay::HARD_MESSAGE_CAP;
use tokio_tungstenite::tungstenite::Message;

/// Short, so that expiry is tested in seconds; the relay renews every third of it.
const LEASE_MS: u64 = 1500;

/// A `redis-server` of its own on a free loopback port, killed when dropped.
struct Redis {
    port: u16,
    child: Child,
}

fn redis_server_path() -> String {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path).map(|dir| dir.join("redis-server")).find(|p| p.is_file())
    });
    let exe = on_path.or_else(|| {
        let usr = std::path::PathBuf::from("/usr/bin/redis-server");
        usr.is_file().then_some(usr)
    });
    let exe = exe.unwrap_or_else(|| {
        panic!(
            "redis-server not found (on PATH or in /usr/bin): the cluster tests need a real one; \
             run scripts/setup.sh"
        )
    });
    exe.to_str().unwrap().to_string() // a path found on PATH is UTF-8 here
}

impl Redis {
    fn start() -> Redis {
        // The port of a socket just closed: free, short of a race with another process.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Redis::on(port)
    }

    /// Start on `port` (again), with nothing saved: a restart comes back empty.
    fn on(port: u16) -> Redis {
        Redis::with(port, &[])
    }

    /// [`Redis::on`], with more of redis-server's flags.
    fn with(port: u16, more: &[&str]) -> Redis {
        let child = Command::new(redis_server_path())
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(more)
            .args(["--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server does not listen on {port}");
            std::thread::sleep(Duration::from_millis(10));
        }
        Redis { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, as a crash would.
    fn kill(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A relay node of the cluster on `redis`, reachable once `/healthz` says so.
async fn node(redis: &Redis, id: &str) -> Spawned {
    node_with(redis, id, &[]).await
}

/// [`node`] with more flags.
async fn node_with(redis: &Redis, id: &str, more: &[&str]) -> Spawned {
    let url = redis.url();
    let lease = LEASE_MS.to_string();
    let cluster = ["--cluster", &url, "--node-id", id, "--cluster-lease-ms", &lease];
    let relay = spawn(&[&cluster[..], &["--metrics-listen", "127.0.0.1:0"], more].concat());
    wait_health(&relay, 200).await;
    relay
}

/// Host on `a`, guest on `b`: both joined, the host told.
async fn pair(a: SocketAddr, b: SocketAddr, call: &str) -> (Client, Client) {
    let mut host = join(a, call, 0).await;
    let guest = join(b, call, 1).await;
    assert_eq!(host.recv().await, r#"{"t":"peer-joined"}"#);
    (host, guest)
}

fn ice(who: &str, n: usize) -> String {
    format!(r#"{{"t":"ice","candidate":"{who}-{n}"}}"#)
}

/// SIGKILL a relay node.
fn kill(mut relay: Spawned) {
    relay.child.kill().unwrap();
    relay.child.wait().unwrap();
}

/// The socket ends (the relay behind it died) without any more messages.
async fn dropped(client: &mut Client) {
    match tokio::time::timeout(common::RECV_TIMEOUT, client.ws.next()).await {
        Ok(None | Some(Err(_))) => {}
        other => panic!("expected the socket to drop, got {other:?}"),
    }
}

#[tokio::test]
async fn host_and_guest_on_two_nodes_talk_in_order_and_a_third_on_another_is_full() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis, "a").await, node(&redis, "b").await, node(&redis, "c").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;

    // Both at once, as an ICE trickle goes: each side gets the other's in the order sent.
    const N: usize = 60;
    for n in 0..N {
        host.send(&ice("host", n)).await;
        guest.send(&ice("guest", n)).await;
    }
    for n in 0..N {
        assert_eq!(guest.recv().await, ice("host", n));
        assert_eq!(host.recv().await, ice("guest", n));
    }
    // An offer of 5 KB crosses verbatim, and nothing is echoed.
    let offer = format!(r#"{{ "t":"offer", "sdp":"v=0\r\n{}" }}"#, "a=x\\r\\n".repeat(700));
    host.send(&offer).await;
    assert_eq!(guest.recv().await, offer);
    host.expect_quiet(Duration::from_millis(100)).await;

    let mut third = open(c.addr, &call, None).await;
    assert_eq!(third.recv().await, r#"{"t":"full"}"#);
    assert_eq!(third.recv_close().await, (1008, "call is full".to_string()));
    still_talking(&mut host, &mut guest).await;

    // The guest leaves: the host hears it, and the place is free for someone on node c.
    guest.close().await;
    assert_eq!(host.recv().await, r#"{"t":"peer-left"}"#);
    let mut newcomer = join(c.addr, &call, 1).await;
    assert_eq!(host.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut host, &mut newcomer).await;

    // Alone in a room of the cluster: told so, as on one relay.
    let mut alone = join(b.addr, &call_id(), 0).await;
    alone.send(r#"{"t":"bye"}"#).await;
    assert_eq!(alone.recv_error().await, "nobody else is in the call yet: message not delivered");

    let metrics = scrape(&c).await;
    assert_eq!(metric(&metrics, "shieldcall_relay_cluster_up"), 1, "{metrics}");
    assert_eq!(metric(&metrics, "shieldcall_relay_full_total"), 1, "{metrics}");
    // The trickle, the offer, and one message in each still_talking.
    let forwarded = metric(&scrape(&a).await, "shieldcall_relay_messages_forwarded_total");
    assert_eq!(forwarded, N as u64 + 3);
}

#[tokio::test]
async fn a_move_token_from_one_node_takes_the_place_once_through_another() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis, "a").await, node(&redis, "b").await, node(&redis, "c").await);
    let call = call_id();
    let monitor = Monitor::start(&redis);
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    let token = ask_to_move(&mut host, 120).await;
    guest.expect_quiet(Duration::from_millis(100)).await;

    // The new device comes through a third node: the place is its own, with a new token; the
    // guest hears `peer-moved`, never `peer-left`; the old device is told and closed.
    let mut phone = take(c.addr, &call, &token).await;
    took_the_place(&phone, &mut host, &mut guest, r#"{"t":"peer-moved"}"#).await;
    let phone_rejoin = phone.rejoin.clone();
    still_talking(&mut guest, &mut phone).await;
    // Past a few renewals: the guest's node knows its peer moved, so nothing more is said.
    tokio::time::sleep(Duration::from_millis(LEASE_MS)).await;
    guest.expect_quiet(Duration::from_millis(100)).await;
    still_talking(&mut phone, &mut guest).await;

    // The link opened a second time, on any node: refused, and the phone keeps its place.
    move_refused(a.addr, &call, &token, "used").await;
    // The old device's rejoin token no longer counts.
    let mut old = open(b.addr, &call, Some(&host.rejoin)).await;
    assert_eq!(old.recv().await, r#"{"t":"full"}"#);
    // The phone's own rejoin token takes its place back through another node.
    let mut phone = rejoin(a.addr, &call, Some(&phone_rejoin), 1).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut guest, &mut phone).await;
    // And it can move on again, with a new token.
    assert_ne!(ask_to_move(&mut phone, 120).await, token);
    assert_eq!(metric(&scrape(&c).await, "shieldcall_relay_moves_total"), 1);
    // Node a issued the host's token and, after the rejoin, the phone's.
    assert_eq!(metric(&scrape(&a).await, "shieldcall_relay_move_tokens_issued_total"), 2);

    // Nodes that share no secret park nothing: refused, naming the request.
    let reason = "parking a call is not available on this relay";
    guest.send(r#"{"t":"park","deposit":"AAAA"}"#).await;
    assert_eq!(guest.recv_refusal().await, (reason.into(), Some("park".into())));
    still_talking(&mut phone, &mut guest).await;
    // Nor has a cluster groups: opening one is refused by name (so the page shows no add
    // link), a signal addressed to a member in words of its own.
    let reason = "group calls are not available on this relay";
    guest.send(r#"{"t":"open-group"}"#).await;
    assert_eq!(guest.recv_refusal().await, (reason.into(), Some("open-group".into())));
    guest.send(r#"{"t":"to","to":1,"s":{"t":"bye"}}"#).await;
    assert_eq!(guest.recv_error().await, reason);
    still_talking(&mut phone, &mut guest).await;

    // Neither a log nor Redis holds a move token, or the call id: Redis only their hashes, and
    // it was never sent either.
    for relay in [a, b, c] {
        let logs = relay.stderr();
        assert!(!logs.contains(&token), "a move token in the log: {logs}");
    }
    let seen = monitor.stop(&redis);
    assert!(seen.contains("shieldcall:move:"), "{seen}");
    assert!(!seen.contains(&token) && !seen.contains(&call), "{seen}");
    let (dump, values) = redis_dump(&redis);
    assert!(dump.contains("shieldcall:move:"), "{dump}");
    assert!(!dump.contains(&token) && !values.contains(&token), "{dump}");
}

/// A file holding a cluster secret of its own, removed when dropped.
struct SecretFile(std::path::PathBuf);

impl SecretFile {
    fn new(secret: &str) -> SecretFile {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("shieldcall-cluster-secret-{}-{n}", std::process::id()));
        std::fs::write(&path, format!("{secret}\n")).unwrap();
        SecretFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const SECRET: &str = "the-nodes-share-this-and-redis-never-sees-it";

/// A node of the cluster on `redis` that parks with `secret`, for `park_secs`.
async fn parking_node(redis: &Redis, id: &str, secret: &SecretFile, park_secs: u64) -> Spawned {
    let ttl = park_secs.to_string();
    node_with(redis, id, &["--cluster-secret-file", secret.path(), "--park-ttl-secs", &ttl]).await
}

/// Each page is told in its `joined` what its relay does not offer, so that it can say so
/// before anyone presses: a cluster has no groups, and parks no call without a shared secret.
#[tokio::test]
async fn joined_tells_the_page_what_the_cluster_does_not_offer() {
    let redis = Redis::start();
    let secret = SecretFile::new(SECRET);
    let plain = node(&redis, "a").await;
    let parking = parking_node(&redis, "b", &secret, 30).await;
    let cases =
        [(&plain, serde_json::json!(["group", "park"])), (&parking, serde_json::json!(["group"]))];
    for (node, lacks) in cases {
        let mut page = open(node.addr, &call_id(), None).await;
        let joined: serde_json::Value = serde_json::from_str(&page.recv().await).unwrap();
        assert_eq!((joined["t"].as_str(), &joined["lacks"]), (Some("joined"), &lacks));
    }
}

/// A call parked on a cluster: nodes a and b park for `park_secs`, the host (on a) parked, and
/// the guest (on b) heard it.
struct Parked {
    a: Spawned,
    b: Spawned,
    call: String,
    host: Client,
    guest: Client,
    token: String,
    code: String,
    /// Just before the park was asked for: its end is at least its time later.
    parked_at: Instant,
}

async fn parked_call(redis: &Redis, secret: &SecretFile, park_secs: u64) -> Parked {
    let a = parking_node(redis, "a", secret, park_secs).await;
    let b = parking_node(redis, "b", secret, park_secs).await;
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    let parked_at = Instant::now();
    let (token, code) = park(&mut host, park_secs).await;
    assert_eq!(guest.recv().await, format!(r#"{{"t":"peer-parked","ttl":{park_secs}}}"#));
    Parked { a, b, call, host, guest, token, code, parked_at }
}

#[tokio::test]
async fn a_park_on_one_node_is_found_by_its_code_through_another_and_picked_up_through_a_third() {
    let redis = Redis::start();
    let secret = SecretFile::new(SECRET);
    let monitor = Monitor::start(&redis);
    let Parked { a, b, call, host, mut guest, token, code, .. } =
        parked_call(&redis, &secret, 30).await;
    let c = parking_node(&redis, "c", &secret, 30).await;
    // The parker's page goes, and its node dies: the held place is Redis's alone. Past a lease
    // and its renewals the guest hears nothing (never `peer-left`, `peer-joined` or
    // `park-ended`), and the held place stays taken.
    host.close().await;
    kill(a);
    tokio::time::sleep(Duration::from_millis(LEASE_MS * 2)).await;
    guest.expect_quiet(Duration::from_millis(100)).await;
    let mut stranger = open(c.addr, &call, None).await;
    assert_eq!(stranger.recv().await, r#"{"t":"full"}"#);
    guest.send(r#"{"t":"bye"}"#).await;
    assert!(guest.recv_error().await.contains("nobody else"));

    // The code, typed in lower case on another node's home page, finds the park.
    let (status, found) = pickup(c.addr, &code.to_ascii_lowercase()).await;
    assert_eq!(status, 200, "{found}");
    let found = &found["found"];
    assert_eq!(found["call"].as_str(), Some(call.as_str()));
    assert_eq!(found["token"].as_str(), Some(token.as_str()));
    assert_eq!(found["deposit"].as_str(), Some(DEPOSIT));
    // A node with another secret, or none, does not find it.
    let other = SecretFile::new("another-secret-that-is-long-enough-to-use");
    let stray = parking_node(&redis, "stray", &other, 30).await;
    let bare = node(&redis, "bare").await;
    for n in [&stray, &bare] {
        assert_eq!(pickup(n.addr, &code).await.0, 404);
    }

    // The pickup link takes the held place through yet another node (one without the secret:
    // a token is all it takes); the guest, on node b, hears it as a move.
    let mut picker = take(bare.addr, &call, &token).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-moved"}"#);
    still_talking(&mut guest, &mut picker).await;
    tokio::time::sleep(Duration::from_millis(LEASE_MS)).await;
    guest.expect_quiet(Duration::from_millis(100)).await;
    // Used: the code says so on any node, and the token takes nothing more.
    let (status, used) = pickup(c.addr, &code).await;
    assert_eq!((status, used["refused"]["reason"].as_str()), (410, Some("used")));
    move_refused(c.addr, &call, &token, "used").await;
    still_talking(&mut picker, &mut guest).await;

    // Redis neither holds nor was ever sent the code, the token, the call id or the deposit.
    let seen = monitor.stop(&redis);
    assert!(seen.contains("shieldcall:park:") && seen.contains("peer-moved"), "{seen}");
    let (dump, values) = redis_dump(&redis);
    assert!(dump.contains("shieldcall:park:"), "{dump}");
    for secret in [&code, &token, &call, DEPOSIT, SECRET] {
        assert!(!dump.contains(secret) && !values.contains(secret), "{secret} in Redis: {dump}");
        assert!(!seen.contains(secret), "{secret} sent to Redis: {seen}");
    }
    // A record changed in Redis opens nowhere: unknown, and the node says so.
    let record = dump.lines().find(|key| key.starts_with("shieldcall:park:")).unwrap();
    redis_cli(&redis, &["SET", record, "not sealed by any node"]);
    assert_eq!(pickup(b.addr, &code).await.0, 404);
    // No log holds any of them either.
    let warned = "a park record in the cluster does not open";
    for (relay, warns) in [(b, true), (c, false), (stray, false), (bare, false)] {
        let logs = relay.stderr();
        assert_eq!(logs.contains(warned), warns, "{logs}");
        for secret in [&code, &token, &call, DEPOSIT, SECRET] {
            assert!(!logs.contains(secret), "{secret} in the log: {logs}");
        }
    }
}

#[tokio::test]
async fn a_park_nobody_picks_up_ends_for_the_other_member_and_its_code_says_expired() {
    let redis = Redis::start();
    let secret = SecretFile::new(SECRET);
    let Parked { a, b, call, host, mut guest, token, code, parked_at } =
        parked_call(&redis, &secret, 1).await;
    host.close().await;
    // At the park's end, or within the third of a lease after it that the guest's node takes
    // to renew (and a margin for a busy machine): `park-ended`, and nothing else.
    assert_eq!(guest.recv().await, r#"{"t":"park-ended"}"#);
    let took = parked_at.elapsed();
    let latest = Duration::from_millis(1000 + LEASE_MS / 3 + 1000);
    assert!(took >= Duration::from_millis(990) && took <= latest, "park-ended after {took:?}");
    tokio::time::sleep(Duration::from_millis(LEASE_MS)).await;
    guest.expect_quiet(Duration::from_millis(100)).await;
    let (status, expired) = pickup(b.addr, &code).await;
    assert_eq!((status, expired["refused"]["reason"].as_str()), (410, Some("expired")));
    move_refused(a.addr, &call, &token, "expired").await;
    // The place is free again: someone new joins, and the guest hears it.
    let mut newcomer = join(a.addr, &call, 1).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut guest, &mut newcomer).await;
}

#[tokio::test]
async fn a_parker_whose_answer_was_lost_takes_its_held_place_back_with_its_rejoin_token() {
    let redis = Redis::start();
    let secret = SecretFile::new(SECRET);
    let monitor = Monitor::start(&redis);
    let Parked { a, b, call, host, mut guest, token, code, .. } =
        parked_call(&redis, &secret, 30).await;
    // The guest moves to another device meanwhile: nobody is told for the held place.
    let moving = ask_to_move(&mut guest, 120).await;
    let mut guest_phone = take(a.addr, &call, &moving).await;
    assert_eq!(guest.recv().await, r#"{"t":"moved"}"#);
    let mut guest = {
        assert_eq!(guest.recv_close().await, (1000, "moved to another device".to_string()));
        guest_phone.expect_quiet(Duration::from_millis(100)).await;
        guest_phone
    };
    // A page that lost the answer knows only its rejoin token, as after any dropped socket: it
    // comes back through another node and takes its place back, as on one relay.
    let parker = host.rejoin.clone();
    host.close().await;
    let mut back = rejoin(b.addr, &call, Some(&parker), 1).await;
    assert_eq!(back.rejoin, parker, "the place keeps its token");
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut guest, &mut back).await;
    // The park is over: its code and its token say so, and take nothing.
    let (status, expired) = pickup(a.addr, &code).await;
    assert_eq!((status, expired["refused"]["reason"].as_str()), (410, Some("expired")));
    move_refused(a.addr, &call, &token, "expired").await;
    tokio::time::sleep(Duration::from_millis(LEASE_MS)).await;
    guest.expect_quiet(Duration::from_millis(100)).await;
    back.expect_quiet(Duration::from_millis(100)).await;
    still_talking(&mut back, &mut guest).await;
    // No script told the held place anything: no node answers to its name.
    let seen = monitor.stop(&redis);
    assert!(seen.contains("still-b") && !seen.contains("shieldcall:node:=held"), "{seen}");
}

#[tokio::test]
async fn pickup_codes_tried_are_counted_across_the_nodes() {
    let redis = Redis::start();
    let secret = SecretFile::new(SECRET);
    let a = parking_node(&redis, "a", &secret, 30).await;
    let b = parking_node(&redis, "b", &secret, 30).await;
    // Ten codes a minute per client, whichever node each reaches (round robin here).
    for n in 0..10 {
        let node = if n % 2 == 0 { &a } else { &b };
        assert_eq!(pickup(node.addr, "ZZZZZZ").await.0, 404, "try {n}");
    }
    for node in [&a, &b] {
        assert_eq!(pickup_raw(node.addr, "ZZZZZZ").await.0, 429);
    }
    // Redis names the client by an HMAC only, for a minute.
    let (dump, values) = redis_dump(&redis);
    assert!(dump.contains("shieldcall:pickups:"), "{dump}");
    let counter = dump.lines().find(|key| key.starts_with("shieldcall:pickups:")).unwrap();
    let left: u64 = redis_cli(&redis, &["PTTL", counter]).trim().parse().unwrap();
    assert!((1..=60_000).contains(&left), "{left} ms left");
    assert!(!dump.contains("127.0.0") && !values.contains("127.0.0"), "{dump}");
}

#[tokio::test]
async fn a_transfer_from_one_node_is_taken_through_another_and_the_other_person_hears_the_name() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis, "a").await, node(&redis, "b").await, node(&redis, "c").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    // A name with what Lua patterns and the relay's own fields are made of: digits, spaces, %.
    let name = "42 %d Alex Martin";
    guest.send(&format!(r#"{{"t":"transfer","name":"{name}"}}"#)).await;
    let answer: serde_json::Value = serde_json::from_str(&guest.recv().await).unwrap();
    assert_eq!((answer["t"].as_str(), answer["ttl"].as_u64()), (Some("transfer-token"), Some(120)));
    let token = answer["token"].as_str().unwrap().to_string();
    host.expect_quiet(Duration::from_millis(100)).await;
    // Until it is used, Redis holds the name (which the other person is shown anyway) in clear.
    assert!(redis_dump(&redis).1.contains(name));

    let mut alex = take(c.addr, &call, &token).await;
    let told = format!(r#"{{"t":"peer-transferred","name":"{name}"}}"#);
    took_the_place(&alex, &mut guest, &mut host, &told).await;
    still_talking(&mut host, &mut alex).await;
    // Past a few renewals: the host's node knows who its peer is now, so nothing more is said.
    tokio::time::sleep(Duration::from_millis(LEASE_MS)).await;
    host.expect_quiet(Duration::from_millis(100)).await;
    move_refused(b.addr, &call, &token, "used").await;
    // A name the relay refuses is refused on a cluster too, and nothing is issued.
    host.send(r#"{"t":"transfer","name":""}"#).await;
    let (reason, request) = host.recv_refusal().await;
    assert!(reason.starts_with("invalid transfer name"), "{reason}");
    assert_eq!(request.as_deref(), Some("transfer"));
    still_talking(&mut alex, &mut host).await;
    // Redis holds the token by its hash only, and the name no longer.
    let (dump, values) = redis_dump(&redis);
    assert!(!dump.contains(&token) && !values.contains(&token) && !values.contains(name));
}

/// Every key in `redis`, and every value, one per line.
fn redis_dump(redis: &Redis) -> (String, String) {
    let dump = redis_cli(redis, &["--scan"]);
    let values = dump.lines().map(|key| redis_cli(redis, &["GET", key])).collect();
    (dump, values)
}

#[tokio::test]
async fn one_move_token_presented_through_two_nodes_at_once_takes_the_place_once() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis, "a").await, node(&redis, "b").await, node(&redis, "c").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    let token = ask_to_move(&mut host, 120).await;
    let (mut one, mut two) =
        tokio::join!(open_moving(b.addr, &call, &token), open_moving(c.addr, &call, &token));
    let (one, two) = (one.recv().await, two.recv().await);
    let used = r#"{"t":"move-refused","reason":"used"}"#;
    let joined = |s: &str| s.starts_with(r#"{"t":"joined""#);
    assert!((joined(&one) && two == used) || (one == used && joined(&two)), "{one} / {two}");
    assert_eq!(guest.recv().await, r#"{"t":"peer-moved"}"#);
    guest.expect_quiet(Duration::from_millis(100)).await;
}

#[test]
fn a_move_whose_answer_was_lost_is_answered_again_to_the_same_socket_only() {
    // The script a node runs to take a place with a token, run here by hand: the node asks
    // again when Redis's answer is lost on the way (its connection dropped).
    let redis = Redis::start();
    let room = "shieldcall:room:00";
    let (token, mine, other) = ("shieldcall:move:00", format!("{room}:0"), format!("{room}:1"));
    let far = "99999999999999";
    redis_cli(&redis, &["SET", token, &format!("{mine} a 1 {far}")]);
    redis_cli(&redis, &["SET", &mine, "a 1 oldhash"]);
    redis_cli(&redis, &["SET", &other, "b 2 itshash"]);
    let script = shieldcall_relay::cluster::JOIN_MOVING;
    let take = |holder: &str| {
        redis_cli(&redis, &["EVAL", script, "3", token, &mine, &other, holder, "newhash", "9000"])
    };
    assert_eq!(take("c 3"), "moved\n0\nb 2\n");
    assert_eq!(redis_cli(&redis, &["GET", &mine]), "c 3 newhash\n");
    assert_eq!(take("c 3"), "moved\n0\nb 2\n", "the same socket, asking again");
    assert_eq!(take("d 4"), "used\n\n\n", "anyone else");
}

#[test]
fn a_renewal_that_finds_its_member_parked_meanwhile_leaves_it_alone() {
    // The renewal script, run here by hand as a node runs it for a batch read just before its
    // member's park: the place is the park's now, neither the member's socket taken over by a
    // reconnection ("replaced": its socket would be closed) nor lost.
    let redis = Redis::start();
    let (mine, other) = ("shieldcall:room:00:0", "shieldcall:room:00:1");
    redis_cli(&redis, &["SET", mine, "=held 5 ourhash", "PX", "30000"]);
    redis_cli(&redis, &["SET", other, "b 2 itshash"]);
    let script = shieldcall_relay::cluster::RENEW;
    let renew = |want: &str| {
        redis_cli(&redis, &["EVAL", script, "2", mine, other, "1500", "shieldcall:node:a", want])
    };
    assert_eq!(renew("a 5 ourhash"), "0\nparked\nb 2\n");
    // Parked by someone else who took the place (or the same token under another member): not
    // this member's park.
    assert_eq!(renew("a 6 ourhash"), "0\nreplaced\nb 2\n");
    assert_eq!(renew("a 5 otherhash"), "0\nlost\nb 2\n");
    // Untouched: still the park's, for the park's time.
    assert_eq!(redis_cli(&redis, &["GET", mine]), "=held 5 ourhash\n");
}

#[tokio::test]
async fn a_move_token_of_a_place_taken_back_by_a_reconnection_has_expired() {
    // As on one relay: the token belongs to the socket that asked; a reconnection with the
    // rejoin token is another socket in the same place.
    let redis = Redis::start();
    let (a, b) = (node(&redis, "a").await, node(&redis, "b").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    let token = ask_to_move(&mut host, 120).await;
    let mut host_again = rejoin(b.addr, &call, Some(&host.rejoin), 1).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    move_refused(a.addr, &call, &token, "expired").await;
    still_talking(&mut host_again, &mut guest).await;
}

#[tokio::test]
async fn a_cluster_move_token_expires_goes_with_its_place_and_belongs_to_its_call() {
    let redis = Redis::start();
    let short_ttl = ["--move-ttl-secs", "1"];
    let (a, b) = (node_with(&redis, "a", &short_ttl).await, node(&redis, "b").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    let token = ask_to_move(&mut host, 1).await;
    // Another call knows nothing of it; nor is a made-up token, or a rejoin token, one.
    move_refused(b.addr, &call_id(), &token, "unknown").await;
    move_refused(b.addr, &call, "AAAAAAAAAAAAAAAAAAAAAA", "unknown").await;
    move_refused(b.addr, &call, &host.rejoin.clone(), "unknown").await;
    // Only the latest token of a place counts, and only for its time.
    let latest = ask_to_move(&mut host, 1).await;
    move_refused(b.addr, &call, &token, "unknown").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    move_refused(b.addr, &call, &latest, "expired").await;
    still_talking(&mut host, &mut guest).await;

    // A token whose place was given up: whoever asked for it left the call.
    let from_guest = ask_to_move(&mut guest, 120).await;
    guest.close().await;
    assert_eq!(host.recv().await, r#"{"t":"peer-left"}"#);
    move_refused(a.addr, &call, &from_guest, "expired").await;
    host.expect_quiet(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_rejoin_with_its_token_on_another_node_takes_the_place_back() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis, "a").await, node(&redis, "b").await, node(&redis, "c").await);
    let call = call_id();
    let (mut host, mut stale_guest) = pair(a.addr, b.addr, &call).await;

    // The guest's socket on b went half-open; without its token, or with a made-up one, a
    // reconnection through c finds the call full.
    for token in [None, Some("AAAAAAAAAAAAAAAAAAAAAA")] {
        let mut refused = open(c.addr, &call, token).await;
        assert_eq!(refused.recv().await, r#"{"t":"full"}"#, "{token:?}");
    }
    // With it, the guest takes its place back through c, keeping the token; the host hears
    // peer-joined and never peer-left; the old socket on b is closed as replaced.
    let mut guest = rejoin(c.addr, &call, Some(&stale_guest.rejoin), 1).await;
    assert_eq!(guest.rejoin, stale_guest.rejoin, "the place keeps its token");
    assert_eq!(host.recv().await, r#"{"t":"peer-joined"}"#);
    let replaced = (1000, "replaced by a newer connection of the same person".to_string());
    assert_eq!(stale_guest.recv_close().await, replaced);
    still_talking(&mut host, &mut guest).await;
    host.expect_quiet(Duration::from_millis(100)).await;
    assert_eq!(metric(&scrape(&c).await, "shieldcall_relay_rejoins_total"), 1);

    // The host's token takes the host's place, on yet another node; the guest is untouched.
    let mut host_again = rejoin(b.addr, &call, Some(&host.rejoin), 1).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    assert_eq!(host.recv_close().await, replaced);
    still_talking(&mut host_again, &mut guest).await;

    // No node's log names the call or a token, and Redis holds neither: only their hashes.
    for relay in [a, b, c] {
        let logs = relay.stderr();
        assert!(logs.contains("joined"), "{logs}");
        for secret in [&call, &host.rejoin, &guest.rejoin] {
            assert!(!logs.contains(secret.as_str()), "{secret} in the log: {logs}");
        }
    }
    let dump = redis_cli(&redis, &["--scan"]);
    assert!(dump.contains("shieldcall:room:"), "{dump}");
    for key in dump.lines() {
        let value = redis_cli(&redis, &["GET", key]);
        for secret in [&call, &host.rejoin, &guest.rejoin] {
            assert!(!key.contains(secret.as_str()) && !value.contains(secret.as_str()), "{key}");
        }
    }
}

/// Everything Redis is asked (`MONITOR`: every command with its keys and arguments, the
/// scripts' too) until [`Monitor::stop`], read as it comes (a full pipe would stall it).
struct Monitor {
    child: Child,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Monitor {
    fn start(redis: &Redis) -> Monitor {
        let mut child = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &redis.port.to_string(), "MONITOR"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli runs (it comes with redis-server: run scripts/setup.sh)");
        let mut out = child.stdout.take().unwrap();
        // MONITOR answers OK once it watches: wait for it, so that nothing is missed.
        let mut first = [0u8; 3];
        out.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"OK\n");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = out.read(&mut chunk) {
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Monitor { child, seen }
    }

    /// What it saw (binary arguments escaped, as redis-cli prints them), up to a last command
    /// sent now: so nothing the test did before is still on its way.
    fn stop(mut self, redis: &Redis) -> String {
        redis_cli(redis, &["ECHO", "monitor-end"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        let text = loop {
            let text = String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned();
            if text.contains("monitor-end") {
                break text;
            }
            assert!(Instant::now() < deadline, "MONITOR never saw the end: {text}");
            std::thread::sleep(Duration::from_millis(10));
        };
        let _ = self.child.kill();
        let _ = self.child.wait();
        text
    }
}

/// What `redis-cli` (Debian's redis-tools, a dependency of redis-server) prints for `args`.
fn redis_cli(redis: &Redis, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &redis.port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs (it comes with redis-server: run scripts/setup.sh)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A sealed park record is binary: lossy, since only text is looked for in it.
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_node_killed_mid_call_its_member_comes_back_through_another_and_the_call_goes_on() {
    let redis = Redis::start();
    let (a, b) = (node(&redis, "a").await, node(&redis, "b").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    host.send(r#"{"t":"offer","sdp":"v=0"}"#).await;
    assert_eq!(guest.recv().await, r#"{"t":"offer","sdp":"v=0"}"#);

    kill(a);
    dropped(&mut host).await;
    // The host's page reconnects, now to b, with its token: its place, its token, the guest
    // told peer-joined (as when a half-open socket is replaced on one relay), and the
    // signalling goes on both ways.
    let mut host_again = rejoin(b.addr, &call, Some(&host.rejoin), 1).await;
    assert_eq!(host_again.rejoin, host.rejoin);
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    host_again.send(r#"{"t":"offer","sdp":"v=0 again"}"#).await;
    assert_eq!(guest.recv().await, r#"{"t":"offer","sdp":"v=0 again"}"#);
    guest.send(r#"{"t":"answer","sdp":"v=0"}"#).await;
    assert_eq!(host_again.recv().await, r#"{"t":"answer","sdp":"v=0"}"#);
    // Past the lease of the dead node's place: nobody is told anything more.
    guest.expect_quiet(Duration::from_millis(2 * LEASE_MS)).await;
    still_talking(&mut host_again, &mut guest).await;
}

#[tokio::test]
async fn a_node_stopped_for_a_deploy_hands_its_member_to_another_without_a_peer_left() {
    let redis = Redis::start();
    let (a, b) = (node(&redis, "a").await, node(&redis, "b").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;
    // SIGTERM, as a process manager stops a node: the relay goes, not the host.
    let pid = a.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert_eq!(host.recv_error().await, "relay shutting down");
    assert_eq!(host.recv_close().await, (1001, "relay shutting down".to_string()));
    let mut host_again = rejoin(b.addr, &call, Some(&host.rejoin), 1).await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut host_again, &mut guest).await;
    guest.expect_quiet(Duration::from_millis(LEASE_MS)).await;
}

#[tokio::test]
async fn a_member_that_never_comes_back_is_announced_once_its_lease_runs_out() {
    let redis = Redis::start();
    let (a, b) = (node(&redis, "a").await, node(&redis, "b").await);
    let call = call_id();
    let (mut host, _guest) = pair(a.addr, b.addr, &call).await;

    let killed = Instant::now();
    kill(b);
    // Until the lease runs out the guest may still come back; a message meanwhile is refused
    // with a reason, not lost in silence.
    host.send(r#"{"t":"bye"}"#).await;
    assert_eq!(
        host.recv_error().await,
        "the other person's relay went away; they are reconnecting: message not delivered"
    );
    assert_eq!(host.recv().await, r#"{"t":"peer-left"}"#);
    let waited = killed.elapsed();
    let lease = Duration::from_millis(LEASE_MS);
    // Expected between 1.3 and 2 leases (see the README); generous above for a loaded machine.
    assert!(waited >= lease - lease / 3 && waited < 4 * lease, "peer-left after {waited:?}");
    // The place is free: someone new joins through another node.
    let c = node(&redis, "c").await;
    let mut newcomer = join(c.addr, &call, 1).await;
    assert_eq!(host.recv().await, r#"{"t":"peer-joined"}"#);
    still_talking(&mut host, &mut newcomer).await;
}

/// Events published while a node was not subscribed (Redis restarting) are lost to it; its
/// renewals see the places themselves and make up for them. The other place is written and
/// removed here by hand, as a guest on a node that was never told would leave it.
#[tokio::test]
async fn renewals_make_up_for_room_events_a_node_never_received() {
    let redis = Redis::start();
    let (_a, mut host, other) = lone_host(&redis).await;
    let value = "z 1 0123456789abcdef0123456789abcdef";
    redis_cli(&redis, &["SET", &other, value, "PX", "60000"]);
    let joined = Instant::now();
    assert_eq!(host.recv().await, r#"{"t":"peer-joined"}"#);
    assert!(joined.elapsed() < Duration::from_millis(2 * LEASE_MS), "{:?}", joined.elapsed());
    host.expect_quiet(Duration::from_millis(LEASE_MS)).await;
    redis_cli(&redis, &["DEL", &other]);
    assert_eq!(host.recv().await, r#"{"t":"peer-left"}"#);
}

/// A host alone in a call on node a, and the Redis key of the place a guest would take (for
/// a test to write by hand, as a node that was never heard from would).
async fn lone_host(redis: &Redis) -> (Spawned, Client, String) {
    let a = node(redis, "a").await;
    let host = join(a.addr, &call_id(), 0).await;
    let own = redis_cli(redis, &["--scan"]).trim().to_string();
    let other = format!("{}1", own.strip_suffix('0').expect("the host holds place 0"));
    (a, host, other)
}

/// A park whose `peer-parked` never reached the other member's node (published while its
/// subscription was down): its renewals say it, with the time left, and then its end.
#[tokio::test]
async fn renewals_make_up_for_a_park_a_node_never_heard_of() {
    let redis = Redis::start();
    let (_a, mut host, other) = lone_host(&redis).await;
    let held = "=held 7 0123456789abcdef0123456789abcdef";
    redis_cli(&redis, &["SET", &other, held, "PX", "4000"]);
    let parked: serde_json::Value = serde_json::from_str(&host.recv().await).unwrap();
    assert_eq!(parked["t"].as_str(), Some("peer-parked"), "{parked}");
    let ttl = parked["ttl"].as_u64().unwrap();
    assert!((1..=4).contains(&ttl), "the time left, in seconds: {ttl}");
    // Said once: the next renewals find what the node now knows.
    host.expect_quiet(Duration::from_millis(LEASE_MS)).await;
    assert_eq!(host.recv().await, r#"{"t":"park-ended"}"#);
}

/// Each node drops its own members of a quiet room, and neither hears the other left first.
#[tokio::test]
async fn each_node_drops_its_members_of_an_idle_room() {
    let redis = Redis::start();
    let idle = ["--idle-timeout-secs", "1"];
    let (a, b) = (node_with(&redis, "a", &idle).await, node_with(&redis, "b", &idle).await);
    let (mut host, mut guest) = pair(a.addr, b.addr, &call_id()).await;
    for member in [&mut host, &mut guest] {
        assert_eq!(member.recv_error().await, "room idle: closed by the relay");
        assert_eq!(member.recv_close().await, (1000, "room idle: closed by the relay".into()));
    }
}

#[tokio::test]
async fn bad_messages_are_still_refused_by_each_node_and_64_kib_crosses() {
    let redis = Redis::start();
    let (a, b) = (node(&redis, "a").await, node(&redis, "b").await);
    let (mut host, mut guest) = pair(a.addr, b.addr, &call_id()).await;

    for bad in ["garbage", r#"{"t":"peer-left"}"#, r#"{"t":"offer"}"#] {
        host.send(bad).await;
        assert_eq!(host.recv_error().await, "not a valid Shieldcall signalling message");
    }
    guest.send_msg(Message::binary(vec![0u8, 1])).await;
    assert_eq!(guest.recv_error().await, "binary messages are not accepted: send JSON text");
    let offer = |len: usize| {
        let sdp: String = (0..len - 22).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        format!(r#"{{"t":"offer","sdp":"{sdp}"}}"#)
    };
    host.send(&offer(MAX_SIGNAL_BYTES + 1)).await;
    assert_eq!(host.recv_error().await, "message larger than 64 KiB");
    // Exactly at the limit, it crosses the nodes whole.
    host.send(&offer(MAX_SIGNAL_BYTES)).await;
    assert_eq!(guest.recv().await, offer(MAX_SIGNAL_BYTES));
    // Over the hard cap: only that socket is closed, and the other node's member hears it.
    let _ = host
        .try_send(&format!(r#"{{"t":"offer","sdp":"{}"}}"#, "a".repeat(HARD_MESSAGE_CAP)))
        .await;
    assert_eq!(guest.recv().await, r#"{"t":"peer-left"}"#);
    let metrics = scrape(&a).await;
    let refused = |r: &str| {
        metric(&metrics, &format!("shieldcall_relay_messages_refused_total{{reason=\"{r}\"}}"))
    };
    assert_eq!((refused("malformed"), refused("too_large"), refused("binary")), (3, 1, 0));
}

#[tokio::test]
async fn a_node_started_before_redis_says_so_and_serves_once_it_is_there() {
    // A port with no Redis behind it yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{port}");
    let relay =
        spawn(&["--cluster", &url, "--cluster-lease-ms", "600", "--metrics-listen", "127.0.0.1:0"]);
    wait_health(&relay, 503).await;
    let mut refused = open(relay.addr, &call_id(), None).await;
    assert_eq!(
        refused.recv_error().await,
        "the relay cannot reach its cluster: try again in a moment"
    );
    let _redis = Redis::on(port);
    wait_health(&relay, 200).await;
    let (mut host, mut guest) = pair(relay.addr, relay.addr, &call_id()).await;
    still_talking(&mut host, &mut guest).await;
    let logs = relay.stderr();
    assert!(logs.contains("cannot reach the cluster engine (Redis)"), "{logs}");
}

/// A Redis with a password: the URL comes from a file (arguments show in ps), and a wrong
/// password is an engine the node cannot use, said clearly, never echoed.
#[tokio::test]
async fn a_redis_password_comes_from_a_file_and_a_wrong_one_is_refused_clearly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _redis = Redis::with(port, &["--requirepass", "north-wind-7"]);
    let dir = std::env::temp_dir();
    let (good, bad) =
        (dir.join(format!("sc-redis-good-{port}")), dir.join(format!("sc-redis-bad-{port}")));
    std::fs::write(&good, format!("redis://:north-wind-7@127.0.0.1:{port}\n")).unwrap();
    std::fs::write(&bad, format!("redis://:south-wind@127.0.0.1:{port}\n")).unwrap();
    let flags = |file: &std::path::Path| {
        let file = file.to_str().unwrap().to_string(); // a temp path is UTF-8 here
        ["--cluster-url-file".to_string(), file, "--metrics-listen".into(), "127.0.0.1:0".into()]
    };
    let good_flags = flags(&good);
    let relay = spawn(&good_flags.iter().map(String::as_str).collect::<Vec<_>>());
    wait_health(&relay, 200).await;
    let (mut host, mut guest) = pair(relay.addr, relay.addr, &call_id()).await;
    still_talking(&mut host, &mut guest).await;

    let bad_flags = flags(&bad);
    let wrong = spawn(&bad_flags.iter().map(String::as_str).collect::<Vec<_>>());
    wait_health(&wrong, 503).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(http_get(wrong.metrics.unwrap(), "/healthz").await.0, 503);
    let logs = wrong.stderr();
    assert!(logs.contains("cannot reach the cluster engine (Redis)"), "{logs}");
    assert!(!logs.contains("south-wind") && !logs.contains("north-wind"), "{logs}");
    let _ = (std::fs::remove_file(&good), std::fs::remove_file(&bad));
}

#[tokio::test]
async fn with_redis_gone_joins_are_refused_clearly_and_when_it_is_back_the_call_goes_on() {
    let redis = Redis::start();
    let (a, b) = (node(&redis, "a").await, node(&redis, "b").await);
    let call = call_id();
    let (mut host, mut guest) = pair(a.addr, b.addr, &call).await;

    let port = redis.kill();
    wait_health(&a, 503).await;
    let metrics = scrape(&a).await;
    assert_eq!(metric(&metrics, "shieldcall_relay_cluster_up"), 0, "{metrics}");
    let mut refused = open(a.addr, &call_id(), None).await;
    let reason = "the relay cannot reach its cluster: try again in a moment";
    assert_eq!(refused.recv_error().await, reason);
    assert_eq!(refused.recv_close().await, (1013, reason.to_string()));
    host.send(r#"{"t":"bye"}"#).await;
    assert_eq!(
        host.recv_error().await,
        "the relay cannot reach its cluster: message not delivered"
    );

    // Down for longer than a lease, then back empty (nothing saved): each node writes its
    // members' places back.
    tokio::time::sleep(Duration::from_millis(LEASE_MS)).await;
    let _redis = Redis::on(port);
    wait_health(&a, 200).await;
    wait_health(&b, 200).await;
    // One renewal more, so that both nodes have written their places back.
    tokio::time::sleep(Duration::from_millis(LEASE_MS / 2)).await;
    still_talking(&mut host, &mut guest).await;
    // Nobody was told the other left, nor is a third let in.
    let mut third = open(b.addr, &call, None).await;
    assert_eq!(third.recv().await, r#"{"t":"full"}"#);
    host.expect_quiet(Duration::from_millis(LEASE_MS)).await;
    join(a.addr, &call_id(), 0).await;
    // The logs say what happened, clearly.
    let logs = a.stderr();
    assert!(logs.contains("cannot reach the cluster engine (Redis)"), "{logs}");
    assert!(logs.contains("cluster engine reachable"), "{logs}");
}
