//! Reports and alerts for head office: the routes of [`crate::reporting`] and [`crate::alerts`].

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, QueryParams};
use super::routes::{Policy, Routes};
use crate::alerts::{self, AlertView};
use crate::gateway::keys::Scope;
use crate::identity::{Role, Staff};
use crate::{dashboard, reporting};

pub fn routes() -> Routes {
    Routes::tagged("reporting")
        .route(Policy::office().key(Scope::ReportsRead), routes!(sales_report))
        .route(Policy::office().key(Scope::ReportsRead), routes!(dashboard))
        .route(Policy::office(), routes!(list_alerts))
        .route(Policy::office(), routes!(acknowledge_alert))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ReportQuery {
    /// First business day, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last business day, YYYY-MM-DD (inclusive).
    pub to: Option<String>,
    /// json (default) or csv.
    pub format: Option<String>,
    /// How many top products (default 10, at most 1000).
    pub top: Option<u32>,
}

fn day(field: &str, text: Option<&str>) -> ApiResult<NaiveDate> {
    let text = text.ok_or_else(|| ApiError::bad(field, format!("{field} is required, as YYYY-MM-DD")))?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ApiError::bad(field, format!("{field} must be a date like 2026-11-22")))
}

/// Consolidated sales report (admin, manager): sales by store, top products, stock by location.
#[utoipa::path(get, path = "/api/reports/sales", params(ReportQuery), responses((status = 200, description = "The report, as JSON or CSV")))]
pub async fn sales_report(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(q): QueryParams<ReportQuery>,
) -> ApiResult<Response> {
    staff.require(&[Role::Manager])?;
    let (from, to) = (day("from", q.from.as_deref())?, day("to", q.to.as_deref())?);
    if from > to {
        return Err(ApiError::bad("to", "to is before from"));
    }
    let top = q.top.unwrap_or(10);
    if !(1..=1000).contains(&top) {
        return Err(ApiError::bad("top", "top must be between 1 and 1000"));
    }
    let report = reporting::sales_report(&state.db, from, to, top).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(report).into_response()),
        "csv" => {
            let csv = reporting::to_csv(&report)?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
        }
        _ => Err(ApiError::bad("format", "format is json or csv")),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AlertQuery {
    /// Only open alerts (default true).
    pub open: Option<bool>,
    /// negative_stock, low_stock, over_return, unverified_return or clock_skew.
    pub kind: Option<String>,
}

/// Alerts for head office (every role).
#[utoipa::path(get, path = "/api/alerts", params(AlertQuery), responses((status = 200, description = "Alerts, newest first")))]
pub async fn list_alerts(
    State(state): State<AppState>,
    _staff: Staff,
    QueryParams(q): QueryParams<AlertQuery>,
) -> ApiResult<Json<Vec<AlertView>>> {
    Ok(Json(alerts::list(&state.db, q.open.unwrap_or(true), q.kind.as_deref()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeInput {
    pub kind: String,
    pub subject: String,
}

/// Acknowledge an open alert: say someone is on it (every role).
#[utoipa::path(post, path = "/api/alerts/acknowledge", request_body = AcknowledgeInput, responses((status = 204, description = "Acknowledged"), (status = 404, description = "No such open alert")))]
pub async fn acknowledge_alert(
    State(state): State<AppState>,
    staff: Staff,
    JsonBody(input): JsonBody<AcknowledgeInput>,
) -> ApiResult<axum::http::StatusCode> {
    if !alerts::acknowledge(&state.db, &input.kind, &input.subject, &staff.username).await? {
        return Err(ApiError::NotFound(format!("no open {} alert about {}", input.kind, input.subject)));
    }
    state.events.send(super::events::Topic::Alerts);
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Head office's dashboard (every role): revenue per store and the online shop, the weekly
/// trend, stock-outs, overstock, open alerts and registers silent for over an hour.
#[utoipa::path(get, path = "/api/dashboard", responses((status = 200, description = "The dashboard", body = dashboard::Dashboard)))]
pub async fn dashboard(
    State(state): State<AppState>,
    _staff: Staff,
) -> ApiResult<Json<dashboard::Dashboard>> {
    let today = chrono::Local::now().date_naive();
    Ok(Json(dashboard::dashboard(&state.db, today, crate::db::now_ms()).await?))
}
