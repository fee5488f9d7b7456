//! Register sync: push (records in, exactly once) and pull (changes out, after a cursor).
//!
//! # Push
//!
//! A batch is all or nothing. The server first reads every record on its own: a record for
//! another register or another store means the caller is not who it claims, and the whole
//! request is refused (403) with nothing stored. A record that cannot be read or fails its
//! checks is refused with a per-record verdict: the request answers 422 naming each refused
//! record and its field, the refused records are parked in the dead-letter table for head
//! office, and nothing of the batch enters the ledger. The register marks those records
//! rejected and pushes the others again at once, so a bad record never blocks the ones behind it.
//!
//! A batch that reads well is ingested in one transaction: insert-if-absent by id and by
//! (origin, seq); only what was new is applied to the projections; then what the server holds
//! of the register is advanced and the changed stock levels are published. A retried or
//! duplicated push therefore changes nothing, and a push cut before the commit left nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::Digest;
use shared_model::projection::{Movement, movements};
use shared_model::protocol::{
    MAX_BATCH, MAX_PULL, Message, Outcome, PullRequest, PullResponse, PushBatch, PushRefused, PushResponse,
    Refusal, RefusalCode, SaleForReturn, Verdict,
};
use shared_model::{LocationCode, Record, RecordId, RegisterId, Sku};
use sqlx::{AnyConnection, Row};

use crate::alerts::{self, Alert, Kind};
use crate::db::{Db, OutOfRange, Value, from_i64, list_placeholders, now_ms, parse, placeholder, to_i64};
use crate::identity::{self, Register};
use crate::{feed, inventory, replenishment, reporting, sales};

/// Why a push, a pull or a look-up was refused, or could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The message cannot be read; `field` names where.
    #[error("{detail}")]
    Malformed { field: String, detail: String },
    /// More than a push may carry.
    #[error("{0}")]
    TooLarge(String),
    /// A record for another register or another store: the caller is not who it claims.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// How a push ended.
#[derive(Debug)]
pub enum Pushed {
    /// Stored (or held already): the verdicts and what the server holds.
    Held(PushResponse),
    /// Refused whole, nothing stored: why, the first refused record's field, and the refusals.
    Refused { detail: String, field: String, answer: PushRefused },
}

/// A record refused at push time: what the register is told, and what was pushed, which is
/// parked for head office but never sent back.
#[derive(Debug, Clone)]
pub struct Refused {
    pub refusal: Refusal,
    payload: String,
}

/// Reads and ingests a push from `register`: all of it, or none of it with the records at
/// fault named and parked for head office.
#[tracing::instrument(skip_all)]
pub async fn push(db: &Db, register: &Register, body: &[u8], skew_bound_ms: u64) -> Result<Pushed, Error> {
    let batch = PushBatch::decode(body).map_err(|e| Error::Malformed {
        field: e.field().unwrap_or("push").to_owned(),
        detail: e.to_string(),
    })?;
    if batch.records.len() > MAX_BATCH {
        return Err(Error::TooLarge(format!(
            "a push carries at most {MAX_BATCH} records, this one has {}",
            batch.records.len()
        )));
    }
    let mut records = Vec::with_capacity(batch.records.len());
    let mut refusals = Vec::new();
    let skew_bound = skew_bound_ms;
    for (index, raw) in batch.records.iter().enumerate() {
        let index = batch_index(index)?;
        let refuse = |field: String, reason: String| {
            let loose: Option<serde_json::Value> = serde_json::from_str(raw.get()).ok();
            let pick =
                |key: &str| loose.as_ref().and_then(|v| v.get("record")).and_then(|r| r.get(key)).cloned();
            Refused {
                refusal: Refusal {
                    index,
                    code: RefusalCode::Invalid,
                    id: pick("id").and_then(|v| serde_json::from_value(v).ok()),
                    seq: pick("seq").and_then(|v| v.as_u64()),
                    // serde's messages quote what was sent (an unknown member's name, an
                    // enum value), control bytes included: escaped here, before the answer,
                    // the log or the dead letters see them.
                    field: shared_model::text::printable(&format!("records[{index}].{field}"), 200),
                    reason: shared_model::text::printable(&reason, DEAD_LETTER_REASON),
                },
                payload: raw.get().to_owned(),
            }
        };
        match Record::decode(raw.get().as_bytes()) {
            Err(e) => refusals.push(refuse(e.field().unwrap_or("record").to_owned(), e.to_string())),
            Ok(record) => {
                if record.origin != register.id {
                    return Err(Error::Forbidden(format!(
                        "record {index} claims to come from register {}, but this is register {}",
                        record.origin, register.id
                    )));
                }
                if record.store != register.store {
                    return Err(Error::Forbidden(format!(
                        "record {index} is for store {}, but register {} is enrolled at store {}",
                        record.store, register.id, register.store
                    )));
                }
                match record.check() {
                    Err(e) => refusals.push(refuse(e.field(), e.to_string())),
                    Ok(()) => records.push(record),
                }
            }
        }
    }
    if !refusals.is_empty() {
        return refuse_batch(db, &register.id, batch.records.len(), refusals).await;
    }
    let outcome = match ingest(db, &register.id, &records, skew_bound).await {
        Ok(outcome) => outcome,
        // The database refused what these records would write (a value out of its range, a
        // total that would overflow): find which records, and refuse those alone, so a
        // register's queue never sticks behind a push that fails the same way forever.
        Err(e) if caused_by_data(&e) => {
            tracing::warn!(register = %register.id, error = %e, "the database refused a push; finding the records at fault");
            Ingested::Conflicts(culprits(db, &register.id, &records, skew_bound, &e).await?)
        }
        Err(e) => return Err(Error::Internal(e)),
    };
    match outcome {
        Ingested::Done { verdicts, holds } => {
            let accepted = verdicts.iter().filter(|v| v.outcome == Outcome::Accepted).count();
            metrics::counter!("caisse_records_ingested_total").increment(accepted as u64);
            metrics::counter!("caisse_records_duplicate_total").increment((verdicts.len() - accepted) as u64);
            // The register pushes its oldest pending record first: how long that one waited is
            // how far behind the register was (its clock's stamp; one far ahead counts as 0).
            if let Some(oldest) = records.iter().map(|r| r.hlc.wall_ms).min() {
                let waited_ms = now_ms().unsigned_abs().saturating_sub(oldest);
                metrics::gauge!("caisse_register_sync_lag_seconds", "register" => register.id.to_string())
                    .set(waited_ms as f64 / 1_000.0);
            }
            Ok(Pushed::Held(PushResponse {
                verdicts,
                holds,
                // Exact: `now_ms` is never negative.
                server_time_ms: now_ms().unsigned_abs(),
            }))
        }
        Ingested::Conflicts(refusals) => refuse_batch(db, &register.id, records.len(), refusals).await,
    }
}

/// The protocol's number for the record at `index` of a batch. A batch holds at most
/// [`MAX_BATCH`] records, checked before any is read, so it fits; past `u32` it would be an
/// error, never a clamp.
fn batch_index(index: usize) -> anyhow::Result<u32> {
    u32::try_from(index).map_err(|_| anyhow::anyhow!("record index {index} is past what a batch can number"))
}

#[tracing::instrument(skip_all)]
async fn refuse_batch(
    db: &Db,
    register: &RegisterId,
    size: usize,
    refusals: Vec<Refused>,
) -> Result<Pushed, Error> {
    park(db, register, &refusals).await?;
    metrics::counter!("caisse_dead_letters_total").increment(refusals.len() as u64);
    let first = refusals[0].refusal.clone();
    tracing::warn!(register = %register, refused = refusals.len(), first = %first.reason, "push refused");
    let answer = PushRefused {
        refused: refusals.into_iter().map(|r| r.refusal).collect(),
        holds: identity::holds(db.pool(), register).await?,
    };
    let detail = format!(
        "{} of the {size} records were refused and nothing was stored; first: {}",
        answer.refused.len(),
        first.reason
    );
    Ok(Pushed::Refused { detail, field: first.field, answer })
}

/// How much of a refused record's payload is kept: enough to read what went wrong. A 15 MiB
/// record pushed 40 times once stored 634 MiB.
pub const DEAD_LETTER_PAYLOAD: usize = 16 * 1024;
/// Past this many dead letters from one register, new ones keep their reason but no payload.
pub const DEAD_LETTERS_WITH_PAYLOAD: i64 = 1_000;
/// Longest reason kept.
const DEAD_LETTER_REASON: usize = 1_000;

/// Parks refused records for head office, with their reason. The same record refused again for
/// the same reason is counted on its first row, not stored again.
#[tracing::instrument(skip_all)]
async fn park(db: &Db, register: &RegisterId, refusals: &[Refused]) -> sqlx::Result<()> {
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

/// Whether an ingest failed because of what the records hold rather than because the
/// database is unreachable or busy: a value the engine refuses (PostgreSQL's class 22, data
/// exceptions, and 23, integrity), or a total read back that is no longer an integer.
fn caused_by_data(error: &anyhow::Error) -> bool {
    match error.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(e)) => {
            let code = e.code().unwrap_or_default();
            code.starts_with("22") || code.starts_with("23") || e.message().contains("integer overflow")
        }
        Some(sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) => true,
        Some(sqlx::Error::Encode(e)) => e.is::<OutOfRange>(),
        _ => error.downcast_ref::<TotalOverflow>().is_some() || error.downcast_ref::<OutOfRange>().is_some(),
    }
}

/// A total that a record would push past what head office keeps.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TotalOverflow(pub String);

/// The records of a batch that the database refuses: each tried alone, in a transaction that
/// is rolled back; if none fails alone, the first one that fails after those before it.
#[tracing::instrument(skip_all)]
async fn culprits(
    db: &Db,
    register: &RegisterId,
    records: &[Record],
    skew_bound_ms: u64,
    cause: &anyhow::Error,
) -> anyhow::Result<Vec<Refused>> {
    let refusal = |index: usize, error: &anyhow::Error| -> anyhow::Result<Refused> {
        Ok(Refused {
            refusal: Refusal {
                index: batch_index(index)?,
                code: RefusalCode::Invalid,
                id: Some(records[index].id),
                seq: Some(records[index].seq),
                field: format!("records[{index}].record"),
                reason: format!(
                    "head office cannot store this record: {}",
                    shared_model::text::truncate(&format!("{error:#}"), 300)
                ),
            },
            payload: records[index].encode(),
        })
    };
    let mut found = Vec::new();
    for index in 0..records.len() {
        if let Err(e) = dry_run(db, register, &records[index..=index], skew_bound_ms).await {
            if !caused_by_data(&e) {
                return Err(e);
            }
            found.push(refusal(index, &e)?);
        }
    }
    if found.is_empty() {
        // Only together do they fail: the shortest failing prefix ends with the culprit.
        let (mut good, mut bad) = (0, records.len());
        while bad - good > 1 {
            let middle = (good + bad) / 2;
            match dry_run(db, register, &records[..middle], skew_bound_ms).await {
                Ok(()) => good = middle,
                Err(e) if caused_by_data(&e) => bad = middle,
                Err(e) => return Err(e),
            }
        }
        found.push(refusal(bad - 1, cause)?);
    }
    Ok(found)
}

/// Ingests `records` in a transaction that is rolled back.
#[tracing::instrument(skip_all)]
async fn dry_run(
    db: &Db,
    register: &RegisterId,
    records: &[Record],
    skew_bound_ms: u64,
) -> anyhow::Result<()> {
    match try_ingest(db, register, records, skew_bound_ms, false).await {
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

#[derive(Debug)]
pub enum Ingested {
    Done {
        verdicts: Vec<Verdict>,
        holds: u64,
    },
    /// Records that clash with what is held (same id or same seq, other content): nothing stored.
    Conflicts(Vec<Refused>),
}

/// Stores the records that are new and applies them, in one transaction; retried on a
/// deadlock or serialisation failure, which leaves nothing behind.
#[tracing::instrument(skip_all)]
pub async fn ingest(
    db: &Db,
    register: &RegisterId,
    records: &[Record],
    skew_bound_ms: u64,
) -> anyhow::Result<Ingested> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_ingest(db, register, records, skew_bound_ms, true).await {
            Err(e) if attempt < 5 && e.downcast_ref::<sqlx::Error>().is_some_and(crate::db::is_retryable) => {
                tracing::debug!(attempt, error = %e, "ingest conflict, retrying");
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
            }
            other => return other,
        }
    }
}

#[tracing::instrument(skip_all)]
async fn try_ingest(
    db: &Db,
    register: &RegisterId,
    records: &[Record],
    skew_bound_ms: u64,
    commit: bool,
) -> anyhow::Result<Ingested> {
    let encoded: Vec<String> = records.iter().map(Record::encode).collect();
    let conflict = |index: usize, code: RefusalCode, reason: String| -> anyhow::Result<Refused> {
        Ok(Refused {
            refusal: Refusal {
                index: batch_index(index)?,
                code,
                id: Some(records[index].id),
                seq: Some(records[index].seq),
                field: format!("records[{index}].record.id"),
                reason,
            },
            payload: encoded[index].clone(),
        })
    };

    // Within the batch: a second copy of a record is a duplicate of the first; two different
    // records under one id or one seq are a clash.
    let mut first_by_id: BTreeMap<RecordId, usize> = BTreeMap::new();
    let mut id_by_seq: BTreeMap<u64, RecordId> = BTreeMap::new();
    let mut conflicts = Vec::new();
    let mut unique = Vec::new();
    for (index, record) in records.iter().enumerate() {
        if let Some(&first) = first_by_id.get(&record.id) {
            if encoded[first] != encoded[index] {
                conflicts.push(conflict(
                    index,
                    RefusalCode::IdTaken,
                    format!("record {} appears twice with different content", record.id),
                )?);
            }
            continue;
        }
        if let Some(other) = id_by_seq.insert(record.seq, record.id) {
            conflicts.push(conflict(
                index,
                RefusalCode::SeqTaken,
                format!("seq {} is used by records {other} and {}", record.seq, record.id),
            )?);
            continue;
        }
        first_by_id.insert(record.id, index);
        unique.push(index);
    }
    if !conflicts.is_empty() {
        return Ok(Ingested::Conflicts(conflicts));
    }

    let mut tx = db.begin().await?;
    let received = now_ms();
    let mut new_ids: BTreeSet<RecordId> = BTreeSet::new();
    let columns = [
        "id",
        "origin",
        "seq",
        "store",
        "kind",
        "hlc_wall",
        "hlc_counter",
        "device_time_ms",
        "received_ms",
        "content",
    ];
    let sign = placeholder(&tx);
    for chunk in unique.chunks(crate::db::rows_per_statement(sign, columns.len(), unique.len())) {
        let mut rows = Vec::with_capacity(chunk.len());
        for &index in chunk {
            let r = &records[index];
            rows.push(vec![
                Value::Text(r.id.to_string()),
                r.origin.as_str().into(),
                to_i64("seq", r.seq)?.into(),
                r.store.as_str().into(),
                r.body.kind().into(),
                to_i64("hlc.wall_ms", r.hlc.wall_ms)?.into(),
                i64::from(r.hlc.counter).into(),
                to_i64("device_time_ms", r.device_time_ms)?.into(),
                received.into(),
                encoded[index].as_str().into(),
            ]);
        }
        let (source, values) = crate::db::rows_source(sign, &rows);
        let sql = format!(
            "INSERT INTO records ({}) {source} ON CONFLICT DO NOTHING RETURNING id",
            columns.join(", ")
        );
        let query = crate::db::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values);
        for row in query.fetch_all(&mut *tx).await? {
            new_ids.insert(parse("records.id", &row.try_get::<String, _>(0)?)?);
        }
    }

    // What was not inserted is either the same record again, or a clash with a held one.
    let held: Vec<usize> = unique.iter().copied().filter(|&i| !new_ids.contains(&records[i].id)).collect();
    let mut held_content: BTreeMap<RecordId, String> = BTreeMap::new();
    for chunk in held.chunks(500) {
        let sql = format!(
            "SELECT id, content FROM records WHERE id IN ({})",
            list_placeholders(placeholder(&tx), 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, HeldRow>(sqlx::AssertSqlSafe(sql));
        for &index in chunk {
            query = query.bind(records[index].id.to_string());
        }
        for row in query.fetch_all(&mut *tx).await? {
            held_content.insert(parse("records.id", &row.id)?, row.content);
        }
    }
    for &index in &held {
        let record = &records[index];
        match held_content.get(&record.id) {
            Some(content) if *content == encoded[index] => {}
            Some(_) => conflicts.push(conflict(
                index,
                RefusalCode::IdTaken,
                format!("record {} is already held with different content", record.id),
            )?),
            None => conflicts.push(conflict(
                index,
                RefusalCode::SeqTaken,
                format!("{} seq {} is already held as another record", record.origin, record.seq),
            )?),
        }
    }
    if !conflicts.is_empty() {
        tx.rollback().await?;
        return Ok(Ingested::Conflicts(conflicts));
    }

    let fresh: Vec<&Record> =
        unique.iter().map(|&i| &records[i]).filter(|r| new_ids.contains(&r.id)).collect();
    sales::apply(&mut tx, &fresh).await?;
    crate::shop::store_returns::owe(&mut tx, &fresh).await?;
    let (dated, redated) = redate(&fresh, received, skew_bound_ms);
    reporting::apply(&mut tx, &dated.iter().collect::<Vec<_>>(), &redated).await?;
    flag_unknowns(&mut tx, &fresh).await?;
    replenishment::apply(&mut tx, &fresh).await?;
    let moves: Vec<inventory::Move> = fresh
        .iter()
        .flat_map(|r| {
            movements(r).into_iter().map(|Movement { location, sku, delta, kind }| inventory::Move {
                location,
                sku,
                delta,
                kind: kind.as_str(),
                record_id: Some(r.id.to_string()),
            })
        })
        .collect();
    let stock_changes = inventory::apply(&mut tx, &moves).await?;
    skew_alerts(&mut tx, register, &fresh, received, skew_bound_ms).await?;
    let holds = advance_holds(&mut tx, register).await?;
    identity::note_push(&mut tx, register, holds).await?;
    // Last: the stock levels' new figures, at versions readers follow in commit order.
    feed::publish(&mut tx, stock_changes).await?;
    if commit {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }

    let verdicts = records
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let accepted = first_by_id.get(&r.id) == Some(&index) && new_ids.contains(&r.id);
            Ok(Verdict {
                index: batch_index(index)?,
                id: Some(r.id),
                seq: Some(r.seq),
                outcome: if accepted { Outcome::Accepted } else { Outcome::Duplicate },
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Ingested::Done { verdicts, holds })
}

/// The highest seq of `register` settled with none missing below it. A seq is settled when its
/// record is stored, or when it was refused and parked in the dead-letter table: a refused
/// record is head office's to look at, and must not hold back the acknowledgement of the
/// records behind it.
#[tracing::instrument(skip_all)]
async fn advance_holds(conn: &mut AnyConnection, register: &RegisterId) -> sqlx::Result<u64> {
    let mut holds = to_i64("holds", identity::holds(&mut *conn, register).await?)?;
    loop {
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM records WHERE origin = $1 AND seq > $2
             UNION SELECT seq FROM dead_letters WHERE register_id = $1 AND seq > $2
             ORDER BY seq LIMIT 5000",
        )
        .bind(register.as_str())
        .bind(holds)
        .fetch_all(&mut *conn)
        .await?;
        let before = holds;
        for seq in &seqs {
            if *seq != holds + 1 {
                break;
            }
            holds = *seq;
        }
        if holds == before || seqs.len() < 5000 {
            return from_i64("records.seq", holds);
        }
    }
}

/// The records as head office files them in its reports. A record whose register's clock is
/// flagged (off from its hybrid stamp, or ahead of this server) keeps the register's business
/// day on the record and in the sales ledger, but the daily report files it under a day that
/// this server's clock and the record's stamp support: not after the day head office received
/// it, and not before the day of its stamp. Returns the re-dated records' count per
/// (store, day) as filed.
fn redate(
    records: &[&Record],
    received_ms: i64,
    bound_ms: u64,
) -> (Vec<Record>, BTreeMap<(String, chrono::NaiveDate), i64>) {
    let mut counts: BTreeMap<(String, chrono::NaiveDate), i64> = BTreeMap::new();
    let dated = records
        .iter()
        .map(|&record| {
            let ahead = i128::from(record.hlc.wall_ms) - i128::from(received_ms);
            let flagged = record.skew_ms().abs().max(ahead) > i128::from(bound_ms);
            let Some(day) = record.body.business_day().filter(|_| flagged) else {
                return record.clone();
            };
            // A stamp past what an i64 holds is later than any receipt.
            let stamp = i64::try_from(record.hlc.wall_ms).map_or(received_ms, |wall| wall.min(received_ms));
            let (earliest, latest) = (local_day(stamp), local_day(received_ms));
            let filed = day.clamp(earliest.min(latest), latest);
            if filed == day {
                return record.clone();
            }
            if matches!(record.body.kind(), "sale" | "return") {
                *counts.entry((record.store.to_string(), filed)).or_default() += 1;
            }
            Record { body: record.body.redated(filed), ..record.clone() }
        })
        .collect();
    (dated, counts)
}

/// The calendar day of `ms` where head office is (registers file by their local day too).
fn local_day(ms: i64) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&chrono::Local).date_naive())
        .unwrap_or_default()
}

/// Flags what a record names that head office does not know, or a business day far from the
/// record's own stamp. Such records are accepted (the till recorded them), and head office
/// is told.
#[tracing::instrument(skip_all)]
async fn flag_unknowns(conn: &mut AnyConnection, records: &[&Record]) -> sqlx::Result<()> {
    use shared_model::RecordBody;
    let mut skus: BTreeMap<Sku, &Record> = BTreeMap::new();
    let mut places: BTreeMap<LocationCode, &Record> = BTreeMap::new();
    for &record in records {
        for movement in movements(record) {
            skus.entry(movement.sku).or_insert(record);
        }
        match &record.body {
            RecordBody::ReplenishmentRequested(request) => {
                for line in &request.lines {
                    skus.entry(line.sku.clone()).or_insert(record);
                }
            }
            RecordBody::TransferReceived(receipt) => {
                places.entry(receipt.from.clone()).or_insert(record);
            }
            RecordBody::Return(ret) => {
                if let Some(original) = &ret.original {
                    places.entry(original.store.clone()).or_insert(record);
                }
            }
            _ => {}
        }
        if let Some(day) = record.body.business_day() {
            let stamped = chrono::DateTime::from_timestamp_millis(to_i64("hlc.wall_ms", record.hlc.wall_ms)?)
                .map(|t| t.date_naive())
                .unwrap_or_default();
            if (day - stamped).num_days().abs() > 1 {
                let alert = Alert {
                    location: Some(record.store.clone()),
                    record_id: Some(record.id),
                    message: format!(
                        "record {} from {} is filed under {day}, but was stamped on {stamped}",
                        record.id, record.origin
                    ),
                    ..Alert::default()
                };
                alerts::raise(conn, Kind::ImpossibleDay, &record.id.to_string(), alert).await?;
            }
        }
    }
    let names: Vec<&Sku> = skus.keys().collect();
    let known = crate::catalogue::thresholds(conn, &names).await?;
    for (sku, record) in skus.iter().filter(|(sku, _)| !known.contains_key(*sku)) {
        let alert = Alert {
            location: Some(record.store.clone()),
            sku: Some(sku.clone()),
            record_id: Some(record.id),
            message: format!(
                "record {} from {} names {sku}, which is not in the catalogue",
                record.id, record.origin
            ),
        };
        alerts::raise(conn, Kind::UnknownSku, sku.as_str(), alert).await?;
    }
    let codes: Vec<&LocationCode> = places.keys().collect();
    let known = crate::catalogue::known_locations(conn, &codes).await?;
    for (code, record) in places.iter().filter(|(code, _)| !known.contains(*code)) {
        let alert = Alert {
            location: Some(record.store.clone()),
            record_id: Some(record.id),
            message: format!(
                "record {} from {} names location {code}, which the chain does not have",
                record.id, record.origin
            ),
            ..Alert::default()
        };
        alerts::raise(conn, Kind::UnknownLocation, code.as_str(), alert).await?;
    }
    Ok(())
}

/// Flags a register whose device clock disagrees with its hybrid clock, or whose stamps are
/// ahead of the server: the register's clock is wrong, and its times should not be trusted.
#[tracing::instrument(skip_all)]
async fn skew_alerts(
    conn: &mut AnyConnection,
    register: &RegisterId,
    records: &[&Record],
    now: i64,
    bound: u64,
) -> sqlx::Result<()> {
    let bound = i128::from(bound);
    let worst = records
        .iter()
        .map(|r| {
            let ahead = i128::from(r.hlc.wall_ms) - i128::from(now);
            (r, r.skew_ms().abs().max(ahead))
        })
        .max_by_key(|(_, skew)| *skew);
    if let Some((record, skew)) = worst.filter(|(_, skew)| *skew > bound) {
        let message = format!(
            "register {register}'s clock is off by about {} minutes (record {} seq {})",
            skew / 60_000,
            record.id,
            record.seq
        );
        let alert = Alert {
            location: Some(record.store.clone()),
            record_id: Some(record.id),
            message,
            ..Alert::default()
        };
        alerts::raise(conn, Kind::ClockSkew, register.as_str(), alert).await?;
    }
    Ok(())
}

/// The changes after the cursor a register asks from, for its store.
#[tracing::instrument(skip_all)]
pub async fn pull(db: &Db, register: &Register, body: &[u8]) -> Result<PullResponse, Error> {
    let request = PullRequest::decode(body).map_err(|e| Error::Malformed {
        field: e.field().unwrap_or("pull").to_owned(),
        detail: e.to_string(),
    })?;
    if !(1..=MAX_PULL).contains(&request.limit) {
        return Err(Error::Malformed {
            field: "pull.limit".into(),
            detail: format!("limit must be between 1 and {MAX_PULL}"),
        });
    }
    to_i64("cursor", request.cursor.0)
        .map_err(|e| Error::Malformed { field: "pull.cursor".into(), detail: e.to_string() })?;
    let page = feed::read(db, register.store.as_str(), request.cursor, request.limit).await?;
    identity::note_pull(db, &register.id, page.next.0).await?;
    let response = PullResponse {
        changes: page.changes,
        next: page.next,
        more: page.more,
        // Exact: `now_ms` is never negative.
        server_time_ms: now_ms().unsigned_abs(),
    };
    Ok(response)
}

/// A sale from any store, with what was returned of it, for a return at another store.
#[tracing::instrument(skip_all)]
pub async fn sale_for_return(db: &Db, id: &RecordId) -> Result<SaleForReturn, Error> {
    let content: String = sqlx::query_scalar("SELECT content FROM records WHERE id = $1 AND kind = 'sale'")
        .bind(id.to_string())
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::NotFound(format!("sale {id} is not at head office (yet)")))?;
    let record = Record::decode(content.as_bytes()).map_err(anyhow::Error::from)?;
    let returned = sales::returned_of(db, id)
        .await?
        .into_iter()
        .map(|(line, units)| {
            // A count past u32 (merged offline returns) still says "all of it": clamped on
            // purpose, so the conversion after it always fits.
            let units = from_i64("return_lines.quantity", units.clamp(0, i64::from(u32::MAX)))?;
            Ok((line, units))
        })
        .collect::<sqlx::Result<_>>()?;
    Ok(SaleForReturn { record, returned })
}

/// The sale a receipt's short number names (`VMTL-01-000123`): the record its register made
/// with that sequence number, found by the (origin, seq) key every record is held under.
#[tracing::instrument(skip_all)]
pub async fn sale_of_number(db: &Db, number: &shared_model::ReceiptNumber) -> Result<RecordId, Error> {
    let missing = || Error::NotFound(format!("sale {number} is not at head office (yet)"));
    // A sequence past what the table can hold names no record.
    let seq = to_i64("seq", number.seq()).map_err(|_| missing())?;
    let id: String =
        sqlx::query_scalar("SELECT id FROM records WHERE origin = $1 AND seq = $2 AND kind = 'sale'")
            .bind(number.origin().as_str())
            .bind(seq)
            .fetch_optional(db.pool())
            .await?
            .ok_or_else(missing)?;
    RecordId::parse(&id).map_err(|e| Error::Internal(e.into()))
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

/// A stored record's id and content, as a push compares a record again with what is held.
#[derive(Debug, sqlx::FromRow)]
struct HeldRow {
    id: String,
    content: String,
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
