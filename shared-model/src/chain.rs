//! The chain itself, as its receipts must name it: its legal name and its sales-tax
//! registration numbers. Québec requires a receipt over $30 (and any a customer asks for) to
//! show the supplier's GST and QST registration numbers for the customer to claim input tax
//! credits; head office sets them once and every register prints them.
//!
//! Both numbers are read as a person types them (extra spaces, lower case) and kept in the
//! form the tax authorities print: `123456789 RT 0001` and `1234567890 TQ 0001`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Invalid;
use crate::ids::string_id;

/// Longest legal name: what fits on two lines of an 80 mm receipt, and more than any
/// registered name in Québec's enterprise register needs.
pub const MAX_LEGAL_NAME: usize = 100;

/// `digits` digits, then `letters`, then four digits, once blanks are dropped and letters put
/// in upper case; answers the two runs of digits.
fn registration(
    what: &'static str,
    value: &str,
    digits: usize,
    letters: &str,
    example: &'static str,
) -> Result<(String, String), Invalid> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    let malformed = || Invalid::Malformed { what, value: value.trim().into(), reason: example };
    if compact.is_empty() {
        return Err(Invalid::Empty { what });
    }
    let (number, rest) = compact.split_at_checked(digits).ok_or_else(malformed)?;
    let program = rest.strip_prefix(letters).ok_or_else(malformed)?;
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(number) || program.len() != 4 || !all_digits(program) {
        return Err(malformed());
    }
    Ok((number.to_owned(), program.to_owned()))
}

/// `123456789 RT 0001` from what a person typed.
fn parse_gst(value: &str) -> Result<String, Invalid> {
    let (number, program) = registration(
        "GST number",
        value,
        9,
        "RT",
        "expected 9 digits, RT and 4 digits, like 123456789 RT 0001",
    )?;
    Ok(format!("{number} RT {program}"))
}

/// `1234567890 TQ 0001` from what a person typed.
fn parse_qst(value: &str) -> Result<String, Invalid> {
    let (number, program) = registration(
        "QST number",
        value,
        10,
        "TQ",
        "expected 10 digits, TQ and 4 digits, like 1234567890 TQ 0001",
    )?;
    Ok(format!("{number} TQ {program}"))
}

/// A legal name kept without the blanks around it.
fn parse_legal_name(value: &str) -> Result<String, Invalid> {
    let trimmed = value.trim();
    crate::text::check_required("legal name", trimmed, MAX_LEGAL_NAME)?;
    Ok(trimmed.to_owned())
}

string_id!(
    /// A GST/HST registration number: the nine-digit business number, the `RT` program and a
    /// four-digit reference, `123456789 RT 0001`.
    GstNumber,
    parse_gst
);

string_id!(
    /// A QST registration number: ten digits, `TQ` and a four-digit file number,
    /// `1234567890 TQ 0001`.
    QstNumber,
    parse_qst
);

string_id!(
    /// The chain's registered name: 1 to [`MAX_LEGAL_NAME`] characters, no control character,
    /// kept without the blanks around it.
    LegalName,
    parse_legal_name
);

/// What head office publishes of the chain for its receipts. A field not set yet (or cleared:
/// a chain under the small-supplier threshold has no QST number) is `None`, and receipts leave
/// its line out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainInfo {
    pub legal_name: Option<LegalName>,
    pub gst_number: Option<GstNumber>,
    pub qst_number: Option<QstNumber>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gst_numbers_are_read_as_typed_and_kept_as_printed() {
        for typed in ["123456789 RT 0001", "123456789RT0001", " 123 456 789 rt 0001 ", "123456789\trt0001"] {
            assert_eq!(GstNumber::parse(typed).unwrap().as_str(), "123456789 RT 0001", "{typed:?}");
        }
        for bad in [
            "",
            "   ",
            "12345678 RT 0001",
            "1234567890 RT 0001",
            "123456789 TQ 0001",
            "123456789 RT 001",
            "123456789 RT 00011",
            "123456789 RT",
            "12345678A RT 0001",
            "123456789 RT 00A1",
            "١٢٣٤٥٦٧٨٩ RT 0001",
            "123456789-RT-0001",
        ] {
            assert!(GstNumber::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(GstNumber::parse("").unwrap_err(), Invalid::Empty { what: "GST number" });
        let message = GstNumber::parse("12345 RT 1").unwrap_err().to_string();
        assert!(message.contains("GST number") && message.contains("123456789 RT 0001"), "{message}");
    }

    #[test]
    fn qst_numbers_are_read_as_typed_and_kept_as_printed() {
        for typed in ["1234567890 TQ 0001", "1234567890tq0001", "1234567890 Tq 0001  "] {
            assert_eq!(QstNumber::parse(typed).unwrap().as_str(), "1234567890 TQ 0001", "{typed:?}");
        }
        for bad in ["", "123456789 TQ 0001", "1234567890 RT 0001", "1234567890 TQ 01", "1234567890TQ"] {
            assert!(QstNumber::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(QstNumber::parse("1").unwrap_err().to_string().contains("QST number"));
    }

    #[test]
    fn their_serde_form_goes_through_the_parser() {
        let gst: GstNumber = serde_json::from_str("\"123456789rt0001\"").unwrap();
        assert_eq!(serde_json::to_string(&gst).unwrap(), "\"123456789 RT 0001\"");
        assert!(serde_json::from_str::<GstNumber>("\"123\"").is_err());
        assert!(serde_json::from_str::<QstNumber>("\"123456789 RT 0001\"").is_err());
        let info: ChainInfo = serde_json::from_str(
            r#"{"legal_name":" Caisse Inc. ","gst_number":"123456789 RT 0001","qst_number":null}"#,
        )
        .unwrap();
        assert_eq!(info.legal_name.unwrap().as_str(), "Caisse Inc.");
        assert!(info.qst_number.is_none());
    }

    #[test]
    fn a_legal_name_is_bounded_text() {
        assert_eq!(
            "  Épiceries Caisse inc.  ".parse::<LegalName>().unwrap().as_str(),
            "Épiceries Caisse inc."
        );
        assert!(LegalName::parse("  ").is_err());
        assert!(LegalName::parse("a\u{1b}p").is_err());
        assert!(LegalName::parse(&"x".repeat(MAX_LEGAL_NAME)).is_ok());
        assert!(LegalName::parse(&"x".repeat(MAX_LEGAL_NAME + 1)).is_err());
    }
}
