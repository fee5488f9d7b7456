//! The sale on screen: keys from the scan field, lines, discounts, park and resume, tenders.

use hardware::wedge::{Input, WedgeDecoder};
use shared_model::tender::{PaymentError, settle};
use shared_model::{Money, Tender};

use super::{Answer, Desk, Key, LastSale, Problem, ProductView, ScanOutcome, Tendered, View};
use crate::error::RegisterError;
use crate::input::{self, TenderEntry};

impl Desk {
    /// A burst of keys from the scan field, ended by Enter. The wedge decoder tells a scanner's
    /// burst from a person's typing by key timing: a scan is rung up as scanned (weighed and
    /// priced labels included); typed text is a code keyed by hand, or else a search.
    pub fn scan_keys(&mut self, keys: &[Key]) -> Answer<ScanOutcome> {
        let mut decoder = WedgeDecoder::default();
        let mut inputs = Vec::new();
        for key in keys {
            let at = key.at_ms.max(0.0).round() as u64;
            let ch = match key.key.as_str() {
                "Enter" => '\n',
                k if k.chars().count() == 1 => k.chars().next().unwrap_or('\n'),
                // Shift, Tab and other named keys type nothing.
                _ => continue,
            };
            inputs.extend(decoder.key(ch, at));
        }
        let (mut scanned, mut typed, mut leftover, mut found) = (None, None, String::new(), Vec::new());
        let mut problem = None;
        for input in inputs {
            match input {
                Input::Scan(code) => {
                    match self.register.add_scan(&code) {
                        Ok(_) => self.start_new_sale(),
                        Err(e) => problem = Some(Problem::from(e)),
                    }
                    scanned = Some(code);
                }
                Input::Typed(text) => match text.strip_suffix('\n') {
                    Some(entered) => {
                        let entered = format!("{}{}", std::mem::take(&mut leftover), entered);
                        let entered = entered.trim().to_owned();
                        if entered.is_empty() {
                            continue;
                        }
                        match self.register.add_item(&entered, 1) {
                            Ok(_) => self.start_new_sale(),
                            // Not a code: words to search for.
                            Err(RegisterError::UnknownProduct(_)) => {
                                found = self.register.search(&entered)?.into_iter().map(Into::into).collect();
                                if found.is_empty() {
                                    problem = Some(RegisterError::UnknownProduct(entered.clone()).into());
                                }
                            }
                            Err(e) => problem = Some(e.into()),
                        }
                        typed = Some(entered);
                    }
                    None => leftover.push_str(&text),
                },
            }
        }
        if let Some(problem) = problem {
            return Err(problem);
        }
        Ok(ScanOutcome { scanned, typed, leftover, found, view: self.view()? })
    }

    /// The first line of a new sale clears the last sale's change from the screen.
    fn start_new_sale(&mut self) {
        self.last = None;
    }

    pub fn add_item(&mut self, code: &str, quantity: u32) -> Answer<View> {
        self.start_new_sale();
        self.register.add_item(code, quantity)?;
        self.view()
    }

    /// A code a serial scanner read.
    pub fn add_read(&mut self, scan: hardware::scan::Scan) -> Answer<View> {
        self.start_new_sale();
        self.register.add_read(scan)?;
        self.view()
    }

    pub fn search(&self, text: &str) -> Answer<Vec<ProductView>> {
        Ok(self.register.search(text)?.into_iter().map(Into::into).collect())
    }

    pub fn set_quantity(&mut self, index: usize, quantity: u32) -> Answer<View> {
        self.editable()?;
        self.register.set_quantity(index, quantity)?;
        self.view()
    }

    /// `text` is `10%`, an amount like `2.50` (or `2,50`), or empty to take the discount off.
    pub fn set_discount(&mut self, index: usize, text: &str) -> Answer<View> {
        self.editable()?;
        self.register.set_discount(index, input::discount(text)?)?;
        self.view()
    }

    pub fn remove_line(&mut self, index: usize) -> Answer<View> {
        self.editable()?;
        self.register.remove_line(index)?;
        self.view()
    }

    /// Lines cannot change under tenders already taken: the cashier takes them back first.
    fn editable(&self) -> Answer<()> {
        if self.tenders.is_empty() {
            Ok(())
        } else {
            Err(Problem::new(
                "tendering",
                "payment has started: cancel the tenders before changing the sale",
                None,
            ))
        }
    }

    pub fn void(&mut self) -> Answer<View> {
        self.register.void()?;
        self.tenders.clear();
        self.view()
    }

    pub fn park(&mut self) -> Answer<View> {
        self.editable()?;
        self.register.park()?;
        self.view()
    }

    pub fn resume(&mut self, id: i64) -> Answer<View> {
        self.editable()?;
        self.start_new_sale();
        self.register.resume(id)?;
        self.view()
    }

    pub fn clear_tenders(&mut self) -> Answer<View> {
        self.tenders.clear();
        self.view()
    }

    /// Takes a tender. `amount` empty means "the balance" (cash rounded to the nickel); a
    /// credit tender needs the terminal's approval code. When the tenders cover the sale it
    /// completes, durably, and its receipt prints: the answer says which of the two happened.
    pub fn add_tender(&mut self, kind: &str, amount: &str, approval: &str) -> Answer<Tendered> {
        self.register.signed_in()?;
        let entry = TenderEntry::from_fields(kind, amount, approval)?;
        let cart = self.register.cart()?;
        if cart.lines.is_empty() {
            return Err(RegisterError::EmptySale.into());
        }
        let due = cart.quote.total;
        let paid: Money = self.tenders.iter().map(Tender::amount).sum();
        let mut tenders = self.tenders.clone();
        tenders.push(entry.tender(due - paid));
        match settle(due, &tenders) {
            Ok(_) => {
                self.tenders.clear();
                let sale = self.complete(tenders)?;
                Ok(Tendered::Completed { sale, view: self.view()? })
            }
            // Not enough yet: keep the tender and show the balance.
            Err(PaymentError::Insufficient { .. }) => {
                self.tenders = tenders;
                let view = self.view()?;
                Ok(Tendered::BalanceDue { balance: view.payment.balance, view })
            }
            Err(e) => Err(e.into()),
        }
    }

    fn complete(&mut self, tenders: Vec<Tender>) -> Answer<LastSale> {
        let completed = self.register.complete_sale(tenders)?;
        let totals = &completed.sale.totals;
        let paid = completed.sale.tenders.iter().map(|t| t.amount().as_cents()).sum();
        let (printed, print_error) = self.print_record(&completed.record.id);
        let sale = LastSale {
            id: completed.record.id.to_string(),
            total: totals.total.as_cents(),
            paid,
            change: totals.change.as_cents(),
            rounding: totals.rounding.as_cents(),
            printed,
            print_error,
        };
        self.last = Some(sale.clone());
        Ok(sale)
    }
}
