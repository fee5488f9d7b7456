//! The checkout saga (DESIGN.md §3b, §4 invariant 7): reserve every line at the logistics
//! centre and create the order, take the payment, confirm. Each step is persisted before the
//! next starts, and each is idempotent:
//!
//! 1. **Reserve and order** (one transaction): the checkout row, keyed by the shopper's
//!    `Idempotency-Key`, at step `ordered`; the cart's version claimed by a conditional update
//!    ([`cart::claim`]), so a cart is ordered once whatever the keys (a second checkout of the
//!    same version is a conflict, and makes no order and no charge); every line reserved by a
//!    conditional update ([`crate::inventory::reserve`]), all or none; the order,
//!    `pending_payment`.
//! 2. **Pay**: the charge is made under the checkout's id as idempotency key, so asking again
//!    can never charge twice. A charge whose answer is lost is settled by asking the processor
//!    what it did under that key ([`super::payments::PaymentGateway::find_charge`]), never by charging again
//!    or refunding blindly.
//! 3. **Confirm** (one transaction): the step moves from `ordered` to `confirmed` by a
//!    conditional update, so only one of the request and the recovery confirms; the reserved
//!    units leave the logistics centre as a movement in the stock ledger, the order is paid,
//!    the channel's figures and the change feed are updated, and the cart lines go.
//!
//! On failure the steps done are compensated in reverse: the order is cancelled, the
//! reservation released and the cart given a new version, so the shopper may check it out
//! again (a payment is refunded if one turns up for a cancelled checkout). A
//! checkout whose request died (a crash, a kill) keeps its lease for [`super::Settings::lease`];
//! then [`super::recovery`] takes it over and finishes it the same way.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared_model::Sku;
use sqlx::FromRow;

use super::accounts::Shopper;
use super::cart::{self, PricedLine};
use super::orders::{self, OrderStatus, OrderView};
use super::payments::{CardNumber, Charge, PaymentError};
use super::status::CheckoutStep;

/// The moves of a checkout's step this module's SQL makes, `(from, to)`: their words are
/// bound from [`CheckoutStep`], and a test checks each is one [`CheckoutStep::may_become`]
/// allows.
const CONFIRM: (CheckoutStep, CheckoutStep) = (CheckoutStep::Ordered, CheckoutStep::Confirmed);
const GIVE_UP: (CheckoutStep, CheckoutStep) = (CheckoutStep::Ordered, CheckoutStep::Cancelled);
use super::{Error, Result, Shop};
use crate::db::Db;
use crate::lease::{Lease, Stamp, lease_one};

/// Why a checkout ended without an order being paid; kept on its row, so the same key answers
/// the same way again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    OutOfStock { sku: String, available: i64, wanted: i64 },
    Declined { reason: String },
    PaymentFailed { detail: String },
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        match failure {
            Failure::OutOfStock { sku, available, wanted } => Error::OutOfStock { sku, available, wanted },
            Failure::Declined { reason } => Error::Declined(reason),
            Failure::PaymentFailed { detail } => Error::PaymentFailed(detail),
        }
    }
}

/// What a checkout came to.
#[derive(Debug)]
pub enum Placed {
    /// Paid and confirmed.
    Confirmed(OrderView),
    /// The processor's answer is not in yet; the order resolves on its own (ask for it again).
    Pending(OrderView),
}

#[derive(Debug, FromRow)]
pub(super) struct CheckoutRow {
    pub customer_id: i64,
    pub fingerprint: String,
    pub step: String,
    pub order_number: Option<i64>,
    pub failure: Option<String>,
}

const COLUMNS: &str = "customer_id, fingerprint, step, order_number, failure";

impl CheckoutRow {
    /// Its step, typed: a word no step has is a corrupt row, never read as another step.
    pub fn step(&self) -> sqlx::Result<CheckoutStep> {
        CheckoutStep::parse(&self.step)
            .ok_or_else(|| crate::db::corrupt("checkouts.step", format!("no checkout step {:?}", self.step)))
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "Idempotency-Key",
            "send an Idempotency-Key header of 1 to 255 visible characters (a UUID is a good one), the same for every retry of one checkout",
        ));
    }
    Ok(())
}

/// What the cart held, as a digest: a key reused for another cart is refused.
fn fingerprint(lines: &[PricedLine]) -> String {
    let mut hash = Sha256::new();
    for line in lines {
        hash.update(format!("{}:{}:{};", line.sku, line.quantity, line.unit_price_cents));
    }
    hex::encode(hash.finalize())
}

async fn find(db: &Db, customer: i64, key: &str) -> sqlx::Result<Option<CheckoutRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM checkouts WHERE customer_id = $1 AND idempotency_key = $2"
    )))
    .bind(customer)
    .bind(key)
    .fetch_optional(db.pool())
    .await
}

pub(super) async fn by_id(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<CheckoutRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM checkouts WHERE id = $1")))
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Checks out the shopper's cart, paying with `card`. The same `key` always answers the same
/// order (or the same refusal); reused for a different cart, it is refused.
#[tracing::instrument(skip_all)]
pub async fn checkout(
    shop: &Shop,
    db: &Db,
    shopper: &Shopper,
    key: &str,
    card: &CardNumber,
) -> Result<Placed> {
    check_key(key)?;
    // The version first: lines read after it are of it or of a later one, which the claim refuses.
    let version = cart::version(db, shopper.customer).await?;
    let contents = cart::contents(db, shopper.customer).await?;
    if contents.is_empty() {
        if let Some(earlier) = find(db, shopper.customer, key).await? {
            return replay(db, earlier, None).await;
        }
        if cart::taken_since(db, shopper.customer, version).await? {
            return Err(Error::Conflict {
                field: Some("cart".into()),
                detail: "this cart was just checked out by another checkout: its lines are an order now \
                         (see your orders); add products for a new one"
                    .into(),
            });
        }
        return Err(Error::invalid("cart", "the cart is empty: add a product first"));
    }
    let skus: Vec<Sku> = contents.iter().map(|(sku, _)| sku.clone()).collect();
    let products = crate::catalogue::products_by_sku(db, &skus).await?;
    let mut lines = Vec::with_capacity(contents.len());
    for (sku, quantity) in &contents {
        match products.get(sku) {
            Some(product) if product.active => lines.push(cart::price(product, *quantity)?),
            _ => {
                return Err(Error::invalid(
                    "cart",
                    format!("{sku} is no longer sold: remove it from the cart"),
                ));
            }
        }
    }
    let print = fingerprint(&lines);
    if let Some(earlier) = find(db, shopper.customer, key).await? {
        return replay(db, earlier, Some(&print)).await;
    }
    let location = shop.fulfilment(db).await?.clone();
    let quote = cart::totals(&lines);
    let id = uuid::Uuid::now_v7().to_string();
    let now = db.now_ms();
    let lease = now.saturating_add(shop.settings.lease_ms()?);

    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO checkouts (id, customer_id, idempotency_key, fingerprint, step, lease_until_ms, created_ms, updated_ms)
         VALUES ($1, $2, $3, $4, 'ordered', $5, $6, $6)",
    )
    .bind(&id)
    .bind(shopper.customer)
    .bind(key)
    .bind(&print)
    .bind(lease)
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        tx.rollback().await?;
        // The same key, at the same moment, from another request: answer what it answers.
        if crate::db::is_unique_violation(&e)
            && let Some(earlier) = find(db, shopper.customer, key).await?
        {
            return replay(db, earlier, Some(&print)).await;
        }
        return Err(e.into());
    }
    if !cart::claim(&mut tx, shopper.customer, version).await?
        || paying(&mut tx, shopper.customer, &id).await?
    {
        tx.rollback().await?;
        return Err(Error::Conflict {
            field: Some("cart".into()),
            detail: format!(
                "this cart (version {version}) is already being checked out or was checked out, or it changed meanwhile: \
                 look at your orders and your cart before checking it out again"
            ),
        });
    }
    let number = orders::create(&mut tx, &id, shopper.customer, location.as_str(), &lines, &quote).await?;
    sqlx::query("UPDATE checkouts SET order_number = $1 WHERE id = $2")
        .bind(number)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    // Last: the stock rows every checkout of these products takes, in the order of their SKUs,
    // held for the commit alone. Short of stock, the order above is rolled back with the rest.
    let wanted: Vec<(Sku, i64)> = contents.clone();
    if let Err(short) = crate::inventory::reserve(&mut tx, &location, &wanted).await? {
        tx.rollback().await?;
        let failure = Failure::OutOfStock {
            sku: short.sku.to_string(),
            available: short.available,
            wanted: short.wanted,
        };
        record_refusal(db, shopper.customer, key, &print, &failure).await?;
        return Err(failure.into());
    }
    tx.commit().await?;
    metrics::counter!("caisse_shop_checkouts_total", "step" => "ordered").increment(1);

    let charge = shop.gateway.charge(&id, quote.total, card).await;
    settle(shop, db, &id, shopper.customer, number, charge).await
}

/// Whether another checkout of the shopper is still being paid: it holds lines the cart still
/// shows, so a changed cart may not be ordered meanwhile. Asked under the cart's claim, which
/// every checkout takes first, so no other checkout can start or end between the two.
async fn paying(conn: &mut sqlx::AnyConnection, customer: i64, id: &str) -> sqlx::Result<bool> {
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM checkouts WHERE customer_id = $1 AND step = 'ordered' AND id <> $2",
    )
    .bind(customer)
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(others > 0)
}

/// A checkout refused before it reserved anything, kept so its key answers the same again.
async fn record_refusal(db: &Db, customer: i64, key: &str, print: &str, failure: &Failure) -> Result<()> {
    let now = db.now_ms();
    let text = serde_json::to_string(failure).map_err(|e| Error::Internal(e.into()))?;
    let stored = db
        .write(
            sqlx::query(
                "INSERT INTO checkouts (id, customer_id, idempotency_key, fingerprint, step, failure, lease_until_ms, created_ms, updated_ms)
                 VALUES ($1, $2, $3, $4, 'refused', $5, 0, $6, $6)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(customer)
            .bind(key)
            .bind(print)
            .bind(text)
            .bind(now),
        )
        .await;
    match stored {
        Err(e) if !crate::db::is_unique_violation(&e) => Err(e.into()),
        _ => Ok(()),
    }
}

/// The answer an earlier checkout under the same key gave, or gives now.
async fn replay(db: &Db, earlier: CheckoutRow, print: Option<&str>) -> Result<Placed> {
    if print.is_some_and(|p| p != earlier.fingerprint) {
        return Err(Error::Conflict {
            field: Some("Idempotency-Key".into()),
            detail: "this Idempotency-Key was used for a checkout of another cart: send a new key for a new checkout".into(),
        });
    }
    if let Some(failure) = &earlier.failure {
        let failure: Failure = serde_json::from_str(failure).map_err(|e| Error::Internal(e.into()))?;
        return Err(failure.into());
    }
    let number = earlier.order_number.ok_or_else(|| Error::NotFound("this checkout has no order".into()))?;
    let order = orders::get(db, earlier.customer_id, number).await?;
    Ok(if earlier.step()? == CheckoutStep::Confirmed {
        Placed::Confirmed(order)
    } else {
        Placed::Pending(order)
    })
}

/// Acts on the processor's answer to the charge of checkout `id`.
async fn settle(
    shop: &Shop,
    db: &Db,
    id: &str,
    customer: i64,
    number: i64,
    charge: Result<Charge, PaymentError>,
) -> Result<Placed> {
    let charge = match charge {
        Err(PaymentError::Ambiguous(why)) => {
            tracing::warn!(checkout = id, why, "the charge's answer was lost: asking the processor");
            shop.gateway.find_charge(id).await
        }
        Err(refused @ PaymentError::Refused(_)) => Err(refused),
        Ok(charge) => Ok(Some(charge)),
    };
    match decide(charge) {
        Decision::Confirm(payment) => {
            confirm(shop, db, id, &payment).await?;
            let order = orders::get(db, customer, number).await?;
            if order.status == OrderStatus::Cancelled {
                return Err(Error::PaymentFailed(
                    "the payment arrived after the checkout was given up: it has been refunded".into(),
                ));
            }
            Ok(Placed::Confirmed(order))
        }
        Decision::Cancel(failure) => {
            cancel(db, id, &failure).await?;
            Err(failure.into())
        }
        Decision::Wait => Ok(Placed::Pending(orders::get(db, customer, number).await?)),
    }
}

/// What to do once the processor has said what it did, or could not say.
pub(super) enum Decision {
    Confirm(String),
    Cancel(Failure),
    /// Nobody knows yet: keep the reservation, the recovery asks again later.
    Wait,
}

pub(super) fn decide(found: Result<Option<Charge>, PaymentError>) -> Decision {
    match found {
        Ok(Some(Charge::Approved { id })) => Decision::Confirm(id),
        Ok(Some(Charge::Declined { reason, .. })) => Decision::Cancel(Failure::Declined { reason }),
        Ok(None) => Decision::Cancel(Failure::PaymentFailed {
            detail: "the card processor failed before charging: nothing was charged, try again".into(),
        }),
        Err(PaymentError::Refused(why)) => {
            tracing::error!(why, "the processor refused a charge request");
            Decision::Cancel(Failure::PaymentFailed {
                detail: "the card processor refused the payment request: nothing was charged".into(),
            })
        }
        Err(PaymentError::Ambiguous(why)) => {
            tracing::warn!(why, "the processor cannot say what became of a charge yet");
            Decision::Wait
        }
    }
}

/// Step 3: the order is paid and its units leave the logistics centre. Only the first of the
/// request and the recovery to get here does it. A payment found for a checkout cancelled in
/// the meantime is refunded.
pub(super) async fn confirm(shop: &Shop, db: &Db, id: &str, payment: &str) -> Result<()> {
    let channel = shop.channel(db).await?.clone();
    let mut tx = db.begin().await?;
    let moved = sqlx::query("UPDATE checkouts SET step = $3, updated_ms = $1 WHERE id = $2 AND step = $4")
        .bind(db.now_ms())
        .bind(id)
        .bind(CONFIRM.1.as_str())
        .bind(CONFIRM.0.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let checkout = by_id(&mut tx, id).await?;
    let number = checkout
        .order_number
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("checkout {id} has no order")))?;
    if moved == 0 {
        tx.rollback().await?;
        if checkout.step()? == CheckoutStep::Cancelled {
            orders::refund_stray_payment(shop, db, number, payment).await?;
        }
        return Ok(());
    }
    let order = orders::mark_paid(&mut tx, number, payment).await?;
    let (location, units) = order.units()?;
    let reference = format!("order:{number}");
    crate::reporting::add_channel(&mut tx, channel.as_str(), &orders::channel_entry(&order, false)).await?;
    cart::take(&mut tx, checkout.customer_id, &order.lines).await?;
    let total = shared_model::Money::from_cents(order.total_cents)
        .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
    orders::tell(
        &mut tx,
        &order,
        "confirmed",
        crate::notify::Notice::OrderConfirmed { order: number, total },
    )
    .await?;
    // Last: the stock rows every checkout of these products takes, each once, in the order of
    // their SKUs, held for the commit alone (the order's own rows above are this checkout's).
    let entries = crate::inventory::take_reserved(&mut tx, &location, &units, &reference).await?;
    crate::feed::publish(&mut tx, entries).await?;
    tx.commit().await?;
    metrics::counter!("caisse_shop_checkouts_total", "step" => "confirmed").increment(1);
    Ok(())
}

/// Compensation: the order is cancelled and its reservation released, once.
pub(super) async fn cancel(db: &Db, id: &str, failure: &Failure) -> Result<()> {
    let text = serde_json::to_string(failure).map_err(|e| Error::Internal(e.into()))?;
    let mut tx = db.begin().await?;
    let moved = sqlx::query(
        "UPDATE checkouts SET step = $4, failure = $1, updated_ms = $2 WHERE id = $3 AND step = $5",
    )
    .bind(text)
    .bind(db.now_ms())
    .bind(id)
    .bind(GIVE_UP.1.as_str())
    .bind(GIVE_UP.0.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        tx.rollback().await?;
        return Ok(());
    }
    let checkout = by_id(&mut tx, id).await?;
    if let Some(number) = checkout.order_number {
        let order = orders::mark_cancelled(&mut tx, number).await?;
        let (location, units) = order.units()?;
        crate::inventory::release(&mut tx, &location, &units).await?;
    }
    // The cart's lines were not taken: a new version, which the shopper may check out again.
    cart::bump(&mut tx, checkout.customer_id).await?;
    tx.commit().await?;
    metrics::counter!("caisse_shop_checkouts_total", "step" => "cancelled").increment(1);
    Ok(())
}

/// Checkouts still at `ordered`, each held by the request that started it until its lease
/// runs out (its request died or gave up); then the recovery takes it over.
const EXPIRED: Lease = Lease {
    table: "checkouts",
    key: "id",
    pending: "step = 'ordered'",
    stamp: Stamp::Until("lease_until_ms"),
    order_by: "lease_until_ms",
    also_set: "",
};

/// Claims one checkout whose lease has run out at `now_ms`, extending the lease to the caller:
/// of several instances racing for it, one wins ([`crate::lease`]).
pub(super) async fn claim_expired(db: &Db, now_ms: i64, lease_ms: i64) -> sqlx::Result<Option<String>> {
    lease_one(db, &EXPIRED, now_ms, lease_ms).await
}

#[cfg(test)]
mod moves {
    use super::*;

    #[test]
    fn each_move_the_sql_makes_is_one_the_step_allows() {
        for (from, to) in [CONFIRM, GIVE_UP] {
            assert!(from.may_become(to), "checkouts move {from} to {to}, which CheckoutStep forbids");
        }
    }
}
