//! Integrations' API keys (admin): made, listed and revoked here; checked against each
//! route's scope by the [`gateway`](super::gateway).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiResult;
use super::extract::{Acting, JsonBody};
use super::routes::{Policy, Routes};
use crate::gateway::keys::{self, ApiKey};

pub fn routes() -> Routes {
    Routes::tagged("api_keys")
        .route(Policy::office(), routes!(list_keys))
        .route(Policy::office(), routes!(create_key))
        .route(Policy::office(), routes!(revoke_key))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    /// Who the key is for: "Partner storefront", "BI tool".
    pub name: String,
    /// Any of catalogue_read, reports_read, shop.
    pub scopes: Vec<String>,
    /// Requests a minute (100 unless set).
    pub per_minute: Option<u32>,
    /// Requests an hour (1,000 unless set).
    pub per_hour: Option<u32>,
}

/// Make an API key (admin). Its secret is in this answer only.
#[utoipa::path(post, path = "/api/api-keys", request_body = KeyInput, responses((status = 201, description = "The key and its secret, shown once", body = keys::Created)))]
pub async fn create_key(
    State(state): State<AppState>,
    acting: Acting,
    JsonBody(input): JsonBody<KeyInput>,
) -> ApiResult<(StatusCode, Json<keys::Created>)> {
    acting.staff.require(&[])?;
    let new = keys::NewKey {
        name: input.name,
        scopes: input.scopes,
        per_minute: input.per_minute,
        per_hour: input.per_hour,
    };
    let created = keys::create(&state.db, &acting.actor, new).await?;
    tracing::info!(
        key = created.key.id,
        name = created.key.name,
        by = acting.staff.username,
        "API key created"
    );
    Ok((StatusCode::CREATED, Json(created)))
}

/// Every API key, revoked ones included, without their secrets (admin).
#[utoipa::path(get, path = "/api/api-keys", responses((status = 200, description = "The keys", body = [ApiKey])))]
pub async fn list_keys(State(state): State<AppState>, acting: Acting) -> ApiResult<Json<Vec<ApiKey>>> {
    acting.staff.require(&[])?;
    Ok(Json(keys::list(&state.db).await?))
}

/// Revoke an API key (admin): refused by every instance from its next request.
#[utoipa::path(post, path = "/api/api-keys/{id}/revoke", responses((status = 200, description = "The key, revoked", body = ApiKey)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    acting.staff.require(&[])?;
    let key = keys::revoke(&state.db, &acting.actor, &id).await?;
    tracing::info!(key = id, by = acting.staff.username, "API key revoked");
    Ok(Json(key))
}
