//! The register screen's model, driven as the window drives it: keys in the scan field told
//! apart by timing, tenders until the sale is paid, receipts on a file printer, settings that
//! refuse what the till could not use, returns and stock from the screen.

mod common;

use common::Server;
use hardware::printer::PrinterSpec;
use terminal_app::desk::{Desk, Key, ReturnPick, Settings, SettingsText};

fn keys(text: &str, start_ms: f64, gap_ms: f64) -> Vec<Key> {
    text.chars()
        .map(|c| if c == '\n' { "Enter".to_owned() } else { c.to_string() })
        .enumerate()
        .map(|(i, key)| Key { key, at_ms: start_ms + gap_ms * i as f64 })
        .collect()
}

fn open_desk(server: &Server, cashiers: &[(u32, String, String, String)], dir: &std::path::Path) -> Desk {
    let (cashier, _, _, pin) = cashiers.iter().find(|c| c.2 == "VMTL").unwrap().clone();
    let mut desk = Desk::open(dir).unwrap();
    desk.enrol(&server.url(), &server.code_for("VMTL-01")).unwrap();
    desk.sign_in(&cashier.to_string(), &pin).unwrap();
    desk
}

#[test]
fn the_scan_field_tells_scans_from_typing() {
    let (server, cashiers) = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = open_desk(&server, &cashiers, dir.path());
    let espresso = desk.register().product("CAF-ESP-250").unwrap();
    let barcode = espresso.barcodes[0].to_string();

    // A scanner's burst: a key every 4 ms, ended by Enter.
    let out = desk.scan_keys(&keys(&format!("{barcode}\n"), 1_000.0, 4.0)).unwrap();
    assert_eq!(out.scanned.as_deref(), Some(barcode.as_str()));
    assert_eq!(out.view.cart.lines.len(), 1);

    // A person keys the same code slowly: typed, and still rung up (a code keyed by hand).
    let out = desk.scan_keys(&keys(&format!("{barcode}\n"), 5_000.0, 180.0)).unwrap();
    assert_eq!(out.scanned, None);
    assert_eq!(out.typed.as_deref(), Some(barcode.as_str()));
    assert_eq!(out.view.cart.lines[0].quantity, 2);

    // Typed words are a search: results, no line.
    let out = desk.scan_keys(&keys("espresso\n", 20_000.0, 150.0)).unwrap();
    assert!(out.found.iter().any(|p| p.sku == "CAF-ESP-250"), "{:?}", out.found);
    assert_eq!(out.view.cart.lines[0].quantity, 2);

    // A person starts typing, then a scan comes: the scan rings up, the typing stays.
    let mut mixed = keys("ab", 30_000.0, 200.0);
    mixed.extend(keys(&format!("{barcode}\n"), 31_000.0, 3.0));
    let out = desk.scan_keys(&mixed).unwrap();
    assert_eq!(out.scanned.as_deref(), Some(barcode.as_str()));
    assert_eq!(out.view.cart.lines[0].quantity, 3);
    assert_eq!(out.leftover, "ab");

    // A misread says so and adds nothing.
    let before = desk.view().unwrap().cart.lines[0].quantity;
    let bad = format!("{}{}", &barcode[..12], (barcode.as_bytes()[12] - b'0' + 1) % 10);
    let problem = desk.scan_keys(&keys(&format!("{bad}\n"), 40_000.0, 3.0)).unwrap_err();
    assert!(!problem.message.is_empty());
    assert_eq!(desk.view().unwrap().cart.lines[0].quantity, before);
}

#[test]
fn tenders_until_paid_then_the_receipt_prints() {
    let (server, cashiers) = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = open_desk(&server, &cashiers, dir.path());
    let printer = dir.path().join("printer.bin");
    let settings = Settings { printer: Some(PrinterSpec::File(printer.clone())), ..Settings::default() };
    desk.save_settings(settings.clone()).unwrap();
    assert_eq!(desk.settings().unwrap(), settings);

    desk.add_item("CAF-ESP-250", 2).unwrap();
    let due = desk.view().unwrap().cart.total;

    // A card for more than is owed is refused and changes nothing.
    let problem = desk.add_tender("debit", &format!("{}.00", due / 100 + 5), "").unwrap_err();
    assert_eq!(problem.field, Some("amount"));
    assert!(desk.view().unwrap().payment.tenders.is_empty());
    // Bad amounts and kinds name their field.
    assert_eq!(desk.add_tender("cash", "douze", "").unwrap_err().field, Some("amount"));
    assert_eq!(desk.add_tender("cheque", "", "").unwrap_err().field, Some("kind"));
    assert_eq!(desk.add_tender("credit", "", " ").unwrap_err().field, Some("approval"));

    // Five dollars cash, the rest by debit: the balance falls, then the sale completes.
    let tendered = desk.add_tender("cash", "5.00", "").unwrap();
    assert!(tendered.completed().is_none(), "the balance is still due");
    let view = tendered.into_view();
    assert_eq!(view.payment.balance, due - 500);
    assert!(view.last_sale.is_none());
    // Lines cannot change under a tender.
    assert_eq!(desk.set_quantity(0, 3).unwrap_err().code, "tendering");
    let tendered = desk.add_tender("debit", "", "").unwrap();
    let completed = tendered.completed().cloned().expect("the tenders cover the sale");
    let view = tendered.into_view();
    let last = view.last_sale.clone().unwrap();
    assert_eq!(completed.id, last.id);
    assert_eq!((last.change, last.printed), (0, true));
    assert!(view.cart.lines.is_empty() && view.payment.tenders.is_empty());
    let receipt = std::fs::read(&printer).unwrap();
    assert!(String::from_utf8_lossy(&receipt).contains(&last.id));
    assert_eq!(view.sync.pending, 1);

    // Exact cash rounds to the nickel; a printer that fails never undoes the sale.
    desk.add_item("CAF-ESP-250", 1).unwrap();
    let broken = Settings {
        printer: Some(PrinterSpec::File("/nonexistent/folder/printer".into())),
        ..settings.clone()
    };
    desk.save_settings(broken).unwrap();
    let view = desk.add_tender("cash", "", "").unwrap().into_view();
    let last = view.last_sale.unwrap();
    assert!(!last.printed && last.print_error.is_some());
    assert_eq!((last.total + last.rounding) % 5, 0);
    assert_eq!(view.sync.pending, 2);
    // The printer is back: the reprint produces it.
    desk.save_settings(settings.clone()).unwrap();
    let view = desk.reprint(None).unwrap();
    assert!(view.last_sale.unwrap().printed);

    // A network printer out of paper says so: the window's answer carries its reason, and its
    // test page fails with it.
    use hardware::printer::fake::{FakePrinter, FakeState};
    let fake = FakePrinter::start(FakeState::PaperEnd).unwrap();
    desk.save_settings(Settings { printer: Some(fake.spec().parse().unwrap()), ..settings }).unwrap();
    desk.add_item("CAF-ESP-250", 1).unwrap();
    let last = desk.add_tender("debit", "", "").unwrap().into_view().last_sale.unwrap();
    assert!(!last.printed, "{last:?}");
    assert!(last.print_error.as_deref().unwrap().contains("out of paper"), "{last:?}");
    let problem = desk.test_print(&fake.spec()).unwrap_err();
    assert!(problem.message.contains("out of paper"), "{}", problem.message);
    fake.set_state(FakeState::Ready);
    assert!(desk.reprint(None).unwrap().last_sale.unwrap().printed);
}

#[test]
fn settings_refuse_what_the_till_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desk::open(dir.path()).unwrap();
    let good = SettingsText::from(Settings::default());
    for (bad, field) in [
        (SettingsText { printer: "lpt1".into(), ..good.clone() }, "printer"),
        (SettingsText { printer: "tcp:printer".into(), ..good.clone() }, "printer"),
        (SettingsText { scanner: "usb".into(), ..good.clone() }, "scanner"),
        (SettingsText { language: "de".into(), ..good.clone() }, "language"),
        (SettingsText { columns: 40, ..good.clone() }, "columns"),
    ] {
        assert_eq!(desk.save_settings_text(bad).unwrap_err().field, Some(field));
    }
    assert_eq!(desk.settings().unwrap(), Settings::default(), "nothing was saved");
    // What the window sends is kept as the printer it names.
    let view = desk.save_settings_text(SettingsText { printer: "tcp:10.0.0.9:9100".into(), ..good }).unwrap();
    assert_eq!(view.settings.printer, Some("tcp:10.0.0.9:9100".parse().unwrap()));
    // Not enrolled: enrolment needs an address and a code, and the screen says what is missing.
    assert_eq!(desk.enrol("127.0.0.1:8080", "ABCD-1234").unwrap_err().field, Some("server"));
    assert_eq!(desk.enrol("http://127.0.0.1:1", " ").unwrap_err().field, Some("code"));
    assert!(desk.view().unwrap().identity.is_none());
}

#[test]
fn returns_and_stock_from_the_screen() {
    let (server, cashiers) = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = open_desk(&server, &cashiers, dir.path());
    let before = desk.stock("CAF-ESP-250").unwrap();
    let here = |s: &terminal_app::desk::StockView| s.figures.iter().find(|f| f.this_store).unwrap().quantity;
    desk.add_item("CAF-ESP-250", 3).unwrap();
    let sale = desk.add_tender("debit", "", "").unwrap().into_view().last_sale.unwrap();
    assert_eq!(here(&desk.stock("CAF-ESP-250").unwrap()), here(&before) - 3);

    let found = desk.find_sale(&sale.id).unwrap();
    assert_eq!((found.lines[0].sold, found.lines[0].returnable), (3, 3));
    // The short number at the top of the receipt (this till's first record) finds it too.
    let journal = desk.register().journal().unwrap();
    assert_eq!((journal[0].id.to_string(), journal[0].seq), (sale.id.clone(), 1));
    assert_eq!(desk.find_sale(" vmtl-01-000001 ").unwrap().id, sale.id);
    assert_eq!(desk.find_sale("VMTL-01-000002").unwrap_err().field, Some("receipt"));
    assert_eq!(desk.take_return(&[], "cash", "defective").unwrap_err().field, Some("lines"));
    assert_eq!(
        desk.take_return(&[ReturnPick { index: 0, quantity: 1, restock: true }], "cash", "bored")
            .unwrap_err()
            .field,
        Some("reason")
    );
    let done = desk
        .take_return(&[ReturnPick { index: 0, quantity: 2, restock: true }], "debit", "defective")
        .unwrap();
    assert!(done.refund > 0);
    assert_eq!(desk.find_sale(&sale.id).unwrap().lines[0].returnable, 1);
    assert_eq!(here(&desk.stock("CAF-ESP-250").unwrap()), here(&before) - 1);
    assert_eq!(desk.find_sale("not-a-receipt").unwrap_err().field, Some("receipt"));

    let counted = desk.count_stock("CAF-ESP-250", 7).unwrap();
    let adjusted = desk.adjust_stock("CAF-ESP-250", -2, "damaged").unwrap();
    assert_eq!(here(&adjusted), here(&counted) - 2);
    assert_eq!(desk.adjust_stock("CAF-ESP-250", -2, "lost").unwrap_err().field, Some("reason"));
    desk.request_replenishment("CAF-ESP-250", 12, "weekend").unwrap();

    let z = desk.z_report("100.00", "", false).unwrap();
    assert_eq!((z.sales_count, z.returns_count, z.closed), (1, 1, false));
    let closed = desk.z_report("100.00", "100.00", true).unwrap();
    assert!(closed.closed && !closed.text.is_empty());
    assert_eq!(closed.over_short, Some(0));
}

#[test]
fn a_receipt_from_elsewhere_while_offline_is_taken_unverified_within_the_limit() {
    let (mut server, cashiers) = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = open_desk(&server, &cashiers, dir.path());
    server.down();
    // Another store's receipt: head office cannot be asked, and the screen is told so.
    let receipt = "01900000-0000-7000-8000-000000000001";
    assert_eq!(desk.find_sale(receipt).unwrap_err().code, "offline");

    let items = vec![("CAF-ESP-250".to_owned(), 1)];
    let refused = |desk: &mut Desk, store: &str, items: &[(String, u32)]| {
        desk.take_unverified_return(receipt, store, items, "cash", "defective").unwrap_err()
    };
    assert_eq!(refused(&mut desk, "PLAT", &[]).field, Some("items"));
    assert_eq!(refused(&mut desk, "no store", &items).field, Some("store"));
    let done = desk.take_unverified_return(receipt, "plat", &items, "cash", "defective").unwrap();
    assert!(done.refund > 0);
    // Beyond the limit it waits for the network.
    let many = vec![("CAF-ESP-250".to_owned(), 40)];
    assert_eq!(refused(&mut desk, "PLAT", &many).code, "refused");
    assert_eq!(desk.view().unwrap().sync.pending, 1);
}
