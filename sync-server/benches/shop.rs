//! The online shop under load: shoppers check out 3-line carts concurrently against a real
//! server on loopback and the local card processor (in this process, over HTTP), then search
//! the catalogue; the figures are checkouts per second of wall time and latency percentiles.
//!
//! `cargo bench -p sync-server --bench shop` (PostgreSQL), or with `BENCH_ENGINE=sqlite`,
//! `BENCH_SHOPPERS` (default 64) and `BENCH_CHECKOUTS` (default 2 000); against a running head
//! office with `BENCH_TARGET` and `BENCH_TARGET_DATABASE` (its database, to stock the
//! logistics centre and to sample lock waits).
//! PostgreSQL comes from `CAISSE_TEST_POSTGRES` (default postgres://postgres@127.0.0.1:5432/postgres).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sync_server::db::Db;
use sync_server::{AppState, Settings, demo, router};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn database(engine: &str) -> (String, Option<String>) {
    if engine == "sqlite" {
        let dir = std::env::temp_dir().join(format!("caisse-shop-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        return (format!("sqlite://{}/bench.db", dir.display()), None);
    }
    let admin = std::env::var("CAISSE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("caisse_bench_shop_{}", std::process::id());
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.expect("PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create");
    let (root, _) = admin.rsplit_once('/').expect("a URL");
    (format!("{root}/{name}"), Some(admin))
}

#[tokio::main]
async fn main() {
    let engine = std::env::var("BENCH_ENGINE").unwrap_or_else(|_| "postgres".into());
    let shoppers = env("BENCH_SHOPPERS", 64);
    let checkouts = env("BENCH_CHECKOUTS", 2_000);
    // Against a running head office (a cluster behind HAProxy, say, from `deploy/cluster start
    // 3`): BENCH_TARGET=http://127.0.0.1:8080 BENCH_TARGET_DATABASE=postgres://…/caisse_cluster.
    let target = std::env::var("BENCH_TARGET").ok();
    let url = match &target {
        Some(_) => std::env::var("BENCH_TARGET_DATABASE").expect("BENCH_TARGET_DATABASE with BENCH_TARGET"),
        None => database(&engine).await.0,
    };
    let db = Db::connect(&url, 32).await.expect("the database");
    if target.is_none() {
        demo::load(&db).await.expect("the demo chain");
    }
    // Plenty of stock at the logistics centre, so no checkout is refused for stock.
    let products = demo::demo_products();
    let skus: Vec<String> = products.iter().map(|p| p.sku.to_string()).collect();
    let mut tx = db.begin().await.expect("a transaction");
    let anjou = shared_model::LocationCode::parse("ANJOU").expect("a location");
    let moves: Vec<_> = products
        .iter()
        .map(|p| sync_server::inventory::Move {
            location: anjou.clone(),
            sku: p.sku.clone(),
            delta: 1_000_000,
            kind: "adjustment",
            record_id: None,
        })
        .collect();
    sync_server::inventory::apply(&mut tx, &moves).await.expect("stock");
    tx.commit().await.expect("commit");

    let base = match target {
        Some(target) => target,
        None => {
            let processor = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let processor_url = format!("http://{}", processor.local_addr().expect("an address"));
            tokio::spawn(sync_server::http::processor::serve(processor, Duration::from_secs(60)));
            let settings = Settings { payment_url: Some(processor_url), ..Default::default() };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let base = format!("http://{}", listener.local_addr().expect("an address"));
            let app = router(AppState::new(db.clone(), settings));
            tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
            base
        }
    };
    let run = std::process::id();

    let http = reqwest::Client::builder().pool_max_idle_per_host(shoppers).build().expect("a client");
    let mut tokens = Vec::new();
    for i in 0..shoppers {
        let email = format!("bench{run}-{i}@example.com");
        let password = "kettle violet harbour 7 bench";
        http.post(format!("{base}/api/shop/accounts"))
            .json(&json!({ "email": email, "name": "Bench", "password": password }))
            .send()
            .await
            .expect("sign up");
        let tokens_body: Value = http
            .post(format!("{base}/api/shop/sessions"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("sign in")
            .json()
            .await
            .expect("tokens");
        tokens.push(tokens_body["access_token"].as_str().expect("a token").to_owned());
    }

    // While the shoppers check out, PostgreSQL's sessions are sampled for lock waits.
    let lock_waits = common::LockWaits::start(&url);

    // Checkouts: each shopper fills a 3-line cart, then checks it out; only the checkout is timed.
    let per_shopper = checkouts.div_ceil(shoppers);
    let cpu_before = common::cpu_ms();
    let skus = Arc::new(skus);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (s, token) in tokens.iter().enumerate() {
        let (http, base, token, skus) = (http.clone(), base.clone(), token.clone(), skus.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per_shopper);
            let mut busy = Duration::ZERO;
            for n in 0..per_shopper {
                let fill = Instant::now();
                for k in 0..3 {
                    let sku = &skus[(s * 7 + n * 3 + k * 11) % skus.len()];
                    let response = http
                        .post(format!("{base}/api/shop/cart/lines"))
                        .bearer_auth(&token)
                        .json(&json!({ "sku": sku, "quantity": 1 }))
                        .send()
                        .await
                        .expect("add");
                    assert!(response.status().is_success(), "add: {}", response.status());
                }
                busy += fill.elapsed();
                let at = Instant::now();
                let response = http
                    .post(format!("{base}/api/shop/checkout"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("bench-{run}-{s}-{n}"))
                    .json(&json!({ "card_number": "4242424242424242" }))
                    .send()
                    .await
                    .expect("checkout");
                assert_eq!(response.status().as_u16(), 201, "{}", response.text().await.unwrap_or_default());
                times.push(at.elapsed());
            }
            (times, busy)
        }));
    }
    let mut times = Vec::new();
    let mut filling = Duration::ZERO;
    for task in tasks {
        let (t, busy) = task.await.expect("a shopper");
        times.extend(t);
        filling += busy;
    }
    let wall = started.elapsed();
    times.sort();
    let checkout_time: Duration = times.iter().sum();
    println!(
        "shop checkout ({engine}, {shoppers} shoppers, {} checkouts of 3 lines): {:.0} checkouts/s of wall time \
         (carts filled in the same run), {:.0}/s counting checkout time only; p50 {:?}, p99 {:?}, max {:?}",
        times.len(),
        times.len() as f64 / wall.as_secs_f64(),
        times.len() as f64 / (checkout_time.as_secs_f64() / shoppers as f64),
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times.last().expect("a time"),
    );
    let _ = filling;
    let cpu_after = common::cpu_ms();
    let n = times.len().max(1) as f64;
    println!(
        "CPU per checkout (its 3 cart lines included): {:.1} ms of the machine, {:.1} ms of them in this process \
         (load generator, server, card processor), the rest PostgreSQL and the system",
        (cpu_after.0 - cpu_before.0) / n,
        (cpu_after.1 - cpu_before.1) / n,
    );
    if let Some(lock_waits) = lock_waits {
        println!("{}", lock_waits.finish().await);
    }

    // Catalogue search at the same concurrency, no sign-in.
    let queries = ["cafe", "the", "savon", "livre", "pomme", "", "a", "chocolat"];
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..shoppers {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for n in 0..50 {
                let q = queries[(s + n) % queries.len()];
                let at = Instant::now();
                let response = http
                    .get(format!("{base}/api/shop/products?q={q}&max_price=50&limit=24"))
                    .send()
                    .await
                    .expect("search");
                assert!(response.status().is_success());
                let _ = response.bytes().await;
                times.push(at.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.expect("a searcher"));
    }
    let wall = started.elapsed();
    times.sort();
    println!(
        "shop search ({engine}, {shoppers} connections, {} searches): {:.0}/s; p50 {:?}, p99 {:?}",
        times.len(),
        times.len() as f64 / wall.as_secs_f64(),
        percentile(&times, 0.50),
        percentile(&times, 0.99),
    );
    db.close().await;
}
