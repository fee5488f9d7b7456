//! Rate limits counted in memory by the instance that answers: no database write per request.
//!
//! Each bucket is counted by GCRA (the `governor` crate): a bucket allowed 100 a minute may
//! spend them at once, and gets them back at an even pace (one every 0.6 s), so no window
//! boundary doubles a burst; the hour likewise. The minute is counted first; only a request the
//! minute lets through is counted in the hour, so a client that retries at once after a 429
//! burns none of its hour, and a refused request costs nothing.
//!
//! Counting used to be one upsert of a `rate_windows` row per request, in the database every
//! instance shares: every shopper request wrote and queued on its row, about a fifth of the
//! checkout benchmark's throughput (BENCHMARKS.md, DESIGN §7). Now each instance counts alone.
//! Behind HAProxy the limit that holds across instances is the balancer's (stick tables shared
//! by `peers`, `deploy/haproxy.cfg`); an instance's own count still applies, to what reaches it.
//!
//! Memory: a bucket's state is one instant, kept while it differs from a fresh bucket's;
//! [`Limiter::retain_recent`], run every minute ([`spawn_retention`]), forgets the others.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use governor::Quota as Gcra;
use governor::RateLimiter;
use governor::clock::MonotonicClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;

use serde::Serialize;

pub use crate::network::{network_of, site_of};

/// How many requests a bucket may make: per minute and per hour (0 = no hourly limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Policy {
    pub per_minute: u32,
    pub per_hour: u32,
}

impl Policy {
    pub const fn new(per_minute: u32, per_hour: u32) -> Policy {
        Policy { per_minute, per_hour }
    }

    /// The policy as the `RateLimit-Policy` header says it: `100;w=60, 1000;w=3600`.
    pub fn header(&self) -> String {
        match self.per_hour {
            0 => format!("{};w=60", self.per_minute),
            hour => format!("{};w=60, {hour};w=3600", self.per_minute),
        }
    }
}

/// Who is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bucket {
    ApiKey(String),
    Shopper(i64),
    /// Sign-ins (head office's and the shop's) from one client address.
    SignInFrom(std::net::IpAddr),
}

/// How many times one /64's allowance a whole IPv6 /48 gets: a site (an office, a campus)
/// holds a /48 and puts many people behind its /64s, but a client that rotates through them
/// gets no more than this.
pub const SITE_SHARE: u32 = 4;

impl Bucket {
    /// The key a request of this bucket is counted under, and for an IPv6 sign-in, the key
    /// of its /48 beside its /64's, with the site's wider policy.
    fn keys(&self, policy: Policy) -> (String, Option<(String, Policy)>) {
        match self {
            Bucket::ApiKey(id) => (format!("key:{id}"), None),
            Bucket::Shopper(id) => (format!("shopper:{id}"), None),
            Bucket::SignInFrom(address) => {
                let wider = Policy::new(
                    policy.per_minute.saturating_mul(SITE_SHARE),
                    policy.per_hour.saturating_mul(SITE_SHARE),
                );
                let site = site_of(*address).map(|site| (format!("sign-in:{site}"), wider));
                (format!("sign-in:{}", network_of(*address)), site)
            }
        }
    }
}

/// What a bucket has left after a request: enough for the `RateLimit` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub policy: Policy,
    /// The limit of the window that binds (the one with the fewest left).
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until that window has its whole allowance back; when refused, until the next
    /// request may go through.
    pub reset_s: u64,
    /// Whether this request was let through.
    pub allowed: bool,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3_600);

/// One window of a policy: `limit` requests over `span`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Window {
    limit: u32,
    span: Duration,
}

/// One window's answer for one request.
#[derive(Debug, Clone, Copy)]
struct Count {
    limit: u32,
    remaining: u32,
    reset_s: u64,
    allowed: bool,
}

/// The buckets counted under one window, each by its key.
type Counter = RateLimiter<String, DashMapStateStore<String>, MonotonicClock, StateInformationMiddleware>;

/// Whole seconds, rounded up, and at least one (a `Retry-After: 0` invites a retry at once).
fn seconds(duration: Duration) -> u64 {
    duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0)).max(1)
}

/// The instance's rate limits: one counter per window in use (the shop's, the sign-ins', each
/// API key's), shared by every request the instance answers.
#[derive(Debug, Default)]
pub struct Limiter {
    counters: RwLock<HashMap<Window, Arc<Counter>>>,
}

impl Limiter {
    /// Counts a request of `bucket` under `policy` and says whether it may go on. A bucket
    /// counted under two keys (an IPv6 /64 and its /48) answers for the tighter; the wider key
    /// counts only what the narrower let through, so one noisy /64 does not use up its site's
    /// allowance with requests that were refused anyway.
    pub fn hit(&self, bucket: &Bucket, policy: Policy) -> Quota {
        let (key, wider) = bucket.keys(policy);
        let mut binding = self.hit_key(&key, policy);
        if let Some((key, policy)) = wider.filter(|_| binding.allowed) {
            let quota = self.hit_key(&key, policy);
            if !quota.allowed || quota.remaining < binding.remaining {
                binding = quota;
            }
        }
        binding
    }

    /// Counts a request under one key: its minute, and its hour if the minute let it through.
    fn hit_key(&self, key: &str, policy: Policy) -> Quota {
        let minute = self.count(Window { limit: policy.per_minute, span: MINUTE }, key);
        let mut binding = minute;
        if minute.allowed && policy.per_hour > 0 {
            let hour = self.count(Window { limit: policy.per_hour, span: HOUR }, key);
            if !hour.allowed || hour.remaining < minute.remaining {
                binding = hour;
            }
        }
        Quota {
            policy,
            limit: binding.limit,
            remaining: binding.remaining,
            reset_s: binding.reset_s,
            allowed: binding.allowed,
        }
    }

    /// Counts one request of `key` in `window`; a refused request leaves the count as it was.
    fn count(&self, window: Window, key: &str) -> Count {
        let Some(counter) = self.counter(window) else {
            // A window of no request at all refuses everything.
            return Count { limit: 0, remaining: 0, reset_s: seconds(window.span), allowed: false };
        };
        match counter.check_key(&key.to_owned()) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity().min(window.limit);
                // Back to the whole allowance once what was spent has come back.
                let refill = state.quota().replenish_interval().saturating_mul(window.limit - remaining);
                Count { limit: window.limit, remaining, reset_s: seconds(refill), allowed: true }
            }
            Err(not_until) => Count {
                limit: window.limit,
                remaining: 0,
                reset_s: seconds(not_until.wait_time_from(Instant::now())),
                allowed: false,
            },
        }
    }

    /// The counter of `window`, made at its first request; none for a limit of 0.
    fn counter(&self, window: Window) -> Option<Arc<Counter>> {
        let found = self.counters.read().unwrap_or_else(PoisonError::into_inner).get(&window).cloned();
        if found.is_some() {
            return found;
        }
        let burst = NonZeroU32::new(window.limit)?;
        let gcra = Gcra::with_period(window.span / window.limit)?.allow_burst(burst);
        let mut counters = self.counters.write().unwrap_or_else(PoisonError::into_inner);
        let counter = counters.entry(window).or_insert_with(|| {
            Arc::new(RateLimiter::dashmap_with_clock(gcra, MonotonicClock).with_middleware())
        });
        Some(counter.clone())
    }

    /// Forgets the buckets that are back to a fresh state (nothing would change were they
    /// counted from scratch), and the counters left with none: what bounds the memory the
    /// limits hold. Answers how many buckets are still held.
    pub fn retain_recent(&self) -> usize {
        let counters: Vec<Arc<Counter>> =
            self.counters.read().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        for counter in &counters {
            counter.retain_recent();
            counter.shrink_to_fit();
        }
        drop(counters);
        let mut counters = self.counters.write().unwrap_or_else(PoisonError::into_inner);
        // A counter a request holds right now stays, even if empty: its count is not lost.
        counters.retain(|_, counter| !counter.is_empty() || Arc::strong_count(counter) > 1);
        counters.values().map(|counter| counter.len()).sum()
    }
}

/// Runs [`Limiter::retain_recent`] every `period`: a minute's buckets are fresh again within a
/// minute of their last request, so the memory held follows the clients of the last minutes
/// (an hour's, for buckets with an hourly limit).
pub fn spawn_retention(limiter: Arc<Limiter>, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(period);
        loop {
            every.tick().await;
            let held = limiter.retain_recent();
            metrics::gauge!("caisse_rate_limit_buckets").set(held as f64);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a sign-in from `text` is counted under.
    fn keys(text: &str) -> Vec<String> {
        let (narrow, wide) = Bucket::SignInFrom(text.parse().unwrap()).keys(Policy::new(30, 300));
        std::iter::once(narrow).chain(wide.map(|(key, _)| key)).collect()
    }

    #[test]
    fn an_ipv6_site_rotating_its_64s_is_counted_as_one() {
        // Two /64s of one /48: apart in the /64 count, together in the /48's.
        let (a, b) = (keys("2001:db8:1:2::1"), keys("2001:db8:1:3::1"));
        assert_eq!(a, ["sign-in:2001:db8:1:2::/64", "sign-in:2001:db8:1::/48"]);
        assert_ne!(a[0], b[0]);
        assert_eq!(a[1], b[1]);
        // Another /48: counted apart.
        assert_ne!(keys("2001:db8:2:2::1")[1], a[1]);
        // IPv4 (and IPv4-mapped) addresses have no site: one key.
        assert_eq!(keys("203.0.113.7"), ["sign-in:203.0.113.7"]);
        assert_eq!(keys("::ffff:203.0.113.7"), ["sign-in:203.0.113.7"]);
        // The site's allowance is a few /64s' worth.
        let (_, site) = Bucket::SignInFrom("2001:db8:1:2::1".parse().unwrap()).keys(Policy::new(30, 300));
        assert_eq!(site.unwrap().1, Policy::new(30 * SITE_SHARE, 300 * SITE_SHARE));
    }

    #[test]
    fn an_address_is_counted_by_who_holds_it() {
        let bucket = |text: &str| keys(text).remove(0);
        assert_eq!(bucket("203.0.113.7"), "sign-in:203.0.113.7");
        // The same client over IPv4 or as an IPv4-mapped IPv6 address: one bucket.
        assert_eq!(bucket("::ffff:203.0.113.7"), bucket("203.0.113.7"));
        // Two addresses of one /64: one bucket; another /64: another.
        assert_eq!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:2:ffff::9"));
        assert_ne!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:3::1"));
    }

    #[test]
    fn a_bucket_gets_its_allowance_then_a_retry_after() {
        let limiter = Limiter::default();
        let key = Bucket::ApiKey("k1".into());
        let policy = Policy::new(3, 100);
        let remaining: Vec<u32> = (0..3).map(|_| limiter.hit(&key, policy)).map(|q| q.remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.hit(&key, policy);
        assert!(!refused.allowed);
        assert_eq!((refused.limit, refused.remaining), (3, 0));
        // One of the three comes back every 20 s.
        assert!((19..=20).contains(&refused.reset_s), "{refused:?}");
        // Another bucket is counted apart; the refusals cost nothing.
        assert!(limiter.hit(&Bucket::ApiKey("k2".into()), policy).allowed);
        // Two buckets, each in its minute and its hour.
        assert_eq!(limiter.retain_recent(), 4);
    }

    #[test]
    fn the_hour_binds_when_it_has_fewer_left() {
        let limiter = Limiter::default();
        let shopper = Bucket::Shopper(7);
        let first = limiter.hit(&shopper, Policy::new(10, 2));
        assert_eq!((first.limit, first.remaining), (2, 1));
        // The hour's one left comes back in half an hour.
        assert!((1_799..=1_800).contains(&first.reset_s), "{first:?}");
        assert!(limiter.hit(&shopper, Policy::new(10, 2)).allowed);
        let refused = limiter.hit(&shopper, Policy::new(10, 2));
        assert_eq!((refused.allowed, refused.limit), (false, 2));
        // No hourly limit: the minute only.
        let minute = limiter.hit(&Bucket::Shopper(8), Policy::new(5, 0));
        assert_eq!((minute.limit, minute.remaining, minute.reset_s), (5, 4, 12));
        // A limit of 0 a minute lets nothing through.
        assert!(!limiter.hit(&Bucket::Shopper(9), Policy::new(0, 0)).allowed);
    }

    #[test]
    fn fresh_buckets_are_forgotten() {
        let limiter = Limiter::default();
        // A bucket allowed a million a minute is fresh again within a tenth of a millisecond.
        for n in 0..100 {
            limiter.hit(&Bucket::Shopper(n), Policy::new(1_000_000, 0));
        }
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(limiter.retain_recent(), 0);
        assert!(limiter.counters.read().unwrap().is_empty(), "an empty counter is dropped");
    }

    #[test]
    fn the_policy_header_names_both_windows() {
        assert_eq!(Policy::new(100, 1_000).header(), "100;w=60, 1000;w=3600");
        assert_eq!(Policy::new(5, 0).header(), "5;w=60");
    }
}
