//! Registers: added to a store, enrolled once with a code from head office (which expires),
//! then known by their device secret until revoked; and what the server holds of each.

use rand::Rng;
use serde::Serialize;
use shared_model::protocol::Enrolment;
use shared_model::{LocationCode, RegisterId};

use super::throttle::{PER_ENROLLER, address_key, forget, take_turn};
use super::{Error, Result, hash_secret, new_token};
use crate::db::{Db, from_i64, parse};

/// How long an enrolment code stays valid: long enough to walk to the till, short enough
/// that a code on a lost note is worth little.
pub const ENROLMENT_MS: i64 = 24 * 3_600_000;

/// An enrolment code a person can type: eight characters without look-alikes, as XXXX-XXXX.
pub fn new_enrolment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chars: String = (0..8).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase().replace([' ', '-'], "")
}

/// An enrolled register, authenticated by its device secret.
#[derive(Debug, Clone)]
pub struct Register {
    pub id: RegisterId,
    pub store: LocationCode,
}

/// The columns of a [`RegisterRow`], in a query's select list.
const REGISTER_COLUMNS: &str = "id, store, secret_hash, revoked_ms, holds, last_push_ms, last_pull_ms";

/// A row of `registers` (but for when it enrolled).
#[derive(Debug, sqlx::FromRow)]
struct RegisterRow {
    id: String,
    store: String,
    secret_hash: Option<String>,
    revoked_ms: Option<i64>,
    holds: i64,
    last_push_ms: Option<i64>,
    last_pull_ms: Option<i64>,
}

impl RegisterRow {
    fn register(&self) -> sqlx::Result<Register> {
        Ok(Register { id: parse("registers.id", &self.id)?, store: parse("registers.store", &self.store)? })
    }

    fn holds(&self) -> sqlx::Result<u64> {
        from_i64("registers.holds", self.holds)
    }
}

impl TryFrom<RegisterRow> for RegisterStatus {
    type Error = sqlx::Error;

    fn try_from(row: RegisterRow) -> sqlx::Result<RegisterStatus> {
        let Register { id, store } = row.register()?;
        Ok(RegisterStatus {
            id,
            store,
            enrolled: row.secret_hash.is_some(),
            revoked: row.revoked_ms.is_some(),
            holds: row.holds,
            last_push_ms: row.last_push_ms,
            last_pull_ms: row.last_pull_ms,
        })
    }
}

/// The enrolled register whose device secret is `secret`.
#[tracing::instrument(skip_all)]
pub async fn register_of_secret(db: &Db, secret: &str) -> Result<Register> {
    let row: RegisterRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REGISTER_COLUMNS} FROM registers WHERE secret_hash = $1"
    )))
    .bind(hash_secret(secret))
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| Error::Unauthorized("this device secret is not known: enrol the register".into()))?;
    if row.revoked_ms.is_some() {
        return Err(Error::Unauthorized(format!(
            "register {} has been revoked by head office: enrol it again with a new code",
            row.id
        )));
    }
    Ok(row.register()?)
}

/// Adds a register to one of the chain's stores (not yet enrolled); refused when its store is
/// not one.
#[tracing::instrument(skip_all)]
pub async fn create_register(db: &Db, id: &RegisterId) -> Result<()> {
    if !crate::catalogue::is_store(db, &id.store()).await? {
        return Err(Error::invalid("id", format!("there is no store {}", id.store())));
    }
    add_register(db, id).await?;
    Ok(())
}

/// Adds a register to a store (not yet enrolled).
#[tracing::instrument(skip_all)]
pub async fn add_register(db: &Db, id: &RegisterId) -> anyhow::Result<()> {
    db.write(
        sqlx::query("INSERT INTO registers (id, store) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(id.as_str())
            .bind(id.store().as_str()),
    )
    .await?;
    Ok(())
}

/// Issues a fresh enrolment code for a register. A register has one live code at most: an
/// earlier unused one stops working.
#[tracing::instrument(skip_all)]
pub async fn issue_enrolment_code(db: &Db, register: &RegisterId) -> Result<String> {
    let known: Option<String> = sqlx::query_scalar("SELECT id FROM registers WHERE id = $1")
        .bind(register.as_str())
        .fetch_optional(db.pool())
        .await?;
    if known.is_none() {
        return Err(Error::NotFound(format!("no register {register}: add it first")));
    }
    let code = new_enrolment_code();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM enrolment_codes WHERE register_id = $1 AND used_ms IS NULL")
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO enrolment_codes (code_hash, register_id, expires_ms) VALUES ($1, $2, $3)")
        .bind(hash_secret(&normalise_code(&code)))
        .bind(register.as_str())
        .bind(db.now_ms() + ENROLMENT_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(code)
}

/// Registers added but never enrolled, in id order.
#[tracing::instrument(skip_all)]
pub async fn unenrolled(db: &Db) -> anyhow::Result<Vec<RegisterId>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM registers WHERE secret_hash IS NULL ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    Ok(ids.iter().map(|id| parse("registers.id", id)).collect::<sqlx::Result<_>>()?)
}

/// When a register's live enrolment code expires, if it has one.
#[tracing::instrument(skip_all)]
pub async fn live_code_expiry(db: &Db, register: &RegisterId) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MAX(expires_ms) AS expires_ms FROM enrolment_codes WHERE register_id = $1 AND used_ms IS NULL AND expires_ms >= $2",
    )
    .bind(register.as_str())
    .bind(db.now_ms())
    .fetch_one(db.pool())
    .await
}

/// Exchanges an enrolment code, once, for a device secret, for whichever register it was
/// issued to. See [`enrol_as`].
pub async fn enrol(db: &Db, address: Option<std::net::IpAddr>, code: &str) -> Result<Enrolment> {
    enrol_as(db, address, None, code).await
}

/// Exchanges an enrolment code, once, for a device secret. Enrolling again replaces the
/// previous secret (a replaced till), and lifts a revocation. Every kind of wrong code gets
/// the same answer, so guessing learns nothing.
///
/// Wrong codes slow down the pair of address and register they were tried for
/// ([`PER_ENROLLER`]): a till that names its register (`register`) is held up only by wrong
/// codes for that register, never by another till's typos or a guesser at the same address;
/// a till that names none shares the address's pair with the others that name none. A code
/// issued to another register than the one named is refused like an unknown one.
#[tracing::instrument(skip_all)]
pub async fn enrol_as(
    db: &Db,
    address: Option<std::net::IpAddr>,
    register: Option<&RegisterId>,
    code: &str,
) -> Result<Enrolment> {
    if code.chars().count() > 32 {
        return Err(Error::invalid("code", "an enrolment code looks like ABCD-EFGH"));
    }
    let for_register = register.map_or("any register", RegisterId::as_str);
    let pair = format!("{}|{for_register}", address_key("enrol", address));
    take_turn(db, &pair, PER_ENROLLER, "enrolment attempts from this address for this register").await?;
    let mut tx = db.begin().await?;
    let code_hash = hash_secret(&normalise_code(code));
    // Claiming and checking the code is one statement: two devices racing with one code
    // cannot both win.
    let now = db.now_ms();
    let claimed: Option<String> = sqlx::query_scalar(
        "UPDATE enrolment_codes SET used_ms = $1
         WHERE code_hash = $2 AND used_ms IS NULL AND expires_ms >= $1 AND ($3 = '' OR register_id = $3)
         RETURNING register_id",
    )
    .bind(now)
    .bind(&code_hash)
    .bind(register.map_or("", RegisterId::as_str))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(claimed) = claimed else {
        tx.rollback().await?;
        // The attempt stays counted: the wait it earned applies from the next one.
        return Err(Error::invalid(
            "code",
            "this enrolment code is not valid (unknown, used, replaced or expired): ask head office for a new one",
        ));
    };
    let row: RegisterRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REGISTER_COLUMNS} FROM registers WHERE id = $1"
    )))
    .bind(&claimed)
    .fetch_one(&mut *tx)
    .await?;
    let (Register { id: register, store }, holds) = (row.register()?, row.holds()?);
    let secret = new_token();
    sqlx::query("UPDATE registers SET secret_hash = $1, enrolled_ms = $2, revoked_ms = NULL WHERE id = $3")
        .bind(hash_secret(&secret))
        .bind(db.now_ms())
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    forget(db, &pair).await?;
    Ok(Enrolment { register, store, secret, holds })
}

/// Revokes a register's device secret, and any enrolment code it had not used yet: a code
/// issued before the revocation must not bring the register back.
#[tracing::instrument(skip_all)]
pub async fn revoke(db: &Db, register: &RegisterId, actor: &crate::audit::Actor) -> Result<()> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE registers SET revoked_ms = $1 WHERE id = $2")
        .bind(db.now_ms())
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no register {register}")));
    }
    sqlx::query("DELETE FROM enrolment_codes WHERE register_id = $1 AND used_ms IS NULL")
        .bind(register.as_str())
        .execute(&mut *tx)
        .await?;
    let change = crate::audit::Change::new("register.revoke", format!("register:{register}"))
        .before(serde_json::json!({ "revoked": false }))
        .after(serde_json::json!({ "revoked": true }));
    crate::audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterStatus {
    #[schema(value_type = String)]
    pub id: RegisterId,
    #[schema(value_type = String)]
    pub store: LocationCode,
    pub enrolled: bool,
    pub revoked: bool,
    pub holds: i64,
    pub last_push_ms: Option<i64>,
    pub last_pull_ms: Option<i64>,
}

#[tracing::instrument(skip_all)]
pub async fn registers(db: &Db) -> Result<Vec<RegisterStatus>> {
    let rows: Vec<RegisterRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {REGISTER_COLUMNS} FROM registers ORDER BY id")))
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(RegisterStatus::try_from).collect::<sqlx::Result<_>>()?)
}

/// Records what the server now holds of a register after a push.
#[tracing::instrument(skip_all)]
pub async fn note_push(
    conn: &mut sqlx::AnyConnection,
    register: &RegisterId,
    holds: u64,
) -> sqlx::Result<()> {
    let holds = crate::db::to_i64("holds", holds)?;
    sqlx::query(
        "UPDATE registers SET last_push_ms = $1, holds = CASE WHEN holds < $2 THEN $2 ELSE holds END WHERE id = $3",
    )
    // When it was last heard from, for people to read: the system's time, not a decision.
    .bind(crate::db::now_ms())
    .bind(holds)
    .bind(register.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The highest seq of `register` the server holds with none missing below it (0 for none).
#[tracing::instrument(skip_all)]
pub async fn holds<'e, E>(conn: E, register: &RegisterId) -> sqlx::Result<u64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let held: Option<i64> = sqlx::query_scalar("SELECT holds FROM registers WHERE id = $1")
        .bind(register.as_str())
        .fetch_optional(conn)
        .await?;
    match held {
        Some(held) => from_i64("registers.holds", held),
        // A register the server has never heard of holds nothing yet.
        None => Ok(0),
    }
}

/// Records a pull, and the newest feed version it handed the register (`handed`).
#[tracing::instrument(skip_all)]
pub async fn note_pull(db: &Db, register: &RegisterId, handed: u64) -> sqlx::Result<()> {
    let handed = crate::db::to_i64("handed", handed)?;
    db.write(
        sqlx::query(
            "UPDATE registers SET last_pull_ms = $1,
                 pulled_version = CASE WHEN pulled_version < $2 THEN $2 ELSE pulled_version END
             WHERE id = $3",
        )
        .bind(db.now_ms())
        .bind(handed)
        .bind(register.as_str()),
    )
    .await?;
    Ok(())
}

/// How far a change published at feed `version` has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reach {
    /// Registers that have pulled it.
    pub reached: i64,
    /// Registers that will: enrolled and not revoked.
    pub registers: i64,
}

/// How many of the working registers have been handed the feed's `version` by a pull.
#[tracing::instrument(skip_all)]
pub async fn reach(db: &Db, version: i64) -> sqlx::Result<Reach> {
    let (reached, registers): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN pulled_version >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS reached,
                COUNT(*) AS registers
         FROM registers WHERE secret_hash IS NOT NULL AND revoked_ms IS NULL",
    )
    .bind(version)
    .fetch_one(db.pool())
    .await?;
    Ok(Reach { reached, registers })
}
