//! What head office is told of records it accepted: names it does not know, a business day far
//! from the record's stamp, a register's clock that is off.

use std::collections::BTreeMap;

use shared_model::projection::movements;
use shared_model::{LocationCode, Record, RegisterId, Sku};
use sqlx::AnyConnection;

use crate::alerts::{self, Alert, Kind};
use crate::db::to_i64;

/// Flags what a record names that head office does not know, or a business day far from the
/// record's own stamp. Such records are accepted (the till recorded them), and head office
/// is told.
#[tracing::instrument(skip_all)]
pub(super) async fn flag_unknowns(conn: &mut AnyConnection, records: &[&Record]) -> sqlx::Result<()> {
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
                }
                .says(
                    "impossible_day",
                    &[
                        ("record", &record.id),
                        ("register", &record.origin),
                        ("day", &day),
                        ("stamped", &stamped),
                    ],
                );
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
            ..Alert::default()
        }
        .says("unknown_sku", &[("record", &record.id), ("register", &record.origin), ("sku", sku)]);
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
        }
        .says(
            "unknown_location",
            &[("record", &record.id), ("register", &record.origin), ("location", code)],
        );
        alerts::raise(conn, Kind::UnknownLocation, code.as_str(), alert).await?;
    }
    Ok(())
}

/// Flags a register whose device clock disagrees with its hybrid clock, or whose stamps are
/// ahead of the server: the register's clock is wrong, and its times should not be trusted.
#[tracing::instrument(skip_all)]
pub(super) async fn skew_alerts(
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
        }
        .says(
            "clock_skew",
            &[
                ("register", register),
                ("minutes", &(skew / 60_000)),
                ("record", &record.id),
                ("seq", &record.seq),
            ],
        );
        alerts::raise(conn, Kind::ClockSkew, register.as_str(), alert).await?;
    }
    Ok(())
}
