//! Receipts read back: a decoder of the ESC/POS subset the till emits renders the bytes as a
//! text "paper", with markers for bold, cut, the drawer and the QR code, so a receipt is checked
//! as text; cut and drawer are checked to the byte; links are tried on a file, a fake Epson
//! printer on loopback in each of its states, a serial line, and a port where no printer answers.

use std::io::{Read, Write};

use hardware::printer::fake::{FakePrinter, FakeState};
use hardware::printer::{
    Delivery, DrawerPin, Fault, FileLink, Language, MemoryLink, PrintError, PrinterLink, PrinterStatus,
    ReceiptContext, SerialLink, TcpLink, drawer_kick, render,
};
use shared_model::testing::{Act, Pay, build_records};

/// The receipt's bytes as a text paper (see [`hardware::printer::paper`]).
fn paper(bytes: &[u8]) -> String {
    hardware::printer::paper::read(bytes).unwrap()
}

/// No text line of the paper is wider than `columns`, counted in characters after decoding.
fn fits(text: &str, columns: u8) {
    for line in hardware::printer::paper::text_lines(text) {
        assert!(line.chars().count() <= usize::from(columns), "{line:?} is wider than {columns}:\n{text}");
    }
}

fn context(language: Language, columns: u8) -> ReceiptContext {
    ReceiptContext {
        legal_name: "Épiceries Caisse Montréal inc.".into(),
        store_name: "Caisse Plateau Mont-Royal".into(),
        store_address: "4380, boul. Saint-Laurent".into(),
        gst_number: "123456789 RT 0001".into(),
        qst_number: "1234567890 TQ 0001".into(),
        cashier: "Léa".into(),
        printed_at: "2026-11-22 14:05".into(),
        return_policy: if language == Language::Fr {
            "Retours sous 30 jours avec reçu."
        } else {
            "Returns within 30 days with receipt."
        }
        .into(),
        language,
        columns,
        drawer: DrawerPin::Two,
        duplicate: false,
    }
}

fn cash_sale() -> shared_model::Record {
    build_records(&[vec![Act::Sale {
        lines: vec![(0, 2, Some(1_000)), (2, 1, None)],
        pay: Pay::Cash { extra: 500 },
    }]])
    .remove(0)
}

/// Whether every word of `whole` is on the paper, uncut, in its order (other text, such as an
/// amount, may come between).
fn words_in_order(paper: &str, whole: &str) -> bool {
    let lines: Vec<String> = hardware::printer::paper::text_lines(paper).collect();
    let mut on_paper = lines.iter().flat_map(|l| l.split_whitespace());
    whole.split_whitespace().all(|word| on_paper.any(|w| w == word))
}

fn number(record: &shared_model::Record) -> String {
    shared_model::ReceiptNumber::new(record.origin.clone(), record.seq).unwrap().to_string()
}

#[test]
fn a_cash_sale_prints_everything_and_opens_the_drawer() {
    let sale = cash_sale();
    let bytes = render(&sale, &context(Language::Fr, 42)).unwrap();
    let text = paper(&bytes);
    for expected in [
        "[B]Épiceries Caisse Montréal inc.\n[/B]Caisse Plateau Mont-Royal\n",
        &format!("Reçu {}", number(&sale)),
        "Caissier Léa",
        "  2 x 12,99 $",
        "  Rabais",
        "-2,60 $",
        "TPS 5 %",
        "TVQ 9,975 %",
        "No TPS : 123456789 RT 0001\n",
        "No TVQ : 1234567890 TQ 0001\n",
        "[B]TOTAL",
        "Comptant",
        "Monnaie",
        "Retours sous 30 jours avec reçu.",
        &format!("[QR {}]{}\n", sale.id, number(&sale)),
        "[CUT]",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(!text.contains("DUPLICATA") && !text.contains("$2"), "{text}");
    assert!(text.ends_with("[CUT][DRAWER pin 2]"), "{text}");
    fits(&text, 42);
    // Exact bytes: a full cut, then the 5-byte drawer pulse.
    assert!(bytes.ends_with(&[0x1D, b'V', b'A', 0, 0x1B, b'p', 0, 25, 250]));
    assert_eq!(drawer_kick(DrawerPin::Five), [0x1B, b'p', 1, 25, 250]);
}

#[test]
fn an_english_receipt_writes_its_figures_in_english() {
    let sale = cash_sale();
    let text = paper(&render(&sale, &context(Language::En, 32)).unwrap());
    for expected in [
        "[B]Épiceries Caisse Montréal inc.",
        &format!("Receipt {}", number(&sale)),
        "  2 x $12.99",
        "-$2.60",
        "GST 5%",
        "QST 9.975%",
        "GST No: 123456789 RT 0001\n",
        "QST No: 1234567890 TQ 0001\n",
        "Cash",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(!text.contains(",99 $") && !text.contains("No TPS"), "{text}");
    fits(&text, 32);
}

#[test]
fn a_copy_says_so_at_the_top_and_leaves_the_drawer_shut() {
    let sale = cash_sale();
    for (language, word) in [(Language::Fr, "DUPLICATA"), (Language::En, "COPY")] {
        let mut ctx = context(language, 42);
        let original = paper(&render(&sale, &ctx).unwrap());
        assert!(!original.contains(word), "{original}");
        ctx.duplicate = true;
        let copy = paper(&render(&sale, &ctx).unwrap());
        assert!(copy.starts_with(&format!("[B]{word}\n[/B]")), "{copy}");
        assert!(
            !copy.contains("[DRAWER") && copy.ends_with("[CUT]"),
            "the money moved with the original: {copy}"
        );
    }
}

#[test]
fn without_registration_numbers_or_a_legal_name_no_line_is_left_empty() {
    let mut ctx = context(Language::Fr, 42);
    ctx.legal_name.clear();
    ctx.gst_number.clear();
    ctx.qst_number = "  ".into();
    let text = paper(&render(&cash_sale(), &ctx).unwrap());
    assert!(text.contains("[B]Caisse Plateau Mont-Royal\n[/B]"), "{text}");
    let before_qr = text.split("[QR").next().unwrap();
    assert!(!text.contains("No TPS") && !text.contains("No TVQ") && !before_qr.contains("\n\n"), "{text}");
}

#[test]
fn long_names_and_addresses_wrap_at_words_and_keep_the_amount_first() {
    let mut records = build_records(&[vec![
        Act::Sale { lines: vec![(0, 3, Some(500)), (3, 1, None)], pay: Pay::Cash { extra: 0 } },
        Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: true },
    ]]);
    let long = "Planche à découper en érable massif du Québec, huilée à la main, grand format";
    if let shared_model::RecordBody::Sale(sale) = &mut records[0].body {
        sale.lines[0].description = long.into();
    }
    if let shared_model::RecordBody::Return(ret) = &mut records[1].body {
        ret.lines[0].description = long.into();
    }
    for columns in [32, 42, 48] {
        for language in [Language::Fr, Language::En] {
            let mut ctx = context(language, columns);
            ctx.store_name = "Quartier des Spectacles".into();
            ctx.store_address = "305, rue Sainte-Catherine Ouest, Montréal (QC) H2X 2A1".into();
            ctx.cashier = "Marie-Ève Lévesque-Tremblay-Bouchard".into();
            for record in &records {
                let text = paper(&render(record, &ctx).unwrap());
                fits(&text, columns);
                // Every word of the name and the address is on the paper, whole and in order.
                for whole in [&ctx.store_address, "Marie-Ève Lévesque-Tremblay-Bouchard", long] {
                    assert!(words_in_order(&text, whole), "{whole:?} is not whole in:\n{text}");
                }
                // The amount ends the name's first line.
                let first =
                    hardware::printer::paper::text_lines(&text).find(|l| l.contains("Planche")).unwrap();
                assert!(first.ends_with(" $") || first.contains('$'), "{first:?} has no amount:\n{text}");
                assert_eq!(first.chars().count(), usize::from(columns), "{first:?}");
            }
        }
    }
    // Only a word longer than the paper is ever cut.
    let mut ctx = context(Language::En, 32);
    ctx.store_address = "X".repeat(40);
    let text = paper(&render(&records[0], &ctx).unwrap());
    assert!(text.contains(&format!("{}\n{}\n", "X".repeat(32), "X".repeat(8))), "{text}");
}

#[test]
fn card_sales_and_every_width_and_language() {
    let card = build_records(&[vec![Act::Sale { lines: vec![(4, 1, None)], pay: Pay::Debit }]]).remove(0);
    for columns in [32, 42, 48] {
        for language in [Language::Fr, Language::En] {
            let text = paper(&render(&card, &context(language, columns)).unwrap());
            assert!(!text.contains("[DRAWER"), "a card sale never opens the drawer");
            assert!(text.contains(if language == Language::Fr { "Débit" } else { "Debit" }), "{text}");
            fits(&text, columns);
        }
    }
}

#[test]
fn returns_and_the_z_report_have_their_layouts() {
    let records = build_records(&[vec![
        Act::Sale { lines: vec![(0, 2, None)], pay: Pay::Debit },
        Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: true },
        Act::Close,
    ]]);
    let ret = paper(&render(&records[1], &context(Language::En, 42)).unwrap());
    assert!(
        ret.contains("[B]RETURN") && ret.contains("Refunded") && ret.ends_with("[DRAWER pin 2]"),
        "{ret}"
    );
    assert!(
        ret.contains("GST No: 123456789 RT 0001") && ret.contains("[B]Épiceries Caisse Montréal inc."),
        "{ret}"
    );
    let retour = paper(&render(&records[1], &context(Language::Fr, 32)).unwrap());
    assert!(retour.contains("No TVQ : 1234567890 TQ 0001") && retour.contains("[B]RETOUR"), "{retour}");
    fits(&retour, 32);
    let z = paper(&render(&records[2], &context(Language::Fr, 42)).unwrap());
    assert!(z.contains("RAPPORT Z") && z.contains("Comptant attendu") && !z.contains("[QR"), "{z}");
}

#[test]
fn links_carry_the_bytes_or_say_they_could_not() {
    let bytes = render(&cash_sale(), &context(Language::Fr, 42)).unwrap();
    let timeout = std::time::Duration::from_secs(2);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lp0");
    let sent = FileLink { path: path.clone(), timeout }.send(&bytes).unwrap();
    assert_eq!(sent, Delivery::Unconfirmed, "a file cannot be asked");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert!(TcpLink::new(closed, timeout).send(&bytes).is_err(), "nobody listens there");
    let missing = FileLink { path: dir.path().join("no/such/device"), timeout };
    assert!(missing.clone().send(&bytes).is_err());

    let mut memory = MemoryLink::default();
    memory.send(&bytes).unwrap();
    assert_eq!(memory.printed.lock().unwrap().len(), 1);
}

#[test]
fn the_sale_receipt_matches_its_snapshot() {
    let paper = paper(&render(&cash_sale(), &context(Language::Fr, 42)).unwrap());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/sale_fr_42.txt");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &paper).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("the snapshot (UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(paper, expected, "the receipt changed: look at it, then UPDATE_SNAPSHOTS=1 if it is right");
}

/// A link to the fake printer that waits long enough for its answers on a busy machine.
fn link_to(printer: &FakePrinter) -> TcpLink {
    let wait = std::time::Duration::from_secs(5);
    TcpLink { address: printer.address(), timeout: wait, status_wait: wait }
}

#[test]
fn a_network_printer_says_how_it_is() {
    let ready = link_to(&FakePrinter::start(FakeState::Ready).unwrap()).status().unwrap();
    assert_eq!(ready, PrinterStatus { online: true, cover_open: false, paper_out: false, paper_low: false });
    let cover = link_to(&FakePrinter::start(FakeState::CoverOpen).unwrap()).status().unwrap();
    assert!(!cover.online && cover.cover_open);
    let paper = link_to(&FakePrinter::start(FakeState::PaperEnd).unwrap()).status().unwrap();
    assert!(paper.paper_out);
    let silent = FakePrinter::start(FakeState::Silent).unwrap();
    let quick = TcpLink { status_wait: std::time::Duration::from_millis(200), ..link_to(&silent) };
    assert!(matches!(quick.status(), Err(PrintError::TimedOut(_))));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert!(TcpLink::new(closed, std::time::Duration::from_secs(2)).status().is_err());
}

#[test]
fn a_job_counts_as_printed_only_when_the_printer_says_it_can() {
    let sale = cash_sale();
    let bytes = render(&sale, &context(Language::Fr, 42)).unwrap();
    let wait = std::time::Duration::from_secs(5);

    // Ready: asked before and after the job, and the job arrives whole, queries taken out.
    let printer = FakePrinter::start(FakeState::Ready).unwrap();
    assert!(matches!(link_to(&printer).send(&bytes).unwrap(), Delivery::Confirmed(s) if !s.paper_low));
    assert_eq!(printer.jobs(1, wait), vec![bytes.clone()]);
    assert_eq!(printer.queries(), 6);

    // Paper low still prints, and says so.
    printer.set_state(FakeState::PaperLow);
    assert!(matches!(link_to(&printer).send(&bytes).unwrap(), Delivery::Confirmed(s) if s.paper_low));

    // Paper end, cover open, offline: the job is not sent, the error names the reason.
    for (state, fault, words) in [
        (FakeState::PaperEnd, Fault::PaperOut, "out of paper"),
        (FakeState::CoverOpen, Fault::CoverOpen, "cover is open"),
        (FakeState::Offline, Fault::Offline, "offline"),
    ] {
        let printer = FakePrinter::start(state).unwrap();
        let e = link_to(&printer).send(&bytes).unwrap_err();
        assert!(matches!(e, PrintError::NotReady(f) if f == fault), "{e:?}");
        assert!(e.to_string().contains(words), "{e}");
        assert_eq!(
            printer.jobs(1, wait),
            vec![Vec::<u8>::new()],
            "no job for a printer that cannot print it"
        );
    }

    // The paper runs out during the job: it went, but the receipt did not print.
    let printer = FakePrinter::start(FakeState::RunsOutDuringJob).unwrap();
    let e = link_to(&printer).send(&bytes).unwrap_err();
    assert!(matches!(e, PrintError::NotReady(Fault::PaperOut)), "{e:?}");
    assert_eq!(paper(&printer.jobs(1, wait)[0]), paper(&render(&sale, &context(Language::Fr, 42)).unwrap()));

    // Silent: today's behaviour, the job went and nothing more is known; it is asked once.
    let silent = FakePrinter::start(FakeState::Silent).unwrap();
    let mut quick = TcpLink { status_wait: std::time::Duration::from_millis(300), ..link_to(&silent) };
    let bytes = render(&sale, &context(Language::Fr, 42)).unwrap();
    assert_eq!(quick.send(&bytes).unwrap(), Delivery::Unconfirmed);
    assert_eq!(silent.jobs(1, wait), vec![bytes]);
    assert_eq!(silent.queries(), 1, "a silent printer is not asked again after the job");
}

#[test]
fn a_serial_printer_link_writes_to_the_port_and_reads_its_status() {
    use serialport::{SerialPort, TTYPort};
    let (mut master, slave) = TTYPort::pair().unwrap();
    let bytes = render(&cash_sale(), &context(Language::En, 32)).unwrap();
    let path = slave.name().unwrap();
    let wait = std::time::Duration::from_secs(2);
    let mut link = SerialLink { path: path.into(), baud: 19_200, timeout: wait, status_wait: wait };
    let writer = std::thread::spawn(move || link.send(&bytes).map(|delivery| (delivery, bytes)));
    // The printer's end of the line: it keeps what it gets and answers queries as a ready
    // printer whose roll is nearly done.
    master.set_timeout(std::time::Duration::from_millis(200)).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let (delivery, sent) = loop {
        match master.read(&mut chunk) {
            Ok(n) if n > 0 => {
                for &byte in &chunk[..n] {
                    got.push(byte);
                    if let [.., 0x10, 0x04, query] = got[..] {
                        got.truncate(got.len() - 3);
                        master.write_all(&[FakeState::PaperLow.answer(query).unwrap()]).unwrap();
                    }
                }
            }
            _ if writer.is_finished() => break writer.join().unwrap().unwrap(),
            _ => {}
        }
    };
    assert_eq!(got, sent);
    assert!(matches!(delivery, Delivery::Confirmed(s) if s.paper_low), "{delivery:?}");
    drop(slave);
}

/// How often a byte sequence occurs in the receipt's bytes.
fn occurrences(bytes: &[u8], needle: &[u8]) -> usize {
    bytes.windows(needle.len()).filter(|w| *w == needle).count()
}

#[test]
fn control_characters_in_names_never_reach_the_printer() {
    // ESC p 0 25 250 opens the drawer, GS V 0 cuts, ESC @ resets; C1 and DEL for good measure.
    let kick = "\x1bp\x00\x19\u{fa}";
    let cut = "\x1dV\x00";
    let clean = context(Language::Fr, 42);
    let mut ctx = clean.clone();
    ctx.store_name = format!("Caisse{kick} Plateau{cut}");
    ctx.store_address = format!("4380{cut}, boul.\x1b@ Saint-Laurent\u{9b}");
    ctx.cashier = format!("Léa{kick}\n\r\t\u{7f}");
    ctx.gst_number = format!("123456789RT0001{cut}");
    ctx.printed_at = format!("2026-11-22 14:05{kick}");
    ctx.return_policy = format!("Retours{kick} sous 30 jours{cut} avec reçu.\u{85}");
    let injected = |record: &shared_model::Record| {
        let mut record = record.clone();
        match &mut record.body {
            shared_model::RecordBody::Sale(sale) => {
                sale.lines[0].description = format!("Espresso{kick} moulu{cut}\x1b@")
            }
            shared_model::RecordBody::Return(ret) => {
                ret.lines[0].description = format!("Espresso{kick}{cut}")
            }
            _ => unreachable!(),
        }
        record
    };

    let card = build_records(&[vec![Act::Sale { lines: vec![(0, 1, None)], pay: Pay::Debit }]]).remove(0);
    let returned = build_records(&[vec![
        Act::Sale { lines: vec![(0, 2, None)], pay: Pay::Debit },
        Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: true },
    ]])
    .remove(1);
    for (record, drawer) in [(card, false), (cash_sale(), true), (returned, true)] {
        let bytes = render(&injected(&record), &ctx).unwrap();
        let text = paper(&bytes);
        // The receipt's own cut, then its own drawer pulse for cash, and nothing else.
        assert_eq!(occurrences(&bytes, &[0x1D, b'V']), 1, "{text}");
        assert_eq!(occurrences(&bytes, &[0x1B, b'p']), usize::from(drawer), "{text}");
        assert_eq!(occurrences(&bytes, &[0x1B, b'@']), 1, "only the receipt's own reset: {text}");
        assert_eq!(text.matches("[CUT]").count(), 1, "{text}");
        assert_eq!(text.matches("[DRAWER").count(), usize::from(drawer), "{text}");
        if drawer {
            assert!(bytes.ends_with(&[0x1D, b'V', b'A', 0, 0x1B, b'p', 0, 25, 250]), "{text}");
        } else {
            assert!(text.ends_with("[CUT]"), "{text}");
        }
        // Every control byte on the paper is one of the layout's own commands: as many as on
        // the same receipt with clean names (line feeds aside: names of another length wrap
        // onto another number of lines).
        let controls =
            |bytes: &[u8]| bytes.iter().filter(|b| (**b < 0x20 && **b != 0x0A) || **b == 0x7F).count();
        assert_eq!(controls(&bytes), controls(&render(&record, &clean).unwrap()), "{text}");
        // What is left of the names is printed, and fits the paper.
        assert!(text.contains("[/B]Caissepú PlateauV\n"), "{text}");
        assert!(text.contains("Caissier Léapú"), "{text}");
        assert!(text.contains("Espressopú"), "{text}");
        fits(&text, 42);
    }

    // The settings screen's test page prints the store's name too.
    let test_page = hardware::printer::render_test(&ctx).unwrap();
    assert_eq!(occurrences(&test_page, &[0x1B, b'p']), 0);
    assert_eq!(occurrences(&test_page, &[0x1D, b'V']), 1);
    assert_eq!(occurrences(&test_page, &[0x1B, b'@']), 1);
}
