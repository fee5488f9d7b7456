//! The catalogue: locations, products with their barcodes and prices, and cashiers. Every
//! change is published to the feed, so it reaches every register on its next pull (UC4).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use shared_model::catalogue::{CashierInfo, LocationInfo, ProductInfo};
use shared_model::protocol::Change;
use shared_model::{Barcode, LocationCode, LocationKind, Money, Sku, TaxClass};
use sqlx::{AnyConnection, Row};

use crate::db::{Db, Value, insert_rows, list_placeholders, now_ms, placeholder};
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

#[tracing::instrument(skip_all)]
pub async fn locations(db: &Db) -> anyhow::Result<Vec<LocationInfo>> {
    let rows = sqlx::query("SELECT code, kind, name, address FROM locations ORDER BY code")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(LocationInfo {
                code: LocationCode::parse(&r.try_get::<String, _>("code")?)?,
                kind: kind_of(&r.try_get::<String, _>("kind")?)
                    .ok_or_else(|| anyhow::anyhow!("bad location kind"))?,
                name: r.try_get("name")?,
                address: r.try_get("address")?,
            })
        })
        .collect()
}

/// The location of a kind, when there is exactly one (the logistics centre, the online shop).
/// Which of `codes` are locations of the chain.
#[tracing::instrument(skip_all)]
pub async fn known_locations(conn: &mut AnyConnection, codes: &[&str]) -> sqlx::Result<BTreeSet<String>> {
    let mut known = BTreeSet::new();
    for chunk in codes.chunks(500) {
        let sql = format!(
            "SELECT code FROM locations WHERE code IN ({})",
            list_placeholders(placeholder(conn), 1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for code in chunk {
            query = query.bind(*code);
        }
        for row in query.fetch_all(&mut *conn).await? {
            known.insert(row.try_get("code")?);
        }
    }
    Ok(known)
}

/// Whether the chain has any location yet (a fresh database has none).
#[tracing::instrument(skip_all)]
pub async fn has_locations(db: &Db) -> sqlx::Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM locations").fetch_one(db.pool()).await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
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
    let mut tx = db.begin().await?;
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
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(product.sku.as_str());
        for code in &product.barcodes {
            query = query.bind(code.as_str());
        }
        if let Some(row) = query.fetch_optional(&mut *tx).await? {
            let (code, other): (String, String) = (row.try_get("code")?, row.try_get("sku")?);
            let index = product.barcodes.iter().position(|b| b.as_str() == code).unwrap_or_default();
            return Err(Error::Conflict(format!(
                "barcode {code} (barcodes[{index}]) already belongs to product {other}"
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
    publish_product(&mut tx, product).await?;
    tx.commit().await?;
    Ok(())
}

/// Binds a product's row as `$1` (SKU) to `$8` (time of the write), the order both the
/// insert and the update use.
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
}

/// Inserts a new product's row; a unique violation when the SKU exists.
#[tracing::instrument(skip_all)]
async fn insert_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO products (sku, name, category, price_cents, tax_class, reorder_threshold, active, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    );
    with_product(insert, product).execute(&mut *conn).await?;
    Ok(())
}

/// Replaces an existing product's row; false when there is none.
#[tracing::instrument(skip_all)]
async fn update_product_row(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<bool> {
    let update = sqlx::query(
        "UPDATE products SET name = $2, category = $3, price_cents = $4, tax_class = $5,
             reorder_threshold = $6, active = $7, updated_ms = $8
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

fn product_of(row: &sqlx::any::AnyRow, barcodes: Vec<Barcode>) -> anyhow::Result<ProductInfo> {
    Ok(ProductInfo {
        sku: Sku::parse(&row.try_get::<String, _>("sku")?)?,
        name: row.try_get("name")?,
        category: row.try_get("category")?,
        barcodes,
        price: Money::from_cents(row.try_get("price_cents")?)?,
        tax_class: TaxClass::from_code(&row.try_get::<String, _>("tax_class")?)
            .ok_or_else(|| anyhow::anyhow!("bad tax class in the database"))?,
        reorder_threshold: u32::try_from(row.try_get::<i64, _>("reorder_threshold")?)?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

#[tracing::instrument(skip_all)]
async fn barcodes_of(db: &Db, skus: &[String]) -> anyhow::Result<BTreeMap<String, Vec<Barcode>>> {
    let mut out: BTreeMap<String, Vec<Barcode>> = BTreeMap::new();
    if skus.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT code, sku FROM barcodes WHERE sku IN ({}) ORDER BY code",
        list_placeholders(db.placeholder(), 1, skus.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for sku in skus {
        query = query.bind(sku.as_str());
    }
    for row in query.fetch_all(db.pool()).await? {
        out.entry(row.try_get("sku")?).or_default().push(Barcode::parse(&row.try_get::<String, _>("code")?)?);
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ProductQuery {
    /// Words of the name, or the start of a SKU.
    pub q: Option<String>,
    pub category: Option<String>,
    /// A barcode, exact.
    pub barcode: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The last SKU of the previous page.
    pub after: Option<String>,
}

/// Products in SKU order, filtered; keyset pagination with `after`.
#[tracing::instrument(skip_all)]
pub async fn products(db: &Db, query: &ProductQuery) -> Result<Vec<ProductInfo>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Error::Malformed { field: "limit", detail: "limit must be between 1 and 500".into() });
    }
    let pattern = query.q.as_deref().map(|q| format!("%{}%", q.trim().to_lowercase())).unwrap_or_default();
    let barcode = match query.barcode.as_deref() {
        Some(code) => Barcode::parse(code)
            .map_err(|e| Error::Malformed { field: "barcode", detail: e.to_string() })?
            .to_string(),
        None => String::new(),
    };
    let rows = sqlx::query(
        "SELECT p.sku, p.name, p.category, p.price_cents, p.tax_class, p.reorder_threshold, p.active FROM products p
         WHERE ($1 = '' OR lower(p.name) LIKE $1 OR lower(p.sku) LIKE $1)
           AND ($2 = '' OR p.category = $2)
           AND ($3 = '' OR p.sku IN (SELECT b.sku FROM barcodes b WHERE b.code = $3))
           AND p.sku > $4
         ORDER BY p.sku LIMIT $5",
    )
    .bind(pattern)
    .bind(query.category.clone().unwrap_or_default())
    .bind(barcode)
    .bind(query.after.clone().unwrap_or_default())
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    let skus: Vec<String> = rows.iter().map(|r| r.try_get("sku")).collect::<Result<_, _>>()?;
    let mut barcodes = barcodes_of(db, &skus).await?;
    rows.iter()
        .zip(&skus)
        .map(|(row, sku)| product_of(row, barcodes.remove(sku).unwrap_or_default()).map_err(Error::Internal))
        .collect()
}

#[tracing::instrument(skip_all)]
pub async fn product(db: &Db, sku: &Sku) -> Result<ProductInfo> {
    let row = sqlx::query(
        "SELECT sku, name, category, price_cents, tax_class, reorder_threshold, active FROM products WHERE sku = $1",
    )
    .bind(sku.as_str())
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| Error::NotFound(format!("no product {sku}")))?;
    let mut barcodes = barcodes_of(db, &[sku.to_string()]).await?;
    Ok(product_of(&row, barcodes.remove(sku.as_str()).unwrap_or_default())?)
}

/// Reorder thresholds of the given products.
#[tracing::instrument(skip_all)]
pub async fn thresholds(conn: &mut AnyConnection, skus: &[&str]) -> sqlx::Result<BTreeMap<String, i64>> {
    if skus.is_empty() {
        return Ok(BTreeMap::new());
    }
    let sql = format!(
        "SELECT sku, reorder_threshold FROM products WHERE sku IN ({})",
        list_placeholders(placeholder(conn), 1, skus.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for sku in skus {
        query = query.bind(*sku);
    }
    query
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("reorder_threshold")?)))
        .collect()
}

#[tracing::instrument(skip_all)]
pub async fn save_cashier(conn: &mut AnyConnection, cashier: &CashierInfo) -> sqlx::Result<()> {
    let previous: Option<Option<String>> = sqlx::query("SELECT store FROM cashiers WHERE id = $1")
        .bind(i64::from(cashier.id.get()))
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("store"))
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
    let entry = |info: CashierInfo, store: Option<String>| Entry {
        kind: "cashier",
        key: format!("{}@{}", info.id, store.as_deref().unwrap_or("*")),
        audience: store,
        change: Change::Cashier(info),
    };
    let current = cashier.store.as_ref().map(|s| s.to_string());
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
