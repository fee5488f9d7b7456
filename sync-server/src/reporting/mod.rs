//! Head office's figures: daily totals per store and per product, folded from the records by
//! the same projection the registers and the property tests use (`shared_model::projection::
//! SalesReport`). What a transaction's records add is appended to a journal, and a projector
//! adds the journal into the tables ([`journal`] says why), so a report equals a recomputation
//! from the records once the projector has caught up, which a report makes it do first.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use shared_model::Record;
use shared_model::projection::{Projection, SalesReport};
use sqlx::AnyConnection;

use crate::db::{Db, parse, to_i64};
use crate::inventory;

pub mod journal;

pub use journal::TotalsFreshness;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The totals of the range are past what can be added up.
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The stores' totals of a range added up past what an integer holds: the range is too long.
#[derive(Debug, thiserror::Error)]
#[error("the stores' totals are too large to add up: choose a shorter range")]
pub struct TotalsTooLarge;

/// Adds the new records' sales and returns to the daily totals (through the journal);
/// `redated` counts, per (store, day), the records filed under another day than their
/// register's.
#[tracing::instrument(skip_all)]
pub async fn apply(
    conn: &mut AnyConnection,
    records: &[&Record],
    redated: &BTreeMap<(String, NaiveDate), i64>,
) -> sqlx::Result<()> {
    let mut report = SalesReport::default();
    for record in records {
        report.apply(record);
    }
    let mut deltas: BTreeMap<(String, String), journal::Delta> = BTreeMap::new();
    fn delta<'a>(
        deltas: &'a mut BTreeMap<(String, String), journal::Delta>,
        store: &str,
        day: &NaiveDate,
    ) -> &'a mut journal::Delta {
        deltas.entry((store.to_owned(), day.to_string())).or_insert_with(|| journal::Delta {
            store: store.to_owned(),
            day: day.to_string(),
            ..journal::Delta::default()
        })
    }
    for ((store, day), t) in &report.days {
        let d = delta(&mut deltas, store.as_str(), day);
        d.sums[..10].copy_from_slice(&[
            to_i64("sales", t.sales)?,
            to_i64("returns", t.returns)?,
            t.net_sales.as_cents(),
            t.gst.as_cents(),
            t.qst.as_cents(),
            t.collected.as_cents(),
            t.net_refunds.as_cents(),
            t.gst_refunded.as_cents(),
            t.qst_refunded.as_cents(),
            t.refunded.as_cents(),
        ]);
    }
    for ((store, day, sku), p) in &report.products {
        let sums = [
            to_i64("sold", p.sold)?,
            to_i64("returned", p.returned)?,
            p.net_sales.as_cents(),
            p.net_refunds.as_cents(),
        ];
        delta(&mut deltas, store.as_str(), day).products.insert(sku.to_string(), sums);
    }
    for ((store, day), count) in redated {
        delta(&mut deltas, store, day).sums[10] = *count;
    }
    journal::append(conn, deltas.into_values().collect()).await
}

/// `ON CONFLICT (keys) DO UPDATE SET c = table.c + excluded.c, …`: totals that add up.
fn add_on_conflict(table: &str, keys: &[&str], sums: &[&str]) -> String {
    let set = sums.iter().map(|c| format!("{c} = {table}.{c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
    format!("ON CONFLICT ({}) DO UPDATE SET {set}", keys.join(", "))
}

/// What one online order (or its refund) adds to its channel's figures.
#[derive(Debug, Clone)]
pub struct ChannelEntry {
    /// The business day, `YYYY-MM-DD`.
    pub day: String,
    /// A refund counts as a return; otherwise a sale.
    pub refund: bool,
    /// (SKU, units, net cents) per line.
    pub lines: Vec<(String, i64, i64)>,
    pub net: i64,
    pub gst: i64,
    pub qst: i64,
    pub total: i64,
}

/// Adds an online order, or its refund, to the daily figures of `channel` (the online shop's
/// location), in the caller's transaction: the same rows and fields as a store's sales, so the
/// consolidated report shows the shop beside the stores. It appends to the journal and takes no
/// row another checkout takes.
#[tracing::instrument(skip_all)]
pub async fn add_channel(conn: &mut AnyConnection, channel: &str, entry: &ChannelEntry) -> sqlx::Result<()> {
    // A sale fills the sale columns, a refund the refund columns, with the same amounts.
    let as_sale = |v: i64| if entry.refund { 0 } else { v };
    let as_refund = |v: i64| if entry.refund { v } else { 0 };
    let mut delta = journal::Delta {
        store: channel.to_owned(),
        day: entry.day.clone(),
        sums: [
            as_sale(1),
            as_refund(1),
            as_sale(entry.net),
            as_sale(entry.gst),
            as_sale(entry.qst),
            as_sale(entry.total),
            as_refund(entry.net),
            as_refund(entry.gst),
            as_refund(entry.qst),
            as_refund(entry.total),
            0,
        ],
        products: BTreeMap::new(),
    };
    for (sku, units, net) in &entry.lines {
        let line = delta.products.entry(sku.clone()).or_default();
        for (total, value) in
            line.iter_mut().zip([as_sale(*units), as_refund(*units), as_sale(*net), as_refund(*net)])
        {
            *total = total
                .checked_add(value)
                .ok_or_else(|| sqlx::Error::Protocol("an order's line totals overflow".into()))?;
        }
    }
    journal::append(conn, vec![delta]).await
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoreFigures {
    pub store: String,
    pub sales: i64,
    pub returns: i64,
    /// Cents, before tax, net of discounts.
    pub net_sales: i64,
    pub gst: i64,
    pub qst: i64,
    /// Cents paid by customers, cash rounding included.
    pub collected: i64,
    pub net_refunds: i64,
    /// Cents refunded, cash rounding included.
    pub refunded: i64,
    /// Sales and returns filed under another day than their register's, because its clock
    /// ran ahead (the records keep the register's day).
    pub redated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProductFigures {
    pub sku: String,
    /// The catalogue's name; empty for a product the catalogue does not have.
    pub name: String,
    /// Units sold less units returned.
    pub units: i64,
    /// Cents, net sales less net refunds.
    pub net: i64,
}

/// A store's totals over a range of days, as the report reads them.
#[derive(Debug, sqlx::FromRow)]
struct StoreTotalsRow {
    store: String,
    sales: i64,
    returns: i64,
    net_sales: i64,
    gst: i64,
    qst: i64,
    collected: i64,
    net_refunds: i64,
    refunded: i64,
    redated: i64,
}

impl TryFrom<StoreTotalsRow> for StoreFigures {
    type Error = sqlx::Error;

    fn try_from(row: StoreTotalsRow) -> sqlx::Result<StoreFigures> {
        let store: shared_model::LocationCode = parse("daily_sales.store", &row.store)?;
        Ok(StoreFigures {
            store: store.into(),
            sales: row.sales,
            returns: row.returns,
            net_sales: row.net_sales,
            gst: row.gst,
            qst: row.qst,
            collected: row.collected,
            net_refunds: row.net_refunds,
            refunded: row.refunded,
            redated: row.redated,
        })
    }
}

/// A product's units and net sales over a range of days.
#[derive(Debug, sqlx::FromRow)]
struct ProductTotalsRow {
    sku: String,
    units: i64,
    net: i64,
}

impl TryFrom<ProductTotalsRow> for ProductFigures {
    type Error = sqlx::Error;

    fn try_from(row: ProductTotalsRow) -> sqlx::Result<ProductFigures> {
        let sku: shared_model::Sku = parse("daily_products.sku", &row.sku)?;
        Ok(ProductFigures { sku: sku.into(), name: String::new(), units: row.units, net: row.net })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LocationStock {
    pub location: String,
    pub units: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesReportView {
    pub from: String,
    pub to: String,
    pub stores: Vec<StoreFigures>,
    pub total: StoreFigures,
    pub top_products: Vec<ProductFigures>,
    pub stock: Vec<LocationStock>,
    /// How up to date the totals are: the report folds what is committed before it reads.
    pub freshness: TotalsFreshness,
}

/// The consolidated report for an inclusive range of business days (UC1).
#[tracing::instrument(skip_all)]
pub async fn report(db: &Db, from: NaiveDate, to: NaiveDate, top: u32) -> anyhow::Result<SalesReportView> {
    journal::catch_up(db).await?;
    let rows: Vec<StoreTotalsRow> = sqlx::query_as(
        "SELECT store, CAST(SUM(sales) AS BIGINT) AS sales, CAST(SUM(returns) AS BIGINT) AS returns,
                CAST(SUM(net_sales) AS BIGINT) AS net_sales, CAST(SUM(gst) AS BIGINT) AS gst,
                CAST(SUM(qst) AS BIGINT) AS qst, CAST(SUM(collected) AS BIGINT) AS collected,
                CAST(SUM(net_refunds) AS BIGINT) AS net_refunds, CAST(SUM(refunded) AS BIGINT) AS refunded,
                CAST(SUM(redated) AS BIGINT) AS redated
         FROM daily_sales WHERE business_day >= $1 AND business_day <= $2 GROUP BY store ORDER BY store",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(db.pool())
    .await?;
    let stores = rows.into_iter().map(StoreFigures::try_from).collect::<sqlx::Result<Vec<_>>>()?;
    let add = |a: i64, b: i64| a.checked_add(b).ok_or(TotalsTooLarge);
    let total =
        stores.iter().try_fold(StoreFigures { store: "ALL".into(), ..StoreFigures::default() }, |t, s| {
            Ok::<_, TotalsTooLarge>(StoreFigures {
                store: t.store,
                sales: add(t.sales, s.sales)?,
                returns: add(t.returns, s.returns)?,
                net_sales: add(t.net_sales, s.net_sales)?,
                gst: add(t.gst, s.gst)?,
                qst: add(t.qst, s.qst)?,
                collected: add(t.collected, s.collected)?,
                net_refunds: add(t.net_refunds, s.net_refunds)?,
                refunded: add(t.refunded, s.refunded)?,
                redated: add(t.redated, s.redated)?,
            })
        })?;
    // Ranked by revenue (net sales less net refunds, before tax): ten units of gum do not
    // outrank one espresso machine.
    let rows: Vec<ProductTotalsRow> = sqlx::query_as(
        "SELECT sku, CAST(SUM(sold) - SUM(returned) AS BIGINT) AS units,
                CAST(SUM(net_sales) - SUM(net_refunds) AS BIGINT) AS net
         FROM daily_products WHERE business_day >= $1 AND business_day <= $2
         GROUP BY sku ORDER BY net DESC, sku LIMIT $3",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(i64::from(top))
    .fetch_all(db.pool())
    .await?;
    let mut top_products =
        rows.into_iter().map(ProductFigures::try_from).collect::<sqlx::Result<Vec<_>>>()?;
    let skus = top_products.iter().map(|p| p.sku.parse()).collect::<Result<Vec<shared_model::Sku>, _>>()?;
    let names = crate::catalogue::products_by_sku(db, &skus).await?;
    for (product, sku) in top_products.iter_mut().zip(&skus) {
        product.name = names.get(sku).map(|p| p.name.clone()).unwrap_or_default();
    }
    let stock = inventory::totals_by_location(db)
        .await?
        .into_iter()
        .map(|(location, units)| LocationStock { location: location.into(), units })
        .collect();
    let freshness = journal::freshness(db).await?;
    Ok(SalesReportView {
        from: from.to_string(),
        to: to.to_string(),
        stores,
        total,
        top_products,
        stock,
        freshness,
    })
}

/// Whether the database refused a sum as out of range.
fn is_overflow(error: &anyhow::Error) -> bool {
    error.downcast_ref::<sqlx::Error>().is_some_and(|e| match e {
        sqlx::Error::Database(e) => {
            e.code().as_deref() == Some("22003") || e.message().contains("integer overflow")
        }
        _ => false,
    })
}

/// The consolidated report of the business days `from` to `to`, with the `top` products.
/// Every daily total is bounded (`db::MAX_TOTAL`), so only thousands of days of totals at that
/// bound could overflow a sum: then the engine refuses the sum, and so does this.
#[tracing::instrument(skip_all)]
pub async fn sales_report(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    top: u32,
) -> Result<SalesReportView, Error> {
    report(db, from, to, top).await.map_err(|e| {
        if e.downcast_ref::<TotalsTooLarge>().is_some() || is_overflow(&e) {
            Error::TooLarge("the totals of this range are too large to add up: choose a shorter range".into())
        } else {
            Error::Internal(e)
        }
    })
}

/// The report as one CSV table; `section` tells stores, products and stock apart. It carries
/// every column the page shows (revenue before tax is `net_sales - net_refunds`). Amounts in
/// dollars.
pub fn to_csv(report: &SalesReportView) -> anyhow::Result<String> {
    // New columns go after the old ones, so a reader of the first ten keeps its places.
    const HEADER: [&str; 14] = [
        "section",
        "key",
        "sales",
        "returns",
        "net_sales",
        "gst",
        "qst",
        "collected",
        "refunded",
        "units",
        "net_refunds",
        "redated",
        "net",
        "name",
    ];
    let dollars = |cents: i64| shared_model::Money::cents(cents).to_string();
    let empty = String::new;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER)?;
    for s in report.stores.iter().chain(std::iter::once(&report.total)) {
        out.write_record([
            "store".to_owned(),
            text(&s.store),
            s.sales.to_string(),
            s.returns.to_string(),
            dollars(s.net_sales),
            dollars(s.gst),
            dollars(s.qst),
            dollars(s.collected),
            dollars(s.refunded),
            empty(),
            dollars(s.net_refunds),
            s.redated.to_string(),
            empty(),
            empty(),
        ])?;
    }
    for p in &report.top_products {
        // A product's revenue goes in `net_sales` too, where readers of the first ten
        // columns have always found it.
        let mut row = vec!["product".to_owned(), text(&p.sku), empty(), empty(), dollars(p.net)];
        row.extend(std::iter::repeat_n(String::new(), 4));
        row.extend([p.units.to_string(), empty(), empty(), dollars(p.net), text(&p.name)]);
        out.write_record(row)?;
    }
    for l in &report.stock {
        let mut row = vec!["stock".to_owned(), text(&l.location)];
        row.extend(std::iter::repeat_n(String::new(), 7));
        row.extend([l.units.to_string(), empty(), empty(), empty(), empty()]);
        out.write_record(row)?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// A free-text cell (a name, a SKU, a store) made safe for spreadsheets: one starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a formula when the file is
/// opened, so it gets a leading `'` and shows as text (OWASP's CSV injection advice). Amount
/// columns never pass here: a negative amount must stay a number.
fn text(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_owned() }
}

/// A store's revenue (net sales less net refunds, before tax) on one business day.
#[derive(Debug, sqlx::FromRow)]
struct DayRevenueRow {
    store: String,
    business_day: String,
    revenue: i64,
}

/// Revenue per (location, business day) from `from` to `to` inclusive, in cents: net sales
/// less net refunds, before tax.
#[tracing::instrument(skip_all)]
pub async fn revenue_by_day(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Vec<(String, NaiveDate, i64)>> {
    journal::catch_up(db).await?;
    let rows: Vec<DayRevenueRow> = sqlx::query_as(
        "SELECT store, business_day, CAST(net_sales - net_refunds AS BIGINT) AS revenue
         FROM daily_sales WHERE business_day >= $1 AND business_day <= $2",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|row| {
            let day = NaiveDate::parse_from_str(&row.business_day, "%Y-%m-%d")
                .map_err(|e| crate::db::corrupt("daily_sales.business_day", e))?;
            Ok((row.store, day, row.revenue))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name a spreadsheet would run as a formula is written as text; a negative amount
    /// stays a number.
    #[test]
    fn csv_text_cells_cannot_be_formulas() {
        let figures =
            |store: &str| StoreFigures { store: store.into(), net_sales: -150, ..Default::default() };
        let report = SalesReportView {
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
            stores: vec![figures("@S1")],
            total: figures("ALL"),
            top_products: ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Plain - name"]
                .into_iter()
                .enumerate()
                .map(|(i, name)| ProductFigures {
                    sku: format!("P{i}"),
                    name: name.into(),
                    units: 1,
                    net: -250,
                })
                .collect(),
            stock: vec![LocationStock { location: "=S2".into(), units: -1 }],
            freshness: TotalsFreshness { behind: 0, folded_ms: 0 },
        };
        let csv = to_csv(&report).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let names: Vec<&str> = rows.iter().filter(|r| &r[0] == "product").map(|r| &r[at("name")]).collect();
        assert_eq!(
            names,
            ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Plain - name"]
        );
        assert_eq!(&rows[0][at("key")], "'@S1");
        assert_eq!(&rows[0][at("net_sales")], "-1.50", "a negative amount stays a number");
        let product = rows.iter().find(|r| &r[0] == "product").unwrap();
        assert_eq!((&product[at("net_sales")], &product[at("net")]), ("-2.50", "-2.50"));
        let stock = rows.iter().find(|r| &r[0] == "stock").unwrap();
        assert_eq!((&stock[at("key")], &stock[at("units")]), ("'=S2", "-1"));
    }
}
