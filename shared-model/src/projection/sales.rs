//! Sales and returns totalled per store and day, and per store, day and product: the
//! figures of head office's consolidated report. Every figure is a sum, so it merges in any order.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::Projection;
use crate::ids::{LocationCode, Sku};
use crate::money::Money;
use crate::record::{Record, RecordBody};

pub type DayKey = (LocationCode, NaiveDate);
pub type ProductDayKey = (LocationCode, NaiveDate, Sku);

/// One store's day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DayTotals {
    pub sales: u64,
    pub returns: u64,
    /// Sales net of discounts, before tax.
    pub net_sales: Money,
    pub gst: Money,
    pub qst: Money,
    /// What customers paid, cash rounding included.
    pub collected: Money,
    /// Refunds before tax.
    pub net_refunds: Money,
    pub gst_refunded: Money,
    pub qst_refunded: Money,
    /// What went back to customers, cash rounding included.
    pub refunded: Money,
}

impl DayTotals {
    /// Sales less refunds, before tax.
    pub fn net(&self) -> Money {
        self.net_sales - self.net_refunds
    }
}

/// One product at one store on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProductTotals {
    pub sold: u64,
    pub returned: u64,
    pub net_sales: Money,
    pub net_refunds: Money,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalesReport {
    pub days: BTreeMap<DayKey, DayTotals>,
    pub products: BTreeMap<ProductDayKey, ProductTotals>,
}

impl Projection for SalesReport {
    fn apply(&mut self, record: &Record) {
        match &record.body {
            RecordBody::Sale(sale) => {
                let day = self.days.entry((record.store.clone(), sale.business_day)).or_default();
                day.sales += 1;
                day.net_sales += sale.totals.net;
                day.gst += sale.totals.gst;
                day.qst += sale.totals.qst;
                day.collected += sale.totals.paid();
                for line in &sale.lines {
                    // Lines were checked when the record was accepted; a line that fails here
                    // cannot reach a projection.
                    let net = line.amounts().map(|a| a.net).unwrap_or_default();
                    let p = self
                        .products
                        .entry((record.store.clone(), sale.business_day, line.sku.clone()))
                        .or_default();
                    p.sold += u64::from(line.quantity.get());
                    p.net_sales += net;
                }
            }
            RecordBody::Return(ret) => {
                let day = self.days.entry((record.store.clone(), ret.business_day)).or_default();
                day.returns += 1;
                day.net_refunds += ret.totals.net;
                day.gst_refunded += ret.totals.gst;
                day.qst_refunded += ret.totals.qst;
                day.refunded += ret.totals.refunded();
                for line in &ret.lines {
                    let p = self
                        .products
                        .entry((record.store.clone(), ret.business_day, line.sku.clone()))
                        .or_default();
                    p.returned += u64::from(line.quantity.get());
                    p.net_refunds += line.refund.net;
                }
            }
            _ => {}
        }
    }
}

impl SalesReport {
    /// Totals of one store over an inclusive range of days.
    pub fn store_total(&self, store: &LocationCode, from: NaiveDate, to: NaiveDate) -> DayTotals {
        self.days.range((store.clone(), from)..=(store.clone(), to)).fold(
            DayTotals::default(),
            |sum, (_, d)| DayTotals {
                sales: sum.sales + d.sales,
                returns: sum.returns + d.returns,
                net_sales: sum.net_sales + d.net_sales,
                gst: sum.gst + d.gst,
                qst: sum.qst + d.qst,
                collected: sum.collected + d.collected,
                net_refunds: sum.net_refunds + d.net_refunds,
                gst_refunded: sum.gst_refunded + d.gst_refunded,
                qst_refunded: sum.qst_refunded + d.qst_refunded,
                refunded: sum.refunded + d.refunded,
            },
        )
    }

    /// Products by units sold net of returns over all stores and days, best first
    /// (ties by SKU), at most `limit`.
    pub fn top_products(&self, limit: usize) -> Vec<(Sku, i64, Money)> {
        let mut by_sku: BTreeMap<&Sku, (i64, Money)> = BTreeMap::new();
        for ((_, _, sku), p) in &self.products {
            let entry = by_sku.entry(sku).or_default();
            entry.0 +=
                i64::try_from(p.sold).unwrap_or(i64::MAX) - i64::try_from(p.returned).unwrap_or(i64::MAX);
            entry.1 += p.net_sales - p.net_refunds;
        }
        let mut ranked: Vec<_> = by_sku.into_iter().map(|(s, (u, m))| (s.clone(), u, m)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(limit);
        ranked
    }
}
