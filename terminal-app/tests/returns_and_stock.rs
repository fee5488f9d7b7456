//! Returns at the store that sold and at another store, stock here and elsewhere, a count,
//! replenishment from the logistics centre to the shelf, and the Z report.

mod common;

use common::Server;
use shared_model::protocol::Decision;
use shared_model::returns::ReturnReason;
use shared_model::{LocationCode, Money, ReceiptNumber, RecordBody, Tender};
use terminal_app::input;
use terminal_app::returns::{ReceiptCode, RefundTo, SaleKey};
use terminal_app::{Register, RegisterError};

fn till(
    server: &Server,
    register: &str,
    cashiers: &[(u32, String, String, String)],
    dir: &std::path::Path,
) -> Register {
    let mut till = Register::open(dir.join(format!("{register}.db"))).unwrap();
    till.enrol(&server.url(), &server.code_for(register)).unwrap();
    till.sync_once().unwrap();
    let store = register.split('-').next().unwrap();
    let (id, _, _, pin) = cashiers.iter().find(|c| c.2 == store).unwrap();
    till.sign_in(*id, pin).unwrap();
    till
}

#[test]
fn returns_stock_replenishment_and_the_z_report() {
    let (server, cashiers) = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut vieux = till(&server, "VMTL-01", &cashiers, dir.path());
    let mut plateau = till(&server, "PLAT-01", &cashiers, dir.path());

    let opening = vieux.stock("TUQ-LAI").unwrap();
    let here = opening[0].quantity;
    assert!(opening[0].this_store && opening[0].location == "VMTL");
    assert_eq!(opening.len(), 7, "five stores, the logistics centre and the online shop: {opening:?}");

    // Sell three tuques in cash; the store's figure drops at once, before any sync.
    vieux.add_item("TUQ-LAI", 3).unwrap();
    let sale = vieux.complete_sale(vec![Tender::Cash { amount: Money::parse("120.00").unwrap() }]).unwrap();
    assert_eq!(vieux.stock("TUQ-LAI").unwrap()[0].quantity, here - 3);

    // One comes back here, to the shelf, found by the short number printed on its receipt
    // (this till's own: from its journal, before any sync).
    let number = ReceiptNumber::new(sale.record.origin.clone(), sale.record.seq).unwrap();
    assert!(number.to_string().starts_with("VMTL-01-0000"), "{number}");
    let typed = input::receipt_code(&number.to_string().to_lowercase()).unwrap();
    let ReceiptCode::Sale(key) = typed else { panic!("{typed:?} read as an order") };
    let found = vieux.find_sale_by(&key).unwrap().unwrap();
    assert_eq!(found.record.id, sale.record.id);
    vieux.take_return(&found, &[(0, 1, true)], RefundTo::Cash, ReturnReason::ChangedMind).unwrap();
    let found = vieux.find_sale(&sale.record.id).unwrap().unwrap();
    assert_eq!(found.returned.get(&0), Some(&1));
    let refused = vieux.take_return(&found, &[(0, 3, true)], RefundTo::Cash, ReturnReason::ChangedMind);
    assert!(
        matches!(refused, Err(RegisterError::Rejected(ref m)) if m.contains("1 already came back")),
        "{refused:?}"
    );
    assert_eq!(vieux.stock("TUQ-LAI").unwrap()[0].quantity, here - 2);
    vieux.sync_once().unwrap();
    assert_eq!(
        vieux.stock("TUQ-LAI").unwrap()[0].quantity,
        here - 2,
        "the same after head office counted it"
    );

    // Another store takes a second one back, through head office, which maps the short number
    // to the sale; a third is still allowed, a fourth is not.
    let remote = plateau.find_sale_by(&key).unwrap().expect("head office has the sale");
    assert_eq!(remote.record.id, sale.record.id);
    assert_eq!(remote.returned.get(&0), Some(&1));
    plateau.take_return(&remote, &[(0, 1, false)], RefundTo::Debit, ReturnReason::Defective).unwrap();
    let remote = plateau.find_sale(&sale.record.id).unwrap().unwrap();
    assert_eq!(remote.returned.get(&0), Some(&2));
    plateau.take_return(&remote, &[(0, 1, true)], RefundTo::Cash, ReturnReason::Defective).unwrap();
    // A number no till made, or this one's next, names no sale.
    let unknown = SaleKey::Number(ReceiptNumber::new(sale.record.origin.clone(), 999_999).unwrap());
    assert!(plateau.find_sale_by(&unknown).unwrap().is_none());
    assert!(vieux.find_sale_by(&unknown).unwrap().is_none());
    let remote = plateau.find_sale(&sale.record.id).unwrap().unwrap();
    assert!(plateau.take_return(&remote, &[(0, 1, true)], RefundTo::Cash, ReturnReason::Defective).is_err());

    // A receipt nobody knows, offline policy: small ones go through unverified, big ones wait.
    let unknown = shared_model::RecordId::from_parts(1_795_000_000_000, [9; 10]);
    let small = plateau
        .take_unverified_return(
            unknown,
            "WMT",
            &[("BAU-LEV".into(), 2)],
            RefundTo::Cash,
            ReturnReason::Defective,
        )
        .unwrap();
    assert!(matches!(small.body, RecordBody::Return(ref r) if !r.verified));
    let big = plateau.take_unverified_return(
        unknown,
        "WMT",
        &[("CSQ-BT".into(), 4)],
        RefundTo::Cash,
        ReturnReason::Defective,
    );
    assert!(matches!(big, Err(RegisterError::Rejected(ref m)) if m.contains("limited to 200.00")), "{big:?}");
    plateau.sync_once().unwrap();

    // A shelf count sets the store's figure to what was counted.
    vieux.count_stock("TUQ-LAI", 5).unwrap();
    assert_eq!(vieux.stock("TUQ-LAI").unwrap()[0].quantity, 5);

    // Replenishment: asked here, approved by logistics, shipped, received onto the shelf.
    let request = vieux.request_replenishment(&[("TUQ-LAI".into(), 20)], Some("hiver".into())).unwrap();
    vieux.sync_once().unwrap();
    let logistics = LocationCode::parse("ANJOU").unwrap();
    server
        .runtime
        .block_on(sync_server::replenishment::decide_request(
            &server.db,
            request.id,
            Decision::Approved,
            None,
            None,
            &sync_server::audit::Actor::new("logistique", None),
            &logistics,
        ))
        .unwrap();
    vieux.sync_once().unwrap();
    let (decision, transfer) = vieux.replenishment_answer(&request.id).unwrap().unwrap();
    assert_eq!(decision, "approved");
    let incoming = vieux.incoming_transfers().unwrap();
    assert_eq!(incoming.len(), 1);
    assert_eq!(Some(incoming[0].0.to_string()), transfer);
    vieux.receive_transfer(incoming[0].0).unwrap();
    assert!(vieux.incoming_transfers().unwrap().is_empty());
    assert_eq!(vieux.stock("TUQ-LAI").unwrap()[0].quantity, 25);
    vieux.sync_once().unwrap();
    assert_eq!(vieux.stock("TUQ-LAI").unwrap()[0].quantity, 25);
    let anjou = vieux.stock("TUQ-LAI").unwrap().into_iter().find(|f| f.location == "ANJOU").unwrap();
    assert!(anjou.as_of_ms.is_some());

    // The Z report: one sale, one return, the cash that should be in the drawer.
    let z = vieux.z_report(Money::parse("200.00").unwrap(), Some(Money::parse("280.00").unwrap())).unwrap();
    assert_eq!((z.sales_count, z.returns_count), (1, 1));
    let paid = sale.sale.totals.paid();
    let refund = match &vieux.journal().unwrap()[1].body {
        RecordBody::Return(r) => r.totals.refunded(),
        other => panic!("{other:?}"),
    };
    assert_eq!(z.expected_cash, Money::parse("200.00").unwrap() + paid - refund);
    vieux.close_till(Money::parse("200.00").unwrap(), Some(z.expected_cash)).unwrap();
    assert_eq!(
        vieux.z_report(Money::ZERO, None).unwrap().sales_count,
        0,
        "a new shift starts after the close"
    );
    vieux.sync_once().unwrap();
    assert_eq!(vieux.status().unwrap().pending, 0);
    drop(server);
}
