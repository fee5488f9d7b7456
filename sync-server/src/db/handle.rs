//! The handle on the database: connecting and migrating, write transactions that take turns
//! on SQLite, notifications between instances, and SQLite's backup.

use crate::clock::Clock;
use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::AuditKey;
use super::rows::{Query, Value, bind_all, rows_source};

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
    /// The time leases, lockouts and expiries are decided by (see [`crate::clock`]).
    clock: Clock,
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
            clock: Clock::system(),
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

    /// This handle with another clock (a test's manual one).
    pub fn with_clock(mut self, clock: Clock) -> Db {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by this handle's clock: what every lease, lockout and expiry is compared with.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
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
