//! Head-office sign-in, passwords and registers: the routes of [`crate::identity`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shared_model::RegisterId;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ClientAddr, JsonBody};
use crate::identity::{self, Staff};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/password", post(password))
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
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginInput, responses((status = 200, description = "A session", body = identity::Session), (status = 401, description = "Wrong username or password")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    JsonBody(input): JsonBody<LoginInput>,
) -> ApiResult<Json<identity::Session>> {
    let session =
        identity::log_in(&state.db, &state.passwords, address, &input.username, &input.password).await?;
    Ok(Json(session))
}

/// Sign out: the session's token stops working.
#[utoipa::path(post, path = "/api/auth/logout", security(("session" = [])), responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, staff: Staff) -> ApiResult<StatusCode> {
    identity::log_out(&state.db, &staff).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    pub current_password: String,
    /// 12 to 1,024 characters.
    pub new_password: String,
}

/// Change one's own password (the admin's printed one first of all); other sessions end.
#[utoipa::path(post, path = "/api/auth/password", request_body = PasswordInput, security(("session" = [])), responses((status = 204, description = "Changed")))]
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
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    staff.require(&[])?;
    let id = RegisterId::parse(&id).map_err(|e| ApiError::bad("id", e))?;
    identity::revoke(&state.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
