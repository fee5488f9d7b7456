//! A copy of the register's file restores the till (DESIGN.md §5), even when the copy is older
//! than what head office holds: the restored till's new sales take seqs head office already
//! has, are renumbered, and every sale of both lives arrives once.

mod common;

use common::Server;
use shared_model::Tender;
use terminal_app::Register;

fn sell(till: &mut Register, code: &str) {
    till.add_item(code, 1).unwrap();
    let total = till.cart().unwrap().quote.total;
    till.complete_sale(vec![Tender::Debit { amount: total }]).unwrap();
}

#[test]
fn a_till_restored_from_an_old_copy_loses_nothing() {
    let (server, cashiers) = Server::start();
    let (cashier, _, _, pin) = cashiers.iter().find(|c| c.2 == "MILE").unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let (live, copy) = (dir.path().join("live.db"), dir.path().join("copy.db"));

    let mut till = Register::open(&live).unwrap();
    till.enrol(&server.url(), &server.code_for("MILE-01")).unwrap();
    till.sync_once().unwrap();
    till.sign_in(cashier, &pin).unwrap();
    sell(&mut till, "PAI-BAG");
    sell(&mut till, "LAI-2L");
    till.sync_once().unwrap();
    drop(till); // the last connection closes: SQLite folds its WAL back into the file
    std::fs::copy(&live, &copy).unwrap();

    // The till lives on, and head office receives seqs 3 to 5.
    let mut till = Register::open(&live).unwrap();
    till.sign_in(cashier, &pin).unwrap();
    for code in ["SAV-LAV", "BAU-LEV", "PAI-BAG"] {
        sell(&mut till, code);
    }
    till.sync_once().unwrap();
    drop(till);

    // Then its disk dies, and the old copy is put back. Its next sales reuse seqs 3 and 4.
    let mut restored = Register::open(&copy).unwrap();
    restored.sign_in(cashier, &pin).unwrap();
    sell(&mut restored, "CRE-MAI");
    sell(&mut restored, "THE-VRT-20");
    restored.sync_once().unwrap();
    let status = restored.status().unwrap();
    assert_eq!(status.pending, 0);
    assert!(status.rejected.is_empty(), "{:?}", status.rejected);
    assert_eq!(server.sales_at("MILE").0, 7, "2 + 3 from the first life, 2 from the restored till");
    let seqs: Vec<u64> = restored.journal().unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![1, 2, 6, 7]);
    // And it goes on from there.
    sell(&mut restored, "PAI-BAG");
    restored.sync_once().unwrap();
    assert_eq!(server.sales_at("MILE").0, 8);
    assert_eq!(restored.journal().unwrap().last().unwrap().seq, 8);
}
