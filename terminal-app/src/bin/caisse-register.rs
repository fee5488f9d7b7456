//! `caisse-register`: the register without a screen, for store back offices, scripts and
//! tests. Every command drives the same library as the desktop app, and every action of the
//! window has a command here. What is typed parses through [`terminal_app::input`], as at the
//! window: `12,50` and `12.50` are the same amount everywhere.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hardware::printer::{Delivery, Language, PrinterSpec};
use serde_json::json;
use shared_model::returns::ReturnReason;
use shared_model::sale::Discount;
use shared_model::stock::AdjustmentReason;
use shared_model::{LocationCode, Money, Record, RecordId};
use terminal_app::desk::{Columns, Desk, Scanner, Settings};
use terminal_app::input::{self, TenderEntry};
use terminal_app::returns::{ReceiptCode, RefundTo, SaleKey};
use terminal_app::sync::Backoff;
use terminal_app::{Register, RegisterError, receipt};

/// A Caisse register with no screen.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The register's folder: its database lives there.
    #[arg(long, env = "CAISSE_DATA_DIR", default_value = "register-data", global = true)]
    data_dir: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Receipt printer: tcp:HOST:PORT (network, usually port 9100), file:PATH (/dev/usb/lp0) or serial:PATH[@BAUD].
    #[arg(long, env = "CAISSE_PRINTER", global = true, value_parser = parse_printer)]
    printer: Option<PrinterSpec>,
    /// Receipt language: fr or en [default: fr].
    #[arg(long, env = "CAISSE_RECEIPT_LANGUAGE", global = true, value_parser = parse_language)]
    language: Option<Language>,
    /// Receipt paper width in characters: 32 (58 mm), 42 or 48 (80 mm) [default: 42].
    #[arg(long, env = "CAISSE_RECEIPT_COLUMNS", global = true, value_parser = parse_columns)]
    columns: Option<Columns>,
    /// How long the printer has to answer each status query, in milliseconds (for a printer
    /// behind a slow network, and tests on a busy machine).
    #[arg(long, env = "CAISSE_PRINTER_STATUS_WAIT_MS", global = true, hide = true, default_value_t = 1_000)]
    printer_status_wait_ms: u64,
    /// Shift this register's clock (seconds; for testing a till whose clock is wrong).
    #[arg(long, env = "CAISSE_CLOCK_OFFSET_SECONDS", global = true, hide = true, default_value_t = 0)]
    clock_offset_seconds: i64,
    #[command(subcommand)]
    command: Command,
}

fn parse_printer(text: &str) -> Result<PrinterSpec, hardware::printer::BadSpec> {
    text.parse()
}

fn parse_language(text: &str) -> Result<Language, hardware::printer::BadSpec> {
    text.parse()
}

fn parse_columns(text: &str) -> Result<Columns, String> {
    text.parse()
}

fn parse_scanner(text: &str) -> Result<Scanner, String> {
    text.parse()
}

/// `LINE:DISCOUNT`, lines counted from 1: `2:10%`, `1:2,50`.
fn parse_line_discount(text: &str) -> Result<(usize, Discount), String> {
    let (line, value) =
        text.split_once(':').ok_or_else(|| format!("{text:?} is not LINE:PERCENT% or LINE:AMOUNT"))?;
    let line: usize = line.trim().parse().map_err(|_| format!("{line:?} is not a line number"))?;
    let index = line.checked_sub(1).ok_or("lines are counted from 1")?;
    match input::discount(value).map_err(|e| e.to_string())? {
        Some(discount) => Ok((index, discount)),
        None => Err(format!("{text:?} gives no discount")),
    }
}

/// `LINE[:QUANTITY][:nostock]`, lines counted from 1.
fn parse_return_line(text: &str) -> Result<(u16, u32, bool), String> {
    let wrong = || format!("{text:?} is not LINE:QUANTITY");
    let mut parts = text.trim().split(':');
    let line: u16 = parts.next().unwrap_or_default().parse().map_err(|_| wrong())?;
    let quantity: u32 = parts.next().unwrap_or("1").parse().map_err(|_| wrong())?;
    let restock = match parts.next() {
        None => true,
        Some("nostock") => false,
        Some(_) => return Err(wrong()),
    };
    Ok((line.checked_sub(1).ok_or("lines are counted from 1")?, quantity, restock))
}

#[derive(Debug, clap::Args)]
struct Cashier {
    /// Cashier number.
    #[arg(long, env = "CAISSE_CASHIER")]
    cashier: u32,
    /// Cashier PIN.
    #[arg(long, env = "CAISSE_PIN", hide_env_values = true)]
    pin: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enrol this register with a code from head office.
    Enrol {
        /// Head office's address: https://HOST:PORT (or http:// on loopback or behind a TLS proxy).
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        /// The certificate (PEM) of the chain's own certificate authority, when head office's
        /// certificate comes from one: trusted from now on, besides the system's roots.
        #[arg(long, env = "CAISSE_CA_FILE")]
        ca_file: Option<PathBuf>,
    },
    /// Push pending records and pull changes; with --watch, keep doing it.
    Sync {
        #[arg(long)]
        watch: bool,
        /// Seconds between syncs when all is well.
        #[arg(long, default_value_t = 5)]
        interval: u64,
    },
    /// Online or not, records pending, oldest pending, last sync, rejected records.
    Status,
    /// Ring up and complete a sale; or park it, or finish a parked one.
    Sell {
        #[command(flatten)]
        cashier: Cashier,
        /// BARCODE or SKU, optionally :QUANTITY (repeatable).
        #[arg(long = "item", value_parser = input::item, required_unless_present = "resume")]
        items: Vec<(String, u32)>,
        /// LINE:PERCENT% or LINE:AMOUNT, lines counted from 1 (repeatable).
        #[arg(long = "discount", value_parser = parse_line_discount)]
        discounts: Vec<(usize, Discount)>,
        /// cash:AMOUNT, debit:AMOUNT, credit:AMOUNT:APPROVAL, or cash, debit, credit:APPROVAL for the balance (repeatable).
        #[arg(long = "tender", value_parser = input::tender, required_unless_present = "park")]
        tenders: Vec<TenderEntry>,
        /// Set the sale aside instead of taking tenders (see `parked`).
        #[arg(long, conflicts_with = "tenders")]
        park: bool,
        /// Start from a parked sale (its number, see `parked`), then add items and tenders.
        #[arg(long)]
        resume: Option<i64>,
    },
    /// Sales set aside, at the window or here: number, when, lines, total.
    Parked,
    /// Look a receipt (its short number, VMTL-01-000123, or the long one under its QR code) or
    /// an online order (W-123) up for a return: each line, what was sold and what is left to
    /// return.
    Lookup {
        #[arg(value_parser = input::receipt_code)]
        receipt: ReceiptCode,
    },
    /// Take a return against a receipt or an online order; offline, another store's receipt is
    /// taken unverified (--store, --item).
    ///
    /// Offline, a receipt from another store cannot be checked: give --store and each --item
    /// brought back to take it unverified, at today's price, within the same limit as the window.
    /// An online order (W-123) is refunded to its card by head office: no --refund.
    Return {
        #[command(flatten)]
        cashier: Cashier,
        /// The receipt's number (VMTL-01-000123, or the long one under its QR code), or the
        /// online order's (W-123).
        #[arg(long, value_parser = input::receipt_code)]
        receipt: ReceiptCode,
        /// LINE:QUANTITY, lines counted from 1; add :nostock when the goods are not resold (repeatable).
        #[arg(long = "line", value_parser = parse_return_line, required_unless_present = "items")]
        lines: Vec<(u16, u32, bool)>,
        /// Offline, a receipt this till cannot check: the store that sold it.
        #[arg(long, value_parser = input::store, requires = "items")]
        store: Option<LocationCode>,
        /// Offline, a receipt this till cannot check: BARCODE or SKU[:QUANTITY] brought back (repeatable).
        #[arg(long = "item", value_parser = input::item, requires = "store", conflicts_with = "lines")]
        items: Vec<(String, u32)>,
        /// cash (the default), debit or credit; an online order's refund goes to its card.
        #[arg(long, value_parser = input::refund_method)]
        refund: Option<RefundTo>,
        /// defective, changed_mind, wrong_item, damaged_in_transit or other.
        #[arg(long, default_value = "changed_mind", value_parser = input::return_reason)]
        reason: ReturnReason,
    },
    /// Find products by name, SKU or category (case and accents ignored).
    Search { text: String },
    /// Stock of a product here and elsewhere.
    Stock { code: String },
    /// Record a shelf count.
    Count {
        #[command(flatten)]
        cashier: Cashier,
        code: String,
        counted: i64,
    },
    /// Record a stock adjustment.
    Adjust {
        #[command(flatten)]
        cashier: Cashier,
        code: String,
        #[arg(allow_negative_numbers = true)]
        delta: i64,
        /// damaged, theft, expired, found, correction or internal_use.
        #[arg(long, value_parser = input::adjustment_reason)]
        reason: AdjustmentReason,
    },
    /// Ask the logistics centre for goods.
    Replenish {
        #[command(flatten)]
        cashier: Cashier,
        /// CODE:QUANTITY (repeatable).
        #[arg(long = "item", required = true, value_parser = input::item)]
        items: Vec<(String, u32)>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Transfers shipped to this store and not received yet (sync first to see new ones).
    Transfers,
    /// Receive a transfer as shipped: its goods join this store's stock.
    Receive {
        #[command(flatten)]
        cashier: Cashier,
        /// The transfer's number (see `transfers`).
        #[arg(value_parser = input::transfer)]
        transfer: uuid::Uuid,
    },
    /// Every record this register made, in its wire form, one per line.
    Journal,
    /// The newest sales and returns, newest first: the reprint list.
    Receipts {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Print a receipt again (or for the first time, when the printer failed); the last sale's without an id.
    Reprint {
        #[command(flatten)]
        cashier: Cashier,
        #[arg(value_parser = input::receipt)]
        id: Option<RecordId>,
    },
    /// Print a test page on --printer.
    TestPrint,
    /// Show a receipt as text.
    Receipt {
        #[arg(value_parser = input::receipt)]
        id: RecordId,
        #[arg(long, default_value_t = 42)]
        width: usize,
    },
    /// The window's settings; with --save, set them from --printer, --language, --columns and --scanner.
    Settings {
        #[arg(long)]
        save: bool,
        /// The window's scanner: wedge or serial:PATH.
        #[arg(long, value_parser = parse_scanner, requires = "save")]
        scanner: Option<Scanner>,
        /// With --save: no printer at the window.
        #[arg(long, requires = "save", conflicts_with = "printer")]
        no_printer: bool,
    },
    /// The Z report; with --close, close the till.
    Z {
        #[command(flatten)]
        cashier: Cashier,
        /// Cash in the drawer when the shift opened.
        #[arg(long, default_value = "0", value_parser = input::money)]
        float: Money,
        /// Cash counted now.
        #[arg(long, value_parser = input::money)]
        counted: Option<Money>,
        #[arg(long)]
        close: bool,
    },
}

fn open(cli: &Cli) -> anyhow::Result<Register> {
    // The CLI rings its sales in a cart of its own: never the sale on the till's screen.
    let register = Register::open(cli.data_dir.join("register.db"))
        .with_context(|| format!("opening the register in {}", cli.data_dir.display()))?
        .with_cart_slot(-1);
    Ok(match cli.clock_offset_seconds {
        0 => register,
        offset => register.with_clock(terminal_app::SkewedClock { offset_ms: offset.saturating_mul(1_000) }),
    })
}

fn receipt_context(cli: &Cli, register: &Register) -> anyhow::Result<hardware::printer::ReceiptContext> {
    let language = cli.language.unwrap_or(Language::Fr);
    let columns = cli.columns.unwrap_or_default();
    Ok(register.receipt_context(language, columns.get())?)
}

/// The link to a printer, waiting as long as asked for its status answers.
fn link(cli: &Cli, printer: &PrinterSpec) -> Box<dyn hardware::printer::PrinterLink> {
    printer.link_waiting(Duration::from_millis(cli.printer_status_wait_ms))
}

/// Prints a record's receipt when a printer is configured; a printer failure is reported and
/// leaves the receipt for a reprint, the sale itself stands.
fn print_receipt(cli: &Cli, register: &mut Register, id: &RecordId) -> anyhow::Result<()> {
    let Some(printer) = &cli.printer else { return Ok(()) };
    let context = receipt_context(cli, register)?;
    if let Err(e) = register.print(id, &context, link(cli, printer).as_mut()) {
        eprintln!("Warning: {e}. Reprint it with: caisse-register reprint {id}");
    }
    Ok(())
}

fn signed_in(cli: &Cli, cashier: &Cashier) -> anyhow::Result<Register> {
    let mut register = open(cli)?;
    register.sign_in(cashier.cashier, &cashier.pin)?;
    Ok(register)
}

fn show(cli: &Cli, record: &Record, summary: String) {
    if cli.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::from_str::<serde_json::Value>(&record.encode()).unwrap_or_default()
            )
            .unwrap_or_default()
        );
    } else {
        println!("{summary}");
        print!("{}", receipt::text(record, 42, cli.language.unwrap_or(Language::Fr).into()));
    }
}

/// Local date and time of a moment in milliseconds.
fn local(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Enrol { server, code, ca_file } => {
            let ca = ca_file.as_deref().map(terminal_app::sync::read_ca_file).transpose()?;
            let identity = open(cli)?.enrol_with_ca(server, code, ca.as_deref())?;
            if cli.json {
                println!(
                    "{}",
                    json!({ "register": identity.register, "store": identity.store, "server": identity.server })
                );
            } else {
                println!("Enrolled as register {} of store {}.", identity.register, identity.store);
            }
        }
        Command::Sync { watch: false, .. } => {
            let report = open(cli)?.sync_once()?;
            if cli.json {
                println!(
                    "{}",
                    json!({ "held": report.held, "rejected": report.rejected, "pulled": report.pulled })
                );
            } else {
                println!(
                    "Synced: {} records now held by head office, {} refused, {} changes pulled.",
                    report.held, report.rejected, report.pulled
                );
            }
        }
        Command::Sync { watch: true, interval } => {
            let mut register = open(cli)?;
            let mut backoff = Backoff::new(500, 60_000);
            loop {
                let wait = match register.sync_once() {
                    Ok(report) => {
                        backoff.succeeded();
                        if report != Default::default() {
                            println!(
                                "Synced: {} held, {} refused, {} pulled.",
                                report.held, report.rejected, report.pulled
                            );
                        }
                        interval * 1_000
                    }
                    Err(e) => {
                        let wait = backoff.failed();
                        eprintln!("Sync failed ({e}); trying again in {:.1} s.", wait as f64 / 1_000.0);
                        wait
                    }
                };
                std::thread::sleep(Duration::from_millis(wait));
            }
        }
        Command::Status => {
            let register = open(cli)?;
            let status = register.status()?;
            let identity = register.identity().ok();
            let unprinted = register.unprinted_with_reasons()?;
            if cli.json {
                println!(
                    "{}",
                    json!({
                        "register": identity.as_ref().map(|i| i.register.to_string()),
                        "online": status.online, "pending": status.pending,
                        "oldest_pending_ms": status.oldest_pending_ms, "last_sync_ms": status.last_sync_ms,
                        "unprinted": unprinted.iter().map(|u| u.record.id.to_string()).collect::<Vec<_>>(),
                        "unprinted_receipts": unprinted.iter().map(|u| json!({
                            "id": u.record.id.to_string(),
                            "number": terminal_app::print::receipt_number(&u.record).ok().map(|n| n.to_string()),
                            "kind": u.record.body.kind(), "reason": u.reason, "failed_ms": u.failed_ms,
                        })).collect::<Vec<_>>(),
                        "rejected": status.rejected.iter().map(|(seq, kind, reason)| json!({ "seq": seq, "kind": kind, "reason": reason })).collect::<Vec<_>>(),
                    })
                );
            } else {
                match identity {
                    Some(i) => {
                        println!("Register {} of store {}, head office at {}.", i.register, i.store, i.server)
                    }
                    None => println!("Not enrolled."),
                }
                println!(
                    "{}; {} records pending.",
                    if status.online { "Online" } else { "Offline" },
                    status.pending
                );
                for (seq, kind, reason) in status.rejected {
                    println!("Refused by head office: #{seq} ({kind}): {reason}");
                }
                for u in &unprinted {
                    let number = terminal_app::print::receipt_number(&u.record)?;
                    let why = u.reason.as_deref().unwrap_or("never sent to a printer");
                    println!(
                        "Receipt {number} ({}) not printed: {why}. Reprint it with: caisse-register reprint {}",
                        u.record.body.kind(),
                        u.record.id
                    );
                }
            }
        }
        Command::Sell { cashier, items, discounts, tenders, park, resume } => {
            let mut register = signed_in(cli, cashier)?;
            register.void()?;
            if let Some(id) = resume {
                register.resume(*id)?;
            }
            let result = (|| {
                for (code, quantity) in items {
                    register.add_item(code, *quantity)?;
                }
                for (line, discount) in discounts {
                    register.set_discount(*line, Some(*discount))?;
                }
                if *park {
                    return Ok::<_, anyhow::Error>(None);
                }
                let mut balance = register.cart()?.quote.total;
                let mut parsed = Vec::new();
                for entry in tenders {
                    let t = entry.tender(balance);
                    balance = if t.amount() >= balance { Money::ZERO } else { balance - t.amount() };
                    parsed.push(t);
                }
                Ok(Some(register.complete_sale(parsed)?))
            })();
            match result {
                Ok(Some(done)) => {
                    let summary = format!(
                        "Sale complete: {} paid, {} change.",
                        done.sale.totals.paid(),
                        done.sale.totals.change
                    );
                    show(cli, &done.record, summary);
                    print_receipt(cli, &mut register, &done.record.id)?;
                }
                Ok(None) => {
                    let id = register.park()?;
                    if cli.json {
                        println!("{}", json!({ "parked": id }));
                    } else {
                        println!("Sale parked as {id}: finish it with sell --resume {id}, or at the window.");
                    }
                }
                Err(e) if resume.is_some() && !register.cart()?.lines.is_empty() => {
                    // A resumed sale is never lost: it goes back among the parked ones.
                    let id = register.park()?;
                    bail!("{e:#}; the sale is parked again as {id}");
                }
                Err(e) => {
                    // Nothing was recorded: leave no half-rung sale behind.
                    register.void()?;
                    return Err(e);
                }
            }
        }
        Command::Parked => {
            let parked = open(cli)?.parked()?;
            if cli.json {
                let rows: Vec<_> = parked
                    .iter()
                    .map(|(id, at_ms, lines, total)| json!({ "id": id, "at_ms": at_ms, "lines": lines, "total": total.as_cents() }))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if parked.is_empty() {
                println!("No sale is parked.");
            } else {
                for (id, at_ms, lines, total) in parked {
                    println!("{id:>4}  {}  {lines} lines  {total:>10}", local(at_ms));
                }
            }
        }
        Command::Lookup { receipt: ReceiptCode::Order(number) } => {
            let order = open(cli)?
                .find_order(*number)?
                .with_context(|| format!("head office has no online order {number}"))?;
            if cli.json {
                println!("{}", serde_json::to_string(&order)?);
            } else {
                println!(
                    "Online order {number}, {}{}, {}:",
                    order.status,
                    order.business_day.map(|d| format!(" (paid {d})")).unwrap_or_default(),
                    order.total
                );
                for (i, line) in order.lines.iter().enumerate() {
                    let returned =
                        u16::try_from(i).ok().and_then(|i| order.returned.get(&i)).copied().unwrap_or(0);
                    println!(
                        "  {:>2}. {:<30} sold {:>3}, returned {returned:>3}",
                        i + 1,
                        line.description,
                        line.quantity.get()
                    );
                }
            }
        }
        Command::Lookup { receipt: ReceiptCode::Sale(receipt) } => {
            let found = open(cli)?
                .find_sale_by(receipt)?
                .with_context(|| format!("no sale {receipt} here or at head office"))?;
            let lines: Vec<_> = found
                .sale
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let returned =
                        u16::try_from(i).ok().and_then(|i| found.returned.get(&i)).copied().unwrap_or(0);
                    (i + 1, line, returned)
                })
                .collect();
            if cli.json {
                let rows: Vec<_> = lines
                    .iter()
                    .map(|(n, line, returned)| {
                        json!({
                            "line": n, "sku": line.sku.as_str(), "description": line.description,
                            "sold": line.quantity.get(), "returned": returned,
                            "returnable": line.quantity.get().saturating_sub(*returned),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    json!({ "id": found.record.id.to_string(), "store": found.record.store.as_str(),
                            "business_day": found.sale.business_day.to_string(),
                            "total": found.sale.totals.total.as_cents(), "lines": rows })
                );
            } else {
                println!(
                    "Sale {} at {} on {}, {}:",
                    found.record.id, found.record.store, found.sale.business_day, found.sale.totals.total
                );
                for (n, line, returned) in lines {
                    println!(
                        "  {n:>2}. {:<30} sold {:>3}, returned {returned:>3}",
                        line.description,
                        line.quantity.get()
                    );
                }
            }
        }
        Command::Return {
            cashier,
            receipt: ReceiptCode::Order(number),
            lines,
            store,
            items,
            refund,
            reason,
        } => {
            if refund.is_some() || store.is_some() || !items.is_empty() {
                bail!(
                    "an online order is returned by its lines (--line) and refunded to its card by head office: leave out --refund, --store and --item"
                );
            }
            let mut register = signed_in(cli, cashier)?;
            let order = register
                .find_order(*number)?
                .with_context(|| format!("head office has no online order {number}"))?;
            let record = register.take_order_return(&order, lines, *reason)?;
            let refund = match &record.body {
                shared_model::RecordBody::Return(ret) => ret.totals.refunded(),
                _ => Money::ZERO,
            };
            show(
                cli,
                &record,
                format!(
                    "Return complete: {refund} goes back to the card of online order {number} once head office has the record."
                ),
            );
            print_receipt(cli, &mut register, &record.id)?;
        }
        Command::Return {
            cashier,
            receipt: ReceiptCode::Sale(receipt),
            lines,
            store,
            items,
            refund,
            reason,
        } => {
            let refund = &refund.unwrap_or(RefundTo::Cash);
            let mut register = signed_in(cli, cashier)?;
            let record = match (register.find_sale_by(receipt), store) {
                (Ok(Some(found)), _) if items.is_empty() => {
                    register.take_return(&found, lines, *refund, *reason)?
                }
                (Ok(Some(_)), _) => {
                    bail!("sale {receipt} can be checked: return its lines with --line LINE:QUANTITY")
                }
                (Ok(None), _) => bail!("no sale {receipt} here or at head office"),
                // Head office is out of reach and the receipt is not from this till: the offline
                // policy, as at the window.
                (Err(RegisterError::Offline(_)), Some(store)) => match receipt {
                    SaleKey::Id(id) => {
                        register.take_unverified_return(*id, store.as_str(), items, *refund, *reason)?
                    }
                    // Only head office can tell which sale a short number names.
                    SaleKey::Number(_) => bail!(
                        "head office is out of reach and {receipt} is another till's: to take the return unverified, give the long number printed under the receipt's QR code"
                    ),
                },
                (Err(e @ RegisterError::Offline(_)), None) => bail!(
                    "{e}; to take the return unverified, give --store (where it was sold) and each --item brought back"
                ),
                (Err(e), _) => return Err(e.into()),
            };
            show(cli, &record, "Return complete.".into());
            print_receipt(cli, &mut register, &record.id)?;
        }
        Command::Search { text } => {
            let found = open(cli)?.search(text)?;
            if cli.json {
                println!("{}", serde_json::to_string(&found)?);
            } else if found.is_empty() {
                println!("No product matches {text:?}.");
            } else {
                for p in found {
                    let code = p.barcodes.first().map(|b| b.to_string()).unwrap_or_default();
                    println!("{:<14} {:>8}  {code:<13}  {}  ({})", p.sku, p.price, p.name, p.category);
                }
            }
        }
        Command::Stock { code } => {
            let figures = open(cli)?.stock(code)?;
            if cli.json {
                let rows: Vec<_> = figures.iter().map(|f| json!({ "location": f.location, "quantity": f.quantity, "as_of_ms": f.as_of_ms, "this_store": f.this_store })).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for f in figures {
                    let when = if f.this_store {
                        "now".to_owned()
                    } else {
                        f.as_of_ms.map_or("never pulled".into(), |ms| format!("as of {}", local(ms)))
                    };
                    println!("{:<8} {:>6}  {when}", f.location, f.quantity);
                }
            }
        }
        Command::Count { cashier, code, counted } => {
            let record = signed_in(cli, cashier)?.count_stock(code, *counted)?;
            show(cli, &record, format!("Count of {code} recorded: {counted}."));
        }
        Command::Adjust { cashier, code, delta, reason } => {
            let record = signed_in(cli, cashier)?.adjust_stock(code, *delta, *reason, None)?;
            show(cli, &record, format!("Adjustment of {code} recorded: {delta:+}."));
        }
        Command::Replenish { cashier, items, note } => {
            let record = signed_in(cli, cashier)?.request_replenishment(items, note.clone())?;
            show(cli, &record, format!("Replenishment requested: {}.", record.id));
        }
        Command::Transfers => {
            let transfers = open(cli)?.incoming_transfers()?;
            if cli.json {
                let rows: Vec<_> = transfers
                    .iter()
                    .map(|(id, from, lines)| json!({
                        "id": id.to_string(), "from": from,
                        "lines": lines.iter().map(|l| json!({ "sku": l.sku.as_str(), "quantity": l.quantity.get() })).collect::<Vec<_>>(),
                    }))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if transfers.is_empty() {
                println!("No transfer is on its way here.");
            } else {
                for (id, from, lines) in transfers {
                    println!("Transfer {id} from {from}:");
                    for line in lines {
                        println!("  {:<14} {:>5}", line.sku, line.quantity.get());
                    }
                }
            }
        }
        Command::Receive { cashier, transfer } => {
            let record = signed_in(cli, cashier)?.receive_transfer(*transfer)?;
            show(cli, &record, format!("Transfer {transfer} received."));
        }
        Command::Receipts { limit } => {
            let receipts = open(cli)?.recent_receipts(*limit)?;
            if cli.json {
                let rows: Vec<_> = receipts
                    .iter()
                    .map(|(id, kind, amount)| json!({ "id": id.to_string(), "kind": kind, "amount": amount.as_cents() }))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for (id, kind, amount) in receipts {
                    println!("{id}  {kind:<6} {amount:>10}");
                }
            }
        }
        Command::TestPrint => {
            let printer =
                cli.printer.as_ref().context("no printer: give --printer tcp:HOST:PORT or file:PATH")?;
            let register = open(cli)?;
            let bytes = hardware::printer::render_test(&receipt_context(cli, &register)?)?;
            let delivery = link(cli, printer)
                .send(&bytes)
                .with_context(|| format!("test page not printed on {printer}"))?;
            match delivery {
                Delivery::Confirmed(status) if status.paper_low => {
                    println!("Test page printed on {printer}; its paper is running low.")
                }
                Delivery::Confirmed(_) => println!("Test page printed on {printer}; the printer is ready."),
                Delivery::Unconfirmed => println!(
                    "Test page sent to {printer}; it does not report its state, so look at the paper."
                ),
            }
        }
        Command::Settings { save, scanner, no_printer } => {
            let mut desk = Desk::open(&cli.data_dir)
                .with_context(|| format!("opening the register in {}", cli.data_dir.display()))?;
            let mut settings = desk.settings()?;
            if *save {
                settings = Settings {
                    printer: if *no_printer { None } else { cli.printer.clone().or(settings.printer) },
                    scanner: scanner.clone().unwrap_or(settings.scanner),
                    language: cli.language.unwrap_or(settings.language),
                    columns: cli.columns.unwrap_or(settings.columns),
                };
                desk.save_settings(settings.clone())?;
            }
            if cli.json {
                println!("{}", serde_json::to_string(&settings)?);
            } else {
                let printer = settings.printer.as_ref().map_or("none".to_owned(), ToString::to_string);
                println!(
                    "Printer {printer}, scanner {}, language {}, receipts {} columns wide.",
                    settings.scanner,
                    settings.language,
                    settings.columns.get()
                );
            }
        }
        Command::Reprint { cashier, id } => {
            let mut register = signed_in(cli, cashier)?;
            let id = match id {
                Some(id) => *id,
                None => register
                    .recent_receipts(usize::MAX)?
                    .into_iter()
                    .find(|(_, kind, _)| *kind == "sale")
                    .map(|(id, _, _)| id)
                    .context("there is no receipt to reprint yet")?,
            };
            let printer =
                cli.printer.as_ref().context("no printer: give --printer tcp:HOST:PORT or file:PATH")?;
            let context = receipt_context(cli, &register)?;
            let printed = register.print(&id, &context, link(cli, printer).as_mut())?;
            let number = register
                .journal()?
                .iter()
                .find(|r| r.id == id)
                .map(terminal_app::print::receipt_number)
                .transpose()?
                .map_or(id.to_string(), |n| n.to_string());
            if cli.json {
                println!("{}", json!({ "id": id.to_string(), "number": number, "copy": printed.copy }));
            } else if printed.copy > 1 {
                println!("Receipt {number} printed again: copy {}, headed DUPLICATA / COPY.", printed.copy);
            } else {
                println!("Receipt {number} printed.");
            }
        }
        Command::Journal => {
            for record in open(cli)?.journal()? {
                println!("{}", record.encode());
            }
        }
        Command::Receipt { id, width } => {
            let register = open(cli)?;
            let id = *id;
            let record = register
                .journal()?
                .into_iter()
                .find(|r| r.id == id)
                .with_context(|| format!("no record {id} at this register"))?;
            if cli.json {
                show(cli, &record, String::new());
            } else {
                let locale = cli.language.unwrap_or(Language::Fr).into();
                print!("{}", receipt::text(&record, (*width).clamp(24, 80), locale));
            }
        }
        Command::Z { cashier, float, counted, close } => {
            let mut register = signed_in(cli, cashier)?;
            let report = if *close {
                let record = register.close_till(*float, *counted)?;
                match record.body {
                    shared_model::RecordBody::TillClosed(z) => z,
                    _ => unreachable!("close_till records a till close"),
                }
            } else {
                register.z_report(*float, *counted)?
            };
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "Z report {}: {} sales, {} returns",
                    report.business_day, report.sales_count, report.returns_count
                );
                for t in &report.tenders {
                    println!("  {:<7} taken {:>10}  refunded {:>10}", t.kind.as_str(), t.taken, t.refunded);
                }
                println!("  expected cash {}", report.expected_cash);
                if let Some(over) = report.over_short() {
                    let sign = if over.is_negative() { "short " } else { "over " };
                    println!("  counted {} ({sign}{})", report.counted_cash.unwrap_or_default(), over.abs());
                }
                if *close {
                    println!("Till closed.");
                }
            }
        }
    }
    Ok(())
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A value that does not parse gets one sentence, like any other refusal.
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            eprintln!("Error: {}", line.strip_prefix("error: ").unwrap_or(line));
            std::process::exit(2);
        }
        Err(e) => e.exit(),
    };
    if let Err(e) = run(&cli) {
        // One line: what was being done, then why it failed.
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
