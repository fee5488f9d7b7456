//! Five stores, two registers each, and head office, as real processes on loopback, with the
//! network between them going down, flapping, duplicating and cutting answers. Registers sell
//! and take returns while partitioned; head office is killed with SIGKILL while registers push
//! and restarted; a register's sync is killed mid-sync and restarted; one register's clock is a
//! day off. Once the network heals: every sale and return made at a till is at head office
//! exactly once with the same totals, stock equals opening stock plus movements, and the
//! consolidated report equals a recomputation from the registers' journals (DESIGN.md §4, 1–3).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use caisse_e2e::till::Till;
use caisse_e2e::{FaultProxy, HeadOffice, Mode, ScratchPostgres, free_port};
use shared_model::RecordBody;
use shared_model::projection::{ChainView, Projection};
use sqlx::Row;

const STORES: [&str; 5] = ["VMTL", "PLAT", "QDS", "MILE", "WMT"];
const SKEWED: &str = "PLAT-02";

fn chain_survives_partitions_faults_and_kills(
    database_url: impl FnOnce(&Path) -> String,
    cleanup: impl FnOnce(),
) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path());
    let port = free_port();
    let mut office = HeadOffice::start(dir.path(), &url, port);
    let proxy = FaultProxy::start(format!("127.0.0.1:{port}").parse().unwrap());

    let mut tills: Vec<Till> = STORES
        .iter()
        .flat_map(|store| (1..=2).map(move |n| format!("{store}-0{n}")))
        .map(|name| {
            let store = name.split('-').next().unwrap().to_owned();
            let mut till = Till::new(&name, dir.path().join(&name), office.cashiers[&store].clone());
            if name == SKEWED {
                till.env.push(("CAISSE_CLOCK_OFFSET_SECONDS", "-86400"));
            }
            till
        })
        .collect();
    for till in &tills {
        till.ok(&["enrol", "--server", &proxy.url(), "--code", &office.codes[&till.name]]);
        till.ok(&["sync"]);
    }

    // The stores are cut off: they sell and take returns on their own.
    proxy.set(Mode::Down);
    for till in &tills {
        let first = till.sell(&["CAF-ESP-250:2", "PAI-BAG"], "cash");
        till.sell(&["LIV-ROM-POC", "SAV-LAV:3"], "debit");
        till.sell(&["CSQ-BT"], "credit:A1B2C3");
        till.return_line(&first);
        assert!(!till.run(&["sync"]).0, "{} synced through a dead link", till.name);
    }

    // The network flaps; the registers keep syncing; head office is killed while they push.
    proxy.set(Mode::Faulty);
    for till in &mut tills {
        till.watch();
    }
    std::thread::sleep(Duration::from_millis(1_500));
    office.kill();
    for till in &tills {
        till.sell(&["TUQ-LAI"], "cash");
    }
    office.restart();
    // A register is killed in the middle of its sync, sells, and starts syncing again.
    std::thread::sleep(Duration::from_millis(800));
    tills[0].stop_watching();
    tills[0].sell(&["MIT-HIV", "CHA-LAI:2"], "debit");
    tills[0].watch();
    // Stay faulty until every kind of fault has hit a push or a pull at least once.
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.injected().contains(&0) {
        assert!(Instant::now() < deadline, "faults injected so far: {:?}", proxy.injected());
        std::thread::sleep(Duration::from_millis(200));
    }

    // The network heals: everything drains.
    proxy.set(Mode::Clean);
    let deadline = Instant::now() + Duration::from_secs(90);
    while tills.iter().any(|t| t.pending() > 0) {
        assert!(Instant::now() < deadline, "registers still have pending records after 90 s");
        std::thread::sleep(Duration::from_millis(500));
    }
    for till in &mut tills {
        till.stop_watching();
    }

    // The oracle: the registers' own journals.
    let mut oracle = ChainView::default();
    let mut made = BTreeSet::new();
    let mut sales_by_store: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut returns_by_store: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for till in &tills {
        for record in till.journal() {
            assert!(made.insert(record.id.to_string()), "record {} made twice", record.id);
            if let RecordBody::Sale(sale) = &record.body {
                let entry = sales_by_store.entry(record.store.to_string()).or_default();
                entry.0 += 1;
                entry.1 += sale.totals.paid().as_cents();
            }
            if let RecordBody::Return(ret) = &record.body {
                let entry = returns_by_store.entry(record.store.to_string()).or_default();
                entry.0 += 1;
                entry.1 += ret.totals.refunded().as_cents();
            }
            oracle.apply(&record);
        }
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = sync_server::db::Db::connect(&url, 2).await.unwrap();
        // Invariant 1: each record at head office exactly once, with the same totals.
        let held: BTreeSet<String> = sqlx::query("SELECT id FROM records")
            .fetch_all(db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("id").unwrap())
            .collect();
        assert_eq!(held, made, "head office holds exactly the records the tills made");
        let ledger = sync_server::sales::ledger_by_store(&db).await.unwrap();
        for (store, (count, paid)) in &sales_by_store {
            assert_eq!((ledger[store].sales, ledger[store].collected), (*count, *paid), "sales of {store}");
        }
        for (store, (count, refunded)) in &returns_by_store {
            assert_eq!((ledger[store].returns, ledger[store].refunded), (*count, *refunded), "returns of {store}");
        }
        // Invariant 2: stock is opening stock plus the movements of the records.
        let opening: BTreeMap<(String, String), i64> = sqlx::query(
            "SELECT location, sku, CAST(SUM(delta) AS BIGINT) AS d FROM stock_movements WHERE kind = 'opening' GROUP BY location, sku",
        )
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.try_get("location").unwrap(), r.try_get("sku").unwrap()), r.try_get("d").unwrap()))
        .collect();
        let levels = sync_server::inventory::levels(&db, &Default::default()).await.unwrap();
        for level in levels {
            let key = (level.location.clone(), level.sku.clone());
            let moved = oracle
                .stock
                .iter()
                .find(|((l, s), _)| l.as_str() == key.0 && s.as_str() == key.1)
                .map(|(_, d)| d)
                .unwrap_or(0);
            assert_eq!(level.quantity, opening.get(&key).copied().unwrap_or(0) + moved, "stock of {key:?}");
        }
        // Invariant 3: the consolidated report equals a recomputation from the journals.
        let day = |d: &str| chrono_day(d);
        let report = sync_server::reporting::report(&db, day("2000-01-01"), day("2100-01-01"), 1_000).await.unwrap();
        // Loop over the oracle: a store missing from the report fails.
        for (store, (count, paid)) in &sales_by_store {
            let figures = report.stores.iter().find(|f| &f.store == store);
            let figures = figures.unwrap_or_else(|| panic!("store {store} is missing from the report"));
            assert_eq!((figures.sales, figures.collected), (*count, *paid), "report for {store}");
        }
        for figures in &report.stores {
            assert!(
                sales_by_store.contains_key(&figures.store) || returns_by_store.contains_key(&figures.store),
                "store {} is in the report but made no sale or return",
                figures.store
            );
        }
        assert_eq!(report.total.returns as usize, tills.len());
        // The till whose clock is a day off was flagged.
        let skew: i64 = sqlx::query("SELECT COUNT(*) AS n FROM alerts WHERE kind = 'clock_skew' AND subject = $1")
            .bind(SKEWED)
            .fetch_one(db.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(skew, 1, "the skewed register is flagged");
        db.close().await;
    });
    // Invariant 2 at the tills: once each has pulled after the last push, its own figure for
    // its store equals head office's.
    for till in &tills {
        till.ok(&["sync"]);
    }
    let levels = runtime.block_on(async {
        let db = sync_server::db::Db::connect(&url, 2).await.unwrap();
        let levels = sync_server::inventory::levels(&db, &Default::default()).await.unwrap();
        db.close().await;
        levels
    });
    for till in &tills {
        let store = till.name.split('-').next().unwrap();
        for sku in ["CAF-ESP-250", "TUQ-LAI", "CSQ-BT", "PAI-BAG"] {
            let figures: serde_json::Value =
                serde_json::from_str(&till.ok(&["--json", "stock", sku])).unwrap();
            let here =
                figures.as_array().unwrap().iter().find(|f| f["this_store"] == true).unwrap()["quantity"]
                    .as_i64();
            let office = levels.iter().find(|l| l.location == store && l.sku == sku).map(|l| l.quantity);
            assert_eq!(here, office, "{} sees {sku} at {here:?}, head office {office:?}", till.name);
        }
    }
    office.kill();
    proxy.stop();
    cleanup();
}

fn chrono_day(text: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[test]
fn on_sqlite() {
    chain_survives_partitions_faults_and_kills(
        |dir| format!("sqlite://{}/head-office.db", dir.display()),
        || {},
    );
}

#[test]
fn on_postgres() {
    let scratch = ScratchPostgres::new("e2e");
    chain_survives_partitions_faults_and_kills(|_| scratch.url.clone(), || {});
}
