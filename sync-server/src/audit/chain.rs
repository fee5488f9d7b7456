//! The chain written: each entry's fields hashed under the key with the hash of the one before
//! it, numbered one at a time, in the transaction of the action it records.

use hmac::Mac;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::db::{AuditKey, Db, Tx, lock_keys, now_ms};

use super::{Actor, Change, Entry, GENESIS, KEYED, SEALED};

pub(super) const COLUMNS: &str =
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
