//! Head office's pages in headless Chromium, driven through ChromeDriver with the WebDriver
//! client the register window's tests use, and small helpers that wait for what a page shows,
//! check it with axe-core and photograph it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::free_port;
use crate::window::KillGroup;

/// Debian's ChromeDriver and Chromium (`apt-get install chromium chromium-driver`).
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// `target/screenshots`, or `docs/` (which the README shows) with `CAISSE_UPDATE_SCREENSHOTS=1`:
/// a test run does not rewrite committed pictures unless asked to.
pub fn screenshots() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = if std::env::var_os("CAISSE_UPDATE_SCREENSHOTS").is_some() {
        root.join("docs")
    } else {
        root.join("target").join("screenshots")
    };
    std::fs::create_dir_all(&dir).expect("a screenshots folder");
    dir
}

/// A headless Chromium session, and the ChromeDriver behind it (stopped when dropped).
pub struct Browser {
    pub client: Client,
    /// Where screenshots go (see [`screenshots`]).
    pub shots: PathBuf,
    _driver: KillGroup,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("shots", &self.shots).finish()
    }
}

impl Browser {
    /// Starts ChromeDriver on a free port and opens a headless Chromium session, 1280×800.
    pub async fn start() -> Browser {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists(),
            "ChromeDriver is missing: apt-get install chromium chromium-driver"
        );
        let port = free_port();
        // Its process group is killed whole when dropped: killing ChromeDriver alone left
        // headless Chromium and its helpers running after the tests.
        let driver = KillGroup::spawn(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("chromedriver runs");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,800", "--lang=fr-CA", "--force-device-scale-factor=1"],
            }),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(250)).await,
                Err(e) => panic!("no WebDriver session with Chromium: {e}"),
            }
        };
        let shots = screenshots();
        Browser { client, shots, _driver: driver }
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Runs `script`, which ends by calling `done(value)` (the last argument); answers the value.
    pub async fn js_async(&self, script: &str) -> Value {
        let body = format!("const done = arguments[arguments.length - 1]; {script}");
        self.client.execute_async(&body, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Waits until `script` returns true (a generous limit: this waits, it does not time).
    pub async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.js(script).await == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                let message = self
                    .js("const m = document.querySelector('#message'); return m ? m.textContent : null")
                    .await;
                self.shot(&format!("failed-{}", what.replace(' ', "-"))).await;
                panic!("never saw: {what} (message: {message})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether an element matches `selector` now.
    pub async fn has(&self, selector: &str) -> bool {
        self.js(&format!("return document.querySelector({}) !== null", json!(selector))).await == json!(true)
    }

    /// Waits for an element matching `selector`.
    pub async fn wait_for(&self, selector: &str) {
        self.until(selector, &format!("return document.querySelector({}) !== null", json!(selector))).await;
    }

    /// The `data-` attribute `key` (camelCase) of the element matching `selector`.
    pub async fn data(&self, selector: &str, key: &str) -> Value {
        self.js(&format!(
            "const e = document.querySelector({}); return e ? e.dataset.{key} ?? null : null",
            json!(selector)
        ))
        .await
    }

    pub async fn number(&self, selector: &str, key: &str) -> i64 {
        let value = self.data(selector, key).await;
        value.as_str().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{selector} {key}: {value}"))
    }

    /// Replaces the text of the input matching `selector`. A page redrawn by a live event
    /// between finding the input and typing replaces the element: it is found again.
    pub async fn fill(&self, selector: &str, text: &str) {
        for attempt in 1.. {
            let element =
                self.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"));
            let typed = match element.clear().await {
                Ok(()) => element.send_keys(text).await,
                Err(e) => Err(e),
            };
            match typed {
                Ok(()) => return,
                Err(e) if attempt < 5 && e.to_string().contains("stale element") => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("typing into {selector}: {e}"),
            }
        }
    }

    pub async fn click(&self, selector: &str) {
        let element =
            self.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"));
        element.click().await.unwrap_or_else(|e| panic!("clicking {selector}: {e}"));
    }

    /// Goes to a page by its hash route and waits until it has shown its data.
    pub async fn page(&self, name: &str) {
        self.js(&format!("location.hash = '#/{name}'")).await;
        self.until(
            &format!("the {name} page"),
            &format!(
                "return document.body.dataset.page === '{name}' && document.querySelector('main#page[data-ready]') !== null"
            ),
        )
        .await;
    }

    /// Signs in on the sign-in form, then opens the dashboard.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.wait_for("form#signin").await;
        self.fill("#signin-username", username).await;
        self.fill("#signin-password", password).await;
        self.click("#signin-submit").await;
        self.until("a page after signing in", "return document.querySelector('form#signin') === null && document.querySelector('main#page[data-ready]') !== null").await;
        self.page("dashboard").await;
    }

    pub async fn shot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.shots.join(format!("{name}.png")), png);
        }
    }

    /// Runs axe-core (from ui/node_modules) on the page; answers the critical and serious
    /// violations as "rule: target" lines.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let axe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe).unwrap_or_else(|e| {
            panic!("{}: {e} (run scripts/setup's build_ui: npm install in ui/)", axe.display())
        });
        self.client.execute(&source, vec![]).await.expect("axe-core loads");
        let result = self
            .js_async(
                "axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious').map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))).catch(e => done(['axe failed: ' + e]))",
            )
            .await;
        result
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    }
}
