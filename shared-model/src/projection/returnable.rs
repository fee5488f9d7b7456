//! What is left to return of each sale line, and the over-returns to flag.
//!
//! Sold and returned quantities are kept apart and only compared when asked, so a return
//! that arrives before its sale (both made offline at different stores) is simply linked
//! when the sale arrives: the fold does not depend on arrival order.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Projection;
use crate::ids::{RecordId, Sku};
use crate::record::{Record, RecordBody};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoldLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// A sale line of which more came back than was sold, or a return of a line the
/// chain has not seen sold (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverReturn {
    pub sale: RecordId,
    pub line: u16,
    /// `None` while the sale has not reached this replica.
    pub sold: Option<u32>,
    pub returned: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Returnable {
    sold: BTreeMap<(RecordId, u16), SoldLine>,
    returned: BTreeMap<(RecordId, u16), u64>,
}

impl Projection for Returnable {
    fn apply(&mut self, record: &Record) {
        match &record.body {
            RecordBody::Sale(sale) => {
                for (index, line) in sale.lines.iter().enumerate() {
                    // A sale holds at most MAX_LINES (500) lines, so the index fits.
                    let index = u16::try_from(index).unwrap_or(u16::MAX);
                    self.sold.insert(
                        (record.id, index),
                        SoldLine { sku: line.sku.clone(), quantity: line.quantity.get() },
                    );
                }
            }
            RecordBody::Return(ret) => {
                let Some(original) = &ret.original else { return };
                for line in &ret.lines {
                    if let Some(index) = line.original_line {
                        *self.returned.entry((original.sale, index)).or_default() +=
                            u64::from(line.quantity.get());
                    }
                }
            }
            _ => {}
        }
    }
}

impl Returnable {
    /// Units of the line still returnable; `None` when the sale line is unknown here.
    pub fn returnable(&self, sale: RecordId, line: u16) -> Option<i64> {
        let sold = self.sold.get(&(sale, line))?;
        let returned = self.returned.get(&(sale, line)).copied().unwrap_or_default();
        Some(i64::from(sold.quantity) - i64::try_from(returned).unwrap_or(i64::MAX))
    }

    pub fn returned(&self, sale: RecordId, line: u16) -> u64 {
        self.returned.get(&(sale, line)).copied().unwrap_or_default()
    }

    pub fn sold_line(&self, sale: RecordId, line: u16) -> Option<&SoldLine> {
        self.sold.get(&(sale, line))
    }

    /// Lines returned beyond what was sold, and returns of lines not seen sold.
    pub fn over_returns(&self) -> Vec<OverReturn> {
        self.returned
            .iter()
            .filter_map(|(&(sale, line), &returned)| {
                let sold = self.sold.get(&(sale, line)).map(|s| s.quantity);
                let over = sold.is_none_or(|s| returned > u64::from(s));
                over.then_some(OverReturn { sale, line, sold, returned })
            })
            .collect()
    }
}
