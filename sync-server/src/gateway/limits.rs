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

impl Bucket {
    fn key(&self) -> String {
        match self {
            Bucket::ApiKey(id) => format!("key:{id}"),
            Bucket::Shopper(id) => format!("shopper:{id}"),
            Bucket::SignInFrom(address) => format!("sign-in:{}", network_of(*address)),
        }
    }
}

/// Who an address stands for: an IPv4 address (written as one, even when it came as an
/// IPv4-mapped IPv6 address), or an IPv6 address's /64, which one subscriber usually holds
/// whole: counting each of its addresses apart would let one client rotate past the limit.
fn network_of(address: std::net::IpAddr) -> String {
    match address.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
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

/// Counts a request of `bucket` under `policy` and says whether it may go on.
pub async fn hit(db: &Db, bucket: &Bucket, policy: Policy) -> Result<Quota> {
    let key = bucket.key();
    let now = now_ms();
    let minute = count(db, &key, MINUTE_S, policy.per_minute, now).await?;
    let mut binding = minute;
    if minute.allowed() && policy.per_hour > 0 {
        let hour = count(db, &key, HOUR_S, policy.per_hour, now).await?;
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

    #[test]
    fn an_address_is_counted_by_who_holds_it() {
        let bucket = |text: &str| Bucket::SignInFrom(text.parse().unwrap()).key();
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
