//! The receipt's lines, then its bytes. Every line is laid out to the paper's width before it
//! is sent, never left for the printer to wrap: text breaks at spaces, an amount stays on the
//! first line of its row, and only a word longer than the whole line is ever cut.

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{JustifyMode, PageCode, Protocol};
use shared_model::money::{NBSP, rate};
use shared_model::tax::{GST_RATE, QST_RATE};
use shared_model::{Locale, Money, ReceiptNumber, Record, RecordBody, Tender};

use super::paper::to_pc863;
use super::{Language, PrintError, ReceiptContext, drawer_kick, printable};

fn label(language: Language, key: &str) -> &'static str {
    let (fr, en) = match key {
        "copy" => ("DUPLICATA", "COPY"),
        "receipt" => ("Reçu", "Receipt"),
        "register" => ("Caisse", "Register"),
        "cashier" => ("Caissier", "Cashier"),
        "subtotal" => ("Sous-total", "Subtotal"),
        "discount" => ("Rabais", "Discount"),
        "gst" => ("TPS", "GST"),
        "qst" => ("TVQ", "QST"),
        // The no-break space keeps French's space before the colon with its word.
        "gst_no" => ("No TPS\u{a0}:", "GST No:"),
        "qst_no" => ("No TVQ\u{a0}:", "QST No:"),
        "total" => ("TOTAL", "TOTAL"),
        "rounding" => ("Arrondi", "Rounding"),
        "cash" => ("Comptant", "Cash"),
        "debit" => ("Débit", "Debit"),
        "credit" => ("Crédit", "Credit"),
        "change" => ("Monnaie", "Change"),
        "return" => ("RETOUR", "RETURN"),
        "refunded" => ("Remboursé", "Refunded"),
        "online_card" => ("Remboursé sur la carte de la commande", "Refunded to the card of order"),
        "z" => ("RAPPORT Z", "Z REPORT"),
        "sales" => ("Ventes", "Sales"),
        "returns" => ("Retours", "Returns"),
        "expected" => ("Comptant attendu", "Expected cash"),
        "counted" => ("Comptant compté", "Counted cash"),
        "test" => ("Essai d'impression", "Test print"),
        _ => ("", ""),
    };
    if language == Language::Fr { fr } else { en }
}

/// Free text in lines of at most `columns` characters, broken at spaces (a no-break space
/// holds its neighbours together); a word longer than a whole line is the only thing cut.
/// Leading spaces indent every line.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    wrap_first(text, columns, columns)
}

/// [`wrap`], with a first line `first` characters wide: the room left beside an amount.
fn wrap_first(text: &str, first: usize, columns: usize) -> Vec<String> {
    let text = printable(text);
    let body = text.trim_start_matches(' ');
    let indent = (text.len() - body.len()).min(columns.saturating_sub(1));
    let (first, columns) = (first.saturating_sub(indent), (columns - indent).max(1));
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let room = if lines.is_empty() { first } else { columns };
            let used = line.chars().count();
            let needed = word.len() + usize::from(used > 0);
            if used + needed <= room {
                if used > 0 {
                    line.push(' ');
                }
                line.extend(word.drain(..));
            } else if used > 0 || (room < columns && word.len() <= columns) {
                // The word goes on the next line, whole.
                lines.push(std::mem::take(&mut line));
            } else {
                // Longer than a whole line: cut, the one thing that ever is.
                lines.push(word.drain(..room.min(word.len())).collect());
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    let pad = " ".repeat(indent);
    lines.into_iter().map(|l| if l.is_empty() { l } else { format!("{pad}{l}") }).collect()
}

/// Text made printable, in characters PC863 has, one for one: what is laid out is what prints.
fn for_paper(text: &str) -> String {
    to_pc863(&printable(text))
}

/// `left ........ right`: the right-hand text (an amount) ends the first line, the left-hand
/// text wraps beneath it.
fn row(left: &str, right: &str, columns: usize) -> Vec<String> {
    let right = printable(right);
    let width = right.chars().count();
    if width + 1 >= columns {
        let mut lines = wrap(left, columns);
        lines.extend(wrap(&right, columns));
        return lines;
    }
    let mut lines = wrap_first(left, columns - width - 1, columns);
    let first = lines[0].chars().count();
    lines[0] = format!("{}{}{right}", lines[0], " ".repeat(columns - width - first));
    lines
}

/// Collects what `escpos` writes.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

fn layout_error(e: escpos::errors::PrinterError) -> PrintError {
    PrintError::Layout(e.to_string())
}

/// A receipt being written: lines already laid out, styles, and the bytes so far.
struct Paper {
    printer: Printer<Capture>,
    capture: Capture,
    columns: usize,
}

impl Paper {
    fn new(ctx: &ReceiptContext) -> Result<Paper, PrintError> {
        let capture = Capture::default();
        let options = PrinterOptions::new(Some(PageCode::PC863), None, ctx.columns);
        let mut printer = Printer::new(capture.clone(), Protocol::default(), Some(options));
        printer.init().map_err(layout_error)?;
        Ok(Paper { printer, capture, columns: usize::from(ctx.columns.clamp(32, 48)) })
    }

    /// One line, made printable; no-break spaces go out as plain ones once the line is laid out.
    fn line(&mut self, text: &str) -> Result<&mut Self, PrintError> {
        self.printer.writeln(&for_paper(text).replace(NBSP, " ")).map_err(layout_error)?;
        Ok(self)
    }

    fn lines(&mut self, lines: Vec<String>) -> Result<&mut Self, PrintError> {
        for line in lines {
            self.line(&line)?;
        }
        Ok(self)
    }

    fn text(&mut self, text: &str) -> Result<&mut Self, PrintError> {
        let lines = wrap(&for_paper(text), self.columns);
        self.lines(lines)
    }

    fn row(&mut self, left: &str, right: &str) -> Result<&mut Self, PrintError> {
        let lines = row(&for_paper(left), &for_paper(right), self.columns);
        self.lines(lines)
    }

    fn rule(&mut self) -> Result<&mut Self, PrintError> {
        let rule = "-".repeat(self.columns);
        self.line(&rule)
    }

    fn bold(&mut self, on: bool) -> Result<&mut Self, PrintError> {
        self.printer.bold(on).map_err(layout_error)?;
        Ok(self)
    }

    fn justify(&mut self, mode: JustifyMode) -> Result<&mut Self, PrintError> {
        self.printer.justify(mode).map_err(layout_error)?;
        Ok(self)
    }

    fn finish(mut self) -> Result<Vec<u8>, PrintError> {
        self.printer.feeds(3).map_err(layout_error)?.print_cut().map_err(layout_error)?;
        let bytes = self.capture.0.borrow().clone();
        Ok(bytes)
    }
}

fn tender_label(language: Language, tender: &Tender) -> String {
    match tender {
        Tender::Cash { .. } => label(language, "cash").into(),
        Tender::Debit { .. } => label(language, "debit").into(),
        Tender::Credit { approval, .. } => format!("{} {}", label(language, "credit"), approval.as_str()),
    }
}

/// The bytes of a test page: the store's header and a line of accented letters, to check the
/// printer, its paper width and its code page from the settings screen.
pub fn render_test(ctx: &ReceiptContext) -> Result<Vec<u8>, PrintError> {
    let mut p = Paper::new(ctx)?;
    p.justify(JustifyMode::CENTER)?.bold(true)?.text(&ctx.store_name)?.bold(false)?;
    p.text(label(ctx.language, "test"))?.line("É é è ê à ç ô Ç")?.rule()?;
    p.finish()
}

/// The bytes of a receipt for a sale, a return or a till close. A cash sale or refund ends by
/// opening the drawer, on its first print only; nothing else does.
pub fn render(record: &Record, ctx: &ReceiptContext) -> Result<Vec<u8>, PrintError> {
    let lang = ctx.language;
    let locale = Locale::from(lang);
    let money = |m: Money| m.localized(locale).to_string();
    let receipt = matches!(record.body, RecordBody::Sale(_) | RecordBody::Return(_));
    let mut p = Paper::new(ctx)?;
    p.justify(JustifyMode::CENTER)?;
    if ctx.duplicate {
        p.bold(true)?.line(label(lang, "copy"))?.bold(false)?;
    }
    // Québec's rules: a receipt names the registrant, as registered.
    let legal_name = ctx.legal_name.trim();
    if receipt && !legal_name.is_empty() && legal_name != ctx.store_name.trim() {
        p.bold(true)?.text(legal_name)?.bold(false)?.text(&ctx.store_name)?;
    } else {
        p.bold(true)?.text(&ctx.store_name)?.bold(false)?;
    }
    p.text(&ctx.store_address)?;
    p.justify(JustifyMode::LEFT)?;
    let number = ReceiptNumber::new(record.origin.clone(), record.seq)
        .map_err(|e| PrintError::Layout(e.to_string()))?;
    let heading = if receipt {
        format!("{}{NBSP}{number}", label(lang, "receipt"))
    } else {
        format!("{}{NBSP}{}", label(lang, "register"), record.origin)
    };
    p.row(&heading, &ctx.printed_at)?;
    p.text(&format!("{} {}", label(lang, "cashier"), ctx.cashier))?;
    p.rule()?;
    let gst = format!("{} {}", label(lang, "gst"), rate(GST_RATE, locale));
    let qst = format!("{} {}", label(lang, "qst"), rate(QST_RATE, locale));
    let mut cash = false;
    match &record.body {
        RecordBody::Sale(sale) => {
            for line in &sale.lines {
                let a = line.amounts().map_err(|e| PrintError::Layout(e.to_string()))?;
                p.row(&line.description, &money(a.gross))?;
                if line.quantity.get() > 1 {
                    p.text(&format!("  {} x {}", line.quantity, money(line.unit_price)))?;
                }
                if a.discount > Money::ZERO {
                    p.row(&format!("  {}", label(lang, "discount")), &money(-a.discount))?;
                }
            }
            let t = sale.totals;
            p.rule()?;
            p.row(label(lang, "subtotal"), &money(t.net))?
                .row(&gst, &money(t.gst))?
                .row(&qst, &money(t.qst))?;
            p.bold(true)?.row(label(lang, "total"), &money(t.total))?.bold(false)?;
            if t.rounding != Money::ZERO {
                p.row(label(lang, "rounding"), &money(t.rounding))?;
            }
            for tender in &sale.tenders {
                cash |= tender.is_cash();
                p.row(&tender_label(lang, tender), &money(tender.amount()))?;
            }
            if t.change > Money::ZERO {
                p.row(label(lang, "change"), &money(t.change))?;
            }
        }
        RecordBody::Return(ret) => {
            p.bold(true)?.line(label(lang, "return"))?.bold(false)?;
            for line in &ret.lines {
                p.row(&format!("{} x {}", line.quantity, line.description), &money(line.refund.total()))?;
            }
            let t = ret.totals;
            p.row(&gst, &money(t.gst))?.row(&qst, &money(t.qst))?;
            p.bold(true)?.row(label(lang, "refunded"), &money(t.refunded()))?.bold(false)?;
            for tender in &ret.tenders {
                cash |= tender.is_cash();
                p.row(&tender_label(lang, tender), &money(tender.amount()))?;
            }
            if let Some(order) = ret.online_order {
                p.text(&format!("{} {order}", label(lang, "online_card")))?;
            }
        }
        RecordBody::TillClosed(z) => {
            p.bold(true)?.line(label(lang, "z"))?.bold(false)?;
            p.row(label(lang, "sales"), &z.sales_count.to_string())?;
            p.row(label(lang, "returns"), &z.returns_count.to_string())?;
            for t in &z.tenders {
                p.row(t.kind.as_str(), &format!("{} / {}", money(t.taken), money(-t.refunded)))?;
            }
            p.row(label(lang, "expected"), &money(z.expected_cash))?;
            if let Some(counted) = z.counted_cash {
                p.row(label(lang, "counted"), &money(counted))?;
            }
        }
        _ => {}
    }
    if receipt {
        p.rule()?;
        for (key, number) in [("gst_no", &ctx.gst_number), ("qst_no", &ctx.qst_number)] {
            if !number.trim().is_empty() {
                p.text(&format!("{} {}", label(lang, key), number.trim()))?;
            }
        }
        p.text(&ctx.return_policy)?;
        // The record's id in the QR code, which the return screen scans; the short number
        // beneath it, for a person to read or type.
        p.justify(JustifyMode::CENTER)?;
        p.printer.qrcode(&record.id.to_string()).map_err(layout_error)?;
        p.line(&number.to_string())?;
    }
    let mut bytes = p.finish()?;
    if cash && !ctx.duplicate {
        bytes.extend_from_slice(&drawer_kick(ctx.drawer));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_breaks_at_spaces_and_cuts_only_overlong_words() {
        assert_eq!(wrap("Café espresso en grains 250 g", 12), ["Café", "espresso en", "grains 250 g"]);
        assert_eq!(wrap("abcdefghijklmno pq", 6), ["abcdef", "ghijkl", "mno pq"]);
        assert_eq!(wrap("  2 x 12,99\u{a0}$", 10), ["  2 x", "  12,99\u{a0}$"]);
        assert_eq!(wrap("", 32), [""]);
    }

    #[test]
    fn the_amount_stays_on_the_first_line() {
        let lines = row("Planche à découper en érable", "34,99\u{a0}$", 20);
        assert_eq!(lines, ["Planche à    34,99\u{a0}$", "découper en érable"]);
        let lines = row("Supercalifragilistic x", "1,00\u{a0}$", 20);
        assert_eq!(lines[0], format!("{}1,00\u{a0}$", " ".repeat(14)), "the word goes below, whole");
        assert_eq!(lines[1], "Supercalifragilistic");
        for line in row("Reçu\u{a0}ABCDEFGH-99-000123", "2026-11-22 14:05", 32) {
            assert!(line.chars().count() <= 32, "{line:?}");
        }
    }
}
