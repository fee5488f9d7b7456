//! The consolidated report over a year of five stores on PostgreSQL (issue 13): a year of
//! three-line sales (1,000,020 lines by default) pushed by one register per store through the
//! real sync route, then the full-year report (`GET /api/reports/sales`) and the dashboard
//! (`GET /api/dashboard`) asked for over HTTP, one at a time; the figures are their latencies.
//!
//! `cargo bench -p sync-server --bench report`; `BENCH_LINES` sets the number of sale lines.
//! PostgreSQL comes from `CAISSE_TEST_POSTGRES` (default postgres://postgres@127.0.0.1:5432/postgres).

mod common;

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use common::{enrolled, fresh_database, percentile, push_all, push_bodies, sales_for};
use sync_server::db::Db;
use sync_server::{AppState, Settings, demo, router};

const STORES: [&str; 5] = ["VMTL", "PLAT", "QDS", "MILE", "WMT"];

async fn timed(client: &reqwest::Client, url: &str, token: &str, times: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(times);
    for _ in 0..times {
        let started = Instant::now();
        let response = client.get(url).bearer_auth(token).send().await.expect("an answer");
        assert!(response.status().is_success(), "{url}: {}", response.status());
        let _ = response.bytes().await.expect("a body");
        latencies.push(started.elapsed());
    }
    latencies.sort();
    latencies
}

fn show(what: &str, latencies: &[Duration]) {
    let ms = |p| percentile(latencies, p).as_secs_f64() * 1e3;
    println!(
        "{what}: {} requests, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        ms(0.5),
        ms(0.9),
        ms(0.99)
    );
}

async fn run(lines: usize, asks: usize) {
    let (url, _) = fresh_database("postgres").await;
    let db = Db::connect(&url, 16).await.expect("the database");
    demo::load(&db).await.expect("the demo chain");
    let first = NaiveDate::from_ymd_opt(2025, 12, 1).expect("a date");
    let per_store = lines.div_ceil(3 * STORES.len());
    let days = 365;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    let app = router(AppState::new(db.clone(), Settings::default()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") });
    let client = reqwest::Client::new();

    let started = Instant::now();
    let mut pushers = Vec::new();
    for (index, store) in STORES.iter().enumerate() {
        let (id, secret) = enrolled(&db, store, 20).await;
        let records =
            sales_for(&id, per_store, index as u8, |i| first + Days::new((i * days / per_store) as u64));
        let bodies = push_bodies(&records);
        let client = client.clone();
        pushers.push(tokio::spawn(async move { push_all(&client, addr, &secret, bodies).await }));
    }
    for pusher in pushers {
        pusher.await.expect("a pusher");
    }
    let loaded = started.elapsed();
    let (sales, sale_lines): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM sales), (SELECT COUNT(*) FROM sale_lines)")
            .fetch_one(db.pool())
            .await
            .expect("counts");
    println!(
        "loaded {sales} sales, {sale_lines} sale lines, 5 stores, {days} days, through POST /api/sync/push in {:.0} s",
        loaded.as_secs_f64()
    );
    sqlx::query("ANALYZE").execute(db.pool()).await.expect("analyze");

    let token = sync_server::identity::log_in(
        &db,
        &sync_server::identity::PasswordSlots::for_this_machine(),
        None,
        "admin",
        &bench_admin(&db).await,
    )
    .await
    .expect("signed in")
    .token;
    let last = first + Days::new(days as u64 - 1);
    let report = format!("http://{addr}/api/reports/sales?from={first}&to={last}&top=10");
    let one: serde_json::Value =
        client.get(&report).bearer_auth(&token).send().await.expect("a report").json().await.expect("json");
    println!(
        "full-year report: {} sales in all, {} cents of net sales",
        one["total"]["sales"], one["total"]["net_sales"]
    );
    show("GET /api/reports/sales, full year (JSON)", &timed(&client, &report, &token, asks).await);
    show(
        "GET /api/reports/sales, full year (CSV)",
        &timed(&client, &format!("{report}&format=csv"), &token, asks).await,
    );
    show("GET /api/dashboard", &timed(&client, &format!("http://{addr}/api/dashboard"), &token, asks).await);
    server.abort();
    db.close().await;
}

/// The demo prints no admin password here: set one.
async fn bench_admin(db: &Db) -> String {
    let password = "bench admin password".to_owned();
    sync_server::identity::create_user(db, "admin", &password, sync_server::identity::Role::Admin)
        .await
        .expect("the admin");
    password
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep it quick then.
    let measuring = std::env::args().any(|a| a == "--bench");
    let lines: usize = std::env::var("BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 1_000_020 } else { 3_000 });
    let asks = if measuring { 200 } else { 3 };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run(lines, asks));
}
