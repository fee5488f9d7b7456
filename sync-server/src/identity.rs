//! Who may call the server: head-office users (argon2 passwords, roles, session tokens) and
//! registers (enrolled once with a code from head office, then holding a device secret bound
//! to one store). Secrets and tokens are random 256-bit values stored only as SHA-256 hashes:
//! they are not guessable, so a slow hash buys nothing there; passwords and PINs, which people
//! choose, get argon2.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared_model::protocol::Enrolment;
use shared_model::{LocationCode, RegisterId};

use crate::db::{Db, from_i64, now_ms, parse};

/// Why identity refused, or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is refused; `field` names it.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    /// No credentials, or wrong, expired or revoked ones.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The account exists, or the change would leave the chain without an admin.
    #[error("{0}")]
    Conflict(String),
    /// Too many failed attempts: try again after `retry_after_s`.
    #[error("{detail}")]
    Throttled { detail: String, retry_after_s: u64 },
    /// Every password-hashing slot is taken: try again shortly.
    #[error("{detail}")]
    Busy { detail: String, retry_after_s: u64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    fn invalid(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Error::Invalid { field: field.into(), detail: detail.to_string() }
    }

    fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Internal(error.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a head-office session lasts.
const SESSION_MS: i64 = 12 * 3_600_000;
/// How long an enrolment code stays valid: long enough to walk to the till, short enough
/// that a code on a lost note is worth little.
pub const ENROLMENT_MS: i64 = 24 * 3_600_000;
/// Longest username and password read: argon2 is fed no megabyte passwords.
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD: usize = 1_024;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Logistics,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Logistics => "logistics",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Manager, Role::Logistics].into_iter().find(|r| r.as_str() == text)
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A random token: 32 bytes as hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// An enrolment code a person can type: eight characters without look-alikes, as XXXX-XXXX.
pub fn new_enrolment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chars: String = (0..8).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase().replace([' ', '-'], "")
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

/// How many failures a key may have in a window before it is locked, and for how long (the
/// lock doubles with each further failure, up to [`MAX_LOCK_MS`]).
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub failures: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}

/// A progressive delay: `free` attempts in a window go at once; from then on each attempt
/// makes the next one wait `first_ms`, doubling up to `max_ms`. Applied to one guesser at
/// one target (an account from one address, a register's code from one address), so the
/// delay falls on whoever makes the failures and nobody else.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub free: i64,
    pub window_ms: i64,
    pub first_ms: i64,
    pub max_ms: i64,
}

impl Backoff {
    /// The wait after the `attempts`-th attempt of a window.
    pub fn wait_ms(&self, attempts: i64) -> i64 {
        if attempts < self.free {
            return 0;
        }
        let doublings = (attempts - self.free).clamp(0, 30);
        self.first_ms.saturating_mul(1 << doublings).min(self.max_ms)
    }
}

/// One account from one address (an IPv6 /64): five attempts an hour at once, then each next
/// one waits 1 s, 2 s, 4 s… up to 15 min. A right password forgets the pair's failures.
pub const PER_PAIR: Backoff =
    Backoff { free: 5, window_ms: 60 * 60_000, first_ms: 1_000, max_ms: 15 * 60_000 };
/// One account from anywhere: only a guessing campaign from many addresses reaches a hundred
/// failures in 15 minutes; then the account is locked for 15 min (doubling to an hour) and
/// head office is alerted ([`crate::alerts::Kind::AccountLocked`]).
pub const PER_ACCOUNT: Throttle = Throttle { failures: 100, window_ms: 15 * 60_000, lock_ms: 15 * 60_000 };
/// Twenty failures from one address (an IPv6 /64), whatever the accounts, lock that address
/// for a minute, doubling to an hour: it only ever locks out whoever is guessing from there.
pub const PER_ADDRESS: Throttle = Throttle { failures: 20, window_ms: 15 * 60_000, lock_ms: 60_000 };
/// Changing one's own password: five wrong current passwords in 15 minutes lock the change
/// (not the sign-in) for 30 s, doubling. Only the session's holder can make them.
const PASSWORD_CHANGE: Throttle = Throttle { failures: 5, window_ms: 15 * 60_000, lock_ms: 30_000 };
/// Enrolment codes, per address and register: five wrong codes an hour at once, then each
/// next one waits 30 s, doubling up to 15 min. Another register's code from the same address
/// is not held up.
pub const PER_ENROLLER: Backoff =
    Backoff { free: 5, window_ms: 60 * 60_000, first_ms: 30_000, max_ms: 15 * 60_000 };
/// The longest lock, however many failures.
pub const MAX_LOCK_MS: i64 = 60 * 60_000;

/// Refuses (429) while `key` is locked.
#[tracing::instrument(skip_all)]
async fn check_throttle(db: &Db, key: &str, what: &str) -> Result<()> {
    let locked_until: Option<i64> =
        sqlx::query_scalar("SELECT locked_until_ms FROM attempt_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(db.pool())
            .await?;
    match locked_until {
        Some(until) => refuse_until(until, what),
        None => Ok(()),
    }
}

/// 429 until `until`, if it is still to come.
fn refuse_until(until: i64, what: &str) -> Result<()> {
    let now = now_ms();
    if until <= now {
        return Ok(());
    }
    let seconds = whole_seconds(until - now);
    Err(Error::Throttled {
        detail: format!("too many failed {what}: try again in {seconds} s"),
        retry_after_s: seconds,
    })
}

/// What a key's row holds once an attempt is counted.
#[derive(Debug, sqlx::FromRow)]
struct Counted {
    failures: i64,
    window_start_ms: i64,
    locked_until_ms: i64,
}

/// Counts an attempt in `key`'s window, starting a new window if the last one has closed
/// (with `unless_locked`, only if the key is not locked: none is answered when it is).
async fn count_in_window(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    now: i64,
    window_ms: i64,
    unless_locked: bool,
) -> sqlx::Result<Option<Counted>> {
    // The condition makes checking the lock and counting one step: two attempts racing
    // cannot both find the key unlocked.
    let condition = if unless_locked { "WHERE attempt_throttle.locked_until_ms <= $2" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO attempt_throttle (key, failures, window_start_ms, locked_until_ms, expires_ms)
         VALUES ($1, 1, $2, 0, $2)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN attempt_throttle.window_start_ms < $3 THEN 1 ELSE attempt_throttle.failures + 1 END,
           window_start_ms = CASE WHEN attempt_throttle.window_start_ms < $3 THEN $2 ELSE attempt_throttle.window_start_ms END
         {condition}
         RETURNING failures, window_start_ms, locked_until_ms"
    )))
    .bind(key)
    .bind(now)
    .bind(now - window_ms)
    .fetch_optional(conn)
    .await
}

/// Sets `key`'s lock, and when its row may be swept: once both its window and its lock are over.
async fn lock_until(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    until: i64,
    window_end: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE attempt_throttle SET locked_until_ms = $1, expires_ms = $2 WHERE key = $3")
        .bind(until)
        .bind(until.max(window_end))
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts an attempt against `key` before it is checked, so that a burst of concurrent
/// attempts cannot all pass the lock before the first of them fails: the attempt past the
/// allowance is refused at once (429), the one that reaches it locks the key. A successful
/// attempt is taken back with [`uncount`]. Answers whether this attempt locked the key.
#[tracing::instrument(skip_all)]
async fn count_attempt(db: &Db, key: &str, rule: Throttle, what: &str) -> Result<bool> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let counted = count_in_window(&mut tx, key, now, rule.window_ms, false)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("an attempt was not counted")))?;
    let failures = counted.failures;
    let doublings = (failures - rule.failures).clamp(0, 16);
    let lock = rule.lock_ms.saturating_mul(1 << doublings).min(MAX_LOCK_MS);
    let until = if failures >= rule.failures { now + lock } else { counted.locked_until_ms };
    lock_until(&mut tx, key, until, counted.window_start_ms + rule.window_ms).await?;
    tx.commit().await?;
    if failures > rule.failures {
        let seconds = whole_seconds(lock);
        return Err(Error::Throttled {
            detail: format!("too many failed {what}: try again in {seconds} s"),
            retry_after_s: seconds,
        });
    }
    Ok(failures == rule.failures)
}

/// Takes a turn for `key` under a progressive delay: refused (429, saying how long to wait)
/// while the key waits; otherwise counted, and the wait this attempt earns is set before it
/// is checked, so a burst of attempts cannot all slip through. A successful attempt forgets
/// the key ([`forget`]).
#[tracing::instrument(skip_all)]
async fn take_turn(db: &Db, key: &str, rule: Backoff, what: &str) -> Result<()> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let Some(counted) = count_in_window(&mut tx, key, now, rule.window_ms, true).await? else {
        let until: i64 = sqlx::query_scalar("SELECT locked_until_ms FROM attempt_throttle WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        refuse_until(until, what)?;
        // The wait ended between the two reads: a retry goes through.
        return Err(Error::Throttled {
            detail: format!("too many failed {what}: try again in 1 s"),
            retry_after_s: 1,
        });
    };
    let until = now + rule.wait_ms(counted.failures);
    lock_until(&mut tx, key, until, counted.window_start_ms + rule.window_ms).await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets `key`'s attempts.
async fn forget(db: &Db, key: &str) -> sqlx::Result<()> {
    db.write(sqlx::query("DELETE FROM attempt_throttle WHERE key = $1").bind(key)).await?;
    Ok(())
}

/// Takes back an attempt that succeeded.
#[tracing::instrument(skip_all)]
async fn uncount(db: &Db, key: &str, rule: Throttle) -> sqlx::Result<()> {
    db.write(
        sqlx::query(
            "UPDATE attempt_throttle SET failures = failures - 1,
                 locked_until_ms = CASE WHEN failures - 1 < $2 THEN 0 ELSE locked_until_ms END
             WHERE key = $1",
        )
        .bind(key)
        .bind(rule.failures),
    )
    .await?;
    Ok(())
}

/// How many expired throttle rows one statement of [`sweep_attempts`] deletes: a short write,
/// so sign-ins waiting on SQLite's writer are not held up behind a long one.
const SWEEP_BATCH: i64 = 1_000;

/// Deletes the throttle rows whose window has closed and whose lock has passed, a batch at a
/// time; answers how many. Any instance may run it: the server does every ten minutes.
#[tracing::instrument(skip_all)]
pub async fn sweep_attempts(db: &Db) -> sqlx::Result<u64> {
    let now = now_ms();
    let mut swept = 0;
    loop {
        let done = db
            .write(
                sqlx::query(
                    "DELETE FROM attempt_throttle WHERE key IN (
                         SELECT key FROM attempt_throttle WHERE expires_ms < $1 LIMIT $2)",
                )
                .bind(now)
                .bind(SWEEP_BATCH),
            )
            .await?
            .rows_affected();
        swept += done;
        if done < SWEEP_BATCH.unsigned_abs() {
            return Ok(swept);
        }
    }
}

/// A wait of `ms` milliseconds (positive: a lock still running) in whole seconds, rounded up,
/// for `Retry-After`.
fn whole_seconds(ms: i64) -> u64 {
    ms.unsigned_abs().div_ceil(1_000)
}

fn account_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

/// Who an address stands for: itself (IPv4) or its /64 (IPv6), as the gateway counts it.
fn address_key(kind: &str, address: Option<std::net::IpAddr>) -> String {
    match address {
        Some(ip) => format!("{kind}:{}", crate::gateway::limits::network_of(ip)),
        None => format!("{kind}:unknown"),
    }
}

/// Creates the first admin when there is no user at all, so a new chain can be signed into.
/// Returns the password when it made one (the one given, or a random one to print once).
#[tracing::instrument(skip_all)]
pub async fn ensure_first_admin(db: &Db, password: Option<String>) -> anyhow::Result<Option<String>> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) AS n FROM users").fetch_one(db.pool()).await?;
    if users > 0 {
        return Ok(None);
    }
    if let Some(given) = &password
        && let Some(weakness) = weakness(given, &["admin"])
    {
        anyhow::bail!("the admin password given is refused: {weakness}");
    }
    let password = password.unwrap_or_else(|| new_token()[..16].to_owned());
    create_user(db, "admin", &password, Role::Admin).await?;
    Ok(Some(password))
}

#[tracing::instrument(skip_all)]
pub async fn create_user(db: &Db, username: &str, password: &str, role: Role) -> anyhow::Result<()> {
    let hash = hash_password(password)?;
    db.write(
        sqlx::query(
            "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
        )
        .bind(username)
        .bind(hash)
        .bind(role.as_str()),
    )
    .await?;
    Ok(())
}

/// A sign-in attempt, counted before its password is checked.
#[derive(Debug)]
pub struct Attempt {
    account: String,
    from: String,
    pair: String,
}

/// Counts a sign-in attempt for `account` (a key naming the kind of account, like
/// `user:NAME` or `shopper:EMAIL`) from `address`, or refuses it (429, with how long to
/// wait). Head office's users and the shop's customers share these rules, none of which lets
/// one person lock another out: failures slow down the pair of account and address that made
/// them ([`PER_PAIR`]); an address that fails too often is locked itself ([`PER_ADDRESS`]);
/// an account is locked only past [`PER_ACCOUNT`]'s hundred failures, which takes a campaign
/// from many addresses, and head office is alerted when it is.
pub async fn start_attempt(db: &Db, account: &str, address: Option<std::net::IpAddr>) -> Result<Attempt> {
    let from = address_key("sign-in", address);
    let pair = format!("{account}|{from}");
    check_throttle(db, &from, "sign-ins from this address").await?;
    check_throttle(db, account, "sign-ins for this account").await?;
    take_turn(db, &pair, PER_PAIR, "sign-ins for this account from this address").await?;
    count_attempt(db, &from, PER_ADDRESS, "sign-ins from this address").await?;
    if count_attempt(db, account, PER_ACCOUNT, "sign-ins for this account").await? {
        account_locked(db, account).await?;
    }
    Ok(Attempt { account: account.to_owned(), from, pair })
}

/// Tells head office that `account` was locked by a guessing campaign.
async fn account_locked(db: &Db, account: &str) -> Result<()> {
    tracing::warn!(account, "account locked after {} failed sign-ins", PER_ACCOUNT.failures);
    let message = format!(
        "{account} had {} failed sign-ins in {} minutes, from several addresses: it is locked for {} minutes. \
         Someone may be guessing its password; its owner can still be given a new one.",
        PER_ACCOUNT.failures,
        PER_ACCOUNT.window_ms / 60_000,
        PER_ACCOUNT.lock_ms / 60_000,
    );
    let mut tx = db.begin().await?;
    crate::alerts::raise(
        &mut tx,
        crate::alerts::Kind::AccountLocked,
        account,
        crate::alerts::Alert { message, ..Default::default() },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes back a sign-in attempt that succeeded: the pair's failures are forgotten, and the
/// attempt no longer counts against the address or the account.
pub async fn attempt_succeeded(db: &Db, attempt: Attempt) -> sqlx::Result<()> {
    forget(db, &attempt.pair).await?;
    uncount(db, &attempt.account, PER_ACCOUNT).await?;
    uncount(db, &attempt.from, PER_ADDRESS).await
}

/// A row of `users`, as signing in reads it.
#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    password_hash: String,
    role: String,
    disabled: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub token: String,
    /// What a page sends as `X-CSRF-Token` with its writes when it signs in with a cookie.
    pub csrf: String,
    pub username: String,
    pub role: Role,
    pub expires_ms: i64,
}

/// Checks a password and opens a session. Failures are throttled per account and per
/// address; an unknown username costs a hash like a known one.
#[tracing::instrument(skip_all)]
pub async fn log_in(
    db: &Db,
    slots: &PasswordSlots,
    address: Option<std::net::IpAddr>,
    username: &str,
    password: &str,
) -> Result<Session> {
    if username.chars().count() > MAX_USERNAME {
        return Err(Error::invalid("username", format!("a username has at most {MAX_USERNAME} characters")));
    }
    if password.chars().count() > MAX_PASSWORD {
        return Err(Error::invalid("password", format!("a password has at most {MAX_PASSWORD} characters")));
    }
    let attempt = start_attempt(db, &account_key(username), address).await?;
    let known: Option<UserRow> =
        sqlx::query_as("SELECT password_hash, role, disabled FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(db.pool())
            .await?;
    let hash = known.as_ref().map_or_else(|| decoy_hash().to_owned(), |user| user.password_hash.clone());
    let verified = slots.verify(password, &hash).await?;
    let disabled = known.as_ref().is_some_and(|user| user.disabled != 0);
    let role = known.and_then(|user| Role::parse(&user.role)).filter(|_| verified);
    let Some(role) = role else {
        return Err(Error::Unauthorized("wrong username or password".into()));
    };
    attempt_succeeded(db, attempt).await?;
    // Said only to whoever knows the password: it tells them whom to ask.
    if disabled {
        return Err(Error::Forbidden("this account is disabled: ask an administrator".into()));
    }
    let now = now_ms();
    // Expired sessions are of no use to anyone: each sign-in sweeps them away.
    db.write(sqlx::query("DELETE FROM sessions WHERE expires_ms < $1").bind(now)).await?;
    let token = new_token();
    let expires_ms = now + SESSION_MS;
    db.write(
        sqlx::query("INSERT INTO sessions (token_hash, username, expires_ms) VALUES ($1, $2, $3)")
            .bind(hash_secret(&token))
            .bind(username)
            .bind(expires_ms),
    )
    .await?;
    Ok(Session { csrf: csrf_of(&token), token, username: username.to_owned(), role, expires_ms })
}

/// The anti-forgery token of a session: pages send it back in a header with every write, which
/// a page of another site cannot read and so cannot send (the session's cookie it could).
/// Derived from the session's token, so nothing more is stored, and useless without it.
pub fn csrf_of(token: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf:{token}").as_bytes()))
}

/// Ends the session whose token is `token`.
#[tracing::instrument(skip_all)]
pub async fn log_out(db: &Db, staff: &Staff) -> Result<()> {
    db.write(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&staff.token_hash)).await?;
    Ok(())
}

/// Changes a user's password after checking the current one, and ends their other sessions.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    db: &Db,
    slots: &PasswordSlots,
    staff: &Staff,
    current: &str,
    new: &str,
) -> Result<()> {
    if new == current {
        return Err(Error::invalid("new_password", "the new password is the current one"));
    }
    check_new_password("new_password", new, &staff.username).await?;
    let key = format!("password-change:{}", staff.username.to_lowercase());
    let what = "attempts at the current password";
    check_throttle(db, &key, what).await?;
    count_attempt(db, &key, PASSWORD_CHANGE, what).await?;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
        .bind(&staff.username)
        .fetch_one(db.pool())
        .await?;
    if current.chars().count() > MAX_PASSWORD || !slots.verify(current, &hash).await? {
        return Err(Error::invalid("current_password", "the current password is wrong"));
    }
    forget(db, &key).await?;
    let new_hash = slots.hash(new).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(new_hash)
        .bind(&staff.username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE username = $1 AND token_hash <> $2")
        .bind(&staff.username)
        .bind(&staff.token_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A signed-in head-office user. Handlers ask for the role they need with [`Staff::require`].
#[derive(Debug, Clone)]
pub struct Staff {
    pub username: String,
    pub role: Role,
    /// The session's token, hashed: what signing out deletes.
    pub token_hash: String,
    /// The session's anti-forgery token ([`csrf_of`]).
    pub csrf: String,
    pub expires_ms: i64,
}

impl Staff {
    /// Admins may do everything; other roles only what is listed.
    pub fn require(&self, allowed: &[Role]) -> Result<()> {
        if self.role == Role::Admin || allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("the {} role may not do this", self.role.as_str())))
        }
    }
}

/// A row of `sessions` with its user's name and role.
#[derive(Debug, sqlx::FromRow)]
struct SessionRow {
    username: String,
    role: String,
    expires_ms: i64,
}

/// The head-office user whose session `token` is.
#[tracing::instrument(skip_all)]
pub async fn staff_of_session(db: &Db, token: &str) -> Result<Staff> {
    let token_hash = hash_secret(token);
    let session: SessionRow = sqlx::query_as(
        "SELECT u.username, u.role, s.expires_ms FROM sessions s JOIN users u ON u.username = s.username
         WHERE s.token_hash = $1 AND u.disabled = 0",
    )
    .bind(&token_hash)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| Error::Unauthorized("the session token is not valid: sign in again".into()))?;
    if session.expires_ms < now_ms() {
        return Err(Error::Unauthorized("the session has expired: sign in again".into()));
    }
    let role = Role::parse(&session.role).ok_or_else(|| Error::Forbidden("unknown role".into()))?;
    Ok(Staff {
        username: session.username,
        role,
        token_hash,
        csrf: csrf_of(token),
        expires_ms: session.expires_ms,
    })
}

/// An enrolled register, authenticated by its device secret.
#[derive(Debug, Clone)]
pub struct Register {
    pub id: RegisterId,
    pub store: LocationCode,
}

/// The columns of a [`RegisterRow`], in a query's select list.
const REGISTER_COLUMNS: &str = "id, store, secret_hash, revoked_ms, holds, last_push_ms, last_pull_ms";

/// A row of `registers` (but for when it enrolled).
#[derive(Debug, sqlx::FromRow)]
struct RegisterRow {
    id: String,
    store: String,
    secret_hash: Option<String>,
    revoked_ms: Option<i64>,
    holds: i64,
    last_push_ms: Option<i64>,
    last_pull_ms: Option<i64>,
}

impl RegisterRow {
    fn register(&self) -> sqlx::Result<Register> {
        Ok(Register { id: parse("registers.id", &self.id)?, store: parse("registers.store", &self.store)? })
    }

    fn holds(&self) -> sqlx::Result<u64> {
        from_i64("registers.holds", self.holds)
    }
}

impl TryFrom<RegisterRow> for RegisterStatus {
    type Error = sqlx::Error;

    fn try_from(row: RegisterRow) -> sqlx::Result<RegisterStatus> {
        let Register { id, store } = row.register()?;
        Ok(RegisterStatus {
            id,
            store,
            enrolled: row.secret_hash.is_some(),
            revoked: row.revoked_ms.is_some(),
            holds: row.holds,
            last_push_ms: row.last_push_ms,
            last_pull_ms: row.last_pull_ms,
        })
    }
}

/// The enrolled register whose device secret is `secret`.
#[tracing::instrument(skip_all)]
pub async fn register_of_secret(db: &Db, secret: &str) -> Result<Register> {
    let row: RegisterRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REGISTER_COLUMNS} FROM registers WHERE secret_hash = $1"
    )))
    .bind(hash_secret(secret))
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| Error::Unauthorized("this device secret is not known: enrol the register".into()))?;
    if row.revoked_ms.is_some() {
        return Err(Error::Unauthorized(format!(
            "register {} has been revoked by head office: enrol it again with a new code",
            row.id
        )));
    }
    Ok(row.register()?)
}

/// Adds a register to one of the chain's stores (not yet enrolled); refused when its store is
/// not one.
#[tracing::instrument(skip_all)]
pub async fn create_register(db: &Db, id: &RegisterId) -> Result<()> {
    if !crate::catalogue::is_store(db, &id.store()).await? {
        return Err(Error::invalid("id", format!("there is no store {}", id.store())));
    }
    add_register(db, id).await?;
    Ok(())
}

/// Adds a register to a store (not yet enrolled).
#[tracing::instrument(skip_all)]
pub async fn add_register(db: &Db, id: &RegisterId) -> anyhow::Result<()> {
    db.write(
        sqlx::query("INSERT INTO registers (id, store) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(id.as_str())
            .bind(id.store().as_str()),
    )
    .await?;
    Ok(())
}

/// Issues a fresh enrolment code for a register. A register has one live code at most: an
/// earlier unused one stops working.
#[tracing::instrument(skip_all)]
pub async fn issue_enrolment_code(db: &Db, register: &RegisterId) -> Result<String> {
    let known: Option<String> = sqlx::query_scalar("SELECT id FROM registers WHERE id = $1")
        .bind(register.as_str())
        .fetch_optional(db.pool())
        .await?;
    if known.is_none() {
        return Err(Error::NotFound(format!("no register {register}: add it first")));
    }
    let code = new_enrolment_code();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM enrolment_codes WHERE register_id = $1 AND used_ms IS NULL")
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO enrolment_codes (code_hash, register_id, expires_ms) VALUES ($1, $2, $3)")
        .bind(hash_secret(&normalise_code(&code)))
        .bind(register.as_str())
        .bind(now_ms() + ENROLMENT_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(code)
}

/// Registers added but never enrolled, in id order.
#[tracing::instrument(skip_all)]
pub async fn unenrolled(db: &Db) -> anyhow::Result<Vec<RegisterId>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM registers WHERE secret_hash IS NULL ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    Ok(ids.iter().map(|id| parse("registers.id", id)).collect::<sqlx::Result<_>>()?)
}

/// When a register's live enrolment code expires, if it has one.
#[tracing::instrument(skip_all)]
pub async fn live_code_expiry(db: &Db, register: &RegisterId) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MAX(expires_ms) AS expires_ms FROM enrolment_codes WHERE register_id = $1 AND used_ms IS NULL AND expires_ms >= $2",
    )
    .bind(register.as_str())
    .bind(now_ms())
    .fetch_one(db.pool())
    .await
}

/// Exchanges an enrolment code, once, for a device secret, for whichever register it was
/// issued to. See [`enrol_as`].
pub async fn enrol(db: &Db, address: Option<std::net::IpAddr>, code: &str) -> Result<Enrolment> {
    enrol_as(db, address, None, code).await
}

/// Exchanges an enrolment code, once, for a device secret. Enrolling again replaces the
/// previous secret (a replaced till), and lifts a revocation. Every kind of wrong code gets
/// the same answer, so guessing learns nothing.
///
/// Wrong codes slow down the pair of address and register they were tried for
/// ([`PER_ENROLLER`]): a till that names its register (`register`) is held up only by wrong
/// codes for that register, never by another till's typos or a guesser at the same address;
/// a till that names none shares the address's pair with the others that name none. A code
/// issued to another register than the one named is refused like an unknown one.
#[tracing::instrument(skip_all)]
pub async fn enrol_as(
    db: &Db,
    address: Option<std::net::IpAddr>,
    register: Option<&RegisterId>,
    code: &str,
) -> Result<Enrolment> {
    if code.chars().count() > 32 {
        return Err(Error::invalid("code", "an enrolment code looks like ABCD-EFGH"));
    }
    let for_register = register.map_or("any register", RegisterId::as_str);
    let pair = format!("{}|{for_register}", address_key("enrol", address));
    take_turn(db, &pair, PER_ENROLLER, "enrolment attempts from this address for this register").await?;
    let mut tx = db.begin().await?;
    let code_hash = hash_secret(&normalise_code(code));
    // Claiming and checking the code is one statement: two devices racing with one code
    // cannot both win.
    let now = now_ms();
    let claimed: Option<String> = sqlx::query_scalar(
        "UPDATE enrolment_codes SET used_ms = $1
         WHERE code_hash = $2 AND used_ms IS NULL AND expires_ms >= $1 AND ($3 = '' OR register_id = $3)
         RETURNING register_id",
    )
    .bind(now)
    .bind(&code_hash)
    .bind(register.map_or("", RegisterId::as_str))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(claimed) = claimed else {
        tx.rollback().await?;
        // The attempt stays counted: the wait it earned applies from the next one.
        return Err(Error::invalid(
            "code",
            "this enrolment code is not valid (unknown, used, replaced or expired): ask head office for a new one",
        ));
    };
    let row: RegisterRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REGISTER_COLUMNS} FROM registers WHERE id = $1"
    )))
    .bind(&claimed)
    .fetch_one(&mut *tx)
    .await?;
    let (Register { id: register, store }, holds) = (row.register()?, row.holds()?);
    let secret = new_token();
    sqlx::query("UPDATE registers SET secret_hash = $1, enrolled_ms = $2, revoked_ms = NULL WHERE id = $3")
        .bind(hash_secret(&secret))
        .bind(now_ms())
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    forget(db, &pair).await?;
    Ok(Enrolment { register, store, secret, holds })
}

/// Revokes a register's device secret, and any enrolment code it had not used yet: a code
/// issued before the revocation must not bring the register back.
#[tracing::instrument(skip_all)]
pub async fn revoke(db: &Db, register: &RegisterId, actor: &crate::audit::Actor) -> Result<()> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE registers SET revoked_ms = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no register {register}")));
    }
    sqlx::query("DELETE FROM enrolment_codes WHERE register_id = $1 AND used_ms IS NULL")
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    let change = crate::audit::Change::new("register.revoke", format!("register:{register}"))
        .before(serde_json::json!({ "revoked": false }))
        .after(serde_json::json!({ "revoked": true }));
    crate::audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterStatus {
    #[schema(value_type = String)]
    pub id: RegisterId,
    #[schema(value_type = String)]
    pub store: LocationCode,
    pub enrolled: bool,
    pub revoked: bool,
    pub holds: i64,
    pub last_push_ms: Option<i64>,
    pub last_pull_ms: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn registers(db: &Db) -> Result<Vec<RegisterStatus>> {
    let rows: Vec<RegisterRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {REGISTER_COLUMNS} FROM registers ORDER BY id")))
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(RegisterStatus::try_from).collect::<sqlx::Result<_>>()?)
}

/// Records what the server now holds of a register after a push.
#[tracing::instrument(skip_all)]
pub async fn note_push(
    conn: &mut sqlx::AnyConnection,
    register: &RegisterId,
    holds: u64,
) -> sqlx::Result<()> {
    let holds = crate::db::to_i64("holds", holds)?;
    sqlx::query(
        "UPDATE registers SET last_push_ms = $1, holds = CASE WHEN holds < $2 THEN $2 ELSE holds END WHERE id = $3",
    )
    .bind(now_ms())
    .bind(holds)
    .bind(register.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The highest seq of `register` the server holds with none missing below it (0 for none).
#[tracing::instrument(skip_all)]
pub async fn holds<'e, E>(conn: E, register: &RegisterId) -> sqlx::Result<u64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let held: Option<i64> = sqlx::query_scalar("SELECT holds FROM registers WHERE id = $1")
        .bind(register.as_str())
        .fetch_optional(conn)
        .await?;
    match held {
        Some(held) => from_i64("registers.holds", held),
        // A register the server has never heard of holds nothing yet.
        None => Ok(0),
    }
}

/// Records a pull, and the newest feed version it handed the register (`handed`).
#[tracing::instrument(skip_all)]
pub async fn note_pull(db: &Db, register: &RegisterId, handed: u64) -> sqlx::Result<()> {
    let handed = crate::db::to_i64("handed", handed)?;
    db.write(
        sqlx::query(
            "UPDATE registers SET last_pull_ms = $1,
                 pulled_version = CASE WHEN pulled_version < $2 THEN $2 ELSE pulled_version END
             WHERE id = $3",
        )
        .bind(now_ms())
        .bind(handed)
        .bind(register.as_str()),
    )
    .await?;
    Ok(())
}

/// How far a change published at feed `version` has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reach {
    /// Registers that have pulled it.
    pub reached: i64,
    /// Registers that will: enrolled and not revoked.
    pub registers: i64,
}

/// How many of the working registers have been handed the feed's `version` by a pull.
#[tracing::instrument(skip_all)]
pub async fn reach(db: &Db, version: i64) -> sqlx::Result<Reach> {
    let (reached, registers): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN pulled_version >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS reached,
                COUNT(*) AS registers
         FROM registers WHERE secret_hash IS NOT NULL AND revoked_ms IS NULL",
    )
    .bind(version)
    .fetch_one(db.pool())
    .await?;
    Ok(Reach { reached, registers })
}

/// A head-office account, as the people page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
}

/// A row of `users`, as the people page reads it.
#[derive(Debug, sqlx::FromRow)]
struct AccountRow {
    username: String,
    role: String,
    disabled: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = sqlx::Error;

    fn try_from(row: AccountRow) -> sqlx::Result<Account> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| crate::db::corrupt("users.role", format!("{:?} is no role", row.role)))?;
        Ok(Account { username: row.username, role, disabled: row.disabled != 0 })
    }
}

/// Every head-office account, by name.
#[tracing::instrument(skip_all)]
pub async fn accounts(db: &Db) -> Result<Vec<Account>> {
    let rows: Vec<AccountRow> =
        sqlx::query_as("SELECT username, role, disabled FROM users ORDER BY username")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(Account::try_from).collect::<sqlx::Result<_>>()?)
}

/// A username: 3 to 64 of lower-case letters, digits, dot, dash and underscore, so that it
/// reads the same in a log, a URL and an audit line.
fn check_username(username: &str) -> Result<()> {
    let ok = (3..=MAX_USERNAME).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            "a username has 3 to 64 lower-case letters, digits, dots, dashes or underscores",
        ))
    }
}

/// A new head-office password: 12 to 1,024 characters, and hard to guess ([`weakness`]),
/// knowing the account's name.
async fn check_new_password(field: &str, password: &str, username: &str) -> Result<()> {
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

/// Creates a head-office account (an admin's act). A name already taken is a conflict.
#[tracing::instrument(skip_all)]
pub async fn create_account(
    db: &Db,
    slots: &PasswordSlots,
    username: &str,
    role: Role,
    password: &str,
    actor: &crate::audit::Actor,
) -> Result<Account> {
    check_username(username)?;
    check_new_password("password", password, username).await?;
    let hash = slots.hash(password).await?;
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING",
    )
    .bind(username)
    .bind(hash)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(Error::Conflict(format!("there is already an account {username}")));
    }
    let account = Account { username: username.to_owned(), role, disabled: false };
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::Change::new("user.create", format!("user:{username}")).after(&account),
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Disables or enables an account. Disabling ends its sessions. Nobody disables themselves,
/// and the last enabled admin stays: the chain would have nobody left to manage accounts.
#[tracing::instrument(skip_all)]
pub async fn set_disabled(
    db: &Db,
    by: &Staff,
    username: &str,
    disabled: bool,
    actor: &crate::audit::Actor,
) -> Result<Account> {
    if disabled && by.username == username {
        return Err(Error::Conflict("you cannot disable your own account".into()));
    }
    let mut tx = db.begin().await?;
    let before = account_for_change(&mut tx, username).await?;
    if disabled && before.role == Role::Admin {
        not_the_last_admin(&mut tx, username).await?;
    }
    sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
        .bind(i64::from(disabled))
        .bind(username)
        .execute(&mut *tx)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await?;
    }
    let after = Account { disabled, ..before.clone() };
    let action = if disabled { "user.disable" } else { "user.enable" };
    let change = crate::audit::Change::new(action, format!("user:{username}")).before(&before).after(&after);
    crate::audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(after)
}

/// Reads an account an admin is about to change, after taking the lock that makes admins
/// changing each other take turns (so two cannot both pass the last-admin check).
async fn account_for_change(conn: &mut sqlx::AnyConnection, username: &str) -> Result<Account> {
    crate::db::lock_keys(conn, &["users:admins".to_owned()]).await?;
    let row: AccountRow = sqlx::query_as("SELECT username, role, disabled FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no account {username}")))?;
    Ok(Account::try_from(row)?)
}

/// Refuses a change that would leave the chain without an enabled admin.
async fn not_the_last_admin(conn: &mut sqlx::AnyConnection, username: &str) -> Result<()> {
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(conn)
            .await?;
    if admins <= 1 {
        return Err(Error::Conflict(format!("{username} is the last enabled admin")));
    }
    Ok(())
}

/// Gives an account another role; its sessions end, so the new role applies at once. Nobody
/// changes their own role, and the last enabled admin stays an admin.
#[tracing::instrument(skip_all)]
pub async fn set_role(
    db: &Db,
    by: &Staff,
    username: &str,
    role: Role,
    actor: &crate::audit::Actor,
) -> Result<Account> {
    if by.username == username {
        return Err(Error::Conflict("you cannot change your own role".into()));
    }
    let mut tx = db.begin().await?;
    let before = account_for_change(&mut tx, username).await?;
    if before.role == role {
        return Ok(before);
    }
    if before.role == Role::Admin && !before.disabled {
        not_the_last_admin(&mut tx, username).await?;
    }
    sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
        .bind(role.as_str())
        .bind(username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await?;
    let after = Account { role, ..before.clone() };
    let change =
        crate::audit::Change::new("user.role", format!("user:{username}")).before(&before).after(&after);
    crate::audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(after)
}

/// Sets another person's password (an admin's act, when it is forgotten); their sessions end
/// and their sign-in lock is lifted.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    db: &Db,
    slots: &PasswordSlots,
    by: &Staff,
    username: &str,
    new: &str,
    actor: &crate::audit::Actor,
) -> Result<()> {
    // One's own password is changed knowing the current one (`change_password`): a session
    // left open must not be enough to take over the account.
    if by.username == username {
        return Err(Error::Conflict(
            "change your own password with your current one (POST /api/auth/password)".into(),
        ));
    }
    check_new_password("new_password", new, username).await?;
    let hash = slots.hash(new).await?;
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(hash)
        .bind(username)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no account {username}")));
    }
    sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await?;
    // The account's lock is lifted, and the delays of every address that tried it: the old
    // password is of no use to a guesser any more.
    let account = account_key(username);
    let pairs = format!("{account}|");
    sqlx::query("DELETE FROM attempt_throttle WHERE key = $1 OR substr(key, 1, CAST($2 AS INTEGER)) = $3")
        .bind(&account)
        .bind(i64::try_from(pairs.chars().count()).map_err(Error::internal)?)
        .bind(&pairs)
        .execute(&mut *tx)
        .await?;
    crate::alerts::resolve(&mut tx, crate::alerts::Kind::AccountLocked, &account).await?;
    // The password itself is never written to the trail, nor its hash.
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::Change::new("user.reset_password", format!("user:{username}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
