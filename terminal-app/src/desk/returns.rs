//! Returns against a receipt: looked up here or at head office, or, offline and from another
//! store, taken unverified under the policy in [`crate::returns`].

use shared_model::{OrderNumber, Record, RecordBody};

use super::{Answer, Desk, Lookup, Problem, ReturnDone, ReturnLineView, ReturnLookup, ReturnPick};
use crate::input;
use crate::returns::ReceiptCode;

/// How the screen names the refund of an online order: to its card, from head office.
const ONLINE_CARD: &str = "online_card";

fn line_view(
    i: usize,
    description: &str,
    sold: u32,
    total: i64,
    returned: &std::collections::BTreeMap<u16, u32>,
) -> ReturnLineView {
    let index = u16::try_from(i).unwrap_or(u16::MAX);
    let returned = returned.get(&index).copied().unwrap_or(0);
    ReturnLineView {
        index,
        description: description.to_owned(),
        sold,
        returned,
        returnable: sold.saturating_sub(returned),
        total,
    }
}

impl Desk {
    /// Finds a sale by the code on its receipt (scanned, or typed: the long number or the
    /// short one, `VMTL-01-000123`), or an online order by its number (`W-123`).
    pub fn find_sale(&mut self, receipt: &str) -> Answer<ReturnLookup> {
        let key = match input::receipt_code(receipt)? {
            ReceiptCode::Sale(key) => key,
            ReceiptCode::Order(number) => return self.find_order(number),
        };
        let found = self
            .register
            .find_sale_by(&key)?
            .ok_or_else(|| Problem::field("receipt", format!("no sale has the receipt number {key}")))?;
        let lookup = ReturnLookup {
            id: found.record.id.to_string(),
            online_order: None,
            store: found.record.store.to_string(),
            business_day: found.sale.business_day.to_string(),
            total: found.sale.totals.total.as_cents(),
            lines: found
                .sale
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let total = line.amounts().map(|a| a.total.as_cents()).unwrap_or(0);
                    line_view(i, &line.description, line.quantity.get(), total, &found.returned)
                })
                .collect(),
        };
        self.lookup = Some(Lookup::Sale(Box::new(found)));
        Ok(lookup)
    }

    fn find_order(&mut self, number: OrderNumber) -> Answer<ReturnLookup> {
        let order = self
            .register
            .find_order(number)?
            .ok_or_else(|| Problem::field("receipt", format!("head office has no online order {number}")))?;
        let lookup = ReturnLookup {
            id: number.to_string(),
            online_order: Some(number.to_string()),
            store: order.status.clone(),
            business_day: order.business_day.map(|d| d.to_string()).unwrap_or_default(),
            total: order.total.as_cents(),
            lines: order
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let total = line.amounts().total.as_cents();
                    line_view(i, &line.description, line.quantity.get(), total, &order.returned)
                })
                .collect(),
        };
        self.lookup = Some(Lookup::Order(order));
        Ok(lookup)
    }

    /// Refunds the picked lines of the sale (or online order) last looked up.
    pub fn take_return(&mut self, picks: &[ReturnPick], refund_to: &str, reason: &str) -> Answer<ReturnDone> {
        self.register.signed_in()?;
        let found =
            self.lookup.clone().ok_or_else(|| Problem::field("receipt", "look the receipt up first"))?;
        let picks: Vec<(u16, u32, bool)> =
            picks.iter().filter(|p| p.quantity > 0).map(|p| (p.index, p.quantity, p.restock)).collect();
        if picks.is_empty() {
            return Err(Problem::field("lines", "pick at least one line and a quantity to return"));
        }
        let reason = input::return_reason(reason)?;
        let (record, refund_to) = match &found {
            Lookup::Sale(found) => {
                let to = input::refund_method(refund_to)?;
                (self.register.take_return(found, &picks, to, reason)?, refund_to)
            }
            Lookup::Order(order) => (self.register.take_order_return(order, &picks, reason)?, ONLINE_CARD),
        };
        self.lookup = None;
        Ok(self.returned(&record, refund_to))
    }

    /// A receipt this till cannot check (another store's, with head office out of reach): the
    /// items at today's price, flagged unverified for head office, up to
    /// [`crate::returns::UNVERIFIED_LIMIT`].
    pub fn take_unverified_return(
        &mut self,
        receipt: &str,
        store: &str,
        items: &[(String, u32)],
        refund_to: &str,
        reason: &str,
    ) -> Answer<ReturnDone> {
        self.register.signed_in()?;
        let sale = input::receipt(receipt)?;
        let store = input::store(store)?;
        if items.is_empty() {
            return Err(Problem::field("items", "add at least one item the customer brings back"));
        }
        let (to, reason) = (input::refund_method(refund_to)?, input::return_reason(reason)?);
        let record = self.register.take_unverified_return(sale, store.as_str(), items, to, reason)?;
        Ok(self.returned(&record, refund_to))
    }

    /// What the screen shows of a return just taken, after printing its receipt.
    fn returned(&mut self, record: &Record, refund_to: &str) -> ReturnDone {
        let refund = match &record.body {
            RecordBody::Return(ret) => (ret.totals.total + ret.totals.rounding).as_cents(),
            _ => 0,
        };
        let (printed, print_error) = self.print_record(&record.id);
        ReturnDone {
            id: record.id.to_string(),
            refund,
            refund_to: refund_to.to_owned(),
            printed,
            print_error,
        }
    }
}
