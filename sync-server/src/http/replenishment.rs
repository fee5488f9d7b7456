//! Replenishment requests and logistics' decisions: the routes of [`crate::replenishment`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use shared_model::protocol::{Decision, ReplenishmentDecision};
use shared_model::stock::ItemQuantity;
use shared_model::{LocationCode, LocationKind, Quantity, RecordId, Sku};
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Acting;
use super::extract::{JsonBody, QueryParams};
use super::routes::{Policy, Routes};
use crate::identity::{Role, Staff};
use crate::replenishment::{self, RequestView, TransferView};

pub fn routes() -> Routes {
    Routes::tagged("replenishment")
        .route(Policy::office(), routes!(list))
        .route(Policy::office(), routes!(decide))
        .route(Policy::office(), routes!(list_transfers))
        .route(Policy::office(), routes!(start_transfer))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    /// Why, for a rejection (required then); anything logistics wants the store to read.
    pub note: Option<String>,
    /// The quantities to ship instead of those asked for (0 leaves a line out); approvals only.
    pub lines: Option<Vec<LineInput>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub sku: String,
    pub quantity: u32,
}

fn read_lines(lines: &[LineInput]) -> ApiResult<Vec<(Sku, u32)>> {
    if lines.len() > 500 {
        return Err(ApiError::invalid("lines", "at most 500 lines"));
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let sku = Sku::parse(&l.sku).map_err(|e| ApiError::invalid(format!("lines[{i}].sku"), e))?;
            Ok((sku, l.quantity))
        })
        .collect()
}

/// Approve (ship a transfer) or reject a request (admin, logistics).
#[utoipa::path(post, path = "/api/replenishments/{id}/decision", request_body = DecisionInput, responses((status = 200, description = "Decided"), (status = 409, description = "Already decided")))]
pub async fn decide(
    State(state): State<AppState>,
    acting: Acting,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<DecisionInput>,
) -> ApiResult<Json<ReplenishmentDecision>> {
    acting.staff.require(&[Role::Logistics])?;
    let request = RecordId::parse(&id).map_err(|e| ApiError::bad("id", e))?;
    if input.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::invalid("note", "a note has at most 500 characters"));
    }
    let logistics = crate::catalogue::location_of_kind(&state.db, LocationKind::Logistics)
        .await?
        .ok_or_else(|| ApiError::Conflict("the chain has no logistics centre".into()))?;
    let approved = input.lines.as_deref().map(read_lines).transpose()?;
    let decided = replenishment::decide_request(
        &state.db,
        request,
        input.decision,
        input.note,
        approved.as_deref(),
        &acting.actor,
        &logistics,
    )
    .await?;
    state.events.send(super::events::Topic::Replenishment);
    tracing::info!(%request, decision = ?decided.decision, by = acting.staff.username, "replenishment decided");
    Ok(Json(decided))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct TransferQuery {
    /// Only those the receiving store has not recorded yet.
    pub open: Option<bool>,
    /// 1 to 500 (default 100), newest first.
    pub limit: Option<u32>,
}

/// Transfers, newest first (admin, logistics, manager).
#[utoipa::path(get, path = "/api/transfers", params(TransferQuery), responses((status = 200, description = "Transfers", body = [TransferView])))]
pub async fn list_transfers(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(q): QueryParams<TransferQuery>,
) -> ApiResult<Json<Vec<TransferView>>> {
    staff.require(&[Role::Logistics, Role::Manager])?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is between 1 and 500"));
    }
    Ok(Json(replenishment::transfers(&state.db, q.open.unwrap_or(false), limit).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// The store or logistics centre that sends.
    pub from: String,
    /// The store that receives.
    pub to: String,
    pub lines: Vec<LineInput>,
}

/// Ship a transfer between locations (admin, logistics): a redistribution from a store that
/// has the product, or a replenishment from the logistics centre.
#[utoipa::path(post, path = "/api/transfers", request_body = TransferInput, responses((status = 201, description = "Shipped", body = TransferView), (status = 409, description = "The sender does not hold enough")))]
pub async fn start_transfer(
    State(state): State<AppState>,
    acting: Acting,
    JsonBody(input): JsonBody<TransferInput>,
) -> ApiResult<(StatusCode, Json<TransferView>)> {
    acting.staff.require(&[Role::Logistics])?;
    let from = LocationCode::parse(&input.from).map_err(|e| ApiError::invalid("from", e))?;
    let to = LocationCode::parse(&input.to).map_err(|e| ApiError::invalid("to", e))?;
    let locations = crate::catalogue::locations(&state.db).await?;
    let kind_of = |code: &LocationCode| locations.iter().find(|l| l.code == *code).map(|l| l.kind);
    match kind_of(&from) {
        Some(LocationKind::Store | LocationKind::Logistics) => {}
        Some(_) => return Err(ApiError::invalid("from", "goods leave a store or the logistics centre")),
        None => return Err(ApiError::invalid("from", format!("there is no location {from}"))),
    }
    match kind_of(&to) {
        Some(LocationKind::Store) => {}
        Some(_) => {
            return Err(ApiError::invalid("to", "a transfer goes to a store, whose register receives it"));
        }
        None => return Err(ApiError::invalid("to", format!("there is no location {to}"))),
    }
    let lines = read_lines(&input.lines)?
        .into_iter()
        .enumerate()
        .map(|(i, (sku, units))| {
            let quantity =
                Quantity::new(units).map_err(|e| ApiError::invalid(format!("lines[{i}].quantity"), e))?;
            Ok(ItemQuantity { sku, quantity })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let transfer = replenishment::start_transfer(&state.db, &from, &to, lines, &acting.actor).await?;
    state.events.send(super::events::Topic::Stock);
    tracing::info!(transfer = transfer.id, %from, %to, by = acting.staff.username, "transfer started");
    Ok((StatusCode::CREATED, Json(transfer)))
}
