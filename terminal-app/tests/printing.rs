//! The printer is unreachable during a sale: the sale is committed once, its receipt waits,
//! and a reprint produces it. The drawer opens for cash only.

mod common;

use common::Server;
use hardware::printer::{DrawerPin, Language, MemoryLink, ReceiptContext, TcpLink};
use shared_model::{Money, Tender};
use terminal_app::{Register, RegisterError};

fn context() -> ReceiptContext {
    ReceiptContext {
        store_name: "Caisse Westmount".into(),
        store_address: "4800, rue Sherbrooke Ouest".into(),
        gst_number: "123456789RT0001".into(),
        qst_number: "1234567890TQ0001".into(),
        cashier: "Alice".into(),
        printed_at: "2026-11-22 15:00".into(),
        return_policy: "Retours sous 30 jours avec reçu.".into(),
        language: Language::Fr,
        columns: 42,
        drawer: DrawerPin::Two,
    }
}

#[test]
fn an_unreachable_printer_never_loses_a_sale() {
    let (mut server, cashiers) = Server::start();
    let (cashier, _, _, pin) = cashiers.iter().find(|c| c.2 == "WMT").unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let mut till = Register::open(dir.path().join("till.db")).unwrap();
    till.enrol(&server.url(), &server.code_for("WMT-01")).unwrap();
    till.sync_once().unwrap();
    till.sign_in(cashier, &pin).unwrap();

    // Nobody listens at the printer's address.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut printer = TcpLink { address: dead, timeout: std::time::Duration::from_secs(1) };
    till.add_item("TUQ-LAI", 1).unwrap();
    let (sale, printed) = till
        .complete_and_print(
            vec![Tender::Cash { amount: Money::parse("40.00").unwrap() }],
            &context(),
            &mut printer,
        )
        .unwrap();
    assert!(matches!(printed, Err(RegisterError::NotPrinted(_))), "{printed:?}");
    assert_eq!(till.journal().unwrap().len(), 1, "the sale is committed once");
    assert!(till.cart().unwrap().lines.is_empty());
    assert_eq!(till.unprinted().unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![sale.record.id]);

    // The printer is back: the reprint produces the receipt, with the drawer pulse for cash.
    let mut working = MemoryLink::default();
    till.print(&sale.record.id, &context(), &mut working).unwrap();
    assert!(till.unprinted().unwrap().is_empty());
    let printed = working.printed.lock().unwrap()[0].clone();
    assert!(printed.ends_with(&hardware::printer::drawer_kick(DrawerPin::Two)));
    assert!(terminal_app::print::opens_drawer(&sale.record));

    // A card sale prints without opening the drawer.
    till.add_item("BAU-LEV", 1).unwrap();
    let total = till.cart().unwrap().quote.total;
    let (card, printed) =
        till.complete_and_print(vec![Tender::Debit { amount: total }], &context(), &mut working).unwrap();
    printed.unwrap();
    assert!(!terminal_app::print::opens_drawer(&card.record));
    let bytes = working.printed.lock().unwrap()[1].clone();
    assert!(!bytes.windows(2).any(|w| w == [0x1B, b'p']), "no drawer pulse for a card sale");

    // Scans as a scanner sends them: a barcode, a SKU in Code 128, a weight label, a misread.
    let mut apples = server
        .runtime
        .block_on(sync_server::catalogue::product(&server.db, &"POM-1K".parse().unwrap()))
        .unwrap();
    apples.sku = "PLU-2812345".parse().unwrap();
    apples.barcodes.clear();
    apples.price = Money::parse("4.40").unwrap(); // per kilogram
    server.runtime.block_on(sync_server::catalogue::save_product(&server.db, &apples, true)).unwrap();
    till.sync_once().unwrap();
    let espresso = till.product("CAF-ESP-250").unwrap();
    till.add_scan(&format!("{}\r", espresso.barcodes[0])).unwrap();
    till.add_scan("]C0PAI-BAG").unwrap();
    let weight_label = hardware::scan::with_check("281234501250"); // 1.250 kg
    let view = till.add_scan(&weight_label).unwrap();
    assert_eq!(view.lines.len(), 3);
    assert_eq!(view.lines[2].0.unit_price, Money::parse("5.50").unwrap(), "1.250 kg at 4.40/kg");
    assert!(view.lines[2].0.description.ends_with("1.250 kg"));
    let mut misread = espresso.barcodes[0].to_string();
    misread.pop();
    misread.push('0');
    if misread != espresso.barcodes[0].to_string() {
        assert!(till.add_scan(&misread).is_err());
    }
    assert_eq!(till.cart().unwrap().lines.len(), 3, "a bad scan adds nothing");
    till.void().unwrap();

    till.sync_once().unwrap();
    assert_eq!(server.sales_at("WMT").0, 2);
    server.down();
}
