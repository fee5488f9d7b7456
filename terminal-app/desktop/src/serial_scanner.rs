//! The serial scanner's thread. It reads the port the settings name and follows them: saving
//! `serial:PATH` on the settings screen starts reading that port at once, and `wedge` stops it,
//! without a restart. A scanner unplugged and plugged back (a new device behind the same path)
//! is opened again by [`hardware::serial::SerialScanner`] once it is there, every half second.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hardware::serial::{Event, SerialConfig, SerialScanner};
use terminal_app::desk::Scanner;

/// How long one read waits, and how long a missing port is left before the next try.
const POLL: Duration = Duration::from_millis(500);

/// The port the thread reads, or none.
#[derive(Debug)]
pub struct SerialWatch {
    wanted: Arc<Mutex<Option<PathBuf>>>,
}

fn port_of(scanner: &Scanner) -> Option<PathBuf> {
    match scanner {
        Scanner::Serial(path) => Some(path.clone()),
        Scanner::Wedge => None,
    }
}

impl SerialWatch {
    /// Starts the thread on `scanner`'s port (none for a wedge scanner); each event it reads is
    /// handed to `on_event`.
    pub fn spawn(scanner: &Scanner, mut on_event: impl FnMut(Event) + Send + 'static) -> SerialWatch {
        let wanted = Arc::new(Mutex::new(port_of(scanner)));
        let shared = wanted.clone();
        std::thread::spawn(move || {
            let mut reading: Option<(PathBuf, SerialScanner)> = None;
            loop {
                let port = shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
                if reading.as_ref().map(|(path, _)| path) != port.as_ref() {
                    // A scan half-received on the old port is dropped with it.
                    reading = port.map(|path| {
                        tracing::info!(path = %path.display(), "reading the serial scanner");
                        let scanner = SerialScanner::new(SerialConfig::new(&path));
                        (path, scanner)
                    });
                }
                let Some((path, scanner)) = reading.as_mut() else {
                    std::thread::sleep(POLL);
                    continue;
                };
                match scanner.next(POLL) {
                    Some(Event::Disconnected) => {
                        tracing::warn!(path = %path.display(), "the serial scanner went away: opened again once it is back");
                        on_event(Event::Disconnected);
                    }
                    Some(Event::Connected) => {
                        tracing::info!(path = %path.display(), "the serial scanner is open");
                        on_event(Event::Connected);
                    }
                    Some(event) => on_event(event),
                    None => {}
                }
            }
        });
        SerialWatch { wanted }
    }

    /// Reads `scanner`'s port from now on (none for a wedge scanner).
    pub fn follow(&self, scanner: &Scanner) {
        *self.wanted.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = port_of(scanner);
    }
}
