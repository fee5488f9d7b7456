//! The outbox: each message written by the change it tells of, in that change's transaction,
//! until the sender marks it sent or given up.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::message::{Notice, Recipient};
use crate::db::{Db, now_ms};
use crate::lease::{Lease, Stamp, lease_one};

/// Writes the message telling `to` of `notice` to the outbox, in the caller's transaction.
/// `id` names the change (`order-12-shipped`, `claim-R-…-v3`): writing it again does nothing.
pub async fn enqueue(
    conn: &mut AnyConnection,
    id: &str,
    to: &Recipient,
    notice: &Notice,
) -> sqlx::Result<()> {
    let (subject, body) = notice.render(to.language, &to.name);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, recipient, language, subject, body, created_ms, attempts, next_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(&to.email)
    .bind(to.language.as_str())
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A message in the outbox.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Outgoing {
    pub id: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub created_ms: i64,
    pub attempts: i64,
    pub next_ms: i64,
    pub sent_ms: Option<i64>,
    pub last_error: Option<String>,
}

const COLUMNS: &str =
    "id, recipient, language, subject, body, created_ms, attempts, next_ms, sent_ms, last_error";

/// Messages not sent yet whose next attempt is due; a claim pushes the next attempt a lease
/// away (so no other instance sends it meanwhile) and counts the attempt.
const DUE: Lease = Lease {
    table: "outbox",
    key: "id",
    pending: "sent_ms IS NULL",
    stamp: Stamp::Until("next_ms"),
    order_by: "next_ms, id",
    also_set: ", attempts = attempts + 1",
};

/// Claims one message due at `now_ms` for an attempt, for `lease_ms`.
pub(super) async fn claim_due(db: &Db, now_ms: i64, lease_ms: i64) -> sqlx::Result<Option<Outgoing>> {
    let Some(id) = lease_one::<String>(db, &DUE, now_ms, lease_ms).await? else { return Ok(None) };
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")))
        .bind(id)
        .fetch_optional(db.pool())
        .await
}

/// The message went out.
pub(super) async fn mark_sent(db: &Db, id: &str) -> sqlx::Result<()> {
    db.write(
        sqlx::query("UPDATE outbox SET sent_ms = $1, last_error = NULL WHERE id = $2")
            .bind(db.now_ms())
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The attempt failed: tried again at `next_ms` (never once sent).
pub(super) async fn defer(conn: &mut AnyConnection, id: &str, next_ms: i64, why: String) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET next_ms = $1, last_error = $2 WHERE id = $3 AND sent_ms IS NULL")
        .bind(next_ms)
        .bind(why)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Messages, newest first: what head office sees of the outbox.
pub async fn recent(db: &Db, recipient: Option<&str>, limit: u32) -> sqlx::Result<Vec<Outgoing>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outbox WHERE ($1 = '' OR recipient = $1) ORDER BY created_ms DESC, id LIMIT $2"
    )))
    .bind(recipient.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await
}
