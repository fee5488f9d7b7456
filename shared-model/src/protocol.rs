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

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::catalogue::{CashierInfo, LocationInfo, ProductInfo};
use crate::ids::{LocationCode, RecordId, Sku};
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
    /// Not stored: parked for head office with the reason. The register marks the record
    /// rejected and goes on with the ones behind it.
    Rejected { reason: String },
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
