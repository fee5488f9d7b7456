//! The event store: claims' events, appended and never changed.
//!
//! Each event has its stream (the claim), its version in the stream, a global position, a
//! type, its data and who caused it in which request, when. [`append`] takes the version the
//! caller read: if another event was appended since, it answers [`Appended::Conflict`] and
//! writes nothing. Appends to one stream take turns (a lock on the stream's key on
//! PostgreSQL; SQLite has one writer), so the version read is still the stream's when the
//! events are written. Positions come from [`crate::commit_order`]: appends to different
//! streams never wait for each other, and a projector reading past its checkpoint only gets
//! positions below the horizon of ended transactions, so it never skips a late commit.
//!
//! # Formats
//!
//! An event's data is stored with the format it was written in. A format only grows; reading
//! an older one goes through [`upcast`], which fills in what it lacks, so old events replay
//! without ever being rewritten. Format 1 of `submitted` named the customer's address `email`
//! and had no `language` (all customers were written to in French). Formats 1 and 2 counted a
//! claim's lines from 0; format 3 counts them from 1, as the register and the receipt do.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{AnyConnection, FromRow};

use super::model::Event;
use crate::audit::Actor;
use crate::commit_order;
use crate::db::{corrupt, now_ms, to_i64};

/// The format events are written in now.
pub const FORMAT: i64 = 3;

/// An event as stored, with its place and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub position: i64,
    pub stream: String,
    pub version: i64,
    pub event: Event,
    pub actor: String,
    pub request_id: Option<String>,
    pub at_ms: i64,
}

/// An event as a claim's page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub position: i64,
    pub version: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub actor: String,
    pub request_id: Option<String>,
    pub at_ms: i64,
}

impl From<&Stored> for EventView {
    fn from(stored: &Stored) -> EventView {
        let (kind, data) =
            split(&stored.event).unwrap_or_else(|_| (stored.event.name().to_owned(), Value::Null));
        EventView {
            position: stored.position,
            version: stored.version,
            kind,
            data,
            actor: stored.actor.clone(),
            request_id: stored.request_id.clone(),
            at_ms: stored.at_ms,
        }
    }
}

#[derive(Debug, FromRow)]
struct EventRow {
    position: i64,
    stream: String,
    version: i64,
    #[sqlx(rename = "type")]
    kind: String,
    format: i64,
    data: String,
    actor: String,
    request_id: Option<String>,
    at_ms: i64,
}

const COLUMNS: &str = "position, stream, version, type, format, data, actor, request_id, at_ms";

/// An event's type and data, as stored.
fn split(event: &Event) -> serde_json::Result<(String, Value)> {
    let mut value = serde_json::to_value(event)?;
    let kind = value.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    let data = value.get_mut("data").map(Value::take).unwrap_or(Value::Null);
    Ok((kind, data))
}

/// Brings the data of an event of type `kind` written in `format` up to [`FORMAT`].
pub fn upcast(kind: &str, format: i64, mut data: Value) -> Value {
    if kind == "submitted"
        && format < 2
        && let Some(fields) = data.as_object_mut()
    {
        if let Some(email) = fields.remove("email") {
            fields.insert("contact_email".into(), email);
        }
        fields.entry("language").or_insert_with(|| json!("fr"));
    }
    if kind == "submitted"
        && format < 3
        && let Some(lines) = data.get_mut("lines").and_then(Value::as_array_mut)
    {
        for line in lines {
            if let Some(index) = line.get("line").and_then(Value::as_u64) {
                line["line"] = json!(index + 1);
            }
        }
    }
    data
}

fn decode(row: EventRow) -> sqlx::Result<Stored> {
    let data: Value = serde_json::from_str(&row.data).map_err(|e| corrupt("claim_events.data", e))?;
    let data = upcast(&row.kind, row.format, data);
    let mut tagged = json!({ "type": row.kind });
    if !data.is_null() {
        tagged["data"] = data;
    }
    let event: Event = serde_json::from_value(tagged).map_err(|e| {
        corrupt(
            "claim_events.data",
            format!("event {} ({}, format {}): {e}", row.position, row.kind, row.format),
        )
    })?;
    Ok(Stored {
        position: row.position,
        stream: row.stream,
        version: row.version,
        event,
        actor: row.actor,
        request_id: row.request_id,
        at_ms: row.at_ms,
    })
}

/// Every event of `stream`, in order.
pub async fn load(conn: &mut AnyConnection, stream: &str) -> sqlx::Result<Vec<Stored>> {
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM claim_events WHERE stream = $1 ORDER BY version"
    )))
    .bind(stream)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// The first event of `stream` (the claim's filing), which projectors read for what later
/// events do not repeat.
pub async fn first(conn: &mut AnyConnection, stream: &str) -> sqlx::Result<Option<Stored>> {
    let row: Option<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM claim_events WHERE stream = $1 AND version = 1"
    )))
    .bind(stream)
    .fetch_optional(conn)
    .await?;
    row.map(decode).transpose()
}

/// Up to `limit` events after global position `after`, in order, all of them final (below
/// the horizon of ended transactions). It does not wait for the horizon: a projector calls it
/// inside its own transaction, which itself holds the horizon back; what is not final yet
/// comes in its next batch.
pub async fn after(conn: &mut AnyConnection, after: i64, limit: i64) -> sqlx::Result<Vec<Stored>> {
    let horizon = commit_order::horizon(conn).await?;
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM claim_events WHERE position > $1 AND position < $3 ORDER BY position LIMIT $2"
    )))
    .bind(after)
    .bind(limit)
    .bind(horizon)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// The newest committed position (0 before the first event).
pub async fn head(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM claim_events")
        .fetch_one(conn)
        .await
}

/// How many events come after position `after`: positions are in commit order but not
/// consecutive, so this is counted, not subtracted.
pub async fn count_after(conn: &mut AnyConnection, after: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM claim_events WHERE position > $1")
        .bind(after)
        .fetch_one(conn)
        .await
}

/// What [`append`] did.
#[derive(Debug)]
pub enum Appended {
    Done(Vec<Stored>),
    /// The stream is at `current`, not at the version the caller read.
    Conflict {
        current: i64,
    },
}

/// Appends `events` to `stream`, which the caller read at version `expected` (0 for a new
/// stream). Appends to the same stream wait for this transaction to end.
pub async fn append(
    conn: &mut AnyConnection,
    stream: &str,
    expected: i64,
    events: &[Event],
    actor: &Actor,
) -> sqlx::Result<Appended> {
    if events.is_empty() {
        return Ok(Appended::Done(Vec::new()));
    }
    let count = to_i64("events appended at once", events.len())?;
    // A racing append on the same stream waits here, then sees this one's events below.
    crate::db::lock_keys(conn, &[format!("claim_events:{stream}")]).await?;
    let first =
        commit_order::take(conn, "claim_events", "position", ("claim_clock", "position"), count).await?;
    let current: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM claim_events WHERE stream = $1",
    )
    .bind(stream)
    .fetch_one(&mut *conn)
    .await?;
    if current != expected {
        return Ok(Appended::Conflict { current });
    }
    let at_ms = now_ms();
    let mut stored = Vec::with_capacity(events.len());
    for (i, event) in (0_i64..).zip(events) {
        let (kind, data) = split(event).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let position = first + i;
        let version = expected + 1 + i;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO claim_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(position)
        .bind(stream)
        .bind(version)
        .bind(&kind)
        .bind(FORMAT)
        .bind(data.to_string())
        .bind(&actor.username)
        .bind(actor.request_id.clone())
        .bind(at_ms)
        .execute(&mut *conn)
        .await?;
        stored.push(Stored {
            position,
            stream: stream.to_owned(),
            version,
            event: event.clone(),
            actor: actor.username.clone(),
            request_id: actor.request_id.clone(),
            at_ms,
        });
    }
    Ok(Appended::Done(stored))
}

/// Writes an event in an older format, as an earlier version of the server did: only for
/// tests of the upcaster, which must read what is already stored.
#[cfg(any(test, feature = "testing"))]
pub async fn append_raw(
    conn: &mut AnyConnection,
    stream: &str,
    version: i64,
    kind: &str,
    format: i64,
    data: &Value,
    at_ms: i64,
) -> sqlx::Result<i64> {
    let position =
        commit_order::take(conn, "claim_events", "position", ("claim_clock", "position"), 1).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO claim_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 'system', NULL, $7)"
    )))
    .bind(position)
    .bind(stream)
    .bind(version)
    .bind(kind)
    .bind(format)
    .bind(data.to_string())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::model::{Kind, Subject};

    #[test]
    fn a_format_1_filing_reads_as_today_s() {
        let old = json!({
            "subject": { "channel": "store", "receipt": "01J0000000000000000000000" },
            "store": "MTL1",
            "kind": "damaged_item",
            "lines": [],
            "description": "cracked",
            "email": "paul@example.com",
            "contact_name": "Paul",
        });
        let row = EventRow {
            position: 1,
            stream: "R-1".into(),
            version: 1,
            kind: "submitted".into(),
            format: 1,
            data: old.to_string(),
            actor: "system".into(),
            request_id: None,
            at_ms: 5,
        };
        let stored = decode(row).unwrap();
        let Event::Submitted { contact_email, language, kind, subject, .. } = stored.event else { panic!() };
        assert_eq!(contact_email.as_deref(), Some("paul@example.com"));
        assert_eq!(language, "fr");
        assert_eq!(kind, Kind::DamagedItem);
        assert_eq!(subject, Subject::Store { receipt: "01J0000000000000000000000".into() });
    }

    #[test]
    fn a_format_2_filing_counts_its_lines_from_1() {
        let old = json!({
            "subject": { "channel": "online", "order": 7, "customer": 1 },
            "store": "WEB",
            "kind": "damaged_item",
            "lines": [{ "line": 0, "sku": "A", "quantity": 1 }, { "line": 2, "sku": "C", "quantity": 2 }],
            "description": "cracked",
            "contact_email": null,
            "contact_name": "Paul",
            "language": "en",
        });
        let row = EventRow {
            position: 1,
            stream: "R-1".into(),
            version: 1,
            kind: "submitted".into(),
            format: 2,
            data: old.to_string(),
            actor: "system".into(),
            request_id: None,
            at_ms: 5,
        };
        let Event::Submitted { lines, .. } = decode(row).unwrap().event else { panic!() };
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn events_without_data_round_trip() {
        for event in [Event::Started, Event::Closed, Event::Assigned { agent: "marie".into() }] {
            let (kind, data) = split(&event).unwrap();
            let row = EventRow {
                position: 1,
                stream: "R-1".into(),
                version: 2,
                kind,
                format: FORMAT,
                data: data.to_string(),
                actor: "marie".into(),
                request_id: None,
                at_ms: 5,
            };
            assert_eq!(decode(row).unwrap().event, event);
        }
    }
}
