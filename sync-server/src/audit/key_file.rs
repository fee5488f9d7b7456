//! Where head office's audit key comes from: a setting, or a file kept beside the database
//! (made at the first start, readable only by the server's user).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::db::{AuditKey, Db};

use super::KEYED;

/// Where head office's key comes from.
#[derive(Debug, Clone, Default)]
pub enum KeySetting {
    /// No setting: a file beside the SQLite database (or `caisse-audit.key` in the working
    /// directory for PostgreSQL), written with a new key at the first start.
    #[default]
    Beside,
    /// This file, which must exist (`--audit-key-file`).
    File(PathBuf),
    /// This key (`CAISSE_AUDIT_KEY`).
    Given(AuditKey),
}

/// The key file of a database with no setting: `data/caisse-server.db.audit-key` beside a
/// SQLite file; `caisse-audit.key` in the working directory for PostgreSQL.
pub fn default_key_path(database_url: &str) -> PathBuf {
    if database_url.starts_with("sqlite:") {
        let rest = database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = rest.split_once('?').map_or(rest, |(path, _)| path);
        PathBuf::from(format!("{path}.audit-key"))
    } else {
        PathBuf::from("caisse-audit.key")
    }
}

/// Head office's key for `db`, from `setting`. With no setting the default file is read, or,
/// when `create` and it does not exist, written with a new key (mode 0600) and the log says so;
/// never when the trail already holds keyed entries, which a new key would all fail.
pub async fn open_key(
    setting: &KeySetting,
    database_url: &str,
    db: &Db,
    create: bool,
) -> anyhow::Result<AuditKey> {
    let path = match setting {
        KeySetting::Given(key) => {
            tracing::info!(key = key.id(), "audit key from CAISSE_AUDIT_KEY");
            return Ok(key.clone());
        }
        KeySetting::File(path) => {
            let key = read_key(path).with_context(|| {
                format!("cannot read the audit key file {} (--audit-key-file)", path.display())
            })?;
            tracing::info!(key = key.id(), path = %path.display(), "audit key read");
            return Ok(key);
        }
        KeySetting::Beside => default_key_path(database_url),
    };
    if path.exists() {
        let key =
            read_key(&path).with_context(|| format!("cannot read the audit key file {}", path.display()))?;
        tracing::info!(key = key.id(), path = %path.display(), "audit key read");
        return Ok(key);
    }
    let keyed: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE alg = '{KEYED}'"
    )))
    .fetch_one(db.pool())
    .await?;
    anyhow::ensure!(
        keyed == 0,
        "the audit trail holds {keyed} entries made with a key, but there is no key file at {}: \
         put head office's key back there, or name it with --audit-key-file (a new key would fail them all)",
        path.display()
    );
    anyhow::ensure!(
        create,
        "there is no audit key file at {} (the server writes one at its first start; name another with --audit-key-file)",
        path.display()
    );
    let key = AuditKey::random();
    let written = write_new_key(&path, &key)
        .with_context(|| format!("cannot write a new audit key file at {}", path.display()))?;
    if !written {
        // Another instance starting beside this one wrote it first: theirs is the key.
        let key =
            read_key(&path).with_context(|| format!("cannot read the audit key file {}", path.display()))?;
        tracing::info!(key = key.id(), path = %path.display(), "audit key read");
        return Ok(key);
    }
    tracing::warn!(
        key = key.id(),
        path = %path.display(),
        "wrote a new audit key: keep a copy away from the database and its backups, and name it with --audit-key-file"
    );
    Ok(key)
}

fn read_key(path: &Path) -> anyhow::Result<AuditKey> {
    let text = std::fs::read_to_string(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the audit key file can be read by others than its owner: chmod 600 it");
        }
    }
    AuditKey::from_hex(&text)
}

/// Writes `key` at `path` unless a file is there already (answers false then). The key is
/// written whole into a file of its own first, then linked at `path`, which fails rather than
/// replace one: two instances starting at once agree on one key, and neither reads half of one.
fn write_new_key(path: &Path, key: &AuditKey) -> std::io::Result<bool> {
    use std::io::Write;
    let draft = path.with_extension(format!("new-{}", uuid::Uuid::now_v7().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        writeln!(file, "{}", key.to_hex())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}
