//! A checked batch into the ledger, in one transaction: insert-if-absent by id and by (origin,
//! seq), clashes with what is held refused, and only what was new applied to the other contexts.

use std::collections::{BTreeMap, BTreeSet};

use shared_model::projection::{Movement, movements};
use shared_model::protocol::{Outcome, Refusal, RefusalCode, Verdict};
use shared_model::{Record, RecordId, RegisterId};
use sqlx::{AnyConnection, Row};

use crate::db::{Db, Value, from_i64, list_placeholders, now_ms, parse, placeholder, to_i64};
use crate::{feed, identity, inventory, replenishment, reporting, sales};

use super::filing::redate;
use super::flags::{flag_unknowns, skew_alerts};
use super::{Refused, batch_index};

/// Ingests `records` in a transaction that is rolled back.
#[tracing::instrument(skip_all)]
pub(super) async fn dry_run(
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

/// A stored record's id and content, as a push compares a record again with what is held.
#[derive(Debug, sqlx::FromRow)]
struct HeldRow {
    id: String,
    content: String,
}
