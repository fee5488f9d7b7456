//! Stock per (location, product): a ledger of movements and the level each adds up to.
//! Levels change only by adding a movement's delta in the same transaction that records the
//! movement, so a level is always its opening stock plus the sum of its movements
//! (DESIGN.md §4, invariant 2). Every changed level is published for registers to pull.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared_model::protocol::{Change, StockLevel};
use shared_model::{LocationCode, Sku};
use sqlx::{AnyConnection, FromRow};

use crate::alerts::{self, Alert, Kind};
use crate::catalogue;
use crate::db::{
    Db, Value, bind_all, insert_rows, now_ms, parse, placeholder, rows_per_statement, rows_source,
};
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
struct LevelRow {
    location: String,
    sku: String,
    quantity: i64,
    updated_ms: i64,
}

/// The stock of a product at a location.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Level {
    location: LocationCode,
    sku: Sku,
    quantity: i64,
    updated_ms: i64,
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
async fn record_moves(conn: &mut AnyConnection, moves: &[Move], at: i64) -> sqlx::Result<()> {
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
async fn published(
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
    let rows: Vec<LevelRow> = sqlx::query_as(
        "SELECT location, sku, quantity, updated_ms FROM stock_levels
         WHERE ($1 = '' OR location = $1) AND ($2 = '' OR sku = $2) ORDER BY location, sku",
    )
    .bind(query.location.clone().unwrap_or_default())
    .bind(query.sku.clone().unwrap_or_default())
    .fetch_all(db.pool())
    .await?;
    let view = |level: Level| LevelView {
        location: level.location.into(),
        sku: level.sku.into(),
        quantity: level.quantity,
        updated_ms: level.updated_ms,
    };
    Ok(rows.into_iter().map(|row| Level::try_from(row).map(view)).collect::<sqlx::Result<_>>()?)
}

/// Units on hand at a location, all products together.
#[derive(Debug, sqlx::FromRow)]
struct LocationUnitsRow {
    location: String,
    units: i64,
}

/// Total units on hand per location.
#[tracing::instrument(skip_all)]
pub async fn totals_by_location(db: &Db) -> sqlx::Result<Vec<(LocationCode, i64)>> {
    let rows: Vec<LocationUnitsRow> = sqlx::query_as(
        "SELECT location, CAST(SUM(quantity) AS BIGINT) AS units FROM stock_levels GROUP BY location ORDER BY location",
    )
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(|row| Ok((parse("stock_levels.location", &row.location)?, row.units))).collect()
}

/// The movements of a (location, product), added up.
#[derive(Debug, sqlx::FromRow)]
struct MovementSumRow {
    location: String,
    sku: String,
    total: i64,
}

/// Sum of the movements of every (location, product): what the levels must equal.
#[tracing::instrument(skip_all)]
pub async fn movement_sums(db: &Db) -> sqlx::Result<BTreeMap<(String, String), i64>> {
    let rows: Vec<MovementSumRow> = sqlx::query_as(
        "SELECT location, sku, CAST(SUM(delta) AS BIGINT) AS total FROM stock_movements GROUP BY location, sku",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|row| ((row.location, row.sku), row.total)).collect())
}

/// A line an online checkout could not reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Short {
    pub sku: Sku,
    pub available: i64,
    pub wanted: i64,
}

/// Reserves `lines` (product, units) at `location` for an online checkout, all or none: each
/// line is a conditional update that succeeds only if the units not yet reserved cover it, so
/// two checkouts can never both take the last unit (no read-then-write). On a short line the
/// caller must roll back its transaction, which undoes the lines reserved before it.
#[tracing::instrument(skip_all)]
pub async fn reserve(
    conn: &mut AnyConnection,
    location: &LocationCode,
    lines: &[(Sku, i64)],
) -> sqlx::Result<Result<(), Short>> {
    // Sorted: concurrent checkouts lock rows in the same order and cannot deadlock.
    let mut sorted: Vec<&(Sku, i64)> = lines.iter().collect();
    sorted.sort();
    for (sku, wanted) in sorted {
        let taken = sqlx::query(
            "UPDATE stock_levels SET reserved = reserved + $1
             WHERE location = $2 AND sku = $3 AND quantity - reserved >= $1",
        )
        .bind(*wanted)
        .bind(location.as_str())
        .bind(sku.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if taken == 0 {
            let available: Option<i64> = sqlx::query_scalar(
                "SELECT quantity - reserved FROM stock_levels WHERE location = $1 AND sku = $2",
            )
            .bind(location.as_str())
            .bind(sku.as_str())
            .fetch_optional(&mut *conn)
            .await?;
            return Ok(Err(Short {
                sku: sku.clone(),
                available: available.unwrap_or(0).max(0),
                wanted: *wanted,
            }));
        }
    }
    Ok(Ok(()))
}

/// Gives back units reserved by [`reserve`] (a checkout cancelled).
#[tracing::instrument(skip_all)]
pub async fn release(
    conn: &mut AnyConnection,
    location: &LocationCode,
    lines: &[(Sku, i64)],
) -> sqlx::Result<()> {
    let mut sorted: Vec<&(Sku, i64)> = lines.iter().collect();
    sorted.sort();
    for (sku, units) in sorted {
        sqlx::query(
            "UPDATE stock_levels SET reserved = CASE WHEN reserved > $1 THEN reserved - $1 ELSE 0 END
             WHERE location = $2 AND sku = $3",
        )
        .bind(*units)
        .bind(location.as_str())
        .bind(sku.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Turns reserved units into units gone: the reservation is released and the same units leave
/// `location` as an `online_sale` movement of the ledger, in the caller's transaction.
///
/// Each product's row is taken once, by one statement that releases and decrements together,
/// in the order of the SKUs (the order [`reserve`] takes them in, so two checkouts cannot
/// deadlock): call it last in the transaction, so that the rows are held for the commit alone.
#[tracing::instrument(skip_all)]
pub async fn take_reserved(
    conn: &mut AnyConnection,
    location: &LocationCode,
    lines: &[(Sku, i64)],
    reference: &str,
) -> sqlx::Result<Vec<Entry>> {
    let mut units: BTreeMap<&Sku, i64> = BTreeMap::new();
    for (sku, n) in lines {
        let total = units.entry(sku).or_default();
        *total = total.checked_add(*n).ok_or_else(|| sqlx::Error::Protocol("units past i64".into()))?;
    }
    let at = now_ms();
    let moves: Vec<Move> = units
        .iter()
        .map(|(sku, n)| Move {
            location: location.clone(),
            sku: (*sku).clone(),
            delta: -n,
            kind: "online_sale",
            record_id: Some(reference.to_owned()),
        })
        .collect();
    record_moves(conn, &moves, at).await?;
    let mut levels = Vec::with_capacity(units.len());
    for (sku, n) in &units {
        let row: Option<LevelRow> = sqlx::query_as(
            "UPDATE stock_levels SET quantity = quantity - $1,
                 reserved = CASE WHEN reserved > $1 THEN reserved - $1 ELSE 0 END, updated_ms = $4
             WHERE location = $2 AND sku = $3
             RETURNING location, sku, quantity, updated_ms",
        )
        .bind(*n)
        .bind(location.as_str())
        .bind(sku.as_str())
        .bind(at)
        .fetch_optional(&mut *conn)
        .await?;
        // A reservation holds its row: it is there unless someone deleted stock rows by hand.
        let row = row.ok_or_else(|| {
            sqlx::Error::Protocol(format!("no stock row of {sku} at {location} for a reservation"))
        })?;
        let level = Level::try_from(row)?;
        crate::db::check_total(&format!("the stock of {} at {}", level.sku, level.location), level.quantity)?;
        levels.push(level);
    }
    let delta_of: BTreeMap<(&LocationCode, &Sku), i64> =
        units.iter().map(|(sku, n)| ((location, *sku), -n)).collect();
    published(conn, levels, &delta_of, at).await
}

/// Units of each product that can be promised online at `location`: on hand less reserved,
/// never below zero.
#[tracing::instrument(skip_all)]
pub async fn available(db: &Db, location: &LocationCode, skus: &[Sku]) -> sqlx::Result<BTreeMap<Sku, i64>> {
    let mut out = BTreeMap::new();
    if skus.is_empty() {
        return Ok(out);
    }
    for chunk in skus.chunks(500) {
        let sql = format!(
            "SELECT sku, quantity - reserved AS available FROM stock_levels WHERE location = {} AND sku IN ({})",
            crate::db::list_placeholders(db.placeholder(), 1, 1),
            crate::db::list_placeholders(db.placeholder(), 2, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql)).bind(location.as_str());
        for sku in chunk {
            query = query.bind(sku.as_str());
        }
        for (sku, units) in query.fetch_all(db.pool()).await? {
            out.insert(parse::<Sku>("sku", &sku)?, units.max(0));
        }
    }
    Ok(out)
}

/// Units reserved at every location, summed: zero once every checkout has finished.
#[tracing::instrument(skip_all)]
pub async fn reserved_total(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels")
        .fetch_one(db.pool())
        .await
}

/// Every level at or below zero: what is out of stock where.
#[tracing::instrument(skip_all)]
pub async fn stock_outs(db: &Db) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT location, sku, quantity FROM stock_levels WHERE quantity <= 0 ORDER BY location, sku",
    )
    .fetch_all(db.pool())
    .await
}

/// Every level of the given products, at every location.
#[tracing::instrument(skip_all)]
pub async fn levels_of(db: &Db, skus: &[&str]) -> sqlx::Result<Vec<(String, String, i64)>> {
    let mut out = Vec::new();
    for chunk in skus.chunks(500) {
        let sql = format!(
            "SELECT location, sku, quantity FROM stock_levels WHERE sku IN ({}) ORDER BY location, sku",
            crate::db::list_placeholders(db.placeholder(), 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, i64)>(sqlx::AssertSqlSafe(sql));
        for sku in chunk {
            query = query.bind(*sku);
        }
        out.extend(query.fetch_all(db.pool()).await?);
    }
    Ok(out)
}

/// Claims `lines` (SKU, units) of `location`'s stock for a shipment, in the caller's
/// transaction: each level must hold the units beyond what online orders have reserved. The
/// check is one conditional update per line, which on PostgreSQL also locks the level until
/// the transaction ends, so a reservation or another shipment cannot take the same units in
/// between (SQLite has one writer at a time). Answers the first line that is short, with the
/// units that could be sent, or `None` when every line can be sent.
#[tracing::instrument(skip_all)]
pub async fn claim_for_shipping(
    conn: &mut AnyConnection,
    location: &LocationCode,
    lines: &[(Sku, i64)],
) -> sqlx::Result<Option<(usize, i64)>> {
    for (index, (sku, units)) in lines.iter().enumerate() {
        let claimed: Option<i64> = sqlx::query_scalar(
            "UPDATE stock_levels SET updated_ms = updated_ms
             WHERE location = $1 AND sku = $2 AND quantity - reserved >= $3 RETURNING quantity",
        )
        .bind(location.as_str())
        .bind(sku.as_str())
        .bind(*units)
        .fetch_optional(&mut *conn)
        .await?;
        if claimed.is_none() {
            let available: Option<i64> = sqlx::query_scalar(
                "SELECT quantity - reserved AS available FROM stock_levels WHERE location = $1 AND sku = $2",
            )
            .bind(location.as_str())
            .bind(sku.as_str())
            .fetch_optional(&mut *conn)
            .await?;
            return Ok(Some((index, available.unwrap_or(0).max(0))));
        }
    }
    Ok(None)
}

/// The levels of the given products, as `conn` sees them (in its transaction): (location,
/// SKU) → units. A pair with no level is absent.
#[tracing::instrument(skip_all)]
pub async fn levels_in(
    conn: &mut AnyConnection,
    skus: &[&str],
) -> sqlx::Result<std::collections::HashMap<(String, String), i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in skus.chunks(1_000) {
        let sql = format!(
            "SELECT location, sku, quantity FROM stock_levels WHERE sku IN ({})",
            crate::db::list_placeholders(placeholder(conn), 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, i64)>(sqlx::AssertSqlSafe(sql));
        for sku in chunk {
            query = query.bind(*sku);
        }
        for (location, sku, quantity) in query.fetch_all(&mut *conn).await? {
            out.insert((location, sku), quantity);
        }
    }
    Ok(out)
}

/// A page of levels in (location, SKU) order, after `after`: what an export reads.
#[tracing::instrument(skip_all)]
pub async fn levels_page(
    db: &Db,
    after: (&str, &str),
    limit: i64,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT location, sku, quantity FROM stock_levels
         WHERE location > $1 OR (location = $1 AND sku > $2) ORDER BY location, sku LIMIT $3",
    )
    .bind(after.0)
    .bind(after.1)
    .bind(limit)
    .fetch_all(db.pool())
    .await
}
