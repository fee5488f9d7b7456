//! What the server's benchmarks share: sale records as registers make them, a fresh
//! database on either engine, enrolled registers, and percentiles.

#![allow(dead_code)]

use std::time::Duration;

use chrono::NaiveDate;
use shared_model::protocol::{Message, PushBatch};
use shared_model::sale::{Sale, SaleLine};
use shared_model::tender::Tender;
use shared_model::{CashierId, Hlc, LocationCode, Quantity, Record, RecordBody, RecordId, RegisterId};
use sync_server::db::Db;
use sync_server::{demo, identity};

pub const BATCH: usize = 500;

/// `count` three-line sales of register `register`, the `i`th on business day `day_of(i)`
/// (days in order: a register's stamps only move forward).
pub fn sales_for(
    register: &RegisterId,
    count: usize,
    salt: u8,
    day_of: impl Fn(usize) -> NaiveDate,
) -> Vec<Record> {
    let products = demo::demo_products();
    (0..count)
        .map(|i| {
            let lines = (0..3)
                .map(|k| {
                    let p = &products[(i * 7 + k * 11) % products.len()];
                    SaleLine {
                        sku: p.sku.clone(),
                        description: p.name.clone(),
                        barcode: p.barcodes.first().cloned(),
                        unit_price: p.price,
                        quantity: Quantity::new(1 + (i % 3) as u32).expect("a quantity"),
                        tax_class: p.tax_class,
                        discount: None,
                    }
                })
                .collect::<Vec<_>>();
            let total = shared_model::sale::Quote::of(&lines).expect("a quote").total;
            let day = day_of(i);
            let sale = Sale::complete(
                day,
                CashierId::new(1001).expect("a cashier"),
                lines,
                vec![Tender::Debit { amount: total }],
                None,
            )
            .expect("a sale");
            let seq = i as u64 + 1;
            // Stamped at noon (UTC) of its business day, as a register with a right clock does.
            let noon = day.and_hms_opt(12, 0, 0).expect("noon").and_utc().timestamp_millis() as u64;
            let ms = noon + seq;
            let mut random = [salt; 10];
            random[..8].copy_from_slice(&seq.to_be_bytes());
            Record {
                id: RecordId::from_parts(ms, random),
                origin: register.clone(),
                seq,
                hlc: Hlc::new(ms, 0),
                device_time_ms: ms,
                store: register.store(),
                body: RecordBody::Sale(sale),
            }
        })
        .collect()
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub async fn fresh_database(engine: &str) -> (String, Option<String>) {
    match engine {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("caisse-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            (format!("sqlite://{}/bench.db", dir.display()), None)
        }
        _ => {
            let admin = std::env::var("CAISSE_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            sqlx::any::install_default_drivers();
            let mut conn =
                <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.expect("PostgreSQL");
            sqlx::query("DROP DATABASE IF EXISTS caisse_bench WITH (FORCE)")
                .execute(&mut conn)
                .await
                .expect("drop");
            sqlx::query("CREATE DATABASE caisse_bench").execute(&mut conn).await.expect("create");
            let (root, _) = admin.rsplit_once('/').expect("a URL");
            (format!("{root}/caisse_bench"), Some(admin))
        }
    }
}

/// Adds and enrols a register; answers its device secret.
pub async fn enrolled(db: &Db, store: &str, number: u8) -> (RegisterId, String) {
    let store = LocationCode::parse(store).expect("a store");
    let id = RegisterId::new(&store, number).expect("a register");
    identity::add_register(db, &id).await.expect("added");
    let code = identity::issue_enrolment_code(db, &id).await.expect("a code");
    let secret = identity::enrol(db, None, &code).await.expect("enrolled").secret;
    (id, secret)
}

/// Records as push bodies of [`BATCH`] records.
pub fn push_bodies(records: &[Record]) -> Vec<String> {
    records
        .chunks(BATCH)
        .map(|chunk| {
            let raw = chunk
                .iter()
                .map(|r| serde_json::value::RawValue::from_string(r.encode()).expect("json"))
                .collect();
            PushBatch { records: raw }.encode()
        })
        .collect()
}

/// Pushes `bodies` one after another as register `secret` to the server at `addr`; answers
/// each push's latency.
pub async fn push_all(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    secret: &str,
    bodies: Vec<String>,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(bodies.len());
    for body in bodies {
        let started = std::time::Instant::now();
        let response = client
            .post(format!("http://{addr}/api/sync/push"))
            .bearer_auth(secret)
            .body(body)
            .send()
            .await
            .expect("a push");
        assert!(response.status().is_success(), "{}", response.text().await.unwrap_or_default());
        let _ = response.bytes().await;
        latencies.push(started.elapsed());
    }
    latencies
}

/// Samples PostgreSQL's sessions on one database every 0.2 s while a write path is under load:
/// how many are in a transaction or a statement, and how many of those wait on a lock
/// (DESIGN §7: a benchmark of a write path prints this beside its throughput).
pub struct LockWaits {
    running: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: tokio::task::JoinHandle<(u64, i64, i64)>,
}

impl LockWaits {
    /// Starts sampling the database of `url`; `None` on SQLite, which has no such view.
    pub fn start(url: &str) -> Option<LockWaits> {
        if url.starts_with("sqlite") {
            return None;
        }
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (url, flag) = (url.to_owned(), running.clone());
        let sampler = tokio::spawn(async move {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.expect("a sampler");
            let (mut samples, mut busy, mut waiting) = (0_u64, 0_i64, 0_i64);
            while flag.load(std::sync::atomic::Ordering::Relaxed) {
                let (b, w): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*) FILTER (WHERE state <> 'idle'),
                            COUNT(*) FILTER (WHERE wait_event_type = 'Lock')
                     FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .fetch_one(&mut conn)
                .await
                .expect("pg_stat_activity");
                samples += 1;
                busy += b;
                waiting += w;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            (samples, busy, waiting)
        });
        Some(LockWaits { running, sampler })
    }

    /// Stops sampling; a line to print.
    pub async fn finish(self) -> String {
        self.running.store(false, std::sync::atomic::Ordering::Relaxed);
        let (samples, busy, waiting) = self.sampler.await.expect("the sampler");
        let n = samples.max(1) as f64;
        format!(
            "lock waits: {:.1} sessions busy (in a statement or a transaction) on average, {:.1} of them waiting \
             on a lock: {:.1} % ({samples} samples, pg_stat_activity every 0.2 s)",
            busy as f64 / n,
            waiting as f64 / n,
            if busy > 0 { 100.0 * waiting as f64 / busy as f64 } else { 0.0 },
        )
    }
}

/// CPU time used so far, in milliseconds: by the whole machine (every core's user, nice,
/// system, irq and softirq time, from `/proc/stat`) and by this process (from
/// `/proc/self/stat`). Linux only; zeros elsewhere.
pub fn cpu_ms() -> (f64, f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| {
            let line = text.lines().next()?.to_owned();
            let fields: Vec<f64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
            // user nice system idle iowait irq softirq steal
            Some([0, 1, 2, 5, 6].iter().filter_map(|&i| fields.get(i)).sum::<f64>())
        })
        .unwrap_or(0.0);
    let own = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|text| {
            // The fields after the command's closing parenthesis, from the state on: utime and
            // stime are the 12th and 13th (fields 14 and 15 of the whole line).
            let rest = text.rsplit_once(')')?.1.to_owned();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
        })
        .unwrap_or(0.0);
    (machine * 1_000.0 / ticks, own * 1_000.0 / ticks)
}
