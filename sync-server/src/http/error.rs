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
    /// Refused for now: too many failed attempts. The client may try again after `retry_after_s`.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_s: u64 },
    /// The server is busy (every password-hashing slot taken): try again shortly.
    #[error("{detail}")]
    Unavailable { detail: String, retry_after_s: u64 },
    /// Any other refusal, with its own status and problem type (402 declined, 409 out of stock…).
    #[error("{detail}")]
    Refused {
        status: StatusCode,
        slug: &'static str,
        detail: String,
        field: Option<String>,
        extra: Map<String, Value>,
    },
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
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests")
            }
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy", "The server is busy"),
            ApiError::Refused { status, slug, .. } => {
                (*status, slug, status.canonical_reason().unwrap_or("Refused"))
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

impl ApiError {
    /// A problem for an error response that some layer below the handlers (axum's own
    /// extractors, the router's 405) wrote as plain text or with no body at all.
    pub fn from_plain(status: StatusCode, text: &str) -> Response {
        let detail = shared_model::text::truncate(text.trim(), 300);
        let detail = if detail.is_empty() {
            status.canonical_reason().unwrap_or("the request was refused").to_lowercase()
        } else {
            detail
        };
        let (slug, title) = match status {
            StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
            StatusCode::NOT_FOUND => ("not-found", "Not found"),
            StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "The request is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "The request took too long to arrive"),
            s if s.is_server_error() => ("internal", "The server could not complete the request"),
            _ => ("bad-request", "The request is malformed"),
        };
        let body = json!({
            "type": format!("https://caisse.example/problems/{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_s, .. } | ApiError::Unavailable { retry_after_s, .. } => {
                Some(*retry_after_s)
            }
            _ => None,
        };
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
            ApiError::Unprocessable { field, extra, .. } | ApiError::Refused { field, extra, .. } => {
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
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

impl From<crate::identity::Error> for ApiError {
    fn from(error: crate::identity::Error) -> Self {
        use crate::identity::Error;
        match error {
            Error::Invalid { field, detail } => ApiError::invalid(field, detail),
            Error::Unauthorized(detail) => ApiError::Unauthorized(detail),
            Error::Forbidden(detail) => ApiError::Forbidden(detail),
            Error::NotFound(detail) => ApiError::NotFound(detail),
            Error::Conflict(detail) => ApiError::Conflict(detail),
            Error::Throttled { detail, retry_after_s } => ApiError::TooManyRequests { detail, retry_after_s },
            Error::Busy { detail, retry_after_s } => ApiError::Unavailable { detail, retry_after_s },
            Error::Database(e) => e.into(),
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<crate::catalogue::Error> for ApiError {
    fn from(error: crate::catalogue::Error) -> Self {
        use crate::catalogue::Error;
        match error {
            Error::Malformed { field, detail } => ApiError::bad(field, detail),
            Error::NotFound(detail) => ApiError::NotFound(detail),
            Error::Conflict(detail) => ApiError::Conflict(detail),
            Error::Database(e) => e.into(),
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<crate::inventory::Error> for ApiError {
    fn from(error: crate::inventory::Error) -> Self {
        use crate::inventory::Error;
        match error {
            Error::Malformed { field, detail } => ApiError::bad(field, detail),
            Error::Database(e) => e.into(),
        }
    }
}

impl From<crate::reporting::Error> for ApiError {
    fn from(error: crate::reporting::Error) -> Self {
        use crate::reporting::Error;
        match error {
            Error::TooLarge(detail) => ApiError::invalid("from", detail),
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<crate::replenishment::Error> for ApiError {
    fn from(error: crate::replenishment::Error) -> Self {
        use crate::replenishment::Error;
        match error {
            Error::Invalid { field, detail } => ApiError::invalid(field, detail),
            Error::NotFound(detail) => ApiError::NotFound(detail),
            Error::Conflict(detail) => ApiError::Conflict(detail),
            Error::Database(e) => e.into(),
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<crate::sync::Error> for ApiError {
    fn from(error: crate::sync::Error) -> Self {
        use crate::sync::Error;
        match error {
            Error::Malformed { field, detail } => ApiError::bad(field, detail),
            Error::TooLarge(detail) => ApiError::PayloadTooLarge(detail),
            Error::Forbidden(detail) => ApiError::Forbidden(detail),
            Error::NotFound(detail) => ApiError::NotFound(detail),
            Error::Database(e) => e.into(),
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<crate::claims::Error> for ApiError {
    fn from(error: crate::claims::Error) -> Self {
        use crate::claims::Error;
        match error {
            Error::Invalid { field, detail } => ApiError::invalid(field, detail),
            Error::NotFound(detail) => ApiError::NotFound(detail),
            Error::Refused(refused) => {
                let mut extra = Map::new();
                extra.insert("state".into(), refused.state.as_str().into());
                extra.insert("action".into(), refused.action.as_str().into());
                ApiError::Refused {
                    status: StatusCode::CONFLICT,
                    slug: "transition-not-allowed",
                    detail: refused.detail,
                    field: None,
                    extra,
                }
            }
            Error::Stale { id, expected, current } => {
                let detail = Error::Stale { id, expected, current }.to_string();
                let mut extra = Map::new();
                extra.insert("expected_version".into(), expected.into());
                extra.insert("current_version".into(), current.into());
                ApiError::Refused {
                    status: StatusCode::CONFLICT,
                    slug: "stale-version",
                    detail,
                    field: Some("expected_version".into()),
                    extra,
                }
            }
            Error::Conflict(detail) => ApiError::Conflict(detail),
            Error::Forbidden(detail) => ApiError::Forbidden(detail),
            Error::Database(e) => e.into(),
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<crate::gateway::Error> for ApiError {
    fn from(error: crate::gateway::Error) -> Self {
        use crate::gateway::Error;
        match error {
            Error::Invalid { field, detail } => ApiError::invalid(field, detail),
            Error::Unauthorized(detail) => ApiError::Unauthorized(detail),
            Error::NotFound(detail) => ApiError::NotFound(detail),
            Error::Database(e) => e.into(),
        }
    }
}
