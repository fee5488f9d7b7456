//! A receipt as plain text, for the CLI and for reprints on a screen: labels in both languages,
//! amounts in the receipt's. The printer layouts (ESC/POS, 32/42/48 columns, French and
//! English) come with the hardware drivers.

use std::fmt::Write;

use shared_model::{Locale, Money, ReceiptNumber, Record, RecordBody, Tender};

/// `left ..... right`: the amount on the first line, a long name wrapped beneath it, never cut.
fn row(out: &mut String, width: usize, left: &str, right: &str) {
    // Names come from head office: control characters in them would drive the terminal
    // (`wrap` keeps only printable text).
    let room = width.saturating_sub(right.chars().count() + 1).max(1);
    let lines = hardware::printer::wrap(left, room);
    let mut lines = lines.iter();
    let first = lines.next().map(String::as_str).unwrap_or_default();
    let pad = room.saturating_sub(first.chars().count());
    let _ = writeln!(out, "{first}{} {right}", " ".repeat(pad));
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

fn tender_label(tender: &Tender) -> String {
    match tender {
        Tender::Cash { .. } => "Comptant / Cash".into(),
        Tender::Debit { .. } => "Débit / Debit".into(),
        Tender::Credit { approval, .. } => format!("Crédit / Credit {}", approval.as_str()),
    }
}

/// The receipt of a sale or return record, `width` columns wide, amounts written for `locale`.
pub fn text(record: &Record, width: usize, locale: Locale) -> String {
    let money = |m: Money| m.localized(locale).to_string();
    let mut out = String::new();
    match ReceiptNumber::new(record.origin.clone(), record.seq) {
        Ok(number) => {
            let _ = writeln!(out, "{} — {number}", record.store);
        }
        Err(_) => {
            let _ = writeln!(out, "{} — {}", record.store, record.origin);
        }
    }
    let _ = writeln!(out, "{}", record.id);
    let _ = writeln!(out, "{}", "-".repeat(width));
    match &record.body {
        RecordBody::Sale(sale) => {
            for line in &sale.lines {
                let amounts = line.amounts().unwrap_or_default();
                row(&mut out, width, &line.description, &money(amounts.gross));
                if line.quantity.get() > 1 {
                    let _ = writeln!(out, "  {} x {}", line.quantity, money(line.unit_price));
                }
                if amounts.discount > shared_model::Money::ZERO {
                    row(&mut out, width, "  Rabais / Discount", &money(-amounts.discount));
                }
            }
            let t = sale.totals;
            let _ = writeln!(out, "{}", "-".repeat(width));
            row(&mut out, width, "Sous-total / Subtotal", &money(t.net));
            row(&mut out, width, "TPS / GST 5 %", &money(t.gst));
            row(&mut out, width, "TVQ / QST 9,975 %", &money(t.qst));
            row(&mut out, width, "TOTAL", &money(t.total));
            if t.rounding != shared_model::Money::ZERO {
                row(&mut out, width, "Arrondi / Rounding", &money(t.rounding));
            }
            for tender in &sale.tenders {
                row(&mut out, width, &tender_label(tender), &money(tender.amount()));
            }
            if t.change > shared_model::Money::ZERO {
                row(&mut out, width, "Monnaie / Change", &money(t.change));
            }
        }
        RecordBody::Return(ret) => {
            let _ = writeln!(out, "RETOUR / RETURN");
            for line in &ret.lines {
                row(
                    &mut out,
                    width,
                    &format!("{} x {}", line.quantity, line.description),
                    &money(line.refund.total()),
                );
            }
            let t = ret.totals;
            let _ = writeln!(out, "{}", "-".repeat(width));
            row(&mut out, width, "TPS / GST", &money(t.gst));
            row(&mut out, width, "TVQ / QST", &money(t.qst));
            row(&mut out, width, "REMBOURSÉ / REFUNDED", &money(t.refunded()));
            if let Some(order) = ret.online_order {
                let _ = writeln!(out, "Carte de la commande / Card of order {order}");
            }
        }
        other => {
            let _ = writeln!(out, "{}", other.kind());
        }
    }
    out
}
