//! Untrusted bytes into every parser: an error that names the fault, never a panic, and
//! never a barcode with a wrong check digit.

use proptest::prelude::*;
use shared_model::barcode::check_digit;
use shared_model::protocol::{Message, PullRequest, PullResponse, PushBatch, PushResponse};
use shared_model::testing::{build_records, plans_strategy};
use shared_model::{
    Barcode, CashierId, LocationCode, Money, Percent, Quantity, Record, RecordId, RegisterId, Sku, WireError,
};

fn digits(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, len).prop_map(|d| d.into_iter().map(|x| char::from(b'0' + x)).collect())
}

/// An independent check of the GS1 rule: the weighted sum of all digits, check digit included,
/// is a multiple of ten (weights 1 and 3 alternating from the left for 13 digits).
fn gs1_valid(code: &str) -> bool {
    let d: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    let offset = if d.len().is_multiple_of(2) { 1 } else { 0 };
    d.iter().enumerate().map(|(i, x)| if (i + offset) % 2 == 0 { *x } else { x * 3 }).sum::<u32>() % 10 == 0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn text_parsers_never_panic(text in "\\PC{0,40}") {
        let _ = Barcode::parse(&text);
        let _ = Money::parse(&text);
        let _ = Quantity::from_str_checked(&text);
        let _ = Percent::parse(&text);
        let _ = Sku::parse(&text);
        let _ = LocationCode::parse(&text);
        let _ = RegisterId::parse(&text);
        let _ = RecordId::parse(&text);
    }

    #[test]
    fn barcodes_only_parse_with_a_valid_check_digit(text in "[0-9 ]{0,15}") {
        if let Ok(code) = Barcode::parse(&text) {
            prop_assert!(gs1_valid(code.as_str()), "{code} accepted with a bad check digit");
        }
    }

    #[test]
    fn every_single_digit_error_is_caught(body in digits(12..=12), position in 0usize..13, replacement in 0u8..10) {
        let code = format!("{body}{}", check_digit(&body));
        prop_assert!(Barcode::parse(&code).is_ok());
        let mut bytes = code.into_bytes();
        let original = bytes[position];
        bytes[position] = b'0' + replacement;
        let mistyped = String::from_utf8(bytes).unwrap();
        prop_assert_eq!(Barcode::parse(&mistyped).is_ok(), original == b'0' + replacement);
    }

    #[test]
    fn upc_a_becomes_the_same_ean_13(body in digits(11..=11)) {
        let upc = format!("{body}{}", check_digit(&body));
        let ean = Barcode::parse(&format!("0{upc}")).unwrap();
        prop_assert_eq!(Barcode::parse(&upc).unwrap(), ean);
    }

    #[test]
    fn money_text_round_trips(cents in -Money::MAX..=Money::MAX) {
        let money = Money::from_cents(cents).unwrap();
        prop_assert_eq!(Money::parse(&money.to_string()).unwrap(), money);
    }

    #[test]
    fn wire_decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Record::decode(&bytes);
        let _ = PushBatch::decode(&bytes);
        let _ = PushResponse::decode(&bytes);
        let _ = PullRequest::decode(&bytes);
        let _ = PullResponse::decode(&bytes);
        let _ = serde_json::from_slice::<CashierId>(&bytes);
    }

    /// Damaged records: a real record's text with one byte changed never panics the decoder,
    /// and what still decodes is a record that still passes or fails its checks cleanly.
    #[test]
    fn mutated_records_never_panic(plans in plans_strategy(2, 3), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        for record in build_records(&plans) {
            let mut text = record.encode().into_bytes();
            let i = at.index(text.len());
            text[i] = byte;
            if let Ok(decoded) = Record::decode(&text) {
                let _ = decoded.check();
            }
        }
    }
}

trait FromStrChecked: Sized {
    fn from_str_checked(text: &str) -> Result<Self, shared_model::Invalid>;
}
impl FromStrChecked for Quantity {
    fn from_str_checked(text: &str) -> Result<Self, shared_model::Invalid> {
        text.parse()
    }
}

#[test]
fn errors_name_what_is_wrong() {
    assert_eq!(
        Barcode::parse("4006381333932").unwrap_err().to_string(),
        "barcode \"4006381333932\" has check digit 2, expected 1"
    );
    assert_eq!(Quantity::new(0).unwrap_err().to_string(), "quantity 0 is out of range (1 to 9999)");
    assert_eq!(
        Money::parse("1.234").unwrap_err().to_string(),
        "amount \"1.234\" is not well formed: at most two decimals: amounts are in cents"
    );
    let err = PushBatch::decode(b"{\"format\":1,\"push\":{\"records\":7}}").unwrap_err();
    assert!(matches!(&err, WireError::Malformed { at, .. } if at == "push.records"), "{err}");
}
