//! The resilient source chain. [`Resilient`] puts one [`VenueSource`] behind a timeout per
//! attempt, retries of transient errors with exponential backoff and jitter, a circuit breaker and
//! a cache; [`SourceChain`] consults several of them in order (primaries, then fallbacks while too
//! few venues were found, then a last resort when none were) and merges what they return. When
//! every consulted source failed, the chain says so in words a person can act on: the caller
//! escalates, it never invents venues.
//!
//! Time comes from a [`Clock`] so that backoff, cooldown and cache expiry can be driven by a
//! [`ManualClock`] in tests; the timeout around each attempt is tokio's, which tokio's paused
//! clock makes virtual too. This module knows no source's protocol (see `overpass` for HTTP).

use crate::{BoxFuture, SourceError, VenueQuery, VenueSource, same_city};
use eods_domain::catalog::sources::{SourceKind, VenueRecord};
use eods_domain::catalog::venue::SourceAttempt;
use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// How hard to try one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The longest one attempt may take before it counts as a transient failure.
    pub timeout: Duration,
    /// Attempts after the first one for transient errors (0: no retry).
    pub retries: u32,
    /// The delay before the first retry; each further retry doubles it.
    pub base_delay: Duration,
    /// The longest delay between attempts, also the cap on a source's `Retry-After`.
    pub max_delay: Duration,
    /// Whether to spread each delay over its upper half at random ("equal jitter"), so that
    /// clients that failed together do not retry together. Delays below the cap still never
    /// shrink from one retry to the next.
    pub jitter: bool,
    /// Consecutive failed searches that open the circuit breaker (0: never open it).
    pub breaker_threshold: u32,
    /// How long an open breaker fails fast before it lets one trial search through.
    pub breaker_cooldown: Duration,
    /// How long an answer is reused for the same query (zero: no cache).
    pub cache_ttl: Duration,
}

impl Default for Policy {
    /// For a public web API: 30 s per attempt (Overpass's own query limit is 25 s), two
    /// retries from 1 s up to 16 s, breaker after 3 failed searches for 2 minutes, answers
    /// reused for 15 minutes.
    fn default() -> Self {
        Policy {
            timeout: Duration::from_secs(30),
            retries: 2,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            jitter: true,
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(120),
            cache_ttl: Duration::from_secs(15 * 60),
        }
    }
}

impl Policy {
    /// For tests against local servers: a 5 s timeout that a healthy loopback server never
    /// reaches, two retries from 100 ms up to 400 ms without jitter (so delays are exact),
    /// breaker after 2 failed searches for 30 s, answers reused for 60 s.
    pub fn fast() -> Policy {
        Policy {
            timeout: Duration::from_secs(5),
            retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
            jitter: false,
            breaker_threshold: 2,
            breaker_cooldown: Duration::from_secs(30),
            cache_ttl: Duration::from_secs(60),
        }
    }

    /// The delay before retry `retry` (0 for the first retry) before jitter:
    /// `base_delay × 2^retry`, capped at `max_delay`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Where a [`Resilient`] source reads the time and waits between attempts.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
    /// Waits `d`.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

/// Tokio's clock: real time, or virtual time under `tokio::time::pause`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock for tests: it moves only when told to ([`ManualClock::advance`]) or when slept on,
/// in which case the sleep returns at once, moves the clock by the delay and records it.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    state: Mutex<ManualState>,
}

#[derive(Debug, Default)]
struct ManualState {
    offset: Duration,
    slept: Vec<Duration>,
}

impl ManualClock {
    /// A clock standing at the current instant.
    pub fn new() -> ManualClock {
        ManualClock {
            start: Instant::now(),
            state: Mutex::new(ManualState::default()),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        lock(&self.state).offset += d;
    }

    /// Every delay slept on this clock, in order.
    pub fn slept(&self) -> Vec<Duration> {
        lock(&self.state).slept.clone()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + lock(&self.state).offset
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        let mut state = lock(&self.state);
        state.offset += d;
        state.slept.push(d);
        Box::pin(std::future::ready(()))
    }
}

/// The marker a source appends to a [`SourceError::Transient`] message when the remote side
/// said how long to wait (HTTP `Retry-After`): `… (retry after 30 s)`. [`Resilient`] waits that
/// long, capped at [`Policy::max_delay`], if it is longer than its own backoff.
pub fn with_retry_after(message: &str, after: Duration) -> String {
    format!("{message} (retry after {} s)", after.as_secs())
}

/// The wait a transient error asks for (see [`with_retry_after`]), if any.
pub fn retry_after_hint(err: &SourceError) -> Option<Duration> {
    let SourceError::Transient(message) = err else {
        return None;
    };
    let rest = &message[message.rfind("(retry after ")? + "(retry after ".len()..];
    let seconds = rest.strip_suffix(" s)")?;
    seconds.parse::<u64>().ok().map(Duration::from_secs)
}

/// The state of a source's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Searches reach the source.
    Closed,
    /// Searches fail fast without reaching the source until the cooldown has passed.
    Open,
    /// The cooldown has passed: the next search is one trial attempt, which closes the breaker
    /// when it succeeds and opens it again when it fails.
    HalfOpen,
}

/// Counters of one [`Resilient`] source, for tests, traces and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Calls to [`Resilient::search`].
    pub searches: u64,
    /// Calls that reached the wrapped source (for an HTTP source: requests sent).
    pub attempts: u64,
    /// Searches answered from the cache.
    pub cache_hits: u64,
    /// Searches refused by the open breaker.
    pub short_circuits: u64,
    /// Searches that failed after their attempts.
    pub failures: u64,
    /// The most recent delays waited between attempts (up to [`Metrics::KEPT_DELAYS`]), oldest
    /// first.
    pub delays: Vec<Duration>,
}

impl Metrics {
    /// How many recent delays [`Metrics::delays`] keeps.
    pub const KEPT_DELAYS: usize = 32;
}

/// What one [`Resilient::search`] came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Searched {
    /// The source answered (possibly with no records), now or from the cache.
    Answered {
        /// The source's records, as it returned them.
        records: Vec<VenueRecord>,
        /// Whether the answer came from the cache (no call was made).
        cached: bool,
        /// Calls made to the source for this search (0 when cached).
        attempts: u32,
    },
    /// Every attempt failed, or the error was permanent.
    Failed {
        /// The last attempt's error.
        error: SourceError,
        /// Calls made to the source for this search.
        attempts: u32,
    },
    /// The breaker is open: no call was made.
    CircuitOpen {
        /// The error that opened the breaker.
        last_error: String,
        /// How long until a trial search is let through (zero while a trial is under way).
        retry_in: Duration,
    },
}

/// One source behind a timeout, retries with backoff and jitter, a circuit breaker and a cache.
pub struct Resilient {
    source: Box<dyn VenueSource>,
    policy: Policy,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

struct State {
    breaker: Breaker,
    cache: Vec<CacheEntry>,
    metrics: Metrics,
    rng: u64,
}

enum Breaker {
    Closed {
        failures: u32,
    },
    Open {
        since: Instant,
        last_error: String,
    },
    /// A trial search is under way.
    Trial {
        last_error: String,
    },
}

struct CacheEntry {
    query: VenueQuery,
    at: Instant,
    records: Vec<VenueRecord>,
}

/// The most answers one source keeps (the oldest is dropped first).
const CACHE_ENTRIES: usize = 64;

impl CacheEntry {
    fn matches(&self, q: &VenueQuery) -> bool {
        let country = match (&self.query.country, &q.country) {
            (None, None) => true,
            (Some(a), Some(b)) => same_city(a, b),
            _ => false,
        };
        same_city(&self.query.city, &q.city) && country && self.query.min_capacity == q.min_capacity
    }
}

impl Resilient {
    /// `source` under `policy`, timed by tokio's clock.
    pub fn new(source: Box<dyn VenueSource>, policy: Policy) -> Resilient {
        Resilient::with_clock(source, policy, Arc::new(TokioClock))
    }

    /// `source` under `policy`, timed by `clock`.
    pub fn with_clock(
        source: Box<dyn VenueSource>,
        policy: Policy,
        clock: Arc<dyn Clock>,
    ) -> Resilient {
        Resilient {
            source,
            policy,
            clock,
            state: Mutex::new(State {
                breaker: Breaker::Closed { failures: 0 },
                cache: Vec::new(),
                metrics: Metrics::default(),
                rng: RandomState::new().hash_one(0u64) | 1,
            }),
        }
    }

    /// The wrapped source's name.
    pub fn name(&self) -> &str {
        self.source.name()
    }

    /// The wrapped source's kind.
    pub fn kind(&self) -> SourceKind {
        self.source.kind()
    }

    /// The policy this source runs under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Calls made to the wrapped source so far (for an HTTP source: requests sent).
    pub fn attempts_made(&self) -> u64 {
        lock(&self.state).metrics.attempts
    }

    /// A copy of the counters.
    pub fn metrics(&self) -> Metrics {
        lock(&self.state).metrics.clone()
    }

    /// The breaker's state now.
    pub fn breaker(&self) -> BreakerState {
        let now = self.clock.now();
        match &lock(&self.state).breaker {
            Breaker::Closed { .. } => BreakerState::Closed,
            Breaker::Open { since, .. } if self.still_open(*since, now).is_some() => {
                BreakerState::Open
            }
            Breaker::Open { .. } | Breaker::Trial { .. } => BreakerState::HalfOpen,
        }
    }

    /// Searches the source: from the cache when the same query (same city, country and
    /// capacity, see [`crate::same_city`]) was answered within the cache TTL; refused at once
    /// while the breaker is open; otherwise with a timeout around each attempt and retries of
    /// transient errors. A failed search counts toward the breaker; an answer closes it.
    pub async fn search(&self, q: &VenueQuery) -> Searched {
        let trial = match self.admit(q) {
            Admit::Done(searched) => return searched,
            Admit::Call { trial } => trial,
        };
        // Should the caller drop this search while it is the breaker's trial, the guard opens
        // the breaker again, so that a later search can make the next trial.
        let mut guard = TrialGuard {
            owner: self,
            armed: trial,
        };
        let max_attempts = if trial {
            1
        } else {
            self.policy.retries.saturating_add(1)
        };
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            lock(&self.state).metrics.attempts += 1;
            let result =
                match tokio::time::timeout(self.policy.timeout, self.source.search(q)).await {
                    Ok(result) => result,
                    Err(_) => Err(SourceError::Timeout(
                        u64::try_from(self.policy.timeout.as_millis()).unwrap_or(u64::MAX),
                    )),
                };
            match result {
                Ok(records) => {
                    guard.armed = false;
                    self.succeeded(q, &records);
                    return Searched::Answered {
                        records,
                        cached: false,
                        attempts,
                    };
                }
                Err(error) if !error.is_transient() || attempts >= max_attempts => {
                    guard.armed = false;
                    self.failed(&error);
                    return Searched::Failed { error, attempts };
                }
                Err(error) => {
                    let delay = self.delay(attempts - 1, &error);
                    {
                        let mut state = lock(&self.state);
                        let delays = &mut state.metrics.delays;
                        if delays.len() == Metrics::KEPT_DELAYS {
                            delays.remove(0);
                        }
                        delays.push(delay);
                    }
                    self.clock.sleep(delay).await;
                }
            }
        }
    }

    /// Decides, under the lock, whether the search is answered without calling the source.
    fn admit(&self, q: &VenueQuery) -> Admit {
        let now = self.clock.now();
        let ttl = self.policy.cache_ttl;
        let mut state = lock(&self.state);
        state.metrics.searches += 1;
        state.cache.retain(|e| now.duration_since(e.at) < ttl);
        if let Some(entry) = state.cache.iter().find(|e| e.matches(q)) {
            let records = entry.records.clone();
            state.metrics.cache_hits += 1;
            return Admit::Done(Searched::Answered {
                records,
                cached: true,
                attempts: 0,
            });
        }
        let refused = match &state.breaker {
            Breaker::Closed { .. } => return Admit::Call { trial: false },
            Breaker::Open { since, last_error } if self.still_open(*since, now).is_some() => {
                Searched::CircuitOpen {
                    last_error: last_error.clone(),
                    retry_in: self.still_open(*since, now).unwrap_or_default(),
                }
            }
            Breaker::Open { last_error, .. } => {
                state.breaker = Breaker::Trial {
                    last_error: last_error.clone(),
                };
                return Admit::Call { trial: true };
            }
            Breaker::Trial { last_error } => Searched::CircuitOpen {
                last_error: last_error.clone(),
                retry_in: Duration::ZERO,
            },
        };
        state.metrics.short_circuits += 1;
        Admit::Done(refused)
    }

    /// How long a breaker opened at `since` stays open after `now`; `None` once the cooldown
    /// has passed. A cooldown too long for the clock keeps the breaker open for good.
    fn still_open(&self, since: Instant, now: Instant) -> Option<Duration> {
        match since.checked_add(self.policy.breaker_cooldown) {
            Some(until) if now < until => Some(until - now),
            Some(_) => None,
            None => Some(Duration::MAX),
        }
    }

    fn succeeded(&self, q: &VenueQuery, records: &[VenueRecord]) {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        state.breaker = Breaker::Closed { failures: 0 };
        if self.policy.cache_ttl > Duration::ZERO {
            state.cache.retain(|e| !e.matches(q));
            if state.cache.len() >= CACHE_ENTRIES {
                state.cache.remove(0);
            }
            state.cache.push(CacheEntry {
                query: q.clone(),
                at: now,
                records: records.to_vec(),
            });
        }
    }

    fn failed(&self, error: &SourceError) {
        let now = self.clock.now();
        let threshold = self.policy.breaker_threshold;
        let mut state = lock(&self.state);
        state.metrics.failures += 1;
        let failures = match state.breaker {
            Breaker::Closed { failures } => failures.saturating_add(1),
            // A failed trial, or a search that started before the breaker opened.
            Breaker::Open { .. } | Breaker::Trial { .. } => threshold,
        };
        state.breaker = if threshold > 0 && failures >= threshold {
            Breaker::Open {
                since: now,
                last_error: error.to_string(),
            }
        } else {
            Breaker::Closed { failures }
        };
    }

    /// The wait before retry `retry`: the backoff, spread over its upper half when jitter is
    /// on, or the source's own `Retry-After` (capped at `max_delay`) when that is longer.
    fn delay(&self, retry: u32, error: &SourceError) -> Duration {
        let backoff = self.policy.backoff(retry);
        let jittered = if self.policy.jitter {
            let half = backoff / 2;
            let spread = u64::try_from((backoff - half).as_nanos()).unwrap_or(u64::MAX);
            let random = next_random(&mut lock(&self.state).rng);
            half + Duration::from_nanos(random % spread.saturating_add(1))
        } else {
            backoff
        };
        let asked = retry_after_hint(error)
            .map(|d| d.min(self.policy.max_delay))
            .unwrap_or_default();
        jittered.max(asked)
    }
}

enum Admit {
    Done(Searched),
    Call { trial: bool },
}

struct TrialGuard<'a> {
    owner: &'a Resilient,
    armed: bool,
}

impl Drop for TrialGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let now = self.owner.clock.now();
            let mut state = lock(&self.owner.state);
            if let Breaker::Trial { last_error } = &state.breaker {
                state.breaker = Breaker::Open {
                    since: now,
                    last_error: last_error.clone(),
                };
            }
        }
    }
}

/// splitmix64: enough randomness for jitter, no dependency.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A lock that survives a panic of another holder: the state it guards is counters and
/// caches, which stay consistent between statements.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// When a source in a [`SourceChain`] is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Always consulted; its records are merged with the others'.
    Primary,
    /// Consulted only while the records gathered so far number fewer than wanted.
    Fallback,
    /// Consulted only when nothing at all was gathered (the demo catalog).
    LastResort,
}

/// The outcome of one source in [`Gathered::attempts`] (`SourceAttempt::outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The source answered.
    Ok,
    /// The source's earlier answer was reused.
    Cached,
    /// The source was not consulted (enough venues already).
    Skipped,
    /// The source failed.
    Failed,
    /// The source's breaker is open; it was not called.
    CircuitOpen,
}

impl Outcome {
    /// The snake_case name stored in `SourceAttempt::outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Cached => "cached",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::CircuitOpen => "circuit_open",
        }
    }
}

/// What a [`SourceChain`] gathered for one query.
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered {
    /// The venues, de-duplicated by [`VenueRecord::match_key`] (the first source's record wins).
    pub records: Vec<VenueRecord>,
    /// One entry per source in the chain, in order, consulted or not.
    pub attempts: Vec<SourceAttempt>,
    /// Set when every consulted source failed: which ones, why, and what a person can do.
    pub escalation: Option<String>,
}

/// Sources in the order they are consulted, each with its [`Role`].
#[derive(Default)]
pub struct SourceChain {
    /// The sources, in order.
    pub sources: Vec<(Resilient, Role)>,
}

impl SourceChain {
    /// An empty chain.
    pub fn new() -> SourceChain {
        SourceChain::default()
    }

    /// The chain with `source` appended in `role`.
    pub fn with(mut self, source: Resilient, role: Role) -> SourceChain {
        self.sources.push((source, role));
        self
    }

    /// Consults the sources in order and merges their records. A fallback is consulted only
    /// while fewer than `wanted` records were gathered, a last resort only when none were.
    pub async fn gather(&self, q: &VenueQuery, wanted: usize) -> Gathered {
        let mut records: Vec<VenueRecord> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut attempts = Vec::with_capacity(self.sources.len());
        let mut consulted = 0usize;
        let mut failures: Vec<String> = Vec::new();
        for (source, role) in &self.sources {
            let skip = match role {
                Role::Primary => None,
                Role::Fallback if records.len() >= wanted => Some(format!(
                    "not needed: the sources before it gave {} venues ({wanted} wanted)",
                    records.len()
                )),
                Role::Fallback => None,
                Role::LastResort if !records.is_empty() => Some(format!(
                    "not needed: the sources before it gave {} venues; a last resort is consulted only when none did",
                    records.len()
                )),
                Role::LastResort => None,
            };
            let attempt = |outcome: Outcome, found: usize, detail: String| SourceAttempt {
                source: source.name().to_owned(),
                kind: source.kind(),
                outcome: outcome.as_str().to_owned(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
                detail,
            };
            if let Some(detail) = skip {
                attempts.push(attempt(Outcome::Skipped, 0, detail));
                continue;
            }
            consulted += 1;
            match source.search(q).await {
                Searched::Answered {
                    records: found,
                    cached,
                    attempts: calls,
                } => {
                    let count = found.len();
                    let mut duplicates = 0usize;
                    for record in found {
                        let key = record.match_key();
                        if key.is_empty() || seen.insert(key) {
                            records.push(record);
                        } else {
                            duplicates += 1;
                        }
                    }
                    let mut notes = Vec::new();
                    if calls > 1 {
                        notes.push(format!("answered on attempt {calls}"));
                    }
                    if duplicates > 0 {
                        notes.push(format!(
                            "{duplicates} already found by an earlier source, kept from there"
                        ));
                    }
                    let outcome = if cached { Outcome::Cached } else { Outcome::Ok };
                    attempts.push(attempt(outcome, count, notes.join("; ")));
                }
                Searched::Failed {
                    error,
                    attempts: calls,
                } => {
                    let detail = if calls > 1 {
                        format!("{error} (after {calls} attempts)")
                    } else {
                        error.to_string()
                    };
                    failures.push(format!("{} ({}): {detail}", source.name(), source.kind()));
                    attempts.push(attempt(Outcome::Failed, 0, detail));
                }
                Searched::CircuitOpen {
                    last_error,
                    retry_in,
                } => {
                    let detail = format!(
                        "not called: its circuit breaker is open after repeated failures \
                         (last: {last_error}); next try in {} s",
                        retry_in.as_secs()
                    );
                    failures.push(format!("{} ({}): {detail}", source.name(), source.kind()));
                    attempts.push(attempt(Outcome::CircuitOpen, 0, detail));
                }
            }
        }
        let escalation = (failures.len() == consulted).then(|| escalation(q, &failures));
        Gathered {
            records,
            attempts,
            escalation,
        }
    }
}

/// The text for a person when no source could answer.
fn escalation(q: &VenueQuery, failures: &[String]) -> String {
    const WHAT_TO_DO: &str = "A person can check the network and each source's status and run \
        the venue step again later, or supply the venues directly: an organiser list \
        (`eods plan --venues FILE`, or the new-event page) or quotes entered by hand.";
    if failures.is_empty() {
        return format!("No venue source is configured for {}. {WHAT_TO_DO}", q.city);
    }
    format!(
        "No venue source could answer for {}: {}. {WHAT_TO_DO}",
        q.city,
        failures.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = Policy::fast();
        let delays: Vec<u128> = (0..5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 400, 400]);
        assert_eq!(p.backoff(200), p.max_delay);
    }

    #[test]
    fn retry_after_round_trips_through_the_message() {
        let msg = with_retry_after("HTTP 429", Duration::from_secs(30));
        assert_eq!(msg, "HTTP 429 (retry after 30 s)");
        let err = SourceError::Transient(msg);
        assert_eq!(retry_after_hint(&err), Some(Duration::from_secs(30)));
        assert_eq!(
            retry_after_hint(&SourceError::Transient("HTTP 504".into())),
            None
        );
        assert_eq!(
            retry_after_hint(&SourceError::Permanent("x (retry after 3 s)".into())),
            None
        );
    }

    /// Fails its first search, then never answers.
    struct FailsThenHangs {
        calls: Mutex<u32>,
    }

    impl VenueSource for FailsThenHangs {
        fn name(&self) -> &str {
            "flaky"
        }
        fn kind(&self) -> SourceKind {
            SourceKind::Overpass
        }
        fn search<'a>(
            &'a self,
            _q: &'a VenueQuery,
        ) -> BoxFuture<'a, Result<Vec<VenueRecord>, SourceError>> {
            let first = {
                let mut calls = lock(&self.calls);
                *calls += 1;
                *calls == 1
            };
            Box::pin(async move {
                if first {
                    return Err(SourceError::Permanent("HTTP 400".into()));
                }
                std::future::pending().await
            })
        }
    }

    #[tokio::test]
    async fn a_trial_dropped_by_its_caller_leaves_the_breaker_open_not_stuck() {
        let clock = Arc::new(ManualClock::new());
        let policy = Policy {
            breaker_threshold: 1,
            ..Policy::fast()
        };
        let cooldown = policy.breaker_cooldown;
        let source = FailsThenHangs {
            calls: Mutex::new(0),
        };
        let r = Resilient::with_clock(Box::new(source), policy, clock.clone());
        let q = VenueQuery {
            city: "Helsinki".into(),
            country: None,
            min_capacity: 1,
        };
        assert!(matches!(r.search(&q).await, Searched::Failed { .. }));
        clock.advance(cooldown);
        assert_eq!(r.breaker(), BreakerState::HalfOpen);
        // A zero timeout polls the search once (the trial starts and reaches the source), then
        // drops it, as a caller that gives up would.
        let dropped = tokio::time::timeout(Duration::ZERO, r.search(&q)).await;
        assert!(dropped.is_err());
        assert_eq!(r.attempts_made(), 2);
        assert_eq!(r.breaker(), BreakerState::Open);
        clock.advance(cooldown);
        assert_eq!(r.breaker(), BreakerState::HalfOpen, "a new trial may start");
    }

    #[test]
    fn jitter_keeps_each_delay_within_the_upper_half() {
        let policy = Policy {
            jitter: true,
            ..Policy::fast()
        };
        let source = crate::StaticSource {
            name: "empty".into(),
            kind: SourceKind::Demo,
            records: Vec::new(),
        };
        let r = Resilient::new(Box::new(source), policy);
        let err = SourceError::Transient("HTTP 503".into());
        for _ in 0..200 {
            let mut previous = Duration::ZERO;
            // 100 ms, 200 ms, 400 ms: below the cap each backoff doubles the one before.
            for retry in 0..3 {
                let backoff = r.policy().backoff(retry);
                let d = r.delay(retry, &err);
                assert!(
                    d >= backoff / 2 && d <= backoff,
                    "{d:?} outside {backoff:?}/2..={backoff:?}"
                );
                assert!(
                    d >= previous,
                    "{d:?} shorter than the delay before, {previous:?}"
                );
                previous = d;
            }
        }
    }
}
