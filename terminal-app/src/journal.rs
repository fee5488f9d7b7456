//! The journal: every record this register made, in seq order. It is the outbox too: a record
//! stays `pending` until head office holds it, and nothing is ever deleted.

use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};
use shared_model::{Hlc, LocationCode, Record, RecordBody, RecordId, RegisterId};

use crate::clock::Clock;
use crate::error::{Result, corrupt};
use crate::store::{set_setting, setting_u64};

/// Writes a new record inside the caller's transaction: the next seq, a fresh hybrid stamp,
/// a UUIDv7. The record is checked before it is written, as the server will check it.
pub fn append(
    conn: &Connection,
    clock: &dyn Clock,
    register: &RegisterId,
    store: &LocationCode,
    body: RecordBody,
) -> Result<Record> {
    let seq = setting_u64(conn, "next_seq")?.max(1);
    let now = clock.now_ms();
    let last = Hlc::new(
        setting_u64(conn, "hlc_wall")?,
        u32::try_from(setting_u64(conn, "hlc_counter")?).unwrap_or(0),
    );
    let hlc = last.tick(now);
    let record = Record {
        id: RecordId::from_parts(now, rand::rng().random()),
        origin: register.clone(),
        seq,
        hlc,
        device_time_ms: now,
        store: store.clone(),
        body,
    };
    record.check().map_err(|e| crate::error::RegisterError::Rejected(e.to_string()))?;
    conn.execute(
        "INSERT INTO journal (seq, id, kind, created_ms, content) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            i64::try_from(seq).map_err(corrupt)?,
            record.id.to_string(),
            record.body.kind(),
            i64::try_from(now).map_err(corrupt)?,
            record.encode()
        ],
    )?;
    set_setting(conn, "next_seq", &(seq + 1).to_string())?;
    remember_hlc(conn, hlc)?;
    Ok(record)
}

pub fn remember_hlc(conn: &Connection, hlc: Hlc) -> Result<()> {
    set_setting(conn, "hlc_wall", &hlc.wall_ms.to_string())?;
    set_setting(conn, "hlc_counter", &hlc.counter.to_string())
}

/// The oldest pending records, at most `limit`, in their wire form.
pub fn pending(conn: &Connection, limit: usize) -> Result<Vec<(u64, String)>> {
    let mut statement =
        conn.prepare("SELECT seq, content FROM journal WHERE status = 'pending' ORDER BY seq LIMIT ?1")?;
    let rows = statement.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|r| {
        let (seq, content) = r?;
        Ok((u64::try_from(seq).map_err(corrupt)?, content))
    })
    .collect()
}

/// Head office holds every seq up to `holds`: those records are safe.
pub fn mark_held(conn: &Connection, holds: u64, now: u64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE journal SET status = 'held', settled_ms = ?2 WHERE status = 'pending' AND seq <= ?1",
        params![i64::try_from(holds).map_err(corrupt)?, i64::try_from(now).map_err(corrupt)?],
    )?)
}

/// The highest seq head office holds, as this register knows it.
pub fn last_held(conn: &Connection) -> Result<u64> {
    let seq: Option<i64> =
        conn.query_row("SELECT MAX(seq) FROM journal WHERE status = 'held'", [], |r| r.get(0))?;
    Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
}

/// Held records up to `upto` whose effect head office's pulled figures now include.
pub fn mark_reflected(conn: &Connection, upto: u64) -> Result<()> {
    conn.execute(
        "UPDATE journal SET reflected = 1 WHERE status = 'held' AND reflected = 0 AND seq <= ?1",
        params![i64::try_from(upto).map_err(corrupt)?],
    )?;
    Ok(())
}

/// Records head office does not hold yet.
pub fn pending_records(conn: &Connection) -> Result<Vec<Record>> {
    let mut statement = conn.prepare("SELECT content FROM journal WHERE status = 'pending' ORDER BY seq")?;
    let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|c| Record::decode(c?.as_bytes()).map_err(corrupt)).collect()
}

/// Records whose stock effect head office's pulled figures do not include yet.
pub fn unreflected(conn: &Connection) -> Result<Vec<Record>> {
    let mut statement = conn.prepare(
        "SELECT content FROM journal WHERE status = 'pending' OR (status = 'held' AND reflected = 0) ORDER BY seq",
    )?;
    let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|c| Record::decode(c?.as_bytes()).map_err(corrupt)).collect()
}

/// Head office holds seqs of this register up to `holds`: new records start after them. Only
/// a till restored from an older copy of its file is ever behind.
pub fn skip_past(conn: &Connection, holds: u64) -> Result<()> {
    if setting_u64(conn, "next_seq")? <= holds {
        set_setting(conn, "next_seq", &(holds + 1).to_string())?;
    }
    Ok(())
}

/// Gives a pending record the next free seq and a fresh stamp, keeping its id and body.
pub fn renumber(conn: &Connection, clock: &dyn Clock, seq: u64) -> Result<Record> {
    let old = i64::try_from(seq).map_err(corrupt)?;
    let content: String = conn.query_row(
        "SELECT content FROM journal WHERE seq = ?1 AND status = 'pending'",
        params![old],
        |r| r.get(0),
    )?;
    let mut record = Record::decode(content.as_bytes()).map_err(corrupt)?;
    let next = setting_u64(conn, "next_seq")?.max(seq + 1);
    let last = Hlc::new(
        setting_u64(conn, "hlc_wall")?,
        u32::try_from(setting_u64(conn, "hlc_counter")?).unwrap_or(0),
    );
    record.seq = next;
    record.hlc = last.tick(clock.now_ms());
    record.check().map_err(|e| crate::error::RegisterError::Rejected(e.to_string()))?;
    conn.execute(
        "UPDATE journal SET seq = ?1, content = ?2 WHERE seq = ?3",
        params![i64::try_from(next).map_err(corrupt)?, record.encode(), old],
    )?;
    set_setting(conn, "next_seq", &(next + 1).to_string())?;
    remember_hlc(conn, record.hlc)?;
    Ok(record)
}

/// Head office refused this record: it stays in the journal, shown with its reason.
pub fn mark_rejected(conn: &Connection, seq: u64, reason: &str, now: u64) -> Result<()> {
    conn.execute(
        "UPDATE journal SET status = 'rejected', reason = ?2, settled_ms = ?3 WHERE seq = ?1 AND status = 'pending'",
        params![i64::try_from(seq).map_err(corrupt)?, reason, i64::try_from(now).map_err(corrupt)?],
    )?;
    Ok(())
}

/// Pending records, and when the oldest of them was made.
pub fn backlog(conn: &Connection) -> Result<(u64, Option<u64>)> {
    let (count, oldest): (i64, Option<i64>) =
        conn.query_row("SELECT COUNT(*), MIN(created_ms) FROM journal WHERE status = 'pending'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok((u64::try_from(count).unwrap_or(0), oldest.and_then(|o| u64::try_from(o).ok())))
}

/// Records head office refused, with their reasons, newest first.
pub fn rejected(conn: &Connection) -> Result<Vec<(u64, String, String)>> {
    let mut statement = conn.prepare(
        "SELECT seq, kind, COALESCE(reason, '') FROM journal WHERE status = 'rejected' ORDER BY seq DESC",
    )?;
    let rows = statement
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    rows.map(|r| {
        let (seq, kind, reason) = r?;
        Ok((u64::try_from(seq).map_err(corrupt)?, kind, reason))
    })
    .collect()
}

/// A record of the journal, by id.
pub fn record(conn: &Connection, id: &RecordId) -> Result<Option<Record>> {
    let content: Option<String> = conn
        .query_row("SELECT content FROM journal WHERE id = ?1", params![id.to_string()], |r| r.get(0))
        .optional()?;
    content.map(|c| Record::decode(c.as_bytes()).map_err(corrupt)).transpose()
}

/// The record this register made with sequence number `seq`, if the journal has it.
pub fn by_seq(conn: &Connection, seq: u64) -> Result<Option<Record>> {
    let Ok(seq) = i64::try_from(seq) else { return Ok(None) };
    let content: Option<String> = conn
        .query_row("SELECT content FROM journal WHERE seq = ?1", params![seq], |r| r.get(0))
        .optional()?;
    content.map(|c| Record::decode(c.as_bytes()).map_err(corrupt)).transpose()
}

/// Every record of the journal, in seq order.
pub fn all(conn: &Connection) -> Result<Vec<Record>> {
    let mut statement = conn.prepare("SELECT content FROM journal ORDER BY seq")?;
    let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|c| Record::decode(c?.as_bytes()).map_err(corrupt)).collect()
}
