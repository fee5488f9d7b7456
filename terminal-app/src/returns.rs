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
//!
//! # Online orders
//!
//! An online order brought to a store is found at head office by its number (`W-123`) and
//! its lines are returned like a receipt's. The till pays nothing out: the record names the
//! order, and head office refunds the shopper's card when the record arrives, once. The lookup
//! needs head office; it is kept, so a return looked up online is still taken if the network
//! drops before the cashier finishes (the record waits in the journal like any other).

use std::collections::BTreeMap;

use shared_model::protocol::OrderForReturn;
use shared_model::returns::{Refund, Return, ReturnLine, ReturnReason, SaleRef};
use shared_model::sale::{LineAmounts, Sale};
use shared_model::{
    Money, OrderNumber, Quantity, ReceiptNumber, Record, RecordBody, RecordId, Sku, TaxClass, Tender,
};

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

/// What a return is taken against: a receipt, or an online order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptCode {
    Sale(SaleKey),
    Order(OrderNumber),
}

/// How a receipt names its sale: the record's id (under the QR code), or the short number
/// printed at its top (`VMTL-01-000123`: the register that made it and its sequence number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaleKey {
    Id(RecordId),
    Number(ReceiptNumber),
}

impl std::fmt::Display for SaleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaleKey::Id(id) => id.fmt(f),
            SaleKey::Number(number) => number.fmt(f),
        }
    }
}

impl From<RecordId> for SaleKey {
    fn from(id: RecordId) -> Self {
        SaleKey::Id(id)
    }
}

/// Statuses in which an online order comes back to a store: it reached the shopper.
const RETURNABLE: &[&str] = &["shipped", "delivered"];

/// A sold line as the refund rule reads it, from a sale or an online order.
struct Sold<'a> {
    sku: &'a Sku,
    description: &'a str,
    quantity: Quantity,
    tax_class: TaxClass,
    amounts: LineAmounts,
}

/// Where a looked-up order is kept, so its return survives the network dropping.
fn lookup_key(number: OrderNumber) -> String {
    format!("order_lookup:{}", number.get())
}

impl Register {
    /// Finds an online order at head office, with what came back of it at every store and at
    /// this till. Offline, the order as this till last looked it up, if it did.
    pub fn find_order(&self, number: OrderNumber) -> Result<Option<OrderForReturn>> {
        let secret = crate::store::setting(&self.conn, "secret")?.ok_or(RegisterError::NotEnrolled)?;
        let (mut order, pending_only) = match self.client()?.order(&secret, number) {
            Ok(Some(order)) => {
                let kept =
                    serde_json::to_string(&order).map_err(|e| RegisterError::Refused(e.to_string()))?;
                crate::store::set_setting(&self.conn, &lookup_key(number), &kept)?;
                (order, true)
            }
            Ok(None) => return Ok(None),
            Err(e @ RegisterError::Offline(_)) => {
                let Some(kept) = crate::store::setting(&self.conn, &lookup_key(number))? else {
                    return Err(RegisterError::Offline(format!(
                        "{e}; an online order is looked up at head office before its return"
                    )));
                };
                let order: OrderForReturn =
                    serde_json::from_str(&kept).map_err(|e| RegisterError::Refused(e.to_string()))?;
                // Returns this till made since the lookup may have reached head office after
                // it: count every one of this till's, whichever is more.
                (order, false)
            }
            Err(e) => return Err(e),
        };
        let here = self.order_returns_of(number, pending_only)?;
        for (line, units) in here {
            let count = order.returned.entry(line).or_default();
            *count = if pending_only { count.saturating_add(units) } else { (*count).max(units) };
        }
        Ok(Some(order))
    }

    /// Units of each line of an online order returned at this till: all, or those head office
    /// does not hold yet.
    fn order_returns_of(&self, number: OrderNumber, pending_only: bool) -> Result<BTreeMap<u16, u32>> {
        let records =
            if pending_only { journal::pending_records(&self.conn)? } else { journal::all(&self.conn)? };
        let mut out = BTreeMap::new();
        for record in records {
            if let RecordBody::Return(ret) = record.body
                && ret.online_order == Some(number)
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

    /// Takes back `picks` (line index, quantity, restock) of an online order; the refund goes
    /// back to the shopper's card from head office.
    pub fn take_order_return(
        &mut self,
        order: &OrderForReturn,
        picks: &[(u16, u32, bool)],
        reason: ReturnReason,
    ) -> Result<Record> {
        if !RETURNABLE.contains(&order.status.as_str()) {
            return Err(RegisterError::Rejected(format!(
                "online order {} is {}: only a shipped order comes back to a store (the shopper cancels an order not shipped online)",
                order.number, order.status
            )));
        }
        let here = self.order_returns_of(order.number, false)?;
        let sold: Vec<Sold<'_>> = order
            .lines
            .iter()
            .map(|line| Sold {
                sku: &line.sku,
                description: &line.description,
                quantity: line.quantity,
                tax_class: line.tax_class,
                amounts: line.amounts(),
            })
            .collect();
        let lines = pick_lines(&sold, &order.returned, &here, picks)?;
        let cashier = self.signed_in()?;
        let ret = Return::complete_online(
            crate::sale::business_day(self.clock.now_ms()),
            cashier,
            order.number,
            lines,
            reason,
            None,
        )
        .map_err(|e| RegisterError::Rejected(e.to_string()))?;
        self.append_return(ret)
    }

    /// Finds a sale by the id on its receipt: here first, then at head office. What was already
    /// returned of it counts returns made anywhere: head office's count (when it answers) plus
    /// this register's returns it does not hold yet; offline, this register's own.
    pub fn find_sale(&self, id: &RecordId) -> Result<Option<SaleForReturn>> {
        if let Some(record) = journal::record(&self.conn, id)? {
            return self.found_here(record);
        }
        match self.remote_sale(&SaleKey::Id(*id))? {
            Some(remote) => self.found_remote(remote),
            None => Ok(None),
        }
    }

    /// Finds a sale by its id or by its receipt's short number: a number of this register's
    /// is in its journal; any other is asked of head office, which maps (register, sequence)
    /// to the record. Offline, another till's short number cannot be resolved: its receipt's
    /// long number (under the QR code) can still be taken unverified.
    pub fn find_sale_by(&self, key: &SaleKey) -> Result<Option<SaleForReturn>> {
        let number = match key {
            SaleKey::Id(id) => return self.find_sale(id),
            SaleKey::Number(number) => number,
        };
        // A till restored from an older copy of its file may lack one of its own: head office
        // has it then.
        if *number.origin() == self.identity()?.register
            && let Some(record) = journal::by_seq(&self.conn, number.seq())?
        {
            return self.found_here(record);
        }
        match self.remote_sale(key)? {
            Some(remote) => self.found_remote(remote),
            None => Ok(None),
        }
    }

    /// A sale of this register's journal, with its returns from head office when it answers.
    fn found_here(&self, record: Record) -> Result<Option<SaleForReturn>> {
        let RecordBody::Sale(sale) = record.body.clone() else { return Ok(None) };
        let returned = match self.remote_sale(&SaleKey::Id(record.id)) {
            Ok(Some(remote)) => self.merged_returns(&record.id, remote.returned)?,
            // Head office unreachable or not told yet: this register's own returns.
            _ => self.returns_of(&record.id, false)?,
        };
        Ok(Some(SaleForReturn { record, sale, returned }))
    }

    /// A sale head office answered with.
    fn found_remote(&self, remote: crate::sync::RemoteSale) -> Result<Option<SaleForReturn>> {
        let record = remote.record;
        let RecordBody::Sale(sale) = record.body.clone() else { return Ok(None) };
        let returned = self.merged_returns(&record.id, remote.returned)?;
        Ok(Some(SaleForReturn { record, sale, returned }))
    }

    /// Head office's count of each line returned, plus this register's returns it does not
    /// hold yet.
    fn merged_returns(&self, sale: &RecordId, remote: BTreeMap<u16, u32>) -> Result<BTreeMap<u16, u32>> {
        let mut returned = self.returns_of(sale, true)?;
        for (line, units) in remote {
            let count = returned.entry(line).or_default();
            *count = count.saturating_add(units);
        }
        Ok(returned)
    }

    fn remote_sale(&self, key: &SaleKey) -> Result<Option<crate::sync::RemoteSale>> {
        let secret = crate::store::setting(&self.conn, "secret")?.ok_or(RegisterError::NotEnrolled)?;
        self.client()?.sale(&secret, key)
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
        let sold = found
            .sale
            .lines
            .iter()
            .map(|line| {
                Ok(Sold {
                    sku: &line.sku,
                    description: &line.description,
                    quantity: line.quantity,
                    tax_class: line.tax_class,
                    amounts: line.amounts()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lines = pick_lines(&sold, &found.returned, &here, picks)?;
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
        self.append_return(ret)
    }

    fn append_return(&mut self, ret: Return) -> Result<Record> {
        let identity = self.identity()?;
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

/// The return lines of `picks` (line index, quantity, restock) against `sold`, when `returned`
/// units came back before (head office's count with this till's pending ones) and `here` at
/// this till (returns made since the lookup count too).
fn pick_lines(
    sold: &[Sold<'_>],
    returned: &BTreeMap<u16, u32>,
    here: &BTreeMap<u16, u32>,
    picks: &[(u16, u32, bool)],
) -> Result<Vec<ReturnLine>> {
    picks
        .iter()
        .map(|&(index, quantity, restock)| {
            let line =
                sold.get(usize::from(index)).ok_or(RegisterError::NoSuchLine(usize::from(index) + 1))?;
            let quantity = Quantity::new(quantity)?;
            let before =
                returned.get(&index).copied().unwrap_or(0).max(here.get(&index).copied().unwrap_or(0));
            let refund = Refund::share_of(&line.amounts, line.quantity, before, quantity)
                .map_err(|e| RegisterError::Rejected(e.to_string()))?;
            Ok(ReturnLine {
                sku: line.sku.clone(),
                description: line.description.to_owned(),
                quantity,
                tax_class: line.tax_class,
                original_line: Some(index),
                refund,
                restock,
            })
        })
        .collect()
}
