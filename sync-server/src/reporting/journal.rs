//! Daily totals kept off the write path.
//!
//! # Why
//!
//! Every sale a store pushes and every online order used to add itself into its (store, day)
//! row of `daily_sales`, in its own transaction. That row is the same for every checkout of a
//! day on the online shop: each one locked it and held it until its commit, so checkouts took
//! turns there, behind the slowest commit, however many instances ran.
//!
//! # How
//!
//! A transaction that records sales, returns or an online order appends what they add to
//! `report_journal` instead: one row per (store, day), at a position from
//! [`crate::commit_order`], taking no row that another writer takes. The projector
//! ([`fold_batch`]) follows the journal past its checkpoint and adds a batch of rows into
//! `daily_sales` and `daily_products` in one transaction, checkpoint included; a crash in the
//! middle rolls the whole batch back, so every row is folded exactly once. Instances take turns
//! through the checkpoint's row, which only the projector touches.
//!
//! A report first brings the totals up to what is committed ([`catch_up`]) and says how fresh
//! they are ([`TotalsFreshness`]), so it equals a recomputation from the records to the cent.
//!
//! # Bounds
//!
//! A (store, day) total past [`crate::db::MAX_TOTAL`] is refused when its record is pushed, as
//! before: the check adds what is folded and what is waiting in the journal, read in one
//! statement without a lock. Two pushes racing on one store's day could pass the bound by one
//! batch each; a fold never fails for it (the bound is 92,000 times below `i64::MAX`).

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::AnyConnection;

use crate::commit_order;
use crate::db::{Db, Value, insert_rows, now_ms};

/// The folded totals of a (store, day), in the order of `daily_sales`'s summed columns.
pub(super) const SUMS: &[&str] = &[
    "sales",
    "returns",
    "net_sales",
    "gst",
    "qst",
    "collected",
    "net_refunds",
    "gst_refunded",
    "qst_refunded",
    "refunded",
    "redated",
];
/// A product's totals of a (store, day), in the order of `daily_products`'s summed columns.
const PRODUCT_SUMS: &[&str] = &["sold", "returned", "net_sales", "net_refunds"];
/// Journal rows folded per transaction.
const BATCH: i64 = 2_000;

/// What some records add to one (store, day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub store: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// In the order of [`SUMS`].
    pub sums: [i64; 11],
    /// Per SKU, in the order of `sold, returned, net_sales, net_refunds`.
    pub products: BTreeMap<String, [i64; 4]>,
}

/// Appends deltas to the journal, in the caller's transaction; refuses (as a decoding error the
/// push maps to its record) one that would take a day's total past [`crate::db::MAX_TOTAL`].
#[tracing::instrument(skip_all)]
pub async fn append(conn: &mut AnyConnection, deltas: Vec<Delta>) -> sqlx::Result<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    for delta in &deltas {
        check_bound(conn, delta).await?;
    }
    let count = crate::db::to_i64("report deltas", deltas.len())?;
    let first =
        commit_order::take(conn, "report_journal", "position", ("report_clock", "position"), count).await?;
    let at_ms = now_ms();
    let rows = deltas
        .into_iter()
        .zip(first..)
        .map(|(delta, position)| {
            let products: Vec<(&String, &[i64; 4])> = delta.products.iter().collect();
            let products = serde_json::to_string(&products).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            let mut row = vec![Value::from(position), delta.store.into(), delta.day.into()];
            row.extend(delta.sums.iter().map(|v| Value::from(*v)));
            row.push(products.into());
            row.push(at_ms.into());
            Ok(row)
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let mut columns = vec!["position", "store", "business_day"];
    columns.extend(SUMS);
    columns.extend(["products", "at_ms"]);
    insert_rows(conn, "report_journal", &columns, rows, "").await
}

/// A (store, day)'s totals, folded and waiting, in the order of [`SUMS`]. One statement: on
/// PostgreSQL it reads the folded row and the journal from one snapshot. Built once: it runs
/// for every push and every online order.
static BOUND_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let summed = |table: &str| SUMS.iter().map(|c| format!("{table}.{c}")).collect::<Vec<_>>().join(", ");
    let totals =
        SUMS.iter().map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")).collect::<Vec<_>>();
    format!(
        "SELECT {} FROM (
             SELECT {} FROM daily_sales WHERE store = $1 AND business_day = $2
             UNION ALL
             SELECT {} FROM report_journal WHERE store = $1 AND business_day = $2
                 AND position > (SELECT position FROM report_checkpoint WHERE id = 1)
         ) AS t",
        totals.join(", "),
        summed("daily_sales"),
        summed("report_journal"),
    )
});

/// A (store, day)'s totals, folded and waiting, plus `delta`, each within the bound.
async fn check_bound(conn: &mut AnyConnection, delta: &Delta) -> sqlx::Result<()> {
    let row = sqlx::query(sqlx::AssertSqlSafe(BOUND_SQL.as_str()))
        .bind(&delta.store)
        .bind(&delta.day)
        .fetch_one(&mut *conn)
        .await?;
    for (i, column) in SUMS.iter().enumerate() {
        let now: i64 = sqlx::Row::try_get(&row, i)?;
        let what = format!("{column} of {} on {}", delta.store, delta.day);
        let total = now.checked_add(delta.sums[i]).unwrap_or(i64::MAX);
        crate::db::check_total(&what, total)?;
    }
    Ok(())
}

/// A row of the journal, as the projector reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct JournalRow {
    position: i64,
    store: String,
    business_day: String,
    sales: i64,
    returns: i64,
    net_sales: i64,
    gst: i64,
    qst: i64,
    collected: i64,
    net_refunds: i64,
    gst_refunded: i64,
    qst_refunded: i64,
    refunded: i64,
    redated: i64,
    products: String,
}

impl JournalRow {
    fn sums(&self) -> [i64; 11] {
        [
            self.sales,
            self.returns,
            self.net_sales,
            self.gst,
            self.qst,
            self.collected,
            self.net_refunds,
            self.gst_refunded,
            self.qst_refunded,
            self.refunded,
            self.redated,
        ]
    }
}

/// Folds the next batch of the journal into the daily totals; answers how many rows it folded.
#[tracing::instrument(skip_all)]
pub async fn fold_batch(db: &Db) -> sqlx::Result<usize> {
    let mut tx = db.begin().await?;
    // Touching the checkpoint's row locks it: another instance's fold waits, then starts where
    // this one ended.
    let checkpoint: i64 = sqlx::query_scalar(
        "UPDATE report_checkpoint SET position = position WHERE id = 1 RETURNING position",
    )
    .fetch_one(&mut *tx)
    .await?;
    let horizon = commit_order::horizon(&mut tx).await?;
    let columns = SUMS.join(", ");
    let rows: Vec<JournalRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT position, store, business_day, {columns}, products FROM report_journal
         WHERE position > $1 AND position < $2 ORDER BY position LIMIT $3"
    )))
    .bind(checkpoint)
    .bind(horizon)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let Some(last) = rows.last().map(|r| r.position) else {
        tx.rollback().await?;
        return Ok(0);
    };
    let (days, products) = fold(&rows)?;
    let mut day_columns = vec!["store", "business_day"];
    day_columns.extend(SUMS);
    let day_rows = days
        .into_iter()
        .map(|((store, day), sums)| {
            let mut row = vec![Value::from(store), day.into()];
            row.extend(sums.into_iter().map(Value::from));
            row
        })
        .collect();
    insert_rows(
        &mut tx,
        "daily_sales",
        &day_columns,
        day_rows,
        &super::add_on_conflict("daily_sales", &day_columns[..2], SUMS),
    )
    .await?;
    let mut product_columns = vec!["store", "business_day", "sku"];
    product_columns.extend(PRODUCT_SUMS);
    let product_rows = products
        .into_iter()
        .map(|((store, day, sku), sums)| {
            let mut row = vec![Value::from(store), day.into(), sku.into()];
            row.extend(sums.into_iter().map(Value::from));
            row
        })
        .collect();
    insert_rows(
        &mut tx,
        "daily_products",
        &product_columns,
        product_rows,
        &super::add_on_conflict("daily_products", &product_columns[..3], PRODUCT_SUMS),
    )
    .await?;
    sqlx::query("UPDATE report_checkpoint SET position = $1, folded_ms = $2 WHERE id = 1")
        .bind(last)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.len())
}

type DayKey = (String, String);
type ProductKey = (String, String, String);

/// Adds up journal rows per (store, day) and per (store, day, SKU).
#[allow(clippy::type_complexity)]
fn fold(rows: &[JournalRow]) -> sqlx::Result<(BTreeMap<DayKey, [i64; 11]>, BTreeMap<ProductKey, [i64; 4]>)> {
    let mut days: BTreeMap<DayKey, [i64; 11]> = BTreeMap::new();
    let mut products: BTreeMap<ProductKey, [i64; 4]> = BTreeMap::new();
    for row in rows {
        add_into(days.entry((row.store.clone(), row.business_day.clone())).or_default(), &row.sums());
        let lines: Vec<(String, [i64; 4])> = serde_json::from_str(&row.products)
            .map_err(|e| crate::db::corrupt("report_journal.products", e))?;
        for (sku, sums) in lines {
            add_into(products.entry((row.store.clone(), row.business_day.clone(), sku)).or_default(), &sums);
        }
    }
    Ok((days, products))
}

/// Adds `more` into `into`, saturating: totals are bounded far below `i64::MAX` when pushed, and
/// a fold must never stop on one (see the module's note on bounds).
fn add_into<const N: usize>(into: &mut [i64; N], more: &[i64; N]) {
    for (total, value) in into.iter_mut().zip(more) {
        *total = total.saturating_add(*value);
    }
}

/// Folds everything committed so far: what a report calls first.
#[tracing::instrument(skip_all)]
pub async fn catch_up(db: &Db) -> sqlx::Result<()> {
    {
        // Rows committed before this call are folded by it, once the transactions older than
        // them have ended (see `commit_order`).
        let mut conn = db.pool().acquire().await?;
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(position) FROM report_journal").fetch_one(&mut *conn).await?;
        if let Some(newest) = newest {
            commit_order::wait_past(&mut conn, newest).await?;
        }
    }
    while fold_batch(db).await? > 0 {}
    Ok(())
}

/// Runs the projector in the background: a batch whenever there is one, else a look every
/// `every`. Errors are logged and retried; they never stop it.
pub fn spawn(db: Db, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match fold_batch(&db).await {
                Ok(0) => tokio::time::sleep(every).await,
                Ok(folded) => metrics::counter!("caisse_report_rows_folded_total").increment(folded as u64),
                Err(e) => {
                    tracing::warn!(error = %e, "the daily totals could not be folded; trying again");
                    tokio::time::sleep(every).await;
                }
            }
        }
    })
}

/// How up to date the daily totals are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TotalsFreshness {
    /// Journal rows not folded yet: 0 when the figures include everything committed.
    pub behind: i64,
    /// When the projector last folded (Unix ms; 0 before it ever did).
    pub folded_ms: i64,
}

pub async fn freshness(db: &Db) -> sqlx::Result<TotalsFreshness> {
    let (behind, folded_ms): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM report_journal WHERE position > c.position) AS behind, c.folded_ms
         FROM report_checkpoint AS c WHERE c.id = 1",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(TotalsFreshness { behind, folded_ms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(
        position: i64,
        store: &str,
        day: &str,
        sums: [i64; 11],
        products: &[(&str, [i64; 4])],
    ) -> JournalRow {
        JournalRow {
            position,
            store: store.into(),
            business_day: day.into(),
            sales: sums[0],
            returns: sums[1],
            net_sales: sums[2],
            gst: sums[3],
            qst: sums[4],
            collected: sums[5],
            net_refunds: sums[6],
            gst_refunded: sums[7],
            qst_refunded: sums[8],
            refunded: sums[9],
            redated: sums[10],
            products: serde_json::to_string(products).unwrap(),
        }
    }

    fn journal() -> impl Strategy<Value = Vec<JournalRow>> {
        prop::collection::vec(
            (
                0..3usize,
                0..2usize,
                prop::array::uniform11(-1_000i64..100_000),
                0..3usize,
                prop::array::uniform4(0i64..1_000),
            ),
            0..40,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (store, day, sums, sku, product))| {
                    let skus = ["A-1", "B-2", "C-3"];
                    row(
                        i as i64 + 1,
                        ["S1", "S2", "WEB"][store],
                        ["2026-12-05", "2026-12-06"][day],
                        sums,
                        &[(skus[sku], product)],
                    )
                })
                .collect()
        })
    }

    /// Folds `rows` in the batches `cuts` makes, adding each batch's sums into the running
    /// totals as the upserts do.
    fn fold_in_batches(
        rows: &[JournalRow],
        cuts: &[usize],
    ) -> (BTreeMap<DayKey, [i64; 11]>, BTreeMap<ProductKey, [i64; 4]>) {
        let mut days = BTreeMap::new();
        let mut products = BTreeMap::new();
        let mut start = 0;
        for cut in cuts.iter().copied().chain(std::iter::once(rows.len())) {
            let end = cut.clamp(start, rows.len());
            let (d, p) = fold(&rows[start..end]).unwrap();
            for (k, v) in d {
                add_into(days.entry(k).or_insert([0; 11]), &v);
            }
            for (k, v) in p {
                add_into(products.entry(k).or_insert([0; 4]), &v);
            }
            start = end;
        }
        (days, products)
    }

    proptest! {
        /// However the journal is cut into batches (a crash between two batches, several
        /// instances taking turns), and in whatever order rows are added, the totals are the
        /// same: the fold is associative and commutative.
        #[test]
        fn folding_in_any_batches_or_order_gives_the_same_totals(
            rows in journal(),
            cuts in prop::collection::vec(0..40usize, 0..6),
            seed in any::<u64>(),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let whole = fold(&rows).unwrap();
            prop_assert_eq!(&fold_in_batches(&rows, &cuts), &whole);
            let mut shuffled = rows.clone();
            let len = shuffled.len();
            for i in 0..len {
                shuffled.swap(i, (seed as usize).wrapping_add(i * 7) % len);
            }
            prop_assert_eq!(&fold(&shuffled).unwrap(), &whole);
        }
    }
}
