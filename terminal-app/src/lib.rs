//! The register: everything a till does, as a library that the headless CLI, the Tauri shell
//! and the tests drive alike. Its only state is one SQLite file.
//!
//! | module | holds |
//! |---|---|
//! | [`sale`] | the sale flow: cart, lines, discounts, park and resume, completing a sale |
//! | [`journal`] | every record made here, in seq order; the outbox |
//! | [`print`] | receipts after commit, unprinted receipts, reprints |
//! | [`catalog`] | the pulled catalogue, cashiers and stock figures; lookups |
//! | [`desk`] | the register screen's model: its views, settings and what each key does |
//! | [`input`] | what people type (amounts, receipts, tenders, reasons), parsed alike for the screen and the CLI |
//! | [`returns`] | returns against a receipt, and the offline policy for receipts from elsewhere |
//! | [`stock`] | stock counts, adjustments, transfers and replenishment requests |
//! | [`sync`] | the HTTP client for enrolment, push and pull |
//! | [`sync_loop`] | the screen's background sync thread |
//! | [`store`] | the SQLite file: WAL, durable commits, migrations, settings |
//! | [`clock`] | where the time comes from (injectable) |

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod catalog;
pub mod clock;
pub mod desk;
pub mod error;
pub mod input;
pub mod journal;
pub mod print;
pub mod receipt;
pub mod returns;
pub mod sale;
pub mod stock;
pub mod store;
pub mod sync;
pub mod sync_loop;
pub mod till;

use std::path::Path;

use rusqlite::Connection;
use shared_model::protocol::{Cursor, MAX_BATCH, RefusalCode};
use shared_model::{CashierId, Hlc, LocationCode, Record, RegisterId};

pub use clock::{Clock, SkewedClock, SystemClock};
pub use error::{RegisterError, Result};

use crate::store::{set_setting, setting, setting_u64};
use crate::sync::{Client, Pushed, Transport};

/// Wrong PINs in a row after which a cashier is locked out at a till.
pub const PIN_ATTEMPTS: u32 = 5;
/// How long a cashier is locked out at a till after [`PIN_ATTEMPTS`] wrong PINs in a row.
pub const PIN_LOCKOUT_MS: u64 = 5 * 60 * 1_000;

/// One till.
#[derive(Debug)]
pub struct Register {
    pub(crate) conn: Connection,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) cashier: Option<(CashierId, String)>,
    /// Which cart row is "the sale on screen": 0 for the till's screen, another for the CLI,
    /// so a back-office command never touches a sale being rung up at the screen.
    pub(crate) cart_slot: i64,
}

/// Who this register is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub register: RegisterId,
    pub store: LocationCode,
    pub server: String,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records head office now holds that it did not before this sync.
    pub held: usize,
    /// Records head office refused in this sync.
    pub rejected: usize,
    /// Changes pulled and applied.
    pub pulled: usize,
}

/// What the screen's sync indicator shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub online: bool,
    pub pending: u64,
    pub oldest_pending_ms: Option<u64>,
    pub last_sync_ms: Option<u64>,
    pub rejected: Vec<(u64, String, String)>,
}

impl Register {
    /// Opens (or creates) the register whose database is at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Register> {
        Ok(Register {
            conn: store::open(path.as_ref())?,
            clock: Box::new(SystemClock),
            cashier: None,
            cart_slot: 0,
        })
    }

    /// Opens a register whose commits are not forced to disk: for simulations that run
    /// thousands of tills, where no power is ever cut. Never for a real till.
    pub fn open_relaxed(path: impl AsRef<Path>) -> Result<Register> {
        let register = Register::open(path)?;
        register.conn.pragma_update(None, "synchronous", "OFF")?;
        Ok(register)
    }

    /// Enrols without a network, as a simulation's head office would answer.
    pub fn enrol_offline(&mut self, server: &str, register: &RegisterId, secret: &str) -> Result<Identity> {
        let store = register.store();
        let tx = crate::store::write(&self.conn)?;
        set_setting(&tx, "server", server)?;
        set_setting(&tx, "register", register.as_str())?;
        set_setting(&tx, "store", store.as_str())?;
        set_setting(&tx, "secret", secret)?;
        set_setting(&tx, "next_seq", "1")?;
        tx.commit()?;
        Ok(Identity { register: register.clone(), store, server: server.to_owned() })
    }

    /// Uses another cart row for the current sale (negative numbers; parked sales are positive).
    pub fn with_cart_slot(mut self, slot: i64) -> Register {
        self.cart_slot = slot.min(0);
        self
    }

    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Register {
        self.clock = Box::new(clock);
        self
    }

    pub fn identity(&self) -> Result<Identity> {
        let get = |key| setting(&self.conn, key)?.ok_or(RegisterError::NotEnrolled);
        Ok(Identity {
            register: RegisterId::parse(&get("register")?)?,
            store: LocationCode::parse(&get("store")?)?,
            server: get("server")?,
        })
    }

    fn secret(&self) -> Result<String> {
        setting(&self.conn, "secret")?.ok_or(RegisterError::NotEnrolled)
    }

    /// Exchanges a code from head office for this register's identity and device secret.
    pub fn enrol(&mut self, server: &str, code: &str) -> Result<Identity> {
        self.enrol_with_ca(server, code, None)
    }

    /// [`Register::enrol`] for a chain that runs its own certificate authority: `ca_pem` (PEM
    /// certificates, see [`sync::read_ca_file`]) is trusted besides the system's roots, now and
    /// by every later connection to head office.
    pub fn enrol_with_ca(&mut self, server: &str, code: &str, ca_pem: Option<&[u8]>) -> Result<Identity> {
        if let Ok(identity) = self.identity() {
            return Err(RegisterError::AlreadyEnrolled(identity.register.to_string()));
        }
        let ca_text = ca_pem
            .map(|pem| {
                std::str::from_utf8(pem).map_err(|_| {
                    RegisterError::CaFile("the CA certificate is not a PEM certificate".to_owned())
                })
            })
            .transpose()?;
        let enrolment = Client::with_ca(server, ca_pem)?.enrol(code)?;
        let (register, store) = (enrolment.register, enrolment.store);
        let tx = crate::store::write(&self.conn)?;
        set_setting(&tx, "server", server.trim_end_matches('/'))?;
        if let Some(ca) = ca_text {
            set_setting(&tx, "ca_pem", ca)?;
        }
        set_setting(&tx, "register", register.as_str())?;
        set_setting(&tx, "store", store.as_str())?;
        set_setting(&tx, "secret", &enrolment.secret)?;
        // A replaced till resumes after what head office already holds of this register.
        set_setting(&tx, "next_seq", &(enrolment.holds + 1).to_string())?;
        tx.commit()?;
        Ok(Identity { register, store, server: server.trim_end_matches('/').to_owned() })
    }

    /// Pushes every pending record, oldest first, then pulls every change. Records refused by
    /// head office are marked rejected and the others pushed again at once.
    pub fn sync_once(&mut self) -> Result<SyncReport> {
        let mut client = self.client()?;
        self.sync_with(&mut client)
    }

    /// A client for head office, trusting the CA given at enrolment besides the system's roots.
    pub(crate) fn client(&self) -> Result<Client> {
        let server = self.identity()?.server;
        let ca = setting(&self.conn, "ca_pem")?;
        Client::with_ca(&server, ca.as_deref().map(str::as_bytes))
    }

    /// [`Register::sync_once`] through any transport.
    pub fn sync_with(&mut self, transport: &mut dyn Transport) -> Result<SyncReport> {
        let secret = self.secret()?;
        let mut report = SyncReport::default();
        let result = self
            .push_all(transport, &secret, &mut report)
            .and_then(|()| self.pull_all(transport, &secret, &mut report));
        set_setting(&self.conn, "online", if result.is_ok() { "1" } else { "0" })?;
        result?;
        set_setting(&self.conn, "last_sync_ms", &self.clock.now_ms().to_string())?;
        Ok(report)
    }

    fn push_all(&mut self, client: &mut dyn Transport, secret: &str, report: &mut SyncReport) -> Result<()> {
        loop {
            let batch = journal::pending(&self.conn, MAX_BATCH.min(500))?;
            let Some(&(first, _)) = batch.first() else { return Ok(()) };
            let seqs: Vec<u64> = batch.iter().map(|(seq, _)| *seq).collect();
            let pushed = client.push(secret, batch.into_iter().map(|(_, content)| content).collect())?;
            let now = self.clock.now_ms();
            let tx = crate::store::write(&self.conn)?;
            let progress = match pushed {
                Pushed::Held(answer) => {
                    let held = journal::mark_held(&tx, answer.holds, now)?;
                    journal::skip_past(&tx, answer.holds)?;
                    report.held += held;
                    self.observe(&tx, answer.server_time_ms)?;
                    held
                }
                Pushed::Refused(refusals, holds) => {
                    journal::skip_past(&tx, holds)?;
                    for refusal in &refusals {
                        let seq = refusal.seq.or_else(|| seqs.get(refusal.index as usize).copied());
                        let Some(seq) = seq else { continue };
                        if refusal.code == RefusalCode::SeqTaken {
                            // This till was restored from an older copy of its file: head office
                            // holds this seq from before. The record keeps its id (its receipt is
                            // printed) and moves past everything head office holds.
                            journal::renumber(&tx, self.clock.as_ref(), seq)?;
                        } else {
                            journal::mark_rejected(&tx, seq, &refusal.reason, now)?;
                            report.rejected += 1;
                        }
                    }
                    refusals.len()
                }
            };
            tx.commit()?;
            // Another process may have settled this batch meanwhile: then this one moves on.
            let settled_elsewhere =
                journal::pending(&self.conn, 1)?.first().is_none_or(|(seq, _)| *seq != first);
            if progress == 0 && !settled_elsewhere {
                return Err(RegisterError::Refused(format!(
                    "head office does not hold seq {first} or anything after it; the register keeps them and will retry"
                )));
            }
        }
    }

    fn pull_all(&mut self, client: &mut dyn Transport, secret: &str, report: &mut SyncReport) -> Result<()> {
        // Only what head office held before this pull began is in the figures it brings.
        let held_before = journal::last_held(&self.conn)?;
        loop {
            let cursor = setting_u64(&self.conn, "cursor")?;
            let page = client.pull(secret, Cursor(cursor), 1_000)?;
            let tx = crate::store::write(&self.conn)?;
            // Another process (the CLI beside the screen) may have pulled meanwhile: its page is
            // newer than this one, which is dropped rather than applied over it.
            if setting_u64(&tx, "cursor")? != cursor {
                return Ok(());
            }
            catalog::apply(&tx, &page.changes)?;
            set_setting(&tx, "cursor", &page.next.0.to_string())?;
            if !page.more {
                // Head office publishes stock levels in the transaction that stores the records,
                // so after a full pull its figures include everything it held before the pull.
                journal::mark_reflected(&tx, held_before)?;
            }
            self.observe(&tx, page.server_time_ms)?;
            tx.commit()?;
            report.pulled += page.changes.len();
            if !page.more {
                return Ok(());
            }
        }
    }

    /// Moves the hybrid clock past head office's time, so later records sort after what it saw.
    fn observe(&self, conn: &Connection, server_ms: u64) -> Result<()> {
        let last = Hlc::new(
            setting_u64(conn, "hlc_wall")?,
            u32::try_from(setting_u64(conn, "hlc_counter")?).unwrap_or(0),
        );
        journal::remember_hlc(conn, last.observe(Hlc::new(server_ms, 0), self.clock.now_ms()))
    }

    pub fn status(&self) -> Result<Status> {
        let (pending, oldest_pending_ms) = journal::backlog(&self.conn)?;
        Ok(Status {
            online: setting(&self.conn, "online")?.as_deref() == Some("1"),
            pending,
            oldest_pending_ms,
            last_sync_ms: setting(&self.conn, "last_sync_ms")?.and_then(|v| v.parse().ok()),
            rejected: journal::rejected(&self.conn)?,
        })
    }

    /// Signs a cashier in by PIN, checked here against the hashes pulled from head office.
    /// [`PIN_ATTEMPTS`] wrong PINs in a row lock the cashier out at this till for
    /// [`PIN_LOCKOUT_MS`], even with the right PIN, online or not; the right PIN clears the count.
    pub fn sign_in(&mut self, cashier: u32, pin: &str) -> Result<String> {
        let store = self.identity()?.store;
        let id = CashierId::new(cashier).map_err(|_| RegisterError::BadPin)?;
        let (name, hash) =
            catalog::cashier(&self.conn, cashier, store.as_str())?.ok_or(RegisterError::BadPin)?;
        let now = self.clock.now_ms();
        if let Some(until_ms) = self.pin_lock(cashier, now)? {
            return Err(RegisterError::LockedOut { until_ms, now_ms: now });
        }
        let parsed = argon2::PasswordHash::new(&hash).map_err(crate::error::corrupt)?;
        use argon2::PasswordVerifier;
        if argon2::Argon2::default().verify_password(pin.as_bytes(), &parsed).is_err() {
            return Err(self.pin_failed(cashier, now)?);
        }
        self.conn.execute("DELETE FROM pin_failures WHERE cashier = ?1", [cashier])?;
        self.cashier = Some((id, name.clone()));
        Ok(name)
    }

    /// Until when the cashier is locked out at this till, if they are.
    fn pin_lock(&self, cashier: u32, now: u64) -> Result<Option<u64>> {
        use rusqlite::OptionalExtension;
        let until: Option<i64> = self
            .conn
            .query_row("SELECT locked_until_ms FROM pin_failures WHERE cashier = ?1", [cashier], |r| r.get(0))
            .optional()?
            .flatten();
        let until = until.and_then(|u| u64::try_from(u).ok()).filter(|&u| u > now);
        match until {
            // The till's clock was set back: the lock lasts its full length from now, no more,
            // rather than until a time that the clock will take hours to reach.
            Some(until) if until - now > PIN_LOCKOUT_MS => {
                let until = now + PIN_LOCKOUT_MS;
                self.conn.execute(
                    "UPDATE pin_failures SET locked_until_ms = ?2 WHERE cashier = ?1",
                    rusqlite::params![cashier, i64::try_from(until).unwrap_or(i64::MAX)],
                )?;
                Ok(Some(until))
            }
            other => Ok(other),
        }
    }

    /// Counts a wrong PIN; the last one allowed in a row locks the cashier out. The error to show.
    fn pin_failed(&self, cashier: u32, now: u64) -> Result<RegisterError> {
        let tx = crate::store::write(&self.conn)?;
        let failures: u32 = tx.query_row(
            "INSERT INTO pin_failures (cashier, failures) VALUES (?1, 1)
             ON CONFLICT (cashier) DO UPDATE SET failures = failures + 1 RETURNING failures",
            [cashier],
            |r| r.get(0),
        )?;
        if failures < PIN_ATTEMPTS {
            tx.commit()?;
            return Ok(RegisterError::BadPin);
        }
        // Locked: after the wait, another PIN_ATTEMPTS tries.
        let until = now + PIN_LOCKOUT_MS;
        tx.execute(
            "UPDATE pin_failures SET failures = 0, locked_until_ms = ?2 WHERE cashier = ?1",
            rusqlite::params![cashier, i64::try_from(until).unwrap_or(i64::MAX)],
        )?;
        tx.commit()?;
        Ok(RegisterError::LockedOut { until_ms: until, now_ms: now })
    }

    pub fn sign_out(&mut self) {
        self.cashier = None;
    }

    pub(crate) fn signed_in(&self) -> Result<CashierId> {
        self.cashier.as_ref().map(|(id, _)| *id).ok_or(RegisterError::NotSignedIn)
    }

    /// Every record this register made, in seq order.
    pub fn journal(&self) -> Result<Vec<Record>> {
        journal::all(&self.conn)
    }

    /// The product a scanned or typed code names (barcode with its check digit, or SKU).
    pub fn product(&self, code: &str) -> Result<shared_model::catalogue::ProductInfo> {
        catalog::find(&self.conn, code)
    }

    /// Products whose name, SKU or category contains `text`.
    pub fn search(&self, text: &str) -> Result<Vec<shared_model::catalogue::ProductInfo>> {
        catalog::search(&self.conn, text, 50)
    }
}
