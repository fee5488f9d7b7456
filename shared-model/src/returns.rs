//! A return against a receipt: which lines come back, what they refund and how.
//!
//! # Refunding part of a line
//!
//! Returning `k` of the `n` units of a line refunds the share of that line's net amount,
//! GST and QST that brings the cumulative refund to `round(amount × (r + k) ÷ n)`, where `r`
//! units were returned before. Each cumulative figure is rounded half away from zero, so
//! returning a line unit by unit refunds, in total, exactly what the line was charged:
//! never a cent more, never a cent less.
//!
//! # An online order returned at a store
//!
//! A return may name an online order instead of a receipt. Its lines are the order's, its
//! refund is worked out by the same rule, and the register hands nothing back: the refund
//! goes back to the shopper's card from head office when the record arrives there, once. Such
//! a return therefore has no tenders and no cash rounding.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{CashierId, LocationCode, OrderNumber, RecordId, Sku};
use crate::money::{Money, Quantity, round_div};
use crate::sale::{LineAmounts, MAX_DESCRIPTION, MAX_LINES};
use crate::tax::{TaxClass, Taxes};
use crate::tender::{PaymentError, Tender, settle_refund};

/// The sale a return is taken against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleRef {
    /// The sale's record id, printed on its receipt.
    pub sale: RecordId,
    /// The store that made the sale.
    pub store: LocationCode,
}

/// What one returned line refunds, before cash rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    pub net: Money,
    pub gst: Money,
    pub qst: Money,
}

impl Refund {
    pub fn total(&self) -> Money {
        self.net + self.gst + self.qst
    }

    /// The share of a sold line that returning `quantity` more units refunds, when
    /// `already_returned` units of the `sold` came back before. See the module's rule.
    pub fn share_of(
        line: &LineAmounts,
        sold: Quantity,
        already_returned: u32,
        quantity: Quantity,
    ) -> Result<Refund, ReturnError> {
        let after = already_returned + quantity.get();
        if after > sold.get() {
            return Err(ReturnError::MoreThanSold {
                sold: sold.get(),
                already_returned,
                asked: quantity.get(),
            });
        }
        let cumulative = |amount: Money, units: u32| {
            Money::cents(round_div(i128::from(amount.as_cents()) * i128::from(units), i128::from(sold.get())))
        };
        let share = |amount: Money| cumulative(amount, after) - cumulative(amount, already_returned);
        Ok(Refund { net: share(line.net), gst: share(line.taxes.gst), qst: share(line.taxes.qst) })
    }

    /// A refund at a price, for a return whose sale the register could not see.
    pub fn at_price(unit_price: Money, quantity: Quantity, class: TaxClass) -> Refund {
        let net = unit_price.times(quantity.get());
        let Taxes { gst, qst } = Taxes::on(net, class);
        Refund { net, gst, qst }
    }
}

/// One line that comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    pub sku: Sku,
    pub description: String,
    pub quantity: Quantity,
    pub tax_class: TaxClass,
    /// Index of the line in the original sale, when the sale is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_line: Option<u16>,
    pub refund: Refund,
    /// Whether the goods go back on the shelf (and into stock) or are written off.
    pub restock: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    Defective,
    ChangedMind,
    WrongItem,
    DamagedInTransit,
    Other,
}

/// A return's recorded totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnTotals {
    pub net: Money,
    pub gst: Money,
    pub qst: Money,
    pub total: Money,
    /// Cash rounding of the refund: what went back to the customer is `total + rounding`.
    pub rounding: Money,
}

impl ReturnTotals {
    pub fn refunded(&self) -> Money {
        self.total + self.rounding
    }
}

/// A completed return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Return {
    pub business_day: NaiveDate,
    pub cashier: CashierId,
    /// The sale returned against; `None` for a return without a receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<SaleRef>,
    /// The online order returned against, instead of a receipt; its refund goes back to the
    /// shopper's card from head office (see the module's documentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_order: Option<OrderNumber>,
    /// Whether the register saw the original sale and what had already been returned of
    /// it. An unverified return (taken offline against another store's receipt) is
    /// accepted and flagged for head office.
    pub verified: bool,
    pub lines: Vec<ReturnLine>,
    pub tenders: Vec<Tender>,
    pub totals: ReturnTotals,
    pub reason: ReturnReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReturnError {
    #[error("a return needs at least one line")]
    NoLines,
    #[error("a return holds at most {MAX_LINES} lines, this one has {0}")]
    TooManyLines(usize),
    #[error("{asked} more cannot be returned: {sold} were sold and {already_returned} already came back")]
    MoreThanSold { sold: u32, already_returned: u32, asked: u32 },
    #[error("line {0} of the original sale appears twice in this return")]
    LineTwice(u16),
    #[error("a line names an original sale line, but the return names no original sale")]
    LineWithoutSale,
    #[error("a return names either a receipt or an online order, not both")]
    TwoOriginals,
    #[error(
        "an online order's refund goes back to its card from head office: the register pays nothing out, so the return has no tenders"
    )]
    OnlineTenders,
    #[error(
        "the description of {sku} is empty, longer than {MAX_DESCRIPTION} characters, or has control characters"
    )]
    BadDescription { sku: String },
    #[error("the refund of {sku} has a negative amount")]
    NegativeRefund { sku: String },
    #[error("{0}")]
    BadNote(crate::error::Invalid),
    #[error("the refund of {0} is over the largest amount one record may carry")]
    TooLarge(Money),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error("the recorded {field} is {recorded}, but the lines and tenders make {computed}")]
    TotalsMismatch { field: &'static str, recorded: Money, computed: Money },
}

impl Return {
    /// Completes a return: sums its lines and settles its refund tenders.
    #[allow(clippy::too_many_arguments)]
    pub fn complete(
        business_day: NaiveDate,
        cashier: CashierId,
        original: Option<SaleRef>,
        verified: bool,
        lines: Vec<ReturnLine>,
        tenders: Vec<Tender>,
        reason: ReturnReason,
        note: Option<String>,
    ) -> Result<Return, ReturnError> {
        let refund = sum_lines(original.is_some(), &lines, note.as_deref())?;
        let settlement = settle_refund(refund.total(), &tenders)?;
        Ok(Return {
            business_day,
            cashier,
            original,
            online_order: None,
            verified,
            lines,
            tenders,
            totals: ReturnTotals {
                net: refund.net,
                gst: refund.gst,
                qst: refund.qst,
                total: refund.total(),
                rounding: settlement.rounding,
            },
            reason,
            note,
        })
    }

    /// Completes the return of (part of) an online order, checked against the order at head
    /// office: no tenders, no rounding, the refund owed to the shopper's card.
    pub fn complete_online(
        business_day: NaiveDate,
        cashier: CashierId,
        order: OrderNumber,
        lines: Vec<ReturnLine>,
        reason: ReturnReason,
        note: Option<String>,
    ) -> Result<Return, ReturnError> {
        let refund = sum_lines(true, &lines, note.as_deref())?;
        Ok(Return {
            business_day,
            cashier,
            original: None,
            online_order: Some(order),
            verified: true,
            lines,
            tenders: Vec::new(),
            totals: ReturnTotals {
                net: refund.net,
                gst: refund.gst,
                qst: refund.qst,
                total: refund.total(),
                rounding: Money::ZERO,
            },
            reason,
            note,
        })
    }

    /// Recomputes the totals and compares them with what was recorded.
    pub fn check(&self) -> Result<(), ReturnError> {
        let again = match self.online_order {
            Some(_) if self.original.is_some() => return Err(ReturnError::TwoOriginals),
            Some(_) if !self.tenders.is_empty() => return Err(ReturnError::OnlineTenders),
            Some(order) => Return::complete_online(
                self.business_day,
                self.cashier,
                order,
                self.lines.clone(),
                self.reason,
                self.note.clone(),
            )?,
            None => Return::complete(
                self.business_day,
                self.cashier,
                self.original.clone(),
                self.verified,
                self.lines.clone(),
                self.tenders.clone(),
                self.reason,
                self.note.clone(),
            )?,
        };
        let (r, c) = (&self.totals, &again.totals);
        let fields = [
            ("net", r.net, c.net),
            ("gst", r.gst, c.gst),
            ("qst", r.qst, c.qst),
            ("total", r.total, c.total),
            ("rounding", r.rounding, c.rounding),
        ];
        match fields.into_iter().find(|(_, r, c)| r != c) {
            Some((field, recorded, computed)) => {
                Err(ReturnError::TotalsMismatch { field, recorded, computed })
            }
            None => Ok(()),
        }
    }
}

/// Checks the lines and the note, and sums what the lines refund.
fn sum_lines(has_original: bool, lines: &[ReturnLine], note: Option<&str>) -> Result<Refund, ReturnError> {
    check_lines(has_original, lines)?;
    if let Some(note) = note {
        crate::text::check("note", note, crate::stock::MAX_NOTE).map_err(ReturnError::BadNote)?;
    }
    let refund = lines.iter().fold(Refund::default(), |sum, line| Refund {
        net: sum.net + line.refund.net,
        gst: sum.gst + line.refund.gst,
        qst: sum.qst + line.refund.qst,
    });
    if refund.total().as_cents() > Money::MAX {
        return Err(ReturnError::TooLarge(refund.total()));
    }
    Ok(refund)
}

fn check_lines(has_original: bool, lines: &[ReturnLine]) -> Result<(), ReturnError> {
    if lines.is_empty() {
        return Err(ReturnError::NoLines);
    }
    if lines.len() > MAX_LINES {
        return Err(ReturnError::TooManyLines(lines.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for line in lines {
        if crate::text::check_required("description", &line.description, MAX_DESCRIPTION).is_err() {
            return Err(ReturnError::BadDescription { sku: line.sku.to_string() });
        }
        let r = line.refund;
        if r.net < Money::ZERO || r.gst < Money::ZERO || r.qst < Money::ZERO {
            return Err(ReturnError::NegativeRefund { sku: line.sku.to_string() });
        }
        if let Some(index) = line.original_line {
            if !has_original {
                return Err(ReturnError::LineWithoutSale);
            }
            if !seen.insert(index) {
                return Err(ReturnError::LineTwice(index));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(net: i64, gst: i64, qst: i64) -> LineAmounts {
        LineAmounts {
            gross: Money::cents(net),
            net: Money::cents(net),
            taxes: Taxes { gst: Money::cents(gst), qst: Money::cents(qst) },
            total: Money::cents(net + gst + qst),
            ..LineAmounts::default()
        }
    }

    #[test]
    fn unit_by_unit_returns_refund_exactly_the_line() {
        // 3 × 3.33 = 9.99: GST 0.50, QST 1.00 (0.9965 → 1.00).
        let line = line_of(999, 50, 100);
        let three = Quantity::new(3).unwrap();
        let mut refunded = Refund::default();
        for before in 0..3 {
            let r = Refund::share_of(&line, three, before, Quantity::ONE).unwrap();
            refunded =
                Refund { net: refunded.net + r.net, gst: refunded.gst + r.gst, qst: refunded.qst + r.qst };
        }
        assert_eq!(
            refunded,
            Refund { net: Money::cents(999), gst: Money::cents(50), qst: Money::cents(100) }
        );
        assert!(matches!(
            Refund::share_of(&line, three, 3, Quantity::ONE),
            Err(ReturnError::MoreThanSold { sold: 3, already_returned: 3, asked: 1 })
        ));
    }

    #[test]
    fn an_online_return_pays_nothing_out_at_the_register() {
        let line = ReturnLine {
            sku: Sku::parse("CAF-ESP-250").unwrap(),
            description: "Espresso".into(),
            quantity: Quantity::ONE,
            tax_class: TaxClass::Standard,
            original_line: Some(0),
            refund: Refund { net: Money::cents(1_000), gst: Money::cents(50), qst: Money::cents(100) },
            restock: true,
        };
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let cashier = CashierId::new(7).unwrap();
        let order = OrderNumber::new(42).unwrap();
        let ret =
            Return::complete_online(day, cashier, order, vec![line], ReturnReason::Defective, None).unwrap();
        assert_eq!(ret.totals.refunded(), Money::cents(1_150));
        assert!(ret.tenders.is_empty());
        ret.check().unwrap();
        let json = serde_json::to_value(&ret).unwrap();
        assert_eq!(json["online_order"], 42);

        let mut paid_out = ret.clone();
        paid_out.tenders = vec![Tender::Cash { amount: Money::cents(1_150) }];
        assert_eq!(paid_out.check(), Err(ReturnError::OnlineTenders));
        let mut both = ret.clone();
        both.original = Some(SaleRef {
            sale: RecordId::from_parts(1_700_000_000_000, [1; 10]),
            store: LocationCode::parse("PLAT").unwrap(),
        });
        assert_eq!(both.check(), Err(ReturnError::TwoOriginals));
        let mut inflated = ret;
        inflated.totals.total = Money::cents(9_999);
        assert!(matches!(inflated.check(), Err(ReturnError::TotalsMismatch { field: "total", .. })));
    }
}
