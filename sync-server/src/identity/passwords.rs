//! Passwords and PINs: argon2 hashes, run in a bounded number of slots, and the strength a
//! new one must have (zxcvbn).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use super::{Error, MAX_PASSWORD, Result, new_token};

/// Shortest new password head office accepts.
pub const MIN_PASSWORD: usize = 12;

/// The lowest zxcvbn score a new password may have: 3 is "safely unguessable", past 10^8
/// guesses (`password1234` scores 1, `aaaaaaaaaaaa` 0).
pub const MIN_STRENGTH: u8 = 3;

/// How much of a password the strength check reads: zxcvbn's own advice, as its matching
/// grows fast with length; a password whose first 100 characters are strong is strong.
const STRENGTH_READS: usize = 100;

/// Why a new password is too easy to guess, in one sentence from zxcvbn's feedback, or none
/// when it is strong enough. `user_inputs` are what an attacker would try first (the name,
/// the email address and its parts).
pub fn weakness(password: &str, user_inputs: &[&str]) -> Option<String> {
    let read: String = password.chars().take(STRENGTH_READS).collect();
    let mut inputs: Vec<&str> = user_inputs.to_vec();
    for input in user_inputs {
        inputs.extend(input.split(['@', '.', ' ', '-', '_', '+']).filter(|part| part.len() > 2));
    }
    let estimate = zxcvbn::zxcvbn(&read, &inputs);
    if u8::from(estimate.score()) >= MIN_STRENGTH {
        return None;
    }
    // zxcvbn's sentences, lower-cased and without their full stops, joined into one.
    let clause = |text: String| {
        let text = text.trim_end_matches('.').replace(". ", ", ");
        let mut chars = text.chars();
        chars.next().map(|first| first.to_lowercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    let feedback = estimate.feedback();
    let warning = feedback.and_then(|f| f.warning()).map(|w| clause(w.to_string()));
    let advice = feedback.and_then(|f| f.suggestions().first()).map_or_else(
        || "add another word or two, uncommon words are better".to_owned(),
        |s| clause(s.to_string()),
    );
    Some(match warning {
        Some(warning) => format!("this password is too easy to guess ({warning}): {advice}"),
        None => format!("this password is too easy to guess: {advice}"),
    })
}

/// [`weakness`], off the async workers: a long repetitive password takes zxcvbn tens of
/// milliseconds.
pub async fn weakness_off_thread(password: &str, user_inputs: Vec<String>) -> Result<Option<String>> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
        weakness(&password, &inputs)
    })
    .await
    .map_err(Error::internal)
}

/// Hashes a password or PIN with argon2 (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash of a password nobody knows, checked when a username is unknown so that an unknown
/// name costs what a known one does (otherwise 1.5 ms against 40 ms tells names apart).
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

/// The password hashes under way, bounded: argon2 takes 19 MiB and a core for tens of
/// milliseconds, so 200 sign-ins at once took the server from 210 MB to 9.9 GB. A hash waits
/// briefly for a slot, then the request is answered 503 with `Retry-After`.
#[derive(Debug)]
pub struct PasswordSlots {
    slots: tokio::sync::Semaphore,
    wait: std::time::Duration,
    in_flight: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
    hashes: std::sync::atomic::AtomicU64,
}

impl PasswordSlots {
    pub fn new(slots: usize, wait: std::time::Duration) -> Self {
        PasswordSlots {
            slots: tokio::sync::Semaphore::new(slots.max(1)),
            wait,
            in_flight: 0.into(),
            peak: 0.into(),
            hashes: 0.into(),
        }
    }

    /// One slot per core.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cores, std::time::Duration::from_secs(2))
    }

    /// The most hashes that ran at once since start.
    pub fn peak(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many hashes ran since start.
    pub fn hashes(&self) -> u64 {
        self.hashes.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        use std::sync::atomic::Ordering::Relaxed;
        let busy = || Error::Busy {
            detail: "too many sign-ins are being checked at once: try again in a second".into(),
            retry_after_s: 1,
        };
        let _slot = tokio::time::timeout(self.wait, self.slots.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let now = self.in_flight.fetch_add(1, Relaxed) + 1;
        self.peak.fetch_max(now, Relaxed);
        self.hashes.fetch_add(1, Relaxed);
        // argon2 is slow on purpose: keep it off the async workers.
        let done = tokio::task::spawn_blocking(work).await;
        self.in_flight.fetch_sub(1, Relaxed);
        done.map_err(Error::internal)
    }

    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool> {
        let (password, phc) = (password.to_owned(), phc.to_owned());
        self.run(move || verify_password(&password, &phc)).await
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move || hash_password(&password)).await?.map_err(Error::Internal)
    }
}

/// A new head-office password: 12 to 1,024 characters, and hard to guess ([`weakness`]),
/// knowing the account's name.
pub(super) async fn check_new_password(field: &str, password: &str, username: &str) -> Result<()> {
    let count = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&count) {
        return Err(Error::invalid(
            field,
            format!("a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        ));
    }
    match weakness_off_thread(password, vec![username.to_owned()]).await? {
        Some(weakness) => Err(Error::invalid(field, weakness)),
        None => Ok(()),
    }
}
