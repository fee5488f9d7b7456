//! The register screen's model: what the desktop window shows and what each of its keys does,
//! as plain Rust that the Tauri shell forwards to and the tests drive directly. The screen
//! itself (TypeScript) formats these views and forwards keys; every rule lives here or below.
//!
//! A [`Desk`] owns the till's [`Register`] (the sale on screen is cart 0) and what only the
//! screen needs: the tenders offered so far, the last completed sale, the receipt looked up for
//! a return, and the hardware settings kept in the register's own database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hardware::printer::{Language, PrinterLink, ReceiptContext};
use hardware::wedge::{Input, WedgeDecoder};
use serde::{Deserialize, Serialize};
use shared_model::returns::ReturnReason;
use shared_model::sale::Discount;
use shared_model::stock::AdjustmentReason;
use shared_model::tender::{ApprovalCode, PaymentError, settle};
use shared_model::{Money, Percent, Record, RecordBody, RecordId, Tender};

use crate::Register;
use crate::error::{RegisterError, Result};
use crate::returns::{RefundTo, SaleForReturn};
use crate::store::{set_setting, setting};

/// The register's screen.
#[derive(Debug)]
pub struct Desk {
    register: Register,
    data_dir: PathBuf,
    tenders: Vec<Tender>,
    last: Option<LastSale>,
    lookup: Option<SaleForReturn>,
    /// The CA certificate (PEM file) to trust at enrolment, for a chain running its own CA.
    ca_file: Option<PathBuf>,
}

/// Everything the screen shows, sent after every action.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub identity: Option<IdentityView>,
    pub cashier: Option<CashierView>,
    pub sync: SyncView,
    pub cart: CartView,
    pub payment: PaymentView,
    pub last_sale: Option<LastSale>,
    pub parked: Vec<ParkedView>,
    pub settings: Settings,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityView {
    pub register: String,
    pub store: String,
    pub store_name: String,
    pub server: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CashierView {
    pub id: u32,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncView {
    pub online: bool,
    pub pending: u64,
    pub oldest_pending_ms: Option<u64>,
    pub last_sync_ms: Option<u64>,
    pub rejected: Vec<RejectedView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedView {
    pub seq: u64,
    pub kind: String,
    pub reason: String,
}

/// Amounts are in cents.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CartView {
    pub lines: Vec<LineView>,
    pub gross: i64,
    pub discounts: i64,
    pub net: i64,
    pub gst: i64,
    pub qst: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub index: usize,
    pub sku: String,
    pub description: String,
    pub quantity: u32,
    pub unit_price: i64,
    /// "10%" or the amount in cents, as the cashier entered it.
    pub discount_percent_bp: Option<u32>,
    pub discount_amount: Option<i64>,
    pub discount: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PaymentView {
    pub tenders: Vec<TenderView>,
    pub paid: i64,
    /// Still owed (before cash rounding); zero or less once the tenders cover the sale.
    pub balance: i64,
    /// What settles the balance in cash, rounded to the nickel.
    pub cash_balance: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenderView {
    pub kind: &'static str,
    pub amount: i64,
}

/// The sale just completed: what the customer is told and whether the receipt printed.
#[derive(Debug, Clone, Serialize)]
pub struct LastSale {
    pub id: String,
    pub total: i64,
    pub paid: i64,
    pub change: i64,
    pub rounding: i64,
    pub printed: bool,
    pub print_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParkedView {
    pub id: i64,
    pub at_ms: u64,
    pub lines: usize,
    pub total: i64,
}

/// The screen's hardware and language choices, kept in the register's database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `file:PATH`, `tcp:HOST:PORT`, `serial:PATH` or empty for no printer.
    pub printer: String,
    /// `wedge` (a keyboard-wedge scanner types into the scan field) or `serial:PATH`.
    pub scanner: String,
    /// `fr` or `en`: the screen's and the receipts' language.
    pub language: String,
    /// Receipt width in characters: 32, 42 or 48.
    pub columns: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { printer: String::new(), scanner: "wedge".into(), language: "fr".into(), columns: 42 }
    }
}

impl Settings {
    /// Refuses a setting the till could not use, naming it.
    pub fn check(&self) -> std::result::Result<(), Problem> {
        if !self.printer.is_empty() {
            printer_link(&self.printer).map_err(|e| Problem::field("printer", e))?;
        }
        if self.scanner != "wedge" && !self.scanner.starts_with("serial:") {
            return Err(Problem::field(
                "scanner",
                format!("{:?} is not a scanner: use wedge or serial:PATH", self.scanner),
            ));
        }
        language(&self.language).map_err(|e| Problem::field("language", e))?;
        if ![32, 42, 48].contains(&self.columns) {
            return Err(Problem::field(
                "columns",
                format!("receipts are 32, 42 or 48 columns wide, not {}", self.columns),
            ));
        }
        Ok(())
    }
}

/// What went wrong, for the screen: a stable code it can translate, the English sentence, and
/// the field at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
    /// When trying again makes sense (a cashier locked out after wrong PINs), so the screen can
    /// say it in its language and on its clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at_ms: Option<u64>,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>, field: Option<&'static str>) -> Problem {
        Problem { code, message: message.into(), field, retry_at_ms: None }
    }

    pub fn field(field: &'static str, message: impl Into<String>) -> Problem {
        Problem::new("invalid", message, Some(field))
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<RegisterError> for Problem {
    fn from(e: RegisterError) -> Problem {
        let code = match &e {
            RegisterError::NotEnrolled => "not_enrolled",
            RegisterError::AlreadyEnrolled(_) => "already_enrolled",
            RegisterError::NotSignedIn => "not_signed_in",
            RegisterError::BadPin => "bad_pin",
            RegisterError::LockedOut { .. } => "locked_out",
            RegisterError::UnknownProduct(_) => "unknown_product",
            RegisterError::Retired(_) => "retired",
            RegisterError::EmptySale => "empty_sale",
            RegisterError::NoSuchLine(_) => "no_such_line",
            RegisterError::NoSuchParkedSale(_) => "no_such_parked_sale",
            RegisterError::Offline(_) => "offline",
            RegisterError::Untrusted(_) => "untrusted_server",
            RegisterError::CaFile(_) => "ca_file",
            RegisterError::Invalid(_) | RegisterError::Sale(_) | RegisterError::Refused(_) => "refused",
            RegisterError::Database(_) | RegisterError::Corrupt(_) => "database",
        };
        let retry_at_ms = match e {
            RegisterError::LockedOut { until_ms, .. } => Some(until_ms),
            _ => None,
        };
        Problem { retry_at_ms, ..Problem::new(code, e.to_string(), None) }
    }
}

impl From<PaymentError> for Problem {
    fn from(e: PaymentError) -> Problem {
        Problem::new("payment", e.to_string(), Some("amount"))
    }
}

pub type Answer<T> = std::result::Result<T, Problem>;

/// One key the scan field saw: the character (`"Enter"` for Enter) and when, in milliseconds
/// on the screen's own clock.
#[derive(Debug, Clone, Deserialize)]
pub struct Key {
    pub key: String,
    pub at_ms: f64,
}

/// What a burst of keys in the scan field did.
#[derive(Debug, Clone, Serialize)]
pub struct ScanOutcome {
    /// A scanner read a code, and the line it made (or the error it met).
    pub scanned: Option<String>,
    /// Text a person typed and confirmed with Enter: a code added by hand, or else a search.
    pub typed: Option<String>,
    /// What stays in the scan field (typed without Enter).
    pub leftover: String,
    /// Products matching typed text that is not a code.
    pub found: Vec<ProductView>,
    pub view: View,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub barcode: Option<String>,
    pub price: i64,
    pub active: bool,
}

impl From<shared_model::catalogue::ProductInfo> for ProductView {
    fn from(p: shared_model::catalogue::ProductInfo) -> ProductView {
        ProductView {
            sku: p.sku.to_string(),
            name: p.name,
            category: p.category,
            barcode: p.barcodes.first().map(|b| b.to_string()),
            price: p.price.as_cents(),
            active: p.active,
        }
    }
}

/// A sale looked up for a return: each line with what is left to return.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnLookup {
    pub id: String,
    pub store: String,
    pub business_day: String,
    pub lines: Vec<ReturnLineView>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnLineView {
    pub index: u16,
    pub description: String,
    pub sold: u32,
    pub returned: u32,
    pub returnable: u32,
    pub total: i64,
}

/// One line the cashier picked for a return.
#[derive(Debug, Clone, Deserialize)]
pub struct ReturnPick {
    pub index: u16,
    pub quantity: u32,
    #[serde(default = "yes")]
    pub restock: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnDone {
    pub id: String,
    pub refund: i64,
    pub refund_to: String,
    pub printed: bool,
    pub print_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StockView {
    pub product: ProductView,
    pub figures: Vec<StockFigureView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StockFigureView {
    pub location: String,
    pub quantity: i64,
    pub as_of_ms: Option<u64>,
    pub this_store: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    pub id: String,
    pub from: String,
    pub lines: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZView {
    pub business_day: String,
    pub sales_count: u32,
    pub returns_count: u32,
    pub tenders: Vec<ZTenderView>,
    pub opening_float: i64,
    pub expected_cash: i64,
    pub counted_cash: Option<i64>,
    /// Counted less expected, when counted.
    pub over_short: Option<i64>,
    pub closed: bool,
    /// The report as the receipt prints it, in the receipt's language.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZTenderView {
    pub kind: &'static str,
    pub taken: i64,
    pub refunded: i64,
}

impl Desk {
    /// Opens the till whose folder is `data_dir` (its database is `register.db` there).
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Desk> {
        let data_dir = data_dir.as_ref().to_path_buf();
        crate::store::create_private_dir(&data_dir)
            .map_err(|e| RegisterError::Corrupt(format!("cannot create {}: {e}", data_dir.display())))?;
        let register = Register::open(data_dir.join("register.db"))?;
        Ok(Desk { register, data_dir, tenders: Vec::new(), last: None, lookup: None, ca_file: None })
    }

    /// The CA certificate (PEM file) that enrolment trusts besides the system's roots; the
    /// register keeps it for every later connection to head office.
    pub fn set_ca_file(&mut self, ca_file: Option<PathBuf>) {
        self.ca_file = ca_file;
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("register.db")
    }

    pub fn register(&mut self) -> &mut Register {
        &mut self.register
    }

    pub fn settings(&self) -> Result<Settings> {
        let stored = setting(&self.register.conn, "desk_settings")?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    pub fn save_settings(&mut self, settings: Settings) -> Answer<View> {
        settings.check()?;
        let text = serde_json::to_string(&settings).map_err(crate::error::corrupt)?;
        set_setting(&self.register.conn, "desk_settings", &text)?;
        self.view()
    }

    pub fn view(&self) -> Answer<View> {
        let identity = match self.register.identity() {
            Ok(identity) => {
                let store_name = self
                    .register
                    .conn
                    .query_row("SELECT name FROM locations WHERE code = ?1", [identity.store.as_str()], |r| {
                        r.get::<_, String>(0)
                    })
                    .unwrap_or_else(|_| identity.store.to_string());
                Some(IdentityView {
                    register: identity.register.to_string(),
                    store: identity.store.to_string(),
                    store_name,
                    server: identity.server,
                })
            }
            Err(RegisterError::NotEnrolled) => None,
            Err(e) => return Err(e.into()),
        };
        let cart = if identity.is_some() { cart_view(&self.register.cart()?) } else { CartView::default() };
        Ok(View {
            cashier: self
                .register
                .cashier
                .as_ref()
                .map(|(id, name)| CashierView { id: id.get(), name: name.clone() }),
            sync: self.sync_view()?,
            payment: self.payment(cart.total),
            cart,
            identity,
            last_sale: self.last.clone(),
            parked: self
                .register
                .parked()?
                .into_iter()
                .map(|(id, at_ms, lines, total)| ParkedView { id, at_ms, lines, total: total.as_cents() })
                .collect(),
            settings: self.settings()?,
        })
    }

    pub fn sync_view(&self) -> Answer<SyncView> {
        let status = self.register.status()?;
        Ok(SyncView {
            online: status.online,
            pending: status.pending,
            oldest_pending_ms: status.oldest_pending_ms,
            last_sync_ms: status.last_sync_ms,
            rejected: status
                .rejected
                .into_iter()
                .map(|(seq, kind, reason)| RejectedView { seq, kind, reason })
                .collect(),
        })
    }

    fn payment(&self, due: i64) -> PaymentView {
        let paid: i64 = self.tenders.iter().map(|t| t.amount().as_cents()).sum();
        let balance = due - paid;
        PaymentView {
            tenders: self
                .tenders
                .iter()
                .map(|t| TenderView { kind: t.kind().as_str(), amount: t.amount().as_cents() })
                .collect(),
            paid,
            balance,
            cash_balance: Money::cents(balance.max(0)).round_cash().as_cents(),
        }
    }

    pub fn enrol(&mut self, server: &str, code: &str) -> Answer<View> {
        let server = server.trim();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(Problem::field(
                "server",
                format!("{server:?} is not an address like http://10.0.0.5:8080"),
            ));
        }
        if code.trim().is_empty() {
            return Err(Problem::field("code", "the enrolment code is empty: ask head office for one"));
        }
        let ca = self.ca_file.as_deref().map(crate::sync::read_ca_file).transpose()?;
        self.register.enrol_with_ca(server, code.trim(), ca.as_deref())?;
        // The catalogue, cashiers and stock come with the first pull; offline, they come later.
        let _ = self.register.sync_once();
        self.view()
    }

    pub fn sign_in(&mut self, cashier: &str, pin: &str) -> Answer<View> {
        let id: u32 = cashier
            .trim()
            .parse()
            .map_err(|_| Problem::field("cashier", format!("{cashier:?} is not a cashier number")))?;
        self.register.sign_in(id, pin)?;
        self.last = None;
        self.view()
    }

    pub fn sign_out(&mut self) -> Answer<View> {
        self.register.sign_out();
        self.tenders.clear();
        self.last = None;
        self.lookup = None;
        self.view()
    }

    /// A burst of keys from the scan field, ended by Enter. The wedge decoder tells a scanner's
    /// burst from a person's typing by key timing: a scan is rung up as scanned (weighed and
    /// priced labels included); typed text is a code keyed by hand, or else a search.
    pub fn scan_keys(&mut self, keys: &[Key]) -> Answer<ScanOutcome> {
        let mut decoder = WedgeDecoder::default();
        let mut inputs = Vec::new();
        for key in keys {
            let at = key.at_ms.max(0.0).round() as u64;
            let ch = match key.key.as_str() {
                "Enter" => '\n',
                k if k.chars().count() == 1 => k.chars().next().unwrap_or('\n'),
                // Shift, Tab and other named keys type nothing.
                _ => continue,
            };
            inputs.extend(decoder.key(ch, at));
        }
        let (mut scanned, mut typed, mut leftover, mut found) = (None, None, String::new(), Vec::new());
        let mut problem = None;
        for input in inputs {
            match input {
                Input::Scan(code) => {
                    match self.register.add_scan(&code) {
                        Ok(_) => self.start_new_sale(),
                        Err(e) => problem = Some(Problem::from(e)),
                    }
                    scanned = Some(code);
                }
                Input::Typed(text) => match text.strip_suffix('\n') {
                    Some(entered) => {
                        let entered = format!("{}{}", std::mem::take(&mut leftover), entered);
                        let entered = entered.trim().to_owned();
                        if entered.is_empty() {
                            continue;
                        }
                        match self.register.add_item(&entered, 1) {
                            Ok(_) => self.start_new_sale(),
                            // Not a code: words to search for.
                            Err(RegisterError::UnknownProduct(_)) => {
                                found = self.register.search(&entered)?.into_iter().map(Into::into).collect();
                                if found.is_empty() {
                                    problem = Some(RegisterError::UnknownProduct(entered.clone()).into());
                                }
                            }
                            Err(e) => problem = Some(e.into()),
                        }
                        typed = Some(entered);
                    }
                    None => leftover.push_str(&text),
                },
            }
        }
        if let Some(problem) = problem {
            return Err(problem);
        }
        Ok(ScanOutcome { scanned, typed, leftover, found, view: self.view()? })
    }

    /// The first line of a new sale clears the last sale's change from the screen.
    fn start_new_sale(&mut self) {
        self.last = None;
    }

    pub fn add_item(&mut self, code: &str, quantity: u32) -> Answer<View> {
        self.start_new_sale();
        self.register.add_item(code, quantity)?;
        self.view()
    }

    /// A code a serial scanner read.
    pub fn add_read(&mut self, scan: hardware::scan::Scan) -> Answer<View> {
        self.start_new_sale();
        self.register.add_read(scan)?;
        self.view()
    }

    pub fn search(&self, text: &str) -> Answer<Vec<ProductView>> {
        Ok(self.register.search(text)?.into_iter().map(Into::into).collect())
    }

    pub fn set_quantity(&mut self, index: usize, quantity: u32) -> Answer<View> {
        self.editable()?;
        self.register.set_quantity(index, quantity)?;
        self.view()
    }

    /// `text` is `10%`, an amount like `2.50`, or empty to take the discount off.
    pub fn set_discount(&mut self, index: usize, text: &str) -> Answer<View> {
        self.editable()?;
        let text = text.trim();
        let discount = if text.is_empty() {
            None
        } else if text.ends_with('%') {
            Some(Discount::Percent(
                Percent::parse(text).map_err(|e| Problem::field("discount", e.to_string()))?,
            ))
        } else {
            Some(Discount::Amount(money(text, "discount")?))
        };
        self.register.set_discount(index, discount)?;
        self.view()
    }

    pub fn remove_line(&mut self, index: usize) -> Answer<View> {
        self.editable()?;
        self.register.remove_line(index)?;
        self.view()
    }

    /// Lines cannot change under tenders already taken: the cashier takes them back first.
    fn editable(&self) -> Answer<()> {
        if self.tenders.is_empty() {
            Ok(())
        } else {
            Err(Problem::new(
                "tendering",
                "payment has started: cancel the tenders before changing the sale",
                None,
            ))
        }
    }

    pub fn void(&mut self) -> Answer<View> {
        self.register.void()?;
        self.tenders.clear();
        self.view()
    }

    pub fn park(&mut self) -> Answer<View> {
        self.editable()?;
        self.register.park()?;
        self.view()
    }

    pub fn resume(&mut self, id: i64) -> Answer<View> {
        self.editable()?;
        self.start_new_sale();
        self.register.resume(id)?;
        self.view()
    }

    pub fn clear_tenders(&mut self) -> Answer<View> {
        self.tenders.clear();
        self.view()
    }

    /// Takes a tender. `amount` empty means "the balance" (cash rounded to the nickel); a
    /// credit tender needs the terminal's approval code. When the tenders cover the sale it
    /// completes, durably, and its receipt prints; the answer shows the change.
    pub fn add_tender(&mut self, kind: &str, amount: &str, approval: &str) -> Answer<View> {
        self.register.signed_in()?;
        let cart = self.register.cart()?;
        if cart.lines.is_empty() {
            return Err(RegisterError::EmptySale.into());
        }
        let due = cart.quote.total;
        let paid: Money = self.tenders.iter().map(Tender::amount).sum();
        let balance = due - paid;
        let amount = if amount.trim().is_empty() {
            match kind {
                "cash" => balance.round_cash(),
                _ => balance,
            }
        } else {
            money(amount, "amount")?
        };
        let tender = match kind {
            "cash" => Tender::Cash { amount },
            "debit" => Tender::Debit { amount },
            "credit" => Tender::Credit {
                amount,
                approval: ApprovalCode::parse(approval)
                    .map_err(|e| Problem::field("approval", e.to_string()))?,
            },
            other => {
                return Err(Problem::field(
                    "kind",
                    format!("{other:?} is not a tender: use cash, debit or credit"),
                ));
            }
        };
        let mut tenders = self.tenders.clone();
        tenders.push(tender);
        match settle(due, &tenders) {
            Ok(_) => {
                self.tenders.clear();
                self.complete(tenders)?;
            }
            // Not enough yet: keep the tender and show the balance.
            Err(PaymentError::Insufficient { .. }) => self.tenders = tenders,
            Err(e) => return Err(e.into()),
        }
        self.view()
    }

    fn complete(&mut self, tenders: Vec<Tender>) -> Answer<()> {
        let completed = self.register.complete_sale(tenders)?;
        let totals = &completed.sale.totals;
        let paid = completed.sale.tenders.iter().map(|t| t.amount().as_cents()).sum();
        let (printed, print_error) = self.print_record(&completed.record.id);
        self.last = Some(LastSale {
            id: completed.record.id.to_string(),
            total: totals.total.as_cents(),
            paid,
            change: totals.change.as_cents(),
            rounding: totals.rounding.as_cents(),
            printed,
            print_error,
        });
        Ok(())
    }

    fn receipt_context(&self, settings: &Settings) -> Result<ReceiptContext> {
        let language = language(&settings.language).unwrap_or(Language::Fr);
        self.register.receipt_context(language, settings.columns)
    }

    /// Prints a record's receipt on the configured printer. A printer that fails never undoes
    /// anything: the receipt stays unprinted and the answer says why.
    fn print_record(&mut self, id: &RecordId) -> (bool, Option<String>) {
        let mut attempt = || -> Answer<bool> {
            let settings = self.settings()?;
            if settings.printer.is_empty() {
                return Ok(false);
            }
            let mut link = printer_link(&settings.printer).map_err(|e| Problem::field("printer", e))?;
            let context = self.receipt_context(&settings)?;
            self.register.print(id, &context, link.as_mut())?;
            Ok(true)
        };
        match attempt() {
            Ok(printed) => (printed, None),
            Err(problem) => (false, Some(problem.message)),
        }
    }

    /// Prints the last sale's receipt again, or any record's by id.
    pub fn reprint(&mut self, id: Option<&str>) -> Answer<View> {
        let id = match id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => parse_receipt(text)?,
            None => match &self.last {
                Some(last) => parse_receipt(&last.id)?,
                None => match self.register.journal()?.into_iter().rev().find(|r| r.body.kind() == "sale") {
                    Some(record) => record.id,
                    None => return Err(Problem::field("receipt", "there is no receipt to reprint yet")),
                },
            },
        };
        if self.settings()?.printer.is_empty() {
            return Err(Problem::field("printer", "no printer is set: choose one in the settings"));
        }
        let (printed, error) = self.print_record(&id);
        if let Some(last) = self.last.as_mut().filter(|l| l.id == id.to_string()) {
            last.printed |= printed;
            last.print_error = error.clone();
        }
        match error {
            Some(message) => Err(Problem::new("printer", message, Some("printer"))),
            None => self.view(),
        }
    }

    /// Prints a test page on the printer the settings screen names (saved or not).
    pub fn test_print(&mut self, printer: &str) -> Answer<()> {
        let mut link = printer_link(printer).map_err(|e| Problem::field("printer", e))?;
        let bytes = hardware::printer::render_test(&self.receipt_context(&self.settings()?)?)
            .map_err(|e| Problem::new("printer", e.to_string(), Some("printer")))?;
        link.send(&bytes).map_err(|e| Problem::new("printer", e.to_string(), Some("printer")))
    }

    /// Finds a sale by the code on its receipt (scanned or typed).
    pub fn find_sale(&mut self, receipt: &str) -> Answer<ReturnLookup> {
        let id = parse_receipt(receipt)?;
        let found = self
            .register
            .find_sale(&id)?
            .ok_or_else(|| Problem::field("receipt", format!("no sale has the receipt number {id}")))?;
        let lookup = ReturnLookup {
            id: found.record.id.to_string(),
            store: found.record.store.to_string(),
            business_day: found.sale.business_day.to_string(),
            total: found.sale.totals.total.as_cents(),
            lines: found
                .sale
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let index = u16::try_from(i).unwrap_or(u16::MAX);
                    let returned = found.returned.get(&index).copied().unwrap_or(0);
                    let total = line.amounts().map(|a| a.total.as_cents()).unwrap_or(0);
                    ReturnLineView {
                        index,
                        description: line.description.clone(),
                        sold: line.quantity.get(),
                        returned,
                        returnable: line.quantity.get().saturating_sub(returned),
                        total,
                    }
                })
                .collect(),
        };
        self.lookup = Some(found);
        Ok(lookup)
    }

    /// Refunds the picked lines of the sale last looked up.
    pub fn take_return(&mut self, picks: &[ReturnPick], refund_to: &str, reason: &str) -> Answer<ReturnDone> {
        self.register.signed_in()?;
        let found =
            self.lookup.clone().ok_or_else(|| Problem::field("receipt", "look the receipt up first"))?;
        let picks: Vec<(u16, u32, bool)> =
            picks.iter().filter(|p| p.quantity > 0).map(|p| (p.index, p.quantity, p.restock)).collect();
        if picks.is_empty() {
            return Err(Problem::field("lines", "pick at least one line and a quantity to return"));
        }
        let (to, reason) = (refund_method(refund_to)?, return_reason(reason)?);
        let record = self.register.take_return(&found, &picks, to, reason)?;
        self.lookup = None;
        Ok(self.returned(&record, refund_to))
    }

    /// A receipt this till cannot check (another store's, with head office out of reach): the
    /// items at today's price, flagged unverified for head office, up to
    /// [`crate::returns::UNVERIFIED_LIMIT`].
    pub fn take_unverified_return(
        &mut self,
        receipt: &str,
        store: &str,
        items: &[(String, u32)],
        refund_to: &str,
        reason: &str,
    ) -> Answer<ReturnDone> {
        self.register.signed_in()?;
        let sale = parse_receipt(receipt)?;
        let store = store.trim().to_uppercase();
        shared_model::LocationCode::parse(&store)
            .map_err(|_| Problem::field("store", format!("{store:?} is not a store code like VMTL")))?;
        if items.is_empty() {
            return Err(Problem::field("items", "add at least one item the customer brings back"));
        }
        let (to, reason) = (refund_method(refund_to)?, return_reason(reason)?);
        let record = self.register.take_unverified_return(sale, &store, items, to, reason)?;
        Ok(self.returned(&record, refund_to))
    }

    /// What the screen shows of a return just taken, after printing its receipt.
    fn returned(&mut self, record: &Record, refund_to: &str) -> ReturnDone {
        let refund = match &record.body {
            RecordBody::Return(ret) => (ret.totals.total + ret.totals.rounding).as_cents(),
            _ => 0,
        };
        let (printed, print_error) = self.print_record(&record.id);
        ReturnDone {
            id: record.id.to_string(),
            refund,
            refund_to: refund_to.to_owned(),
            printed,
            print_error,
        }
    }

    pub fn stock(&self, code: &str) -> Answer<StockView> {
        let product = self.register.product(code.trim())?;
        let figures = self
            .register
            .stock(code.trim())?
            .into_iter()
            .map(|f| StockFigureView {
                location: f.location,
                quantity: f.quantity,
                as_of_ms: f.as_of_ms,
                this_store: f.this_store,
            })
            .collect();
        Ok(StockView { product: product.into(), figures })
    }

    pub fn count_stock(&mut self, code: &str, counted: i64) -> Answer<StockView> {
        self.register.signed_in()?;
        self.register.count_stock(code.trim(), counted)?;
        self.stock(code)
    }

    pub fn adjust_stock(&mut self, code: &str, delta: i64, reason: &str) -> Answer<StockView> {
        self.register.signed_in()?;
        let reason: AdjustmentReason = serde_json::from_value(serde_json::json!(reason))
            .map_err(|_| Problem::field("reason", format!("{reason:?} is not an adjustment reason")))?;
        self.register.adjust_stock(code.trim(), delta, reason, None)?;
        self.stock(code)
    }

    pub fn incoming_transfers(&self) -> Answer<Vec<TransferView>> {
        Ok(self
            .register
            .incoming_transfers()?
            .into_iter()
            .map(|(id, from, lines)| TransferView {
                id: id.to_string(),
                from,
                lines: lines.into_iter().map(|l| (l.sku.to_string(), l.quantity.get())).collect(),
            })
            .collect())
    }

    pub fn receive_transfer(&mut self, id: &str) -> Answer<Vec<TransferView>> {
        self.register.signed_in()?;
        let id = uuid::Uuid::parse_str(id.trim())
            .map_err(|_| Problem::field("transfer", format!("{id:?} is not a transfer number")))?;
        self.register.receive_transfer(id)?;
        self.incoming_transfers()
    }

    pub fn request_replenishment(&mut self, code: &str, quantity: u32, note: &str) -> Answer<String> {
        self.register.signed_in()?;
        let note = Some(note.trim().to_owned()).filter(|n| !n.is_empty());
        let record = self.register.request_replenishment(&[(code.trim().to_owned(), quantity)], note)?;
        Ok(record.id.to_string())
    }

    /// The Z report so far; with `close`, the till is closed and the report printed.
    pub fn z_report(&mut self, opening_float: &str, counted: &str, close: bool) -> Answer<ZView> {
        let float =
            if opening_float.trim().is_empty() { Money::ZERO } else { money(opening_float, "float")? };
        let counted =
            Some(counted.trim()).filter(|c| !c.is_empty()).map(|c| money(c, "counted")).transpose()?;
        let (report, record) = if close {
            let record = self.register.close_till(float, counted)?;
            let RecordBody::TillClosed(report) = record.body.clone() else {
                return Err(RegisterError::Corrupt("a till close that is not one".into()).into());
            };
            (report, Some(record))
        } else {
            (self.register.z_report(float, counted)?, None)
        };
        let settings = self.settings()?;
        let text = match &record {
            Some(record) => crate::receipt::text(record, usize::from(settings.columns)),
            None => String::new(),
        };
        if let Some(record) = &record {
            self.print_record(&record.id);
        }
        Ok(ZView {
            business_day: report.business_day.to_string(),
            sales_count: report.sales_count,
            returns_count: report.returns_count,
            tenders: report
                .tenders
                .iter()
                .map(|t| ZTenderView {
                    kind: t.kind.as_str(),
                    taken: t.taken.as_cents(),
                    refunded: t.refunded.as_cents(),
                })
                .collect(),
            opening_float: report.opening_float.as_cents(),
            expected_cash: report.expected_cash.as_cents(),
            counted_cash: report.counted_cash.map(Money::as_cents),
            over_short: report.counted_cash.map(|c| (c - report.expected_cash).as_cents()),
            closed: record.is_some(),
            text,
        })
    }

    /// The journal's newest records, newest first, for the reprint list.
    pub fn recent_receipts(&self, limit: usize) -> Answer<Vec<(String, String, i64)>> {
        let records: Vec<Record> = self.register.journal()?;
        Ok(records
            .iter()
            .rev()
            .filter_map(|r| match &r.body {
                RecordBody::Sale(s) => Some((r.id.to_string(), "sale".to_owned(), s.totals.total.as_cents())),
                RecordBody::Return(x) => {
                    Some((r.id.to_string(), "return".to_owned(), -x.totals.total.as_cents()))
                }
                _ => None,
            })
            .take(limit)
            .collect())
    }
}

fn cart_view(cart: &crate::sale::CartView) -> CartView {
    CartView {
        lines: cart
            .lines
            .iter()
            .enumerate()
            .map(|(index, (line, amounts))| LineView {
                index,
                sku: line.sku.to_string(),
                description: line.description.clone(),
                quantity: line.quantity.get(),
                unit_price: line.unit_price.as_cents(),
                discount_percent_bp: match line.discount {
                    Some(Discount::Percent(p)) => Some(p.basis_points()),
                    _ => None,
                },
                discount_amount: match line.discount {
                    Some(Discount::Amount(a)) => Some(a.as_cents()),
                    _ => None,
                },
                discount: amounts.discount.as_cents(),
                total: amounts.total.as_cents(),
            })
            .collect(),
        gross: cart.quote.gross.as_cents(),
        discounts: cart.quote.discounts.as_cents(),
        net: cart.quote.net.as_cents(),
        gst: cart.quote.gst.as_cents(),
        qst: cart.quote.qst.as_cents(),
        total: cart.quote.total.as_cents(),
    }
}

fn money(text: &str, field: &'static str) -> Answer<Money> {
    Money::parse(text.trim().replace(',', ".").as_str())
        .map_err(|_| Problem::field(field, format!("{text:?} is not an amount like 12.34")))
}

/// A receipt's code: its record id, as printed and in its QR code.
fn parse_receipt(text: &str) -> Answer<RecordId> {
    RecordId::parse(text.trim())
        .map_err(|_| Problem::field("receipt", format!("{:?} is not a receipt number", text.trim())))
}

fn refund_method(text: &str) -> Answer<RefundTo> {
    match text {
        "cash" => Ok(RefundTo::Cash),
        "debit" => Ok(RefundTo::Debit),
        "credit" => Ok(RefundTo::Credit),
        other => Err(Problem::field("refund_to", format!("{other:?} is not cash, debit or credit"))),
    }
}

fn return_reason(text: &str) -> Answer<ReturnReason> {
    serde_json::from_value(serde_json::json!(text))
        .map_err(|_| Problem::field("reason", format!("{text:?} is not a return reason")))
}

fn language(text: &str) -> std::result::Result<Language, String> {
    match text {
        "fr" => Ok(Language::Fr),
        "en" => Ok(Language::En),
        other => Err(format!("{other:?} is not a language: use fr or en")),
    }
}

/// The printer a setting names: `tcp:HOST:PORT`, `file:PATH` or `serial:PATH[@BAUD]`.
pub fn printer_link(spec: &str) -> std::result::Result<Box<dyn PrinterLink>, String> {
    let timeout = Duration::from_secs(5);
    match spec.split_once(':') {
        Some(("tcp", address)) => Ok(Box::new(hardware::printer::TcpLink {
            address: address
                .parse()
                .map_err(|_| format!("{address:?} is not HOST:PORT, like 192.168.1.50:9100"))?,
            timeout,
        })),
        Some(("file", path)) if !path.is_empty() => {
            Ok(Box::new(hardware::printer::FileLink { path: path.into(), timeout }))
        }
        Some(("serial", rest)) if !rest.is_empty() => {
            let (path, baud) = match rest.rsplit_once('@') {
                Some((path, baud)) => {
                    (path, baud.parse().map_err(|_| format!("{baud:?} is not a baud rate like 9600"))?)
                }
                None => (rest, 9_600),
            };
            Ok(Box::new(hardware::printer::SerialLink { path: path.into(), baud, timeout }))
        }
        _ => Err(format!("{spec:?} is not tcp:HOST:PORT, file:PATH or serial:PATH")),
    }
}
