//! The headless CLI, as a back office or a script runs it: the real binary against a real
//! server. Bad input gets one sentence and changes nothing.

mod common;

use std::process::Command;

use common::Server;
use serde_json::Value;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_caisse-register"))
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .output()
            .expect("the CLI runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into(),
            String::from_utf8_lossy(&output.stderr).into(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "{args:?} failed: {err}");
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON")
    }

    /// Fails with exactly one line on stderr.
    fn refused(&self, args: &[&str]) -> String {
        let (ok, _, err) = self.run(args);
        assert!(!ok, "{args:?} should have failed");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        err
    }
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_back_office_runs_the_till_from_the_command_line() {
    let (mut server, cashiers) = Server::start();
    let (id, _, _, pin) = cashiers.iter().find(|c| c.2 == "PLAT").unwrap().clone();
    let cli = Cli { dir: tempfile::tempdir().unwrap() };
    let id_text = id.to_string();
    let who = ["--cashier", &id_text, "--pin", &pin];
    let code = server.code_for("PLAT-02");

    assert!(cli.refused(&["sync"]).contains("not enrolled"));
    assert!(
        cli.ok(&["enrol", "--server", &server.url(), "--code", &code])
            .contains("register PLAT-02 of store PLAT")
    );
    assert!(cli.refused(&["enrol", "--server", &server.url(), "--code", &code]).contains("already enrolled"));
    cli.ok(&["sync"]);

    let sell = |extra: &[&str]| {
        let mut args = vec!["sell"];
        args.extend_from_slice(&who);
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let out = cli.ok(&as_refs(&sell(&[
        "--item",
        "SIR-ERA-540:2",
        "--item",
        "LIV-ROM-POC",
        "--discount",
        "2:10%",
        "--tender",
        "debit:10.00",
        "--tender",
        "cash:40",
    ])));
    assert!(out.contains("Sale complete") && out.contains("TPS / GST"), "{out}");

    // Bad input: one sentence, nothing recorded.
    let before = cli.json(&["status"])["pending"].clone();
    assert!(
        cli.refused(&as_refs(&sell(&["--item", "NOPE-1", "--tender", "cash"])))
            .contains("no product has the code NOPE-1")
    );
    assert!(
        cli.refused(&as_refs(&sell(&["--item", "PAI-BAG", "--tender", "cash:1.00"]))).contains("still owed")
    );
    assert!(
        cli.refused(&as_refs(&sell(&["--item", "PAI-BAG:0", "--tender", "cash"])))
            .contains("quantity 0 is out of range")
    );
    assert!(
        cli.refused(&as_refs(&sell(&["--item", "PAI-BAG", "--tender", "cheque:5"]))).contains("not a tender")
    );
    assert!(
        cli.refused(&[
            "sell",
            "--cashier",
            &id.to_string(),
            "--pin",
            "99999",
            "--item",
            "PAI-BAG",
            "--tender",
            "cash"
        ])
        .contains("wrong cashier number or PIN")
    );
    assert_eq!(cli.json(&["status"])["pending"], before);

    // Offline, then back.
    server.down();
    cli.ok(&as_refs(&sell(&["--item", "PAI-BAG", "--tender", "cash"])));
    assert!(cli.refused(&["sync"]).contains("cannot be reached"));
    let status = cli.json(&["status"]);
    assert_eq!((status["online"].as_bool(), status["pending"].as_u64()), (Some(false), Some(2)));
    server.up();
    cli.ok(&["sync"]);
    assert_eq!(cli.json(&["status"])["pending"], 0);
    assert_eq!(server.sales_at("PLAT").0, 2);

    // Receipts: to a file printer; to a printer that is off (the sale stands, the receipt
    // waits); then a reprint once it is back.
    let paper = cli.dir.path().join("lp0");
    let to_file = format!("file:{}", paper.display());
    let mut args = vec!["--printer".to_owned(), to_file.clone()];
    args.extend(sell(&["--item", "PAI-BAG", "--tender", "cash:5"]));
    cli.ok(&as_refs(&args));
    let bytes = std::fs::read(&paper).unwrap();
    assert!(bytes.ends_with(&[0x1B, b'p', 0, 25, 250]), "a cash sale opens the drawer");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut args = vec!["--printer".to_owned(), format!("tcp:{dead}")];
    args.extend(sell(&["--item", "PAI-BAG", "--tender", "debit"]));
    let (ok, _, err) = cli.run(&as_refs(&args));
    assert!(ok && err.contains("receipt not printed"), "{err}");
    let unprinted = cli.json(&["status"])["unprinted"].as_array().unwrap().clone();
    assert!(!unprinted.is_empty());
    let receipt = unprinted.last().unwrap().as_str().unwrap().to_owned();
    cli.ok(&["--printer", &to_file, "reprint", "--cashier", &id_text, "--pin", &pin, &receipt]);
    assert!(std::fs::read(&paper).unwrap().len() > bytes.len());

    let found = cli.json(&["search", "érable"]);
    assert!(found.as_array().unwrap().iter().any(|p| p["sku"] == "SIR-ERA-540"), "{found}");
    let stock = cli.json(&["stock", "SIR-ERA-540"]);
    assert_eq!(stock[0]["location"], "PLAT");
    let z = cli.json(&["z", "--cashier", &id.to_string(), "--pin", &pin, "--float", "150", "--close"]);
    assert_eq!(z["sales_count"], 4, "two sales around the outage and two printed ones");
    cli.ok(&["sync"]);
    assert_eq!(cli.json(&["status"])["pending"], 0);
}
