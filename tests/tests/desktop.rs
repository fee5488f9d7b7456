//! The real register window, built, under Xvfb, driven through WebDriver (tauri-driver in
//! front of WebKitWebDriver) against a real head office on loopback: a cashier signs in, scans
//! by typing into the scan field as a wedge scanner does, pays cash and sees the change, the
//! receipt prints to a file, a return is taken, stock is looked up; head office goes away and
//! the till keeps selling with its pending count rising; head office comes back, the count
//! falls to zero, and its report counts each sale once. Screenshots go to
//! `target/screenshots/`.
//!
//! A second window takes its scans from a serial scanner instead: a pseudo-terminal chosen on the
//! settings screen, unplugged and plugged back while the window runs.
//!
//! Needs Xvfb, tauri-driver and WebKitWebDriver (scripts/test installs them) and the built
//! `caisse-desktop` (whose build needs `ui/dist`).

use caisse_e2e::window::{ENTER, F1, F2, F7, F8, F9, F10, F12, open_window, start_xvfb};
use caisse_e2e::{ADMIN_PASSWORD, HeadOffice, free_port};
use serde_json::{Value, json};

async fn hq_report(office: &HeadOffice) -> Value {
    let http = reqwest::Client::new();
    let token = caisse_e2e::sign_in(&http, &office.url(), "admin", ADMIN_PASSWORD).await;
    http.get(format!("{}/api/reports/sales?from=2000-01-01&to=2100-01-01", office.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("the report")
        .json()
        .await
        .expect("a JSON report")
}

/// Cents as an English receipt prints them (the test's till speaks English): 1234 → "$12.34".
fn amount(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cashiers_day_on_the_register_window() {
    let work = tempfile::tempdir().expect("a folder");
    let port = free_port();
    let mut office = HeadOffice::start(work.path(), "sqlite://hq.db", port);
    let (cashier, pin) = office.cashiers["VMTL"].clone();
    let code = office.codes["VMTL-01"].clone();
    let printer = work.path().join("printer.bin");
    let (_xvfb, display) = start_xvfb();
    let till = work.path().join("till").display().to_string();
    let (_driver, ui) = open_window(
        &display,
        &[
            ("CAISSE_DATA_DIR", till),
            ("CAISSE_SERVER", office.url()),
            ("CAISSE_ENROL_CODE", code),
            ("CAISSE_PRINTER", format!("file:{}", printer.display())),
            ("CAISSE_LANGUAGE", "en".into()),
            ("CAISSE_SYNC_SECONDS", "1".into()),
        ],
    )
    .await;

    // Enrolled at the first store on first start; a cashier signs in by number and PIN.
    ui.sign_in(cashier, &pin).await;
    ui.until("the scan field has focus", "return document.activeElement.id === 'scan'").await;

    // Products come from head office's catalogue: take two barcodes and a SKU from the search.
    let products = ui
        .js("return window.__TAURI_INTERNALS__.invoke('search', { text: '' }).then(r => r.filter(p => p.barcode && p.active && !p.sku.startsWith('PLU')).map(p => [p.sku, p.barcode, p.price]))")
        .await;
    let products = products.as_array().expect("products").clone();
    assert!(products.len() >= 3, "{products:?}");
    let barcode = |i: usize| products[i][1].as_str().expect("a barcode").to_owned();

    // A wrong code says so and changes nothing.
    ui.type_into("#scan", &format!("4006381333932{ENTER}")).await;
    ui.until("an error for a bad code", "return document.querySelector('#message').className === 'error'")
        .await;
    assert_eq!(ui.lines().await, 0);

    // Scans, typed as a wedge scanner types them; the same product twice adds to its line.
    ui.scan(&barcode(0)).await;
    assert_eq!(ui.data("body", "lastInput").await, json!("scan"), "the decoder took the burst for a scan");
    ui.scan(&barcode(1)).await;
    ui.scan(&barcode(1)).await;
    assert_eq!(ui.lines().await, 2);
    ui.shot("sale").await;

    // Cash: the change shown is what was keyed less the total, rounded to the nickel.
    let total = ui.number("#total", "total").await;
    ui.press(F10).await;
    ui.screen("tender").await;
    ui.shot("tender").await;
    ui.press(&format!("100{ENTER}")).await;
    ui.until("the change due", "return !!document.querySelector('#change-due')").await;
    let change = ui.number("#change-due", "change").await;
    let rounded = (total + 2) / 5 * 5;
    assert_eq!(change, 10_000 - rounded, "total {total}");
    let first_sale = ui.data("#last-sale", "saleId").await.as_str().expect("an id").to_owned();
    assert_eq!(ui.data("#receipt-state", "printed").await, json!("true"));
    ui.shot("change").await;

    // The receipt went to the file printer: the sale's id, its total, and the drawer kick.
    let receipt = std::fs::read(&printer).expect("a printed receipt");
    let text = hardware::printer::paper::read(&receipt).expect("ESC/POS the decoder reads");
    assert!(text.contains(&first_sale), "the receipt names its sale");
    assert!(text.contains(&amount(total)), "the receipt shows the total {}:\n{text}", amount(total));
    assert!(text.contains("TOTAL"));
    assert!(receipt.windows(2).any(|w| w == [0x1b, b'p']), "a cash sale opens the drawer");

    // A second sale, split: part cash, the rest by debit.
    ui.scan(&barcode(2)).await;
    let second_total = ui.number("#total", "total").await;
    ui.press(F10).await;
    ui.screen("tender").await;
    ui.press(&format!("1{ENTER}")).await;
    ui.until(
        "the balance after one dollar",
        &format!("return +document.querySelector('#balance')?.dataset.balance === {}", second_total - 100),
    )
    .await;
    ui.press(F2).await; // debit for the balance
    ui.until("the split sale completes", "return !!document.querySelector('#change-due')").await;

    // Reprint (F7): the newest receipt is first in the list; Enter prints it again.
    let printed_before = std::fs::metadata(&printer).expect("the printer file").len();
    ui.press(F7).await;
    ui.until("the receipts to reprint", "return !!document.querySelector('#receipts button')").await;
    ui.press(ENTER).await;
    ui.until(
        "the reprint",
        "return !document.querySelector('.modal') && document.querySelector('#message').className === 'info'",
    )
    .await;
    assert!(
        std::fs::metadata(&printer).expect("the printer file").len() > printed_before,
        "a second copy printed"
    );

    // A return against the first receipt: one unit of its first line, refunded in cash.
    ui.press(F8).await;
    ui.screen("return").await;
    ui.type_into("#receipt", &format!("{first_sale}{ENTER}")).await;
    ui.until("the sale's lines", "return !!document.querySelector('[data-return-line]')").await;
    ui.js("const q = document.querySelector('[data-return-line=\"0\"]'); q.value = '1'; return true").await;
    ui.shot("return").await;
    ui.press(F10).await;
    ui.until("the refund", "return !!document.querySelector('#return-done')").await;
    assert!(ui.number("#return-done", "refund").await > 0);
    ui.shot("return-done").await;

    // Stock here (live) and elsewhere (as of the last pull).
    ui.press(F9).await;
    ui.screen("stock").await;
    ui.type_into("#stock-code", &format!("{}{ENTER}", barcode(1))).await;
    ui.until("stock figures", "return document.querySelectorAll('#stock-table tbody tr').length > 1").await;
    ui.until("this store's figure", "return !!document.querySelector('#stock-table tr.here')").await;
    ui.shot("stock").await;

    // Everything reached head office.
    ui.press(F1).await; // back to the sale
    ui.screen("sale").await;
    ui.until("nothing pending", "return document.querySelector('#pending-count').dataset.pending === '0'")
        .await;
    ui.until("online", "return document.querySelector('#sync-state').dataset.online === 'true'").await;

    // Head office goes away: the till sells on, its pending count rises.
    office.kill();
    ui.until("offline", "return document.querySelector('#sync-state').dataset.online === 'false'").await;
    ui.scan(&barcode(0)).await;
    let (offline_total, offline_change, _) = ui.pay_cash("50").await;
    assert_eq!(offline_change, 5_000 - (offline_total + 2) / 5 * 5);
    ui.until("a sale pending", "return +document.querySelector('#pending-count').dataset.pending >= 1").await;
    let pending = ui.pending().await;
    ui.scan(&barcode(2)).await;
    ui.pay_cash("").await; // exact cash
    ui.until(
        "two sales pending",
        &format!("return +document.querySelector('#pending-count').dataset.pending > {pending}"),
    )
    .await;
    ui.shot("offline").await;

    // Offline, a receipt from another store cannot be checked: the offline policy takes the
    // items at today's price, flagged unverified.
    ui.press(F8).await;
    ui.screen("return").await;
    ui.type_into("#receipt", &format!("01900000-0000-7000-8000-000000000001{ENTER}")).await;
    ui.until("the offline return form", "return !!document.querySelector('#unverified-form')").await;
    ui.type_into("#unverified-store", "PLAT").await;
    ui.type_into("#unverified-code", &format!("{}{ENTER}", barcode(0))).await;
    ui.until("the item to return", "return document.querySelectorAll('#unverified-items li').length === 1")
        .await;
    ui.press(F10).await;
    ui.until("the unverified refund", "return !!document.querySelector('#return-done')").await;
    ui.shot("offline-return").await;
    ui.press(F1).await;
    ui.screen("sale").await;

    // Head office is back: the count falls to zero.
    office.restart();
    ui.until(
        "nothing pending after the restart",
        "return document.querySelector('#pending-count').dataset.pending === '0'",
    )
    .await;
    ui.until("online again", "return document.querySelector('#sync-state').dataset.online === 'true'").await;
    ui.shot("back-online").await;

    // Head office counts each sale once: four sales and two returns at this store.
    let report = hq_report(&office).await;
    let store = report["stores"]
        .as_array()
        .expect("stores")
        .iter()
        .find(|s| s["store"] == "VMTL")
        .unwrap_or_else(|| panic!("VMTL in {report}"))
        .clone();
    assert_eq!(store["sales"], json!(4), "{store}");
    assert_eq!(store["returns"], json!(2), "{store}");
    assert_eq!(report["total"]["sales"], json!(4), "{report}");

    ui.client.close().await.expect("the session closes");
    office.kill();
}

/// A serial scanner plugged in: a pseudo-terminal pair whose device the register reaches
/// through `link`, as through a stable `/dev/serial/by-id/…` name.
struct SerialScanner {
    master: serialport::TTYPort,
    _device: serialport::TTYPort,
}

impl SerialScanner {
    fn plug_in(link: &std::path::Path) -> SerialScanner {
        use serialport::SerialPort;
        let (master, device) = serialport::TTYPort::pair().expect("a pseudo-terminal pair");
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(device.name().expect("the device's name"), link).expect("the link");
        SerialScanner { master, _device: device }
    }

    /// Sends a scan as the scanner does: the code and a carriage return.
    fn scan(&mut self, code: &str) {
        use std::io::Write;
        self.master.write_all(format!("{code}\r").as_bytes()).expect("the scan is sent");
        self.master.flush().expect("the scan is sent");
    }
}

/// Units on the sale on screen.
const UNITS: &str =
    "[...document.querySelectorAll('#lines td.qty')].map(e => +e.textContent).reduce((a, b) => a + b, 0)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serial_scanner_rings_up_through_the_window_and_comes_back_after_unplugging() {
    let work = tempfile::tempdir().expect("a folder");
    let mut office = HeadOffice::start(work.path(), "sqlite://hq.db", free_port());
    let (cashier, pin) = office.cashiers["VMTL"].clone();
    let (_xvfb, display) = start_xvfb();
    let (_driver, ui) = open_window(
        &display,
        &[
            ("CAISSE_DATA_DIR", work.path().join("till").display().to_string()),
            ("CAISSE_SERVER", office.url()),
            ("CAISSE_ENROL_CODE", office.codes["VMTL-01"].clone()),
            ("CAISSE_LANGUAGE", "en".into()),
        ],
    )
    .await;
    ui.sign_in(cashier, &pin).await;
    let barcodes = ui
        .js("return window.__TAURI_INTERNALS__.invoke('search', { text: '' }).then(r => r.filter(p => p.barcode && p.active && !p.sku.startsWith('PLU')).map(p => [p.sku, p.barcode]))")
        .await;
    let product = |i: usize| {
        let pair = &barcodes[i];
        (pair[0].as_str().expect("a SKU").to_owned(), pair[1].as_str().expect("a barcode").to_owned())
    };

    // The scanner is plugged in and chosen on the settings screen: no restart.
    let link = work.path().join("scanner");
    let mut scanner = SerialScanner::plug_in(&link);
    let setting = format!("serial:{}", link.display());
    ui.press(F12).await;
    ui.screen("settings").await;
    ui.js("document.querySelector('#set-scanner').value = ''; return true").await;
    ui.type_into("#set-scanner", &format!("{setting}{ENTER}")).await;
    ui.until(
        "the serial scanner saved",
        &format!(
            "return window.__TAURI_INTERNALS__.invoke('view').then(v => v.settings.scanner === {})",
            json!(setting)
        ),
    )
    .await;
    ui.press(F1).await;
    ui.screen("sale").await;

    // A scan on the port rings the product up on the sale on screen.
    let (sku, barcode) = product(0);
    scanner.scan(&barcode);
    ui.until("the serial scan on the sale", &format!("return {UNITS} === 1")).await;
    let lines =
        ui.js("return [...document.querySelectorAll('#lines td.desc small')].map(e => e.textContent)").await;
    assert_eq!(lines, json!([sku]));

    // Unplugged, and plugged back in (a new device behind the same name): the window, never
    // restarted, reads it again.
    drop(scanner);
    let mut scanner = SerialScanner::plug_in(&link);
    let (other_sku, other) = product(1);
    scanner.scan(&other);
    ui.until("the scan after replugging on the sale", &format!("return {UNITS} === 2")).await;
    let lines =
        ui.js("return [...document.querySelectorAll('#lines td.desc small')].map(e => e.textContent)").await;
    assert_eq!(lines, json!([sku, other_sku]));
    scanner.scan(&barcode);
    ui.until("a second scan after replugging", &format!("return {UNITS} === 3")).await;
    ui.shot("serial-scanner").await;

    ui.client.close().await.expect("the session closes");
    office.kill();
}
