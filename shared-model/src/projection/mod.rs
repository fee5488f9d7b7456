//! Merge rules: the chain's state is the union of every register's records, and every
//! projection is a fold over that union.
//!
//! [`RecordSet`] is a grow-only set keyed by record id that also tracks, per register, which
//! dots it holds (a [`crdts::VClock`] of the contiguous prefix, plus the dots received past a
//! gap). Inserting is idempotent. A [`Replica`] pairs a set with a projection and applies to
//! the projection only what the set did not hold, which is exactly what the server does in
//! one transaction. Each projection's `apply` is an addition, so the order of records does not
//! matter; with deduplication by id, any interleaving, grouping or duplication of deliveries
//! gives the same state. The property tests in `tests/merge_laws.rs` check those laws.

mod returnable;
mod sales;
mod stock;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use crdts::{CmRDT, VClock};

use crate::ids::{RecordId, RegisterId};
use crate::record::Record;

pub use returnable::{OverReturn, Returnable, SoldLine};
pub use sales::{DayKey, DayTotals, ProductDayKey, ProductTotals, SalesReport};
pub use stock::{Movement, MovementKind, StockKey, StockLedger, movements};

/// A view of the records that can be built one record at a time, in any order.
pub trait Projection: Default + Clone + PartialEq + Debug {
    /// Adds one record's effect. It must commute with every other record's.
    fn apply(&mut self, record: &Record);
}

/// What inserting a record into a [`RecordSet`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insert {
    /// New: it must be applied to the projections.
    New,
    /// The same record was already held.
    Duplicate,
    /// A different record already holds this id or this dot: a corrupt or forged record.
    Conflict(String),
}

/// The grow-only set of records, with what it holds of each register.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordSet {
    records: BTreeMap<RecordId, Record>,
    by_dot: BTreeMap<(RegisterId, u64), RecordId>,
    /// Contiguous holdings per register: `held.get(r) = n` means seq 1..=n are all here.
    held: VClock<RegisterId>,
    /// Seqs received past a gap, waiting for the gap to fill.
    beyond_gap: BTreeMap<RegisterId, BTreeSet<u64>>,
}

impl RecordSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts if absent. Same id with the same content is a duplicate; same id or same dot
    /// with different content is a conflict, and the set is unchanged.
    pub fn insert(&mut self, record: &Record) -> Insert {
        if let Some(held) = self.records.get(&record.id) {
            return if held == record {
                Insert::Duplicate
            } else {
                Insert::Conflict(format!("record {} is already held with different content", record.id))
            };
        }
        let dot_key = (record.origin.clone(), record.seq);
        if let Some(other) = self.by_dot.get(&dot_key) {
            return Insert::Conflict(format!(
                "{} seq {} is already held as record {other}",
                record.origin, record.seq
            ));
        }
        self.by_dot.insert(dot_key, record.id);
        self.records.insert(record.id, record.clone());
        self.hold(record);
        Insert::New
    }

    fn hold(&mut self, record: &Record) {
        let dot = record.dot();
        if self.held.validate_op(&dot).is_err() {
            // A gap below this seq: keep it aside until the gap fills.
            self.beyond_gap.entry(record.origin.clone()).or_default().insert(record.seq);
            return;
        }
        self.held.apply(dot);
        if let Some(waiting) = self.beyond_gap.get_mut(&record.origin) {
            let mut next = self.held.get(&record.origin) + 1;
            while waiting.remove(&next) {
                self.held.apply(crdts::Dot::new(record.origin.clone(), next));
                next += 1;
            }
            if waiting.is_empty() {
                self.beyond_gap.remove(&record.origin);
            }
        }
    }

    /// The highest seq of `register` held with none missing below it.
    pub fn holds(&self, register: &RegisterId) -> u64 {
        self.held.get(register)
    }

    /// What the set holds of every register, as a version vector.
    pub fn held(&self) -> &VClock<RegisterId> {
        &self.held
    }

    /// Seqs of `register` that are missing below the highest one received.
    pub fn gaps(&self, register: &RegisterId) -> Vec<u64> {
        let Some(waiting) = self.beyond_gap.get(register) else {
            return Vec::new();
        };
        let top = waiting.last().copied().unwrap_or_default();
        (self.holds(register) + 1..top).filter(|s| !waiting.contains(s)).collect()
    }

    pub fn contains(&self, id: &RecordId) -> bool {
        self.records.contains_key(id)
    }

    pub fn get(&self, id: &RecordId) -> Option<&Record> {
        self.records.get(id)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }

    /// Union: every record of `other` this set lacks. Conflicting records are left out.
    pub fn merge(&mut self, other: &RecordSet) {
        for record in other.iter() {
            self.insert(record);
        }
    }
}

/// A record set and a projection kept in step: the projection is always the fold of the set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica<P: Projection> {
    set: RecordSet,
    view: P,
}

impl<P: Projection> Replica<P> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts the record and, only if it was new, applies it.
    pub fn ingest(&mut self, record: &Record) -> Insert {
        let outcome = self.set.insert(record);
        if outcome == Insert::New {
            self.view.apply(record);
        }
        outcome
    }

    /// Merges another replica: the result is the replica of the union of both sets.
    pub fn merge(&mut self, other: &Replica<P>) {
        for record in other.set.iter() {
            self.ingest(record);
        }
    }

    pub fn set(&self) -> &RecordSet {
        &self.set
    }

    pub fn view(&self) -> &P {
        &self.view
    }
}

/// Folds `records` into a projection, counting each id once.
pub fn fold<'a, P: Projection>(records: impl IntoIterator<Item = &'a Record>) -> P {
    let mut seen = BTreeSet::new();
    let mut view = P::default();
    for record in records {
        if seen.insert(record.id) {
            view.apply(record);
        }
    }
    view
}

/// Every projection the chain keeps, built together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainView {
    pub stock: StockLedger,
    pub sales: SalesReport,
    pub returnable: Returnable,
}

impl Projection for ChainView {
    fn apply(&mut self, record: &Record) {
        self.stock.apply(record);
        self.sales.apply(record);
        self.returnable.apply(record);
    }
}
