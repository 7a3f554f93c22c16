//! The relay's settings and the hand-written command-line parser (no clap: a few flags).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

#[cfg(feature = "mitm")]
use crate::mitm::Attack;
use crate::park_seal::ParkSeal;
use crate::turn::{DEFAULT_TTL_SECS, TurnConfig, TurnSecret, is_turn_url};

/// Where the relay listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";

/// Environment variable that sets the listen address when `--listen` is not given.
pub const LISTEN_ENV: &str = "SHIELDCALL_RELAY_ADDR";

/// How long a room may go without a signalling message before it is dropped.
/// Generous on purpose: once media flows, a call sends no signalling at all.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Open sockets the relay holds at most, in all.
pub const DEFAULT_MAX_SOCKETS: usize = 4096;

/// Open sockets one client address may hold: a few tabs and reconnections, not a flood.
pub const DEFAULT_MAX_SOCKETS_PER_IP: usize = 32;

/// Bytes waiting for one socket before it counts as not reading and is dropped.
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 1024 * 1024;

/// Rooms one client address may open per minute.
pub const DEFAULT_NEW_ROOMS_PER_MINUTE: u32 = 30;

/// How long a move token (a link to take one's place from another device) stays valid: time
/// to scan a QR code or open a link on a phone, short enough that a link left on a screen
/// soon counts for nothing.
pub const DEFAULT_MOVE_TTL: Duration = Duration::from_secs(120);
/// How long a parked place is held for its pickup.
pub const DEFAULT_PARK_TTL: Duration = Duration::from_secs(300);

/// The command-line help, printed by `--help` and after a usage error.
pub const USAGE: &str = "\
shieldcall-relay: Shieldcall's signalling relay (WebSocket rooms of two that only forward)

USAGE:
    shieldcall-relay [OPTIONS]

OPTIONS:
    --listen ADDR            address to listen on [default: 127.0.0.1:8081]
                             (env SHIELDCALL_RELAY_ADDR is used when --listen is absent)
    --dist DIR               also serve the built app from DIR, with index.html for unknown paths
    --idle-timeout-secs N    drop a room after N seconds without a message [default: 1800]
    --allow-origin ORIGIN    also accept WebSockets from pages of ORIGIN (like
                             https://call.example.org); repeatable. Pages served from the
                             relay's own host (the Host header) are always accepted
    --max-sockets N          open sockets in all [default: 4096]
    --max-sockets-per-ip N   open sockets per client address [default: 32]
    --max-queued-bytes N     bytes waiting for one socket before it is dropped as not
                             reading [default: 1048576]
    --max-new-rooms-per-ip N new rooms per client address per minute [default: 30]
    --move-ttl-secs N        how long a token to move one's place to another device stays
                             valid, and a transfer link too [default: 120]
    --park-ttl-secs N        how long a parked call's place is held for its pickup
                             [default: 300]
    --turn-secret-file PATH  hand each member of a room short-lived credentials for the TURN
                             servers of --turn-url, derived from the secret in PATH (coturn's
                             static-auth-secret; read from a file so that it never shows in ps)
    --turn-url URL           a turn: or turns: URL to hand out with them; repeatable, needs
                             --turn-secret-file (and it needs at least one)
    --turn-ttl SECS          how long each credential stays valid [default: 3600]
    --trusted-proxy IP       a reverse proxy in front whose X-Forwarded-For names the client
                             (the per-address caps then count that client); repeatable
    --metrics-listen ADDR    serve GET /healthz and GET /metrics (Prometheus text) on ADDR,
                             a second address to keep private [default: off]
    --log-format FORMAT      text or json (one JSON object per line) [default: text]
    --cluster URL            share rooms with the other relays of redis://HOST:PORT
                             [default: off, rooms in this process only]
    --cluster-url-file PATH  the same URL read from PATH, for one with a password
                             (redis://:PASSWORD@HOST:PORT): arguments show in ps
    --node-id ID             this relay's name in the cluster (1-64 of A-Z a-z 0-9 - _),
                             unique per running process [default: random]
    --cluster-lease-ms N     a member whose relay stops renewing its place (killed, cut
                             off) loses it after N ms [default: 10000]
    --cluster-secret-file PATH
                             a secret every node of the cluster shares and Redis never
                             sees (32 characters or more): parks are sealed with it in
                             Redis [default: none, and a cluster parks no call]
    -h, --help               print this help
";

/// Everything the relay needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to bind; port 0 picks a free port (the bound address is printed at start).
    pub listen: SocketAddr,
    /// Directory of the built app to serve, if any.
    pub dist: Option<PathBuf>,
    /// A room with no message for this long is dropped.
    pub idle_timeout: Duration,
    /// Origins (`scheme://host[:port]`, lower case) whose pages may open a socket, besides
    /// the relay's own.
    pub allowed_origins: Vec<String>,
    /// Open sockets in all.
    pub max_sockets: usize,
    /// Open sockets per client address.
    pub max_sockets_per_ip: usize,
    /// Bytes waiting for one socket before it is dropped.
    pub max_queued_bytes: usize,
    /// New rooms per client address per minute.
    pub new_rooms_per_minute: u32,
    /// How long a new socket has to send its `join`.
    pub join_timeout: Duration,
    /// How long a move (or transfer) token stays valid.
    pub move_ttl: Duration,
    /// How long a parked place is held for its pickup.
    pub park_ttl: Duration,
    /// Test-only man-in-the-middle mode; see [`crate::mitm`].
    #[cfg(feature = "mitm")]
    pub mitm: Option<Attack>,
    /// How often the relay pings each socket to find half-open connections.
    pub ping_interval: Duration,
    /// A socket that sends nothing (not even a pong) for this long is dropped.
    pub dead_after: Duration,
    /// Sustained messages per second allowed per socket.
    pub rate_per_sec: f64,
    /// Messages a socket may send at once before the rate applies (ICE trickle bursts).
    pub burst: f64,
    /// TURN servers to hand out credentials for, if any.
    pub turn: Option<std::sync::Arc<TurnConfig>>,
    /// Reverse proxies whose `X-Forwarded-For` says which client a socket is from.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where to serve `/healthz` and `/metrics`, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Logs as one JSON object per line instead of text.
    pub log_json: bool,
    /// The cluster engine to share rooms through, if any.
    pub cluster: Option<ClusterConfig>,
}

/// How many milliseconds a place in a room outlives its relay's last renewal, by default.
pub const DEFAULT_LEASE_MS: u64 = 10_000;

/// The shortest lease allowed: the relay renews every third of it, and a Redis round trip
/// must fit in that with room to spare.
pub const MIN_LEASE_MS: u64 = 300;

/// The relay cluster's engine: a Redis server shared by every node.
#[derive(Clone)]
pub struct ClusterConfig {
    /// `redis://HOST:PORT[/DB]`; may hold a password, so never shown whole.
    pub url: String,
    /// This node's name, the suffix of its pub/sub channel.
    pub node_id: String,
    /// How long a member's place lasts without a renewal from its node.
    pub lease: Duration,
    /// The keys a park's record is sealed with in Redis, if the nodes share a secret.
    pub park_seal: Option<std::sync::Arc<ParkSeal>>,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password (redis://:secret@host): show only where it points.
        let host = self.url.rsplit('@').next().unwrap_or_default();
        let host = host.strip_prefix("redis://").unwrap_or(host);
        f.debug_struct("ClusterConfig")
            .field("host", &host)
            .field("node_id", &self.node_id)
            .field("lease", &self.lease)
            .field("park_seal", &self.park_seal)
            .finish()
    }
}

/// A random node id: 6 bytes, base64url.
pub fn random_node_id() -> String {
    let mut bytes = [0u8; 6];
    // Without the OS's randomness the relay cannot run safely at all.
    getrandom::getrandom(&mut bytes).expect("the OS provides randomness");
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

fn valid_node_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

impl Default for Config {
    fn default() -> Self {
        Config {
            // The constant is a valid socket address; checked by a unit test below.
            listen: DEFAULT_LISTEN.parse().expect("default listen address parses"),
            dist: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            allowed_origins: Vec::new(),
            max_sockets: DEFAULT_MAX_SOCKETS,
            max_sockets_per_ip: DEFAULT_MAX_SOCKETS_PER_IP,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            new_rooms_per_minute: DEFAULT_NEW_ROOMS_PER_MINUTE,
            join_timeout: Duration::from_secs(10),
            move_ttl: DEFAULT_MOVE_TTL,
            park_ttl: DEFAULT_PARK_TTL,
            #[cfg(feature = "mitm")]
            mitm: None,
            ping_interval: Duration::from_secs(20),
            dead_after: Duration::from_secs(50),
            rate_per_sec: 50.0,
            burst: 100.0,
            turn: None,
            trusted_proxies: Vec::new(),
            metrics_listen: None,
            log_json: false,
            cluster: None,
        }
    }
}

/// What the command line asked for.
// Made once at start and taken apart at once: its size costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Command {
    Run(Config),
    Help,
}

impl Config {
    /// Parse the arguments (without the program name). `env_listen` is the value of
    /// [`LISTEN_ENV`], if set; an explicit `--listen` wins over it.
    pub fn from_args<I>(args: I, env_listen: Option<String>) -> Result<Command, String>
    where
        I: IntoIterator<Item = String>,
    {
        let mut config = Config::default();
        let mut listen: Option<String> = None;
        let (mut turn_secret_file, mut turn_urls, mut turn_ttl) = (None, Vec::new(), None);
        let (mut cluster_url, mut node_id, mut lease_ms) = (None::<String>, None, None);
        let mut park_seal = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            // Accept both `--flag value` and `--flag=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| -> Result<String, String> {
                match inline.clone().or_else(|| args.next()) {
                    Some(v) => Ok(v),
                    None => Err(format!("{name} needs a value")),
                }
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--listen" => listen = Some(value("--listen")?),
                "--dist" => config.dist = Some(PathBuf::from(value("--dist")?)),
                "--idle-timeout-secs" => {
                    let secs = positive(&flag, &value(&flag)?)?;
                    config.idle_timeout = Duration::from_secs(secs);
                }
                "--allow-origin" => {
                    let v = value(&flag)?;
                    let origin = parse_origin(&v).ok_or_else(|| {
                        format!("--allow-origin: not an origin (like https://example.org): {v}")
                    })?;
                    config.allowed_origins.push(origin);
                }
                "--max-sockets" => config.max_sockets = count(&flag, &value(&flag)?)?,
                "--max-sockets-per-ip" => config.max_sockets_per_ip = count(&flag, &value(&flag)?)?,
                "--max-queued-bytes" => config.max_queued_bytes = count(&flag, &value(&flag)?)?,
                "--move-ttl-secs" => {
                    config.move_ttl = Duration::from_secs(positive(&flag, &value(&flag)?)?);
                }
                "--park-ttl-secs" => {
                    config.park_ttl = Duration::from_secs(positive(&flag, &value(&flag)?)?);
                }
                "--max-new-rooms-per-ip" => {
                    config.new_rooms_per_minute = count(&flag, &value(&flag)?)?;
                }
                "--turn-secret-file" => turn_secret_file = Some(PathBuf::from(value(&flag)?)),
                "--turn-url" => {
                    let url = value(&flag)?;
                    if !is_turn_url(&url) {
                        return Err(format!("--turn-url: not a turn: or turns: URL: {url}"));
                    }
                    turn_urls.push(url);
                }
                "--turn-ttl" => turn_ttl = Some(positive(&flag, &value(&flag)?)?),
                "--trusted-proxy" => {
                    let v = value(&flag)?;
                    let ip = v.parse().map_err(|_| {
                        format!("--trusted-proxy: not an IP address (like 127.0.0.1): {v}")
                    })?;
                    config.trusted_proxies.push(ip);
                }
                "--metrics-listen" => {
                    let v = value(&flag)?;
                    let addr = v.parse().map_err(|_| {
                        format!("--metrics-listen: not a socket address (like 127.0.0.1:9090): {v}")
                    })?;
                    config.metrics_listen = Some(addr);
                }
                "--log-format" => match value(&flag)?.as_str() {
                    "text" => config.log_json = false,
                    "json" => config.log_json = true,
                    other => return Err(format!("--log-format: text or json, not {other}")),
                },
                "--cluster" => {
                    let url = value(&flag)?;
                    cluster_url = Some(redis_url("--cluster", url)?);
                }
                "--cluster-url-file" => {
                    let path = PathBuf::from(value(&flag)?);
                    let text = read_secret_file(&flag, &path)?;
                    cluster_url = Some(redis_url("--cluster-url-file", text.trim().to_string())?);
                }
                "--node-id" => {
                    let id = value(&flag)?;
                    if !valid_node_id(&id) {
                        return Err(format!("--node-id: 1 to 64 of A-Z a-z 0-9 - _, not {id}"));
                    }
                    node_id = Some(id);
                }
                "--cluster-lease-ms" => {
                    let ms = positive(&flag, &value(&flag)?)?;
                    if ms < MIN_LEASE_MS {
                        return Err(format!("--cluster-lease-ms: at least {MIN_LEASE_MS}"));
                    }
                    lease_ms = Some(ms);
                }
                "--cluster-secret-file" => {
                    let path = PathBuf::from(value(&flag)?);
                    let text = read_secret_file(&flag, &path)?;
                    let seal = ParkSeal::from_file_text(&text)
                        .map_err(|e| format!("--cluster-secret-file {}: {e}", path.display()))?;
                    park_seal = Some(std::sync::Arc::new(seal));
                }
                _ => return Err(format!("unknown argument: {arg}")),
            }
        }
        config.turn = match (turn_secret_file, turn_urls.is_empty()) {
            (None, true) if turn_ttl.is_none() => None,
            (None, _) => return Err("--turn-url and --turn-ttl need --turn-secret-file".into()),
            (Some(_), true) => {
                return Err("--turn-secret-file needs at least one --turn-url".into());
            }
            (Some(path), false) => {
                let text = read_secret_file("--turn-secret-file", &path)?;
                let secret = TurnSecret::from_file_text(&text)
                    .map_err(|e| format!("--turn-secret-file {}: {e}", path.display()))?;
                let ttl_secs = turn_ttl.unwrap_or(DEFAULT_TTL_SECS);
                Some(std::sync::Arc::new(TurnConfig { secret, urls: turn_urls, ttl_secs }))
            }
        };
        config.cluster = match cluster_url {
            Some(url) => Some(ClusterConfig {
                url,
                node_id: node_id.unwrap_or_else(random_node_id),
                lease: Duration::from_millis(lease_ms.unwrap_or(DEFAULT_LEASE_MS)),
                park_seal,
            }),
            None if node_id.is_some() || lease_ms.is_some() || park_seal.is_some() => {
                return Err(
                    "--node-id, --cluster-lease-ms and --cluster-secret-file need --cluster".into(),
                );
            }
            None => None,
        };
        if let Some(addr) = listen.or(env_listen.filter(|s| !s.is_empty())) {
            config.listen = addr
                .parse()
                .map_err(|_| format!("not a socket address (like 127.0.0.1:8081): {addr}"))?;
        }
        Ok(Command::Run(config))
    }
}

/// `url` if it is a `redis://` URL, checked here so that a typo stops the relay at once. Never
/// echoed: a password may be in it.
fn redis_url(flag: &str, url: String) -> Result<String, String> {
    if !url.starts_with("redis://") || redis::Client::open(url.as_str()).is_err() {
        return Err(format!("{flag}: not a redis://[:PASSWORD@]HOST:PORT URL"));
    }
    Ok(url)
}

fn positive(flag: &str, v: &str) -> Result<u64, String> {
    v.parse().ok().filter(|&n| n > 0).ok_or_else(|| format!("{flag}: not a positive integer: {v}"))
}

fn count<T: TryFrom<u64>>(flag: &str, v: &str) -> Result<T, String> {
    T::try_from(positive(flag, v)?).map_err(|_| format!("{flag}: too large: {v}"))
}

/// `scheme://host[:port]` in lower case, without a default port or trailing slash, as browsers
/// send it in `Origin`; `None` for anything else (a path, a query, no scheme).
pub fn parse_origin(text: &str) -> Option<String> {
    let lower = text.trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = lower.split_once("://")?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    if authority.is_empty() || !authority.chars().all(ok) {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

/// A file that holds a secret (or a URL with a password), read for `flag`: its text is wiped
/// when dropped, once what the relay keeps has been derived from it. (`read_to_string` sizes
/// its buffer from the file's length, so it leaves no grown-out copy behind.) An error names
/// the file, never its contents.
fn read_secret_file(flag: &str, path: &Path) -> Result<Zeroizing<String>, String> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` is an assertion.
    use super::*;

    fn parse(args: &[&str], env: Option<&str>) -> Result<Config, String> {
        match Config::from_args(args.iter().map(|s| s.to_string()), env.map(String::from))? {
            Command::Run(c) => Ok(c),
            Command::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults() {
        let c = parse(&[], None).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(c.dist.is_none() && c.allowed_origins.is_empty());
        assert_eq!(c.idle_timeout, DEFAULT_IDLE_TIMEOUT);
        assert_eq!(c.max_sockets, DEFAULT_MAX_SOCKETS);
        assert_eq!(c.max_sockets_per_ip, DEFAULT_MAX_SOCKETS_PER_IP);
        assert_eq!(c.max_queued_bytes, 1 << 20);
        assert_eq!(c.new_rooms_per_minute, DEFAULT_NEW_ROOMS_PER_MINUTE);
        assert!(c.turn.is_none(), "no TURN unless asked for");
    }

    #[test]
    fn turn_flags() {
        let file = std::env::temp_dir().join(format!("shieldcall-turn-{}", std::process::id()));
        std::fs::write(&file, "north-wind\n").unwrap(); // the temp dir is writable
        let path = file.to_str().unwrap(); // a temp path is UTF-8 here
        let c = parse(&["--turn-secret-file", path, "--turn-url=turn:127.0.0.1:3478"], None);
        let turn = c.unwrap().turn.unwrap();
        assert_eq!(
            (turn.urls.as_slice(), turn.ttl_secs),
            (&["turn:127.0.0.1:3478".to_string()][..], 3600)
        );
        // The secret is the file's, without its newline: the known answer of `turn`'s tests.
        assert_eq!(
            turn.issue(1_700_000_000, "q2dY9ux5Tc0").credential,
            "rfrzgI1NIb0iKoiLrkS11bOyJpg="
        );
        let args = [
            "--turn-secret-file",
            path,
            "--turn-url",
            "turn:a.example.org",
            "--turn-url",
            "turns:b.example.org:5349",
            "--turn-ttl=60",
        ];
        let turn = parse(&args, None).unwrap().turn.unwrap();
        assert_eq!(turn.urls, ["turn:a.example.org", "turns:b.example.org:5349"]);
        assert_eq!(turn.ttl_secs, 60);
        let debug = format!("{:?}", parse(&args, None).unwrap());
        assert!(!debug.contains("north-wind"), "the secret in Debug: {debug}");

        for bad in [
            &["--turn-url", "turn:a"][..],
            &["--turn-ttl", "60"],
            &["--turn-secret-file", path],
            &["--turn-secret-file", path, "--turn-url", "stun:a"],
            &["--turn-secret-file", path, "--turn-url", "turn:a", "--turn-ttl", "0"],
            &["--turn-secret-file", "/nonexistent/secret", "--turn-url", "turn:a"],
        ] {
            assert!(parse(bad, None).is_err(), "{bad:?}");
        }
        std::fs::write(&file, "\n").unwrap();
        let empty = parse(&["--turn-secret-file", path, "--turn-url", "turn:a"], None);
        assert!(empty.unwrap_err().contains("empty"));
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn every_flag_in_both_forms() {
        let c = parse(
            &[
                "--listen",
                "127.0.0.1:0",
                "--dist=dist",
                "--idle-timeout-secs",
                "5",
                "--allow-origin",
                "HTTPS://Call.Example.org:443/",
                "--allow-origin=http://127.0.0.1:8080",
                "--max-sockets=9",
                "--max-sockets-per-ip",
                "3",
                "--max-queued-bytes",
                "1000",
                "--max-new-rooms-per-ip=2",
                "--move-ttl-secs=7",
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:0");
        assert_eq!(c.dist, Some(PathBuf::from("dist")));
        assert_eq!(c.idle_timeout, Duration::from_secs(5));
        assert_eq!(c.allowed_origins, ["https://call.example.org", "http://127.0.0.1:8080"]);
        assert_eq!((c.max_sockets, c.max_sockets_per_ip, c.max_queued_bytes), (9, 3, 1000));
        assert_eq!(c.new_rooms_per_minute, 2);
        assert_eq!(c.move_ttl, Duration::from_secs(7));
        assert!(parse(&["--move-ttl-secs", "0"], None).is_err());
    }

    #[test]
    fn env_sets_listen_but_the_flag_wins() {
        assert_eq!(parse(&[], Some("0.0.0.0:9000")).unwrap().listen.to_string(), "0.0.0.0:9000");
        let c = parse(&["--listen=127.0.0.1:1"], Some("0.0.0.0:9000")).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:1");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(parse(&["--nope"], None).is_err());
        assert!(parse(&["--listen"], None).is_err());
        assert!(parse(&["--listen", "localhost"], None).is_err());
        assert!(parse(&["--idle-timeout-secs", "0"], None).is_err());
        assert!(parse(&["--idle-timeout-secs", "-3"], None).is_err());
        assert!(parse(&["--max-sockets", "0"], None).is_err());
        assert!(parse(&["--max-new-rooms-per-ip", "99999999999"], None).is_err());
        assert!(parse(&["--allow-origin", "example.org"], None).is_err());
        assert!(parse(&["--allow-origin", "https://example.org/app"], None).is_err());
        assert!(parse(&["--allow-origin", "ftp://example.org"], None).is_err());
        // The attacks are no flags of the relay itself (only of shieldcall-relay-mitm).
        assert!(parse(&["--mitm-swap-keys"], None).is_err());
        assert_eq!(parse(&["--help"], None).unwrap_err(), "help");
        assert!(parse(&["--metrics-listen", "9090"], None).is_err());
        assert!(parse(&["--trusted-proxy", "10.0.0.0/8"], None).is_err());
        assert!(parse(&["--log-format", "xml"], None).is_err());
        assert!(parse(&["--cluster", "nats://127.0.0.1:4222"], None).is_err());
        assert!(parse(&["--node-id", "a"], None).is_err(), "needs --cluster");
        let cluster = ["--cluster", "redis://127.0.0.1:6379"];
        assert!(parse(&[&cluster[..], &["--node-id", "a b"]].concat(), None).is_err());
        assert!(parse(&[&cluster[..], &["--cluster-lease-ms", "10"]].concat(), None).is_err());
    }

    #[test]
    fn operability_and_cluster_flags() {
        let c = parse(&[], None).unwrap();
        assert!(c.metrics_listen.is_none() && !c.log_json && c.cluster.is_none());
        let c = parse(
            &[
                "--metrics-listen=127.0.0.1:9090",
                "--log-format",
                "json",
                "--cluster",
                "redis://:hunter2@10.0.0.5:6379",
                "--node-id",
                "relay-a",
                "--cluster-lease-ms",
                "1500",
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.metrics_listen.unwrap().to_string(), "127.0.0.1:9090");
        let c2 = parse(&["--trusted-proxy", "10.0.0.2", "--trusted-proxy=::1"], None).unwrap();
        assert_eq!(c2.trusted_proxies.len(), 2);
        assert!(c.log_json);
        let cluster = c.cluster.clone().unwrap();
        assert_eq!(
            (cluster.node_id.as_str(), cluster.lease),
            ("relay-a", Duration::from_millis(1500))
        );
        // A password in the URL never shows in Debug.
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2") && debug.contains("10.0.0.5:6379"), "{debug}");
        // From a file, for a password that must not show in ps; never echoed in an error.
        let file = std::env::temp_dir().join(format!("shieldcall-cluster-{}", std::process::id()));
        std::fs::write(&file, "redis://:hunter2@10.0.0.5:6379\n").unwrap();
        let c = parse(&["--cluster-url-file", file.to_str().unwrap()], None).unwrap();
        assert_eq!(c.cluster.unwrap().url, "redis://:hunter2@10.0.0.5:6379");
        std::fs::write(&file, "hunter2").unwrap();
        let err = parse(&["--cluster-url-file", file.to_str().unwrap()], None).unwrap_err();
        assert!(err.contains("not a redis://") && !err.contains("hunter2"), "{err}");
        let _ = std::fs::remove_file(&file);
        // Each node gets a random id of its own unless told.
        let a = parse(&["--cluster", "redis://127.0.0.1:6379"], None).unwrap().cluster.unwrap();
        let b = parse(&["--cluster", "redis://127.0.0.1:6379"], None).unwrap().cluster.unwrap();
        assert_ne!(a.node_id, b.node_id);
        assert!(valid_node_id(&a.node_id) && a.lease == Duration::from_millis(DEFAULT_LEASE_MS));
    }

    #[test]
    fn the_cluster_secret_is_read_from_a_file_and_shown_nowhere() {
        let file = std::env::temp_dir().join(format!("shieldcall-secret-{}", std::process::id()));
        let path = file.to_str().unwrap();
        let cluster = ["--cluster", "redis://127.0.0.1:6379"];
        std::fs::write(&file, "kingfisher-over-the-estuary-at-dawn\n").unwrap();
        let c = parse(&[&cluster[..], &["--cluster-secret-file", path]].concat(), None).unwrap();
        let debug = format!("{c:?}");
        assert!(c.cluster.unwrap().park_seal.is_some());
        assert!(!debug.contains("kingfisher") && debug.contains("<redacted>"), "{debug}");
        // Without it a cluster parks nothing; without --cluster it means nothing.
        assert!(parse(&cluster, None).unwrap().cluster.unwrap().park_seal.is_none());
        assert!(parse(&["--cluster-secret-file", path], None).is_err());
        // Too short: an error that names the file, never what it holds.
        std::fs::write(&file, "kingfisher\n").unwrap();
        let err =
            parse(&[&cluster[..], &["--cluster-secret-file", path]].concat(), None).unwrap_err();
        assert!(err.contains("at least 32") && !err.contains("kingfisher"), "{err}");
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn origins_are_compared_as_browsers_send_them() {
        assert_eq!(parse_origin("http://LOCALHOST:80").as_deref(), Some("http://localhost"));
        assert_eq!(parse_origin("https://[::1]:8443").as_deref(), Some("https://[::1]:8443"));
        assert_eq!(parse_origin("null"), None);
        assert_eq!(parse_origin("https://"), None);
    }
}
