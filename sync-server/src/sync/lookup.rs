//! Sales looked up across stores: by id for a return elsewhere, by a receipt's short number.

use std::collections::BTreeMap;

use shared_model::protocol::SaleForReturn;
use shared_model::{Record, RecordId, RegisterId};
use sqlx::Row;

use crate::db::{Db, from_i64, list_placeholders, parse, to_i64};
use crate::sales;

use super::Error;

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

/// The receipt numbers (`VMTL-01-000123`) of the given records that head office has, by
/// record id: what a person reads instead of the UUID.
#[tracing::instrument(skip_all)]
pub async fn receipt_numbers(
    db: &Db,
    ids: &[String],
) -> sqlx::Result<BTreeMap<String, shared_model::ReceiptNumber>> {
    let mut numbers = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, origin, seq FROM records WHERE id IN ({})",
            list_placeholders(db.placeholder(), 1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(db.pool()).await? {
            let origin: RegisterId = parse("records.origin", &row.try_get::<String, _>("origin")?)?;
            let seq = from_i64::<u64>("records.seq", row.try_get("seq")?)?;
            let number = shared_model::ReceiptNumber::new(origin, seq)
                .map_err(|e| crate::db::corrupt("records.seq", e))?;
            numbers.insert(row.try_get("id")?, number);
        }
    }
    Ok(numbers)
}
