//! Levels read: filtered and paged for head office, totalled per location, a product's
//! levels everywhere, and stock-outs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared_model::{LocationCode, Sku};
use sqlx::AnyConnection;

use crate::db::{Db, parse, placeholder};

use super::Error;
use super::movements::{Level, LevelRow};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelView {
    pub location: String,
    pub sku: String,
    pub quantity: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
