//! How a customer pays (or is refunded), and the settlement rule that turns a total
//! and a list of tenders into rounding and change.
//!
//! # The settlement rule
//!
//! Card tenders (debit, credit) pay exact cents and may never exceed what is owed: a card
//! is never charged more so that cash can come back. What the cards leave is paid in cash,
//! and only that cash balance is rounded to the nearest five cents ([`Money::round_cash`]).
//! The difference is the sale's `rounding` (between −0.02 and +0.02). Cash offered beyond the
//! rounded balance comes back as change. A sale with no cash tender is not rounded, except
//! that a balance of one or two cents rounds to no cash at all: nothing more changes hands.
//!
//! Refunds follow the same rule and give no change: the cash handed back is exactly the
//! rounded cash balance.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::Invalid;
use crate::money::Money;

/// A credit card's approval code as the terminal printed it: 1 to 12 letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApprovalCode(String);

impl ApprovalCode {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let code = text.trim();
        if code.is_empty() {
            return Err(Invalid::Empty { what: "approval code" });
        }
        if code.len() > 12 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Invalid::Malformed {
                what: "approval code",
                value: text.into(),
                reason: "1 to 12 letters or digits",
            });
        }
        Ok(Self(code.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for ApprovalCode {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        Self::parse(&value)
    }
}
impl From<ApprovalCode> for String {
    fn from(value: ApprovalCode) -> String {
        value.0
    }
}

/// One means of payment. For cash, `amount` is what the customer handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Tender {
    Cash { amount: Money },
    Debit { amount: Money },
    Credit { amount: Money, approval: ApprovalCode },
}

impl Tender {
    pub fn amount(&self) -> Money {
        match self {
            Tender::Cash { amount } | Tender::Debit { amount } | Tender::Credit { amount, .. } => *amount,
        }
    }

    pub fn is_cash(&self) -> bool {
        matches!(self, Tender::Cash { .. })
    }

    /// `cash`, `debit` or `credit`: how reports group tenders.
    pub fn kind(&self) -> TenderKind {
        match self {
            Tender::Cash { .. } => TenderKind::Cash,
            Tender::Debit { .. } => TenderKind::Debit,
            Tender::Credit { .. } => TenderKind::Credit,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderKind {
    Cash,
    Debit,
    Credit,
}

impl TenderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TenderKind::Cash => "cash",
            TenderKind::Debit => "debit",
            TenderKind::Credit => "credit",
        }
    }
}

/// What a settled payment comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Settlement {
    /// Cash rounding applied to the cash balance (−2 to +2 cents).
    pub rounding: Money,
    /// Cash handed back to the customer.
    pub change: Money,
    /// What the cards paid.
    pub cards: Money,
    /// Cash kept in the drawer: tendered cash less change.
    pub cash_kept: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PaymentError {
    #[error("a tender of {0} is not allowed: every tender is a positive amount")]
    NotPositive(Money),
    #[error("the cards pay {cards}, more than the {due} owed: a card is never charged more than is owed")]
    CardsExceedTotal { cards: Money, due: Money },
    #[error("{offered} offered, {due} still owed")]
    Insufficient { due: Money, offered: Money },
    #[error("cash was offered but the cards already pay the whole {due}")]
    CashNotNeeded { due: Money },
    #[error("a refund gives no change: the cash refund must be exactly {expected}, not {found}")]
    RefundChange { expected: Money, found: Money },
}

/// Settles `due` (≥ 0) with `tenders`, by the rule in this module's documentation.
pub fn settle(due: Money, tenders: &[Tender]) -> Result<Settlement, PaymentError> {
    if let Some(bad) = tenders.iter().find(|t| t.amount() <= Money::ZERO) {
        return Err(PaymentError::NotPositive(bad.amount()));
    }
    let cards: Money = tenders.iter().filter(|t| !t.is_cash()).map(Tender::amount).sum();
    let cash: Money = tenders.iter().filter(|t| t.is_cash()).map(Tender::amount).sum();
    let has_cash = tenders.iter().any(Tender::is_cash);
    if cards > due {
        return Err(PaymentError::CardsExceedTotal { cards, due });
    }
    let balance = due - cards;
    if !has_cash {
        // A balance of one or two cents rounds to no cash at all: nothing changes hands.
        if balance > Money::ZERO && balance.round_cash() == Money::ZERO {
            return Ok(Settlement { rounding: -balance, cards, ..Settlement::default() });
        }
        if balance > Money::ZERO {
            return Err(PaymentError::Insufficient { due, offered: cards });
        }
        return Ok(Settlement { cards, ..Settlement::default() });
    }
    if balance == Money::ZERO {
        return Err(PaymentError::CashNotNeeded { due });
    }
    let cash_due = balance.round_cash();
    if cash < cash_due {
        return Err(PaymentError::Insufficient { due: cards + cash_due, offered: cards + cash });
    }
    Ok(Settlement { rounding: cash_due - balance, change: cash - cash_due, cards, cash_kept: cash_due })
}

/// Settles a refund of `due` (≥ 0): the same rule as [`settle`], and no change.
pub fn settle_refund(due: Money, tenders: &[Tender]) -> Result<Settlement, PaymentError> {
    let settlement = settle(due, tenders)?;
    if settlement.change != Money::ZERO {
        let cash: Money = tenders.iter().filter(|t| t.is_cash()).map(Tender::amount).sum();
        return Err(PaymentError::RefundChange { expected: settlement.cash_kept, found: cash });
    }
    Ok(settlement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cash(cents: i64) -> Tender {
        Tender::Cash { amount: Money::cents(cents) }
    }
    fn debit(cents: i64) -> Tender {
        Tender::Debit { amount: Money::cents(cents) }
    }

    #[test]
    fn cash_is_rounded_and_change_given() {
        let s = settle(Money::cents(1_723), &[cash(2_000)]).unwrap();
        assert_eq!(
            (s.rounding, s.change, s.cash_kept),
            (Money::cents(2), Money::cents(275), Money::cents(1_725))
        );
    }

    #[test]
    fn cards_are_exact() {
        let s = settle(Money::cents(1_723), &[debit(1_723)]).unwrap();
        assert_eq!(s, Settlement { cards: Money::cents(1_723), ..Settlement::default() });
        assert!(matches!(
            settle(Money::cents(1_723), &[debit(1_720)]),
            Err(PaymentError::Insufficient { .. })
        ));
        assert!(matches!(
            settle(Money::cents(1_723), &[debit(1_800)]),
            Err(PaymentError::CardsExceedTotal { .. })
        ));
    }

    #[test]
    fn split_tenders_round_only_the_cash_balance() {
        // 50.01 owed, 30.00 on debit, 20.01 left in cash → 20.00, rounding −0.01.
        let s = settle(Money::cents(5_001), &[debit(3_000), cash(2_000)]).unwrap();
        assert_eq!((s.rounding, s.change), (Money::cents(-1), Money::ZERO));
        assert!(matches!(
            settle(Money::cents(5_001), &[debit(5_001), cash(500)]),
            Err(PaymentError::CashNotNeeded { .. })
        ));
        assert!(matches!(settle(Money::cents(100), &[cash(0)]), Err(PaymentError::NotPositive(_))));
    }

    #[test]
    fn a_balance_under_three_cents_needs_no_cash() {
        let s = settle(Money::cents(5_002), &[debit(5_000)]).unwrap();
        assert_eq!((s.rounding, s.change, s.cash_kept), (Money::cents(-2), Money::ZERO, Money::ZERO));
        assert_eq!(settle_refund(Money::cents(2), &[]).unwrap().rounding, Money::cents(-2));
        assert!(matches!(
            settle(Money::cents(5_003), &[debit(5_000)]),
            Err(PaymentError::Insufficient { .. })
        ));
    }

    #[test]
    fn refunds_give_no_change() {
        assert!(settle_refund(Money::cents(1_149), &[cash(1_150)]).is_ok());
        assert!(matches!(
            settle_refund(Money::cents(1_149), &[cash(2_000)]),
            Err(PaymentError::RefundChange { .. })
        ));
    }
}
