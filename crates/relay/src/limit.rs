//! Per-socket rate limit: a token bucket, plus a strike count that decides when a sender is
//! abusive rather than merely bursty. Pure: the caller passes the time in.

use std::time::Instant;

/// Strikes (dropped messages) that decay per second; a socket that keeps sending faster than
/// `rate + STRIKE_DECAY_PER_SEC` is eventually closed, a short burst never is.
const STRIKE_DECAY_PER_SEC: f64 = 10.0;

/// Strikes at which the socket is closed.
const STRIKE_LIMIT: f64 = 100.0;

/// What to do with one incoming message.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: handle it.
    Allow,
    /// Over the limit: drop it and tell the sender.
    Drop,
    /// Over the limit for too long: close the socket.
    Close,
}

#[derive(Debug)]
pub struct RateLimit {
    rate: f64,
    burst: f64,
    tokens: f64,
    strikes: f64,
    last: Instant,
}

impl RateLimit {
    /// A full bucket of `burst` tokens that refills at `rate` per second.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        RateLimit { rate, burst, tokens: burst, strikes: 0.0, last: now }
    }

    /// Account for one message arriving at `now`.
    pub fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.strikes = (self.strikes - elapsed * STRIKE_DECAY_PER_SEC).max(0.0);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Allow;
        }
        self.strikes += 1.0;
        if self.strikes >= STRIKE_LIMIT { Verdict::Close } else { Verdict::Drop }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_fits_then_the_rate_applies() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(50.0, 100.0, t0);
        assert!((0..100).all(|_| limit.check(t0) == Verdict::Allow));
        assert_eq!(limit.check(t0), Verdict::Drop);
        // 100 ms later, five more tokens.
        let t1 = t0 + Duration::from_millis(100);
        assert!((0..5).all(|_| limit.check(t1) == Verdict::Allow));
        assert_eq!(limit.check(t1), Verdict::Drop);
    }

    #[test]
    fn sustained_abuse_closes_but_a_pause_forgives() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(50.0, 100.0, t0);
        let verdicts: Vec<_> = (0..250).map(|_| limit.check(t0)).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Allow).count(), 100);
        assert_eq!(verdicts.iter().position(|v| *v == Verdict::Close), Some(199));

        let mut limit = RateLimit::new(50.0, 100.0, t0);
        (0..150).for_each(|_| _ = limit.check(t0));
        // Ten quiet seconds: a full bucket and no strikes left.
        let later = t0 + Duration::from_secs(10);
        assert!((0..100).all(|_| limit.check(later) == Verdict::Allow));
        assert!((0..99).all(|_| limit.check(later) == Verdict::Drop));
    }
}
