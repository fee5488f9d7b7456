//! Keyboard-wedge scanners type their scans like a very fast person. This tells the two
//! apart from key timing: a scan is a burst of at least `min_length` keys, each within
//! `max_gap_ms` of the one before, ended by Enter. Anything else is a person typing. A pause
//! longer than the gap always ends what came before it, and Enter always ends a scan, so two
//! scans are never merged and one scan is never split.

/// What the keys amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A scanner burst, without its terminator.
    Scan(String),
    /// Keys a person typed (including Enter when it ended them).
    Typed(String),
}

#[derive(Debug, Clone)]
pub struct WedgeDecoder {
    max_gap_ms: u64,
    min_length: usize,
    buffer: String,
    last_ms: Option<u64>,
}

impl Default for WedgeDecoder {
    /// Scanners type a key every 1–15 ms; people, rarely faster than 50 ms.
    fn default() -> Self {
        WedgeDecoder::new(30, 6)
    }
}

impl WedgeDecoder {
    pub fn new(max_gap_ms: u64, min_length: usize) -> Self {
        WedgeDecoder { max_gap_ms, min_length: min_length.max(1), buffer: String::new(), last_ms: None }
    }

    /// Feeds one key (`'\n'` or `'\r'` for Enter) pressed at `at_ms`; returns what it completes.
    pub fn key(&mut self, key: char, at_ms: u64) -> Vec<Input> {
        let mut out = Vec::new();
        let slow = self.last_ms.is_some_and(|last| at_ms.saturating_sub(last) > self.max_gap_ms);
        if slow && !self.buffer.is_empty() {
            out.push(Input::Typed(std::mem::take(&mut self.buffer)));
        }
        self.last_ms = Some(at_ms);
        if key == '\n' || key == '\r' {
            let text = std::mem::take(&mut self.buffer);
            if !slow && text.chars().count() >= self.min_length {
                out.push(Input::Scan(text));
            } else {
                out.push(Input::Typed(format!("{text}\n")));
            }
            // The next key starts afresh, however soon it comes.
            self.last_ms = None;
        } else {
            self.buffer.push(key);
        }
        out
    }

    /// Called when no key came for a while: whatever waits was typed by a person.
    pub fn idle(&mut self, now_ms: u64) -> Option<Input> {
        let stale = self.last_ms.is_some_and(|last| now_ms.saturating_sub(last) > self.max_gap_ms);
        (stale && !self.buffer.is_empty()).then(|| {
            self.last_ms = None;
            Input::Typed(std::mem::take(&mut self.buffer))
        })
    }
}
