//! Head office's dashboard (UC3, UC7): what a manager looks at first. It owns no table: it
//! asks each context for its part (reporting's daily revenue, inventory's levels, the
//! catalogue's maxima, alerts, identity's registers) and puts them side by side.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;
use shared_model::LocationKind;

use crate::alerts::{self, AlertView};
use crate::db::Db;
use crate::{catalogue, identity, inventory, reporting};

/// How many weeks the trend shows.
pub const TREND_WEEKS: usize = 8;
/// A register that has not pushed or pulled for this long is named on the dashboard.
pub const STALE_MS: i64 = 3_600_000;
/// At most this many rows per list: the pages link to the whole of each.
const MAX_ROWS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Revenue {
    pub location: String,
    pub name: String,
    /// store or online.
    pub kind: String,
    /// Net sales less net refunds, before tax, in cents.
    pub today_cents: i64,
    /// Since Monday.
    pub week_cents: i64,
    /// Since the first of the month.
    pub month_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Series {
    pub location: String,
    /// One total per week of [`Trend::weeks`].
    pub cents: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Trend {
    /// The Mondays the weeks start on, oldest first.
    pub weeks: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StockLine {
    pub location: String,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// The product's maximum (overstock only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_level: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StaleRegister {
    pub id: String,
    pub store: String,
    /// The last push or pull; none if it never synced.
    pub last_sync_ms: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub today: String,
    pub generated_ms: i64,
    pub revenue: Vec<Revenue>,
    pub trend: Trend,
    pub stock_outs: Vec<StockLine>,
    pub overstock: Vec<StockLine>,
    /// Open alerts, newest first (at most 50).
    pub alerts: Vec<AlertView>,
    /// How many alerts are open in all.
    pub open_alerts: usize,
    pub stale_registers: Vec<StaleRegister>,
}

/// The Monday of `day`'s week.
fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// The dashboard as of business day `today` and time `now_ms`.
#[tracing::instrument(skip_all)]
pub async fn dashboard(db: &Db, today: NaiveDate, now_ms: i64) -> anyhow::Result<Dashboard> {
    let week = monday_of(today);
    let month = today.with_day(1).unwrap_or(today);
    let first_week = week - Days::new(7 * (TREND_WEEKS as u64 - 1));
    let since = first_week.min(month);
    let days = reporting::revenue_by_day(db, since, today).await?;
    let locations = catalogue::locations(db).await?;
    let selling: Vec<_> =
        locations.iter().filter(|l| matches!(l.kind, LocationKind::Store | LocationKind::Online)).collect();
    let mut revenue = Vec::new();
    let mut series = Vec::new();
    for location in &selling {
        let code = location.code.as_str();
        let sum = |from: NaiveDate| -> i64 {
            days.iter().filter(|(l, d, _)| l == code && *d >= from && *d <= today).map(|(_, _, c)| c).sum()
        };
        revenue.push(Revenue {
            location: code.to_owned(),
            name: location.name.clone(),
            kind: if location.kind == LocationKind::Online { "online" } else { "store" }.to_owned(),
            today_cents: sum(today),
            week_cents: sum(week),
            month_cents: sum(month),
        });
        let mut cents = vec![0_i64; TREND_WEEKS];
        for (_, day, amount) in days.iter().filter(|(l, d, _)| l == code && *d >= first_week) {
            let index = (monday_of(*day) - first_week).num_days() / 7;
            if let Some(slot) = usize::try_from(index).ok().and_then(|i| cents.get_mut(i)) {
                *slot += amount;
            }
        }
        series.push(Series { location: code.to_owned(), cents });
    }
    let weeks = (0..TREND_WEEKS as u64).map(|i| (first_week + Days::new(7 * i)).to_string()).collect();

    let products = catalogue::names_and_maxima(db).await?;
    let name_of = |sku: &str| products.get(sku).map(|(name, _)| name.clone()).unwrap_or_default();
    let stock_outs = inventory::stock_outs(db)
        .await?
        .into_iter()
        .take(MAX_ROWS)
        .map(|(location, sku, quantity)| StockLine {
            name: name_of(&sku),
            location,
            sku,
            quantity,
            max_level: None,
        })
        .collect();
    let capped: BTreeMap<&str, i64> = products
        .iter()
        .filter(|(_, (_, max))| *max > 0)
        .map(|(sku, (_, max))| (sku.as_str(), *max))
        .collect();
    let skus: Vec<&str> = capped.keys().copied().collect();
    let overstock = inventory::levels_of(db, &skus)
        .await?
        .into_iter()
        .filter(|(_, sku, quantity)| capped.get(sku.as_str()).is_some_and(|max| quantity > max))
        .take(MAX_ROWS)
        .map(|(location, sku, quantity)| StockLine {
            name: name_of(&sku),
            max_level: capped.get(sku.as_str()).copied(),
            location,
            sku,
            quantity,
        })
        .collect();

    let open = alerts::list(db, true, None).await?;
    let open_alerts = open.len();
    let stale_registers = identity::registers(db)
        .await?
        .into_iter()
        .filter(|r| r.enrolled && !r.revoked)
        .filter_map(|r| {
            let last = r.last_push_ms.max(r.last_pull_ms);
            let stale = last.is_none_or(|at| now_ms - at > STALE_MS);
            stale.then(|| StaleRegister {
                id: r.id.to_string(),
                store: r.store.to_string(),
                last_sync_ms: last,
            })
        })
        .collect();
    Ok(Dashboard {
        today: today.to_string(),
        generated_ms: now_ms,
        revenue,
        trend: Trend { weeks, series },
        stock_outs,
        overstock,
        alerts: open.into_iter().take(MAX_ROWS).collect(),
        open_alerts,
        stale_registers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_starts_on_monday() {
        let thursday = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(monday_of(thursday), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(monday_of(monday), monday);
        let sunday = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(monday_of(sunday), monday);
    }
}
