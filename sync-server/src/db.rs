//! The database handle: one `sqlx` Any pool over SQLite (the default) or PostgreSQL.
//!
//! Every query is written once, with `$1`-style placeholders that both engines read, and only
//! the column types both engines share (BIGINT, TEXT, BOOLEAN). The differences between the two
//! engines live here and in the two migration folders, nowhere else:
//! - how a write transaction starts ([`Db::begin`]): SQLite allows one writer at a time, so
//!   writers queue on a fair in-process lock and then take SQLite's write lock at once
//!   (`BEGIN IMMEDIATE`); left to SQLite's busy handler, they would sleep and retry with
//!   growing pauses (seen here: a 7-second p99 with four registers pushing);
//! - which migrations run, and how an auto-increment key is declared in them;
//! - how instances tell each other of a change ([`Db::notify`], [`Db::listen`]): PostgreSQL's
//!   `LISTEN/NOTIFY`; a SQLite file has one instance, which has no one to tell.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::audit::AuditKey;

/// A write transaction; on SQLite it also holds the process's writer turn until it ends.
#[derive(Debug)]
pub struct Tx {
    tx: Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
    /// What [`crate::audit::record`] signs its entries with.
    audit_key: AuditKey,
}

impl Tx {
    pub fn audit_key(&self) -> &AuditKey {
        &self.audit_key
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// How long a pooled connection may sit idle and still be handed out without a ping.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// A pool's check before it hands out a connection. sqlx pings every connection by default:
/// a second round trip, and two more wake-ups, for each read (BENCHMARKS.md). A connection
/// used in the last second is trusted as it is; one idle longer is still checked, so a
/// database restart during a quiet spell costs no request.
fn ping_if_idle<C: sqlx::Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = sqlx::Result<bool>> + Send + '_>> {
    Box::pin(async move {
        if meta.idle_for >= IDLE_BEFORE_PING {
            conn.ping().await?;
        }
        Ok(true)
    })
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/server-sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/server-postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    /// SQLite's writers take turns here (tokio's mutex is fair: first come, first served).
    writer: Arc<Mutex<()>>,
    /// Where it connected: a listener opens a connection of its own.
    url: Url,
    /// Head office's audit key. Until [`Db::with_audit_key`] a random one of this handle's own
    /// (for tests): the server and its tools always set head office's.
    audit_key: AuditKey,
}

/// A database URL, kept out of `Debug` output: it may hold a password.
#[derive(Clone)]
struct Url(Arc<str>);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Url(…)")
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a SQLite file and its
    /// folder if they do not exist, and runs the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://, not {url:?}");
        };
        let url = match engine {
            Engine::Sqlite => sqlite_url(url)?,
            Engine::Postgres => url.to_owned(),
        };
        let options =
            AnyConnectOptions::from_str(&url).with_context(|| format!("bad DATABASE_URL {url:?}"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match engine {
                Engine::Sqlite => max_connections.min(8),
                Engine::Postgres => max_connections,
            })
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .before_acquire(ping_if_idle)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets readers work beside the writer; a busy writer is waited for.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA busy_timeout = 30000",
                            "PRAGMA foreign_keys = ON",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the database at {url}"))?;
        let migrator = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.context("migrating the database")?;
        Ok(Db {
            pool,
            engine,
            writer: Arc::new(Mutex::new(())),
            url: Url(url.into()),
            audit_key: AuditKey::random(),
        })
    }

    /// This handle with head office's audit key (`crate::audit::open_key`).
    pub fn with_audit_key(mut self, key: AuditKey) -> Db {
        self.audit_key = key;
        self
    }

    pub fn audit_key(&self) -> &AuditKey {
        &self.audit_key
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// See [`placeholder`].
    pub fn placeholder(&self) -> char {
        match self.engine {
            Engine::Sqlite => '?',
            Engine::Postgres => '$',
        }
    }

    /// Starts a transaction that will write.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        match self.engine {
            Engine::Sqlite => {
                let turn = self.writer.clone().lock_owned().await;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx { tx, _turn: Some(turn), audit_key: self.audit_key.clone() })
            }
            Engine::Postgres => {
                Ok(Tx { tx: self.pool.begin().await?, _turn: None, audit_key: self.audit_key.clone() })
            }
        }
    }

    /// Runs one writing statement in a transaction of its own (so SQLite writers take turns).
    pub async fn write(&self, query: Query<'_>) -> sqlx::Result<sqlx::any::AnyQueryResult> {
        let mut tx = self.begin().await?;
        let done = query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Tells every instance listening on `channel` (this one included) `payload`, on
    /// PostgreSQL; on SQLite there is no other instance to tell.
    pub async fn notify(&self, channel: &str, payload: &str) -> sqlx::Result<()> {
        if self.engine == Engine::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// The payloads [`Db::notify`] sends on `channel`, on a connection of its own that is
    /// opened again if it drops (`None` on SQLite: nothing ever arrives). What is sent while
    /// it is down is lost: a listener must cope with a missed notification.
    pub async fn listen(&self, channel: &str) -> sqlx::Result<Option<sqlx::postgres::PgListener>> {
        if self.engine != Engine::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url.0).await?;
        listener.listen(channel).await?;
        Ok(Some(listener))
    }

    /// A pool of `connections` PostgreSQL connections of the driver's own, without the Any
    /// layer, for a read so frequent that converting its rows cost a fifth of the server's
    /// time (the product list's readers, `catalogue::listing`); `None` on SQLite. Connections
    /// open when first used.
    pub fn native_postgres(&self, connections: u32) -> Option<sqlx::PgPool> {
        if self.engine != Engine::Postgres {
            return None;
        }
        let options = match sqlx::postgres::PgConnectOptions::from_str(&self.url.0) {
            Ok(options) => options,
            Err(e) => {
                tracing::warn!(error = %e, "the native driver cannot read DATABASE_URL: product list pages are read one at a time");
                return None;
            }
        };
        Some(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .before_acquire(ping_if_idle)
                .connect_lazy_with(options),
        )
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://data/caisse.db` → an absolute URL that creates the file, after creating its folder.
fn sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!("the server needs a SQLite file, not an in-memory database");
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let query = if query.is_empty() { "mode=rwc".to_owned() } else { format!("{query}&mode=rwc") };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The placeholder sign for statements built at run time: PostgreSQL numbers them (`$1`);
/// SQLite gets anonymous `?`, bound in order. A numbered SQLite parameter is a *name*, and
/// binding looks each name up by a linear scan (`sqlite3_bind_parameter_name`), which made a
/// 12 000-value insert take 185 ms; anonymous ones bind in constant time.
pub fn placeholder(conn: &AnyConnection) -> char {
    if conn.backend_name() == "SQLite" { '?' } else { '$' }
}

/// `($1, $2, $3), ($4, $5, $6)` (or `(?, ?, ?), …`): placeholders for a multi-row insert of `rows` × `columns`.
pub fn values_placeholders(sign: char, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 7);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push(sign);
            if sign == '$' {
                sql.push_str(&(row * columns + column + 1).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// `$from, $from+1, …` (or `?, ?, …`): a list of `count` placeholders for `IN (…)`.
pub fn list_placeholders(sign: char, from: usize, count: usize) -> String {
    let one = |i: usize| if sign == '$' { format!("${i}") } else { "?".to_owned() };
    (from..from + count).map(one).collect::<Vec<_>>().join(", ")
}

/// Makes transactions that touch the same keys (a sale and its returns, a transfer and its
/// receipts) take turns until they commit, so each sees what the other wrote. PostgreSQL takes a
/// transaction-scoped advisory lock per key, in sorted order so that two transactions cannot
/// deadlock; SQLite's writers already take turns.
pub async fn lock_keys(conn: &mut AnyConnection, keys: &[String]) -> sqlx::Result<()> {
    if conn.backend_name() == "SQLite" || keys.is_empty() {
        return Ok(());
    }
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let values: Vec<Vec<Value>> = keys.into_iter().map(|k| vec![Value::Text(k)]).collect();
    let (source, values) = rows_source('$', &values);
    let sql = format!(
        "SELECT pg_advisory_xact_lock(hashtext(v)) FROM (SELECT v FROM ({source}) AS t(v) ORDER BY v) AS sorted"
    );
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values).execute(&mut *conn).await?;
    Ok(())
}

/// Rows per multi-row statement: SQLite binds at most 32 766 values, PostgreSQL 65 535.
/// On PostgreSQL a [`rows_source`] takes any number of rows in one statement.
pub fn rows_per_statement(sign: char, columns: usize, rows: usize) -> usize {
    if sign == '$' { rows.max(1) } else { (30_000 / columns).max(1) }
}

/// Where an `INSERT … SELECT` or a join takes `rows` from: `VALUES (?, ?), (?, ?)` on SQLite;
/// on PostgreSQL `SELECT * FROM unnest($1::bigint[], $2::text[], …)`, one array per column.
/// The PostgreSQL statement's text is the same whatever the batch's size, so each connection
/// parses and plans it once, where a multi-row `VALUES` of thousands of parameters was a new
/// statement for every batch size, and its parameters are a handful instead of thousands.
/// sqlx's `Any` driver binds no arrays: each column is bound as the text of an array literal
/// and cast. A column whose rows mix numbers and text (never in this code) falls back to
/// `VALUES`, which is right on both engines. `rows` must not be empty.
pub fn rows_source(sign: char, rows: &[Vec<Value>]) -> (String, Vec<Value>) {
    let values = || rows.iter().flatten().cloned().collect();
    let columns = rows.first().map_or(0, Vec::len);
    let values_list = || format!("VALUES {}", values_placeholders(sign, rows.len(), columns));
    if sign != '$' {
        return (values_list(), values());
    }
    let kinds: Vec<ArrayKind> = rows[0].iter().map(ArrayKind::of).collect();
    if rows
        .iter()
        .any(|row| row.len() != columns || row.iter().zip(&kinds).any(|(v, k)| ArrayKind::of(v) != *k))
    {
        return (values_list(), values());
    }
    let arrays =
        (0..columns).map(|column| Value::Text(array_literal(rows.iter().map(|row| &row[column])))).collect();
    let casts = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| format!("${}::{}", i + 1, kind.sql()))
        .collect::<Vec<_>>()
        .join(", ");
    (format!("SELECT * FROM unnest({casts})"), arrays)
}

/// A PostgreSQL array's element type, as [`bind_all`] binds each [`Value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayKind {
    BigInt,
    Text,
}

impl ArrayKind {
    fn of(value: &Value) -> ArrayKind {
        match value {
            Value::Int(_) | Value::Bool(_) | Value::NullInt => ArrayKind::BigInt,
            Value::Text(_) | Value::NullText => ArrayKind::Text,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            ArrayKind::BigInt => "bigint[]",
            ArrayKind::Text => "text[]",
        }
    }
}

/// `{1,NULL,"a \"b\""}`: PostgreSQL's text form of a one-dimensional array. Every text element
/// is quoted, so braces, commas, spaces, an empty string or the word NULL stay what they are;
/// inside quotes only `"` and `\` are escaped.
fn array_literal<'v>(elements: impl Iterator<Item = &'v Value>) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("{");
    for (i, value) in elements.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match value {
            Value::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Bool(v) => out.push(if *v { '1' } else { '0' }),
            Value::NullInt | Value::NullText => out.push_str("NULL"),
            Value::Text(text) => {
                out.push('"');
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}

/// A value to bind in a statement built at run time.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Text(String),
    Bool(bool),
    NullInt,
    NullText,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::NullText, Value::Text)
    }
}

pub type Query<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

pub fn bind_all(mut query: Query<'_>, values: Vec<Value>) -> Query<'_> {
    for value in values {
        query = match value {
            Value::Int(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
            Value::Bool(v) => query.bind(i64::from(v)),
            Value::NullInt => query.bind(None::<i64>),
            Value::NullText => query.bind(None::<String>),
        };
    }
    query
}

/// Inserts `rows` into `table` in as few statements as the engines allow.
/// `suffix` follows the VALUES list (an `ON CONFLICT …` clause).
pub async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> sqlx::Result<()> {
    let sign = placeholder(conn);
    for chunk in rows.chunks(rows_per_statement(sign, columns.len(), rows.len())) {
        let (source, values) = rows_source(sign, chunk);
        let sql = format!("INSERT INTO {table} ({}) {source} {suffix}", columns.join(", "));
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The largest magnitude a running total at head office may reach (a day's sales of a store
/// in cents, a stock level in units): a thousand billion dollars. Each record is bounded far
/// lower, so only a hostile register gets here; its record is refused instead of overflowing
/// a total. A report adding up more than 92,000 such totals would overflow: it answers 422.
pub const MAX_TOTAL: i64 = 100_000_000_000_000;

/// Refuses a total past [`MAX_TOTAL`], as a decoding error that the push maps to the record.
pub fn check_total(what: &str, total: i64) -> sqlx::Result<()> {
    if (-MAX_TOTAL..=MAX_TOTAL).contains(&total) {
        Ok(())
    } else {
        Err(sqlx::Error::Decode(Box::new(crate::sync::TotalOverflow(format!(
            "{what} would reach {total}, past the largest total head office keeps ({MAX_TOTAL})"
        )))))
    }
}

/// A number that does not fit a BIGINT column: refused, never clamped to fit.
#[derive(Debug, thiserror::Error)]
#[error("{what} is {value}, past the largest number head office stores ({max})", max = i64::MAX)]
pub struct OutOfRange {
    pub what: &'static str,
    pub value: String,
}

impl From<OutOfRange> for sqlx::Error {
    fn from(error: OutOfRange) -> Self {
        sqlx::Error::Encode(Box::new(error))
    }
}

/// `value` for a BIGINT column, or an error naming `what` when it does not fit. The one
/// conversion of unsigned numbers (counts, seqs, stamps, indexes) into the database.
pub fn to_i64<T>(what: &'static str, value: T) -> Result<i64, OutOfRange>
where
    T: TryInto<i64> + std::fmt::Display + Copy,
{
    value.try_into().map_err(|_| OutOfRange { what, value: value.to_string() })
}

/// A value read back from the database that its type refuses: an id that does not parse, a
/// negative count, a number past the type it stands for. The row is refused, never read as a
/// default; the error names the column.
#[derive(Debug, thiserror::Error)]
#[error("{column} in the database: {reason}")]
pub struct Corrupt {
    pub column: &'static str,
    pub reason: String,
}

/// Copies a SQLite database into a new file with `VACUUM INTO`: a consistent copy while the
/// server keeps writing (it reads one snapshot). PostgreSQL is backed up with its own tools.
pub async fn backup(db: &Db, to: &Path) -> anyhow::Result<u64> {
    anyhow::ensure!(
        db.engine() == Engine::Sqlite,
        "back up PostgreSQL with pg_dump (deploy/README.md says how); this command copies SQLite"
    );
    anyhow::ensure!(!to.exists(), "{} exists: name a new file", to.display());
    let target = to.to_str().context("the backup's path must be valid UTF-8")?;
    sqlx::query("VACUUM INTO $1").bind(target).execute(db.pool()).await.context("the copy failed")?;
    Ok(std::fs::metadata(to)?.len())
}

/// The decoding error for a value of `column` that its type refuses.
pub fn corrupt(column: &'static str, reason: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(Corrupt { column, reason: reason.to_string() }))
}

/// Parses a text column into its type (`Sku`, `LocationCode`, `RecordId`, …).
pub fn parse<T>(column: &'static str, text: &str) -> sqlx::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| corrupt(column, e))
}

/// A BIGINT column into the unsigned or narrower number it stands for (a seq, a cursor, a
/// line number), or an error naming the column. The one conversion of numbers out of the
/// database, as [`to_i64`] is the one into it.
pub fn from_i64<T>(column: &'static str, value: i64) -> sqlx::Result<T>
where
    T: TryFrom<i64>,
{
    T::try_from(value)
        .map_err(|_| corrupt(column, format!("{value} does not fit a {}", std::any::type_name::<T>())))
}

/// Milliseconds since the Unix epoch, by this server's clock (which chrono reads as an `i64`
/// for ±262 000 years). A clock set before 1970 reads as 1970, so the value is never negative.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis().max(0)
}

/// Whether an error is a unique key's violation (PostgreSQL 23505; SQLite's extended codes
/// 2067 for a unique index, 1555 for a primary key).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => matches!(e.code().as_deref(), Some("23505" | "2067" | "1555")),
        _ => false,
    }
}

/// Whether an error is a transient conflict between transactions, worth retrying:
/// a PostgreSQL deadlock or serialisation failure, or SQLite's busy signal.
pub fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            matches!(e.code().as_deref(), Some("40P01" | "40001" | "5" | "6" | "517"))
                || e.message().contains("database is locked")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{from_i64, parse, to_i64};

    #[test]
    fn an_unsigned_number_past_bigint_is_refused_by_name_not_clamped() {
        assert_eq!(to_i64("seq", 42u64).unwrap(), 42);
        assert_eq!(to_i64("seq", i64::MAX.unsigned_abs()).unwrap(), i64::MAX);
        let error = to_i64("hlc.wall_ms", u64::MAX).unwrap_err();
        assert_eq!(error.what, "hlc.wall_ms");
        assert!(error.to_string().contains("18446744073709551615"), "{error}");
        assert_eq!(to_i64("index", 7usize).unwrap(), 7);
    }

    #[test]
    fn a_number_read_back_that_does_not_fit_is_refused_by_name_not_clamped() {
        assert_eq!(from_i64::<u64>("registers.holds", 42).unwrap(), 42);
        assert_eq!(from_i64::<u16>("return_lines.original_line", 7).unwrap(), 7);
        let error = from_i64::<u64>("registers.holds", -1).unwrap_err().to_string();
        assert!(error.contains("registers.holds") && error.contains("-1"), "{error}");
        assert!(from_i64::<u16>("return_lines.original_line", 70_000).is_err());
    }

    #[test]
    fn an_id_read_back_that_does_not_parse_is_refused_by_column() {
        let sku: shared_model::Sku = parse("products.sku", "CAF-ESP-250").unwrap();
        assert_eq!(sku.as_str(), "CAF-ESP-250");
        let error = parse::<shared_model::Sku>("products.sku", "not a sku").unwrap_err();
        assert!(matches!(error, sqlx::Error::Decode(_)), "{error}");
        assert!(error.to_string().contains("products.sku"), "{error}");
    }
}
