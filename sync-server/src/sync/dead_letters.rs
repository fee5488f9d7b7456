//! Records refused at push, parked for head office with their reason, and read back.

use serde::Serialize;
use sha2::Digest;
use shared_model::{RecordId, RegisterId};

use crate::db::{Db, now_ms, parse, to_i64};

use super::Refused;

/// How much of a refused record's payload is kept: enough to read what went wrong. A 15 MiB
/// record pushed 40 times once stored 634 MiB.
pub const DEAD_LETTER_PAYLOAD: usize = 16 * 1024;

/// Past this many dead letters from one register, new ones keep their reason but no payload.
pub const DEAD_LETTERS_WITH_PAYLOAD: i64 = 1_000;

/// Longest reason kept.
pub(super) const DEAD_LETTER_REASON: usize = 1_000;

/// Parks refused records for head office, with their reason. The same record refused again for
/// the same reason is counted on its first row, not stored again.
#[tracing::instrument(skip_all)]
pub(super) async fn park(db: &Db, register: &RegisterId, refusals: &[Refused]) -> sqlx::Result<()> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    // Parks of one register's refusals take turns, so that two of them cannot both count the
    // payloads kept before either writes (PostgreSQL once kept 1,014 past the cap of 1,000).
    crate::db::lock_keys(&mut tx, &[format!("dead_letters:{register}")]).await?;
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM dead_letters WHERE register_id = $1 AND payload <> ''")
            .bind(register.as_str())
            .fetch_one(&mut *tx)
            .await?;
    let mut with_payload = DEAD_LETTERS_WITH_PAYLOAD - kept;
    for Refused { refusal: r, payload: pushed } in refusals {
        let reason = shared_model::text::printable(&r.reason, DEAD_LETTER_REASON);
        let digest = hex::encode(sha2::Sha256::digest(format!("{}\n{}\n{}", r.field, reason, pushed)));
        let payload = if with_payload > 0 {
            with_payload -= 1;
            shared_model::text::truncate(pushed, DEAD_LETTER_PAYLOAD)
        } else {
            String::new()
        };
        sqlx::query(
            "INSERT INTO dead_letters (register_id, received_ms, last_ms, record_id, seq, field, reason, payload, payload_bytes, digest)
             VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (register_id, digest) DO UPDATE SET times = dead_letters.times + 1, last_ms = excluded.last_ms",
        )
        .bind(register.as_str())
        .bind(now)
        .bind(r.id.map(|id| id.to_string()))
        // A seq past what the ledger stores names no record head office could hold: the letter
        // is parked without one (its payload still shows it).
        .bind(r.seq.and_then(|s| to_i64("seq", s).ok()))
        .bind(shared_model::text::printable(&r.field, 200))
        .bind(reason)
        .bind(payload)
        .bind(crate::db::to_i64("payload_bytes", pushed.len())?)
        .bind(digest)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: i64,
    #[schema(value_type = String)]
    pub register: RegisterId,
    /// When it was first refused.
    pub received_ms: i64,
    /// When it was last refused, and how many times.
    pub last_ms: i64,
    pub times: i64,
    #[schema(value_type = Option<String>)]
    pub record_id: Option<RecordId>,
    pub seq: Option<i64>,
    pub field: Option<String>,
    pub reason: String,
    /// The first 16 KiB of what was pushed (empty once a register has a thousand dead letters).
    pub payload: String,
    /// The size of the whole payload as pushed.
    pub payload_bytes: i64,
}

/// A row of `dead_letters` (but for its digest).
#[derive(Debug, sqlx::FromRow)]
struct DeadLetterRow {
    id: i64,
    register_id: String,
    received_ms: i64,
    last_ms: i64,
    times: i64,
    record_id: Option<String>,
    seq: Option<i64>,
    field: Option<String>,
    reason: String,
    payload: String,
    payload_bytes: i64,
}

impl TryFrom<DeadLetterRow> for DeadLetter {
    type Error = sqlx::Error;

    fn try_from(row: DeadLetterRow) -> sqlx::Result<DeadLetter> {
        Ok(DeadLetter {
            id: row.id,
            register: parse("dead_letters.register_id", &row.register_id)?,
            received_ms: row.received_ms,
            last_ms: row.last_ms,
            times: row.times,
            record_id: row.record_id.map(|id| parse("dead_letters.record_id", &id)).transpose()?,
            seq: row.seq,
            field: row.field,
            reason: row.reason,
            payload: row.payload,
            payload_bytes: row.payload_bytes,
        })
    }
}

/// Records refused at push, newest first: `limit` of them older than `before`, of `register`
/// or of every register.
#[tracing::instrument(skip_all)]
pub async fn dead_letters(
    db: &Db,
    before: Option<i64>,
    limit: u32,
    register: Option<&RegisterId>,
) -> sqlx::Result<Vec<DeadLetter>> {
    let rows: Vec<DeadLetterRow> = sqlx::query_as(
        "SELECT id, register_id, received_ms, last_ms, times, record_id, seq, field, reason, payload, payload_bytes
         FROM dead_letters WHERE id < $1 AND ($2 IS NULL OR register_id = $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(register.map(RegisterId::to_string))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(DeadLetter::try_from).collect()
}
