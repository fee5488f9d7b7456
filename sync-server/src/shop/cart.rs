//! The shopper's cart: kept on the server (it survives a restart and follows the shopper from
//! one device to another) as products and quantities only. Prices, taxes and availability are
//! those of the moment it is read, computed by `shared_model`'s sale arithmetic, so the cart
//! shows what the checkout will charge.
//!
//! Every change to a cart's lines gives it a new version (the `carts` table), in the change's
//! transaction. A checkout claims the version it read ([`claim`]), so one version of a cart is
//! ordered and charged once, however many checkouts of it race with whatever keys; a checkout
//! that takes the lines, or fails, gives the cart a new version, which may be checked out.

use serde::{Deserialize, Serialize};
use shared_model::catalogue::ProductInfo;
use shared_model::sale::{Quote, SaleLine};
use shared_model::{Money, Quantity, Sku};
use sqlx::FromRow;

use super::accounts::Shopper;
use super::{Error, Result, Shop};
use crate::db::{Db, now_ms};

/// Most lines a cart holds.
pub const MAX_LINES: i64 = 100;
/// Most units of one product in one order: what the shop sells online to one shopper.
pub const MAX_PER_LINE: i64 = 20;

#[derive(Debug, FromRow)]
struct LineRow {
    sku: String,
    quantity: i64,
}

/// One line of an order or a cart, priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PricedLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
    /// standard, zero_rated or gst_only.
    pub tax_class: String,
    pub net_cents: i64,
    pub gst_cents: i64,
    pub qst_cents: i64,
    pub total_cents: i64,
}

/// A cart as the shopper sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CartView {
    /// Goes up with every change to the lines, and with every checkout that takes or fails them.
    pub version: i64,
    pub lines: Vec<CartLine>,
    pub net_cents: i64,
    pub gst_cents: i64,
    pub qst_cents: i64,
    pub total_cents: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CartLine {
    #[serde(flatten)]
    pub line: PricedLine,
    /// Units that can be ordered online now.
    pub available: i64,
    /// False when the product was retired since it was added: it cannot be checked out.
    pub on_sale: bool,
}

/// Prices `quantity` units of `product` as of now.
pub fn price(product: &ProductInfo, quantity: i64) -> Result<PricedLine> {
    let units = u32::try_from(quantity)
        .ok()
        .and_then(|q| Quantity::new(q).ok())
        .ok_or_else(|| Error::invalid("quantity", format!("a quantity is between 1 and {MAX_PER_LINE}")))?;
    let line = SaleLine {
        sku: product.sku.clone(),
        description: product.name.clone(),
        barcode: None,
        unit_price: product.price,
        quantity: units,
        tax_class: product.tax_class,
        discount: None,
    };
    let amounts = line.amounts().map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
    Ok(PricedLine {
        sku: product.sku.to_string(),
        name: product.name.clone(),
        quantity,
        unit_price_cents: product.price.as_cents(),
        tax_class: product.tax_class.code().into(),
        net_cents: amounts.net.as_cents(),
        gst_cents: amounts.taxes.gst.as_cents(),
        qst_cents: amounts.taxes.qst.as_cents(),
        total_cents: amounts.total.as_cents(),
    })
}

/// The totals of priced lines, summed as `shared_model` sums a sale.
pub fn totals(lines: &[PricedLine]) -> Quote {
    let add = |f: fn(&PricedLine) -> i64| Money::cents(lines.iter().map(f).sum());
    let net = add(|l| l.net_cents);
    let (gst, qst) = (add(|l| l.gst_cents), add(|l| l.qst_cents));
    Quote { gross: net, discounts: Money::ZERO, net, gst, qst, total: net + gst + qst }
}

fn parse_sku(text: &str) -> Result<Sku> {
    Sku::parse(text).map_err(|e| Error::invalid("sku", e))
}

fn check_quantity(quantity: i64) -> Result<()> {
    if !(1..=MAX_PER_LINE).contains(&quantity) {
        return Err(Error::invalid(
            "quantity",
            format!(
                "a quantity is between 1 and {MAX_PER_LINE} (the most sold online in one order); remove a line to drop it"
            ),
        ));
    }
    Ok(())
}

/// A product a shopper may put in a cart: it exists and is on sale.
async fn on_sale(db: &Db, sku: &Sku) -> Result<ProductInfo> {
    let product = crate::catalogue::product(db, sku).await.map_err(|e| match e {
        crate::catalogue::Error::NotFound(_) => Error::invalid("sku", format!("there is no product {sku}")),
        other => other.into(),
    })?;
    if !product.active {
        return Err(Error::invalid("sku", format!("{sku} is no longer sold")));
    }
    Ok(product)
}

/// Sets the quantity of `sku` in the cart (adding the line if `add` and it is new, or adding
/// to its quantity). A cart holds at most [`MAX_LINES`] lines.
#[tracing::instrument(skip_all)]
pub async fn put_line(
    shop: &Shop,
    db: &Db,
    shopper: &Shopper,
    sku: &str,
    quantity: i64,
    add: bool,
) -> Result<CartView> {
    let sku = parse_sku(sku)?;
    check_quantity(quantity)?;
    on_sale(db, &sku).await?;
    let mut tx = db.begin().await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT quantity FROM cart_lines WHERE customer_id = $1 AND sku = $2")
            .bind(shopper.customer)
            .bind(sku.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let wanted = if add { current.unwrap_or(0) + quantity } else { quantity };
    check_quantity(wanted)?;
    if current.is_none() {
        let lines: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cart_lines WHERE customer_id = $1")
            .bind(shopper.customer)
            .fetch_one(&mut *tx)
            .await?;
        if lines >= MAX_LINES {
            return Err(Error::invalid("sku", format!("a cart holds at most {MAX_LINES} lines")));
        }
    }
    sqlx::query(
        "INSERT INTO cart_lines (customer_id, sku, quantity, added_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (customer_id, sku) DO UPDATE SET quantity = excluded.quantity",
    )
    .bind(shopper.customer)
    .bind(sku.as_str())
    .bind(wanted)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    bump(&mut tx, shopper.customer).await?;
    tx.commit().await?;
    view(shop, db, shopper).await
}

/// Takes `sku` out of the cart.
#[tracing::instrument(skip_all)]
pub async fn remove_line(shop: &Shop, db: &Db, shopper: &Shopper, sku: &str) -> Result<CartView> {
    let sku = parse_sku(sku)?;
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM cart_lines WHERE customer_id = $1 AND sku = $2")
        .bind(shopper.customer)
        .bind(sku.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(Error::NotFound(format!("{sku} is not in the cart")));
    }
    bump(&mut tx, shopper.customer).await?;
    tx.commit().await?;
    view(shop, db, shopper).await
}

/// Gives the cart a new version, in the caller's transaction (its lines changed, or a checkout
/// of them failed and they may be checked out again).
pub(super) async fn bump(conn: &mut sqlx::AnyConnection, customer: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO carts (customer_id, version) VALUES ($1, 1)
         ON CONFLICT (customer_id) DO UPDATE SET version = carts.version + 1",
    )
    .bind(customer)
    .execute(conn)
    .await?;
    Ok(())
}

/// The cart's version now (0 for a cart never changed). Read before its lines, so lines read
/// after it are of this version or a later one, which [`claim`] then refuses.
pub(super) async fn version(db: &Db, customer: i64) -> sqlx::Result<i64> {
    let version: Option<i64> = sqlx::query_scalar("SELECT version FROM carts WHERE customer_id = $1")
        .bind(customer)
        .fetch_optional(db.pool())
        .await?;
    Ok(version.unwrap_or(0))
}

/// Claims version `version` of the cart for a checkout, in its transaction, by a conditional
/// update (never read-then-write): false when the cart changed since, or when this version was
/// already claimed by another checkout. The row lock makes racing claims of one version wait
/// until the first commits, and all but the first then find it claimed.
pub(super) async fn claim(conn: &mut sqlx::AnyConnection, customer: i64, version: i64) -> sqlx::Result<bool> {
    sqlx::query("INSERT INTO carts (customer_id) VALUES ($1) ON CONFLICT (customer_id) DO NOTHING")
        .bind(customer)
        .execute(&mut *conn)
        .await?;
    let claimed = sqlx::query(
        "UPDATE carts SET claimed_version = version
         WHERE customer_id = $1 AND version = $2 AND claimed_version < version",
    )
    .bind(customer)
    .bind(version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// The cart's products and quantities, in SKU order.
pub(super) async fn contents(db: &Db, customer: i64) -> Result<Vec<(Sku, i64)>> {
    let rows: Vec<LineRow> =
        sqlx::query_as("SELECT sku, quantity FROM cart_lines WHERE customer_id = $1 ORDER BY sku")
            .bind(customer)
            .fetch_all(db.pool())
            .await?;
    rows.into_iter()
        .map(|r| {
            let sku = Sku::parse(&r.sku)
                .map_err(|e| Error::Internal(anyhow::anyhow!("cart line {}: {e}", r.sku)))?;
            Ok((sku, r.quantity))
        })
        .collect()
}

/// Empties the given lines of the cart (those a checkout took), in the checkout's transaction.
pub(super) async fn take(
    conn: &mut sqlx::AnyConnection,
    customer: i64,
    lines: &[PricedLine],
) -> sqlx::Result<()> {
    for line in lines {
        sqlx::query("DELETE FROM cart_lines WHERE customer_id = $1 AND sku = $2 AND quantity <= $3")
            .bind(customer)
            .bind(line.sku.as_str())
            .bind(line.quantity)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE cart_lines SET quantity = quantity - $3 WHERE customer_id = $1 AND sku = $2")
            .bind(customer)
            .bind(line.sku.as_str())
            .bind(line.quantity)
            .execute(&mut *conn)
            .await?;
    }
    // The claim made the row: a new version, marked as the one this checkout left.
    sqlx::query("UPDATE carts SET version = version + 1, taken_version = version + 1 WHERE customer_id = $1")
        .bind(customer)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a checkout took the cart's lines since it was at `version` (read before its lines),
/// and nothing changed them after: a checkout that finds it empty then came late for that one.
pub(super) async fn taken_since(db: &Db, customer: i64, version: i64) -> sqlx::Result<bool> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT version, taken_version FROM carts WHERE customer_id = $1")
            .bind(customer)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.is_some_and(|(now, taken)| taken == now && taken >= version))
}

/// The cart, priced as of now, with what is available online.
#[tracing::instrument(skip_all)]
pub async fn view(shop: &Shop, db: &Db, shopper: &Shopper) -> Result<CartView> {
    let version = version(db, shopper.customer).await?;
    let contents = contents(db, shopper.customer).await?;
    let skus: Vec<Sku> = contents.iter().map(|(sku, _)| sku.clone()).collect();
    let products = crate::catalogue::products_by_sku(db, &skus).await?;
    let location = shop.fulfilment(db).await?;
    let available = crate::inventory::available(db, location, &skus).await?;
    let mut lines = Vec::with_capacity(contents.len());
    for (sku, quantity) in contents {
        let Some(product) = products.get(&sku) else { continue };
        lines.push(CartLine {
            line: price(product, quantity)?,
            available: available.get(&sku).copied().unwrap_or(0),
            on_sale: product.active,
        });
    }
    let priced: Vec<PricedLine> = lines.iter().map(|l| l.line.clone()).collect();
    let quote = totals(&priced);
    Ok(CartView {
        version,
        lines,
        net_cents: quote.net.as_cents(),
        gst_cents: quote.gst.as_cents(),
        qst_cents: quote.qst.as_cents(),
        total_cents: quote.total.as_cents(),
    })
}
