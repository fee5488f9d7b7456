//! An online order brought back to a store: a shopper buys online, logistics ships, and the
//! shopper returns part of the order at Plateau. The register (the CLI, a real process) looks
//! the order up while online, loses its link, takes the return offline, then syncs through a
//! faulty network that drops and cuts answers; head office is SIGKILLed right after and
//! restarted. The card is refunded exactly once, for exactly the returned share, checked in the
//! card processor's own books; the unit is back in Plateau's stock (not Anjou's); the report
//! counts the return once; a second return of the same order is capped by what is left.

use std::path::Path;
use std::time::{Duration, Instant};

use caisse_e2e::{
    ADMIN_PASSWORD, FaultProxy, HeadOffice, Mode, Processor, ScratchPostgres, free_port, register_cli,
    sign_in,
};
use serde_json::{Value, json};

const SKU: &str = "CAF-ESP-250";
const OTHER: &str = "THE-VRT-20";

struct Till<'a> {
    dir: &'a Path,
    cashier: (String, String),
}

impl Till<'_> {
    fn run(&self, args: &[&str]) -> (bool, String) {
        register_cli(self.dir, &[], args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.run(args);
        assert!(ok, "{args:?}: {out}");
        out
    }

    /// `return` as the store's cashier, with `extra` arguments.
    fn take_return(&self, extra: &[&str]) -> (bool, String) {
        let mut args = vec!["--json", "return", "--cashier", &self.cashier.0, "--pin", &self.cashier.1];
        args.extend(extra);
        self.run(&args)
    }

    fn pending(&self) -> u64 {
        let status: Value = serde_json::from_str(&self.ok(&["--json", "status"])).unwrap();
        status["pending"].as_u64().unwrap()
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> Value {
    let response = http.request(method, url.clone()).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {value}");
    value
}

async fn get(http: &reqwest::Client, url: String, token: &str) -> Value {
    http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

fn stock(levels: &Value, sku: &str) -> i64 {
    levels.as_array().unwrap().iter().find(|l| l["sku"] == sku).map_or(0, |l| l["quantity"].as_i64().unwrap())
}

/// The processor's refunds of one charge: (idempotency key, amount).
async fn refunds_of(http: &reqwest::Client, processor: &Processor, charge: &str) -> Vec<(String, i64)> {
    let ledger: Value =
        http.get(format!("{}/v1/ledger", processor.url)).send().await.unwrap().json().await.unwrap();
    ledger["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["charge"] == charge)
        .map(|r| (r["key"].as_str().unwrap_or_default().to_owned(), r["amount_cents"].as_i64().unwrap()))
        .collect()
}

/// Waits until every store return of the order is settled at head office; answers the order.
async fn settled_order(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    number: i64,
    returns: usize,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let order = get(http, format!("{base}/api/shop/orders/{number}"), token).await;
        let refunds = order["store_returns"].as_array().cloned().unwrap_or_default();
        if refunds.len() == returns && refunds.iter().all(|r| r["status"] != "pending") {
            return order;
        }
        assert!(Instant::now() < deadline, "store returns not settled: {order}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn run(database_url: String, port: u16, proxy: &FaultProxy) {
    let dir = tempfile::tempdir().unwrap();
    let processor = Processor::start(3);
    let mut office = HeadOffice::start_with(
        dir.path(),
        &database_url,
        port,
        &[
            ("CAISSE_PAYMENT_URL", &processor.url),
            ("CAISSE_PAYMENT_TIMEOUT_SECONDS", "1"),
            ("CAISSE_CHECKOUT_LEASE_SECONDS", "2"),
        ],
    );
    let base = office.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let admin = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;

    // A shopper buys two espressos and a tea online; logistics ships and delivers.
    let password = "a long enough password";
    let email = "returns@example.com";
    let account = json!({ "email": email, "name": "Shopper", "password": password });
    call(&http, reqwest::Method::POST, format!("{base}/api/shop/accounts"), "", account).await;
    let tokens = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/shop/sessions"),
        "",
        json!({ "email": email, "password": password }),
    )
    .await;
    let shopper = tokens["access_token"].as_str().unwrap().to_owned();
    for (sku, quantity) in [(SKU, 2), (OTHER, 1)] {
        let line = json!({ "sku": sku, "quantity": quantity });
        call(&http, reqwest::Method::POST, format!("{base}/api/shop/cart/lines"), &shopper, line).await;
    }
    let placed = http
        .post(format!("{base}/api/shop/checkout"))
        .bearer_auth(&shopper)
        .header("Idempotency-Key", "store-return-1")
        .json(&json!({ "card_number": sync_server::http::processor::APPROVED }))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 201);
    let order: Value = placed.json().await.unwrap();
    let number = order["number"].as_i64().unwrap();
    let charge = get(&http, format!("{base}/api/shop/orders/{number}"), &shopper).await["payment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = format!("W-{number}");

    let plat_before = get(&http, format!("{base}/api/stock?location=PLAT"), &admin).await;
    let anjou_before = get(&http, format!("{base}/api/stock?location=ANJOU"), &admin).await;

    // Plateau's register, behind a link that can fail.
    let till_dir = dir.path().join("PLAT-01");
    let (number_of_cashier, pin) = office.cashiers["PLAT"].clone();
    let till = Till { dir: &till_dir, cashier: (number_of_cashier.to_string(), pin) };
    till.ok(&["enrol", "--server", &proxy.url(), "--code", &office.codes["PLAT-01"]]);
    till.ok(&["sync"]);

    // Not shipped yet: the register says so and records nothing.
    let looked: Value = serde_json::from_str(&till.ok(&["--json", "lookup", &code])).unwrap();
    assert_eq!(looked["status"], "paid");
    let (ok, out) = till.take_return(&["--receipt", &code, "--line", "1:1"]);
    assert!(!ok && out.contains("only a shipped order"), "{out}");
    for step in ["picked", "shipped", "delivered"] {
        call(
            &http,
            reqwest::Method::POST,
            format!("{base}/api/fulfilment/orders/{number}/{step}"),
            &admin,
            json!({}),
        )
        .await;
    }

    // Online, the register finds the order with nothing returned yet.
    let looked: Value = serde_json::from_str(&till.ok(&["--json", "lookup", &code])).unwrap();
    assert_eq!(looked["status"], "delivered");
    assert_eq!(looked["lines"][0]["sku"], SKU);
    assert_eq!(looked["returned"], json!({}));
    let amounts = ["net", "gst", "qst"].map(|a| looked["lines"][0][a].as_i64().unwrap());
    let line_total: i64 = amounts.iter().sum();
    // One of two units: half of each amount, rounded half away from zero.
    let half: i64 = amounts.iter().map(|a| (a + 1) / 2).sum();

    // The link drops; the return is taken all the same, from the lookup the till kept.
    proxy.set(Mode::Down);
    let (ok, out) = till.take_return(&["--receipt", &code, "--line", "1:3"]);
    assert!(!ok && out.contains("cannot be returned"), "more than sold was taken: {out}");
    let (ok, out) = till.take_return(&["--receipt", &code, "--line", "1:1", "--refund", "cash"]);
    assert!(!ok && out.contains("leave out --refund"), "{out}");
    let (ok, out) = till.take_return(&["--receipt", &code, "--line", "1:1", "--reason", "defective"]);
    assert!(ok, "{out}");
    let record: Value = serde_json::from_str(&out).unwrap();
    let ret = &record["record"]["body"]["return"];
    assert_eq!(ret["online_order"], number);
    assert_eq!(ret["tenders"], json!([]));
    let first_refund = ret["totals"]["total"].as_i64().unwrap();
    assert_eq!(first_refund, half);
    assert_eq!(till.pending(), 1);
    assert!(
        refunds_of(&http, &processor, &charge).await.is_empty(),
        "refunded before head office had the record"
    );

    // The link comes back faulty: pushes are dropped, duplicated and cut mid-answer.
    proxy.set(Mode::Faulty);
    let deadline = Instant::now() + Duration::from_secs(90);
    for round in 0.. {
        let _ = till.run(&["sync"]);
        // At least six rounds, and until every kind of fault has hit the link.
        if round >= 5 && !proxy.injected().contains(&0) {
            break;
        }
        assert!(Instant::now() < deadline, "faults injected so far: {:?}", proxy.injected());
    }
    proxy.set(Mode::Clean);
    till.ok(&["sync"]);
    assert_eq!(till.pending(), 0);
    // Head office dies the moment the record is in, before or while it refunds, and comes back.
    office.kill();
    office.restart();

    let order = settled_order(&http, &base, &shopper, number, 1).await;
    let refunds = order["store_returns"].as_array().unwrap();
    assert_eq!(refunds[0]["status"], "refunded", "{order}");
    assert_eq!(refunds[0]["store"], "PLAT");
    assert_eq!(refunds[0]["amount_cents"], first_refund);
    let at_processor = refunds_of(&http, &processor, &charge).await;
    assert_eq!(at_processor.len(), 1, "refunded more than once: {at_processor:?}");
    assert_eq!(at_processor[0].1, first_refund);

    // The second espresso, taken online this time: head office's count and the till's agree,
    // and the two refunds together give back exactly the line, to the cent.
    let looked: Value = serde_json::from_str(&till.ok(&["--json", "lookup", &code])).unwrap();
    assert_eq!(looked["returned"]["0"], 1);
    let (ok, out) = till.take_return(&["--receipt", &code, "--line", "1:2"]);
    assert!(!ok && out.contains("cannot be returned"), "{out}");
    let (ok, out) = till.take_return(&["--receipt", &code, "--line", "1:1:nostock"]);
    assert!(ok, "{out}");
    till.ok(&["sync"]);
    let order = settled_order(&http, &base, &shopper, number, 2).await;
    let at_processor = refunds_of(&http, &processor, &charge).await;
    assert_eq!(at_processor.len(), 2, "{at_processor:?}");
    assert_eq!(at_processor.iter().map(|r| r.1).sum::<i64>(), line_total, "{order}");

    // Stock: one unit back on Plateau's shelf (the second was not restocked); Anjou untouched.
    let plat_after = get(&http, format!("{base}/api/stock?location=PLAT"), &admin).await;
    let anjou_after = get(&http, format!("{base}/api/stock?location=ANJOU"), &admin).await;
    assert_eq!(stock(&plat_after, SKU), stock(&plat_before, SKU) + 1);
    assert_eq!(stock(&anjou_after, SKU), stock(&anjou_before, SKU));

    // The report counts each return once, at the store that took it.
    let report = get(&http, format!("{base}/api/reports/sales?from=2000-01-01&to=2100-01-01"), &admin).await;
    let plat = report["stores"].as_array().unwrap().iter().find(|s| s["store"] == "PLAT").cloned().unwrap();
    assert_eq!(plat["returns"], 2, "{plat}");
    assert_eq!(plat["refunded"], line_total, "{plat}");
    let web = report["stores"].as_array().unwrap().iter().find(|s| s["store"] == "WEB").cloned().unwrap();
    assert_eq!(web["sales"], 1);
    assert_eq!(web["returns"], 0);
    drop(office);
}

/// The proxy runs its own runtime, so it lives outside the test's.
fn scenario(database_url: String) {
    let port = free_port();
    let proxy = FaultProxy::start(format!("127.0.0.1:{port}").parse().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run(database_url, port, &proxy));
    drop(runtime);
    proxy.stop();
}

#[test]
fn online_order_returned_at_a_store_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    scenario(format!("sqlite://{}/head-office.db", dir.path().display()));
}

#[test]
fn online_order_returned_at_a_store_on_postgres() {
    let scratch = ScratchPostgres::new("store_return");
    scenario(scratch.url.clone());
}
