//! The database handle: one `sqlx` Any pool over SQLite (the default) or PostgreSQL.
//!
//! Every query is written once, with `$1`-style placeholders that both engines read, and only
//! the column types both engines share (BIGINT, TEXT, BOOLEAN). The differences between the two
//! engines live here and in the two migration folders, nowhere else:
//! - how a write transaction starts ([`Db::begin`]): SQLite allows one writer at a time, so
//!   writers queue on a fair in-process lock and then take SQLite's write lock at once
//!   (`BEGIN IMMEDIATE`); left to SQLite's busy handler, they would sleep and retry with
//!   growing pauses (seen here: a 7-second p99 with four registers pushing);
//! - which migrations run, and how an auto-increment key is declared in them;
//! - how instances tell each other of a change ([`Db::notify`], [`Db::listen`]): PostgreSQL's
//!   `LISTEN/NOTIFY`; a SQLite file has one instance, which has no one to tell.
//!
//! | module | what it does |
//! |---|---|
//! | `handle` | the pool, write transactions, notifications between instances, SQLite's backup |
//! | `rows` | statements built at run time: placeholders, values to bind, many rows in one statement |
//! | `convert` | numbers and text into and out of columns, refused by name when they do not fit |
//! | `audit_key` | the key the handle's transactions sign audit entries with |

mod audit_key;
mod convert;
mod handle;
mod rows;

pub use audit_key::AuditKey;
pub use convert::{
    Corrupt, MAX_TOTAL, OutOfRange, TotalOverflow, check_total, corrupt, from_i64, parse, to_i64,
};
pub use handle::{Db, Engine, Tx, backup, lock_keys};
pub use rows::{
    Query, Value, bind_all, insert_rows, list_placeholders, placeholder, rows_per_statement, rows_source,
    values_placeholders,
};

/// Milliseconds since the Unix epoch, by this server's clock (which chrono reads as an `i64`
/// for ±262 000 years). A clock set before 1970 reads as 1970, so the value is never negative.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis().max(0)
}

/// Whether an error is a unique key's violation (PostgreSQL 23505; SQLite's extended codes
/// 2067 for a unique index, 1555 for a primary key).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => matches!(e.code().as_deref(), Some("23505" | "2067" | "1555")),
        _ => false,
    }
}

/// Whether an error is a transient conflict between transactions, worth retrying:
/// a PostgreSQL deadlock or serialisation failure, or SQLite's busy signal.
pub fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            matches!(e.code().as_deref(), Some("40P01" | "40001" | "5" | "6" | "517"))
                || e.message().contains("database is locked")
        }
        _ => false,
    }
}
