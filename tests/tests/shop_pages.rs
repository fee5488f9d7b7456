//! The storefront in a real browser (headless Chromium over WebDriver) against the real server
//! and the card processor as a process of its own: a shopper signs up on the page, searches,
//! fills a cart kept on the server; a declined card says so in a sentence and keeps the cart;
//! a double press on "Pay" makes one order and one charge; the order's page follows it as
//! logistics picks, ships and delivers it; a claim filed on the page is resolved by head office
//! with a refund, which the shopper's claim page then shows. Every page passes axe-core with no
//! critical or serious violation, at 1280 and 375 px wide, and is photographed for the README.

use std::time::Duration;

use caisse_e2e::browser::Browser;
use caisse_e2e::{ADMIN_PASSWORD, HeadOffice, Processor, free_port, sign_in};
use serde_json::{Value, json};

const PASSWORD: &str = "a long enough password";

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }
}

/// The processor's charges that took money.
async fn succeeded_charges(http: &reqwest::Client, processor: &str) -> Vec<Value> {
    let ledger: Value =
        http.get(format!("{processor}/v1/ledger")).send().await.unwrap().json().await.unwrap();
    ledger["charges"].as_array().unwrap().iter().filter(|c| c["status"] == "succeeded").cloned().collect()
}

async fn check(browser: &Browser, name: &str) {
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{name}: accessibility violations: {problems:#?}");
}

/// Checks the page at 375 px wide too (and photographs both widths when asked to).
async fn check_both_widths(browser: &Browser, name: &str, photo: Option<&str>) {
    check(browser, name).await;
    if let Some(photo) = photo {
        browser.shot(&format!("{photo}-1280")).await;
    }
    browser.client.set_window_size(375, 812).await.expect("a narrow window");
    // Nothing sticks out sideways at phone width.
    browser
        .until(
            &format!("{name} fitting 375 px"),
            "return document.documentElement.scrollWidth <= window.innerWidth",
        )
        .await;
    check(browser, &format!("{name} at 375 px")).await;
    if let Some(photo) = photo {
        browser.shot(&format!("{photo}-375")).await;
    }
    browser.client.set_window_size(1280, 800).await.expect("a wide window");
}

/// Goes to `hash` and waits until the page named `name` has shown its data.
async fn visit(browser: &Browser, hash: &str, name: &str) {
    browser.js(&format!("location.hash = {}", json!(hash))).await;
    ready(browser, name).await;
}

async fn ready(browser: &Browser, name: &str) {
    browser
        .until(
            &format!("the {name} page"),
            &format!("return document.body.dataset.page === '{name}' && document.querySelector('main#page[data-ready]') !== null"),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_buys_follows_the_order_and_is_refunded_on_a_claim() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/shop-pages.db", dir.path().display());
    let processor = Processor::start(3);
    let office =
        HeadOffice::start_with(dir.path(), &database, free_port(), &[("CAISSE_PAYMENT_URL", &processor.url)]);
    let base = office.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let admin = Api {
        http: http.clone(),
        base: base.clone(),
        token: sign_in(&http, &base, "admin", ADMIN_PASSWORD).await,
    };

    // The storefront is served at /shop/ with head office's security headers.
    let page = http.get(format!("{base}/shop/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    let script = html.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script");
    assert!(script.starts_with("/shop/assets/"), "{script}");
    let asset = http.get(format!("{base}{script}")).send().await.unwrap();
    assert_eq!(asset.status(), 200);
    assert!(asset.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert_eq!(http.get(format!("{base}/shop/assets/nothing.js")).send().await.unwrap().status(), 404);

    // Signing up on the page signs in and comes back to the catalogue.
    let browser = Browser::start().await;
    browser.open(&format!("{base}/shop/")).await;
    ready(&browser, "catalogue").await;
    browser.wait_for("li.product").await;
    check_both_widths(&browser, "catalogue", Some("shop")).await;
    visit(&browser, "#/signup", "signup").await;
    check(&browser, "sign-up").await;
    browser.fill("#su-name", "Ana Tremblay").await;
    browser.fill("#su-email", "ana@example.com").await;
    browser.fill("#su-password", PASSWORD).await;
    browser.click("#signup-submit").await;
    ready(&browser, "catalogue").await;
    browser.wait_for("#sign-out").await;

    // A search shows only what matches; two bags of espresso go into the cart.
    browser.fill("#s-q", "espresso").await;
    browser.click("#search button[type=submit]").await;
    browser
        .until(
            "the espresso alone",
            "const items = [...document.querySelectorAll('li.product')]; return location.hash.includes('q=espresso') && items.length > 0 && items.every(li => li.querySelector('h2').textContent.toLowerCase().includes('espresso'))",
        )
        .await;
    let espresso = "li.product[data-sku='CAF-ESP-250'] button.add";
    browser.click(espresso).await;
    browser
        .until("one in the cart", "return document.querySelector('#nav-cart')?.dataset.count === '1'")
        .await;
    browser
        .until("the add button back", &format!("return !document.querySelector(\"{espresso}\").disabled"))
        .await;
    browser.click(espresso).await;
    browser
        .until("two in the cart", "return document.querySelector('#nav-cart')?.dataset.count === '2'")
        .await;

    // A declined card: a sentence saying so, the cart kept, nothing charged.
    visit(&browser, "#/cart", "cart").await;
    browser.fill("#card-number", "4000 0000 0000 0002").await;
    browser.click("#pay").await;
    browser
        .until(
            "the decline said",
            "const p = document.querySelector('#pay-problem'); return p?.dataset.problem === 'declined' && p.textContent.length > 40",
        )
        .await;
    let kept = browser
        .js("return [...document.querySelectorAll('li.cart-line')].map(l => l.dataset.sku + ':' + l.dataset.quantity)")
        .await;
    assert_eq!(kept, json!(["CAF-ESP-250:2"]), "the cart after a decline");
    assert_eq!(
        browser.js("return document.querySelector('#card-number').getAttribute('aria-invalid')").await,
        json!("true")
    );
    assert!(succeeded_charges(&http, &processor.url).await.is_empty());
    check_both_widths(&browser, "cart with a declined card", Some("shop-cart")).await;

    // Pay pressed twice at once (and the form submitted once more): one order, one charge.
    browser.fill("#card-number", "4242 4242 4242 4242").await;
    browser
        .js("const b = document.querySelector('#pay'); const f = document.querySelector('#pay-form'); b.click(); f.requestSubmit(); b.click();")
        .await;
    ready(&browser, "order").await;
    browser.until("paid", "return document.querySelector('#order-status')?.dataset.status === 'paid'").await;
    let number: i64 = browser
        .js("return location.hash.split('/').pop()")
        .await
        .as_str()
        .and_then(|n| n.parse().ok())
        .expect("the order's number in the address");
    let charges = succeeded_charges(&http, &processor.url).await;
    assert_eq!(charges.len(), 1, "{charges:#?}");
    let paid = admin.call(reqwest::Method::GET, "/api/fulfilment/orders?status=paid", None).await;
    let paid = paid.as_array().unwrap();
    assert_eq!(paid.len(), 1, "{paid:#?}");
    assert_eq!(paid[0]["number"], number);
    assert_eq!(paid[0]["payment_id"], charges[0]["id"]);
    assert_eq!(browser.data("#nav-cart", "count").await, "0");

    // Logistics moves it on with head office's orders page, in a browser of its own, pressing
    // the step the server offers next; the shopper's page follows without a reload.
    let logistics = Browser::start().await;
    logistics.open(&base).await;
    logistics.sign_in("admin", ADMIN_PASSWORD).await;
    logistics.page("orders").await;
    for step in ["picked", "shipped", "delivered"] {
        let button = format!("button[data-advance='{number}']");
        logistics
            .until(
                &format!("the orders page offering {step}"),
                &format!("return document.querySelector(\"{button}\")?.dataset.step === '{step}'"),
            )
            .await;
        logistics.click(&button).await;
        logistics
            .until(
                &format!("the order {step} on head office's page"),
                &format!("return document.querySelector(\"tr[data-order='{number}']\")?.dataset.status === '{step}'"),
            )
            .await;
        browser
            .until(
                &format!("the order {step}"),
                &format!("return document.querySelector('#order-status')?.dataset.status === '{step}'"),
            )
            .await;
    }
    browser.wait_for("#claim-form").await;
    check_both_widths(&browser, "delivered order", Some("shop-order")).await;
    visit(&browser, "#/orders", "orders").await;
    assert_eq!(browser.data(&format!("tr[data-order='{number}']"), "status").await, "delivered");
    check(&browser, "orders").await;

    // A claim about one torn bag, filed on the order's page.
    visit(&browser, &format!("#/orders/{number}"), "order").await;
    browser.js("document.querySelector('#c-kind').value = 'damaged_item'").await;
    browser.fill("#c-line-0", "1").await;
    browser.fill("#c-description", "Un sac est arrivé déchiré.").await;
    browser.click("#claim-submit").await;
    ready(&browser, "claim").await;
    browser
        .until("submitted", "return document.querySelector('#claim-state')?.dataset.state === 'submitted'")
        .await;
    let id = browser.js("return decodeURIComponent(location.hash.split('/').pop())").await;
    let id = id.as_str().expect("the claim's id").to_owned();
    check(&browser, "claim filed").await;

    // Head office resolves it with a refund of one bag; the page shows the decision and the
    // refund once the processor has it.
    let order = admin.call(reqwest::Method::GET, "/api/fulfilment/orders?status=delivered", None).await;
    let one_bag = order[0]["lines"][0]["total_cents"].as_i64().unwrap() / 2;
    for action in ["assign", "start"] {
        admin.call(reqwest::Method::POST, &format!("/api/claims/{id}/{action}"), Some(json!({}))).await;
    }
    admin
        .call(
            reqwest::Method::POST,
            &format!("/api/claims/{id}/resolve"),
            Some(json!({ "outcome": { "type": "refund", "amount_cents": one_bag }, "reason": "Déchiré pendant le transport." })),
        )
        .await;
    browser
        .until("resolved", "return document.querySelector('#claim-state')?.dataset.state === 'resolved'")
        .await;
    browser
        .until(
            "the refund shown as sent",
            &format!("return document.querySelector('#claim-refund')?.dataset.sent === '{one_bag}'"),
        )
        .await;
    assert_eq!(browser.data("#claim-outcome", "outcome").await, "refund");
    check_both_widths(&browser, "resolved claim", Some("shop-claim")).await;
    let ledger: Value =
        http.get(format!("{}/v1/ledger", processor.url)).send().await.unwrap().json().await.unwrap();
    let refunds = ledger["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{ledger}");
    assert_eq!(refunds[0]["amount_cents"], one_bag);
    visit(&browser, "#/claims", "claims").await;
    assert!(browser.has(&format!("tr[data-claim='{id}']")).await);
    check(&browser, "claims").await;

    // A reload keeps the shopper signed in (the refresh token), in English when chosen.
    browser.js("const s = document.querySelector('#lang-choice'); s.value = 'en'; s.dispatchEvent(new Event('change'));").await;
    browser.client.refresh().await.unwrap();
    ready(&browser, "claims").await;
    browser
        .until(
            "English after a reload",
            "return document.documentElement.lang === 'en' && document.querySelector('#sign-out') !== null",
        )
        .await;
    check(&browser, "claims in English").await;

    // Signed out, a wrong password is refused in a sentence; the right one signs in again.
    browser.click("#sign-out").await;
    browser.wait_for("#nav-signin").await;
    visit(&browser, "#/signin", "signin").await;
    browser.fill("#si-email", "ana@example.com").await;
    browser.fill("#si-password", "not the right password").await;
    browser.click("#signin-submit").await;
    browser
        .until(
            "the wrong password said",
            "const m = document.querySelector('#message'); return m.className === 'error' && m.textContent.length > 0",
        )
        .await;
    assert_eq!(browser.js("return document.body.dataset.page").await, "signin");
    check(&browser, "sign-in refused").await;
    browser.fill("#si-password", PASSWORD).await;
    browser.click("#signin-submit").await;
    browser.wait_for("#sign-out").await;
    visit(&browser, "#/orders", "orders").await;
    assert_eq!(browser.data(&format!("tr[data-order='{number}']"), "status").await, "delivered");
}
