//! Records: the immutable facts a register creates, and their versioned wire format.
//!
//! A record is identified twice: by its `id` (a UUIDv7) and by its dot, the register's
//! gap-free counter `(origin, seq)`. The id makes inserting idempotent; the dot lets the
//! server tell a duplicate (a dot it holds) from a gap (a dot it has not seen yet).

use crdts::Dot;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::hlc::Hlc;
use crate::ids::{LocationCode, RecordId, RegisterId};
use crate::returns::{Return, ReturnError};
use crate::sale::{Sale, SaleError};
use crate::stock::{ReplenishmentRequest, StockAdjustment, StockCount, StockError, TransferReceipt};
use crate::till::{TillClose, TillError};
use crate::wire::{self, WireError};

/// The version of the record format this build writes and reads.
pub const RECORD_FORMAT: u16 = 1;

/// One fact recorded at a register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: RecordId,
    pub origin: RegisterId,
    /// The register's own counter: 1, 2, 3… with no gaps.
    pub seq: u64,
    pub hlc: Hlc,
    /// The register's clock as it read it, kept beside the stamp so skew shows.
    pub device_time_ms: u64,
    /// The location the fact applies to: always the register's own store.
    pub store: LocationCode,
    pub body: RecordBody,
}

/// What a record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordBody {
    Sale(Sale),
    Return(Return),
    StockCount(StockCount),
    StockAdjustment(StockAdjustment),
    TransferReceived(TransferReceipt),
    ReplenishmentRequested(ReplenishmentRequest),
    TillClosed(TillClose),
}

impl RecordBody {
    /// The business day the register filed this under, for the kinds that have one.
    pub fn business_day(&self) -> Option<chrono::NaiveDate> {
        match self {
            RecordBody::Sale(sale) => Some(sale.business_day),
            RecordBody::Return(ret) => Some(ret.business_day),
            RecordBody::TillClosed(close) => Some(close.business_day),
            _ => None,
        }
    }

    /// The same body filed under another business day (head office re-dates a record whose
    /// register's clock ran ahead; the record itself keeps the register's day).
    pub fn redated(&self, day: chrono::NaiveDate) -> RecordBody {
        let mut body = self.clone();
        match &mut body {
            RecordBody::Sale(sale) => sale.business_day = day,
            RecordBody::Return(ret) => ret.business_day = day,
            RecordBody::TillClosed(close) => close.business_day = day,
            _ => {}
        }
        body
    }

    /// The body's type as it appears on the wire and in reports.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordBody::Sale(_) => "sale",
            RecordBody::Return(_) => "return",
            RecordBody::StockCount(_) => "stock_count",
            RecordBody::StockAdjustment(_) => "stock_adjustment",
            RecordBody::TransferReceived(_) => "transfer_received",
            RecordBody::ReplenishmentRequested(_) => "replenishment_requested",
            RecordBody::TillClosed(_) => "till_closed",
        }
    }
}

/// Why a well-formed record cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    #[error("seq must start at 1")]
    ZeroSeq,
    #[error("{field} is {value}, over the largest value head office stores ({max})", max = i64::MAX)]
    TooLarge { field: &'static str, value: u64 },
    #[error("register {origin} belongs to store {expected}, but the record is for store {found}")]
    WrongStore { origin: RegisterId, expected: LocationCode, found: LocationCode },
    #[error("sale: {0}")]
    Sale(#[from] SaleError),
    #[error("return: {0}")]
    Return(#[from] ReturnError),
    #[error("stock: {0}")]
    Stock(#[from] StockError),
    #[error("till close: {0}")]
    Till(#[from] TillError),
}

impl Rejection {
    /// The wire path of the field at fault, under the push's `records[i]`.
    pub fn field(&self) -> String {
        match self {
            Rejection::ZeroSeq => "record.seq".into(),
            Rejection::TooLarge { field, .. } => format!("record.{field}"),
            Rejection::WrongStore { .. } => "record.store".into(),
            _ => "record.body".into(),
        }
    }
}

impl Record {
    /// The record's dot: who made it and its place in that register's sequence.
    pub fn dot(&self) -> Dot<RegisterId> {
        Dot::new(self.origin.clone(), self.seq)
    }

    /// How far the device's clock was from the hybrid stamp, in milliseconds. Large values
    /// mean the register's clock was wrong or stepped; head office is alerted past a bound.
    pub fn skew_ms(&self) -> i128 {
        i128::from(self.device_time_ms) - i128::from(self.hlc.wall_ms)
    }

    /// The checks every record passes before a register writes it and again before the
    /// server accepts it. Business rules that depend on other records (stock, returnable
    /// quantities) are not checked here: those are flagged after merging, never refused.
    pub fn check(&self) -> Result<(), Rejection> {
        if self.seq == 0 {
            return Err(Rejection::ZeroSeq);
        }
        // Head office stores these as signed 64-bit integers: a larger value would be
        // stored clamped while its verdict reported the original.
        for (field, value) in
            [("seq", self.seq), ("hlc.wall_ms", self.hlc.wall_ms), ("device_time_ms", self.device_time_ms)]
        {
            if i64::try_from(value).is_err() {
                return Err(Rejection::TooLarge { field, value });
            }
        }
        let expected = self.origin.store();
        if expected != self.store {
            return Err(Rejection::WrongStore {
                origin: self.origin.clone(),
                expected,
                found: self.store.clone(),
            });
        }
        match &self.body {
            RecordBody::Sale(sale) => sale.check()?,
            RecordBody::Return(ret) => ret.check()?,
            RecordBody::StockCount(count) => count.check()?,
            RecordBody::StockAdjustment(adjustment) => adjustment.check()?,
            RecordBody::TransferReceived(receipt) => receipt.check()?,
            RecordBody::ReplenishmentRequested(request) => request.check()?,
            RecordBody::TillClosed(close) => close.check()?,
        }
        Ok(())
    }

    /// The record in its wire form: `{"format": 1, "record": {…}}`.
    pub fn encode(&self) -> String {
        wire::encode(RECORD_FORMAT, "record", self)
    }

    /// Reads a record in wire form. A format this build does not know is an error that says
    /// so, never a misread; a malformed record is an error that names the field at fault.
    pub fn decode(bytes: &[u8]) -> Result<Record, WireError> {
        wire::decode(bytes, RECORD_FORMAT, "record")
    }
}
