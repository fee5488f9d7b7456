//! What a printer says of itself when asked in real time (`DLE EOT n`, Epson's bit layout, which
//! most ESC/POS printers copy), and what of it stops a receipt from printing.

use std::fmt;

/// What a printer says of itself, when it answers a real-time status query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper_out: bool,
    pub paper_low: bool,
}

/// `DLE EOT n`: printer status (1), offline cause (2), paper sensor (4).
pub const STATUS_QUERIES: [[u8; 3]; 3] = [[0x10, 0x04, 1], [0x10, 0x04, 2], [0x10, 0x04, 4]];

/// Reads the three status bytes (ESC/POS real-time status, Epson's bit layout).
pub fn parse_status(printer: u8, offline: u8, paper: u8) -> PrinterStatus {
    PrinterStatus {
        online: printer & 0x08 == 0,
        cover_open: offline & 0x04 != 0,
        paper_out: paper & 0x60 != 0 || offline & 0x20 != 0,
        paper_low: paper & 0x0C != 0,
    }
}

/// Whether a byte is a status answer: Epson fixes bits 1 and 4 at one, bits 0 and 7 at zero.
/// Anything else on the line (an echo, noise) is not taken for the printer's word.
pub(crate) fn is_status_byte(byte: u8) -> bool {
    byte & 0x93 == 0x12
}

/// Why a printer that answered cannot print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    PaperOut,
    CoverOpen,
    Offline,
}

impl PrinterStatus {
    /// What stops this printer, the most useful to the cashier first: the paper, then the
    /// cover, then any other reason it is offline. `None`: it prints.
    pub fn fault(&self) -> Option<Fault> {
        if self.paper_out {
            Some(Fault::PaperOut)
        } else if self.cover_open {
            Some(Fault::CoverOpen)
        } else if !self.online {
            Some(Fault::Offline)
        } else {
            None
        }
    }
}

impl Fault {
    /// A short code for scripts and the window: `paper_out`, `cover_open`, `offline`.
    pub fn code(self) -> &'static str {
        match self {
            Fault::PaperOut => "paper_out",
            Fault::CoverOpen => "cover_open",
            Fault::Offline => "offline",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::PaperOut => "the printer is out of paper: load a new roll, then print again",
            Fault::CoverOpen => "the printer's cover is open: close it, then print again",
            Fault::Offline => "the printer is offline: check its light and its error, then print again",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epson_answers_read_as_states() {
        assert_eq!(parse_status(0x12, 0x12, 0x12).fault(), None);
        assert!(parse_status(0x12, 0x12, 0x1E).paper_low, "near end still prints");
        assert_eq!(parse_status(0x12, 0x12, 0x1E).fault(), None);
        assert_eq!(parse_status(0x1A, 0x32, 0x72).fault(), Some(Fault::PaperOut));
        assert_eq!(parse_status(0x1A, 0x16, 0x12).fault(), Some(Fault::CoverOpen));
        assert_eq!(parse_status(0x1A, 0x52, 0x12).fault(), Some(Fault::Offline));
        for byte in [0x12, 0x16, 0x1A, 0x1E, 0x32, 0x52, 0x72] {
            assert!(is_status_byte(byte), "{byte:#04x}");
        }
        for byte in [0x00, 0x0A, 0x13, 0x92, 0xFF] {
            assert!(!is_status_byte(byte), "{byte:#04x}");
        }
    }
}
