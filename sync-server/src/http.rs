//! The HTTP surface: shared state, body extractors that answer problems, the router with its
//! middleware (request ids, tracing, metrics, body limit), and the operational routes.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::de::DeserializeOwned;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::{catalogue, identity, inventory, replenishment, reporting, sync};

/// Settings the handlers read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Past this gap between a register's clock and its hybrid stamp (or the server), alert.
    pub skew_bound_ms: u64,
    /// Largest request body.
    pub body_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { skew_bound_ms: 5 * 60_000, body_limit: 16 * 1024 * 1024 }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub prometheus: PrometheusHandle,
    pub catalogue_cache: Arc<catalogue::ListCache>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("db", &self.db).field("settings", &self.settings).finish()
    }
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> Self {
        AppState {
            db,
            settings: Arc::new(settings),
            prometheus: prometheus(),
            catalogue_cache: Arc::default(),
        }
    }
}

/// The process-wide metrics recorder: installed once, shared by every server in the process.
fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

fn body_problem(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the request body is over the size limit".into())
    } else {
        ApiError::BadRequest { detail: rejection.body_text(), field: None }
    }
}

/// A JSON body whose errors name the field at fault.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_problem)?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de).map(JsonBody).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::bad(field, e.into_inner())
        })
    }
}

/// A body in the sync protocol's versioned wire form, read by `shared_model`.
#[derive(Debug)]
pub struct WireBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for WireBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(WireBody).map_err(body_problem)
    }
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.body_limit;
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .route("/api/openapi.json", get(openapi))
        .merge(identity::routes())
        .merge(sync::routes())
        .merge(catalogue::routes())
        .merge(inventory::routes())
        .merge(reporting::routes())
        .merge(replenishment::routes())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(body_limit, refuse_declared_oversize))
        .layer(middleware::from_fn(track_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Refuses a body whose declared length is over the limit before reading any of it, so a
/// client learns at once instead of uploading megabytes first. Bodies without a declared
/// length are cut at the limit by `DefaultBodyLimit`.
async fn refuse_declared_oversize(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > limit => {
            ApiError::PayloadTooLarge(format!("the body is {length} bytes; the limit is {limit}"))
                .into_response()
        }
        _ => next.run(request).await,
    }
}

async fn track_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("caisse_http_requests_total", &labels).increment(1);
    metrics::histogram!("caisse_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// 200 when the database answers.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "The database answers"), (status = 503, description = "It does not")))]
pub async fn health(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(state.db.pool()).await {
        Ok(_) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unavailable" })))
                .into_response()
        }
    }
}

/// Prometheus text: requests, latencies, records ingested, duplicates, dead letters.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus exposition format")))]
pub async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.prometheus.render())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Caisse sync server",
        description = "Register sync, catalogue, inventory, reports and head-office API."
    ),
    paths(
        health,
        metrics_text,
        openapi,
        identity::login,
        identity::list_registers,
        identity::create_register,
        identity::enrolment_code,
        identity::revoke_register,
        sync::enrol,
        sync::push,
        sync::pull,
        sync::sale_for_return,
        sync::dead_letters,
        catalogue::list_products,
        catalogue::get_product,
        catalogue::create_product,
        catalogue::update_product,
        catalogue::list_locations,
        catalogue::create_cashier,
        inventory::list_stock,
        reporting::sales_report,
        reporting::list_alerts,
        replenishment::list,
        replenishment::decide,
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// This document: OpenAPI 3 of every route.
#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "OpenAPI document")))]
pub async fn openapi() -> ApiResult<Response> {
    let text = ApiDoc::openapi().to_json().map_err(|e| ApiError::Internal(e.into()))?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], text).into_response())
}
