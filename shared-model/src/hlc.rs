//! Hybrid logical clock stamps: wall-clock milliseconds plus a counter, so a register's
//! records are ordered even when its clock stands still or steps back, and stay close to
//! real time. The register reads its clock and passes the reading in; nothing here reads one.

use serde::{Deserialize, Serialize};

/// A hybrid logical clock stamp. Orders by wall time, then counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: u64,
    pub counter: u32,
}

impl Hlc {
    pub const fn new(wall_ms: u64, counter: u32) -> Self {
        Self { wall_ms, counter }
    }

    /// The stamp for a local event, given the last stamp issued and the clock's reading.
    pub fn tick(self, physical_ms: u64) -> Hlc {
        if physical_ms > self.wall_ms {
            Hlc::new(physical_ms, 0)
        } else {
            Hlc::new(self.wall_ms, self.counter.saturating_add(1))
        }
    }

    /// The stamp after learning of `remote` (from the server's answer), so that later local
    /// stamps sort after everything this register has seen.
    pub fn observe(self, remote: Hlc, physical_ms: u64) -> Hlc {
        let wall = self.wall_ms.max(remote.wall_ms).max(physical_ms);
        let counter = match (wall == self.wall_ms, wall == remote.wall_ms) {
            (true, true) => self.counter.max(remote.counter).saturating_add(1),
            (true, false) => self.counter.saturating_add(1),
            (false, true) => remote.counter.saturating_add(1),
            (false, false) => 0,
        };
        Hlc::new(wall, counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_grow_even_when_the_clock_steps_back() {
        let a = Hlc::default().tick(1_000);
        let b = a.tick(900);
        let c = b.tick(900);
        assert!(a < b && b < c);
        assert_eq!(c, Hlc::new(1_000, 2));
        assert_eq!(c.tick(2_000), Hlc::new(2_000, 0));
    }

    #[test]
    fn observing_moves_past_the_remote_stamp() {
        let local = Hlc::new(1_000, 3);
        let remote = Hlc::new(5_000, 7);
        let next = local.observe(remote, 2_000);
        assert!(next > remote && next > local);
        assert_eq!(local.observe(Hlc::new(10, 0), 3_000), Hlc::new(3_000, 0));
    }
}
