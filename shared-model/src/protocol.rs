//! The sync protocol between registers and the server.
//!
//! * **Push**: a register sends a [`PushBatch`] of its unacknowledged records; the server
//!   answers a [`Verdict`] per record and `holds`, the highest `seq` of that register it now
//!   holds with no gap below. The register forgets nothing until it is held.
//! * **Pull**: a register asks for [`Change`]s after its [`Cursor`]; the answer carries the next
//!   cursor. The server makes sure a cursor never skips a change that committed late.
//!
//! Records inside a batch stay raw JSON until the server reads them one by one, so that one
//! bad record is refused on its own and never sinks the batch.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::Record;
use crate::catalogue::{CashierInfo, LocationInfo, ProductInfo};
use crate::ids::{LocationCode, RecordId, RegisterId, Sku};
use crate::stock::ItemQuantity;
use crate::wire::{self, WireError};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;
/// Most records one push may carry.
pub const MAX_BATCH: usize = 1_000;
/// Most changes one pull may ask for.
pub const MAX_PULL: u32 = 5_000;

/// Encodes and decodes a protocol message in its versioned envelope.
pub trait Message: Serialize + serde::de::DeserializeOwned {
    const NAME: &'static str;

    fn encode(&self) -> String {
        wire::encode(PROTOCOL_VERSION, Self::NAME, self)
    }

    fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        wire::decode(bytes, PROTOCOL_VERSION, Self::NAME)
    }
}

/// Records pushed by one register, each in its own wire form ([`crate::Record::encode`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBatch {
    pub records: Vec<Box<RawValue>>,
}

impl Message for PushBatch {
    const NAME: &'static str = "push";
}

/// The server's answer to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    /// One per pushed record, in the batch's order.
    pub verdicts: Vec<Verdict>,
    /// The highest seq of the pushing register the server holds with none missing below it.
    pub holds: u64,
    pub server_time_ms: u64,
}

impl Message for PushResponse {
    const NAME: &'static str = "push_response";
}

/// What became of one pushed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// Position in the batch.
    pub index: u32,
    /// The record's id and seq, when they could be read.
    pub id: Option<RecordId>,
    pub seq: Option<u64>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// Stored for the first time and merged.
    Accepted,
    /// Already held: nothing changed.
    Duplicate,
}

/// Why a pushed record was refused. A push is all or nothing: refusals travel in the 422
/// answer ([`PushRefused`]), never beside stored records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// Unreadable, or failed its checks: parked for head office; the register marks it rejected.
    Invalid,
    /// Another record holds this register's seq: a till restored from an old copy of its file
    /// renumbers the record and pushes it again.
    SeqTaken,
    /// Another record holds this id.
    IdTaken,
}

/// A record refused at push time, as the 422 answer names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Position in the batch.
    pub index: u32,
    pub code: RefusalCode,
    /// The record's id and seq, when they could be read.
    pub id: Option<RecordId>,
    pub seq: Option<u64>,
    /// The JSON path of the field at fault, from the batch (`records[3].record.seq`).
    pub field: String,
    pub reason: String,
}

/// The members a refused push's problem answer (422) carries besides the problem's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRefused {
    /// Why the batch was refused: nothing of it was stored.
    pub refused: Vec<Refusal>,
    /// What the server holds of the pushing register.
    pub holds: u64,
}

/// The answer to an enrolment: the register's identity and its device secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub register: RegisterId,
    pub store: LocationCode,
    /// The device secret: shown once, stored only hashed on the server.
    pub secret: String,
    /// What the server holds of this register already (a re-enrolled till resumes from here).
    pub holds: u64,
}

/// A sale as head office holds it, for a return at a store that did not make it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleForReturn {
    /// The sale, in its wire form (`{"format": 1, "record": {…}}`).
    #[serde(with = "record_wire")]
    pub record: Record,
    /// Units already returned at head office, per line index.
    pub returned: BTreeMap<u16, u32>,
}

/// An online order as head office holds it, for its return at a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderForReturn {
    pub number: crate::ids::OrderNumber,
    /// Only a `shipped` or `delivered` order comes back to a store.
    pub status: String,
    /// The day it was paid.
    pub business_day: Option<chrono::NaiveDate>,
    pub total: crate::money::Money,
    pub lines: Vec<OrderLineForReturn>,
    /// Units already returned, per line index, at every store.
    pub returned: BTreeMap<u16, u32>,
}

/// One line of an online order, with what it was charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLineForReturn {
    pub sku: Sku,
    pub description: String,
    pub quantity: crate::money::Quantity,
    pub tax_class: crate::tax::TaxClass,
    pub net: crate::money::Money,
    pub gst: crate::money::Money,
    pub qst: crate::money::Money,
}

impl OrderLineForReturn {
    /// The line's amounts, as the refund rule reads a sale line's.
    pub fn amounts(&self) -> crate::sale::LineAmounts {
        let taxes = crate::tax::Taxes { gst: self.gst, qst: self.qst };
        crate::sale::LineAmounts {
            gross: self.net,
            discount: crate::money::Money::ZERO,
            net: self.net,
            taxes,
            total: self.net + self.gst + self.qst,
        }
    }
}

/// A record inside a message, in its own versioned wire form, read with [`Record::decode`] so
/// its checks run.
mod record_wire {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::Record;

    pub fn serialize<S: Serializer>(record: &Record, serializer: S) -> Result<S::Ok, S::Error> {
        let value: serde_json::Value =
            serde_json::from_str(&record.encode()).map_err(serde::ser::Error::custom)?;
        value.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Record::decode(value.to_string().as_bytes()).map_err(D::Error::custom)
    }
}

/// An opaque position in the server's change feed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub cursor: Cursor,
    pub limit: u32,
}

impl Message for PullRequest {
    const NAME: &'static str = "pull";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    pub next: Cursor,
    /// More changes wait after `next`: pull again at once.
    pub more: bool,
    pub server_time_ms: u64,
}

impl Message for PullResponse {
    const NAME: &'static str = "pull_response";
}

/// One change a register applies to its local copy. Each replaces what the register held
/// under the same key, so applying a change twice is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Location(LocationInfo),
    Product(ProductInfo),
    Cashier(CashierInfo),
    StockLevel(StockLevel),
    Transfer(TransferNotice),
    ReplenishmentDecision(ReplenishmentDecision),
    /// The chain's legal name and tax registration numbers, for receipts (one key: the
    /// latest replaces the one before).
    Chain(crate::chain::ChainInfo),
}

/// The server's stock of one product at one location, true as of `as_of_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockLevel {
    pub location: LocationCode,
    pub sku: Sku,
    pub quantity: i64,
    pub as_of_ms: u64,
}

/// A transfer shipped to a store, which the store receives with a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferNotice {
    pub transfer: Uuid,
    pub from: LocationCode,
    pub to: LocationCode,
    pub lines: Vec<ItemQuantity>,
    pub shipped_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
}

/// The logistics centre's answer to a replenishment request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentDecision {
    /// The id of the request's record.
    pub request: RecordId,
    pub store: LocationCode,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
