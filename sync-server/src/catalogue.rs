//! The catalogue: locations, products with their barcodes and prices, and cashiers. Every
//! change is published to the feed, so it reaches every register on its next pull (UC4).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shared_model::catalogue::{CashierInfo, LocationInfo, ProductInfo};
use shared_model::protocol::Change;
use shared_model::{Barcode, CashierId, LocationCode, LocationKind, Money, Sku, TaxClass};
use sqlx::{AnyConnection, Row};

use crate::db::{Db, Value, insert_rows, list_placeholders, now_ms, placeholder};
use crate::error::{ApiError, ApiResult};
use crate::feed::{self, Entry};
use crate::http::{AppState, JsonBody};
use crate::identity::{Role, Staff};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/products", get(list_products).post(create_product))
        .route("/api/products/{sku}", get(get_product).put(update_product))
        .route("/api/locations", get(list_locations))
        .route("/api/cashiers", axum::routing::post(create_cashier))
}

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

pub async fn location_of_kind(db: &Db, kind: LocationKind) -> anyhow::Result<Option<LocationCode>> {
    Ok(locations(db).await?.into_iter().find(|l| l.kind == kind).map(|l| l.code))
}

/// Writes a product and its barcodes and publishes it. `create` refuses an existing SKU;
/// otherwise the SKU must exist. A barcode already used by another product is refused.
/// Creates a product (`create`) or replaces one. Creating is a plain insert: of two requests
/// racing to create one SKU, the database lets one in and the other gets a conflict; an
/// existence check before an upsert would let both through on PostgreSQL. Replacing is an
/// update that finds no row when the product does not exist.
pub async fn save_product(db: &Db, product: &ProductInfo, create: bool) -> ApiResult<()> {
    let mut tx = db.begin().await?;
    if create {
        insert_product(&mut tx, product).await.map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                ApiError::Conflict(format!("product {} already exists", product.sku))
            } else {
                e.into()
            }
        })?;
    } else if !update_product_row(&mut tx, product).await? {
        return Err(ApiError::NotFound(format!("no product {}", product.sku)));
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
            return Err(ApiError::Conflict(format!(
                "barcode {code} (barcodes[{index}]) already belongs to product {other}"
            )));
        }
    }
    // A racing write of the same barcode can still hit the unique key: a conflict too.
    replace_barcodes(&mut tx, product).await.map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            ApiError::Conflict(format!(
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

/// Inserts a new product's row; a unique violation when the SKU exists.
async fn insert_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO products (sku, name, category, price_cents, tax_class, reorder_threshold, active, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(product.sku.as_str())
    .bind(&product.name)
    .bind(&product.category)
    .bind(product.price.as_cents())
    .bind(product.tax_class.code())
    .bind(i64::from(product.reorder_threshold))
    .bind(i64::from(product.active))
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces an existing product's row; false when there is none.
async fn update_product_row(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE products SET name = $2, category = $3, price_cents = $4, tax_class = $5,
             reorder_threshold = $6, active = $7, updated_ms = $8
         WHERE sku = $1",
    )
    .bind(product.sku.as_str())
    .bind(&product.name)
    .bind(&product.category)
    .bind(product.price.as_cents())
    .bind(product.tax_class.code())
    .bind(i64::from(product.reorder_threshold))
    .bind(i64::from(product.active))
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

async fn replace_barcodes(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM barcodes WHERE sku = $1").bind(product.sku.as_str()).execute(&mut *conn).await?;
    let rows =
        product.barcodes.iter().map(|b| vec![Value::from(b.as_str()), product.sku.as_str().into()]).collect();
    insert_rows(conn, "barcodes", &["code", "sku"], rows, "").await?;
    Ok(())
}

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
pub async fn products(db: &Db, query: &ProductQuery) -> ApiResult<Vec<ProductInfo>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad("limit", "limit must be between 1 and 500"));
    }
    let pattern = query.q.as_deref().map(|q| format!("%{}%", q.trim().to_lowercase())).unwrap_or_default();
    let barcode = match query.barcode.as_deref() {
        Some(code) => Barcode::parse(code).map_err(|e| ApiError::bad("barcode", e))?.to_string(),
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
        .map(|(row, sku)| {
            product_of(row, barcodes.remove(sku).unwrap_or_default()).map_err(ApiError::Internal)
        })
        .collect()
}

pub async fn product(db: &Db, sku: &Sku) -> ApiResult<ProductInfo> {
    let row = sqlx::query(
        "SELECT sku, name, category, price_cents, tax_class, reorder_threshold, active FROM products WHERE sku = $1",
    )
    .bind(sku.as_str())
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no product {sku}")))?;
    let mut barcodes = barcodes_of(db, &[sku.to_string()]).await?;
    Ok(product_of(&row, barcodes.remove(sku.as_str()).unwrap_or_default())?)
}

/// Reorder thresholds of the given products.
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

/// A product as head office types it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// Only when creating: the new product's SKU.
    #[serde(default)]
    pub sku: Option<String>,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub barcodes: Vec<String>,
    /// Dollars and cents as a string, like "12.99": never a float.
    pub price: String,
    /// standard, zero_rated or gst_only.
    pub tax_class: String,
    pub reorder_threshold: u32,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl ProductInput {
    fn into_product(self, sku: Sku) -> ApiResult<ProductInfo> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > shared_model::sale::MAX_DESCRIPTION {
            return Err(ApiError::invalid("name", "a product name has 1 to 80 characters"));
        }
        let category = self.category.trim().to_owned();
        if category.is_empty() || category.chars().count() > 40 {
            return Err(ApiError::invalid("category", "a category has 1 to 40 characters"));
        }
        if self.barcodes.len() > shared_model::catalogue::MAX_BARCODES {
            return Err(ApiError::invalid(
                "barcodes",
                format!("a product has at most {} barcodes", shared_model::catalogue::MAX_BARCODES),
            ));
        }
        let barcodes = self
            .barcodes
            .iter()
            .enumerate()
            .map(|(i, code)| Barcode::parse(code).map_err(|e| ApiError::invalid(format!("barcodes[{i}]"), e)))
            .collect::<ApiResult<Vec<_>>>()?;
        if let Some(twice) = (1..barcodes.len()).find(|&i| barcodes[..i].contains(&barcodes[i])) {
            return Err(ApiError::invalid(
                format!("barcodes[{twice}]"),
                format!("barcode {} is listed twice", barcodes[twice]),
            ));
        }
        let price = Money::parse(&self.price).map_err(|e| ApiError::invalid("price", e))?;
        if price < Money::ZERO || price > Money::cents(100_000_000) {
            return Err(ApiError::invalid("price", "a price is between 0.00 and 1000000.00"));
        }
        let tax_class = TaxClass::from_code(&self.tax_class)
            .ok_or_else(|| ApiError::invalid("tax_class", "tax_class is standard, zero_rated or gst_only"))?;
        if self.reorder_threshold > 100_000 {
            return Err(ApiError::invalid("reorder_threshold", "reorder_threshold is at most 100000"));
        }
        let product = ProductInfo {
            sku,
            name,
            category,
            barcodes,
            price,
            tax_class,
            reorder_threshold: self.reorder_threshold,
            active: self.active,
        };
        product.check().map_err(|(field, e)| ApiError::invalid(field, e))?;
        Ok(product)
    }
}

/// How long an instance serves a product list from memory.
const LIST_TTL: Duration = Duration::from_secs(1);
const LIST_ENTRIES: usize = 4_096;

/// Product list answers, kept for a second: the shop and head office browse the catalogue far
/// more often than it changes. A product written through this instance clears it at once;
/// another instance serves what it holds for at most [`LIST_TTL`]. Registers never read this:
/// they pull changes through the feed.
#[derive(Debug, Default)]
pub struct ListCache {
    entries: Mutex<HashMap<String, (Instant, Bytes)>>,
}

impl ListCache {
    fn get(&self, key: &str) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(at, _)| at.elapsed() < LIST_TTL).map(|(_, body)| body.clone())
    }

    fn put(&self, key: String, body: Bytes) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= LIST_ENTRIES {
                entries.retain(|_, (at, _)| at.elapsed() < LIST_TTL);
                if entries.len() >= LIST_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), body));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// List products (public: the online shop browses the catalogue).
#[utoipa::path(get, path = "/api/products", params(ProductQuery), responses((status = 200, description = "Products in SKU order")))]
pub async fn list_products(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    crate::http::QueryParams(query): crate::http::QueryParams<ProductQuery>,
) -> ApiResult<Response> {
    let key = raw.unwrap_or_default();
    let body = match state.catalogue_cache.get(&key) {
        Some(body) => body,
        None => {
            let list = products(&state.db, &query).await?;
            let body = Bytes::from(serde_json::to_vec(&list).map_err(|e| ApiError::Internal(e.into()))?);
            state.catalogue_cache.put(key, body.clone());
            body
        }
    };
    let headers = [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=1")];
    Ok((headers, body).into_response())
}

#[utoipa::path(get, path = "/api/products/{sku}", responses((status = 200, description = "The product"), (status = 404, description = "No such product")))]
pub async fn get_product(
    State(state): State<AppState>,
    Path(sku): Path<String>,
) -> ApiResult<Json<ProductInfo>> {
    let sku = Sku::parse(&sku).map_err(|e| ApiError::bad("sku", e))?;
    Ok(Json(product(&state.db, &sku).await?))
}

/// Create a product (admin, manager). It reaches every register on its next pull.
#[utoipa::path(post, path = "/api/products", request_body = ProductInput, responses((status = 201, description = "Created"), (status = 409, description = "The SKU exists"), (status = 422, description = "A field is invalid")))]
pub async fn create_product(
    State(state): State<AppState>,
    staff: Staff,
    JsonBody(input): JsonBody<ProductInput>,
) -> ApiResult<(axum::http::StatusCode, Json<ProductInfo>)> {
    staff.require(&[Role::Manager])?;
    let sku = input.sku.clone().ok_or_else(|| ApiError::invalid("sku", "a new product needs a sku"))?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::invalid("sku", e))?;
    let product = input.into_product(sku)?;
    save_product(&state.db, &product, true).await?;
    state.catalogue_cache.clear();
    tracing::info!(sku = %product.sku, by = staff.username, "product created");
    Ok((axum::http::StatusCode::CREATED, Json(product)))
}

/// Replace a product's name, category, barcodes, price, tax class, threshold or status (admin, manager).
#[utoipa::path(put, path = "/api/products/{sku}", request_body = ProductInput, responses((status = 200, description = "Updated"), (status = 404, description = "No such product"), (status = 422, description = "A field is invalid")))]
pub async fn update_product(
    State(state): State<AppState>,
    staff: Staff,
    Path(sku): Path<String>,
    JsonBody(input): JsonBody<ProductInput>,
) -> ApiResult<Json<ProductInfo>> {
    staff.require(&[Role::Manager])?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::bad("sku", e))?;
    if input.sku.as_deref().is_some_and(|s| s != sku.as_str()) {
        return Err(ApiError::invalid("sku", "the sku in the body differs from the one in the path"));
    }
    let product = input.into_product(sku)?;
    save_product(&state.db, &product, false).await?;
    state.catalogue_cache.clear();
    tracing::info!(sku = %product.sku, by = staff.username, "product updated");
    Ok(Json(product))
}

#[utoipa::path(get, path = "/api/locations", responses((status = 200, description = "Every location of the chain")))]
pub async fn list_locations(State(state): State<AppState>) -> ApiResult<Json<Vec<LocationInfo>>> {
    Ok(Json(locations(&state.db).await?))
}

/// Saves a cashier and publishes them to their store only (or to every store for staff who
/// work anywhere): a register holds the PIN hashes of its own cashiers, no others. A cashier
/// who moves is published to the old store as inactive.
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashierInput {
    pub id: u32,
    pub name: String,
    pub store: Option<String>,
    /// Four to eight digits.
    pub pin: String,
    #[serde(default = "yes")]
    pub active: bool,
}

/// Create or update a cashier (admin). The PIN is hashed here and checked at the registers.
#[utoipa::path(post, path = "/api/cashiers", request_body = CashierInput, responses((status = 200, description = "Saved")))]
pub async fn create_cashier(
    State(state): State<AppState>,
    staff: Staff,
    JsonBody(input): JsonBody<CashierInput>,
) -> ApiResult<Json<serde_json::Value>> {
    staff.require(&[])?;
    let id = CashierId::new(input.id).map_err(|e| ApiError::invalid("id", e))?;
    if !(4..=8).contains(&input.pin.len()) || !input.pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid("pin", "a PIN has 4 to 8 digits"));
    }
    let store = input
        .store
        .as_deref()
        .map(LocationCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("store", e))?;
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::invalid("name", "a name has 1 to 60 characters"));
    }
    shared_model::text::check("name", &name, 60).map_err(|e| ApiError::invalid("name", e))?;
    let pin_hash = state.passwords.hash(&input.pin).await?;
    let cashier = CashierInfo { id, name, store, pin_hash, active: input.active };
    let mut tx = state.db.begin().await?;
    save_cashier(&mut tx, &cashier).await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "id": cashier.id, "name": cashier.name })))
}
