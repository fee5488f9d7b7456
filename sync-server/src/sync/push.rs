//! A push read and checked: the batch refused whole when a record is for another register or
//! store, records at fault refused one by one and parked, and the records the database refuses
//! found by trying them alone.

use shared_model::protocol::{
    MAX_BATCH, Message, Outcome, PushBatch, PushRefused, PushResponse, Refusal, RefusalCode,
};
use shared_model::{Record, RegisterId};

use crate::db::{Db, OutOfRange, TotalOverflow, now_ms};
use crate::identity::{self, Register};

use super::dead_letters::{DEAD_LETTER_REASON, park};
use super::ingest::{Ingested, dry_run, ingest};
use super::{Error, Pushed, Refused, batch_index};

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
