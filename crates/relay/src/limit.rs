//! Per-socket rate limit: a token bucket, plus a strike count that decides when a sender is
//! abusive rather than merely bursty; per-address budgets (new rooms, pickup codes tried); and
//! per-address counts of what is open now (connections, sockets, shared between tasks). No
//! clock of their own: the caller passes the time in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
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

/// Addresses remembered before the budgets that have filled up again are forgotten.
const BUDGETS_PRUNE_AT: usize = 4096;

/// Whose budget an address counts against: an IPv4 address is one client, but one IPv6 host
/// usually holds a whole /64 (its own subnet), so all of a /64 counts as one.
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

/// Something a client may do `per_minute` times a minute (open a room, try a pickup code): a
/// bucket per client ([`client_of`]) that refills over a minute, so a script cannot fill the
/// relay's memory with empty rooms, or guess codes, from one address.
#[derive(Debug)]
pub struct PerMinute {
    per_minute: f64,
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl PerMinute {
    pub fn new(per_minute: u32) -> Self {
        PerMinute { per_minute: per_minute.into(), buckets: HashMap::new() }
    }

    /// Whether `ip` may do it once more at `now` (and count it if so).
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        let ip = client_of(ip);
        let rate = self.per_minute / 60.0;
        let full = self.per_minute;
        if self.buckets.len() >= BUDGETS_PRUNE_AT {
            self.buckets.retain(|_, (tokens, last)| {
                *tokens + now.saturating_duration_since(*last).as_secs_f64() * rate < full
            });
        }
        let (tokens, last) = self.buckets.entry(ip).or_insert((full, now));
        *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * rate).min(full);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// How many of something each client ([`client_of`]) holds open now, for a cap per client: the
/// HTTP server's connections and the relay's sockets each keep one.
#[derive(Clone, Debug, Default)]
pub struct PerClient(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One of a client's open things, counted until dropped.
#[derive(Debug)]
pub struct ClientSlot {
    counts: PerClient,
    client: IpAddr,
}

impl PerClient {
    /// A slot if the client of `ip` holds fewer than `most`, counted under one lock, so two
    /// racing callers cannot both take the last; `None` if it holds `most` already.
    pub fn take(&self, ip: IpAddr, most: usize) -> Option<ClientSlot> {
        let client = client_of(ip);
        let mut counts = self.counts();
        let held = counts.entry(client).or_insert(0);
        if *held >= most {
            return None;
        }
        *held += 1;
        Some(ClientSlot { counts: self.clone(), client })
    }

    /// How many the client of `ip` holds now.
    pub fn held(&self, ip: IpAddr) -> usize {
        self.counts().get(&client_of(ip)).copied().unwrap_or(0)
    }

    /// A panic while holding the lock would be a bug in these few lines; the map stays
    /// consistent, so counting goes on rather than poisoning every later call.
    fn counts(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for ClientSlot {
    /// A client leaves the map with its last slot, so the map holds only clients with some open.
    fn drop(&mut self) {
        let mut counts = self.counts.counts();
        if let Some(held) = counts.get_mut(&self.client) {
            *held -= 1;
            if *held == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_up_to_its_cap_and_a_slot_given_back_frees_one() {
        let counts = PerClient::default();
        let (a, b) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = counts.take(a, 2).expect("one");
        let _second = counts.take(a, 2).expect("two");
        assert!(counts.take(a, 2).is_none(), "a third is over the cap");
        assert!(counts.take(b, 2).is_some(), "another client counts apart");
        drop(first);
        assert_eq!(counts.held(a), 1);
        assert!(counts.take(a, 2).is_some(), "the slot given back is free again");
    }

    #[test]
    fn a_v6_subnet_is_one_client_and_leaves_the_map_with_its_last_slot() {
        let counts = PerClient::default();
        let one = counts.take("2001:db8::1".parse().unwrap(), 2).unwrap();
        let two = counts.take("2001:db8::2".parse().unwrap(), 2).unwrap();
        assert!(counts.take("2001:db8::3".parse().unwrap(), 2).is_none(), "one /64");
        drop((one, two));
        assert!(counts.0.lock().unwrap().is_empty());
    }
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

    #[test]
    fn new_rooms_are_counted_per_address_and_come_back_over_a_minute() {
        let t0 = Instant::now();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let mut rooms = PerMinute::new(3);
        assert!((0..3).all(|_| rooms.allow(a, t0)));
        assert!(!rooms.allow(a, t0));
        assert!(rooms.allow(b, t0), "another address has its own budget");
        // One room back every 20 s.
        assert!(!rooms.allow(a, t0 + Duration::from_secs(19)));
        assert!(rooms.allow(a, t0 + Duration::from_secs(21)));
        assert!(!rooms.allow(a, t0 + Duration::from_secs(21)));
    }

    #[test]
    fn an_ipv6_host_s_whole_subnet_is_one_client() {
        let t0 = Instant::now();
        let mut budget = PerMinute::new(2);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(budget.allow(ip("2001:db8::1"), t0));
        assert!(budget.allow(ip("2001:db8::ffff:1234:5678:9abc"), t0));
        assert!(!budget.allow(ip("2001:db8:0:0:8000::1"), t0), "the same /64");
        assert!(budget.allow(ip("2001:db8:0:1::1"), t0), "the next /64 is someone else");
        assert_eq!(client_of(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_of(ip("192.0.2.7")), ip("192.0.2.7"));
    }
}
