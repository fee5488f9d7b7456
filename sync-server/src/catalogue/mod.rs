//! The catalogue: locations, products with their barcodes and prices, and cashiers. Every
//! change is published to the feed, so it reaches every register on its next pull (UC4).
//!
//! | module | what it does |
//! |---|---|
//! | `locations` | the chain's locations |
//! | `saving` | a product and its barcodes written, audited and published |
//! | `products` | products read back, and the filters of the lists |
//! | `listing` | pages of the product list, fast on PostgreSQL |
//! | `cashiers` | cashiers and their PINs |
//! | `fields` | a product's fields checked as head office types them |
//! | `import` | the CSV import and export of products |

mod cashiers;
pub mod fields;
pub mod import;
mod listing;
mod locations;
mod products;
mod saving;

pub use cashiers::{put_cashier, save_cashier};
pub use locations::{has_locations, is_store, known_locations, location_of_kind, locations, save_location};
pub use products::{
    Extras, MAX_DESCRIPTION, ProductDetails, ProductQuery, ShopFilter, details, existing_skus,
    names_and_maxima, product, product_details, products_by_sku, thresholds,
};
pub use saving::{fold_old_names, save_product, save_product_with, write_product};

// Reached by `import` and `listing` through `super::`.
use products::{BarcodeRow, PRODUCT_COLUMNS, ProductRow};
use saving::codes_text;

pub use listing::{Counts, Listing};

/// Why the catalogue refused, or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filter that cannot be read; `field` names it.
    #[error("{detail}")]
    Malformed { field: &'static str, detail: String },
    #[error("{0}")]
    NotFound(String),
    /// The SKU or a barcode is another product's.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
