//! Failed attempts, counted in `attempt_throttle` by key (an account, an address, the pair of
//! both, a register's code from an address): progressive delays for one guesser at one
//! target, locks for an address or a campaign against an account. Every wait is decided by
//! the database handle's clock, so tests end a lockout by moving it.

use super::{Error, Result};
use crate::db::Db;

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
pub(super) const PASSWORD_CHANGE: Throttle =
    Throttle { failures: 5, window_ms: 15 * 60_000, lock_ms: 30_000 };

/// Enrolment codes, per address and register: five wrong codes an hour at once, then each
/// next one waits 30 s, doubling up to 15 min. Another register's code from the same address
/// is not held up.
pub const PER_ENROLLER: Backoff =
    Backoff { free: 5, window_ms: 60 * 60_000, first_ms: 30_000, max_ms: 15 * 60_000 };

/// The longest lock, however many failures.
pub const MAX_LOCK_MS: i64 = 60 * 60_000;

/// Refuses (429) while `key` is locked.
#[tracing::instrument(skip_all)]
pub(super) async fn check_throttle(db: &Db, key: &str, what: &str) -> Result<()> {
    let locked_until: Option<i64> =
        sqlx::query_scalar("SELECT locked_until_ms FROM attempt_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(db.pool())
            .await?;
    match locked_until {
        Some(until) => refuse_until(db.now_ms(), until, what),
        None => Ok(()),
    }
}

/// 429 until `until`, if it is still to come.
fn refuse_until(now: i64, until: i64, what: &str) -> Result<()> {
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
pub(super) async fn count_attempt(db: &Db, key: &str, rule: Throttle, what: &str) -> Result<bool> {
    let now = db.now_ms();
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
pub(super) async fn take_turn(db: &Db, key: &str, rule: Backoff, what: &str) -> Result<()> {
    let now = db.now_ms();
    let mut tx = db.begin().await?;
    let Some(counted) = count_in_window(&mut tx, key, now, rule.window_ms, true).await? else {
        let until: i64 = sqlx::query_scalar("SELECT locked_until_ms FROM attempt_throttle WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        refuse_until(now, until, what)?;
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
pub(super) async fn forget(db: &Db, key: &str) -> sqlx::Result<()> {
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
    let now = db.now_ms();
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

/// Who an address stands for: itself (IPv4) or its /64 (IPv6), as the gateway counts it.
pub(super) fn address_key(kind: &str, address: Option<std::net::IpAddr>) -> String {
    match address {
        Some(ip) => format!("{kind}:{}", crate::network::network_of(ip)),
        None => format!("{kind}:unknown"),
    }
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
        crate::alerts::Alert { message, ..Default::default() }.says(
            "account_locked_for",
            &[
                ("account", &account),
                ("failures", &PER_ACCOUNT.failures),
                ("window_minutes", &(PER_ACCOUNT.window_ms / 60_000)),
                ("lock_minutes", &(PER_ACCOUNT.lock_ms / 60_000)),
            ],
        ),
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
