//! Stock per (location, product): a ledger of movements and the level each adds up to.
//! Levels change only by adding a movement's delta in the same transaction that records the
//! movement, so a level is always its opening stock plus the sum of its movements
//! (DESIGN.md §4, invariant 2). Every changed level is published for registers to pull.
//!
//! | module | what it does |
//! |---|---|
//! | `movements` | movements recorded, levels moved, changes published, threshold alerts |
//! | `levels` | levels read for head office, the shop and reports |
//! | `reservations` | units held for the online shop's carts and orders |

mod levels;
mod movements;
mod reservations;

pub use levels::{
    LevelView, StockQuery, levels, levels_in, levels_of, levels_page, movement_sums, stock_outs,
    totals_by_location,
};
pub use movements::{Move, apply};
#[cfg(any(test, feature = "testing"))]
pub use reservations::reserved_total;
pub use reservations::{Short, available, claim_for_shipping, release, reserve, take_reserved};

/// Why a stock question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filter that cannot be read; `field` names it.
    #[error("{detail}")]
    Malformed { field: &'static str, detail: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
