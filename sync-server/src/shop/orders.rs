//! Online orders: a shopper's history and cancellation, and the logistics centre's picking and
//! shipping.
//!
//! An order's status ([`OrderStatus`], whose moves are ruled in [`super::status`]) goes
//! `pending_payment` → `paid` → `picked` → `shipped` → `delivered`, or
//! to `cancelled` (its checkout failed, or the shopper cancelled before it was picked). A
//! shopper's cancellation of a paid order passes through `cancelling` while the refund is
//! asked for: the refund's idempotency key is the order's, so asking again after a crash
//! never refunds twice, and [`super::recovery`] finishes a cancellation left half done.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::accounts::Shopper;
use super::cart::PricedLine;
use super::payments::PaymentError;
pub use super::status::OrderStatus;
use super::{Error, Result, Shop};
use crate::db::{Db, now_ms, parse};
use crate::lease::{Lease, Stamp, lease_one};

/// The moves of an order's status this module's SQL makes, `(from, to)`: their words are
/// bound from [`OrderStatus`], never written in the SQL, and a test checks each is one
/// [`OrderStatus::may_become`] allows.
const PAY: (OrderStatus, OrderStatus) = (OrderStatus::PendingPayment, OrderStatus::Paid);
const CANCEL_UNPAID: (OrderStatus, OrderStatus) = (OrderStatus::PendingPayment, OrderStatus::Cancelled);
const START_CANCEL: (OrderStatus, OrderStatus) = (OrderStatus::Paid, OrderStatus::Cancelling);
const END_CANCEL: (OrderStatus, OrderStatus) = (OrderStatus::Cancelling, OrderStatus::Cancelled);
use shared_model::{LocationCode, Sku};

#[derive(Debug, FromRow)]
struct OrderRow {
    number: i64,
    customer_id: i64,
    location: String,
    status: String,
    lines: String,
    net: i64,
    gst: i64,
    qst: i64,
    total: i64,
    payment_id: Option<String>,
    refund_id: Option<String>,
    business_day: Option<String>,
    created_ms: i64,
    updated_ms: i64,
}

const COLUMNS: &str = "number, customer_id, location, status, lines, net, gst, qst, total, payment_id, refund_id, \
                       business_day, created_ms, updated_ms";

/// An order as its shopper (or logistics) sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub number: i64,
    pub status: OrderStatus,
    /// The delivery steps logistics may mark next (`picked`, `shipped`, `delivered`): what
    /// head office's page offers, so it never copies the lifecycle.
    pub next: Vec<OrderStatus>,
    /// Where it ships from.
    pub location: String,
    pub lines: Vec<PricedLine>,
    pub net_cents: i64,
    pub gst_cents: i64,
    pub qst_cents: i64,
    pub total_cents: i64,
    /// The processor's charge id, once paid.
    pub payment_id: Option<String>,
    /// The processor's refund id, once refunded.
    pub refund_id: Option<String>,
    /// The business day the sale is reported under.
    pub business_day: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Goods brought back to a store, and the refunds they owe the card (an order's detail only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub store_returns: Vec<crate::refunds::StoreRefund>,
    #[serde(skip)]
    pub customer: i64,
}

impl TryFrom<OrderRow> for OrderView {
    type Error = sqlx::Error;
    fn try_from(row: OrderRow) -> sqlx::Result<OrderView> {
        let lines = serde_json::from_str(&row.lines).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok(OrderView {
            number: row.number,
            status: OrderStatus::parse(&row.status).ok_or_else(|| {
                crate::db::corrupt("orders.status", format!("no order status {:?}", row.status))
            })?,
            next: Vec::new(),
            location: row.location,
            lines,
            net_cents: row.net,
            gst_cents: row.gst,
            qst_cents: row.qst,
            total_cents: row.total,
            payment_id: row.payment_id,
            refund_id: row.refund_id,
            business_day: row.business_day,
            created_ms: row.created_ms,
            updated_ms: row.updated_ms,
            store_returns: Vec::new(),
            customer: row.customer_id,
        }
        .with_next())
    }
}

impl OrderView {
    fn with_next(mut self) -> OrderView {
        self.next = self.status.next_steps();
        self
    }

    /// Where the order ships from, and its units per product, typed.
    pub(super) fn units(&self) -> sqlx::Result<(LocationCode, Vec<(Sku, i64)>)> {
        let location = parse::<LocationCode>("orders.location", &self.location)?;
        let lines = self
            .lines
            .iter()
            .map(|l| Ok((parse::<Sku>("orders.lines", &l.sku)?, l.quantity)))
            .collect::<sqlx::Result<_>>()?;
        Ok((location, lines))
    }
}

pub(super) async fn read(conn: &mut AnyConnection, number: i64) -> sqlx::Result<Option<OrderView>> {
    let row: Option<OrderRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM orders WHERE number = $1")))
            .bind(number)
            .fetch_optional(conn)
            .await?;
    row.map(OrderView::try_from).transpose()
}

/// Writes `notice` to the order's shopper, in the caller's transaction; `what` names the
/// change (`confirmed`, `shipped`…), so the same change never writes two messages.
pub(super) async fn tell(
    conn: &mut AnyConnection,
    order: &OrderView,
    what: &str,
    notice: crate::notify::Notice,
) -> sqlx::Result<()> {
    let Some(to) = super::accounts::contact(conn, order.customer).await? else { return Ok(()) };
    crate::notify::enqueue(conn, &format!("order-{}-{what}", order.number), &to, &notice).await
}

/// Order `number`, for a claim about it (whoever's it is: the caller checks).
pub(crate) async fn for_claim(conn: &mut AnyConnection, number: i64) -> sqlx::Result<Option<OrderView>> {
    read(conn, number).await
}

/// Creates the order of a checkout, waiting for its payment; answers its number.
pub(super) async fn create(
    conn: &mut AnyConnection,
    checkout: &str,
    customer: i64,
    location: &str,
    lines: &[PricedLine],
    quote: &shared_model::sale::Quote,
) -> sqlx::Result<i64> {
    let now = now_ms();
    let lines = serde_json::to_string(lines).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query_scalar(
        "INSERT INTO orders (checkout_id, customer_id, location, status, lines, net, gst, qst, total, created_ms, updated_ms)
         VALUES ($1, $2, $3, 'pending_payment', $4, $5, $6, $7, $8, $9, $9) RETURNING number",
    )
    .bind(checkout)
    .bind(customer)
    .bind(location)
    .bind(lines)
    .bind(quote.net.as_cents())
    .bind(quote.gst.as_cents())
    .bind(quote.qst.as_cents())
    .bind(quote.total.as_cents())
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Today, as the shop's books count days.
fn today() -> String {
    chrono::Local::now().date_naive().to_string()
}

pub(super) async fn mark_paid(
    conn: &mut AnyConnection,
    number: i64,
    payment: &str,
) -> sqlx::Result<OrderView> {
    sqlx::query(
        "UPDATE orders SET status = $5, payment_id = $1, business_day = $2, updated_ms = $3
         WHERE number = $4 AND status = $6",
    )
    .bind(payment)
    .bind(today())
    .bind(now_ms())
    .bind(number)
    .bind(PAY.1.as_str())
    .bind(PAY.0.as_str())
    .execute(&mut *conn)
    .await?;
    read(conn, number).await?.ok_or(sqlx::Error::RowNotFound)
}

pub(super) async fn mark_cancelled(conn: &mut AnyConnection, number: i64) -> sqlx::Result<OrderView> {
    sqlx::query("UPDATE orders SET status = $3, updated_ms = $1 WHERE number = $2 AND status = $4")
        .bind(now_ms())
        .bind(number)
        .bind(CANCEL_UNPAID.1.as_str())
        .bind(CANCEL_UNPAID.0.as_str())
        .execute(&mut *conn)
        .await?;
    read(conn, number).await?.ok_or(sqlx::Error::RowNotFound)
}

/// What a paid order (or its refund) adds to the online channel's figures.
pub(super) fn channel_entry(order: &OrderView, refund: bool) -> crate::reporting::ChannelEntry {
    crate::reporting::ChannelEntry {
        day: order.business_day.clone().unwrap_or_else(today),
        refund,
        lines: order.lines.iter().map(|l| (l.sku.clone(), l.quantity, l.net_cents)).collect(),
        net: order.net_cents,
        gst: order.gst_cents,
        qst: order.qst_cents,
        total: order.total_cents,
    }
}

/// One of the shopper's own orders; another shopper's is not found, like one that does not exist.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, customer: i64, number: i64) -> Result<OrderView> {
    let mut conn = db.pool().acquire().await?;
    match read(&mut conn, number).await? {
        Some(mut order) if order.customer == customer => {
            order.store_returns = crate::refunds::owed::returns_of_order(&mut conn, number).await?;
            Ok(order)
        }
        _ => Err(Error::NotFound(format!("you have no order {number}"))),
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// The last order number of the previous page (newest first).
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// Only orders in this status (logistics' list; default `paid`).
    pub status: Option<String>,
}

fn page_limit(page: &Page) -> Result<i64> {
    let limit = page.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(Error::invalid("limit", "limit is between 1 and 100"));
    }
    Ok(i64::from(limit))
}

/// The shopper's orders, newest first.
#[tracing::instrument(skip_all)]
pub async fn history(db: &Db, shopper: &Shopper, page: &Page) -> Result<Vec<OrderView>> {
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM orders WHERE customer_id = $1 AND number < $2 ORDER BY number DESC LIMIT $3"
    )))
    .bind(shopper.customer)
    .bind(page.before.unwrap_or(i64::MAX))
    .bind(page_limit(page)?)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(OrderView::try_from).collect::<sqlx::Result<_>>()?)
}

/// Orders for logistics, oldest first (the first paid is the first to pick).
#[tracing::instrument(skip_all)]
pub async fn for_fulfilment(db: &Db, page: &Page) -> Result<Vec<OrderView>> {
    let status = match page.status.as_deref() {
        None => OrderStatus::Paid,
        Some(text) => OrderStatus::parse(text)
            .ok_or_else(|| Error::invalid("status", format!("status is one of {}", OrderStatus::words())))?,
    };
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM orders WHERE status = $1 AND number > $2 ORDER BY number LIMIT $3"
    )))
    .bind(status.as_str())
    .bind(page.before.unwrap_or(0))
    .bind(page_limit(page)?)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(OrderView::try_from).collect::<sqlx::Result<_>>()?)
}

/// Moves an order one step along its delivery: picked, shipped or delivered.
#[tracing::instrument(skip_all)]
pub async fn advance(db: &Db, number: i64, to: &str) -> Result<OrderView> {
    let refused = || Error::invalid("status", "an order is marked picked, shipped or delivered");
    let to = OrderStatus::parse(to).ok_or_else(refused)?;
    let from = to.delivery_step_from().ok_or_else(refused)?;
    let mut tx = db.begin().await?;
    let moved =
        sqlx::query("UPDATE orders SET status = $1, updated_ms = $2 WHERE number = $3 AND status = $4")
            .bind(to.as_str())
            .bind(db.now_ms())
            .bind(number)
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    let order = read(&mut tx, number).await?.ok_or_else(|| Error::NotFound(format!("no order {number}")))?;
    if moved == 1 && to == OrderStatus::Shipped {
        tell(&mut tx, &order, "shipped", crate::notify::Notice::OrderShipped { order: number }).await?;
    }
    tx.commit().await?;
    if moved == 0 && order.status != to {
        return Err(Error::Conflict {
            field: Some("status".into()),
            detail: format!("order {number} is {}: only a {from} order can be marked {to}", order.status),
        });
    }
    Ok(order)
}

fn refund_key(number: i64) -> String {
    format!("refund-order-{number}")
}

/// Cancels one of the shopper's paid orders before it is picked: the payment is refunded and
/// the units go back on the logistics centre's shelf. Cancelling a cancelled order answers it.
#[tracing::instrument(skip_all)]
pub async fn cancel(shop: &Shop, db: &Db, shopper: &Shopper, number: i64) -> Result<OrderView> {
    let order = get(db, shopper.customer, number).await?;
    let moved = db
        .write(
            sqlx::query(
                "UPDATE orders SET status = $4, updated_ms = $1 WHERE number = $2 AND customer_id = $3 AND status = $5",
            )
            .bind(db.now_ms())
            .bind(number)
            .bind(shopper.customer)
            .bind(START_CANCEL.1.as_str())
            .bind(START_CANCEL.0.as_str()),
        )
        .await?
        .rows_affected();
    if moved == 0 {
        return match order.status {
            OrderStatus::Cancelled | OrderStatus::Cancelling => Ok(order),
            OrderStatus::PendingPayment => Err(Error::Conflict {
                field: None,
                detail: format!("order {number}'s payment is still being confirmed: try again in a moment"),
            }),
            other => Err(Error::Conflict {
                field: None,
                detail: format!("order {number} is already {other}: bring it back to a store to return it"),
            }),
        };
    }
    finish_cancel(shop, db, number).await?;
    get(db, shopper.customer, number).await
}

/// Refunds a `cancelling` order and puts its units back; safe to repeat, from any instance.
pub(super) async fn finish_cancel(shop: &Shop, db: &Db, number: i64) -> Result<()> {
    let order = {
        let mut conn = db.pool().acquire().await?;
        read(&mut conn, number).await?.ok_or_else(|| Error::NotFound(format!("no order {number}")))?
    };
    if order.status != OrderStatus::Cancelling {
        return Ok(());
    }
    let payment = order
        .payment_id
        .clone()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("order {number} was paid without a payment id")))?;
    let amount = shared_model::Money::from_cents(order.total_cents)
        .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
    let refund = match shop.gateway.refund(&refund_key(number), &payment, amount).await {
        Ok(id) => id,
        Err(PaymentError::Ambiguous(why)) => {
            tracing::warn!(number, why, "refund not confirmed yet: the recovery will ask again");
            return Ok(());
        }
        Err(e) => {
            // Refused: retrying will not help, a person must look (the order stays cancelling).
            let alert = crate::alerts::Alert {
                message: format!("the refund of cancelled online order W-{number} was refused: {e}"),
                ..crate::alerts::Alert::default()
            }
            .says("order_cancel_refund_refused", &[("order", &format!("W-{number}")), ("reason", &e)]);
            let mut tx = db.begin().await?;
            crate::alerts::raise(&mut tx, crate::alerts::Kind::RefundFailed, &format!("W-{number}"), alert)
                .await?;
            tx.commit().await?;
            return Err(Error::PaymentFailed(e.to_string()));
        }
    };
    let channel = shop.channel(db).await?.clone();
    let mut tx = db.begin().await?;
    let moved = sqlx::query(
        "UPDATE orders SET status = $4, refund_id = $1, updated_ms = $2 WHERE number = $3 AND status = $5",
    )
    .bind(&refund)
    .bind(db.now_ms())
    .bind(number)
    .bind(END_CANCEL.1.as_str())
    .bind(END_CANCEL.0.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        tx.rollback().await?;
        return Ok(());
    }
    let (location, units) = order.units()?;
    let moves: Vec<crate::inventory::Move> = units
        .into_iter()
        .map(|(sku, quantity)| crate::inventory::Move {
            location: location.clone(),
            sku,
            delta: quantity,
            kind: "online_cancel",
            record_id: Some(format!("order:{number}")),
        })
        .collect();
    let entries = crate::inventory::apply(&mut tx, &moves).await?;
    let mut entry = channel_entry(&order, true);
    entry.day = today();
    crate::reporting::add_channel(&mut tx, channel.as_str(), &entry).await?;
    let notice = crate::notify::Notice::OrderRefunded { order: number, amount };
    tell(&mut tx, &order, "refunded", notice).await?;
    crate::feed::publish(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(())
}

/// A payment that turned up for a checkout already given up: it is given back whole.
pub(super) async fn refund_stray_payment(shop: &Shop, db: &Db, number: i64, payment: &str) -> Result<()> {
    let mut conn = db.pool().acquire().await?;
    let order =
        read(&mut conn, number).await?.ok_or_else(|| Error::NotFound(format!("no order {number}")))?;
    drop(conn);
    let amount = shared_model::Money::from_cents(order.total_cents)
        .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
    let refund = shop
        .gateway
        .refund(&refund_key(number), payment, amount)
        .await
        .map_err(|e| Error::PaymentFailed(e.to_string()))?;
    tracing::warn!(number, payment, refund, "a payment for a cancelled checkout was refunded");
    db.write(
        sqlx::query("UPDATE orders SET refund_id = $1, payment_id = $2, updated_ms = $3 WHERE number = $4")
            .bind(refund)
            .bind(payment)
            .bind(db.now_ms())
            .bind(number),
    )
    .await?;
    Ok(())
}

/// Orders whose cancellation was left half done: the refund is asked for again once the
/// order has not moved for a lease.
const STUCK_CANCELLATION: Lease = Lease {
    table: "orders",
    key: "number",
    pending: "status = 'cancelling'",
    stamp: Stamp::Since("updated_ms"),
    order_by: "number",
    also_set: "",
};

/// Claims one order whose cancellation was left half done for `idle_ms` at `now_ms` (its
/// clock touched, so no other instance takes it at the same time).
pub(super) async fn claim_stuck_cancellation(
    db: &Db,
    now_ms: i64,
    idle_ms: i64,
) -> sqlx::Result<Option<i64>> {
    lease_one(db, &STUCK_CANCELLATION, now_ms, idle_ms).await
}

#[cfg(test)]
mod moves {
    use super::*;

    #[test]
    fn each_move_the_sql_makes_is_one_the_status_allows() {
        for (from, to) in [PAY, CANCEL_UNPAID, START_CANCEL, END_CANCEL] {
            assert!(from.may_become(to), "orders move {from} to {to}, which OrderStatus forbids");
        }
    }
}
