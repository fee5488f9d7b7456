//! Twelve tabs of head office's pages (and two of the shop) open at once in one browser: every
//! one loads, a sale synced from a register reaches all twelve, and a tab that leaves its page
//! and comes back again and again still loads.
//!
//! A browser opens at most six HTTP/1.1 connections to a server, and a server-sent event
//! stream holds one for as long as its page lives. With a stream per tab, the seventh tab of
//! head office never loaded. The pages now share one stream per browser (`ui/src/events`: a
//! shared worker holds it), which this test checks in headless Chromium against the real
//! server over plain HTTP/1.1, where the limit bites. Two tabs of the storefront's `/shop` are
//! open beside them (they poll, holding no stream).

use std::time::Duration;

use caisse_e2e::browser::Browser;
use caisse_e2e::{ADMIN_PASSWORD, HeadOffice, free_port, register_cli, sign_in};
use fantoccini::wd::{TimeoutConfiguration, WindowHandle};
use serde_json::Value;

/// Every page an admin may open, one tab each.
const PAGES: [&str; 12] = [
    "dashboard",
    "report",
    "products",
    "replenishment",
    "alerts",
    "registers",
    "people",
    "orders",
    "claims",
    "audit",
    "settings",
    "account",
];

fn till(dir: &std::path::Path, args: &[&str]) -> String {
    let (ok, out) = register_cli(dir, &[], args);
    assert!(ok, "{args:?}: {out}");
    out
}

/// The live indicator's count of events in the tab on show.
async fn events_seen(browser: &Browser) -> i64 {
    browser.number("#live", "events").await
}

async fn to_tab(browser: &Browser, tab: &WindowHandle) {
    browser.client.switch_to_window(tab.clone()).await.expect("the tab is still open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_tabs_of_head_office_load_and_all_hear_a_sale() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/office.db", dir.path().display());
    let office = HeadOffice::start(dir.path(), &database, free_port());
    let base = office.url();
    let plat = dir.path().join("plat");
    till(&plat, &["enrol", "--server", &base, "--code", &office.codes["PLAT-01"]]);
    till(&plat, &["sync"]);

    let browser = Browser::start().await;
    // A tab that cannot get a connection fails the test at the navigation's limit instead of
    // WebDriver's default of five minutes.
    browser
        .client
        .update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(60)),
            Some(Duration::from_secs(60)),
            Some(Duration::ZERO),
        ))
        .await
        .unwrap();
    browser.open(&base).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;

    // One tab per page, all open at once; each shows its page's content and a live stream.
    let mut tabs = vec![browser.client.window().await.unwrap()];
    for (n, page) in PAGES.iter().enumerate() {
        if n > 0 {
            let tab = browser.client.new_window(true).await.unwrap().handle;
            to_tab(&browser, &tab).await;
            browser.open(&format!("{base}/#/{page}")).await;
            tabs.push(tab);
        } else {
            browser.page(page).await;
        }
        browser
            .until(
                &format!("tab {} showing the {page} page, live", n + 1),
                &format!(
                    "return document.body.dataset.page === '{page}' \
                     && document.querySelector('main#page[data-ready] .page-{page}') !== null \
                     && document.querySelector('#live')?.dataset.connected === '1'"
                ),
            )
            .await;
    }
    // The storefront's catalogue in two more tabs of the same browser: it polls rather than
    // holding a stream, and loads beside the twelve.
    for n in 1..=2 {
        let tab = browser.client.new_window(true).await.unwrap().handle;
        to_tab(&browser, &tab).await;
        browser.open(&format!("{base}/shop/")).await;
        browser
            .until(
                &format!("the shop's catalogue in shop tab {n}"),
                "return document.body.dataset.page === 'catalogue' \
                 && document.querySelector('main#page[data-ready] li.product') !== null",
            )
            .await;
    }
    assert_eq!(browser.client.windows().await.unwrap().len(), PAGES.len() + 2);
    let mut before = Vec::new();
    for tab in &tabs {
        to_tab(&browser, tab).await;
        before.push(events_seen(&browser).await);
    }

    // A register sells and syncs: every tab hears it, and the dashboard shows the figure.
    till(
        &plat,
        &[
            "sell",
            "--cashier",
            &office.cashiers["PLAT"].0.to_string(),
            "--pin",
            &office.cashiers["PLAT"].1,
            "--tender",
            "debit",
            "--item",
            "CAF-ESP-250:2",
        ],
    );
    till(&plat, &["sync"]);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let token = sign_in(&http, &base, "admin", ADMIN_PASSWORD).await;
    let today = chrono::Local::now().date_naive().to_string();
    let report: Value = http
        .get(format!("{base}/api/reports/sales?from={today}&to={today}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plat_figures = report["stores"].as_array().unwrap().iter().find(|s| s["store"] == "PLAT").unwrap();
    let revenue = plat_figures["net_sales"].as_i64().unwrap() - plat_figures["net_refunds"].as_i64().unwrap();
    assert!(revenue > 0, "{report}");
    for ((tab, page), seen) in tabs.iter().zip(PAGES).zip(&before) {
        to_tab(&browser, tab).await;
        browser
            .until(
                &format!("the sale's event in the {page} tab"),
                &format!("return Number(document.querySelector('#live')?.dataset.events) > {seen}"),
            )
            .await;
    }
    to_tab(&browser, &tabs[0]).await;
    browser
        .until(
            "the sale's revenue on the dashboard",
            &format!(
                "return document.querySelector(\"td[data-revenue][data-location='PLAT'][data-period='today']\")?.dataset.cents === '{revenue}'"
            ),
        )
        .await;

    // The dashboard's tab leaves for another page and comes back, seven times: a page in the
    // back/forward cache lets go of the stream, and listens again when shown.
    for round in 1..=7 {
        browser.open(&format!("{base}/health")).await;
        browser.client.back().await.unwrap();
        browser
            .until(
                &format!("the dashboard, live, after leaving it {round} times"),
                "return document.body.dataset.page === 'dashboard' \
                 && document.querySelector('main#page[data-ready]') !== null \
                 && document.querySelector('#live')?.dataset.connected === '1'",
            )
            .await;
    }
    drop(office);
}
