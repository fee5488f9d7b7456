//! Closing the till: the Z report sums what this register took since it last closed.

use std::collections::BTreeMap;

use shared_model::till::{TenderTotal, TillClose};
use shared_model::{Money, Record, RecordBody, TenderKind};

use crate::Register;
use crate::error::Result;

impl Register {
    /// The Z report of the shift so far: what a close would record now.
    pub fn z_report(&self, opening_float: Money, counted_cash: Option<Money>) -> Result<TillClose> {
        self.z_report_in(&self.conn, opening_float, counted_cash)
    }

    fn z_report_in(
        &self,
        conn: &rusqlite::Connection,
        opening_float: Money,
        counted_cash: Option<Money>,
    ) -> Result<TillClose> {
        let cashier = self.signed_in()?;
        let records = crate::journal::all(conn)?;
        let since =
            records.iter().rposition(|r| matches!(r.body, RecordBody::TillClosed(_))).map_or(0, |i| i + 1);
        let mut tenders: BTreeMap<TenderKind, (Money, Money)> = BTreeMap::new();
        let (mut sales_count, mut returns_count) = (0u32, 0u32);
        for record in &records[since..] {
            match &record.body {
                RecordBody::Sale(sale) => {
                    sales_count += 1;
                    for tender in &sale.tenders {
                        tenders.entry(tender.kind()).or_default().0 += tender.amount();
                    }
                    // Change comes out of the cash offered, once per sale.
                    if sale.totals.change > Money::ZERO {
                        tenders.entry(TenderKind::Cash).or_default().0 -= sale.totals.change;
                    }
                }
                RecordBody::Return(ret) => {
                    returns_count += 1;
                    for tender in &ret.tenders {
                        tenders.entry(tender.kind()).or_default().1 += tender.amount();
                    }
                }
                _ => {}
            }
        }
        let tenders: Vec<TenderTotal> = tenders
            .into_iter()
            .map(|(kind, (taken, refunded))| TenderTotal { kind, taken, refunded })
            .collect();
        Ok(TillClose {
            business_day: crate::sale::business_day(self.clock.now_ms()),
            cashier,
            sales_count,
            returns_count,
            expected_cash: TillClose::expected_cash_of(opening_float, &tenders),
            tenders,
            opening_float,
            counted_cash,
        })
    }

    /// Closes the till: records the Z report. The next report starts from here.
    pub fn close_till(&mut self, opening_float: Money, counted_cash: Option<Money>) -> Result<Record> {
        let identity = self.identity()?;
        // Under the write lock: a sale another process commits cannot fall between this report
        // and the next.
        let tx = crate::store::write(&self.conn)?;
        let report = self.z_report_in(&tx, opening_float, counted_cash)?;
        report.check().map_err(|e| crate::RegisterError::Rejected(e.to_string()))?;
        let record = crate::journal::append(
            &tx,
            self.clock.as_ref(),
            &identity.register,
            &identity.store,
            RecordBody::TillClosed(report),
        )?;
        tx.commit()?;
        Ok(record)
    }
}
