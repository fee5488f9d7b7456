//! Rate limits shared by every instance: a request is counted in its bucket's windows (a
//! minute and an hour) by one upsert on the database they all use.
//!
//! A window opens at its bucket's first request and closes `span` seconds later; it lets
//! `limit` requests through and refuses the rest until it closes. Anchoring the window at the
//! first request rather than the clock's minute makes "at most 100 in any window" exact for a
//! burst (no doubled allowance across a minute boundary for a client that starts a burst just
//! before it). The minute is counted first; only a request the minute lets through is counted
//! in the hour, so a client that retries at once after a 429 burns none of its hour.
//!
//! Counting is done by whichever instance answers: the row's update is atomic on both engines,
//! so a hundred requests spread over three instances are counted as a hundred.

use serde::Serialize;

use super::Result;
use crate::db::{Db, now_ms};

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

/// Who an address stands for: an IPv4 address (written as one, even when it came as an
/// IPv4-mapped IPv6 address), or an IPv6 address's /64, which one subscriber usually holds
/// whole: counting each of its addresses apart would let one client rotate past the limit.
pub fn network_of(address: std::net::IpAddr) -> String {
    match address.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The /48 an IPv6 address belongs to (none for IPv4): what one site is usually given, so a
/// client that rotates through its 65,536 /64s is still counted as one.
pub fn site_of(address: std::net::IpAddr) -> Option<String> {
    match address.to_canonical() {
        std::net::IpAddr::V4(_) => None,
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
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
    /// Seconds until that window closes.
    pub reset_s: u64,
    /// Whether this request was let through.
    pub allowed: bool,
}

const MINUTE_S: i64 = 60;
const HOUR_S: i64 = 3_600;

/// One window's state after counting a request.
#[derive(Debug, Clone, Copy)]
struct Window {
    limit: u32,
    hits: i64,
    started_ms: i64,
    span_s: i64,
}

impl Window {
    fn allowed(&self) -> bool {
        self.hits <= i64::from(self.limit)
    }

    fn remaining(&self) -> u32 {
        u32::try_from((i64::from(self.limit) - self.hits).max(0)).unwrap_or(0)
    }

    fn reset_s(&self, now: i64) -> u64 {
        let closes = self.started_ms + self.span_s * 1_000;
        u64::try_from((closes - now + 999) / 1_000).unwrap_or(0).max(1)
    }
}

/// Counts one request in `span_s`'s window of `bucket`, never past `limit + 1` (a refused
/// request leaves the count where it is), opening a new window if the last one has closed.
/// In a write transaction of its own (on SQLite it takes its turn with the other writers) that
/// does not wait for the disk: a crash may forget the last counts, which only forgives a few
/// requests, while waiting on a flush for every counted request cost the shop a quarter of its
/// checkouts (BENCHMARKS.md).
async fn count(db: &Db, bucket: &str, span_s: i64, limit: u32, now: i64) -> sqlx::Result<Window> {
    let mut tx = db.begin_unflushed().await?;
    let (started_ms, hits): (i64, i64) = sqlx::query_as(
        "INSERT INTO rate_windows (bucket, span_s, started_ms, hits) VALUES ($1, $2, $3, 1)
         ON CONFLICT (bucket, span_s) DO UPDATE SET
           started_ms = CASE WHEN rate_windows.started_ms + rate_windows.span_s * 1000 <= $3
                             THEN $3 ELSE rate_windows.started_ms END,
           hits = CASE WHEN rate_windows.started_ms + rate_windows.span_s * 1000 <= $3 THEN 1
                       WHEN rate_windows.hits > $4 THEN rate_windows.hits
                       ELSE rate_windows.hits + 1 END
         RETURNING started_ms, hits",
    )
    .bind(bucket)
    .bind(span_s)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Window { limit, hits, started_ms, span_s })
}

/// Counts a request of `bucket` under `policy` and says whether it may go on. A bucket
/// counted under two keys (an IPv6 /64 and its /48) answers for the tighter; the wider key
/// counts only what the narrower let through, so one noisy /64 does not use up its site's
/// allowance with requests that were refused anyway.
pub async fn hit(db: &Db, bucket: &Bucket, policy: Policy) -> Result<Quota> {
    let now = now_ms();
    let (key, wider) = bucket.keys(policy);
    let mut binding = hit_key(db, &key, policy, now).await?;
    if let Some((key, policy)) = wider.filter(|_| binding.allowed) {
        let quota = hit_key(db, &key, policy, now).await?;
        if !quota.allowed || quota.remaining < binding.remaining {
            binding = quota;
        }
    }
    Ok(binding)
}

/// Counts a request under one key: its minute, and its hour if the minute let it through.
async fn hit_key(db: &Db, key: &str, policy: Policy, now: i64) -> Result<Quota> {
    let minute = count(db, key, MINUTE_S, policy.per_minute, now).await?;
    let mut binding = minute;
    if minute.allowed() && policy.per_hour > 0 {
        let hour = count(db, key, HOUR_S, policy.per_hour, now).await?;
        if !hour.allowed() || hour.remaining() < minute.remaining() {
            binding = hour;
        }
    }
    Ok(Quota {
        policy,
        limit: binding.limit,
        remaining: binding.remaining(),
        reset_s: binding.reset_s(now),
        allowed: binding.allowed(),
    })
}

/// Deletes the windows that closed more than an hour ago; any instance may run it.
pub async fn sweep(db: &Db) -> Result<u64> {
    let done = db
        .write(
            sqlx::query("DELETE FROM rate_windows WHERE started_ms < $1").bind(now_ms() - 2 * HOUR_S * 1_000),
        )
        .await?;
    Ok(done.rows_affected())
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
    fn the_policy_header_names_both_windows() {
        assert_eq!(Policy::new(100, 1_000).header(), "100;w=60, 1000;w=3600");
        assert_eq!(Policy::new(5, 0).header(), "5;w=60");
    }
}
