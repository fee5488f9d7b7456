//! What a scan means. A scanner sends text; this turns it into a product code, a SKU, or a
//! variable-measure item with its price or weight, verifying every check digit. A bad scan is
//! reported as a bad scan, never turned into another product.
//!
//! Scanners may prefix an AIM symbology identifier (`]E0` EAN-13/UPC-A, `]E4` EAN-8, `]E1`
//! UPC-E, `]C0`/`]C1` Code 128). Without one, eight digits are read as EAN-8 when their check
//! digit fits, else as UPC-E.

use shared_model::barcode::check_digit;
use shared_model::{Barcode, Invalid, Money, Sku};
use thiserror::Error;

/// A scan, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// A product barcode (UPC-A and UPC-E normalised to EAN-13).
    Product(Barcode),
    /// An internal SKU printed as Code 128.
    Sku(Sku),
    /// A variable-measure label: the item, and the price or weight printed in the code.
    Measured { item: String, measure: Measure, barcode: Barcode },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Price(Money),
    Grams(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScanError {
    #[error("empty scan")]
    Empty,
    #[error("bad scan {0:?}: {1}")]
    Bad(String, Invalid),
    #[error("bad scan {0:?}: not a barcode or SKU this till reads")]
    Unreadable(String),
}

/// What the store's scale labels carry in their GS1 variable-measure codes: prefixes 02 and
/// 20–29. In-store prefixes are set per retailer; the default reads 02 and 20–24 as a price in
/// cents and 25–29 as a weight in grams.
#[derive(Debug, Clone)]
pub struct VariableMeasure {
    pub weight_prefixes: Vec<u8>,
}

impl Default for VariableMeasure {
    fn default() -> Self {
        VariableMeasure { weight_prefixes: vec![25, 26, 27, 28, 29] }
    }
}

/// Expands a UPC-E code (8 digits: number system 0 or 1, six digits, check digit) to UPC-A.
pub fn expand_upc_e(code: &str) -> Result<String, Invalid> {
    let malformed = |reason| Invalid::Malformed { what: "UPC-E code", value: code.into(), reason };
    let d: Vec<u8> = code.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    if d.len() != 8 || d.iter().any(|x| *x > 9) {
        return Err(malformed("expected 8 digits"));
    }
    if d[0] > 1 {
        return Err(malformed("the number system of a UPC-E code is 0 or 1"));
    }
    let s = |range: std::ops::Range<usize>| d[range].iter().map(|x| char::from(b'0' + x)).collect::<String>();
    let (x, n, c) = (&d[1..7], d[0], d[7]);
    let body = match x[5] {
        0..=2 => format!("{n}{}{}0000{}", s(1..3), x[5], s(3..6)),
        3 => format!("{n}{}00000{}", s(1..4), s(4..6)),
        4 => format!("{n}{}00000{}", s(1..5), x[4]),
        _ => format!("{n}{}0000{}", s(1..6), x[5]),
    };
    Ok(format!("{body}{c}"))
}

/// Reads what a scanner sent (terminator already removed).
pub fn read(raw: &str, rules: &VariableMeasure) -> Result<Scan, ScanError> {
    let text = raw.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    let bad = |e: Invalid| ScanError::Bad(text.to_owned(), e);
    let (aim, data) = match text.strip_prefix(']') {
        Some(rest) if rest.len() >= 2 && rest.is_char_boundary(2) => (Some(&rest[..2]), &rest[2..]),
        _ => (None, text),
    };
    let digits = !data.is_empty() && data.bytes().all(|b| b.is_ascii_digit());
    match (aim, digits, data.len()) {
        (Some("E1"), true, 8) => product(&expand_upc_e(data).map_err(bad)?, rules).map_err(bad),
        (Some("E0" | "E4"), true, _) | (None, true, 12 | 13) => product(data, rules).map_err(bad),
        (None, true, 8) => match Barcode::parse(data) {
            Ok(code) => Ok(Scan::Product(code)),
            Err(ean8) => match expand_upc_e(data) {
                Ok(upc_a) if Barcode::parse(&upc_a).is_ok() => product(&upc_a, rules).map_err(bad),
                _ => Err(bad(ean8)),
            },
        },
        (Some("C0" | "C1") | None, _, _) if !digits => Sku::parse(data).map(Scan::Sku).map_err(bad),
        (Some("C0" | "C1"), true, _) => Sku::parse(data).map(Scan::Sku).map_err(bad),
        (None, true, _) => Err(bad(Barcode::parse(data).err().unwrap_or(Invalid::Empty { what: "barcode" }))),
        _ => Err(ScanError::Unreadable(text.to_owned())),
    }
}

fn product(digits: &str, rules: &VariableMeasure) -> Result<Scan, Invalid> {
    let barcode = Barcode::parse(digits)?;
    let code = barcode.as_str();
    if code.len() != 13 {
        return Ok(Scan::Product(barcode));
    }
    let prefix: u8 = code[..2].parse().unwrap_or(0);
    let measured = prefix == 2 || (20..=29).contains(&prefix);
    if !measured {
        return Ok(Scan::Product(barcode));
    }
    // 02 (UPC-A number system 2): 0 2 IIIII P VVVV C, a price check digit then four digits.
    // 20–29: 2X IIIII VVVVV C.
    let (item, value) = if prefix == 2 { (&code[2..7], &code[8..12]) } else { (&code[2..7], &code[7..12]) };
    let value: u32 = value.parse().unwrap_or(0);
    let item = format!("{}{item}", &code[..2]);
    let measure = if rules.weight_prefixes.contains(&prefix) {
        Measure::Grams(value)
    } else {
        Measure::Price(Money::cents(i64::from(value)))
    };
    Ok(Scan::Measured { item, measure, barcode })
}

/// Completes a body with its GS1 check digit: for tests and label printing.
pub fn with_check(body: &str) -> String {
    format!("{body}{}", check_digit(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> VariableMeasure {
        VariableMeasure::default()
    }

    #[test]
    fn upc_e_expands_by_its_last_digit() {
        // The published example 0 425261 4 ↔ 0 42100 00526 4, then one of each other rule.
        assert_eq!(expand_upc_e("04252614").unwrap(), "042100005264");
        assert_eq!(expand_upc_e("01234565").unwrap(), "012345000065");
        assert_eq!(expand_upc_e("01234533").unwrap(), "012300000453");
        assert_eq!(expand_upc_e("01234544").unwrap(), "012340000054");
        assert!(expand_upc_e("21234565").is_err());
    }

    #[test]
    fn reads_each_symbology() {
        assert_eq!(
            read("4006381333931\r", &rules()).unwrap(),
            Scan::Product(Barcode::parse("4006381333931").unwrap())
        );
        assert_eq!(
            read("036000291452", &rules()).unwrap(),
            Scan::Product(Barcode::parse("0036000291452").unwrap())
        );
        assert_eq!(read("96385074", &rules()).unwrap(), Scan::Product(Barcode::parse("96385074").unwrap()));
        assert_eq!(
            read("]E104252614", &rules()).unwrap(),
            Scan::Product(Barcode::parse("0042100005264").unwrap())
        );
        assert_eq!(
            read("04252614", &rules()).unwrap(),
            Scan::Product(Barcode::parse("0042100005264").unwrap())
        );
        assert_eq!(read("]C0CAF-ESP-250", &rules()).unwrap(), Scan::Sku(Sku::parse("CAF-ESP-250").unwrap()));
        assert_eq!(read("CAF-ESP-250", &rules()).unwrap(), Scan::Sku(Sku::parse("CAF-ESP-250").unwrap()));
    }

    #[test]
    fn reads_variable_measure_labels() {
        // 20 12345 00499 C: item 2012345 at 4.99.
        let code = with_check("201234500499");
        match read(&code, &rules()).unwrap() {
            Scan::Measured { item, measure, .. } => {
                assert_eq!(item, "2012345");
                assert_eq!(measure, Measure::Price(Money::cents(499)));
            }
            other => panic!("{other:?}"),
        }
        // 28 54321 01250 C: 1.250 kg.
        let code = with_check("285432101250");
        assert!(matches!(
            read(&code, &rules()).unwrap(),
            Scan::Measured { measure: Measure::Grams(1_250), .. }
        ));
        // UPC-A 2 12345 7 0499 C (EAN 02…): 4.99.
        let upc = with_check("21234570499");
        assert!(matches!(read(&upc, &rules()).unwrap(), Scan::Measured { .. }), "{upc}");
    }

    #[test]
    fn a_bad_scan_is_a_bad_scan() {
        assert!(matches!(read("4006381333932", &rules()), Err(ScanError::Bad(..))));
        assert!(matches!(read("96385075", &rules()), Err(ScanError::Bad(..))));
        assert!(matches!(read("12345", &rules()), Err(ScanError::Bad(..))));
        assert!(matches!(read("", &rules()), Err(ScanError::Empty)));
        assert!(matches!(read("caf esp", &rules()), Err(ScanError::Bad(..))));
    }
}
