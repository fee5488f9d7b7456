//! After-sales claims end to end over HTTP, on SQLite and on PostgreSQL: a shopper files, an
//! agent resolves with a refund, the card processor's own ledger is the oracle for money, a
//! real SMTP receiver on loopback the oracle for mail, and the audit trail's chain is checked.
//! Then the read models are rebuilt from the events and must equal what the projectors built
//! live, including after random sequences of commands (a property test).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::shop::{Shopper, add, checkout, ledger, send, shop_server_with, sign_up_in, start_processor};
use common::smtp::SmtpReceiver;
use common::{Engine, TestServer, login, problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sync_server::claims::{projections, store};
use sync_server::http::processor;
use sync_server::{Settings, audit};

on_both_engines!(
    a_claim_is_filed_resolved_with_a_refund_mailed_and_audited,
    mail_waits_for_a_down_smtp_server_and_arrives_once,
    old_events_replay_through_the_upcaster_and_events_never_change,
    the_audit_check_names_the_first_entry_edited_or_deleted,
);

const AGENT_PASSWORD: &str = "marie's long password";

/// How long a message that could not be sent waits, at first and at most: as long as in
/// production, since a test moves the server's clock past a wait rather than sleeping it out.
const MAIL_RETRY: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(600));

/// A shop server whose mail goes to `smtp` (retried after [`MAIL_RETRY`]), with claims'
/// projectors and mail delivery running as they do in `serve`.
async fn claims_server(engine: Engine, processor: &str, smtp: &str) -> TestServer {
    let settings = Settings {
        mail: sync_server::http::Mail::Smtp {
            url: smtp.to_owned(),
            from: "Caisse <service@caisse.test>".into(),
        },
        mail_retry: MAIL_RETRY,
        ..Settings::default()
    };
    let server = shop_server_with(engine, processor, &[("CAF-250", 50), ("SAV-LAV", 50)], settings).await;
    let state = &server.state;
    projections::spawn(server.db.clone(), state.wake.projectors.clone(), Duration::from_millis(200));
    sync_server::notify::spawn(
        server.db.clone(),
        state.delivery.clone().expect("a mailer"),
        state.wake.mail.clone(),
    );
    server
}

/// A manager, who handles claims; answers their token.
async fn agent(server: &TestServer, username: &str) -> String {
    let response = server
        .http
        .post(format!("{}/api/users", server.base))
        .bearer_auth(&server.admin)
        .json(&json!({ "username": username, "role": "manager", "password": AGENT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    login(&server.http, &server.base, username, AGENT_PASSWORD).await
}

/// A paid order of 2 coffees and 1 soap; answers it.
async fn paid_order(server: &TestServer, shopper: &Shopper, key: &str) -> Value {
    add(server, shopper, "CAF-250", 2).await;
    add(server, shopper, "SAV-LAV", 1).await;
    let response = checkout(server, shopper, key, processor::APPROVED).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn office(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = server.http.request(method, format!("{}{path}", server.base)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Waits until every projector has applied every event.
async fn projected(server: &TestServer) {
    for _ in 0..200 {
        let mut behind = 0;
        for projector in projections::PROJECTORS {
            behind += projections::freshness(&server.db, projector).await.unwrap().behind;
        }
        if behind == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the projectors did not catch up");
}

/// Waits until the outbox is empty of unsent messages; answers what the receiver holds.
async fn delivered(server: &TestServer, smtp: &SmtpReceiver) -> Vec<common::smtp::Received> {
    for _ in 0..300 {
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL")
            .fetch_one(server.db.pool())
            .await
            .unwrap();
        if waiting == 0 {
            return smtp.messages();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mail still waiting in the outbox");
}

/// The read models rebuilt from the events equal those built live.
async fn replay_equals_live(server: &TestServer) {
    projected(server).await;
    let live = projections::dump(&server.db).await.unwrap();
    projections::replay(&server.db).await.unwrap();
    let rebuilt = projections::dump(&server.db).await.unwrap();
    assert_eq!(live, rebuilt, "replay rebuilt other read models than the live projectors");
}

async fn a_claim_is_filed_resolved_with_a_refund_mailed_and_audited(engine: Engine) {
    let processor = start_processor().await;
    let smtp = SmtpReceiver::start(0).await;
    let server = claims_server(engine, &processor, &smtp.url()).await;
    let marie = agent(&server, "marie").await;
    let paul = agent(&server, "paul").await;
    let ana = sign_up_in(&server, "ana@example.com", "en").await;
    let order = paid_order(&server, &ana, "k1").await;
    let number = order["number"].as_i64().unwrap();
    let coffee_index = order["lines"].as_array().unwrap().iter().position(|l| l["sku"] == "CAF-250").unwrap();
    let coffee = &order["lines"][coffee_index];
    // Lines are counted from 1, as the register and the receipt count them.
    let coffee_line = coffee_index + 1;

    // Filed by the shopper, about one damaged coffee of two.
    let filed = send(
        &server,
        Method::POST,
        "/api/shop/claims",
        &ana.access,
        Some(json!({
            "order": number,
            "kind": "damaged_item",
            "lines": [{ "line_number": coffee_line, "quantity": 1 }],
            "description": "The bag arrived torn.\nCoffee everywhere."
        })),
    )
    .await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let claim: Value = filed.json().await.unwrap();
    let id = claim["id"].as_str().unwrap().to_owned();
    assert_eq!(claim["state"], "submitted");
    assert_eq!(claim["version"], 1);
    assert_eq!(claim["lines"][0]["sku"], "CAF-250");
    assert_eq!(claim["lines"][0]["line_number"], coffee_line);

    // Another shopper sees none of it.
    let bob = sign_up_in(&server, "bob@example.com", "fr").await;
    let hidden = send(&server, Method::GET, &format!("/api/shop/claims/{id}"), &bob.access, None).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let theirs = send(
        &server,
        Method::POST,
        "/api/shop/claims",
        &bob.access,
        Some(json!({ "order": number, "kind": "other", "lines": [{ "line_number": 1, "quantity": 1 }], "description": "x" })),
    )
    .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);

    // Bad input is refused by field, and changes nothing.
    let bad = send(
        &server,
        Method::POST,
        "/api/shop/claims",
        &ana.access,
        Some(json!({ "order": number, "kind": "broken", "lines": [{ "line_number": 1, "quantity": 1 }], "description": "x" })),
    )
    .await;
    assert_eq!(problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "kind");
    // The old count from 0 is refused by field, not read as some other line.
    let from_zero = send(
        &server,
        Method::POST,
        "/api/shop/claims",
        &ana.access,
        Some(json!({ "order": number, "kind": "other", "lines": [{ "line_number": 0, "quantity": 1 }], "description": "x" })),
    )
    .await;
    let refused = problem(from_zero, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["field"], "lines[0].line_number");
    assert!(refused["detail"].as_str().unwrap().contains("counted from 1"), "{refused}");
    // An old client's second line (`"line": 1`, counted from 0) is refused by its old name,
    // not read as the first line: another product, another refund cap.
    let old_client = send(
        &server,
        Method::POST,
        "/api/shop/claims",
        &ana.access,
        Some(json!({ "order": number, "kind": "other", "lines": [{ "line": 1, "quantity": 1 }], "description": "x" })),
    )
    .await;
    let refused = problem(old_client, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["field"], "lines[0].line");
    assert!(refused["detail"].as_str().unwrap().contains("line_number, counted from 1"), "{refused}");
    // The API's description names the new field, required, and not the old one.
    let openapi: Value = server
        .http
        .get(format!("{}/api/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let line_in = &openapi["components"]["schemas"]["LineIn"];
    assert!(line_in["properties"]["line_number"].is_object(), "{line_in}");
    assert!(line_in["properties"]["line"].is_null(), "{line_in}");
    assert!(line_in["required"].as_array().unwrap().contains(&json!("line_number")), "{line_in}");
    let too_many = send(
        &server,
        Method::POST,
        "/api/shop/claims",
        &ana.access,
        Some(json!({ "order": number, "kind": "other", "lines": [{ "line_number": coffee_line, "quantity": 3 }], "description": "x" })),
    )
    .await;
    assert_eq!(problem(too_many, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "lines[0].quantity");

    // The queue shows it once the projector has read it.
    projected(&server).await;
    let queue = ok(office(&server, &marie, Method::GET, "/api/claims?open=true", None).await).await;
    assert_eq!(queue["freshness"]["behind"], 0);
    assert_eq!(queue["claims"].as_array().unwrap().len(), 1);
    assert_eq!(queue["claims"][0]["id"], id.as_str());
    assert_eq!(queue["claims"][0]["store"], "WEB");

    // A transition the state does not allow: 409 naming both.
    let early = office(
        &server,
        &marie,
        Method::POST,
        &format!("/api/claims/{id}/resolve"),
        Some(json!({
            "outcome": { "type": "nothing" }, "reason": "x"
        })),
    )
    .await;
    let early = problem(early, StatusCode::CONFLICT).await;
    assert_eq!((early["state"].as_str(), early["action"].as_str()), (Some("submitted"), Some("resolve")));
    assert!(early["detail"].as_str().unwrap().contains("is submitted: it cannot be resolved"), "{early}");

    // Two agents race to take it at the same version: one wins, the other reloads.
    let take = |token: String| {
        let server = &server;
        let id = id.clone();
        async move {
            office(
                server,
                &token,
                Method::POST,
                &format!("/api/claims/{id}/assign"),
                Some(json!({ "expected_version": 1 })),
            )
            .await
        }
    };
    let (a, b) = tokio::join!(take(marie.clone()), take(paul.clone()));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let loser = if a.status() == StatusCode::CONFLICT { a } else { b };
    let loser = problem(loser, StatusCode::CONFLICT).await;
    assert_eq!((loser["expected_version"].as_i64(), loser["current_version"].as_i64()), (Some(1), Some(2)));
    // Retried on the fresh state, marie takes it.
    let fresh = ok(office(&server, &marie, Method::GET, &format!("/api/claims/{id}"), None).await).await;
    let taken = ok(office(
        &server,
        &marie,
        Method::POST,
        &format!("/api/claims/{id}/assign"),
        Some(json!({
            "expected_version": fresh["version"], "agent": "marie"
        })),
    )
    .await)
    .await;
    assert_eq!(taken["assignee"], "marie");
    let started = ok(office(
        &server,
        &marie,
        Method::POST,
        &format!("/api/claims/{id}/start"),
        Some(json!({
            "expected_version": taken["version"]
        })),
    )
    .await)
    .await;
    assert_eq!(started["state"], "in_progress");
    assert_eq!(started["allowed"], json!(["assign", "resolve", "reject"]));

    // A refund past what one coffee cost is refused, with the cap in the message.
    let one_coffee = coffee["total_cents"].as_i64().unwrap() / 2;
    let greedy = office(&server, &marie, Method::POST, &format!("/api/claims/{id}/resolve"), Some(json!({
        "expected_version": started["version"], "outcome": { "type": "refund", "amount_cents": one_coffee + 1 }, "reason": "torn bag"
    })))
    .await;
    assert_eq!(problem(greedy, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "outcome.amount_cents");
    let resolved = ok(office(&server, &marie, Method::POST, &format!("/api/claims/{id}/resolve"), Some(json!({
        "expected_version": started["version"], "outcome": { "type": "refund", "amount_cents": one_coffee }, "reason": "torn bag"
    })))
    .await)
    .await;
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["refund_sent_cents"], one_coffee, "the refund was asked at once: {resolved}");
    let kinds: Vec<&str> =
        resolved["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["submitted", "assigned", "assigned", "started", "resolved", "refund_sent"]);

    // The refund is at the processor once, on the order's charge, for the amount decided;
    // asking again (the recovery's round) refunds nothing more.
    let settled = sync_server::refunds::settle_due(&server.state.refunds, &server.db).await.unwrap();
    assert_eq!(settled, Default::default());
    let books = ledger(&server.http, &processor).await;
    assert_eq!(books.refunds.len(), 1, "{books:?}");
    assert_eq!(books.refunds[0].amount_cents, one_coffee);
    assert_eq!(Some(books.refunds[0].charge.as_str()), order["payment_id"].as_str());

    // Resolved claims can be closed, then reopened by the shopper; a second refund may only
    // give what is left of the line.
    let closed =
        ok(office(&server, &marie, Method::POST, &format!("/api/claims/{id}/close"), Some(json!({}))).await)
            .await;
    let reopened = send(
        &server,
        Method::POST,
        &format!("/api/shop/claims/{id}/reopen"),
        &ana.access,
        Some(json!({ "reason": "the second bag was torn too", "expected_version": closed["version"] })),
    )
    .await;
    assert_eq!(reopened.status(), StatusCode::OK);
    let reopened: Value = reopened.json().await.unwrap();
    assert_eq!(reopened["state"], "assigned");
    ok(office(&server, &marie, Method::POST, &format!("/api/claims/{id}/start"), Some(json!({}))).await)
        .await;
    let second = office(
        &server,
        &marie,
        Method::POST,
        &format!("/api/claims/{id}/resolve"),
        Some(json!({
            "outcome": { "type": "refund", "amount_cents": 1 }, "reason": "one coffee, already refunded"
        })),
    )
    .await;
    assert_eq!(problem(second, StatusCode::UNPROCESSABLE_ENTITY).await["field"], "outcome.amount_cents");
    ok(office(
        &server,
        &marie,
        Method::POST,
        &format!("/api/claims/{id}/reject"),
        Some(json!({
            "reason": "the claim covered one bag"
        })),
    )
    .await)
    .await;

    // The shopper's mail: each message once, in English.
    let mail = delivered(&server, &smtp).await;
    let to_ana: Vec<_> = mail.iter().filter(|m| m.to.iter().any(|t| t.contains("ana@example.com"))).collect();
    let subjects: Vec<String> = to_ana.iter().map(|m| m.header("subject").unwrap()).collect();
    for expected in [
        format!("Order W-{number} confirmed"),
        format!("Claim {id} received"),
        format!("Claim {id} resolved"),
        format!("Claim {id}"),
    ] {
        assert!(subjects.contains(&expected), "{expected:?} missing from {subjects:?}");
    }
    assert!(subjects.iter().any(|s| s.starts_with("Refund of")), "{subjects:?}");
    let ids: std::collections::BTreeSet<String> = to_ana.iter().map(|m| m.message_id()).collect();
    assert_eq!(ids.len(), to_ana.len(), "a message arrived twice: {subjects:?}");
    assert!(to_ana.iter().any(|m| m.body().contains(&format!("Your claim {id} is resolved"))));

    // The shopper's own list, a read model.
    projected(&server).await;
    let mine: Value =
        send(&server, Method::GET, "/api/shop/claims", &ana.access, None).await.json().await.unwrap();
    assert_eq!(mine["claims"][0]["state"], "rejected");
    assert_eq!(mine["claims"][0]["refund_sent"], one_coffee);

    // Statistics: one claim filed and decided twice (a resolution, and a rejection after reopening).
    let stats = ok(office(&server, &marie, Method::GET, "/api/claims/statistics", None).await).await;
    let week = &stats["weeks"][0];
    assert_eq!(
        (week["kind"].as_str(), week["filed"].as_i64(), week["resolved"].as_i64(), week["rejected"].as_i64()),
        (Some("damaged_item"), Some(1), Some(1), Some(1))
    );
    assert_eq!(stats["decided"], 1, "the time to the first decision only");

    // The audit trail has marie's decision, with before and after, and its chain holds.
    let trail = ok(office(
        &server,
        &server.admin,
        Method::GET,
        &format!("/api/audit?object=claim:{id}&actor=marie"),
        None,
    )
    .await)
    .await;
    let actions: Vec<&str> =
        trail.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"claim.resolve"), "{actions:?}");
    let decision = trail.as_array().unwrap().iter().find(|e| e["action"] == "claim.resolve").unwrap();
    assert!(decision["before_state"].as_str().unwrap().contains("in_progress"));
    assert!(decision["after_state"].as_str().unwrap().contains("resolved"));
    assert!(decision["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    let refund = ok(office(
        &server,
        &server.admin,
        Method::GET,
        &format!("/api/audit?object=claim:{id}&actor=system"),
        None,
    )
    .await)
    .await;
    assert_eq!(refund[0]["action"], "claim.refund");
    let verified = ok(office(&server, &server.admin, Method::GET, "/api/audit/verify", None).await).await;
    assert_eq!(verified["broken"], Value::Null);
    // The agent may search the trail; only an admin verifies it.
    let denied = office(&server, &marie, Method::GET, "/api/audit/verify", None).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    replay_equals_live(&server).await;
    smtp.stop();
    server.finish().await;
}

async fn mail_waits_for_a_down_smtp_server_and_arrives_once(engine: Engine) {
    let processor = start_processor().await;
    // A port nobody listens on yet: the SMTP server is down.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let server = claims_server(engine, &processor, &format!("smtp://127.0.0.1:{port}")).await;
    let mut shoppers = Vec::new();
    for i in 0..4 {
        let shopper =
            sign_up_in(&server, &format!("s{i}@example.com"), if i % 2 == 0 { "fr" } else { "en" }).await;
        let order = paid_order(&server, &shopper, &format!("k{i}")).await;
        shoppers.push((shopper, order));
    }
    // Retries pile up meanwhile.
    for _ in 0..100 {
        let attempts: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(MAX(attempts), 0) AS BIGINT) FROM outbox")
                .fetch_one(server.db.pool())
                .await
                .unwrap();
        if attempts >= 3 {
            break;
        }
        // Past every message's wait: the delivery task, woken, tries the next one.
        server.clock.advance(MAIL_RETRY.1);
        server.state.wake.mail.notify_one();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL AND last_error IS NOT NULL")
            .fetch_one(server.db.pool())
            .await
            .unwrap();
    assert!(failing >= 1, "no attempt failed while the SMTP server was down");
    // The server comes up: every message arrives, once.
    let smtp = SmtpReceiver::start(port).await;
    server.clock.advance(MAIL_RETRY.1);
    server.state.wake.mail.notify_one();
    let mail = delivered(&server, &smtp).await;
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for message in &mail {
        *per_id.entry(message.message_id()).or_default() += 1;
    }
    assert_eq!(per_id.len(), 4, "{per_id:?}");
    assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
    for (i, (_, order)) in shoppers.iter().enumerate() {
        let number = order["number"].as_i64().unwrap();
        let message = mail.iter().find(|m| m.to.iter().any(|t| t.contains(&format!("s{i}@")))).unwrap();
        let subject = message.header("subject").unwrap();
        if i % 2 == 0 {
            // French subjects with accents travel encoded (RFC 2047).
            assert!(subject.contains("=?utf-8?"), "{subject}");
        } else {
            assert_eq!(subject, format!("Order W-{number} confirmed"));
        }
        assert_eq!(message.message_id(), format!("<order-{number}-confirmed@caisse>"));
    }
    smtp.stop();
    server.finish().await;
}

async fn old_events_replay_through_the_upcaster_and_events_never_change(engine: Engine) {
    let processor = start_processor().await;
    let smtp = SmtpReceiver::start(0).await;
    let server = claims_server(engine, &processor, &smtp.url()).await;
    let marie = agent(&server, "marie").await;
    // Events as the first version of the server wrote them: `email`, no `language`.
    let mut tx = server.db.begin().await.unwrap();
    let filing = json!({
        "subject": { "channel": "store", "receipt": "01J9Z3Q4X5Y6Z7A8B9C0D1E2F3" },
        "store": "S1",
        "kind": "wrong_charge",
        // Format 1 counted lines from 0: this is the receipt's second line.
        "lines": [{ "line": 1, "sku": "BAG-01", "quantity": 1 }],
        "description": "charged twice",
        "email": "old@example.com",
        "contact_name": "Jean",
    });
    store::append_raw(&mut tx, "R-OLD1-OLD1", 1, "submitted", 1, &filing, 1_700_000_000_000).await.unwrap();
    store::append_raw(
        &mut tx,
        "R-OLD1-OLD1",
        2,
        "assigned",
        1,
        &json!({ "agent": "marie" }),
        1_700_000_100_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    server.state.wake.projectors.notify_one();
    let claim = ok(office(&server, &marie, Method::GET, "/api/claims/R-OLD1-OLD1", None).await).await;
    assert_eq!(claim["contact_email"], "old@example.com");
    assert_eq!(claim["language"], "fr");
    assert_eq!(claim["state"], "assigned");
    assert_eq!(claim["events"][0]["data"]["contact_email"], "old@example.com");
    assert_eq!(claim["lines"][0]["line_number"], 2, "an old event's line is counted from 1 when read");
    projected(&server).await;
    let queue = ok(office(&server, &marie, Method::GET, "/api/claims?kind=wrong_charge", None).await).await;
    assert_eq!(queue["claims"][0]["id"], "R-OLD1-OLD1");
    assert_eq!(queue["claims"][0]["assignee"], "marie");
    replay_equals_live(&server).await;

    // The database refuses to change or delete an event.
    let edit = sqlx::query("UPDATE claim_events SET actor = 'mallory' WHERE stream = 'R-OLD1-OLD1'")
        .execute(server.db.pool())
        .await;
    assert!(edit.is_err(), "an event was updated");
    let delete =
        sqlx::query("DELETE FROM claim_events WHERE stream = 'R-OLD1-OLD1'").execute(server.db.pool()).await;
    assert!(delete.is_err(), "an event was deleted");
    smtp.stop();
    server.finish().await;
}

async fn the_audit_check_names_the_first_entry_edited_or_deleted(engine: Engine) {
    let server = TestServer::start(engine).await;
    for name in ["anne", "bruno", "chloe", "david"] {
        let response = office(
            &server,
            &server.admin,
            Method::POST,
            "/api/users",
            Some(json!({
                "username": name, "role": "logistics", "password": AGENT_PASSWORD
            })),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    ok(office(
        &server,
        &server.admin,
        Method::POST,
        "/api/users/bruno/role",
        Some(json!({ "role": "manager" })),
    )
    .await)
    .await;
    let verified = audit::verify(&server.db).await.unwrap();
    assert_eq!((verified.entries, verified.broken.clone()), (5, None));
    let trail =
        ok(office(&server, &server.admin, Method::GET, "/api/audit?object=user:bruno", None).await).await;
    assert_eq!(trail[0]["action"], "user.role");
    assert!(trail[0]["before_state"].as_str().unwrap().contains("logistics"));
    assert!(trail[0]["after_state"].as_str().unwrap().contains("manager"));

    // An entry edited in place, once the triggers refusing it are gone (even one whose hash
    // was recomputed by hand: without the key it is no MAC; tests/audit.rs tries harder).
    drop_audit_triggers(&server.db).await;
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .execute(server.db.pool())
        .await
        .unwrap();
    let broken = audit::verify(&server.db).await.unwrap().broken.unwrap();
    assert_eq!(broken.seq, 3);
    assert!(broken.reason.contains("edited"), "{}", broken.reason);
    let entry: audit::Entry = sqlx::query_as(
        "SELECT seq, at_ms, actor, action, object, request_id, before_state, after_state, prev_hash, hash, alg FROM audit_log WHERE seq = 3",
    )
    .fetch_one(server.db.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = 3")
        .bind(audit::unkeyed_hash_of(&entry))
        .execute(server.db.pool())
        .await
        .unwrap();
    let broken = audit::verify(&server.db).await.unwrap().broken.unwrap();
    assert_eq!(broken.seq, 3, "the forged hash is no MAC: {}", broken.reason);
    // An entry deleted.
    let server2 = TestServer::start(engine).await;
    for name in ["anne", "bruno", "chloe"] {
        office(
            &server2,
            &server2.admin,
            Method::POST,
            "/api/users",
            Some(json!({
                "username": name, "role": "logistics", "password": AGENT_PASSWORD
            })),
        )
        .await;
    }
    drop_audit_triggers(&server2.db).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(server2.db.pool()).await.unwrap();
    let broken = audit::verify(&server2.db).await.unwrap().broken.unwrap();
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("missing"), "{}", broken.reason);
    server.finish().await;
    server2.finish().await;
}

/// What someone with the database's owner rights can do: drop the triggers that refuse changes
/// to the audit trail.
async fn drop_audit_triggers(db: &sync_server::Db) {
    let statements: &[&str] = match db.engine() {
        sync_server::db::Engine::Sqlite => {
            &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
        }
        sync_server::db::Engine::Postgres => &["DROP TRIGGER audit_log_no_update ON audit_log"],
    };
    for statement in statements {
        sqlx::query(*statement).execute(db.pool()).await.unwrap();
    }
}

mod replay {
    //! Random sequences of commands, projected live at random moments; a replay must rebuild
    //! the same read models.

    use proptest::prelude::*;
    use sync_server::audit::Actor;
    use sync_server::claims::Error;
    use sync_server::claims::commands::{self, Command, Filing};
    use sync_server::claims::model::{Kind, Outcome};
    use sync_server::claims::purchase::LineInput;

    use super::*;

    // Each runs its own runtime, which proptest's cases block on.
    on_both_engines!(blocking; replay_rebuilds_what_the_projectors_built_live);

    #[derive(Debug, Clone)]
    enum Step {
        File { order: usize, line: u32, kind: usize },
        Act { claim: usize, command: usize, amount: i64 },
        Project,
        Settle,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            2 => (0..2usize, 0..2u32, 0..5usize).prop_map(|(order, line, kind)| Step::File { order, line, kind }),
            6 => (0..6usize, 0..9usize, 1..400i64).prop_map(|(claim, command, amount)| Step::Act { claim, command, amount }),
            1 => Just(Step::Project),
            1 => Just(Step::Settle),
        ]
    }

    struct World {
        server: TestServer,
        orders: Vec<(i64, i64)>,
        claims: Vec<String>,
    }

    async fn world(engine: Engine) -> World {
        let processor = start_processor().await;
        let smtp = SmtpReceiver::start(0).await;
        let server = claims_server(engine, &processor, &smtp.url()).await;
        agent(&server, "marie").await;
        let mut orders = Vec::new();
        for i in 0..2 {
            let shopper = sign_up_in(&server, &format!("p{i}@example.com"), "fr").await;
            let order = paid_order(&server, &shopper, &format!("pk{i}")).await;
            let customer: i64 = sqlx::query_scalar("SELECT id FROM customers WHERE email = $1")
                .bind(format!("p{i}@example.com"))
                .fetch_one(server.db.pool())
                .await
                .unwrap();
            orders.push((order["number"].as_i64().unwrap(), customer));
        }
        World { server, orders, claims: Vec::new() }
    }

    async fn run(world: &mut World, steps: &[Step]) {
        let db = &world.server.db;
        let marie = Actor::new("marie", Some("prop".into()));
        for step in steps {
            match step {
                Step::File { order, line, kind } => {
                    let (number, customer) = world.orders[*order];
                    let filing = Filing {
                        kind: Kind::ALL[*kind],
                        lines: vec![LineInput { line: *line + 1, quantity: 1 }],
                        description: "random".into(),
                    };
                    let shop = &world.server.state.shop;
                    // Both orders are paid and have lines 0 and 1 of two and one units: a
                    // claim about one unit of either is always taken.
                    let claim = commands::file_online(shop, db, customer, number, filing, None)
                        .await
                        .unwrap_or_else(|e| panic!("filing about line {line} of order {number}: {e:?}"));
                    assert_eq!((claim.claim.state.as_str(), claim.claim.version), ("submitted", 1));
                    world.claims.push(claim.claim.id);
                }
                Step::Act { claim, command, amount } => {
                    let Some(id) = world.claims.get(*claim % world.claims.len().max(1)) else { continue };
                    let command = match command {
                        0 => Command::Assign { agent: "marie".into() },
                        1 => Command::Start,
                        2 => Command::Resolve {
                            outcome: Outcome::Refund { amount_cents: *amount },
                            reason: "r".into(),
                        },
                        3 => Command::Resolve { outcome: Outcome::Replacement, reason: "r".into() },
                        4 => Command::Resolve {
                            outcome: Outcome::StoreCredit { amount_cents: *amount },
                            reason: "r".into(),
                        },
                        5 => Command::Reject { reason: "r".into() },
                        6 => Command::Close,
                        7 => Command::Reopen { reason: "r".into() },
                        _ => Command::Resolve { outcome: Outcome::Nothing, reason: "r".into() },
                    };
                    // Refused commands (a state that does not allow them, a refund past its
                    // cap) are part of the test: they must write nothing. Anything else that
                    // fails is a fault.
                    let before = commands::get(db, id, None).await.unwrap().claim;
                    let action = command.action().as_str();
                    let refund = matches!(command, Command::Resolve { outcome: Outcome::Refund { .. }, .. });
                    let allowed = allows(before.state.as_str(), action);
                    let written = match commands::act(db, &marie, id, None, command, None).await {
                        Ok(after) => {
                            assert!(allowed, "{action} taken on a {:?} claim", before.state);
                            assert_eq!(after.claim.version, before.version + 1, "{action} appends one event");
                            1
                        }
                        Err(Error::Refused(refused)) => {
                            assert!(!allowed, "{action} refused on a {:?} claim: {refused:?}", before.state);
                            assert_eq!((refused.state, refused.action.as_str()), (before.state, action));
                            0
                        }
                        Err(Error::Invalid { field, detail }) if refund && allowed => {
                            // Past what is left to refund of the lines claimed.
                            assert_eq!(field, "outcome.amount_cents", "{detail}");
                            0
                        }
                        Err(e) => panic!("{action} on a {:?} claim failed: {e:?}", before.state),
                    };
                    let now = commands::get(db, id, None).await.unwrap().claim;
                    assert_eq!(now.version, before.version + written, "{action}: a refusal writes nothing");
                }
                Step::Project => {
                    projections::catch_up(db).await.unwrap();
                }
                Step::Settle => {
                    sync_server::refunds::settle_due(&world.server.state.refunds, db).await.unwrap();
                }
            }
        }
    }

    /// The claim's life (DESIGN.md): which command each state takes, written out apart from
    /// the server's own table.
    fn allows(state: &str, action: &str) -> bool {
        let open = matches!(state, "submitted" | "assigned" | "in_progress");
        match action {
            "assign" | "reject" => open,
            "start" => state == "assigned",
            "resolve" => state == "in_progress",
            "close" => matches!(state, "resolved" | "rejected"),
            "reopen" => state == "closed",
            other => panic!("no command {other}"),
        }
    }

    fn replay_rebuilds_what_the_projectors_built_live(engine: Engine) {
        // Fewer cases on PostgreSQL, whose every step is a round trip to the server.
        let cases = match engine {
            Engine::Sqlite => 24,
            Engine::Postgres => 8,
        };
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let world = tokio::sync::Mutex::new(runtime.block_on(world(engine)));
        let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
        proptest!(config, |(steps in proptest::collection::vec(step(), 1..40))| {
            runtime.block_on(async {
                let mut world = world.lock().await;
                run(&mut world, &steps).await;
                replay_equals_live(&world.server).await;
            });
        });
        let world = world.into_inner();
        assert!(world.claims.len() > 3, "the random steps filed almost no claims");
        runtime.block_on(world.server.finish());
    }
}
