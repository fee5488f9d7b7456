//! Ingest throughput: registers push sale records (three lines each) in batches of 500 to a
//! real server on loopback, concurrently; the figure is sales stored per second of wall time.
//!
//! `cargo bench -p sync-server --bench ingest` (both engines), or with `BENCH_ENGINE=sqlite`
//! or `postgres`, `BENCH_SALES` (default 60 000) and `BENCH_REGISTERS` (default 4).
//! PostgreSQL comes from `CAISSE_TEST_POSTGRES` (default postgres://postgres@127.0.0.1:5432/postgres).
//!
//! Against a running head office instead (a cluster behind HAProxy, say, from `deploy/cluster
//! start 3`): `BENCH_TARGET=127.0.0.1:8080 BENCH_TARGET_DATABASE=postgres://…/caisse_cluster`;
//! the registers (20, 21…) are enrolled in that database, once, and the sales it gains are
//! counted.

mod common;

use std::time::Instant;

use chrono::NaiveDate;
use common::{BATCH, enrolled, fresh_database, percentile, push_all, push_bodies, sales_for};
use sqlx::Row;
use sync_server::db::Db;
use sync_server::{AppState, Settings, demo, router};

/// A head office already running: its address and database.
struct Target {
    addr: std::net::SocketAddr,
    database_url: String,
}

async fn count_sales(db: &Db) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM sales")
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

async fn run(engine: &str, total: usize, registers: usize, target: Option<&Target>) {
    let url = match target {
        Some(target) => target.database_url.clone(),
        None => fresh_database(engine).await.0,
    };
    let db = Db::connect(&url, 16).await.expect("the database");
    if target.is_none() {
        demo::load(&db).await.expect("the demo chain");
    }
    let before = count_sales(&db).await;
    // Register numbers the demo does not use (a running head office: once per database).
    let first: u8 = if target.is_some() { 20 } else { 10 };
    let stores = ["VMTL", "PLAT", "QDS", "MILE", "WMT"];
    let mut work = Vec::new();
    for r in 0..registers {
        let (id, secret) = enrolled(&db, stores[r % stores.len()], first + r as u8).await;
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
        let bodies = push_bodies(&sales_for(&id, total / registers, r as u8, |_| day));
        work.push((secret, bodies));
    }
    let (addr, server) = match target {
        Some(target) => (target.addr, None),
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let addr = listener.local_addr().expect("an address");
            let app = router(AppState::new(db.clone(), Settings::default()));
            (addr, Some(tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") })))
        }
    };

    let client = reqwest::Client::new();
    let lock_waits = common::LockWaits::start(&url);
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(secret, bodies)| {
            let client = client.clone();
            tokio::spawn(async move { push_all(&client, addr, &secret, bodies).await })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a pusher"));
    }
    let elapsed = started.elapsed();
    let stored = count_sales(&db).await - before;
    let sent = (total / registers) * registers;
    assert_eq!(stored as usize, sent, "every sale stored once");
    latencies.sort();
    println!(
        "{engine:>8}: {sent} sales (3 lines) from {registers} registers in batches of {BATCH}: {:.2} s, {:.0} sales/s; \
         batch latency p50 {:.0} ms, p99 {:.0} ms",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    if let Some(lock_waits) = lock_waits {
        println!("{engine:>8}: {}", lock_waits.finish().await);
    }
    if let Some(server) = server {
        server.abort();
    }
    db.close().await;
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep it quick then.
    let measuring = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("BENCH_SALES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 60_000 } else { 1_000 });
    let registers: usize = std::env::var("BENCH_REGISTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let engines = match std::env::var("BENCH_ENGINE").as_deref() {
        Ok("sqlite") => vec!["sqlite"],
        Ok("postgres") => vec!["postgres"],
        _ => vec!["sqlite", "postgres"],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    if let Ok(addr) = std::env::var("BENCH_TARGET") {
        let target = Target {
            addr: addr.parse().expect("BENCH_TARGET is HOST:PORT"),
            database_url: std::env::var("BENCH_TARGET_DATABASE").expect("BENCH_TARGET_DATABASE"),
        };
        runtime.block_on(run(&format!("at {addr}"), total, registers, Some(&target)));
        return;
    }
    for engine in engines {
        runtime.block_on(run(engine, total, registers, None));
    }
}
