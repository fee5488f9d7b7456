//! Head office's monitoring as an operator runs it: Debian's `prometheus` scrapes a real
//! sync-server with the shipped `deploy/prometheus.yml` (only its target and intervals changed)
//! and loads the shipped `deploy/alerts.yml`, while a register pushes a sale, a shopper checks
//! out online and a register's push is refused. Then every series the Grafana dashboard
//! (`deploy/grafana/caisse.json`) draws exists, every panel's query answers something, and every
//! alert rule evaluates without error.
//!
//! Needs the `prometheus` package (scripts/test installs it); without it the test says so and
//! passes, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use caisse_e2e::till::Till;
use caisse_e2e::window::Kill;
use caisse_e2e::{HeadOffice, Processor, ScratchPostgres, free_port};
use serde_json::{Value, json};
use shared_model::protocol::{Message, PushBatch};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Debian's `prometheus`, or `None` (having said why) when it is not installed outside CI.
fn prometheus_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "prometheus is not installed: apt-get install prometheus (scripts/test does)"
        );
        eprintln!(
            "SKIPPED: prometheus is not installed (apt-get install prometheus); under CI=true this fails"
        );
    }
    found
}

/// The shipped `deploy/prometheus.yml` with its targets replaced by `target` and its
/// intervals by one second; anything else the file holds is kept as shipped.
fn config_for(target: &str) -> String {
    let shipped = std::fs::read_to_string(deploy().join("prometheus.yml")).expect("deploy/prometheus.yml");
    let mut text = shipped;
    for (from, to) in [
        ("scrape_interval: 15s", "scrape_interval: 1s"),
        ("evaluation_interval: 15s", "evaluation_interval: 1s"),
    ] {
        assert!(text.contains(from), "deploy/prometheus.yml no longer says {from:?}: update this test");
        text = text.replacen(from, to, 1);
    }
    let start = text.find("targets: [").expect("deploy/prometheus.yml lists its targets as [..]")
        + "targets: [".len();
    let end = start + text[start..].find(']').expect("the targets' closing bracket");
    text.replace_range(start..end, &format!("\"{target}\""));
    text
}

/// A Prometheus server of the test's own, on a free loopback port.
struct Prometheus {
    _process: Kill,
    url: String,
    log: PathBuf,
    http: reqwest::Client,
}

impl Prometheus {
    /// Starts `binary` in `dir` scraping `target`, with the shipped alerts beside its config.
    async fn start(binary: &Path, dir: &Path, target: &str) -> Prometheus {
        std::fs::copy(deploy().join("alerts.yml"), dir.join("alerts.yml")).expect("alerts.yml copied");
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, config_for(target)).expect("the config written");
        let port = free_port();
        let log = dir.join("prometheus.log");
        let process = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("prometheus starts");
        let mut process = Kill(process);
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("a client");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = process.0.try_wait() {
                panic!("prometheus stopped ({status}): {}", read_log(&log));
            }
            match http.get(format!("{url}/-/ready")).send().await {
                Ok(r) if r.status().is_success() => break,
                _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
                _ => panic!("prometheus never became ready: {}", read_log(&log)),
            }
        }
        Prometheus { _process: process, url, log, http }
    }

    /// An instant query's result; a query Prometheus refuses fails the test.
    async fn query(&self, expr: &str) -> Vec<Value> {
        let answer: Value = self
            .http
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .expect("prometheus answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
        answer["data"]["result"].as_array().expect("a result").clone()
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON")
    }
}

fn read_log(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Every panel's queries in a Grafana dashboard: (panel title, PromQL), rows' panels included.
fn panel_queries(dashboard: &Value) -> Vec<(String, String)> {
    fn walk(panels: &Value, out: &mut Vec<(String, String)>) {
        for panel in panels.as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("untitled").to_owned();
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push((title.clone(), expr.to_owned()));
                }
            }
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// The metric names a PromQL expression selects: a name followed by a selector (`{`) or a
/// range (`[`), and every `caisse_…` name wherever it stands.
fn series_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c == '"' {
            // A label value: skip to its closing quote.
            i += 1 + expr[i + 1..].find('"').unwrap_or(expr.len() - i - 1) + 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let end = expr[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .map_or(expr.len(), |n| i + n);
            let word = &expr[i..end];
            let next = expr[end..].chars().next();
            if word.starts_with("caisse_") || matches!(next, Some('{') | Some('[')) {
                names.push(word.to_owned());
            }
            i = end;
            continue;
        }
        i += 1;
    }
    names
}

/// Waits until every expression answers something; fails naming those that never did.
async fn until_all_answer(prometheus: &Prometheus, what: &str, exprs: &[(String, String)]) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut empty = Vec::new();
        for (title, expr) in exprs {
            if prometheus.query(expr).await.is_empty() {
                empty.push(format!("{title}: {expr}"));
            }
        }
        if empty.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let log = read_log(&prometheus.log);
            let targets = prometheus.get("/api/v1/targets").await;
            panic!(
                "{what} never answered:\n{}\ntargets: {targets}\nprometheus' log:\n{log}",
                empty.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn scenario(database_url: &str) {
    let Some(binary) = prometheus_binary() else { return };
    let work = tempfile::tempdir().expect("a folder");
    let processor = Processor::start(3);
    let port = free_port();
    let office =
        HeadOffice::start_with(work.path(), database_url, port, &[("CAISSE_PAYMENT_URL", &processor.url)]);
    let base = office.url();
    let prometheus = Prometheus::start(&binary, work.path(), &format!("127.0.0.1:{port}")).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("a client");

    // A sale at a register, pushed to head office.
    let till = Till::new("VMTL-01", work.path().join("VMTL-01"), office.cashiers["VMTL"].clone());
    till.ok(&["enrol", "--server", &base, "--code", &office.codes["VMTL-01"]]);
    till.ok(&["sync"]); // the cashiers and the catalogue
    till.sell(&["CAF-ESP-250"], "cash");
    till.ok(&["sync"]);

    // An online checkout, paid.
    let shopper = caisse_e2e::shop::sign_up(&http, &base, "watched@example.com").await;
    let line = http
        .post(format!("{base}/api/shop/cart/lines"))
        .bearer_auth(&shopper)
        .json(&json!({ "sku": "CAF-ESP-250", "quantity": 1 }))
        .send()
        .await
        .expect("the cart answers");
    assert!(line.status().is_success(), "{}", line.status());
    let placed = http
        .post(format!("{base}/api/shop/checkout"))
        .bearer_auth(&shopper)
        .header("Idempotency-Key", "monitored-1")
        .json(&json!({ "card_number": sync_server::http::processor::APPROVED }))
        .send()
        .await
        .expect("the checkout answers");
    assert_eq!(placed.status(), 201);

    // A push refused: a second register sends a record that is not one; it is parked.
    let enrolment: Value = http
        .post(format!("{base}/api/registers/enrol"))
        .json(&json!({ "code": office.codes["VMTL-02"] }))
        .send()
        .await
        .expect("enrolment answers")
        .json()
        .await
        .expect("an enrolment");
    let secret = enrolment["secret"].as_str().expect("a device secret");
    let garbage =
        serde_json::value::RawValue::from_string(r#"{"record":{"id":"not a record"}}"#.into()).expect("JSON");
    let refused = http
        .post(format!("{base}/api/sync/push"))
        .bearer_auth(secret)
        .header("content-type", "application/json")
        .body(PushBatch { records: vec![garbage] }.encode())
        .send()
        .await
        .expect("the push answers");
    assert_eq!(refused.status(), 422);

    // Every series the dashboard draws exists, and every panel's query draws something.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy().join("grafana/caisse.json")).expect("the dashboard"),
    )
    .expect("the dashboard is JSON");
    let panels = panel_queries(&dashboard);
    assert!(panels.len() >= 9, "{panels:?}");
    let mut series: Vec<(String, String)> = panels
        .iter()
        .flat_map(|(_, expr)| series_names(expr))
        .map(|name| ("series".to_owned(), name))
        .collect();
    series.sort();
    series.dedup();
    assert!(series.len() >= 10, "{series:?}");
    until_all_answer(&prometheus, "the dashboard's series", &series).await;
    until_all_answer(&prometheus, "the dashboard's panels", &panels).await;

    // What happened shows as it happened: the sale ingested, the checkout ordered, the
    // refusal parked, the push's latency in the histogram's buckets, the instance up.
    let events = [
        ("the sale", "sum(caisse_records_ingested_total) >= 1"),
        ("the checkout", r#"sum(caisse_shop_checkouts_total{step="ordered"}) >= 1"#),
        ("the refused push", "sum(caisse_dead_letters_total) >= 1"),
        (
            "the push's latency",
            r#"sum(caisse_http_request_duration_seconds_bucket{route="/api/sync/push", le="+Inf"}) >= 2"#,
        ),
        ("the register's lag", r#"caisse_register_sync_lag_seconds{register="VMTL-01"}"#),
        ("the instance", r#"up{job="caisse-sync-server"} == 1"#),
    ]
    .map(|(what, expr)| (what.to_owned(), expr.to_owned()));
    until_all_answer(&prometheus, "what the test did", &events).await;

    // The shipped alerts loaded and evaluate without error (none fires on a healthy server).
    let rules = prometheus.get("/api/v1/rules").await;
    let loaded: Vec<&Value> = rules["data"]["groups"]
        .as_array()
        .expect("rule groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .collect();
    assert_eq!(loaded.len(), 4, "{rules}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rules = prometheus.get("/api/v1/rules").await;
        let health: Vec<(String, String)> = rules["data"]["groups"]
            .as_array()
            .expect("rule groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules").clone())
            .map(|r| {
                (r["name"].as_str().unwrap_or("").to_owned(), r["health"].as_str().unwrap_or("").to_owned())
            })
            .collect();
        if health.iter().all(|(_, h)| h == "ok") {
            break;
        }
        assert!(health.iter().all(|(_, h)| h != "err"), "{rules}");
        assert!(Instant::now() < deadline, "rules never evaluated: {health:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let firing = prometheus.get("/api/v1/alerts").await;
    assert_eq!(firing["data"]["alerts"], json!([]), "{firing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_draws_every_panel_on_sqlite() {
    let dir = tempfile::tempdir().expect("a folder");
    scenario(&format!("sqlite://{}/head-office.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_draws_every_panel_on_postgres() {
    let scratch = ScratchPostgres::new("prometheus");
    scenario(&scratch.url).await;
}

#[test]
fn the_dashboards_series_are_read_from_its_queries() {
    assert_eq!(
        series_names(
            r#"sum by (route) (rate(caisse_http_requests_total{status=~"5.."}[1m])) or up{job="x"}"#
        ),
        ["caisse_http_requests_total", "up"]
    );
    assert_eq!(
        series_names("max by (register) (caisse_register_sync_lag_seconds)"),
        ["caisse_register_sync_lag_seconds"]
    );
    let config = config_for("127.0.0.1:9");
    assert!(
        config.contains(r#"targets: ["127.0.0.1:9"]"#) && config.contains("scrape_interval: 1s"),
        "{config}"
    );
    assert!(config.contains("- alerts.yml") && config.contains("job_name: caisse-sync-server"), "{config}");
}
