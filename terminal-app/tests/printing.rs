//! The printer is unreachable during a sale: the sale is committed once, its receipt waits,
//! and a reprint produces it. The drawer opens for cash only. Then receipts by Québec's rules
//! on a fake Epson printer, for the demo chain as head office sends it: the legal name and tax
//! numbers, every line within the paper, `DUPLICATA` from the second print, and the printer's
//! own state deciding whether a receipt printed.

mod common;

use std::time::Duration;

use common::Server;
use hardware::printer::fake::{FakePrinter, FakeState};
use hardware::printer::{Delivery, DrawerPin, Language, MemoryLink, ReceiptContext, TcpLink, paper};
use shared_model::sale::Discount;
use shared_model::{Money, Percent, Tender};
use terminal_app::{Register, RegisterError};

fn context() -> ReceiptContext {
    ReceiptContext {
        legal_name: String::new(),
        store_name: "Caisse Westmount".into(),
        store_address: "4800, rue Sherbrooke Ouest".into(),
        gst_number: "123456789RT0001".into(),
        qst_number: "1234567890TQ0001".into(),
        cashier: "Alice".into(),
        printed_at: "2026-11-22 15:00".into(),
        return_policy: "Retours sous 30 jours avec reçu.".into(),
        language: Language::Fr,
        columns: 42,
        drawer: DrawerPin::Two,
        duplicate: false,
    }
}

#[test]
fn an_unreachable_printer_never_loses_a_sale() {
    let (mut server, cashiers) = Server::start();
    let (cashier, _, _, pin) = cashiers.iter().find(|c| c.2 == "WMT").unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let mut till = Register::open(dir.path().join("till.db")).unwrap();
    till.enrol(&server.url(), &server.code_for("WMT-01")).unwrap();
    till.sync_once().unwrap();
    till.sign_in(cashier, &pin).unwrap();

    // Nobody listens at the printer's address.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut printer = TcpLink::new(dead, Duration::from_secs(1));
    till.add_item("TUQ-LAI", 1).unwrap();
    let (sale, printed) = till
        .complete_and_print(
            vec![Tender::Cash { amount: Money::parse("40.00").unwrap() }],
            &context(),
            &mut printer,
        )
        .unwrap();
    assert!(matches!(printed, Err(RegisterError::NotPrinted(_))), "{printed:?}");
    assert_eq!(till.journal().unwrap().len(), 1, "the sale is committed once");
    assert!(till.cart().unwrap().lines.is_empty());
    assert_eq!(till.unprinted().unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![sale.record.id]);

    // The printer is back: the reprint produces the receipt, with the drawer pulse for cash.
    let mut working = MemoryLink::default();
    till.print(&sale.record.id, &context(), &mut working).unwrap();
    assert!(till.unprinted().unwrap().is_empty());
    let printed = working.printed.lock().unwrap()[0].clone();
    assert!(printed.ends_with(&hardware::printer::drawer_kick(DrawerPin::Two)));
    assert!(terminal_app::print::opens_drawer(&sale.record));

    // A card sale prints without opening the drawer.
    till.add_item("BAU-LEV", 1).unwrap();
    let total = till.cart().unwrap().quote.total;
    let (card, printed) =
        till.complete_and_print(vec![Tender::Debit { amount: total }], &context(), &mut working).unwrap();
    printed.unwrap();
    assert!(!terminal_app::print::opens_drawer(&card.record));
    let bytes = working.printed.lock().unwrap()[1].clone();
    assert!(!bytes.windows(2).any(|w| w == [0x1B, b'p']), "no drawer pulse for a card sale");

    // Scans as a scanner sends them: a barcode, a SKU in Code 128, a weight label, a misread.
    let mut apples = server
        .runtime
        .block_on(sync_server::catalogue::product(&server.db, &"POM-1K".parse().unwrap()))
        .unwrap();
    apples.sku = "PLU-2812345".parse().unwrap();
    apples.barcodes.clear();
    apples.price = Money::parse("4.40").unwrap(); // per kilogram
    server.runtime.block_on(sync_server::catalogue::save_product(&server.db, &apples, true)).unwrap();
    till.sync_once().unwrap();
    let espresso = till.product("CAF-ESP-250").unwrap();
    till.add_scan(&format!("{}\r", espresso.barcodes[0])).unwrap();
    till.add_scan("]C0PAI-BAG").unwrap();
    let weight_label = hardware::scan::with_check("281234501250"); // 1.250 kg
    let view = till.add_scan(&weight_label).unwrap();
    assert_eq!(view.lines.len(), 3);
    assert_eq!(view.lines[2].0.unit_price, Money::parse("5.50").unwrap(), "1.250 kg at 4.40/kg");
    assert!(view.lines[2].0.description.ends_with("1.250 kg"));
    let mut misread = espresso.barcodes[0].to_string();
    misread.pop();
    misread.push('0');
    if misread != espresso.barcodes[0].to_string() {
        assert!(till.add_scan(&misread).is_err());
    }
    assert_eq!(till.cart().unwrap().lines.len(), 3, "a bad scan adds nothing");
    till.void().unwrap();

    till.sync_once().unwrap();
    assert_eq!(server.sales_at("WMT").0, 2);
    server.down();
}

/// A link to a fake printer that gives it time to answer on a busy machine.
fn link(printer: &FakePrinter) -> TcpLink {
    let wait = Duration::from_secs(5);
    TcpLink { address: printer.address(), timeout: wait, status_wait: wait }
}

/// The job the printer received last, as text.
fn last_paper(printer: &FakePrinter, jobs: usize) -> String {
    let jobs = printer.jobs(jobs, Duration::from_secs(5));
    paper::read(jobs.last().expect("a job")).unwrap()
}

/// Whether every word of `whole` is on the paper, uncut, in its order (an amount may come
/// between, on a name's first line).
fn words_in_order(text: &str, whole: &str) -> bool {
    let lines: Vec<String> = paper::text_lines(text).collect();
    let mut on_paper = lines.iter().flat_map(|l| l.split_whitespace());
    whole.split_whitespace().all(|word| on_paper.any(|w| w == word))
}

/// A till of store QDS, the demo store with the longest name and address, signed in.
fn qds_till(server: &Server, cashiers: &[(u32, String, String, String)]) -> (tempfile::TempDir, Register) {
    let (cashier, _, _, pin) = cashiers.iter().find(|c| c.2 == "QDS").unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let mut till = Register::open(dir.path().join("till.db")).unwrap();
    till.enrol(&server.url(), &server.code_for("QDS-01")).unwrap();
    till.sync_once().unwrap();
    till.sign_in(cashier, &pin).unwrap();
    (dir, till)
}

#[test]
fn the_demo_chains_receipts_follow_quebecs_rules_at_every_width() {
    let (mut server, cashiers) = Server::start();
    let (_dir, mut till) = qds_till(&server, &cashiers);
    // The demo product with the longest name, twice, with a discount; and the demo store with
    // the longest address.
    let longest =
        sync_server::demo::demo_products().into_iter().max_by_key(|p| p.name.chars().count()).unwrap();
    till.add_item(longest.sku.as_str(), 2).unwrap();
    till.set_discount(0, Some(Discount::Percent(Percent::from_basis_points(1_000).unwrap()))).unwrap();
    till.add_item("BAU-LEV", 1).unwrap();
    let total = till.cart().unwrap().quote.total;
    let sale = till.complete_sale(vec![Tender::Debit { amount: total }]).unwrap().record;

    let printer = FakePrinter::start(FakeState::Ready).unwrap();
    let mut jobs = 0;
    for columns in [32, 42, 48] {
        for language in [Language::Fr, Language::En] {
            let ctx = till.receipt_context(language, columns).unwrap();
            // What head office sent reaches the receipt.
            assert!(
                !ctx.legal_name.is_empty() && !ctx.gst_number.is_empty() && !ctx.qst_number.is_empty(),
                "{ctx:?}"
            );
            assert!(ctx.store_address.contains("Sainte-Catherine"), "{ctx:?}");
            let printed = till.print(&sale.id, &ctx, &mut link(&printer)).unwrap();
            jobs += 1;
            assert_eq!(printed.copy, jobs);
            assert!(matches!(printed.delivery, Delivery::Confirmed(_)), "{printed:?}");
            let text = last_paper(&printer, usize::try_from(jobs).unwrap());
            for line in paper::text_lines(&text) {
                assert!(
                    line.chars().count() <= usize::from(columns),
                    "{line:?} is wider than {columns}:\n{text}"
                );
            }
            let (gst, qst) = match language {
                Language::Fr => ("No TPS :", "No TVQ :"),
                Language::En => ("GST No:", "QST No:"),
            };
            for whole in [
                ctx.legal_name.clone(),
                longest.name.clone(),
                ctx.store_address.clone(),
                format!("{gst} {}", ctx.gst_number),
                format!("{qst} {}", ctx.qst_number),
                format!("{}-{:06}", sale.origin, sale.seq),
            ] {
                assert!(words_in_order(&text, &whole), "{whole:?} is not whole on:\n{text}");
            }
            let amount = match language {
                Language::Fr => format!("{},{:02} $", total.as_cents() / 100, total.as_cents() % 100),
                Language::En => format!("${}.{:02}", total.as_cents() / 100, total.as_cents() % 100),
            };
            assert!(text.contains(&amount), "{amount:?} missing from:\n{text}");
            // Only the first print is the original.
            let copy = match language {
                Language::Fr => "DUPLICATA",
                Language::En => "COPY",
            };
            assert_eq!(text.contains(copy), jobs > 1, "{text}");
        }
    }
    assert_eq!(till.copies(&sale.id).unwrap(), 6);

    // A return's receipt carries the same header and numbers.
    let found = till.find_sale(&sale.id).unwrap().unwrap();
    let ret = till
        .take_return(
            &found,
            &[(0, 1, true)],
            terminal_app::returns::RefundTo::Debit,
            shared_model::returns::ReturnReason::Defective,
        )
        .unwrap();
    let ctx = till.receipt_context(Language::Fr, 32).unwrap();
    till.print(&ret.id, &ctx, &mut link(&printer)).unwrap();
    let text = last_paper(&printer, 7);
    assert!(
        text.contains("RETOUR") && text.contains(&ctx.legal_name) && !text.contains("DUPLICATA"),
        "{text}"
    );
    assert!(text.contains(&format!("No TVQ : {}", ctx.qst_number)), "{text}");
    for line in paper::text_lines(&text) {
        assert!(line.chars().count() <= 32, "{line:?}:\n{text}");
    }
    server.down();
}

#[test]
fn a_printer_out_of_paper_leaves_the_receipt_unprinted_with_its_reason() {
    let (mut server, cashiers) = Server::start();
    let (_dir, mut till) = qds_till(&server, &cashiers);
    let ctx = till.receipt_context(Language::Fr, 42).unwrap();
    let printer = FakePrinter::start(FakeState::PaperEnd).unwrap();

    till.add_item("PAI-BAG", 1).unwrap();
    let (sale, printed) = till
        .complete_and_print(
            vec![Tender::Cash { amount: Money::parse("5.00").unwrap() }],
            &ctx,
            &mut link(&printer),
        )
        .unwrap();
    let reason = match printed {
        Err(RegisterError::NotPrinted(reason)) => reason,
        other => panic!("{other:?}"),
    };
    assert!(reason.contains("out of paper"), "{reason}");
    assert_eq!(till.journal().unwrap().len(), 1, "the sale stands");
    let unprinted = till.unprinted_with_reasons().unwrap();
    assert_eq!(unprinted.len(), 1);
    assert_eq!(unprinted[0].record.id, sale.record.id);
    assert_eq!(unprinted[0].reason.as_deref(), Some(reason.as_str()));
    assert_eq!(till.copies(&sale.record.id).unwrap(), 0);
    assert_eq!(printer.jobs(1, Duration::from_secs(5)), vec![Vec::<u8>::new()], "no job went to it");

    // The cover is open now: still unprinted, with the new reason.
    printer.set_state(FakeState::CoverOpen);
    assert!(till.print(&sale.record.id, &ctx, &mut link(&printer)).is_err());
    let unprinted = till.unprinted_with_reasons().unwrap();
    assert!(unprinted[0].reason.as_deref().unwrap().contains("cover is open"), "{unprinted:?}");

    // Paper in: the reprint is the original (no DUPLICATA, the drawer opens); the next is a copy.
    printer.set_state(FakeState::Ready);
    assert_eq!(till.print(&sale.record.id, &ctx, &mut link(&printer)).unwrap().copy, 1);
    assert!(till.unprinted_with_reasons().unwrap().is_empty());
    let original = printer.jobs(3, Duration::from_secs(5)).pop().unwrap();
    let text = paper::read(&original).unwrap();
    assert!(!text.contains("DUPLICATA") && text.ends_with("[DRAWER pin 2]"), "{text}");
    assert_eq!(till.print(&sale.record.id, &ctx, &mut link(&printer)).unwrap().copy, 2);
    let text = last_paper(&printer, 4);
    assert!(text.starts_with("[B]DUPLICATA\n") && !text.contains("[DRAWER"), "{text}");
    assert_eq!(till.copies(&sale.record.id).unwrap(), 2);

    // The roll ends while a receipt prints: it went, but it did not print.
    till.add_item("PAI-BAG", 1).unwrap();
    let running_out = FakePrinter::start(FakeState::RunsOutDuringJob).unwrap();
    let total = till.cart().unwrap().quote.total;
    let (card, printed) = till
        .complete_and_print(vec![Tender::Debit { amount: total }], &ctx, &mut link(&running_out))
        .unwrap();
    assert!(
        matches!(printed, Err(RegisterError::NotPrinted(ref r)) if r.contains("out of paper")),
        "{printed:?}"
    );
    assert_eq!(till.unprinted().unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![card.record.id]);

    // A printer that never answers status queries: the job went, and that counts as printed.
    let silent = FakePrinter::start(FakeState::Silent).unwrap();
    let mut quick = TcpLink { status_wait: Duration::from_millis(300), ..link(&silent) };
    let printed = till.print(&card.record.id, &ctx, &mut quick).unwrap();
    assert_eq!(printed.delivery, Delivery::Unconfirmed);
    assert!(till.unprinted().unwrap().is_empty());
    let text = last_paper(&silent, 1);
    assert!(text.contains("TOTAL") && !text.contains("DUPLICATA"), "{text}");
    server.down();
}
