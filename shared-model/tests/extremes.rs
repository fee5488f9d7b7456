//! Extreme numbers in every numeric field of every record kind: a check never panics or
//! overflows, and what it accepts is within the bounds that let head office add records up.

use proptest::prelude::*;
use shared_model::projection::movements;
use shared_model::sale::{Sale, SaleLine};
use shared_model::stock::MAX_STOCK;
use shared_model::testing::{Act, Pay, build_records};
use shared_model::{Money, Quantity, RecordBody, Sku, TaxClass, Tender};

/// Signed integers, biased to the values where bound checks go wrong.
fn extreme_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MIN + 1),
        Just(i64::MAX),
        Just(0),
        Just(1),
        Just(-1),
        Just(MAX_STOCK),
        Just(MAX_STOCK + 1),
        Just(-MAX_STOCK - 1),
        Just(Money::MAX),
        Just(Money::MAX + 1),
        Just(-Money::MAX - 1),
        any::<i64>(),
    ]
}

fn extreme_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(i64::MAX as u64),
        Just(i64::MAX as u64 + 1),
        any::<u64>(),
    ]
}

fn records() -> Vec<shared_model::Record> {
    build_records(&[vec![
        Act::Sale { lines: vec![(0, 2, None)], pay: Pay::Debit },
        Act::Count { product: 1, counted: 3, expected: 2 },
        Act::Adjust { product: 2, delta: 1 },
        Act::Close,
    ]])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn stock_figures_are_bounded_without_overflow(counted in extreme_i64(), expected in extreme_i64(), delta in extreme_i64()) {
        let mut all = records();
        for record in &mut all {
            match &mut record.body {
                RecordBody::StockCount(count) => {
                    count.counted = counted;
                    count.expected = expected;
                }
                RecordBody::StockAdjustment(adjustment) => adjustment.delta = delta,
                _ => {}
            }
            if record.check().is_ok() {
                for movement in movements(record) {
                    prop_assert!(movement.delta.abs() <= 2 * MAX_STOCK, "{movement:?}");
                }
            }
        }
    }

    #[test]
    fn stamps_and_seqs_head_office_cannot_store_are_refused(seq in extreme_u64(), wall in extreme_u64(), device in extreme_u64()) {
        let mut record = records().remove(3);
        record.seq = seq;
        record.hlc.wall_ms = wall;
        record.device_time_ms = device;
        let accepted = record.check().is_ok();
        prop_assert_eq!(accepted, seq >= 1 && [seq, wall, device].iter().all(|v| i64::try_from(*v).is_ok()));
        // The skew is computed without overflow whatever the stamps.
        let _ = record.skew_ms();
    }

    #[test]
    fn a_sale_carries_at_most_the_largest_amount(cents in 0..=Money::MAX, units in 1..=Quantity::MAX, lines in 1usize..=500) {
        let line = SaleLine {
            sku: Sku::parse("CAF-ESP-250").unwrap(),
            description: "Espresso".into(),
            barcode: None,
            unit_price: Money::from_cents(cents).unwrap(),
            quantity: Quantity::new(units).unwrap(),
            tax_class: TaxClass::Standard,
            discount: None,
        };
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let cashier = shared_model::CashierId::new(1001).unwrap();
        let quote = shared_model::sale::Quote::of(&vec![line.clone(); lines]).unwrap();
        let tenders = vec![Tender::Debit { amount: quote.total }];
        match Sale::complete(day, cashier, vec![line; lines], tenders, None) {
            Ok(sale) => prop_assert!(sale.totals.total.as_cents() <= Money::MAX),
            Err(e) => prop_assert!(quote.total.as_cents() > Money::MAX || quote.gross.as_cents() > Money::MAX, "{e}"),
        }
    }
}
