//! Two head-office instances on one PostgreSQL, each started as the binary starts it
//! (`sync_server::serve`): a change made through one reaches the pages connected to the other
//! at once (`LISTEN/NOTIFY`), and the other's catalogue list cache is cleared, so a product
//! written through one is listed by the other right away. On SQLite there is one instance and
//! nothing to relay: its own pages still hear it.

mod common;

use std::time::{Duration, Instant};

use common::{Engine, TestDb};
use serde_json::{Value, json};
use sync_server::{Config, Settings};

// On PostgreSQL through another instance; on SQLite, one instance's own pages.
on_both_engines!(a_change_reaches_every_instance_s_pages);

const PASSWORD: &str = "correct horse battery staple";

async fn start(url: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = Config {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        database_url: url.to_owned(),
        demo: true,
        admin_password: Some(PASSWORD.into()),
        max_connections: 4,
        settings: Settings::default(),
        tls: None,
        limits: sync_server::listener::Limits::default(),
        // Instances of one chain share head office's audit key.
        audit_key: sync_server::audit::KeySetting::Given(
            sync_server::audit::AuditKey::from_hex(&"5a".repeat(32)).unwrap(),
        ),
    };
    // As the binary runs it: a runtime of its own (its future is not `Send`).
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(sync_server::serve(config)).expect("the instance serves");
    });
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reqwest::get(format!("{base}/health")).await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "the instance did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    base
}

async fn skus(http: &reqwest::Client, base: &str) -> Vec<String> {
    let list: Value =
        http.get(format!("{base}/api/products?limit=500")).send().await.unwrap().json().await.unwrap();
    list.as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap().to_owned()).collect()
}

async fn a_change_reaches_every_instance_s_pages(engine: Engine) {
    let db = TestDb::new(engine).await;
    let a = start(&db.url).await;
    // On SQLite one instance plays both parts.
    let b = if engine == Engine::Postgres { start(&db.url).await } else { a.clone() };
    let http = reqwest::Client::new();
    let token = common::login(&http, &a, "admin", PASSWORD).await;
    let mut stream = http.get(format!("{b}/api/events")).bearer_auth(&token).send().await.unwrap();
    // B has the list in its cache.
    assert!(!skus(&http, &b).await.contains(&"THE-NOIR".to_owned()));
    let created = http
        .post(format!("{a}/api/products"))
        .bearer_auth(&token)
        .json(&json!({ "sku": "THE-NOIR", "name": "Thé noir", "category": "Épicerie", "price": "5.49",
                       "tax_class": "zero_rated", "reorder_threshold": 5, "barcodes": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // B's page hears of it, and B lists it.
    let mut heard = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !heard.contains("\"topic\":\"catalogue\"") {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.chunk()).await.expect("B's page heard nothing");
        heard.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("the stream stays open")));
    }
    assert!(skus(&http, &b).await.contains(&"THE-NOIR".to_owned()), "B lists the product at once");
    drop(stream);
    db.drop_database().await;
}
