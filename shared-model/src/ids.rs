//! Identifiers: locations, registers, records, SKUs, cashiers and customers.
//!
//! Every identifier parses instead of validating: once one exists it is well formed,
//! and its serde form refuses what its constructor refuses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Invalid, out_of_range};

/// Defines a string newtype whose serde form goes through its parser.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $parse:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, Invalid> {
                $parse(value).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(value: String) -> Result<Self, Invalid> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(value: &str) -> Result<Self, Invalid> {
                Self::parse(value)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use string_id;

fn parse_location(value: &str) -> Result<String, Invalid> {
    const WHAT: &str = "location code";
    if value.is_empty() {
        return Err(Invalid::Empty { what: WHAT });
    }
    if value.len() > 8 {
        return Err(Invalid::TooLong { what: WHAT, value: value.into(), max: 8 });
    }
    if !value.starts_with(|c: char| c.is_ascii_uppercase())
        || !value.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(Invalid::BadCharacters {
            what: WHAT,
            value: value.into(),
            reason: "use an upper-case letter then upper-case letters or digits, like PLAT or S01",
        });
    }
    Ok(value.into())
}

fn parse_sku(value: &str) -> Result<String, Invalid> {
    const WHAT: &str = "SKU";
    if value.is_empty() {
        return Err(Invalid::Empty { what: WHAT });
    }
    if value.len() > 32 {
        return Err(Invalid::TooLong { what: WHAT, value: value.into(), max: 32 });
    }
    if !value.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        || value.starts_with('-')
        || value.ends_with('-')
    {
        return Err(Invalid::BadCharacters {
            what: WHAT,
            value: value.into(),
            reason: "use upper-case letters, digits and inner hyphens, like CAF-ESP-250",
        });
    }
    Ok(value.into())
}

fn parse_register(value: &str) -> Result<String, Invalid> {
    const WHAT: &str = "register id";
    let malformed =
        || Invalid::Malformed { what: WHAT, value: value.into(), reason: "expected STORE-NN, like PLAT-02" };
    let (store, number) = value.rsplit_once('-').ok_or_else(malformed)?;
    parse_location(store).map_err(|_| malformed())?;
    if number.len() != 2 || !number.bytes().all(|b| b.is_ascii_digit()) || number == "00" {
        return Err(malformed());
    }
    Ok(value.into())
}

string_id!(
    /// A place that holds stock or records sales: a store, the logistics centre,
    /// head office or the online fulfilment location. One to eight upper-case letters
    /// or digits, starting with a letter.
    LocationCode,
    parse_location
);

string_id!(
    /// A stock-keeping unit: the chain's own product code.
    Sku,
    parse_sku
);

string_id!(
    /// A register, named after its store: `PLAT-02` is register 2 of store `PLAT`.
    /// A register belongs to one store for life, so a record's origin names its store.
    RegisterId,
    parse_register
);

impl RegisterId {
    pub fn new(store: &LocationCode, number: u8) -> Result<Self, Invalid> {
        if !(1..=99).contains(&number) {
            return Err(out_of_range("register number", number, 1, 99));
        }
        Self::parse(&format!("{store}-{number:02}"))
    }

    /// The store this register belongs to.
    pub fn store(&self) -> LocationCode {
        let (store, _) = self.0.rsplit_once('-').unwrap_or_default();
        LocationCode(store.to_owned())
    }

    pub fn number(&self) -> u8 {
        self.0.rsplit_once('-').and_then(|(_, n)| n.parse().ok()).unwrap_or_default()
    }
}

/// What kind of place a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Store,
    Logistics,
    HeadOffice,
    Online,
}

/// A record's id: a UUIDv7 made on the register, so ids sort roughly by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Uuid", into = "Uuid")]
pub struct RecordId(Uuid);

impl RecordId {
    /// Accepts only version-7 UUIDs: anything else was not made by a register.
    pub fn from_uuid(uuid: Uuid) -> Result<Self, Invalid> {
        if uuid.get_version_num() != 7 {
            return Err(Invalid::Malformed {
                what: "record id",
                value: uuid.to_string(),
                reason: "a record id is a version 7 UUID",
            });
        }
        Ok(Self(uuid))
    }

    /// Builds the id from a millisecond timestamp and random bytes that the caller drew,
    /// so this crate stays free of clocks and randomness.
    pub fn from_parts(unix_ms: u64, random: [u8; 10]) -> Self {
        Self(uuid::Builder::from_unix_timestamp_millis(unix_ms, &random).into_uuid())
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let uuid = Uuid::parse_str(value.trim()).map_err(|_| Invalid::Malformed {
            what: "record id",
            value: value.into(),
            reason: "expected a UUID like 0192f0c1-7b7e-7cc2-9a1e-4f4cbbd1a2f3",
        })?;
        Self::from_uuid(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl TryFrom<Uuid> for RecordId {
    type Error = Invalid;
    fn try_from(value: Uuid) -> Result<Self, Invalid> {
        Self::from_uuid(value)
    }
}
impl From<RecordId> for Uuid {
    fn from(value: RecordId) -> Uuid {
        value.0
    }
}
impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl FromStr for RecordId {
    type Err = Invalid;
    fn from_str(value: &str) -> Result<Self, Invalid> {
        Self::parse(value)
    }
}

/// An online shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(pub Uuid);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An online order's number, as the shop shows it to its shopper: 1 and up, within what head
/// office stores. At a register it is typed as printed, `W-123` (or `W123`, `#123`, `123`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct OrderNumber(u64);

impl OrderNumber {
    /// The largest number head office stores (a signed 64-bit key).
    pub const MAX: u64 = i64::MAX.unsigned_abs();

    pub fn new(number: u64) -> Result<Self, Invalid> {
        if number == 0 || number > Self::MAX {
            return Err(out_of_range("order number", number, 1, Self::MAX));
        }
        Ok(Self(number))
    }

    /// Reads an order number as a cashier types it: `W-123`, `W123`, `#123` or `123`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let trimmed = text.trim();
        let digits = trimmed
            .strip_prefix("W-")
            .or_else(|| trimmed.strip_prefix("w-"))
            .or_else(|| trimmed.strip_prefix(['W', 'w', '#']))
            .unwrap_or(trimmed);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::Malformed {
                what: "order number",
                value: trimmed.into(),
                reason: "an online order's number, like W-123",
            });
        }
        let number =
            digits.parse::<u64>().map_err(|_| out_of_range("order number", u64::MAX, 1, Self::MAX))?;
        Self::new(number)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}
impl TryFrom<u64> for OrderNumber {
    type Error = Invalid;
    fn try_from(value: u64) -> Result<Self, Invalid> {
        Self::new(value)
    }
}
impl From<OrderNumber> for u64 {
    fn from(value: OrderNumber) -> u64 {
        value.0
    }
}
impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "W-{}", self.0)
    }
}

/// A cashier's employee number, 1 to 999 999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct CashierId(u32);

impl CashierId {
    pub const MAX: u32 = 999_999;

    pub fn new(number: u32) -> Result<Self, Invalid> {
        if number == 0 || number > Self::MAX {
            return Err(out_of_range("cashier number", number, 1, Self::MAX));
        }
        Ok(Self(number))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}
impl TryFrom<u32> for CashierId {
    type Error = Invalid;
    fn try_from(value: u32) -> Result<Self, Invalid> {
        Self::new(value)
    }
}
impl From<CashierId> for u32 {
    fn from(value: CashierId) -> u32 {
        value.0
    }
}
impl fmt::Display for CashierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_ids_name_their_store() {
        let id = RegisterId::parse("PLAT-02").unwrap();
        assert_eq!(id.store().as_str(), "PLAT");
        assert_eq!(id.number(), 2);
        assert_eq!(RegisterId::new(&LocationCode::parse("S1").unwrap(), 7).unwrap().as_str(), "S1-07");
        for bad in ["PLAT", "PLAT-2", "PLAT-00", "plat-02", "-02", "PLAT-0A", "PLAT--02"] {
            assert!(RegisterId::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn skus_and_locations_refuse_bad_characters() {
        assert!(Sku::parse("CAF-ESP-250").is_ok());
        for bad in ["", "caf", "CAF ESP", "-CAF", "CAF-", "É"] {
            assert!(Sku::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(LocationCode::parse("ANJOU").is_ok());
        for bad in ["", "1ABC", "TOOLONGCODE", "ab"] {
            assert!(LocationCode::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn order_numbers_read_as_cashiers_type_them() {
        for text in ["W-42", "w-42", "W42", "#42", " 42 "] {
            assert_eq!(OrderNumber::parse(text).unwrap().get(), 42, "{text:?}");
        }
        assert_eq!(OrderNumber::parse("W-42").unwrap().to_string(), "W-42");
        for bad in
            ["", "W-", "W-0", "0", "W-4a", "X-42", "-42", "99999999999999999999", "9223372036854775808"]
        {
            assert!(OrderNumber::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(serde_json::from_str::<OrderNumber>("0").is_err());
    }

    #[test]
    fn record_ids_must_be_version_seven() {
        let id = RecordId::from_parts(1_700_000_000_000, [7; 10]);
        assert_eq!(RecordId::parse(&id.to_string()).unwrap(), id);
        let v4 = "9b2f3a1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
        assert!(RecordId::parse(v4).is_err());
        let json = format!("\"{v4}\"");
        assert!(serde_json::from_str::<RecordId>(&json).is_err());
    }
}
