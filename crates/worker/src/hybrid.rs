//! Which frames have their AES-GCM done by WebCrypto, and the WebCrypto keys of a transform.
//!
//! WebAssembly has no AES instructions and WebCrypto has, but each WebCrypto call is a promise
//! that resolves on a later turn of the event loop (measured in Chromium: about 10 µs of fixed
//! cost, where Rust seals a 100-byte Opus frame in 3). So small frames stay in Rust and large
//! ones go to WebCrypto (`make bench-browser` prints both, per size and suite). The SFrame
//! around the call (`shieldcall_e2ee::sframe::external`) is Rust's on both paths, and the bytes
//! on the wire are the same.
//!
//! A KID's key is imported into WebCrypto (non-extractable) when its first large frame comes;
//! until the import resolves, and for good if it fails, its frames take the Rust path.

use shieldcall_e2ee::sframe::CipherSuite;
use shieldcall_e2ee::sframe::external::is_gcm;
use shieldcall_protocol::Direction;

/// The browser engine the worker runs in: each WebCrypto call costs about 10 µs in Chromium
/// and 85-110 µs in Firefox, so the crossover differs by an order of magnitude.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Gecko,
}

impl Engine {
    /// From `navigator.userAgent`; an engine not known here is treated as Chromium's (the
    /// lower crossover: a slow WebCrypto then costs small video frames some µs, never more).
    pub fn from_user_agent(user_agent: &str) -> Engine {
        if user_agent.contains("Gecko/") && user_agent.contains("Firefox/") {
            Engine::Gecko
        } else {
            Engine::Chromium
        }
    }
}

/// Payloads of at least this many bytes go to WebCrypto, per engine, suite and direction, where
/// the Rust and "WebCrypto path" columns of `make bench-browser` cross (docs/MEASURED.md):
/// below it the promise's fixed cost outweighs the AES instructions. (When opening, the frame's
/// SFrame body is measured, header and tag included: about 20-25 B more than its payload.)
/// Since the bitsliced AES-GCM (2026-12-04, `shieldcall_e2ee::sframe::sliced`) Rust takes
/// about 8 µs a KB in Chromium and 8-10 in Firefox, plus 1-3 µs a frame, opening as sealing. A
/// WebCrypto frame costs about 10-13 µs up to 1 KB in Chromium plus about 2 a KB (sealing with
/// AES-128 crosses near 1.2-1.5 KB, with AES-256 near 1.0-1.3 KB, varying from run to run) and
/// 85-110 µs in Firefox plus about 1 a KB. In Firefox AES-128 crosses near 13-14 KB and
/// AES-256 near 12 KB, either way (runs of 2026-12-04 through the BiDi runner: Rust 90-93 and
/// 98-103 µs at 12 KB against WebCrypto's 100-109; 114-125 and 128-136 at 16 KB against
/// 95-109). Earlier Firefox runs, whose WebCrypto took 114-135 µs at 16 KB, crossed near
/// 20 KB: the call's cost there moves more from run to run than Rust's.
///
/// Opening costs WebCrypto less: its output is the frame's data as it is. Sealing's needed the
/// header put in front (a second buffer and a move), about 2 µs more at 1 KB in Chromium, until
/// frames with up to 3 clear bytes were sealed with room (PROTOCOL.md change 51): WebCrypto's
/// output is then the frame, and what sealing still adds is the payload's copy into the buffer
/// the call reads. In Chromium's runs since (2026-12-05), at 1 KB: AES-128 Rust 9.7-9.9 µs
/// against WebCrypto's 10.0-10.4, AES-256 Rust 10.9-11.0 against 10.1-10.3; Rust adds about
/// 8 and 9.5 µs a KB, WebCrypto about 1. So sealing crosses near 1.1 KB and 0.9 KB, still a
/// little above opening (AES-256 crossed near 800 B in two runs; AES-128 near 1 KB, within the
/// noise). `None`: the suite has no WebCrypto equivalent (AES-CTR with HMAC).
pub fn crossover(engine: Engine, suite: CipherSuite, direction: Direction) -> Option<usize> {
    if !is_gcm(suite) {
        return None;
    }
    // By key length rather than by suite: which suites exist depends on the E2EE core's
    // features, and a match on them would have to follow those.
    let aes256 = suite.nk() == 32;
    Some(match (engine, aes256, direction) {
        (Engine::Chromium, false, Direction::Send) => 1152,
        (Engine::Chromium, true, Direction::Send) => 896,
        (Engine::Chromium, false, Direction::Receive) => 960,
        (Engine::Chromium, true, Direction::Receive) => 800,
        (Engine::Gecko, false, _) => 14 * 1024,
        (Engine::Gecko, true, _) => 12 * 1024,
    })
}

/// Whether a payload of `payload_len` bytes under `suite`, going `direction`, is over the
/// crossover: the rule the transform's [`Cryptor`](crate::cryptor::Cryptor) applies, and the
/// benchmark's label of which path a size takes.
pub fn goes_to_webcrypto(
    engine: Engine,
    suite: CipherSuite,
    direction: Direction,
    payload_len: usize,
) -> bool {
    crossover(engine, suite, direction).is_some_and(|min| payload_len >= min)
}

/// A transform's WebCrypto keys by KID, as their imports go. `K` is the key handle
/// (`CryptoKey` in the browser); the bookkeeping is tested on the host.
pub struct WebCryptoKeys<K> {
    /// Bumped whenever the keys change, so that an import started before is not kept after.
    generation: u64,
    entries: Vec<(u64, Entry<K>)>,
}

enum Entry<K> {
    Importing,
    Ready(K),
    /// The import failed: this KID stays on the Rust path.
    Failed,
}

/// At most this many KIDs are kept: a receiver holds two epochs, a sender one, and each epoch
/// has its narrow KID and a wide one for each clear prefix a codec brings (VP9's none, VP8
/// delta frames' 3: PROTOCOL.md change 51).
const MAX_KEYS: usize = 8;

impl<K> Default for WebCryptoKeys<K> {
    fn default() -> Self {
        WebCryptoKeys { generation: 0, entries: Vec::new() }
    }
}

impl<K> WebCryptoKeys<K> {
    /// The imported key of `kid`, if its import has finished.
    pub fn ready(&self, kid: u64) -> Option<&K> {
        self.entries.iter().find_map(|(k, entry)| match entry {
            Entry::Ready(key) if *k == kid => Some(key),
            _ => None,
        })
    }

    /// Whether to start importing `kid`'s key now: once per KID and set of keys. Returns the
    /// generation to hand back with the result.
    pub fn start_import(&mut self, kid: u64) -> Option<u64> {
        if self.entries.iter().any(|(k, _)| *k == kid) {
            return None;
        }
        if self.entries.len() == MAX_KEYS {
            self.entries.remove(0);
        }
        self.entries.push((kid, Entry::Importing));
        Some(self.generation)
    }

    /// An import finished: keep the key if the keys have not changed since it started.
    pub fn imported(&mut self, generation: u64, kid: u64, key: K) {
        self.settle(generation, kid, Entry::Ready(key));
    }

    /// An import failed: `kid` stays on the Rust path.
    pub fn failed(&mut self, generation: u64, kid: u64) {
        self.settle(generation, kid, Entry::Failed);
    }

    /// A WebCrypto call with `kid`'s key failed for a reason other than a forged frame:
    /// stop using it.
    pub fn give_up(&mut self, kid: u64) {
        let generation = self.generation;
        self.settle(generation, kid, Entry::Failed);
    }

    /// The keys changed: forget every imported key and every import under way.
    pub fn clear(&mut self) {
        self.generation += 1;
        self.entries.clear();
    }

    fn settle(&mut self, generation: u64, kid: u64, to: Entry<K>) {
        if generation != self.generation {
            return;
        }
        if let Some((_, entry)) = self.entries.iter_mut().find(|(k, _)| *k == kid) {
            *entry = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_frames_and_non_gcm_suites_stay_in_rust() {
        let aes128 = CipherSuite::Aes128GcmSha256_128;
        for engine in [Engine::Chromium, Engine::Gecko] {
            for direction in [Direction::Send, Direction::Receive] {
                let goes = |suite, len| goes_to_webcrypto(engine, suite, direction, len);
                let min = crossover(engine, aes128, direction).unwrap();
                assert!(!goes(aes128, 100), "an Opus frame");
                assert!(!goes(aes128, min - 1));
                assert!(goes(aes128, min));
                for suite in CipherSuite::ALL.into_iter().filter(|s| is_gcm(*s)) {
                    assert!(goes(suite, 64 * 1024), "a key frame, {suite:?}");
                }
                for suite in CipherSuite::ALL.into_iter().filter(|s| !is_gcm(*s)) {
                    assert!(!goes(suite, 200 * 1024), "{suite:?}");
                }
            }
        }
    }

    #[test]
    fn firefox_takes_16_kb_frames_to_webcrypto_and_keeps_8_kb_ones() {
        // Measured: Rust wins at 8 KB by about 1.5x, WebCrypto at 16 KB by 10-35 %.
        for suite in CipherSuite::ALL.into_iter().filter(|s| is_gcm(*s)) {
            for direction in [Direction::Send, Direction::Receive] {
                assert!(!goes_to_webcrypto(Engine::Gecko, suite, direction, 8 * 1024));
                assert!(goes_to_webcrypto(Engine::Gecko, suite, direction, 16 * 1024));
            }
        }
    }

    #[test]
    fn opening_goes_to_webcrypto_sooner_in_chromium() {
        // Opening's WebCrypto output needs no header in front: cheaper than sealing's.
        for suite in CipherSuite::ALL.into_iter().filter(|s| is_gcm(*s)) {
            let seal = crossover(Engine::Chromium, suite, Direction::Send).unwrap();
            let open = crossover(Engine::Chromium, suite, Direction::Receive).unwrap();
            assert!(open < seal, "{suite:?}");
            // A 600 B payload is about 620 B of SFrame body (header and tag).
            assert!(open > 640, "a 600 B frame still opens in Rust, {suite:?}");
            assert!(goes_to_webcrypto(Engine::Chromium, suite, Direction::Receive, 1024));
        }
    }

    #[test]
    fn the_engine_comes_from_the_user_agent() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
        let chromium = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                        Chrome/148.0.0.0 Safari/537.36";
        assert_eq!(Engine::from_user_agent(firefox), Engine::Gecko);
        assert_eq!(Engine::from_user_agent(chromium), Engine::Chromium, "\"like Gecko\"");
        assert_eq!(Engine::from_user_agent(""), Engine::Chromium);
    }

    #[test]
    fn a_key_is_imported_once_and_used_when_ready() {
        let mut keys = WebCryptoKeys::default();
        assert_eq!(keys.ready(0x11), None);
        let generation = keys.start_import(0x11).expect("first large frame starts an import");
        assert_eq!(keys.start_import(0x11), None, "not twice");
        assert_eq!(keys.ready(0x11), None, "not before it resolves");
        keys.imported(generation, 0x11, "key 11");
        assert_eq!(keys.ready(0x11), Some(&"key 11"));
        assert_eq!(keys.ready(0x21), None, "another KID has its own key");
    }

    #[test]
    fn an_import_from_before_a_key_change_is_not_kept() {
        let mut keys = WebCryptoKeys::default();
        let old = keys.start_import(0x11).unwrap();
        keys.clear();
        keys.imported(old, 0x11, "stale");
        assert_eq!(keys.ready(0x11), None);
        // Started again under the new keys, it counts.
        let new = keys.start_import(0x11).expect("a new import after the change");
        keys.imported(old, 0x11, "stale again");
        assert_eq!(keys.ready(0x11), None);
        keys.imported(new, 0x11, "fresh");
        assert_eq!(keys.ready(0x11), Some(&"fresh"));
    }

    #[test]
    fn a_failed_key_stays_on_the_rust_path() {
        let mut keys = WebCryptoKeys::default();
        let generation = keys.start_import(0x11).unwrap();
        keys.failed(generation, 0x11);
        assert_eq!(keys.start_import(0x11), None, "no import loop");
        assert_eq!(keys.ready(0x11), None);

        let generation = keys.start_import(0x21).unwrap();
        keys.imported(generation, 0x21, "ok");
        keys.give_up(0x21);
        assert_eq!(keys.ready(0x21), None);
        assert_eq!(keys.start_import(0x21), None);
    }

    #[test]
    fn only_the_latest_kids_are_kept() {
        let mut keys = WebCryptoKeys::default();
        for kid in 0..(MAX_KEYS as u64 + 2) {
            let generation = keys.start_import(kid).unwrap();
            keys.imported(generation, kid, kid);
        }
        assert_eq!(keys.ready(0), None);
        assert_eq!(keys.ready(1), None);
        assert_eq!(keys.ready(MAX_KEYS as u64 + 1), Some(&(MAX_KEYS as u64 + 1)));
        assert_eq!(keys.entries.len(), MAX_KEYS);
    }
}
