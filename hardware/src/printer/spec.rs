//! Which printer, as a setting or a command-line option names it: `tcp:HOST:PORT`,
//! `file:PATH` or `serial:PATH[@BAUD]`. The register's settings and the CLI's `--printer`
//! both parse through [`PrinterSpec`]'s `FromStr`, so the same text means the same printer.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::{FileLink, Language, PrinterLink, STATUS_WAIT, SerialLink, TcpLink};

/// How long a link waits for a printer before giving up.
pub const LINK_TIMEOUT: Duration = Duration::from_secs(5);

/// A receipt printer and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterSpec {
    /// A network printer (raw TCP, usually port 9100).
    Tcp(SocketAddr),
    /// A printer device (`/dev/usb/lp0`) or a file.
    File(PathBuf),
    /// A printer on a serial port.
    Serial { path: PathBuf, baud: u32 },
}

/// Text that names no printer, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadSpec(pub String);

impl FromStr for PrinterSpec {
    type Err = BadSpec;

    fn from_str(spec: &str) -> Result<PrinterSpec, BadSpec> {
        let spec = spec.trim();
        match spec.split_once(':') {
            Some(("tcp", address)) => Ok(PrinterSpec::Tcp(
                address
                    .parse()
                    .map_err(|_| BadSpec(format!("{address:?} is not HOST:PORT, like 192.168.1.50:9100")))?,
            )),
            Some(("file", path)) if !path.is_empty() => Ok(PrinterSpec::File(path.into())),
            Some(("serial", rest)) if !rest.is_empty() => {
                let (path, baud) = match rest.rsplit_once('@') {
                    Some((path, baud)) => (
                        path,
                        baud.parse()
                            .map_err(|_| BadSpec(format!("{baud:?} is not a baud rate like 9600")))?,
                    ),
                    None => (rest, 9_600),
                };
                Ok(PrinterSpec::Serial { path: path.into(), baud })
            }
            _ => Err(BadSpec(format!("{spec:?} is not tcp:HOST:PORT, file:PATH or serial:PATH"))),
        }
    }
}

/// The text [`FromStr`] reads back.
impl fmt::Display for PrinterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterSpec::Tcp(address) => write!(f, "tcp:{address}"),
            PrinterSpec::File(path) => write!(f, "file:{}", path.display()),
            PrinterSpec::Serial { path, baud } => write!(f, "serial:{}@{baud}", path.display()),
        }
    }
}

impl PrinterSpec {
    /// A link to this printer that waits at most [`LINK_TIMEOUT`] to connect or write, and
    /// [`STATUS_WAIT`] for each answer to a status query.
    pub fn link(&self) -> Box<dyn PrinterLink> {
        self.link_waiting(STATUS_WAIT)
    }

    /// [`PrinterSpec::link`], waiting `status_wait` (at most [`LINK_TIMEOUT`]) for each status
    /// answer: for a printer behind a slow network, and for tests on a busy machine.
    pub fn link_waiting(&self, status_wait: Duration) -> Box<dyn PrinterLink> {
        let timeout = LINK_TIMEOUT;
        let status_wait = status_wait.min(timeout);
        match self {
            PrinterSpec::Tcp(address) => Box::new(TcpLink { address: *address, timeout, status_wait }),
            PrinterSpec::File(path) => Box::new(FileLink { path: path.clone(), timeout }),
            PrinterSpec::Serial { path, baud } => {
                Box::new(SerialLink { path: path.clone(), baud: *baud, timeout, status_wait })
            }
        }
    }

    /// Whether the till can ask this printer how it is after a job: over a network or a
    /// serial link, not through a device file.
    pub fn reports_status(&self) -> bool {
        !matches!(self, PrinterSpec::File(_))
    }
}

impl FromStr for Language {
    type Err = BadSpec;

    /// `fr` or `en`.
    fn from_str(text: &str) -> Result<Language, BadSpec> {
        match text.trim() {
            "fr" => Ok(Language::Fr),
            "en" => Ok(Language::En),
            other => Err(BadSpec(format!("{other:?} is not a language: use fr or en"))),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Fr => "fr",
            Language::En => "en",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_printer_parses_and_prints_back() {
        for (text, spec) in [
            ("tcp:192.168.1.50:9100", PrinterSpec::Tcp("192.168.1.50:9100".parse().unwrap())),
            ("file:/dev/usb/lp0", PrinterSpec::File("/dev/usb/lp0".into())),
            ("serial:/dev/ttyUSB0@19200", PrinterSpec::Serial { path: "/dev/ttyUSB0".into(), baud: 19_200 }),
        ] {
            assert_eq!(text.parse::<PrinterSpec>().unwrap(), spec);
            assert_eq!(spec.to_string().parse::<PrinterSpec>().unwrap(), spec);
        }
        assert_eq!(
            "serial:/dev/ttyS0".parse::<PrinterSpec>().unwrap(),
            PrinterSpec::Serial { path: "/dev/ttyS0".into(), baud: 9_600 }
        );
    }

    #[test]
    fn what_names_no_printer_says_why() {
        for bad in ["lpt1", "tcp:printer", "file:", "serial:", "serial:/dev/ttyS0@fast", ""] {
            let e = bad.parse::<PrinterSpec>().unwrap_err();
            assert!(!e.0.is_empty(), "{bad}");
        }
        assert!("tcp:printer".parse::<PrinterSpec>().unwrap_err().0.contains("HOST:PORT"));
    }

    #[test]
    fn languages() {
        assert_eq!("fr".parse::<Language>().unwrap(), Language::Fr);
        assert_eq!(Language::En.to_string(), "en");
        assert!("de".parse::<Language>().is_err());
    }
}
