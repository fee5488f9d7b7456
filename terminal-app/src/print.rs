//! Printing receipts. A sale is complete when its record is committed (`sale.rs`); only then is
//! its receipt printed. A printer that is off, out of paper or unplugged never loses or blocks a
//! sale: the receipt stays unprinted, with the reason, and a reprint produces it. A receipt
//! counts as printed when the printer, asked after the job, says it is online with paper and its
//! cover shut, or when it is a printer that never answers such questions (the job left: the
//! most a till can know of it). Every print after the first is headed `DUPLICATA` / `COPY`.
//! The cash drawer opens only for cash, only with a receipt's first print.

use hardware::printer::{Delivery, PrinterLink, ReceiptContext, render};
use rusqlite::{OptionalExtension, params};
use shared_model::{ReceiptNumber, Record, RecordBody, RecordId};

use crate::error::{RegisterError, Result, corrupt};
use crate::{Register, journal};

/// A receipt that came out of the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printed {
    /// 1 for the original, 2 for the first duplicate, and so on.
    pub copy: u32,
    pub delivery: Delivery,
}

/// A sale, return or till close whose receipt has not printed, and why, when it was tried.
#[derive(Debug, Clone)]
pub struct Unprinted {
    pub record: Record,
    /// The printer's or the link's reason, the last time it was tried; `None`: never sent.
    pub reason: Option<String>,
    pub failed_ms: Option<u64>,
}

/// The number printed on a record's receipt, `VMTL-01-000123`.
pub fn receipt_number(record: &Record) -> Result<ReceiptNumber> {
    Ok(ReceiptNumber::new(record.origin.clone(), record.seq)?)
}

impl Register {
    /// Prints the receipt of a record of this register's journal, and notes it printed; when
    /// the printer says it cannot print, notes why instead.
    pub fn print(
        &mut self,
        id: &RecordId,
        context: &ReceiptContext,
        printer: &mut dyn PrinterLink,
    ) -> Result<Printed> {
        let record = journal::record(&self.conn, id)?
            .ok_or_else(|| RegisterError::Rejected(format!("no record {id} at this register")))?;
        let before = self.copies(id)?;
        let context = ReceiptContext { duplicate: before > 0, ..context.clone() };
        let bytes = render(&record, &context).map_err(|e| RegisterError::Rejected(e.to_string()))?;
        let now = i64::try_from(self.clock.now_ms()).map_err(corrupt)?;
        let delivery = match printer.send(&bytes) {
            Ok(delivery) => delivery,
            Err(e) => {
                let reason = e.to_string();
                self.conn.execute(
                    "INSERT INTO print_failures (record_id, failed_ms, reason) VALUES (?1, ?2, ?3)
                     ON CONFLICT (record_id) DO UPDATE SET failed_ms = excluded.failed_ms, reason = excluded.reason",
                    params![id.to_string(), now, reason],
                )?;
                return Err(RegisterError::NotPrinted(reason));
            }
        };
        let tx = crate::store::write(&self.conn)?;
        tx.execute(
            "INSERT INTO receipts (record_id, printed_ms) VALUES (?1, ?2)
             ON CONFLICT (record_id) DO UPDATE SET printed_ms = excluded.printed_ms, copies = receipts.copies + 1",
            params![id.to_string(), now],
        )?;
        tx.execute("DELETE FROM print_failures WHERE record_id = ?1", params![id.to_string()])?;
        tx.commit()?;
        Ok(Printed { copy: before.saturating_add(1), delivery })
    }

    /// How many times a record's receipt has printed: 0 (never), 1 (the original), 2 and up
    /// (duplicates).
    pub fn copies(&self, id: &RecordId) -> Result<u32> {
        let copies: Option<i64> = self
            .conn
            .query_row("SELECT copies FROM receipts WHERE record_id = ?1", params![id.to_string()], |r| {
                r.get(0)
            })
            .optional()?;
        u32::try_from(copies.unwrap_or(0)).map_err(corrupt)
    }

    /// Sales, returns and till closes whose receipt never printed, oldest first.
    pub fn unprinted(&self) -> Result<Vec<Record>> {
        Ok(self.unprinted_with_reasons()?.into_iter().map(|u| u.record).collect())
    }

    /// [`Register::unprinted`], each with the reason it did not print, when it was tried.
    pub fn unprinted_with_reasons(&self) -> Result<Vec<Unprinted>> {
        let mut statement = self.conn.prepare(
            "SELECT j.content, f.reason, f.failed_ms FROM journal j
             LEFT JOIN print_failures f ON f.record_id = j.id
             WHERE j.kind IN ('sale', 'return', 'till_closed')
             AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.record_id = j.id) ORDER BY j.seq",
        )?;
        let rows = statement.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<i64>>(2)?))
        })?;
        rows.map(|row| {
            let (content, reason, failed_ms) = row?;
            Ok(Unprinted {
                record: Record::decode(content.as_bytes()).map_err(corrupt)?,
                reason,
                failed_ms: failed_ms.map(u64::try_from).transpose().map_err(corrupt)?,
            })
        })
        .collect()
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
    ) -> Result<(crate::sale::Completed, Result<Printed>)> {
        let completed = self.complete_sale(tenders)?;
        let printed = self.print(&completed.record.id, context, printer);
        Ok((completed, printed))
    }
}

impl Register {
    /// The receipt header and footer for this till: the chain's legal name and tax numbers and
    /// the store's name and address as pulled from head office, the signed-in cashier, the
    /// local time.
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
            legal_name: setting("legal_name")?,
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
            duplicate: false,
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
