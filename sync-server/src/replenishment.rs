//! Replenishment (UC2): a store asks the logistics centre for goods with a record; logistics
//! approves or rejects; an approval ships a transfer out of the logistics centre's stock. The
//! decision and the transfer reach the store on its next pull, and the store's receipt of the
//! transfer comes back as a record that puts the goods into its stock.

use std::collections::BTreeMap;

use shared_model::protocol::{Change, Decision, ReplenishmentDecision, TransferNotice};
use shared_model::stock::ItemQuantity;
use shared_model::{LocationCode, Record, RecordBody, RecordId};
use sqlx::AnyConnection;

use crate::alerts::{self, Alert, Kind};
use crate::db::{Db, Value, corrupt, insert_rows, lock_keys, now_ms, parse};
use crate::feed::{self, Entry};
use crate::inventory::{self, Move};

mod views;

use views::{RequestRow, TransferListRow, names_of, pick};
pub use views::{RequestView, TransferView};

/// Why a decision could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is refused; `field` names it.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    #[error("{0}")]
    NotFound(String),
    /// Already decided.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[tracing::instrument(skip_all)]
pub async fn apply(conn: &mut AnyConnection, records: &[&Record]) -> sqlx::Result<()> {
    let rows: Vec<Vec<Value>> = records
        .iter()
        .filter_map(|r| match &r.body {
            RecordBody::ReplenishmentRequested(request) => Some((r, request)),
            _ => None,
        })
        .map(|(r, request)| {
            Ok(vec![
                Value::from(r.id.to_string()),
                r.store.as_str().into(),
                crate::db::to_i64("hlc.wall_ms", r.hlc.wall_ms)?.into(),
                serde_json::to_string(&request.lines).map_err(|e| sqlx::Error::Encode(Box::new(e)))?.into(),
                request.note.clone().into(),
                "pending".into(),
            ])
        })
        .collect::<sqlx::Result<_>>()?;
    let numbered: Vec<Vec<Value>> = rows.iter().map(|row| vec![row[0].clone()]).collect();
    insert_rows(
        conn,
        "replenishment_requests",
        &["record_id", "store", "requested_ms", "lines", "note", "status"],
        rows,
        "",
    )
    .await?;
    insert_rows(conn, "replenishment_numbers", &["record_id"], numbered, "").await?;
    check_receipts(conn, records).await
}

/// Records each transfer receipt and flags a transfer received twice, received in other
/// quantities than were shipped, or never shipped through head office. The stock the receipt
/// puts on the shelf stays: the goods are there; a person sorts out the difference.
#[tracing::instrument(skip_all)]
async fn check_receipts(conn: &mut AnyConnection, records: &[&Record]) -> sqlx::Result<()> {
    let receipts: Vec<(&Record, &shared_model::stock::TransferReceipt)> = records
        .iter()
        .filter_map(|r| match &r.body {
            RecordBody::TransferReceived(receipt) => Some((*r, receipt)),
            _ => None,
        })
        .collect();
    if receipts.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = receipts.iter().map(|(_, t)| format!("transfer:{}", t.transfer)).collect();
    lock_keys(conn, &keys).await?;
    let rows = receipts
        .iter()
        .map(|(r, t)| {
            let lines = serde_json::to_string(&t.lines).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            Ok(vec![
                Value::from(r.id.to_string()),
                t.transfer.to_string().into(),
                r.store.as_str().into(),
                lines.into(),
            ])
        })
        .collect::<sqlx::Result<_>>()?;
    insert_rows(conn, "transfer_receipts", &["record_id", "transfer", "store", "lines"], rows, "").await?;
    for (record, receipt) in receipts {
        let transfer = receipt.transfer.to_string();
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) AS n FROM transfer_receipts WHERE transfer = $1")
                .bind(&transfer)
                .fetch_one(&mut *conn)
                .await?;
        let shipped: Option<TransferRow> =
            sqlx::query_as("SELECT to_loc, lines FROM transfers WHERE id = $1")
                .bind(&transfer)
                .fetch_optional(&mut *conn)
                .await?;
        let received: std::collections::BTreeMap<String, u32> =
            receipt.lines.iter().map(|l| (l.sku.to_string(), l.quantity.get())).collect();
        let number = transfer_number(conn, &transfer).await?;
        let problem = match shipped {
            _ if count > 1 => Some((
                format!("transfer {transfer} was received {count} times"),
                Alert::default().says("transfer_received_twice", &[("transfer", &number), ("times", &count)]),
            )),
            None => Some((
                format!(
                    "transfer {transfer} received at {} was never shipped through head office",
                    record.store
                ),
                Alert::default()
                    .says("transfer_never_shipped", &[("transfer", &transfer), ("store", &record.store)]),
            )),
            Some(row) => {
                let (to, lines) = row.into_domain()?;
                let sent: std::collections::BTreeMap<String, u32> =
                    lines.iter().map(|l| (l.sku.to_string(), l.quantity.get())).collect();
                if to != record.store {
                    Some((
                        format!("transfer {transfer} was shipped to {to} but received at {}", record.store),
                        Alert::default().says(
                            "transfer_wrong_store",
                            &[("transfer", &number), ("to", &to), ("store", &record.store)],
                        ),
                    ))
                } else if sent != received {
                    Some((
                        format!("transfer {transfer} was received in other quantities than were shipped"),
                        Alert::default().says("transfer_other_quantities", &[("transfer", &number)]),
                    ))
                } else {
                    None
                }
            }
        };
        if let Some((message, said)) = problem {
            let alert =
                Alert { location: Some(record.store.clone()), record_id: Some(record.id), message, ..said };
            alerts::raise(conn, Kind::TransferMismatch, &transfer, alert).await?;
        }
    }
    Ok(())
}

/// A transfer shipped: where to, and what.
#[derive(Debug, sqlx::FromRow)]
struct TransferRow {
    to_loc: String,
    lines: String,
}

impl TransferRow {
    fn into_domain(self) -> sqlx::Result<(LocationCode, Vec<ItemQuantity>)> {
        let lines = serde_json::from_str(&self.lines).map_err(|e| corrupt("transfers.lines", e))?;
        Ok((parse("transfers.to_loc", &self.to_loc)?, lines))
    }
}

/// The columns of a [`RequestRow`], in a query's select or returning list.
const REQUEST_COLUMNS: &str = "record_id, store, requested_ms, lines, note, status, decided_by";

/// Replenishment requests with `status` (pending, approved or rejected; all when `None`),
/// oldest first.
#[tracing::instrument(skip_all)]
pub async fn requests(db: &Db, status: Option<&str>) -> anyhow::Result<Vec<RequestView>> {
    let rows: Vec<RequestRow> = sqlx::query_as(
        "SELECT r.record_id, r.store, r.requested_ms, r.lines, r.note, r.status, r.decided_by, n.number
         FROM replenishment_requests r LEFT JOIN replenishment_numbers n ON n.record_id = r.record_id
         WHERE ($1 = '' OR r.status = $1) ORDER BY r.requested_ms, r.record_id",
    )
    .bind(status.unwrap_or_default())
    .fetch_all(db.pool())
    .await?;
    let mut views: Vec<RequestView> =
        rows.into_iter().map(RequestView::try_from).collect::<sqlx::Result<_>>()?;
    let names = names_of(db, views.iter().flat_map(|v| &v.lines)).await?;
    for view in &mut views {
        view.names = pick(&names, &view.lines);
    }
    Ok(views)
}

/// A transfer's short number (T-7), or its id when it has none (one never shipped through
/// head office).
async fn transfer_number(conn: &mut AnyConnection, transfer: &str) -> sqlx::Result<String> {
    let number: Option<i64> = sqlx::query_scalar("SELECT number FROM transfer_numbers WHERE transfer = $1")
        .bind(transfer)
        .fetch_optional(conn)
        .await?;
    Ok(number.map_or_else(|| transfer.to_owned(), |n| format!("T-{n}")))
}

fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Error {
    Error::Invalid { field: field.into(), detail: detail.into() }
}

/// The lines an approval ships: the request's, or the quantities logistics typed instead
/// (`approved`: SKU and units, 0 to leave a line out): only products the store asked for, and
/// no more of each than it asked for.
fn approved_lines(
    requested: &[ItemQuantity],
    approved: Option<&[(shared_model::Sku, u32)]>,
) -> Result<Vec<ItemQuantity>, Error> {
    let Some(approved) = approved else { return Ok(requested.to_vec()) };
    let mut lines = Vec::new();
    for (index, (sku, units)) in approved.iter().enumerate() {
        let Some(asked) = requested.iter().find(|l| l.sku == *sku) else {
            return Err(invalid(format!("lines[{index}].sku"), format!("the store did not ask for {sku}")));
        };
        if *units > asked.quantity.get() {
            return Err(invalid(
                format!("lines[{index}].quantity"),
                format!("the store asked for {} of {sku}: approve that many or fewer", asked.quantity.get()),
            ));
        }
        if approved[..index].iter().any(|(other, _)| other == sku) {
            return Err(invalid(format!("lines[{index}].sku"), format!("{sku} is listed twice")));
        }
        if *units > 0 {
            let quantity = shared_model::Quantity::new(*units)
                .map_err(|e| invalid(format!("lines[{index}].quantity"), e.to_string()))?;
            lines.push(ItemQuantity { sku: sku.clone(), quantity });
        }
    }
    if lines.is_empty() {
        return Err(invalid("lines", "approve at least one unit, or reject the request"));
    }
    Ok(lines)
}

/// Records logistics' decision on a request; an approval ships a transfer out of `logistics`,
/// of the quantities asked for or of those given in `approved`. A rejection says why.
#[tracing::instrument(skip_all)]
pub async fn decide_request(
    db: &Db,
    request: RecordId,
    decision: Decision,
    note: Option<String>,
    approved: Option<&[(shared_model::Sku, u32)]>,
    actor: &crate::audit::Actor,
    logistics: &LocationCode,
) -> Result<ReplenishmentDecision, Error> {
    let by = actor.username.as_str();
    if decision == Decision::Rejected && note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(invalid("note", "say why the request is rejected"));
    }
    if decision == Decision::Rejected && approved.is_some() {
        return Err(invalid("lines", "a rejection ships nothing: leave lines out"));
    }
    let mut tx = db.begin().await?;
    // Claiming the row with a conditional update makes two deciders race safely: one wins.
    let status = match decision {
        Decision::Approved => "approved",
        Decision::Rejected => "rejected",
    };
    let claimed: Option<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE replenishment_requests SET status = $1, decided_by = $2, decided_ms = $3, decision_note = $4
         WHERE record_id = $5 AND status = 'pending' RETURNING {REQUEST_COLUMNS}"
    )))
    .bind(status)
    .bind(by)
    .bind(now_ms())
    .bind(note.clone())
    .bind(request.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = claimed else {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT status FROM replenishment_requests WHERE record_id = $1")
                .bind(request.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        return Err(match exists {
            Some(_) => Error::Conflict(format!("request {request} has already been decided")),
            None => Error::NotFound(format!("no replenishment request {request}")),
        });
    };
    let RequestView { store, lines, .. } = RequestView::try_from(row)?;
    let mut entries = Vec::new();
    let mut transfer = None;
    if decision == Decision::Approved {
        let lines = approved_lines(&lines, approved)?;
        let (id, _, shipped) = ship(&mut tx, logistics, &store, lines, None).await?;
        transfer = Some(id);
        entries.extend(shipped);
    }
    let answer = ReplenishmentDecision { request, store: store.clone(), decision, transfer, note };
    let change = crate::audit::Change::new("replenishment.decide", format!("request:{request}"))
        .before(serde_json::json!({ "status": "pending", "store": store, "lines": lines }))
        .after(&answer);
    crate::audit::record(&mut tx, actor, change).await?;
    entries.push(Entry {
        kind: "replenishment",
        key: request.to_string(),
        audience: Some(store.clone()),
        change: Change::ReplenishmentDecision(answer.clone()),
    });
    feed::publish(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Ships a transfer: the goods leave `from` at once and reach `to` when its register records
/// their receipt. `from` must hold every unit beyond what online orders hold aside: a shipment
/// never sends what it does not have (a conflict). Answers the transfer's id, when it shipped,
/// and the feed entries to publish (the levels that moved, and the notice to the receiving
/// store).
async fn ship(
    conn: &mut AnyConnection,
    from: &LocationCode,
    to: &LocationCode,
    lines: Vec<ItemQuantity>,
    started_by: Option<&str>,
) -> Result<(uuid::Uuid, i64, Vec<Entry>), Error> {
    let wanted: Vec<(shared_model::Sku, i64)> =
        lines.iter().map(|l| (l.sku.clone(), i64::from(l.quantity.get()))).collect();
    if let Some((index, available)) = inventory::claim_for_shipping(conn, from, &wanted).await? {
        let (sku, units) = &wanted[index];
        return Err(Error::Conflict(format!(
            "{from} has {available} of {sku} it can send (what online orders hold aside excluded), \
             not {units} (lines[{index}])"
        )));
    }
    let id = uuid::Uuid::now_v7();
    let moves: Vec<Move> = lines
        .iter()
        .map(|l| Move {
            location: from.clone(),
            sku: l.sku.clone(),
            delta: -i64::from(l.quantity.get()),
            kind: "transfer_out",
            record_id: None,
        })
        .collect();
    let mut entries = inventory::apply(conn, &moves).await?;
    let shipped = now_ms();
    sqlx::query(
        "INSERT INTO transfers (id, from_loc, to_loc, lines, shipped_ms, started_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(serde_json::to_string(&lines).map_err(anyhow::Error::from)?)
    .bind(shipped)
    .bind(started_by)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO transfer_numbers (transfer) VALUES ($1)")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    entries.push(Entry {
        kind: "transfer",
        key: id.to_string(),
        audience: Some(to.clone()),
        change: Change::Transfer(TransferNotice {
            transfer: id,
            from: from.clone(),
            to: to.clone(),
            lines,
            // Exact: `now_ms` is never negative.
            shipped_ms: shipped.unsigned_abs(),
        }),
    });
    Ok((id, shipped, entries))
}

/// A transfer head office started (a redistribution from a store that has the product, or a
/// replenishment from the logistics centre, often from a critical-stock alert), shipped like
/// an approved request's.
#[tracing::instrument(skip_all)]
pub async fn start_transfer(
    db: &Db,
    from: &LocationCode,
    to: &LocationCode,
    lines: Vec<ItemQuantity>,
    actor: &crate::audit::Actor,
) -> Result<TransferView, Error> {
    let by = actor.username.as_str();
    if from == to {
        return Err(invalid("to", "a transfer goes to another location"));
    }
    if lines.is_empty() {
        return Err(invalid("lines", "a transfer ships at least one line"));
    }
    if let Some(index) = (1..lines.len()).find(|&i| lines[..i].iter().any(|l| l.sku == lines[i].sku)) {
        return Err(invalid(format!("lines[{index}].sku"), format!("{} is listed twice", lines[index].sku)));
    }
    let names = pick(&names_of(db, lines.iter()).await?, &lines);
    let mut tx = db.begin().await?;
    let (id, shipped_ms, entries) = ship(&mut tx, from, to, lines.clone(), Some(by)).await?;
    let number: Option<i64> = sqlx::query_scalar("SELECT number FROM transfer_numbers WHERE transfer = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    let view = TransferView {
        id: id.to_string(),
        number,
        from: from.to_string(),
        to: to.to_string(),
        lines,
        shipped_ms,
        received: false,
        started_by: Some(by.to_owned()),
        names,
    };
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::Change::new("transfer.start", format!("transfer:{id}")).after(&view),
    )
    .await?;
    feed::publish(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(view)
}

/// Transfers, newest first; only those not received yet when `open_only`.
#[tracing::instrument(skip_all)]
pub async fn transfers(db: &Db, open_only: bool, limit: u32) -> Result<Vec<TransferView>, Error> {
    let rows: Vec<TransferListRow> = sqlx::query_as(
        "SELECT t.id, t.from_loc, t.to_loc, t.lines, t.shipped_ms, t.started_by,
                (SELECT COUNT(*) FROM transfer_receipts r WHERE r.transfer = t.id) AS receipts, n.number
         FROM transfers t LEFT JOIN transfer_numbers n ON n.transfer = t.id
         WHERE $2 = 0 OR NOT EXISTS (SELECT 1 FROM transfer_receipts r WHERE r.transfer = t.id)
         ORDER BY t.shipped_ms DESC, t.id LIMIT $1",
    )
    .bind(i64::from(limit))
    .bind(i64::from(open_only))
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push(TransferView {
            lines: serde_json::from_str(&row.lines).map_err(|e| corrupt("transfers.lines", e))?,
            id: row.id,
            from: row.from_loc,
            to: row.to_loc,
            shipped_ms: row.shipped_ms,
            received: row.receipts > 0,
            started_by: row.started_by,
            number: row.number,
            names: BTreeMap::new(),
        });
    }
    let names = names_of(db, out.iter().flat_map(|t| &t.lines)).await?;
    for view in &mut out {
        view.names = pick(&names, &view.lines);
    }
    Ok(out)
}
