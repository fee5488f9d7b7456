//! Caisse's shared domain: what a register records, how head office merges it, and the
//! money arithmetic both must agree on to the cent.
//!
//! | module | holds |
//! |---|---|
//! | [`money`] | `Money` in cents, `Quantity`, `Percent`, cash rounding to the nickel, amounts and rates written in French or English |
//! | [`tax`] | GST and QST, tax classes, the per-line rounding rule |
//! | [`barcode`] | EAN-13, EAN-8 and UPC-A with verified check digits |
//! | [`ids`] | locations, registers, records, SKUs, cashiers, customers |
//! | [`receipt_number`] | the short receipt number, `VMTL-01-000123` |
//! | [`tender`] | tenders and the settlement rule (rounding, change) |
//! | [`sale`], [`returns`], [`stock`], [`till`] | the bodies of records |
//! | [`hlc`] | hybrid logical clock stamps |
//! | [`record`] | the record and its versioned wire format |
//! | [`protocol`] | push and pull messages between registers and the server |
//! | [`text`] | free text: length bounds, no control characters, short quotes in errors |
//! | [`catalogue`] | what head office publishes: locations, products, cashiers |
//! | [`chain`] | the chain's legal name and its GST and QST registration numbers |
//! | [`projection`] | the merge rules: the record set and the folds over it |
//!
//! The crate is pure: it reads no clock, draws no random number and does no I/O, so every
//! function here gives the same answer to the same arguments on a register and on the server.

#![forbid(unsafe_code)]
// Library code never panics on data and never narrows a number silently; tests may.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_sign_loss))]

pub mod barcode;
pub mod catalogue;
pub mod chain;
pub mod error;
pub mod hlc;
pub mod ids;
pub mod money;
pub mod projection;
pub mod protocol;
pub mod receipt_number;
pub mod record;
pub mod returns;
pub mod sale;
pub mod stock;
pub mod tax;
pub mod tender;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod till;
mod wire;

pub use barcode::Barcode;
pub use error::Invalid;
pub use hlc::Hlc;
pub use ids::{CashierId, CustomerId, LocationCode, LocationKind, OrderNumber, RecordId, RegisterId, Sku};
pub use money::{Locale, Money, Percent, Quantity};
pub use receipt_number::ReceiptNumber;
pub use record::{RECORD_FORMAT, Record, RecordBody, Rejection};
pub use tax::{TaxClass, Taxes};
pub use tender::{Tender, TenderKind};
pub use wire::WireError;
