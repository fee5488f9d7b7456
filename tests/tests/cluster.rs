//! Head office as a cluster: three `sync-server` instances on one PostgreSQL behind HAProxy,
//! started by `deploy/cluster`. First the gateway's duties across instances: an API key's limit
//! of 100 a minute and a shopper's of 300 hold when their requests are spread round robin over
//! the three (counted by HAProxy's stick tables: each instance sees a third and counts only
//! that), a revoked key is refused by all, and an instance told to stop drains (its `/health` says so while HAProxy still
//! answers through the others). Then the faults: ten registers push sales and returns and
//! fifty shoppers check out through HAProxy while one instance is SIGKILLed every few seconds
//! and restarted. At the end every record a register made is held exactly once, the ledger
//! equals the registers' own Z reports, every checkout is settled with the processor's books
//! matching the paid orders, nothing is left reserved and the stock lost is the stock sold.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use caisse_e2e::shop;
use caisse_e2e::till::Till;
use caisse_e2e::{ADMIN_PASSWORD, ScratchPostgres, binary, demo_credentials, free_port};
use serde_json::{Value, json};
use sqlx::Row;

const INSTANCES: usize = 3;
const REGISTERS: usize = 10;
const SHOPPERS: usize = 50;
const KILLS: usize = 5;
const SKUS: &[&str] = &["CAF-ESP-250", "CAF-MOU-340", "THE-VRT-20"];

/// The cluster `deploy/cluster` runs, stopped when the test ends, passing or not.
struct Cluster {
    dir: PathBuf,
    port: u16,
    env: Vec<(String, String)>,
}

impl Cluster {
    fn script(&self, args: &[&str]) -> (bool, String) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let output = Command::new(root.join("deploy/cluster"))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("deploy/cluster runs");
        let text =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.script(args);
        assert!(ok, "deploy/cluster {args:?}: {text}\n{}", self.logs());
        text
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn instance(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.port as usize + i)
    }

    /// The instances' logs, for a failure's message.
    fn logs(&self) -> String {
        (1..=INSTANCES)
            .map(|i| {
                let log =
                    std::fs::read_to_string(self.dir.join(format!("server-{i}.log"))).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                format!("--- instance {i}:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.script(&["stop"]);
    }
}

/// A port with the next `INSTANCES` ports free too (the instances take them).
fn free_range() -> u16 {
    loop {
        let port = free_port();
        if port < 60_000
            && (1..=INSTANCES as u16).all(|i| std::net::TcpListener::bind(("127.0.0.1", port + i)).is_ok())
        {
            return port;
        }
    }
}

/// Sends `n` requests through HAProxy one after another: how many passed, and the refusals.
/// Round robin sends each instance a third of them, and each counts only its own (the lowest
/// `RateLimit-Remaining` an instance gave shows it), so a refusal is HAProxy's count.
async fn spread(
    http: &reqwest::Client,
    n: usize,
    request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> (usize, Vec<reqwest::Response>) {
    let (mut passed, mut refused, mut lowest) = (0, Vec::new(), u64::MAX);
    for i in 0..n {
        let response = request(http).send().await.unwrap();
        match response.status().as_u16() {
            200 => {
                passed += 1;
                let remaining = response.headers().get("ratelimit-remaining").and_then(|v| v.to_str().ok());
                lowest = lowest.min(remaining.and_then(|v| v.parse().ok()).expect("an instance's count"));
            }
            429 => refused.push(response),
            other => panic!("request {i} answered {other}"),
        }
    }
    // An instance counted about a third of what passed, not all of it.
    let limit = passed as u64;
    assert!(
        lowest >= limit - limit / INSTANCES as u64 - 1,
        "an instance counted more than its third: {lowest} left"
    );
    (passed, refused)
}

/// Checks out again and again until told to stop; a request lost with a killed instance is
/// sent again with the same idempotency key, as a shop's page would.
async fn shop(
    http: reqwest::Client,
    base: String,
    token: String,
    card: &'static str,
    id: usize,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let sku = SKUS[(id + n) % SKUS.len()];
        let _ = http
            .post(format!("{base}/api/shop/cart/lines"))
            .bearer_auth(&token)
            .json(&json!({ "sku": sku, "quantity": 1 }))
            .send()
            .await;
        for _attempt in 0..20 {
            let answer = http
                .post(format!("{base}/api/shop/checkout"))
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("cluster-{id}-{n}"))
                .json(&json!({ "card_number": card }))
                .send()
                .await;
            match answer.map(|r| r.status().as_u16()) {
                Ok(201 | 202 | 402 | 409 | 422) => break,
                // The instance died under the request (HAProxy's 502), or none was up (503).
                Ok(status @ (429 | 500 | 502 | 503 | 504)) => {
                    assert_ne!(status, 500, "a checkout answered 500");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Ok(other) => panic!("checkout answered {other}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
        n += 1;
    }
}

fn card_of(i: usize) -> &'static str {
    match i % 5 {
        0 => sync_server::http::processor::HANGS,
        1 => sync_server::http::processor::DECLINED,
        _ => sync_server::http::processor::APPROVED,
    }
}

/// Sells and takes returns until told to stop, while its `sync --watch` pushes.
fn ring_up(till: &Till, stop: &AtomicBool) -> usize {
    let mut sales = 0;
    while !stop.load(Ordering::SeqCst) {
        let receipt = till.sell(&["CAF-ESP-250:2", "PAI-BAG", "SAV-LAV"], "cash");
        sales += 1;
        if sales % 4 == 0 {
            till.return_line(&receipt);
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    sales
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_behind_haproxy_lose_nothing_when_killed_under_load() {
    let scratch = ScratchPostgres::new("cluster");
    let dir = tempfile::tempdir().unwrap();
    let port = free_range();
    let cluster = Cluster {
        dir: dir.path().join("cluster"),
        port,
        env: vec![
            ("DATABASE_URL".into(), scratch.url.clone()),
            ("CAISSE_CLUSTER_DIR".into(), dir.path().join("cluster").display().to_string()),
            ("CAISSE_CLUSTER_PORT".into(), port.to_string()),
            ("CAISSE_CLUSTER_PEER_PORT".into(), free_port().to_string()),
            ("CAISSE_SERVER_BIN".into(), binary("sync-server").display().to_string()),
            ("CAISSE_PROCESSOR_BIN".into(), binary("caisse-processor").display().to_string()),
            ("CAISSE_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("CAISSE_PAYMENT_TIMEOUT_SECONDS".into(), "1".into()),
            ("CAISSE_CHECKOUT_LEASE_SECONDS".into(), "2".into()),
            // Every shopper and register signs in from loopback: one address.
            ("CAISSE_SIGN_INS_PER_MINUTE".into(), "10000".into()),
            ("CAISSE_LOG".into(), "warn".into()),
        ],
    };
    let started = cluster.ok(&["start", &INSTANCES.to_string()]);
    assert!(started.contains("cluster of 3 instances behind HAProxy"), "{started}");
    let base = cluster.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let admin = caisse_e2e::sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;

    // --- An API key's limit holds across the instances: HAProxy counts it, round robin
    // sends each instance a third.
    let created: Value = http
        .post(format!("{base}/api/api-keys"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "BI tool", "scopes": ["reports_read", "catalogue_read"], "per_minute": 100 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().expect("the key's secret").to_owned();
    let (passed, mut refused) = spread(&http, 150, |http| {
        http.get(format!("{base}/api/reports/sales?from=2000-01-01&to=2100-01-01"))
            .header("X-Api-Key", &secret)
    })
    .await;
    assert_eq!((passed, refused.len()), (100, 50), "100 a minute over three instances");
    let last = refused.pop().unwrap();
    let header = |name: &str| last.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert!(header("retry-after").and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| (1..=60).contains(&s)));
    assert_eq!(header("ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(header("ratelimit-limit").as_deref(), Some("100"));
    // HAProxy counts the minute; each instance still counts the key's hour too.
    assert_eq!(header("ratelimit-policy").as_deref(), Some("100;w=60"));
    assert_eq!(header("content-type").as_deref(), Some("application/problem+json"));
    let problem: Value = last.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("load balancer"), "{problem}");

    // --- So does a shopper's, by the `sub` of the access token.
    let token = shop::sign_up(&http, &base, "limited@example.com").await;
    let (passed, refused) =
        spread(&http, 310, |http| http.get(format!("{base}/api/shop/me")).bearer_auth(&token)).await;
    assert_eq!((passed, refused.len()), (300, 10), "300 a minute over three instances");
    let problem: Value = refused.into_iter().next().unwrap().json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("this shopper"), "{problem}");
    // A scope the key lacks, then revoked: refused on every instance.
    // (Straight to an instance: HAProxy refuses the key past its limit whatever the route.)
    let shop_call = http
        .get(format!("{}/api/shop/me", cluster.instance(1)))
        .header("X-Api-Key", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(shop_call.status(), 403);
    let id = created["key"]["id"].as_str().unwrap();
    let revoked =
        http.post(format!("{base}/api/api-keys/{id}/revoke")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    for i in 1..=INSTANCES {
        let response = http
            .get(format!("{}/api/products", cluster.instance(i)))
            .header("X-Api-Key", &secret)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "instance {i} still takes a revoked key");
    }

    // --- An instance told to stop drains: its /health says so; HAProxy answers through the others.
    let pid: i32 = std::fs::read_to_string(cluster.dir.join("server-2.pid")).unwrap().trim().parse().unwrap();
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let health = http.get(format!("{}/health", cluster.instance(2))).send().await;
        if let Ok(r) = health
            && r.status() == 503
        {
            assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().starts_with("draining"));
            break;
        }
        assert!(Instant::now() < deadline, "instance 2 never said it was draining");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Through the drain, until the instance has stopped and after, every request through
    // HAProxy is answered: by the draining instance while it still listens, by the others after.
    let deadline = Instant::now() + Duration::from_secs(15);
    let alive = || Command::new("kill").args(["-0", &pid.to_string()]).output().unwrap().status.success();
    while alive() {
        let answer = http.get(format!("{base}/api/products?limit=5")).send().await.unwrap();
        assert_eq!(answer.status(), 200, "a request through HAProxy failed while an instance drained");
        assert!(Instant::now() < deadline, "the drained instance did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..6 {
        let answer = http.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(answer.status(), 200, "HAProxy sent a request to the stopped instance");
    }
    cluster.ok(&["restart", "2"]);

    // --- Ten registers and fifty shoppers, through HAProxy.
    let printed: Vec<String> = std::fs::read_to_string(cluster.dir.join("server-1.out"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let (cashiers, codes) = demo_credentials(&printed);
    let mut tills: Vec<Till> = codes
        .keys()
        .take(REGISTERS)
        .map(|name| {
            let store = name.split('-').next().unwrap();
            Till::new(name, dir.path().join(name), cashiers[store].clone())
        })
        .collect();
    for till in &mut tills {
        till.ok(&["enrol", "--server", &base, "--code", &codes[&till.name]]);
        till.ok(&["sync"]);
        till.watch();
    }
    let opening = shop::stock_at(&http, &base, "ANJOU", &admin).await;
    let mut tokens = Vec::new();
    for i in 0..SHOPPERS {
        tokens.push(shop::sign_up(&http, &base, &format!("cluster{i}@example.com")).await);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let shoppers: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            tokio::spawn(shop(http.clone(), base.clone(), token.clone(), card_of(i), i, stop.clone()))
        })
        .collect();
    let tills = Arc::new(tills);
    let registers: Vec<_> = (0..REGISTERS)
        .map(|i| {
            let (tills, stop) = (tills.clone(), stop.clone());
            std::thread::spawn(move || ring_up(&tills[i], &stop))
        })
        .collect();

    // --- One instance SIGKILLed every few seconds, and started again.
    for k in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let victim = (1 + k % INSTANCES).to_string();
        cluster.ok(&["kill", &victim]);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        cluster.ok(&["restart", &victim]);
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    stop.store(true, Ordering::SeqCst);
    for shopper in shoppers {
        shopper.await.unwrap();
    }
    let sales: usize = registers.into_iter().map(|r| r.join().unwrap()).sum();

    // Everything drains once the instances stay up.
    let deadline = Instant::now() + Duration::from_secs(90);
    while tills.iter().any(|t| t.pending() > 0) {
        assert!(
            Instant::now() < deadline,
            "registers still have pending records after 90 s\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut tills = Arc::try_unwrap(tills).expect("the registers' threads are done");
    for till in &mut tills {
        till.stop_watching();
    }
    let orders = shop::settled_orders(&http, &base, &tokens, Duration::from_secs(90)).await;
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for order in &orders {
        *by_status.entry(order["status"].as_str().unwrap()).or_default() += 1;
    }
    println!("{sales} sales rung up; orders by status: {by_status:?}");
    assert!(sales >= REGISTERS, "too few sales were rung up: {sales}");
    assert!(by_status.get("paid").copied().unwrap_or(0) >= SHOPPERS / 2, "{by_status:?}");

    // Registers: each record held once; the ledger equals their Z reports.
    let mut made = BTreeSet::new();
    let mut by_store: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    for till in &tills {
        for record in till.journal() {
            assert!(made.insert(record.id.to_string()), "record {} made twice", record.id);
        }
        let store = till.name.split('-').next().unwrap().to_owned();
        let (id, pin) = (till.cashier.0.to_string(), till.cashier.1.clone());
        let z: Value =
            serde_json::from_str(&till.ok(&["--json", "z", "--cashier", &id, "--pin", &pin])).unwrap();
        let entry = by_store.entry(store).or_default();
        entry.0 += z["sales_count"].as_i64().unwrap();
        entry.1 += z["returns_count"].as_i64().unwrap();
        for tender in z["tenders"].as_array().unwrap() {
            entry.2 += tender["taken"].as_i64().unwrap();
            entry.3 += tender["refunded"].as_i64().unwrap();
        }
    }
    let db = sync_server::db::Db::connect(&scratch.url, 2).await.unwrap();
    let held: Vec<String> = sqlx::query("SELECT id FROM records")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("id").unwrap())
        .collect();
    let held_set: BTreeSet<String> = held.iter().cloned().collect();
    assert_eq!(held.len(), held_set.len(), "a record is held twice");
    assert_eq!(held_set, made, "head office holds exactly the records the registers made");
    let ledger = sync_server::sales::ledger_by_store(&db).await.unwrap();
    for (store, (sales, returns, taken, refunded)) in &by_store {
        let l = &ledger[store];
        assert_eq!(
            (l.sales, l.returns, l.collected, l.refunded),
            (*sales, *returns, *taken, *refunded),
            "{store}"
        );
    }
    // No saga is stuck, and nothing is held for a checkout.
    let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM checkouts WHERE step = 'ordered'")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(open, 0, "checkouts left unfinished");
    db.close().await;

    // Money and stock: the processor's books match the paid orders; Anjou lost exactly the
    // paid units; nothing is left reserved.
    let processor = std::fs::read_to_string(cluster.dir.join("payment-url")).unwrap().trim().to_owned();
    shop::check_books(&http, &processor, &orders).await;
    let opening: BTreeMap<String, i64> = SKUS.iter().map(|sku| ((*sku).to_owned(), opening[*sku])).collect();
    shop::check_stock_and_report(&http, &base, (&admin, &tokens[0]), "ANJOU", &opening, &orders).await;
    drop(cluster);
}
