//! Head office's routes behind its pages (issue 13), each run on SQLite and on PostgreSQL:
//! page sessions in a cookie with an anti-forgery token, accounts and roles, the dashboard
//! against the report, how far a product change has reached, replenishment with edited
//! quantities, transfers between stores, alert acknowledgement, and the pages themselves.

mod common;

use common::{ADMIN_PASSWORD, Engine, TestServer, login, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared_model::protocol::{Change, Cursor};
use shared_model::testing::{Act, Pay, build_records, register_of};

on_both_engines!(
    page_sessions_live_in_a_cookie_and_writes_need_the_csrf_token,
    an_admin_manages_accounts_and_roles_are_enforced,
    the_dashboard_adds_up_to_the_report,
    a_product_change_counts_the_registers_it_reached,
    logistics_ships_edited_quantities_and_redistributes_stock,
    alerts_are_acknowledged_and_stay_open,
    the_pages_are_served_with_their_security_headers,
);

/// Signs in as a page does; returns the cookie pair to send and the csrf token.
async fn page_sign_in(server: &TestServer, username: &str, password: &str) -> (String, String) {
    let response = server
        .http
        .post(format!("{}/api/auth/session", server.base))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    let body: Value = response.json().await.unwrap();
    assert!(body.get("token").is_none(), "a page never sees its session token: {body}");
    assert_eq!(body["username"], username);
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    (cookie, body["csrf"].as_str().unwrap().to_owned())
}

async fn page_sessions_live_in_a_cookie_and_writes_need_the_csrf_token(engine: Engine) {
    let server = TestServer::start(engine).await;
    let (cookie, csrf) = page_sign_in(&server, "admin", ADMIN_PASSWORD).await;
    let me = server
        .http
        .get(format!("{}/api/auth/me", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!((me["role"].as_str(), me["csrf"].as_str()), (Some("admin"), Some(csrf.as_str())));

    let new_user = json!({ "username": "marie", "role": "manager", "password": "a long enough password" });
    let url = format!("{}/api/users", server.base);
    // A write by cookie without the token, or with another session's, is what a forged
    // request from another site looks like: refused, and nothing is created.
    let bare = server.http.post(&url).header("cookie", &cookie).json(&new_user).send().await.unwrap();
    problem(bare, StatusCode::FORBIDDEN).await;
    let forged = server
        .http
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(64))
        .json(&new_user)
        .send()
        .await
        .unwrap();
    problem(forged, StatusCode::FORBIDDEN).await;
    assert_eq!(server.count("users").await, 1);
    let made = server
        .http
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    // A bearer token needs no anti-forgery token: a browser never sends one on its own.
    let listed = server.get_json("/api/users").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let out = server
        .http
        .post(format!("{}/api/auth/logout", server.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let after = server
        .http
        .get(format!("{}/api/auth/me", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    problem(after, StatusCode::UNAUTHORIZED).await;
    let wrong = server
        .http
        .post(format!("{}/api/auth/session", server.base))
        .json(&json!({ "username": "admin", "password": "not the password" }))
        .send()
        .await
        .unwrap();
    assert!(wrong.headers().get("set-cookie").is_none());
    problem(wrong, StatusCode::UNAUTHORIZED).await;
    server.finish().await;
}

async fn send(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    server
        .http
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

const PASSWORD: &str = "twelve chars or more";

/// A sign-in attempt, answered as it comes.
async fn attempt(server: &TestServer, username: &str, password: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn an_admin_manages_accounts_and_roles_are_enforced(engine: Engine) {
    use reqwest::Method;
    let server = TestServer::start(engine).await;
    let admin = server.admin.clone();
    for (name, role) in [("marie", "manager"), ("luc", "logistics")] {
        let made = send(
            &server,
            &admin,
            Method::POST,
            "/api/users",
            json!({ "username": name, "role": role, "password": PASSWORD }),
        )
        .await;
        assert_eq!(made.status(), StatusCode::CREATED);
    }
    let again = send(
        &server,
        &admin,
        Method::POST,
        "/api/users",
        json!({ "username": "marie", "role": "manager", "password": PASSWORD }),
    )
    .await;
    problem(again, StatusCode::CONFLICT).await;
    for (body, field) in [
        (json!({ "username": "x", "role": "manager", "password": PASSWORD }), "username"),
        (json!({ "username": "paul", "role": "boss", "password": PASSWORD }), "role"),
        (json!({ "username": "paul", "role": "manager", "password": "short" }), "password"),
    ] {
        let refused = send(&server, &admin, Method::POST, "/api/users", body).await;
        assert_eq!(problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["field"], field);
    }
    let manager = login(&server.http, &server.base, "marie", PASSWORD).await;
    let logistics = login(&server.http, &server.base, "luc", PASSWORD).await;

    // Logistics cannot edit prices; a manager cannot revoke registers or see accounts.
    let product = json!({ "name": "Café", "category": "Test", "price": "1.00", "tax_class": "standard", "reorder_threshold": 5 });
    let forged = send(&server, &logistics, Method::PUT, "/api/products/CAF-250", product.clone()).await;
    problem(forged, StatusCode::FORBIDDEN).await;
    let priced = send(&server, &manager, Method::PUT, "/api/products/CAF-250", product).await;
    assert_eq!(priced.status(), StatusCode::OK);
    server.enrol(&register_of(0)).await;
    let revoke = send(
        &server,
        &manager,
        Method::POST,
        &format!("/api/registers/{}/revoke", register_of(0)),
        json!({}),
    )
    .await;
    problem(revoke, StatusCode::FORBIDDEN).await;
    let users =
        server.http.get(format!("{}/api/users", server.base)).bearer_auth(&manager).send().await.unwrap();
    problem(users, StatusCode::FORBIDDEN).await;
    let report = server
        .http
        .get(format!("{}/api/reports/sales?from=2026-01-01&to=2026-01-31", server.base))
        .bearer_auth(&logistics)
        .send()
        .await
        .unwrap();
    problem(report, StatusCode::FORBIDDEN).await;

    // Disabling ends the sessions and stops sign-in; enabling lets them back.
    let own = send(&server, &admin, Method::POST, "/api/users/admin/disable", json!({})).await;
    problem(own, StatusCode::CONFLICT).await;
    let disabled = send(&server, &admin, Method::POST, "/api/users/luc/disable", json!({})).await;
    assert_eq!(disabled.status(), StatusCode::OK);
    let gone =
        server.http.get(format!("{}/api/stock", server.base)).bearer_auth(&logistics).send().await.unwrap();
    problem(gone, StatusCode::UNAUTHORIZED).await;
    let refused = attempt(&server, "luc", PASSWORD).await;
    problem(refused, StatusCode::FORBIDDEN).await;
    let enabled = send(&server, &admin, Method::POST, "/api/users/luc/enable", json!({})).await;
    assert_eq!(enabled.status(), StatusCode::OK);
    login(&server.http, &server.base, "luc", PASSWORD).await;

    // A reset password replaces the old one and ends the sessions.
    let reset = send(
        &server,
        &admin,
        Method::POST,
        "/api/users/marie/password",
        json!({ "new_password": "another long password" }),
    )
    .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let old =
        server.http.get(format!("{}/api/stock", server.base)).bearer_auth(&manager).send().await.unwrap();
    problem(old, StatusCode::UNAUTHORIZED).await;
    let stale = attempt(&server, "marie", PASSWORD).await;
    problem(stale, StatusCode::UNAUTHORIZED).await;
    login(&server.http, &server.base, "marie", "another long password").await;
    let missing = send(
        &server,
        &admin,
        Method::POST,
        "/api/users/nobody/password",
        json!({ "new_password": "another long password" }),
    )
    .await;
    problem(missing, StatusCode::NOT_FOUND).await;

    let accounts = server.get_json("/api/users").await;
    let roles: Vec<(&str, &str, bool)> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (a["username"].as_str().unwrap(), a["role"].as_str().unwrap(), a["disabled"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(roles, [("admin", "admin", false), ("luc", "logistics", false), ("marie", "manager", false)]);
    server.finish().await;
}

fn sale(lines: Vec<(usize, u32, Option<u32>)>, pay: Pay) -> Act {
    Act::Sale { lines, pay }
}

async fn the_dashboard_adds_up_to_the_report(engine: Engine) {
    let server = TestServer::start(engine).await;
    let one = server.enrol(&register_of(0)).await;
    let two = server.enrol(&register_of(2)).await;
    let silent = register_of(4);
    server.enrol(&silent).await;
    let plans = [
        vec![
            sale(vec![(0, 2, None), (1, 1, None)], Pay::Cash { extra: 500 }),
            sale(vec![(4, 1, None)], Pay::Debit),
            Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: true },
        ],
        Vec::new(),
        vec![sale(vec![(2, 3, None)], Pay::Credit), sale(vec![(0, 1, None)], Pay::Debit)],
    ];
    let records = build_records(&plans);
    // What the records add up to, folded in memory apart from the server: each store's net
    // takings (sales less refunds, before tax) on the day they were made.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let mut oracle = shared_model::projection::SalesReport::default();
    for record in &records {
        shared_model::projection::Projection::apply(&mut oracle, record);
    }
    let expected: std::collections::BTreeMap<String, i64> = oracle
        .days
        .keys()
        .map(|(store, _)| {
            let t = oracle.store_total(store, day, day);
            (store.to_string(), t.net_sales.as_cents() - t.net_refunds.as_cents())
        })
        .collect();
    assert_eq!(expected.len(), 2, "two stores sold: {expected:?}");
    assert!(expected.values().all(|cents| *cents > 0), "{expected:?}");
    let (mine, theirs): (Vec<_>, Vec<_>) = records.into_iter().partition(|r| r.origin == register_of(0));
    server.push(&one, &mine).await;
    server.push(&two, &theirs).await;
    server.pull(&one, Cursor::default()).await;
    server.pull(&two, Cursor::default()).await;
    // A maximum of 1 for the coffee makes every location that holds more of it overstocked.
    let capped = send(
        &server,
        &server.admin,
        reqwest::Method::PUT,
        "/api/products/CAF-250",
        json!({ "name": "Café espresso 250 g", "category": "Test", "price": "12.99", "tax_class": "standard", "reorder_threshold": 0, "max_level": 1, "description": "Torréfié à Montréal.\nGrains entiers." }),
    )
    .await;
    assert_eq!(capped.status(), StatusCode::OK);
    let details = server.get_json("/api/catalogue?q=CAF").await;
    assert_eq!(details[0]["max_level"], 1);
    assert_eq!(details[0]["description"], "Torréfié à Montréal.\nGrains entiers.");
    let transfer = json!({ "from": "S1", "to": "S2", "lines": [{ "sku": "CAF-250", "quantity": 1 }] });
    // S1 sold coffee it never received: it holds less than nothing, so it cannot send any.
    let refused = send(&server, &server.admin, reqwest::Method::POST, "/api/transfers", transfer).await;
    problem(refused, StatusCode::CONFLICT).await;

    let now = sync_server::db::now_ms();
    let dashboard = sync_server::dashboard::dashboard(&server.db, day, now).await.unwrap();
    let dashboard = serde_json::to_value(&dashboard).unwrap();
    let report = server.get_json("/api/reports/sales?from=2026-11-20&to=2026-11-20").await;
    let reported: std::collections::BTreeMap<String, i64> = report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let revenue = s["net_sales"].as_i64().unwrap() - s["net_refunds"].as_i64().unwrap();
            (s["store"].as_str().unwrap().to_owned(), revenue)
        })
        .collect();
    assert_eq!(reported, expected, "the report against the records");
    // The CSV carries every column the page shows, to the cent: revenue is worked out from it.
    let csv = server
        .http
        .get(format!("{}/api/reports/sales?from=2026-11-20&to=2026-11-20&format=csv", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for column in
        ["sales", "returns", "net_sales", "gst", "qst", "collected", "net_refunds", "refunded", "redated"]
    {
        assert!(header.contains(&column), "{column} missing from {header:?}");
    }
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let cents = |text: &str| (text.parse::<f64>().unwrap() * 100.0).round() as i64;
    let mut from_csv = std::collections::BTreeMap::new();
    for line in lines.clone().filter(|l| l.starts_with("store,") && !l.starts_with("store,ALL,")) {
        let row: Vec<&str> = line.split(',').collect();
        from_csv
            .insert(row[at("key")].to_owned(), cents(row[at("net_sales")]) - cents(row[at("net_refunds")]));
        let figures =
            report["stores"].as_array().unwrap().iter().find(|s| s["store"] == row[at("key")]).unwrap();
        assert_eq!(row[at("redated")], figures["redated"].to_string());
        assert_eq!(cents(row[at("refunded")]), figures["refunded"].as_i64().unwrap());
    }
    assert_eq!(from_csv, expected, "revenue from the CSV");
    // Top products are ranked by revenue, with their names.
    let top = report["top_products"].as_array().unwrap();
    assert!(top.len() > 1, "{top:?}");
    assert!(top.windows(2).all(|w| w[0]["net"].as_i64() >= w[1]["net"].as_i64()), "{top:?}");
    assert!(top.iter().all(|p| !p["name"].as_str().unwrap().is_empty()), "{top:?}");
    let products: Vec<&str> = lines.filter(|l| l.starts_with("product,")).collect();
    assert_eq!(products.len(), top.len());
    let first: Vec<&str> = products[0].split(',').collect();
    assert_eq!(first[at("key")], top[0]["sku"].as_str().unwrap());
    assert_eq!(first[at("name")], top[0]["name"].as_str().unwrap());
    assert_eq!(cents(first[at("net")]), top[0]["net"].as_i64().unwrap());
    // ...and in `net_sales`, where readers of the first ten columns find a product's revenue.
    assert_eq!(cents(first[at("net_sales")]), top[0]["net"].as_i64().unwrap(), "{}", products[0]);
    // Every store has its row on the dashboard, one that sold nothing at zero.
    let rows = dashboard["revenue"].as_array().unwrap();
    let mut codes: Vec<&str> = rows.iter().map(|r| r["location"].as_str().unwrap()).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["S1", "S2", "S3", "S4"]);
    for row in rows {
        let code = row["location"].as_str().unwrap();
        let revenue = expected.get(code).copied().unwrap_or(0);
        assert_eq!(
            (row["today_cents"].as_i64(), row["week_cents"].as_i64(), row["month_cents"].as_i64()),
            (Some(revenue), Some(revenue), Some(revenue)),
            "{code}"
        );
    }
    for (code, revenue) in &expected {
        let series =
            dashboard["trend"]["series"].as_array().unwrap().iter().find(|s| s["location"] == *code).unwrap();
        assert_eq!(series["cents"].as_array().unwrap().last().unwrap().as_i64(), Some(*revenue), "{code}");
    }
    assert_eq!(dashboard["trend"]["weeks"].as_array().unwrap().last().unwrap(), "2026-11-16");
    assert_eq!(dashboard["revenue"].as_array().unwrap().len(), 4, "every store, even one that sold nothing");
    // The day after, nothing was sold: today is zero, the week still counts.
    let next = sync_server::dashboard::dashboard(&server.db, day.succ_opt().unwrap(), now).await.unwrap();
    let s1 = next.revenue.iter().find(|r| r.location == "S1").unwrap();
    assert_eq!(s1.today_cents, 0);
    assert!(s1.week_cents > 0);

    let outs: Vec<(String, String)> = dashboard["stock_outs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["location"].as_str().unwrap().to_owned(), l["sku"].as_str().unwrap().to_owned()))
        .collect();
    assert!(outs.contains(&("S1".into(), "CAF-250".into())), "{outs:?}");
    assert!(dashboard["overstock"].as_array().unwrap().is_empty(), "nobody holds coffee yet");
    let stale: Vec<&str> =
        dashboard["stale_registers"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(stale, [silent.as_str()]);
    assert!(dashboard["open_alerts"].as_u64().unwrap() > 0, "selling below zero is flagged");

    // Logistics sends coffee to S2: more than its maximum there, so S2 is overstocked.
    let requests = build_records(&[Vec::new(), vec![Act::Replenish { product: 0, quantity: 5 }]]);
    let three = server.enrol(&register_of(1)).await;
    server.push(&three, &requests).await;
    server.seed_stock("LOG", "CAF-250", 5).await;
    let approve = send(
        &server,
        &server.admin,
        reqwest::Method::POST,
        &format!("/api/replenishments/{}/decision", requests[0].id),
        json!({ "decision": "approved" }),
    )
    .await;
    assert_eq!(approve.status(), StatusCode::OK);
    let _ = two;
    let receipt_free = sync_server::dashboard::dashboard(&server.db, day, now).await.unwrap();
    assert!(receipt_free.overstock.is_empty(), "goods in flight are on nobody's shelf");
    server.finish().await;
}

async fn reach(server: &TestServer, sku: &str) -> (i64, i64) {
    let reach = server.get_json(&format!("/api/products/{sku}/reach")).await;
    (reach["reached"].as_i64().unwrap(), reach["registers"].as_i64().unwrap())
}

async fn a_product_change_counts_the_registers_it_reached(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secrets = [
        server.enrol(&register_of(0)).await,
        server.enrol(&register_of(1)).await,
        server.enrol(&register_of(2)).await,
    ];
    let mut cursors = Vec::new();
    for secret in &secrets {
        cursors.push(server.pull_all(secret, Cursor::default()).await.1);
    }
    assert_eq!(reach(&server, "BAG-01").await, (3, 3));
    let product = json!({ "name": "Baguette", "category": "Test", "price": "3.79", "tax_class": "zero_rated", "reorder_threshold": 5 });
    let saved = send(&server, &server.admin, reqwest::Method::PUT, "/api/products/BAG-01", product).await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert_eq!(reach(&server, "BAG-01").await, (0, 3));
    let (changes, _) = server.pull_all(&secrets[0], cursors[0]).await;
    assert!(
        changes.iter().any(
            |c| matches!(c, Change::Product(p) if p.sku.as_str() == "BAG-01" && p.price.as_cents() == 379)
        )
    );
    assert_eq!(reach(&server, "BAG-01").await, (1, 3));
    // A revoked register will never pull it: it no longer counts.
    let revoked = send(
        &server,
        &server.admin,
        reqwest::Method::POST,
        &format!("/api/registers/{}/revoke", register_of(2)),
        json!({}),
    )
    .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(reach(&server, "BAG-01").await, (1, 2));
    server.pull_all(&secrets[1], cursors[1]).await;
    assert_eq!(reach(&server, "BAG-01").await, (2, 2));
    // A change registers do not carry is not sent to them: the reach stays.
    let described = json!({ "name": "Baguette", "category": "Test", "price": "3.79", "tax_class": "zero_rated", "reorder_threshold": 5, "description": "Cuite le matin" });
    let saved = send(&server, &server.admin, reqwest::Method::PUT, "/api/products/BAG-01", described).await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert_eq!(reach(&server, "BAG-01").await, (2, 2));
    let unknown = server
        .http
        .get(format!("{}/api/products/NOPE-1/reach", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    problem(unknown, StatusCode::NOT_FOUND).await;
    server.finish().await;
}

async fn level(server: &TestServer, location: &str, sku: &str) -> i64 {
    let levels = server.get_json(&format!("/api/stock?location={location}&sku={sku}")).await;
    levels.as_array().unwrap().first().map_or(0, |l| l["quantity"].as_i64().unwrap())
}

async fn logistics_ships_edited_quantities_and_redistributes_stock(engine: Engine) {
    use reqwest::Method;
    let server = TestServer::start(engine).await;
    let made = send(
        &server,
        &server.admin,
        Method::POST,
        "/api/users",
        json!({ "username": "luc", "role": "logistics", "password": PASSWORD }),
    )
    .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let logistics = login(&server.http, &server.base, "luc", PASSWORD).await;
    let one = server.enrol(&register_of(0)).await;
    let (_, cursor) = server.pull_all(&one, Cursor::default()).await;
    let mut records = build_records(&[vec![
        Act::Replenish { product: 0, quantity: 12 },
        Act::Replenish { product: 1, quantity: 4 },
        Act::Transfer { product: 0, quantity: 5 },
    ]]);
    let mut receipt = records.pop().unwrap();
    server.push(&one, &records).await;
    server.seed_stock("LOG", "CAF-250", 7).await;
    let decide = |id: String, body: Value| {
        let logistics = logistics.clone();
        let server = &server;
        async move {
            send(server, &logistics, Method::POST, &format!("/api/replenishments/{id}/decision"), body).await
        }
    };
    let first = records[0].id.to_string();
    for (body, field) in [
        (json!({ "decision": "rejected" }), "note"),
        (json!({ "decision": "approved", "lines": [{ "sku": "BAG-01", "quantity": 1 }] }), "lines[0].sku"),
        (json!({ "decision": "approved", "lines": [{ "sku": "CAF-250", "quantity": 0 }] }), "lines"),
        (
            json!({ "decision": "approved", "lines": [{ "sku": "CAF-250", "quantity": 10000 }] }),
            "lines[0].quantity",
        ),
    ] {
        let refused = decide(first.clone(), body).await;
        assert_eq!(problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["field"], field);
    }
    let pending = server.get_json("/api/replenishments?status=pending").await;
    assert_eq!(pending.as_array().unwrap().len(), 2);
    // Short numbers in the order head office learnt of the requests, and the products' names.
    assert_eq!((pending[0]["number"].as_i64(), pending[1]["number"].as_i64()), (Some(1), Some(2)));
    assert_eq!(pending[0]["names"]["CAF-250"].as_str().map(|n| !n.is_empty()), Some(true), "{pending}");
    // The centre holds 7: it cannot ship the 12 asked for, and the request stays pending.
    let short = decide(first.clone(), json!({ "decision": "approved" })).await;
    assert!(problem(short, StatusCode::CONFLICT).await["detail"].as_str().unwrap().contains("LOG has 7"));
    let approved = decide(
        first.clone(),
        json!({ "decision": "approved", "lines": [{ "sku": "CAF-250", "quantity": 5 }] }),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let rejected = decide(
        records[1].id.to_string(),
        json!({ "decision": "rejected", "note": "Plus de baguettes cette semaine" }),
    )
    .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    assert_eq!(level(&server, "LOG", "CAF-250").await, 2);
    let (changes, _) = server.pull_all(&one, cursor).await;
    let shipped: Vec<u32> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Transfer(t) => Some(t.lines.iter().map(|l| l.quantity.get()).sum()),
            _ => None,
        })
        .collect();
    assert_eq!(shipped, [5], "the edited quantity is what ships");
    let open = server.get_json("/api/transfers?open=true").await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["to"], "S1");
    assert_eq!(open[0]["number"], 1);
    assert!(open[0]["names"]["CAF-250"].is_string(), "{open}");

    // S1 receives it; then logistics moves two of the five to S2, which has none.
    let transfer = match changes.iter().find(|c| matches!(c, Change::Transfer(_))) {
        Some(Change::Transfer(t)) => t.clone(),
        _ => unreachable!(),
    };
    receipt.body = shared_model::RecordBody::TransferReceived(shared_model::stock::TransferReceipt {
        transfer: transfer.transfer,
        from: transfer.from.clone(),
        lines: transfer.lines.clone(),
    });
    server.push(&one, &[receipt]).await;
    assert_eq!(level(&server, "S1", "CAF-250").await, 5);
    assert!(server.get_json("/api/transfers?open=true").await.as_array().unwrap().is_empty());
    let too_many = send(
        &server,
        &logistics,
        Method::POST,
        "/api/transfers",
        json!({ "from": "S1", "to": "S2", "lines": [{ "sku": "CAF-250", "quantity": 6 }] }),
    )
    .await;
    problem(too_many, StatusCode::CONFLICT).await;
    for (body, field) in [
        (json!({ "from": "S1", "to": "S1", "lines": [{ "sku": "CAF-250", "quantity": 1 }] }), "to"),
        (json!({ "from": "S1", "to": "LOG", "lines": [{ "sku": "CAF-250", "quantity": 1 }] }), "to"),
        (json!({ "from": "S9", "to": "S2", "lines": [{ "sku": "CAF-250", "quantity": 1 }] }), "from"),
        (json!({ "from": "S1", "to": "S2", "lines": [] }), "lines"),
    ] {
        let refused = send(&server, &logistics, Method::POST, "/api/transfers", body).await;
        assert_eq!(problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["field"], field);
    }
    let moved = send(
        &server,
        &logistics,
        Method::POST,
        "/api/transfers",
        json!({ "from": "S1", "to": "S2", "lines": [{ "sku": "CAF-250", "quantity": 2 }] }),
    )
    .await;
    assert_eq!(moved.status(), StatusCode::CREATED);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["started_by"], "luc");
    assert_eq!(moved["number"], 2);
    assert_eq!(level(&server, "S1", "CAF-250").await, 3);
    let open = server.get_json("/api/transfers?open=true").await;
    assert_eq!((open[0]["from"].as_str(), open[0]["to"].as_str()), (Some("S1"), Some("S2")));
    server.finish().await;
}

async fn alerts_are_acknowledged_and_stay_open(engine: Engine) {
    let server = TestServer::start(engine).await;
    let one = server.enrol(&register_of(0)).await;
    // Selling with no stock takes the level below zero: a negative-stock alert.
    server.push(&one, &build_records(&[vec![sale(vec![(3, 1, None)], Pay::Debit)]])).await;
    let open = server.get_json("/api/alerts?kind=negative_stock").await;
    let alert = &open[0];
    assert!(alert["acknowledged_by"].is_null());
    // A code and its parameters for the pages to word, and the English sentence for the rest.
    assert_eq!(alert["code"], "stock_negative");
    assert_eq!(alert["params"], json!({ "sku": alert["sku"], "location": "S1", "quantity": "-1" }));
    assert!(alert["message"].as_str().unwrap().contains("more was sold than was on hand"));
    let body = json!({ "kind": alert["kind"], "subject": alert["subject"] });
    let done = send(&server, &server.admin, reqwest::Method::POST, "/api/alerts/acknowledge", body).await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let open = server.get_json("/api/alerts?kind=negative_stock").await;
    assert_eq!(open[0]["acknowledged_by"], "admin");
    assert!(open[0]["resolved_ms"].is_null(), "acknowledged is not resolved");
    let unknown = send(
        &server,
        &server.admin,
        reqwest::Method::POST,
        "/api/alerts/acknowledge",
        json!({ "kind": "low_stock", "subject": "nothing" }),
    )
    .await;
    problem(unknown, StatusCode::NOT_FOUND).await;
    server.finish().await;
}

async fn the_pages_are_served_with_their_security_headers(engine: Engine) {
    let server = TestServer::start(engine).await;
    let page = server.http.get(format!("{}/", server.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(html.contains("<html"), "{html}");
    // Any other path without a file name is the same single page; a missing file is a 404.
    let deep = server.http.get(format!("{}/dashboard", server.base)).send().await.unwrap();
    assert_eq!(deep.status(), StatusCode::OK);
    let missing = server.http.get(format!("{}/assets/nothing-here.js", server.base)).send().await.unwrap();
    problem(missing, StatusCode::NOT_FOUND).await;
    let api = server.http.get(format!("{}/api/no-such-route", server.base)).send().await.unwrap();
    problem(api, StatusCode::NOT_FOUND).await;
    let events = server.http.get(format!("{}/api/events", server.base)).send().await.unwrap();
    problem(events, StatusCode::UNAUTHORIZED).await;
    server.finish().await;
}
