//! The catalogue: locations, products with their barcodes and prices, and cashiers. Every
//! change is published to the feed, so it reaches every register on its next pull (UC4).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use shared_model::catalogue::{CashierInfo, LocationInfo, ProductInfo};
use shared_model::protocol::Change;
use shared_model::{Barcode, LocationCode, LocationKind, Money, Sku, TaxClass};
use sqlx::AnyConnection;

pub mod fields;
pub mod import;
mod listing;

pub use listing::{Counts, Listing};

use crate::db::{Db, Value, corrupt, from_i64, insert_rows, list_placeholders, now_ms, parse, placeholder};
use crate::feed::{self, Entry};

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

fn kind_str(kind: LocationKind) -> &'static str {
    match kind {
        LocationKind::Store => "store",
        LocationKind::Logistics => "logistics",
        LocationKind::HeadOffice => "head_office",
        LocationKind::Online => "online",
    }
}

fn kind_of(text: &str) -> Option<LocationKind> {
    [LocationKind::Store, LocationKind::Logistics, LocationKind::HeadOffice, LocationKind::Online]
        .into_iter()
        .find(|k| kind_str(*k) == text)
}

#[tracing::instrument(skip_all)]
pub async fn save_location(conn: &mut AnyConnection, location: &LocationInfo) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO locations (code, kind, name, address) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, address = excluded.address",
    )
    .bind(location.code.as_str())
    .bind(kind_str(location.kind))
    .bind(&location.name)
    .bind(&location.address)
    .execute(&mut *conn)
    .await?;
    let entry = Entry {
        kind: "location",
        key: location.code.to_string(),
        audience: None,
        change: Change::Location(location.clone()),
    };
    feed::publish(conn, vec![entry]).await
}

/// A row of `locations`.
#[derive(Debug, sqlx::FromRow)]
struct LocationRow {
    code: String,
    kind: String,
    name: String,
    address: String,
}

impl TryFrom<LocationRow> for LocationInfo {
    type Error = sqlx::Error;

    fn try_from(row: LocationRow) -> sqlx::Result<LocationInfo> {
        Ok(LocationInfo {
            code: parse("locations.code", &row.code)?,
            kind: kind_of(&row.kind)
                .ok_or_else(|| corrupt("locations.kind", format!("{:?} is no kind of location", row.kind)))?,
            name: row.name,
            address: row.address,
        })
    }
}

#[tracing::instrument(skip_all)]
pub async fn locations(db: &Db) -> anyhow::Result<Vec<LocationInfo>> {
    let rows: Vec<LocationRow> =
        sqlx::query_as("SELECT code, kind, name, address FROM locations ORDER BY code")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(LocationInfo::try_from).collect::<sqlx::Result<_>>()?)
}

/// The location of a kind, when there is exactly one (the logistics centre, the online shop).
/// Which of `codes` are locations of the chain.
#[tracing::instrument(skip_all)]
pub async fn known_locations(
    conn: &mut AnyConnection,
    codes: &[&LocationCode],
) -> sqlx::Result<BTreeSet<LocationCode>> {
    let mut known = BTreeSet::new();
    for chunk in codes.chunks(500) {
        let sql = format!(
            "SELECT code FROM locations WHERE code IN ({})",
            list_placeholders(placeholder(conn), 1, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for code in chunk {
            query = query.bind(code.as_str());
        }
        for code in query.fetch_all(&mut *conn).await? {
            known.insert(parse("locations.code", &code)?);
        }
    }
    Ok(known)
}

/// Whether the chain has any location yet (a fresh database has none).
#[tracing::instrument(skip_all)]
pub async fn has_locations(db: &Db) -> sqlx::Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) AS n FROM locations").fetch_one(db.pool()).await?;
    Ok(count > 0)
}

/// Whether `code` is one of the chain's stores.
#[tracing::instrument(skip_all)]
pub async fn is_store(db: &Db, code: &LocationCode) -> sqlx::Result<bool> {
    Ok(sqlx::query("SELECT code FROM locations WHERE code = $1 AND kind = 'store'")
        .bind(code.as_str())
        .fetch_optional(db.pool())
        .await?
        .is_some())
}

#[tracing::instrument(skip_all)]
pub async fn location_of_kind(db: &Db, kind: LocationKind) -> anyhow::Result<Option<LocationCode>> {
    Ok(locations(db).await?.into_iter().find(|l| l.kind == kind).map(|l| l.code))
}

/// Creates a product (`create`) or replaces one, with its barcodes, and publishes it.
/// Creating is a plain insert: of two requests racing to create one SKU, the database lets one
/// in and the other gets a conflict; an existence check before an upsert would let both
/// through on PostgreSQL. Replacing is an update that finds no row when the product does not
/// exist. A barcode another product holds is a conflict.
#[tracing::instrument(skip_all)]
pub async fn save_product(db: &Db, product: &ProductInfo, create: bool) -> Result<()> {
    save_product_with(db, product, None, create, &crate::audit::Actor::system()).await
}

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

/// Like [`save_product`], and sets the product's [`Extras`] too when given (otherwise a new
/// product has none and an edited one keeps its own). The change, with the product before and
/// after, goes in the audit trail under `actor`.
#[tracing::instrument(skip_all)]
pub async fn save_product_with(
    db: &Db,
    product: &ProductInfo,
    extras: Option<&Extras>,
    create: bool,
    actor: &crate::audit::Actor,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = if create { None } else { details_in(&mut tx, &product.sku).await? };
    // A change registers do not carry (the description, the maximum) is not published: the
    // registers would download the product again for nothing, and its reach would start over.
    let unchanged = !create && product_in(&mut tx, &product.sku).await?.as_ref() == Some(product);
    if create {
        insert_product(&mut tx, product).await.map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                Error::Conflict(format!("product {} already exists", product.sku))
            } else {
                e.into()
            }
        })?;
    } else if !update_product_row(&mut tx, product).await? {
        return Err(Error::NotFound(format!("no product {}", product.sku)));
    }
    if !product.barcodes.is_empty() {
        let sign = placeholder(&tx);
        let sql = format!(
            "SELECT code, sku FROM barcodes WHERE sku <> {} AND code IN ({})",
            list_placeholders(sign, 1, 1),
            list_placeholders(sign, 2, product.barcodes.len())
        );
        let mut query = sqlx::query_as::<_, BarcodeRow>(sqlx::AssertSqlSafe(sql)).bind(product.sku.as_str());
        for code in &product.barcodes {
            query = query.bind(code.as_str());
        }
        if let Some(row) = query.fetch_optional(&mut *tx).await? {
            let (code, other) = row.into_domain()?;
            // The code is one of the product's (the query asked for those alone).
            let field = product
                .barcodes
                .iter()
                .position(|b| *b == code)
                .map_or_else(|| "barcodes".to_owned(), |index| format!("barcodes[{index}]"));
            return Err(Error::Conflict(format!(
                "barcode {code} ({field}) already belongs to product {other}"
            )));
        }
    }
    // A racing write of the same barcode can still hit the unique key: a conflict too.
    replace_barcodes(&mut tx, product).await.map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            Error::Conflict(format!(
                "one of the barcodes of product {} was just given to another product",
                product.sku
            ))
        } else {
            e.into()
        }
    })?;
    if let Some(extras) = extras {
        sqlx::query("UPDATE products SET description = $1, max_level = $2 WHERE sku = $3")
            .bind(extras.description.as_str())
            .bind(i64::from(extras.max_level))
            .bind(product.sku.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let after = details_in(&mut tx, &product.sku).await?;
    let action = if create { "product.create" } else { "product.update" };
    let mut change = crate::audit::Change::new(action, format!("product:{}", product.sku)).after(&after);
    if let Some(before) = &before {
        change = change.before(before);
    }
    crate::audit::record(&mut tx, actor, change).await?;
    // Last: publishing holds the feed's clock until the commit.
    if !unchanged {
        publish_product(&mut tx, product).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A product and its extras, in the caller's transaction.
async fn details_in(conn: &mut AnyConnection, sku: &Sku) -> Result<Option<ProductDetails>> {
    let Some(product) = product_in(conn, sku).await? else { return Ok(None) };
    let extras: Option<(String, i64)> =
        sqlx::query_as("SELECT description, max_level FROM products WHERE sku = $1")
            .bind(sku.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    let (description, max_level) = extras.unwrap_or_default();
    Ok(Some(ProductDetails {
        product,
        extras: Extras { description, max_level: crate::db::from_i64("products.max_level", max_level)? },
    }))
}

/// Binds a product's row as `$1` (SKU) to `$10` (its barcodes), the order both the insert and
/// the update use.
fn with_product<'q>(query: crate::db::Query<'q>, product: &'q ProductInfo) -> crate::db::Query<'q> {
    query
        .bind(product.sku.as_str())
        .bind(product.name.as_str())
        .bind(product.category.as_str())
        .bind(product.price.as_cents())
        .bind(product.tax_class.code())
        .bind(i64::from(product.reorder_threshold))
        .bind(i64::from(product.active))
        .bind(now_ms())
        .bind(shared_model::text::fold(&product.name))
        .bind(codes_text(&product.barcodes))
}

/// A product's barcodes as its row keeps them: space-separated, in code order.
fn codes_text(barcodes: &[Barcode]) -> String {
    let mut codes: Vec<&str> = barcodes.iter().map(Barcode::as_str).collect();
    codes.sort_unstable();
    codes.join(" ")
}

/// Inserts a new product's row; a unique violation when the SKU exists.
#[tracing::instrument(skip_all)]
async fn insert_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO products (sku, name, category, price_cents, tax_class, reorder_threshold, active, updated_ms, folded, codes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    );
    with_product(insert, product).execute(&mut *conn).await?;
    Ok(())
}

/// Replaces an existing product's row; false when there is none.
#[tracing::instrument(skip_all)]
async fn update_product_row(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<bool> {
    let update = sqlx::query(
        "UPDATE products SET name = $2, category = $3, price_cents = $4, tax_class = $5,
             reorder_threshold = $6, active = $7, updated_ms = $8, folded = $9, codes = $10
         WHERE sku = $1",
    );
    let done = with_product(update, product).execute(&mut *conn).await?;
    Ok(done.rows_affected() > 0)
}

#[tracing::instrument(skip_all)]
async fn replace_barcodes(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM barcodes WHERE sku = $1").bind(product.sku.as_str()).execute(&mut *conn).await?;
    let rows =
        product.barcodes.iter().map(|b| vec![Value::from(b.as_str()), product.sku.as_str().into()]).collect();
    insert_rows(conn, "barcodes", &["code", "sku"], rows, "").await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
async fn publish_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    let entry = Entry {
        kind: "product",
        key: product.sku.to_string(),
        audience: None,
        change: Change::Product(product.clone()),
    };
    feed::publish(conn, vec![entry]).await
}

/// Writes a new product without the checks of [`save_product`] (loading the demo chain or a
/// test's catalogue into an empty database).
#[tracing::instrument(skip_all)]
pub async fn write_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    insert_product(conn, product).await?;
    replace_barcodes(conn, product).await?;
    publish_product(conn, product).await
}

/// The columns of a [`ProductRow`], in a query's select list.
const PRODUCT_COLUMNS: &str = "sku, name, category, price_cents, tax_class, reorder_threshold, active";

/// A row of `products` (its barcodes are rows of `barcodes`).
#[derive(Debug, sqlx::FromRow)]
struct ProductRow {
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
    fn sku(&self) -> sqlx::Result<Sku> {
        parse("products.sku", &self.sku)
    }

    /// The product, with its barcodes taken out of `barcodes` (none when it has none).
    fn into_domain(self, barcodes: &mut BTreeMap<Sku, Vec<Barcode>>) -> sqlx::Result<ProductInfo> {
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
struct BarcodeRow {
    code: String,
    sku: String,
}

impl BarcodeRow {
    fn into_domain(self) -> sqlx::Result<(Barcode, Sku)> {
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

/// Fills in the search form of product names written before there was one (a database made
/// before migration 0003); answers how many.
#[tracing::instrument(skip_all)]
pub async fn fold_old_names(db: &Db) -> sqlx::Result<usize> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT sku, name FROM products WHERE folded = ''").fetch_all(db.pool()).await?;
    for (sku, name) in &rows {
        db.write(
            sqlx::query("UPDATE products SET folded = $1 WHERE sku = $2")
                .bind(shared_model::text::fold(name))
                .bind(sku.as_str()),
        )
        .await?;
    }
    Ok(rows.len())
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

#[tracing::instrument(skip_all)]
pub async fn save_cashier(conn: &mut AnyConnection, cashier: &CashierInfo) -> sqlx::Result<()> {
    // The store the cashier had (`Some(None)`: every store), if the cashier existed.
    let previous: Option<Option<LocationCode>> =
        sqlx::query_scalar::<_, Option<String>>("SELECT store FROM cashiers WHERE id = $1")
            .bind(i64::from(cashier.id.get()))
            .fetch_optional(&mut *conn)
            .await?
            .map(|store| store.map(|s| parse("cashiers.store", &s)).transpose())
            .transpose()?;
    sqlx::query(
        "INSERT INTO cashiers (id, name, store, pin_hash, active) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, store = excluded.store,
             pin_hash = excluded.pin_hash, active = excluded.active",
    )
    .bind(i64::from(cashier.id.get()))
    .bind(&cashier.name)
    .bind(cashier.store.as_ref().map(|s| s.to_string()))
    .bind(&cashier.pin_hash)
    .bind(i64::from(cashier.active))
    .execute(&mut *conn)
    .await?;
    let entry = |info: CashierInfo, store: Option<LocationCode>| Entry {
        kind: "cashier",
        key: format!("{}@{}", info.id, store.as_ref().map_or("*", LocationCode::as_str)),
        audience: store,
        change: Change::Cashier(info),
    };
    let current = cashier.store.clone();
    let mut entries = Vec::new();
    if let Some(old) = previous.filter(|old| *old != current) {
        entries.push(entry(CashierInfo { active: false, ..cashier.clone() }, old));
    }
    entries.push(entry(cashier.clone(), current));
    feed::publish(conn, entries).await
}

/// Creates or replaces a cashier, and publishes it to the registers of its store.
#[tracing::instrument(skip_all)]
pub async fn put_cashier(db: &Db, cashier: &CashierInfo) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    save_cashier(&mut tx, cashier).await?;
    tx.commit().await
}

/// The product `sku` as it stands in the caller's transaction, if it exists.
async fn product_in(conn: &mut AnyConnection, sku: &Sku) -> sqlx::Result<Option<ProductInfo>> {
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
