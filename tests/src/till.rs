//! A register driven through its CLI, as a store runs it: sells, takes returns, syncs in the
//! background (`sync --watch`), and answers what it holds.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use shared_model::Record;

use crate::{binary, register_cli};

#[derive(Debug)]
pub struct Till {
    pub name: String,
    pub dir: PathBuf,
    /// The cashier who rings up (number, PIN).
    pub cashier: (u32, String),
    /// Settings in environment variables (a clock offset…).
    pub env: Vec<(&'static str, &'static str)>,
    watcher: Option<Child>,
}

impl Till {
    pub fn new(name: &str, dir: PathBuf, cashier: (u32, String)) -> Till {
        Till { name: name.to_owned(), dir, cashier, env: Vec::new(), watcher: None }
    }

    pub fn run(&self, args: &[&str]) -> (bool, String) {
        register_cli(&self.dir, &self.env, args)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.run(args);
        assert!(ok, "{} {args:?}: {out}", self.name);
        out
    }

    /// Rings up `items` (`SKU` or `SKU:QTY`) paid by `tender`; answers the sale's record id.
    pub fn sell(&self, items: &[&str], tender: &str) -> String {
        let (id, pin) = (self.cashier.0.to_string(), self.cashier.1.clone());
        let mut args = vec!["--json", "sell", "--cashier", &id, "--pin", &pin, "--tender", tender];
        for item in items {
            args.extend(["--item", item]);
        }
        let out = self.ok(&args);
        let record: serde_json::Value = serde_json::from_str(&out).expect("the sale as JSON");
        record["record"]["id"].as_str().expect("an id").to_owned()
    }

    /// Takes back one unit of the first line of `receipt`, refunded in cash.
    pub fn return_line(&self, receipt: &str) {
        let (id, pin) = (self.cashier.0.to_string(), self.cashier.1.clone());
        self.ok(&[
            "return",
            "--cashier",
            &id,
            "--pin",
            &pin,
            "--receipt",
            receipt,
            "--line",
            "1:1",
            "--refund",
            "cash",
        ]);
    }

    /// Syncs every second in a process of its own until [`Till::stop_watching`].
    pub fn watch(&mut self) {
        let child = Command::new(binary("caisse-register"))
            .arg("--data-dir")
            .arg(&self.dir)
            .envs(self.env.iter().copied())
            .args(["sync", "--watch", "--interval", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the register's sync starts");
        self.watcher = Some(child);
    }

    pub fn stop_watching(&mut self) {
        if let Some(mut child) = self.watcher.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Records made here that head office has not acknowledged.
    pub fn pending(&self) -> u64 {
        let status: serde_json::Value =
            serde_json::from_str(&self.ok(&["--json", "status"])).expect("status JSON");
        status["pending"].as_u64().expect("pending")
    }

    /// Every record this till made, from its journal.
    pub fn journal(&self) -> Vec<Record> {
        self.ok(&["journal"]).lines().map(|l| Record::decode(l.as_bytes()).expect("a record")).collect()
    }
}

/// A test that fails midway leaves no sync process behind.
impl Drop for Till {
    fn drop(&mut self) {
        self.stop_watching();
    }
}
