//! Money in integer cents, quantities, percentages and the two rounding rules
//! that money needs: half away from zero to the cent, and cash to the nickel.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Invalid, out_of_range};

mod locale;
pub use locale::{Locale, LocalizedMoney, NBSP, rate};

/// An amount of Canadian dollars in cents. Never a float.
///
/// Amounts are bounded by [`Money::MAX`] (ten billion dollars) at every boundary, so
/// sums of the line counts a till can hold never approach `i64` overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);
    /// Ten billion dollars, in cents.
    pub const MAX: i64 = 1_000_000_000_000;

    pub fn from_cents(cents: i64) -> Result<Self, Invalid> {
        if !(-Self::MAX..=Self::MAX).contains(&cents) {
            return Err(out_of_range("amount in cents", cents, -Self::MAX, Self::MAX));
        }
        Ok(Self(cents))
    }

    /// For constants in code and tests, where the value is known to be in range.
    pub const fn cents(cents: i64) -> Self {
        Self(cents)
    }

    pub const fn as_cents(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Self {
        Self(self.0.abs())
    }

    /// `self × numerator ÷ denominator`, rounded half away from zero to the cent.
    /// The product is taken in `i128`, so it cannot overflow.
    pub fn mul_div(self, numerator: i64, denominator: i64) -> Money {
        Money(round_div(i128::from(self.0) * i128::from(numerator), i128::from(denominator)))
    }

    /// Multiplies by a whole number of units.
    pub fn times(self, units: u32) -> Money {
        Money(self.0 * i64::from(units))
    }

    /// Parses `12`, `12.3`, `12.34`, `-0.05` or `$12.34`. More than two decimals is an error,
    /// never a silent rounding.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let malformed = |reason| Invalid::Malformed { what: "amount", value: text.into(), reason };
        let trimmed = text.trim();
        let (negative, rest) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let rest = rest.strip_prefix('$').unwrap_or(rest);
        let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(malformed("expected dollars and cents, like 12.34"));
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("expected dollars and cents, like 12.34"));
        }
        if fraction.len() > 2 {
            return Err(malformed("at most two decimals: amounts are in cents"));
        }
        if whole.len() > 12 {
            return Err(out_of_range("amount in cents", i128::MAX, -Self::MAX, Self::MAX));
        }
        let dollars: i64 =
            if whole.is_empty() { 0 } else { whole.parse().map_err(|_| malformed("too many digits"))? };
        let cents: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| malformed("bad cents"))? * 10,
            _ => fraction.parse().map_err(|_| malformed("bad cents"))?,
        };
        let total = dollars * 100 + cents;
        Self::from_cents(if negative { -total } else { total })
    }

    /// Rounds a cash amount to the nearest five cents, as Canada has done since the penny
    /// was withdrawn in 2013: amounts ending in 1 or 2 round down to 0, 3 or 4 up to 5,
    /// 6 or 7 down to 5, 8 or 9 up to the next 0. A tie cannot occur. Negative amounts
    /// (cash refunds) round symmetrically.
    pub fn round_cash(self) -> Money {
        let magnitude = self.0.abs();
        let rounded = (magnitude + 2) / 5 * 5;
        Money(if self.0 < 0 { -rounded } else { rounded })
    }
}

/// `numerator ÷ denominator` rounded half away from zero. `denominator` must be positive.
pub(crate) fn round_div(numerator: i128, denominator: i128) -> i64 {
    debug_assert!(denominator > 0);
    let magnitude = (numerator.abs() * 2 + denominator) / (denominator * 2);
    let signed = if numerator < 0 { -magnitude } else { magnitude };
    i64::try_from(signed).unwrap_or(if signed < 0 { i64::MIN } else { i64::MAX })
}

impl TryFrom<i64> for Money {
    type Error = Invalid;
    fn try_from(value: i64) -> Result<Self, Invalid> {
        Self::from_cents(value)
    }
}
impl From<Money> for i64 {
    fn from(value: Money) -> i64 {
        value.0
    }
}
impl FromStr for Money {
    type Err = Invalid;
    fn from_str(text: &str) -> Result<Self, Invalid> {
        Self::parse(text)
    }
}

/// `12.34`, `-0.05`: dollars, a point, two digits; no currency sign, so that it composes.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let text = format!("{sign}{}.{:02}", self.0.abs() / 100, self.0.abs() % 100);
        f.pad(&text)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}
impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

/// How many units of a product on one line, one return line or one transfer line:
/// 1 to 9 999. Zero and absurd quantities are refused where they are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 9_999;
    pub const ONE: Quantity = Quantity(1);

    pub fn new(units: u32) -> Result<Self, Invalid> {
        if units == 0 || units > Self::MAX {
            return Err(out_of_range("quantity", units, 1, Self::MAX));
        }
        Ok(Self(units))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}
impl TryFrom<u32> for Quantity {
    type Error = Invalid;
    fn try_from(value: u32) -> Result<Self, Invalid> {
        Self::new(value)
    }
}
impl From<Quantity> for u32 {
    fn from(value: Quantity) -> u32 {
        value.0
    }
}
impl FromStr for Quantity {
    type Err = Invalid;
    fn from_str(text: &str) -> Result<Self, Invalid> {
        let units = text.trim().parse::<u32>().map_err(|_| Invalid::Malformed {
            what: "quantity",
            value: text.into(),
            reason: "expected a whole number of units, like 3",
        })?;
        Self::new(units)
    }
}
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A percentage in basis points (hundredths of a percent): 1 250 is 12.5 %. 0.01 % to 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Percent(u32);

impl Percent {
    pub fn from_basis_points(points: u32) -> Result<Self, Invalid> {
        if points == 0 || points > 10_000 {
            return Err(out_of_range("discount in basis points", points, 1, 10_000));
        }
        Ok(Self(points))
    }

    pub fn basis_points(self) -> u32 {
        self.0
    }

    /// `amount × self`, rounded half away from zero to the cent.
    pub fn of(self, amount: Money) -> Money {
        amount.mul_div(i64::from(self.0), 10_000)
    }

    /// Parses `15`, `12.5` or `12.5%`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let body = text.trim().trim_end_matches('%');
        let as_money = Money::parse(body).map_err(|_| Invalid::Malformed {
            what: "percentage",
            value: text.into(),
            reason: "expected a percentage like 15 or 12.5",
        })?;
        let points = u32::try_from(as_money.as_cents())
            .map_err(|_| out_of_range("percentage", as_money.as_cents(), 1, 10_000))?;
        Self::from_basis_points(points)
    }
}
impl TryFrom<u32> for Percent {
    type Error = Invalid;
    fn try_from(value: u32) -> Result<Self, Invalid> {
        Self::from_basis_points(value)
    }
}
impl From<Percent> for u32 {
    fn from(value: Percent) -> u32 {
        value.0
    }
}
impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 100;
        match self.0 % 100 {
            0 => write!(f, "{whole} %"),
            frac if frac % 10 == 0 => write!(f, "{whole}.{} %", frac / 10),
            frac => write!(f, "{whole}.{frac:02} %"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_amounts() {
        for (text, cents) in
            [("12.34", 1234), ("12.3", 1230), ("12", 1200), ("-0.05", -5), ("$7.5", 750), (".99", 99)]
        {
            assert_eq!(Money::parse(text).unwrap().as_cents(), cents, "{text}");
        }
        for bad in ["", "-", "1.234", "1,50", "abc", "1.2.3", "12e3", "9999999999999.00"] {
            assert!(Money::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(Money::cents(-5).to_string(), "-0.05");
        assert_eq!(Money::cents(123_456).to_string(), "1234.56");
        assert_eq!(format!("{:>8}", Money::cents(150)), "    1.50");
    }

    #[test]
    fn cash_rounds_to_the_nickel() {
        let cases = [
            (100, 100),
            (101, 100),
            (102, 100),
            (103, 105),
            (104, 105),
            (105, 105),
            (106, 105),
            (107, 105),
            (108, 110),
            (109, 110),
        ];
        for (cents, rounded) in cases {
            assert_eq!(Money::cents(cents).round_cash().as_cents(), rounded, "{cents}");
            assert_eq!(Money::cents(-cents).round_cash().as_cents(), -rounded, "-{cents}");
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(15, 10), 2);
        assert_eq!(Money::cents(999).mul_div(9_975, 100_000).as_cents(), 100); // 99.65 → 100
    }

    #[test]
    fn quantities_and_percentages_have_bounds() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(10_000).is_err());
        assert_eq!("12".parse::<Quantity>().unwrap().get(), 12);
        assert_eq!(Percent::parse("12.5%").unwrap().basis_points(), 1_250);
        assert!(Percent::parse("0").is_err());
        assert!(Percent::parse("101").is_err());
        assert_eq!(Percent::from_basis_points(1_250).unwrap().to_string(), "12.5 %");
    }
}
