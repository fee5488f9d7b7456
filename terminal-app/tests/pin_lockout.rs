//! PIN sign-in at a till: five wrong PINs in a row lock the cashier out at this till for five
//! minutes, even with the right PIN, online or not, across restarts of the app; the right PIN
//! clears the count. Time comes from a clock the test moves, so nothing sleeps.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::Server;
use terminal_app::desk::Desk;
use terminal_app::{Clock, PIN_LOCKOUT_MS, Register, RegisterError, SystemClock};

/// A clock the test sets.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn locked_until(result: terminal_app::Result<String>) -> u64 {
    match result {
        Err(e @ RegisterError::LockedOut { until_ms, .. }) => {
            let message = e.to_string();
            assert!(message.contains("too many wrong PINs in a row"), "{message}");
            assert!(message.contains("may try again at "), "{message}");
            until_ms
        }
        other => panic!("expected a lockout, got {other:?}"),
    }
}

#[test]
fn five_wrong_pins_in_a_row_lock_a_cashier_out_at_this_till_for_five_minutes() {
    let (mut server, cashiers) = Server::start();
    let vmtl: Vec<_> = cashiers.iter().filter(|c| c.2 == "VMTL").cloned().collect();
    let (cashier, _, _, pin) = vmtl[0].clone();
    let (other, _, _, other_pin) = vmtl[1].clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.db");
    let start = SystemClock.now_ms();
    let clock = TestClock(Arc::new(AtomicU64::new(start)));

    let mut till = Register::open(&path).unwrap().with_clock(clock.clone());
    till.enrol(&server.url(), &server.code_for("VMTL-01")).unwrap();
    till.sync_once().unwrap();
    // Every check below is offline: the PIN hashes are on the till.
    server.down();

    // A right PIN clears the count: four wrong, right, four wrong is no lockout.
    for _ in 0..4 {
        assert!(matches!(till.sign_in(cashier, "0000x"), Err(RegisterError::BadPin)));
    }
    till.sign_in(cashier, &pin).unwrap();
    for _ in 0..4 {
        assert!(matches!(till.sign_in(cashier, "0000x"), Err(RegisterError::BadPin)));
    }
    till.sign_in(cashier, &pin).unwrap();

    // Fifty wrong in a row, then the right one: the fifth locks, and the right PIN is refused.
    for _ in 0..4 {
        assert!(matches!(till.sign_in(cashier, "0000x"), Err(RegisterError::BadPin)));
    }
    let until = locked_until(till.sign_in(cashier, "0000x"));
    assert_eq!(until, start + PIN_LOCKOUT_MS);
    let message = till.sign_in(cashier, "0000x").unwrap_err().to_string();
    assert!(message.ends_with("in 5 minutes"), "{message}");
    for _ in 0..45 {
        assert_eq!(locked_until(till.sign_in(cashier, "0000x")), until);
    }
    assert_eq!(locked_until(till.sign_in(cashier, &pin)), until);

    // Another cashier at the same till is not locked out.
    assert_eq!(till.sign_in(other, &other_pin).unwrap(), vmtl[1].1);

    // Restarting the app does not lift it.
    drop(till);
    let mut till = Register::open(&path).unwrap().with_clock(clock.clone());
    assert_eq!(locked_until(till.sign_in(cashier, &pin)), until);

    // A second before the end, still locked (and the sentence counts the minute left); then in.
    clock.advance(PIN_LOCKOUT_MS - 1_000);
    let message = till.sign_in(cashier, &pin).unwrap_err().to_string();
    assert!(message.ends_with("in 1 minute"), "{message}");
    clock.advance(1_000);
    till.sign_in(cashier, &pin).unwrap();

    // After a lockout, five more wrong PINs lock again.
    for _ in 0..4 {
        assert!(matches!(till.sign_in(cashier, "0000x"), Err(RegisterError::BadPin)));
    }
    let until = locked_until(till.sign_in(cashier, "0000x"));
    assert_eq!(until, clock.now_ms() + PIN_LOCKOUT_MS);

    // The till's clock set back an hour: the lockout lasts five minutes from then, not an hour
    // and five minutes.
    clock.set(until - PIN_LOCKOUT_MS - 3_600_000);
    let back = clock.now_ms();
    assert_eq!(locked_until(till.sign_in(cashier, &pin)), back + PIN_LOCKOUT_MS);
    clock.advance(PIN_LOCKOUT_MS);
    till.sign_in(cashier, &pin).unwrap();
}

#[test]
fn the_command_line_and_the_screen_say_when_to_try_again() {
    let (server, cashiers) = Server::start();
    let plat: Vec<_> = cashiers.iter().filter(|c| c.2 == "PLAT").cloned().collect();
    let dir = tempfile::tempdir().unwrap();

    // The command line: each run is a new process, so the count lives in the file.
    let cli = |args: &[&str], offset_seconds: u64| {
        let output = Command::new(env!("CARGO_BIN_EXE_caisse-register"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("CAISSE_CLOCK_OFFSET_SECONDS", offset_seconds.to_string())
            .output()
            .expect("the CLI runs");
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (ok, err) = cli(&["enrol", "--server", &server.url(), "--code", &server.code_for("PLAT-01")], 0);
    assert!(ok, "{err}");
    assert!(cli(&["sync"], 0).0);
    let (id, _, _, pin) = plat[0].clone();
    let id = id.to_string();
    for _ in 0..4 {
        let (ok, err) = cli(&["z", "--cashier", &id, "--pin", "0000x"], 0);
        assert!(!ok && err.contains("wrong cashier number or PIN"), "{err}");
    }
    for given in ["0000x", pin.as_str()] {
        let (ok, err) = cli(&["z", "--cashier", &id, "--pin", given], 0);
        assert!(!ok, "locked out");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains("too many wrong PINs in a row: this cashier may try again at "), "{err}");
    }
    let (ok, err) = cli(&["z", "--cashier", &id, "--pin", &pin], 301);
    assert!(ok, "five minutes later the right PIN works: {err}");

    // The screen: a code to translate and the time, besides the sentence.
    let mut desk = Desk::open(dir.path()).unwrap();
    let (id, _, _, _) = plat[1].clone();
    let id = id.to_string();
    for _ in 0..4 {
        assert_eq!(desk.sign_in(&id, "0000x").unwrap_err().code, "bad_pin");
    }
    let before = SystemClock.now_ms();
    let problem = desk.sign_in(&id, "0000x").unwrap_err();
    let after = SystemClock.now_ms();
    assert_eq!(problem.code, "locked_out");
    assert!(problem.message.contains("may try again at"), "{problem:?}");
    let retry = problem.retry_at_ms.expect("when to try again");
    assert!((before + PIN_LOCKOUT_MS..=after + PIN_LOCKOUT_MS).contains(&retry), "{problem:?}");
    let json = serde_json::to_value(&problem).unwrap();
    assert_eq!(json["retry_at_ms"], retry);
    assert!(desk.sign_in(&id, &plat[1].3).unwrap_err().code == "locked_out");
}
