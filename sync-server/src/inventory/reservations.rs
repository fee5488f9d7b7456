//! Units the online shop holds for carts and orders: reserved, released, taken when an order
//! ships, and what is left to sell.

use std::collections::BTreeMap;

use shared_model::{LocationCode, Sku};
use sqlx::AnyConnection;

use crate::db::{Db, now_ms, parse};
use crate::feed::Entry;

use super::movements::{Level, LevelRow, Move, published, record_moves};

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

/// Units reserved at every location, summed: zero once every checkout has finished. Only
/// tests ask it (no production path needs the sum).
#[cfg(any(test, feature = "testing"))]
#[tracing::instrument(skip_all)]
pub async fn reserved_total(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock_levels")
        .fetch_one(db.pool())
        .await
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
