//! The change feed registers pull: products, cashiers, locations, stock levels, transfers and
//! replenishment decisions, one row per key at its latest version.
//!
//! # Why the cursor never skips a late commit
//!
//! A plain auto-increment id is handed out when a row is inserted, not when its transaction
//! commits: on PostgreSQL, a reader can see id 7 committed while id 6 is still open, move its
//! cursor past 6, and never see it. Versions here come from [`crate::commit_order`]: on
//! PostgreSQL a version carries its transaction's id, and a pull delivers only versions below
//! the horizon of transactions that have all ended, so writers never wait for each other; on
//! SQLite, which has one writer at a time, from the `feed_clock` row. `tests/feed_cursor.rs`
//! checks this with many concurrent writers that pause before committing or roll back.

use std::collections::BTreeMap;

use shared_model::LocationCode;
use shared_model::protocol::{Change, Cursor};
use sqlx::AnyConnection;

use crate::commit_order;
use crate::db::{Db, Value, from_i64, insert_rows};

/// One change to publish: `kind` and `key` identify what it replaces; `audience` is the store
/// that may see it, or `None` for every register.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: &'static str,
    pub key: String,
    pub audience: Option<LocationCode>,
    pub change: Change,
}

/// A row of `feed`, as a pull reads it.
#[derive(Debug, sqlx::FromRow)]
struct FeedRow {
    version: i64,
    payload: String,
}

/// Publishes `entries` at new versions. Call it last in the transaction.
#[tracing::instrument(skip_all)]
pub async fn publish(conn: &mut AnyConnection, entries: Vec<Entry>) -> sqlx::Result<()> {
    // One row per key (a statement may not touch the same row twice): the last entry of a key
    // wins, and versions follow the order the entries were given in.
    let last: BTreeMap<(&'static str, &str), usize> =
        entries.iter().enumerate().map(|(i, e)| ((e.kind, e.key.as_str()), i)).collect();
    let keep: std::collections::BTreeSet<usize> = last.into_values().collect();
    let latest: Vec<Entry> =
        entries.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, e)| e).collect();
    if latest.is_empty() {
        return Ok(());
    }
    let count = crate::db::to_i64("changes published at once", latest.len())?;
    let first = commit_order::take(conn, "feed", "version", ("feed_clock", "version"), count).await?;
    let rows = latest
        .into_iter()
        .zip(first..)
        .map(|(e, version)| {
            let payload =
                serde_json::to_string(&e.change).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
            let audience = e.audience.map(String::from);
            Ok(vec![Value::from(e.kind), e.key.into(), audience.into(), version.into(), payload.into()])
        })
        .collect::<sqlx::Result<_>>()?;
    insert_rows(
        conn,
        "feed",
        &["kind", "key", "audience", "version", "payload"],
        rows,
        "ON CONFLICT (kind, key) DO UPDATE SET audience = excluded.audience, version = excluded.version, \
         payload = excluded.payload",
    )
    .await
}

/// What a pull returns.
#[derive(Debug)]
pub struct Page {
    pub changes: Vec<Change>,
    pub next: Cursor,
    pub more: bool,
}

/// Changes after `cursor` that `store` may see, oldest first, at most `limit`.
#[tracing::instrument(skip_all)]
pub async fn read(db: &Db, store: &str, cursor: Cursor, limit: u32) -> anyhow::Result<Page> {
    let after = crate::db::to_i64("cursor", cursor.0)?;
    let mut conn = db.pool().acquire().await?;
    // What is committed now is delivered in this pull, once the transactions older than it
    // have ended (see `commit_order`).
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM feed").fetch_one(&mut *conn).await?;
    let horizon = match newest {
        Some(newest) if newest > after => commit_order::wait_past(&mut conn, newest).await?,
        _ => i64::MAX,
    };
    let rows: Vec<FeedRow> = sqlx::query_as(
        "SELECT version, payload FROM feed WHERE version > $1 AND version < $4 AND (audience IS NULL OR audience = $2)
         ORDER BY version LIMIT $3",
    )
    .bind(after)
    .bind(store)
    .bind(i64::from(limit) + 1)
    .bind(horizon)
    .fetch_all(&mut *conn)
    .await?;
    let more = rows.len() > limit as usize;
    let mut next = cursor;
    let mut changes = Vec::with_capacity(rows.len().min(limit as usize));
    for row in rows.into_iter().take(limit as usize) {
        changes.push(serde_json::from_str(&row.payload)?);
        next = Cursor(from_i64("feed.version", row.version)?);
    }
    Ok(Page { changes, next, more })
}

/// The version `kind`/`key` was last published at, if it ever was.
#[tracing::instrument(skip_all)]
pub async fn version_of(db: &Db, kind: &str, key: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT version FROM feed WHERE kind = $1 AND key = $2")
        .bind(kind)
        .bind(key)
        .fetch_optional(db.pool())
        .await
}
