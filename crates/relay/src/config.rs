//! The relay's settings and the hand-written command-line parser (no clap: four flags).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::mitm::Attack;

/// Where the relay listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";

/// Environment variable that sets the listen address when `--listen` is not given.
pub const LISTEN_ENV: &str = "SHIELDCALL_RELAY_ADDR";

/// How long a room may go without a signalling message before it is dropped.
/// Generous on purpose: once media flows, a call sends no signalling at all.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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
    --mitm-swap-keys         TEST ONLY: act as a man in the middle and swap the hello keys
    --mitm-flip-e2ee         TEST ONLY: act as a man in the middle and tell the first to join
                             that the other has end-to-end encryption off
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
    /// Test-only man-in-the-middle mode; see [`crate::mitm`].
    pub mitm: Option<Attack>,
    /// How often the relay pings each socket to find half-open connections.
    pub ping_interval: Duration,
    /// A socket that sends nothing (not even a pong) for this long is dropped.
    pub dead_after: Duration,
    /// Sustained messages per second allowed per socket.
    pub rate_per_sec: f64,
    /// Messages a socket may send at once before the rate applies (ICE trickle bursts).
    pub burst: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            // The constant is a valid socket address; checked by a unit test below.
            listen: DEFAULT_LISTEN.parse().expect("default listen address parses"),
            dist: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            mitm: None,
            ping_interval: Duration::from_secs(20),
            dead_after: Duration::from_secs(50),
            rate_per_sec: 50.0,
            burst: 100.0,
        }
    }
}

/// What the command line asked for.
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
                    let v = value("--idle-timeout-secs")?;
                    let secs: u64 = v.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        format!("--idle-timeout-secs: not a positive integer: {v}")
                    })?;
                    config.idle_timeout = Duration::from_secs(secs);
                }
                "--mitm-swap-keys" if inline.is_none() => config.mitm = Some(Attack::SwapKeys),
                "--mitm-flip-e2ee" if inline.is_none() => config.mitm = Some(Attack::FlipE2ee),
                _ => return Err(format!("unknown argument: {arg}")),
            }
        }
        if let Some(addr) = listen.or(env_listen.filter(|s| !s.is_empty())) {
            config.listen = addr
                .parse()
                .map_err(|_| format!("not a socket address (like 127.0.0.1:8081): {addr}"))?;
        }
        Ok(Command::Run(config))
    }
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
        assert!(c.dist.is_none() && c.mitm.is_none());
        assert_eq!(c.idle_timeout, DEFAULT_IDLE_TIMEOUT);
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
                "--mitm-swap-keys",
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:0");
        assert_eq!(c.dist, Some(PathBuf::from("dist")));
        assert_eq!(c.idle_timeout, Duration::from_secs(5));
        assert_eq!(c.mitm, Some(Attack::SwapKeys));
        assert_eq!(parse(&["--mitm-flip-e2ee"], None).unwrap().mitm, Some(Attack::FlipE2ee));
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
        assert!(parse(&["--mitm-swap-keys=yes"], None).is_err());
        assert_eq!(parse(&["--help"], None).unwrap_err(), "help");
    }
}
