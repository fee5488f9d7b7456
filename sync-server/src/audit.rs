//! The audit trail: every head-office action (a product or price changed, a replenishment
//! decided, a transfer started, a register revoked, an account created, disabled or given a new
//! password, a claim decided, a refund sent) with who, what, when, the request it came in and
//! the object before and after.
//!
//! # Why an edit or a deletion shows
//!
//! Each entry carries the hash of the one before it, and its own hash is an HMAC-SHA256, under
//! head office's [`AuditKey`], of that and all its fields. The key is kept outside the database
//! (a file, or a setting: `--audit-key-file`, `CAISSE_AUDIT_KEY`), so someone who can write to
//! the database but not read the key cannot make an entry, nor remake one they edited: a
//! recomputed hash is a plain SHA-256 or a MAC under another key, and [`verify`] names the first
//! entry whose hash is not a MAC under head office's key. Deleting one leaves a gap in the
//! numbers and a `prev_hash` that names an entry no longer there. The database also refuses
//! UPDATE and DELETE on the table (migration 0009), which stops mistakes and a careless
//! attacker; the MAC is what stops one who drops the triggers. Removing the newest entries
//! leaves a chain that still verifies: [`verify`] answers the head it reached, which an operator
//! compares with one written down elsewhere (the head is logged at every start and served at
//! `GET /api/audit/head` for that).
//!
//! # Entries from before the key
//!
//! Entries written before migration 0009 have a plain SHA-256 hash (`alg` = `sha256`): nothing
//! secret vouches for them by themselves. The rule:
//! - unkeyed entries may only be the chain's first ones: one after a keyed entry is a break
//!   (someone rewrote the tail without the key);
//! - the first keyed entry after them covers, through its `prev_hash`, the last of them, and so
//!   all of them: from then on they cannot be changed either. At its first start with a key the
//!   server writes that entry at once, an `audit.sealed` entry ([`seal`]); [`record`] would
//!   write it too before any other;
//! - a chain whose last entry is unkeyed is not sealed, and [`verify`] reports it broken: either
//!   no keyed server has started on it yet (start it once), or someone rewrote every keyed entry
//!   as unkeyed.
//!
//! What the key cannot stop: an edit made before the seal, to an unkeyed entry, with the later
//! unkeyed hashes recomputed; the head logged before the upgrade is the only check for that.
//!
//! An entry is written in the transaction of the action it records, so an action and its
//! entry commit together or not at all. Entries take their numbers one at a time (an advisory
//! lock on PostgreSQL; SQLite has one writer): the chain never forks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};

use crate::db::{Db, Tx, lock_keys, now_ms};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry's `alg`: an HMAC-SHA256 under head office's key.
pub const KEYED: &str = "hmac-sha256";
/// An entry's `alg`: a plain SHA-256, only for entries written before the key (migration 0009).
pub const UNKEYED: &str = "sha256";
/// The action of the entry that seals the unkeyed entries under the key.
pub const SEALED: &str = "audit.sealed";

/// The shortest key accepted: HMAC-SHA256's own output length.
const KEY_MIN_BYTES: usize = 32;

/// Head office's audit key. Its bytes never print: `Debug` shows only [`AuditKey::id`].
#[derive(Clone)]
pub struct AuditKey(Arc<[u8]>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.id())
    }
}

impl AuditKey {
    /// A new random key of 32 bytes.
    pub fn random() -> AuditKey {
        AuditKey(Arc::from(rand::random::<[u8; 32]>().as_slice()))
    }

    /// A key from its hex spelling (`openssl rand -hex 32`), at least 32 bytes.
    pub fn from_hex(text: &str) -> anyhow::Result<AuditKey> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| anyhow::anyhow!("the audit key must be written in hex (openssl rand -hex 32)"))?;
        anyhow::ensure!(
            bytes.len() >= KEY_MIN_BYTES,
            "the audit key must be at least {KEY_MIN_BYTES} bytes ({} hex digits), not {}",
            KEY_MIN_BYTES * 2,
            bytes.len()
        );
        Ok(AuditKey(Arc::from(bytes.as_slice())))
    }

    /// A name for the key that says nothing of it: the start of a hash of it, to tell two keys
    /// apart in a log.
    pub fn id(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"caisse audit key id\0");
        hasher.update(&self.0);
        hex::encode(&hasher.finalize()[..4])
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

/// Where head office's key comes from.
#[derive(Debug, Clone, Default)]
pub enum KeySetting {
    /// No setting: a file beside the SQLite database (or `caisse-audit.key` in the working
    /// directory for PostgreSQL), written with a new key at the first start.
    #[default]
    Beside,
    /// This file, which must exist (`--audit-key-file`).
    File(PathBuf),
    /// This key (`CAISSE_AUDIT_KEY`).
    Given(AuditKey),
}

/// The key file of a database with no setting: `data/caisse-server.db.audit-key` beside a
/// SQLite file; `caisse-audit.key` in the working directory for PostgreSQL.
pub fn default_key_path(database_url: &str) -> PathBuf {
    if database_url.starts_with("sqlite:") {
        let rest = database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = rest.split_once('?').map_or(rest, |(path, _)| path);
        PathBuf::from(format!("{path}.audit-key"))
    } else {
        PathBuf::from("caisse-audit.key")
    }
}

/// Head office's key for `db`, from `setting`. With no setting the default file is read, or,
/// when `create` and it does not exist, written with a new key (mode 0600) and the log says so;
/// never when the trail already holds keyed entries, which a new key would all fail.
pub async fn open_key(
    setting: &KeySetting,
    database_url: &str,
    db: &Db,
    create: bool,
) -> anyhow::Result<AuditKey> {
    let path = match setting {
        KeySetting::Given(key) => {
            tracing::info!(key = key.id(), "audit key from CAISSE_AUDIT_KEY");
            return Ok(key.clone());
        }
        KeySetting::File(path) => {
            let key = read_key(path).with_context(|| {
                format!("cannot read the audit key file {} (--audit-key-file)", path.display())
            })?;
            tracing::info!(key = key.id(), path = %path.display(), "audit key read");
            return Ok(key);
        }
        KeySetting::Beside => default_key_path(database_url),
    };
    if path.exists() {
        let key =
            read_key(&path).with_context(|| format!("cannot read the audit key file {}", path.display()))?;
        tracing::info!(key = key.id(), path = %path.display(), "audit key read");
        return Ok(key);
    }
    let keyed: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE alg = '{KEYED}'"
    )))
    .fetch_one(db.pool())
    .await?;
    anyhow::ensure!(
        keyed == 0,
        "the audit trail holds {keyed} entries made with a key, but there is no key file at {}: \
         put head office's key back there, or name it with --audit-key-file (a new key would fail them all)",
        path.display()
    );
    anyhow::ensure!(
        create,
        "there is no audit key file at {} (the server writes one at its first start; name another with --audit-key-file)",
        path.display()
    );
    let key = AuditKey::random();
    let written = write_new_key(&path, &key)
        .with_context(|| format!("cannot write a new audit key file at {}", path.display()))?;
    if !written {
        // Another instance starting beside this one wrote it first: theirs is the key.
        let key =
            read_key(&path).with_context(|| format!("cannot read the audit key file {}", path.display()))?;
        tracing::info!(key = key.id(), path = %path.display(), "audit key read");
        return Ok(key);
    }
    tracing::warn!(
        key = key.id(),
        path = %path.display(),
        "wrote a new audit key: keep a copy away from the database and its backups, and name it with --audit-key-file"
    );
    Ok(key)
}

fn read_key(path: &Path) -> anyhow::Result<AuditKey> {
    let text = std::fs::read_to_string(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the audit key file can be read by others than its owner: chmod 600 it");
        }
    }
    AuditKey::from_hex(&text)
}

/// Writes `key` at `path` unless a file is there already (answers false then). The key is
/// written whole into a file of its own first, then linked at `path`, which fails rather than
/// replace one: two instances starting at once agree on one key, and neither reads half of one.
fn write_new_key(path: &Path, key: &AuditKey) -> std::io::Result<bool> {
    use std::io::Write;
    let draft = path.with_extension(format!("new-{}", uuid::Uuid::now_v7().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        writeln!(file, "{}", hex::encode(&key.0))?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Who acted, and in which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub username: String,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn new(username: impl Into<String>, request_id: Option<String>) -> Actor {
        Actor { username: username.into(), request_id }
    }

    /// The server itself (loading the demo, a background job).
    pub fn system() -> Actor {
        Actor { username: "system".into(), request_id: None }
    }
}

/// What an action did to one object.
#[derive(Debug, Clone)]
pub struct Change {
    /// What was done: `product.update`, `claim.resolve`, `user.disable`…
    pub action: &'static str,
    /// What it was done to: `product:CAF-ESP-250`, `claim:R-…`, `user:marie`…
    pub object: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn new(action: &'static str, object: impl Into<String>) -> Change {
        Change { action, object: object.into(), before: None, after: None }
    }

    pub fn before(mut self, value: impl Serialize) -> Change {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Change {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct Entry {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub request_id: Option<String>,
    /// The object before, as JSON text (none for a creation).
    pub before_state: Option<String>,
    /// The object after, as JSON text.
    pub after_state: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// How `hash` was made: `hmac-sha256` (under head office's key), or `sha256` for an entry
    /// written before the key.
    pub alg: String,
}

const COLUMNS: &str =
    "seq, at_ms, actor, action, object, request_id, before_state, after_state, prev_hash, hash, alg";

/// An entry's fields, each length-prefixed so that no two different entries spell the same
/// bytes. `alg` is not among them: it chooses the function.
fn fields(entry: &Entry, mut update: impl FnMut(&[u8])) {
    let mut field = |text: &str| {
        update(&(text.len() as u64).to_be_bytes());
        update(text.as_bytes());
    };
    field(&entry.seq.to_string());
    field(&entry.at_ms.to_string());
    field(&entry.actor);
    field(&entry.action);
    field(&entry.object);
    field(entry.request_id.as_deref().unwrap_or("\u{0}none"));
    field(entry.before_state.as_deref().unwrap_or("\u{0}none"));
    field(entry.after_state.as_deref().unwrap_or("\u{0}none"));
    field(&entry.prev_hash);
}

/// An entry's hash under `key`: HMAC-SHA256 over its fields.
pub fn keyed_hash_of(key: &AuditKey, entry: &Entry) -> String {
    let mut mac = key.mac();
    fields(entry, |bytes| mac.update(bytes));
    hex::encode(mac.finalize().into_bytes())
}

/// An entry's hash as it was made before the key: SHA-256 over its fields. Only entries from
/// before migration 0009 are checked with it.
pub fn unkeyed_hash_of(entry: &Entry) -> String {
    let mut hasher = Sha256::new();
    fields(entry, |bytes| hasher.update(bytes));
    hex::encode(hasher.finalize())
}

/// The last entry's number, hash and `alg`.
async fn last(conn: &mut AnyConnection) -> sqlx::Result<Option<(i64, String, String)>> {
    sqlx::query_as("SELECT seq, hash, alg FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await
}

/// The entry for `change` by `actor` after `last`, sealed under `key`.
fn chained(key: &AuditKey, last: Option<(i64, String)>, actor: &Actor, change: Change, at_ms: i64) -> Entry {
    let (seq, prev_hash) = last.map_or((1, GENESIS.to_owned()), |(seq, hash)| (seq + 1, hash));
    let text = |value: Option<serde_json::Value>| value.map(|v| v.to_string());
    let mut entry = Entry {
        seq,
        at_ms,
        actor: actor.username.clone(),
        action: change.action.to_owned(),
        object: change.object,
        request_id: actor.request_id.clone(),
        before_state: text(change.before),
        after_state: text(change.after),
        prev_hash,
        hash: String::new(),
        alg: KEYED.to_owned(),
    };
    entry.hash = keyed_hash_of(key, &entry);
    entry
}

/// Appends `change` after `last` under `key`; the caller holds the log's lock.
async fn append(
    conn: &mut AnyConnection,
    key: &AuditKey,
    last: Option<(i64, String)>,
    actor: &Actor,
    change: Change,
) -> sqlx::Result<Entry> {
    let entry = chained(key, last, actor, change, now_ms());
    insert_raw(conn, &entry).await?;
    Ok(entry)
}

/// Writes `entry` as it is, hash and `alg` included. [`record`] writes entries through it; a
/// test writes with it what an earlier build (unkeyed) or a forger would have written.
#[doc(hidden)]
pub async fn insert_raw(conn: &mut AnyConnection, entry: &Entry) -> sqlx::Result<()> {
    let columns: Vec<&str> = COLUMNS.split(", ").collect();
    crate::db::insert_rows(conn, "audit_log", &columns, vec![entry.clone().into_values()], "").await
}

impl Entry {
    /// The entry's values in the order of [`COLUMNS`].
    fn into_values(self) -> Vec<crate::db::Value> {
        vec![
            self.seq.into(),
            self.at_ms.into(),
            self.actor.into(),
            self.action.into(),
            self.object.into(),
            self.request_id.into(),
            self.before_state.into(),
            self.after_state.into(),
            self.prev_hash.into(),
            self.hash.into(),
            self.alg.into(),
        ]
    }
}

/// The log's last entry under the lock, after sealing the unkeyed entries if they end it.
async fn locked_head(
    conn: &mut AnyConnection,
    key: &AuditKey,
) -> sqlx::Result<(Option<(i64, String)>, Option<Entry>)> {
    lock_keys(conn, &["audit_log".to_owned()]).await?;
    match last(conn).await? {
        Some((seq, hash, alg)) if alg != KEYED => {
            let change = Change::new(SEALED, "audit_log")
                .after(serde_json::json!({ "unkeyed_entries": seq, "unkeyed_head": hash, "key": key.id() }));
            let seal = append(conn, key, Some((seq, hash)), &Actor::system(), change).await?;
            Ok((Some((seal.seq, seal.hash.clone())), Some(seal)))
        }
        Some((seq, hash, _)) => Ok((Some((seq, hash)), None)),
        None => Ok((None, None)),
    }
}

/// Appends an entry for `change` by `actor`, under the transaction's key. Call it in the
/// transaction of the action.
pub async fn record(tx: &mut Tx, actor: &Actor, change: Change) -> sqlx::Result<Entry> {
    let key = tx.audit_key().clone();
    let (last, _) = locked_head(tx, &key).await?;
    append(tx, &key, last, actor, change).await
}

/// Appends one entry per change, chained in order, taking the log's head once and writing in
/// multi-row statements: an import of a hundred thousand products records each of them
/// without a round trip per product.
pub async fn record_many(tx: &mut Tx, actor: &Actor, changes: Vec<Change>) -> sqlx::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let key = tx.audit_key().clone();
    let (mut last, _) = locked_head(tx, &key).await?;
    let at_ms = now_ms();
    let mut rows = Vec::with_capacity(changes.len());
    for change in changes {
        let entry = chained(&key, last, actor, change, at_ms);
        last = Some((entry.seq, entry.hash.clone()));
        rows.push(entry.into_values());
    }
    let columns: Vec<&str> = COLUMNS.split(", ").collect();
    crate::db::insert_rows(tx, "audit_log", &columns, rows, "").await
}

/// Seals the entries written before the key, if they end the log: the server calls it at every
/// start, before it serves. Answers the `audit.sealed` entry it wrote, if any.
pub async fn seal(db: &Db) -> sqlx::Result<Option<Entry>> {
    let mut tx = db.begin().await?;
    let key = tx.audit_key().clone();
    let (_, seal) = locked_head(&mut tx, &key).await?;
    tx.commit().await?;
    if let Some(seal) = &seal {
        tracing::info!(seq = seal.seq, hash = seal.hash, "sealed the audit entries written before the key");
    }
    Ok(seal)
}

/// The log's last entry, as stored: what head office writes down elsewhere to notice later that
/// the newest entries were removed. [`verify`] says whether the chain up to it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct Head {
    /// 0 when the log is empty.
    pub seq: i64,
    /// [`GENESIS`] when the log is empty.
    pub hash: String,
    /// 0 when the log is empty.
    pub at_ms: i64,
}

/// The log's last entry (see [`Head`]).
pub async fn head(db: &Db) -> sqlx::Result<Head> {
    let head: Option<Head> =
        sqlx::query_as("SELECT seq, hash, at_ms FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(db.pool())
            .await?;
    Ok(head.unwrap_or(Head { seq: 0, hash: GENESIS.to_owned(), at_ms: 0 }))
}

/// What head office searches the log by; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    /// An object (`claim:R-ABCD-EFGH`) or the start of one (`claim:`).
    pub object: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Entries numbered below this one (the previous page's last).
    pub before: Option<i64>,
    pub limit: u32,
}

/// Entries matching `filter`, newest first.
pub async fn search(db: &Db, filter: &Filter) -> sqlx::Result<Vec<Entry>> {
    let object = filter.object.as_deref().unwrap_or("");
    // A prefix search whose wildcards in the text are taken literally.
    let pattern = format!("{}%", object.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM audit_log
         WHERE ($1 = '' OR actor = $1) AND object LIKE $2 ESCAPE '\\'
           AND at_ms >= $3 AND at_ms <= $4 AND seq < $5
         ORDER BY seq DESC LIMIT $6"
    )))
    .bind(filter.actor.clone().unwrap_or_default())
    .bind(pattern)
    .bind(filter.from_ms.unwrap_or(0))
    .bind(filter.to_ms.unwrap_or(i64::MAX))
    .bind(filter.before.unwrap_or(i64::MAX))
    .bind(i64::from(filter.limit))
    .fetch_all(db.pool())
    .await
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// Entries read.
    pub entries: u64,
    /// The last entry's number and hash when the chain holds: compare with one written down.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first entry that breaks the chain, and how.
    pub broken: Option<Break>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Walks the whole chain, oldest first, with the database's key, and names the first entry that
/// breaks it (the rules are at the top of this module).
pub async fn verify(db: &Db) -> sqlx::Result<Verification> {
    let key = db.audit_key();
    let mut done = Verification { entries: 0, head_seq: 0, head_hash: GENESIS.to_owned(), broken: None };
    let mut keyed_seen = false;
    loop {
        let page: Vec<Entry> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000"
        )))
        .bind(done.head_seq)
        .fetch_all(db.pool())
        .await?;
        if page.is_empty() {
            if done.entries > 0 && !keyed_seen {
                done.broken = Some(Break {
                    seq: done.head_seq,
                    reason: format!(
                        "entries 1 to {} were made without the key and no keyed entry seals them: start the \
                         server once to seal them; if it has run with a key before, they were rewritten",
                        done.head_seq
                    ),
                });
            }
            return Ok(done);
        }
        for entry in page {
            let expected = done.head_seq + 1;
            let reason = if entry.seq != expected {
                Some(format!(
                    "entry {expected} is missing (deleted): the log goes from {} to {}",
                    done.head_seq, entry.seq
                ))
            } else if entry.prev_hash != done.head_hash {
                Some(format!(
                    "entry {} does not follow the entry before it (its prev_hash differs)",
                    entry.seq
                ))
            } else if entry.alg == KEYED {
                (keyed_hash_of(key, &entry) != entry.hash).then(|| {
                    format!(
                        "entry {} was edited: its hash is not the MAC of its content under head office's key",
                        entry.seq
                    )
                })
            } else if entry.alg == UNKEYED && keyed_seen {
                Some(format!(
                    "entry {} has an unkeyed hash after keyed entries: it was rewritten without the key",
                    entry.seq
                ))
            } else if entry.alg == UNKEYED {
                (unkeyed_hash_of(&entry) != entry.hash)
                    .then(|| format!("entry {} was edited: its content does not match its hash", entry.seq))
            } else {
                Some(format!("entry {} names an unknown hash, {:?}", entry.seq, entry.alg))
            };
            if let Some(reason) = reason {
                done.broken = Some(Break { seq: expected.min(entry.seq), reason });
                return Ok(done);
            }
            keyed_seen |= entry.alg == KEYED;
            done.entries += 1;
            done.head_seq = entry.seq;
            done.head_hash = entry.hash;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AuditKey, Entry, GENESIS, KEYED, keyed_hash_of, unkeyed_hash_of};

    fn entry() -> Entry {
        Entry {
            seq: 1,
            at_ms: 1_700_000_000_000,
            actor: "marie".into(),
            action: "product.update".into(),
            object: "product:CAF-ESP-250".into(),
            request_id: Some("r-1".into()),
            before_state: Some("{\"price\":1000}".into()),
            after_state: Some("{\"price\":1200}".into()),
            prev_hash: GENESIS.into(),
            hash: String::new(),
            alg: KEYED.into(),
        }
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let key = AuditKey::random();
        let (base, base_unkeyed) = (keyed_hash_of(&key, &entry()), unkeyed_hash_of(&entry()));
        let edits: [fn(&mut Entry); 9] = [
            |e| e.seq = 2,
            |e| e.at_ms += 1,
            |e| e.actor = "paul".into(),
            |e| e.action = "product.create".into(),
            |e| e.object = "product:THE-VRT-100".into(),
            |e| e.request_id = None,
            |e| e.before_state = Some("{\"price\":100}".into()),
            |e| e.after_state = None,
            |e| e.prev_hash = "1".repeat(64),
        ];
        for edit in edits {
            let mut changed = entry();
            edit(&mut changed);
            assert_ne!(keyed_hash_of(&key, &changed), base);
            assert_ne!(unkeyed_hash_of(&changed), base_unkeyed);
        }
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let key = AuditKey::random();
        let mut a = entry();
        a.actor = "ma".into();
        a.action = "rieproduct.update".into();
        assert_ne!(keyed_hash_of(&key, &a), keyed_hash_of(&key, &entry()));
    }

    #[test]
    fn the_hash_depends_on_the_key_and_is_no_plain_sha256() {
        let (key, other) = (AuditKey::random(), AuditKey::random());
        assert_ne!(keyed_hash_of(&key, &entry()), keyed_hash_of(&other, &entry()));
        assert_ne!(keyed_hash_of(&key, &entry()), unkeyed_hash_of(&entry()));
        let again = AuditKey::from_hex(&format!("{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(keyed_hash_of(&again, &entry()), keyed_hash_of(&again.clone(), &entry()));
    }

    #[test]
    fn a_key_never_prints_and_a_short_one_is_refused() {
        let key = AuditKey::from_hex(&"ab".repeat(32)).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("abab"), "{shown}");
        assert_eq!(shown, format!("AuditKey({})", key.id()));
        assert!(AuditKey::from_hex(&"ab".repeat(16)).is_err());
        assert!(AuditKey::from_hex("not hex").is_err());
    }
}
