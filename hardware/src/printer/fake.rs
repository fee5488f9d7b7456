//! A network receipt printer for tests, on a loopback port: it keeps every job it is sent and
//! answers real-time status queries (`DLE EOT n`) as an Epson TM does in the state it is set
//! to: ready, paper low, paper end, cover open, offline, or silent (a printer that does not
//! speak status at all). A thread serves one connection at a time, as a printer does.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What the fake printer says of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeState {
    Ready,
    /// Near the end of the roll: still prints.
    PaperLow,
    PaperEnd,
    CoverOpen,
    /// Offline for another reason (an error, such as a jammed cutter).
    Offline,
    /// Never answers a status query.
    Silent,
    /// Ready until a job arrives on the connection; the roll then ends during it.
    RunsOutDuringJob,
}

impl FakeState {
    /// An Epson TM's answer to `DLE EOT n` in this state: bits 1 and 4 always set; in n = 1
    /// bit 3 is offline; in n = 2 bit 2 is the cover, bit 5 paper end, bit 6 an error; in n = 4
    /// bits 2–3 are paper near end and bits 5–6 paper end.
    pub fn answer(self, n: u8) -> Option<u8> {
        let (printer, offline, paper) = match self {
            FakeState::Ready | FakeState::RunsOutDuringJob => (0x12, 0x12, 0x12),
            FakeState::PaperLow => (0x12, 0x12, 0x1E),
            FakeState::PaperEnd => (0x1A, 0x32, 0x72),
            FakeState::CoverOpen => (0x1A, 0x16, 0x12),
            FakeState::Offline => (0x1A, 0x52, 0x12),
            FakeState::Silent => return None,
        };
        match n {
            1 => Some(printer),
            2 => Some(offline),
            4 => Some(paper),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Seen {
    state: FakeState,
    /// Each connection's bytes, status queries taken out, in the order they ended.
    jobs: Vec<Vec<u8>>,
    queries: usize,
}

/// A fake printer listening on `127.0.0.1`; see the module's documentation.
#[derive(Debug, Clone)]
pub struct FakePrinter {
    address: SocketAddr,
    seen: Arc<(Mutex<Seen>, Condvar)>,
}

impl FakePrinter {
    pub fn start(state: FakeState) -> io::Result<FakePrinter> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let seen = Arc::new((Mutex::new(Seen { state, jobs: Vec::new(), queries: 0 }), Condvar::new()));
        let shared = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let job = serve(stream, &shared).unwrap_or_default();
                let (lock, ended) = &*shared;
                lock_seen(lock).jobs.push(job);
                ended.notify_all();
            }
        });
        Ok(FakePrinter { address, seen })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// As `--printer` and the settings name it: `tcp:127.0.0.1:PORT`.
    pub fn spec(&self) -> String {
        format!("tcp:{}", self.address)
    }

    pub fn set_state(&self, state: FakeState) {
        lock_seen(&self.seen.0).state = state;
    }

    /// How many status queries it was asked.
    pub fn queries(&self) -> usize {
        lock_seen(&self.seen.0).queries
    }

    /// The bytes of every connection that has ended, once at least `count` have (or `wait`
    /// has passed): a link closes its connection when done, and the printer's side learns it
    /// a moment later. Connections that sent only queries count, with no bytes.
    pub fn jobs(&self, count: usize, wait: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + wait;
        let (lock, ended) = &*self.seen;
        let mut seen = lock_seen(lock);
        while seen.jobs.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            seen = match ended.wait_timeout(seen, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        seen.jobs.clone()
    }
}

fn lock_seen(lock: &Mutex<Seen>) -> MutexGuard<'_, Seen> {
    lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads one connection to its end, answering each `DLE EOT n` as it arrives.
fn serve(mut stream: TcpStream, seen: &Arc<(Mutex<Seen>, Condvar)>) -> io::Result<Vec<u8>> {
    let mut job = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(job);
        }
        for &byte in &chunk[..n] {
            job.push(byte);
            if let [.., 0x10, 0x04, query] = job[..] {
                job.truncate(job.len() - 3);
                let answer = {
                    let mut seen = lock_seen(&seen.0);
                    seen.queries += 1;
                    match seen.state {
                        FakeState::RunsOutDuringJob if !job.is_empty() => FakeState::PaperEnd,
                        state => state,
                    }
                    .answer(query)
                };
                if let Some(answer) = answer {
                    stream.write_all(&[answer])?;
                }
            }
        }
    }
}
