//! Registers reach head office over HTTPS. A chain running its own certificate authority gives
//! its CA at enrolment (library, CLI `--ca-file` or `CAISSE_CA_FILE`, the screen), and every
//! connection the register makes afterwards trusts it: sync, the background sync loop, returns
//! looked up at head office. A register not given the CA refuses head office's certificate with
//! a sentence that says so, and never falls back to plain HTTP.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, certificates};
use shared_model::{Money, Tender};
use terminal_app::desk::Desk;
use terminal_app::sync::{Client, read_ca_file};
use terminal_app::sync_loop::SyncLoop;
use terminal_app::{Register, RegisterError};

fn untrusted(result: terminal_app::Result<terminal_app::Identity>) -> String {
    match result {
        Err(e @ RegisterError::Untrusted(_)) => e.to_string(),
        other => panic!("expected an untrusted certificate, got {other:?}"),
    }
}

#[test]
fn a_register_trusts_the_ca_it_was_given_at_enrolment_and_no_other() {
    let (server, cashiers) = Server::start_tls();
    let (cashier, _, _, pin) = cashiers.iter().find(|c| c.2 == "VMTL").unwrap().clone();
    let dir = tempfile::tempdir().unwrap();

    // Not given the CA: refused, with the reason, and nothing enrolled.
    let mut till = Register::open(dir.path().join("one.db")).unwrap();
    let code = server.code_for("VMTL-01");
    let message = untrusted(till.enrol(&server.url(), &code));
    assert!(message.contains("head office's certificate is not trusted"), "{message}");
    assert!(message.contains("its issuer is unknown to this register"), "{message}");
    assert!(message.contains("--ca-file"), "{message}");
    assert!(matches!(till.identity(), Err(RegisterError::NotEnrolled)));
    // Given another CA than the one that signed head office's certificate: refused too.
    let (other_ca, _, _) = certificates();
    untrusted(till.enrol_with_ca(&server.url(), &code, Some(other_ca.as_bytes())));
    // Plain HTTP to an HTTPS head office is no way round it.
    let plain = server.url().replacen("https://", "http://", 1);
    assert!(matches!(till.enrol(&plain, &code), Err(RegisterError::Offline(_))));
    assert!(matches!(till.identity(), Err(RegisterError::NotEnrolled)));

    // Given the CA: enrolled (the code was not spent by the refusals), and every later client
    // the register builds trusts it, after a restart too.
    till.enrol_with_ca(&server.url(), &code, Some(server.ca_pem().as_bytes())).unwrap();
    drop(till);
    let mut till = Register::open(dir.path().join("one.db")).unwrap();
    assert!(till.sync_once().unwrap().pulled > 36);
    till.sign_in(cashier, &pin).unwrap();
    till.add_item("CAF-MOU-340", 1).unwrap();
    let total = till.cart().unwrap().quote.total;
    let sold = till.complete_sale(vec![Tender::Debit { amount: total }]).unwrap();

    // The background sync loop opens its own connection: it pushes the sale over HTTPS.
    let sync = SyncLoop::spawn(dir.path().join("one.db"), Duration::from_millis(100));
    sync.nudge();
    let deadline = Instant::now() + Duration::from_secs(20);
    while till.status().unwrap().pending > 0 {
        assert!(Instant::now() < deadline, "the sync loop did not push the sale");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(sync);
    assert_eq!(server.sales_at("VMTL").0, 1);

    // Another till finds the sale at head office for a return, over HTTPS.
    let mut other = Register::open(dir.path().join("two.db")).unwrap();
    other
        .enrol_with_ca(&server.url(), &server.code_for("VMTL-02"), Some(server.ca_pem().as_bytes()))
        .unwrap();
    let found = other.find_sale(&sold.record.id).unwrap().expect("head office has the sale");
    assert_eq!(found.sale.totals.total, total);
    assert!(total > Money::ZERO);

    // A client built with the CA's PEM bytes, as a test or a tool would.
    let client = Client::with_ca(&server.url(), Some(server.ca_pem().as_bytes())).unwrap();
    assert!(matches!(client.enrol("NOT-A-CODE"), Err(RegisterError::Refused(_))));
    assert!(matches!(
        Client::new(&server.url()).unwrap().enrol("NOT-A-CODE"),
        Err(RegisterError::Untrusted(_))
    ));
}

#[test]
fn an_https_address_never_falls_back_to_plain_http() {
    let (server, _) = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut till = Register::open(dir.path().join("register.db")).unwrap();
    let https = server.url().replacen("http://", "https://", 1);
    assert!(matches!(till.enrol(&https, &server.code_for("VMTL-01")), Err(RegisterError::Offline(_))));
    assert!(matches!(till.identity(), Err(RegisterError::NotEnrolled)));
    // Plain HTTP stays allowed (loopback, or behind a TLS proxy).
    till.enrol(&server.url(), &server.code_for("VMTL-01")).unwrap();
}

#[test]
fn a_ca_file_that_is_missing_or_not_a_certificate_is_one_sentence_at_enrolment() {
    let (server, _) = Server::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let key_only = dir.path().join("key.pem");
    let (_, _, key) = certificates();
    std::fs::write(&key_only, key).unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n").unwrap();

    let error = read_ca_file(&missing).unwrap_err().to_string();
    assert!(error.starts_with(&format!("the CA file {} cannot be read: ", missing.display())), "{error}");
    for path in [&garbage, &key_only, &broken] {
        let error = read_ca_file(path).unwrap_err().to_string();
        assert_eq!(
            error,
            format!("the CA file {} is not a PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())
        );
    }
    assert!(matches!(Client::with_ca(&server.url(), Some(b"garbage")), Err(RegisterError::CaFile(_))));

    // The command line: --ca-file or CAISSE_CA_FILE; a bad one is one line and enrols nothing.
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).unwrap();
    let cli = |data: &str, args: &[&str], env: Option<&std::path::Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_caisse-register"));
        command.arg("--data-dir").arg(dir.path().join(data)).args(args).env_remove("CAISSE_CA_FILE");
        if let Some(path) = env {
            command.env("CAISSE_CA_FILE", path);
        }
        let output = command.output().expect("the CLI runs");
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let code = server.code_for("VMTL-01");
    let enrol = ["enrol", "--server", &server.url(), "--code", &code];
    let (ok, err) = cli("a", &[&enrol[..], &["--ca-file", missing.to_str().unwrap()]].concat(), None);
    assert!(!ok && err.trim_end().lines().count() == 1 && err.contains("cannot be read"), "{err}");
    let (ok, err) = cli("a", &enrol, Some(&garbage));
    assert!(!ok && err.trim_end().lines().count() == 1 && err.contains("is not a PEM certificate"), "{err}");
    let (ok, err) = cli("a", &enrol, None);
    assert!(!ok && err.trim_end().lines().count() == 1, "{err}");
    assert!(err.contains("head office's certificate is not trusted"), "{err}");
    let (ok, err) = cli("a", &[&enrol[..], &["--ca-file", ca.to_str().unwrap()]].concat(), None);
    assert!(ok, "{err}");
    let (ok, err) = cli("a", &["sync"], None);
    assert!(ok, "the CA given at enrolment is kept: {err}");
    let code = server.code_for("VMTL-02");
    let (ok, err) = cli("b", &["enrol", "--server", &server.url(), "--code", &code], Some(&ca));
    assert!(ok, "{err}");

    // The screen: the CA file comes from CAISSE_CA_FILE, a problem has a code to translate.
    let mut desk = Desk::open(dir.path().join("screen")).unwrap();
    let code = server.code_for("VMTL-03");
    assert_eq!(desk.enrol(&server.url(), &code).unwrap_err().code, "untrusted_server");
    desk.set_ca_file(Some(missing.clone()));
    assert_eq!(desk.enrol(&server.url(), &code).unwrap_err().code, "ca_file");
    desk.set_ca_file(Some(ca.clone()));
    let view = desk.enrol(&server.url(), &code).unwrap();
    assert_eq!(view.identity.unwrap().register, "VMTL-03");
}
