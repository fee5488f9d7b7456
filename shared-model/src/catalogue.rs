//! What head office publishes to every register: locations, products and cashiers.

use serde::{Deserialize, Serialize};

use crate::barcode::Barcode;
use crate::error::Invalid;
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

/// Longest product name: it is a sale line's description.
pub const MAX_NAME: usize = crate::sale::MAX_DESCRIPTION;
pub const MAX_CATEGORY: usize = 40;
/// Most barcodes one product carries (its own, a supplier's, older packagings).
pub const MAX_BARCODES: usize = 16;
pub const MAX_ADDRESS: usize = 200;
/// Longest PIN hash: an argon2 PHC string is about 100 characters.
pub const MAX_PIN_HASH: usize = 256;

impl ProductInfo {
    /// The checks head office makes before publishing a product, and a register again before
    /// storing one: every text here reaches a receipt.
    pub fn check(&self) -> Result<(), (&'static str, Invalid)> {
        crate::text::check_required("product name", &self.name, MAX_NAME).map_err(|e| ("name", e))?;
        crate::text::check_required("category", &self.category, MAX_CATEGORY).map_err(|e| ("category", e))?;
        if self.barcodes.len() > MAX_BARCODES {
            return Err((
                "barcodes",
                crate::error::out_of_range(
                    "number of barcodes",
                    self.barcodes.len() as u64,
                    0u64,
                    MAX_BARCODES as u64,
                ),
            ));
        }
        if self.price.is_negative() {
            return Err((
                "price",
                crate::error::out_of_range("price in cents", self.price.as_cents(), 0, Money::MAX),
            ));
        }
        Ok(())
    }
}

impl LocationInfo {
    pub fn check(&self) -> Result<(), (&'static str, Invalid)> {
        crate::text::check_required("location name", &self.name, MAX_NAME).map_err(|e| ("name", e))?;
        crate::text::check("address", &self.address, MAX_ADDRESS).map_err(|e| ("address", e))
    }
}

impl CashierInfo {
    pub fn check(&self) -> Result<(), (&'static str, Invalid)> {
        crate::text::check_required("cashier name", &self.name, MAX_NAME).map_err(|e| ("name", e))?;
        crate::text::check_required("PIN hash", &self.pin_hash, MAX_PIN_HASH).map_err(|e| ("pin_hash", e))
    }
}
