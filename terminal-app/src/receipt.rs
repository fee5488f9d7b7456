//! A receipt as plain text, for the CLI and for reprints on a screen. The printer layouts
//! (ESC/POS, 32/42/48 columns, French and English) come with the hardware drivers.

use std::fmt::Write;

use shared_model::{Record, RecordBody, Tender};

fn row(out: &mut String, width: usize, left: &str, right: &str) {
    // Names come from head office: control characters in them would drive the terminal.
    let left = hardware::printer::printable(left);
    let room = width.saturating_sub(right.chars().count() + 1);
    let left: String = left.chars().take(room).collect();
    let _ = writeln!(out, "{left:<room$} {right}");
}

fn tender_label(tender: &Tender) -> String {
    match tender {
        Tender::Cash { .. } => "Comptant / Cash".into(),
        Tender::Debit { .. } => "Débit / Debit".into(),
        Tender::Credit { approval, .. } => format!("Crédit / Credit {}", approval.as_str()),
    }
}

/// The receipt of a sale or return record, `width` columns wide.
pub fn text(record: &Record, width: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}  #{}", record.store, record.origin, record.seq);
    let _ = writeln!(out, "{}", record.id);
    let _ = writeln!(out, "{}", "-".repeat(width));
    match &record.body {
        RecordBody::Sale(sale) => {
            for line in &sale.lines {
                let amounts = line.amounts().unwrap_or_default();
                row(&mut out, width, &line.description, &amounts.gross.to_string());
                if line.quantity.get() > 1 {
                    let _ = writeln!(out, "  {} x {}", line.quantity, line.unit_price);
                }
                if amounts.discount > shared_model::Money::ZERO {
                    row(&mut out, width, "  Rabais / Discount", &format!("-{}", amounts.discount));
                }
            }
            let t = sale.totals;
            let _ = writeln!(out, "{}", "-".repeat(width));
            row(&mut out, width, "Sous-total / Subtotal", &t.net.to_string());
            row(&mut out, width, "TPS / GST 5 %", &t.gst.to_string());
            row(&mut out, width, "TVQ / QST 9,975 %", &t.qst.to_string());
            row(&mut out, width, "TOTAL", &t.total.to_string());
            if t.rounding != shared_model::Money::ZERO {
                row(&mut out, width, "Arrondi / Rounding", &t.rounding.to_string());
            }
            for tender in &sale.tenders {
                row(&mut out, width, &tender_label(tender), &tender.amount().to_string());
            }
            if t.change > shared_model::Money::ZERO {
                row(&mut out, width, "Monnaie / Change", &t.change.to_string());
            }
        }
        RecordBody::Return(ret) => {
            let _ = writeln!(out, "RETOUR / RETURN");
            for line in &ret.lines {
                row(
                    &mut out,
                    width,
                    &format!("{} x {}", line.quantity, line.description),
                    &line.refund.total().to_string(),
                );
            }
            let t = ret.totals;
            let _ = writeln!(out, "{}", "-".repeat(width));
            row(&mut out, width, "TPS / GST", &t.gst.to_string());
            row(&mut out, width, "TVQ / QST", &t.qst.to_string());
            row(&mut out, width, "REMBOURSÉ / REFUNDED", &t.refunded().to_string());
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
