//! Stock levels: the routes of [`crate::inventory`].

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::error::ApiResult;
use super::extract::QueryParams;
use crate::identity::Staff;
use crate::inventory::{self, StockQuery};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/stock", get(list_stock))
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
