//! The till's background sync: a thread with its own connection to the register's database
//! pushes what is pending and pulls what changed, every few seconds when head office answers
//! and with growing, jittered pauses when it does not. The screen never waits for it; a
//! completed sale nudges it so the record leaves at once.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::Register;
use crate::error::RegisterError;
use crate::sync::Backoff;

#[derive(Debug)]
pub struct SyncLoop {
    nudge: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl SyncLoop {
    /// Starts syncing the register whose database is at `database`, every `interval` while
    /// all is well.
    pub fn spawn(database: PathBuf, interval: Duration) -> SyncLoop {
        let (nudge, wake) = channel();
        let thread = std::thread::Builder::new()
            .name("caisse-sync".into())
            .spawn(move || run(database, interval, wake))
            .ok();
        SyncLoop { nudge, thread }
    }

    /// Syncs now rather than at the next tick.
    pub fn nudge(&self) {
        let _ = self.nudge.send(());
    }
}

impl Drop for SyncLoop {
    fn drop(&mut self) {
        // Closing the channel ends the loop at its next wait.
        let (closed, _) = channel();
        self.nudge = closed;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(database: PathBuf, interval: Duration, wake: Receiver<()>) {
    let mut backoff = Backoff::new(500, 30_000);
    let mut register = None;
    loop {
        if register.is_none() {
            register = Register::open(&database)
                .map_err(|e| tracing::error!(error = %e, "sync cannot open the register"))
                .ok();
        }
        let wait = match register.as_mut().map(Register::sync_once) {
            Some(Ok(report)) => {
                backoff.succeeded();
                if report.held + report.rejected + report.pulled > 0 {
                    tracing::info!(
                        held = report.held,
                        rejected = report.rejected,
                        pulled = report.pulled,
                        "synced"
                    );
                }
                interval
            }
            Some(Err(RegisterError::NotEnrolled)) | None => interval,
            Some(Err(e)) => {
                let pause = Duration::from_millis(backoff.failed());
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "sync failed");
                pause
            }
        };
        match wake.recv_timeout(wait) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {
                // Several nudges in a row make one sync.
                while wake.try_recv().is_ok() {}
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
