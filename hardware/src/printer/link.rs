//! Links that carry a job to a printer, each bounded by a timeout. On a network or serial
//! link the printer is asked how it is (`DLE EOT 1`, `2`, `4`) before the job and after it: a
//! printer that says it cannot print gets no job (it would print it unasked once its paper is
//! changed, and the reprint would make two), and one that says so after the job leaves the
//! receipt unprinted. A printer that never answers status queries is taken at its word as
//! before: the job left, the receipt counts as printed.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::PrintError;
use super::status::{PrinterStatus, STATUS_QUERIES, is_status_byte, parse_status};

/// How long a printer has to answer a status query. A printer answers real-time queries in a
/// few milliseconds; one that has not in a second does not speak them, and waiting longer would
/// hold every sale at a till whose printer is of that kind.
pub const STATUS_WAIT: Duration = Duration::from_secs(1);

/// What became of a job that left the till.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The printer answered after the job: online, cover closed, paper in (perhaps low).
    Confirmed(PrinterStatus),
    /// The job left, and nothing more is known: the printer does not answer status queries,
    /// or the link cannot ask (a device file, memory).
    Unconfirmed,
}

/// Where the bytes go.
pub trait PrinterLink {
    /// Sends a job. A printer that says it cannot print is [`PrintError::NotReady`], naming why.
    fn send(&mut self, bytes: &[u8]) -> Result<Delivery, PrintError>;
}

/// A byte stream both ways, whose reads can be bounded.
trait Duplex: Read + Write {
    /// Bounds the next reads.
    fn wait_at_most(&mut self, wait: Duration) -> io::Result<()>;
    /// Puts the link's own timeout back on writes, where reads and writes share one.
    fn writes_as_before(&mut self) -> io::Result<()>;
}

impl Duplex for TcpStream {
    fn wait_at_most(&mut self, wait: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(wait))
    }
    fn writes_as_before(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A serial port and the link's timeout: the port has one timeout for reads and writes.
struct Port {
    port: Box<dyn serialport::SerialPort>,
    timeout: Duration,
}

impl Read for Port {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.port.read(buf)
    }
}

impl Write for Port {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.port.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.port.flush()
    }
}

impl Duplex for Port {
    fn wait_at_most(&mut self, wait: Duration) -> io::Result<()> {
        self.port.set_timeout(wait).map_err(|e| io::Error::other(e.to_string()))
    }
    fn writes_as_before(&mut self) -> io::Result<()> {
        self.port.set_timeout(self.timeout).map_err(|e| io::Error::other(e.to_string()))
    }
}

/// Asks the three status queries, each answer awaited until `wait` has passed since the first
/// was sent. `None`: the printer said nothing at all. A printer that answers the first and then
/// falls silent is read from what it said.
fn ask(stream: &mut impl Duplex, wait: Duration) -> io::Result<Option<PrinterStatus>> {
    let deadline = Instant::now() + wait;
    let mut answers: [Option<u8>; 3] = [None; 3];
    'queries: for (query, answer) in STATUS_QUERIES.iter().zip(answers.iter_mut()) {
        stream.write_all(query)?;
        stream.flush()?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break 'queries;
            }
            stream.wait_at_most(left)?;
            let mut byte = [0u8; 1];
            match stream.read(&mut byte) {
                Ok(1) if is_status_byte(byte[0]) => {
                    *answer = Some(byte[0]);
                    break;
                }
                Ok(1) => {}
                Ok(_) => break 'queries,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    break 'queries;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    // 0x12 is "nothing to report" in each of the three bytes.
    Ok(answers[0]
        .map(|printer| parse_status(printer, answers[1].unwrap_or(0x12), answers[2].unwrap_or(0x12))))
}

/// Status, job, status, on one open stream.
fn deliver(
    stream: &mut impl Duplex,
    bytes: &[u8],
    wait: Duration,
) -> io::Result<Result<Delivery, PrintError>> {
    let before = ask(stream, wait)?;
    if let Some(fault) = before.and_then(|s| s.fault()) {
        return Ok(Err(PrintError::NotReady(fault)));
    }
    stream.writes_as_before()?;
    stream.write_all(bytes)?;
    stream.flush()?;
    // A printer silent before the job is silent after it: it is not kept waiting twice.
    if before.is_none() {
        return Ok(Ok(Delivery::Unconfirmed));
    }
    Ok(match ask(stream, wait)? {
        Some(status) => match status.fault() {
            Some(fault) => Err(PrintError::NotReady(fault)),
            None => Ok(Delivery::Confirmed(status)),
        },
        None => Ok(Delivery::Unconfirmed),
    })
}

/// A network printer (raw TCP, usually port 9100).
#[derive(Debug, Clone)]
pub struct TcpLink {
    pub address: SocketAddr,
    /// For connecting and for each write.
    pub timeout: Duration,
    /// For each status query's answer (see [`STATUS_WAIT`]).
    pub status_wait: Duration,
}

impl TcpLink {
    pub fn new(address: SocketAddr, timeout: Duration) -> TcpLink {
        TcpLink { address, timeout, status_wait: STATUS_WAIT.min(timeout) }
    }

    fn connect(&self) -> Result<TcpStream, PrintError> {
        let stream =
            TcpStream::connect_timeout(&self.address, self.timeout).map_err(|e| self.unreachable(e))?;
        stream.set_write_timeout(Some(self.timeout)).map_err(|e| self.unreachable(e))?;
        // Queries are three bytes each: sent at once, not held back for more.
        stream.set_nodelay(true).map_err(|e| self.unreachable(e))?;
        Ok(stream)
    }

    fn unreachable(&self, e: io::Error) -> PrintError {
        PrintError::Unreachable(format!("{}: {e}", self.address))
    }

    /// Asks a network printer how it is, without printing; one that does not answer in time
    /// is an error.
    pub fn status(&self) -> Result<PrinterStatus, PrintError> {
        let mut stream = self.connect()?;
        ask(&mut stream, self.status_wait)
            .map_err(|e| self.unreachable(e))?
            .ok_or(PrintError::TimedOut(self.status_wait))
    }
}

impl PrinterLink for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> Result<Delivery, PrintError> {
        let mut stream = self.connect()?;
        deliver(&mut stream, bytes, self.status_wait).map_err(|e| self.unreachable(e))?
    }
}

/// A printer on a serial port, at its baud rate, with a timeout for each write.
#[derive(Debug, Clone)]
pub struct SerialLink {
    pub path: PathBuf,
    pub baud: u32,
    pub timeout: Duration,
    /// For each status query's answer (see [`STATUS_WAIT`]).
    pub status_wait: Duration,
}

impl PrinterLink for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> Result<Delivery, PrintError> {
        let unreachable = |e: String| PrintError::Unreachable(format!("{}: {e}", self.path.display()));
        let port = serialport::new(self.path.to_string_lossy(), self.baud)
            .timeout(self.timeout)
            .open()
            .map_err(|e| unreachable(e.to_string()))?;
        let mut port = Port { port, timeout: self.timeout };
        deliver(&mut port, bytes, self.status_wait).map_err(|e| unreachable(e.to_string()))?
    }
}

/// A printer device (`/dev/usb/lp0`, a serial device already set up) or a file. A device that
/// stops answering can block a write for ever, so the write runs on its own thread and the
/// till waits at most `timeout`. A file cannot be asked how the printer is.
#[derive(Debug, Clone)]
pub struct FileLink {
    pub path: PathBuf,
    pub timeout: Duration,
}

impl PrinterLink for FileLink {
    fn send(&mut self, bytes: &[u8]) -> Result<Delivery, PrintError> {
        let (done, wait) = mpsc::channel();
        let (path, bytes) = (self.path.clone(), bytes.to_vec());
        std::thread::spawn(move || {
            let result = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.flush()));
            let _ = done.send(result.map_err(|e| format!("{}: {e}", path.display())));
        });
        match wait.recv_timeout(self.timeout) {
            Ok(Ok(())) => Ok(Delivery::Unconfirmed),
            Ok(Err(e)) => Err(PrintError::Unreachable(e)),
            Err(_) => Err(PrintError::TimedOut(self.timeout)),
        }
    }
}

/// Keeps what was printed: for tests, and a screen preview.
#[derive(Debug, Clone, Default)]
pub struct MemoryLink {
    pub printed: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl PrinterLink for MemoryLink {
    fn send(&mut self, bytes: &[u8]) -> Result<Delivery, PrintError> {
        self.printed.lock().map_err(|e| PrintError::Unreachable(e.to_string()))?.push(bytes.to_vec());
        Ok(Delivery::Unconfirmed)
    }
}
