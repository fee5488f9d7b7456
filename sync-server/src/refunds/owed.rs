//! What is owed: one row per store return of an online order (`order_refunds`, keyed by the
//! return's record, so a record pushed twice owes once) and one per claim resolution that
//! refunds (`claim_refunds`, keyed by the resolution). Written in the transaction of what
//! decided them; moved from `pending` to `refunded` or `failed` once.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::{Due, Kind, Payee, RefundStatus};
use crate::db::{Db, parse};
use crate::lease::{Lease, Stamp, lease_one};

/// A store return's refund, as the shop decided it.
#[derive(Debug, Clone)]
pub struct ReturnOwed<'a> {
    pub record_id: &'a str,
    pub order_number: i64,
    pub store: &'a str,
    pub amount: i64,
    /// `pending` (to ask the processor) or `refused` (nothing owed, head office alerted).
    pub status: RefundStatus,
    pub reason: Option<&'a str>,
}

/// Records what a store return owes, in the transaction that stores the return.
pub async fn owe_return(conn: &mut AnyConnection, owed: &ReturnOwed<'_>, now_ms: i64) -> sqlx::Result<()> {
    // `updated_ms` 0: never asked yet, so the next settling round takes it at once.
    sqlx::query(
        "INSERT INTO order_refunds (record_id, order_number, store, amount, status, reason, created_ms, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(owed.record_id)
    .bind(owed.order_number)
    .bind(owed.store)
    .bind(owed.amount)
    .bind(owed.status.as_str())
    .bind(owed.reason)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a refund of `amount` decided on `claim` (resolution `key`), in the resolution's
/// transaction: owed to the card for an order, paid at the counter for a receipt.
pub async fn owe_claim(
    conn: &mut AnyConnection,
    key: &str,
    claim: &str,
    payee: &Payee,
    amount: i64,
    now_ms: i64,
) -> sqlx::Result<()> {
    let (order, receipt, status) = match payee {
        Payee::Order(number) => (Some(*number), None, RefundStatus::Pending),
        Payee::Receipt(receipt) => (None, Some(receipt.as_str()), RefundStatus::AtStore),
    };
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
    .bind(status.as_str())
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// What store returns and claims owe or have refunded of online order `number`, together:
/// what can no longer be refunded of it by another path.
pub async fn owed_of_order(conn: &mut AnyConnection, number: i64) -> sqlx::Result<i64> {
    // The statuses that count are [`RefundStatus::counts`]'s, bound one placeholder each, so
    // the enum stays the one place that says which.
    let counting: Vec<&str> =
        RefundStatus::ALL.into_iter().filter(|s| s.counts()).map(RefundStatus::as_str).collect();
    let placeholders: Vec<String> = (0..counting.len()).map(|i| format!("${}", i + 2)).collect();
    let placeholders = placeholders.join(", ");
    let mut owed = 0_i64;
    for table in ["order_refunds", "claim_refunds"] {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM {table}
             WHERE order_number = $1 AND status IN ({placeholders})"
        );
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(number);
        for status in &counting {
            query = query.bind(*status);
        }
        let of_table: i64 = query.fetch_one(&mut *conn).await?;
        // Checked: amounts that overflow are corrupt, never wrapped into a refund.
        owed = owed.checked_add(of_table).ok_or_else(|| {
            crate::db::corrupt("order_refunds.amount", format!("the refunds of order {number} overflow"))
        })?;
    }
    Ok(owed)
}

/// What claims gave back of receipt `receipt` (store returns pay back at the till, counted by
/// the sales ledger).
pub async fn owed_of_receipt(conn: &mut AnyConnection, receipt: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM claim_refunds WHERE receipt = $1",
    )
    .bind(receipt)
    .fetch_one(conn)
    .await
}

/// A refund owed to a shopper's card for a store return, as the shopper's order shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoreRefund {
    /// The store that took the goods back.
    pub store: String,
    /// The return's record id, printed on its receipt.
    pub record_id: String,
    pub amount_cents: i64,
    pub status: RefundStatus,
    /// The processor's refund id, once refunded.
    pub refund_id: Option<String>,
}

#[derive(Debug, FromRow)]
struct ReturnRow {
    record_id: String,
    store: String,
    amount: i64,
    status: String,
    refund_id: Option<String>,
}

/// The store returns of one order, oldest first.
pub async fn returns_of_order(conn: &mut AnyConnection, number: i64) -> sqlx::Result<Vec<StoreRefund>> {
    let rows: Vec<ReturnRow> = sqlx::query_as(
        "SELECT record_id, store, amount, status, refund_id FROM order_refunds
         WHERE order_number = $1 ORDER BY created_ms, record_id",
    )
    .bind(number)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(StoreRefund {
                status: status("order_refunds.status", &row.status)?,
                store: row.store,
                record_id: row.record_id,
                amount_cents: row.amount,
                refund_id: row.refund_id,
            })
        })
        .collect()
}

fn status(column: &'static str, text: &str) -> sqlx::Result<RefundStatus> {
    RefundStatus::parse(text).ok_or_else(|| crate::db::corrupt(column, format!("no refund status {text:?}")))
}

/// The table each kind of refund is kept in, and its key.
fn table(kind: Kind) -> (&'static str, &'static str, &'static str) {
    match kind {
        Kind::Return => ("order_refunds", "record_id", "store"),
        Kind::Claim => ("claim_refunds", "refund_key", "claim"),
    }
}

/// Refunds owed that nobody asked the processor for within a lease (a fresh one at once).
const RETURNS_DUE: Lease = Lease {
    table: "order_refunds",
    key: "record_id",
    pending: "status = 'pending'",
    stamp: Stamp::Since("updated_ms"),
    order_by: "created_ms, record_id",
    also_set: "",
};

const CLAIMS_DUE: Lease = Lease {
    table: "claim_refunds",
    key: "refund_key",
    pending: "status = 'pending'",
    stamp: Stamp::Since("updated_ms"),
    order_by: "created_ms, refund_key",
    also_set: "",
};

#[derive(Debug, FromRow)]
struct DueRow {
    row_key: String,
    row_origin: String,
    order_number: Option<i64>,
    amount: i64,
}

/// Claims one refund of `kind` owed and not being asked at `now_ms`, for `lease_ms`: its clock
/// is touched, so no other instance asks at the same time.
pub(super) async fn claim_due(db: &Db, kind: Kind, now_ms: i64, lease_ms: i64) -> sqlx::Result<Option<Due>> {
    let lease = match kind {
        Kind::Return => &RETURNS_DUE,
        Kind::Claim => &CLAIMS_DUE,
    };
    let Some(key) = lease_one::<String>(db, lease, now_ms, lease_ms).await? else { return Ok(None) };
    let (table, key_column, origin) = table(kind);
    let row: DueRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {key_column} AS row_key, {origin} AS row_origin, order_number, amount FROM {table} WHERE {key_column} = $1"
    )))
    .bind(key)
    .fetch_one(db.pool())
    .await?;
    Ok(Some(Due {
        kind,
        key: row.row_key,
        origin: row.row_origin,
        order_number: row.order_number,
        amount: row.amount,
    }))
}

/// Marks `due` as confirmed (`Ok(refund id)`) or refused, in the caller's transaction; false
/// when it was no longer pending (another instance got there first).
pub async fn settle(
    conn: &mut AnyConnection,
    due: &Due,
    outcome: &Result<String, String>,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let (to, refund_id, reason) = match outcome {
        Ok(id) => (RefundStatus::Refunded, Some(id.as_str()), None),
        Err(why) => (RefundStatus::Failed, None, Some(why.as_str())),
    };
    debug_assert!(RefundStatus::Pending.may_become(to));
    let (table, key_column, _) = table(due.kind);
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET status = $1, refund_id = $2, reason = COALESCE($3, reason), updated_ms = $4
         WHERE {key_column} = $5 AND status = $6"
    )))
    .bind(to.as_str())
    .bind(refund_id)
    .bind(reason)
    .bind(now_ms)
    .bind(&due.key)
    .bind(RefundStatus::Pending.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The store of a return, and its record, typed (for an alert).
pub fn return_origin(due: &Due) -> sqlx::Result<(shared_model::LocationCode, shared_model::RecordId)> {
    Ok((parse("order_refunds.store", &due.origin)?, parse("order_refunds.record_id", &due.key)?))
}
