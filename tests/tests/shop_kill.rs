//! Head office SIGKILLed again and again while shoppers check out, then restarted: every
//! checkout ends paid and confirmed or cancelled with nothing kept, checked against the card
//! processor's own books (a process of its own, which outlives the kills) and the stock ledger.

use std::collections::BTreeMap;
use std::time::Duration;

use caisse_e2e::shop;
use caisse_e2e::{ADMIN_PASSWORD, HeadOffice, Processor, ScratchPostgres, free_port};
use serde_json::json;

const SHOPPERS: usize = 16;
const KILLS: usize = 4;
const SKUS: &[&str] = &["CAF-ESP-250", "CAF-MOU-340", "THE-VRT-20"];

struct Shopper {
    token: String,
    card: &'static str,
}

async fn sign_up(http: &reqwest::Client, base: &str, i: usize) -> Shopper {
    let token = shop::sign_up(http, base, &format!("kill{i}@example.com")).await;
    Shopper { token, card: card_of(i) }
}

/// Most pay with a good card; some are declined; some are charged but the answer is lost.
fn card_of(i: usize) -> &'static str {
    match i % 4 {
        0 => sync_server::http::processor::HANGS,
        1 => sync_server::http::processor::DECLINED,
        _ => sync_server::http::processor::APPROVED,
    }
}

/// Checks out again and again until head office stops answering.
async fn shop_until_killed(http: reqwest::Client, base: String, shopper: Shopper, id: usize, round: usize) {
    for n in 0.. {
        let sku = SKUS[(id + n) % SKUS.len()];
        let added = http
            .post(format!("{base}/api/shop/cart/lines"))
            .bearer_auth(&shopper.token)
            .json(&json!({ "sku": sku, "quantity": 1 }))
            .send()
            .await;
        if added.is_err() {
            return;
        }
        let checkout = http
            .post(format!("{base}/api/shop/checkout"))
            .bearer_auth(&shopper.token)
            .header("Idempotency-Key", format!("kill-{round}-{id}-{n}"))
            .json(&json!({ "card_number": shopper.card }))
            .send()
            .await;
        match checkout {
            Err(_) => return,
            Ok(response) => {
                let status = response.status().as_u16();
                assert!([201, 202, 402, 409, 422, 502, 503].contains(&status), "checkout answered {status}");
            }
        }
    }
}

async fn run(database_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let processor = Processor::start(3);
    let port = free_port();
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
    let admin = caisse_e2e::sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    let opening = shop::stock_at(&http, &base, "ANJOU", &admin).await;
    let mut shoppers = Vec::new();
    for i in 0..SHOPPERS {
        shoppers.push(sign_up(&http, &base, i).await);
    }
    let tokens: Vec<String> = shoppers.iter().map(|s| s.token.clone()).collect();

    for round in 0..KILLS {
        let tasks: Vec<_> = shoppers
            .drain(..)
            .enumerate()
            .map(|(i, s)| tokio::spawn(shop_until_killed(http.clone(), base.clone(), s, i, round)))
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + 300 * round as u64)).await;
        office.kill();
        for task in tasks {
            task.await.unwrap();
        }
        office.restart();
        shoppers =
            tokens.iter().enumerate().map(|(i, t)| Shopper { token: t.clone(), card: card_of(i) }).collect();
    }

    // The restarted server finishes every saga left behind, once their leases run out.
    let orders = shop::settled_orders(&http, &base, &tokens, Duration::from_secs(90)).await;
    assert!(orders.len() >= SHOPPERS, "too few checkouts were made: {}", orders.len());
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for order in &orders {
        *by_status.entry(order["status"].as_str().unwrap()).or_default() += 1;
    }
    println!("orders by status: {by_status:?}");
    assert!(orders.iter().any(|o| o["status"] == "paid"));

    // Money: the processor's books match the orders to the cent.
    shop::check_books(&http, &processor.url, &orders).await;

    // Stock: Anjou lost exactly the paid units, and nothing is left reserved.
    let opening: BTreeMap<String, i64> = SKUS.iter().map(|sku| ((*sku).to_owned(), opening[*sku])).collect();
    shop::check_stock_and_report(&http, &base, (&admin, &tokens[0]), "ANJOU", &opening, &orders).await;
    drop(office);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkouts_survive_head_office_killed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    run(format!("sqlite://{}/head-office.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkouts_survive_head_office_killed_on_postgres() {
    let scratch = ScratchPostgres::new("shop_kill");
    run(scratch.url.clone()).await;
}
