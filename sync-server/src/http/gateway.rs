//! What a gateway in front of the service used to do, done in it so every instance applies
//! it alike: API keys (`X-Api-Key`) checked against the route's scope, rate limits with the
//! `RateLimit` headers, CORS for the shop's web origins, and the readiness `/health` reports.
//!
//! The limits are counted in this instance's memory ([`Limiter`](crate::gateway::limits::Limiter)); the headers tell
//! this instance's count. In a cluster HAProxy counts the same buckets across instances and
//! refuses past them before a request reaches any (`deploy/haproxy.cfg`).
//!
//! Registers' sync is never limited here: a register authenticates with its device secret,
//! not a key, and a sale it pushes must never be refused for coming too fast.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::routes::Table;
use crate::gateway::keys::{self, ApiKey};
use crate::gateway::limits::{Bucket, Policy, Quota};
use crate::identity::Role;

/// The header integrations send their key in. Not `Authorization`: a partner storefront sends
/// its key and its shopper's access token together.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// What one shopper may do on the shop's routes.
    pub shopper: Policy,
    /// Sign-ins (head office's and the shop's) from one address, whatever their outcome.
    pub sign_in: Policy,
    /// Proxies (the load balancer) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Web origins the shop's pages are served from: they may call the shop's API and read
    /// the catalogue from a browser.
    pub shop_origins: Vec<String>,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            // A minute window only, as `CAISSE_SHOPPER_PER_MINUTE` sets it.
            shopper: Policy::new(300, 0),
            sign_in: Policy::new(30, 300),
            trusted_proxies: Vec::new(),
            shop_origins: Vec::new(),
        }
    }
}

/// Where the instance stands, as `/health` tells the load balancer. An instance only listens
/// once its database is migrated (and the demo loaded), so while it starts the balancer's
/// check finds no one and keeps it out; once it listens it is ready until SIGTERM.
#[derive(Debug, Default)]
pub struct Readiness {
    draining: AtomicBool,
}

impl Readiness {
    /// From now on `/health` answers 503: the load balancer sends no new requests while the
    /// ones under way finish.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// `None` when ready, else what to say.
    pub fn not_ready(&self) -> Option<&'static str> {
        self.draining.load(Ordering::SeqCst).then_some("draining")
    }
}

/// The quota a handler's extractor counted (a shopper's), for the middleware to put in the
/// response's headers.
#[derive(Debug, Clone, Default)]
pub struct QuotaSlot(Arc<Mutex<Option<Quota>>>);

impl QuotaSlot {
    pub fn set(&self, quota: Quota) {
        if let Ok(mut slot) = self.0.lock() {
            // The tighter of two counts (a key's and its shopper's) is what the client sees.
            if slot.is_none_or(|held| quota.remaining < held.remaining || !quota.allowed) {
                *slot = Some(quota);
            }
        }
    }

    fn take(&self) -> Option<Quota> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// The caller an API key stands for, as a head-office reader: what the reports' handlers
/// check. It only ever reaches the routes whose policy names its scope (reads), so the role it
/// is given opens nothing else.
pub(super) fn key_as_staff(key: &ApiKey) -> crate::identity::Staff {
    crate::identity::Staff {
        username: format!("key:{}", key.name),
        role: Role::Manager,
        token_hash: String::new(),
        csrf: String::new(),
        expires_ms: i64::MAX,
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last address
/// in `X-Forwarded-For` that is not one of the trusted proxies (what a client writes there
/// itself comes before what the proxy appended, and is not believed).
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    // A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
    let peer = peer?.to_canonical();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .map(|a| a.to_canonical())
        .collect();
    forwarded.into_iter().rev().find(|a| !trusted.contains(a)).or(Some(peer))
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// The `RateLimit` headers (IETF draft, as gateways send them) and, when refused,
/// `Retry-After`.
fn stamp(headers: &mut HeaderMap, quota: &Quota) {
    insert(headers, "ratelimit-policy", quota.policy.header());
    insert(headers, "ratelimit-limit", quota.limit.to_string());
    insert(headers, "ratelimit-remaining", quota.remaining.to_string());
    insert(headers, "ratelimit-reset", quota.reset_s.to_string());
    if !quota.allowed {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(quota.reset_s));
    }
}

fn refused(quota: &Quota, what: &'static str) -> Response {
    metrics::counter!("caisse_rate_limited_total", "bucket" => what).increment(1);
    let mut response = ApiError::TooManyRequests {
        detail: format!(
            "{what} has made its {} requests for this window: try again in {} s",
            quota.limit, quota.reset_s
        ),
        retry_after_s: quota.reset_s,
    }
    .into_response();
    stamp(response.headers_mut(), quota);
    response
}

/// The gateway's middleware: keys, sign-in limits, and the headers of whatever quota a
/// handler counted, by the route's declared [`Policy`](super::routes::Policy), which it hands on to the
/// extractors.
pub async fn guard(
    State((state, table)): State<(AppState, Arc<Table>)>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let method = request.method().clone();
    let policy = route.as_deref().and_then(|r| table.policy(&method, r)).copied();
    if let Some(policy) = policy {
        request.extensions_mut().insert(policy);
    }
    let slot = QuotaSlot::default();
    request.extensions_mut().insert(slot.clone());
    let secret = request.headers().get(API_KEY_HEADER).map(|v| v.to_str().unwrap_or_default().to_owned());
    if let Some(secret) = secret {
        let key = match keys::authenticate(&state.db, &secret).await {
            Ok(key) => key,
            Err(e) => return ApiError::from(e).into_response(),
        };
        let Some(needed) = policy.and_then(|p| p.key) else {
            return ApiError::Forbidden("an API key may not call this route".into()).into_response();
        };
        if !key.allows(needed) {
            return ApiError::Forbidden(format!("this API key lacks the {} scope", needed.as_str()))
                .into_response();
        }
        let quota = state.limiter.hit(&Bucket::ApiKey(key.id.clone()), key.limits);
        if !quota.allowed {
            return refused(&quota, "this API key");
        }
        slot.set(quota);
        request.extensions_mut().insert(key);
    } else if let Some(route) = route.as_deref().filter(|_| policy.is_some_and(|p| p.sign_in)) {
        let peer = request.extensions().get::<super::listener::PeerAddr>().map(|p| p.0.ip());
        let settings = &state.settings.gateway;
        if let Some(address) = client_address(peer, request.headers(), &settings.trusted_proxies) {
            let quota = state.limiter.hit(&Bucket::SignInFrom(address), settings.sign_in);
            if !quota.allowed {
                tracing::warn!(%address, route, "sign-ins from this address refused by the rate limit");
                return refused(&quota, "this address");
            }
            slot.set(quota);
        }
    }
    let mut response = next.run(request).await;
    if let Some(quota) = slot.take() {
        stamp(response.headers_mut(), &quota);
    }
    response
}

/// Counts a shopper's request (from the shopper's extractor); refused past the shop's policy.
pub(super) fn limit_shopper(state: &AppState, slot: Option<&QuotaSlot>, customer: i64) -> ApiResult<()> {
    let quota = state.limiter.hit(&Bucket::Shopper(customer), state.settings.gateway.shopper);
    if let Some(slot) = slot {
        slot.set(quota);
    }
    if quota.allowed {
        Ok(())
    } else {
        metrics::counter!("caisse_rate_limited_total", "bucket" => "this shopper").increment(1);
        Err(ApiError::TooManyRequests {
            detail: format!(
                "this shopper has made {} requests in this window: try again in {} s",
                quota.limit, quota.reset_s
            ),
            retry_after_s: quota.reset_s,
        })
    }
}

/// Whether a shop's page may make this request from another origin: what the route's policy
/// opens to the shop's pages (the shop's API, its shoppers' sign-up, sign-in and tokens
/// included, and reads of the catalogue). Nothing else: head office's routes (writing a
/// product among them) answer a page of another origin without `Access-Control-Allow-Origin`,
/// preflight or not. A preflight is judged by the method it asks for.
fn open_to_shop_pages(table: &Table, request: &axum::http::request::Parts) -> bool {
    let method = match request.headers.get(header::ACCESS_CONTROL_REQUEST_METHOD) {
        Some(asked) if request.method == Method::OPTIONS => Method::from_bytes(asked.as_bytes()).ok(),
        _ => Some(request.method.clone()),
    };
    method
        .and_then(|method| table.policy_of_path(&method, request.uri.path()))
        .is_some_and(|policy| policy.shop_pages)
}

/// CORS for the shop's web origins: their pages may call the shop's API and read the
/// catalogue ([`open_to_shop_pages`]), and read the answers the gateway itself gives (a 429's
/// `Retry-After`), as this layer wraps everything. No credentials: the shop's API takes bearer tokens, never cookies,
/// so a page of another origin can never ride on a signed-in head-office session. Not
/// `X-Api-Key` either: a key belongs in a partner's server, never in a page anyone can read.
pub fn cors(settings: &Gateway, table: Arc<Table>) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = settings
        .shop_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, request| {
                origins.contains(origin) && open_to_shop_pages(&table, request)
            }))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::LOCATION,
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("ratelimit-policy"),
                HeaderName::from_static("ratelimit-limit"),
                HeaderName::from_static("ratelimit-remaining"),
                HeaderName::from_static("ratelimit-reset"),
            ])
            .max_age(std::time::Duration::from_secs(3_600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::keys::Scope;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        // Straight from a client: what it writes in the header is ignored.
        assert_eq!(client_address(Some(client), &forwarded("1.2.3.4"), &[proxy]), Some(client));
        // From the proxy: the address it appended, not what the client wrote before it.
        assert_eq!(
            client_address(Some(proxy), &forwarded(&format!("1.2.3.4, {other}")), &[proxy]),
            Some(other)
        );
        // From the proxy with nothing usable: the proxy itself.
        assert_eq!(client_address(Some(proxy), &forwarded("garbage"), &[proxy]), Some(proxy));
        assert_eq!(client_address(Some(proxy), &HeaderMap::new(), &[proxy]), Some(proxy));
        assert_eq!(client_address(None, &forwarded("1.2.3.4"), &[proxy]), None);
    }

    #[test]
    fn only_reads_in_a_scope_are_open_to_keys() {
        let (_, _, table) = super::super::declared().split(Default::default());
        let scope_of = |method: Method, route: &str| table.policy(&method, route).and_then(|p| p.key);
        assert_eq!(scope_of(Method::GET, "/api/products"), Some(Scope::CatalogueRead));
        assert_eq!(scope_of(Method::HEAD, "/api/products"), Some(Scope::CatalogueRead));
        assert_eq!(scope_of(Method::POST, "/api/products"), None);
        assert_eq!(scope_of(Method::PUT, "/api/products/{sku}"), None);
        assert_eq!(scope_of(Method::GET, "/api/reports/sales"), Some(Scope::ReportsRead));
        assert_eq!(scope_of(Method::POST, "/api/alerts/acknowledge"), None);
        assert_eq!(scope_of(Method::POST, "/api/shop/checkout"), Some(Scope::Shop));
        assert_eq!(scope_of(Method::GET, "/api/users"), None);
        assert_eq!(scope_of(Method::POST, "/api/sync/push"), None);
        assert_eq!(scope_of(Method::POST, "/api/api-keys"), None);
    }

    #[test]
    fn a_request_finds_its_route_before_routing() {
        let (_, _, table) = super::super::declared().split(Default::default());
        let shop_pages =
            |method: Method, path: &str| table.policy_of_path(&method, path).is_some_and(|p| p.shop_pages);
        assert!(shop_pages(Method::GET, "/api/products/CAF-ESP-250"));
        assert!(shop_pages(Method::POST, "/api/shop/cart/lines"));
        assert!(!shop_pages(Method::PUT, "/api/products/CAF-ESP-250"));
        assert!(!shop_pages(Method::GET, "/api/products/export"));
        assert!(!shop_pages(Method::GET, "/api/users"));
        assert!(!shop_pages(Method::GET, "/api/shop/nowhere"));
    }
}
