//! Stock: figures here and elsewhere, counts, adjustments, transfers received, replenishment.

use super::{Answer, Desk, StockFigureView, StockView, TransferView};
use crate::input;

impl Desk {
    pub fn stock(&self, code: &str) -> Answer<StockView> {
        let product = self.register.product(code.trim())?;
        let figures = self
            .register
            .stock(code.trim())?
            .into_iter()
            .map(|f| StockFigureView {
                location: f.location,
                quantity: f.quantity,
                as_of_ms: f.as_of_ms,
                this_store: f.this_store,
            })
            .collect();
        Ok(StockView { product: product.into(), figures })
    }

    pub fn count_stock(&mut self, code: &str, counted: i64) -> Answer<StockView> {
        self.register.signed_in()?;
        self.register.count_stock(code.trim(), counted)?;
        self.stock(code)
    }

    pub fn adjust_stock(&mut self, code: &str, delta: i64, reason: &str) -> Answer<StockView> {
        self.register.signed_in()?;
        let reason = input::adjustment_reason(reason)?;
        self.register.adjust_stock(code.trim(), delta, reason, None)?;
        self.stock(code)
    }

    pub fn incoming_transfers(&self) -> Answer<Vec<TransferView>> {
        Ok(self
            .register
            .incoming_transfers()?
            .into_iter()
            .map(|(id, from, lines)| TransferView {
                id: id.to_string(),
                from,
                lines: lines.into_iter().map(|l| (l.sku.to_string(), l.quantity.get())).collect(),
            })
            .collect())
    }

    pub fn receive_transfer(&mut self, id: &str) -> Answer<Vec<TransferView>> {
        self.register.signed_in()?;
        let id = input::transfer(id)?;
        self.register.receive_transfer(id)?;
        self.incoming_transfers()
    }

    pub fn request_replenishment(&mut self, code: &str, quantity: u32, note: &str) -> Answer<String> {
        self.register.signed_in()?;
        let note = Some(note.trim().to_owned()).filter(|n| !n.is_empty());
        let record = self.register.request_replenishment(&[(code.trim().to_owned(), quantity)], note)?;
        Ok(record.id.to_string())
    }
}
