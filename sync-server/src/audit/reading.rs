//! The trail read back: its head, a search, and the check of every link ([`verify`]).

use serde::Serialize;
use sqlx::FromRow;

use crate::db::Db;

use super::chain::{COLUMNS, keyed_hash_of, unkeyed_hash_of};
use super::{Entry, GENESIS, KEYED, UNKEYED};

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
