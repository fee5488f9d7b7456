//! Benchmarks of the register window, release build, under Xvfb (BENCHMARKS.md):
//! - cold start: from spawning `caisse-desktop` to its first screen drawn and ready for keys;
//! - 1,000 sales rung up through the screen: key events into the scan field (a scanner's
//!   burst), F10, Enter for exact cash, each waited for on screen;
//! - keystroke-to-line: from the Enter that ends a scan to the frame that shows its line;
//! - resident memory of the app and its WebKit processes before and after the 1,000 sales.
//!
//! Run with `scripts/bench` (it builds the release binaries first).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use caisse_e2e::window::{open_window, start_xvfb};
use caisse_e2e::{HeadOffice, binary, free_port};
use serde_json::Value;

const SALES: usize = 1_000;
const STARTS: usize = 10;

/// Memory of the window: (RSS of the app, RSS of the app and its WebKit processes, PSS of the
/// app and its WebKit processes), in MB. RSS counts the WebKit libraries once per process; PSS
/// shares them out, so the PSS sum is what the three processes take together.
fn memory_mb(pid: u32) -> (u64, u64, u64) {
    let field = |pid: u32, file: &str, name: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with(name)).map(str::to_owned))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            .unwrap_or(0)
    };
    let children: Vec<u32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_owned))
                })
                .is_some_and(|ppid| ppid == pid.to_string())
        })
        .collect();
    let all = || std::iter::once(pid).chain(children.iter().copied());
    let rss: u64 = all().map(|p| field(p, "status", "VmRSS:")).sum();
    let pss: u64 = all().map(|p| field(p, "smaps_rollup", "Pss:")).sum();
    (field(pid, "status", "VmRSS:") / 1024, rss / 1024, pss / 1024)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

const RING_UP: &str = r##"
const [codes, count] = arguments;
return (async () => {
const wait = async (ok) => { while (!ok()) await new Promise((r) => setTimeout(r, 0)); };
const key = (target, key) => target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
const times = [];
for (let i = 0; i < count; i++) {
  const scan = document.querySelector("#scan");
  delete document.body.dataset.scanToLineMs;
  for (const c of codes[i % codes.length]) key(scan, c);
  key(scan, "Enter");
  await wait(() => document.body.dataset.scanToLineMs !== undefined);
  times.push(+document.body.dataset.scanToLineMs);
  key(document.querySelector("#scan"), "F10");
  await wait(() => document.querySelector("#app").dataset.screen === "tender");
  key(document.querySelector("#tender-screen"), "Enter");
  await wait(() => document.querySelector("#app").dataset.screen === "sale" && !!document.querySelector("#change-due"));
}
return times;
})();
"##;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let work = tempfile::tempdir().expect("a folder");
    let mut office = HeadOffice::start(work.path(), "sqlite://hq.db", free_port());
    let (cashier, pin) = office.cashiers["VMTL"].clone();
    let till = work.path().join("till");
    let (_xvfb, display) = start_xvfb();
    let app = binary("caisse-desktop");
    println!("binary: {}", app.display());

    // The first start enrols; the measured starts open an enrolled till, as every morning.
    let start = |enrol: bool| {
        let mut command = Command::new(&app);
        command
            .env("DISPLAY", &display)
            .env("CAISSE_DATA_DIR", &till)
            .env("CAISSE_EXIT_WHEN_READY", "true")
            .env("CAISSE_LOG", "warn")
            .stderr(Stdio::null());
        if enrol {
            command.env("CAISSE_SERVER", office.url()).env("CAISSE_ENROL_CODE", &office.codes["VMTL-01"]);
        }
        let began = Instant::now();
        let output = command.output().expect("the window starts");
        let wall = began.elapsed().as_secs_f64() * 1_000.0;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let ready: f64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("ready_ms "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no ready line: {stdout}"));
        (ready, wall)
    };
    start(true);
    let mut ready = Vec::new();
    let mut wall = Vec::new();
    for _ in 0..STARTS {
        let (r, w) = start(false);
        ready.push(r);
        wall.push(w);
    }
    ready.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    println!(
        "cold start to the first screen ready, {STARTS} starts: median {:.0} ms, max {:.0} ms (in-app clock); process spawn to exit: median {:.0} ms",
        percentile(&ready, 0.5),
        ready[ready.len() - 1],
        percentile(&wall, 0.5)
    );

    let data = till.display().to_string();
    let (_driver, ui) =
        open_window(&display, &[("CAISSE_DATA_DIR", data), ("CAISSE_LOG", "warn".into())]).await;
    ui.sign_in(cashier, &pin).await;
    let pid = String::from_utf8(
        Command::new("pgrep").args(["-n", "-f", &app.to_string_lossy()]).output().unwrap().stdout,
    )
    .unwrap()
    .trim()
    .parse::<u32>()
    .expect("the window's pid");
    let codes = ui
        .js("return window.__TAURI_INTERNALS__.invoke('search', { text: '' }).then(r => r.filter(p => p.barcode && p.active && !p.sku.startsWith('PLU')).map(p => p.barcode))")
        .await;
    let before = memory_mb(pid);

    ui.client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(3_600)),
            None,
            None,
        ))
        .await
        .expect("a longer script timeout");
    let began = Instant::now();
    let times = ui.client.execute(RING_UP, vec![codes, Value::from(SALES)]).await.expect("1,000 sales");
    let elapsed = began.elapsed();
    let mut times: Vec<f64> = times.as_array().expect("times").iter().filter_map(Value::as_f64).collect();
    times.sort_by(f64::total_cmp);
    let after = memory_mb(pid);
    println!(
        "{SALES} sales through the screen in {:.1} s ({:.0} ms a sale: scan, F10, Enter, change shown)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1_000.0 / SALES as f64
    );
    println!(
        "keystroke-to-line (Enter to the frame showing the line), {} scans: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
    for (when, (app, rss, pss)) in [("before", before), ("after", after)] {
        println!(
            "memory {when} {SALES} sales: app RSS {app} MB; app + WebKit processes: RSS {rss} MB, PSS {pss} MB"
        );
    }
    let _ = ui.client.close().await;
    office.kill();
}
