//! Online orders brought back to a store.
//!
//! A register looks the order up ([`order_for_return`]), takes the return like a receipt's and
//! records it; the record names the order and pays nothing out at the till. When the record
//! reaches head office, the transaction that stores it also writes what the return owes the
//! shopper's card ([`owe`]): one row per record, so a record pushed twice owes once. The refund
//! itself is asked of the card processor afterwards ([`settle_due`], from the recovery loop)
//! with the record's id as idempotency key: a crash, a lost answer or two instances asking at
//! once still refund once. The goods enter the store's stock and the return its figures by the
//! same path as any return.
//!
//! What is owed never exceeds what the order was paid less what was already refunded of it.
//! A return head office cannot honour (no such order, an order not shipped yet, nothing left to
//! refund) is kept and flagged, like any return: the till gave the goods back, a person decides.

use serde::Serialize;
use shared_model::protocol::{OrderForReturn, OrderLineForReturn};
use shared_model::returns::Return;
use shared_model::{Money, OrderNumber, Quantity, Record, RecordBody, Sku, TaxClass};
use sqlx::{AnyConnection, FromRow};

use super::payments::PaymentError;
use super::{Error, Result, Shop, orders};
use crate::alerts::{self, Alert, Kind};
use crate::db::{Db, from_i64, lock_keys, now_ms, parse, to_i64};

/// The statuses in which an order may come back to a store: it has reached the shopper.
const RETURNABLE: &[&str] = &["shipped", "delivered"];

/// An online order with its lines' amounts and what came back of each, for a register.
#[tracing::instrument(skip_all)]
pub async fn order_for_return(db: &Db, number: OrderNumber) -> Result<OrderForReturn> {
    let key = key_of(number)?;
    let mut conn = db.pool().acquire().await?;
    let order = orders::read(&mut conn, key)
        .await?
        .ok_or_else(|| Error::NotFound(format!("head office has no online order {number}")))?;
    let returned = crate::sales::returned_of_order(&mut conn, key)
        .await?
        .into_iter()
        // A count past u32 still says "all of it": clamped on purpose, so it always fits.
        .map(|(line, units)| {
            Ok((line, from_i64("return_lines.quantity", units.clamp(0, i64::from(u32::MAX)))?))
        })
        .collect::<sqlx::Result<_>>()?;
    let lines = order
        .lines
        .iter()
        .map(|line| {
            let corrupt = |what: &str| crate::db::corrupt("orders.lines", what);
            Ok(OrderLineForReturn {
                sku: parse::<Sku>("orders.lines", &line.sku)?,
                description: line.name.chars().take(shared_model::sale::MAX_DESCRIPTION).collect(),
                quantity: u32::try_from(line.quantity)
                    .ok()
                    .and_then(|q| Quantity::new(q).ok())
                    .ok_or_else(|| corrupt(&line.quantity.to_string()))?,
                tax_class: TaxClass::from_code(&line.tax_class).ok_or_else(|| corrupt(&line.tax_class))?,
                net: money(line.net_cents)?,
                gst: money(line.gst_cents)?,
                qst: money(line.qst_cents)?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    Ok(OrderForReturn {
        number,
        status: order.status.clone(),
        business_day: order.business_day.as_deref().map(|d| parse("orders.business_day", d)).transpose()?,
        total: money(order.total_cents)?,
        lines,
        returned,
    })
}

/// The order's key in the orders table (an order number always fits).
fn key_of(number: OrderNumber) -> sqlx::Result<i64> {
    Ok(to_i64("order number", number.get())?)
}

fn money(cents: i64) -> sqlx::Result<Money> {
    Money::from_cents(cents).map_err(|e| crate::db::corrupt("orders amount", e))
}

/// Writes what the store returns of online orders among `records` (all new to head office)
/// owe, in the transaction that stores them. Over-returns and returns that cannot be honoured
/// are flagged.
#[tracing::instrument(skip_all)]
pub async fn owe(conn: &mut AnyConnection, records: &[&Record]) -> sqlx::Result<()> {
    let returns: Vec<(&Record, &Return, OrderNumber)> = records
        .iter()
        .filter_map(|r| match &r.body {
            RecordBody::Return(ret) => ret.online_order.map(|n| (*r, ret, n)),
            _ => None,
        })
        .collect();
    if returns.is_empty() {
        return Ok(());
    }
    // Two stores' returns of one order, pushed at once, are weighed one after the other.
    let keys: Vec<String> = returns.iter().map(|(_, _, n)| format!("order:{n}")).collect();
    lock_keys(conn, &keys).await?;
    for (record, ret, number) in returns {
        let key = key_of(number)?;
        let asked = ret.totals.refunded().as_cents();
        let (amount, status, reason) = match orders::read(conn, key).await? {
            None => (0, "refused", Some(format!("head office has no online order {number}"))),
            Some(order) if !RETURNABLE.contains(&order.status.as_str()) => (
                0,
                "refused",
                Some(format!(
                    "online order {number} is {}: only a shipped order comes back to a store",
                    order.status
                )),
            ),
            Some(order) => {
                over_returns(conn, record, number, &order).await?;
                let by_returns = owed_of_order(conn, key).await?;
                let by_claims = crate::claims::refunds::owed_of_order(conn, key).await?;
                // Checked: amounts that overflow are corrupt, never wrapped into a refund.
                let left = by_returns
                    .checked_add(by_claims)
                    .and_then(|owed| order.total_cents.checked_sub(owed))
                    .ok_or_else(|| {
                        crate::db::corrupt(
                            "order_refunds.amount",
                            format!("the refunds of order {number} overflow"),
                        )
                    })?;
                if left <= 0 {
                    (0, "refused", Some(format!("online order {number} is already refunded in full")))
                } else if asked > left {
                    (
                        left,
                        "pending",
                        Some(format!("{} asked, only {} left to refund", cents(asked), cents(left))),
                    )
                } else {
                    (asked, "pending", None)
                }
            }
        };
        let now = now_ms();
        // `updated_ms` 0: never asked yet, so the next settling round takes it at once.
        sqlx::query(
            "INSERT INTO order_refunds (record_id, order_number, store, amount, status, reason, created_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
        )
        .bind(record.id.to_string())
        .bind(key)
        .bind(record.store.as_str())
        .bind(amount)
        .bind(status)
        .bind(reason.clone())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if let Some(reason) = reason {
            let alert = Alert {
                location: Some(record.store.clone()),
                record_id: Some(record.id),
                message: format!(
                    "return {} of online order {number} at {}: {reason}",
                    record.id, record.store
                ),
                ..Alert::default()
            };
            alerts::raise(conn, Kind::RefundFailed, &record.id.to_string(), alert).await?;
        }
    }
    Ok(())
}

/// What store returns of order `number` owe or have refunded to the shopper's card.
pub(crate) async fn owed_of_order(conn: &mut AnyConnection, number: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM order_refunds
         WHERE order_number = $1 AND status IN ('pending', 'refunded')",
    )
    .bind(number)
    .fetch_one(conn)
    .await
}

fn cents(amount: i64) -> String {
    Money::from_cents(amount).map_or_else(|_| format!("{amount} cents"), |m| m.to_string())
}

/// Flags the lines of `order` of which more came back than was sold, all stores together.
async fn over_returns(
    conn: &mut AnyConnection,
    record: &Record,
    number: OrderNumber,
    order: &orders::OrderView,
) -> sqlx::Result<()> {
    let returned = crate::sales::returned_of_order(conn, key_of(number)?).await?;
    for (line, units) in returned {
        let sold = order.lines.get(usize::from(line)).map(|l| l.quantity);
        if sold.is_some_and(|sold| units <= sold) {
            continue;
        }
        let message = match sold {
            Some(sold) => {
                format!("{units} returned of line {line} of online order {number}, which sold {sold}")
            }
            None => {
                format!("{units} returned of line {line} of online order {number}, which has no such line")
            }
        };
        let alert = Alert {
            location: Some(record.store.clone()),
            record_id: Some(record.id),
            message,
            ..Alert::default()
        };
        alerts::raise(conn, Kind::OverReturn, &format!("{number}/{line}"), alert).await?;
    }
    Ok(())
}

/// A refund owed to a shopper's card, as the shopper's order shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoreRefund {
    /// The store that took the goods back.
    pub store: String,
    /// The return's record id, printed on its receipt.
    pub record_id: String,
    pub amount_cents: i64,
    /// pending, refunded, failed or refused.
    pub status: String,
    /// The processor's refund id, once refunded.
    pub refund_id: Option<String>,
}

#[derive(Debug, FromRow)]
struct RefundRow {
    record_id: String,
    order_number: i64,
    store: String,
    amount: i64,
    status: String,
    refund_id: Option<String>,
}

impl From<RefundRow> for StoreRefund {
    fn from(row: RefundRow) -> StoreRefund {
        StoreRefund {
            store: row.store,
            record_id: row.record_id,
            amount_cents: row.amount,
            status: row.status,
            refund_id: row.refund_id,
        }
    }
}

/// The store returns of one order, oldest first.
pub(super) async fn of_order(conn: &mut AnyConnection, number: i64) -> sqlx::Result<Vec<StoreRefund>> {
    let rows: Vec<RefundRow> = sqlx::query_as(
        "SELECT record_id, order_number, store, amount, status, refund_id FROM order_refunds
         WHERE order_number = $1 ORDER BY created_ms, record_id",
    )
    .bind(number)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(StoreRefund::from).collect())
}

/// Claims one refund still owed that nobody asked the processor for within `lease_ms` (a fresh
/// one at once): its clock is touched, so no other instance asks at the same time.
async fn claim_due(db: &Db, lease_ms: i64) -> sqlx::Result<Option<RefundRow>> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let row = sqlx::query_as(
        "UPDATE order_refunds SET updated_ms = $1 WHERE record_id = (
             SELECT record_id FROM order_refunds WHERE status = 'pending' AND updated_ms < $2
             ORDER BY created_ms, record_id LIMIT 1
         ) AND status = 'pending' AND updated_ms < $2
         RETURNING record_id, order_number, store, amount, status, refund_id",
    )
    .bind(now)
    .bind(now - lease_ms)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// What a settling round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub refunded: u32,
    pub failed: u32,
    /// The processor gave no answer: asked again after a lease.
    pub waiting: u32,
}

/// Asks the card processor for every refund owed and not being asked; safe from any number of
/// instances at once.
#[tracing::instrument(skip_all)]
pub async fn settle_due(shop: &Shop, db: &Db) -> Result<Settled> {
    let mut done = Settled::default();
    let lease = shop.settings.lease_ms()?;
    while let Some(row) = claim_due(db, lease).await? {
        let payment = {
            let mut conn = db.pool().acquire().await?;
            orders::read(&mut conn, row.order_number).await?.and_then(|o| o.payment_id)
        };
        let Some(payment) = payment else {
            fail(db, &row, "the order has no payment to refund").await?;
            done.failed += 1;
            continue;
        };
        let amount = Money::from_cents(row.amount).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
        match shop.gateway.refund(&format!("return-{}", row.record_id), &payment, amount).await {
            Ok(refund) => {
                let mut tx = db.begin().await?;
                let moved = sqlx::query(
                    "UPDATE order_refunds SET status = 'refunded', refund_id = $1, updated_ms = $2
                     WHERE record_id = $3 AND status = 'pending'",
                )
                .bind(refund)
                .bind(now_ms())
                .bind(&row.record_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 1
                    && let Some(order) = orders::read(&mut tx, row.order_number).await?
                {
                    let notice = crate::notify::Notice::OrderRefunded { order: row.order_number, amount };
                    orders::tell(&mut tx, &order, &format!("return-{}-refunded", row.record_id), notice)
                        .await?;
                }
                tx.commit().await?;
                done.refunded += 1;
            }
            Err(PaymentError::Ambiguous(why)) => {
                tracing::warn!(
                    record = row.record_id,
                    why,
                    "refund not confirmed: asked again after the lease"
                );
                done.waiting += 1;
                // The processor cannot answer: leave the rest for a later round.
                break;
            }
            Err(PaymentError::Refused(why)) => {
                fail(db, &row, &why).await?;
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

/// The processor refused a refund: kept as failed, and head office told.
async fn fail(db: &Db, row: &RefundRow, why: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE order_refunds SET status = 'failed', reason = $1, updated_ms = $2 WHERE record_id = $3 AND status = 'pending'")
        .bind(why)
        .bind(now_ms())
        .bind(&row.record_id)
        .execute(&mut *tx)
        .await?;
    let alert = Alert {
        location: Some(parse("order_refunds.store", &row.store)?),
        record_id: Some(parse("order_refunds.record_id", &row.record_id)?),
        message: format!(
            "the refund of {} for return {} of online order W-{} was refused by the card processor: {why}",
            cents(row.amount),
            row.record_id,
            row.order_number
        ),
        ..Alert::default()
    };
    alerts::raise(&mut tx, Kind::RefundFailed, &row.record_id, alert).await?;
    tx.commit().await?;
    Ok(())
}
