//! The audit trail: every head-office action (a product or price changed, a replenishment
//! decided, a transfer started, a register revoked, an account created, disabled or given a new
//! password, a claim decided, a refund sent) with who, what, when, the request it came in and
//! the object before and after.
//!
//! # Why an edit or a deletion shows
//!
//! Each entry carries the hash of the one before it, and its own hash covers that and all its
//! fields. Editing an entry changes its hash, which no longer matches the one stored (or, if
//! the hash was recomputed too, the next entry's `prev_hash`); deleting one leaves a gap in the
//! numbers and a `prev_hash` that names an entry no longer there. [`verify`] walks the chain
//! and names the first entry that breaks it. Removing the newest entries leaves a chain that
//! still verifies: [`verify`] answers the head it reached, which an operator compares with the
//! head written down earlier (it is also logged at every start).
//!
//! An entry is written in the transaction of the action it records, so an action and its
//! entry commit together or not at all. Entries take their numbers one at a time (an advisory
//! lock on PostgreSQL; SQLite has one writer): the chain never forks.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};

use crate::db::{Db, lock_keys, now_ms};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
}

const COLUMNS: &str =
    "seq, at_ms, actor, action, object, request_id, before_state, after_state, prev_hash, hash";

/// The hash of an entry: SHA-256 over its fields, each length-prefixed so that no two
/// different entries can spell the same bytes.
pub fn hash_of(entry: &Entry) -> String {
    let mut hasher = Sha256::new();
    let mut field = |text: &str| {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
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
    hex::encode(hasher.finalize())
}

/// Appends an entry for `change` by `actor`. Call it in the transaction of the action.
pub async fn record(conn: &mut AnyConnection, actor: &Actor, change: Change) -> sqlx::Result<Entry> {
    lock_keys(conn, &["audit_log".to_owned()]).await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev_hash) = last.map_or((1, GENESIS.to_owned()), |(seq, hash)| (seq + 1, hash));
    let text = |value: Option<serde_json::Value>| value.map(|v| v.to_string());
    let mut entry = Entry {
        seq,
        at_ms: now_ms(),
        actor: actor.username.clone(),
        action: change.action.to_owned(),
        object: change.object,
        request_id: actor.request_id.clone(),
        before_state: text(change.before),
        after_state: text(change.after),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = hash_of(&entry);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(entry.seq)
    .bind(entry.at_ms)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.object)
    .bind(entry.request_id.clone())
    .bind(entry.before_state.clone())
    .bind(entry.after_state.clone())
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await?;
    Ok(entry)
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

/// Walks the whole chain, oldest first, and names the first entry that breaks it.
pub async fn verify(db: &Db) -> sqlx::Result<Verification> {
    let mut done = Verification { entries: 0, head_seq: 0, head_hash: GENESIS.to_owned(), broken: None };
    loop {
        let page: Vec<Entry> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000"
        )))
        .bind(done.head_seq)
        .fetch_all(db.pool())
        .await?;
        if page.is_empty() {
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
            } else if hash_of(&entry) != entry.hash {
                Some(format!("entry {} was edited: its content does not match its hash", entry.seq))
            } else {
                None
            };
            if let Some(reason) = reason {
                done.broken = Some(Break { seq: expected.min(entry.seq), reason });
                return Ok(done);
            }
            done.entries += 1;
            done.head_seq = entry.seq;
            done.head_hash = entry.hash;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, GENESIS, hash_of};

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
        }
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let base = hash_of(&entry());
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
            assert_ne!(hash_of(&changed), base);
        }
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let mut a = entry();
        a.actor = "ma".into();
        a.action = "rieproduct.update".into();
        assert_ne!(hash_of(&a), hash_of(&entry()));
    }
}
