//! The relay's load benchmark (`make bench-relay`, never part of `make test`).
//!
//! Starts the release `shieldcall-relay` beside this program (caps raised by flags), opens
//! `--sockets` sockets on loopback as rooms of two (spread over 127.0.0.1, 127.0.0.2, ... so
//! that no source address runs out of ports), joins every room, then for `--quiet-secs` sends
//! one offer-sized message per room per second from one member to the other and times its
//! arrival (the send time is in the message), and goes on for `--flood-secs` more while a few
//! abusive sockets flood junk, oversized and over-the-cap messages in rooms of their own.
//! Prints the sockets held (and why any failed), the relay's RSS before and after the sockets
//! and per socket, forwarding latency (p50, p99, max) per phase, and whether the flood
//! disturbed any room. It prints numbers; it does not pass or fail on them.
//!
//! The client shares the machine with the relay: it keeps its sockets small (4 KiB read
//! buffers, no write buffer, like the relay's) and runs one small task per room.
//!
//! ```text
//! ulimit -n 1048576
//! cargo build --release -p shieldcall-relay --bin shieldcall-relay --example load
//! target/release/examples/load --sockets 100000
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep, sleep_until, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws = WebSocketStream<TcpStream>;

const USAGE: &str = "\
load: the relay's load benchmark (see the top of crates/relay/examples/load.rs)

    --sockets N           sockets to open, two per room [default: 100000]
    --per-ip N            sockets per source address 127.0.0.x [default: 10000; Linux has
                          28,232 ports per address, and finds a free one slowly when most are
                          taken]
    --quiet-secs N        seconds of offers without the flood [default: 15]
    --flood-secs N        seconds of offers with the flood beside them [default: 15]
    --offer-bytes N       size of each timed message [default: 5000]
    --rate N              timed messages per room per second [default: 1]
    --flooders N          abusive sockets at a time [default: 4]
    --parallel N          sockets being set up at a time [default: 128]
    --relay PATH          relay binary [default: shieldcall-relay beside target/*/examples]
    --log PATH            where the relay's stderr goes [default: $TMPDIR/shieldcall-relay-load.log]
";

/// Source address of the flooders: far from the rooms' 127.0.0.1, 127.0.0.2, ...
const FLOOD_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 250);

/// Generous: a socket that takes longer than this to set up counts as failed.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// After the last send, how long the receivers wait for what is still on its way.
const GRACE: Duration = Duration::from_secs(3);

#[derive(Clone, Debug)]
struct Opts {
    sockets: usize,
    per_ip: usize,
    quiet: Duration,
    flood: Duration,
    offer_bytes: usize,
    rate: usize,
    flooders: usize,
    parallel: usize,
    relay: PathBuf,
    log: PathBuf,
}

impl Opts {
    fn parse() -> Result<Opts, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
        // target/release/examples/load -> target/release/shieldcall-relay
        let beside = exe.parent().and_then(|d| d.parent()).map(|d| d.join("shieldcall-relay"));
        let mut o = Opts {
            sockets: 100_000,
            per_ip: 10_000,
            quiet: Duration::from_secs(15),
            flood: Duration::from_secs(15),
            offer_bytes: 5000,
            rate: 1,
            flooders: 4,
            parallel: 128,
            relay: beside.unwrap_or_default(),
            log: std::env::temp_dir().join("shieldcall-relay-load.log"),
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            if flag == "-h" || flag == "--help" {
                return Err(String::new());
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let n = || value.parse::<usize>().map_err(|_| format!("{flag}: not a number: {value}"));
            match flag.as_str() {
                "--sockets" => o.sockets = n()?,
                "--per-ip" => o.per_ip = n()?,
                "--quiet-secs" => o.quiet = Duration::from_secs(n()? as u64),
                "--flood-secs" => o.flood = Duration::from_secs(n()? as u64),
                "--offer-bytes" => o.offer_bytes = n()?,
                "--rate" => o.rate = n()?.clamp(1, 40),
                "--flooders" => o.flooders = n()?,
                "--parallel" => o.parallel = n()?.max(1),
                "--relay" => o.relay = PathBuf::from(value),
                "--log" => o.log = PathBuf::from(value),
                _ => return Err(format!("unknown argument: {flag}")),
            }
        }
        if o.sockets < 2 || o.per_ip < 2 || o.offer_bytes < 100 {
            return Err("--sockets and --per-ip at least 2, --offer-bytes at least 100".into());
        }
        o.per_ip -= o.per_ip % 2; // both members of a room from one address
        Ok(o)
    }
}

/// Microseconds since the benchmark started: the clock of the timestamps in the messages.
fn now_us() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Small buffers, as the relay's: 100,000 client sockets with tungstenite's defaults would need
/// 25 GB.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(1 << 20)
        .max_message_size(Some(1 << 20))
}

/// A tally of reasons (failures, disturbances, close codes).
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, usize>>);

impl Tally {
    fn add(&self, what: String) {
        *self.0.lock().unwrap().entry(what).or_default() += 1;
    }
    fn print(&self, title: &str) {
        let map = self.0.lock().unwrap();
        if map.is_empty() {
            println!("{title}: none");
        }
        for (what, n) in map.iter() {
            println!("{title}: {n} x {what}");
        }
    }
    fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
}

struct Shared {
    opts: Opts,
    relay: SocketAddr,
    rooms: usize,
    /// Set when the measured period starts: its first instant.
    start: watch::Sender<Option<Instant>>,
    /// Set when the benchmark is over and the sockets may go.
    stop: watch::Sender<bool>,
    set_up: AtomicUsize,
    failed: Tally,
    disturbed: Tally,
    setup_done: AtomicUsize,
    /// Rooms set up and not disturbed (yet).
    holding: AtomicUsize,
}

impl Shared {
    /// Room of `who` got `msg` where nothing (or an offer) was expected: it gives up.
    fn disturbed(&self, who: &str, why: String) {
        self.disturbed.add(format!("{who}: {why}"));
        self.holding.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What one room measured.
#[derive(Default)]
struct RoomResult {
    sent: u64,
    received: u64,
    /// Forwarding latencies in µs of the messages sent before the flood, and during it, each
    /// with the second of the measured period it was sent in.
    quiet: Vec<(u16, u32)>,
    flood: Vec<(u16, u32)>,
}

#[derive(Default)]
struct FloodStats {
    sockets: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    closes: Tally,
}

async fn open(relay: SocketAddr, ip: Ipv4Addr, call: &str) -> Result<Ws, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket.bind(SocketAddr::new(ip.into(), 0)).map_err(|e| format!("bind: {e}"))?;
    let stream = socket.connect(relay).await.map_err(|e| format!("connect: {e}"))?;
    // Browsers send WebSocket frames at once too.
    stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let url = format!("ws://{relay}/ws/{call}");
    match tokio_tungstenite::client_async_with_config(url, stream, Some(client_config())).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(response)) => Err(format!("refused: HTTP {}", response.status())),
        Err(e) => Err(format!("handshake: {e}")),
    }
}

/// The next text (pings are answered by tungstenite as it reads).
async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_string()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => return Err(describe(other)),
        }
    }
}

fn describe(msg: Option<Result<Message, WsError>>) -> String {
    match msg {
        None => "connection ended".into(),
        Some(Err(e)) => format!("error: {e}"),
        Some(Ok(Message::Close(Some(frame)))) => format!("closed {} {}", frame.code, frame.reason),
        Some(Ok(Message::Close(None))) => "closed".into(),
        Some(Ok(Message::Text(t))) => {
            format!("text {}", t.as_str().chars().take(90).collect::<String>())
        }
        Some(Ok(other)) => format!("unexpected {other:?}"),
    }
}

async fn join(ws: &mut Ws, peers: u8) -> Result<(), String> {
    ws.send(Message::text(r#"{"t":"join"}"#)).await.map_err(|e| format!("send join: {e}"))?;
    let joined = next_text(ws).await?;
    let want = format!(r#"{{"t":"joined","peers":{peers},"#);
    if joined.starts_with(&want) { Ok(()) } else { Err(format!("join: got {joined}")) }
}

/// Both members of room `i` connected and joined.
async fn set_up(shared: &Shared, i: usize) -> Result<(Ws, Ws), String> {
    let call = format!("load{i:018}");
    let ip = Ipv4Addr::new(127, 0, 0, (1 + 2 * i / shared.opts.per_ip) as u8);
    let mut a = open(shared.relay, ip, &call).await?;
    join(&mut a, 0).await?;
    let mut b = open(shared.relay, ip, &call).await?;
    join(&mut b, 1).await?;
    match next_text(&mut a).await? {
        t if t == r#"{"t":"peer-joined"}"# => Ok((a, b)),
        t => Err(format!("expected peer-joined, got {t}")),
    }
}

/// One room: `a` sends an offer-sized message every second from its own phase, `b` times them.
async fn room(
    shared: Arc<Shared>,
    i: usize,
    permits: Arc<Semaphore>,
    done: mpsc::Sender<RoomResult>,
) {
    let permit = permits.acquire().await.expect("never closed");
    let pair = timeout(SETUP_TIMEOUT, set_up(&shared, i)).await;
    drop(permit);
    shared.setup_done.fetch_add(1, Ordering::Relaxed);
    let (mut a, mut b) = match pair {
        Ok(Ok(pair)) => pair,
        Ok(Err(why)) => return shared.failed.add(why),
        Err(_) => return shared.failed.add("setup timed out".into()),
    };
    shared.set_up.fetch_add(1, Ordering::Relaxed);
    shared.holding.fetch_add(1, Ordering::Relaxed);
    let mut result = RoomResult::default();
    let mut start = shared.start.subscribe();
    let mut stop = shared.stop.subscribe();
    let disturbed = |who: &str, msg| shared.disturbed(who, describe(msg));

    // Hold the sockets (reading, so that pings are answered) until the measured period.
    let t0 = loop {
        tokio::select! {
            changed = start.changed() => {
                if changed.is_err() { return; }
                if let Some(t0) = *start.borrow() { break t0; }
            }
            msg = a.next() => if !is_ping(&msg) { return disturbed("sender", msg) },
            msg = b.next() => if !is_ping(&msg) { return disturbed("receiver", msg) },
        }
    };
    let opts = &shared.opts;
    let every = Duration::from_secs(1) / opts.rate as u32;
    let phase = every.mul_f64(i as f64 / shared.rooms as f64);
    let flood_at = t0 + opts.quiet;
    let end = flood_at + opts.flood;
    let mut tick = interval_at(t0 + phase, every);
    // A client that falls behind sends less, not in bursts.
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let head = r#"{"t":"offer","sdp":"ts="#;
    let padding = "a".repeat(opts.offer_bytes - head.len() - 12 - 3);
    let at_us =
        |t: Instant| now_us() + t.saturating_duration_since(Instant::now()).as_micros() as u64;
    let (t0_us, flood_from_us) = (at_us(t0), at_us(flood_at));
    let mut sending = true;
    loop {
        tokio::select! {
            _ = tick.tick(), if sending => {
                if Instant::now() >= end {
                    sending = false;
                    continue;
                }
                let text = format!("{head}{:012};{padding}\"}}", now_us());
                if let Err(e) = a.send(Message::text(text)).await {
                    return shared.disturbed("sender", format!("send failed: {e}"));
                }
                result.sent += 1;
            }
            _ = sleep_until(end + GRACE) => break,
            msg = a.next() => if !is_ping(&msg) { return disturbed("sender", msg) },
            msg = b.next() => {
                let Some(Ok(Message::Text(text))) = &msg else {
                    if is_ping(&msg) { continue; }
                    return disturbed("receiver", msg);
                };
                let now = now_us();
                let sent_at = text.as_str().strip_prefix(head).and_then(|t| t.get(..12)).and_then(|t| t.parse::<u64>().ok());
                match sent_at {
                    Some(at) if text.len() == opts.offer_bytes => {
                        result.received += 1;
                        let latency = now.saturating_sub(at).min(u32::MAX as u64) as u32;
                        let second = (at.saturating_sub(t0_us) / 1_000_000) as u16;
                        if at < flood_from_us {
                            result.quiet.push((second, latency))
                        } else {
                            result.flood.push((second, latency))
                        }
                    }
                    _ => return disturbed("receiver", msg),
                }
            }
        }
        if !sending && result.received >= result.sent {
            break;
        }
    }
    let _ = done.send(result).await;
    // Keep the sockets (answering pings) until the relay's RSS has been read.
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            msg = a.next() => if !is_ping(&msg) { return disturbed("sender, after", msg) },
            msg = b.next() => if !is_ping(&msg) { return disturbed("receiver, after", msg) },
        }
    }
}

fn is_ping(msg: &Option<Result<Message, WsError>>) -> bool {
    matches!(msg, Some(Ok(Message::Ping(_) | Message::Pong(_))))
}

/// An abusive client: opens a room of its own and floods it with junk, messages just over the
/// 64 KiB limit, binary frames and now and then one over the relay's hard cap, as fast as the
/// relay takes them; when the relay closes it, it comes back with a new socket.
async fn flooder(
    shared: Arc<Shared>,
    k: usize,
    from: Instant,
    until: Instant,
    stats: Arc<FloodStats>,
) {
    sleep_until(from).await;
    let oversized = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "x".repeat(64 * 1024));
    let over_cap = format!(r#"{{"t":"offer","sdp":"{}"}}"#, "x".repeat(300 * 1024));
    let junk: [Message; 4] = [
        Message::text("garbage {{{{"),
        Message::text(r#"{"t":"peer-left"}"#),
        Message::text(oversized),
        Message::binary(vec![0u8; 1024]),
    ];
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let call = format!("flood{k:03}x{n:013}");
        let Ok(mut ws) = open(shared.relay, FLOOD_IP, &call).await else {
            stats.closes.add("could not connect".into());
            sleep(Duration::from_millis(10)).await;
            continue;
        };
        stats.sockets.fetch_add(1, Ordering::Relaxed);
        let _ = ws.send(Message::text(r#"{"t":"join"}"#)).await;
        let (mut sink, mut stream) = ws.split();
        let reader = tokio::spawn(async move {
            loop {
                match stream.next().await {
                    Some(Ok(Message::Close(frame))) => {
                        return frame.map_or("closed".into(), |f| format!("closed {}", f.code));
                    }
                    Some(Ok(_)) => continue,
                    other => return describe(other),
                }
            }
        });
        let mut m = 0usize;
        while Instant::now() < until && !reader.is_finished() {
            m += 1;
            let msg = if m.is_multiple_of(97) {
                Message::text(over_cap.as_str())
            } else {
                junk[m % junk.len()].clone()
            };
            let len = msg.len() as u64;
            if sink.send(msg).await.is_err() {
                break;
            }
            stats.messages.fetch_add(1, Ordering::Relaxed);
            stats.bytes.fetch_add(len, Ordering::Relaxed);
        }
        match timeout(Duration::from_secs(1), reader).await {
            Ok(Ok(why)) => stats.closes.add(why),
            _ => stats.closes.add("still open at the end".into()),
        }
    }
}

/// The relay's resident set in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// CPU seconds a process has used (user + system; clock ticks of 1/100 s).
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields 14 and 15 (utime, stime); the 3rd is the first after the command's parenthesis.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(14 - 3) + ticks(15 - 3)) as f64 / 100.0
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn file_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap_or_default();
    line.split_whitespace().nth(3).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// p99 of each second of the measured period, in ms.
fn timeline(all: &[(u16, u32)]) -> String {
    let mut seconds: BTreeMap<u16, Vec<u32>> = BTreeMap::new();
    for &(second, latency) in all {
        seconds.entry(second).or_default().push(latency);
    }
    let p99 = |mut v: Vec<u32>| {
        v.sort_unstable();
        v[(v.len() * 99 / 100).min(v.len() - 1)] as f64 / 1000.0
    };
    seconds.into_values().map(|v| format!("{:.1}", p99(v))).collect::<Vec<_>>().join(" ")
}

fn percentiles(v: &[(u16, u32)]) -> String {
    let mut v: Vec<u32> = v.iter().map(|&(_, latency)| latency).collect();
    if v.is_empty() {
        return "no messages".into();
    }
    v.sort_unstable();
    let at = |p: usize| v[(v.len() * p / 100).min(v.len() - 1)] as f64 / 1000.0;
    let max = v[v.len() - 1] as f64 / 1000.0;
    format!("p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} messages)", at(50), at(99), max, v.len())
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match Opts::parse() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 2 });
        }
    };
    let mut opts = opts;
    now_us();
    // The relay holds one file per socket, as this client does, and both inherit this limit.
    let limit = file_limit();
    let most = limit.saturating_sub(opts.flooders * 4 + 200) & !1;
    if opts.sockets > most {
        println!(
            "WARNING: the open-file limit is {limit} (`ulimit -n`; `ulimit -Hn` is the most it \
             can be raised to without CAP_SYS_RESOURCE): {} sockets cannot be held, opening \
             {most} instead",
            opts.sockets
        );
        opts.sockets = most;
    }
    if opts.sockets < 2 {
        return ExitCode::from(2);
    }
    let addresses = opts.sockets.div_ceil(opts.per_ip);
    if addresses > 200 {
        eprintln!("load: {addresses} source addresses needed: raise --per-ip");
        return ExitCode::from(2);
    }
    let log = std::fs::File::create(&opts.log).expect("the log file can be created");
    let caps = (opts.sockets + 10_000).to_string();
    let mut child = Command::new(&opts.relay)
        .args(["--listen", "127.0.0.1:0", "--max-sockets", &caps, "--max-sockets-per-ip", &caps])
        .args(["--max-new-rooms-per-ip", "1000000"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", opts.relay.display()));
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("address line");
    let relay: SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from the relay: {line:?}"));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let ports =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    println!("relay {} (pid {pid}) on {relay}, log {}", opts.relay.display(), opts.log.display());
    println!(
        "machine: {} cores, load average {}, open-file limit {}, local ports {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        file_limit(),
        ports.split_whitespace().collect::<Vec<_>>().join("-"),
    );
    sleep(Duration::from_millis(500)).await;
    let rss_empty = rss_kib(pid);

    let rooms = opts.sockets / 2;
    println!(
        "opening {} sockets ({rooms} rooms) from {addresses} source address(es), {} at a time",
        rooms * 2,
        opts.parallel
    );
    let shared = Arc::new(Shared {
        opts: opts.clone(),
        relay,
        rooms,
        start: watch::channel(None).0,
        stop: watch::channel(false).0,
        set_up: AtomicUsize::new(0),
        failed: Tally::default(),
        disturbed: Tally::default(),
        setup_done: AtomicUsize::new(0),
        holding: AtomicUsize::new(0),
    });
    let permits = Arc::new(Semaphore::new(opts.parallel));
    let (done_tx, mut done_rx) = mpsc::channel(1024);
    let setup_began = Instant::now();
    for i in 0..rooms {
        tokio::spawn(room(shared.clone(), i, permits.clone(), done_tx.clone()));
    }
    drop(done_tx);
    let mut last = 0;
    while shared.setup_done.load(Ordering::Relaxed) < rooms {
        sleep(Duration::from_millis(200)).await;
        let secs = setup_began.elapsed().as_secs();
        if secs >= last + 5 {
            last = secs;
            let up = shared.set_up.load(Ordering::Relaxed) * 2;
            println!("  {secs:>3} s: {up} sockets joined, relay RSS {} MiB", rss_kib(pid) / 1024);
        }
    }
    let setup_secs = setup_began.elapsed().as_secs_f64();
    // Let the allocator and the kernel settle before reading the idle numbers.
    sleep(Duration::from_secs(3)).await;
    let held = shared.set_up.load(Ordering::Relaxed) * 2;
    let rss_idle = rss_kib(pid);
    let fds = open_fds(pid);
    let per_socket =
        |rss: u64| (rss.saturating_sub(rss_empty) as f64 * 1024.0) / held.max(1) as f64;
    println!("\n== sockets");
    println!("sockets held: {held} of {} ({:.1} s to open and join)", rooms * 2, setup_secs);
    println!("relay file descriptors open: {fds}");
    shared.failed.print("sockets failed");
    println!(
        "relay RSS: {:.1} MiB before the sockets, {:.1} MiB with them idle: {:.0} bytes ({:.2} KB) per idle socket",
        rss_empty as f64 / 1024.0,
        rss_idle as f64 / 1024.0,
        per_socket(rss_idle),
        per_socket(rss_idle) / 1000.0
    );

    // The measured period: offers in every room, the flood from `quiet` on.
    let t0 = Instant::now() + Duration::from_secs(1);
    let flood_at = t0 + opts.quiet;
    let end = flood_at + opts.flood;
    shared.start.send_replace(Some(t0));
    let stats = Arc::new(FloodStats::default());
    for k in 0..opts.flooders {
        tokio::spawn(flooder(shared.clone(), k, flood_at, end, stats.clone()));
    }
    sleep_until(t0).await;
    let (relay_cpu0, own_cpu0) = (cpu_secs(&pid.to_string()), cpu_secs("self"));
    sleep_until(flood_at).await;
    let (relay_cpu1, own_cpu1) = (cpu_secs(&pid.to_string()), cpu_secs("self"));
    sleep_until(end).await;
    let (relay_cpu2, own_cpu2) = (cpu_secs(&pid.to_string()), cpu_secs("self"));
    let rss_busy = rss_kib(pid);

    let mut total = RoomResult::default();
    let mut reported = 0;
    while let Ok(Some(r)) = timeout(GRACE + Duration::from_secs(5), done_rx.recv()).await {
        reported += 1;
        total.sent += r.sent;
        total.received += r.received;
        total.quiet.extend(r.quiet);
        total.flood.extend(r.flood);
        if reported >= shared.holding.load(Ordering::Relaxed) {
            break;
        }
    }
    let rss_after = rss_kib(pid);
    let held_after = shared.holding.load(Ordering::Relaxed) * 2;
    shared.stop.send_replace(true);

    let cpu = |a: f64, b: f64, d: Duration| 100.0 * (b - a) / d.as_secs_f64();
    println!(
        "\n== forwarding ({}-byte offers, {} per room per second: {} a second in all)",
        opts.offer_bytes,
        opts.rate,
        opts.rate * (held / 2)
    );
    println!(
        "sent {}, received {}, rooms reporting {reported} of {}",
        total.sent,
        total.received,
        held / 2
    );
    println!("quiet ({} s): {}", opts.quiet.as_secs(), percentiles(&total.quiet));
    println!("with the flood ({} s): {}", opts.flood.as_secs(), percentiles(&total.flood));
    total.quiet.extend(total.flood);
    println!("p99 of each second, ms: {}", timeline(&total.quiet));
    println!(
        "CPU (100% = one core): relay {:.0}% quiet, {:.0}% with the flood; this client {:.0}% and {:.0}%",
        cpu(relay_cpu0, relay_cpu1, opts.quiet),
        cpu(relay_cpu1, relay_cpu2, opts.flood),
        cpu(own_cpu0, own_cpu1, opts.quiet),
        cpu(own_cpu1, own_cpu2, opts.flood),
    );
    println!(
        "relay RSS: {:.1} MiB at the end of the traffic, {:.1} MiB after: {:.0} bytes per socket",
        rss_busy as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        per_socket(rss_after)
    );
    println!("\n== flood");
    println!(
        "{} flooders: {} sockets, {} messages, {:.1} MiB sent",
        opts.flooders,
        stats.sockets.load(Ordering::Relaxed),
        stats.messages.load(Ordering::Relaxed),
        stats.bytes.load(Ordering::Relaxed) as f64 / 1048576.0
    );
    stats.closes.print("flood sockets ended");
    let lost = total.sent.saturating_sub(total.received);
    let disturbed = shared.disturbed.total();
    println!(
        "disturbed rooms: {disturbed}, messages lost: {lost}, sockets still held: {held_after} of {held}"
    );
    shared.disturbed.print("disturbance");

    let _ = child.kill();
    let _ = child.wait();
    ExitCode::SUCCESS
}
