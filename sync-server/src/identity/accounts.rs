//! Head-office accounts as admins manage them: created, disabled, given a role or a new
//! password, never leaving the chain without an enabled admin.

use serde::Serialize;

use super::passwords::{PasswordSlots, check_new_password, hash_password, weakness};
use super::sessions::{Staff, account_key};
use super::{Error, MAX_USERNAME, Result, Role, new_token};
use crate::db::Db;

/// Creates the first admin when there is no user at all, so a new chain can be signed into.
/// Returns the password when it made one (the one given, or a random one to print once).
#[tracing::instrument(skip_all)]
pub async fn ensure_first_admin(db: &Db, password: Option<String>) -> anyhow::Result<Option<String>> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) AS n FROM users").fetch_one(db.pool()).await?;
    if users > 0 {
        return Ok(None);
    }
    if let Some(given) = &password
        && let Some(weakness) = weakness(given, &["admin"])
    {
        anyhow::bail!("the admin password given is refused: {weakness}");
    }
    let password = password.unwrap_or_else(|| new_token()[..16].to_owned());
    create_user(db, "admin", &password, Role::Admin).await?;
    Ok(Some(password))
}

#[tracing::instrument(skip_all)]
pub async fn create_user(db: &Db, username: &str, password: &str, role: Role) -> anyhow::Result<()> {
    let hash = hash_password(password)?;
    db.write(
        sqlx::query(
            "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
        )
        .bind(username)
        .bind(hash)
        .bind(role.as_str()),
    )
    .await?;
    Ok(())
}

/// A head-office account, as the people page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
}

/// A row of `users`, as the people page reads it.
#[derive(Debug, sqlx::FromRow)]
struct AccountRow {
    username: String,
    role: String,
    disabled: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = sqlx::Error;

    fn try_from(row: AccountRow) -> sqlx::Result<Account> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| crate::db::corrupt("users.role", format!("{:?} is no role", row.role)))?;
        Ok(Account { username: row.username, role, disabled: row.disabled != 0 })
    }
}

/// Every head-office account, by name.
#[tracing::instrument(skip_all)]
pub async fn accounts(db: &Db) -> Result<Vec<Account>> {
    let rows: Vec<AccountRow> =
        sqlx::query_as("SELECT username, role, disabled FROM users ORDER BY username")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(Account::try_from).collect::<sqlx::Result<_>>()?)
}

/// A username: 3 to 64 of lower-case letters, digits, dot, dash and underscore, so that it
/// reads the same in a log, a URL and an audit line.
fn check_username(username: &str) -> Result<()> {
    let ok = (3..=MAX_USERNAME).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            "a username has 3 to 64 lower-case letters, digits, dots, dashes or underscores",
        ))
    }
}

/// Creates a head-office account (an admin's act). A name already taken is a conflict.
#[tracing::instrument(skip_all)]
pub async fn create_account(
    db: &Db,
    slots: &PasswordSlots,
    username: &str,
    role: Role,
    password: &str,
    actor: &crate::audit::Actor,
) -> Result<Account> {
    check_username(username)?;
    check_new_password("password", password, username).await?;
    let hash = slots.hash(password).await?;
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING",
    )
    .bind(username)
    .bind(hash)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(Error::Conflict(format!("there is already an account {username}")));
    }
    let account = Account { username: username.to_owned(), role, disabled: false };
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::Change::new("user.create", format!("user:{username}")).after(&account),
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Disables or enables an account. Disabling ends its sessions. Nobody disables themselves,
/// and the last enabled admin stays: the chain would have nobody left to manage accounts.
#[tracing::instrument(skip_all)]
pub async fn set_disabled(
    db: &Db,
    by: &Staff,
    username: &str,
    disabled: bool,
    actor: &crate::audit::Actor,
) -> Result<Account> {
    if disabled && by.username == username {
        return Err(Error::Conflict("you cannot disable your own account".into()));
    }
    let mut tx = db.begin().await?;
    let before = account_for_change(&mut tx, username).await?;
    if disabled && before.role == Role::Admin {
        not_the_last_admin(&mut tx, username).await?;
    }
    sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
        .bind(i64::from(disabled))
        .bind(username)
        .execute(&mut *tx)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await?;
    }
    let after = Account { disabled, ..before.clone() };
    let action = if disabled { "user.disable" } else { "user.enable" };
    let change = crate::audit::Change::new(action, format!("user:{username}")).before(&before).after(&after);
    crate::audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(after)
}

/// Reads an account an admin is about to change, after taking the lock that makes admins
/// changing each other take turns (so two cannot both pass the last-admin check).
async fn account_for_change(conn: &mut sqlx::AnyConnection, username: &str) -> Result<Account> {
    crate::db::lock_keys(conn, &["users:admins".to_owned()]).await?;
    let row: AccountRow = sqlx::query_as("SELECT username, role, disabled FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no account {username}")))?;
    Ok(Account::try_from(row)?)
}

/// Refuses a change that would leave the chain without an enabled admin.
async fn not_the_last_admin(conn: &mut sqlx::AnyConnection, username: &str) -> Result<()> {
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(conn)
            .await?;
    if admins <= 1 {
        return Err(Error::Conflict(format!("{username} is the last enabled admin")));
    }
    Ok(())
}

/// Gives an account another role; its sessions end, so the new role applies at once. Nobody
/// changes their own role, and the last enabled admin stays an admin.
#[tracing::instrument(skip_all)]
pub async fn set_role(
    db: &Db,
    by: &Staff,
    username: &str,
    role: Role,
    actor: &crate::audit::Actor,
) -> Result<Account> {
    if by.username == username {
        return Err(Error::Conflict("you cannot change your own role".into()));
    }
    let mut tx = db.begin().await?;
    let before = account_for_change(&mut tx, username).await?;
    if before.role == role {
        return Ok(before);
    }
    if before.role == Role::Admin && !before.disabled {
        not_the_last_admin(&mut tx, username).await?;
    }
    sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
        .bind(role.as_str())
        .bind(username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await?;
    let after = Account { role, ..before.clone() };
    let change =
        crate::audit::Change::new("user.role", format!("user:{username}")).before(&before).after(&after);
    crate::audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(after)
}

/// Sets another person's password (an admin's act, when it is forgotten); their sessions end
/// and their sign-in lock is lifted.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    db: &Db,
    slots: &PasswordSlots,
    by: &Staff,
    username: &str,
    new: &str,
    actor: &crate::audit::Actor,
) -> Result<()> {
    // One's own password is changed knowing the current one (`change_password`): a session
    // left open must not be enough to take over the account.
    if by.username == username {
        return Err(Error::Conflict(
            "change your own password with your current one (POST /api/auth/password)".into(),
        ));
    }
    check_new_password("new_password", new, username).await?;
    let hash = slots.hash(new).await?;
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(hash)
        .bind(username)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no account {username}")));
    }
    sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await?;
    // The account's lock is lifted, and the delays of every address that tried it: the old
    // password is of no use to a guesser any more.
    let account = account_key(username);
    let pairs = format!("{account}|");
    sqlx::query("DELETE FROM attempt_throttle WHERE key = $1 OR substr(key, 1, CAST($2 AS INTEGER)) = $3")
        .bind(&account)
        .bind(i64::try_from(pairs.chars().count()).map_err(Error::internal)?)
        .bind(&pairs)
        .execute(&mut *tx)
        .await?;
    crate::alerts::resolve(&mut tx, crate::alerts::Kind::AccountLocked, &account).await?;
    // The password itself is never written to the trail, nor its hash.
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::Change::new("user.reset_password", format!("user:{username}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
