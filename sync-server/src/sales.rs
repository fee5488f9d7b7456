//! The sales ledger: sales with their lines and tenders, returns with their lines, till closes.
//! A return is linked to its sale by the sale's record id, whichever arrives first; over-returns
//! and returns of sales head office has not received are flagged, never refused.

use std::collections::{BTreeMap, BTreeSet};

use shared_model::{Record, RecordBody, RecordId};
use sqlx::AnyConnection;

use crate::alerts::{self, Alert, Kind};
use crate::db::{Db, Value, from_i64, insert_rows, list_placeholders, lock_keys, parse, placeholder};

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
                touched_sales.insert(record.id);
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
                    ret.online_order.map(|n| crate::db::to_i64("online_order", n.get())).transpose()?.into(),
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
                    touched_sales.insert(original.sale);
                }
                if !ret.verified {
                    let message = format!(
                        "return {} at {} was taken without checking its sale{}",
                        record.id,
                        record.store,
                        original.map(|o| format!(" {} of {}", o.sale, o.store)).unwrap_or_default()
                    );
                    let alert = Alert {
                        location: Some(record.store.clone()),
                        record_id: Some(record.id),
                        message,
                        ..Alert::default()
                    };
                    let alert = match original {
                        Some(o) => alert.says(
                            "return_unverified_of",
                            &[
                                ("record", &record.id),
                                ("store", &record.store),
                                ("sale", &o.sale),
                                ("sale_store", &o.store),
                            ],
                        ),
                        None => alert
                            .says("return_unverified", &[("record", &record.id), ("store", &record.store)]),
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
        "online_order",
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

/// What was returned of a line of a sale, all returns together.
#[derive(Debug, sqlx::FromRow)]
struct ReturnedRow {
    original_sale: String,
    original_line: i64,
    returned: i64,
}

/// A line of a sale, as returns are checked against it.
#[derive(Debug, sqlx::FromRow)]
struct SaleLineRow {
    record_id: String,
    line_no: i64,
    quantity: i64,
}

/// Compares what was returned of each line of these sales with what was sold. The sales are
/// locked first: a sale and its return, or two returns of it, pushed at the same moment by
/// different registers then see each other's rows instead of each judging alone.
#[tracing::instrument(skip_all)]
async fn check_returns(conn: &mut AnyConnection, sales: &[RecordId]) -> sqlx::Result<()> {
    let keys: Vec<String> = sales.iter().map(|s| format!("sale:{s}")).collect();
    lock_keys(conn, &keys).await?;
    for chunk in sales.chunks(500) {
        let list = list_placeholders(placeholder(conn), 1, chunk.len());
        let sql = format!(
            "SELECT original_sale, original_line, CAST(SUM(quantity) AS BIGINT) AS returned FROM return_lines
             WHERE original_sale IN ({list}) AND original_line IS NOT NULL GROUP BY original_sale, original_line"
        );
        let mut query = sqlx::query_as::<_, ReturnedRow>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.to_string());
        }
        let returned = query.fetch_all(&mut *conn).await?;
        if returned.is_empty() {
            continue;
        }
        let sql = format!("SELECT record_id, line_no, quantity FROM sale_lines WHERE record_id IN ({list})");
        let mut query = sqlx::query_as::<_, SaleLineRow>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.to_string());
        }
        let sold: BTreeMap<(RecordId, i64), i64> = query
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| Ok(((parse("sale_lines.record_id", &row.record_id)?, row.line_no), row.quantity)))
            .collect::<sqlx::Result<_>>()?;
        for row in returned {
            let sale: RecordId = parse("return_lines.original_sale", &row.original_sale)?;
            let (line, returned) = (row.original_line, row.returned);
            let subject = format!("{sale}/{line}");
            // Said as the receipt counts lines, from 1; the subject keeps the ledger's index.
            let shown = line + 1;
            let (message, said) = match sold.get(&(sale, line)) {
                Some(&quantity) if returned <= quantity => {
                    alerts::resolve(conn, Kind::OverReturn, &subject).await?;
                    continue;
                }
                Some(&quantity) => (
                    format!("{returned} returned of line {shown} of sale {sale}, which sold {quantity}"),
                    Alert::default().says(
                        "over_return_sale",
                        &[("returned", &returned), ("line", &shown), ("sale", &sale), ("sold", &quantity)],
                    ),
                ),
                None => (
                    format!(
                        "{returned} returned of line {shown} of sale {sale}, which head office has not received"
                    ),
                    Alert::default().says(
                        "over_return_unknown_sale",
                        &[("returned", &returned), ("line", &shown), ("sale", &sale)],
                    ),
                ),
            };
            let alert = Alert { record_id: Some(sale), message, ..said };
            alerts::raise(conn, Kind::OverReturn, &subject, alert).await?;
        }
    }
    Ok(())
}

/// What was returned of one line of a sale, all returns together.
#[derive(Debug, sqlx::FromRow)]
struct LineReturnedRow {
    original_line: i64,
    returned: i64,
}

/// Units returned so far of each line of a sale, by line number.
#[tracing::instrument(skip_all)]
pub async fn returned_of(db: &Db, sale: &RecordId) -> sqlx::Result<BTreeMap<u16, i64>> {
    let mut conn = db.pool().acquire().await?;
    returned_of_sale(&mut conn, sale).await
}

/// [`returned_of`], in the caller's transaction.
pub async fn returned_of_sale(conn: &mut AnyConnection, sale: &RecordId) -> sqlx::Result<BTreeMap<u16, i64>> {
    let rows: Vec<LineReturnedRow> = sqlx::query_as(
        "SELECT original_line, CAST(SUM(quantity) AS BIGINT) AS returned FROM return_lines
         WHERE original_sale = $1 AND original_line IS NOT NULL GROUP BY original_line",
    )
    .bind(sale.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| Ok((from_i64("return_lines.original_line", row.original_line)?, row.returned)))
        .collect()
}

/// A sale as a claim about its receipt sees it: its store and lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub store: String,
    pub lines: Vec<ReceiptLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReceiptLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    /// What the customer paid for the line, taxes included.
    pub paid: i64,
}

/// The sale `sale`, if head office has it.
pub async fn receipt(conn: &mut AnyConnection, sale: &RecordId) -> sqlx::Result<Option<Receipt>> {
    let store: Option<String> = sqlx::query_scalar("SELECT store FROM sales WHERE record_id = $1")
        .bind(sale.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(store) = store else { return Ok(None) };
    let lines = sqlx::query_as(
        "SELECT line_no, sku, quantity, CAST(net + gst + qst AS BIGINT) AS paid FROM sale_lines
         WHERE record_id = $1 ORDER BY line_no",
    )
    .bind(sale.to_string())
    .fetch_all(conn)
    .await?;
    Ok(Some(Receipt { store, lines }))
}

/// Units returned so far of each line of an online order, at every store, by line number.
#[tracing::instrument(skip_all)]
pub async fn returned_of_order(conn: &mut AnyConnection, order: i64) -> sqlx::Result<BTreeMap<u16, i64>> {
    let rows: Vec<LineReturnedRow> = sqlx::query_as(
        "SELECT l.original_line, CAST(SUM(l.quantity) AS BIGINT) AS returned
         FROM return_lines l JOIN returns r ON r.record_id = l.record_id
         WHERE r.online_order = $1 AND l.original_line IS NOT NULL GROUP BY l.original_line",
    )
    .bind(order)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| Ok((from_i64("return_lines.original_line", row.original_line)?, row.returned)))
        .collect()
}

/// Sales and returns counted per store: what head office must hold exactly once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Ledger {
    pub sales: i64,
    pub returns: i64,
    pub collected: i64,
    pub refunded: i64,
}

/// Sales (or returns) of a store: how many, and what they came to, cash rounding included.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, sqlx::FromRow)]
struct StoreCountRow {
    store: String,
    n: i64,
    paid: i64,
}

/// The tests' oracle: what each store sold and took back, counted straight from the tables.
#[cfg(any(test, feature = "testing"))]
#[tracing::instrument(skip_all)]
pub async fn ledger_by_store(db: &Db) -> sqlx::Result<BTreeMap<String, Ledger>> {
    let mut out: BTreeMap<String, Ledger> = BTreeMap::new();
    let sales: Vec<StoreCountRow> = sqlx::query_as(
        "SELECT store, COUNT(*) AS n, CAST(SUM(total + rounding) AS BIGINT) AS paid FROM sales GROUP BY store",
    )
    .fetch_all(db.pool())
    .await?;
    for row in sales {
        let entry = out.entry(row.store).or_default();
        entry.sales = row.n;
        entry.collected = row.paid;
    }
    let returns: Vec<StoreCountRow> = sqlx::query_as(
        "SELECT store, COUNT(*) AS n, CAST(SUM(total + rounding) AS BIGINT) AS paid FROM returns GROUP BY store",
    )
    .fetch_all(db.pool())
    .await?;
    for row in returns {
        let entry = out.entry(row.store).or_default();
        entry.returns = row.n;
        entry.refunded = row.paid;
    }
    Ok(out)
}
