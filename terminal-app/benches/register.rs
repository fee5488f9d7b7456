//! The register's figures (issue 4), measured on real SQLite files and a real server:
//!
//! 1. scan-to-line lookup: a barcode or SKU found in a 100 000-product catalogue;
//! 2. durable sale commit: `complete_sale` with fsync (synchronous = FULL, WAL);
//! 3. convergence after a week offline: five stores × 7 days × 2 000 sales, pushed on reconnect
//!    to a server on PostgreSQL, until head office's totals match the tills'.
//!
//! `cargo bench -p terminal-app --bench register`. `BENCH_WEEK_SALES` (default 2 000 a day) and
//! `CAISSE_TEST_POSTGRES` as for the server's benchmarks.

use std::time::{Duration, Instant};

use shared_model::catalogue::{CashierInfo, ProductInfo};
use shared_model::protocol::{Change, Cursor, PullResponse};
use shared_model::{Barcode, CashierId, Money, RegisterId, Sku, TaxClass, Tender};
use sqlx::Row;
use terminal_app::sync::{Pushed, Transport};
use terminal_app::{Register, Result};

fn pin_hash() -> String {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).unwrap());
    argon.hash_password_with_salt(b"1234", b"benchmark-salt").unwrap().to_string()
}

/// Serves a fixed catalogue on pull and accepts nothing: for the local benchmarks.
struct Catalogue(Vec<Change>);

impl Transport for Catalogue {
    fn push(&mut self, _: &str, _: Vec<String>) -> Result<Pushed> {
        Err(terminal_app::RegisterError::Offline("benchmark".into()))
    }
    fn pull(&mut self, _: &str, cursor: Cursor, limit: u32) -> Result<PullResponse> {
        let start = cursor.0 as usize;
        let end = (start + limit as usize).min(self.0.len());
        Ok(PullResponse {
            changes: self.0[start..end].to_vec(),
            next: Cursor(end as u64),
            more: end < self.0.len(),
            server_time_ms: 0,
        })
    }
}

fn product(i: usize) -> ProductInfo {
    ProductInfo {
        sku: Sku::parse(&format!("P{i:06}")).unwrap(),
        name: format!("Produit {i}"),
        category: format!("Rayon {}", i % 40),
        barcodes: vec![Barcode::with_check_digit(&format!("7551{i:08}")).unwrap()],
        price: Money::cents(99 + (i as i64 * 37) % 9_900),
        tax_class: [TaxClass::Standard, TaxClass::ZeroRated, TaxClass::GstOnly][i % 3],
        reorder_threshold: 5,
        active: true,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: n={} p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
}

fn local_register(dir: &std::path::Path, products: usize) -> Register {
    let mut register = Register::open(dir.join("register.db")).unwrap();
    register.enrol_offline("bench://", &RegisterId::parse("VMTL-01").unwrap(), "secret").unwrap();
    let mut changes: Vec<Change> = (0..products).map(|i| Change::Product(product(i))).collect();
    changes.push(Change::Cashier(CashierInfo {
        id: CashierId::new(1001).unwrap(),
        name: "Banc".into(),
        store: None,
        pin_hash: pin_hash(),
        active: true,
    }));
    let _ = register.sync_with(&mut Catalogue(changes));
    register.sign_in(1001, "1234").unwrap();
    register
}

fn lookups_and_commits() {
    let dir = tempfile::tempdir_in(".").unwrap();
    let started = Instant::now();
    let mut register = local_register(dir.path(), 100_000);
    println!("catalogue of 100 000 products pulled and stored in {:.1} s", started.elapsed().as_secs_f64());

    let mut samples = Vec::new();
    for i in 0..20_000usize {
        let n = (i * 7_919) % 100_000;
        let code = if i % 2 == 0 { product(n).barcodes[0].to_string() } else { product(n).sku.to_string() };
        let t = Instant::now();
        let found = register.product(&code).unwrap();
        samples.push(t.elapsed());
        assert_eq!(found.sku, product(n).sku);
    }
    report("scan-to-line lookup (barcode or SKU, 100 000 products)", samples);

    let mut samples = Vec::new();
    for i in 0..1_000usize {
        register.add_item(product(i).barcodes[0].as_str(), 1).unwrap();
        register.add_item(product(i + 1).sku.as_str(), 2).unwrap();
        let total = register.cart().unwrap().quote.total;
        let t = Instant::now();
        register.complete_sale(vec![Tender::Debit { amount: total }]).unwrap();
        samples.push(t.elapsed());
    }
    report("durable sale commit (fsync, WAL, on this machine's disk)", samples);
}

fn week_offline() {
    let per_day: usize = std::env::var("BENCH_WEEK_SALES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let admin = std::env::var("CAISSE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let (root, _) = admin.rsplit_once('/').unwrap();
    let url = format!("{root}/caisse_bench_week");
    let (db, addr, server) = runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.unwrap();
        sqlx::query("DROP DATABASE IF EXISTS caisse_bench_week WITH (FORCE)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("CREATE DATABASE caisse_bench_week").execute(&mut conn).await.unwrap();
        let db = sync_server::db::Db::connect(&url, 16).await.unwrap();
        sync_server::demo::load(&db).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app =
            sync_server::router(sync_server::AppState::new(db.clone(), sync_server::Settings::default()));
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (db, addr, server)
    });
    let stores = ["VMTL", "PLAT", "QDS", "MILE", "WMT"];
    let dir = tempfile::tempdir_in(".").unwrap();
    let mut tills = Vec::new();
    let started = Instant::now();
    for store in stores {
        let id = RegisterId::parse(&format!("{store}-01")).unwrap();
        let code = runtime.block_on(sync_server::identity::issue_enrolment_code(&db, &id)).unwrap();
        // Building a week of sales is set-up, not measured: commits are not forced to disk here.
        let mut till = Register::open_relaxed(dir.path().join(format!("{store}.db"))).unwrap();
        till.enrol(&format!("http://{addr}"), &code).unwrap();
        till.sync_once().unwrap();
        tills.push(till);
    }
    // Sign in with the demo's cashiers: their PINs are random, so set known ones directly.
    runtime.block_on(async {
        for (i, store) in stores.iter().enumerate() {
            let cashier = CashierInfo {
                id: CashierId::new(9001 + i as u32).unwrap(),
                name: "Banc".into(),
                store: Some(shared_model::LocationCode::parse(store).unwrap()),
                pin_hash: pin_hash(),
                active: true,
            };
            let mut tx = db.begin().await.unwrap();
            sync_server::catalogue::save_cashier(&mut tx, &cashier).await.unwrap();
            tx.commit().await.unwrap();
        }
    });
    let products = sync_server::demo::demo_products();
    for (i, till) in tills.iter_mut().enumerate() {
        till.sync_once().unwrap();
        till.sign_in(9001 + i as u32, "1234").unwrap();
        for n in 0..per_day * 7 {
            for k in 0..3 {
                till.add_item(products[(n * 7 + k * 11 + i) % products.len()].sku.as_str(), 1).unwrap();
            }
            let total = till.cart().unwrap().quote.total;
            till.complete_sale(vec![Tender::Debit { amount: total }]).unwrap();
        }
    }
    let expected: usize = tills.iter().map(|t| t.status().unwrap().pending as usize).sum();
    println!(
        "a week offline: {expected} sales made at {} tills in {:.1} s (set-up)",
        tills.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    std::thread::scope(|scope| {
        for till in tills.iter_mut() {
            scope.spawn(move || {
                while till.status().unwrap().pending > 0 {
                    let _ = till.sync_once();
                }
            });
        }
    });
    let (count, total): (i64, i64) = runtime.block_on(async {
        let row = sqlx::query("SELECT COUNT(*) AS n, CAST(SUM(total) AS BIGINT) AS t FROM sales")
            .fetch_one(db.pool())
            .await
            .unwrap();
        (row.try_get("n").unwrap(), row.try_get("t").unwrap())
    });
    let elapsed = started.elapsed();
    let at_tills: i64 = tills
        .iter()
        .flat_map(|t| t.journal().unwrap())
        .filter_map(|r| match r.body {
            shared_model::RecordBody::Sale(s) => Some(s.totals.total.as_cents()),
            _ => None,
        })
        .sum();
    assert_eq!(count as usize, expected, "every sale at head office once");
    assert_eq!(total, at_tills, "head office's totals equal the tills'");
    println!(
        "convergence after a week offline: {expected} sales from 5 stores pushed and merged on PostgreSQL in {:.2} s ({:.0} sales/s); totals match",
        elapsed.as_secs_f64(),
        expected as f64 / elapsed.as_secs_f64()
    );
    server.abort();
    runtime.block_on(db.close());
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    if !measuring {
        return;
    }
    lookups_and_commits();
    week_offline();
}
