//! Movements recorded and added to their levels in one transaction, the changed levels
//! published for registers, and the alerts a level crossing its threshold raises.

use std::collections::BTreeMap;

use shared_model::protocol::{Change, StockLevel};
use shared_model::{LocationCode, Sku};
use sqlx::{AnyConnection, FromRow};

use crate::alerts::{self, Alert, Kind};
use crate::catalogue;
use crate::db::{Value, bind_all, insert_rows, now_ms, parse, placeholder, rows_per_statement, rows_source};
use crate::feed::Entry;

/// One change of stock to record.
#[derive(Debug, Clone)]
pub struct Move {
    pub location: LocationCode,
    pub sku: Sku,
    pub delta: i64,
    /// sale, return, count, adjustment, transfer_in, transfer_out, opening.
    pub kind: &'static str,
    /// What made the move: the id of the record, when a record did.
    pub record_id: Option<String>,
}

/// A row of `stock_levels`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct LevelRow {
    location: String,
    sku: String,
    quantity: i64,
    updated_ms: i64,
}

/// The stock of a product at a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Level {
    pub(super) location: LocationCode,
    pub(super) sku: Sku,
    pub(super) quantity: i64,
    pub(super) updated_ms: i64,
}

impl TryFrom<LevelRow> for Level {
    type Error = sqlx::Error;

    fn try_from(row: LevelRow) -> sqlx::Result<Level> {
        Ok(Level {
            location: parse("stock_levels.location", &row.location)?,
            sku: parse("stock_levels.sku", &row.sku)?,
            quantity: row.quantity,
            updated_ms: row.updated_ms,
        })
    }
}

/// Appends `moves` to the ledger of movements, stamped `at`.
pub(super) async fn record_moves(conn: &mut AnyConnection, moves: &[Move], at: i64) -> sqlx::Result<()> {
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
    .await
}

/// Records the movements, updates the levels, raises or resolves stock alerts, and returns the
/// feed entries of the changed levels (for the caller to publish last in its transaction).
#[tracing::instrument(skip_all)]
pub async fn apply(conn: &mut AnyConnection, moves: &[Move]) -> sqlx::Result<Vec<Entry>> {
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    let at = now_ms();
    record_moves(conn, moves, at).await?;

    // Sorted keys: concurrent transactions lock rows in the same order and cannot deadlock.
    let mut deltas: BTreeMap<(&LocationCode, &Sku), i64> = BTreeMap::new();
    for m in moves {
        *deltas.entry((&m.location, &m.sku)).or_default() += m.delta;
    }
    let deltas: Vec<_> = deltas.into_iter().collect();
    let mut levels = Vec::with_capacity(deltas.len());
    let sign = placeholder(conn);
    for chunk in deltas.chunks(rows_per_statement(sign, 4, deltas.len())) {
        let rows: Vec<Vec<Value>> = chunk
            .iter()
            .map(|((location, sku), delta)| {
                vec![location.as_str().into(), sku.as_str().into(), (*delta).into(), at.into()]
            })
            .collect();
        let (source, values) = rows_source(sign, &rows);
        let sql = format!(
            "INSERT INTO stock_levels (location, sku, quantity, updated_ms) {source}
             ON CONFLICT (location, sku) DO UPDATE SET quantity = stock_levels.quantity + excluded.quantity,
                 updated_ms = excluded.updated_ms
             RETURNING location, sku, quantity, updated_ms"
        );
        let query = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values);
        for row in query.fetch_all(&mut *conn).await? {
            let level = Level::try_from(LevelRow::from_row(&row)?)?;
            crate::db::check_total(
                &format!("the stock of {} at {}", level.sku, level.location),
                level.quantity,
            )?;
            levels.push(level);
        }
    }
    let delta_of: BTreeMap<(&LocationCode, &Sku), i64> = deltas.iter().map(|(k, d)| (*k, *d)).collect();
    published(conn, levels, &delta_of, at).await
}

/// The feed's entries for levels just written (each one moved by `delta_of`), after raising
/// the stock alerts their move calls for.
pub(super) async fn published(
    conn: &mut AnyConnection,
    levels: Vec<Level>,
    delta_of: &BTreeMap<(&LocationCode, &Sku), i64>,
    at: i64,
) -> sqlx::Result<Vec<Entry>> {
    let skus: Vec<&Sku> = {
        let mut s: Vec<&Sku> = levels.iter().map(|l| &l.sku).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let thresholds = catalogue::thresholds(conn, &skus).await?;
    // The rows' instant, as registers read it: exact, since `now_ms` is never negative.
    let as_of_ms = at.unsigned_abs();
    let mut entries = Vec::with_capacity(levels.len());
    for Level { location, sku, quantity, .. } in levels {
        // Every level returned is one of `deltas`; a product not in the catalogue has no threshold.
        let before = quantity - delta_of.get(&(&location, &sku)).copied().unwrap_or_default();
        let threshold = thresholds.get(&sku).copied().unwrap_or(0);
        stock_alerts(conn, &location, &sku, before, quantity, threshold).await?;
        entries.push(Entry {
            kind: "stock",
            key: format!("{location}/{sku}"),
            audience: None,
            change: Change::StockLevel(StockLevel { location, sku, quantity, as_of_ms }),
        });
    }
    Ok(entries)
}

/// Raises or resolves alerts when a level crosses zero or its reorder threshold.
#[tracing::instrument(skip_all)]
async fn stock_alerts(
    conn: &mut AnyConnection,
    location: &LocationCode,
    sku: &Sku,
    before: i64,
    after: i64,
    threshold: i64,
) -> sqlx::Result<()> {
    let subject = format!("{location}/{sku}");
    let alert = |message: String| Alert {
        location: Some(location.clone()),
        sku: Some(sku.clone()),
        record_id: None,
        message,
        ..Alert::default()
    };
    let said: [(&str, &(dyn std::fmt::Display + Sync)); 4] =
        [("sku", sku), ("location", location), ("quantity", &after), ("threshold", &threshold)];
    if after < 0 && before >= 0 {
        let message = format!("stock of {sku} at {location} is {after}: more was sold than was on hand");
        let alert = alert(message).says("stock_negative", &said[..3]);
        alerts::raise(conn, Kind::NegativeStock, &subject, alert).await?;
    } else if after >= 0 && before < 0 {
        alerts::resolve(conn, Kind::NegativeStock, &subject).await?;
    }
    let low = |q: i64| q >= 0 && q <= threshold;
    if low(after) && !low(before) {
        let message =
            format!("stock of {sku} at {location} is {after}, at or under its threshold of {threshold}");
        alerts::raise(conn, Kind::LowStock, &subject, alert(message).says("stock_low", &said)).await?;
    } else if !low(after) && low(before) {
        alerts::resolve(conn, Kind::LowStock, &subject).await?;
    }
    Ok(())
}
