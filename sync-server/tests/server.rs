//! The sync server's scenarios, each run on SQLite and on PostgreSQL.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Engine, TestServer, batch_of, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared_model::hlc::Hlc;
use shared_model::projection::{ChainView, Projection};
use shared_model::protocol::{Change, Cursor, Decision, Outcome};
use shared_model::testing::{Act, Pay, build_records, register_of};
use shared_model::{Record, RecordBody};

on_both_engines!(
    pushing_again_changes_nothing,
    a_push_cut_before_its_answer_is_stored_once,
    holds_stops_at_the_first_gap,
    bad_input_is_refused_and_stores_nothing,
    a_catalogue_change_reaches_every_register,
    replenishment_reaches_only_the_requesting_store,
    the_merge_matches_the_oracle,
    a_return_before_its_sale_is_linked_when_the_sale_arrives,
    selling_the_last_unit_twice_is_accepted_and_flagged,
    a_skewed_clock_is_flagged,
    operations_routes_answer,
    head_office_sign_in_and_roles,
    a_refused_record_does_not_hold_back_the_ones_behind_it,
    a_transfer_received_twice_is_flagged,
    cashiers_reach_only_their_store,
    concurrent_over_returns_are_flagged,
    pages_asked_for_together_answer_as_the_oracle_does,
);

fn sale(lines: Vec<(usize, u32, Option<u32>)>, pay: Pay) -> Act {
    Act::Sale { lines, pay }
}

/// A day at one register: sales of every kind of payment, a return, a count, a close.
fn a_day() -> Vec<Act> {
    vec![
        sale(vec![(0, 2, None), (1, 1, None)], Pay::Cash { extra: 500 }),
        sale(vec![(2, 1, None)], Pay::Debit),
        sale(vec![(3, 3, Some(1_000))], Pay::Credit),
        sale(vec![(4, 1, None), (5, 2, None)], Pay::Split { card_share: 40 }),
        Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: true },
        Act::Count { product: 1, counted: 7, expected: 9 },
        Act::Adjust { product: 2, delta: -1 },
        Act::Replenish { product: 0, quantity: 12 },
        sale(vec![(0, 1, None)], Pay::Cash { extra: 0 }),
        Act::Close,
    ]
}

async fn pushing_again_changes_nothing(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    let records = build_records(&[a_day()]);

    let first = server.push(&secret, &records).await;
    assert!(first.verdicts.iter().all(|v| v.outcome == Outcome::Accepted));
    assert_eq!(first.holds, records.len() as u64);
    let after_first = server.snapshot().await;
    assert_eq!(after_first["records"], records.len());
    assert_eq!(after_first["sales"], 5);

    let again = server.push(&secret, &records).await;
    assert!(again.verdicts.iter().all(|v| v.outcome == Outcome::Duplicate));
    assert_eq!(again.holds, records.len() as u64);

    // A replay in another order, with copies inside the batch.
    let mut replay: Vec<Record> = records.iter().rev().cloned().collect();
    replay.extend(records[..3].iter().cloned());
    let replayed = server.push(&secret, &replay).await;
    assert!(replayed.verdicts.iter().all(|v| v.outcome == Outcome::Duplicate));
    assert_eq!(server.snapshot().await, after_first);
    server.finish().await;
}

/// A proxy that forwards one request to the server and closes the client's connection as
/// soon as the answer starts: the server did the work, the register never heard back.
async fn cut_after_request(server: std::net::SocketAddr) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let upstream = tokio::net::TcpStream::connect(server).await.unwrap();
                let (mut client_read, client_write) = client.into_split();
                let (mut up_read, mut up_write) = upstream.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut up_write).await;
                });
                let mut first = [0u8; 1];
                let _ = up_read.read(&mut first).await;
                let mut client_write = client_write;
                let _ = client_write.shutdown().await;
                drop(client_write);
            });
        }
    });
    addr
}

async fn a_push_cut_before_its_answer_is_stored_once(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    let records = build_records(&[a_day()]);
    let proxy = cut_after_request(server.addr).await;

    let cut = server
        .http
        .post(format!("http://{proxy}/api/sync/push"))
        .bearer_auth(&secret)
        .body(batch_of(&records))
        .send()
        .await;
    match cut {
        Err(_) => {}
        Ok(response) => assert!(response.text().await.is_err(), "the proxy should have cut the answer"),
    }
    // The register retries directly: everything is already there, once.
    let retry = server.push(&secret, &records).await;
    assert!(retry.verdicts.iter().all(|v| v.outcome == Outcome::Duplicate), "{retry:?}");
    assert_eq!(retry.holds, records.len() as u64);
    let snapshot = server.snapshot().await;
    assert_eq!(snapshot["records"], records.len());
    assert_eq!(snapshot["sales"], 5);
    server.finish().await;
}

async fn holds_stops_at_the_first_gap(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    let records = build_records(&[a_day()]);
    let answer = server.push(&secret, &[records[0].clone(), records[1].clone(), records[3].clone()]).await;
    assert_eq!(answer.holds, 2);
    let answer = server.push(&secret, &[records[2].clone()]).await;
    assert_eq!(answer.holds, 4);
    let registers = server.get_json("/api/registers").await;
    assert_eq!(registers[0]["holds"], 4);
    assert!(registers[0]["last_push_ms"].is_i64());
    server.finish().await;
}

/// Sends the head of a push declaring `length` bytes of body, and returns what the server answers.
async fn head_only_push(addr: std::net::SocketAddr, secret: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/sync/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {secret}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = stream.read(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

fn with(record: &Record, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(&record.encode()).unwrap();
    edit(&mut value);
    let raw = serde_json::value::RawValue::from_string(value.to_string()).unwrap();
    shared_model::protocol::Message::encode(&shared_model::protocol::PushBatch { records: vec![raw] })
}

async fn bad_input_is_refused_and_stores_nothing(engine: Engine) {
    let settings = sync_server::Settings { body_limit: 1024 * 1024, ..Default::default() };
    let server = TestServer::start_with(engine, settings).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    let other_secret = server.enrol(&register_of(2)).await;
    let records = build_records(&[a_day()]);
    let before = server.snapshot().await;
    let sale = &records[0];

    // Malformed JSON.
    let body =
        problem(server.push_raw(&secret, "{\"format\":1,\"push\":".into()).await, StatusCode::BAD_REQUEST)
            .await;
    assert!(body["field"].is_string());
    // A protocol version from the future.
    let body = problem(
        server.push_raw(&secret, "{\"format\":2,\"push\":{\"records\":[]}}".into()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["field"], "format");
    // A record format from the future.
    let body = problem(
        server.push_raw(&secret, with(sale, |v| v["format"] = json!(2))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "records[0].format");
    assert!(body["detail"].as_str().unwrap().contains("format 2 is not supported"));
    // A record for another store, from this register.
    let body = problem(
        server.push_raw(&secret, with(sale, |v| v["record"]["store"] = json!("S2"))).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("store S2"), "{body}");
    // A forged origin: this register pushing another's record.
    let body =
        problem(server.push_raw(&other_secret, batch_of(&records[..1])).await, StatusCode::FORBIDDEN).await;
    assert!(body["detail"].as_str().unwrap().contains("claims to come from register S1-01"), "{body}");
    // Negative, zero and absurd quantities.
    for quantity in [json!(-1), json!(0), json!(100_000)] {
        let edit = |v: &mut Value| v["record"]["body"]["sale"]["lines"][0]["quantity"] = quantity.clone();
        let body =
            problem(server.push_raw(&secret, with(sale, edit)).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["field"], "records[0].record.body.sale.lines[0].quantity", "{body}");
    }
    // A total that its lines do not make.
    let edit = |v: &mut Value| v["record"]["body"]["sale"]["totals"]["total"] = json!(1);
    let body =
        problem(server.push_raw(&secret, with(sale, edit)).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["detail"].as_str().unwrap().contains("the lines and tenders make"), "{body}");
    // A batch over the record limit, and a body over the byte limit.
    let many: Vec<Record> = build_records(&[vec![Act::Close; 1_001]]);
    problem(server.push_raw(&secret, batch_of(&many)).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    // The server refuses on the declared length, before the body is sent: only the head is written.
    let answer = head_only_push(server.addr, &secret, 2 << 20).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
    // One good record beside a bad one: the batch is refused whole, and the bad one named.
    let mixed = {
        let bad: Value =
            serde_json::from_str(&records[1].encode().replace("\"seq\":2", "\"seq\":0")).unwrap();
        let raws = vec![
            serde_json::value::RawValue::from_string(records[0].encode()).unwrap(),
            serde_json::value::RawValue::from_string(bad.to_string()).unwrap(),
        ];
        shared_model::protocol::Message::encode(&shared_model::protocol::PushBatch { records: raws })
    };
    let body = problem(server.push_raw(&secret, mixed).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["refused"].as_array().unwrap().len(), 1);
    assert_eq!(body["refused"][0]["index"], 1);
    // No credential, an unknown one, a revoked one.
    problem(server.push_raw("", batch_of(&records)).await, StatusCode::UNAUTHORIZED).await;
    problem(server.push_raw("not-a-secret", batch_of(&records)).await, StatusCode::UNAUTHORIZED).await;
    let revoke = server
        .http
        .post(format!("{}/api/registers/S2-01/revoke", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let body = problem(server.push_raw(&other_secret, batch_of(&[])).await, StatusCode::UNAUTHORIZED).await;
    assert!(body["detail"].as_str().unwrap().contains("revoked"));
    // An enrolment code used twice, or expired.
    let code = sync_server::identity::issue_enrolment_code(&server.db, &register).await.unwrap();
    let enrol = |code: String| {
        server.http.post(format!("{}/api/registers/enrol", server.base)).json(&json!({ "code": code })).send()
    };
    assert_eq!(enrol(code.clone()).await.unwrap().status(), StatusCode::OK);
    let body = problem(enrol(code).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "code");
    let code = sync_server::identity::issue_enrolment_code(&server.db, &register).await.unwrap();
    sqlx::query("UPDATE enrolment_codes SET expires_ms = 0 WHERE used_ms IS NULL")
        .execute(server.db.pool())
        .await
        .unwrap();
    let body = problem(enrol(code).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["detail"].as_str().unwrap().contains("expired"));

    // Nothing reached the ledger; the refused records wait in the dead-letter table.
    assert_eq!(server.snapshot().await, before);
    let letters = server.get_json("/api/dead-letters").await;
    assert_eq!(letters.as_array().unwrap().len(), 6, "{letters}");
    server.finish().await;
}

async fn a_catalogue_change_reaches_every_register(engine: Engine) {
    let server = TestServer::start(engine).await;
    let one = server.enrol(&register_of(0)).await;
    let two = server.enrol(&register_of(2)).await;
    let (changes, cursor_one) = server.pull_all(&one, Cursor::default()).await;
    let products = changes.iter().filter(|c| matches!(c, Change::Product(_))).count();
    assert_eq!(products, shared_model::testing::catalogue().len());
    assert!(changes.iter().any(|c| matches!(c, Change::Location(l) if l.code.as_str() == "LOG")));
    let (_, cursor_two) = server.pull_all(&two, Cursor::default()).await;

    let listed = |server: &TestServer| {
        let url = format!("{}/api/products?q=espresso&limit=5", server.base);
        let http = server.http.clone();
        async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(listed(&server).await[0]["price"], 1_299);
    let update = json!({
        "name": "Café espresso 250 g", "category": "Café", "barcodes": ["0620000000116"],
        "price": "13.49", "tax_class": "zero_rated", "reorder_threshold": 6
    });
    let response = server
        .http
        .put(format!("{}/api/products/CAF-250", server.base))
        .bearer_auth(&server.admin)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());

    // The list this instance answered a moment ago is not served stale after the write.
    assert_eq!(listed(&server).await[0]["price"], 1_349);
    for (secret, cursor) in [(&one, cursor_one), (&two, cursor_two)] {
        let (changes, _) = server.pull_all(secret, cursor).await;
        assert_eq!(changes.len(), 1, "{changes:?}");
        match &changes[0] {
            Change::Product(p) => {
                assert_eq!(p.price.as_cents(), 1_349);
                assert_eq!(p.tax_class, shared_model::TaxClass::ZeroRated);
            }
            other => panic!("expected the product, got {other:?}"),
        }
    }
    // A bad update changes nothing and says which field is wrong.
    let bad = json!({ "name": "x", "category": "y", "price": "12.345", "tax_class": "standard", "reorder_threshold": 1 });
    let response = server
        .http
        .put(format!("{}/api/products/CAF-250", server.base))
        .bearer_auth(&server.admin)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "price");
    assert!(server.pull(&one, server.pull_all(&one, Cursor::default()).await.1).await.changes.is_empty());
    server.finish().await;
}

async fn replenishment_reaches_only_the_requesting_store(engine: Engine) {
    let server = TestServer::start(engine).await;
    let one = server.enrol(&register_of(0)).await;
    let other = server.enrol(&register_of(2)).await;
    let (_, cursor_one) = server.pull_all(&one, Cursor::default()).await;
    let (_, cursor_other) = server.pull_all(&other, Cursor::default()).await;
    let records = build_records(&[vec![Act::Replenish { product: 0, quantity: 12 }]]);
    server.push(&one, &records).await;
    server.seed_stock("LOG", "CAF-250", 20).await;

    let pending = server.get_json("/api/replenishments?status=pending").await;
    assert_eq!(pending[0]["id"], records[0].id.to_string());
    let url = format!("{}/api/replenishments/{}/decision", server.base, records[0].id);
    let approve = server
        .http
        .post(&url)
        .bearer_auth(&server.admin)
        .json(&json!({ "decision": "approved" }))
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), StatusCode::OK);
    let again = server
        .http
        .post(&url)
        .bearer_auth(&server.admin)
        .json(&json!({ "decision": "rejected", "note": "too late" }))
        .send()
        .await
        .unwrap();
    problem(again, StatusCode::CONFLICT).await;

    let (changes, _) = server.pull_all(&one, cursor_one).await;
    let transfer = changes.iter().find_map(|c| match c {
        Change::Transfer(t) => Some(t.clone()),
        _ => None,
    });
    let transfer = transfer.expect("the transfer reaches the store");
    assert_eq!(transfer.lines[0].quantity.get(), 12);
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::ReplenishmentDecision(d) if d.decision == Decision::Approved))
    );
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::StockLevel(l) if l.location.as_str() == "LOG" && l.quantity == 8))
    );
    let (seen_elsewhere, _) = server.pull_all(&other, cursor_other).await;
    assert!(
        !seen_elsewhere.iter().any(|c| matches!(c, Change::Transfer(_) | Change::ReplenishmentDecision(_)))
    );
    server.finish().await;
}

/// Random days at four registers, pushed in random batches with random copies and gaps:
/// the server's ledger equals the fold of the records by shared-model's merge rules.
async fn the_merge_matches_the_oracle(engine: Engine) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    for seed in 0..4u64 {
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[seed as u8; 32]),
        );
        let plans = shared_model::testing::plans_strategy(4, 15).new_tree(&mut runner).unwrap().current();
        let records = build_records(&plans);
        let server = TestServer::start(engine).await;
        let mut secrets = BTreeMap::new();
        for index in 0..4 {
            secrets.insert(register_of(index), server.enrol(&register_of(index)).await);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut deliveries: Vec<Record> = records.clone();
        for _ in 0..records.len() / 2 {
            deliveries.push(records[rng.random_range(0..records.len().max(1))].clone());
        }
        deliveries.shuffle(&mut rng);
        for chunk in deliveries.chunks(7) {
            for (register, secret) in &secrets {
                let mine: Vec<Record> = chunk.iter().filter(|r| &r.origin == register).cloned().collect();
                if !mine.is_empty() {
                    server.push(secret, &mine).await;
                }
            }
        }

        let mut oracle = ChainView::default();
        for record in &records {
            oracle.apply(record);
        }
        let sums = sync_server::inventory::movement_sums(&server.db).await.unwrap();
        let expected: BTreeMap<(String, String), i64> =
            oracle.stock.iter().map(|((l, s), d)| ((l.to_string(), s.to_string()), d)).collect();
        assert_eq!(sums, expected, "seed {seed}");
        // Loop over the oracle, so that a level or a store missing from the server's answer
        // fails instead of passing unseen; then make sure the server has nothing more.
        let levels = server.get_json("/api/stock").await;
        let held: BTreeMap<(String, String), i64> = levels
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let key = (l["location"].as_str().unwrap().to_owned(), l["sku"].as_str().unwrap().to_owned());
                (key, l["quantity"].as_i64().unwrap())
            })
            .collect();
        for (key, quantity) in &expected {
            assert_eq!(held.get(key), Some(quantity), "seed {seed} {key:?}");
        }
        assert!(held.keys().all(|k| expected.contains_key(k)), "seed {seed}: levels the oracle has not");
        let report = server.get_json("/api/reports/sales?from=2000-01-01&to=2100-01-01&top=1000").await;
        let by_store: BTreeMap<String, &Value> = report["stores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["store"].as_str().unwrap().to_owned(), s))
            .collect();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let stores: BTreeSet<shared_model::LocationCode> =
            oracle.sales.days.keys().map(|(store, _)| store.clone()).collect();
        for code in &stores {
            let store = by_store
                .get(code.as_str())
                .unwrap_or_else(|| panic!("seed {seed}: {code} missing from the report"));
            let t = oracle.sales.store_total(code, day, day);
            assert_eq!(store["sales"].as_u64(), Some(t.sales), "seed {seed}");
            assert_eq!(store["returns"].as_u64(), Some(t.returns), "seed {seed}");
            assert_eq!(store["collected"].as_i64(), Some(t.collected.as_cents()), "seed {seed}");
            assert_eq!(store["refunded"].as_i64(), Some(t.refunded.as_cents()), "seed {seed}");
        }
        assert_eq!(by_store.len(), stores.len(), "seed {seed}: stores the oracle has not");
        let over: BTreeSet<String> =
            oracle.returnable.over_returns().iter().map(|o| format!("{}/{}", o.sale, o.line)).collect();
        let flagged: BTreeSet<String> = server
            .get_json("/api/alerts?kind=over_return")
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["subject"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(flagged, over, "seed {seed}");
        assert_eq!(server.count("records").await, records.len() as i64);
        server.finish().await;
    }
}

async fn a_return_before_its_sale_is_linked_when_the_sale_arrives(engine: Engine) {
    let server = TestServer::start(engine).await;
    let seller = server.enrol(&register_of(0)).await;
    let returner = server.enrol(&register_of(2)).await;
    // Register 1 (store S2) takes back one unit of register 0's first sale while both are offline.
    let plans = vec![
        vec![sale(vec![(0, 2, None)], Pay::Debit)],
        vec![],
        vec![Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: false }],
    ];
    let records = build_records(&plans);
    let (sale_record, return_record) = (&records[0], &records[1]);
    server.push(&returner, std::slice::from_ref(return_record)).await;
    let open = server.get_json("/api/alerts?kind=over_return").await;
    assert!(open[0]["message"].as_str().unwrap().contains("has not received"), "{open}");

    server.push(&seller, std::slice::from_ref(sale_record)).await;
    assert_eq!(server.get_json("/api/alerts?kind=over_return").await, json!([]));
    let lookup = server
        .http
        .get(format!("{}/api/sync/sales/{}", server.base, sale_record.id))
        .bearer_auth(&returner)
        .send()
        .await
        .unwrap();
    let lookup: Value = lookup.json().await.unwrap();
    assert_eq!(lookup["returned"]["0"], 1);
    // The receipt's short number (its register and sequence number) finds the same sale,
    // typed as printed or not; one that names no sale, or the return, finds nothing.
    let by_number = |number: String| {
        server.http.get(format!("{}/api/sync/sales/{number}", server.base)).bearer_auth(&returner).send()
    };
    let origin = sale_record.origin.as_str();
    for typed in
        [format!("{origin}-{:06}", sale_record.seq), format!("{}-{}", origin.to_lowercase(), sale_record.seq)]
    {
        let answer = by_number(typed.clone()).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{typed}");
        assert_eq!(answer.json::<Value>().await.unwrap(), lookup, "{typed}");
    }
    let return_number = format!("{}-{:06}", return_record.origin, return_record.seq);
    problem(by_number(return_number).await.unwrap(), StatusCode::NOT_FOUND).await;
    problem(by_number(format!("{origin}-999999")).await.unwrap(), StatusCode::NOT_FOUND).await;
    let refused = problem(by_number("S1-01-".into()).await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert_eq!(refused["field"], "id");
    server.finish().await;
}

async fn selling_the_last_unit_twice_is_accepted_and_flagged(engine: Engine) {
    let server = TestServer::start(engine).await;
    let a = server.enrol(&register_of(0)).await;
    let b = server.enrol(&register_of(1)).await;
    // One unit on hand at S1, sold at both tills while offline.
    let plans = vec![
        vec![Act::Transfer { product: 4, quantity: 1 }, sale(vec![(4, 1, None)], Pay::Debit)],
        vec![sale(vec![(4, 1, None)], Pay::Credit)],
    ];
    let records = build_records(&plans);
    server.push(&a, &records[..2]).await;
    let answer = server.push(&b, &records[2..]).await;
    assert_eq!(answer.verdicts[0].outcome, Outcome::Accepted);
    let level = server.get_json("/api/stock?location=S1&sku=CSQ-BT").await;
    assert_eq!(level[0]["quantity"], -1);
    let alerts = server.get_json("/api/alerts?kind=negative_stock").await;
    assert_eq!(alerts[0]["subject"], "S1/CSQ-BT");
    server.finish().await;
}

async fn a_skewed_clock_is_flagged(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    let mut records = build_records(&[vec![Act::Close]]);
    // The register learnt server time (its stamp) but its own clock reads a day earlier.
    records[0].hlc = Hlc::new(records[0].device_time_ms + 86_400_000, 0);
    server.push(&secret, &records).await;
    let alerts = server.get_json("/api/alerts?kind=clock_skew").await;
    assert_eq!(alerts[0]["subject"], "S1-01", "{alerts}");
    server.finish().await;
}

async fn operations_routes_answer(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    server.push(&secret, &build_records(&[a_day()])).await;
    let health = server.http.get(format!("{}/health", server.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let metrics =
        server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    for name in [
        "caisse_http_requests_total",
        "caisse_http_request_duration_seconds",
        "caisse_records_ingested_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
    let openapi: Value = server
        .http
        .get(format!("{}/api/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in
        ["/api/sync/push", "/api/sync/pull", "/api/products", "/api/reports/sales", "/health", "/metrics"]
    {
        assert!(openapi["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    let csv = server
        .http
        .get(format!("{}/api/reports/sales?from=2026-11-01&to=2026-11-30&format=csv", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("section,key,sales,returns"));
    assert!(csv.lines().any(|l| l.starts_with("store,S1,5,1,")), "{csv}");
    let response = server.http.get(format!("{}/api/nowhere", server.base)).send().await.unwrap();
    problem(response, StatusCode::NOT_FOUND).await;
    let response = server
        .http
        .get(format!("{}/api/reports/sales?from=2026-13-01&to=2026-11-30", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response, StatusCode::BAD_REQUEST).await["field"], "from");
    server.finish().await;
}

async fn head_office_sign_in_and_roles(engine: Engine) {
    let server = TestServer::start(engine).await;
    let wrong = server
        .http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": "admin", "password": "nope" }))
        .send()
        .await
        .unwrap();
    problem(wrong, StatusCode::UNAUTHORIZED).await;
    problem(
        server.http.get(format!("{}/api/stock", server.base)).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    sync_server::identity::create_user(
        &server.db,
        "logi",
        "ship-it-now",
        sync_server::identity::Role::Logistics,
    )
    .await
    .unwrap();
    let token = common::login(&server.http, &server.base, "logi", "ship-it-now").await;
    let update = json!({ "name": "x", "category": "y", "price": "1.00", "tax_class": "standard", "reorder_threshold": 1 });
    let response = server
        .http
        .put(format!("{}/api/products/CAF-250", server.base))
        .bearer_auth(&token)
        .json(&update)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
    let stock =
        server.http.get(format!("{}/api/stock", server.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(stock.status(), StatusCode::OK);
    let cashier = json!({ "id": 42, "name": "Nouvelle caissière", "store": "S1", "pin": "2468" });
    let created = server
        .http
        .post(format!("{}/api/cashiers", server.base))
        .bearer_auth(&server.admin)
        .json(&cashier)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let secret = server.enrol(&register_of(0)).await;
    let (changes, _) = server.pull_all(&secret, Cursor::default()).await;
    let pulled = changes.iter().find_map(|c| match c {
        Change::Cashier(c) if c.id.get() == 42 => Some(c.clone()),
        _ => None,
    });
    assert!(sync_server::identity::verify_password(
        "2468",
        &pulled.expect("the cashier reaches the register").pin_hash
    ));
    server.finish().await;
}

#[test]
fn records_in_these_scenarios_pass_their_checks() {
    for record in build_records(&[a_day()]) {
        record.check().unwrap();
        assert!(!matches!(record.body, RecordBody::Sale(ref s) if s.lines.is_empty()));
    }
}

async fn a_refused_record_does_not_hold_back_the_ones_behind_it(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    let records = build_records(&[a_day()]);
    let bad = with(&records[1], |v| v["record"]["body"]["sale"]["totals"]["total"] = json!(1));
    problem(server.push_raw(&secret, bad).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    // The register marks seq 2 rejected and pushes everything else.
    let rest: Vec<Record> = records.iter().filter(|r| r.seq != 2).cloned().collect();
    let answer = server.push(&secret, &rest).await;
    assert_eq!(answer.holds, records.len() as u64, "the refused seq is settled, not a gap");
    assert_eq!(server.count("records").await, records.len() as i64 - 1);
    server.finish().await;
}

async fn a_transfer_received_twice_is_flagged(engine: Engine) {
    let server = TestServer::start(engine).await;
    let a = server.enrol(&register_of(0)).await;
    let b = server.enrol(&register_of(1)).await;
    // Both registers of S1 receive the same (unknown) transfer while offline.
    let plans = vec![
        vec![Act::Transfer { product: 0, quantity: 5 }],
        vec![Act::Transfer { product: 0, quantity: 5 }],
    ];
    let records = build_records(&plans);
    server.push(&a, &records[..1]).await;
    let alerts = server.get_json("/api/alerts?kind=transfer_mismatch").await;
    assert!(alerts[0]["message"].as_str().unwrap().contains("never shipped"), "{alerts}");
    server.push(&b, &records[1..]).await;
    let alerts = server.get_json("/api/alerts?kind=transfer_mismatch").await;
    assert!(alerts[0]["message"].as_str().unwrap().contains("received 2 times"), "{alerts}");
    // The goods are on the shelf: stock counts both receipts until a person corrects it.
    assert_eq!(server.get_json("/api/stock?location=S1&sku=CAF-250").await[0]["quantity"], 10);
    server.finish().await;
}

async fn cashiers_reach_only_their_store(engine: Engine) {
    let server = TestServer::start(engine).await;
    let s1 = server.enrol(&register_of(0)).await;
    let s2 = server.enrol(&register_of(2)).await;
    let save = |store: &str| {
        let body = json!({ "id": 77, "name": "Jeanne", "store": store, "pin": "1357" });
        server
            .http
            .post(format!("{}/api/cashiers", server.base))
            .bearer_auth(&server.admin)
            .json(&body)
            .send()
    };
    assert_eq!(save("S1").await.unwrap().status(), StatusCode::OK);
    let cashiers = |changes: Vec<Change>| -> Vec<(u32, bool)> {
        changes
            .into_iter()
            .filter_map(|c| match c {
                Change::Cashier(c) => Some((c.id.get(), c.active)),
                _ => None,
            })
            .collect()
    };
    let (seen_s1, cursor_s1) = server.pull_all(&s1, Cursor::default()).await;
    let (seen_s2, cursor_s2) = server.pull_all(&s2, Cursor::default()).await;
    assert_eq!(cashiers(seen_s1), vec![(77, true)]);
    assert_eq!(cashiers(seen_s2), vec![]);
    // Jeanne moves to S2: S1 learns she is no longer its cashier.
    assert_eq!(save("S2").await.unwrap().status(), StatusCode::OK);
    assert_eq!(cashiers(server.pull_all(&s1, cursor_s1).await.0), vec![(77, false)]);
    assert_eq!(cashiers(server.pull_all(&s2, cursor_s2).await.0), vec![(77, true)]);
    server.finish().await;
}

/// Two stores take back the only unit of one sale at the same moment: whichever order the
/// two pushes commit in, the over-return is flagged.
async fn concurrent_over_returns_are_flagged(engine: Engine) {
    let server = TestServer::start(engine).await;
    let seller = server.enrol(&register_of(0)).await;
    let two = server.enrol(&register_of(2)).await;
    let three = server.enrol(&register_of(4)).await;
    let rounds = 8u64;
    let mut plans = vec![Vec::new(); 5];
    for _ in 0..rounds {
        plans[0].push(sale(vec![(0, 1, None)], Pay::Debit));
    }
    for seq in 1..=rounds {
        for index in [2, 4] {
            plans[index].push(Act::Return {
                register: 0,
                seq,
                line: 0,
                quantity: 1,
                restock: true,
                cash: false,
            });
        }
    }
    let records = build_records(&plans);
    let of =
        |index: usize| records.iter().filter(|r| r.origin == register_of(index)).cloned().collect::<Vec<_>>();
    server.push(&seller, &of(0)).await;
    let (returns_two, returns_three) = (of(2), of(4));
    for round in 0..rounds as usize {
        let (a, b) = tokio::join!(
            server.push(&two, std::slice::from_ref(&returns_two[round])),
            server.push(&three, std::slice::from_ref(&returns_three[round]))
        );
        assert_eq!(
            (a.verdicts[0].outcome.clone(), b.verdicts[0].outcome.clone()),
            (Outcome::Accepted, Outcome::Accepted)
        );
    }
    let flagged = server.get_json("/api/alerts?kind=over_return").await;
    assert_eq!(flagged.as_array().unwrap().len(), rounds as usize, "{flagged}");
    server.finish().await;
}

/// Many pages of the product list asked for at once (on PostgreSQL, read together in shared
/// statements) each answer what a filter over the whole catalogue in memory answers.
async fn pages_asked_for_together_answer_as_the_oracle_does(engine: Engine) {
    use proptest::strategy::{Strategy, ValueTree};
    use shared_model::catalogue::ProductInfo;
    use shared_model::{Barcode, Money, Sku, TaxClass};
    use sync_server::catalogue::{self, ProductQuery, ShopFilter};

    let server = TestServer::start(engine).await;
    // A catalogue with names that fold (accents, case), shared categories, retired products,
    // and products with no barcode, one barcode or two.
    let names = ["Café", "THÉ vert", "Crème", "Savon", "Pâte", "Bol", "Œuf"];
    let categories = ["Épicerie", "Maison", "Librairie"];
    for i in 0..60_u32 {
        let barcodes =
            (0..i % 3).map(|k| Barcode::with_check_digit(&format!("7760{:04}{k:04}", i)).unwrap()).collect();
        let product = ProductInfo {
            sku: Sku::parse(&format!("T-{:03}", (i * 37) % 101)).unwrap(),
            name: format!("{} n°{i}", names[i as usize % names.len()]),
            category: categories[i as usize % categories.len()].to_owned(),
            barcodes,
            price: Money::from_cents(i64::from(100 + (i * 53) % 900)).unwrap(),
            tax_class: TaxClass::Standard,
            reorder_threshold: 2,
            active: i % 7 != 3,
        };
        catalogue::save_product(&server.db, &product, true).await.unwrap();
    }
    let everything = server
        .state
        .listing
        .products(&ProductQuery { limit: Some(500), ..Default::default() })
        .await
        .unwrap();
    assert!(everything.len() > 60, "the test's products and the starting catalogue");
    let skus: Vec<String> = everything.iter().map(|p| p.sku.to_string()).collect();

    let words = ["", "cafe", "THE", "creme", "t-0", "oeuf", "n°1", "zzz"];
    let wanted = (
        proptest::option::of(0..words.len()),
        proptest::option::of(0..categories.len()),
        proptest::option::of(0..skus.len()),
        1_u32..30,
        proptest::option::of(100_i64..1_000),
        proptest::option::of(100_i64..1_000),
        proptest::bool::ANY,
    );
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let asked: Vec<(ProductQuery, ShopFilter)> = (0..300)
        .map(|_| {
            let (word, category, after, limit, min, max, on_sale_only) =
                wanted.new_tree(&mut runner).unwrap().current();
            let query = ProductQuery {
                q: word.map(|w| words[w].to_owned()),
                category: category.map(|c| categories[c].to_owned()),
                barcode: None,
                limit: Some(limit),
                after: after.map(|a| skus[a].clone()),
            };
            let filter = ShopFilter {
                min_price: min.map(|c| Money::from_cents(c).unwrap()),
                max_price: max.map(|c| Money::from_cents(c).unwrap()),
                on_sale_only,
            };
            (query, filter)
        })
        .collect();

    let oracle = |query: &ProductQuery, filter: &ShopFilter| -> Vec<ProductInfo> {
        let word = query.q.as_deref().map(|q| shared_model::text::fold(q.trim()));
        // Past `after` in the list's own order (the database's collation orders SKUs).
        let from =
            query.after.as_deref().map_or(0, |after| skus.iter().position(|s| s == after).unwrap() + 1);
        everything[from..]
            .iter()
            .filter(|p| {
                word.as_deref().is_none_or(|w| {
                    shared_model::text::fold(&p.name).contains(w) || p.sku.as_str().to_lowercase().contains(w)
                })
            })
            .filter(|p| query.category.as_deref().is_none_or(|c| p.category == c))
            .filter(|p| filter.min_price.is_none_or(|min| p.price >= min))
            .filter(|p| filter.max_price.is_none_or(|max| p.price <= max))
            .filter(|p| !filter.on_sale_only || p.active)
            .take(query.limit.unwrap() as usize)
            .cloned()
            .collect()
    };
    let before = server.state.listing.counts().statements.load(std::sync::atomic::Ordering::Relaxed);
    let answers = futures_util::future::join_all(
        asked.iter().map(|(query, filter)| server.state.listing.search(query, *filter)),
    )
    .await;
    for ((query, filter), answer) in asked.iter().zip(answers) {
        assert_eq!(answer.unwrap(), oracle(query, filter), "{query:?} {filter:?}");
    }
    let statements =
        server.state.listing.counts().statements.load(std::sync::atomic::Ordering::Relaxed) - before;
    match engine {
        Engine::Sqlite => assert_eq!(statements, 300, "SQLite reads each page alone"),
        // Read together: pages of one shape that waited together share a statement.
        Engine::Postgres => assert!(statements < 300, "{statements} statements for 300 pages"),
    }

    // A barcode is an exact lookup, read alone on both engines.
    let code = everything.iter().find(|p| p.barcodes.len() == 2).unwrap();
    let query = ProductQuery { barcode: Some(code.barcodes[1].to_string()), ..Default::default() };
    assert_eq!(server.state.listing.products(&query).await.unwrap(), vec![code.clone()]);
    server.finish().await;
}
