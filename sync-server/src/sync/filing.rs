//! The day a record is filed under in the daily report when its register's clock is flagged.

use std::collections::BTreeMap;

use shared_model::Record;

/// The records as head office files them in its reports. A record whose register's clock is
/// flagged (off from its hybrid stamp, or ahead of this server) keeps the register's business
/// day on the record and in the sales ledger, but the daily report files it under a day that
/// this server's clock and the record's stamp support: not after the day head office received
/// it, and not before the day of its stamp. Returns the re-dated records' count per
/// (store, day) as filed.
pub(super) fn redate(
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
