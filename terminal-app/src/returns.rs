//! Returns against a receipt. The sale is found in this register's journal, or at head office
//! when the network is up; what was already returned of each line is known, and returning more
//! than was sold is refused.
//!
//! # Offline returns of another store's sale
//!
//! With no network, a sale made elsewhere cannot be checked. The policy: the return is taken at
//! the product's current price, for at most [`UNVERIFIED_LIMIT`] per return, marked unverified,
//! and head office is alerted when the record arrives. Over the limit, the customer is asked to
//! come back when the till is online.

use std::collections::BTreeMap;

use shared_model::returns::{Refund, Return, ReturnLine, ReturnReason, SaleRef};
use shared_model::sale::Sale;
use shared_model::{Money, Quantity, Record, RecordBody, RecordId, Tender};

use crate::error::{RegisterError, Result};
use crate::{Register, catalog, journal};

/// Most an unverified return may refund.
pub const UNVERIFIED_LIMIT: Money = Money::cents(20_000);

/// How the refund is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundTo {
    Cash,
    Debit,
    Credit,
}

/// A sale found for a return, and what is left to return of it.
#[derive(Debug, Clone)]
pub struct SaleForReturn {
    pub record: Record,
    pub sale: Sale,
    /// Units already returned of each line.
    pub returned: BTreeMap<u16, u32>,
}

impl Register {
    /// Finds a sale by the id on its receipt: here first, then at head office. What was already
    /// returned of it counts returns made anywhere: head office's count (when it answers) plus
    /// this register's returns it does not hold yet; offline, this register's own.
    pub fn find_sale(&self, id: &RecordId) -> Result<Option<SaleForReturn>> {
        let pending = self.returns_of(id, true)?;
        let merged = |remote: BTreeMap<u16, u32>| -> Result<BTreeMap<u16, u32>> {
            let mut returned = pending.clone();
            for (line, units) in remote {
                let count = returned.entry(line).or_default();
                *count = count.saturating_add(units);
            }
            Ok(returned)
        };
        if let Some(record) = journal::record(&self.conn, id)? {
            let RecordBody::Sale(sale) = record.body.clone() else { return Ok(None) };
            let returned = match self.remote_sale(id) {
                Ok(Some(remote)) => merged(remote.returned)?,
                // Head office unreachable or not told yet: this register's own returns.
                _ => self.returns_of(id, false)?,
            };
            return Ok(Some(SaleForReturn { record, sale, returned }));
        }
        let Some(remote) = self.remote_sale(id)? else { return Ok(None) };
        let record = remote.record;
        let RecordBody::Sale(sale) = record.body.clone() else { return Ok(None) };
        Ok(Some(SaleForReturn { record, sale, returned: merged(remote.returned)? }))
    }

    fn remote_sale(&self, id: &RecordId) -> Result<Option<crate::sync::RemoteSale>> {
        let secret = crate::store::setting(&self.conn, "secret")?.ok_or(RegisterError::NotEnrolled)?;
        self.client()?.sale(&secret, id)
    }

    /// Units of each line of `sale` returned at this register: all of them, or only those head
    /// office does not hold yet.
    fn returns_of(&self, sale: &RecordId, pending_only: bool) -> Result<BTreeMap<u16, u32>> {
        let records =
            if pending_only { journal::pending_records(&self.conn)? } else { journal::all(&self.conn)? };
        let mut out = BTreeMap::new();
        for record in records {
            if let RecordBody::Return(ret) = record.body
                && ret.original.as_ref().is_some_and(|o| o.sale == *sale)
            {
                for line in ret.lines {
                    if let Some(index) = line.original_line {
                        *out.entry(index).or_default() += line.quantity.get();
                    }
                }
            }
        }
        Ok(out)
    }

    /// Takes back `picks` (line index, quantity, restock) of a known sale.
    pub fn take_return(
        &mut self,
        found: &SaleForReturn,
        picks: &[(u16, u32, bool)],
        refund_to: RefundTo,
        reason: ReturnReason,
    ) -> Result<Record> {
        let here = self.returns_of(&found.record.id, false)?;
        let lines = picks
            .iter()
            .map(|&(index, quantity, restock)| {
                let sold = found
                    .sale
                    .lines
                    .get(usize::from(index))
                    .ok_or(RegisterError::NoSuchLine(usize::from(index) + 1))?;
                let quantity = Quantity::new(quantity)?;
                // Returns made here since the sale was looked up count too.
                let before = found
                    .returned
                    .get(&index)
                    .copied()
                    .unwrap_or(0)
                    .max(here.get(&index).copied().unwrap_or(0));
                let refund = Refund::share_of(&sold.amounts()?, sold.quantity, before, quantity)
                    .map_err(|e| RegisterError::Rejected(e.to_string()))?;
                Ok(ReturnLine {
                    sku: sold.sku.clone(),
                    description: sold.description.clone(),
                    quantity,
                    tax_class: sold.tax_class,
                    original_line: Some(index),
                    refund,
                    restock,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let original = SaleRef { sale: found.record.id, store: found.record.store.clone() };
        self.record_return(Some(original), true, lines, refund_to, reason)
    }

    /// The offline policy for a receipt this register cannot check: (code, quantity) at today's
    /// price, unverified, up to [`UNVERIFIED_LIMIT`].
    pub fn take_unverified_return(
        &mut self,
        sale: RecordId,
        store: &str,
        items: &[(String, u32)],
        refund_to: RefundTo,
        reason: ReturnReason,
    ) -> Result<Record> {
        let lines = items
            .iter()
            .map(|(code, quantity)| {
                let product = catalog::find(&self.conn, code)?;
                let quantity = Quantity::new(*quantity)?;
                Ok(ReturnLine {
                    sku: product.sku.clone(),
                    description: product.name.chars().take(shared_model::sale::MAX_DESCRIPTION).collect(),
                    quantity,
                    tax_class: product.tax_class,
                    original_line: None,
                    refund: Refund::at_price(product.price, quantity, product.tax_class),
                    restock: true,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let total: Money = lines.iter().map(|l| l.refund.total()).sum();
        if total > UNVERIFIED_LIMIT {
            return Err(RegisterError::Rejected(format!(
                "a return that cannot be checked is limited to {UNVERIFIED_LIMIT}; this one is {total}: take it when the till is online"
            )));
        }
        let original = SaleRef { sale, store: shared_model::LocationCode::parse(store)? };
        self.record_return(Some(original), false, lines, refund_to, reason)
    }

    fn record_return(
        &mut self,
        original: Option<SaleRef>,
        verified: bool,
        lines: Vec<ReturnLine>,
        refund_to: RefundTo,
        reason: ReturnReason,
    ) -> Result<Record> {
        let cashier = self.signed_in()?;
        let identity = self.identity()?;
        let total: Money = lines.iter().map(|l| l.refund.total()).sum();
        let tenders = match refund_to {
            _ if total == Money::ZERO => Vec::new(),
            RefundTo::Cash if total.round_cash() == Money::ZERO => Vec::new(),
            RefundTo::Cash => vec![Tender::Cash { amount: total.round_cash() }],
            RefundTo::Debit => vec![Tender::Debit { amount: total }],
            RefundTo::Credit => vec![Tender::Credit {
                amount: total,
                approval: shared_model::tender::ApprovalCode::parse("REFUND")?,
            }],
        };
        let now = self.clock.now_ms();
        let ret = Return::complete(
            crate::sale::business_day(now),
            cashier,
            original,
            verified,
            lines,
            tenders,
            reason,
            None,
        )
        .map_err(|e| RegisterError::Rejected(e.to_string()))?;
        let tx = crate::store::write(&self.conn)?;
        let record = journal::append(
            &tx,
            self.clock.as_ref(),
            &identity.register,
            &identity.store,
            RecordBody::Return(ret),
        )?;
        tx.commit()?;
        Ok(record)
    }
}
