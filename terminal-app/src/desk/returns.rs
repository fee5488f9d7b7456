//! Returns against a receipt: looked up here or at head office, or, offline and from another
//! store, taken unverified under the policy in [`crate::returns`].

use shared_model::{Record, RecordBody};

use super::{Answer, Desk, Problem, ReturnDone, ReturnLineView, ReturnLookup, ReturnPick};
use crate::input;

impl Desk {
    /// Finds a sale by the code on its receipt (scanned or typed).
    pub fn find_sale(&mut self, receipt: &str) -> Answer<ReturnLookup> {
        let id = input::receipt(receipt)?;
        let found = self
            .register
            .find_sale(&id)?
            .ok_or_else(|| Problem::field("receipt", format!("no sale has the receipt number {id}")))?;
        let lookup = ReturnLookup {
            id: found.record.id.to_string(),
            store: found.record.store.to_string(),
            business_day: found.sale.business_day.to_string(),
            total: found.sale.totals.total.as_cents(),
            lines: found
                .sale
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let index = u16::try_from(i).unwrap_or(u16::MAX);
                    let returned = found.returned.get(&index).copied().unwrap_or(0);
                    let total = line.amounts().map(|a| a.total.as_cents()).unwrap_or(0);
                    ReturnLineView {
                        index,
                        description: line.description.clone(),
                        sold: line.quantity.get(),
                        returned,
                        returnable: line.quantity.get().saturating_sub(returned),
                        total,
                    }
                })
                .collect(),
        };
        self.lookup = Some(found);
        Ok(lookup)
    }

    /// Refunds the picked lines of the sale last looked up.
    pub fn take_return(&mut self, picks: &[ReturnPick], refund_to: &str, reason: &str) -> Answer<ReturnDone> {
        self.register.signed_in()?;
        let found =
            self.lookup.clone().ok_or_else(|| Problem::field("receipt", "look the receipt up first"))?;
        let picks: Vec<(u16, u32, bool)> =
            picks.iter().filter(|p| p.quantity > 0).map(|p| (p.index, p.quantity, p.restock)).collect();
        if picks.is_empty() {
            return Err(Problem::field("lines", "pick at least one line and a quantity to return"));
        }
        let (to, reason) = (input::refund_method(refund_to)?, input::return_reason(reason)?);
        let record = self.register.take_return(&found, &picks, to, reason)?;
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
