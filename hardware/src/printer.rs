//! Receipts on ESC/POS printers, through the `escpos` crate: the layout of a sale, a return and
//! a Z report in French or English, for 58 mm (32 columns) and 80 mm (42 or 48) paper, on the
//! Canadian-French code page PC863; then a link that carries the bytes to a device file, a
//! network printer (TCP 9100) or memory, with timeouts so that a dead printer never hangs the till.

use std::cell::RefCell;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{JustifyMode, PageCode, Protocol};
use shared_model::{Money, Record, RecordBody, Tender};
use thiserror::Error;

mod spec;
pub use spec::{BadSpec, LINK_TIMEOUT, PrinterSpec};

#[derive(Debug, Error)]
pub enum PrintError {
    #[error("the receipt could not be laid out: {0}")]
    Layout(String),
    #[error("the printer did not answer: {0}")]
    Unreachable(String),
    #[error("the printer took longer than {0:?}")]
    TimedOut(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Fr,
    En,
}

/// The cash drawer's solenoid: connector pin 2 or pin 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawerPin {
    Two,
    Five,
}

/// `ESC p m t1 t2`: a 50 ms pulse on the pin, then 500 ms off. (`escpos` 0.20 sends only
/// `ESC p m`, which leaves the printer waiting for the two timing bytes.)
pub fn drawer_kick(pin: DrawerPin) -> [u8; 5] {
    [0x1B, b'p', if pin == DrawerPin::Two { 0 } else { 1 }, 25, 250]
}

/// Who and where, printed at the top and the bottom of every receipt.
#[derive(Debug, Clone)]
pub struct ReceiptContext {
    pub store_name: String,
    pub store_address: String,
    pub gst_number: String,
    pub qst_number: String,
    pub cashier: String,
    /// Local date and time, already formatted.
    pub printed_at: String,
    pub return_policy: String,
    pub language: Language,
    /// 32, 42 or 48.
    pub columns: u8,
    pub drawer: DrawerPin,
}

fn label(language: Language, key: &str) -> &'static str {
    let (fr, en) = match key {
        "register" => ("Caisse", "Register"),
        "cashier" => ("Caissier", "Cashier"),
        "subtotal" => ("Sous-total", "Subtotal"),
        "discount" => ("Rabais", "Discount"),
        "gst" => ("TPS 5 %", "GST 5%"),
        "qst" => ("TVQ 9,975 %", "QST 9.975%"),
        "total" => ("TOTAL", "TOTAL"),
        "rounding" => ("Arrondi", "Rounding"),
        "cash" => ("Comptant", "Cash"),
        "debit" => ("Débit", "Debit"),
        "credit" => ("Crédit", "Credit"),
        "change" => ("Monnaie", "Change"),
        "return" => ("RETOUR", "RETURN"),
        "refunded" => ("Remboursé", "Refunded"),
        "online_card" => ("Remboursé sur la carte de la commande", "Refunded to the card of order"),
        "z" => ("RAPPORT Z", "Z REPORT"),
        "sales" => ("Ventes", "Sales"),
        "returns" => ("Retours", "Returns"),
        "expected" => ("Comptant attendu", "Expected cash"),
        "counted" => ("Comptant compté", "Counted cash"),
        "test" => ("Essai d'impression", "Test print"),
        _ => ("", ""),
    };
    if language == Language::Fr { fr } else { en }
}

/// `left ........ right` on one line of `columns`.
fn row(left: &str, right: &str, columns: usize) -> String {
    let (left, right) = (printable(left), printable(right));
    let room = columns.saturating_sub(right.chars().count() + 1).max(1);
    let left: String = left.chars().take(room).collect();
    format!("{left:<room$} {right}")
}

/// Free text cut into lines of at most `columns`, at spaces where it can.
fn wrap(text: &str, columns: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in printable(text).split_whitespace() {
        let mut word: String = word.to_owned();
        while word.chars().count() > columns {
            let head: String = word.chars().take(columns).collect();
            word = word.chars().skip(columns).collect();
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(head);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > columns {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Text as it may go onto paper: every control character (C0, DEL and C1) removed. Names and
/// addresses are data, and ESC/POS commands hidden in them would open the drawer or cut the
/// paper; head office refuses them at its boundary, this is the second line of defence.
pub fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Writes one line of text, made printable, whatever the caller built it from.
fn put(p: &mut Printer<Capture>, text: &str) -> Result<(), PrintError> {
    p.writeln(&printable(text)).map(|_| ()).map_err(layout_error)
}

/// Collects what `escpos` writes.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

fn layout_error(e: escpos::errors::PrinterError) -> PrintError {
    PrintError::Layout(e.to_string())
}

fn tender_label(language: Language, tender: &Tender) -> String {
    match tender {
        Tender::Cash { .. } => label(language, "cash").into(),
        Tender::Debit { .. } => label(language, "debit").into(),
        Tender::Credit { approval, .. } => format!("{} {}", label(language, "credit"), approval.as_str()),
    }
}

/// The bytes of a test page: the store's header and a line of accented letters, to check the
/// printer, its paper width and its code page from the settings screen.
pub fn render_test(ctx: &ReceiptContext) -> Result<Vec<u8>, PrintError> {
    let capture = Capture::default();
    let options = PrinterOptions::new(Some(PageCode::PC863), None, ctx.columns);
    let mut p = Printer::new(capture.clone(), Protocol::default(), Some(options));
    p.init().map_err(layout_error)?;
    p.justify(JustifyMode::CENTER).map_err(layout_error)?;
    p.bold(true).map_err(layout_error)?;
    put(&mut p, &ctx.store_name)?;
    p.bold(false).map_err(layout_error)?;
    put(&mut p, label(ctx.language, "test"))?;
    put(&mut p, "É é è ê à ç ô Ç")?;
    put(&mut p, &"-".repeat(usize::from(ctx.columns.clamp(32, 48))))?;
    p.feeds(3).map_err(layout_error)?;
    p.print_cut().map_err(layout_error)?;
    let bytes = capture.0.borrow().clone();
    Ok(bytes)
}

/// The bytes of a receipt for a sale, a return or a till close. A cash sale or refund ends by
/// opening the drawer; nothing else does.
pub fn render(record: &Record, ctx: &ReceiptContext) -> Result<Vec<u8>, PrintError> {
    let columns = usize::from(ctx.columns.clamp(32, 48));
    let lang = ctx.language;
    let capture = Capture::default();
    let options = PrinterOptions::new(Some(PageCode::PC863), None, ctx.columns);
    let mut p = Printer::new(capture.clone(), Protocol::default(), Some(options));
    let money = |m: Money| m.to_string();
    p.init().map_err(layout_error)?;
    p.justify(JustifyMode::CENTER).map_err(layout_error)?;
    p.bold(true).map_err(layout_error)?;
    put(&mut p, &ctx.store_name)?;
    p.bold(false).map_err(layout_error)?;
    put(&mut p, &ctx.store_address)?;
    p.justify(JustifyMode::LEFT).map_err(layout_error)?;
    put(&mut p, &row(&format!("{} {}", label(lang, "register"), record.origin), &ctx.printed_at, columns))?;
    put(
        &mut p,
        &row(&format!("{} {}", label(lang, "cashier"), ctx.cashier), &format!("#{}", record.seq), columns),
    )?;
    put(&mut p, &"-".repeat(columns))?;
    let mut cash = false;
    match &record.body {
        RecordBody::Sale(sale) => {
            for line in &sale.lines {
                let a = line.amounts().map_err(|e| PrintError::Layout(e.to_string()))?;
                put(&mut p, &row(&line.description, &money(a.gross), columns))?;
                if line.quantity.get() > 1 {
                    put(&mut p, &format!("  {} x {}", line.quantity, money(line.unit_price)))?;
                }
                if a.discount > Money::ZERO {
                    put(
                        &mut p,
                        &row(
                            &format!("  {}", label(lang, "discount")),
                            &format!("-{}", money(a.discount)),
                            columns,
                        ),
                    )?;
                }
            }
            let t = sale.totals;
            put(&mut p, &"-".repeat(columns))?;
            put(&mut p, &row(label(lang, "subtotal"), &money(t.net), columns))?;
            put(&mut p, &row(&format!("{} {}", label(lang, "gst"), ctx.gst_number), &money(t.gst), columns))?;
            put(&mut p, &row(&format!("{} {}", label(lang, "qst"), ctx.qst_number), &money(t.qst), columns))?;
            p.bold(true).map_err(layout_error)?;
            put(&mut p, &row(label(lang, "total"), &money(t.total), columns))?;
            p.bold(false).map_err(layout_error)?;
            if t.rounding != Money::ZERO {
                put(&mut p, &row(label(lang, "rounding"), &money(t.rounding), columns))?;
            }
            for tender in &sale.tenders {
                cash |= tender.is_cash();
                put(&mut p, &row(&tender_label(lang, tender), &money(tender.amount()), columns))?;
            }
            if t.change > Money::ZERO {
                put(&mut p, &row(label(lang, "change"), &money(t.change), columns))?;
            }
        }
        RecordBody::Return(ret) => {
            p.bold(true).map_err(layout_error)?;
            put(&mut p, label(lang, "return"))?;
            p.bold(false).map_err(layout_error)?;
            for line in &ret.lines {
                put(
                    &mut p,
                    &row(
                        &format!("{} x {}", line.quantity, line.description),
                        &money(line.refund.total()),
                        columns,
                    ),
                )?;
            }
            let t = ret.totals;
            put(&mut p, &row(label(lang, "gst"), &money(t.gst), columns))?;
            put(&mut p, &row(label(lang, "qst"), &money(t.qst), columns))?;
            p.bold(true).map_err(layout_error)?;
            put(&mut p, &row(label(lang, "refunded"), &money(t.refunded()), columns))?;
            p.bold(false).map_err(layout_error)?;
            for tender in &ret.tenders {
                cash |= tender.is_cash();
                put(&mut p, &row(&tender_label(lang, tender), &money(tender.amount()), columns))?;
            }
            if let Some(order) = ret.online_order {
                put(&mut p, &format!("{} {order}", label(lang, "online_card")))?;
            }
        }
        RecordBody::TillClosed(z) => {
            p.bold(true).map_err(layout_error)?;
            put(&mut p, label(lang, "z"))?;
            p.bold(false).map_err(layout_error)?;
            put(&mut p, &row(label(lang, "sales"), &z.sales_count.to_string(), columns))?;
            put(&mut p, &row(label(lang, "returns"), &z.returns_count.to_string(), columns))?;
            for t in &z.tenders {
                put(
                    &mut p,
                    &row(t.kind.as_str(), &format!("{} / -{}", money(t.taken), money(t.refunded)), columns),
                )?;
            }
            put(&mut p, &row(label(lang, "expected"), &money(z.expected_cash), columns))?;
            if let Some(counted) = z.counted_cash {
                put(&mut p, &row(label(lang, "counted"), &money(counted), columns))?;
            }
        }
        _ => {}
    }
    if matches!(record.body, RecordBody::Sale(_) | RecordBody::Return(_)) {
        put(&mut p, &"-".repeat(columns))?;
        for line in wrap(&ctx.return_policy, columns) {
            put(&mut p, &line)?;
        }
        // The receipt's id as a QR code: the return screen scans it.
        p.justify(JustifyMode::CENTER).map_err(layout_error)?;
        p.qrcode(&record.id.to_string()).map_err(layout_error)?;
        put(&mut p, &record.id.to_string())?;
    }
    p.feeds(3).map_err(layout_error)?;
    p.print_cut().map_err(layout_error)?;
    let mut bytes = capture.0.borrow().clone();
    if cash {
        bytes.extend_from_slice(&drawer_kick(ctx.drawer));
    }
    Ok(bytes)
}

/// Where the bytes go.
pub trait PrinterLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError>;
}

/// A network printer (raw TCP, usually port 9100).
#[derive(Debug, Clone)]
pub struct TcpLink {
    pub address: SocketAddr,
    pub timeout: Duration,
}

impl PrinterLink for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let unreachable = |e: std::io::Error| PrintError::Unreachable(format!("{}: {e}", self.address));
        let mut stream = TcpStream::connect_timeout(&self.address, self.timeout).map_err(unreachable)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(unreachable)?;
        stream.write_all(bytes).map_err(unreachable)?;
        stream.flush().map_err(unreachable)
    }
}

/// A printer device (`/dev/usb/lp0`, a serial device already set up) or a file. A device that
/// stops answering can block a write for ever, so the write runs on its own thread and the
/// till waits at most `timeout`.
#[derive(Debug, Clone)]
pub struct FileLink {
    pub path: PathBuf,
    pub timeout: Duration,
}

impl PrinterLink for FileLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let (done, wait) = mpsc::channel();
        let (path, bytes) = (self.path.clone(), bytes.to_vec());
        std::thread::spawn(move || {
            let result = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.flush()));
            let _ = done.send(result.map_err(|e| format!("{}: {e}", path.display())));
        });
        match wait.recv_timeout(self.timeout) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(PrintError::Unreachable(e)),
            Err(_) => Err(PrintError::TimedOut(self.timeout)),
        }
    }
}

/// Keeps what was printed: for tests, and a screen preview.
#[derive(Debug, Clone, Default)]
pub struct MemoryLink {
    pub printed: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl PrinterLink for MemoryLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        self.printed.lock().map_err(|e| PrintError::Unreachable(e.to_string()))?.push(bytes.to_vec());
        Ok(())
    }
}

/// What a printer says of itself, when it answers a real-time status query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper_out: bool,
    pub paper_low: bool,
}

/// `DLE EOT n`: printer status (1), offline cause (2), paper sensor (4).
pub const STATUS_QUERIES: [[u8; 3]; 3] = [[0x10, 0x04, 1], [0x10, 0x04, 2], [0x10, 0x04, 4]];

/// Reads the three status bytes (ESC/POS real-time status, Epson's bit layout).
pub fn parse_status(printer: u8, offline: u8, paper: u8) -> PrinterStatus {
    PrinterStatus {
        online: printer & 0x08 == 0,
        cover_open: offline & 0x04 != 0,
        paper_out: paper & 0x60 != 0 || offline & 0x20 != 0,
        paper_low: paper & 0x0C != 0,
    }
}

impl TcpLink {
    /// Asks a network printer how it is; a printer that does not answer in time is offline.
    pub fn status(&self) -> Result<PrinterStatus, PrintError> {
        use std::io::Read;
        let unreachable = |e: std::io::Error| PrintError::Unreachable(format!("{}: {e}", self.address));
        let mut stream = TcpStream::connect_timeout(&self.address, self.timeout).map_err(unreachable)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(unreachable)?;
        stream.set_read_timeout(Some(self.timeout)).map_err(unreachable)?;
        let mut answers = [0u8; 3];
        for (query, answer) in STATUS_QUERIES.iter().zip(answers.iter_mut()) {
            stream.write_all(query).map_err(unreachable)?;
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).map_err(unreachable)?;
            *answer = byte[0];
        }
        Ok(parse_status(answers[0], answers[1], answers[2]))
    }
}

/// A printer on a serial port, at its baud rate, with a write timeout.
#[derive(Debug, Clone)]
pub struct SerialLink {
    pub path: PathBuf,
    pub baud: u32,
    pub timeout: Duration,
}

impl PrinterLink for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let unreachable = |e: String| PrintError::Unreachable(format!("{}: {e}", self.path.display()));
        let mut port = serialport::new(self.path.to_string_lossy(), self.baud)
            .timeout(self.timeout)
            .open()
            .map_err(|e| unreachable(e.to_string()))?;
        port.write_all(bytes).map_err(|e| unreachable(e.to_string()))?;
        port.flush().map_err(|e| unreachable(e.to_string()))
    }
}
