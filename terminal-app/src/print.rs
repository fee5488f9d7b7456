//! Printing receipts. A sale is complete when its record is committed (`sale.rs`); only then is
//! its receipt printed. A printer that is off, out of paper or unplugged never loses or blocks a
//! sale: the receipt stays unprinted and a reprint produces it. The cash drawer opens only for
//! cash, and only with a receipt that printed.

use hardware::printer::{PrinterLink, ReceiptContext, render};
use rusqlite::params;
use shared_model::{Record, RecordBody, RecordId};

use crate::error::{RegisterError, Result, corrupt};
use crate::{Register, journal};

impl Register {
    /// Prints the receipt of a record of this register's journal, and notes it printed.
    pub fn print(
        &mut self,
        id: &RecordId,
        context: &ReceiptContext,
        printer: &mut dyn PrinterLink,
    ) -> Result<()> {
        let record = journal::record(&self.conn, id)?
            .ok_or_else(|| RegisterError::Rejected(format!("no record {id} at this register")))?;
        let bytes = render(&record, context).map_err(|e| RegisterError::Rejected(e.to_string()))?;
        printer.send(&bytes).map_err(|e| RegisterError::NotPrinted(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO receipts (record_id, printed_ms) VALUES (?1, ?2)
             ON CONFLICT (record_id) DO UPDATE SET printed_ms = excluded.printed_ms, copies = receipts.copies + 1",
            params![id.to_string(), i64::try_from(self.clock.now_ms()).map_err(corrupt)?],
        )?;
        Ok(())
    }

    /// Sales, returns and till closes whose receipt never printed, oldest first.
    pub fn unprinted(&self) -> Result<Vec<Record>> {
        let mut statement = self.conn.prepare(
            "SELECT content FROM journal j WHERE j.kind IN ('sale', 'return', 'till_closed')
             AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.record_id = j.id) ORDER BY seq",
        )?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|c| Record::decode(c?.as_bytes()).map_err(corrupt)).collect()
    }

    /// The newest sales and returns, newest first, for the reprint list: id, kind (`sale` or
    /// `return`) and amount (a return's is negative).
    pub fn recent_receipts(
        &self,
        limit: usize,
    ) -> Result<Vec<(RecordId, &'static str, shared_model::Money)>> {
        Ok(journal::all(&self.conn)?
            .into_iter()
            .rev()
            .filter_map(|r| match &r.body {
                RecordBody::Sale(s) => Some((r.id, "sale", s.totals.total)),
                RecordBody::Return(x) => Some((r.id, "return", -x.totals.total)),
                _ => None,
            })
            .take(limit)
            .collect())
    }

    /// Completes the sale, then prints its receipt. The sale stands whatever the printer does:
    /// the answer says whether the receipt printed.
    pub fn complete_and_print(
        &mut self,
        tenders: Vec<shared_model::Tender>,
        context: &ReceiptContext,
        printer: &mut dyn PrinterLink,
    ) -> Result<(crate::sale::Completed, Result<()>)> {
        let completed = self.complete_sale(tenders)?;
        let printed = self.print(&completed.record.id, context, printer);
        Ok((completed, printed))
    }
}

impl Register {
    /// The receipt header and footer for this till: the store's name and address as pulled
    /// from head office, the signed-in cashier, the local time.
    pub fn receipt_context(
        &self,
        language: hardware::printer::Language,
        columns: u8,
    ) -> Result<ReceiptContext> {
        let identity = self.identity()?;
        let (name, address): (String, String) = self
            .conn
            .query_row(
                "SELECT name, address FROM locations WHERE code = ?1",
                params![identity.store.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|_| (identity.store.to_string(), String::new()));
        let setting = |key: &str| crate::store::setting(&self.conn, key).map(|v| v.unwrap_or_default());
        let now = chrono::DateTime::from_timestamp_millis(i64::try_from(self.clock.now_ms()).unwrap_or(0))
            .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        Ok(ReceiptContext {
            store_name: name,
            store_address: address,
            gst_number: setting("gst_number")?,
            qst_number: setting("qst_number")?,
            cashier: self.cashier.as_ref().map(|(_, name)| name.clone()).unwrap_or_default(),
            printed_at: now,
            return_policy: match language {
                hardware::printer::Language::Fr => "Retours et échanges sous 30 jours avec ce reçu.".into(),
                hardware::printer::Language::En => {
                    "Returns and exchanges within 30 days with this receipt.".into()
                }
            },
            language,
            columns,
            drawer: hardware::printer::DrawerPin::Two,
        })
    }
}

/// Whether a record's receipt opens the drawer: a sale or a refund with cash in it.
pub fn opens_drawer(record: &Record) -> bool {
    match &record.body {
        RecordBody::Sale(sale) => sale.tenders.iter().any(|t| t.is_cash()),
        RecordBody::Return(ret) => ret.tenders.iter().any(|t| t.is_cash()),
        _ => false,
    }
}
