//! What handlers take from a request: bodies and query strings that answer problems naming
//! the field at fault, the client's address, and who is calling (a head-office session or an
//! enrolled register), checked by [`crate::identity`]; and the `Connection: close` an answer
//! needs when it leaves the request's body unread.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Bytes, HttpBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use super::routes::{Caller, Policy};
use crate::identity::{self, Register, Staff};

fn body_problem(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the request body is over the size limit".into())
    } else {
        ApiError::BadRequest { detail: rejection.body_text(), field: None }
    }
}

/// A JSON body whose errors name the field at fault. No text in it may hold a control
/// character: NUL is refused by PostgreSQL (a 500 where SQLite said nothing), and ESC or GS
/// bytes would reach receipts as printer commands.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Checked before a byte of the body is read: a JSON body sent as text/plain (or with
        // no type) is what a page of another site can send without a CORS preflight, so
        // taking it would let that page sign a browser in or write in its name.
        let declared =
            req.headers().get(CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        if !declared.as_deref().is_some_and(is_json) {
            return Err(not_json(declared.as_deref()));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_problem)?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad("body", shared_model::text::truncate(&e.to_string(), 300)))?;
        if let Some(field) = control_character_at(&value, String::new()) {
            return Err(ApiError::invalid(
                field,
                "control characters (such as NUL, ESC or a line break) are not allowed in text",
            ));
        }
        serde_path_to_error::deserialize(value).map(JsonBody).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::bad(field, shared_model::text::truncate(&e.into_inner().to_string(), 300))
        })
    }
}

/// `application/json` or a JSON-based type (`application/merge-patch+json`…), whatever its
/// parameters (`; charset=utf-8`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == JSON
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.len() > 5 && subtype.ends_with("+json"))
}

const JSON: &str = "application/json";

/// 415, naming the type the route takes (RFC 9110 §15.5.16).
fn not_json(declared: Option<&str>) -> ApiError {
    let sent = match declared {
        Some(declared) => format!("was sent as {:?}", shared_model::text::truncate(declared, 100)),
        None => "has no Content-Type".to_owned(),
    };
    let mut extra = serde_json::Map::new();
    extra.insert("expected".into(), JSON.into());
    ApiError::Refused {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        slug: "unsupported-media-type",
        detail: format!("the body {sent}: send it as Content-Type: {JSON}"),
        field: None,
        extra,
    }
}

/// Top-level fields whose text may hold line breaks: written on several lines and shown
/// only on head office's pages, never printed on a receipt.
const MULTILINE: &[&str] = &["description"];

/// The path of the first string (or key) in `value` that holds a control character.
fn control_character_at(value: &serde_json::Value, at: String) -> Option<String> {
    let join = |key: &str| if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") };
    match value {
        serde_json::Value::String(text) => {
            let multiline = MULTILINE.contains(&at.as_str());
            text.chars().any(|c| c.is_control() && !(multiline && c == '\n')).then_some(at)
        }
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| control_character_at(item, format!("{at}[{i}]")))
        }
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.chars().any(char::is_control) {
                Some(join("(key)"))
            } else {
                control_character_at(item, join(&shared_model::text::truncate(key, 64)))
            }
        }),
        _ => None,
    }
    .map(|path| if path.is_empty() { "body".to_owned() } else { path })
}

/// The address of the client, when the server was started by [`super::listener::serve`].
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

/// Behind the load balancer, the peer is the balancer: the client is the one it names in
/// `X-Forwarded-For` (believed only from the proxies the server was told to trust).
impl<S> axum::extract::FromRequestParts<S> for ClientAddr
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts.extensions.get::<super::listener::PeerAddr>().map(|p| p.0.ip());
        Ok(ClientAddr(super::gateway::client_address(
            peer,
            &parts.headers,
            &state.settings.gateway.trusted_proxies,
        )))
    }
}

/// A query string read into `T`, refused as a problem naming the parameter (axum's own
/// `Query` answers plain text), and refused if any value holds a control character.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad("query", e.body_text()))?;
        if let Some((name, _)) =
            pairs.0.iter().find(|(name, value)| format!("{name}{value}").chars().any(char::is_control))
        {
            return Err(ApiError::invalid(
                shared_model::text::truncate(name, 64),
                "control characters are not allowed in a query parameter",
            ));
        }
        let query = axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad("query", shared_model::text::truncate(&e.body_text(), 300)))?;
        Ok(QueryParams(query.0))
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

/// The credentials of an `Authorization: Bearer …` header; the scheme's case does not
/// matter (RFC 9110 §11.1).
pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    let (scheme, credentials) = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| credentials.trim()).filter(|c| !c.is_empty())
}

/// Refuses, as the server's own fault, a handler that takes other credentials than its route
/// declares: the document (and the gateway) would tell callers the wrong ones. The routes'
/// test calls every route and would see this 500.
pub(super) fn declared_for(parts: &Parts, caller: Caller) -> Result<(), ApiError> {
    match parts.extensions.get::<Policy>() {
        Some(policy) if policy.caller != caller => Err(ApiError::Internal(anyhow::anyhow!(
            "{} {} is declared for {:?} but its handler takes {caller:?}",
            parts.method,
            parts.uri.path(),
            policy.caller
        ))),
        _ => Ok(()),
    }
}

/// The cookie that carries a head-office page's session.
pub const SESSION_COOKIE: &str = "caisse_session";
/// The header a page sends its session's anti-forgery token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of the cookie `name`, if the request has it.
pub(super) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// A signed-in head-office user, from the session token: a bearer token (API clients), or the
/// session cookie (the pages). A browser sends a cookie with whatever request a page makes,
/// including another site's page, so a write by cookie must also carry the session's
/// anti-forgery token in a header, which only head office's own pages can read. A bearer
/// token is never sent by a browser on its own, so it needs none.
impl<S> FromRequestParts<S> for Staff
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        declared_for(parts, Caller::Office)?;
        // An API key the gateway let through to this route reads as head office would.
        if let Some(key) = parts.extensions.get::<crate::gateway::keys::ApiKey>() {
            return Ok(super::gateway::key_as_staff(key));
        }
        let state = AppState::from_ref(state);
        if let Some(token) = bearer(parts) {
            return Ok(identity::staff_of_session(&state.db, token).await?);
        }
        let token = cookie(parts, SESSION_COOKIE).ok_or_else(|| {
            ApiError::Unauthorized(
                "sign in first: send Authorization: Bearer <token from /api/auth/login>".into(),
            )
        })?;
        let staff = identity::staff_of_session(&state.db, token).await?;
        let safe = matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD);
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !safe && sent != Some(staff.csrf.as_str()) {
            return Err(ApiError::Forbidden(format!(
                "a write signed in by cookie must send the session's {CSRF_HEADER} header"
            )));
        }
        Ok(staff)
    }
}

/// An enrolled register, from its device secret.
impl<S> FromRequestParts<S> for Register
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        declared_for(parts, Caller::Register)?;
        let state = AppState::from_ref(state);
        let secret = bearer(parts).ok_or_else(|| {
            ApiError::Unauthorized(
                "a register sends its device secret as Authorization: Bearer <secret>".into(),
            )
        })?;
        Ok(identity::register_of_secret(&state.db, secret).await?)
    }
}

/// The request's id (set by the request-id layer, or sent by the client): what the audit
/// trail and the claims' events record it came in.
#[derive(Debug, Clone)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| shared_model::text::truncate(v, 100))
            .filter(|v| !v.is_empty() && !v.chars().any(char::is_control));
        Ok(RequestId(id))
    }
}

/// A signed-in head-office user and the request they act in: who the audit trail names.
#[derive(Debug, Clone)]
pub struct Acting {
    pub staff: Staff,
    pub actor: crate::audit::Actor,
}

impl<S> FromRequestParts<S> for Acting
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let staff = Staff::from_request_parts(parts, state).await?;
        let RequestId(id) = RequestId::from_request_parts(parts, state).await.unwrap_or(RequestId(None));
        let actor = crate::audit::Actor::new(staff.username.clone(), id);
        Ok(Acting { staff, actor })
    }
}

/// A request body that notes when it has been read to its end.
struct Watched {
    inner: axum::body::Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Answers `Connection: close` when the request's body was left unread (refused early: a
/// 401, a 413, a 415…). The unread rest of the body would otherwise be taken for the next
/// request, so hyper drops the connection after such an answer; saying so lets the client
/// know not to send its next request on it (RFC 9112 §9.6).
pub async fn close_unless_body_read(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let http1 = matches!(request.version(), axum::http::Version::HTTP_10 | axum::http::Version::HTTP_11);
    if !http1 || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let watched = read.clone();
    let request = request.map(|inner| axum::body::Body::new(Watched { inner, read: watched }));
    let mut response = next.run(request).await;
    if !read.load(Ordering::Relaxed) {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
