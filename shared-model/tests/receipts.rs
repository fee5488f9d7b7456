//! Receipts worked out by hand, with the arithmetic in the comments. Taxes are per line,
//! rounded half away from zero (see `shared_model::tax`); cash is rounded to the nickel
//! on what the cards leave (see `shared_model::tender`).

use chrono::NaiveDate;
use shared_model::returns::{Refund, Return, ReturnLine, ReturnReason, SaleRef};
use shared_model::sale::{Discount, Sale, SaleLine, SaleTotals};
use shared_model::tender::{ApprovalCode, Tender};
use shared_model::testing::record_id;
use shared_model::{CashierId, LocationCode, Money, Percent, Quantity, Sku, TaxClass};

fn cents(value: &str) -> Money {
    Money::parse(value).unwrap()
}

fn line(sku: &str, price: &str, quantity: u32, class: TaxClass, discount: Option<Discount>) -> SaleLine {
    SaleLine {
        sku: Sku::parse(sku).unwrap(),
        description: sku.to_lowercase(),
        barcode: None,
        unit_price: cents(price),
        quantity: Quantity::new(quantity).unwrap(),
        tax_class: class,
        discount,
    }
}

fn cash(amount: &str) -> Tender {
    Tender::Cash { amount: cents(amount) }
}
fn debit(amount: &str) -> Tender {
    Tender::Debit { amount: cents(amount) }
}
fn credit(amount: &str) -> Tender {
    Tender::Credit { amount: cents(amount), approval: ApprovalCode::parse("A1B2C3").unwrap() }
}

fn ring(lines: Vec<SaleLine>, tenders: Vec<Tender>) -> Sale {
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let sale = Sale::complete(day, CashierId::new(1001).unwrap(), lines, tenders, None).unwrap();
    sale.check().unwrap();
    sale
}

/// gross, discounts, net, gst, qst, total, rounding, change
fn totals(figures: [&str; 8]) -> SaleTotals {
    let [gross, discounts, net, gst, qst, total, rounding, change] = figures.map(cents);
    SaleTotals { gross, discounts, net, gst, qst, total, rounding, change }
}

const STD: TaxClass = TaxClass::Standard;
const ZERO: TaxClass = TaxClass::ZeroRated;
const BOOK: TaxClass = TaxClass::GstOnly;

#[test]
fn receipt_01_one_item_cash_rounded_up() {
    // 12.99: GST 0.6495 → 0.65, QST 1.2957525 → 1.30; total 14.94 → cash 14.95 (+0.01); 20.00 − 14.95 = 5.05.
    let sale = ring(vec![line("CAF-250", "12.99", 1, STD, None)], vec![cash("20.00")]);
    assert_eq!(sale.totals, totals(["12.99", "0", "12.99", "0.65", "1.30", "14.94", "0.01", "5.05"]));
}

#[test]
fn receipt_02_zero_rated_and_standard_on_debit() {
    // 2 × 3.49 = 6.98 untaxed; 4.25: GST 0.2125 → 0.21, QST 0.4239375 → 0.42; total 11.86, exact on debit.
    let sale = ring(
        vec![line("BAG-01", "3.49", 2, ZERO, None), line("SAV-LAV", "4.25", 1, STD, None)],
        vec![debit("11.86")],
    );
    assert_eq!(sale.totals, totals(["11.23", "0", "11.23", "0.21", "0.42", "11.86", "0", "0"]));
}

#[test]
fn receipt_03_three_units_cash_rounded_down() {
    // 3 × 4.99 = 14.97: GST 0.7485 → 0.75, QST 1.4932575 → 1.49; total 17.21 → cash 17.20 (−0.01); change 2.80.
    let sale = ring(vec![line("STY-01", "4.99", 3, STD, None)], vec![cash("20.00")]);
    assert_eq!(sale.totals, totals(["14.97", "0", "14.97", "0.75", "1.49", "17.21", "-0.01", "2.80"]));
}

#[test]
fn receipt_04_book_and_percent_discount_on_credit() {
    // Book 24.95 (GST only): GST 1.2475 → 1.25. T-shirt 19.99 − 25 % (4.9975 → 5.00) = 14.99:
    // GST 0.7495 → 0.75, QST 1.4952525 → 1.50. Total 26.20 + 17.24 = 43.44 on credit.
    let quarter = Some(Discount::Percent(Percent::from_basis_points(2_500).unwrap()));
    let sale = ring(
        vec![line("LIV-ROM", "24.95", 1, BOOK, None), line("TSH-M", "19.99", 1, STD, quarter)],
        vec![credit("43.44")],
    );
    assert_eq!(sale.totals, totals(["44.94", "5.00", "39.94", "2.00", "1.50", "43.44", "0", "0"]));
}

#[test]
fn receipt_05_amount_discount_split_debit_and_cash() {
    // 59.99 − 10.00 = 49.99: GST 2.4995 → 2.50, QST 4.9865025 → 4.99; total 57.48.
    // Debit 40.00 leaves 17.48 → cash 17.50 (+0.02); 20.00 − 17.50 = 2.50 change.
    let ten_off = Some(Discount::Amount(cents("10.00")));
    let sale = ring(vec![line("CSQ-BT", "59.99", 1, STD, ten_off)], vec![debit("40.00"), cash("20.00")]);
    assert_eq!(sale.totals, totals(["59.99", "10.00", "49.99", "2.50", "4.99", "57.48", "0.02", "2.50"]));
    assert_eq!(sale.totals.paid(), cents("57.50"));
}

#[test]
fn receipt_06_groceries_only_cash() {
    // 2 × 4.67 + 3.99 = 13.33, untaxed → cash 13.35 (+0.02); 15.00 − 13.35 = 1.65.
    let sale = ring(
        vec![line("LAI-2L", "4.67", 2, ZERO, None), line("POM-1K", "3.99", 1, ZERO, None)],
        vec![cash("15.00")],
    );
    assert_eq!(sale.totals, totals(["13.33", "0", "13.33", "0", "0", "13.33", "0.02", "1.65"]));
}

#[test]
fn receipt_07_half_cent_discount_rounds_away_from_zero() {
    // 4 × 1.79 = 7.16; 12.5 % = 0.895 → 0.90; net 6.26: GST 0.313 → 0.31, QST 0.624435 → 0.62;
    // total 7.19 → cash 7.20 (+0.01); change 2.80.
    let eighth = Some(Discount::Percent(Percent::from_basis_points(1_250).unwrap()));
    let sale = ring(vec![line("STYLO", "1.79", 4, STD, eighth)], vec![cash("10.00")]);
    assert_eq!(sale.totals, totals(["7.16", "0.90", "6.26", "0.31", "0.62", "7.19", "0.01", "2.80"]));
}

#[test]
fn receipt_08_cash_rounded_down_by_two_cents() {
    // Soap 4.25 → 4.88 with taxes; baguette 3.49; total 8.37 → cash 8.35 (−0.02); change 1.65.
    let sale = ring(
        vec![line("SAV-LAV", "4.25", 1, STD, None), line("BAG-01", "3.49", 1, ZERO, None)],
        vec![cash("10.00")],
    );
    assert_eq!(sale.totals, totals(["7.74", "0", "7.74", "0.21", "0.42", "8.37", "-0.02", "1.65"]));
}

#[test]
fn receipt_09_debit_and_credit_split_is_never_rounded() {
    // 59.99: GST 2.9995 → 3.00, QST 5.9840025 → 5.98; total 68.97 = 50.00 debit + 18.97 credit.
    let sale = ring(vec![line("CSQ-BT", "59.99", 1, STD, None)], vec![debit("50.00"), credit("18.97")]);
    assert_eq!(sale.totals, totals(["59.99", "0", "59.99", "3.00", "5.98", "68.97", "0", "0"]));
}

#[test]
fn receipt_10_three_tax_classes_with_a_gst_tie() {
    // Book 12.30: GST 0.615 → 0.62 (a tie, away from zero). Apples 3.99 untaxed. Coffee 12.99:
    // 0.65 and 1.30. Total 12.92 + 3.99 + 14.94 = 31.85, already a nickel; change 8.15.
    let sale = ring(
        vec![
            line("LIV-BD", "12.30", 1, BOOK, None),
            line("POM-1K", "3.99", 1, ZERO, None),
            line("CAF-250", "12.99", 1, STD, None),
        ],
        vec![cash("40.00")],
    );
    assert_eq!(sale.totals, totals(["29.28", "0", "29.28", "1.27", "1.30", "31.85", "0", "8.15"]));
}

#[test]
fn receipt_11_three_returns_of_one_unit_refund_the_line_exactly() {
    // Receipt 3's line: net 14.97, GST 0.75, QST 1.49 for 3 units. Cumulative shares:
    // 1 unit: 4.99, 0.25, round(0.4967) = 0.50 → 5.74, cash 5.75 (+0.01).
    // 2 units: 9.98, 0.50, round(0.9933) = 0.99 → second refund 4.99, 0.25, 0.49 = 5.73, cash 5.75 (+0.02).
    // 3 units: 14.97, 0.75, 1.49 → third refund 4.99, 0.25, 0.50 = 5.74.
    let sold = line("STY-01", "4.99", 3, STD, None);
    let amounts = sold.amounts().unwrap();
    let original = SaleRef { sale: record_id(0, 1), store: LocationCode::parse("S1").unwrap() };
    let expected = [
        ("4.99", "0.25", "0.50", "0.01"),
        ("4.99", "0.25", "0.49", "0.02"),
        ("4.99", "0.25", "0.50", "0.01"),
    ];
    let mut total = Refund::default();
    for (before, (net, gst, qst, rounding)) in expected.into_iter().enumerate() {
        let refund = Refund::share_of(&amounts, sold.quantity, before as u32, Quantity::ONE).unwrap();
        assert_eq!(refund, Refund { net: cents(net), gst: cents(gst), qst: cents(qst) });
        let rl = ReturnLine {
            sku: sold.sku.clone(),
            description: sold.description.clone(),
            quantity: Quantity::ONE,
            tax_class: STD,
            original_line: Some(0),
            refund,
            restock: true,
        };
        let ret = Return::complete(
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            CashierId::new(1001).unwrap(),
            Some(original.clone()),
            true,
            vec![rl],
            vec![cash(&refund.total().round_cash().to_string())],
            ReturnReason::ChangedMind,
            None,
        )
        .unwrap();
        assert_eq!(ret.totals.rounding, cents(rounding));
        ret.check().unwrap();
        total =
            Refund { net: total.net + refund.net, gst: total.gst + refund.gst, qst: total.qst + refund.qst };
    }
    assert_eq!(total, Refund { net: amounts.net, gst: amounts.taxes.gst, qst: amounts.taxes.qst });
}

#[test]
fn a_tampered_total_is_caught() {
    let mut sale = ring(vec![line("CAF-250", "12.99", 1, STD, None)], vec![cash("20.00")]);
    sale.totals.gst = cents("0.64");
    let err = sale.check().unwrap_err().to_string();
    assert_eq!(err, "the recorded gst is 0.64, but the lines and tenders make 0.65");
}

#[test]
fn payment_errors_say_what_is_owed() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let err = Sale::complete(
        day,
        CashierId::new(1).unwrap(),
        vec![line("CAF-250", "12.99", 1, STD, None)],
        vec![cash("10.00")],
        None,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "10.00 offered, 14.95 still owed");
    let too_much_off = Some(Discount::Amount(cents("13.00")));
    assert!(
        Sale::complete(
            day,
            CashierId::new(1).unwrap(),
            vec![line("CAF-250", "12.99", 1, STD, too_much_off)],
            vec![],
            None
        )
        .is_err()
    );
}
