//! The catalogue and stock as CSV files: the routes of [`crate::catalogue::import`] and
//! [`crate::opening_stock`]. An uploaded file is copied to a temporary file as it arrives, so
//! that its two passes read it from disk and memory stays bounded whatever its size; exports
//! are streamed a page at a time.

use std::io::Write;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Acting, QueryParams};
use super::routes::{Policy, Routes};
use crate::csv_file::{ImportError, Report};
use crate::identity::{Role, Staff};

/// Largest file an import takes: a hundred thousand products with long descriptions fit.
pub const BODY_LIMIT: usize = 256 * 1024 * 1024;

/// An import's body may be larger than other requests' (see [`BODY_LIMIT`]).
const IMPORT: Policy = Policy::office().body_limit(BODY_LIMIT);

pub fn routes() -> Routes {
    Routes::tagged("imports")
        .route(IMPORT, routes!(import_products))
        .route(IMPORT, routes!(import_stock))
        .route(Policy::office(), routes!(export_products))
        .route(Policy::office(), routes!(export_stock))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ImportQuery {
    /// Check the file and answer what would change, writing nothing.
    pub dry_run: bool,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ExportQuery {
    /// `comma` (default) or `semicolon` (Excel in French).
    pub separator: Option<String>,
}

impl ExportQuery {
    fn separator(&self) -> ApiResult<u8> {
        match self.separator.as_deref() {
            None | Some("comma") => Ok(b','),
            Some("semicolon") => Ok(b';'),
            Some(_) => Err(ApiError::bad("separator", "separator is comma or semicolon")),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Invalid(errors) => {
                let detail = ImportError::Invalid(errors.clone()).to_string();
                let mut extra = serde_json::Map::new();
                extra.insert("errors".into(), serde_json::to_value(&errors.listed).unwrap_or_default());
                extra.insert("error_count".into(), errors.total.into());
                let field = errors.listed.first().map(|e| e.column.clone()).filter(|c| !c.is_empty());
                ApiError::Unprocessable { detail, field, extra }
            }
            ImportError::Conflict(detail) => ApiError::Conflict(detail),
            ImportError::Io(e) => ApiError::Internal(e.into()),
            ImportError::Database(e) => e.into(),
        }
    }
}

/// Copies the request body into a temporary file as it arrives, refusing it past
/// [`BODY_LIMIT`].
async fn spool(body: Body) -> ApiResult<tempfile::NamedTempFile> {
    let mut file = tempfile::NamedTempFile::new().map_err(|e| ApiError::Internal(e.into()))?;
    let mut stream = body.into_data_stream();
    let mut size = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad("body", format!("the file did not arrive whole: {e}")))?;
        size += chunk.len();
        if size > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge(format!(
                "a file to import has at most {BODY_LIMIT} bytes"
            )));
        }
        // A write of a chunk to the page cache: brief enough not to hold a runtime thread.
        file.write_all(&chunk).map_err(|e| ApiError::Internal(e.into()))?;
    }
    file.flush().map_err(|e| ApiError::Internal(e.into()))?;
    Ok(file)
}

/// Import products from CSV (admin, manager): every row checked first, nothing written if one
/// is refused (422 listing line, column and reason of each); unchanged products are not
/// written nor published again. With `dry_run`, only what would change.
#[utoipa::path(post, path = "/api/products/import", params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "sku, name, category, price, tax_class[, barcodes, reorder_threshold, active, description, max_level]; comma or semicolon"),
    responses((status = 200, description = "Imported, or what would change", body = Report), (status = 409, description = "A concurrent edit got in the way; nothing was imported"), (status = 422, description = "Rows refused, each with its line, column and reason; nothing was imported")))]
pub async fn import_products(
    State(state): State<AppState>,
    acting: Acting,
    QueryParams(query): QueryParams<ImportQuery>,
    body: Body,
) -> ApiResult<Json<Report>> {
    acting.staff.require(&[Role::Manager])?;
    let file = spool(body).await?;
    let report =
        crate::catalogue::import::import(&state.db, || file.reopen(), query.dry_run, &acting.actor).await?;
    if report.imported {
        state.events.send(super::events::Topic::Catalogue);
        state.catalogue_cache.clear();
        tracing::info!(
            new = report.new,
            changed = report.changed,
            by = acting.staff.username,
            "products imported"
        );
    }
    Ok(Json(report))
}

/// Import stock levels from CSV (admin, manager): `location, sku, quantity`, each row setting
/// a level through an opening movement of the difference. Same checks and `dry_run` as products.
#[utoipa::path(post, path = "/api/stock/import", params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "location, sku, quantity; comma or semicolon"),
    responses((status = 200, description = "Imported, or what would change", body = Report), (status = 422, description = "Rows refused, each with its line, column and reason; nothing was imported")))]
pub async fn import_stock(
    State(state): State<AppState>,
    acting: Acting,
    QueryParams(query): QueryParams<ImportQuery>,
    body: Body,
) -> ApiResult<Json<Report>> {
    acting.staff.require(&[Role::Manager])?;
    let file = spool(body).await?;
    let report =
        crate::opening_stock::import(&state.db, || file.reopen(), query.dry_run, &acting.actor).await?;
    if report.imported {
        state.events.send(super::events::Topic::Stock);
        tracing::info!(
            new = report.new,
            changed = report.changed,
            by = acting.staff.username,
            "stock imported"
        );
    }
    Ok(Json(report))
}

/// An export read a piece at a time.
trait Pieces: Send + 'static {
    fn piece(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>, ImportError>> + Send;
}

impl Pieces for crate::catalogue::import::Export {
    fn piece(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>, ImportError>> + Send {
        self.next()
    }
}

impl Pieces for crate::opening_stock::Export {
    fn piece(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>, ImportError>> + Send {
        self.next()
    }
}

/// A CSV download streamed from `export`.
fn download(name: &'static str, export: impl Pieces) -> Response {
    let stream = futures_util::stream::unfold(export, |mut export| async move {
        match export.piece().await {
            Ok(Some(piece)) => Some((Ok::<_, std::io::Error>(piece), export)),
            Ok(None) => None,
            Err(e) => {
                // The status is sent: the client sees the download cut short.
                tracing::error!(error = %e, "an export stopped half-way");
                Some((Err(std::io::Error::other(e.to_string())), export))
            }
        }
    });
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
    ];
    (headers, Body::from_stream(stream)).into_response()
}

/// The catalogue as CSV, in the format the import reads (every role).
#[utoipa::path(get, path = "/api/products/export", params(ExportQuery), responses((status = 200, description = "Every product, in SKU order", content_type = "text/csv", body = String)))]
pub async fn export_products(
    State(state): State<AppState>,
    _staff: Staff,
    QueryParams(query): QueryParams<ExportQuery>,
) -> ApiResult<Response> {
    let export = crate::catalogue::import::Export::new(state.db.clone(), query.separator()?);
    Ok(download("products.csv", export))
}

/// Every stock level as CSV, in the format the stock import reads (every role).
#[utoipa::path(get, path = "/api/stock/export", params(ExportQuery), responses((status = 200, description = "Every level, by location and SKU", content_type = "text/csv", body = String)))]
pub async fn export_stock(
    State(state): State<AppState>,
    _staff: Staff,
    QueryParams(query): QueryParams<ExportQuery>,
) -> ApiResult<Response> {
    let export = crate::opening_stock::Export::new(state.db.clone(), query.separator()?);
    Ok(download("stock.csv", export))
}
