//! A till's day against a real sync server on loopback, over HTTPS with a certificate from the
//! chain's own CA, given at enrolment: enrol, pull the catalogue, sign in by PIN, sell, sync;
//! then the server goes away, the till keeps selling, and when the server comes back every sale
//! reaches head office exactly once.

mod common;

use common::Server;
use shared_model::sale::Discount;
use shared_model::{Money, Percent, Tender};
use terminal_app::{Register, RegisterError};

fn cash(dollars: &str) -> Tender {
    Tender::Cash { amount: Money::parse(dollars).unwrap() }
}

#[test]
fn a_day_online_then_offline_then_online_again() {
    let (mut server, cashiers) = Server::start_tls();
    assert!(server.url().starts_with("https://"));
    let (cashier, _, store, pin) = cashiers.iter().find(|c| c.2 == "VMTL").unwrap().clone();
    assert_eq!(store, "VMTL");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.db");

    let mut till = Register::open(&path).unwrap();
    assert!(matches!(till.sync_once(), Err(RegisterError::NotEnrolled)));
    let identity = till
        .enrol_with_ca(&server.url(), &server.code_for("VMTL-01"), Some(server.ca_pem().as_bytes()))
        .unwrap();
    assert_eq!(identity.register.as_str(), "VMTL-01");
    let first = till.sync_once().unwrap();
    assert!(first.pulled > 36, "{first:?}");

    assert!(matches!(till.sign_in(cashier, "0000x"), Err(RegisterError::BadPin)));
    assert!(matches!(till.add_item("PAI-BAG", 1), Err(RegisterError::NotSignedIn)));
    till.sign_in(cashier, &pin).unwrap();

    // Scan by barcode (as a scanner types it), by SKU; a misread barcode is said to be one.
    let espresso = till.search("espresso").unwrap().remove(0);
    till.add_item(espresso.barcodes[0].as_str(), 1).unwrap();
    till.add_item(espresso.barcodes[0].as_str(), 1).unwrap();
    let view = till.add_item("pai-bag", 3).unwrap();
    assert_eq!(view.lines.len(), 2);
    assert_eq!(view.lines[0].0.quantity.get(), 2);
    let mut misread = espresso.barcodes[0].as_str().to_owned();
    misread.replace_range(12..13, if misread.ends_with('9') { "0" } else { "9" });
    assert!(matches!(till.add_item(&misread, 1), Err(RegisterError::Invalid(_))));
    let view = till.set_discount(1, Some(Discount::Percent(Percent::parse("10").unwrap()))).unwrap();
    let owed = view.quote.total;
    assert!(matches!(till.complete_sale(vec![cash("1.00")]), Err(RegisterError::Sale(_))));
    let done = till.complete_sale(vec![cash("100.00")]).unwrap();
    assert_eq!(done.sale.totals.total, owed);
    assert_eq!(done.sale.totals.paid() + done.sale.totals.change, Money::parse("100.00").unwrap());
    assert!(till.cart().unwrap().lines.is_empty());
    assert_eq!(till.status().unwrap().pending, 1);

    let synced = till.sync_once().unwrap();
    assert_eq!(synced.held, 1);
    assert_eq!(server.sales_at("VMTL"), (1, owed.as_cents()));
    let status = till.status().unwrap();
    assert!(status.online && status.pending == 0 && status.last_sync_ms.is_some());

    // Head office goes away; the till keeps selling.
    server.down();
    let mut offline_total = 0;
    for _ in 0..3 {
        till.add_item("CAF-MOU-340", 1).unwrap();
        let done =
            till.complete_sale(vec![Tender::Debit { amount: till.cart().unwrap().quote.total }]).unwrap();
        offline_total += done.sale.totals.total.as_cents();
    }
    assert!(matches!(till.sync_once(), Err(RegisterError::Offline(_))));
    let status = till.status().unwrap();
    assert!(!status.online);
    assert_eq!(status.pending, 3);
    assert!(status.oldest_pending_ms.is_some());

    // A crash mid-sale: the cart and the journal survive reopening the file.
    till.add_item("SAV-LAV", 2).unwrap();
    drop(till);
    let mut till = Register::open(&path).unwrap();
    till.sign_in(cashier, &pin).unwrap();
    assert_eq!(till.cart().unwrap().lines.len(), 1);
    till.void().unwrap();
    assert_eq!(till.journal().unwrap().len(), 4);

    // Head office is back: every sale arrives, once.
    server.up();
    let synced = till.sync_once().unwrap();
    assert_eq!(synced.held, 3);
    assert_eq!(till.sync_once().unwrap().held, 0);
    assert_eq!(server.sales_at("VMTL"), (4, owed.as_cents() + offline_total));
    assert_eq!(till.status().unwrap().pending, 0);

    // A price change at head office reaches the till on its next pull.
    let mut product =
        server.runtime.block_on(sync_server::catalogue::product(&server.db, &espresso.sku)).unwrap();
    product.price = Money::parse("14.49").unwrap();
    server.runtime.block_on(sync_server::catalogue::save_product(&server.db, &product, false)).unwrap();
    till.sync_once().unwrap();
    let view = till.add_item(espresso.sku.as_str(), 1).unwrap();
    assert_eq!(view.lines[0].0.unit_price, Money::parse("14.49").unwrap());

    // Park and resume.
    let parked = till.park().unwrap();
    assert!(till.cart().unwrap().lines.is_empty());
    assert_eq!(till.parked().unwrap().len(), 1);
    assert_eq!(till.resume(parked).unwrap().lines.len(), 1);
    assert!(matches!(
        till.resume(parked),
        Err(RegisterError::Rejected(_)) | Err(RegisterError::NoSuchParkedSale(_))
    ));
    server.down();
}
