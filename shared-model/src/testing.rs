//! Proptest strategies that make valid records from several registers, for the merge-law
//! tests here and the server and register suites. Records are built from small plans
//! ([`Act`]) so that failing cases shrink to a few readable steps.

use chrono::NaiveDate;
use proptest::prelude::*;

use crate::barcode::Barcode;
use crate::catalogue::ProductInfo;
use crate::hlc::Hlc;
use crate::ids::{CashierId, LocationCode, RecordId, RegisterId, Sku};
use crate::money::{Money, Percent, Quantity};
use crate::record::{Record, RecordBody};
use crate::returns::{Refund, Return, ReturnLine, ReturnReason, SaleRef};
use crate::sale::{Discount, Sale, SaleLine};
use crate::stock::{
    AdjustmentReason, ItemQuantity, ReplenishmentRequest, StockAdjustment, StockCount, TransferReceipt,
};
use crate::tax::TaxClass;
use crate::tender::{ApprovalCode, Tender};
use crate::till::{TenderTotal, TillClose};

/// A small catalogue with every tax class.
pub fn catalogue() -> Vec<ProductInfo> {
    let item = |sku: &str, name: &str, body: &str, cents: i64, tax_class| ProductInfo {
        sku: Sku::parse(sku).expect("valid test SKU"),
        name: name.into(),
        category: "Test".into(),
        barcodes: vec![Barcode::with_check_digit(body).expect("valid test barcode")],
        price: Money::cents(cents),
        tax_class,
        reorder_threshold: 5,
        active: true,
    };
    vec![
        item("CAF-250", "Café espresso 250 g", "062000000011", 1_299, TaxClass::Standard),
        item("BAG-01", "Baguette", "062000000028", 349, TaxClass::ZeroRated),
        item("LIV-ROM", "Roman de poche", "978000000001", 1_495, TaxClass::GstOnly),
        item("SAV-LAV", "Savon à la lavande", "062000000035", 425, TaxClass::Standard),
        item("CSQ-BT", "Casque Bluetooth", "062000000042", 5_999, TaxClass::Standard),
        item("POM-1K", "Pommes 1 kg", "062000000059", 399, TaxClass::ZeroRated),
    ]
}

/// Register `number` of the test store `S{store}`.
pub fn register(store: u8, number: u8) -> RegisterId {
    let code = LocationCode::parse(&format!("S{store}")).expect("valid test store");
    RegisterId::new(&code, number).expect("valid test register")
}

/// The deterministic id of the `seq`th record of register `index`, so a plan can refer
/// to a record of another register before it exists.
pub fn record_id(index: usize, seq: u64) -> RecordId {
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&seq.to_be_bytes());
    random[8..].copy_from_slice(&u16::try_from(index).unwrap_or(u16::MAX).to_be_bytes());
    RecordId::from_parts(1_767_225_600_000 + seq * 1_000, random)
}

/// How a plan pays.
#[derive(Debug, Clone, Copy)]
pub enum Pay {
    /// Cash, offering the rounded amount plus `extra` cents.
    Cash {
        extra: u16,
    },
    Debit,
    Credit,
    /// Debit for `card_share` % of the total, the rest in cash.
    Split {
        card_share: u8,
    },
}

/// One thing a register does.
#[derive(Debug, Clone)]
pub enum Act {
    /// Lines of (product index, quantity, discount in basis points).
    Sale {
        lines: Vec<(usize, u32, Option<u32>)>,
        pay: Pay,
    },
    /// Return `quantity` of line `line` of the `seq`th record of register `register`
    /// (which may not be a sale, or not exist: then the return is unverified).
    Return {
        register: usize,
        seq: u64,
        line: u16,
        quantity: u32,
        restock: bool,
        cash: bool,
    },
    Count {
        product: usize,
        counted: i64,
        expected: i64,
    },
    Adjust {
        product: usize,
        delta: i64,
    },
    Transfer {
        product: usize,
        quantity: u32,
    },
    Replenish {
        product: usize,
        quantity: u32,
    },
    Close,
}

fn pay_strategy() -> impl Strategy<Value = Pay> {
    prop_oneof![
        (0u16..2_000).prop_map(|extra| Pay::Cash { extra }),
        Just(Pay::Debit),
        Just(Pay::Credit),
        (1u8..100).prop_map(|card_share| Pay::Split { card_share }),
    ]
}

/// A strategy for one act of a chain of `registers` registers whose sequences are at most `max_seq` long.
pub fn act_strategy(registers: usize, max_seq: u64) -> impl Strategy<Value = Act> {
    let products = catalogue().len();
    let line = (0..products, 1u32..6, prop::option::weighted(0.3, 1u32..=10_000));
    prop_oneof![
        5 => (prop::collection::vec(line, 1..4), pay_strategy()).prop_map(|(lines, pay)| Act::Sale { lines, pay }),
        2 => (0..registers, 1..=max_seq, 0u16..3, 1u32..4, any::<bool>(), any::<bool>())
            .prop_map(|(register, seq, line, quantity, restock, cash)| Act::Return { register, seq, line, quantity, restock, cash }),
        1 => (0..products, 0i64..50, 0i64..50).prop_map(|(product, counted, expected)| Act::Count { product, counted, expected }),
        1 => (0..products, -20i64..20).prop_filter("non-zero", |(_, d)| *d != 0).prop_map(|(product, delta)| Act::Adjust { product, delta }),
        1 => (0..products, 1u32..30).prop_map(|(product, quantity)| Act::Transfer { product, quantity }),
        1 => (0..products, 1u32..30).prop_map(|(product, quantity)| Act::Replenish { product, quantity }),
        1 => Just(Act::Close),
    ]
}

/// Plans for `registers` registers (spread over stores of two registers each),
/// each of up to `max_acts` acts.
pub fn plans_strategy(registers: usize, max_acts: usize) -> impl Strategy<Value = Vec<Vec<Act>>> {
    let acts = act_strategy(registers, max_acts as u64);
    prop::collection::vec(prop::collection::vec(acts, 0..=max_acts), registers)
}

/// The register that plays plan `index`: two registers per store.
pub fn register_of(index: usize) -> RegisterId {
    let index = u8::try_from(index).unwrap_or(u8::MAX);
    register(index / 2 + 1, index % 2 + 1)
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default()
}

fn cashier() -> CashierId {
    CashierId::new(1001).unwrap_or_else(|_| unreachable!())
}

fn sale_lines(lines: &[(usize, u32, Option<u32>)]) -> Vec<SaleLine> {
    let products = catalogue();
    lines
        .iter()
        .map(|&(product, quantity, discount)| {
            let p = &products[product % products.len()];
            SaleLine {
                sku: p.sku.clone(),
                description: p.name.clone(),
                barcode: p.barcodes.first().cloned(),
                unit_price: p.price,
                quantity: Quantity::new(quantity.clamp(1, Quantity::MAX)).unwrap_or(Quantity::ONE),
                tax_class: p.tax_class,
                discount: discount.and_then(|bp| Percent::from_basis_points(bp).ok()).map(Discount::Percent),
            }
        })
        .collect()
}

fn tenders_for(total: Money, pay: Pay) -> Vec<Tender> {
    let approval = || ApprovalCode::parse("TEST01").unwrap_or_else(|_| unreachable!());
    if total == Money::ZERO {
        return Vec::new();
    }
    match pay {
        Pay::Cash { extra } if total.round_cash() > Money::ZERO => {
            vec![Tender::Cash { amount: total.round_cash() + Money::cents(i64::from(extra)) }]
        }
        Pay::Cash { .. } | Pay::Debit => vec![Tender::Debit { amount: total }],
        Pay::Credit => vec![Tender::Credit { amount: total, approval: approval() }],
        Pay::Split { card_share } => {
            let card = total.mul_div(i64::from(card_share), 100);
            let balance = (total - card).round_cash();
            if card == Money::ZERO || balance == Money::ZERO || card == total {
                vec![Tender::Debit { amount: total }]
            } else {
                vec![Tender::Debit { amount: card }, Tender::Cash { amount: balance }]
            }
        }
    }
}

fn refund_tenders(total: Money, cash: bool) -> Vec<Tender> {
    if total == Money::ZERO {
        Vec::new()
    } else if cash && total.round_cash() > Money::ZERO {
        vec![Tender::Cash { amount: total.round_cash() }]
    } else {
        vec![Tender::Debit { amount: total }]
    }
}

fn body_of(plans: &[Vec<Act>], register: &RegisterId, act: &Act) -> RecordBody {
    let products = catalogue();
    let product = |i: usize| &products[i % products.len()];
    let items = |i: usize, quantity: u32| {
        vec![ItemQuantity {
            sku: product(i).sku.clone(),
            quantity: Quantity::new(quantity.clamp(1, Quantity::MAX)).unwrap_or(Quantity::ONE),
        }]
    };
    match act {
        Act::Sale { lines, pay } => {
            let lines = sale_lines(lines);
            let total = crate::sale::Quote::of(&lines).map(|q| q.total).unwrap_or_default();
            let sale = Sale::complete(day(), cashier(), lines, tenders_for(total, *pay), None)
                .unwrap_or_else(|e| panic!("test sale must complete: {e}"));
            RecordBody::Sale(sale)
        }
        Act::Return { register: r, seq, line, quantity, restock, cash } => {
            let original = plans
                .get(*r)
                .and_then(|p| p.get(usize::try_from(*seq).unwrap_or(usize::MAX).wrapping_sub(1)));
            let quantity = Quantity::new(*quantity).unwrap_or(Quantity::ONE);
            let (return_line, verified) = match original {
                Some(Act::Sale { lines, .. }) if usize::from(*line) < lines.len() => {
                    let sold = &sale_lines(lines)[usize::from(*line)];
                    let amounts = sold.amounts().unwrap_or_default();
                    // Plans do not track earlier returns: a share larger than the line is
                    // taken at the line's price instead, and the merge flags the over-return.
                    let refund = Refund::share_of(&amounts, sold.quantity, 0, quantity)
                        .unwrap_or_else(|_| Refund::at_price(sold.unit_price, quantity, sold.tax_class));
                    (
                        ReturnLine {
                            sku: sold.sku.clone(),
                            description: sold.description.clone(),
                            quantity,
                            tax_class: sold.tax_class,
                            original_line: Some(*line),
                            refund,
                            restock: *restock,
                        },
                        true,
                    )
                }
                _ => {
                    let p = product(0);
                    (
                        ReturnLine {
                            sku: p.sku.clone(),
                            description: p.name.clone(),
                            quantity,
                            tax_class: p.tax_class,
                            original_line: Some(*line),
                            refund: Refund::at_price(p.price, quantity, p.tax_class),
                            restock: *restock,
                        },
                        false,
                    )
                }
            };
            let total = return_line.refund.total();
            let original = SaleRef { sale: record_id(*r, *seq), store: register_of(*r).store() };
            let ret = Return::complete(
                day(),
                cashier(),
                Some(original),
                verified,
                vec![return_line],
                refund_tenders(total, *cash),
                ReturnReason::ChangedMind,
                None,
            )
            .unwrap_or_else(|e| panic!("test return must complete: {e}"));
            RecordBody::Return(ret)
        }
        Act::Count { product: p, counted, expected } => RecordBody::StockCount(StockCount {
            sku: product(*p).sku.clone(),
            counted: *counted,
            expected: *expected,
        }),
        Act::Adjust { product: p, delta } => RecordBody::StockAdjustment(StockAdjustment {
            sku: product(*p).sku.clone(),
            delta: *delta,
            reason: AdjustmentReason::Correction,
            note: None,
        }),
        Act::Transfer { product: p, quantity } => RecordBody::TransferReceived(TransferReceipt {
            transfer: uuid::Uuid::from_u128(u128::from(*quantity)),
            from: LocationCode::parse("LOG").unwrap_or_else(|_| unreachable!()),
            lines: items(*p, *quantity),
        }),
        Act::Replenish { product: p, quantity } => RecordBody::ReplenishmentRequested(ReplenishmentRequest {
            lines: items(*p, *quantity),
            note: None,
        }),
        Act::Close => {
            let _ = register;
            let tenders = vec![TenderTotal {
                kind: crate::tender::TenderKind::Cash,
                taken: Money::cents(10_000),
                refunded: Money::cents(500),
            }];
            let opening_float = Money::cents(20_000);
            RecordBody::TillClosed(TillClose {
                business_day: day(),
                cashier: cashier(),
                sales_count: 3,
                returns_count: 1,
                expected_cash: TillClose::expected_cash_of(opening_float, &tenders),
                tenders,
                opening_float,
                counted_cash: Some(Money::cents(29_495)),
            })
        }
    }
}

/// Builds the records the plans describe: register `i` plays `plans[i]`, seq 1, 2, 3…
/// Every record passes [`Record::check`].
pub fn build_records(plans: &[Vec<Act>]) -> Vec<Record> {
    let mut records = Vec::new();
    for (index, plan) in plans.iter().enumerate() {
        let origin = register_of(index);
        let mut hlc = Hlc::default();
        for (position, act) in plan.iter().enumerate() {
            let seq = position as u64 + 1;
            let id = record_id(index, seq);
            // Noon UTC of the business day the test records are filed under (2026-11-20).
            let wall = 1_795_176_000_000 + seq * 1_000;
            hlc = hlc.tick(wall);
            records.push(Record {
                id,
                origin: origin.clone(),
                seq,
                hlc,
                device_time_ms: wall,
                store: origin.store(),
                body: body_of(plans, &origin, act),
            });
        }
    }
    records
}
