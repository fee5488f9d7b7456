//! Retail barcodes with their check digits verified: EAN-13, EAN-8, and UPC-A, which is
//! an EAN-13 with a leading zero and is stored that way so one product has one code.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Invalid;

/// A barcode that has passed its check digit. Holds 13 digits (EAN-13, and UPC-A
/// normalised with a leading 0) or 8 digits (EAN-8).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

/// The symbology a barcode was read as, after normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbology {
    Ean13,
    Ean8,
}

impl Barcode {
    /// Parses the digits a scanner or a person typed. Surrounding white space is ignored;
    /// anything else that is not a digit is an error.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let digits = text.trim();
        if digits.is_empty() {
            return Err(Invalid::Empty { what: "barcode" });
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::BadCharacters {
                what: "barcode",
                value: text.into(),
                reason: "a barcode has digits only",
            });
        }
        let normalised = match digits.len() {
            8 | 13 => digits.to_owned(),
            12 => format!("0{digits}"),
            _ => {
                return Err(Invalid::Malformed {
                    what: "barcode",
                    value: text.into(),
                    reason: "expected 8 (EAN-8), 12 (UPC-A) or 13 (EAN-13) digits",
                });
            }
        };
        let (body, check) = normalised.split_at(normalised.len() - 1);
        let expected = check_digit(body);
        let found = check.as_bytes()[0] - b'0';
        if found != expected {
            return Err(Invalid::CheckDigit { value: digits.into(), found, expected });
        }
        Ok(Self(normalised))
    }

    /// Completes a 12-digit (EAN-13) or 7-digit (EAN-8) body with its check digit:
    /// how the demo catalogue and tests make valid codes.
    pub fn with_check_digit(body: &str) -> Result<Self, Invalid> {
        if !matches!(body.len(), 7 | 12) || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::Malformed {
                what: "barcode body",
                value: body.into(),
                reason: "expected 7 or 12 digits",
            });
        }
        Ok(Self(format!("{body}{}", check_digit(body))))
    }

    pub fn symbology(&self) -> Symbology {
        if self.0.len() == 8 { Symbology::Ean8 } else { Symbology::Ean13 }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 mod-10 check digit of `body`: weights 3 and 1 alternate from the rightmost
/// digit of the body, and the check digit brings the sum to a multiple of ten.
pub fn check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    // The value is below 10, so the narrowing is exact.
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

impl TryFrom<String> for Barcode {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        Self::parse(&value)
    }
}
impl From<Barcode> for String {
    fn from(value: Barcode) -> String {
        value.0
    }
}
impl FromStr for Barcode {
    type Err = Invalid;
    fn from_str(text: &str) -> Result<Self, Invalid> {
        Self::parse(text)
    }
}
impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_codes() {
        // Real published codes: an EAN-13, a UPC-A and an EAN-8.
        assert_eq!(Barcode::parse("4006381333931").unwrap().symbology(), Symbology::Ean13);
        assert_eq!(Barcode::parse("036000291452").unwrap().as_str(), "0036000291452");
        assert_eq!(Barcode::parse("96385074").unwrap().symbology(), Symbology::Ean8);
        assert_eq!(Barcode::parse(" 4006381333931\r\n").unwrap().as_str(), "4006381333931");
    }

    #[test]
    fn refuses_a_wrong_check_digit() {
        assert_eq!(
            Barcode::parse("4006381333932"),
            Err(Invalid::CheckDigit { value: "4006381333932".into(), found: 2, expected: 1 })
        );
        assert!(Barcode::parse("036000291453").is_err());
        assert!(Barcode::parse("96385075").is_err());
    }

    #[test]
    fn refuses_wrong_lengths_and_characters() {
        for bad in ["", "123", "40063813339311", "40063813339a1", "4006381-333931"] {
            assert!(Barcode::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn completes_bodies() {
        assert_eq!(Barcode::with_check_digit("400638133393").unwrap().as_str(), "4006381333931");
        assert_eq!(Barcode::with_check_digit("9638507").unwrap().as_str(), "96385074");
    }
}
