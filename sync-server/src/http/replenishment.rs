//! Replenishment requests and logistics' decisions: the routes of [`crate::replenishment`].

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use shared_model::protocol::{Decision, ReplenishmentDecision};
use shared_model::{LocationKind, RecordId};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, QueryParams};
use crate::identity::{Role, Staff};
use crate::replenishment::{self, RequestView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/replenishments", get(list))
        .route("/api/replenishments/{id}/decision", post(decide))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ListQuery {
    /// pending, approved or rejected; all when absent.
    pub status: Option<String>,
}

/// Replenishment requests (admin, logistics, manager).
#[utoipa::path(get, path = "/api/replenishments", params(ListQuery), responses((status = 200, description = "Requests, oldest first")))]
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Vec<RequestView>>> {
    staff.require(&[Role::Logistics, Role::Manager])?;
    Ok(Json(replenishment::requests(&state.db, q.status.as_deref()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// approved or rejected.
    #[schema(value_type = String)]
    pub decision: Decision,
    pub note: Option<String>,
}

/// Approve (ship a transfer) or reject a request (admin, logistics).
#[utoipa::path(post, path = "/api/replenishments/{id}/decision", request_body = DecisionInput, responses((status = 200, description = "Decided"), (status = 409, description = "Already decided")))]
pub async fn decide(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<DecisionInput>,
) -> ApiResult<Json<ReplenishmentDecision>> {
    staff.require(&[Role::Logistics])?;
    let request = RecordId::parse(&id).map_err(|e| ApiError::bad("id", e))?;
    if input.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::invalid("note", "a note has at most 500 characters"));
    }
    let logistics = crate::catalogue::location_of_kind(&state.db, LocationKind::Logistics)
        .await?
        .ok_or_else(|| ApiError::Conflict("the chain has no logistics centre".into()))?;
    let decided = replenishment::decide_request(
        &state.db,
        request,
        input.decision,
        input.note,
        &staff.username,
        &logistics,
    )
    .await?;
    Ok(Json(decided))
}
