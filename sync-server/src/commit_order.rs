//! Positions that readers can follow in commit order, without a row every writer takes.
//!
//! # Why
//!
//! The change feed and the claims' event log are read by cursor: a reader asks for what comes
//! after the last position it saw. A position handed out when a row is written is not enough:
//! on PostgreSQL a reader can see position 7 committed while 6 is still open, move past 6 and
//! never see it. The old answer was a clock row that every writer updated and held until its
//! commit, so writers took turns; under load every checkout and every push queued on it.
//!
//! # How (PostgreSQL)
//!
//! A row's position is its transaction's id shifted left by [`SHIFT`] bits, plus its order in
//! that transaction: `(pg_current_xact_id() << 24) + n`. Transaction ids are handed out in
//! order, and every transaction whose id is below the oldest one still open has ended
//! (`pg_snapshot_xmin(pg_current_snapshot())`, counting only this database's sessions). So a reader delivers only positions below `xmin << 24`, the [`horizon`]: every
//! row there is final, and a row committed later belongs to a transaction at or past `xmin`,
//! at a higher position than anything delivered. Writers share nothing but the transaction id
//! counter, which PostgreSQL hands out without locks. (The idea is the one PostgreSQL event
//! stores use, with the transaction id and the order kept in one `BIGINT`, so cursors stay a
//! single number on the wire.)
//!
//! The order inside a transaction is found from the rows it already wrote (the largest
//! position in its own range): a transaction sees its own rows, and no other can write there.
//! 24 bits allow 16 million rows per transaction; 64 − 24 leave 2^39 transaction ids, some
//! 17 years at a thousand writing transactions a second. Past either, writing fails with an
//! error that says so, never a position out of order.
//!
//! # SQLite
//!
//! SQLite has one writer at a time: a counter row is enough, and nothing waits on it that
//! would not wait anyway. [`horizon`] is then unbounded.

use sqlx::AnyConnection;

/// Bits of a position below the transaction id.
pub const SHIFT: u32 = 24;
/// Largest transaction id a position can carry.
const MAX_XID: i64 = (1 << (63 - SHIFT)) - 1;

/// Whether `conn` speaks to PostgreSQL.
pub fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() != "SQLite"
}

/// `count` new positions for rows of `table` (whose position column is `column`), taken in
/// the current transaction; the first one is returned, the others follow it.
///
/// On SQLite the positions come from `clock_table`'s single row, `clock_column`.
pub async fn take(
    conn: &mut AnyConnection,
    table: &'static str,
    column: &'static str,
    (clock_table, clock_column): (&'static str, &'static str),
    count: i64,
) -> sqlx::Result<i64> {
    if !is_postgres(conn) {
        let sql = format!(
            "UPDATE {clock_table} SET {clock_column} = {clock_column} + $1 WHERE id = 1 RETURNING {clock_column}"
        );
        let top: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(count).fetch_one(&mut *conn).await?;
        return Ok(top - count + 1);
    }
    let sql = format!(
        "WITH me AS (SELECT pg_current_xact_id()::text::bigint AS xid)
         SELECT me.xid, (SELECT MAX({column}) FROM {table}
                         WHERE {column} >= (me.xid << {SHIFT}) AND {column} < ((me.xid + 1) << {SHIFT})) AS top
         FROM me"
    );
    let (xid, top): (i64, Option<i64>) =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await?;
    if xid > MAX_XID {
        return Err(out_of_positions(format!("transaction id {xid} is past what a position can carry")));
    }
    let base = xid << SHIFT;
    let first = top.map_or(base, |top| top + 1);
    if first - base + count > 1 << SHIFT {
        return Err(out_of_positions(format!(
            "one transaction may write at most {} rows of {table}",
            1i64 << SHIFT
        )));
    }
    Ok(first)
}

/// The position below which every row of a committed transaction is final: what a reader may
/// deliver. Unbounded on SQLite.
pub async fn horizon(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    if !is_postgres(conn) {
        return Ok(i64::MAX);
    }
    // The oldest transaction still open *in this database* (a transaction elsewhere in the
    // cluster, a long test or a backup on another database, cannot write these rows and must
    // not hold the horizon back, as `pg_snapshot_xmin` alone would): the snapshot's open
    // transactions, kept if `pg_stat_activity`, read after the snapshot was taken, shows one of
    // this database's sessions still in it (it holds 32-bit ids, hence the modulo). A
    // transaction that ended between the two reads is final before the rows are read. With none
    // open, the snapshot's next transaction id.
    let sql = format!(
        "WITH snap AS (SELECT pg_current_snapshot() AS s),
              here AS (SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
                       WHERE datname = current_database() AND backend_xid IS NOT NULL)
         SELECT COALESCE(
             (SELECT MIN(open::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS open
              WHERE open::text::bigint % 4294967296 IN (SELECT xid FROM here)),
             (SELECT pg_snapshot_xmax(snap.s)::text::bigint FROM snap)) << {SHIFT}"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(conn).await
}

/// Waits (briefly) until the horizon passes `position`: a reader that sees a committed row
/// beyond the horizon waits for the older transactions still open to end, so that what a
/// client wrote and saw committed is in its next read. Gives up after five seconds: a long
/// transaction holds the horizon back, and the reader then gets the rows before it (the
/// rest come in a later read).
pub async fn wait_past(conn: &mut AnyConnection, position: i64) -> sqlx::Result<i64> {
    let mut pause = std::time::Duration::from_millis(1);
    let mut waited = std::time::Duration::ZERO;
    loop {
        let horizon = horizon(conn).await?;
        if horizon > position || waited >= std::time::Duration::from_secs(5) {
            return Ok(horizon);
        }
        tokio::time::sleep(pause).await;
        waited += pause;
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
    }
}

fn out_of_positions(message: String) -> sqlx::Error {
    sqlx::Error::Protocol(message)
}
