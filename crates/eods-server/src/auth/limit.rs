//! The limit on failed sign-ins: a token bucket per client address (an IPv6 client by its /64,
//! which one host usually holds whole) and one per token id. A failed sign-in takes one attempt
//! from both buckets; when either is empty the answer is 429 with the wait until it refills.
//! Only failures are counted: the caller verifies first, so a valid token is never held back.
//! Memory is bounded: each map tracks at most `max_tracked` keys; idle keys (a full bucket is the
//! same as no entry) are pruned when it fills, and a new key that still finds it full is refused.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures a bucket allows at once, and how fast it refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Failures allowed in a burst (the bucket's size). At least 1.
    pub burst: u32,
    /// One more failure is allowed after each `every` (the refill interval).
    pub every: Duration,
}

/// The limits of failed sign-ins of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    /// Per client address.
    pub per_client: Rate,
    /// Per token id (the 12 hex digits after `eods_`), whether a token has that id or not.
    pub per_token: Rate,
    /// Keys each map tracks at most.
    pub max_tracked: usize,
}

impl Default for SignInLimits {
    /// 30 failures at once per client, then one every 2 s; 10 per token id, then one every 6 s.
    fn default() -> Self {
        SignInLimits {
            per_client: Rate {
                burst: 30,
                every: Duration::from_secs(2),
            },
            per_token: Rate {
                burst: 10,
                every: Duration::from_secs(6),
            },
            max_tracked: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Attempts left at `at`.
    left: f64,
    at: Instant,
}

impl Bucket {
    fn level(&self, rate: Rate, now: Instant) -> f64 {
        let every = rate.every.as_secs_f64().max(f64::MIN_POSITIVE);
        let refilled = now.saturating_duration_since(self.at).as_secs_f64() / every;
        (self.left + refilled).min(f64::from(rate.burst.max(1)))
    }
}

/// The buckets of one kind of key.
#[derive(Debug)]
struct Buckets<K> {
    rate: Rate,
    map: HashMap<K, Bucket>,
}

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    fn new(rate: Rate) -> Self {
        Buckets {
            rate,
            map: HashMap::new(),
        }
    }

    fn level(&self, key: &K, now: Instant) -> f64 {
        self.map
            .get(key)
            .map_or(f64::from(self.rate.burst.max(1)), |b| {
                b.level(self.rate, now)
            })
    }

    /// How long until one attempt is available, from `level`.
    fn wait(&self, level: f64) -> Duration {
        self.rate.every.mul_f64((1.0 - level).clamp(0.0, 1.0))
    }

    /// Whether `key` can be tracked: it is already, or there is (or can be made) room.
    fn room_for(&mut self, key: &K, now: Instant, max: usize) -> bool {
        if self.map.len() < max || self.map.contains_key(key) {
            return true;
        }
        let (rate, full) = (self.rate, f64::from(self.rate.burst.max(1)));
        self.map.retain(|_, b| b.level(rate, now) < full);
        self.map.len() < max
    }

    fn take(&mut self, key: K, now: Instant) {
        let left = self.level(&key, now) - 1.0;
        self.map.insert(key, Bucket { left, at: now });
    }

    fn give_back(&mut self, key: &K, now: Instant) {
        let (rate, full) = (self.rate, f64::from(self.rate.burst.max(1)));
        if let Some(b) = self.map.get_mut(key) {
            *b = Bucket {
                left: (b.level(rate, now) + 1.0).min(full),
                at: now,
            };
        }
    }
}

/// What a client's address is counted as: the address, or an IPv6 address's /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
    }
}

#[derive(Debug)]
struct State {
    clients: Buckets<IpAddr>,
    tokens: Buckets<String>,
}

/// The failed sign-ins of one instance.
#[derive(Debug)]
pub(crate) struct Limiter {
    max_tracked: usize,
    state: Mutex<State>,
}

impl Limiter {
    pub(crate) fn new(limits: SignInLimits) -> Self {
        Limiter {
            max_tracked: limits.max_tracked.max(1),
            state: Mutex::new(State {
                clients: Buckets::new(limits.per_client),
                tokens: Buckets::new(limits.per_token),
            }),
        }
    }

    /// Counts a failed sign-in from `client` with token id `id` (either may be unknown), or
    /// refuses it with the wait until both buckets allow one more.
    pub(crate) fn take(&self, client: Option<IpAddr>, id: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        // The state is plain counters, valid after any panic elsewhere: a poisoned lock is used.
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let client = client.map(client_key);
        let id = id.map(str::to_owned);
        let mut wait = Duration::ZERO;
        if let Some(c) = &client {
            let level = s.clients.level(c, now);
            if level < 1.0 {
                wait = wait.max(s.clients.wait(level));
            } else if !s.clients.room_for(c, now, self.max_tracked) {
                wait = wait.max(s.clients.rate.every);
            }
        }
        if let Some(i) = &id {
            let level = s.tokens.level(i, now);
            if level < 1.0 {
                wait = wait.max(s.tokens.wait(level));
            } else if !s.tokens.room_for(i, now, self.max_tracked) {
                wait = wait.max(s.tokens.rate.every);
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        if let Some(c) = client {
            s.clients.take(c, now);
        }
        if let Some(i) = id {
            s.tokens.take(i, now);
        }
        Ok(())
    }

    /// Returns an attempt taken by [`Limiter::take`] before a check that then succeeded.
    pub(crate) fn give_back(&self, client: Option<IpAddr>, id: Option<&str>) {
        let now = Instant::now();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = client.map(client_key) {
            s.clients.give_back(&c, now);
        }
        if let Some(i) = id {
            s.tokens.give_back(&i.to_owned(), now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(client: u32, token: u32, max_tracked: usize) -> SignInLimits {
        let hour = Duration::from_secs(3600);
        SignInLimits {
            per_client: Rate {
                burst: client,
                every: hour,
            },
            per_token: Rate {
                burst: token,
                every: hour,
            },
            max_tracked,
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])))
    }

    #[test]
    fn a_token_id_allows_its_burst_then_waits_for_the_refill() {
        let l = Limiter::new(limits(100, 3, 10));
        for _ in 0..3 {
            assert_eq!(l.take(ip("10.0.0.1"), Some("aaaaaaaaaaaa")), Ok(()));
        }
        let wait = l.take(ip("10.0.0.2"), Some("aaaaaaaaaaaa"));
        assert!(
            matches!(wait, Err(w) if w > Duration::from_secs(3500)),
            "{wait:?}"
        );
        // Another id from the same client is not affected.
        assert_eq!(l.take(ip("10.0.0.1"), Some("bbbbbbbbbbbb")), Ok(()));
    }

    #[test]
    fn a_client_is_limited_across_ids_and_an_ipv6_host_by_its_64() {
        let l = Limiter::new(limits(2, 100, 10));
        assert_eq!(l.take(ip("2001:db8::1"), Some("aaaaaaaaaaaa")), Ok(()));
        assert_eq!(l.take(ip("2001:db8::2"), Some("bbbbbbbbbbbb")), Ok(()));
        assert!(l.take(ip("2001:db8::3"), Some("cccccccccccc")).is_err());
        assert_eq!(l.take(ip("2001:db8:0:1::1"), Some("cccccccccccc")), Ok(()));
        assert_eq!(l.take(ip("::ffff:10.0.0.9"), None), Ok(()));
        assert_eq!(l.take(ip("::ffff:10.0.0.9"), None), Ok(()));
        assert!(
            l.take(ip("10.0.0.9"), None).is_err(),
            "a v4-mapped v6 address is its v4 address"
        );
    }

    #[test]
    fn a_refused_attempt_takes_nothing_and_a_given_back_one_is_available_again() {
        let l = Limiter::new(limits(1, 5, 10));
        assert_eq!(l.take(ip("10.0.0.1"), Some("aaaaaaaaaaaa")), Ok(()));
        assert!(l.take(ip("10.0.0.1"), Some("aaaaaaaaaaaa")).is_err());
        l.give_back(ip("10.0.0.1"), Some("aaaaaaaaaaaa"));
        assert_eq!(l.take(ip("10.0.0.1"), Some("aaaaaaaaaaaa")), Ok(()));
        // The refused attempt took nothing from the id and the given-back one was returned:
        // 5 - 1 = 4 left for other clients.
        for n in 2..6 {
            assert_eq!(
                l.take(ip(&format!("10.0.1.{n}")), Some("aaaaaaaaaaaa")),
                Ok(())
            );
        }
        assert!(l.take(ip("10.0.2.1"), Some("aaaaaaaaaaaa")).is_err());
    }

    #[test]
    fn the_maps_stay_bounded_and_refuse_new_keys_when_full_of_active_ones() {
        let l = Limiter::new(limits(1000, 5, 3));
        for id in ["aaaaaaaaaaa1", "aaaaaaaaaaa2", "aaaaaaaaaaa3"] {
            assert_eq!(l.take(None, Some(id)), Ok(()));
        }
        assert!(l.take(None, Some("aaaaaaaaaaa4")).is_err());
        assert_eq!(
            l.take(None, Some("aaaaaaaaaaa1")),
            Ok(()),
            "a tracked key still counts"
        );
        let s = l.state.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(s.tokens.map.len(), 3);
    }

    #[test]
    fn idle_keys_are_pruned_to_make_room() {
        let l = Limiter::new(limits(1000, 5, 2));
        assert_eq!(l.take(None, Some("aaaaaaaaaaa1")), Ok(()));
        l.give_back(None, Some("aaaaaaaaaaa1"));
        assert_eq!(l.take(None, Some("aaaaaaaaaaa2")), Ok(()));
        assert_eq!(
            l.take(None, Some("aaaaaaaaaaa3")),
            Ok(()),
            "the idle key made room"
        );
    }
}
