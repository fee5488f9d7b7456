//! Amounts and rates as a customer reads them, in Québec French or Canadian English: the
//! receipt and the register's window follow these rules (`ui/src/format.ts` mirrors them, with
//! the same examples in its tests).
//!
//! | | French | English |
//! |---|---|---|
//! | amount | `1 234,56 $`, `-22,17 $` | `$1,234.56`, `-$22.17` |
//! | rate | `9,975 %` | `9.975%` |
//!
//! The spaces in French are no-break spaces (U+00A0), so a line is never broken between a
//! figure and its sign; a printer layout may turn them into plain spaces once laid out.

use std::fmt;

use super::Money;

/// A no-break space: between French thousands, and before `$` and `%`.
pub const NBSP: char = '\u{a0}';

/// The language figures are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    /// Québec French.
    Fr,
    /// Canadian English.
    En,
}

/// An amount written for a [`Locale`]: see [`Money::localized`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalizedMoney {
    amount: Money,
    locale: Locale,
}

impl Money {
    /// `22,17 $` in French, `$22.17` in English; a negative amount leads with `-`.
    pub fn localized(self, locale: Locale) -> LocalizedMoney {
        LocalizedMoney { amount: self, locale }
    }
}

/// Digits grouped by threes from the right with `separator`.
fn grouped(units: u64, separator: char) -> String {
    let digits = units.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

impl fmt::Display for LocalizedMoney {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = self.amount.as_cents().unsigned_abs();
        let sign = if self.amount.is_negative() { "-" } else { "" };
        let text = match self.locale {
            Locale::Fr => format!("{sign}{},{:02}{NBSP}$", grouped(cents / 100, NBSP), cents % 100),
            Locale::En => format!("{sign}${}.{:02}", grouped(cents / 100, ','), cents % 100),
        };
        f.pad(&text)
    }
}

/// A rate in thousandths of a percent (the unit of [`crate::tax::GST_RATE`]) written for a
/// locale: `9 975` is `9,975 %` in French and `9.975%` in English; no trailing zeros.
pub fn rate(thousandths_of_percent: i64, locale: Locale) -> String {
    let magnitude = thousandths_of_percent.unsigned_abs();
    let sign = if thousandths_of_percent < 0 { "-" } else { "" };
    let whole = magnitude / 1_000;
    let fraction = format!("{:03}", magnitude % 1_000);
    let fraction = fraction.trim_end_matches('0');
    let (point, space) = match locale {
        Locale::Fr => (",", NBSP.to_string()),
        Locale::En => (".", String::new()),
    };
    if fraction.is_empty() {
        format!("{sign}{whole}{space}%")
    } else {
        format!("{sign}{whole}{point}{fraction}{space}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tax::{GST_RATE, QST_RATE};

    /// The same examples as `ui/src/format.test.ts`.
    #[test]
    fn amounts_read_as_quebec_french_and_canadian_english() {
        let fr = |cents| Money::cents(cents).localized(Locale::Fr).to_string().replace(NBSP, " ");
        let en = |cents| Money::cents(cents).localized(Locale::En).to_string();
        assert_eq!(fr(2_217), "22,17 $");
        assert_eq!(en(2_217), "$22.17");
        assert_eq!(fr(-2_217), "-22,17 $");
        assert_eq!(en(-2_217), "-$22.17");
        assert_eq!(fr(123_456), "1 234,56 $");
        assert_eq!(en(123_456), "$1,234.56");
        assert_eq!(fr(0), "0,00 $");
        assert_eq!(en(5), "$0.05");
        assert_eq!(en(-1_999), "-$19.99");
        assert_eq!(en(100_000_000), "$1,000,000.00");
        assert_eq!(fr(-Money::MAX), "-10 000 000 000,00 $");
        assert!(Money::cents(2_217).localized(Locale::Fr).to_string().contains('\u{a0}'));
        assert_eq!(format!("{:>8}", Money::cents(150).localized(Locale::En)), "   $1.50");
    }

    #[test]
    fn tax_rates_read_the_same_way() {
        let fr = |r| rate(r, Locale::Fr).replace(NBSP, " ");
        assert_eq!(fr(QST_RATE), "9,975 %");
        assert_eq!(rate(QST_RATE, Locale::En), "9.975%");
        assert_eq!(fr(GST_RATE), "5 %");
        assert_eq!(rate(GST_RATE, Locale::En), "5%");
        assert_eq!(rate(12_500, Locale::En), "12.5%");
        assert_eq!(fr(12_500), "12,5 %");
    }
}
