//! Serial barcode scanners: bytes from the port are framed into scans (CR, LF or CRLF ends
//! one), an optional prefix and suffix are stripped, and each frame is read by [`crate::scan`].
//! When the scanner is unplugged the port is dropped with any half-received scan (two halves
//! are never glued into one), and it is opened again on later calls once it is back: no restart.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use crate::scan::{Scan, ScanError, VariableMeasure, read};

#[derive(Debug, Clone)]
pub struct SerialConfig {
    /// The device, like /dev/ttyACM0 or a stable /dev/serial/by-id/… link.
    pub path: PathBuf,
    pub baud: u32,
    /// Characters the scanner adds before each scan, if it is set up to.
    pub prefix: Option<String>,
    /// Characters the scanner adds after each scan, before the terminator.
    pub suffix: Option<String>,
    pub rules: VariableMeasure,
}

impl SerialConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SerialConfig {
            path: path.into(),
            baud: 9_600,
            prefix: None,
            suffix: None,
            rules: VariableMeasure::default(),
        }
    }
}

/// What the scanner said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Scanned(Result<Scan, ScanError>),
    /// The port went away (unplugged); it will be reopened.
    Disconnected,
    /// The port is open again.
    Connected,
}

#[derive(Debug)]
pub struct SerialScanner {
    config: SerialConfig,
    port: Option<Box<dyn serialport::SerialPort>>,
    buffer: Vec<u8>,
    ready: std::collections::VecDeque<Event>,
}

impl SerialScanner {
    pub fn new(config: SerialConfig) -> Self {
        SerialScanner { config, port: None, buffer: Vec::new(), ready: Default::default() }
    }

    pub fn is_connected(&self) -> bool {
        self.port.is_some()
    }

    fn frame(&mut self, raw: &[u8]) -> Event {
        let mut text = String::from_utf8_lossy(raw).into_owned();
        if let Some(prefix) = &self.config.prefix {
            match text.strip_prefix(prefix.as_str()) {
                Some(rest) => text = rest.to_owned(),
                None => return Event::Scanned(Err(ScanError::Unreadable(text))),
            }
        }
        if let Some(suffix) = &self.config.suffix {
            match text.strip_suffix(suffix.as_str()) {
                Some(rest) => text = rest.to_owned(),
                None => return Event::Scanned(Err(ScanError::Unreadable(text))),
            }
        }
        Event::Scanned(read(&text, &self.config.rules))
    }

    /// Waits up to `wait` for something to happen; `None` when nothing did.
    pub fn next(&mut self, wait: Duration) -> Option<Event> {
        if let Some(event) = self.ready.pop_front() {
            return Some(event);
        }
        if self.port.is_none() {
            let opened =
                serialport::new(self.config.path.to_string_lossy(), self.config.baud).timeout(wait).open();
            match opened {
                Ok(port) => {
                    self.port = Some(port);
                    return Some(Event::Connected);
                }
                Err(_) => {
                    std::thread::sleep(wait);
                    return None;
                }
            }
        }
        let mut chunk = [0u8; 256];
        let port = self.port.as_mut()?;
        let _ = port.set_timeout(wait);
        match port.read(&mut chunk) {
            Ok(0) => {}
            Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                // Unplugged: what was half received is dropped, never joined to a later scan.
                self.port = None;
                self.buffer.clear();
                return Some(Event::Disconnected);
            }
        }
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\r' || *b == b'\n') {
            let frame: Vec<u8> = self.buffer.drain(..=end).collect();
            let frame = &frame[..frame.len() - 1];
            if !frame.is_empty() {
                let event = self.frame(frame);
                self.ready.push_back(event);
            }
        }
        self.ready.pop_front()
    }
}
