//! The online shop seen from outside: shoppers who sign up and check out, and the oracles of a
//! run: every checkout settled, and the card processor's own books against the orders.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Opens a shopper's account and signs in; answers the access token.
pub async fn sign_up(http: &reqwest::Client, base: &str, email: &str) -> String {
    let password = "a long enough password";
    let response = http
        .post(format!("{base}/api/shop/accounts"))
        .json(&json!({ "email": email, "name": "Shopper", "password": password }))
        .send()
        .await
        .expect("the shop answers");
    assert_eq!(response.status(), 201, "signing up {email}");
    let tokens: Value = http
        .post(format!("{base}/api/shop/sessions"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("the shop answers")
        .json()
        .await
        .expect("tokens");
    tokens["access_token"].as_str().expect("an access token").to_owned()
}

/// A GET with a bearer token, as JSON.
pub async fn get(http: &reqwest::Client, url: String, token: &str) -> Value {
    http.get(url).bearer_auth(token).send().await.expect("an answer").json().await.expect("JSON")
}

/// Every shopper's orders once none is left waiting for its payment's outcome (the recovery
/// settles what a killed server left), or a failure after `within`.
pub async fn settled_orders(
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
    within: Duration,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let mut orders = Vec::new();
        let mut answered = true;
        for token in tokens {
            match http.get(format!("{base}/api/shop/orders?limit=100")).bearer_auth(token).send().await {
                Ok(r) if r.status().is_success() => orders
                    .extend(r.json::<Value>().await.expect("orders").as_array().expect("a list").clone()),
                _ => answered = false,
            }
        }
        let unsettled = orders.iter().filter(|o| o["status"] == "pending_payment").count();
        if answered && unsettled == 0 {
            return orders;
        }
        assert!(Instant::now() < deadline, "{unsettled} checkouts still unsettled");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The processor's books match the orders to the cent: each paid order kept exactly its total
/// on its own charge, and no other charge kept any money.
pub async fn check_books(http: &reqwest::Client, processor: &str, orders: &[Value]) {
    let ledger: Value = http
        .get(format!("{processor}/v1/ledger"))
        .send()
        .await
        .expect("the processor answers")
        .json()
        .await
        .expect("its ledger");
    let charged: BTreeMap<String, i64> = ledger["charges"]
        .as_array()
        .expect("charges")
        .iter()
        .filter(|c| c["status"] == "succeeded")
        .map(|c| {
            (c["id"].as_str().expect("an id").to_owned(), c["amount_cents"].as_i64().expect("an amount"))
        })
        .collect();
    let mut refunded: BTreeMap<String, i64> = BTreeMap::new();
    for refund in ledger["refunds"].as_array().expect("refunds") {
        *refunded.entry(refund["charge"].as_str().expect("a charge").to_owned()).or_default() +=
            refund["amount_cents"].as_i64().expect("an amount");
    }
    let kept: BTreeMap<&String, i64> = charged
        .iter()
        .map(|(id, amount)| (id, amount - refunded.get(id).copied().unwrap_or(0)))
        .filter(|(_, a)| *a != 0)
        .collect();
    let paid: Vec<&Value> = orders.iter().filter(|o| o["status"] == "paid").collect();
    let paid_ids: BTreeSet<&str> =
        paid.iter().map(|o| o["payment_id"].as_str().expect("a payment")).collect();
    assert_eq!(paid_ids.len(), paid.len(), "two orders share a charge");
    assert_eq!(
        kept.keys().map(|k| k.as_str()).collect::<BTreeSet<_>>(),
        paid_ids,
        "charges kept ≠ paid orders"
    );
    for order in &paid {
        let id = order["payment_id"].as_str().expect("a payment").to_owned();
        assert_eq!(kept[&id], order["total_cents"].as_i64().expect("a total"), "order {}", order["number"]);
    }
    for order in orders.iter().filter(|o| o["status"] == "cancelled") {
        if let Some(id) = order["payment_id"].as_str() {
            assert!(!kept.contains_key(&id.to_owned()), "cancelled order {} kept its money", order["number"]);
        }
    }
}

/// Units of each SKU in the paid orders.
pub fn paid_units(orders: &[Value]) -> BTreeMap<String, i64> {
    let mut sold = BTreeMap::new();
    for order in orders.iter().filter(|o| o["status"] == "paid") {
        for line in order["lines"].as_array().expect("lines") {
            *sold.entry(line["sku"].as_str().expect("a sku").to_owned()).or_default() +=
                line["quantity"].as_i64().expect("a quantity");
        }
    }
    sold
}

/// A location's stock as `GET /api/stock?location=…` answers it: units per SKU.
pub async fn stock_at(
    http: &reqwest::Client,
    base: &str,
    location: &str,
    token: &str,
) -> BTreeMap<String, i64> {
    get(http, format!("{base}/api/stock?location={location}"), token)
        .await
        .as_array()
        .expect("stock levels")
        .iter()
        .map(|l| (l["sku"].as_str().expect("a sku").to_owned(), l["quantity"].as_i64().expect("a quantity")))
        .collect()
}

/// The shop's oracle on stock and the report, once every checkout has settled: `location` lost
/// exactly the paid units since `opening`, nothing is left reserved (each product's available
/// units equal its stock), and the report's web channel counts exactly the paid orders.
pub async fn check_stock_and_report(
    http: &reqwest::Client,
    base: &str,
    (admin, shopper): (&str, &str),
    location: &str,
    opening: &BTreeMap<String, i64>,
    orders: &[Value],
) {
    let sold = paid_units(orders);
    let now = stock_at(http, base, location, admin).await;
    for (sku, units) in opening {
        let expected = units - sold.get(sku).copied().unwrap_or(0);
        assert_eq!(now[sku], expected, "{sku}");
        let product = get(http, format!("{base}/api/shop/products/{sku}"), shopper).await;
        assert_eq!(
            product["available"].as_i64().expect("available"),
            expected.max(0),
            "{sku}: units left reserved"
        );
    }
    let report =
        get(http, format!("{base}/api/reports/sales?from=2000-01-01&to=2100-01-01&top=1000"), admin).await;
    let web = report["stores"].as_array().expect("stores").iter().find(|s| s["store"] == "WEB").cloned();
    let web = web.expect("the web channel in the report");
    let paid: Vec<&Value> = orders.iter().filter(|o| o["status"] == "paid").collect();
    assert_eq!(web["sales"].as_i64(), Some(paid.len() as i64));
    let collected: i64 = paid.iter().map(|o| o["total_cents"].as_i64().expect("a total")).sum();
    assert_eq!(web["collected"].as_i64(), Some(collected));
    // The totals are folded from a journal by a projector that was killed with the server,
    // mid-batch as often as not: the report caught up before answering, and says so.
    assert_eq!(report["freshness"]["behind"], 0, "{}", report["freshness"]);
}
