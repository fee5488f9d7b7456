//! A completed sale: its lines, discounts, taxes, tenders and totals, and the check that
//! the totals a register recorded are the totals its lines and tenders make.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::barcode::Barcode;
use crate::ids::{CashierId, CustomerId, Sku};
use crate::money::{Money, Percent, Quantity};
use crate::tax::{TaxClass, Taxes};
use crate::tender::{PaymentError, Settlement, Tender, settle};

/// Most lines one sale may hold: larger baskets are split at the till.
pub const MAX_LINES: usize = 500;
/// Longest product description carried on a line.
pub const MAX_DESCRIPTION: usize = 80;

/// A discount on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case", deny_unknown_fields)]
pub enum Discount {
    /// A percentage of the line's gross amount, rounded half away from zero to the cent.
    Percent(Percent),
    /// A fixed amount off the line, at most the line's gross amount.
    Amount(Money),
}

/// One line of a sale, as rung up: the price and tax class are those of the moment of sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleLine {
    pub sku: Sku,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<Barcode>,
    pub unit_price: Money,
    pub quantity: Quantity,
    pub tax_class: TaxClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
}

/// What one line comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineAmounts {
    /// Quantity × unit price.
    pub gross: Money,
    pub discount: Money,
    /// Gross less discount: the amount that is taxed.
    pub net: Money,
    pub taxes: Taxes,
    /// Net plus taxes.
    pub total: Money,
}

impl SaleLine {
    pub fn amounts(&self) -> Result<LineAmounts, SaleError> {
        if self.unit_price < Money::ZERO {
            return Err(SaleError::NegativePrice { sku: self.sku.to_string() });
        }
        let gross = self.unit_price.times(self.quantity.get());
        let discount = match self.discount {
            None => Money::ZERO,
            Some(Discount::Percent(p)) => p.of(gross),
            Some(Discount::Amount(a)) => {
                if a <= Money::ZERO || a > gross {
                    return Err(SaleError::BadDiscount { sku: self.sku.to_string(), discount: a, gross });
                }
                a
            }
        };
        let net = gross - discount;
        let taxes = Taxes::on(net, self.tax_class);
        Ok(LineAmounts { gross, discount, net, taxes, total: net + taxes.total() })
    }
}

/// A basket's figures before payment: what the till shows while the cashier scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Quote {
    pub gross: Money,
    pub discounts: Money,
    pub net: Money,
    pub gst: Money,
    pub qst: Money,
    /// What is owed before any cash rounding.
    pub total: Money,
}

impl Quote {
    /// Sums the lines, each computed by [`SaleLine::amounts`].
    pub fn of(lines: &[SaleLine]) -> Result<Quote, SaleError> {
        lines.iter().try_fold(Quote::default(), |quote, line| {
            let a = line.amounts()?;
            Ok(Quote {
                gross: quote.gross + a.gross,
                discounts: quote.discounts + a.discount,
                net: quote.net + a.net,
                gst: quote.gst + a.taxes.gst,
                qst: quote.qst + a.taxes.qst,
                total: quote.total + a.total,
            })
        })
    }
}

/// A sale's recorded totals: the quote, then how it was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleTotals {
    pub gross: Money,
    pub discounts: Money,
    pub net: Money,
    pub gst: Money,
    pub qst: Money,
    pub total: Money,
    /// Cash rounding: what the customer paid is `total + rounding`.
    pub rounding: Money,
    pub change: Money,
}

impl SaleTotals {
    pub fn new(quote: Quote, settlement: Settlement) -> Self {
        SaleTotals {
            gross: quote.gross,
            discounts: quote.discounts,
            net: quote.net,
            gst: quote.gst,
            qst: quote.qst,
            total: quote.total,
            rounding: settlement.rounding,
            change: settlement.change,
        }
    }

    /// What the customer actually paid.
    pub fn paid(&self) -> Money {
        self.total + self.rounding
    }
}

/// A completed sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sale {
    /// The store's trading day the sale belongs to, as the register's calendar had it.
    pub business_day: NaiveDate,
    pub cashier: CashierId,
    pub lines: Vec<SaleLine>,
    pub tenders: Vec<Tender>,
    pub totals: SaleTotals,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SaleError {
    #[error("a sale needs at least one line")]
    NoLines,
    #[error("a sale holds at most {MAX_LINES} lines, this one has {0}")]
    TooManyLines(usize),
    #[error(
        "the description of {sku} is empty, longer than {MAX_DESCRIPTION} characters, or has control characters"
    )]
    BadDescription { sku: String },
    #[error("the sale's total of {0} is over the largest amount one record may carry")]
    TooLarge(Money),
    #[error("the price of {sku} is negative")]
    NegativePrice { sku: String },
    #[error("the discount of {discount} on {sku} is not between 0.01 and the line's {gross}")]
    BadDiscount { sku: String, discount: Money, gross: Money },
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error("the recorded {field} is {recorded}, but the lines and tenders make {computed}")]
    TotalsMismatch { field: &'static str, recorded: Money, computed: Money },
}

impl Sale {
    /// Completes a sale: computes its totals and settles its tenders.
    pub fn complete(
        business_day: NaiveDate,
        cashier: CashierId,
        lines: Vec<SaleLine>,
        tenders: Vec<Tender>,
        customer: Option<CustomerId>,
    ) -> Result<Sale, SaleError> {
        check_lines(&lines)?;
        let quote = Quote::of(&lines)?;
        // Each amount is bounded, and so is the sum of a record's lines: head office adds
        // many records together, and must never overflow doing so.
        if quote.gross.as_cents() > Money::MAX || quote.total.as_cents() > Money::MAX {
            return Err(SaleError::TooLarge(quote.total));
        }
        let settlement = settle(quote.total, &tenders)?;
        Ok(Sale {
            business_day,
            cashier,
            lines,
            tenders,
            totals: SaleTotals::new(quote, settlement),
            customer,
        })
    }

    /// Recomputes the totals from the lines and tenders and compares them with what was
    /// recorded: how the server refuses a corrupted or forged sale.
    pub fn check(&self) -> Result<(), SaleError> {
        let recomputed = Sale::complete(
            self.business_day,
            self.cashier,
            self.lines.clone(),
            self.tenders.clone(),
            self.customer,
        )?;
        compare_totals(&self.totals, &recomputed.totals)
    }
}

pub(crate) fn check_lines(lines: &[SaleLine]) -> Result<(), SaleError> {
    if lines.is_empty() {
        return Err(SaleError::NoLines);
    }
    if lines.len() > MAX_LINES {
        return Err(SaleError::TooManyLines(lines.len()));
    }
    if let Some(line) = lines
        .iter()
        .find(|l| crate::text::check_required("description", &l.description, MAX_DESCRIPTION).is_err())
    {
        return Err(SaleError::BadDescription { sku: line.sku.to_string() });
    }
    Ok(())
}

fn compare_totals(recorded: &SaleTotals, computed: &SaleTotals) -> Result<(), SaleError> {
    let fields = [
        ("gross", recorded.gross, computed.gross),
        ("discounts", recorded.discounts, computed.discounts),
        ("net", recorded.net, computed.net),
        ("gst", recorded.gst, computed.gst),
        ("qst", recorded.qst, computed.qst),
        ("total", recorded.total, computed.total),
        ("rounding", recorded.rounding, computed.rounding),
        ("change", recorded.change, computed.change),
    ];
    match fields.into_iter().find(|(_, r, c)| r != c) {
        Some((field, recorded, computed)) => Err(SaleError::TotalsMismatch { field, recorded, computed }),
        None => Ok(()),
    }
}
