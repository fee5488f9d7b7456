//! API keys for integrations (a partner storefront, a BI tool): made and revoked by an admin,
//! shown once, kept only as a hash, each with its scopes and its own rate limits.

use serde::Serialize;

use super::limits::Policy;
use super::{Error, Result};
use crate::audit::{self, Actor, Change};
use crate::db::{Db, now_ms};
use crate::identity::{hash_secret, new_token};

/// What a key may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The catalogue, locations and stock, read only.
    CatalogueRead,
    /// The sales report and the dashboard, read only.
    ReportsRead,
    /// The online shop's API, on behalf of its shoppers.
    Shop,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::CatalogueRead, Scope::ReportsRead, Scope::Shop];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CatalogueRead => "catalogue_read",
            Scope::ReportsRead => "reports_read",
            Scope::Shop => "shop",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The limits a key gets unless its admin sets others: those of the gateway it replaces.
pub const DEFAULT_POLICY: Policy = Policy::new(100, 1_000);
/// The most an admin may give one key.
const MOST_PER_MINUTE: u32 = 100_000;

/// The secret's first characters, kept in clear to tell keys apart in lists.
const PREFIX_LEN: usize = 11;
/// Every key starts so: a leaked one is recognisable in logs and by secret scanners.
const KEY_START: &str = "ck_";

/// A key as head office sees it: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The secret's first characters.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub limits: Policy,
    pub created_by: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

impl ApiKey {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A key just made: the only time its secret is shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub key: ApiKey,
    /// Send it as `X-Api-Key`. It is not kept and cannot be shown again.
    pub secret: String,
}

/// What an admin asks for.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub per_minute: Option<u32>,
    pub per_hour: Option<u32>,
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    per_minute: i64,
    per_hour: i64,
    created_by: String,
    created_ms: i64,
    last_used_ms: Option<i64>,
    revoked_ms: Option<i64>,
}

impl From<Row> for ApiKey {
    fn from(row: Row) -> ApiKey {
        ApiKey {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            scopes: row.scopes.split_whitespace().filter_map(Scope::parse).collect(),
            limits: Policy::new(
                u32::try_from(row.per_minute).unwrap_or(0),
                u32::try_from(row.per_hour).unwrap_or(0),
            ),
            created_by: row.created_by,
            created_ms: row.created_ms,
            last_used_ms: row.last_used_ms,
            revoked_ms: row.revoked_ms,
        }
    }
}

/// The columns of [`Row`], spelled once (a macro, so the queries stay literal strings).
macro_rules! columns {
    () => {
        "id, name, prefix, scopes, per_minute, per_hour, created_by, created_ms, last_used_ms, revoked_ms"
    };
}

impl NewKey {
    fn check(self) -> Result<(String, Vec<Scope>, Policy)> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(Error::invalid("name", "a key needs a name of 1 to 80 characters"));
        }
        if self.scopes.is_empty() {
            return Err(Error::invalid("scopes", "a key needs at least one scope"));
        }
        let mut scopes = Vec::new();
        for (i, text) in self.scopes.iter().enumerate() {
            let scope = Scope::parse(text).ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                Error::invalid(&format!("scopes[{i}]"), format!("unknown scope; one of {}", known.join(", ")))
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        let per_minute = self.per_minute.unwrap_or(DEFAULT_POLICY.per_minute);
        if per_minute == 0 || per_minute > MOST_PER_MINUTE {
            return Err(Error::invalid("per_minute", format!("between 1 and {MOST_PER_MINUTE}")));
        }
        let per_hour = self.per_hour.unwrap_or(DEFAULT_POLICY.per_hour.max(per_minute));
        if per_hour < per_minute || per_hour > MOST_PER_MINUTE.saturating_mul(60) {
            return Err(Error::invalid(
                "per_hour",
                format!("at least per_minute ({per_minute}) and at most {}", MOST_PER_MINUTE * 60),
            ));
        }
        Ok((name, scopes, Policy::new(per_minute, per_hour)))
    }
}

/// Makes a key; its secret is in the answer and nowhere else.
pub async fn create(db: &Db, actor: &Actor, new: NewKey) -> Result<Created> {
    let (name, scopes, limits) = new.check()?;
    let secret = format!("{KEY_START}{}", new_token());
    let key = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        prefix: secret.chars().take(PREFIX_LEN).collect(),
        scopes,
        limits,
        created_by: actor.username.clone(),
        created_ms: now_ms(),
        last_used_ms: None,
        revoked_ms: None,
    };
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, per_minute, per_hour, created_by, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(hash_secret(&secret))
    .bind(scopes.join(" "))
    .bind(i64::from(limits.per_minute))
    .bind(i64::from(limits.per_hour))
    .bind(&key.created_by)
    .bind(key.created_ms)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, actor, Change::new("api_key.create", format!("api_key:{}", key.id)).after(&key))
        .await?;
    tx.commit().await?;
    Ok(Created { key, secret })
}

/// Every key, newest first, revoked ones included.
pub async fn list(db: &Db) -> Result<Vec<ApiKey>> {
    let rows: Vec<Row> =
        sqlx::query_as(concat!("SELECT ", columns!(), " FROM api_keys ORDER BY created_ms DESC, id"))
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

/// Revokes a key: from its next request on, it is refused on every instance. Revoking a
/// revoked key changes nothing.
pub async fn revoke(db: &Db, actor: &Actor, id: &str) -> Result<ApiKey> {
    let mut tx = db.begin().await?;
    let row: Row = sqlx::query_as(concat!("SELECT ", columns!(), " FROM api_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no API key {id}")))?;
    let before = ApiKey::from(row);
    if before.revoked_ms.is_some() {
        tx.rollback().await?;
        return Ok(before);
    }
    let at = now_ms();
    sqlx::query("UPDATE api_keys SET revoked_ms = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let after = ApiKey { revoked_ms: Some(at), ..before.clone() };
    audit::record(
        &mut tx,
        actor,
        Change::new("api_key.revoke", format!("api_key:{id}")).before(&before).after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// How often a key's last use is written: at most once a minute, so a busy key does not
/// write its row on every request.
const LAST_USED_EVERY_MS: i64 = 60_000;

/// The live key whose secret this is.
pub async fn authenticate(db: &Db, secret: &str) -> Result<ApiKey> {
    let refused = || Error::Unauthorized("the API key is not valid or has been revoked".into());
    if !secret.starts_with(KEY_START) || secret.len() > 200 {
        return Err(refused());
    }
    let row: Row = sqlx::query_as(concat!("SELECT ", columns!(), " FROM api_keys WHERE secret_hash = $1"))
        .bind(hash_secret(secret))
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(refused)?;
    let key = ApiKey::from(row);
    if key.revoked_ms.is_some() {
        return Err(refused());
    }
    let now = now_ms();
    if key.last_used_ms.is_none_or(|at| at + LAST_USED_EVERY_MS < now) {
        db.write(
            sqlx::query(
                "UPDATE api_keys SET last_used_ms = $1 WHERE id = $2 AND (last_used_ms IS NULL OR last_used_ms < $3)",
            )
            .bind(now)
            .bind(&key.id)
            .bind(now - LAST_USED_EVERY_MS),
        )
        .await?;
    }
    Ok(key)
}
