//! Receipts read back: a decoder of the ESC/POS subset the till emits renders the bytes as a
//! text "paper", with markers for bold, cut, the drawer and the QR code, so a receipt is checked
//! as text; cut and drawer are checked to the byte; links are tried on a file, a TCP listener
//! on loopback, and a port where no printer answers.

use std::io::Read;

use hardware::printer::{
    DrawerPin, FileLink, Language, MemoryLink, PrinterLink, ReceiptContext, TcpLink, drawer_kick, render,
};
use hardware::printer::{PrinterStatus, SerialLink};
use shared_model::testing::{Act, Pay, build_records};

/// PC863 (Canadian French) bytes the receipts use, back to text.
fn pc863(byte: u8) -> char {
    match byte {
        0x20..=0x7E => char::from(byte),
        0x82 => 'é',
        0x83 => 'â',
        0x85 => 'à',
        0x87 => 'ç',
        0x88 => 'ê',
        0x89 => 'ë',
        0x8A => 'è',
        0x8B => 'ï',
        0x8C => 'î',
        0x90 => 'É',
        0x93 => 'ô',
        0x97 => 'ù',
        0x96 => 'û',
        _ => '?',
    }
}

/// Renders ESC/POS bytes as a paper of text. Panics on a command it does not know, so a layout
/// that starts emitting something new is noticed.
fn paper(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut qr = String::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x0A => {
                out.push('\n');
                i += 1;
            }
            0x1B => {
                let command = bytes[i + 1];
                i += match command {
                    b'@' => 2,
                    b't' | b'a' | b'!' | b'-' | b'G' | b'M' => 3,
                    b'E' => {
                        out.push_str(if bytes[i + 2] == 1 { "[B]" } else { "[/B]" });
                        3
                    }
                    b'd' => {
                        out.push_str(&"\n".repeat(usize::from(bytes[i + 2])));
                        3
                    }
                    b'p' => {
                        out.push_str(&format!("[DRAWER pin {}]", if bytes[i + 2] == 0 { 2 } else { 5 }));
                        5
                    }
                    other => panic!("unknown ESC {other:#04x} at {i}"),
                };
            }
            0x1D => {
                let command = bytes[i + 1];
                i += match command {
                    b'V' => {
                        out.push_str("[CUT]");
                        4
                    }
                    b'!' => 3,
                    b'(' if bytes[i + 2] == b'k' => {
                        let length = usize::from(bytes[i + 3]) + 256 * usize::from(bytes[i + 4]);
                        let (cn, function) = (bytes[i + 5], bytes[i + 6]);
                        if cn == 49 && function == 80 {
                            qr = String::from_utf8_lossy(&bytes[i + 8..i + 5 + length]).into_owned();
                        }
                        if cn == 49 && function == 81 {
                            out.push_str(&format!("[QR {qr}]"));
                        }
                        5 + length
                    }
                    other => panic!("unknown GS {other:#04x} at {i}"),
                };
            }
            byte => {
                out.push(pc863(byte));
                i += 1;
            }
        }
    }
    out
}

fn context(language: Language, columns: u8) -> ReceiptContext {
    ReceiptContext {
        store_name: "Caisse Plateau Mont-Royal".into(),
        store_address: "4380, boul. Saint-Laurent".into(),
        gst_number: "123456789RT0001".into(),
        qst_number: "1234567890TQ0001".into(),
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
    }
}

fn cash_sale() -> shared_model::Record {
    build_records(&[vec![Act::Sale {
        lines: vec![(0, 2, Some(1_000)), (2, 1, None)],
        pay: Pay::Cash { extra: 500 },
    }]])
    .remove(0)
}

#[test]
fn a_cash_sale_prints_everything_and_opens_the_drawer() {
    let sale = cash_sale();
    let bytes = render(&sale, &context(Language::Fr, 42)).unwrap();
    let text = paper(&bytes);
    for expected in [
        "[B]Caisse Plateau Mont-Royal\n[/B]",
        "Caissier Léa",
        "  2 x 12.99",
        "  Rabais",
        "TPS 5 % 123456789RT0001",
        "TVQ 9,975 % 1234567890TQ0001",
        "[B]TOTAL",
        "Comptant",
        "Monnaie",
        "Retours sous 30 jours avec reçu.",
        &format!("[QR {}]", sale.id),
        "[CUT]",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(text.ends_with("[CUT][DRAWER pin 2]"), "{text}");
    for line in text.lines().filter(|l| !l.starts_with('[')) {
        assert!(line.chars().count() <= 42, "{line:?} is wider than the paper");
    }
    // Exact bytes: a full cut, then the 5-byte drawer pulse.
    assert!(bytes.ends_with(&[0x1D, b'V', b'A', 0, 0x1B, b'p', 0, 25, 250]));
    assert_eq!(drawer_kick(DrawerPin::Five), [0x1B, b'p', 1, 25, 250]);
}

#[test]
fn card_sales_and_every_width_and_language() {
    let card = build_records(&[vec![Act::Sale { lines: vec![(4, 1, None)], pay: Pay::Debit }]]).remove(0);
    for columns in [32, 42, 48] {
        for language in [Language::Fr, Language::En] {
            let text = paper(&render(&card, &context(language, columns)).unwrap());
            assert!(!text.contains("[DRAWER"), "a card sale never opens the drawer");
            assert!(text.contains(if language == Language::Fr { "Débit" } else { "Debit" }), "{text}");
            for line in text.lines().filter(|l| !l.starts_with('[')) {
                assert!(line.chars().count() <= usize::from(columns), "{line:?} wider than {columns}");
            }
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
    let z = paper(&render(&records[2], &context(Language::Fr, 42)).unwrap());
    assert!(z.contains("RAPPORT Z") && z.contains("Comptant attendu") && !z.contains("[QR"), "{z}");
}

#[test]
fn links_carry_the_bytes_or_say_they_could_not() {
    let bytes = render(&cash_sale(), &context(Language::Fr, 42)).unwrap();
    let timeout = std::time::Duration::from_secs(2);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lp0");
    FileLink { path: path.clone(), timeout }.send(&bytes).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let receiver = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        got
    });
    TcpLink { address, timeout }.send(&bytes).unwrap();
    assert_eq!(receiver.join().unwrap(), bytes);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert!(TcpLink { address: closed, timeout }.send(&bytes).is_err(), "nobody listens there");
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

/// A fake network printer that answers the three status queries with the given bytes.
fn fake_printer(answers: [u8; 3]) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        let (mut stream, _) = listener.accept().unwrap();
        for answer in answers {
            let mut query = [0u8; 3];
            stream.read_exact(&mut query).unwrap();
            assert_eq!(&query[..2], &[0x10, 0x04], "DLE EOT");
            stream.write_all(&[answer]).unwrap();
        }
    });
    address
}

#[test]
fn a_network_printer_says_how_it_is() {
    let timeout = std::time::Duration::from_secs(2);
    let ready = TcpLink { address: fake_printer([0x16, 0x12, 0x12]), timeout }.status().unwrap();
    assert_eq!(ready, PrinterStatus { online: true, cover_open: false, paper_out: false, paper_low: false });
    let cover = TcpLink { address: fake_printer([0x1E, 0x16, 0x12]), timeout }.status().unwrap();
    assert!(!cover.online && cover.cover_open);
    let paper = TcpLink { address: fake_printer([0x1E, 0x32, 0x72]), timeout }.status().unwrap();
    assert!(paper.paper_out);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert!(TcpLink { address: closed, timeout }.status().is_err());
}

#[test]
fn a_serial_printer_link_writes_to_the_port() {
    use serialport::{SerialPort, TTYPort};
    let (mut master, slave) = TTYPort::pair().unwrap();
    let bytes = render(&cash_sale(), &context(Language::En, 32)).unwrap();
    let path = slave.name().unwrap();
    let mut link = SerialLink { path: path.into(), baud: 19_200, timeout: std::time::Duration::from_secs(2) };
    let writer = std::thread::spawn(move || link.send(&bytes).map(|()| bytes));
    master.set_timeout(std::time::Duration::from_millis(200)).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let sent = loop {
        match master.read(&mut chunk) {
            Ok(n) if n > 0 => got.extend_from_slice(&chunk[..n]),
            _ if writer.is_finished() => break writer.join().unwrap().unwrap(),
            _ => {}
        }
    };
    while let Ok(n) = master.read(&mut chunk) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(got, sent);
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
        // the same receipt with clean names.
        let controls = |bytes: &[u8]| bytes.iter().filter(|b| **b < 0x20 || **b == 0x7F).count();
        assert_eq!(controls(&bytes), controls(&render(&record, &clean).unwrap()), "{text}");
        // What is left of the names is printed, and fits the paper.
        assert!(text.contains("[B]Caissep? PlateauV\n[/B]"), "{text}");
        assert!(text.contains("Caissier Léap?"), "{text}");
        assert!(text.contains("Espressop?"), "{text}");
        for line in text.lines().filter(|l| !l.starts_with('[')) {
            assert!(line.chars().count() <= 42, "{line:?} is wider than the paper");
        }
    }

    // The settings screen's test page prints the store's name too.
    let test_page = hardware::printer::render_test(&ctx).unwrap();
    assert_eq!(occurrences(&test_page, &[0x1B, b'p']), 0);
    assert_eq!(occurrences(&test_page, &[0x1D, b'V']), 1);
    assert_eq!(occurrences(&test_page, &[0x1B, b'@']), 1);
}
