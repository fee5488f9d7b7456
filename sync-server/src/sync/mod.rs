//! Register sync: push (records in, exactly once) and pull (changes out, after a cursor).
//!
//! # Push
//!
//! A batch is all or nothing. The server first reads every record on its own: a record for
//! another register or another store means the caller is not who it claims, and the whole
//! request is refused (403) with nothing stored. A record that cannot be read or fails its
//! checks is refused with a per-record verdict: the request answers 422 naming each refused
//! record and its field, the refused records are parked in the dead-letter table for head
//! office, and nothing of the batch enters the ledger. The register marks those records
//! rejected and pushes the others again at once, so a bad record never blocks the ones behind it.
//!
//! A batch that reads well is ingested in one transaction: insert-if-absent by id and by
//! (origin, seq); only what was new is applied to the projections; then what the server holds
//! of the register is advanced and the changed stock levels are published. A retried or
//! duplicated push therefore changes nothing, and a push cut before the commit left nothing.
//!
//! | module | what it does |
//! |---|---|
//! | `push` | a push read and checked, records at fault refused and found |
//! | `ingest` | a checked batch into the ledger and the other contexts, exactly once |
//! | `filing` | the report day of a record whose register's clock is flagged |
//! | `flags` | alerts for unknown names, impossible days and clocks that are off |
//! | `dead_letters` | refused records parked for head office |
//! | `pull` | changes out, after a cursor |
//! | `lookup` | sales found across stores, by id or receipt number |

mod dead_letters;
mod filing;
mod flags;
mod ingest;
mod lookup;
mod pull;
mod push;

/// Kept here too: the push refuses a record whose total would overflow, and tests name it here.
pub use crate::db::TotalOverflow;
pub use dead_letters::{DEAD_LETTER_PAYLOAD, DEAD_LETTERS_WITH_PAYLOAD, DeadLetter, dead_letters};
pub use ingest::{Ingested, ingest};
pub use lookup::{receipt_numbers, sale_for_return, sale_of_number};
pub use pull::pull;
pub use push::push;

use shared_model::protocol::{PushRefused, PushResponse, Refusal};

/// Why a push, a pull or a look-up was refused, or could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The message cannot be read; `field` names where.
    #[error("{detail}")]
    Malformed { field: String, detail: String },
    /// More than a push may carry.
    #[error("{0}")]
    TooLarge(String),
    /// A record for another register or another store: the caller is not who it claims.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// How a push ended.
#[derive(Debug)]
pub enum Pushed {
    /// Stored (or held already): the verdicts and what the server holds.
    Held(PushResponse),
    /// Refused whole, nothing stored: why, the first refused record's field, and the refusals.
    Refused { detail: String, field: String, answer: PushRefused },
}

/// A record refused at push time: what the register is told, and what was pushed, which is
/// parked for head office but never sent back.
#[derive(Debug, Clone)]
pub struct Refused {
    pub refusal: Refusal,
    payload: String,
}

/// The protocol's number for the record at `index` of a batch. A batch holds at most
/// [`MAX_BATCH`](shared_model::protocol::MAX_BATCH) records, checked before any is read, so it
/// fits; past `u32` it would be an error, never a clamp.
fn batch_index(index: usize) -> anyhow::Result<u32> {
    u32::try_from(index).map_err(|_| anyhow::anyhow!("record index {index} is past what a batch can number"))
}
