//! The versioned wire format: records and messages survive a round trip, a future format
//! is refused by name, and a malformed record names the field at fault.

use proptest::prelude::*;
use serde_json::json;
use shared_model::protocol::{
    Change, Cursor, Message, Outcome, PullRequest, PullResponse, PushBatch, PushResponse, StockLevel, Verdict,
};
use shared_model::testing::{Act, Pay, build_records, plans_strategy};
use shared_model::{LocationCode, Record, Sku, WireError};

fn a_sale() -> Record {
    build_records(&[vec![Act::Sale {
        lines: vec![(0, 2, None), (1, 1, Some(1_000))],
        pay: Pay::Cash { extra: 100 },
    }]])
    .remove(0)
}

proptest! {
    #[test]
    fn records_round_trip(plans in plans_strategy(3, 6)) {
        for record in build_records(&plans) {
            prop_assert_eq!(Record::decode(record.encode().as_bytes()).unwrap(), record);
        }
    }
}

#[test]
fn a_future_format_is_refused_by_name() {
    let mut value: serde_json::Value = serde_json::from_str(&a_sale().encode()).unwrap();
    value["format"] = json!(2);
    let err = Record::decode(value.to_string().as_bytes()).unwrap_err();
    assert_eq!(err, WireError::UnsupportedFormat { found: 2, supported: 1 });
    assert_eq!(err.to_string(), "format 2 is not supported (this build reads format 1); update this program");
    value.as_object_mut().unwrap().remove("format");
    assert_eq!(Record::decode(value.to_string().as_bytes()).unwrap_err(), WireError::MissingFormat);
}

#[test]
fn a_malformed_record_names_the_field() {
    let mut value: serde_json::Value = serde_json::from_str(&a_sale().encode()).unwrap();
    value["record"]["body"]["sale"]["lines"][1]["quantity"] = json!(0);
    let err = Record::decode(value.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.field(), Some("record.body.sale.lines[1].quantity"), "{err}");
    assert!(err.to_string().contains("quantity 0 is out of range"), "{err}");

    let mut value: serde_json::Value = serde_json::from_str(&a_sale().encode()).unwrap();
    value["record"]["body"]["sale"]["lines"][0]["barcode"] = json!("0620000000110");
    let err = Record::decode(value.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.field(), Some("record.body.sale.lines[0].barcode"), "{err}");

    let mut value: serde_json::Value = serde_json::from_str(&a_sale().encode()).unwrap();
    value["record"]["surprise"] = json!(true);
    let err = Record::decode(value.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("unknown field `surprise`"), "{err}");
}

#[test]
fn a_record_for_another_store_fails_its_check() {
    let mut record = a_sale();
    record.store = LocationCode::parse("S9").unwrap();
    assert_eq!(
        record.check().unwrap_err().to_string(),
        "register S1-01 belongs to store S1, but the record is for store S9"
    );
}

#[test]
fn protocol_messages_round_trip() {
    let record = a_sale();
    let batch =
        PushBatch { records: vec![serde_json::value::RawValue::from_string(record.encode()).unwrap()] };
    let decoded = PushBatch::decode(batch.encode().as_bytes()).unwrap();
    assert_eq!(Record::decode(decoded.records[0].get().as_bytes()).unwrap(), record);

    let response = PushResponse {
        verdicts: vec![
            Verdict { index: 0, id: Some(record.id), seq: Some(1), outcome: Outcome::Accepted },
            Verdict { index: 1, id: Some(record.id), seq: Some(1), outcome: Outcome::Duplicate },
        ],
        holds: 1,
        server_time_ms: 5,
    };
    assert_eq!(PushResponse::decode(response.encode().as_bytes()).unwrap(), response);

    let pull = PullRequest { cursor: Cursor(42), limit: 100 };
    assert_eq!(PullRequest::decode(pull.encode().as_bytes()).unwrap(), pull);
    let answer = PullResponse {
        changes: vec![Change::StockLevel(StockLevel {
            location: LocationCode::parse("S1").unwrap(),
            sku: Sku::parse("CAF-250").unwrap(),
            quantity: -2,
            as_of_ms: 9,
        })],
        next: Cursor(43),
        more: false,
        server_time_ms: 10,
    };
    assert_eq!(PullResponse::decode(answer.encode().as_bytes()).unwrap(), answer);
    assert!(matches!(
        PullRequest::decode(b"{\"format\":9,\"pull\":{}}"),
        Err(WireError::UnsupportedFormat { found: 9, .. })
    ));
}

#[test]
fn refusals_enrolments_and_sales_for_return_read_back_as_sent() {
    use shared_model::protocol::{Enrolment, PushRefused, Refusal, RefusalCode, SaleForReturn};

    let record = a_sale();
    let refused = PushRefused {
        refused: vec![Refusal {
            index: 2,
            code: RefusalCode::SeqTaken,
            id: Some(record.id),
            seq: Some(7),
            field: "records[2].record.id".into(),
            reason: "seq 7 is already held".into(),
        }],
        holds: 6,
    };
    let json = serde_json::to_value(&refused).unwrap();
    assert_eq!(json["refused"][0]["code"], "seq_taken");
    assert_eq!(serde_json::from_value::<PushRefused>(json).unwrap(), refused);
    for (code, word) in [(RefusalCode::Invalid, "invalid"), (RefusalCode::IdTaken, "id_taken")] {
        assert_eq!(serde_json::to_value(code).unwrap(), word);
    }

    let enrolment = Enrolment {
        register: record.origin.clone(),
        store: record.store.clone(),
        secret: "s3cret".into(),
        holds: 12,
    };
    let json = serde_json::to_string(&enrolment).unwrap();
    assert_eq!(serde_json::from_str::<Enrolment>(&json).unwrap(), enrolment);

    let sale = SaleForReturn { record: record.clone(), returned: [(0u16, 2u32)].into_iter().collect() };
    let json = serde_json::to_value(&sale).unwrap();
    assert_eq!(json["record"]["format"], 1, "the record travels in its own wire form: {json}");
    assert_eq!(json["returned"]["0"], 2);
    assert_eq!(serde_json::from_value::<SaleForReturn>(json).unwrap(), sale);
}
