//! Refunds decided on claims. One about an online order is owed to the shopper's card until
//! the processor confirms it; one about a receipt is paid at the store's counter.
//!
//! The row is written by the resolution's transaction, keyed by the resolution (claim and
//! version), and that key is the idempotency key the processor sees: asking again after a
//! crash or a lost answer, or from two instances at once, refunds once. [`settle_due`] asks;
//! the confirmation is appended to the claim as `refund_sent` (see
//! [`super::commands::record_refund`]).

use shared_model::Money;
use sqlx::{AnyConnection, FromRow};

use super::{Error, Result, purchase};
use crate::db::{Db, now_ms};
use crate::shop::Shop;
use crate::shop::payments::PaymentError;

/// A refund owed.
#[derive(Debug, Clone, FromRow)]
pub struct Due {
    pub refund_key: String,
    pub claim: String,
    pub order_number: Option<i64>,
    pub amount: i64,
}

/// Where a refund is paid.
#[derive(Debug, Clone)]
pub(super) enum Payee {
    Order(i64),
    Receipt(String),
}

/// Records a refund of `amount` decided on `claim`, in the resolution's transaction.
pub(super) async fn owe(
    conn: &mut AnyConnection,
    key: &str,
    claim: &str,
    payee: &Payee,
    amount: i64,
) -> sqlx::Result<()> {
    let (order, receipt, status) = match payee {
        Payee::Order(number) => (Some(*number), None, "pending"),
        Payee::Receipt(receipt) => (None, Some(receipt.clone()), "at_store"),
    };
    let now = now_ms();
    // `updated_ms` 0: never asked yet, so the next settling round takes it at once.
    sqlx::query(
        "INSERT INTO claim_refunds (refund_key, claim, order_number, receipt, amount, status, created_ms, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(key)
    .bind(claim)
    .bind(order)
    .bind(receipt)
    .bind(amount)
    .bind(status)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// What claims owe or have refunded of online order `number`.
pub(crate) async fn owed_of_order(conn: &mut AnyConnection, number: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM claim_refunds
         WHERE order_number = $1 AND status IN ('pending', 'refunded')",
    )
    .bind(number)
    .fetch_one(conn)
    .await
}

/// What claims gave back of receipt `receipt`.
pub(crate) async fn owed_of_receipt(conn: &mut AnyConnection, receipt: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM claim_refunds WHERE receipt = $1",
    )
    .bind(receipt)
    .fetch_one(conn)
    .await
}

/// Marks a refund as confirmed (`Ok(refund id)`) or refused; false when it was not pending
/// (another instance got there first).
pub(super) async fn settle(
    conn: &mut AnyConnection,
    key: &str,
    outcome: &Result<String, String>,
) -> sqlx::Result<bool> {
    let (status, refund_id, reason) = match outcome {
        Ok(id) => ("refunded", Some(id.clone()), None),
        Err(why) => ("failed", None, Some(why.clone())),
    };
    let done = sqlx::query(
        "UPDATE claim_refunds SET status = $1, refund_id = $2, reason = $3, updated_ms = $4
         WHERE refund_key = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(refund_id)
    .bind(reason)
    .bind(now_ms())
    .bind(key)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims one refund owed that nobody asked the processor for within `lease_ms`.
async fn claim_due(db: &Db, lease_ms: i64) -> sqlx::Result<Option<Due>> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let row = sqlx::query_as(
        "UPDATE claim_refunds SET updated_ms = $1 WHERE refund_key = (
             SELECT refund_key FROM claim_refunds WHERE status = 'pending' AND updated_ms < $2
             ORDER BY created_ms, refund_key LIMIT 1
         ) AND status = 'pending' AND updated_ms < $2
         RETURNING refund_key, claim, order_number, amount",
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

/// Asks the processor for every claim refund owed and not being asked; safe from any number of
/// instances at once.
#[tracing::instrument(skip_all)]
pub async fn settle_due(shop: &Shop, db: &Db) -> Result<Settled> {
    let mut done = Settled::default();
    let lease = shop.settings.lease_ms()?;
    while let Some(due) = claim_due(db, lease).await? {
        let payment = match due.order_number {
            Some(number) => {
                let mut conn = db.pool().acquire().await?;
                purchase::of_order(&mut conn, number).await?.and_then(|p| p.payment)
            }
            None => None,
        };
        let outcome = match payment {
            None => Err("the order has no payment to refund".to_owned()),
            Some(payment) => {
                let amount =
                    Money::from_cents(due.amount).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
                match shop.gateway.refund(&due.refund_key, &payment, amount).await {
                    Ok(id) => Ok(id),
                    Err(PaymentError::Ambiguous(why)) => {
                        tracing::warn!(
                            refund = due.refund_key,
                            why,
                            "claim refund not confirmed: asked again after the lease"
                        );
                        done.waiting += 1;
                        break;
                    }
                    Err(PaymentError::Refused(why)) => Err(why),
                }
            }
        };
        if outcome.is_ok() {
            done.refunded += 1;
        } else {
            done.failed += 1;
        }
        super::commands::record_refund(db, &due, outcome).await?;
    }
    Ok(done)
}
