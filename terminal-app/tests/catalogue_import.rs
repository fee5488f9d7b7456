//! A catalogue imported at head office from a CSV file reaches a register through its sync, like
//! any product edit, and sells: scanned by the barcode the file gave it, at the file's price,
//! counted against the opening stock the stock file set.

mod common;

use common::Server;
use shared_model::{Barcode, Money, Tender};
use sync_server::audit::Actor;
use terminal_app::Register;

#[test]
fn a_register_syncs_an_imported_catalogue_and_sells_from_it() {
    let (server, cashiers) = Server::start();
    let barcode = Barcode::with_check_digit("062000000042").unwrap();
    let products = format!(
        "\u{feff}sku;name;category;price;tax_class;barcodes\r\n\
         IMP-TOURT;Tourtière du Lac;Boulangerie;12,99;zero_rated;{barcode}\r\n\
         IMP-CRETON;Cretons maison;Charcuterie;4,50;zero_rated;\r\n"
    );
    let stock = "location;sku;quantity\r\nVMTL;IMP-TOURT;10\r\n";
    let dir = tempfile::tempdir().unwrap();
    let (products_file, stock_file) = (dir.path().join("products.csv"), dir.path().join("stock.csv"));
    std::fs::write(&products_file, products).unwrap();
    std::fs::write(&stock_file, stock).unwrap();
    server.runtime.block_on(async {
        let actor = Actor::system();
        let report = sync_server::catalogue::import::import(
            &server.db,
            || std::fs::File::open(&products_file),
            false,
            &actor,
        )
        .await
        .unwrap();
        assert_eq!((report.new, report.imported), (2, true));
        let report = sync_server::opening_stock::import(
            &server.db,
            || std::fs::File::open(&stock_file),
            false,
            &actor,
        )
        .await
        .unwrap();
        assert_eq!((report.changed + report.new, report.imported), (1, true));
    });

    let mut till = Register::open(dir.path().join("VMTL-01.db")).unwrap();
    till.enrol(&server.url(), &server.code_for("VMTL-01")).unwrap();
    till.sync_once().unwrap();
    let (id, _, _, pin) = cashiers.iter().find(|c| c.2 == "VMTL").unwrap();
    till.sign_in(*id, pin).unwrap();
    assert_eq!(till.stock("IMP-TOURT").unwrap()[0].quantity, 10);

    let cart = till.add_item(barcode.as_str(), 2).unwrap();
    assert_eq!(cart.quote.total, Money::parse("25.98").unwrap(), "zero-rated, at the file's price");
    till.complete_sale(vec![Tender::Cash { amount: Money::parse("26.00").unwrap() }]).unwrap();
    till.sync_once().unwrap();
    assert_eq!(server.sales_at("VMTL"), (1, cart.quote.total.as_cents()));
    assert_eq!(till.stock("IMP-TOURT").unwrap()[0].quantity, 8);
}
