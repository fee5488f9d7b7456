//! Stock per (location, product) as the sum of its movements.
//!
//! Every stock fact is a signed movement: a sale takes units out, a restocked return and a
//! received transfer put them in, counts and adjustments add their difference. Stock is the
//! opening figure plus the sum of movements (DESIGN.md §4, invariant 2); a sum commutes, so
//! the projection merges in any order. Negative stock is possible after offline sales of the
//! last unit at two tills: it is reported, never refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Projection;
use crate::ids::{LocationCode, Sku};
use crate::record::{Record, RecordBody};

pub type StockKey = (LocationCode, Sku);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Sale,
    Return,
    Count,
    Adjustment,
    TransferIn,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Sale => "sale",
            MovementKind::Return => "return",
            MovementKind::Count => "count",
            MovementKind::Adjustment => "adjustment",
            MovementKind::TransferIn => "transfer_in",
        }
    }
}

/// One change of stock caused by one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub location: LocationCode,
    pub sku: Sku,
    pub delta: i64,
    pub kind: MovementKind,
}

/// The stock movements a record causes, all at the record's own store.
pub fn movements(record: &Record) -> Vec<Movement> {
    let at = |sku: &Sku, delta: i64, kind| Movement {
        location: record.store.clone(),
        sku: sku.clone(),
        delta,
        kind,
    };
    match &record.body {
        RecordBody::Sale(sale) => {
            sale.lines.iter().map(|l| at(&l.sku, -i64::from(l.quantity.get()), MovementKind::Sale)).collect()
        }
        RecordBody::Return(ret) => ret
            .lines
            .iter()
            .filter(|l| l.restock)
            .map(|l| at(&l.sku, i64::from(l.quantity.get()), MovementKind::Return))
            .collect(),
        RecordBody::StockCount(count) => vec![at(&count.sku, count.delta(), MovementKind::Count)],
        RecordBody::StockAdjustment(adj) => vec![at(&adj.sku, adj.delta, MovementKind::Adjustment)],
        RecordBody::TransferReceived(receipt) => receipt
            .lines
            .iter()
            .map(|l| at(&l.sku, i64::from(l.quantity.get()), MovementKind::TransferIn))
            .collect(),
        RecordBody::ReplenishmentRequested(_) | RecordBody::TillClosed(_) => Vec::new(),
    }
}

/// The net movement of every (location, product) that has moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockLedger {
    moved: BTreeMap<StockKey, i64>,
}

impl Projection for StockLedger {
    fn apply(&mut self, record: &Record) {
        for m in movements(record) {
            *self.moved.entry((m.location, m.sku)).or_default() += m.delta;
        }
    }
}

impl StockLedger {
    /// Net movement of one product at one location.
    pub fn moved(&self, location: &LocationCode, sku: &Sku) -> i64 {
        self.moved.get(&(location.clone(), sku.clone())).copied().unwrap_or_default()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&StockKey, i64)> {
        self.moved.iter().map(|(k, v)| (k, *v))
    }

    /// Stock everywhere: `opening` plus movements.
    pub fn levels(&self, opening: &BTreeMap<StockKey, i64>) -> BTreeMap<StockKey, i64> {
        let mut levels = opening.clone();
        for (key, delta) in &self.moved {
            *levels.entry(key.clone()).or_default() += delta;
        }
        levels
    }

    /// The (location, product) pairs whose stock is below zero: flagged for head office.
    pub fn negatives(&self, opening: &BTreeMap<StockKey, i64>) -> Vec<(StockKey, i64)> {
        self.levels(opening).into_iter().filter(|(_, level)| *level < 0).collect()
    }
}
