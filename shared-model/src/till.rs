//! Closing the till at the end of a shift: the Z report a register records.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::CashierId;
use crate::money::Money;
use crate::tender::TenderKind;

/// Takings of one kind of tender over the shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderTotal {
    pub kind: TenderKind,
    /// Taken in on sales (for cash: what stayed in the drawer, after change).
    pub taken: Money,
    /// Paid out on refunds.
    pub refunded: Money,
}

/// The Z report: what the till took since it last closed, and the cash count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillClose {
    pub business_day: NaiveDate,
    pub cashier: CashierId,
    pub sales_count: u32,
    pub returns_count: u32,
    pub tenders: Vec<TenderTotal>,
    /// Cash in the drawer when the shift opened.
    pub opening_float: Money,
    /// Float plus cash taken less cash refunded.
    pub expected_cash: Money,
    /// What the cashier counted, when they counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_cash: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TillError {
    #[error("expected cash is {recorded}, but the float and cash takings make {computed}")]
    ExpectedCash { recorded: Money, computed: Money },
    #[error("the {0} tender appears twice")]
    TenderTwice(&'static str),
    #[error("an amount on the Z report is negative")]
    Negative,
}

impl TillClose {
    /// Counted less expected: positive is over, negative is short.
    pub fn over_short(&self) -> Option<Money> {
        self.counted_cash.map(|counted| counted - self.expected_cash)
    }

    pub fn expected_cash_of(opening_float: Money, tenders: &[TenderTotal]) -> Money {
        tenders
            .iter()
            .filter(|t| t.kind == TenderKind::Cash)
            .fold(opening_float, |cash, t| cash + t.taken - t.refunded)
    }

    pub fn check(&self) -> Result<(), TillError> {
        let mut kinds = std::collections::BTreeSet::new();
        for t in &self.tenders {
            if !kinds.insert(t.kind) {
                return Err(TillError::TenderTwice(t.kind.as_str()));
            }
            if t.taken.is_negative() || t.refunded.is_negative() {
                return Err(TillError::Negative);
            }
        }
        if self.opening_float.is_negative() || self.counted_cash.is_some_and(Money::is_negative) {
            return Err(TillError::Negative);
        }
        let computed = Self::expected_cash_of(self.opening_float, &self.tenders);
        if computed != self.expected_cash {
            return Err(TillError::ExpectedCash { recorded: self.expected_cash, computed });
        }
        Ok(())
    }
}
