//! When to make a failing media connection again.
//!
//! A connection whose DTLS or ICE keeps failing would otherwise be made again at once, each
//! time: a hostile relay that breaks every handshake then gets hundreds of offers a minute and
//! the shield flickers. Instead the delays grow (1 s, 2 s, 4 s ... up to 30 s), and start again
//! from the shortest only after a connection has stayed healthy for a while.

/// The delay before the first new attempt.
pub const FIRST_DELAY_MS: u64 = 1_000;
/// The longest delay between attempts.
pub const MAX_DELAY_MS: u64 = 30_000;
/// How long a connection must stay healthy (connected and confirmed) before its failure counts
/// as a first one again: one that fails a moment after connecting keeps its place in the
/// sequence.
pub const STABLE_AFTER_MS: u64 = 20_000;
/// How long a new connection is given before a report of failure can replace it: a report
/// sent about the connection before it (hellos carry no connection number) must not cut it
/// while it is still being made. A failure reported in that time is kept until it ends.
pub const GRACE_MS: u64 = 5_000;

/// The retry schedule of one call's media connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retry {
    /// Failures since the last stable connection.
    failures: u32,
    /// When the pending attempt is due, if one is.
    due_at: Option<u64>,
    /// Since when the connection has been healthy, if it is.
    healthy_since: Option<u64>,
    /// When the current connection was started, if one was.
    started_at: Option<u64>,
}

/// A scheduled attempt: when, and which one it is (1 for the first retry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub at_ms: u64,
    pub number: u32,
}

impl Attempt {
    /// Whole seconds from `now_ms` until the attempt, rounded up and at least 1, for the person.
    pub fn seconds_from(&self, now_ms: u64) -> u64 {
        self.at_ms.saturating_sub(now_ms).div_ceil(1000).max(1)
    }
}

impl Retry {
    pub fn new() -> Retry {
        Retry::default()
    }

    /// A connection is being made at `now_ms` (the first, or a retry).
    pub fn started(&mut self, now_ms: u64) {
        self.started_at = Some(now_ms);
        self.healthy_since = None;
    }

    /// The connection failed or stalled at `now_ms`: when to make it again. While an attempt is
    /// pending, further reports of the failure (both sides notice it) change nothing.
    pub fn failed(&mut self, now_ms: u64) -> Attempt {
        if let Some(at_ms) = self.due_at {
            return Attempt { at_ms, number: self.failures };
        }
        self.healthy_since = None;
        let delay = FIRST_DELAY_MS.saturating_mul(1 << self.failures.min(16)).min(MAX_DELAY_MS);
        self.failures = self.failures.saturating_add(1);
        let grace_ends = self.started_at.map_or(0, |t| t.saturating_add(GRACE_MS));
        let at_ms = now_ms.saturating_add(delay).max(grace_ends);
        self.due_at = Some(at_ms);
        Attempt { at_ms, number: self.failures }
    }

    /// The attempt pending, if any.
    pub fn pending(&self) -> Option<Attempt> {
        self.due_at.map(|at_ms| Attempt { at_ms, number: self.failures })
    }

    /// Whether the pending attempt is due at `now_ms`; if so it is taken (true once).
    pub fn take_due(&mut self, now_ms: u64) -> bool {
        match self.due_at {
            Some(at) if at <= now_ms => {
                self.due_at = None;
                true
            }
            _ => false,
        }
    }

    /// The pending attempt is no longer wanted (made, or the connection it was for is gone).
    pub fn cancel(&mut self) {
        self.due_at = None;
    }

    /// The connection is up and its keys confirmed at `now_ms` (called again while it stays
    /// so): once it has stayed so for [`STABLE_AFTER_MS`], the delays start again from the
    /// shortest.
    pub fn healthy(&mut self, now_ms: u64) {
        let since = *self.healthy_since.get_or_insert(now_ms);
        if now_ms.saturating_sub(since) >= STABLE_AFTER_MS {
            self.failures = 0;
        }
    }

    /// The connection is not healthy (any more): the time it was does not count on.
    pub fn unhealthy(&mut self) {
        self.healthy_since = None;
    }

    /// The other person left: the next person's connection starts a fresh schedule.
    pub fn reset(&mut self) {
        *self = Retry::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every connection as soon as it is made, `seconds` long: how many attempts.
    fn attempts_in(seconds: u64) -> u32 {
        let mut retry = Retry::new();
        let mut now = 0;
        let mut made = 1;
        while now < seconds * 1000 {
            let attempt = retry.failed(now);
            now = attempt.at_ms;
            assert!(retry.take_due(now));
            made += 1;
        }
        made
    }

    #[test]
    fn delays_double_up_to_thirty_seconds() {
        let mut retry = Retry::new();
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..8 {
            let attempt = retry.failed(now);
            delays.push(attempt.at_ms - now);
            assert!(!retry.take_due(attempt.at_ms - 1), "not before its time");
            assert!(retry.take_due(attempt.at_ms));
            assert!(!retry.take_due(attempt.at_ms), "taken once");
            now = attempt.at_ms + 300;
        }
        assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    }

    #[test]
    fn a_handshake_that_always_fails_is_no_storm() {
        // Immediate restarts made about 270 offers in 25 s; now a handful.
        assert!(attempts_in(25) <= 6, "{}", attempts_in(25));
        assert!(attempts_in(600) <= 26, "{}", attempts_in(600));
    }

    #[test]
    fn reports_of_the_same_failure_do_not_move_the_attempt() {
        let mut retry = Retry::new();
        let first = retry.failed(0);
        assert_eq!(retry.failed(500), first, "the other side's report of it");
        assert_eq!(retry.pending(), Some(first));
        assert_eq!(first.number, 1);
        assert_eq!(first.seconds_from(1), 1);
        assert_eq!(first.seconds_from(first.at_ms + 50), 1, "never 'in 0 s'");
    }

    #[test]
    fn only_a_connection_that_stayed_healthy_starts_the_schedule_again() {
        let mut retry = Retry::new();
        for t in [0, 1_000, 3_000] {
            let a = retry.failed(t);
            assert!(retry.take_due(a.at_ms));
        }
        // Healthy for a moment, then failing again: the delays keep growing.
        retry.healthy(8_000);
        let a = retry.failed(9_000);
        assert_eq!(a.at_ms - 9_000, 8_000);
        assert!(retry.take_due(a.at_ms));
        // Healthy at times, never for long: still growing. (Healthy at 20 s, unhealthy, healthy
        // again at 30 s, failing at 45 s: 40 s since first healthy, 15 s of the last stretch.)
        retry.healthy(20_000);
        retry.unhealthy();
        retry.healthy(30_000);
        retry.healthy(44_000);
        let a = retry.failed(45_000);
        assert_eq!(a.at_ms - 45_000, 16_000);
        assert!(retry.take_due(a.at_ms));
        // Healthy long enough: the next failure is a first one again.
        retry.healthy(70_000);
        retry.healthy(70_000 + STABLE_AFTER_MS);
        let a = retry.failed(95_000);
        assert_eq!(a.at_ms - 95_000, FIRST_DELAY_MS);
        assert_eq!(a.number, 1);
    }

    #[test]
    fn a_new_connection_is_not_cut_by_a_report_about_the_one_before() {
        let mut retry = Retry::new();
        retry.started(10_000);
        // A failure report 200 ms in (sent before the peer saw the new offer): the attempt
        // waits until the grace ends, when the app checks whether it is still needed.
        let a = retry.failed(10_200);
        assert_eq!(a.at_ms, 10_000 + GRACE_MS);
        assert!(!retry.take_due(10_000 + GRACE_MS - 1));
        // Long after the start, only the delay counts.
        let mut retry = Retry::new();
        retry.started(0);
        assert_eq!(retry.failed(60_000).at_ms, 60_000 + FIRST_DELAY_MS);
    }

    #[test]
    fn a_new_person_starts_afresh() {
        let mut retry = Retry::new();
        retry.failed(0);
        retry.failed(5_000);
        retry.reset();
        assert_eq!(retry.pending(), None);
        assert_eq!(retry.failed(10_000).at_ms, 10_000 + FIRST_DELAY_MS);
    }
}
