//! The read models of claims, and the projectors that keep them.
//!
//! | projector | read model | answers |
//! |---|---|---|
//! | `queue` | `claims_queue` | the agents' queue and search: state, kind, store, age, agent |
//! | `shoppers` | `claims_by_shopper` | each shopper's claims |
//! | `statistics` | `claims_weekly`, `claims_resolution_times` | claims per kind, store and week; the median time to a decision |
//!
//! Each projector reads the event store past its checkpoint, in position order, and writes its
//! rows and its new checkpoint in one transaction: an event is applied once, even across a
//! crash, and two instances take turns on the checkpoint's row. A row is computed from events
//! alone (their times, never the clock), so [`replay`], which empties the read models and reads
//! every event again, rebuilds exactly what the projectors built live.
//!
//! The read models trail the commands: each answer says how far behind they are
//! ([`Freshness`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::Datelike;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::model::{Claim, Event, Subject, fold};
use super::store::{self, Stored};
use crate::db::Db;

pub const PROJECTORS: [&str; 3] = ["queue", "shoppers", "statistics"];

/// Events a projector applies per transaction.
const BATCH: i64 = 500;

/// How far a read model has read of the event store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Freshness {
    /// The last event position applied.
    pub position: i64,
    /// The last event position written.
    pub head: i64,
    /// Events written and not applied yet: 0 when the answer is up to date.
    pub behind: i64,
}

pub async fn freshness(db: &Db, projector: &str) -> sqlx::Result<Freshness> {
    let mut conn = db.pool().acquire().await?;
    let position: i64 = sqlx::query_scalar("SELECT position FROM claim_checkpoints WHERE projector = $1")
        .bind(projector)
        .fetch_one(&mut *conn)
        .await?;
    let head = store::head(&mut conn).await?;
    let behind = store::count_after(&mut conn, position).await?;
    Ok(Freshness { position, head, behind })
}

/// Runs one batch of `projector`; answers how many events it applied.
async fn run_batch(db: &Db, projector: &str) -> sqlx::Result<usize> {
    let mut tx = db.begin().await?;
    // Touching the checkpoint's row locks it: another instance's batch waits, then starts
    // where this one ended.
    let checkpoint: i64 = sqlx::query_scalar(
        "UPDATE claim_checkpoints SET position = position WHERE projector = $1 RETURNING position",
    )
    .bind(projector)
    .fetch_one(&mut *tx)
    .await?;
    let events = store::after(&mut tx, checkpoint, BATCH).await?;
    let Some(last) = events.last().map(|e| e.position) else {
        tx.rollback().await?;
        return Ok(0);
    };
    for event in &events {
        match projector {
            "queue" => queue(&mut tx, event).await?,
            "shoppers" => shoppers(&mut tx, event).await?,
            "statistics" => statistics(&mut tx, event).await?,
            other => return Err(sqlx::Error::Protocol(format!("no projector {other}"))),
        }
    }
    sqlx::query("UPDATE claim_checkpoints SET position = $1 WHERE projector = $2")
        .bind(last)
        .bind(projector)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(events.len())
}

/// Brings every read model up to the newest event; answers the events applied.
pub async fn catch_up(db: &Db) -> sqlx::Result<u64> {
    let mut applied = 0_u64;
    for projector in PROJECTORS {
        loop {
            let n = run_batch(db, projector).await?;
            applied += n as u64;
            if n == 0 {
                break;
            }
        }
    }
    Ok(applied)
}

/// Empties every read model and rebuilds it from the events; answers the events read.
pub async fn replay(db: &Db) -> sqlx::Result<u64> {
    let mut tx = db.begin().await?;
    // The checkpoints' rows first: a live batch under way finishes before they are reset.
    sqlx::query("UPDATE claim_checkpoints SET position = 0").execute(&mut *tx).await?;
    for table in ["claims_queue", "claims_by_shopper", "claims_weekly", "claims_resolution_times"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    catch_up(db).await
}

/// Follows the event store in the background: at once when `wake` is notified (after each
/// command), and every `every` (events appended by another instance).
pub fn spawn(db: Db, wake: Arc<tokio::sync::Notify>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = catch_up(&db).await {
                tracing::error!(error = %e, "claims' read models could not catch up: tried again shortly");
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// The claim as of `event`: its stream folded up to that event's version.
async fn claim_at(conn: &mut AnyConnection, event: &Stored) -> sqlx::Result<Option<Claim>> {
    let history = store::load(conn, &event.stream).await?;
    Ok(fold(
        &event.stream,
        history.iter().take_while(|e| e.version <= event.version).map(|e| (&e.event, e.at_ms)),
    ))
}

/// A week as `2026-W49` (ISO weeks, by UTC).
pub fn week_of(at_ms: i64) -> String {
    let day = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default().date_naive().iso_week();
    format!("{}-W{:02}", day.year(), day.week())
}

const SUMMARY: usize = 140;

async fn queue(conn: &mut AnyConnection, event: &Stored) -> sqlx::Result<()> {
    let Some(claim) = claim_at(conn, event).await? else { return Ok(()) };
    let (order, receipt, customer) = match &claim.subject {
        Subject::Online { order, customer } => (Some(*order), None, Some(*customer)),
        Subject::Store { receipt } => (None, Some(receipt.clone()), None),
    };
    let summary: String = claim.description.chars().take(SUMMARY).collect();
    sqlx::query(
        "INSERT INTO claims_queue (id, state, kind, store, order_number, receipt, customer_id, assignee, summary,
                                   resolution, refund_cents, version, filed_ms, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, assignee = excluded.assignee,
             resolution = excluded.resolution, refund_cents = excluded.refund_cents,
             version = excluded.version, updated_ms = excluded.updated_ms",
    )
    .bind(&claim.id)
    .bind(claim.state.as_str())
    .bind(claim.kind.as_str())
    .bind(&claim.store)
    .bind(order)
    .bind(receipt)
    .bind(customer)
    .bind(claim.assignee.clone())
    .bind(summary)
    .bind(claim.outcome.map(|o| o.name().to_owned()))
    .bind(claim.refunded_cents)
    .bind(claim.version)
    .bind(claim.filed_ms)
    .bind(claim.updated_ms)
    .execute(conn)
    .await?;
    Ok(())
}

async fn shoppers(conn: &mut AnyConnection, event: &Stored) -> sqlx::Result<()> {
    let Some(claim) = claim_at(conn, event).await? else { return Ok(()) };
    let Subject::Online { order, customer } = claim.subject else { return Ok(()) };
    sqlx::query(
        "INSERT INTO claims_by_shopper (customer_id, id, order_number, kind, state, resolution, refund_cents,
                                        refund_sent, filed_ms, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (customer_id, id) DO UPDATE SET state = excluded.state, resolution = excluded.resolution,
             refund_cents = excluded.refund_cents, refund_sent = excluded.refund_sent,
             updated_ms = excluded.updated_ms",
    )
    .bind(customer)
    .bind(&claim.id)
    .bind(order)
    .bind(claim.kind.as_str())
    .bind(claim.state.as_str())
    .bind(claim.outcome.map(|o| o.name().to_owned()))
    .bind(claim.refunded_cents)
    .bind(claim.refund_sent_cents)
    .bind(claim.filed_ms)
    .bind(claim.updated_ms)
    .execute(conn)
    .await?;
    Ok(())
}

async fn bump(
    conn: &mut AnyConnection,
    kind: &str,
    store: &str,
    week: &str,
    column: &str,
) -> sqlx::Result<()> {
    let (filed, resolved, rejected) = match column {
        "filed" => (1, 0, 0),
        "resolved" => (0, 1, 0),
        _ => (0, 0, 1),
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO claims_weekly (kind, store, week, filed, resolved, rejected) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind, store, week) DO UPDATE SET {column} = claims_weekly.{column} + 1"
    )))
    .bind(kind)
    .bind(store)
    .bind(week)
    .bind(filed)
    .bind(resolved)
    .bind(rejected)
    .execute(conn)
    .await?;
    Ok(())
}

async fn statistics(conn: &mut AnyConnection, event: &Stored) -> sqlx::Result<()> {
    let column = match &event.event {
        Event::Submitted { .. } => "filed",
        Event::Resolved { .. } => "resolved",
        Event::Rejected { .. } => "rejected",
        _ => return Ok(()),
    };
    let Some(first) = store::first(conn, &event.stream).await? else { return Ok(()) };
    let Event::Submitted { kind, store, .. } = &first.event else { return Ok(()) };
    let week = week_of(event.at_ms);
    bump(conn, kind.as_str(), store, &week, column).await?;
    if column != "filed" {
        // The time to the claim's first decision; a decision after a reopening does not count again.
        sqlx::query(
            "INSERT INTO claims_resolution_times (id, kind, store, week, duration_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&event.stream)
        .bind(kind.as_str())
        .bind(store)
        .bind(&week)
        .bind((event.at_ms - first.at_ms).max(0))
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// A claim in the agents' queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct QueueRow {
    pub id: String,
    pub state: String,
    pub kind: String,
    pub store: String,
    pub order_number: Option<i64>,
    pub receipt: Option<String>,
    /// The receipt's number as printed (`VMTL-01-000123`), read from the sales ledger.
    #[sqlx(skip)]
    pub receipt_number: Option<String>,
    pub customer_id: Option<i64>,
    pub assignee: Option<String>,
    pub summary: String,
    /// refund, replacement, store_credit or nothing, once resolved.
    pub resolution: Option<String>,
    pub refund_cents: i64,
    pub version: i64,
    pub filed_ms: i64,
    pub updated_ms: i64,
}

/// What the queue is searched by; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub state: Option<String>,
    /// Only open claims (submitted, assigned, in progress).
    pub open: bool,
    pub kind: Option<String>,
    pub store: Option<String>,
    pub assignee: Option<String>,
    /// Filed at or before this time (claims at least so old).
    pub filed_before_ms: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueuePage {
    pub claims: Vec<QueueRow>,
    pub freshness: Freshness,
}

const QUEUE_COLUMNS: &str = "id, state, kind, store, order_number, receipt, customer_id, assignee, summary, resolution, \
                             refund_cents, version, filed_ms, updated_ms";

/// The agents' queue: matching claims, oldest first.
pub async fn queue_search(db: &Db, filter: &QueueFilter) -> sqlx::Result<QueuePage> {
    let freshness = freshness(db, "queue").await?;
    let mut claims: Vec<QueueRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUEUE_COLUMNS} FROM claims_queue
         WHERE ($1 = '' OR state = $1) AND ($2 = 0 OR state IN ('submitted', 'assigned', 'in_progress'))
           AND ($3 = '' OR kind = $3) AND ($4 = '' OR store = $4) AND ($5 = '' OR assignee = $5)
           AND filed_ms <= $6
         ORDER BY filed_ms, id LIMIT $7"
    )))
    .bind(filter.state.clone().unwrap_or_default())
    .bind(i64::from(filter.open))
    .bind(filter.kind.clone().unwrap_or_default())
    .bind(filter.store.clone().unwrap_or_default())
    .bind(filter.assignee.clone().unwrap_or_default())
    .bind(filter.filed_before_ms.unwrap_or(i64::MAX))
    .bind(i64::from(filter.limit))
    .fetch_all(db.pool())
    .await?;
    let receipts: Vec<String> = claims.iter().filter_map(|c| c.receipt.clone()).collect();
    let numbers = crate::sync::receipt_numbers(db, &receipts).await?;
    for claim in &mut claims {
        claim.receipt_number = claim.receipt.as_ref().and_then(|r| numbers.get(r)).map(|n| n.to_string());
    }
    Ok(QueuePage { claims, freshness })
}

/// A claim as its shopper's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct ShopperClaim {
    pub id: String,
    pub order_number: i64,
    pub kind: String,
    pub state: String,
    pub resolution: Option<String>,
    pub refund_cents: i64,
    /// What the processor confirmed of the refund.
    pub refund_sent: i64,
    pub filed_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShopperClaims {
    pub claims: Vec<ShopperClaim>,
    pub freshness: Freshness,
}

/// A shopper's claims, newest first.
pub async fn of_shopper(db: &Db, customer: i64) -> sqlx::Result<ShopperClaims> {
    let freshness = freshness(db, "shoppers").await?;
    let claims = sqlx::query_as(
        "SELECT id, order_number, kind, state, resolution, refund_cents, refund_sent, filed_ms, updated_ms
         FROM claims_by_shopper WHERE customer_id = $1 ORDER BY filed_ms DESC, id LIMIT 200",
    )
    .bind(customer)
    .fetch_all(db.pool())
    .await?;
    Ok(ShopperClaims { claims, freshness })
}

/// Claims of one kind at one location in one week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct WeekRow {
    pub kind: String,
    pub store: String,
    pub week: String,
    pub filed: i64,
    pub resolved: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statistics {
    pub weeks: Vec<WeekRow>,
    /// The median time from filing to a first decision over the weeks asked, in ms (none
    /// before the first decision).
    pub median_resolution_ms: Option<i64>,
    pub decided: i64,
    pub freshness: Freshness,
}

/// Statistics for the weeks `from..=to` (`2026-W01`), all weeks when absent.
pub async fn statistics_of(db: &Db, from: Option<&str>, to: Option<&str>) -> sqlx::Result<Statistics> {
    let freshness = freshness(db, "statistics").await?;
    let (from, to) = (from.unwrap_or(""), to.unwrap_or("9999-W99"));
    let weeks = sqlx::query_as(
        "SELECT kind, store, week, filed, resolved, rejected FROM claims_weekly
         WHERE week >= $1 AND week <= $2 ORDER BY week, kind, store",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    let durations: Vec<i64> = sqlx::query_scalar(
        "SELECT duration_ms FROM claims_resolution_times WHERE week >= $1 AND week <= $2 ORDER BY duration_ms",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    Ok(Statistics {
        weeks,
        median_resolution_ms: median(&durations),
        decided: durations.len() as i64,
        freshness,
    })
}

/// The median of sorted values (the mean of the middle two for an even count).
pub fn median(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(sorted[n / 2 - 1] + (sorted[n / 2] - sorted[n / 2 - 1]) / 2),
    }
}

/// Every row of every read model, in a fixed order: what a replay must rebuild (for tests).
#[cfg(any(test, feature = "testing"))]
pub async fn dump(db: &Db) -> sqlx::Result<serde_json::Value> {
    let queue: Vec<QueueRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {QUEUE_COLUMNS} FROM claims_queue ORDER BY id")))
            .fetch_all(db.pool())
            .await?;
    let shoppers: Vec<(i64, ShopperClaim)> = {
        #[derive(FromRow)]
        struct Row {
            customer_id: i64,
            #[sqlx(flatten)]
            claim: ShopperClaim,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT customer_id, id, order_number, kind, state, resolution, refund_cents, refund_sent, filed_ms, updated_ms
             FROM claims_by_shopper ORDER BY customer_id, id",
        )
        .fetch_all(db.pool())
        .await?;
        rows.into_iter().map(|r| (r.customer_id, r.claim)).collect()
    };
    let weeks: Vec<WeekRow> = sqlx::query_as(
        "SELECT kind, store, week, filed, resolved, rejected FROM claims_weekly ORDER BY kind, store, week",
    )
    .fetch_all(db.pool())
    .await?;
    let times: Vec<(String, String, String, String, i64)> =
        sqlx::query_as("SELECT id, kind, store, week, duration_ms FROM claims_resolution_times ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    Ok(serde_json::json!({ "queue": queue, "shoppers": shoppers, "weeks": weeks, "times": times }))
}

#[cfg(test)]
mod tests {
    use super::{median, week_of};

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[1, 3, 10]), Some(3));
        assert_eq!(median(&[1, 3, 10, 20]), Some(6));
    }

    #[test]
    fn weeks_are_iso_weeks_in_utc() {
        // 2026-12-04 is a Friday of ISO week 49; 2027-01-01 belongs to 2026's week 53.
        assert_eq!(week_of(1_796_342_400_000), "2026-W49");
        assert_eq!(week_of(1_798_761_600_000), "2026-W53");
    }
}
