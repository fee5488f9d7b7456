//! Head-office sessions: signing in and out, changing one's password, and the staff member a
//! session token stands for while it has not expired.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::passwords::{PasswordSlots, check_new_password, decoy_hash};
use super::throttle::{
    PASSWORD_CHANGE, attempt_succeeded, check_throttle, count_attempt, forget, start_attempt,
};
use super::{Error, MAX_PASSWORD, MAX_USERNAME, Result, Role, hash_secret, new_token};
use crate::db::Db;

/// How long a head-office session lasts.
const SESSION_MS: i64 = 12 * 3_600_000;

pub(super) fn account_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

/// A row of `users`, as signing in reads it.
#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    password_hash: String,
    role: String,
    disabled: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub token: String,
    /// What a page sends as `X-CSRF-Token` with its writes when it signs in with a cookie.
    pub csrf: String,
    pub username: String,
    pub role: Role,
    pub expires_ms: i64,
}

/// Checks a password and opens a session. Failures are throttled per account and per
/// address; an unknown username costs a hash like a known one.
#[tracing::instrument(skip_all)]
pub async fn log_in(
    db: &Db,
    slots: &PasswordSlots,
    address: Option<std::net::IpAddr>,
    username: &str,
    password: &str,
) -> Result<Session> {
    if username.chars().count() > MAX_USERNAME {
        return Err(Error::invalid("username", format!("a username has at most {MAX_USERNAME} characters")));
    }
    if password.chars().count() > MAX_PASSWORD {
        return Err(Error::invalid("password", format!("a password has at most {MAX_PASSWORD} characters")));
    }
    let attempt = start_attempt(db, &account_key(username), address).await?;
    let known: Option<UserRow> =
        sqlx::query_as("SELECT password_hash, role, disabled FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(db.pool())
            .await?;
    let hash = known.as_ref().map_or_else(|| decoy_hash().to_owned(), |user| user.password_hash.clone());
    let verified = slots.verify(password, &hash).await?;
    let disabled = known.as_ref().is_some_and(|user| user.disabled != 0);
    let role = known.and_then(|user| Role::parse(&user.role)).filter(|_| verified);
    let Some(role) = role else {
        return Err(Error::Unauthorized("wrong username or password".into()));
    };
    attempt_succeeded(db, attempt).await?;
    // Said only to whoever knows the password: it tells them whom to ask.
    if disabled {
        return Err(Error::Forbidden("this account is disabled: ask an administrator".into()));
    }
    let now = db.now_ms();
    // Expired sessions are of no use to anyone: each sign-in sweeps them away.
    db.write(sqlx::query("DELETE FROM sessions WHERE expires_ms < $1").bind(now)).await?;
    let token = new_token();
    let expires_ms = now + SESSION_MS;
    db.write(
        sqlx::query("INSERT INTO sessions (token_hash, username, expires_ms) VALUES ($1, $2, $3)")
            .bind(hash_secret(&token))
            .bind(username)
            .bind(expires_ms),
    )
    .await?;
    Ok(Session { csrf: csrf_of(&token), token, username: username.to_owned(), role, expires_ms })
}

/// The anti-forgery token of a session: pages send it back in a header with every write, which
/// a page of another site cannot read and so cannot send (the session's cookie it could).
/// Derived from the session's token, so nothing more is stored, and useless without it.
pub fn csrf_of(token: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf:{token}").as_bytes()))
}

/// Ends the session whose token is `token`.
#[tracing::instrument(skip_all)]
pub async fn log_out(db: &Db, staff: &Staff) -> Result<()> {
    db.write(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&staff.token_hash)).await?;
    Ok(())
}

/// Changes a user's password after checking the current one, and ends their other sessions.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    db: &Db,
    slots: &PasswordSlots,
    staff: &Staff,
    current: &str,
    new: &str,
) -> Result<()> {
    if new == current {
        return Err(Error::invalid("new_password", "the new password is the current one"));
    }
    check_new_password("new_password", new, &staff.username).await?;
    let key = format!("password-change:{}", staff.username.to_lowercase());
    let what = "attempts at the current password";
    check_throttle(db, &key, what).await?;
    count_attempt(db, &key, PASSWORD_CHANGE, what).await?;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
        .bind(&staff.username)
        .fetch_one(db.pool())
        .await?;
    if current.chars().count() > MAX_PASSWORD || !slots.verify(current, &hash).await? {
        return Err(Error::invalid("current_password", "the current password is wrong"));
    }
    forget(db, &key).await?;
    let new_hash = slots.hash(new).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(new_hash)
        .bind(&staff.username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE username = $1 AND token_hash <> $2")
        .bind(&staff.username)
        .bind(&staff.token_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A signed-in head-office user. Handlers ask for the role they need with [`Staff::require`].
#[derive(Debug, Clone)]
pub struct Staff {
    pub username: String,
    pub role: Role,
    /// The session's token, hashed: what signing out deletes.
    pub token_hash: String,
    /// The session's anti-forgery token ([`csrf_of`]).
    pub csrf: String,
    pub expires_ms: i64,
}

impl Staff {
    /// Admins may do everything; other roles only what is listed.
    pub fn require(&self, allowed: &[Role]) -> Result<()> {
        if self.role == Role::Admin || allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("the {} role may not do this", self.role.as_str())))
        }
    }
}

/// A row of `sessions` with its user's name and role.
#[derive(Debug, sqlx::FromRow)]
struct SessionRow {
    username: String,
    role: String,
    expires_ms: i64,
}

/// The head-office user whose session `token` is.
#[tracing::instrument(skip_all)]
pub async fn staff_of_session(db: &Db, token: &str) -> Result<Staff> {
    let token_hash = hash_secret(token);
    let session: SessionRow = sqlx::query_as(
        "SELECT u.username, u.role, s.expires_ms FROM sessions s JOIN users u ON u.username = s.username
         WHERE s.token_hash = $1 AND u.disabled = 0",
    )
    .bind(&token_hash)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| Error::Unauthorized("the session token is not valid: sign in again".into()))?;
    if session.expires_ms < db.now_ms() {
        return Err(Error::Unauthorized("the session has expired: sign in again".into()));
    }
    let role = Role::parse(&session.role).ok_or_else(|| Error::Forbidden("unknown role".into()))?;
    Ok(Staff {
        username: session.username,
        role,
        token_hash,
        csrf: csrf_of(token),
        expires_ms: session.expires_ms,
    })
}
