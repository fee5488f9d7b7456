//! `caisse-desktop`: the register window. A thin Tauri shell: each command locks the till's
//! [`Desk`] and calls it; what the screen shows is what the library answers. Sync runs in its
//! own thread with its own connection, so the screen never waits for the network.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod serial_scanner;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use hardware::printer::{Language, PrinterSpec};
use tauri::{AppHandle, Emitter, Manager};
use terminal_app::desk::{
    Answer, Desk, Key, Problem, ProductView, ReturnDone, ReturnLookup, ReturnPick, ScanOutcome, Scanner,
    Settings, SettingsText, StockView, SyncView, Tendered, TransferView, View, ZView,
};
use terminal_app::sync_loop::SyncLoop;

/// Where the register keeps its database when not told: an installed app is started from the
/// desktop's menu, in a folder it may not write, so it keeps it in the user's data folder.
fn default_data_dir() -> PathBuf {
    let installed = std::env::current_exe().is_ok_and(|exe| exe.starts_with("/usr"));
    if !installed {
        return PathBuf::from("register-data");
    }
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")));
    data_home.map_or_else(|| PathBuf::from("register-data"), |d| d.join("caisse/register-data"))
}

/// The Caisse register window.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The register's folder: its database lives there. Unless given: `register-data` in the
    /// current folder, or, for the app installed from its package (under /usr), the user's
    /// data folder (`~/.local/share/caisse/register-data`).
    #[arg(long, env = "CAISSE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Head office's address, for enrolling on first start (with --enrol-code).
    #[arg(long, env = "CAISSE_SERVER")]
    server: Option<String>,
    /// A one-time enrolment code from head office, used when this register is not enrolled yet.
    #[arg(long, env = "CAISSE_ENROL_CODE", hide_env_values = true)]
    enrol_code: Option<String>,
    /// The certificate (PEM) of the chain's own certificate authority, when head office's HTTPS
    /// certificate comes from one; trusted from enrolment on, besides the system's roots.
    #[arg(long, env = "CAISSE_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// Seconds between syncs while head office answers.
    #[arg(long, env = "CAISSE_SYNC_SECONDS", default_value_t = 3)]
    sync_seconds: u64,
    /// Printer to set on first start (file:PATH, tcp:HOST:PORT or serial:PATH).
    #[arg(long, env = "CAISSE_PRINTER", value_parser = parse_printer)]
    printer: Option<PrinterSpec>,
    /// Screen and receipt language on first start: fr or en.
    #[arg(long, env = "CAISSE_LANGUAGE", value_parser = parse_language)]
    language: Option<Language>,
    /// For benchmarks: print the time from start to a ready sale screen and exit.
    #[arg(long, env = "CAISSE_EXIT_WHEN_READY", hide = true)]
    exit_when_ready: bool,
}

fn parse_printer(text: &str) -> Result<PrinterSpec, hardware::printer::BadSpec> {
    text.parse()
}

fn parse_language(text: &str) -> Result<Language, hardware::printer::BadSpec> {
    text.parse()
}

struct App {
    desk: Mutex<Desk>,
    sync: SyncLoop,
    started: Instant,
    exit_when_ready: bool,
    /// The serial scanner's thread, once the window is up.
    serial: OnceLock<serial_scanner::SerialWatch>,
}

impl App {
    fn desk(&self) -> MutexGuard<'_, Desk> {
        // A command that panicked mid-way left the database consistent (every change is one
        // transaction): the screen goes on with the state as stored.
        self.desk.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs a command's work on a thread that may block (SQLite, the printer, head office), never on
/// the async runtime: the register library's HTTP client is a blocking one.
async fn on<T: Send + 'static>(
    handle: AppHandle,
    work: impl FnOnce(&App) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    tauri::async_runtime::spawn_blocking(move || work(&handle.state::<App>()))
        .await
        .map_err(|e| Problem::new("internal", format!("the register failed: {e}"), None))?
}

#[tauri::command]
async fn view(handle: AppHandle) -> Answer<View> {
    on(handle, move |app| app.desk().view()).await
}

#[tauri::command]
async fn sync_status(handle: AppHandle) -> Answer<SyncView> {
    on(handle, move |app| app.desk().sync_view()).await
}

#[tauri::command]
async fn sync_now(handle: AppHandle) -> Answer<()> {
    on(handle, move |app| {
        app.sync.nudge();
        Ok(())
    })
    .await
}

/// The screen calls this once its first frame is drawn.
#[tauri::command]
async fn ui_ready(handle: AppHandle) -> Answer<()> {
    on(handle, move |app| {
        let elapsed = app.started.elapsed();
        tracing::info!(ms = elapsed.as_millis() as u64, "sale screen ready");
        if app.exit_when_ready {
            println!("ready_ms {:.1}", elapsed.as_secs_f64() * 1_000.0);
            std::process::exit(0);
        }
        Ok(())
    })
    .await
}

#[tauri::command]
async fn enrol(handle: AppHandle, server: String, code: String) -> Answer<View> {
    on(handle, move |app| {
        let view = app.desk().enrol(&server, &code)?;
        app.sync.nudge();
        Ok(view)
    })
    .await
}

#[tauri::command]
async fn sign_in(handle: AppHandle, cashier: String, pin: String) -> Answer<View> {
    on(handle, move |app| app.desk().sign_in(&cashier, &pin)).await
}

#[tauri::command]
async fn sign_out(handle: AppHandle) -> Answer<View> {
    on(handle, move |app| app.desk().sign_out()).await
}

#[tauri::command]
async fn scan_keys(handle: AppHandle, keys: Vec<Key>) -> Answer<ScanOutcome> {
    on(handle, move |app| app.desk().scan_keys(&keys)).await
}

#[tauri::command]
async fn add_item(handle: AppHandle, code: String, quantity: u32) -> Answer<View> {
    on(handle, move |app| app.desk().add_item(&code, quantity)).await
}

#[tauri::command]
async fn search(handle: AppHandle, text: String) -> Answer<Vec<ProductView>> {
    on(handle, move |app| app.desk().search(&text)).await
}

#[tauri::command]
async fn set_quantity(handle: AppHandle, index: usize, quantity: u32) -> Answer<View> {
    on(handle, move |app| app.desk().set_quantity(index, quantity)).await
}

#[tauri::command]
async fn set_discount(handle: AppHandle, index: usize, discount: String) -> Answer<View> {
    on(handle, move |app| app.desk().set_discount(index, &discount)).await
}

#[tauri::command]
async fn remove_line(handle: AppHandle, index: usize) -> Answer<View> {
    on(handle, move |app| app.desk().remove_line(index)).await
}

#[tauri::command]
async fn void_sale(handle: AppHandle) -> Answer<View> {
    on(handle, move |app| app.desk().void()).await
}

#[tauri::command]
async fn park(handle: AppHandle) -> Answer<View> {
    on(handle, move |app| app.desk().park()).await
}

#[tauri::command]
async fn resume(handle: AppHandle, id: i64) -> Answer<View> {
    on(handle, move |app| app.desk().resume(id)).await
}

#[tauri::command]
async fn add_tender(handle: AppHandle, kind: String, amount: String, approval: String) -> Answer<Tendered> {
    on(handle, move |app| {
        let tendered = app.desk().add_tender(&kind, &amount, &approval)?;
        if tendered.completed().is_some() {
            app.sync.nudge();
        }
        Ok(tendered)
    })
    .await
}

#[tauri::command]
async fn clear_tenders(handle: AppHandle) -> Answer<View> {
    on(handle, move |app| app.desk().clear_tenders()).await
}

#[tauri::command]
async fn reprint(handle: AppHandle, id: Option<String>) -> Answer<View> {
    on(handle, move |app| app.desk().reprint(id.as_deref())).await
}

#[tauri::command]
async fn recent_receipts(handle: AppHandle) -> Answer<Vec<(String, String, i64)>> {
    on(handle, move |app| app.desk().recent_receipts(20)).await
}

#[tauri::command]
async fn find_sale(handle: AppHandle, receipt: String) -> Answer<ReturnLookup> {
    on(handle, move |app| app.desk().find_sale(&receipt)).await
}

#[tauri::command]
async fn take_return(
    handle: AppHandle,
    picks: Vec<ReturnPick>,
    refund_to: String,
    reason: String,
) -> Answer<ReturnDone> {
    on(handle, move |app| {
        let done = app.desk().take_return(&picks, &refund_to, &reason)?;
        app.sync.nudge();
        Ok(done)
    })
    .await
}

#[tauri::command]
async fn take_unverified_return(
    handle: AppHandle,
    receipt: String,
    store: String,
    items: Vec<(String, u32)>,
    refund_to: String,
    reason: String,
) -> Answer<ReturnDone> {
    on(handle, move |app| {
        let done = app.desk().take_unverified_return(&receipt, &store, &items, &refund_to, &reason)?;
        app.sync.nudge();
        Ok(done)
    })
    .await
}

#[tauri::command]
async fn stock(handle: AppHandle, code: String) -> Answer<StockView> {
    on(handle, move |app| app.desk().stock(&code)).await
}

#[tauri::command]
async fn count_stock(handle: AppHandle, code: String, counted: i64) -> Answer<StockView> {
    on(handle, move |app| app.desk().count_stock(&code, counted)).await
}

#[tauri::command]
async fn adjust_stock(handle: AppHandle, code: String, delta: i64, reason: String) -> Answer<StockView> {
    on(handle, move |app| app.desk().adjust_stock(&code, delta, &reason)).await
}

#[tauri::command]
async fn incoming_transfers(handle: AppHandle) -> Answer<Vec<TransferView>> {
    on(handle, move |app| app.desk().incoming_transfers()).await
}

#[tauri::command]
async fn receive_transfer(handle: AppHandle, id: String) -> Answer<Vec<TransferView>> {
    on(handle, move |app| app.desk().receive_transfer(&id)).await
}

#[tauri::command]
async fn request_replenishment(
    handle: AppHandle,
    code: String,
    quantity: u32,
    note: String,
) -> Answer<String> {
    on(handle, move |app| {
        let id = app.desk().request_replenishment(&code, quantity, &note)?;
        app.sync.nudge();
        Ok(id)
    })
    .await
}

#[tauri::command]
async fn z_report(handle: AppHandle, opening_float: String, counted: String, close: bool) -> Answer<ZView> {
    on(handle, move |app| {
        let report = app.desk().z_report(&opening_float, &counted, close)?;
        if close {
            app.sync.nudge();
        }
        Ok(report)
    })
    .await
}

#[tauri::command]
async fn save_settings(handle: AppHandle, settings: SettingsText) -> Answer<View> {
    on(handle, move |app| {
        let view = app.desk().save_settings_text(settings)?;
        // A scanner chosen here is read from now on, without a restart.
        if let Some(serial) = app.serial.get() {
            serial.follow(&app.desk().settings()?.scanner);
        }
        Ok(view)
    })
    .await
}

#[tauri::command]
async fn test_print(handle: AppHandle, printer: String) -> Answer<()> {
    on(handle, move |app| app.desk().test_print(&printer)).await
}

/// The serial scanner, when the settings name one: its scans ring up like wedge scans and the
/// screen is told to redraw.
fn watch_serial_scanner(handle: tauri::AppHandle, scanner: &Scanner) -> serial_scanner::SerialWatch {
    serial_scanner::SerialWatch::spawn(scanner, move |event| {
        let message = match event {
            hardware::serial::Event::Scanned(Ok(scan)) => {
                let app = handle.state::<App>();
                app.desk().add_read(scan).err()
            }
            hardware::serial::Event::Scanned(Err(e)) => Some(Problem::new("scan", e.to_string(), None)),
            _ => None,
        };
        let _ = handle.emit("cart-changed", message);
    })
}

fn first_start(desk: &mut Desk, args: &Args) -> anyhow::Result<()> {
    let mut settings = desk.settings()?;
    let fresh = settings == Settings::default();
    if let Some(printer) = &args.printer {
        settings.printer = Some(printer.clone());
    }
    if let Some(language) = args.language {
        settings.language = language;
    }
    if fresh || args.printer.is_some() || args.language.is_some() {
        desk.save_settings(settings).map_err(|p| anyhow::anyhow!("{p}"))?;
    }
    if let (Some(server), Some(code)) = (&args.server, &args.enrol_code) {
        // A code already used or a head office out of reach leaves the enrolment screen up,
        // where a new code can be typed: the window opens either way.
        if desk.register().identity().is_err()
            && let Err(problem) = desk.enrol(server, code)
        {
            tracing::warn!(%server, %problem, "enrolment on first start failed");
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAISSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let mut desk =
        Desk::open(&data_dir).with_context(|| format!("opening the register in {}", data_dir.display()))?;
    desk.set_ca_file(args.ca_file.clone());
    first_start(&mut desk, &args)?;
    let scanner = desk.settings()?.scanner;
    let sync = SyncLoop::spawn(desk.database(), Duration::from_secs(args.sync_seconds.max(1)));
    let app = App {
        desk: Mutex::new(desk),
        sync,
        started,
        exit_when_ready: args.exit_when_ready,
        serial: OnceLock::new(),
    };
    tauri::Builder::default()
        .manage(app)
        .setup(move |tauri_app| {
            #[cfg(target_os = "linux")]
            if let Some(window) = tauri_app.get_webview_window("main") {
                // A till's screen is forms and tables: software compositing costs about 75 MB
                // in WebKit's web process (measured under Xvfb) and buys nothing here.
                let _ = window.with_webview(|webview| {
                    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
                    if let Some(settings) = webview.inner().settings() {
                        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                    }
                });
            }
            let serial = watch_serial_scanner(tauri_app.handle().clone(), &scanner);
            let _ = tauri_app.state::<App>().serial.set(serial);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            view,
            sync_status,
            sync_now,
            ui_ready,
            enrol,
            sign_in,
            sign_out,
            scan_keys,
            add_item,
            search,
            set_quantity,
            set_discount,
            remove_line,
            void_sale,
            park,
            resume,
            add_tender,
            clear_tenders,
            reprint,
            recent_receipts,
            find_sale,
            take_return,
            take_unverified_return,
            stock,
            count_stock,
            adjust_stock,
            incoming_transfers,
            receive_transfer,
            request_replenishment,
            z_report,
            save_settings,
            test_print,
        ])
        .run(tauri::generate_context!())
        .context("the register window failed")?;
    Ok(())
}
