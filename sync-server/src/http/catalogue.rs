//! Products, locations and cashiers: the routes of [`crate::catalogue`], and the product
//! list cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared_model::catalogue::{CashierInfo, LocationInfo, ProductInfo};
use shared_model::{CashierId, LocationCode, Sku};
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Acting;
use super::extract::{JsonBody, QueryParams};
use super::routes::{Policy, Routes};
use crate::catalogue::{self, ProductQuery, fields};
use crate::gateway::keys::Scope;
use crate::identity::{Role, Staff};

/// The public catalogue: anyone may read it, an integration with a key, and the shop's pages.
const CATALOGUE: Policy = Policy::anyone().key(Scope::CatalogueRead).shop_pages();

pub fn routes() -> Routes {
    Routes::tagged("catalogue")
        .route(CATALOGUE, routes!(list_products))
        .route(CATALOGUE, routes!(get_product))
        .route(Policy::anyone().key(Scope::CatalogueRead), routes!(list_locations))
        .route(Policy::office().key(Scope::CatalogueRead), routes!(list_details))
        .route(Policy::office(), routes!(create_product))
        .route(Policy::office(), routes!(update_product))
        .route(Policy::office(), routes!(product_reach))
        .route(Policy::office(), routes!(create_cashier))
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
    /// Head office's own description (pages only); kept as it is when absent.
    #[serde(default)]
    pub description: Option<String>,
    /// The most a location should hold (0: no maximum); kept as it is when absent.
    #[serde(default)]
    pub max_level: Option<u32>,
}

fn yes() -> bool {
    true
}

impl ProductInput {
    /// The [`catalogue::Extras`] the input sets, if it sets any (absent fields keep theirs).
    fn extras(&self, current: Option<catalogue::Extras>) -> ApiResult<Option<catalogue::Extras>> {
        if self.description.is_none() && self.max_level.is_none() {
            return Ok(None);
        }
        let current = current.unwrap_or_default();
        let description = self.description.as_deref().unwrap_or(&current.description);
        let max_level = self.max_level.unwrap_or(current.max_level);
        Ok(Some(fields::extras(description, max_level, self.reorder_threshold).map_err(invalid)?))
    }

    fn into_product(self, sku: Sku) -> ApiResult<ProductInfo> {
        let product = ProductInfo {
            sku,
            name: fields::name(&self.name).map_err(invalid)?,
            category: fields::category(&self.category).map_err(invalid)?,
            barcodes: fields::barcodes(self.barcodes.iter().map(String::as_str)).map_err(invalid)?,
            price: fields::price(&self.price).map_err(invalid)?,
            tax_class: fields::tax_class(&self.tax_class).map_err(invalid)?,
            reorder_threshold: fields::reorder_threshold(self.reorder_threshold).map_err(invalid)?,
            active: self.active,
        };
        product.check().map_err(|(field, e)| ApiError::invalid(field, e))?;
        Ok(product)
    }
}

fn invalid(refusal: fields::Refusal) -> ApiError {
    ApiError::invalid(refusal.field, refusal.reason)
}

/// How long an instance serves a product list from memory as fresh.
const LIST_TTL: Duration = Duration::from_secs(1);
/// How long past that it may serve the previous answer while one request refills the entry.
const LIST_STALE_MOST: Duration = Duration::from_secs(5);
const LIST_ENTRIES: usize = 4_096;

/// Product list answers, kept for a second: the shop and head office browse the catalogue far
/// more often than it changes. A product written through this instance clears it at once,
/// and, on PostgreSQL, the other instances' too (their relay of this instance's announcement,
/// `events.rs`); were that notification lost, another instance serves what it holds for at
/// most [`LIST_TTL`], plus the time one request takes to refill it (never past
/// [`LIST_STALE_MOST`]). Registers never read this: they pull changes through the feed.
///
/// When an entry expires, the first request to see it refills it and the others are answered
/// the previous value meanwhile: without that, every connection missed at once and queued on
/// the database pool (the p99 tail measured in BENCHMARKS.md).
#[derive(Debug, Default)]
pub struct ListCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Bumped by [`ListCache::clear`]: a refill begun before a write does not store what it read.
    generation: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
struct Entry {
    at: Instant,
    body: Bytes,
    /// A request is refilling this entry: the others take `body` meanwhile.
    refilling: bool,
}

/// What the cache answers a request.
#[derive(Debug)]
enum Lookup {
    Fresh(Bytes),
    /// Expired, and another request is refilling it.
    Stale(Bytes),
    /// The caller reads the database and puts what it read, with this generation.
    Refill(u64),
}

impl ListCache {
    fn lookup(&self, key: &str) -> Lookup {
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let Ok(mut entries) = self.entries.lock() else { return Lookup::Refill(generation) };
        match entries.get_mut(key) {
            Some(entry) if entry.at.elapsed() < LIST_TTL => Lookup::Fresh(entry.body.clone()),
            Some(entry) if entry.at.elapsed() < LIST_TTL + LIST_STALE_MOST => {
                if entry.refilling {
                    Lookup::Stale(entry.body.clone())
                } else {
                    entry.refilling = true;
                    Lookup::Refill(generation)
                }
            }
            _ => Lookup::Refill(generation),
        }
    }

    fn put(&self, key: String, body: Bytes, generation: u64) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if self.generation.load(std::sync::atomic::Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= LIST_ENTRIES && !entries.contains_key(&key) {
            entries.retain(|_, entry| entry.at.elapsed() < LIST_TTL);
            if entries.len() >= LIST_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, Entry { at: Instant::now(), body, refilling: false });
    }

    /// A refill that failed: the next request tries again.
    fn abandon(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some(entry) = entries.get_mut(key)
        {
            entry.refilling = false;
        }
    }

    pub fn clear(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
    QueryParams(query): QueryParams<ProductQuery>,
) -> ApiResult<Response> {
    let key = raw.unwrap_or_default();
    let cache = &state.catalogue_cache;
    let body = match cache.lookup(&key) {
        Lookup::Fresh(body) | Lookup::Stale(body) => body,
        Lookup::Refill(generation) => {
            let read = async {
                let list = state.listing.products(&query).await?;
                // Sized for a product's usual length: growing from serde_json's default of 128
                // bytes copied a page several times over.
                let mut body = Vec::with_capacity(64 + list.len() * 256);
                serde_json::to_writer(&mut body, &list).map_err(|e| ApiError::Internal(e.into()))?;
                Ok::<_, ApiError>(Bytes::from(body))
            };
            match read.await {
                Ok(body) => {
                    cache.put(key, body.clone(), generation);
                    body
                }
                Err(e) => {
                    cache.abandon(&key);
                    return Err(e);
                }
            }
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
    Ok(Json(catalogue::product(&state.db, &sku).await?))
}

/// Create a product (admin, manager). It reaches every register on its next pull.
#[utoipa::path(post, path = "/api/products", request_body = ProductInput, responses((status = 201, description = "Created"), (status = 409, description = "The SKU exists"), (status = 422, description = "A field is invalid")))]
pub async fn create_product(
    State(state): State<AppState>,
    acting: Acting,
    JsonBody(input): JsonBody<ProductInput>,
) -> ApiResult<(StatusCode, Json<ProductInfo>)> {
    acting.staff.require(&[Role::Manager])?;
    let sku = input.sku.clone().ok_or_else(|| ApiError::invalid("sku", "a new product needs a sku"))?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::invalid("sku", e))?;
    let extras = input.extras(None)?;
    let product = input.into_product(sku)?;
    catalogue::save_product_with(&state.db, &product, extras.as_ref(), true, &acting.actor).await?;
    state.events.send(super::events::Topic::Catalogue);
    state.catalogue_cache.clear();
    tracing::info!(sku = %product.sku, by = acting.staff.username, "product created");
    Ok((StatusCode::CREATED, Json(product)))
}

/// Replace a product's name, category, barcodes, price, tax class, threshold or status (admin, manager).
#[utoipa::path(put, path = "/api/products/{sku}", request_body = ProductInput, responses((status = 200, description = "Updated"), (status = 404, description = "No such product"), (status = 422, description = "A field is invalid")))]
pub async fn update_product(
    State(state): State<AppState>,
    acting: Acting,
    Path(sku): Path<String>,
    JsonBody(input): JsonBody<ProductInput>,
) -> ApiResult<Json<ProductInfo>> {
    acting.staff.require(&[Role::Manager])?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::bad("sku", e))?;
    if input.sku.as_deref().is_some_and(|s| s != sku.as_str()) {
        return Err(ApiError::invalid("sku", "the sku in the body differs from the one in the path"));
    }
    let current = match input.description.is_some() != input.max_level.is_some() {
        true => Some(catalogue::product_details(&state.db, &sku).await?.extras),
        false => None,
    };
    let extras = input.extras(current)?;
    let product = input.into_product(sku)?;
    catalogue::save_product_with(&state.db, &product, extras.as_ref(), false, &acting.actor).await?;
    state.events.send(super::events::Topic::Catalogue);
    state.catalogue_cache.clear();
    tracing::info!(sku = %product.sku, by = acting.staff.username, "product updated");
    Ok(Json(product))
}

/// Products with what only head office keeps of them: description and maximum level (every role).
#[utoipa::path(get, path = "/api/catalogue", params(ProductQuery), responses((status = 200, description = "Products in SKU order, with description and max_level")))]
pub async fn list_details(
    State(state): State<AppState>,
    _staff: Staff,
    QueryParams(query): QueryParams<ProductQuery>,
) -> ApiResult<Json<Vec<catalogue::ProductDetails>>> {
    Ok(Json(catalogue::details(&state.db, &state.listing, &query).await?))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReachView {
    pub sku: String,
    /// The feed version the product's latest change was published at.
    pub version: i64,
    /// Registers that have pulled that change.
    pub reached: i64,
    /// Registers enrolled and not revoked.
    pub registers: i64,
}

/// How many registers have pulled a product's latest change (every role).
#[utoipa::path(get, path = "/api/products/{sku}/reach", responses((status = 200, description = "Registers reached", body = ReachView)))]
pub async fn product_reach(
    State(state): State<AppState>,
    _staff: Staff,
    Path(sku): Path<String>,
) -> ApiResult<Json<ReachView>> {
    let sku = Sku::parse(&sku).map_err(|e| ApiError::bad("sku", e))?;
    let version = crate::feed::version_of(&state.db, "product", sku.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no product {sku}")))?;
    let reach = crate::identity::reach(&state.db, version).await?;
    Ok(Json(ReachView { sku: sku.into(), version, reached: reach.reached, registers: reach.registers }))
}

#[utoipa::path(get, path = "/api/locations", responses((status = 200, description = "Every location of the chain")))]
pub async fn list_locations(State(state): State<AppState>) -> ApiResult<Json<Vec<LocationInfo>>> {
    Ok(Json(catalogue::locations(&state.db).await?))
}

/// Saves a cashier and publishes them to their store only (or to every store for staff who
/// work anywhere): a register holds the PIN hashes of its own cashiers, no others. A cashier
/// who moves is published to the old store as inactive.
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
    catalogue::put_cashier(&state.db, &cashier).await?;
    Ok(Json(serde_json::json!({ "id": cashier.id, "name": cashier.name })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expire(cache: &ListCache, key: &str) {
        let mut entries = cache.entries.lock().unwrap();
        entries.get_mut(key).unwrap().at = Instant::now() - LIST_TTL - Duration::from_millis(10);
    }

    #[test]
    fn an_expired_entry_is_refilled_by_one_request_while_the_others_get_the_previous_answer() {
        let cache = ListCache::default();
        let Lookup::Refill(generation) = cache.lookup("q") else { panic!("an empty cache refills") };
        cache.put("q".into(), Bytes::from_static(b"v1"), generation);
        assert!(matches!(cache.lookup("q"), Lookup::Fresh(b) if b == "v1"));
        expire(&cache, "q");
        let Lookup::Refill(generation) = cache.lookup("q") else { panic!("the first after expiry refills") };
        for _ in 0..10 {
            assert!(matches!(cache.lookup("q"), Lookup::Stale(b) if b == "v1"));
        }
        cache.put("q".into(), Bytes::from_static(b"v2"), generation);
        assert!(matches!(cache.lookup("q"), Lookup::Fresh(b) if b == "v2"));
    }

    #[test]
    fn a_failed_refill_hands_the_turn_on() {
        let cache = ListCache::default();
        cache.put("q".into(), Bytes::from_static(b"v1"), 0);
        expire(&cache, "q");
        assert!(matches!(cache.lookup("q"), Lookup::Refill(_)));
        cache.abandon("q");
        assert!(matches!(cache.lookup("q"), Lookup::Refill(_)));
    }

    #[test]
    fn a_refill_begun_before_a_write_does_not_store_what_it_read() {
        let cache = ListCache::default();
        let Lookup::Refill(generation) = cache.lookup("q") else { panic!() };
        cache.clear();
        cache.put("q".into(), Bytes::from_static(b"before the write"), generation);
        assert!(matches!(cache.lookup("q"), Lookup::Refill(_)));
    }
}
