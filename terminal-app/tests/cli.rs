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

/// What the store sees of a product's stock here, through the CLI.
/// A till of store PLAT enrolled and synced from the command line, and the sign-in arguments
/// of one of its cashiers.
fn plat_till(server: &Server, cashiers: &[(u32, String, String, String)]) -> (Cli, Vec<String>) {
    let (id, _, _, pin) = cashiers.iter().find(|c| c.2 == "PLAT").unwrap().clone();
    let cli = Cli { dir: tempfile::tempdir().unwrap() };
    cli.ok(&["enrol", "--server", &server.url(), "--code", &server.code_for("PLAT-02")]);
    cli.ok(&["sync"]);
    (cli, vec!["--cashier".into(), id.to_string(), "--pin".into(), pin])
}

/// `command`, the cashier's sign-in, then `extra`.
fn signed_in(who: &[String], command: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![command.to_owned()];
    args.extend(who.iter().cloned());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn here(cli: &Cli, code: &str) -> i64 {
    let stock = cli.json(&["stock", code]);
    let rows = stock.as_array().unwrap();
    rows.iter().find(|f| f["this_store"] == true).unwrap()["quantity"].as_i64().unwrap()
}

#[test]
fn a_replenishment_goes_from_request_to_stock_through_the_command_line_alone() {
    let (server, cashiers) = Server::start();
    let (cli, who) = plat_till(&server, &cashiers);
    let with = |command: &str, extra: &[&str]| signed_in(&who, command, extra);
    let before = here(&cli, "CAF-ESP-250");

    // The store asks for 12, from the command line, and head office hears of it.
    let request = cli.json(&as_refs(&with("replenish", &["--item", "CAF-ESP-250:12", "--note", "weekend"])));
    let request = request["record"]["id"].as_str().unwrap().to_owned();
    cli.ok(&["sync"]);

    // Head office approves, through its HTTP API as an admin: logistics ships a transfer.
    let password = "correct horse battery staple";
    server
        .runtime
        .block_on(sync_server::identity::create_user(
            &server.db,
            "admin",
            password,
            sync_server::identity::Role::Admin,
        ))
        .unwrap();
    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(format!("{}/api/auth/login", server.url()))
        .json(&serde_json::json!({ "username": "admin", "password": password }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let pending: Value = http
        .get(format!("{}/api/replenishments?status=pending", server.url()))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(pending.as_array().unwrap().iter().any(|r| r["id"] == request.as_str()), "{pending}");
    let decided = http
        .post(format!("{}/api/replenishments/{request}/decision", server.url()))
        .bearer_auth(token)
        .json(&serde_json::json!({ "decision": "approved" }))
        .send()
        .unwrap();
    assert!(decided.status().is_success(), "{}", decided.text().unwrap());

    // Nothing has arrived until the till pulls; then the transfer is listed, and receiving it
    // puts its 12 on this store's shelf.
    assert!(cli.json(&["transfers"]).as_array().unwrap().is_empty());
    cli.ok(&["sync"]);
    let transfers = cli.json(&["transfers"]);
    let incoming = transfers.as_array().unwrap();
    assert_eq!(incoming.len(), 1, "{transfers}");
    assert_eq!(incoming[0]["lines"][0]["sku"], "CAF-ESP-250");
    assert_eq!(incoming[0]["lines"][0]["quantity"], 12);
    let transfer = incoming[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(here(&cli, "CAF-ESP-250"), before, "shipped is not received");
    assert!(cli.refused(&as_refs(&with("receive", &["not-a-transfer"]))).contains("not a transfer number"));
    cli.ok(&as_refs(&with("receive", &[&transfer])));
    assert_eq!(here(&cli, "CAF-ESP-250"), before + 12);
    assert!(cli.json(&["transfers"]).as_array().unwrap().is_empty());
    // Received once only.
    assert!(cli.refused(&as_refs(&with("receive", &[&transfer]))).contains(&transfer));
    cli.ok(&["sync"]);
    assert_eq!(here(&cli, "CAF-ESP-250"), before + 12, "head office's figure agrees");
    assert_eq!(cli.json(&["status"])["pending"], 0);
}

#[test]
fn the_command_line_reads_amounts_and_takes_offline_returns_as_the_window_does() {
    let (mut server, cashiers) = Server::start();
    let (cli, who) = plat_till(&server, &cashiers);
    let with = |command: &str, extra: &[&str]| signed_in(&who, command, extra);

    // Search ignores case and accents, on both sides, for every letter.
    let skus = |text: &str| {
        let found = cli.json(&["search", text]);
        found.as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let grocery = skus("Épicerie");
    assert!(!grocery.is_empty());
    for text in ["épicerie", "epicerie", "EPICERIE", "ÉPICERIE"] {
        assert_eq!(skus(text), grocery, "{text}");
    }

    // A comma is a decimal point, as at the window.
    let sale = cli.json(&as_refs(&with("sell", &["--item", "PAI-BAG", "--tender", "cash:20,00"])));
    assert_eq!(sale["record"]["body"]["sale"]["tenders"][0]["amount"], cli_amount("20.00"), "{sale}");
    let z = cli.json(&as_refs(&with("z", &["--float", "150,50"])));
    assert_eq!(z["opening_float"], cli_amount("150.50"), "{z}");

    // Parked and finished later; the reprint list shows the sales, newest first.
    let parked = cli.json(&as_refs(&with("sell", &["--item", "PAI-BAG:2", "--park"])));
    let number = parked["parked"].as_i64().unwrap().to_string();
    assert_eq!(cli.json(&["parked"]).as_array().unwrap().len(), 1);
    cli.ok(&as_refs(&with("sell", &["--resume", &number, "--tender", "debit"])));
    assert!(cli.json(&["parked"]).as_array().unwrap().is_empty());
    let receipts = cli.json(&["receipts"]);
    assert_eq!(receipts.as_array().unwrap().len(), 2);
    assert_eq!(receipts[1]["id"], sale["record"]["id"]);

    // The window's other actions: a receipt looked up for a return, a negative adjustment, the
    // window's settings, a test page.
    let lookup = cli.json(&["lookup", sale["record"]["id"].as_str().unwrap()]);
    assert_eq!(
        (lookup["lines"][0]["sold"].as_u64(), lookup["lines"][0]["returnable"].as_u64()),
        (Some(1), Some(1))
    );
    // The short number at the top of the receipt finds the same sale.
    let short = format!(
        "{}-{:06}",
        sale["record"]["origin"].as_str().unwrap(),
        sale["record"]["seq"].as_u64().unwrap()
    );
    assert_eq!(cli.json(&["lookup", &short]), lookup, "{short}");
    cli.ok(&as_refs(&with("adjust", &["PAI-BAG", "-2", "--reason", "damaged"])));
    let paper = cli.dir.path().join("test-page");
    let printer = format!("file:{}", paper.display());
    let saved = cli.json(&["--printer", &printer, "--language", "en", "settings", "--save"]);
    assert_eq!((saved["printer"].as_str(), saved["language"].as_str()), (Some(printer.as_str()), Some("en")));
    assert_eq!(cli.json(&["settings"]), saved);
    assert!(cli.refused(&["--printer", "lpt1", "settings", "--save"]).contains("is not tcp:HOST:PORT"));
    cli.ok(&["--printer", &printer, "test-print"]);
    assert!(!std::fs::read(&paper).unwrap().is_empty());

    // Offline, another store's receipt cannot be checked: the CLI says how to take it, then
    // takes it unverified under the same policy as the window.
    server.down();
    let elsewhere = "01900000-0000-7000-8000-000000000001";
    // Another till's short number cannot be resolved offline: the CLI asks for the long one.
    let short = cli.refused(&as_refs(&with(
        "return",
        &["--receipt", "VMTL-01-000007", "--store", "vmtl", "--item", "CAF-ESP-250"],
    )));
    assert!(short.contains("under the receipt's QR code"), "{short}");
    let refused = cli.refused(&as_refs(&with("return", &["--receipt", elsewhere, "--line", "1:1"])));
    assert!(refused.contains("head office cannot be reached") && refused.contains("--store"), "{refused}");
    let done = cli.json(&as_refs(&with(
        "return",
        &["--receipt", elsewhere, "--store", "plat", "--item", "CAF-ESP-250", "--reason", "defective"],
    )));
    assert_eq!(done["record"]["body"]["return"]["verified"], false, "{done}");
    let over = cli.refused(&as_refs(&with(
        "return",
        &["--receipt", elsewhere, "--store", "PLAT", "--item", "CAF-ESP-250:40"],
    )));
    assert!(over.contains("limited to"), "{over}");
    // A bad value is one sentence, never twice over.
    let bad = cli.refused(&as_refs(&with("sell", &["--item", "PAI-BAG", "--tender", "cash:douze"])));
    assert!(bad.contains("is not an amount"), "{bad}");
    let misread = cli.refused(&as_refs(&with("sell", &["--item", "12345678", "--tender", "cash"])));
    let sentence = misread.trim_start_matches("Error: ").trim_end();
    assert!(!sentence.contains(": barcode"), "said twice: {misread}");
}

/// An amount as the wire form writes it.
fn cli_amount(text: &str) -> Value {
    serde_json::to_value(shared_model::Money::parse(text).unwrap()).unwrap()
}

/// The printer's own word, through the command line: a test page on a printer out of paper
/// fails with one sentence; a sale's receipt on it stays unprinted and `status` says why; once
/// the paper is in, the reprint is the original and the next one a numbered copy.
#[test]
fn the_printers_state_decides_what_printed_through_the_command_line() {
    use hardware::printer::fake::{FakePrinter, FakeState};
    let (server, cashiers) = Server::start();
    let (cli, who) = plat_till(&server, &cashiers);
    let printer = FakePrinter::start(FakeState::PaperEnd).unwrap();
    let spec = printer.spec();
    // Room for the fake printer's answers on a busy machine.
    let with_printer = |args: &[String]| {
        let mut all =
            vec!["--printer-status-wait-ms".to_owned(), "5000".into(), "--printer".into(), spec.clone()];
        all.extend(args.iter().cloned());
        all
    };

    let said = cli.refused(&as_refs(&with_printer(&["test-print".into()])));
    assert!(said.contains("test page not printed") && said.contains("out of paper"), "{said}");

    let sell = signed_in(&who, "sell", &["--item", "PAI-BAG", "--tender", "cash"]);
    let (ok, _, err) = cli.run(&as_refs(&with_printer(&sell)));
    assert!(ok && err.contains("receipt not printed") && err.contains("out of paper"), "{err}");
    let status = cli.json(&["status"]);
    let waiting = status["unprinted_receipts"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{status}");
    assert!(waiting[0]["reason"].as_str().unwrap().contains("out of paper"), "{status}");
    let number = waiting[0]["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("PLAT-02-0000"), "{number}");
    let id = waiting[0]["id"].as_str().unwrap().to_owned();
    let text = cli.ok(&["status"]);
    assert!(
        text.contains(&format!("Receipt {number} (sale) not printed: the printer is out of paper")),
        "{text}"
    );

    printer.set_state(FakeState::Ready);
    let out = cli.ok(&as_refs(&with_printer(&["test-print".into()])));
    assert!(out.contains("the printer is ready"), "{out}");
    let reprint = signed_in(&who, "reprint", &[&id]);
    let out = cli.ok(&as_refs(&with_printer(&reprint)));
    assert_eq!(out.trim(), format!("Receipt {number} printed."));
    assert!(cli.json(&["status"])["unprinted_receipts"].as_array().unwrap().is_empty());
    let out = cli.ok(&as_refs(&with_printer(&reprint)));
    assert!(out.contains(&format!("Receipt {number} printed again: copy 2")), "{out}");
    let jobs = printer.jobs(5, std::time::Duration::from_secs(5));
    let last = hardware::printer::paper::read(jobs.last().unwrap()).unwrap();
    assert!(last.starts_with("[B]DUPLICATA\n"), "{last}");
    let original = hardware::printer::paper::read(&jobs[jobs.len() - 2]).unwrap();
    assert!(!original.contains("DUPLICATA") && original.ends_with("[DRAWER pin 2]"), "{original}");

    // A printer that does not speak status: the test page goes, and the CLI says what it knows.
    let silent = FakePrinter::start(FakeState::Silent).unwrap();
    let out = cli.ok(&["--printer-status-wait-ms", "300", "--printer", &silent.spec(), "test-print"]);
    assert!(out.contains("does not report its state"), "{out}");
}
