//! Issue 24, an attacker's review of the online shop, on SQLite and on PostgreSQL: one cart
//! checked out several times at once is ordered and charged once, and no refund or store credit
//! gives back more than the order was paid, whatever amount is asked. The card processor's own
//! ledger is the oracle for money.

mod common;

use common::shop::{add, checkout, ledger, send, shop_server, sign_up_and_in, start_processor};
use common::{Engine, TestServer, problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sync_server::http::processor;

async fn orders_of_the_shop(server: &TestServer) -> i64 {
    server.count("orders").await
}

async fn four_checkouts_of_one_cart_with_four_keys_order_and_charge_once(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 50)]).await;
    let ana = sign_up_and_in(&server, "ana@example.com").await;
    let cart = add(&server, &ana, "CAF-250", 2).await;
    let total = cart["total_cents"].as_i64().unwrap();

    let server = std::sync::Arc::new(server);
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (server, access) = (server.clone(), ana.access.clone());
        tasks.push(tokio::spawn(async move {
            let shopper = common::shop::Shopper { access, refresh: String::new() };
            let response = checkout(&server, &shopper, &format!("attack-{i}"), processor::APPROVED).await;
            (i, response.status(), response.json::<Value>().await.unwrap())
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        let (i, status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => won.push((i, body)),
            StatusCode::CONFLICT => {
                assert_eq!(body["field"], "cart", "{body}");
                assert!(body["detail"].as_str().unwrap().contains("cart"), "{body}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(won.len(), 1, "one checkout of the cart wins, not {}", won.len());
    let (winner, order) = won.remove(0);
    assert_eq!(orders_of_the_shop(&server).await, 1);
    let books = ledger(&server.http, &processor).await;
    assert_eq!(books.charges.len(), 1, "charged once: {books:?}");
    assert_eq!(books.charges[0].amount_cents, total);

    // The winner's key retried answers its order; a new key finds the cart checked out.
    let again = checkout(&server, &ana, &format!("attack-{winner}"), processor::APPROVED).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap()["number"], order["number"]);
    let late = checkout(&server, &ana, "attack-late", processor::APPROVED).await;
    assert_eq!(problem(late, StatusCode::CONFLICT).await["field"], "cart");
    assert_eq!(orders_of_the_shop(&server).await, 1);
    assert_eq!(ledger(&server.http, &processor).await.charges.len(), 1);
    std::sync::Arc::into_inner(server).unwrap().finish().await;
}

async fn a_declined_cart_can_be_checked_out_again(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 5)]).await;
    let ana = sign_up_and_in(&server, "ana@example.com").await;
    add(&server, &ana, "CAF-250", 2).await;
    let cart: Value =
        send(&server, Method::GET, "/api/shop/cart", &ana.access, None).await.json().await.unwrap();
    let version = cart["version"].as_i64().expect("the cart shows its version");

    let declined = checkout(&server, &ana, "first", processor::DECLINED).await;
    assert_eq!(problem(declined, StatusCode::PAYMENT_REQUIRED).await["field"], "card_number");
    // The same key still says the same; the cart is still there, usable.
    problem(checkout(&server, &ana, "first", processor::APPROVED).await, StatusCode::PAYMENT_REQUIRED).await;
    let cart: Value =
        send(&server, Method::GET, "/api/shop/cart", &ana.access, None).await.json().await.unwrap();
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1);
    assert!(cart["version"].as_i64().unwrap() > version, "a failed checkout gives the cart a new version");

    let paid = checkout(&server, &ana, "second", processor::APPROVED).await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let order: Value = paid.json().await.unwrap();
    let books = ledger(&server.http, &processor).await;
    let charged: Vec<_> = books.charges.iter().filter(|c| c.status == "succeeded").collect();
    assert_eq!(charged.len(), 1);
    assert_eq!(charged[0].amount_cents, order["total_cents"].as_i64().unwrap());
    server.finish().await;
}

async fn a_cart_still_being_paid_is_not_checked_out_again(engine: Engine) {
    // This processor is unreachable: the checkout cannot learn what became of its charge.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let server = shop_server(engine, &closed, &[("POM-1K", 10)]).await;
    let ana = sign_up_and_in(&server, "ana@example.com").await;
    add(&server, &ana, "POM-1K", 3).await;
    let pending = checkout(&server, &ana, "lost", processor::APPROVED).await;
    assert_eq!(pending.status(), StatusCode::ACCEPTED);

    // Later, with another key, the same cart: refused, and nothing more ordered or held.
    let body =
        problem(checkout(&server, &ana, "again", processor::APPROVED).await, StatusCode::CONFLICT).await;
    assert_eq!(body["field"], "cart");
    // The first key still answers the first checkout.
    assert_eq!(checkout(&server, &ana, "lost", processor::APPROVED).await.status(), StatusCode::ACCEPTED);
    // Changing the cart does not let its lines, still being paid, be ordered a second time.
    add(&server, &ana, "POM-1K", 1).await;
    let body =
        problem(checkout(&server, &ana, "changed", processor::APPROVED).await, StatusCode::CONFLICT).await;
    assert_eq!(body["field"], "cart");
    assert_eq!(server.count("orders").await, 1);
    assert_eq!(sync_server::inventory::reserved_total(&server.db).await.unwrap(), 3);
    server.finish().await;
}

/// A claim about line 1 (the first; lines count from 1) of a paid order, started by the admin; answers the claim's id and the
/// order.
async fn claim_in_progress(server: &TestServer) -> (String, Value) {
    let ana = sign_up_and_in(server, "ana@example.com").await;
    add(server, &ana, "CAF-250", 2).await;
    let order: Value = checkout(server, &ana, "k", processor::APPROVED).await.json().await.unwrap();
    let number = order["number"].as_i64().unwrap();
    let filed = send(
        server,
        Method::POST,
        "/api/shop/claims",
        &ana.access,
        Some(json!({
            "order": number, "kind": "damaged_item",
            "lines": [{ "line_number": 1, "quantity": 2 }], "description": "both bags torn"
        })),
    )
    .await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let id = filed.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    for action in ["assign", "start"] {
        let response = act(server, &id, action, json!({})).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    }
    (id, order)
}

async fn act(server: &TestServer, id: &str, action: &str, body: Value) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/claims/{id}/{action}", server.base))
        .bearer_auth(&server.admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn resolve(server: &TestServer, id: &str, kind: &str, amount: i64) -> reqwest::Response {
    let body = json!({ "outcome": { "type": kind, "amount_cents": amount }, "reason": "torn" });
    act(server, id, "resolve", body).await
}

async fn store_credit_and_refunds_never_exceed_what_was_paid(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 10)]).await;
    let (id, order) = claim_in_progress(&server).await;
    let total = order["total_cents"].as_i64().unwrap();
    let before =
        (server.snapshot().await, server.count("claim_events").await, server.count("claim_refunds").await);

    // A billion dollars of credit on a 25.98 order, i64::MAX, one cent past the order: 422,
    // naming the field, and nothing written.
    for kind in ["store_credit", "refund"] {
        for amount in [100_000_000_000, i64::MAX, total + 1] {
            let body =
                problem(resolve(&server, &id, kind, amount).await, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(body["field"], "outcome.amount_cents", "{kind} {amount}: {body}");
        }
    }
    let after =
        (server.snapshot().await, server.count("claim_events").await, server.count("claim_refunds").await);
    assert_eq!(after, before, "refused resolutions changed something");

    // What was paid is given back once: a refund of all of it, then no credit on top.
    let resolved = resolve(&server, &id, "refund", total).await;
    assert_eq!(resolved.status(), StatusCode::OK, "{}", resolved.text().await.unwrap());
    for action in ["close"] {
        assert_eq!(act(&server, &id, action, json!({})).await.status(), StatusCode::OK);
    }
    let admin_reopen = act(&server, &id, "reopen", json!({ "reason": "more" })).await;
    assert_eq!(admin_reopen.status(), StatusCode::OK, "{}", admin_reopen.text().await.unwrap());
    assert_eq!(act(&server, &id, "start", json!({})).await.status(), StatusCode::OK);
    let body =
        problem(resolve(&server, &id, "store_credit", 1).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "outcome.amount_cents");
    let books = ledger(&server.http, &processor).await;
    assert_eq!(books.refunds.iter().map(|r| r.amount_cents).sum::<i64>(), total);
    server.finish().await;
}

on_both_engines!(
    four_checkouts_of_one_cart_with_four_keys_order_and_charge_once,
    a_declined_cart_can_be_checked_out_again,
    a_cart_still_being_paid_is_not_checked_out_again,
    store_credit_and_refunds_never_exceed_what_was_paid,
);
