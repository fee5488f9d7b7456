//! Stock levels: the routes of [`crate::inventory`].

use axum::Json;
use axum::extract::State;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiResult;
use super::extract::QueryParams;
use super::routes::{Policy, Routes};
use crate::gateway::keys::Scope;
use crate::identity::Staff;
use crate::inventory::{self, StockQuery};

pub fn routes() -> Routes {
    Routes::tagged("inventory").route(Policy::office().key(Scope::CatalogueRead), routes!(list_stock))
}

/// Stock levels (admin, manager, logistics; registers pull them through the feed).
#[utoipa::path(get, path = "/api/stock", params(StockQuery), responses((status = 200, description = "Stock per location and product")))]
pub async fn list_stock(
    State(state): State<AppState>,
    _staff: Staff,
    QueryParams(query): QueryParams<StockQuery>,
) -> ApiResult<Json<Vec<inventory::LevelView>>> {
    Ok(Json(inventory::levels(&state.db, &query).await?))
}
