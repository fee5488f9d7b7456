//! The online shop end to end over HTTP, on SQLite and on PostgreSQL, against the local card
//! processor (a real HTTP server on loopback) whose own ledger is the oracle for money: what
//! it charged and refunded must match the orders, to the cent.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::shop::{add, checkout, ledger, send, shop_server, sign_up_and_in, start_processor};
use common::{Engine, TestServer, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sync_server::http::processor;
use sync_server::{catalogue, inventory};

async fn stock_at(server: &TestServer, location: &str, sku: &str) -> i64 {
    let levels = server.get_json(&format!("/api/stock?location={location}&sku={sku}")).await;
    levels.as_array().unwrap().first().map_or(0, |l| l["quantity"].as_i64().unwrap())
}

/// Every (location, product) level equals the sum of its movements, and no unit is left reserved.
async fn ledger_balances(server: &TestServer) {
    let sums = inventory::movement_sums(&server.db).await.unwrap();
    let levels = server.get_json("/api/stock").await;
    for level in levels.as_array().unwrap() {
        let key = (level["location"].as_str().unwrap().to_owned(), level["sku"].as_str().unwrap().to_owned());
        assert_eq!(level["quantity"].as_i64().unwrap(), sums.get(&key).copied().unwrap_or(0), "{key:?}");
    }
    assert_eq!(inventory::reserved_total(&server.db).await.unwrap(), 0, "a reservation is left");
}

fn report_row(report: &Value, store: &str) -> Value {
    report["stores"].as_array().unwrap().iter().find(|s| s["store"] == store).cloned().unwrap_or(Value::Null)
}

async fn report(server: &TestServer) -> Value {
    server.get_json("/api/reports/sales?from=2000-01-01&to=2100-01-01&top=100").await
}

async fn from_sign_up_to_delivery_and_a_refunded_cancellation(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 30), ("BAG-01", 30), ("LIV-ROM", 30)]).await;
    let http = &server.http;

    // Browsing needs no sign-in; availability is the logistics centre's stock.
    let page: Value = http
        .get(format!("{}/api/shop/products?q=cafe&max_price=20", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let products = page["products"].as_array().unwrap();
    assert_eq!(products.len(), 1, "{page}");
    assert_eq!(products[0]["sku"], "CAF-250");
    assert_eq!(products[0]["available"], 30);
    let cheap: Value = http
        .get(format!("{}/api/shop/products?max_price=4", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(cheap["products"].as_array().unwrap().iter().all(|p| p["price_cents"].as_i64().unwrap() <= 400));

    let ana = sign_up_and_in(&server, "ana@example.com").await;
    add(&server, &ana, "CAF-250", 2).await;
    add(&server, &ana, "BAG-01", 1).await;
    let cart = add(&server, &ana, "LIV-ROM", 1).await;
    // 2 × 12.99 standard, 3.49 zero-rated, 14.95 GST only.
    assert_eq!(cart["net_cents"], 2 * 1_299 + 349 + 1_495);
    assert_eq!(cart["gst_cents"], 130 + 75);
    assert_eq!(cart["qst_cents"], 259);
    let total = cart["total_cents"].as_i64().unwrap();
    assert_eq!(total, 2_598 + 349 + 1_495 + 130 + 75 + 259);

    let response = checkout(&server, &ana, "key-1", processor::APPROVED).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "paid");
    assert_eq!(order["total_cents"], total);
    let number = order["number"].as_i64().unwrap();

    // The same key answers the same order, and charges nothing more.
    let again: Value = checkout(&server, &ana, "key-1", processor::APPROVED).await.json().await.unwrap();
    assert_eq!(again["number"], number);
    let books = ledger(http, &processor).await;
    assert_eq!(books.charges.len(), 1);
    assert_eq!(books.charges[0].amount_cents, total);
    assert_eq!(order["payment_id"], books.charges[0].id.as_str());

    // The units left the logistics centre in the ledger; the cart is empty; the report shows
    // the online channel beside the stores.
    assert_eq!(stock_at(&server, "LOG", "CAF-250").await, 28);
    let cart: Value =
        send(&server, reqwest::Method::GET, "/api/shop/cart", &ana.access, None).await.json().await.unwrap();
    assert!(cart["lines"].as_array().unwrap().is_empty());
    let web = report_row(&report(&server).await, "WEB");
    assert_eq!(web["sales"], 1);
    assert_eq!(web["collected"], total);
    assert_eq!(web["net_sales"], 2_598 + 349 + 1_495);

    // Logistics picks, ships and delivers it.
    let logistics = |step: &str| {
        let url = format!("{}/api/fulfilment/orders/{number}/{step}", server.base);
        let admin = server.admin.clone();
        async move { http.post(url).bearer_auth(admin).send().await.unwrap() }
    };
    let paid = server.get_json("/api/fulfilment/orders?status=paid").await;
    assert_eq!(paid.as_array().unwrap().len(), 1);
    problem(logistics("shipped").await, StatusCode::CONFLICT).await;
    for step in ["picked", "shipped", "delivered"] {
        assert_eq!(logistics(step).await.status(), StatusCode::OK);
    }
    let delivered: Value =
        send(&server, reqwest::Method::GET, &format!("/api/shop/orders/{number}"), &ana.access, None)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(delivered["status"], "delivered");
    // A delivered order cannot be cancelled online.
    let response =
        send(&server, reqwest::Method::POST, &format!("/api/shop/orders/{number}/cancel"), &ana.access, None)
            .await;
    problem(response, StatusCode::CONFLICT).await;

    // A second order, cancelled before picking: refunded once, units back on the shelf, the
    // report shows the refund.
    add(&server, &ana, "CAF-250", 3).await;
    let second: Value = checkout(&server, &ana, "key-2", processor::APPROVED).await.json().await.unwrap();
    let second_number = second["number"].as_i64().unwrap();
    assert_eq!(stock_at(&server, "LOG", "CAF-250").await, 25);
    for _ in 0..2 {
        let response = send(
            &server,
            reqwest::Method::POST,
            &format!("/api/shop/orders/{second_number}/cancel"),
            &ana.access,
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let cancelled: Value = response.json().await.unwrap();
        assert_eq!(cancelled["status"], "cancelled");
    }
    assert_eq!(stock_at(&server, "LOG", "CAF-250").await, 28);
    let books = ledger(http, &processor).await;
    assert_eq!(books.refunds.len(), 1);
    assert_eq!(books.refunds[0].amount_cents, second["total_cents"].as_i64().unwrap());
    let web = report_row(&report(&server).await, "WEB");
    assert_eq!(web["sales"], 2);
    assert_eq!(web["returns"], 1);
    assert_eq!(web["refunded"], second["total_cents"]);

    // History, newest first.
    let history: Value = send(&server, reqwest::Method::GET, "/api/shop/orders", &ana.access, None)
        .await
        .json()
        .await
        .unwrap();
    let numbers: Vec<i64> =
        history.as_array().unwrap().iter().map(|o| o["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![second_number, number]);
    ledger_balances(&server).await;
    server.finish().await;
}

async fn two_hundred_checkouts_race_for_the_last_ten_units(engine: Engine) {
    let processor = start_processor().await;
    // Two hundred shoppers, all signing in from loopback: one address, far past its limit.
    let gateway = sync_server::http::gateway::Gateway {
        sign_in: sync_server::gateway::limits::Policy::new(1_000, 10_000),
        ..Default::default()
    };
    let settings = sync_server::Settings { gateway, ..Default::default() };
    let server = common::shop::shop_server_with(engine, &processor, &[("CSQ-BT", 10)], settings).await;
    let mut shoppers = Vec::new();
    for i in 0..200 {
        let shopper = sign_up_and_in(&server, &format!("shopper{i}@example.com")).await;
        add(&server, &shopper, "CSQ-BT", 1).await;
        shoppers.push(shopper);
    }
    let server = std::sync::Arc::new(server);
    let mut tasks = Vec::new();
    for (i, shopper) in shoppers.into_iter().enumerate() {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let response = checkout(&server, &shopper, &format!("race-{i}"), processor::APPROVED).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut outcomes: BTreeMap<u16, u32> = BTreeMap::new();
    let mut sold_total = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        *outcomes.entry(status.as_u16()).or_default() += 1;
        match status {
            StatusCode::CREATED => sold_total += body["total_cents"].as_i64().unwrap(),
            StatusCode::CONFLICT => {
                assert_eq!(body["field"], "cart", "{body}");
                assert_eq!(body["sku"], "CSQ-BT");
                assert!(body["detail"].as_str().unwrap().contains("not enough stock"), "{body}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(outcomes, BTreeMap::from([(201, 10), (409, 190)]));
    assert_eq!(stock_at(&server, "LOG", "CSQ-BT").await, 0);
    let books = ledger(&server.http, &processor).await;
    assert_eq!(books.charges.len(), 10, "only the winners were charged");
    assert_eq!(books.charges.iter().map(|c| c.amount_cents).sum::<i64>(), sold_total);
    assert_eq!(report_row(&report(&server).await, "WEB")["collected"], sold_total);
    ledger_balances(&server).await;
    std::sync::Arc::into_inner(server).unwrap().finish().await;
}

async fn declined_failed_and_lost_payments_settle_once(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 5)]).await;
    let ana = sign_up_and_in(&server, "ana@example.com").await;
    add(&server, &ana, "CAF-250", 2).await;

    // Declined: nothing charged, nothing held, the same key says the same.
    for _ in 0..2 {
        let body = problem(
            checkout(&server, &ana, "declined", processor::DECLINED).await,
            StatusCode::PAYMENT_REQUIRED,
        )
        .await;
        assert_eq!(body["field"], "card_number");
        assert!(body["detail"].as_str().unwrap().contains("declined"));
    }
    assert_eq!(inventory::reserved_total(&server.db).await.unwrap(), 0);
    // The processor fails before charging: nothing charged, the order cancelled.
    problem(checkout(&server, &ana, "fails", processor::FAILS).await, StatusCode::BAD_GATEWAY).await;
    assert_eq!(inventory::reserved_total(&server.db).await.unwrap(), 0);
    // The processor charges but its answer is lost: the saga asks it and confirms, once.
    let response = checkout(&server, &ana, "hangs", processor::HANGS).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    let books = ledger(&server.http, &processor).await;
    let charged: Vec<_> = books.charges.iter().filter(|c| c.status == "succeeded").collect();
    assert_eq!(charged.len(), 1);
    assert_eq!(order["payment_id"], charged[0].id.as_str());
    assert_eq!(charged[0].amount_cents, order["total_cents"].as_i64().unwrap());
    assert!(books.refunds.is_empty());
    assert_eq!(stock_at(&server, "LOG", "CAF-250").await, 3);

    // Card numbers never reach the database.
    for sql in [
        "SELECT lines || COALESCE(payment_id, '') || COALESCE(refund_id, '') FROM orders",
        "SELECT idempotency_key || fingerprint || COALESCE(failure, '') FROM checkouts",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(server.db.pool()).await.unwrap();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| !r.contains(processor::HANGS)), "{sql}");
    }
    ledger_balances(&server).await;
    server.finish().await;
}

async fn an_abandoned_checkout_is_finished_by_the_recovery(engine: Engine) {
    let processor = start_processor().await;
    // This server's processor is unreachable: its checkouts cannot learn what became of their charge.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let server = shop_server(engine, &closed, &[("POM-1K", 4)]).await;
    let ana = sign_up_and_in(&server, "ana@example.com").await;
    add(&server, &ana, "POM-1K", 3).await;
    let response = checkout(&server, &ana, "lost", processor::APPROVED).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "the outcome is not known yet");
    let pending: Value = response.json().await.unwrap();
    assert_eq!(pending["status"], "pending_payment");
    assert_eq!(inventory::reserved_total(&server.db).await.unwrap(), 3, "the units stay held meanwhile");
    let product: Value = server
        .http
        .get(format!("{}/api/shop/products/POM-1K", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(product["available"], 1);

    // Another instance, whose processor answers, takes the checkout over once its lease has
    // run out: the processor never charged it, so it is cancelled and the units released.
    let gateway =
        sync_server::shop::payments::HttpProcessor::new(&processor, Duration::from_secs(1)).unwrap();
    let settings = sync_server::shop::Settings { lease: Duration::from_secs(2), ..Default::default() };
    let other =
        sync_server::shop::Shop::new(std::sync::Arc::new(gateway), settings, server.state.passwords.clone());
    let early = sync_server::shop::recovery::round(&other, &server.db).await.unwrap();
    assert_eq!(early.cancelled, 0, "a live lease is left alone");
    server.clock.advance(Duration::from_millis(2_001));
    let done = sync_server::shop::recovery::round(&other, &server.db).await.unwrap();
    assert_eq!(done.cancelled, 1);
    assert_eq!(inventory::reserved_total(&server.db).await.unwrap(), 0);
    let order: Value = send(
        &server,
        reqwest::Method::GET,
        &format!("/api/shop/orders/{}", pending["number"]),
        &ana.access,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(order["status"], "cancelled");
    assert!(ledger(&server.http, &processor).await.charges.is_empty());
    ledger_balances(&server).await;
    server.finish().await;
}

async fn shoppers_see_only_their_own_and_tokens_are_checked(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("BAG-01", 10)]).await;
    let ana = sign_up_and_in(&server, "ana@example.com").await;
    let ben = sign_up_and_in(&server, "ben@example.com").await;
    add(&server, &ana, "BAG-01", 1).await;
    let order: Value = checkout(&server, &ana, "a", processor::APPROVED).await.json().await.unwrap();
    let number = order["number"].as_i64().unwrap();

    // Ben sees neither Ana's order nor her cart, and cannot cancel it.
    let path = format!("/api/shop/orders/{number}");
    problem(send(&server, reqwest::Method::GET, &path, &ben.access, None).await, StatusCode::NOT_FOUND).await;
    let cancel = format!("/api/shop/orders/{number}/cancel");
    problem(send(&server, reqwest::Method::POST, &cancel, &ben.access, None).await, StatusCode::NOT_FOUND)
        .await;
    let bens: Value = send(&server, reqwest::Method::GET, "/api/shop/orders", &ben.access, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(bens.as_array().unwrap().is_empty());
    let cart: Value =
        send(&server, reqwest::Method::GET, "/api/shop/cart", &ben.access, None).await.json().await.unwrap();
    assert!(cart["lines"].as_array().unwrap().is_empty());
    // Ben's checkout is of his own (empty) cart.
    problem(checkout(&server, &ben, "a", processor::APPROVED).await, StatusCode::UNPROCESSABLE_ENTITY).await;

    // A head-office token, a forged token and an expired one are refused.
    problem(
        send(&server, reqwest::Method::GET, "/api/shop/cart", &server.admin, None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let secret: String = sqlx::query_scalar("SELECT secret FROM shop_keys WHERE id = 1")
        .fetch_one(server.db.pool())
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let sid: String = sqlx::query_scalar(
        "SELECT s.id FROM shop_sessions s JOIN customers c ON c.id = s.customer_id WHERE c.email = 'ana@example.com'",
    )
    .fetch_one(server.db.pool())
    .await
    .unwrap();
    let sign = |key: &str, exp: i64, sub: &str| {
        let claims = json!({ "sub": sub, "sid": sid, "iat": now - 100, "exp": exp, "iss": "caisse-shop" });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let ana_id = sqlx::query_scalar::<_, i64>("SELECT id FROM customers WHERE email = 'ana@example.com'")
        .fetch_one(server.db.pool())
        .await
        .unwrap()
        .to_string();
    let genuine = sign(&secret, now + 600, &ana_id);
    assert_eq!(
        send(&server, reqwest::Method::GET, "/api/shop/cart", &genuine, None).await.status(),
        StatusCode::OK
    );
    for token in [
        sign("not the key", now + 600, &ana_id),
        sign(&secret, now - 1, &ana_id),
        sign(&secret, now + 600, "999"),
    ] {
        problem(
            send(&server, reqwest::Method::GET, "/api/shop/cart", &token, None).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }

    // Refresh tokens rotate; one presented twice ends the session.
    let refresh = |token: String| {
        let url = format!("{}/api/shop/sessions/refresh", server.base);
        let http = server.http.clone();
        async move { http.post(url).json(&json!({ "refresh_token": token })).send().await.unwrap() }
    };
    let response = refresh(ana.refresh.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let fresh: Value = response.json().await.unwrap();
    let fresh_access = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        send(&server, reqwest::Method::GET, "/api/shop/cart", &fresh_access, None).await.status(),
        StatusCode::OK
    );
    problem(refresh(ana.refresh.clone()).await, StatusCode::UNAUTHORIZED).await;
    for token in [&fresh_access, &ana.access] {
        problem(
            send(&server, reqwest::Method::GET, "/api/shop/cart", token, None).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    problem(refresh(fresh["refresh_token"].as_str().unwrap().to_owned()).await, StatusCode::UNAUTHORIZED)
        .await;

    // Signing out ends Ben's session at once.
    let response =
        send(&server, reqwest::Method::DELETE, "/api/shop/sessions/current", &ben.access, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    problem(
        send(&server, reqwest::Method::GET, "/api/shop/orders", &ben.access, None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(refresh(ben.refresh.clone()).await, StatusCode::UNAUTHORIZED).await;
    server.finish().await;
}

async fn bad_input_is_refused_naming_the_field_and_changes_nothing(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 5), ("BAG-01", 5)]).await;
    let http = &server.http;
    let sign_up = |body: Value| {
        let url = format!("{}/api/shop/accounts", server.base);
        async move { http.post(url).json(&body).send().await.unwrap() }
    };
    let body = problem(
        sign_up(json!({"email": "not-an-email", "name": "A", "password": "a long enough password"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "email");
    let body = problem(
        sign_up(json!({"email": "a@example.com", "name": "A", "password": "1111111111111"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "password");
    assert!(body["detail"].as_str().unwrap().contains("too easy to guess"));
    let ana = sign_up_and_in(&server, "ana@example.com").await;
    // An address already taken is not said to be (sign-up would tell who is a customer): the
    // answer is the one a new address gets, and the account stays as it was.
    let again =
        sign_up(json!({"email": "ANA@example.com", "name": "A", "password": "another long password"})).await;
    assert_eq!(again.status(), StatusCode::CREATED);

    let line = |sku: &str, quantity: i64| {
        send(
            &server,
            reqwest::Method::POST,
            "/api/shop/cart/lines",
            &ana.access,
            Some(json!({"sku": sku, "quantity": quantity})),
        )
    };
    assert_eq!(problem(line("NOPE-1", 1).await, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "sku");
    for quantity in [0, -1, 21] {
        assert_eq!(
            problem(line("CAF-250", quantity).await, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "quantity"
        );
    }
    // A cart holds 100 lines: the 101st product is refused.
    let mut tx = server.db.begin().await.unwrap();
    let template = shared_model::testing::catalogue().remove(0);
    for i in 0..101 {
        let mut product = template.clone();
        product.sku = shared_model::Sku::parse(&format!("BULK-{i:03}")).unwrap();
        product.barcodes = vec![];
        catalogue::write_product(&mut tx, &product).await.unwrap();
    }
    tx.commit().await.unwrap();
    for i in 0..100 {
        assert_eq!(line(&format!("BULK-{i:03}"), 1).await.status(), StatusCode::OK);
    }
    assert_eq!(problem(line("BULK-100", 1).await, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "sku");
    for i in 0..100 {
        let path = format!("/api/shop/cart/lines/BULK-{i:03}");
        assert_eq!(
            send(&server, reqwest::Method::DELETE, &path, &ana.access, None).await.status(),
            StatusCode::OK
        );
    }

    add(&server, &ana, "CAF-250", 1).await;
    let before = server.snapshot().await;
    // No key, a malformed card, then a key reused for another cart.
    let response = http
        .post(format!("{}/api/shop/checkout", server.base))
        .bearer_auth(&ana.access)
        .json(&json!({ "card_number": processor::APPROVED }))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response, StatusCode::BAD_REQUEST).await["field"], "Idempotency-Key");
    let body =
        problem(checkout(&server, &ana, "k", "4242424242424241").await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(body["field"], "card_number");
    assert_eq!(server.snapshot().await, before, "refused requests changed something");
    assert_eq!(checkout(&server, &ana, "k", processor::APPROVED).await.status(), StatusCode::CREATED);
    add(&server, &ana, "BAG-01", 1).await;
    let body = problem(checkout(&server, &ana, "k", processor::APPROVED).await, StatusCode::CONFLICT).await;
    assert_eq!(body["field"], "Idempotency-Key");
    assert_eq!(ledger(http, &processor).await.charges.len(), 1);
    ledger_balances(&server).await;
    server.finish().await;
}

on_both_engines!(
    from_sign_up_to_delivery_and_a_refunded_cancellation,
    two_hundred_checkouts_race_for_the_last_ten_units,
    declined_failed_and_lost_payments_settle_once,
    an_abandoned_checkout_is_finished_by_the_recovery,
    shoppers_see_only_their_own_and_tokens_are_checked,
    bad_input_is_refused_naming_the_field_and_changes_nothing,
);
