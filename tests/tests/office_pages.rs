//! Head office's pages in a real browser (headless Chromium over WebDriver) against the real
//! server, with registers syncing through the CLI as real processes: a manager's dashboard
//! moves while registers sell, without a reload, and equals what the tills rang up; a price
//! edited on the page reaches the registers, which then sell at it; the report's CSV equals
//! its JSON; logistics approves an edited replenishment and both stocks move; logistics sees
//! no price editor and its forged write is refused; an admin manages people. Every page passes
//! axe-core with no critical or serious violation and is photographed for the README.

use std::path::Path;
use std::time::{Duration, Instant};

use caisse_e2e::browser::Browser;
use caisse_e2e::{ADMIN_PASSWORD, HeadOffice, free_port, register_cli, sign_in};
use serde_json::{Value, json};

const PASSWORD: &str = "a long enough password";

struct Till<'a> {
    dir: &'a Path,
    cashier: (String, String),
}

impl Till<'_> {
    fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = register_cli(self.dir, &[], args);
        assert!(ok, "{args:?}: {out}");
        out
    }

    /// Sells `items` (CODE:QTY) by debit; answers the sale record's JSON.
    fn sell(&self, items: &[&str]) -> Value {
        let mut args = vec![
            "--json",
            "sell",
            "--cashier",
            &self.cashier.0,
            "--pin",
            &self.cashier.1,
            "--tender",
            "debit",
        ];
        for item in items {
            args.extend(["--item", item]);
        }
        serde_json::from_str(&self.ok(&args)).expect("the sale as JSON")
    }
}

/// The first value of `key` anywhere in `value`.
fn find<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map.get(key).or_else(|| map.values().find_map(|v| find(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find(v, key)),
        _ => None,
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }

    async fn get(&self, path: &str) -> Value {
        let response =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    async fn stock(&self, location: &str, sku: &str) -> i64 {
        let levels = self.get(&format!("/api/stock?location={location}&sku={sku}")).await;
        levels[0]["quantity"].as_i64().unwrap_or(0)
    }
}

async fn sign_in_api(http: &reqwest::Client, base: &str, username: &str, password: &str) -> Api {
    let token = sign_in(http, base, username, password).await;
    Api { http: http.clone(), base: base.to_owned(), token }
}

/// Checks the page with axe-core and saves its picture as docs/screenshots/office-NAME.png.
async fn check_and_photograph(browser: &Browser, name: &str) {
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{name}: accessibility violations: {problems:#?}");
    browser.shot(&format!("office-{name}")).await;
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_office_runs_the_chain_from_its_pages() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/office.db", dir.path().display());
    let office = HeadOffice::start(dir.path(), &database, free_port());
    let base = office.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let admin = sign_in_api(&http, &base, "admin", ADMIN_PASSWORD).await;
    for (name, role) in [("marie", "manager"), ("luc", "logistics")] {
        admin
            .call(
                reqwest::Method::POST,
                "/api/users",
                json!({ "username": name, "role": role, "password": PASSWORD }),
            )
            .await;
    }

    // Two tills, at Plateau and in Old Montréal, enrolled and synced.
    let (plat_dir, vmtl_dir) = (dir.path().join("plat"), dir.path().join("vmtl"));
    let plat = Till {
        dir: &plat_dir,
        cashier: (office.cashiers["PLAT"].0.to_string(), office.cashiers["PLAT"].1.clone()),
    };
    let vmtl = Till {
        dir: &vmtl_dir,
        cashier: (office.cashiers["VMTL"].0.to_string(), office.cashiers["VMTL"].1.clone()),
    };
    plat.ok(&["enrol", "--server", &base, "--code", &office.codes["PLAT-01"]]);
    vmtl.ok(&["enrol", "--server", &base, "--code", &office.codes["VMTL-01"]]);
    plat.ok(&["sync"]);
    vmtl.ok(&["sync"]);

    // A manager opens the dashboard before anything is sold today.
    let browser = Browser::start().await;
    browser.open(&base).await;
    browser.sign_in("marie", PASSWORD).await;
    browser.js("window.__sameDocument = 'yes'").await;
    let today_cell = |store: &str| format!("td[data-revenue][data-location='{store}'][data-period='today']");
    assert_eq!(browser.number(&today_cell("PLAT"), "cents").await, 0);

    // The tills sell; the dashboard follows without a reload, to the cent of the report.
    plat.sell(&["CAF-ESP-250:2", "THE-VRT-20:1"]);
    vmtl.sell(&["LIV-GUI-MTL:1"]);
    plat.ok(&["sync"]);
    vmtl.ok(&["sync"]);
    let today = chrono::Local::now().date_naive().to_string();
    let report = admin.get(&format!("/api/reports/sales?from={today}&to={today}")).await;
    for store in ["PLAT", "VMTL"] {
        let figures = report["stores"].as_array().unwrap().iter().find(|s| s["store"] == store).unwrap();
        let revenue = figures["net_sales"].as_i64().unwrap() - figures["net_refunds"].as_i64().unwrap();
        assert!(revenue > 0);
        browser
            .until(
                &format!("{store}'s revenue of {revenue} on the dashboard"),
                &format!(
                    "return document.querySelector(\"{}\")?.dataset.cents === '{revenue}'",
                    today_cell(store)
                ),
            )
            .await;
    }

    // A sale that takes a product under its threshold raises an alert the open page shows.
    let book = "LIV-REC-QC";
    let on_hand = admin.stock("PLAT", book).await;
    let threshold =
        admin.get(&format!("/api/catalogue?q={book}")).await[0]["reorder_threshold"].as_i64().unwrap();
    let units = on_hand - threshold + 1;
    plat.sell(&[&format!("{book}:{units}")]);
    plat.ok(&["sync"]);
    let alert = format!("li[data-alert-kind='low_stock'][data-alert-subject='PLAT/{book}']");
    browser
        .until(
            "the low-stock alert on the dashboard",
            &format!("return document.querySelector(\"{alert}\") !== null"),
        )
        .await;
    assert_eq!(browser.js("return window.__sameDocument ?? null").await, json!("yes"), "the page reloaded");
    assert!(browser.number("#live", "events").await > 0);
    check_and_photograph(&browser, "dashboard").await;

    // The report: its CSV, fetched as the page's link does, equals its JSON.
    browser.page("report").await;
    let href = browser.js("return document.querySelector('#report-csv').href").await;
    let href = href.as_str().unwrap().to_owned();
    let csv = browser.js_async(&format!("fetch({}).then(r => r.text()).then(done)", json!(href))).await;
    let csv = csv.as_str().unwrap().to_owned();
    let period = href
        .split('?')
        .nth(1)
        .unwrap()
        .split('&')
        .filter(|p| !p.starts_with("format="))
        .collect::<Vec<_>>()
        .join("&");
    let json_report = admin.get(&format!("/api/reports/sales?{period}")).await;
    let dollars = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    // Every column the page shows is in the CSV, named as the JSON names it.
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    let mut rows = csv.lines().skip(1).filter(|l| l.starts_with("store,"));
    for store in
        json_report["stores"].as_array().unwrap().iter().chain(std::iter::once(&json_report["total"]))
    {
        let row: Vec<&str> = rows.next().expect("a CSV row per store").split(',').collect();
        assert_eq!(row[1], store["store"].as_str().unwrap());
        assert_eq!(row[2], store["sales"].to_string());
        assert_eq!(row[4], dollars(store["net_sales"].as_i64().unwrap()), "{row:?}");
        assert_eq!(row[5], dollars(store["gst"].as_i64().unwrap()));
        assert_eq!(row[6], dollars(store["qst"].as_i64().unwrap()));
        assert_eq!(row[column("net_refunds")], dollars(store["net_refunds"].as_i64().unwrap()), "{row:?}");
        assert_eq!(row[column("refunded")], dollars(store["refunded"].as_i64().unwrap()), "{row:?}");
        assert_eq!(row[column("redated")], store["redated"].to_string(), "{row:?}");
    }
    // The page's date boxes read ISO days whatever the browser's locale, and refuse others.
    assert_eq!(browser.js("return document.querySelector('#report-from').type").await, json!("text"));
    let from_day = browser.js("return document.querySelector('#report-from').value").await;
    assert!(
        from_day.as_str().unwrap().len() == 10 && from_day.as_str().unwrap().as_bytes()[4] == b'-',
        "{from_day}"
    );
    browser.fill("#report-to", "12/31/2026").await;
    browser.click("#report-run").await;
    browser.wait_for("#report-to[aria-invalid='true']").await;
    browser.fill("#report-to", &today).await;
    browser.click("#report-run").await;
    browser
        .until(
            "the error gone with the next action",
            "return document.querySelector('#message').className !== 'error'",
        )
        .await;
    // Top products by revenue, named.
    let top = json_report["top_products"].as_array().unwrap();
    assert!(top.windows(2).all(|w| w[0]["net"].as_i64() >= w[1]["net"].as_i64()), "{top:?}");
    browser.wait_for("tr[data-top-sku][data-rank='1']").await;
    let first_top =
        browser.js("return document.querySelector(\"tr[data-top-sku][data-rank='1']\").textContent").await;
    assert!(
        first_top.as_str().unwrap().contains(&format!(
            "{} ({})",
            top[0]["name"].as_str().unwrap(),
            top[0]["sku"].as_str().unwrap()
        )),
        "{first_top}"
    );
    let plat_net =
        json_report["stores"].as_array().unwrap().iter().find(|s| s["store"] == "PLAT").unwrap()["net_sales"]
            .as_i64()
            .unwrap();
    assert_eq!(browser.number("td[data-store='PLAT'][data-field='net_sales']", "cents").await, plat_net);
    check_and_photograph(&browser, "report").await;

    // A price edited on the page reaches the registers, which sell at it.
    browser.page("products").await;
    browser.fill("#product-search", "THE-VRT").await;
    browser.wait_for("button[data-edit='THE-VRT-20']").await;
    browser.click("button[data-edit='THE-VRT-20']").await;
    browser.wait_for("form#product-form").await;
    browser.fill("#product-price", "6.49").await;
    browser.fill("#product-max", "500").await;
    browser.click("#product-save").await;
    browser
        .until(
            "the reach after saving",
            "return document.querySelector('#product-reach')?.dataset.registers === '2'",
        )
        .await;
    assert_eq!(browser.number("#product-reach", "reached").await, 0);
    plat.ok(&["sync"]);
    browser
        .until(
            "one register reached",
            "return document.querySelector('#product-reach')?.dataset.reached === '1'",
        )
        .await;
    vmtl.ok(&["sync"]);
    browser
        .until(
            "both registers reached",
            "return document.querySelector('#product-reach')?.dataset.reached === '2'",
        )
        .await;
    let sale = plat.sell(&["THE-VRT-20:1"]);
    assert_eq!(find(&sale, "unit_price"), Some(&json!(649)), "{sale}");
    check_and_photograph(&browser, "products").await;
    // The "saved" banner goes away by itself.
    browser
        .until("the saved banner faded", "return document.querySelector('#message').textContent === ''")
        .await;

    // In French: the alert and the audit log read as sentences in French.
    browser.js("const l = document.querySelector('#lang'); l.value = 'fr'; l.dispatchEvent(new Event('change', { bubbles: true }))").await;
    browser.page("alerts").await;
    let low = format!("tr[data-alert-kind='low_stock'][data-alert-subject='PLAT/{book}'] .alert-text");
    browser.wait_for(&low).await;
    let said = browser.js(&format!("return document.querySelector(\"{low}\").textContent")).await;
    let said = said.as_str().unwrap().to_owned();
    assert!(
        said.starts_with(&format!("Le stock de {book} à ")) && said.contains("au seuil de commande"),
        "{said}"
    );
    browser.page("audit").await;
    let edit = "tr[data-action='product.update'][data-object='product:THE-VRT-20']";
    browser.wait_for(edit).await;
    let sentence =
        browser.js(&format!("return document.querySelector(\"{edit} .sentence\").textContent")).await;
    assert_eq!(sentence, json!("marie a modifié le produit THE-VRT-20"));
    let price = browser
        .js(&format!("return document.querySelector(\"{edit} li[data-field='price']\").textContent"))
        .await;
    let price = price.as_str().unwrap().replace(['\u{a0}', '\u{202f}'], " ");
    assert!(price.starts_with("prix : ") && price.ends_with("→ 6,49 $"), "{price}");
    let row = browser.js(&format!("return document.querySelector(\"{edit}\").textContent")).await;
    assert!(!row.as_str().unwrap().contains("null"), "{row}");
    // Checked, not photographed: the claims test takes the audit page's picture.
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "audit in French: accessibility violations: {problems:#?}");
    browser.js("const l = document.querySelector('#lang'); l.value = 'en'; l.dispatchEvent(new Event('change', { bubbles: true }))").await;

    for page in ["alerts", "registers"] {
        browser.page(page).await;
        check_and_photograph(&browser, page).await;
    }
    // A manager cannot revoke registers: the page offers no such button.
    assert!(!browser.has("button[data-revoke]").await);
    browser.click("#signout").await;
    browser.wait_for("form#signin").await;

    // Logistics: no price editor, and a forged write from its session is refused.
    browser.sign_in("luc", PASSWORD).await;
    browser.page("products").await;
    assert!(!browser.has("form#product-form").await && !browser.has("button[data-edit]").await);
    let forged = browser
        .js_async(
            "fetch('/api/auth/me').then(r => r.json()).then(me => fetch('/api/products/THE-VRT-20', { method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: JSON.stringify({ name: 'Thé', category: 'Café et thé', price: '0.01', tax_class: 'zero_rated', reorder_threshold: 1 }) })).then(r => done(r.status))",
        )
        .await;
    assert_eq!(forged, json!(403));
    assert_eq!(admin.get("/api/catalogue?q=THE-VRT").await[0]["price"], 649);

    // Plateau asks for coffee twice; logistics approves the first for fewer units.
    let coffee = "CAF-ESP-250";
    for units in ["CAF-ESP-250:6", "CAF-ESP-250:4"] {
        plat.ok(&["replenish", "--cashier", &plat.cashier.0, "--pin", &plat.cashier.1, "--item", units]);
    }
    plat.ok(&["sync"]);
    browser.page("replenishment").await;
    let pending = admin.get("/api/replenishments?status=pending").await;
    let (first, second) =
        (pending[0]["id"].as_str().unwrap().to_owned(), pending[1]["id"].as_str().unwrap().to_owned());
    browser.wait_for(&format!("tr[data-request='{second}']")).await;
    let anjou_cell =
        format!("tr[data-request='{second}'] td[data-stock][data-location='ANJOU'][data-sku='{coffee}']");
    let plat_cell =
        format!("tr[data-request='{second}'] td[data-stock][data-location='PLAT'][data-sku='{coffee}']");
    let (anjou_before, plat_before) = (admin.stock("ANJOU", coffee).await, admin.stock("PLAT", coffee).await);
    assert_eq!(browser.number(&anjou_cell, "quantity").await, anjou_before);
    assert_eq!(browser.number(&plat_cell, "quantity").await, plat_before);
    // Requests by short number and products by name; a new transfer goes from the centre to a store.
    let head = browser.js(&format!("return document.querySelector(\"tbody[data-request-group='{second}'] .request-head strong\").textContent")).await;
    assert_eq!(head, json!(format!("R-{}", pending[1]["number"])));
    let product = browser
        .js(&format!("return document.querySelector(\"tr[data-request='{second}'] td\").textContent"))
        .await;
    assert!(
        product.as_str().unwrap().ends_with(&format!("({coffee})"))
            && product.as_str().unwrap().len() > coffee.len() + 3,
        "{product}"
    );
    browser
        .until("the transfer form's ends", "return document.querySelector('#nt-from').value === 'ANJOU'")
        .await;
    let to = browser.js("return document.querySelector('#nt-to').value").await;
    assert!(to != json!("ANJOU") && to != json!(""), "{to}");
    check_and_photograph(&browser, "replenishment").await;
    browser.fill(&format!("input[data-request-qty='{first}'][data-sku='{coffee}']"), "3").await;
    browser.click(&format!("button[data-approve='{first}']")).await;
    browser
        .until(
            "Anjou's stock after shipping",
            &format!(
                "return document.querySelector(\"{anjou_cell}\")?.dataset.quantity === '{}'",
                anjou_before - 3
            ),
        )
        .await;
    assert_eq!(admin.stock("ANJOU", coffee).await, anjou_before - 3);
    browser.wait_for("tr[data-transfer]").await;
    // The store receives the transfer: its stock moves, on the page and in the API.
    plat.ok(&["sync"]);
    let transfers = plat.ok(&["--json", "transfers"]);
    let transfers: Value = serde_json::from_str(&transfers).unwrap();
    let transfer = transfers[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a transfer to receive: {transfers}"))
        .to_owned();
    plat.ok(&["receive", "--cashier", &plat.cashier.0, "--pin", &plat.cashier.1, &transfer]);
    plat.ok(&["sync"]);
    wait_until("Plateau's stock after the receipt", || async {
        admin.stock("PLAT", coffee).await == plat_before + 3
    })
    .await;
    browser
        .until(
            "Plateau's stock on the page",
            &format!(
                "return document.querySelector(\"{plat_cell}\")?.dataset.quantity === '{}'",
                plat_before + 3
            ),
        )
        .await;
    browser
        .until("no transfer in flight", "return document.querySelector('tr[data-transfer]') === null")
        .await;
    for page in ["dashboard", "orders", "account"] {
        browser.page(page).await;
        check_and_photograph(
            &browser,
            &format!("{page}-logistics").replace("dashboard-logistics", "dashboard-logistics"),
        )
        .await;
    }
    browser.click("#signout").await;
    browser.wait_for("form#signin").await;
    check_and_photograph(&browser, "signin").await;

    // An admin creates an account on the people page; it can sign in.
    browser.sign_in("admin", ADMIN_PASSWORD).await;
    browser.page("people").await;
    browser.fill("#user-username", "zoe").await;
    browser.js("document.querySelector('#user-role').value = 'manager'").await;
    browser.fill("#user-password", PASSWORD).await;
    browser.click("#user-create").await;
    browser.wait_for("tr[data-user='zoe']").await;
    check_and_photograph(&browser, "people").await;
    sign_in_api(&http, &base, "zoe", PASSWORD).await;

    // The admin sets what receipts print: a bad QST number is marked and changes nothing; a
    // good one typed loosely is stored, and shown, as receipts print it.
    browser.page("settings").await;
    let demo = admin.get("/api/chain-settings").await;
    browser.fill("#chain-qst_number", "1234 TQ 0001").await;
    browser.click("#chain-save").await;
    browser.wait_for("#chain-qst_number[aria-invalid='true']").await;
    assert_eq!(admin.get("/api/chain-settings").await, demo);
    browser.fill("#chain-qst_number", "1234567890tq0001").await;
    browser.click("#chain-save").await;
    browser
        .until(
            "the number as stored",
            "return document.querySelector('#chain-qst_number').value === '1234567890 TQ 0001'",
        )
        .await;
    check_and_photograph(&browser, "settings").await;
    assert_eq!(admin.get("/api/chain-settings").await["qst_number"], "1234567890 TQ 0001");
    browser.page("registers").await;
    assert!(browser.has("button[data-revoke='PLAT-01']").await, "an admin may revoke registers");
    drop(office);
}
