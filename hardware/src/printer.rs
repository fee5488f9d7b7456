//! Receipts on ESC/POS printers, through the `escpos` crate: the layout of a sale, a return and
//! a Z report in French or English, for 58 mm (32 columns) and 80 mm (42 or 48) paper, on the
//! Canadian-French code page PC863; then a link that carries the bytes to a device file, a
//! network printer (TCP 9100), a serial port or memory, with timeouts so that a dead printer
//! never hangs the till, and that asks the printer afterwards whether it could print.
//!
//! | module | holds |
//! |---|---|
//! | `layout` | [`render`] and [`render_test`]: the receipt's lines, wrapped to the paper, in bytes |
//! | `link` | [`PrinterLink`] and its links: [`TcpLink`], [`SerialLink`], [`FileLink`], [`MemoryLink`] |
//! | `status` | the printer's real-time status (`DLE EOT n`) and what stops it printing |
//! | [`paper`] | ESC/POS bytes read back as text: for tests and a screen preview |
//! | [`fake`] | a network printer on loopback that answers status queries like an Epson TM |
//! | `spec` | [`PrinterSpec`]: which printer, read from text |

pub mod fake;
mod layout;
mod link;
pub mod paper;
mod spec;
mod status;

pub use layout::{render, render_test, wrap};
pub use link::{Delivery, FileLink, MemoryLink, PrinterLink, STATUS_WAIT, SerialLink, TcpLink};
pub use spec::{BadSpec, LINK_TIMEOUT, PrinterSpec};
pub use status::{Fault, PrinterStatus, STATUS_QUERIES, parse_status};

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PrintError {
    #[error("the receipt could not be laid out: {0}")]
    Layout(String),
    #[error("the printer did not answer: {0}")]
    Unreachable(String),
    #[error("the printer took longer than {0:?}")]
    TimedOut(Duration),
    /// The printer answered its status queries: it cannot print now, and says why.
    #[error("{0}")]
    NotReady(Fault),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Fr,
    En,
}

impl From<Language> for shared_model::Locale {
    fn from(language: Language) -> shared_model::Locale {
        match language {
            Language::Fr => shared_model::Locale::Fr,
            Language::En => shared_model::Locale::En,
        }
    }
}

/// The cash drawer's solenoid: connector pin 2 or pin 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawerPin {
    Two,
    Five,
}

/// `ESC p m t1 t2`: a 50 ms pulse on the pin, then 500 ms off. (`escpos` 0.20 sends only
/// `ESC p m`, which leaves the printer waiting for the two timing bytes.)
pub fn drawer_kick(pin: DrawerPin) -> [u8; 5] {
    [0x1B, b'p', if pin == DrawerPin::Two { 0 } else { 1 }, 25, 250]
}

/// Who and where, printed at the top and the bottom of every receipt.
#[derive(Debug, Clone)]
pub struct ReceiptContext {
    /// The chain's legal name, as registered for the GST and QST; empty when head office has
    /// not sent it.
    pub legal_name: String,
    pub store_name: String,
    pub store_address: String,
    /// As head office sent them (`123456789 RT 0001`); an empty one prints no line.
    pub gst_number: String,
    pub qst_number: String,
    pub cashier: String,
    /// Local date and time, already formatted.
    pub printed_at: String,
    pub return_policy: String,
    pub language: Language,
    /// 32, 42 or 48.
    pub columns: u8,
    pub drawer: DrawerPin,
    /// A print after the receipt's first: headed `DUPLICATA` / `COPY`, and it never opens the
    /// drawer (the money moved with the original).
    pub duplicate: bool,
}

/// Text as it may go onto paper: every control character (C0, DEL and C1) removed. Names and
/// addresses are data, and ESC/POS commands hidden in them would open the drawer or cut the
/// paper; head office refuses them at its boundary, this is the second line of defence.
pub fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}
