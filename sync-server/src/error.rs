//! The HTTP boundary's one error type: every failure becomes an RFC 9457 problem
//! (`application/problem+json`) that says what went wrong and, where one field is at fault,
//! which. Internal causes are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { detail: String, field: Option<String> },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{detail}")]
    Unprocessable { detail: String, field: Option<String>, extra: Map<String, Value> },
    #[error("{0}")]
    TooManyRequests(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        ApiError::BadRequest { detail: detail.to_string(), field: Some(field.into()) }
    }

    pub fn invalid(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        ApiError::Unprocessable { detail: detail.to_string(), field: Some(field.into()), extra: Map::new() }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => {
                (StatusCode::BAD_REQUEST, "bad-request", "The request is malformed")
            }
            ApiError::Unauthorized(_) => {
                (StatusCode::UNAUTHORIZED, "unauthorized", "Authentication is required")
            }
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too-large", "The request is too large")
            }
            ApiError::Unprocessable { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", "The request cannot be accepted")
            }
            ApiError::TooManyRequests(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests")
            }
            ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "The server could not complete the request")
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Internal(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        let detail = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                "an internal error occurred; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({
            "type": format!("https://caisse.example/problems/{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        let object = body.as_object_mut().expect("a JSON object");
        match self {
            ApiError::BadRequest { field: Some(field), .. } => {
                object.insert("field".into(), field.into());
            }
            ApiError::Unprocessable { field, extra, .. } => {
                if let Some(field) = field {
                    object.insert("field".into(), field.into());
                }
                object.extend(extra);
            }
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}
