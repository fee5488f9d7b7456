//! Stock per (location, product): a ledger of movements and the level each adds up to.
//! Levels change only by adding a movement's delta in the same transaction that records the
//! movement, so a level is always its opening stock plus the sum of its movements
//! (DESIGN.md §4, invariant 2). Every changed level is published for registers to pull.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared_model::protocol::{Change, StockLevel};
use shared_model::{LocationCode, Sku};
use sqlx::{AnyConnection, Row};

use crate::alerts::{self, Alert, Kind};
use crate::catalogue;
use crate::db::{Db, Value, insert_rows, now_ms, placeholder, rows_per_statement, values_placeholders};
use crate::feed::Entry;

/// Why a stock question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filter that cannot be read; `field` names it.
    #[error("{detail}")]
    Malformed { field: &'static str, detail: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// One change of stock to record.
#[derive(Debug, Clone)]
pub struct Move {
    pub location: String,
    pub sku: String,
    pub delta: i64,
    /// sale, return, count, adjustment, transfer_in, transfer_out, opening.
    pub kind: &'static str,
    pub record_id: Option<String>,
}

/// Records the movements, updates the levels, raises or resolves stock alerts, and returns the
/// feed entries of the changed levels (for the caller to publish last in its transaction).
#[tracing::instrument(skip_all)]
pub async fn apply(conn: &mut AnyConnection, moves: &[Move]) -> sqlx::Result<Vec<Entry>> {
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    let at = now_ms();
    let rows = moves
        .iter()
        .map(|m| {
            vec![
                Value::from(m.location.as_str()),
                m.sku.as_str().into(),
                m.delta.into(),
                m.kind.into(),
                m.record_id.clone().into(),
                at.into(),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "stock_movements",
        &["location", "sku", "delta", "kind", "record_id", "at_ms"],
        rows,
        "",
    )
    .await?;

    // Sorted keys: concurrent transactions lock rows in the same order and cannot deadlock.
    let mut deltas: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for m in moves {
        *deltas.entry((&m.location, &m.sku)).or_default() += m.delta;
    }
    let deltas: Vec<_> = deltas.into_iter().collect();
    let mut levels = Vec::with_capacity(deltas.len());
    for chunk in deltas.chunks(rows_per_statement(4)) {
        let sql = format!(
            "INSERT INTO stock_levels (location, sku, quantity, updated_ms) VALUES {}
             ON CONFLICT (location, sku) DO UPDATE SET quantity = stock_levels.quantity + excluded.quantity,
                 updated_ms = excluded.updated_ms
             RETURNING location, sku, quantity",
            values_placeholders(placeholder(conn), chunk.len(), 4)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((location, sku), delta) in chunk {
            query = query.bind(*location).bind(*sku).bind(*delta).bind(at);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let location: String = row.try_get("location")?;
            let sku: String = row.try_get("sku")?;
            let quantity: i64 = row.try_get("quantity")?;
            crate::db::check_total(&format!("the stock of {sku} at {location}"), quantity)?;
            levels.push((location, sku, quantity));
        }
    }
    let delta_of: BTreeMap<(&str, &str), i64> = deltas.iter().map(|(k, d)| (*k, *d)).collect();
    let skus: Vec<&str> = {
        let mut s: Vec<&str> = levels.iter().map(|(_, sku, _)| sku.as_str()).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let thresholds = catalogue::thresholds(conn, &skus).await?;
    let mut entries = Vec::with_capacity(levels.len());
    for (location, sku, quantity) in &levels {
        let before = quantity - delta_of.get(&(location.as_str(), sku.as_str())).copied().unwrap_or_default();
        let threshold = thresholds.get(sku).copied().unwrap_or(0);
        stock_alerts(conn, location, sku, before, *quantity, threshold).await?;
        let parsed = (LocationCode::parse(location), Sku::parse(sku));
        if let (Err(e), _) | (_, Err(e)) = &parsed {
            tracing::error!(location, sku, error = %e, "a stock level with a malformed key is not published");
        }
        if let (Ok(location), Ok(sku)) = parsed {
            entries.push(Entry {
                kind: "stock",
                key: format!("{location}/{sku}"),
                audience: None,
                change: Change::StockLevel(StockLevel {
                    location,
                    sku,
                    quantity: *quantity,
                    as_of_ms: u64::try_from(at).unwrap_or_default(),
                }),
            });
        }
    }
    Ok(entries)
}

/// Raises or resolves alerts when a level crosses zero or its reorder threshold.
#[tracing::instrument(skip_all)]
async fn stock_alerts(
    conn: &mut AnyConnection,
    location: &str,
    sku: &str,
    before: i64,
    after: i64,
    threshold: i64,
) -> sqlx::Result<()> {
    let subject = format!("{location}/{sku}");
    let alert = |message: String| Alert {
        location: Some(location.to_owned()),
        sku: Some(sku.to_owned()),
        record_id: None,
        message,
    };
    if after < 0 && before >= 0 {
        let message = format!("stock of {sku} at {location} is {after}: more was sold than was on hand");
        alerts::raise(conn, Kind::NegativeStock, &subject, alert(message)).await?;
    } else if after >= 0 && before < 0 {
        alerts::resolve(conn, Kind::NegativeStock, &subject).await?;
    }
    let low = |q: i64| q >= 0 && q <= threshold;
    if low(after) && !low(before) {
        let message =
            format!("stock of {sku} at {location} is {after}, at or under its threshold of {threshold}");
        alerts::raise(conn, Kind::LowStock, &subject, alert(message)).await?;
    } else if !low(after) && low(before) {
        alerts::resolve(conn, Kind::LowStock, &subject).await?;
    }
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelView {
    pub location: String,
    pub sku: String,
    pub quantity: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct StockQuery {
    pub location: Option<String>,
    pub sku: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn levels(db: &Db, query: &StockQuery) -> Result<Vec<LevelView>, Error> {
    if let Some(location) = &query.location {
        LocationCode::parse(location)
            .map_err(|e| Error::Malformed { field: "location", detail: e.to_string() })?;
    }
    if let Some(sku) = &query.sku {
        Sku::parse(sku).map_err(|e| Error::Malformed { field: "sku", detail: e.to_string() })?;
    }
    let rows = sqlx::query(
        "SELECT location, sku, quantity, updated_ms FROM stock_levels
         WHERE ($1 = '' OR location = $1) AND ($2 = '' OR sku = $2) ORDER BY location, sku",
    )
    .bind(query.location.clone().unwrap_or_default())
    .bind(query.sku.clone().unwrap_or_default())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LevelView {
                location: r.try_get("location")?,
                sku: r.try_get("sku")?,
                quantity: r.try_get("quantity")?,
                updated_ms: r.try_get("updated_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Total units on hand per location.
#[tracing::instrument(skip_all)]
pub async fn totals_by_location(db: &Db) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT location, CAST(SUM(quantity) AS BIGINT) AS units FROM stock_levels GROUP BY location ORDER BY location",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("location")?, r.try_get("units")?))).collect()
}

/// Sum of the movements of every (location, product): what the levels must equal.
#[tracing::instrument(skip_all)]
pub async fn movement_sums(db: &Db) -> sqlx::Result<BTreeMap<(String, String), i64>> {
    let rows = sqlx::query(
        "SELECT location, sku, CAST(SUM(delta) AS BIGINT) AS total FROM stock_movements GROUP BY location, sku",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok(((r.try_get("location")?, r.try_get("sku")?), r.try_get("total")?))).collect()
}
