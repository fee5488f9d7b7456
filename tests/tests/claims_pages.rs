//! An after-sales claim from end to end, against the real server, the card processor as a
//! process of its own, an SMTP receiver on loopback and headless Chromium: a shopper files a
//! claim through the API; an agent takes it, starts it and resolves it with a refund on the
//! claim's page; the refund is at the processor once; the shopper receives each email once, in
//! their language; the audit page shows the agent's decision and the chain verifies from the
//! command line; and the read models rebuilt by `sync-server replay claims` equal the live ones.

#[allow(dead_code)]
#[path = "../../sync-server/tests/common/smtp.rs"]
mod smtp;

use std::time::{Duration, Instant};

use caisse_e2e::browser::Browser;
use caisse_e2e::{ADMIN_PASSWORD, FaultProxy, HeadOffice, Mode, Processor, binary, free_port, sign_in};
use serde_json::{Value, json};
use smtp::SmtpReceiver;

const PASSWORD: &str = "a long enough password";

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut request = http.request(method, &url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {value}");
    value
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn check_and_photograph(browser: &Browser, name: &str) {
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{name}: accessibility violations: {problems:#?}");
    browser.shot(&format!("office-{name}")).await;
}

fn tool(office: &HeadOffice, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(binary("sync-server"))
        .args(args)
        .env("DATABASE_URL", &office.database_url)
        .env("CAISSE_LOG", "warn")
        .output()
        .expect("the tool runs");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_s_claim_is_resolved_with_a_refund_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/claims.db", dir.path().display());
    let processor = Processor::start(3);
    let smtp = SmtpReceiver::start(0).await;
    let office = HeadOffice::start_with(
        dir.path(),
        &database,
        free_port(),
        &[("CAISSE_PAYMENT_URL", &processor.url), ("CAISSE_SMTP_URL", &smtp.url())],
    );
    let base = office.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let admin = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/users"),
        &admin,
        Some(json!({ "username": "marie", "role": "manager", "password": PASSWORD })),
    )
    .await;

    // The shopper buys two bags of coffee, in English.
    call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/shop/accounts"),
        "",
        Some(json!({ "email": "ana@example.com", "name": "Ana", "password": PASSWORD, "language": "en" })),
    )
    .await;
    let tokens = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/shop/sessions"),
        "",
        Some(json!({ "email": "ana@example.com", "password": PASSWORD })),
    )
    .await;
    let ana = tokens["access_token"].as_str().unwrap().to_owned();
    call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/shop/cart/lines"),
        &ana,
        Some(json!({ "sku": "CAF-ESP-250", "quantity": 2 })),
    )
    .await;
    let order = http
        .post(format!("{base}/api/shop/checkout"))
        .bearer_auth(&ana)
        .header("Idempotency-Key", "claims-order")
        .json(&json!({ "card_number": sync_server::http::processor::APPROVED }))
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), reqwest::StatusCode::CREATED);
    let order: Value = order.json().await.unwrap();
    let number = order["number"].as_i64().unwrap();
    let one_bag = order["lines"][0]["total_cents"].as_i64().unwrap() / 2;

    // An old client's line counted from 0, under the old name, is refused by field rather than
    // read as another line: lines are now named by line_number, the first being 1.
    let from_zero = http
        .post(format!("{base}/api/shop/claims"))
        .bearer_auth(&ana)
        .json(&json!({ "order": number, "kind": "damaged_item", "lines": [{ "line": 1, "quantity": 1 }], "description": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(from_zero.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = from_zero.json().await.unwrap();
    assert_eq!(refused["field"], "lines[0].line", "{refused}");

    // The claim, through the shop's API.
    let claim = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/api/shop/claims"),
        &ana,
        Some(json!({
            "order": number,
            "kind": "damaged_item",
            "lines": [{ "line_number": 1, "quantity": 1 }],
            "description": "One bag arrived torn open."
        })),
    )
    .await;
    let id = claim["id"].as_str().unwrap().to_owned();

    // The agent finds it in the queue and resolves it with a refund of one bag on its page.
    let browser = Browser::start().await;
    browser.open(&base).await;
    browser.sign_in("marie", PASSWORD).await;
    browser.page("claims").await;
    let row = format!("tr[data-claim='{id}']");
    browser
        .until("the claim in the queue", &format!("return document.querySelector(\"{row}\") !== null"))
        .await;
    check_and_photograph(&browser, "claims").await;
    assert_eq!(
        browser.js(&format!("return document.querySelector(\"{row} td.purchase\").textContent")).await,
        json!(format!("W-{number}"))
    );
    browser.click(&format!("{row} a")).await;
    let form = |action: &str| format!("form[data-action='{action}']");
    browser.wait_for(&form("assign")).await;
    // The claim's page names the order and counts its line from 1, in the page's words.
    assert_eq!(
        browser.js("return document.querySelector('#claim-purchase').textContent").await,
        json!(format!("W-{number}"))
    );
    let first = browser.js("return document.querySelector('li[data-line]').textContent").await;
    assert!(
        first.as_str().unwrap().starts_with("Line 1: 1 × ")
            || first.as_str().unwrap().starts_with("Ligne 1 : 1 × "),
        "{first}"
    );
    browser.click(&format!("{} button[type=submit]", form("assign"))).await;
    browser
        .until("assigned", "return document.querySelector('#claim-state')?.dataset.state === 'assigned'")
        .await;
    browser.click(&format!("{} button[type=submit]", form("start"))).await;
    browser
        .until(
            "in progress",
            "return document.querySelector('#claim-state')?.dataset.state === 'in_progress'",
        )
        .await;
    // Too much first: refused by field, nothing changes.
    let dollars = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    browser.fill("#ca-amount", &dollars(one_bag + 100)).await;
    browser.fill("#ca-resolve-reason", "The bag was torn in transit.").await;
    browser.click(&format!("{} button[type=submit]", form("resolve"))).await;
    browser.until("the amount refused", "return document.querySelector('#ca-amount.invalid') !== null").await;
    assert_eq!(browser.data("#claim-state", "state").await, "in_progress");
    browser.fill("#ca-amount", &dollars(one_bag)).await;
    browser.click(&format!("{} button[type=submit]", form("resolve"))).await;
    browser
        .until("resolved", "return document.querySelector('#claim-state')?.dataset.state === 'resolved'")
        .await;
    browser
        .until(
            "the refund confirmed",
            &format!("return document.querySelector('#refund-sent')?.dataset.cents === '{one_bag}'"),
        )
        .await;
    check_and_photograph(&browser, "claim").await;

    // The refund is at the processor, once, for one bag, on the order's charge.
    let books: Value =
        http.get(format!("{}/v1/ledger", processor.url)).send().await.unwrap().json().await.unwrap();
    let refunds = books["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{books}");
    assert_eq!(refunds[0]["amount_cents"], one_bag);
    assert_eq!(refunds[0]["charge"], order["payment_id"]);

    // The shopper's mail: each message once, in English.
    let expected = [
        format!("Order W-{number} confirmed"),
        format!("Claim {id} received"),
        format!("Claim {id} resolved"),
        format!("Refund of ${}.{:02} sent", one_bag / 100, one_bag % 100),
    ];
    eventually("the shopper's four emails", || {
        let smtp = smtp.clone();
        let expected = expected.clone();
        async move {
            let subjects: Vec<String> = smtp.messages().iter().filter_map(|m| m.header("subject")).collect();
            expected.iter().all(|e| subjects.contains(e))
        }
    })
    .await;
    let mail = smtp.messages();
    let ids: std::collections::BTreeSet<String> = mail.iter().map(|m| m.message_id()).collect();
    assert_eq!(ids.len(), mail.len(), "a message arrived twice");
    assert!(mail.iter().all(|m| m.to.iter().all(|t| t.contains("ana@example.com"))));

    // The audit page shows marie's decision; the chain verifies from the command line.
    browser.page("audit").await;
    browser.fill("#af-object", &format!("claim:{id}")).await;
    browser.click("#audit-filter button[type=submit]").await;
    browser
        .until(
            "marie's decision in the trail",
            "return document.querySelector(\"tr[data-action='claim.resolve'][data-actor='marie']\") !== null",
        )
        .await;
    check_and_photograph(&browser, "audit").await;
    let (holds, out) = tool(&office, &["audit", "verify"]);
    assert!(holds && out.starts_with("The audit trail holds"), "{out}");
    // The queue's statistics count the decision and its time.
    browser.page("claims").await;
    browser
        .until(
            "the median time to a decision",
            "return (document.querySelector('[data-median]')?.dataset.median ?? '') !== ''",
        )
        .await;
    check_and_photograph(&browser, "claims").await;

    // Replay: the read models rebuilt from the events equal the live ones.
    let queue = |token: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let mut page =
                call(&http, reqwest::Method::GET, format!("{base}/api/claims?limit=500"), &token, None).await;
            let behind = page["freshness"]["behind"].as_i64().unwrap();
            page.as_object_mut().unwrap().remove("freshness");
            (behind, page)
        }
    };
    let marie = sign_in(&http, &base, "marie", PASSWORD).await;
    let mut live = queue(marie.clone()).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while live.0 > 0 {
        assert!(
            Instant::now() < deadline,
            "the claims' read models are still {} event(s) behind after 60 s: the projectors stopped",
            live.0
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        live = queue(marie.clone()).await;
    }
    let stats =
        call(&http, reqwest::Method::GET, format!("{base}/api/claims/statistics"), &marie, None).await;
    let (replayed, out) = tool(&office, &["replay", "claims"]);
    assert!(replayed, "{out}");
    let rebuilt = queue(marie.clone()).await;
    assert_eq!(rebuilt.1, live.1);
    let restats =
        call(&http, reqwest::Method::GET, format!("{base}/api/claims/statistics"), &marie, None).await;
    assert_eq!(restats["weeks"], stats["weeks"]);
    assert_eq!(restats["median_resolution_ms"], stats["median_resolution_ms"]);
    smtp.stop();
}

/// The card processor is down when the agent resolves with a refund, and head office is
/// SIGKILLed before it is back: the claim is resolved, its refund owed. Once both are up again
/// the recovery asks the processor and the refund reaches it once, even across another kill.
#[test]
fn a_refund_owed_survives_a_processor_down_and_a_killed_server() {
    let processor = Processor::start(3);
    // Head office reaches the processor through a proxy that can cut the link (it runs its
    // own runtime, so it is made outside the test's).
    let link = FaultProxy::start(processor.url.trim_start_matches("http://").parse().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(refund_survives(&processor, &link));
    drop(runtime);
    link.stop();
}

async fn refund_survives(processor: &Processor, link: &FaultProxy) {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/claims-kill.db", dir.path().display());
    let mut office = HeadOffice::start_with(
        dir.path(),
        &database,
        free_port(),
        &[
            ("CAISSE_PAYMENT_URL", &link.url()),
            ("CAISSE_PAYMENT_TIMEOUT_SECONDS", "1"),
            ("CAISSE_CHECKOUT_LEASE_SECONDS", "2"),
        ],
    );
    let base = office.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let admin = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    let post = |url: String, token: String, body: Value| {
        let http = http.clone();
        async move { call(&http, reqwest::Method::POST, url, &token, Some(body)).await }
    };
    post(
        format!("{base}/api/shop/accounts"),
        String::new(),
        json!({ "email": "leo@example.com", "name": "Léo", "password": PASSWORD }),
    )
    .await;
    let tokens = post(
        format!("{base}/api/shop/sessions"),
        String::new(),
        json!({ "email": "leo@example.com", "password": PASSWORD }),
    )
    .await;
    let leo = tokens["access_token"].as_str().unwrap().to_owned();
    // Two orders, for two claims: the first now, the second later.
    let mut orders = Vec::new();
    for key in ["kill-claim", "kill-claim-2"] {
        post(
            format!("{base}/api/shop/cart/lines"),
            leo.clone(),
            json!({ "sku": "THE-VRT-20", "quantity": 1 }),
        )
        .await;
        let order: Value = http
            .post(format!("{base}/api/shop/checkout"))
            .bearer_auth(&leo)
            .header("Idempotency-Key", key)
            .json(&json!({ "card_number": sync_server::http::processor::APPROVED }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        orders.push(order);
    }
    let [order, second_order] = <[Value; 2]>::try_from(orders).unwrap();
    let total = order["total_cents"].as_i64().unwrap();
    let second_total = second_order["total_cents"].as_i64().unwrap();
    let claim = post(
        format!("{base}/api/shop/claims"),
        leo.clone(),
        json!({ "order": order["number"], "kind": "missing_item", "lines": [{ "line_number": 1, "quantity": 1 }], "description": "Empty box." }),
    )
    .await;
    let id = claim["id"].as_str().unwrap().to_owned();
    for action in ["assign", "start"] {
        post(format!("{base}/api/claims/{id}/{action}"), admin.clone(), json!({})).await;
    }

    // The processor goes out of reach (and head office restarts, so that no connection it
    // held to the processor survives); the resolution still commits, with its refund owed.
    link.set(Mode::Down);
    office.kill();
    office.restart();
    let admin = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    let resolved = post(
        format!("{base}/api/claims/{id}/resolve"),
        admin.clone(),
        json!({ "outcome": { "type": "refund", "amount_cents": total }, "reason": "nothing in the box" }),
    )
    .await;
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["refund_sent_cents"], 0);
    office.kill();

    // Both come back.
    link.set(Mode::Clean);
    office.restart();
    let ledger = |http: reqwest::Client, url: String| async move {
        http.get(format!("{url}/v1/ledger")).send().await.unwrap().json::<Value>().await.unwrap()
    };
    eventually("the refund at the processor", || {
        let (http, url) = (http.clone(), processor.url.clone());
        async move { ledger(http, url).await["refunds"].as_array().is_some_and(|r| !r.is_empty()) }
    })
    .await;
    let admin = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    eventually("the refund recorded on the claim", || {
        let (http, base, admin, id) = (http.clone(), base.clone(), admin.clone(), id.clone());
        async move {
            let claim =
                call(&http, reqwest::Method::GET, format!("{base}/api/claims/{id}"), &admin, None).await;
            claim["refund_sent_cents"] == total
        }
    })
    .await;
    // Killed and restarted once more: nothing is refunded twice. A second claim's refund, owed
    // while the processor is out of reach again, is what shows that a recovery round ran after
    // that restart: only a round sends it, and the same round would send the first again.
    link.set(Mode::Down);
    office.kill();
    office.restart();
    let admin = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    let second = post(
        format!("{base}/api/shop/claims"),
        leo.clone(),
        json!({ "order": second_order["number"], "kind": "damaged_item", "lines": [{ "line_number": 1, "quantity": 1 }], "description": "Broken." }),
    )
    .await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    for action in ["assign", "start"] {
        post(format!("{base}/api/claims/{second_id}/{action}"), admin.clone(), json!({})).await;
    }
    let resolved = post(
        format!("{base}/api/claims/{second_id}/resolve"),
        admin.clone(),
        json!({ "outcome": { "type": "refund", "amount_cents": second_total }, "reason": "broken" }),
    )
    .await;
    assert_eq!(resolved["refund_sent_cents"], 0, "the processor is out of reach: the refund is owed");
    office.kill();
    link.set(Mode::Clean);
    office.restart();
    let admin = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    eventually("a recovery round after the restart (the second claim's refund recorded)", || {
        let (http, base, admin, id) = (http.clone(), base.clone(), admin.clone(), second_id.clone());
        async move {
            let claim =
                call(&http, reqwest::Method::GET, format!("{base}/api/claims/{id}"), &admin, None).await;
            claim["refund_sent_cents"] == second_total
        }
    })
    .await;
    let books = ledger(http.clone(), processor.url.clone()).await;
    let refunds: Vec<(&str, i64)> = books["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["amount_cents"].as_i64().unwrap()))
        .collect();
    let first_key = format!("claim-{id}-v4");
    let second_key = format!("claim-{second_id}-v4");
    assert_eq!(refunds, [(first_key.as_str(), total), (second_key.as_str(), second_total)], "{books}");
}
