//! The register window under Xvfb, driven through WebDriver: tauri-driver in front of
//! WebKitWebDriver, a session on the built `caisse-desktop`, and small helpers that wait for
//! what the screen shows.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::{binary, free_port};

/// WebDriver's codes for the keys a cashier presses.
pub const ENTER: &str = "\u{E007}";
pub const F1: &str = "\u{E031}";
pub const F2: &str = "\u{E032}";
pub const F7: &str = "\u{E037}";
pub const F8: &str = "\u{E038}";
pub const F9: &str = "\u{E039}";
pub const F10: &str = "\u{E03A}";
pub const F12: &str = "\u{E03C}";

/// A child process killed when dropped.
#[derive(Debug)]
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process in a process group of its own, the whole group killed when dropped: a
/// WebDriver server's browser or WebKit process outlived the driver when only the driver was
/// killed (found running after passing CI runs).
#[derive(Debug)]
pub struct KillGroup(Child);

impl KillGroup {
    pub fn spawn(command: &mut Command) -> std::io::Result<KillGroup> {
        use std::os::unix::process::CommandExt;
        command.process_group(0).spawn().map(KillGroup)
    }
}

impl Drop for KillGroup {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb on a display of its own; returns it and its name (":90").
pub fn start_xvfb() -> (Kill, String) {
    // A display number of our own, so a developer's session or another run is left alone.
    for number in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
            continue;
        }
        let display = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (apt-get install xvfb)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
            assert!(Instant::now() < deadline, "Xvfb did not open display {display}");
            std::thread::sleep(Duration::from_millis(50));
        }
        return (Kill(child), display);
    }
    panic!("no free X display between :90 and :139");
}

pub fn tauri_driver() -> PathBuf {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return path.into();
    }
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cargo"));
    let path = home.join("bin/tauri-driver");
    assert!(path.exists(), "tauri-driver is missing: cargo install tauri-driver --version '^2' --locked");
    path
}

/// `target/screenshots`, where the window tests leave their pictures.
pub fn screenshots() -> PathBuf {
    let dir = binary("caisse-desktop").parent().and_then(Path::parent).expect("target").join("screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshots folder");
    dir
}

/// Starts tauri-driver on free ports, the window inheriting `env` (its data folder, head
/// office, printer...), and opens a WebDriver session on it.
pub async fn open_window(display: &str, env: &[(&str, String)]) -> (KillGroup, Screen) {
    let (driver_port, native_port) = (free_port(), free_port());
    let mut command = Command::new(tauri_driver());
    command
        .args(["--port", &driver_port.to_string(), "--native-port", &native_port.to_string()])
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let driver = KillGroup::spawn(&mut command).expect("tauri-driver runs");
    (driver, Screen::connect(driver_port).await)
}

/// A WebDriver session on the register window.
pub struct Screen {
    pub client: Client,
    pub shots: PathBuf,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screen").field("shots", &self.shots).finish()
    }
}

impl Screen {
    /// Opens a WebDriver session on the built register window through tauri-driver at
    /// `driver_port` (which may still be starting).
    pub async fn connect(driver_port: u16) -> Screen {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            json!({ "application": binary("caisse-desktop").to_string_lossy() }),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{driver_port}"))
                .await
            {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(250)).await,
                Err(e) => panic!("no WebDriver session with the register window: {e}"),
            }
        };
        Screen { client, shots: screenshots() }
    }

    /// Signs a cashier in on the PIN screen and waits for the sale screen.
    pub async fn sign_in(&self, cashier: u32, pin: &str) {
        self.screen("sign-in").await;
        self.type_into("#cashier", &cashier.to_string()).await;
        self.type_into("#pin", &format!("{pin}{ENTER}")).await;
        self.screen("sale").await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Waits until `script` returns true (a generous limit: this waits, it does not time).
    pub async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if self.js(script).await == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                let message = self.js("return document.querySelector('#message').textContent").await;
                self.shot(&format!("failed-{}", what.replace(' ', "-"))).await;
                panic!("never saw: {what} (message: {message})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn data(&self, selector: &str, key: &str) -> Value {
        self.js(&format!(
            "const e = document.querySelector('{selector}'); return e ? e.dataset.{key} ?? null : null"
        ))
        .await
    }

    pub async fn number(&self, selector: &str, key: &str) -> i64 {
        let value = self.data(selector, key).await;
        value.as_str().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{selector} {key}: {value}"))
    }

    pub async fn type_into(&self, selector: &str, text: &str) {
        let element =
            self.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"));
        element.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {selector}: {e}"));
    }

    /// Keys to whatever has focus, as a cashier presses them.
    pub async fn press(&self, keys: &str) {
        let active = self.client.active_element().await.expect("an element has focus");
        active.send_keys(keys).await.expect("keys");
    }

    pub async fn screen(&self, name: &str) {
        self.until(
            &format!("the {name} screen"),
            &format!("return document.querySelector('#app').dataset.screen === '{name}'"),
        )
        .await;
    }

    pub async fn shot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.shots.join(format!("{name}.png")), png);
        }
    }

    pub async fn lines(&self) -> i64 {
        self.js("return document.querySelectorAll('#lines tr.line').length").await.as_i64().unwrap_or(-1)
    }

    pub async fn pending(&self) -> i64 {
        self.number("#pending-count", "pending").await
    }

    /// Scans a code the way a keyboard-wedge scanner does: the digits and Enter in one burst.
    pub async fn scan(&self, code: &str) {
        let before = self.lines().await;
        let before_qty = self.js("return [...document.querySelectorAll('#lines td.qty')].map(e => +e.textContent).reduce((a, b) => a + b, 0)").await;
        self.type_into("#scan", &format!("{code}{ENTER}")).await;
        self.until(
            &format!("{code} on the sale"),
            &format!(
                "return document.querySelectorAll('#lines tr.line').length > {before} || [...document.querySelectorAll('#lines td.qty')].map(e => +e.textContent).reduce((a, b) => a + b, 0) > {before_qty}"
            ),
        )
        .await;
    }

    /// Pays the sale in cash with `amount` keyed on the pad; returns (total, change, sale id).
    pub async fn pay_cash(&self, amount: &str) -> (i64, i64, String) {
        let total = self.number("#total", "total").await;
        self.press(F10).await;
        self.screen("tender").await;
        self.press(&format!("{amount}{ENTER}")).await;
        self.until("the change due", "return !!document.querySelector('#change-due')").await;
        let change = self.number("#change-due", "change").await;
        let id = self.data("#last-sale", "saleId").await.as_str().expect("a sale id").to_owned();
        (total, change, id)
    }
}
