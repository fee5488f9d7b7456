//! The register's SQLite database: opened in WAL mode with full synchronous commits, so a
//! committed sale is on disk (fsync) before the library reports it complete.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/terminal/0001_init.sql"),
    include_str!("../../migrations/terminal/0002_receipts.sql"),
    include_str!("../../migrations/terminal/0003_pin_lockout.sql"),
    include_str!("../../migrations/terminal/0004_print_failures.sql"),
];

pub fn open(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)
            .map_err(|e| crate::error::corrupt(format!("{}: {e}", parent.display())))?;
    }
    create_private_file(path).map_err(|e| crate::error::corrupt(format!("{}: {e}", path.display())))?;
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    migrate(&conn)?;
    Ok(conn)
}

/// The register's folder, readable by its own OS account only when the register creates it (a
/// folder the store chose is left as it is).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// The database holds the device secret and the cashiers' PIN hashes: the file is created
/// readable and writable by its owner only, before SQLite opens it, and a file (or WAL and
/// shared-memory sibling) left readable by an older version is tightened. SQLite gives the
/// siblings it creates the mode of the database file.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().append(true).create(true).mode(0o600).open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(())
}

/// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`): the CLI, a
/// background sync and the screen may share the file, and a deferred transaction that read
/// first would fail outright, instead of waiting its turn, when another wrote in between.
pub fn write(conn: &Connection) -> Result<rusqlite::Transaction<'_>> {
    Ok(rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?)
}

pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
}

pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn setting_u64(conn: &Connection, key: &str) -> Result<u64> {
    Ok(setting(conn, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}
