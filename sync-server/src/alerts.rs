//! Alerts for head office: what the merge could not fix and a person should look at, and
//! what an attacker tried that a person should know of (an account locked by guessing).
//! Nothing recorded at a till is refused for a business rule: it is accepted and flagged here.
//! An alert is keyed by its kind and subject, so raising it twice keeps one open alert.
//!
//! What an alert says travels as a code and its parameters (`stock_negative`, `{sku,
//! location, quantity}`) that the pages word in their reader's language; `message` keeps the
//! same in English for the logs and other readers of the API.

use serde::Serialize;
use shared_model::{LocationCode, RecordId, Sku};
use sqlx::AnyConnection;

use crate::db::{Db, now_ms, parse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stock below zero: two tills sold the last unit while offline, or a count is wrong.
    NegativeStock,
    /// Stock at or under its reorder threshold.
    LowStock,
    /// More returned of a sale line than was sold, or a return of a sale not (yet) known.
    OverReturn,
    /// A return taken offline that the register could not check against its sale.
    UnverifiedReturn,
    /// A register's clock disagrees with its hybrid clock or with the server.
    ClockSkew,
    /// A transfer received twice, received in other quantities than shipped, or not known.
    TransferMismatch,
    /// A record names a product the catalogue does not have.
    UnknownSku,
    /// A record names a location the chain does not have.
    UnknownLocation,
    /// A record's business day is far from when its register stamped it.
    ImpossibleDay,
    /// A refund owed to a shopper's card that the processor refused, or that head office
    /// could not honour (an online order returned at a store that was not shipped, or is
    /// already refunded in full).
    RefundFailed,
    /// A message to a customer that the mail server refused for good (a bad address).
    MailFailed,
    /// A head-office or shop account locked after a guessing campaign from many addresses
    /// (`subject`: `user:NAME` or `shopper:EMAIL`).
    AccountLocked,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NegativeStock => "negative_stock",
            Kind::LowStock => "low_stock",
            Kind::OverReturn => "over_return",
            Kind::UnverifiedReturn => "unverified_return",
            Kind::ClockSkew => "clock_skew",
            Kind::TransferMismatch => "transfer_mismatch",
            Kind::UnknownSku => "unknown_sku",
            Kind::UnknownLocation => "unknown_location",
            Kind::ImpossibleDay => "impossible_day",
            Kind::RefundFailed => "refund_failed",
            Kind::MailFailed => "mail_failed",
            Kind::AccountLocked => "account_locked",
        }
    }
}

#[derive(Debug, Default)]
pub struct Alert {
    pub location: Option<LocationCode>,
    pub sku: Option<Sku>,
    pub record_id: Option<RecordId>,
    /// The English sentence.
    pub message: String,
    /// What the sentence says, for the pages to word: a code (empty: the kind's) and its
    /// parameters, all strings (amounts in cents, counts in digits).
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl Alert {
    /// The alert's code and its parameters (named as the pages' wording names them).
    pub fn says(
        mut self,
        code: &'static str,
        params: &[(&'static str, &(dyn std::fmt::Display + Sync))],
    ) -> Alert {
        self.code = code;
        self.params = params.iter().map(|(name, value)| (*name, value.to_string())).collect();
        self
    }
}

/// Opens (or re-opens, or updates) the alert `kind` about `subject`.
#[tracing::instrument(skip_all)]
pub async fn raise(conn: &mut AnyConnection, kind: Kind, subject: &str, alert: Alert) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO alerts (kind, subject, location, sku, record_id, message, raised_ms, resolved_ms, code, params)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)
         ON CONFLICT (kind, subject) DO UPDATE SET message = excluded.message, code = excluded.code,
             params = excluded.params,
             raised_ms = CASE WHEN alerts.resolved_ms IS NULL THEN alerts.raised_ms ELSE excluded.raised_ms END,
             acknowledged_by = CASE WHEN alerts.resolved_ms IS NULL THEN alerts.acknowledged_by ELSE NULL END,
             acknowledged_ms = CASE WHEN alerts.resolved_ms IS NULL THEN alerts.acknowledged_ms ELSE NULL END,
             resolved_ms = NULL",
    )
    .bind(kind.as_str())
    .bind(subject)
    .bind(alert.location.map(String::from))
    .bind(alert.sku.map(String::from))
    .bind(alert.record_id.map(|id| id.to_string()))
    .bind(alert.message)
    .bind(now_ms())
    .bind(if alert.code.is_empty() { kind.as_str() } else { alert.code })
    .bind(serde_json::Value::Object(
        alert.params.into_iter().map(|(name, value)| (name.to_owned(), value.into())).collect(),
    )
    .to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes the alert `kind` about `subject`, if one is open.
#[tracing::instrument(skip_all)]
pub async fn resolve(conn: &mut AnyConnection, kind: Kind, subject: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE alerts SET resolved_ms = $1 WHERE kind = $2 AND subject = $3 AND resolved_ms IS NULL",
    )
    .bind(now_ms())
    .bind(kind.as_str())
    .bind(subject)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub kind: String,
    pub subject: String,
    #[schema(value_type = Option<String>)]
    pub location: Option<LocationCode>,
    #[schema(value_type = Option<String>)]
    pub sku: Option<Sku>,
    #[schema(value_type = Option<String>)]
    pub record_id: Option<RecordId>,
    /// In English; the pages word `code` and `params` instead.
    pub message: String,
    /// What the alert says, as a code the pages word in their language (`stock_negative`,
    /// `over_return_unknown_sale`…); the kind itself for an alert raised before codes existed.
    pub code: String,
    /// The code's parameters by name, as strings (amounts in cents).
    #[schema(value_type = Object)]
    pub params: std::collections::BTreeMap<String, String>,
    pub raised_ms: i64,
    pub resolved_ms: Option<i64>,
    /// Who said they are on it, and when.
    pub acknowledged_by: Option<String>,
    pub acknowledged_ms: Option<i64>,
}

/// A row of `alerts`.
#[derive(Debug, sqlx::FromRow)]
struct AlertRow {
    kind: String,
    subject: String,
    location: Option<String>,
    sku: Option<String>,
    record_id: Option<String>,
    message: String,
    code: String,
    params: String,
    raised_ms: i64,
    resolved_ms: Option<i64>,
    acknowledged_by: Option<String>,
    acknowledged_ms: Option<i64>,
}

impl TryFrom<AlertRow> for AlertView {
    type Error = sqlx::Error;

    fn try_from(row: AlertRow) -> sqlx::Result<AlertView> {
        let code = if row.code.is_empty() { row.kind.clone() } else { row.code };
        Ok(AlertView {
            kind: row.kind,
            subject: row.subject,
            location: row.location.map(|l| parse("alerts.location", &l)).transpose()?,
            sku: row.sku.map(|s| parse("alerts.sku", &s)).transpose()?,
            record_id: row.record_id.map(|r| parse("alerts.record_id", &r)).transpose()?,
            message: row.message,
            code,
            params: serde_json::from_str(&row.params).map_err(|e| crate::db::corrupt("alerts.params", e))?,
            raised_ms: row.raised_ms,
            resolved_ms: row.resolved_ms,
            acknowledged_by: row.acknowledged_by,
            acknowledged_ms: row.acknowledged_ms,
        })
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, open_only: bool, kind: Option<&str>) -> sqlx::Result<Vec<AlertView>> {
    let rows: Vec<AlertRow> = sqlx::query_as(
        "SELECT kind, subject, location, sku, record_id, message, code, params, raised_ms, resolved_ms,
                acknowledged_by, acknowledged_ms FROM alerts
         WHERE ($1 = 0 OR resolved_ms IS NULL) AND ($2 = '' OR kind = $2) ORDER BY raised_ms DESC, kind, subject",
    )
    .bind(i64::from(open_only))
    .bind(kind.unwrap_or(""))
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(AlertView::try_from).collect()
}

/// Notes that `by` has seen the open alert `kind` about `subject` and is on it. It stays open
/// until its cause goes away; raised again after that, it needs a new acknowledgement.
/// False when there is no such open alert.
#[tracing::instrument(skip_all)]
pub async fn acknowledge(db: &Db, kind: &str, subject: &str, by: &str) -> sqlx::Result<bool> {
    let done = db
        .write(
            sqlx::query(
                "UPDATE alerts SET acknowledged_by = $1, acknowledged_ms = $2
                 WHERE kind = $3 AND subject = $4 AND resolved_ms IS NULL",
            )
            .bind(by)
            .bind(now_ms())
            .bind(kind)
            .bind(subject),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}
