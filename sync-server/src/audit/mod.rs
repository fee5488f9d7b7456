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
//!
//! | module | what it does |
//! |---|---|
//! | `chain` | entries hashed, chained and written with the action they record |
//! | `reading` | the head, a search, and the check of the whole chain |
//! | `key_file` | the key from a setting or its file |
//! | `crate::db::AuditKey` | the key itself, carried by the database handle into each transaction |

mod chain;
mod key_file;
mod reading;

pub use chain::{insert_raw, keyed_hash_of, record, record_many, seal, unkeyed_hash_of};
pub use key_file::{KeySetting, default_key_path, open_key};
pub use reading::{Break, Filter, Head, Verification, head, search, verify};

use serde::Serialize;
use sqlx::FromRow;

pub use crate::db::AuditKey;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry's `alg`: an HMAC-SHA256 under head office's key.
pub const KEYED: &str = "hmac-sha256";

/// An entry's `alg`: a plain SHA-256, only for entries written before the key (migration 0009).
pub const UNKEYED: &str = "sha256";

/// The action of the entry that seals the unkeyed entries under the key.
pub const SEALED: &str = "audit.sealed";

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
