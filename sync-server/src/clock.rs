//! The time every lease, lockout and expiry is decided by: sign-in throttles, sessions,
//! enrolment codes, checkout and cancellation leases, the outbox's retries.
//!
//! Production reads the system clock. Tests (the `testing` feature) use a clock they move
//! forward, so a lease runs out or a lockout ends the moment the test says, and no test
//! sleeps a lease out. That clock still runs with the system's, ahead of it by however far
//! the test moved it: rows stamped by the system clock (a record's arrival, a message queued
//! inside another context's transaction) are never in its future. The clock travels with the [`Db`](crate::db::Db) handle, which every
//! context, background task and command-line tool already holds: none of them can read
//! another time by forgetting to pass it.

#[cfg(any(test, feature = "testing"))]
use std::sync::Arc;
#[cfg(any(test, feature = "testing"))]
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, never negative.
#[derive(Debug, Clone, Default)]
pub struct Clock(Source);

#[derive(Debug, Clone, Default)]
enum Source {
    #[default]
    System,
    /// The system clock plus this many milliseconds, shared by every clone: moving one moves
    /// them all.
    #[cfg(any(test, feature = "testing"))]
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Source::System => chrono::Utc::now().timestamp_millis().max(0),
            #[cfg(any(test, feature = "testing"))]
            Source::Manual(ahead) => Clock::system().now_ms().saturating_add(ahead.load(Ordering::SeqCst)),
        }
    }

    /// A clock a test moves with [`Clock::advance`]; until then, the system's.
    #[cfg(any(test, feature = "testing"))]
    pub fn manual() -> Clock {
        Clock(Source::Manual(Arc::new(AtomicI64::new(0))))
    }

    /// Moves a manual clock forward.
    ///
    /// # Panics
    /// On the system clock, which no test may move.
    #[cfg(any(test, feature = "testing"))]
    pub fn advance(&self, by: std::time::Duration) {
        match &self.0 {
            Source::Manual(ahead) => {
                let by = i64::try_from(by.as_millis()).expect("an advance shorter than 292 million years");
                ahead.fetch_add(by, Ordering::SeqCst);
            }
            Source::System => panic!("the system clock cannot be moved"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_clock_is_ahead_of_the_system_and_its_clones_follow() {
        let clock = Clock::manual();
        let clone = clock.clone();
        clock.advance(std::time::Duration::from_secs(3_600));
        let system = Clock::system().now_ms();
        let moved = clone.now_ms();
        // An hour ahead, give or take the instants between the two reads.
        assert!((system + 3_599_000..=system + 3_601_000).contains(&moved), "{moved} against {system}");
    }
}
