//! Ingest throughput: registers push sale records (three lines each) in batches of 500 to a
//! real server on loopback, concurrently; the figure is sales stored per second of wall time.
//!
//! `cargo bench -p sync-server --bench ingest` (both engines), or with `BENCH_ENGINE=sqlite`
//! or `postgres`, `BENCH_SALES` (default 60 000) and `BENCH_REGISTERS` (default 4).
//! PostgreSQL comes from `CAISSE_TEST_POSTGRES` (default postgres://postgres@127.0.0.1:5432/postgres).

mod common;

use std::time::Instant;

use chrono::NaiveDate;
use common::{BATCH, enrolled, fresh_database, percentile, push_all, push_bodies, sales_for};
use sqlx::Row;
use sync_server::db::Db;
use sync_server::{AppState, Settings, demo, router};

async fn run(engine: &str, total: usize, registers: usize) {
    let (url, _) = fresh_database(engine).await;
    let db = Db::connect(&url, 16).await.expect("the database");
    demo::load(&db).await.expect("the demo chain");
    let stores = ["VMTL", "PLAT", "QDS", "MILE", "WMT"];
    let mut work = Vec::new();
    for r in 0..registers {
        let (id, secret) = enrolled(&db, stores[r % stores.len()], 10 + r as u8).await;
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
        let bodies = push_bodies(&sales_for(&id, total / registers, r as u8, |_| day));
        work.push((secret, bodies));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    let app = router(AppState::new(db.clone(), Settings::default()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") });

    let client = reqwest::Client::new();
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
    let stored: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sales")
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
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
    server.abort();
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
    for engine in engines {
        runtime.block_on(run(engine, total, registers));
    }
}
