//! Background work claimed by a lease: a checkout whose request died, a cancellation left half
//! done, a refund owed, a message due. Any number of instances sweep for such rows; each row is
//! taken by one of them at a time, for a lease, by one conditional update:
//!
//! ```sql
//! UPDATE t SET lease = … WHERE key = (SELECT key FROM t WHERE <pending> AND <lease over> …)
//!   AND <pending> AND <lease over> RETURNING key
//! ```
//!
//! Two instances that pick the same row both run the update; the second finds the lease
//! renewed by the first (SQLite: it waits for the writer's turn; PostgreSQL: it waits for the
//! row lock and checks the condition again on the new row), updates nothing and gets no row.
//! So one wins, whatever the engine. A holder that dies simply lets its lease run out, and the
//! next sweep takes the row again: the work each claimer does must be safe to repeat.
//!
//! The time is the caller's ([`crate::db::Db::now_ms`]), so a test's manual clock decides when a
//! lease runs out; nothing here reads the system clock.

use crate::db::Db;

/// How a table keeps its rows' leases.
#[derive(Debug, Clone, Copy)]
pub enum Stamp {
    /// The column holds when the holder's lease ends (`checkouts.lease_until_ms`, the
    /// outbox's `next_ms`): the row is free from that moment; a claim sets it a lease ahead.
    Until(&'static str),
    /// The column holds when the row was last claimed or changed (`updated_ms`): the row is
    /// free a lease after it; a claim sets it to now.
    Since(&'static str),
}

/// Which rows of a table are work to claim. Written by the table's owner, as constants: the
/// strings go into SQL as they are, so they are never built from input.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    pub table: &'static str,
    /// The primary key, answered for the row claimed.
    pub key: &'static str,
    /// What makes a row work to do, besides its lease being over (`status = 'pending'`).
    pub pending: &'static str,
    pub stamp: Stamp,
    /// Which row is taken first when several are free (oldest first, so none starves).
    pub order_by: &'static str,
    /// Further assignments made by the claim (`", attempts = attempts + 1"`), or `""`.
    pub also_set: &'static str,
}

impl Lease {
    fn sql(&self) -> String {
        let Lease { table, key, pending, stamp, order_by, also_set } = self;
        let column = match stamp {
            Stamp::Until(column) | Stamp::Since(column) => column,
        };
        let free = format!("({pending}) AND {column} <= $2");
        format!(
            "UPDATE {table} SET {column} = $1{also_set} WHERE {key} = (
                 SELECT {key} FROM {table} WHERE {free} ORDER BY {order_by} LIMIT 1
             ) AND {free} RETURNING {key}"
        )
    }
}

/// Claims one row of `lease`'s table that is work to do and whose lease is over at `now_ms`,
/// for `lease_ms`; answers its key, or `None` when there is none (or another instance took the
/// one this one picked: the next sweep looks again).
#[tracing::instrument(skip_all, fields(table = lease.table))]
pub async fn lease_one<K>(db: &Db, lease: &Lease, now_ms: i64, lease_ms: i64) -> sqlx::Result<Option<K>>
where
    K: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin,
{
    let (set, free_up_to) = match lease.stamp {
        Stamp::Until(_) => (now_ms.saturating_add(lease_ms), now_ms),
        Stamp::Since(_) => (now_ms, now_ms.saturating_sub(lease_ms)),
    };
    let mut tx = db.begin().await?;
    let key = sqlx::query_scalar(sqlx::AssertSqlSafe(lease.sql()))
        .bind(set)
        .bind(free_up_to)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(key)
}
