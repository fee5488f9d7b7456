//! The receipt number a customer reads: `VMTL-01-000123`, the register that made the record and
//! its place in that register's sequence. It names one record as surely as the record's UUID
//! (a register's `seq` is gap-free and never reused), but fits a 32-column receipt and can be
//! read out over a phone; the UUID stays in the receipt's QR code.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Invalid, out_of_range};
use crate::ids::RegisterId;

/// `{origin}-{seq:06}`: the origin register's id, then its sequence number on at least six
/// digits. Typed back, any number of digits is read (`VMTL-01-123` is `VMTL-01-000123`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReceiptNumber {
    origin: RegisterId,
    seq: u64,
}

impl ReceiptNumber {
    const WHAT: &'static str = "receipt number";

    /// A register's sequence starts at 1.
    pub fn new(origin: RegisterId, seq: u64) -> Result<Self, Invalid> {
        if seq == 0 {
            return Err(out_of_range(Self::WHAT, 0, 1, u64::MAX));
        }
        Ok(Self { origin, seq })
    }

    /// Reads a number as printed or typed: surrounding spaces and lower case are forgiven.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let trimmed = text.trim();
        let malformed = || Invalid::Malformed {
            what: Self::WHAT,
            value: trimmed.into(),
            reason: "expected REGISTER-SEQUENCE, like VMTL-01-000123",
        };
        let upper = trimmed.to_ascii_uppercase();
        let (origin, seq) = upper.rsplit_once('-').ok_or_else(malformed)?;
        if seq.is_empty() || seq.len() > 20 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let origin = RegisterId::parse(origin).map_err(|_| malformed())?;
        let seq = seq.parse().map_err(|_| out_of_range(Self::WHAT, u64::MAX, 1, u64::MAX))?;
        Self::new(origin, seq)
    }

    pub fn origin(&self) -> &RegisterId {
        &self.origin
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}-{:06}", self.origin, self.seq))
    }
}

impl FromStr for ReceiptNumber {
    type Err = Invalid;
    fn from_str(text: &str) -> Result<Self, Invalid> {
        Self::parse(text)
    }
}

impl TryFrom<String> for ReceiptNumber {
    type Error = Invalid;
    fn try_from(text: String) -> Result<Self, Invalid> {
        Self::parse(&text)
    }
}

impl From<ReceiptNumber> for String {
    fn from(number: ReceiptNumber) -> String {
        number.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_short_and_reads_back_as_typed() {
        let number = ReceiptNumber::new(RegisterId::parse("VMTL-01").unwrap(), 123).unwrap();
        assert_eq!(number.to_string(), "VMTL-01-000123");
        for typed in ["VMTL-01-000123", " vmtl-01-123 ", "VMTL-01-0000123"] {
            assert_eq!(typed.parse::<ReceiptNumber>().unwrap(), number, "{typed:?}");
        }
        let big = ReceiptNumber::new(RegisterId::parse("ABCDEFGH-99").unwrap(), 12_345_678).unwrap();
        assert_eq!(big.to_string(), "ABCDEFGH-99-12345678");
        assert_eq!(big.to_string().parse::<ReceiptNumber>().unwrap(), big);
        // The longest a register can make for a long while still fits a 32-column line.
        assert!("ABCDEFGH-99-999999".len() <= 32);
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(json, "\"VMTL-01-000123\"");
        assert_eq!(serde_json::from_str::<ReceiptNumber>(&json).unwrap(), number);
    }

    #[test]
    fn refuses_what_is_not_a_receipt_number() {
        for bad in [
            "",
            "VMTL-01",
            "VMTL-01-",
            "VMTL-01-000000",
            "VMTL-1-000123",
            "VMTL-01-12a",
            "0192f0c1-7b7e-7cc2-9a1e-4f4cbbd1a2f3",
            "VMTL-01-99999999999999999999",
            "VMTL-01--5",
        ] {
            assert!(ReceiptNumber::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(serde_json::from_str::<ReceiptNumber>("\"VMTL-01-0\"").is_err());
        let said = ReceiptNumber::parse("PLAT-2-7").unwrap_err().to_string();
        assert!(said.contains("VMTL-01-000123"), "{said}");
    }
}
