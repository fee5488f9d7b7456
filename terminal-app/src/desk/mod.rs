//! The register screen's model: what the desktop window shows and what each of its keys does,
//! as plain Rust that the Tauri shell forwards to and the tests drive directly. The screen
//! itself (TypeScript) formats these views and forwards keys; every rule lives here or below.
//!
//! A [`Desk`] owns the till's [`Register`] (the sale on screen is cart 0) and what only the
//! screen needs: the tenders offered so far, the last completed sale, the receipt looked up for
//! a return, and the hardware settings kept in the register's own database.
//!
//! | module | holds |
//! |---|---|
//! | [`view`] | what the screen shows: the views every action answers |
//! | [`problem`] | what went wrong, for the screen: a code, a sentence, a field |
//! | [`settings`] | the printer, scanner, language and receipt width, checked when made |
//! | `sale` | the sale on screen: scans, lines, discounts, park and resume, tenders |
//! | `returns` | returns against a receipt, verified or not |
//! | `stock` | stock figures, counts, adjustments, transfers and replenishment |
//! | `receipts` | printing, reprints, the reprint list and the Z report |

use std::path::{Path, PathBuf};

use hardware::printer::ReceiptContext;
use shared_model::{Money, RecordId, Tender};

use crate::error::{RegisterError, Result};
use crate::returns::SaleForReturn;

/// What the returns screen last looked up.
#[derive(Debug, Clone)]
enum Lookup {
    Sale(Box<SaleForReturn>),
    Order(shared_model::protocol::OrderForReturn),
}
use crate::store::{set_setting, setting};
use crate::{Register, catalog, input};

pub mod problem;
mod receipts;
mod returns;
mod sale;
pub mod settings;
mod stock;
pub mod view;

pub use problem::{Answer, Problem};
pub use settings::{Columns, Scanner, Settings, SettingsText};
pub use view::*;

/// The register's screen.
#[derive(Debug)]
pub struct Desk {
    register: Register,
    data_dir: PathBuf,
    tenders: Vec<Tender>,
    last: Option<LastSale>,
    lookup: Option<Lookup>,
    /// The CA certificate (PEM file) to trust at enrolment, for a chain running its own CA.
    ca_file: Option<PathBuf>,
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

    /// Keeps settings already checked (a [`Settings`] holds nothing the till cannot use).
    pub fn save_settings(&mut self, settings: Settings) -> Answer<View> {
        let text = serde_json::to_string(&settings).map_err(crate::error::corrupt)?;
        set_setting(&self.register.conn, "desk_settings", &text)?;
        self.view()
    }

    /// The settings as the window edits them: checked, then kept; a bad one names its field.
    pub fn save_settings_text(&mut self, settings: SettingsText) -> Answer<View> {
        self.save_settings(Settings::try_from(settings)?)
    }

    pub fn view(&self) -> Answer<View> {
        let identity = match self.register.identity() {
            Ok(identity) => {
                let store_name = catalog::location_name(&self.register.conn, identity.store.as_str())
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| identity.store.to_string());
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
        let id = input::cashier(cashier)?;
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

    fn receipt_context(&self, settings: &Settings) -> Result<ReceiptContext> {
        self.register.receipt_context(settings.language, settings.columns.get())
    }

    /// Prints a record's receipt on the configured printer. A printer that fails never undoes
    /// anything: the receipt stays unprinted and the answer says why.
    fn print_record(&mut self, id: &RecordId) -> (bool, Option<String>) {
        let mut attempt = || -> Answer<bool> {
            let settings = self.settings()?;
            let Some(printer) = &settings.printer else { return Ok(false) };
            let context = self.receipt_context(&settings)?;
            self.register.print(id, &context, printer.link().as_mut())?;
            Ok(true)
        };
        match attempt() {
            Ok(printed) => (printed, None),
            Err(problem) => (false, Some(problem.message)),
        }
    }
}
