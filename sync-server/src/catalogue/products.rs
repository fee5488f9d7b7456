//! Products read back: one by SKU with its barcodes, many by SKU, their thresholds, details
//! and names, the filters the lists take.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use shared_model::catalogue::ProductInfo;
use shared_model::{Barcode, Money, Sku, TaxClass};
use sqlx::AnyConnection;

use crate::db::{Db, corrupt, from_i64, list_placeholders, parse, placeholder};

use super::{Error, Listing, Result};

/// What only head office keeps of a product: registers do not carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extras {
    pub description: String,
    /// The most a location should hold; 0 for no maximum.
    pub max_level: u32,
}

/// Longest product description.
pub const MAX_DESCRIPTION: usize = 2_000;

/// A product as head office's pages show it: what registers carry, and the [`Extras`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductDetails {
    #[serde(flatten)]
    pub product: ProductInfo,
    #[serde(flatten)]
    pub extras: Extras,
}

/// The columns of a [`ProductRow`], in a query's select list.
pub(super) const PRODUCT_COLUMNS: &str =
    "sku, name, category, price_cents, tax_class, reorder_threshold, active";

/// A row of `products` (its barcodes are rows of `barcodes`).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ProductRow {
    sku: String,
    name: String,
    category: String,
    price_cents: i64,
    tax_class: String,
    reorder_threshold: i64,
    /// 0 or 1: the Any driver reads no SQLite BOOLEAN, so flags are BIGINT.
    active: i64,
}

impl ProductRow {
    pub(super) fn sku(&self) -> sqlx::Result<Sku> {
        parse("products.sku", &self.sku)
    }

    /// The product, with its barcodes taken out of `barcodes` (none when it has none).
    pub(super) fn into_domain(self, barcodes: &mut BTreeMap<Sku, Vec<Barcode>>) -> sqlx::Result<ProductInfo> {
        let sku = self.sku()?;
        Ok(ProductInfo {
            barcodes: barcodes.remove(&sku).unwrap_or_default(),
            sku,
            name: self.name,
            category: self.category,
            price: Money::from_cents(self.price_cents).map_err(|e| corrupt("products.price_cents", e))?,
            tax_class: TaxClass::from_code(&self.tax_class).ok_or_else(|| {
                corrupt("products.tax_class", format!("{:?} is no tax class", self.tax_class))
            })?,
            reorder_threshold: from_i64("products.reorder_threshold", self.reorder_threshold)?,
            active: self.active != 0,
        })
    }
}

/// A row of `barcodes`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct BarcodeRow {
    pub(super) code: String,
    pub(super) sku: String,
}

impl BarcodeRow {
    pub(super) fn into_domain(self) -> sqlx::Result<(Barcode, Sku)> {
        Ok((parse("barcodes.code", &self.code)?, parse("barcodes.sku", &self.sku)?))
    }
}

#[tracing::instrument(skip_all)]
async fn barcodes_of(db: &Db, skus: &[Sku]) -> sqlx::Result<BTreeMap<Sku, Vec<Barcode>>> {
    let mut out: BTreeMap<Sku, Vec<Barcode>> = BTreeMap::new();
    if skus.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT code, sku FROM barcodes WHERE sku IN ({}) ORDER BY code",
        list_placeholders(db.placeholder(), 1, skus.len())
    );
    let mut query = sqlx::query_as::<_, BarcodeRow>(sqlx::AssertSqlSafe(sql));
    for sku in skus {
        query = query.bind(sku.as_str());
    }
    for row in query.fetch_all(db.pool()).await? {
        let (code, sku) = row.into_domain()?;
        out.entry(sku).or_default().push(code);
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ProductQuery {
    /// Part of the name (case and accents ignored) or of the SKU.
    pub q: Option<String>,
    pub category: Option<String>,
    /// A barcode, exact.
    pub barcode: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The last SKU of the previous page.
    pub after: Option<String>,
}

/// What the shop narrows a product search by, beyond [`ProductQuery`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ShopFilter {
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    /// Leave out retired products.
    pub on_sale_only: bool,
}

#[tracing::instrument(skip_all)]
pub async fn product(db: &Db, sku: &Sku) -> Result<ProductInfo> {
    let row: ProductRow =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = $1")))
            .bind(sku.as_str())
            .fetch_optional(db.pool())
            .await?
            .ok_or_else(|| Error::NotFound(format!("no product {sku}")))?;
    let mut barcodes = barcodes_of(db, std::slice::from_ref(sku)).await?;
    Ok(row.into_domain(&mut barcodes)?)
}

/// The given products that the catalogue has, by SKU.
#[tracing::instrument(skip_all)]
pub async fn products_by_sku(db: &Db, skus: &[Sku]) -> sqlx::Result<BTreeMap<Sku, ProductInfo>> {
    if skus.is_empty() {
        return Ok(BTreeMap::new());
    }
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE sku IN ({})",
        list_placeholders(db.placeholder(), 1, skus.len())
    );
    let mut query = sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(sql));
    for sku in skus {
        query = query.bind(sku.as_str());
    }
    let rows = query.fetch_all(db.pool()).await?;
    let mut barcodes = barcodes_of(db, skus).await?;
    rows.into_iter().map(|row| row.into_domain(&mut barcodes).map(|p| (p.sku.clone(), p))).collect()
}

/// Which of `skus` the catalogue has, as `conn` sees them.
#[tracing::instrument(skip_all)]
pub async fn existing_skus(conn: &mut AnyConnection, skus: &[&str]) -> sqlx::Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    for chunk in skus.chunks(1_000) {
        let sql = format!(
            "SELECT sku FROM products WHERE sku IN ({})",
            list_placeholders(placeholder(conn), 1, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for sku in chunk {
            query = query.bind(*sku);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// A product's reorder threshold, as stock alerts read it.
#[derive(Debug, sqlx::FromRow)]
struct ThresholdRow {
    sku: String,
    reorder_threshold: i64,
}

/// Reorder thresholds of the given products (those the catalogue has).
#[tracing::instrument(skip_all)]
pub async fn thresholds(conn: &mut AnyConnection, skus: &[&Sku]) -> sqlx::Result<BTreeMap<Sku, i64>> {
    if skus.is_empty() {
        return Ok(BTreeMap::new());
    }
    let sql = format!(
        "SELECT sku, reorder_threshold FROM products WHERE sku IN ({})",
        list_placeholders(placeholder(conn), 1, skus.len())
    );
    let mut query = sqlx::query_as::<_, ThresholdRow>(sqlx::AssertSqlSafe(sql));
    for sku in skus {
        query = query.bind(sku.as_str());
    }
    query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| Ok((parse("products.sku", &row.sku)?, row.reorder_threshold)))
        .collect()
}

/// The product `sku` as it stands in the caller's transaction, if it exists.
pub(super) async fn product_in(conn: &mut AnyConnection, sku: &Sku) -> sqlx::Result<Option<ProductInfo>> {
    let row: Option<ProductRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = $1")))
            .bind(sku.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM barcodes WHERE sku = $1 ORDER BY code")
        .bind(sku.as_str())
        .fetch_all(&mut *conn)
        .await?;
    let codes = codes.iter().map(|c| parse("barcodes.code", c)).collect::<sqlx::Result<Vec<Barcode>>>()?;
    let mut barcodes = BTreeMap::from([(row.sku()?, codes)]);
    Ok(Some(row.into_domain(&mut barcodes)?))
}

/// A product's [`Extras`], as the pages read them.
#[derive(Debug, sqlx::FromRow)]
struct ExtrasRow {
    sku: String,
    description: String,
    max_level: i64,
}

/// Products in SKU order, filtered, with what only head office keeps of them.
#[tracing::instrument(skip_all)]
pub async fn details(db: &Db, listing: &Listing, query: &ProductQuery) -> Result<Vec<ProductDetails>> {
    let products = listing.products(query).await?;
    if products.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT sku, description, max_level FROM products WHERE sku IN ({})",
        list_placeholders(db.placeholder(), 1, products.len())
    );
    let mut rows = sqlx::query_as::<_, ExtrasRow>(sqlx::AssertSqlSafe(sql));
    for product in &products {
        rows = rows.bind(product.sku.as_str());
    }
    let mut extras: BTreeMap<String, Extras> = BTreeMap::new();
    for row in rows.fetch_all(db.pool()).await? {
        let max_level = from_i64("products.max_level", row.max_level)?;
        extras.insert(row.sku, Extras { description: row.description, max_level });
    }
    Ok(products
        .into_iter()
        .map(|product| {
            let extras = extras.remove(product.sku.as_str()).unwrap_or_default();
            ProductDetails { product, extras }
        })
        .collect())
}

/// One product with its [`Extras`].
#[tracing::instrument(skip_all)]
pub async fn product_details(db: &Db, sku: &Sku) -> Result<ProductDetails> {
    let product = product(db, sku).await?;
    let row: ExtrasRow = sqlx::query_as("SELECT sku, description, max_level FROM products WHERE sku = $1")
        .bind(sku.as_str())
        .fetch_one(db.pool())
        .await?;
    let max_level = from_i64("products.max_level", row.max_level)?;
    Ok(ProductDetails { product, extras: Extras { description: row.description, max_level } })
}

/// A product's name and maximum level, as the dashboard reads them.
#[derive(Debug, sqlx::FromRow)]
struct NameRow {
    sku: String,
    name: String,
    max_level: i64,
}

/// Names and maximum levels (0: none) of every product, by SKU.
#[tracing::instrument(skip_all)]
pub async fn names_and_maxima(db: &Db) -> sqlx::Result<BTreeMap<String, (String, i64)>> {
    let rows: Vec<NameRow> =
        sqlx::query_as("SELECT sku, name, max_level FROM products").fetch_all(db.pool()).await?;
    Ok(rows.into_iter().map(|row| (row.sku, (row.name, row.max_level))).collect())
}
