//! Who may call the server: head-office users (argon2 passwords, roles, session tokens) and
//! registers (enrolled once with a code from head office, then holding a device secret bound
//! to one store). Secrets and tokens are random 256-bit values stored only as SHA-256 hashes:
//! they are not guessable, so a slow hash buys nothing there; passwords and PINs, which people
//! choose, get argon2.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared_model::{LocationCode, RegisterId};
use sqlx::Row;

use crate::db::{Db, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::http::AppState;

/// How long a head-office session lasts.
const SESSION_MS: i64 = 12 * 3_600_000;
/// How long an enrolment code stays valid.
const ENROLMENT_MS: i64 = 7 * 24 * 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Logistics,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Logistics => "logistics",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Manager, Role::Logistics].into_iter().find(|r| r.as_str() == text)
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A random token: 32 bytes as hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

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

/// Hashes a password or PIN with argon2 (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Creates the first admin when there is no user at all, so a new chain can be signed into.
/// Returns the password when it made one (the one given, or a random one to print once).
pub async fn ensure_first_admin(db: &Db, password: Option<String>) -> anyhow::Result<Option<String>> {
    let users: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(db.pool()).await?.try_get("n")?;
    if users > 0 {
        return Ok(None);
    }
    let password = password.unwrap_or_else(|| new_token()[..16].to_owned());
    create_user(db, "admin", &password, Role::Admin).await?;
    Ok(Some(password))
}

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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub token: String,
    pub username: String,
    pub role: Role,
    pub expires_ms: i64,
}

/// Checks a password and opens a session.
pub async fn log_in(db: &Db, username: &str, password: &str) -> ApiResult<Session> {
    let row = sqlx::query("SELECT password_hash, role FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(db.pool())
        .await?;
    let refused = || ApiError::Unauthorized("wrong username or password".into());
    let row = row.ok_or_else(refused)?;
    let hash: String = row.try_get("password_hash")?;
    let role = Role::parse(&row.try_get::<String, _>("role")?).ok_or_else(refused)?;
    // argon2 is slow on purpose: keep it off the async workers.
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if !ok {
        return Err(refused());
    }
    let token = new_token();
    let expires_ms = now_ms() + SESSION_MS;
    db.write(
        sqlx::query("INSERT INTO sessions (token_hash, username, expires_ms) VALUES ($1, $2, $3)")
            .bind(hash_secret(&token))
            .bind(username)
            .bind(expires_ms),
    )
    .await?;
    Ok(Session { token, username: username.to_owned(), role, expires_ms })
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// A signed-in head-office user. Handlers ask for the role they need with [`Staff::require`].
#[derive(Debug, Clone)]
pub struct Staff {
    pub username: String,
    pub role: Role,
}

impl Staff {
    /// Admins may do everything; other roles only what is listed.
    pub fn require(&self, allowed: &[Role]) -> ApiResult<()> {
        if self.role == Role::Admin || allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("the {} role may not do this", self.role.as_str())))
        }
    }
}

impl<S> FromRequestParts<S> for Staff
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = bearer(parts).ok_or_else(|| {
            ApiError::Unauthorized(
                "sign in first: send Authorization: Bearer <token from /api/auth/login>".into(),
            )
        })?;
        let row = sqlx::query(
            "SELECT u.username, u.role, s.expires_ms FROM sessions s JOIN users u ON u.username = s.username
             WHERE s.token_hash = $1",
        )
        .bind(hash_secret(token))
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the session token is not valid: sign in again".into()))?;
        if row.try_get::<i64, _>("expires_ms")? < now_ms() {
            return Err(ApiError::Unauthorized("the session has expired: sign in again".into()));
        }
        let role = Role::parse(&row.try_get::<String, _>("role")?)
            .ok_or_else(|| ApiError::Forbidden("unknown role".into()))?;
        Ok(Staff { username: row.try_get("username")?, role })
    }
}

/// An enrolled register, authenticated by its device secret.
#[derive(Debug, Clone)]
pub struct Register {
    pub id: RegisterId,
    pub store: LocationCode,
}

impl<S> FromRequestParts<S> for Register
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let secret = bearer(parts).ok_or_else(|| {
            ApiError::Unauthorized(
                "a register sends its device secret as Authorization: Bearer <secret>".into(),
            )
        })?;
        let row = sqlx::query("SELECT id, store, revoked_ms FROM registers WHERE secret_hash = $1")
            .bind(hash_secret(secret))
            .fetch_optional(state.db.pool())
            .await?
            .ok_or_else(|| {
                ApiError::Unauthorized("this device secret is not known: enrol the register".into())
            })?;
        let id: String = row.try_get("id")?;
        if row.try_get::<Option<i64>, _>("revoked_ms")?.is_some() {
            return Err(ApiError::Unauthorized(format!(
                "register {id} has been revoked by head office: enrol it again with a new code"
            )));
        }
        let id = RegisterId::parse(&id).map_err(|e| ApiError::Internal(e.into()))?;
        let store = LocationCode::parse(&row.try_get::<String, _>("store")?)
            .map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Register { id, store })
    }
}

/// Adds a register to a store (not yet enrolled).
pub async fn add_register(db: &Db, id: &RegisterId) -> anyhow::Result<()> {
    db.write(
        sqlx::query("INSERT INTO registers (id, store) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(id.as_str())
            .bind(id.store().as_str()),
    )
    .await?;
    Ok(())
}

/// Issues a fresh enrolment code for a register; earlier unused codes stay valid until used or expired.
pub async fn issue_enrolment_code(db: &Db, register: &RegisterId) -> ApiResult<String> {
    let known = sqlx::query("SELECT id FROM registers WHERE id = $1")
        .bind(register.as_str())
        .fetch_optional(db.pool())
        .await?;
    if known.is_none() {
        return Err(ApiError::NotFound(format!("no register {register}: add it first")));
    }
    let code = new_enrolment_code();
    db.write(
        sqlx::query("INSERT INTO enrolment_codes (code_hash, register_id, expires_ms) VALUES ($1, $2, $3)")
            .bind(hash_secret(&normalise_code(&code)))
            .bind(register.as_str())
            .bind(now_ms() + ENROLMENT_MS),
    )
    .await?;
    Ok(code)
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrolment {
    #[schema(value_type = String)]
    pub register: RegisterId,
    #[schema(value_type = String)]
    pub store: LocationCode,
    /// The device secret: shown once, stored only hashed.
    pub secret: String,
    /// What the server holds of this register already (a re-enrolled till resumes from here).
    pub holds: i64,
}

/// Exchanges an enrolment code, once, for a device secret. Enrolling again replaces the
/// previous secret (a replaced till), and lifts a revocation.
pub async fn enrol(db: &Db, code: &str) -> ApiResult<Enrolment> {
    let mut tx = db.begin().await?;
    let code_hash = hash_secret(&normalise_code(code));
    // Claiming and checking the code is one statement: two devices racing with one code
    // cannot both win.
    let now = now_ms();
    let claimed = sqlx::query(
        "UPDATE enrolment_codes SET used_ms = $1 WHERE code_hash = $2 AND used_ms IS NULL AND expires_ms >= $1
         RETURNING register_id",
    )
    .bind(now)
    .bind(&code_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(claimed) = claimed else {
        let known = sqlx::query("SELECT used_ms FROM enrolment_codes WHERE code_hash = $1")
            .bind(&code_hash)
            .fetch_optional(&mut *tx)
            .await?;
        return Err(match known {
            None => ApiError::invalid("code", "this enrolment code is not known: ask head office for one"),
            Some(row) if row.try_get::<Option<i64>, _>("used_ms")?.is_some() => {
                ApiError::invalid("code", "this enrolment code has already been used")
            }
            Some(_) => {
                ApiError::invalid("code", "this enrolment code has expired: ask head office for a new one")
            }
        });
    };
    let register: String = claimed.try_get("register_id")?;
    let row = sqlx::query("SELECT store, holds FROM registers WHERE id = $1")
        .bind(&register)
        .fetch_one(&mut *tx)
        .await?;
    let secret = new_token();
    sqlx::query("UPDATE registers SET secret_hash = $1, enrolled_ms = $2, revoked_ms = NULL WHERE id = $3")
        .bind(hash_secret(&secret))
        .bind(now_ms())
        .bind(&register)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Enrolment {
        register: RegisterId::parse(&register).map_err(|e| ApiError::Internal(e.into()))?,
        store: LocationCode::parse(&row.try_get::<String, _>("store")?)
            .map_err(|e| ApiError::Internal(e.into()))?,
        secret,
        holds: row.try_get("holds")?,
    })
}

pub async fn revoke(db: &Db, register: &RegisterId) -> ApiResult<()> {
    let done = db
        .write(
            sqlx::query("UPDATE registers SET revoked_ms = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(register.as_str()),
        )
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!("no register {register}")));
    }
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterStatus {
    pub id: String,
    pub store: String,
    pub enrolled: bool,
    pub revoked: bool,
    pub holds: i64,
    pub last_push_ms: Option<i64>,
    pub last_pull_ms: Option<i64>,
}

pub async fn registers(db: &Db) -> ApiResult<Vec<RegisterStatus>> {
    let rows = sqlx::query(
        "SELECT id, store, secret_hash, revoked_ms, holds, last_push_ms, last_pull_ms FROM registers ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RegisterStatus {
                id: r.try_get("id")?,
                store: r.try_get("store")?,
                enrolled: r.try_get::<Option<String>, _>("secret_hash")?.is_some(),
                revoked: r.try_get::<Option<i64>, _>("revoked_ms")?.is_some(),
                holds: r.try_get("holds")?,
                last_push_ms: r.try_get("last_push_ms")?,
                last_pull_ms: r.try_get("last_pull_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Records what the server now holds of a register after a push.
pub async fn note_push(
    conn: &mut sqlx::AnyConnection,
    register: &RegisterId,
    holds: u64,
) -> sqlx::Result<()> {
    let holds = i64::try_from(holds).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE registers SET last_push_ms = $1, holds = CASE WHEN holds < $2 THEN $2 ELSE holds END WHERE id = $3",
    )
    .bind(now_ms())
    .bind(holds)
    .bind(register.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn note_pull(db: &Db, register: &RegisterId) -> sqlx::Result<()> {
    db.write(
        sqlx::query("UPDATE registers SET last_pull_ms = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(register.as_str()),
    )
    .await?;
    Ok(())
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/registers", get(list_registers).post(create_register))
        .route("/api/registers/{id}/enrolment-code", post(enrolment_code))
        .route("/api/registers/{id}/revoke", post(revoke_register))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

/// Sign in to head office: returns a bearer token for the other head-office routes.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginInput, responses((status = 200, description = "A session", body = Session), (status = 401, description = "Wrong username or password")))]
pub async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    crate::http::JsonBody(input): crate::http::JsonBody<LoginInput>,
) -> ApiResult<axum::Json<Session>> {
    Ok(axum::Json(log_in(&state.db, &input.username, &input.password).await?))
}

/// Registers and their last sync (every role).
#[utoipa::path(get, path = "/api/registers", responses((status = 200, description = "Registers", body = [RegisterStatus])))]
pub async fn list_registers(
    axum::extract::State(state): axum::extract::State<AppState>,
    _staff: Staff,
) -> ApiResult<axum::Json<Vec<RegisterStatus>>> {
    Ok(axum::Json(registers(&state.db).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// STORE-NN, like PLAT-03.
    pub id: String,
}

/// Add a register to a store (admin). Then issue it an enrolment code.
#[utoipa::path(post, path = "/api/registers", request_body = RegisterInput, responses((status = 201, description = "Added")))]
pub async fn create_register(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    crate::http::JsonBody(input): crate::http::JsonBody<RegisterInput>,
) -> ApiResult<axum::http::StatusCode> {
    staff.require(&[])?;
    let id = RegisterId::parse(&input.id).map_err(|e| ApiError::invalid("id", e))?;
    let store_known = sqlx::query("SELECT code FROM locations WHERE code = $1 AND kind = 'store'")
        .bind(id.store().as_str())
        .fetch_optional(state.db.pool())
        .await?
        .is_some();
    if !store_known {
        return Err(ApiError::invalid("id", format!("there is no store {}", id.store())));
    }
    add_register(&state.db, &id).await?;
    Ok(axum::http::StatusCode::CREATED)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CodeView {
    pub register: String,
    pub code: String,
}

/// Issue an enrolment code for a register (admin).
#[utoipa::path(post, path = "/api/registers/{id}/enrolment-code", responses((status = 200, description = "A one-time code", body = CodeView)))]
pub async fn enrolment_code(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<axum::Json<CodeView>> {
    staff.require(&[])?;
    let id = RegisterId::parse(&id).map_err(|e| ApiError::bad("id", e))?;
    let code = issue_enrolment_code(&state.db, &id).await?;
    Ok(axum::Json(CodeView { register: id.to_string(), code }))
}

/// Revoke a register's device secret (admin): its next sync is refused.
#[utoipa::path(post, path = "/api/registers/{id}/revoke", responses((status = 204, description = "Revoked")))]
pub async fn revoke_register(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    staff.require(&[])?;
    let id = RegisterId::parse(&id).map_err(|e| ApiError::bad("id", e))?;
    revoke(&state.db, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
