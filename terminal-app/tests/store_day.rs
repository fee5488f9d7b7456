//! A till's day against a real sync server on loopback: enrol, pull the catalogue, sign in by
//! PIN, sell, sync; then the server goes away, the till keeps selling, and when the server
//! comes back every sale reaches head office exactly once.

use std::net::SocketAddr;
use std::sync::mpsc;

use shared_model::sale::Discount;
use shared_model::{Money, Percent, RegisterId, Tender};
use sqlx::Row;
use sync_server::db::Db;
use sync_server::{AppState, Settings, demo, identity, router};
use terminal_app::{Register, RegisterError};

/// A sync server in a runtime of its own, which the test can stop and start again on the same
/// port and database.
struct Server {
    runtime: tokio::runtime::Runtime,
    db: Db,
    addr: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> (Server, Vec<(u32, String, String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let url = format!("sqlite://{}/server.db", dir.path().display());
        let (db, cashiers) = runtime.block_on(async {
            let db = Db::connect(&url, 4).await.unwrap();
            let loaded = demo::load(&db).await.unwrap();
            (db, loaded.cashiers)
        });
        let addr = runtime.block_on(async {
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap()
        });
        let mut server = Server { runtime, db, addr, task: None, _dir: dir };
        server.up();
        (server, cashiers)
    }

    fn up(&mut self) {
        let (ready, wait) = mpsc::channel();
        let (db, addr) = (self.db.clone(), self.addr);
        self.task = Some(self.runtime.spawn(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            ready.send(()).unwrap();
            axum::serve(listener, router(AppState::new(db, Settings::default()))).await.unwrap();
        }));
        wait.recv().unwrap();
    }

    fn down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = self.runtime.block_on(task);
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn code_for(&self, register: &str) -> String {
        let id = RegisterId::parse(register).unwrap();
        self.runtime.block_on(identity::issue_enrolment_code(&self.db, &id)).unwrap()
    }

    fn sales_at(&self, store: &str) -> (i64, i64) {
        self.runtime.block_on(async {
            let row = sqlx::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS t FROM sales WHERE store = $1")
                .bind(store)
                .fetch_one(self.db.pool())
                .await
                .unwrap();
            (row.try_get("n").unwrap(), row.try_get("t").unwrap())
        })
    }
}

fn cash(dollars: &str) -> Tender {
    Tender::Cash { amount: Money::parse(dollars).unwrap() }
}

#[test]
fn a_day_online_then_offline_then_online_again() {
    let (mut server, cashiers) = Server::start();
    let (cashier, _, store, pin) = cashiers.iter().find(|c| c.2 == "VMTL").unwrap().clone();
    assert_eq!(store, "VMTL");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.db");

    let mut till = Register::open(&path).unwrap();
    assert!(matches!(till.sync_once(), Err(RegisterError::NotEnrolled)));
    let identity = till.enrol(&server.url(), &server.code_for("VMTL-01")).unwrap();
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
        Err(RegisterError::Refused(_)) | Err(RegisterError::NoSuchParkedSale(_))
    ));
    server.down();
}
