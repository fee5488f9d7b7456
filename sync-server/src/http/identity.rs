//! Head-office sign-in, passwords and registers: the routes of [`crate::identity`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shared_model::RegisterId;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Acting;
use super::extract::{ClientAddr, JsonBody, SESSION_COOKIE};
use super::routes::{Policy, Routes};
use crate::identity::{self, Role, Staff};

/// A head-office sign-in: a password checked, every try counted against the client's address.
const SIGN_IN: Policy = Policy::anyone().sign_in().answers(&[
    ("401", "Wrong username or password"),
    ("403", "The account is disabled"),
    ("429", "Too many failed attempts: see Retry-After"),
    ("503", "Too many sign-ins being checked: see Retry-After"),
]);

/// Users' routes: those that check or set a password count failed attempts and bound the
/// hashes under way.
const PASSWORDS: Policy = Policy::office().answers(&[
    ("429", "Too many failed attempts: see Retry-After"),
    ("503", "Too many passwords being checked: see Retry-After"),
]);

pub fn routes() -> Routes {
    Routes::tagged("identity")
        .route(SIGN_IN, routes!(login))
        .route(SIGN_IN, routes!(open_page_session))
        .route(Policy::office(), routes!(logout))
        .route(Policy::office(), routes!(me))
        .route(PASSWORDS, routes!(password))
        .route(PASSWORDS, routes!(list_users))
        .route(PASSWORDS, routes!(create_user))
        .route(PASSWORDS, routes!(disable_user))
        .route(PASSWORDS, routes!(enable_user))
        .route(PASSWORDS, routes!(change_role))
        .route(PASSWORDS, routes!(reset_password))
        .route(Policy::office(), routes!(list_registers))
        .route(Policy::office(), routes!(create_register))
        .route(Policy::office(), routes!(enrolment_code))
        .route(Policy::office(), routes!(revoke_register))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

/// Sign in to head office: returns a bearer token for the other head-office routes.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginInput, responses((status = 200, description = "A session", body = identity::Session), (status = 401, description = "Wrong username or password"), (status = 429, description = "Too many failures for this account from this address, from this address, or (rarely) for this account: see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    JsonBody(input): JsonBody<LoginInput>,
) -> ApiResult<Json<identity::Session>> {
    let session =
        identity::log_in(&state.db, &state.passwords, address, &input.username, &input.password).await?;
    Ok(Json(session))
}

/// A page's session: who signed in, and the anti-forgery token its writes must send as
/// `X-CSRF-Token`. The session's token itself is in an HttpOnly cookie the page cannot read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageSession {
    pub username: String,
    pub role: Role,
    pub csrf: String,
    pub expires_ms: i64,
}

/// The session cookie: HttpOnly, so a script injected into a page cannot read the token;
/// SameSite=Strict, so another site's page cannot make the browser send it; `Secure` over
/// HTTPS. An empty value with no lifetime removes it.
fn session_cookie(state: &AppState, token: &str, max_age_s: i64) -> ApiResult<HeaderValue> {
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    ))
    .map_err(|e| ApiError::Internal(e.into()))
}

/// Sign in from head office's pages: the session is set as a cookie, not returned.
#[utoipa::path(post, path = "/api/auth/session", request_body = LoginInput, responses((status = 200, description = "Signed in; the session is in the Set-Cookie header", body = PageSession), (status = 401, description = "Wrong username or password"), (status = 429, description = "Too many failures for this account from this address, from this address, or (rarely) for this account: see Retry-After")))]
pub async fn open_page_session(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    JsonBody(input): JsonBody<LoginInput>,
) -> ApiResult<Response> {
    let session =
        identity::log_in(&state.db, &state.passwords, address, &input.username, &input.password).await?;
    let lifetime_s = (session.expires_ms - state.db.now_ms()).max(0) / 1_000;
    let cookie = session_cookie(&state, &session.token, lifetime_s)?;
    let body = PageSession {
        username: session.username,
        role: session.role,
        csrf: session.csrf,
        expires_ms: session.expires_ms,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Who is signed in (a page asks when it opens).
#[utoipa::path(get, path = "/api/auth/me", responses((status = 200, description = "The session", body = PageSession)))]
pub async fn me(staff: Staff) -> ApiResult<Response> {
    let body = PageSession {
        username: staff.username,
        role: staff.role,
        csrf: staff.csrf,
        expires_ms: staff.expires_ms,
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// Sign out: the session's token stops working, and a page's cookie is removed.
#[utoipa::path(post, path = "/api/auth/logout", security(("session" = [])), responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, staff: Staff) -> ApiResult<Response> {
    identity::log_out(&state.db, &staff).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(&state, "", 0)?);
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    pub current_password: String,
    /// 12 to 1,024 characters, hard to guess (zxcvbn's score 3 or more).
    pub new_password: String,
}

/// Change one's own password (the admin's printed one first of all); other sessions end.
#[utoipa::path(post, path = "/api/auth/password", request_body = PasswordInput, security(("session" = [])), responses((status = 204, description = "Changed"), (status = 422, description = "The current password is wrong, or the new one too short or too easy to guess"), (status = 429, description = "Too many wrong current passwords: see Retry-After")))]
pub async fn password(
    State(state): State<AppState>,
    staff: Staff,
    JsonBody(input): JsonBody<PasswordInput>,
) -> ApiResult<StatusCode> {
    identity::change_password(
        &state.db,
        &state.passwords,
        &staff,
        &input.current_password,
        &input.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Registers and their last sync (every role).
#[utoipa::path(get, path = "/api/registers", responses((status = 200, description = "Registers", body = [identity::RegisterStatus])))]
pub async fn list_registers(
    State(state): State<AppState>,
    _staff: Staff,
) -> ApiResult<Json<Vec<identity::RegisterStatus>>> {
    Ok(Json(identity::registers(&state.db).await?))
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
    State(state): State<AppState>,
    staff: Staff,
    JsonBody(input): JsonBody<RegisterInput>,
) -> ApiResult<StatusCode> {
    staff.require(&[])?;
    let id = RegisterId::parse(&input.id).map_err(|e| ApiError::invalid("id", e))?;
    identity::create_register(&state.db, &id).await?;
    state.events.send(super::events::Topic::Registers);
    Ok(StatusCode::CREATED)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CodeView {
    pub register: String,
    pub code: String,
}

/// Issue an enrolment code for a register (admin).
#[utoipa::path(post, path = "/api/registers/{id}/enrolment-code", responses((status = 200, description = "A one-time code", body = CodeView)))]
pub async fn enrolment_code(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<CodeView>> {
    staff.require(&[])?;
    let id = RegisterId::parse(&id).map_err(|e| ApiError::bad("id", e))?;
    let code = identity::issue_enrolment_code(&state.db, &id).await?;
    Ok(Json(CodeView { register: id.to_string(), code }))
}

/// Revoke a register's device secret (admin): its next sync is refused.
#[utoipa::path(post, path = "/api/registers/{id}/revoke", responses((status = 204, description = "Revoked")))]
pub async fn revoke_register(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    acting.staff.require(&[])?;
    let id = RegisterId::parse(&id).map_err(|e| ApiError::bad("id", e))?;
    identity::revoke(&state.db, &id, &acting.actor).await?;
    state.events.send(super::events::Topic::Registers);
    tracing::info!(register = %id, by = acting.staff.username, "register revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Head-office accounts (admin).
#[utoipa::path(get, path = "/api/users", responses((status = 200, description = "Accounts by name", body = [identity::Account])))]
pub async fn list_users(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<identity::Account>>> {
    staff.require(&[])?;
    Ok(Json(identity::accounts(&state.db).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3 to 64 lower-case letters, digits, dots, dashes or underscores.
    pub username: String,
    /// admin, manager or logistics.
    pub role: String,
    /// 12 to 1,024 characters, hard to guess (zxcvbn's score 3 or more); the person changes it
    /// after signing in.
    pub password: String,
}

/// Create a head-office account with a role (admin).
#[utoipa::path(post, path = "/api/users", request_body = NewUser, responses((status = 201, description = "Created", body = identity::Account), (status = 409, description = "The name is taken"), (status = 422, description = "A bad name or role, or a password too short or too easy to guess")))]
pub async fn create_user(
    State(state): State<AppState>,
    acting: Acting,
    JsonBody(input): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<identity::Account>)> {
    acting.staff.require(&[])?;
    let role = Role::parse(&input.role)
        .ok_or_else(|| ApiError::invalid("role", "role is admin, manager or logistics"))?;
    let account = identity::create_account(
        &state.db,
        &state.passwords,
        &input.username,
        role,
        &input.password,
        &acting.actor,
    )
    .await?;
    tracing::info!(
        username = account.username,
        role = role.as_str(),
        by = acting.staff.username,
        "account created"
    );
    Ok((StatusCode::CREATED, Json(account)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// admin, manager or logistics.
    pub role: String,
}

/// Give an account another role (admin): its sessions end, so the new role applies at once.
#[utoipa::path(post, path = "/api/users/{username}/role", request_body = RoleInput, responses((status = 200, description = "Changed", body = identity::Account), (status = 409, description = "One's own account, or the last admin")))]
pub async fn change_role(
    State(state): State<AppState>,
    acting: Acting,
    Path(username): Path<String>,
    JsonBody(input): JsonBody<RoleInput>,
) -> ApiResult<Json<identity::Account>> {
    acting.staff.require(&[])?;
    let role = Role::parse(&input.role)
        .ok_or_else(|| ApiError::invalid("role", "role is admin, manager or logistics"))?;
    let account = identity::set_role(&state.db, &acting.staff, &username, role, &acting.actor).await?;
    tracing::info!(username, role = role.as_str(), by = acting.staff.username, "role changed");
    Ok(Json(account))
}

/// Disable an account (admin): it cannot sign in and its sessions end.
#[utoipa::path(post, path = "/api/users/{username}/disable", responses((status = 200, description = "Disabled", body = identity::Account), (status = 409, description = "One's own account, or the last admin")))]
pub async fn disable_user(
    State(state): State<AppState>,
    acting: Acting,
    Path(username): Path<String>,
) -> ApiResult<Json<identity::Account>> {
    acting.staff.require(&[])?;
    let account = identity::set_disabled(&state.db, &acting.staff, &username, true, &acting.actor).await?;
    tracing::info!(username, by = acting.staff.username, "account disabled");
    Ok(Json(account))
}

/// Enable a disabled account again (admin).
#[utoipa::path(post, path = "/api/users/{username}/enable", responses((status = 200, description = "Enabled", body = identity::Account)))]
pub async fn enable_user(
    State(state): State<AppState>,
    acting: Acting,
    Path(username): Path<String>,
) -> ApiResult<Json<identity::Account>> {
    acting.staff.require(&[])?;
    let account = identity::set_disabled(&state.db, &acting.staff, &username, false, &acting.actor).await?;
    tracing::info!(username, by = acting.staff.username, "account enabled");
    Ok(Json(account))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetInput {
    /// 12 to 1,024 characters, hard to guess (zxcvbn's score 3 or more).
    pub new_password: String,
}

/// Set someone's forgotten password (admin): their sessions end.
#[utoipa::path(post, path = "/api/users/{username}/password", request_body = ResetInput, responses((status = 204, description = "Set"), (status = 409, description = "One's own: change it with the current one"), (status = 422, description = "The password is too short or too easy to guess")))]
pub async fn reset_password(
    State(state): State<AppState>,
    acting: Acting,
    Path(username): Path<String>,
    JsonBody(input): JsonBody<ResetInput>,
) -> ApiResult<StatusCode> {
    acting.staff.require(&[])?;
    identity::reset_password(
        &state.db,
        &state.passwords,
        &acting.staff,
        &username,
        &input.new_password,
        &acting.actor,
    )
    .await?;
    tracing::info!(username, by = acting.staff.username, "password reset");
    Ok(StatusCode::NO_CONTENT)
}
