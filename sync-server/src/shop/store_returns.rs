//! Online orders brought back to a store.
//!
//! A register looks the order up ([`order_for_return`]), takes the return like a receipt's and
//! records it; the record names the order and pays nothing out at the till. When the record
//! reaches head office, the transaction that stores it also writes what the return owes the
//! shopper's card ([`owe`], kept by [`crate::refunds`]): one row per record, so a record pushed
//! twice owes once. The refund itself is asked of the card processor afterwards
//! ([`crate::refunds::settle_due`], which calls back [`ReturnCreditor`]) with the record's id
//! as idempotency key: a crash, a lost answer or two instances asking at
//! once still refund once. The goods enter the store's stock and the return its figures by the
//! same path as any return.
//!
//! What is owed never exceeds what the order was paid less what was already refunded of it.
//! A return head office cannot honour (no such order, an order not shipped yet, nothing left to
//! refund) is kept and flagged, like any return: the till gave the goods back, a person decides.

use shared_model::protocol::{OrderForReturn, OrderLineForReturn};
use shared_model::returns::Return;
use shared_model::{Money, OrderNumber, Quantity, Record, RecordBody, Sku, TaxClass};
use sqlx::AnyConnection;

use super::{Error, Result, orders};
use crate::alerts::{self, Alert, Kind};
use crate::db::{Db, from_i64, lock_keys, now_ms, parse, to_i64};
use crate::refunds::owed::{self, ReturnOwed};
use crate::refunds::{Due, RefundStatus};

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
        status: order.status.to_string(),
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
            None => (0, RefundStatus::Refused, Some(format!("head office has no online order {number}"))),
            Some(order) if !order.status.is_returnable() => (
                0,
                RefundStatus::Refused,
                Some(format!(
                    "online order {number} is {}: only a shipped order comes back to a store",
                    order.status
                )),
            ),
            Some(order) => {
                over_returns(conn, record, number, &order).await?;
                let owed = crate::refunds::owed_of_order(conn, key).await?;
                // Checked: amounts that overflow are corrupt, never wrapped into a refund.
                let left = order.total_cents.checked_sub(owed).ok_or_else(|| {
                    crate::db::corrupt(
                        "order_refunds.amount",
                        format!("the refunds of order {number} overflow"),
                    )
                })?;
                if left <= 0 {
                    (
                        0,
                        RefundStatus::Refused,
                        Some(format!("online order {number} is already refunded in full")),
                    )
                } else if asked > left {
                    (
                        left,
                        RefundStatus::Pending,
                        Some(format!("{} asked, only {} left to refund", cents(asked), cents(left))),
                    )
                } else {
                    (asked, RefundStatus::Pending, None)
                }
            }
        };
        let record_id = record.id.to_string();
        let owes = ReturnOwed {
            record_id: &record_id,
            order_number: key,
            store: record.store.as_str(),
            amount,
            status,
            reason: reason.as_deref(),
        };
        owed::owe_return(conn, &owes, now_ms()).await?;
        if let Some(reason) = reason {
            let alert = Alert {
                location: Some(record.store.clone()),
                record_id: Some(record.id),
                message: format!(
                    "return {} of online order {number} at {}: {reason}",
                    record.id, record.store
                ),
                ..Alert::default()
            }
            .says(
                "order_return_not_refunded",
                &[("record", &record.id), ("order", &number), ("store", &record.store), ("reason", &reason)],
            );
            alerts::raise(conn, Kind::RefundFailed, &record.id.to_string(), alert).await?;
        }
    }
    Ok(())
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
        // The pages count lines from 1, as the receipt does.
        let shown = u32::from(line) + 1;
        let alert = match sold {
            Some(sold) => alert.says(
                "over_return_order",
                &[("returned", &units), ("line", &shown), ("order", &number), ("sold", &sold)],
            ),
            None => alert
                .says("over_return_no_line", &[("returned", &units), ("line", &shown), ("order", &number)]),
        };
        alerts::raise(conn, Kind::OverReturn, &format!("{number}/{line}"), alert).await?;
    }
    Ok(())
}

/// The shop's side of a store return's refund: the order's payment, and once the processor
/// has answered, the shopper told (refunded) or head office alerted (refused).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReturnCreditor;

#[async_trait::async_trait]
impl crate::refunds::Creditor for ReturnCreditor {
    async fn payment_of(&self, db: &Db, number: i64) -> anyhow::Result<Option<String>> {
        let mut conn = db.pool().acquire().await?;
        Ok(orders::read(&mut conn, number).await?.and_then(|o| o.payment_id))
    }

    async fn record(&self, db: &Db, due: &Due, outcome: Result<String, String>) -> anyhow::Result<()> {
        let mut tx = db.begin().await?;
        if !owed::settle(&mut tx, due, &outcome, db.now_ms()).await? {
            // Another instance recorded it.
            tx.rollback().await?;
            return Ok(());
        }
        let number = due.order_number.unwrap_or_default();
        match &outcome {
            Ok(_) => {
                if let Some(order) = orders::read(&mut tx, number).await? {
                    let amount = Money::from_cents(due.amount).map_err(|e| anyhow::anyhow!("{e}"))?;
                    let notice = crate::notify::Notice::OrderRefunded { order: number, amount };
                    orders::tell(&mut tx, &order, &format!("return-{}-refunded", due.key), notice).await?;
                }
            }
            Err(why) => {
                let (store, record_id) = owed::return_origin(due)?;
                let alert = Alert {
                    location: Some(store),
                    record_id: Some(record_id),
                    message: format!(
                        "the refund of {} for return {} of online order W-{number} was refused by the card processor: {why}",
                        cents(due.amount),
                        due.key,
                    ),
                    ..Alert::default()
                }
                .says(
                    "order_return_refund_refused",
                    &[("cents", &due.amount), ("order", &format!("W-{number}")), ("reason", &why)],
                );
                alerts::raise(&mut tx, Kind::RefundFailed, &due.key, alert).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
