//! The HTTP surface, and the only part of the server that knows axum: shared state, the
//! router with its middleware (request ids, tracing, metrics, body limit), the operational
//! routes, the list of every route ([`declared`]) and the OpenAPI document made from it. Each
//! context's routes live in a file of their own and call the context's plain functions; each
//! context's error becomes a problem in [`error`].
//!
//! | file | holds |
//! |---|---|
//! | [`extract`] | bodies, query strings, the client's address, who is calling |
//! | [`error`] | `ApiError`: every failure as an RFC 9457 problem |
//! | [`listener`] | connections: TLS, the connection cap, header and handshake deadlines |
//! | `catalogue`, `chain`, `claims`, `identity`, `inventory`, `replenishment`, `reporting`, `shop`, `sync` | each context's routes (`claims` also serves the audit trail) |
//! | [`processor`] | the local card processor the demo and the tests pay through |
//! | [`recorder`] | the metrics recorder: request durations as a histogram, counters at 0 from start-up |
//! | [`pages`] | head office's pages, embedded, with their security headers |
//! | [`events`] | server-sent events that keep head office's pages live |
//! | [`routes`] | how a route is declared, once: its handler beside its policy (who may call it, its limits); the router, the OpenAPI document and the gateway's table all come from it |
//! | [`gateway`] | API keys checked, rate limits and their headers, CORS, readiness for the load balancer |
//! | [`api_keys`] | integrations' API keys, made and revoked by an admin |

pub mod api_keys;
pub mod catalogue;
pub mod chain;
pub mod claims;
pub mod error;
pub mod events;
pub mod extract;
pub mod gateway;
pub mod identity;
pub mod imports;
pub mod inventory;
pub mod listener;
pub mod pages;
pub mod processor;
pub mod recorder;
pub mod replenishment;
pub mod reporting;
pub mod routes;
pub mod shop;
pub mod sync;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use self::error::{ApiError, ApiResult};
pub use self::extract::{ClientAddr, JsonBody, QueryParams, WireBody};
use crate::db::Db;

/// Settings the handlers read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Past this gap between a register's clock and its hybrid stamp (or the server), alert.
    pub skew_bound_ms: u64,
    /// Largest request body.
    pub body_limit: usize,
    /// How long a request body may take to arrive once its head has.
    pub body_timeout: std::time::Duration,
    /// The card processor the shop pays through (`None`: the shop takes no payment).
    pub payment_url: Option<String>,
    /// How long a call to the card processor may take before its answer counts as lost.
    pub payment_timeout: std::time::Duration,
    pub shop: crate::shop::Settings,
    /// Mark the pages' session cookie `Secure` (served over HTTPS).
    pub secure_cookies: bool,
    /// Where customers' messages go: an SMTP server, a folder, or nowhere (they wait in the
    /// outbox).
    pub mail: Mail,
    /// The wait after a message's first failed attempt (doubling after each next one), and
    /// the longest wait.
    pub mail_retry: (std::time::Duration, std::time::Duration),
    /// API keys' and shoppers' limits, trusted proxies, the shop's web origins.
    pub gateway: gateway::Gateway,
    /// On SIGTERM, how long `/health` answers "draining" before the listener closes: long
    /// enough for the load balancer's checks to take the instance out.
    pub drain: std::time::Duration,
}

/// Where customers' messages go.
#[derive(Debug, Clone, Default)]
pub enum Mail {
    /// Nowhere: messages wait in the outbox until the server is started with a mailer.
    #[default]
    Off,
    /// An SMTP server (`smtp://host:port`, `smtps://user:password@host`…).
    Smtp { url: String, from: String },
    /// One `.eml` file per message in a folder (the demo's mailbox).
    Folder { path: std::path::PathBuf, from: String },
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            skew_bound_ms: 5 * 60_000,
            body_limit: 16 * 1024 * 1024,
            body_timeout: std::time::Duration::from_secs(60),
            payment_url: None,
            payment_timeout: std::time::Duration::from_secs(10),
            shop: crate::shop::Settings::default(),
            secure_cookies: false,
            mail: Mail::Off,
            mail_retry: (std::time::Duration::from_secs(5), std::time::Duration::from_secs(15 * 60)),
            gateway: gateway::Gateway::default(),
            drain: std::time::Duration::ZERO,
        }
    }
}

/// What the handlers share. Cloned for every extractor and middleware that takes it, so it
/// is one `Arc`: a struct of a dozen `Arc`s cost a dozen atomic counts each time, 3 % of the
/// server's time on a catalogue read (BENCHMARKS.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    /// Also the time leases, lockouts and expiries are decided by (`db.now_ms()`), so the
    /// handlers and the background tasks that hold only `db` read one clock.
    pub db: Db,
    pub settings: Arc<Settings>,
    pub prometheus: PrometheusHandle,
    pub catalogue_cache: Arc<catalogue::ListCache>,
    /// Reads pages of the product list (together, on PostgreSQL).
    pub listing: Arc<crate::catalogue::Listing>,
    /// Bounds the password hashes under way (argon2 takes 19 MiB each).
    pub passwords: Arc<crate::identity::PasswordSlots>,
    pub shop: Arc<crate::shop::Shop>,
    /// Refunds owed for store returns and claims, and the processor they are asked of.
    pub refunds: crate::refunds::Settler,
    /// Changes announced to head office's open pages.
    pub events: Arc<events::Events>,
    /// Background work a request hands on: claims' projectors, mail delivery.
    pub wake: Arc<Wake>,
    /// How customers' messages are delivered (none: they wait in the outbox).
    pub delivery: Option<crate::notify::Delivery>,
    /// Starting, ready or draining: what `/health` tells the load balancer.
    pub readiness: Arc<gateway::Readiness>,
    /// The rate limits, counted in this instance's memory.
    pub limiter: Arc<crate::gateway::limits::Limiter>,
}

/// Wakes background work at once instead of at its next round.
#[derive(Debug, Default)]
pub struct Wake {
    pub projectors: Arc<tokio::sync::Notify>,
    pub mail: Arc<tokio::sync::Notify>,
}

impl Wake {
    /// After a write that appended claim events or wrote messages.
    pub fn all(&self) {
        self.projectors.notify_one();
        self.mail.notify_one();
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("db", &self.db).field("settings", &self.settings).finish()
    }
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> Self {
        let listing = Arc::new(crate::catalogue::Listing::new(db.clone()));
        let passwords = Arc::new(crate::identity::PasswordSlots::for_this_machine());
        let gateway: Arc<dyn crate::shop::payments::PaymentGateway> = match &settings.payment_url {
            Some(url) => match crate::shop::payments::HttpProcessor::new(url, settings.payment_timeout) {
                Ok(processor) => Arc::new(processor),
                Err(e) => {
                    tracing::error!(error = %e, "the card processor's client cannot be made: the shop takes no payment");
                    Arc::new(crate::shop::payments::NoProcessor)
                }
            },
            None => Arc::new(crate::shop::payments::NoProcessor),
        };
        let shop = crate::shop::Shop::new(gateway, settings.shop.clone(), passwords.clone());
        let refunds = crate::refunds::Settler {
            gateway: shop.gateway.clone(),
            lease: settings.shop.lease,
            every: settings.shop.sweep_every,
            returns: Arc::new(crate::shop::store_returns::ReturnCreditor),
            claims: Arc::new(crate::claims::refunds::ClaimCreditor),
        };
        let mailer: Option<Arc<dyn crate::notify::Mailer>> = match &settings.mail {
            Mail::Off => None,
            Mail::Smtp { url, from } => {
                match crate::notify::SmtpMailer::new(url, from, std::time::Duration::from_secs(30)) {
                    Ok(mailer) => Some(Arc::new(mailer)),
                    Err(e) => {
                        tracing::error!(error = %e, "the SMTP client cannot be made: messages wait in the outbox");
                        None
                    }
                }
            }
            Mail::Folder { path, from } => match crate::notify::FolderMailer::new(path.clone(), from) {
                Ok(mailer) => Some(Arc::new(mailer)),
                Err(e) => {
                    tracing::error!(error = %e, "the mail folder cannot be used: messages wait in the outbox");
                    None
                }
            },
        };
        let retry = settings.mail_retry;
        AppState(Arc::new(Shared {
            db,
            settings: Arc::new(settings),
            prometheus: recorder::prometheus(),
            catalogue_cache: Arc::default(),
            listing,
            passwords,
            shop: Arc::new(shop),
            refunds,
            events: Arc::default(),
            wake: Arc::default(),
            readiness: Arc::default(),
            limiter: Arc::default(),
            delivery: mailer.map(|mailer| crate::notify::Delivery {
                retry_first: retry.0,
                retry_most: retry.1,
                ..crate::notify::Delivery::new(mailer)
            }),
        }))
    }
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.body_limit;
    let body_timeout = state.settings.body_timeout;
    let (routes, _, table) = declared().split(utoipa::openapi::OpenApi::default());
    let table = Arc::new(table);
    let cors = gateway::cors(&state.settings.gateway, table.clone());
    let router = routes
        .fallback(pages::serve)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_timeout))
        .layer(middleware::from_fn_with_state((state.clone(), table.clone()), gateway::guard))
        .layer(middleware::from_fn(problems_only))
        .layer(middleware::from_fn_with_state((body_limit, table), refuse_declared_oversize))
        .layer(middleware::from_fn(track_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Outside every layer that may refuse a request before its body is read.
        .layer(middleware::from_fn(extract::close_unless_body_read))
        .with_state(state);
    // Outermost, so that even the gateway's refusals carry the shop's origin.
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Refuses a body whose declared length is over the limit before reading any of it, so a
/// client learns at once instead of uploading megabytes first. Bodies without a declared
/// length are cut at the limit by `DefaultBodyLimit`. A route may have a larger limit of its
/// own (a file to import).
async fn refuse_declared_oversize(
    State((limit, table)): State<(usize, Arc<routes::Table>)>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let own = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| table.policy(request.method(), route.as_str()))
        .and_then(|policy| policy.body_limit);
    let limit = own.map_or(limit, |own| own.max(limit));
    match declared {
        Some(length) if length > limit => {
            ApiError::PayloadTooLarge(format!("the body is {length} bytes; the limit is {limit}"))
                .into_response()
        }
        _ => next.run(request).await,
    }
}

/// Every error answers `application/problem+json`, including those written below the
/// handlers: axum's own rejections, and the router's 405 (which has no body at all).
async fn problems_only(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4_096).await.unwrap_or_default();
    let mut problem = ApiError::from_plain(status, &String::from_utf8_lossy(&text));
    if let Some(allow) = parts.headers.get(axum::http::header::ALLOW) {
        problem.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
    }
    problem
}

/// Metric labels come from a fixed set: a label made of what a client sent (a made-up method,
/// an unknown path) would grow the metrics without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

async fn track_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method.to_owned()), ("route", route), ("status", status)];
    metrics::counter!("caisse_http_requests_total", &labels).increment(1);
    metrics::histogram!(recorder::REQUEST_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// 200 when the instance is ready and its database answers; 503 while it starts, while it
/// drains on SIGTERM, or when the database does not answer: the load balancer's check.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "Ready: the database answers"), (status = 503, description = "Starting, draining, or the database does not answer")))]
pub async fn health(State(state): State<AppState>) -> Response {
    if let Some(status) = state.readiness.not_ready() {
        return ApiError::Unavailable {
            detail: format!("{status}: this instance is stopping"),
            retry_after_s: 5,
        }
        .into_response();
    }
    match state.db.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            ApiError::Unavailable { detail: "the database does not answer".into(), retry_after_s: 5 }
                .into_response()
        }
    }
}

/// Prometheus text: requests and latencies per route, checkouts per saga step, records
/// ingested, duplicates, dead letters, rate-limit refusals, and per register how far behind
/// its last push was and how long ago it was.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus exposition format")))]
pub async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    // Read at each scrape, from the database every instance shares: a register gone silent
    // shows here whichever instance it last pushed to.
    match crate::identity::registers(&state.db).await {
        Ok(registers) => {
            let now = crate::db::now_ms();
            for register in registers.iter().filter(|r| r.enrolled && !r.revoked) {
                if let Some(at) = register.last_push_ms {
                    metrics::gauge!("caisse_register_last_push_age_seconds", "register" => register.id.to_string())
                        .set((now - at).max(0) as f64 / 1_000.0);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "registers' last pushes could not be read for the metrics"),
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.prometheus.render())
}

#[derive(OpenApi)]
#[openapi(info(
    title = "Caisse sync server",
    description = "Register sync, catalogue, inventory, reports and head-office API."
))]
#[derive(Debug)]
pub struct ApiDoc;

/// This document: OpenAPI 3 of every route.
#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "OpenAPI document")))]
pub async fn openapi() -> ApiResult<Response> {
    // The routes do not change while the server runs: written once.
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = match TEXT.get() {
        Some(text) => text,
        None => {
            let text = document().to_json().map_err(|e| ApiError::Internal(e.into()))?;
            TEXT.get_or_init(|| text)
        }
    };
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], text.as_str()).into_response())
}

/// Every route the server answers, each beside its policy: the server's own here, each
/// context's in its file.
pub fn declared() -> routes::Routes {
    use routes::{Policy, Routes};
    use utoipa_axum::routes;
    Routes::new()
        .route(Policy::anyone(), routes!(health))
        .route(Policy::anyone(), routes!(metrics_text))
        .route(Policy::anyone(), routes!(openapi))
        .merge(identity::routes())
        .merge(sync::routes())
        .merge(shop::routes())
        .merge(catalogue::routes())
        .merge(imports::routes())
        .merge(chain::routes())
        .merge(inventory::routes())
        .merge(reporting::routes())
        .merge(replenishment::routes())
        .merge(claims::routes())
        .merge(api_keys::routes())
        .merge(events::routes())
}

/// The OpenAPI document: the routes' own annotations, with the security and the problems
/// their policies imply (see [`routes`]).
pub fn document() -> utoipa::openapi::OpenApi {
    declared().split(ApiDoc::openapi()).1
}
