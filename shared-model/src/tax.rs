//! Québec sales taxes: the federal GST at 5 % and the Québec QST at 9.975 %, both on the
//! price before tax (the QST has not been charged on the GST since 2013).
//!
//! # The rounding rule
//!
//! Each **line** is taxed on its net amount (quantity × unit price − line discount), and
//! each tax of each line is rounded half away from zero to the cent on its own. A
//! receipt's GST and QST are the sums of its lines' GST and QST. Taxing per line means
//! a returned line refunds exactly the tax it was charged, whatever else was on the
//! receipt; the cost is that a receipt's tax can differ by a cent or two from the tax of
//! its total, which Revenu Québec accepts when the method is applied consistently.
//!
//! Worked example: a line of 3 × 4.99 = 14.97. GST = 14.97 × 5 % = 0.7485 → **0.75**.
//! QST = 14.97 × 9.975 % = 1.4932575 → **1.49**.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// GST rate in thousandths of a percent (5 %).
pub const GST_RATE: i64 = 5_000;
/// QST rate in thousandths of a percent (9.975 %).
pub const QST_RATE: i64 = 9_975;
const RATE_DENOMINATOR: i64 = 100_000;

/// Which taxes a product bears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxClass {
    /// GST and QST: most goods.
    Standard,
    /// Neither: basic groceries, prescription drugs.
    ZeroRated,
    /// GST only: printed books, which Québec zero-rates for the QST.
    GstOnly,
}

impl TaxClass {
    pub fn bears_gst(self) -> bool {
        matches!(self, TaxClass::Standard | TaxClass::GstOnly)
    }

    pub fn bears_qst(self) -> bool {
        matches!(self, TaxClass::Standard)
    }

    pub fn code(self) -> &'static str {
        match self {
            TaxClass::Standard => "standard",
            TaxClass::ZeroRated => "zero_rated",
            TaxClass::GstOnly => "gst_only",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [TaxClass::Standard, TaxClass::ZeroRated, TaxClass::GstOnly]
            .into_iter()
            .find(|class| class.code() == code)
    }
}

/// The taxes of one line, each already rounded to the cent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxes {
    pub gst: Money,
    pub qst: Money,
}

impl Taxes {
    /// Taxes on `net` for `class`, by the rule in this module's documentation.
    pub fn on(net: Money, class: TaxClass) -> Taxes {
        Taxes {
            gst: if class.bears_gst() { net.mul_div(GST_RATE, RATE_DENOMINATOR) } else { Money::ZERO },
            qst: if class.bears_qst() { net.mul_div(QST_RATE, RATE_DENOMINATOR) } else { Money::ZERO },
        }
    }

    pub fn total(self) -> Money {
        self.gst + self.qst
    }
}

impl std::ops::Add for Taxes {
    type Output = Taxes;
    fn add(self, rhs: Taxes) -> Taxes {
        Taxes { gst: self.gst + rhs.gst, qst: self.qst + rhs.qst }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_holds() {
        let taxes = Taxes::on(Money::cents(1_497), TaxClass::Standard);
        assert_eq!(taxes, Taxes { gst: Money::cents(75), qst: Money::cents(149) });
    }

    #[test]
    fn classes_choose_their_taxes() {
        let net = Money::cents(10_000);
        assert_eq!(Taxes::on(net, TaxClass::Standard).total(), Money::cents(1_498)); // 5.00 + 9.975 → 9.98
        assert_eq!(Taxes::on(net, TaxClass::GstOnly), Taxes { gst: Money::cents(500), qst: Money::ZERO });
        assert_eq!(Taxes::on(net, TaxClass::ZeroRated).total(), Money::ZERO);
        for class in [TaxClass::Standard, TaxClass::ZeroRated, TaxClass::GstOnly] {
            assert_eq!(TaxClass::from_code(class.code()), Some(class));
        }
    }
}
