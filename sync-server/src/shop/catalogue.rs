//! The catalogue as shoppers see it: products on sale, searched by name, category and price,
//! each with what can be ordered online now (the logistics centre's stock less the units
//! reserved by checkouts under way).

use serde::{Deserialize, Serialize};
use shared_model::catalogue::ProductInfo;
use shared_model::{Money, Sku};

use super::{Error, Result, Shop};
use crate::catalogue::{Listing, ProductQuery, ShopFilter};
use crate::db::Db;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct Search {
    /// Part of the name (case and accents ignored) or of the SKU.
    pub q: Option<String>,
    pub category: Option<String>,
    /// Lowest price, in dollars ("4.99").
    pub min_price: Option<String>,
    /// Highest price, in dollars ("20").
    pub max_price: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 100 (default 24).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShopProduct {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub price_cents: i64,
    /// standard, zero_rated or gst_only.
    pub tax_class: String,
    /// Units that can be ordered online now.
    pub available: i64,
    pub available_online: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductPage {
    pub products: Vec<ShopProduct>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

fn price(field: &'static str, text: Option<&str>) -> Result<Option<Money>> {
    text.map(|t| {
        Money::parse(t).map_err(|e| Error::invalid(field, e)).and_then(|m| {
            if m.is_negative() { Err(Error::invalid(field, "a price is not negative")) } else { Ok(m) }
        })
    })
    .transpose()
}

fn view(product: ProductInfo, available: i64) -> ShopProduct {
    ShopProduct {
        sku: product.sku.to_string(),
        name: product.name,
        category: product.category,
        price_cents: product.price.as_cents(),
        tax_class: product.tax_class.code().into(),
        available,
        available_online: available > 0,
    }
}

/// A page of products on sale matching `search`, in SKU order.
#[tracing::instrument(skip_all)]
pub async fn search(shop: &Shop, db: &Db, listing: &Listing, search: &Search) -> Result<ProductPage> {
    let limit = search.limit.unwrap_or(24);
    if !(1..=100).contains(&limit) {
        return Err(Error::invalid("limit", "limit is between 1 and 100"));
    }
    let (min, max) =
        (price("min_price", search.min_price.as_deref())?, price("max_price", search.max_price.as_deref())?);
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(Error::invalid("max_price", "max_price is at least min_price"));
    }
    let query = ProductQuery {
        q: search.q.clone(),
        category: search.category.clone(),
        barcode: None,
        limit: Some(limit),
        after: search.after.clone(),
    };
    let filter = ShopFilter { min_price: min, max_price: max, on_sale_only: true };
    let products = listing.search(&query, filter).await?;
    let next =
        (products.len() == limit as usize).then(|| products.last().map(|p| p.sku.to_string())).flatten();
    let skus: Vec<Sku> = products.iter().map(|p| p.sku.clone()).collect();
    let location = shop.fulfilment(db).await?;
    let available = crate::inventory::available(db, location, &skus).await?;
    let products = products
        .into_iter()
        .map(|p| {
            let a = available.get(&p.sku).copied().unwrap_or(0);
            view(p, a)
        })
        .collect();
    Ok(ProductPage { products, next })
}

/// One product on sale, with its availability.
#[tracing::instrument(skip_all)]
pub async fn one(shop: &Shop, db: &Db, sku: &str) -> Result<ShopProduct> {
    let sku = Sku::parse(sku).map_err(|e| Error::invalid("sku", e))?;
    let product = crate::catalogue::product(db, &sku).await?;
    if !product.active {
        return Err(Error::NotFound(format!("{sku} is no longer sold")));
    }
    let location = shop.fulfilment(db).await?;
    let available = crate::inventory::available(db, location, std::slice::from_ref(&sku)).await?;
    Ok(view(product, available.get(&sku).copied().unwrap_or(0)))
}
