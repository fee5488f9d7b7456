//! Stock at the register: this store's figure is head office's last one plus what this
//! register did since that head office has not counted yet; other locations are shown as of
//! the last pull. Counts, adjustments, transfer receipts and replenishment requests are records.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use shared_model::projection::movements;
use shared_model::stock::{
    AdjustmentReason, ItemQuantity, ReplenishmentRequest, StockAdjustment, StockCount, TransferReceipt,
};
use shared_model::{Record, RecordBody, Sku};

use crate::error::{RegisterError, Result, corrupt};
use crate::{Register, catalog, journal};

/// Stock of one product at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockFigure {
    pub location: String,
    pub quantity: i64,
    /// When head office's figure was true; for this store, what this register did since is added.
    pub as_of_ms: Option<u64>,
    pub this_store: bool,
}

impl Register {
    fn local_moves(&self, sku: &Sku) -> Result<i64> {
        let store = self.identity()?.store;
        Ok(journal::unreflected(&self.conn)?
            .iter()
            .flat_map(movements)
            .filter(|m| m.sku == *sku && m.location == store)
            .map(|m| m.delta)
            .sum())
    }

    /// Stock of a product here (live) and at every other location (as of the last pull).
    pub fn stock(&self, code: &str) -> Result<Vec<StockFigure>> {
        let store = self.identity()?.store;
        let sku = catalog::find(&self.conn, code)?.sku;
        let mut statement = self.conn.prepare(
            "SELECT location, quantity, as_of_ms FROM stock_levels WHERE sku = ?1 ORDER BY location",
        )?;
        let rows = statement.query_map(params![sku.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut figures = BTreeMap::new();
        for row in rows {
            let (location, quantity, as_of) = row?;
            figures.insert(
                location.clone(),
                StockFigure {
                    this_store: location == store.as_str(),
                    location,
                    quantity,
                    as_of_ms: u64::try_from(as_of).ok(),
                },
            );
        }
        let here = figures.entry(store.to_string()).or_insert(StockFigure {
            location: store.to_string(),
            quantity: 0,
            as_of_ms: None,
            this_store: true,
        });
        here.quantity += self.local_moves(&sku)?;
        let mut out: Vec<StockFigure> = figures.into_values().collect();
        out.sort_by_key(|f| (!f.this_store, f.location.clone()));
        Ok(out)
    }

    fn record(&mut self, body: RecordBody) -> Result<Record> {
        self.signed_in()?;
        let identity = self.identity()?;
        let tx = crate::store::write(&self.conn)?;
        let record = journal::append(&tx, self.clock.as_ref(), &identity.register, &identity.store, body)?;
        tx.commit()?;
        Ok(record)
    }

    /// Records a shelf count: the difference from what this register expects becomes a movement.
    pub fn count_stock(&mut self, code: &str, counted: i64) -> Result<Record> {
        self.signed_in()?;
        let identity = self.identity()?;
        // The expected figure is read under the write lock, so no sale slips in between.
        let tx = crate::store::write(&self.conn)?;
        let here = self.stock(code)?.into_iter().find(|f| f.this_store).map(|f| f.quantity).unwrap_or(0);
        let sku = catalog::find(&tx, code)?.sku;
        let count = StockCount { sku, counted, expected: here };
        count.check().map_err(|e| RegisterError::Rejected(e.to_string()))?;
        let record = journal::append(
            &tx,
            self.clock.as_ref(),
            &identity.register,
            &identity.store,
            RecordBody::StockCount(count),
        )?;
        tx.commit()?;
        Ok(record)
    }

    pub fn adjust_stock(
        &mut self,
        code: &str,
        delta: i64,
        reason: AdjustmentReason,
        note: Option<String>,
    ) -> Result<Record> {
        let sku = catalog::find(&self.conn, code)?.sku;
        let adjustment = StockAdjustment { sku, delta, reason, note };
        adjustment.check().map_err(|e| RegisterError::Rejected(e.to_string()))?;
        self.record(RecordBody::StockAdjustment(adjustment))
    }

    /// Transfers shipped to this store and not yet received here: id, from, lines.
    pub fn incoming_transfers(&self) -> Result<Vec<(uuid::Uuid, String, Vec<ItemQuantity>)>> {
        let received: Vec<uuid::Uuid> = journal::all(&self.conn)?
            .into_iter()
            .filter_map(|r| match r.body {
                RecordBody::TransferReceived(t) => Some(t.transfer),
                _ => None,
            })
            .collect();
        let mut statement =
            self.conn.prepare("SELECT id, from_loc, lines FROM transfers ORDER BY shipped_ms")?;
        let rows = statement.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, from, lines) = row?;
            let id = uuid::Uuid::parse_str(&id).map_err(corrupt)?;
            if !received.contains(&id) {
                out.push((id, from, serde_json::from_str(&lines).map_err(corrupt)?));
            }
        }
        Ok(out)
    }

    /// Receives a transfer as shipped (the lines head office published).
    pub fn receive_transfer(&mut self, transfer: uuid::Uuid) -> Result<Record> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT from_loc, lines FROM transfers WHERE id = ?1",
                params![transfer.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (from, lines) =
            row.ok_or_else(|| RegisterError::Rejected(format!("no transfer {transfer} is on its way here")))?;
        // Received once: a second receipt would count the goods twice.
        if !self.incoming_transfers()?.iter().any(|(id, _, _)| *id == transfer) {
            return Err(RegisterError::Rejected(format!("transfer {transfer} was already received here")));
        }
        let receipt = TransferReceipt {
            transfer,
            from: shared_model::LocationCode::parse(&from)?,
            lines: serde_json::from_str(&lines).map_err(corrupt)?,
        };
        self.record(RecordBody::TransferReceived(receipt))
    }

    /// Asks the logistics centre for goods (UC2): (code, quantity) pairs.
    pub fn request_replenishment(&mut self, items: &[(String, u32)], note: Option<String>) -> Result<Record> {
        let lines = items
            .iter()
            .map(|(code, quantity)| {
                Ok(ItemQuantity {
                    sku: catalog::find(&self.conn, code)?.sku,
                    quantity: shared_model::Quantity::new(*quantity)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let request = ReplenishmentRequest { lines, note };
        request.check().map_err(|e| RegisterError::Rejected(e.to_string()))?;
        self.record(RecordBody::ReplenishmentRequested(request))
    }

    /// Head office's answer to a replenishment request, once pulled: decision and transfer.
    pub fn replenishment_answer(
        &self,
        request: &shared_model::RecordId,
    ) -> Result<Option<(String, Option<String>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT decision, transfer FROM replenishment_decisions WHERE request = ?1",
                params![request.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}
