//! `caisse-register`: the register without a screen, for store back offices, scripts and
//! tests. Every command drives the same library as the desktop app.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::json;
use shared_model::returns::ReturnReason;
use shared_model::sale::Discount;
use shared_model::stock::AdjustmentReason;
use shared_model::tender::ApprovalCode;
use shared_model::{Money, Percent, Record, RecordId, Tender};
use terminal_app::returns::RefundTo;
use terminal_app::sync::Backoff;
use terminal_app::{Register, receipt};

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
    #[arg(long, env = "CAISSE_PRINTER", global = true)]
    printer: Option<String>,
    /// Receipt language: fr or en.
    #[arg(long, env = "CAISSE_RECEIPT_LANGUAGE", global = true, default_value = "fr")]
    language: String,
    /// Receipt paper width in characters: 32 (58 mm), 42 or 48 (80 mm).
    #[arg(long, env = "CAISSE_RECEIPT_COLUMNS", global = true, default_value_t = 42)]
    columns: u8,
    /// Shift this register's clock (seconds; for testing a till whose clock is wrong).
    #[arg(long, env = "CAISSE_CLOCK_OFFSET_SECONDS", global = true, hide = true, default_value_t = 0)]
    clock_offset_seconds: i64,
    #[command(subcommand)]
    command: Command,
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
    /// Ring up and complete a sale.
    Sell {
        #[command(flatten)]
        cashier: Cashier,
        /// BARCODE or SKU, optionally :QUANTITY (repeatable).
        #[arg(long = "item", required = true)]
        items: Vec<String>,
        /// LINE:PERCENT% or LINE:AMOUNT, lines counted from 1 (repeatable).
        #[arg(long = "discount")]
        discounts: Vec<String>,
        /// cash:AMOUNT, debit:AMOUNT, credit:AMOUNT:APPROVAL, or cash, debit, credit:APPROVAL for the balance (repeatable).
        #[arg(long = "tender", required = true)]
        tenders: Vec<String>,
    },
    /// Take a return against a receipt.
    Return {
        #[command(flatten)]
        cashier: Cashier,
        /// The receipt's id.
        #[arg(long)]
        receipt: String,
        /// LINE:QUANTITY, lines counted from 1; add :nostock when the goods are not resold (repeatable).
        #[arg(long = "line", required = true)]
        lines: Vec<String>,
        /// cash, debit or credit.
        #[arg(long, default_value = "cash")]
        refund: String,
        /// defective, changed_mind, wrong_item, damaged_in_transit or other.
        #[arg(long, default_value = "changed_mind")]
        reason: String,
    },
    /// Find products by name, SKU or category.
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
        delta: i64,
        /// damaged, theft, expired, found, correction or internal_use.
        #[arg(long)]
        reason: String,
    },
    /// Ask the logistics centre for goods.
    Replenish {
        #[command(flatten)]
        cashier: Cashier,
        /// CODE:QUANTITY (repeatable).
        #[arg(long = "item", required = true)]
        items: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Every record this register made, in its wire form, one per line.
    Journal,
    /// Print a receipt again (or for the first time, when the printer failed).
    Reprint {
        #[command(flatten)]
        cashier: Cashier,
        id: String,
    },
    /// Show a receipt as text.
    Receipt {
        id: String,
        #[arg(long, default_value_t = 42)]
        width: usize,
    },
    /// The Z report; with --close, close the till.
    Z {
        #[command(flatten)]
        cashier: Cashier,
        /// Cash in the drawer when the shift opened.
        #[arg(long, default_value = "0")]
        float: String,
        /// Cash counted now.
        #[arg(long)]
        counted: Option<String>,
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

fn printer(cli: &Cli) -> anyhow::Result<Option<Box<dyn hardware::printer::PrinterLink>>> {
    let Some(spec) = cli.printer.as_deref() else { return Ok(None) };
    Ok(Some(terminal_app::desk::printer_link(spec).map_err(|e| anyhow::anyhow!("--printer: {e}"))?))
}

fn receipt_context(cli: &Cli, register: &Register) -> anyhow::Result<hardware::printer::ReceiptContext> {
    let language = match cli.language.as_str() {
        "fr" => hardware::printer::Language::Fr,
        "en" => hardware::printer::Language::En,
        other => bail!("{other:?} is not a receipt language: use fr or en"),
    };
    if ![32, 42, 48].contains(&cli.columns) {
        bail!("receipts are 32, 42 or 48 columns wide, not {}", cli.columns);
    }
    Ok(register.receipt_context(language, cli.columns)?)
}

/// Prints a record's receipt when a printer is configured; a printer failure is reported and
/// leaves the receipt for a reprint, the sale itself stands.
fn print_receipt(cli: &Cli, register: &mut Register, id: &RecordId) -> anyhow::Result<()> {
    let Some(mut link) = printer(cli)? else { return Ok(()) };
    let context = receipt_context(cli, register)?;
    if let Err(e) = register.print(id, &context, link.as_mut()) {
        eprintln!("Warning: {e}. Reprint it with: caisse-register reprint {id}");
    }
    Ok(())
}

fn signed_in(cli: &Cli, cashier: &Cashier) -> anyhow::Result<Register> {
    let mut register = open(cli)?;
    register.sign_in(cashier.cashier, &cashier.pin)?;
    Ok(register)
}

fn money(text: &str, what: &str) -> anyhow::Result<Money> {
    Money::parse(text).with_context(|| format!("{what} {text:?} is not an amount like 12.34"))
}

/// `CODE[:N]` → code and number (default 1).
fn code_and_count(text: &str) -> anyhow::Result<(String, u32)> {
    match text.rsplit_once(':') {
        Some((code, n)) => {
            Ok((code.to_owned(), n.parse().with_context(|| format!("{n:?} in {text:?} is not a quantity"))?))
        }
        None => Ok((text.to_owned(), 1)),
    }
}

fn tender(text: &str, balance: Money) -> anyhow::Result<Tender> {
    let parts: Vec<&str> = text.split(':').collect();
    let amount = |i: usize| parts.get(i).map_or(Ok(balance), |a| money(a, "tender"));
    Ok(match parts[0] {
        "cash" => Tender::Cash { amount: if parts.len() > 1 { amount(1)? } else { balance.round_cash() } },
        "debit" => Tender::Debit { amount: amount(1)? },
        "credit" if parts.len() == 2 => {
            Tender::Credit { amount: balance, approval: ApprovalCode::parse(parts[1])? }
        }
        "credit" if parts.len() == 3 => {
            Tender::Credit { amount: amount(1)?, approval: ApprovalCode::parse(parts[2])? }
        }
        "credit" => bail!("a credit tender needs its approval code, like credit:25.00:A1B2C3"),
        other => bail!("{other:?} is not a tender: use cash, debit or credit"),
    })
}

fn parse_enum<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> anyhow::Result<T> {
    serde_json::from_value(json!(text)).map_err(|_| anyhow::anyhow!("{text:?} is not a known {what}"))
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
        print!("{}", receipt::text(record, 42));
    }
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
            if cli.json {
                println!(
                    "{}",
                    json!({
                        "register": identity.as_ref().map(|i| i.register.to_string()),
                        "online": status.online, "pending": status.pending,
                        "oldest_pending_ms": status.oldest_pending_ms, "last_sync_ms": status.last_sync_ms,
                        "unprinted": register.unprinted()?.iter().map(|r| r.id.to_string()).collect::<Vec<_>>(),
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
            }
        }
        Command::Sell { cashier, items, discounts, tenders } => {
            let mut register = signed_in(cli, cashier)?;
            register.void()?;
            let result = (|| {
                for item in items {
                    let (code, quantity) = code_and_count(item)?;
                    register.add_item(&code, quantity)?;
                }
                for discount in discounts {
                    let (line, value) = discount
                        .split_once(':')
                        .with_context(|| format!("{discount:?} is not LINE:PERCENT% or LINE:AMOUNT"))?;
                    let line: usize =
                        line.parse().with_context(|| format!("{line:?} is not a line number"))?;
                    let discount = if value.ends_with('%') {
                        Discount::Percent(Percent::parse(value)?)
                    } else {
                        Discount::Amount(money(value, "discount")?)
                    };
                    register.set_discount(
                        line.checked_sub(1).context("lines are counted from 1")?,
                        Some(discount),
                    )?;
                }
                let mut balance = register.cart()?.quote.total;
                let mut parsed = Vec::new();
                for text in tenders {
                    let t = tender(text, balance)?;
                    balance = if t.amount() >= balance { Money::ZERO } else { balance - t.amount() };
                    parsed.push(t);
                }
                Ok::<_, anyhow::Error>(register.complete_sale(parsed)?)
            })();
            match result {
                Ok(done) => {
                    let summary = format!(
                        "Sale complete: {} paid, {} change.",
                        done.sale.totals.paid(),
                        done.sale.totals.change
                    );
                    show(cli, &done.record, summary);
                    print_receipt(cli, &mut register, &done.record.id)?;
                }
                Err(e) => {
                    // Nothing was recorded: leave no half-rung sale behind.
                    register.void()?;
                    return Err(e);
                }
            }
        }
        Command::Return { cashier, receipt, lines, refund, reason } => {
            let mut register = signed_in(cli, cashier)?;
            let id = RecordId::parse(receipt)?;
            let found = register
                .find_sale(&id)?
                .with_context(|| format!("no sale {receipt} here or at head office"))?;
            let picks = lines
                .iter()
                .map(|text| {
                    let mut parts = text.split(':');
                    let line: u16 = parts
                        .next()
                        .unwrap_or_default()
                        .parse()
                        .with_context(|| format!("{text:?} is not LINE:QUANTITY"))?;
                    let quantity: u32 = parts
                        .next()
                        .unwrap_or("1")
                        .parse()
                        .with_context(|| format!("{text:?} is not LINE:QUANTITY"))?;
                    let restock = parts.next() != Some("nostock");
                    Ok((line.checked_sub(1).context("lines are counted from 1")?, quantity, restock))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let refund_to = match refund.as_str() {
                "cash" => RefundTo::Cash,
                "debit" => RefundTo::Debit,
                "credit" => RefundTo::Credit,
                other => bail!("{other:?} is not a refund method: use cash, debit or credit"),
            };
            let reason: ReturnReason = parse_enum(reason, "return reason")?;
            let record = register.take_return(&found, &picks, refund_to, reason)?;
            show(cli, &record, "Return complete.".into());
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
                        f.as_of_ms.map_or("never pulled".into(), |ms| {
                            format!(
                                "as of {}",
                                chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(0))
                                    .map(|t| t
                                        .with_timezone(&chrono::Local)
                                        .format("%Y-%m-%d %H:%M")
                                        .to_string())
                                    .unwrap_or_default()
                            )
                        })
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
            let reason: AdjustmentReason = parse_enum(reason, "adjustment reason")?;
            let record = signed_in(cli, cashier)?.adjust_stock(code, *delta, reason, None)?;
            show(cli, &record, format!("Adjustment of {code} recorded: {delta:+}."));
        }
        Command::Replenish { cashier, items, note } => {
            let items = items.iter().map(|i| code_and_count(i)).collect::<anyhow::Result<Vec<_>>>()?;
            let record = signed_in(cli, cashier)?.request_replenishment(&items, note.clone())?;
            show(cli, &record, format!("Replenishment requested: {}.", record.id));
        }
        Command::Reprint { cashier, id } => {
            let mut register = signed_in(cli, cashier)?;
            let id = RecordId::parse(id)?;
            let mut link = printer(cli)?.context("no printer: give --printer tcp:HOST:PORT or file:PATH")?;
            let context = receipt_context(cli, &register)?;
            register.print(&id, &context, link.as_mut())?;
            println!("Receipt {id} printed.");
        }
        Command::Journal => {
            for record in open(cli)?.journal()? {
                println!("{}", record.encode());
            }
        }
        Command::Receipt { id, width } => {
            let register = open(cli)?;
            let id = RecordId::parse(id)?;
            let record = register
                .journal()?
                .into_iter()
                .find(|r| r.id == id)
                .with_context(|| format!("no record {id} at this register"))?;
            if cli.json {
                show(cli, &record, String::new());
            } else {
                print!("{}", receipt::text(&record, (*width).clamp(24, 80)));
            }
        }
        Command::Z { cashier, float, counted, close } => {
            let mut register = signed_in(cli, cashier)?;
            let float = money(float, "float")?;
            let counted = counted.as_deref().map(|c| money(c, "counted cash")).transpose()?;
            let report = if *close {
                let record = register.close_till(float, counted)?;
                match record.body {
                    shared_model::RecordBody::TillClosed(z) => z,
                    _ => unreachable!("close_till records a till close"),
                }
            } else {
                register.z_report(float, counted)?
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
    let cli = Cli::parse();
    if let Err(e) = run(&cli) {
        // One line: what was being done, then why it failed.
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
