//! What head office publishes to every register: locations, products and cashiers.

use serde::{Deserialize, Serialize};

use crate::barcode::Barcode;
use crate::ids::{CashierId, LocationCode, LocationKind, Sku};
use crate::money::Money;
use crate::tax::TaxClass;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInfo {
    pub code: LocationCode,
    pub kind: LocationKind,
    pub name: String,
    pub address: String,
}

/// A product as registers know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInfo {
    pub sku: Sku,
    pub name: String,
    pub category: String,
    pub barcodes: Vec<Barcode>,
    pub price: Money,
    pub tax_class: TaxClass,
    /// Stock at or under which head office is alerted and a store should reorder.
    pub reorder_threshold: u32,
    /// A retired product can no longer be sold, but old receipts still name it.
    pub active: bool,
}

/// A cashier and the hash of their PIN, checked at the register with no network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashierInfo {
    pub id: CashierId,
    pub name: String,
    /// The store they work at; `None` for staff who may sign in anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<LocationCode>,
    /// An argon2 hash in PHC string form.
    pub pin_hash: String,
    pub active: bool,
}
