//! The sales ledger: sales with their lines and tenders, returns with their lines, till closes.
//! A return is linked to its sale by the sale's record id, whichever arrives first; over-returns
//! and returns of sales head office has not received are flagged, never refused.

use std::collections::{BTreeMap, BTreeSet};

use shared_model::{Record, RecordBody};
use sqlx::{AnyConnection, Row};

use crate::alerts::{self, Alert, Kind};
use crate::db::{Db, Value, insert_rows, list_placeholders, lock_keys, placeholder};

/// Writes the sales, returns and till closes among `records` (all new to the server).
#[tracing::instrument(skip_all)]
pub async fn apply(conn: &mut AnyConnection, records: &[&Record]) -> sqlx::Result<()> {
    let (mut sales, mut lines, mut tenders) = (Vec::new(), Vec::new(), Vec::new());
    let (mut returns, mut return_lines, mut closes) = (Vec::new(), Vec::new(), Vec::new());
    let mut touched_sales = BTreeSet::new();
    for record in records {
        let id = record.id.to_string();
        match &record.body {
            RecordBody::Sale(sale) => {
                let t = sale.totals;
                sales.push(vec![
                    Value::from(id.as_str()),
                    record.store.as_str().into(),
                    record.origin.as_str().into(),
                    sale.business_day.to_string().into(),
                    i64::from(sale.cashier.get()).into(),
                    t.gross.as_cents().into(),
                    t.discounts.as_cents().into(),
                    t.net.as_cents().into(),
                    t.gst.as_cents().into(),
                    t.qst.as_cents().into(),
                    t.total.as_cents().into(),
                    t.rounding.as_cents().into(),
                    t.change.as_cents().into(),
                ]);
                for (no, line) in sale.lines.iter().enumerate() {
                    let a = line.amounts().unwrap_or_default();
                    lines.push(vec![
                        Value::from(id.as_str()),
                        crate::db::to_i64("line index", no)?.into(),
                        line.sku.as_str().into(),
                        i64::from(line.quantity.get()).into(),
                        line.unit_price.as_cents().into(),
                        a.net.as_cents().into(),
                        a.taxes.gst.as_cents().into(),
                        a.taxes.qst.as_cents().into(),
                    ]);
                }
                for (idx, tender) in sale.tenders.iter().enumerate() {
                    tenders.push(vec![
                        Value::from(id.as_str()),
                        crate::db::to_i64("line index", idx)?.into(),
                        tender.kind().as_str().into(),
                        tender.amount().as_cents().into(),
                    ]);
                }
                touched_sales.insert(id.clone());
            }
            RecordBody::Return(ret) => {
                let t = ret.totals;
                let original = ret.original.as_ref();
                returns.push(vec![
                    Value::from(id.as_str()),
                    record.store.as_str().into(),
                    record.origin.as_str().into(),
                    ret.business_day.to_string().into(),
                    original.map(|o| o.sale.to_string()).into(),
                    original.map(|o| o.store.to_string()).into(),
                    ret.verified.into(),
                    serde_json::to_value(ret.reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                        .into(),
                    t.net.as_cents().into(),
                    t.gst.as_cents().into(),
                    t.qst.as_cents().into(),
                    t.total.as_cents().into(),
                    t.rounding.as_cents().into(),
                ]);
                for (idx, line) in ret.lines.iter().enumerate() {
                    let linked = original.filter(|_| line.original_line.is_some());
                    return_lines.push(vec![
                        Value::from(id.as_str()),
                        crate::db::to_i64("line index", idx)?.into(),
                        linked.map(|o| o.sale.to_string()).into(),
                        line.original_line.map(i64::from).into(),
                        line.sku.as_str().into(),
                        i64::from(line.quantity.get()).into(),
                        line.refund.net.as_cents().into(),
                        line.restock.into(),
                    ]);
                }
                if let Some(original) = original {
                    touched_sales.insert(original.sale.to_string());
                }
                if !ret.verified {
                    let message = format!(
                        "return {} at {} was taken without checking its sale{}",
                        record.id,
                        record.store,
                        original.map(|o| format!(" {} of {}", o.sale, o.store)).unwrap_or_default()
                    );
                    let alert = Alert {
                        location: Some(record.store.to_string()),
                        record_id: Some(id.clone()),
                        message,
                        ..Alert::default()
                    };
                    alerts::raise(conn, Kind::UnverifiedReturn, &id, alert).await?;
                }
            }
            RecordBody::TillClosed(close) => closes.push(vec![
                Value::from(id.as_str()),
                record.store.as_str().into(),
                record.origin.as_str().into(),
                close.business_day.to_string().into(),
                i64::from(close.sales_count).into(),
                i64::from(close.returns_count).into(),
                close.expected_cash.as_cents().into(),
                close.counted_cash.map(|m| m.as_cents()).into(),
            ]),
            _ => {}
        }
    }
    const SALE: &[&str] = &[
        "record_id",
        "store",
        "register_id",
        "business_day",
        "cashier",
        "gross",
        "discounts",
        "net",
        "gst",
        "qst",
        "total",
        "rounding",
        "change_given",
    ];
    const RETURN: &[&str] = &[
        "record_id",
        "store",
        "register_id",
        "business_day",
        "original_sale",
        "original_store",
        "verified",
        "reason",
        "net",
        "gst",
        "qst",
        "total",
        "rounding",
    ];
    insert_rows(conn, "sales", SALE, sales, "").await?;
    insert_rows(
        conn,
        "sale_lines",
        &["record_id", "line_no", "sku", "quantity", "unit_price", "net", "gst", "qst"],
        lines,
        "",
    )
    .await?;
    insert_rows(conn, "sale_tenders", &["record_id", "idx", "kind", "amount"], tenders, "").await?;
    insert_rows(conn, "returns", RETURN, returns, "").await?;
    insert_rows(
        conn,
        "return_lines",
        &["record_id", "idx", "original_sale", "original_line", "sku", "quantity", "net", "restock"],
        return_lines,
        "",
    )
    .await?;
    insert_rows(
        conn,
        "till_closes",
        &[
            "record_id",
            "store",
            "register_id",
            "business_day",
            "sales_count",
            "returns_count",
            "expected_cash",
            "counted_cash",
        ],
        closes,
        "",
    )
    .await?;
    check_returns(conn, &touched_sales.into_iter().collect::<Vec<_>>()).await
}

/// Compares what was returned of each line of these sales with what was sold. The sales are
/// locked first: a sale and its return, or two returns of it, pushed at the same moment by
/// different registers then see each other's rows instead of each judging alone.
#[tracing::instrument(skip_all)]
async fn check_returns(conn: &mut AnyConnection, sales: &[String]) -> sqlx::Result<()> {
    let keys: Vec<String> = sales.iter().map(|s| format!("sale:{s}")).collect();
    lock_keys(conn, &keys).await?;
    for chunk in sales.chunks(500) {
        let list = list_placeholders(placeholder(conn), 1, chunk.len());
        let sql = format!(
            "SELECT original_sale, original_line, CAST(SUM(quantity) AS BIGINT) AS returned FROM return_lines
             WHERE original_sale IN ({list}) AND original_line IS NOT NULL GROUP BY original_sale, original_line"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        let returned = query.fetch_all(&mut *conn).await?;
        if returned.is_empty() {
            continue;
        }
        let sql = format!("SELECT record_id, line_no, quantity FROM sale_lines WHERE record_id IN ({list})");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        let sold: BTreeMap<(String, i64), i64> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok(((r.try_get("record_id")?, r.try_get("line_no")?), r.try_get("quantity")?)))
            .collect::<sqlx::Result<_>>()?;
        for row in returned {
            let sale: String = row.try_get("original_sale")?;
            let line: i64 = row.try_get("original_line")?;
            let returned: i64 = row.try_get("returned")?;
            let subject = format!("{sale}/{line}");
            let message = match sold.get(&(sale.clone(), line)) {
                Some(&quantity) if returned <= quantity => {
                    alerts::resolve(conn, Kind::OverReturn, &subject).await?;
                    continue;
                }
                Some(&quantity) => {
                    format!("{returned} returned of line {line} of sale {sale}, which sold {quantity}")
                }
                None => format!(
                    "{returned} returned of line {line} of sale {sale}, which head office has not received"
                ),
            };
            let alert = Alert { record_id: Some(sale.clone()), message, ..Alert::default() };
            alerts::raise(conn, Kind::OverReturn, &subject, alert).await?;
        }
    }
    Ok(())
}

/// Units returned so far of each line of a sale.
#[tracing::instrument(skip_all)]
pub async fn returned_of(db: &Db, sale: &str) -> sqlx::Result<BTreeMap<i64, i64>> {
    let rows = sqlx::query(
        "SELECT original_line, CAST(SUM(quantity) AS BIGINT) AS returned FROM return_lines
         WHERE original_sale = $1 AND original_line IS NOT NULL GROUP BY original_line",
    )
    .bind(sale)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("original_line")?, r.try_get("returned")?))).collect()
}

/// Sales and returns counted per store: what head office must hold exactly once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Ledger {
    pub sales: i64,
    pub returns: i64,
    pub collected: i64,
    pub refunded: i64,
}

#[tracing::instrument(skip_all)]
pub async fn ledger_by_store(db: &Db) -> sqlx::Result<BTreeMap<String, Ledger>> {
    let mut out: BTreeMap<String, Ledger> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT store, COUNT(*) AS n, CAST(SUM(total + rounding) AS BIGINT) AS paid FROM sales GROUP BY store",
    )
    .fetch_all(db.pool())
    .await?
    {
        let entry = out.entry(row.try_get("store")?).or_default();
        entry.sales = row.try_get("n")?;
        entry.collected = row.try_get("paid")?;
    }
    for row in sqlx::query(
        "SELECT store, COUNT(*) AS n, CAST(SUM(total + rounding) AS BIGINT) AS paid FROM returns GROUP BY store",
    )
    .fetch_all(db.pool())
    .await?
    {
        let entry = out.entry(row.try_get("store")?).or_default();
        entry.returns = row.try_get("n")?;
        entry.refunded = row.try_get("paid")?;
    }
    Ok(out)
}
