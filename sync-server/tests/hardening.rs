//! What an attacker or a careless integrator tried against head office, each run on SQLite and
//! on PostgreSQL: extreme numbers in every record, hostile text, sign-in floods, enrolment
//! guessing, made-up methods, oversized refusals. Every answer is a 4xx problem or a flag;
//! nothing breaks a later read.

mod common;

use std::collections::BTreeSet;

use common::{Engine, TestServer, at_path, batch_of, login, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared_model::hlc::Hlc;
use shared_model::sale::{Sale, SaleLine};
use shared_model::testing::{Act, Pay, build_records, register_of};
use shared_model::{Money, Quantity, Record, RecordBody, RecordId, Sku, TaxClass, Tender};

on_both_engines!(
    extreme_numbers_in_any_record_never_break_a_report,
    a_total_past_what_head_office_keeps_is_refused_alone,
    hostile_text_is_refused_alike_on_both_engines,
    a_record_the_database_refuses_does_not_stick_the_queue,
    sign_ins_are_bounded_and_throttled,
    sessions_end_and_passwords_change,
    enrolment_codes_are_one_live_short_and_throttled,
    product_writes_refuse_duplicates_and_floods,
    twenty_managers_creating_one_sku_at_once_make_one_product,
    dead_letters_are_bounded_deduplicated_and_paged,
    unknown_things_in_records_are_flagged,
    a_register_clock_ahead_is_filed_under_today,
    every_error_is_a_problem_and_metrics_stay_bounded,
);

/// One record of each kind, from register 0 (store S1).
fn one_of_each_kind() -> Vec<Record> {
    build_records(&[vec![
        Act::Sale { lines: vec![(0, 2, Some(1_000)), (3, 1, None)], pay: Pay::Split { card_share: 40 } },
        Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: true },
        Act::Count { product: 1, counted: 7, expected: 5 },
        Act::Adjust { product: 2, delta: -3 },
        Act::Transfer { product: 4, quantity: 6 },
        Act::Replenish { product: 5, quantity: 12 },
        Act::Close,
    ]])
}

/// The JSON paths of every number in a value.
fn number_paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Number(_) => out.push(at.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(i.to_string());
                number_paths(item, at, out);
                at.pop();
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                at.push(key.clone());
                number_paths(item, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// A push of one record given as its JSON wire form, however hostile.
fn batch_of_json(record: &Value) -> String {
    let raw = serde_json::value::RawValue::from_string(record.to_string()).unwrap();
    shared_model::protocol::Message::encode(&shared_model::protocol::PushBatch { records: vec![raw] })
}

/// Every read head office offers, each answering 200.
async fn every_read_answers(server: &TestServer, secret: &str) {
    for path in [
        "/api/reports/sales?from=2000-01-01&to=2100-01-01&top=1000",
        "/api/reports/sales?from=2000-01-01&to=2100-01-01&format=csv",
        "/api/stock",
        "/api/alerts?open=false",
        "/api/dead-letters",
        "/api/registers",
        "/api/products",
        "/api/replenishments",
        "/api/locations",
    ] {
        let response = server
            .http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&server.admin)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(status, StatusCode::OK, "{path}: {}", response.text().await.unwrap());
    }
    server.pull_all(secret, shared_model::protocol::Cursor::default()).await;
}

async fn extreme_numbers_in_any_record_never_break_a_report(engine: Engine) {
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    let extremes: Vec<Value> = vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(i64::MAX as u64 + 1),
        json!(shared_model::stock::MAX_STOCK + 1),
        json!(-shared_model::stock::MAX_STOCK - 1),
        json!(Money::MAX + 1),
        json!(-Money::MAX - 1),
        json!(Quantity::MAX + 1),
        json!(u32::MAX),
    ];
    let mut seq = 0u64;
    let mut answers = BTreeSet::new();
    for record in one_of_each_kind() {
        let encoded: Value = serde_json::from_str(&record.encode()).unwrap();
        let mut paths = Vec::new();
        number_paths(&encoded["record"], &mut vec!["record".to_owned()], &mut paths);
        for path in &paths {
            for extreme in &extremes {
                seq += 1;
                let mut edited = encoded.clone();
                // A fresh id and seq for each try, unless the number under test is the seq.
                let id =
                    RecordId::from_parts(1_795_176_000_000 + seq, [u8::try_from(seq % 251).unwrap(); 10]);
                edited["record"]["id"] = json!(id.to_string());
                edited["record"]["seq"] = json!(seq);
                *at_path(&mut edited, path) = extreme.clone();
                let body = batch_of_json(&edited);
                let response = server.push_raw(&secret, body).await;
                let status = response.status();
                let text = response.text().await.unwrap();
                assert!(
                    status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
                    "{} = {extreme}: {status} {text}",
                    path.join(".")
                );
                answers.insert(status.as_u16());
            }
        }
    }
    // Both kinds of answer happened: extremes are refused, and some (0, 1) are fine.
    assert_eq!(answers, BTreeSet::from([200, 422]));
    every_read_answers(&server, &secret).await;
    // Whatever was accepted stays within the bounds head office keeps.
    let stock = server.get_json("/api/stock").await;
    for level in stock.as_array().unwrap() {
        assert!(level["quantity"].as_i64().unwrap().abs() <= sync_server::db::MAX_TOTAL, "{level}");
    }
    server.finish().await;
}

/// A sale of one unit at `cents`, zero-rated, paid by debit.
fn big_sale(register: &shared_model::RegisterId, seq: u64, cents: i64) -> Record {
    let line = SaleLine {
        sku: Sku::parse("CAF-ESP-250").unwrap(),
        description: "Espresso".into(),
        barcode: None,
        unit_price: Money::cents(cents),
        quantity: Quantity::ONE,
        tax_class: TaxClass::ZeroRated,
        discount: None,
    };
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let cashier = shared_model::CashierId::new(1001).unwrap();
    let sale =
        Sale::complete(day, cashier, vec![line], vec![Tender::Debit { amount: Money::cents(cents) }], None)
            .unwrap();
    let wall = 1_795_176_000_000 + seq;
    Record {
        id: RecordId::from_parts(wall, [u8::try_from(seq % 256).unwrap(); 10]),
        origin: register.clone(),
        seq,
        hlc: Hlc::new(wall, 0),
        device_time_ms: wall,
        store: register.store(),
        body: RecordBody::Sale(sale),
    }
}

async fn a_total_past_what_head_office_keeps_is_refused_alone(engine: Engine) {
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    // Each sale carries the most one record may; a hundred of them fill a day's total.
    let per_day = sync_server::db::MAX_TOTAL / Money::MAX;
    let records: Vec<Record> =
        (1..=u64::try_from(per_day).unwrap() + 1).map(|seq| big_sale(&register, seq, Money::MAX)).collect();
    let body =
        problem(server.push_raw(&secret, batch_of(&records)).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    let refused = body["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{body}");
    assert_eq!(refused[0]["index"], per_day, "{body}");
    assert!(refused[0]["reason"].as_str().unwrap().contains("largest total"), "{body}");
    // The register drops the refused one and pushes the rest: all accepted.
    let answer = server.push(&secret, &records[..records.len() - 1]).await;
    assert_eq!(answer.holds, u64::try_from(per_day).unwrap() + 1);
    let report = server.get_json("/api/reports/sales?from=2026-11-20&to=2026-11-20").await;
    assert_eq!(report["stores"][0]["net_sales"], sync_server::db::MAX_TOTAL);
    every_read_answers(&server, &secret).await;
    server.finish().await;
}

async fn hostile_text_is_refused_alike_on_both_engines(engine: Engine) {
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    let post = |path: &str, body: Value| {
        server.http.post(format!("{}{path}", server.base)).bearer_auth(&server.admin).json(&body).send()
    };
    // Sign-in names, product and cashier fields, query parameters: a NUL is a 422 naming the field.
    let answer = server
        .http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": "ad\u{0}min", "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(answer, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "username");
    let product = json!({ "sku": "EVIL-1", "name": "Evil\u{1b}p\u{0}\u{19}\u{fa}", "category": "x", "price": "1.00", "tax_class": "standard", "reorder_threshold": 1 });
    assert_eq!(
        problem(post("/api/products", product).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "name"
    );
    let cashier = json!({ "id": 4242, "name": "Nul\u{0}", "store": "S1", "pin": "1234" });
    assert_eq!(
        problem(post("/api/cashiers", cashier).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "name"
    );
    let answer = server.http.get(format!("{}/api/products?q=caf%00e", server.base)).send().await.unwrap();
    assert_eq!(problem(answer, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "q");
    let answer = server
        .http
        .get(format!("{}/api/alerts?kind=%00", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    problem(answer, StatusCode::UNPROCESSABLE_ENTITY).await;

    // A replenishment note with a NUL, inside a pushed record: that record is refused by name,
    // and the record behind it goes through.
    let records = build_records(&[vec![
        Act::Replenish { product: 1, quantity: 3 },
        Act::Sale { lines: vec![(0, 1, None)], pay: Pay::Debit },
    ]]);
    let mut hostile = records[0].clone();
    if let RecordBody::ReplenishmentRequested(request) = &mut hostile.body {
        request.note = Some("rush\u{0}".into());
    }
    let body = problem(
        server.push_raw(&secret, batch_of(&[hostile, records[1].clone()])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["refused"].as_array().unwrap().len(), 1);
    assert_eq!(body["refused"][0]["index"], 0);
    assert!(body["detail"].as_str().unwrap().contains("control characters"), "{body}");
    let answer = server.push(&secret, &records[1..]).await;
    assert_eq!(answer.holds, 2);

    // A 4,000-character SKU, then an 8 MiB one: refused by name, quoted briefly, parked.
    for length in [4_000, 8 * 1024 * 1024] {
        let sale = &records[1];
        let mut value: Value = serde_json::from_str(&sale.encode()).unwrap();
        value["record"]["seq"] = json!(3);
        value["record"]["body"]["sale"]["lines"][0]["sku"] = json!("A".repeat(length));
        let batch = batch_of_json(&value);
        let response = server.push_raw(&secret, batch).await;
        let text_length = response.content_length().unwrap_or(0);
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["field"], "records[0].record.body.sale.lines[0].sku", "{body}");
        assert!(text_length < 4_096, "a refusal of {text_length} bytes");
    }
    every_read_answers(&server, &secret).await;
    server.finish().await;
}

async fn a_record_the_database_refuses_does_not_stick_the_queue(engine: Engine) {
    // What the engines refuse in a pushed record is now refused before they see it: a record
    // with a seq past i64::MAX is named, parked, and the ones behind it are held.
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    let records = build_records(&[vec![Act::Close, Act::Close]]);
    let mut value: Value = serde_json::from_str(&records[0].encode()).unwrap();
    value["record"]["seq"] = json!(u64::MAX);
    let batch = batch_of_json(&value);
    let body = problem(server.push_raw(&secret, batch).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "records[0].record.seq", "{body}");
    let answer = server.push(&secret, &records).await;
    assert_eq!(answer.holds, 2);
    server.finish().await;
}

async fn sign_ins_are_bounded_and_throttled(engine: Engine) {
    let server = TestServer::start(engine).await;
    let slots = std::thread::available_parallelism().map_or(2, usize::from);
    let hashes = server.state.passwords.hashes();
    // An unknown username costs a hash, like a known one.
    let answer = server
        .http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": "nobody", "password": "guess" }))
        .send()
        .await
        .unwrap();
    problem(answer, StatusCode::UNAUTHORIZED).await;
    assert_eq!(server.state.passwords.hashes(), hashes + 1);

    // A flood of wrong passwords for many accounts at once: never more hashes at a time than
    // cores, and every answer a refusal (wrong, throttled or busy), never a crash.
    let attempts = (0..120).map(|i| {
        let http = server.http.clone();
        let url = format!("{}/api/auth/login", server.base);
        async move {
            let answer = http
                .post(url)
                .json(&json!({ "username": format!("user{i}"), "password": "wrong" }))
                .send()
                .await
                .unwrap();
            let status = answer.status();
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
                assert!(answer.headers().contains_key("retry-after"));
            }
            status.as_u16()
        }
    });
    let statuses: BTreeSet<u16> = futures_join_all(attempts).await.into_iter().collect();
    assert!(statuses.is_subset(&BTreeSet::from([401, 429, 503])), "{statuses:?}");
    assert!(statuses.contains(&429), "twenty failures from one address lock it: {statuses:?}");
    assert!(server.state.passwords.peak() <= slots, "{} hashes at once", server.state.passwords.peak());
    server.finish().await;

    // Five wrong passwords for one account from one address hold up that address's next
    // attempt at it, even with the right password (other addresses: tests/lockout.rs).
    let server = TestServer::start(engine).await;
    for _ in 0..5 {
        let answer = server
            .http
            .post(format!("{}/api/auth/login", server.base))
            .json(&json!({ "username": "admin", "password": "wrong" }))
            .send()
            .await
            .unwrap();
        problem(answer, StatusCode::UNAUTHORIZED).await;
    }
    let answer = server
        .http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "username": "admin", "password": common::ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    let retry: u64 = answer.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    let body = problem(answer, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(body["detail"].as_str().unwrap().contains("try again in"), "{body}");
    server.finish().await;
}

/// Runs futures concurrently on the test's runtime.
async fn futures_join_all<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

async fn sessions_end_and_passwords_change(engine: Engine) {
    let server = TestServer::start(engine).await;
    let url = |path: &str| format!("{}{path}", server.base);
    // The scheme's case does not matter.
    let answer = server
        .http
        .get(url("/api/registers"))
        .header("authorization", format!("bearer {}", server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    // A second session, then a password change from the first: the second ends, the first stays.
    let other = login(&server.http, &server.base, "admin", common::ADMIN_PASSWORD).await;
    let change = |current: &str, new: &str| {
        server
            .http
            .post(url("/api/auth/password"))
            .bearer_auth(&server.admin)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    let body =
        problem(change(common::ADMIN_PASSWORD, "short").await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(body["field"], "new_password");
    let body = problem(
        change("not it at all", "a much longer passphrase").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "current_password");
    assert_eq!(
        change(common::ADMIN_PASSWORD, "a much longer passphrase").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let answer = server.http.get(url("/api/registers")).bearer_auth(&other).send().await.unwrap();
    problem(answer, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        server.http.get(url("/api/registers")).bearer_auth(&server.admin).send().await.unwrap().status(),
        StatusCode::OK
    );
    let fresh = login(&server.http, &server.base, "admin", "a much longer passphrase").await;
    // Signing out ends the session.
    let answer = server.http.post(url("/api/auth/logout")).bearer_auth(&fresh).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    problem(
        server.http.get(url("/api/registers")).bearer_auth(&fresh).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Expired sessions are swept at the next sign-in.
    sqlx::query("INSERT INTO sessions (token_hash, username, expires_ms) VALUES ('old', 'admin', 1)")
        .execute(server.db.pool())
        .await
        .unwrap();
    login(&server.http, &server.base, "admin", "a much longer passphrase").await;
    let old: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE token_hash = 'old'")
            .fetch_one(server.db.pool())
            .await
            .unwrap(),
        "n",
    )
    .unwrap();
    assert_eq!(old, 0);
    server.finish().await;
}

async fn enrolment_codes_are_one_live_short_and_throttled(engine: Engine) {
    use sync_server::identity;
    let server = TestServer::start(engine).await;
    let enrol = |code: String| {
        server.http.post(format!("{}/api/registers/enrol", server.base)).json(&json!({ "code": code })).send()
    };
    let register = register_of(0);
    identity::add_register(&server.db, &register).await.unwrap();
    // A newer code replaces the older one.
    let first = identity::issue_enrolment_code(&server.db, &register).await.unwrap();
    let second = identity::issue_enrolment_code(&server.db, &register).await.unwrap();
    let refused = problem(enrol(first).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    // A code issued before a revocation does not enrol afterwards.
    identity::revoke(&server.db, &register, &sync_server::audit::Actor::system()).await.unwrap();
    let after_revoke = problem(enrol(second).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    // Unknown and used codes get the same answer as replaced and revoked ones.
    let unknown = problem(enrol("ZZZZ-ZZZZ".into()).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    let code = identity::issue_enrolment_code(&server.db, &register).await.unwrap();
    assert_eq!(enrol(code.clone()).await.unwrap().status(), StatusCode::OK);
    let used = problem(enrol(code).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    for answer in [&after_revoke, &unknown, &used] {
        assert_eq!(answer["detail"], refused["detail"]);
    }
    // Codes live a day, not a week.
    let expiry = identity::live_code_expiry(&server.db, &register).await.unwrap();
    assert_eq!(expiry, None);
    identity::issue_enrolment_code(&server.db, &register).await.unwrap();
    let expiry = identity::live_code_expiry(&server.db, &register).await.unwrap().unwrap();
    assert!(expiry - sync_server::db::now_ms() <= identity::ENROLMENT_MS);
    // Guessing is throttled: five wrong codes from one address for an unnamed register (the
    // used one above and these four), then 429 even for a good one.
    for _ in 0..4 {
        problem(enrol("ABCD-EFGH".into()).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let good = identity::issue_enrolment_code(&server.db, &register).await.unwrap();
    let answer = enrol(good).await.unwrap();
    assert!(answer.headers().contains_key("retry-after"));
    problem(answer, StatusCode::TOO_MANY_REQUESTS).await;
    server.finish().await;
}

async fn product_writes_refuse_duplicates_and_floods(engine: Engine) {
    let server = TestServer::start(engine).await;
    let post = |body: Value| {
        server
            .http
            .post(format!("{}/api/products", server.base))
            .bearer_auth(&server.admin)
            .json(&body)
            .send()
    };
    let product = |sku: &str, barcodes: Vec<String>| json!({ "sku": sku, "name": "Thé vert", "category": "Épicerie", "price": "4.99", "tax_class": "zero_rated", "reorder_threshold": 5, "barcodes": barcodes });
    let code = |n: u64| shared_model::Barcode::with_check_digit(&format!("2{n:011}")).unwrap().to_string();
    // The same barcode twice in one product: 422 naming the second.
    let body = problem(
        post(product("THE-VERT", vec![code(1), code(1)])).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "barcodes[1]");
    // 40,000 barcodes: 422, not "too many SQL variables".
    let many: Vec<String> = (0..40_000).map(code).collect();
    let body =
        problem(post(product("THE-VERT", many)).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "barcodes");
    // A barcode another product holds: 409.
    assert_eq!(post(product("THE-VERT", vec![code(1)])).await.unwrap().status(), StatusCode::CREATED);
    let body = problem(post(product("THE-NOIR", vec![code(1)])).await.unwrap(), StatusCode::CONFLICT).await;
    assert!(body["detail"].as_str().unwrap().contains("THE-VERT"), "{body}");
    server.finish().await;
}

async fn twenty_managers_creating_one_sku_at_once_make_one_product(engine: Engine) {
    let server = TestServer::start(engine).await;
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..20 {
        let request = server
            .http
            .post(format!("{}/api/products", server.base))
            .bearer_auth(&server.admin)
            .json(&json!({ "sku": "THE-BLANC", "name": format!("Thé blanc {n}"), "category": "Épicerie", "price": "6.49", "tax_class": "zero_rated", "reorder_threshold": 3 }));
        requests.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let answers = requests.join_all().await;
    let created = answers.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    let conflicts: Vec<&Value> =
        answers.iter().filter(|(status, _)| *status == StatusCode::CONFLICT).map(|(_, body)| body).collect();
    assert_eq!((created, conflicts.len()), (1, 19), "{answers:?}");
    for body in conflicts {
        assert!(body["detail"].as_str().unwrap().contains("THE-BLANC"), "the conflict names the SKU: {body}");
    }
    let (_, created) = answers.iter().find(|(status, _)| *status == StatusCode::CREATED).unwrap();
    assert_eq!(server.get_json("/api/products/THE-BLANC").await["name"], created["name"]);
    server.finish().await;
}

async fn dead_letters_are_bounded_deduplicated_and_paged(engine: Engine) {
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    let records = build_records(&[vec![Act::Adjust { product: 1, delta: 2 }]]);
    // A 1 MiB note, refused, pushed 40 times: one row, counted 40 times, 16 KiB kept.
    let mut value: Value = serde_json::from_str(&records[0].encode()).unwrap();
    value["record"]["body"]["stock_adjustment"]["note"] = json!("n".repeat(1024 * 1024));
    let batch = batch_of_json(&value);
    for _ in 0..40 {
        problem(server.push_raw(&secret, batch.clone()).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let letters = server.get_json("/api/dead-letters").await;
    assert_eq!(letters.as_array().unwrap().len(), 1, "{}", letters.to_string().len());
    assert_eq!(letters[0]["times"], 40);
    assert!(letters[0]["payload"].as_str().unwrap().len() <= sync_server::sync::DEAD_LETTER_PAYLOAD + 4);
    assert!(letters[0]["payload_bytes"].as_i64().unwrap() > 1024 * 1024);
    // Distinct refusals make distinct rows; the listing pages through them.
    for seq in 2..=6u64 {
        let mut value: Value = serde_json::from_str(&records[0].encode()).unwrap();
        value["record"]["seq"] = json!(seq);
        value["record"]["body"]["stock_adjustment"]["delta"] = json!(0);
        let batch = batch_of_json(&value);
        problem(server.push_raw(&secret, batch).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let first = server.get_json("/api/dead-letters?limit=4").await;
    assert_eq!(first.as_array().unwrap().len(), 4);
    let last = first[3]["id"].as_i64().unwrap();
    let rest = server.get_json(&format!("/api/dead-letters?limit=4&before={last}")).await;
    assert_eq!(rest.as_array().unwrap().len(), 2);
    let answer = server
        .http
        .get(format!("{}/api/dead-letters?limit=100000", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(answer, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "limit");
    server.finish().await;
}

async fn unknown_things_in_records_are_flagged(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    let mut records = build_records(&[vec![
        Act::Adjust { product: 1, delta: 2 },
        Act::Transfer { product: 2, quantity: 1 },
        Act::Sale { lines: vec![(0, 1, None)], pay: Pay::Debit },
    ]]);
    if let RecordBody::StockAdjustment(adjustment) = &mut records[0].body {
        adjustment.sku = Sku::parse("NO-SUCH-SKU").unwrap();
    }
    if let RecordBody::TransferReceived(receipt) = &mut records[1].body {
        receipt.from = shared_model::LocationCode::parse("NOWHERE").unwrap();
    }
    let RecordBody::Sale(sale) = &records[2].body else { unreachable!() };
    let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let sale = Sale::complete(far, sale.cashier, sale.lines.clone(), sale.tenders.clone(), None).unwrap();
    records[2].body = RecordBody::Sale(sale);
    let answer = server.push(&secret, &records).await;
    assert_eq!(answer.holds, 3, "accepted: the till recorded them");
    let kinds = |alerts: &Value| -> BTreeSet<String> {
        alerts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{}:{}", a["kind"].as_str().unwrap(), a["subject"].as_str().unwrap()))
            .collect()
    };
    let alerts = kinds(&server.get_json("/api/alerts").await);
    assert!(alerts.contains("unknown_sku:NO-SUCH-SKU"), "{alerts:?}");
    assert!(alerts.contains("unknown_location:NOWHERE"), "{alerts:?}");
    assert!(alerts.contains(&format!("impossible_day:{}", records[2].id)), "{alerts:?}");
    every_read_answers(&server, &secret).await;
    server.finish().await;
}

async fn a_register_clock_ahead_is_filed_under_today(engine: Engine) {
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    // The register's clock reads tomorrow: its sale says tomorrow, and so does its stamp.
    let now = u64::try_from(sync_server::db::now_ms()).unwrap();
    let tomorrow_ms = now + 86_400_000;
    let local = |ms: u64| {
        chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap())
            .unwrap()
            .with_timezone(&chrono::Local)
            .date_naive()
    };
    let mut record =
        build_records(&[vec![Act::Sale { lines: vec![(0, 1, None)], pay: Pay::Debit }]]).remove(0);
    let RecordBody::Sale(sale) = &record.body else { unreachable!() };
    let sale =
        Sale::complete(local(tomorrow_ms), sale.cashier, sale.lines.clone(), sale.tenders.clone(), None)
            .unwrap();
    record.body = RecordBody::Sale(sale);
    record.hlc = Hlc::new(tomorrow_ms, 0);
    record.device_time_ms = tomorrow_ms;
    server.push(&secret, &[record]).await;
    let today = local(now);
    let report = server.get_json(&format!("/api/reports/sales?from={today}&to={today}")).await;
    assert_eq!(report["stores"][0]["sales"], 1, "{report}");
    assert_eq!(report["stores"][0]["redated"], 1, "{report}");
    let tomorrow = local(tomorrow_ms);
    let report = server.get_json(&format!("/api/reports/sales?from={tomorrow}&to={tomorrow}")).await;
    assert_eq!(report["stores"].as_array().unwrap().len(), 0, "{report}");
    // The sales ledger keeps the register's own day.
    let kept: String = sqlx::Row::try_get(
        &sqlx::query("SELECT business_day FROM sales").fetch_one(server.db.pool()).await.unwrap(),
        "business_day",
    )
    .unwrap();
    assert_eq!(kept, tomorrow.to_string());
    server.finish().await;
}

async fn every_error_is_a_problem_and_metrics_stay_bounded(engine: Engine) {
    let server = TestServer::start(engine).await;
    let url = |path: &str| format!("{}{path}", server.base);
    // The router's 405 and axum's query rejections answer problem+json.
    let answer = server.http.delete(url("/api/stock")).bearer_auth(&server.admin).send().await.unwrap();
    problem(answer, StatusCode::METHOD_NOT_ALLOWED).await;
    let answer = server
        .http
        .get(url("/api/reports/sales?from=2026-01-01&to=2026-01-02&top=many"))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    problem(answer, StatusCode::BAD_REQUEST).await;
    // Made-up methods do not become metric labels.
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let answer = server.http.request(method, url("/health")).send().await.unwrap();
        assert!(answer.status().is_client_error());
    }
    let metrics = server.http.get(url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("MADEUP"), "made-up methods in the metrics");
    assert!(metrics.contains("method=\"other\""));
    // The OpenAPI document declares its security schemes.
    let doc: Value = server.http.get(url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["components"]["securitySchemes"]["session"].is_object());
    assert_eq!(doc["paths"]["/api/sync/push"]["post"]["security"][0]["device"], json!([]));
    assert!(doc["paths"]["/api/stock"]["get"]["responses"]["401"].is_object());
    server.finish().await;
}
