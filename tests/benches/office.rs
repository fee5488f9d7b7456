//! How fast head office's dashboard is ready in a browser (BENCHMARKS.md): the release server on
//! the PostgreSQL database `sync-server/benches/report.rs` leaves behind (a year of five
//! stores, a million sale lines), headless Chromium over WebDriver, signed in; each
//! measurement is a fresh load of the page, from navigation start to the dashboard showing its
//! figures (the page's `page-ready` performance mark), read from the browser's own clock.
//!
//! `cargo bench -p caisse-e2e --bench office` after `cargo bench -p sync-server --bench report`
//! (`BENCH_DATABASE_URL` names another database).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use caisse_e2e::browser::Browser;
use caisse_e2e::{binary, free_port};
use serde_json::Value;

const LOADS: usize = 30;
const PASSWORD: &str = "bench admin password";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches`: nothing to check without the loaded database.
    }
    let admin = std::env::var("CAISSE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("{}/caisse_bench", admin.rsplit_once('/').expect("a URL").0));
    let port = free_port();
    let _server = Server(
        Command::new(binary("sync-server"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--no-demo"])
            .env("DATABASE_URL", &url)
            .env("CAISSE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let browser = Browser::start().await;
        browser.open(&base).await;
        browser.sign_in("admin", PASSWORD).await;
        let mut loads = Vec::new();
        for _ in 0..LOADS {
            browser.js("location.reload()").await;
            browser
                .until("the dashboard", "return document.querySelector('main#page[data-ready]') !== null && document.body.dataset.page === 'dashboard'")
                .await;
            let ms: Value =
                browser.js("return performance.getEntriesByName('page-ready')[0]?.startTime ?? null").await;
            loads.push(ms.as_f64().expect("a time"));
        }
        loads.sort_by(f64::total_cmp);
        println!(
            "dashboard ready in Chromium (navigation start to figures shown), {LOADS} loads: p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
            percentile(&loads, 0.5),
            percentile(&loads, 0.9),
            loads[loads.len() - 1]
        );
    });
}
