//! Receipts: reprints, a test page, the reprint list and the Z report.

use hardware::printer::{BadSpec, PrinterSpec};
use shared_model::{Money, RecordBody};

use super::{Answer, Desk, Problem, View, ZTenderView, ZView};
use crate::error::RegisterError;
use crate::input;

impl Desk {
    /// Prints the last sale's receipt again, or any record's by id.
    pub fn reprint(&mut self, id: Option<&str>) -> Answer<View> {
        let id = match id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => input::receipt(text)?,
            None => match &self.last {
                Some(last) => input::receipt(&last.id)?,
                None => match self.register.journal()?.into_iter().rev().find(|r| r.body.kind() == "sale") {
                    Some(record) => record.id,
                    None => return Err(Problem::field("receipt", "there is no receipt to reprint yet")),
                },
            },
        };
        if self.settings()?.printer.is_none() {
            return Err(Problem::field("printer", "no printer is set: choose one in the settings"));
        }
        let (printed, error) = self.print_record(&id);
        if let Some(last) = self.last.as_mut().filter(|l| l.id == id.to_string()) {
            last.printed |= printed;
            last.print_error = error.clone();
        }
        match error {
            Some(message) => Err(Problem::new("printer", message, Some("printer"))),
            None => self.view(),
        }
    }

    /// Prints a test page on the printer the settings screen names (saved or not).
    pub fn test_print(&mut self, printer: &str) -> Answer<()> {
        let printer: PrinterSpec = printer.parse().map_err(|e: BadSpec| Problem::field("printer", e.0))?;
        let bytes = hardware::printer::render_test(&self.receipt_context(&self.settings()?)?)
            .map_err(|e| Problem::new("printer", e.to_string(), Some("printer")))?;
        printer
            .link()
            .send(&bytes)
            .map(|_| ())
            .map_err(|e| Problem::new("printer", e.to_string(), Some("printer")))
    }

    /// The Z report so far; with `close`, the till is closed and the report printed.
    pub fn z_report(&mut self, opening_float: &str, counted: &str, close: bool) -> Answer<ZView> {
        let float = if opening_float.trim().is_empty() {
            Money::ZERO
        } else {
            input::money(opening_float).map_err(|e| e.at("float"))?
        };
        let counted = Some(counted.trim())
            .filter(|c| !c.is_empty())
            .map(|c| input::money(c).map_err(|e| e.at("counted")))
            .transpose()?;
        let (report, record) = if close {
            let record = self.register.close_till(float, counted)?;
            let RecordBody::TillClosed(report) = record.body.clone() else {
                return Err(RegisterError::Corrupt("a till close that is not one".into()).into());
            };
            (report, Some(record))
        } else {
            (self.register.z_report(float, counted)?, None)
        };
        let settings = self.settings()?;
        let text = match &record {
            Some(record) => {
                crate::receipt::text(record, usize::from(settings.columns.get()), settings.language.into())
            }
            None => String::new(),
        };
        if let Some(record) = &record {
            self.print_record(&record.id);
        }
        Ok(ZView {
            business_day: report.business_day.to_string(),
            sales_count: report.sales_count,
            returns_count: report.returns_count,
            tenders: report
                .tenders
                .iter()
                .map(|t| ZTenderView {
                    kind: t.kind.as_str(),
                    taken: t.taken.as_cents(),
                    refunded: t.refunded.as_cents(),
                })
                .collect(),
            opening_float: report.opening_float.as_cents(),
            expected_cash: report.expected_cash.as_cents(),
            counted_cash: report.counted_cash.map(Money::as_cents),
            over_short: report.counted_cash.map(|c| (c - report.expected_cash).as_cents()),
            closed: record.is_some(),
            text,
        })
    }

    /// The journal's newest records, newest first, for the reprint list.
    pub fn recent_receipts(&self, limit: usize) -> Answer<Vec<(String, String, i64)>> {
        Ok(self
            .register
            .recent_receipts(limit)?
            .into_iter()
            .map(|(id, kind, amount)| (id.to_string(), kind.to_owned(), amount.as_cents()))
            .collect())
    }
}
