//! The screen's hardware and language choices, kept in the register's database. A
//! [`Settings`] cannot hold a value the till could not use: it is only made from its text form
//! ([`SettingsText`], what the window sends and the database keeps) through a check that names
//! the field at fault.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use hardware::printer::{Language, PrinterSpec};
use serde::{Deserialize, Serialize};

use super::problem::Problem;

/// The screen's settings, each a value the till can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SettingsText", into = "SettingsText")]
pub struct Settings {
    /// No printer, or the one receipts print on.
    pub printer: Option<PrinterSpec>,
    pub scanner: Scanner,
    /// The screen's and the receipts' language.
    pub language: Language,
    pub columns: Columns,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            printer: None,
            scanner: Scanner::Wedge,
            language: Language::Fr,
            columns: Columns::default(),
        }
    }
}

/// The settings as text, as the window edits them and the database stores them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsText {
    /// `file:PATH`, `tcp:HOST:PORT`, `serial:PATH[@BAUD]` or empty for no printer.
    pub printer: String,
    /// `wedge` (a keyboard-wedge scanner types into the scan field) or `serial:PATH`.
    pub scanner: String,
    /// `fr` or `en`.
    pub language: String,
    /// Receipt width in characters: 32, 42 or 48.
    pub columns: u8,
}

impl TryFrom<SettingsText> for Settings {
    type Error = Problem;

    /// Refuses a setting the till could not use, naming it.
    fn try_from(text: SettingsText) -> Result<Settings, Problem> {
        let printer = Some(text.printer.trim())
            .filter(|p| !p.is_empty())
            .map(PrinterSpec::from_str)
            .transpose()
            .map_err(|e| Problem::field("printer", e.to_string()))?;
        Ok(Settings {
            printer,
            scanner: text.scanner.parse().map_err(|e: String| Problem::field("scanner", e))?,
            language: text
                .language
                .parse()
                .map_err(|e: hardware::printer::BadSpec| Problem::field("language", e.to_string()))?,
            columns: Columns::try_from(text.columns).map_err(|e| Problem::field("columns", e))?,
        })
    }
}

impl From<Settings> for SettingsText {
    fn from(settings: Settings) -> SettingsText {
        SettingsText {
            printer: settings.printer.map(|p| p.to_string()).unwrap_or_default(),
            scanner: settings.scanner.to_string(),
            language: settings.language.to_string(),
            columns: settings.columns.get(),
        }
    }
}

/// Where scans come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanner {
    /// A keyboard-wedge scanner types into the scan field.
    Wedge,
    /// A serial scanner on this device.
    Serial(PathBuf),
}

impl FromStr for Scanner {
    type Err = String;

    fn from_str(text: &str) -> Result<Scanner, String> {
        match text.trim() {
            "wedge" => Ok(Scanner::Wedge),
            other => match other.strip_prefix("serial:").filter(|p| !p.is_empty()) {
                Some(path) => Ok(Scanner::Serial(path.into())),
                None => Err(format!("{other:?} is not a scanner: use wedge or serial:PATH")),
            },
        }
    }
}

impl fmt::Display for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scanner::Wedge => f.write_str("wedge"),
            Scanner::Serial(path) => write!(f, "serial:{}", path.display()),
        }
    }
}

/// A receipt's width in characters: 32 (58 mm paper), 42 or 48 (80 mm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns(u8);

impl Columns {
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for Columns {
    fn default() -> Self {
        Columns(42)
    }
}

impl TryFrom<u8> for Columns {
    type Error = String;

    fn try_from(columns: u8) -> Result<Columns, String> {
        if [32, 42, 48].contains(&columns) {
            Ok(Columns(columns))
        } else {
            Err(format!("receipts are 32, 42 or 48 columns wide, not {columns}"))
        }
    }
}

/// For the CLI's `--columns`.
impl FromStr for Columns {
    type Err = String;

    fn from_str(text: &str) -> Result<Columns, String> {
        let columns: u8 = text
            .trim()
            .parse()
            .map_err(|_| format!("receipts are 32, 42 or 48 columns wide, not {text:?}"))?;
        Columns::try_from(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_their_text() {
        let settings = Settings {
            printer: Some("serial:/dev/ttyS0@19200".parse().unwrap()),
            scanner: Scanner::Serial("/dev/ttyACM0".into()),
            language: Language::En,
            columns: Columns::try_from(32).unwrap(),
        };
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&json).unwrap(), settings);
        let text = SettingsText::from(Settings::default());
        assert_eq!((text.printer.as_str(), text.scanner.as_str(), text.columns), ("", "wedge", 42));
    }

    #[test]
    fn a_bad_value_cannot_be_held() {
        let good = SettingsText::from(Settings::default());
        for (bad, field) in [
            (SettingsText { printer: "lpt1".into(), ..good.clone() }, "printer"),
            (SettingsText { scanner: "serial:".into(), ..good.clone() }, "scanner"),
            (SettingsText { language: "de".into(), ..good.clone() }, "language"),
            (SettingsText { columns: 40, ..good.clone() }, "columns"),
        ] {
            assert_eq!(Settings::try_from(bad.clone()).unwrap_err().field, Some(field));
            let json = serde_json::to_value(&bad).unwrap();
            assert!(serde_json::from_value::<Settings>(json).is_err(), "{field}");
        }
        assert!("40".parse::<Columns>().is_err());
        assert_eq!("48".parse::<Columns>().unwrap().get(), 48);
    }
}
