//! How fast the storefront's first page is ready in a browser (BENCHMARKS.md): headless
//! Chromium over WebDriver against a running server (`BENCH_SHOP_URL`, e.g.
//! http://127.0.0.1:8080); each measurement is a fresh load of `/shop/`, from navigation start
//! to the first products on screen (the page's `products-shown` performance mark), read from
//! the browser's own clock. `scripts/bench-shop-pages` starts the servers (the demo catalogue,
//! then 100 000 more products imported from CSV) and runs this for each.

use caisse_e2e::browser::Browser;
use serde_json::Value;

const LOADS: usize = 30;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches`: nothing to measure without a server.
    }
    let Ok(base) = std::env::var("BENCH_SHOP_URL") else {
        eprintln!("set BENCH_SHOP_URL to a running server (scripts/bench-shop-pages does)");
        return;
    };
    let label = std::env::var("BENCH_SHOP_LABEL").unwrap_or_else(|_| base.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let browser = Browser::start().await;
        // A first load fills the browser's cache of the page's files, as a returning shopper's.
        browser.open(&format!("{base}/shop/")).await;
        let mut loads = Vec::new();
        for _ in 0..LOADS {
            // Until the reload has replaced the document, the old one still passes the readiness
            // check below: the new one is known by its own time origin.
            let before = browser.js("return performance.timeOrigin").await;
            let before = before.as_f64().expect("a time origin");
            browser.js("location.reload()").await;
            browser
                .until(
                    "the products",
                    &format!(
                        "return performance.timeOrigin !== {before:?} && document.querySelector('main#page[data-ready]') !== null && document.querySelector('li.product') !== null && performance.getEntriesByName('products-shown').length > 0"
                    ),
                )
                .await;
            let ms: Value =
                browser.js("return performance.getEntriesByName('products-shown')[0]?.startTime ?? null").await;
            loads.push(ms.as_f64().expect("a time"));
        }
        loads.sort_by(f64::total_cmp);
        println!(
            "{label}: storefront's products shown in Chromium (navigation start to products on screen), {LOADS} loads: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            percentile(&loads, 0.5),
            percentile(&loads, 0.99),
            loads[loads.len() - 1]
        );
    });
}
