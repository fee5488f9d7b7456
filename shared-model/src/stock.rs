//! Stock facts a register records: counts, adjustments, transfers received and
//! replenishment requests to the logistics centre.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::ids::{LocationCode, Sku};
use crate::money::Quantity;

/// Largest stock figure or adjustment one record may carry.
pub const MAX_STOCK: i64 = 1_000_000;
/// Most lines on a transfer or a replenishment request.
pub const MAX_ITEM_LINES: usize = 500;

/// A product and a positive number of units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemQuantity {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// A shelf count. It records the difference between what was counted and what the register
/// expected at that moment, so that applying it is an addition like every other movement:
/// counts then merge in any order with the sales other registers made meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockCount {
    pub sku: Sku,
    pub counted: i64,
    pub expected: i64,
}

impl StockCount {
    pub fn delta(&self) -> i64 {
        self.counted - self.expected
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    Damaged,
    Theft,
    Expired,
    Found,
    Correction,
    InternalUse,
}

/// A change of stock with a reason, other than a sale, return, count or transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    pub sku: Sku,
    pub delta: i64,
    pub reason: AdjustmentReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Goods received at the store from a transfer the logistics centre shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReceipt {
    pub transfer: Uuid,
    pub from: LocationCode,
    pub lines: Vec<ItemQuantity>,
}

/// A store asks the logistics centre for goods (UC2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentRequest {
    pub lines: Vec<ItemQuantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StockError {
    #[error("{field} of {value} is outside ±{MAX_STOCK}")]
    OutOfRange { field: &'static str, value: i64 },
    #[error("an adjustment of zero changes nothing")]
    ZeroAdjustment,
    #[error("a counted quantity cannot be negative")]
    NegativeCount,
    #[error("the list needs 1 to {MAX_ITEM_LINES} lines, it has {0}")]
    LineCount(usize),
    #[error("{0} appears twice in the list")]
    SkuTwice(String),
    #[error("{0}")]
    BadNote(crate::error::Invalid),
}

fn within(field: &'static str, value: i64) -> Result<(), StockError> {
    // Not `value.abs()`: the absolute value of i64::MIN overflows.
    if !(-MAX_STOCK..=MAX_STOCK).contains(&value) {
        return Err(StockError::OutOfRange { field, value });
    }
    Ok(())
}

/// Longest note a stock record or a return carries.
pub const MAX_NOTE: usize = 500;

fn check_note(note: Option<&String>) -> Result<(), StockError> {
    match note {
        Some(note) => crate::text::check("note", note, MAX_NOTE).map_err(StockError::BadNote),
        None => Ok(()),
    }
}

pub(crate) fn check_items(lines: &[ItemQuantity]) -> Result<(), StockError> {
    if lines.is_empty() || lines.len() > MAX_ITEM_LINES {
        return Err(StockError::LineCount(lines.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    match lines.iter().find(|l| !seen.insert(&l.sku)) {
        Some(twice) => Err(StockError::SkuTwice(twice.sku.to_string())),
        None => Ok(()),
    }
}

impl StockCount {
    pub fn check(&self) -> Result<(), StockError> {
        if self.counted < 0 {
            return Err(StockError::NegativeCount);
        }
        within("counted", self.counted)?;
        within("expected", self.expected)
    }
}

impl StockAdjustment {
    pub fn check(&self) -> Result<(), StockError> {
        if self.delta == 0 {
            return Err(StockError::ZeroAdjustment);
        }
        within("delta", self.delta)?;
        check_note(self.note.as_ref())
    }
}

impl TransferReceipt {
    pub fn check(&self) -> Result<(), StockError> {
        check_items(&self.lines)
    }
}

impl ReplenishmentRequest {
    pub fn check(&self) -> Result<(), StockError> {
        check_items(&self.lines)?;
        check_note(self.note.as_ref())
    }
}
