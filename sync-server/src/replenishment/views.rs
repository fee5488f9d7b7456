//! What the replenishment routes answer: requests and transfers as people read them (a short
//! number, the products' names), and the rows they are read from.

use std::collections::BTreeMap;

use serde::Serialize;
use shared_model::stock::ItemQuantity;
use shared_model::{LocationCode, RecordId};

use crate::db::{Db, corrupt, parse};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    #[schema(value_type = String)]
    pub id: RecordId,
    /// The short number people read, in the order head office learnt of requests.
    pub number: Option<i64>,
    #[schema(value_type = String)]
    pub store: LocationCode,
    pub requested_ms: i64,
    #[schema(value_type = Object)]
    pub lines: Vec<ItemQuantity>,
    pub note: Option<String>,
    pub status: String,
    pub decided_by: Option<String>,
    /// The catalogue's names of the lines' products, by SKU.
    pub names: BTreeMap<String, String>,
}

/// A row of `replenishment_requests` (but for the decision's time and note).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RequestRow {
    pub(super) record_id: String,
    pub(super) store: String,
    pub(super) requested_ms: i64,
    pub(super) lines: String,
    pub(super) note: Option<String>,
    pub(super) status: String,
    pub(super) decided_by: Option<String>,
    #[sqlx(default)]
    pub(super) number: Option<i64>,
}

impl TryFrom<RequestRow> for RequestView {
    type Error = sqlx::Error;

    fn try_from(row: RequestRow) -> sqlx::Result<RequestView> {
        Ok(RequestView {
            id: parse("replenishment_requests.record_id", &row.record_id)?,
            number: row.number,
            store: parse("replenishment_requests.store", &row.store)?,
            requested_ms: row.requested_ms,
            lines: serde_json::from_str(&row.lines)
                .map_err(|e| corrupt("replenishment_requests.lines", e))?,
            note: row.note,
            status: row.status,
            decided_by: row.decided_by,
            names: BTreeMap::new(),
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransferView {
    pub id: String,
    /// The short number people read (T-7).
    pub number: Option<i64>,
    pub from: String,
    pub to: String,
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<ItemQuantity>,
    pub shipped_ms: i64,
    /// Whether the receiving store has recorded its receipt.
    pub received: bool,
    /// Who started it from the pages; none for an approved request's.
    pub started_by: Option<String>,
    /// The catalogue's names of the lines' products, by SKU.
    pub names: BTreeMap<String, String>,
}

/// A row of `transfers`, with whether it was received.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TransferListRow {
    pub(super) id: String,
    pub(super) from_loc: String,
    pub(super) to_loc: String,
    pub(super) lines: String,
    pub(super) shipped_ms: i64,
    pub(super) started_by: Option<String>,
    pub(super) receipts: i64,
    pub(super) number: Option<i64>,
}

/// The catalogue's names of the products of `lines`, by SKU.
pub(super) async fn names_of(
    db: &Db,
    lines: impl Iterator<Item = &ItemQuantity>,
) -> sqlx::Result<BTreeMap<shared_model::Sku, String>> {
    let skus: Vec<shared_model::Sku> =
        lines.map(|l| l.sku.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let products = crate::catalogue::products_by_sku(db, &skus).await?;
    Ok(products.into_iter().map(|(sku, product)| (sku, product.name)).collect())
}

pub(super) fn pick(
    names: &BTreeMap<shared_model::Sku, String>,
    lines: &[ItemQuantity],
) -> BTreeMap<String, String> {
    lines.iter().filter_map(|l| names.get(&l.sku).map(|name| (l.sku.to_string(), name.clone()))).collect()
}
