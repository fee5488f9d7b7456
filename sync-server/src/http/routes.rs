//! Every route is declared once, in its context's file: its handler (whose `#[utoipa::path]`
//! gives the path, the method and the answers) beside its [`Policy`], who may call it and the
//! limits it is under. From that one list come the router, the OpenAPI document (each
//! operation's security requirement and the problems its policy may answer) and the
//! [`Table`] the gateway, CORS and the body limit read a route's policy from, so that no
//! part of the server names a route by a string of its own.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, RefOr, ResponseBuilder};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};

use super::AppState;
use crate::gateway::keys::Scope;

/// Who may call a route, and with which credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone, without credentials (a sign-in checks the ones in its body).
    Anyone,
    /// A signed-in head-office user: a session's bearer token, or the pages' cookie.
    Office,
    /// An enrolled register, by its device secret.
    Register,
    /// A signed-in shopper, by the shop's access token (counted against the shopper's limit).
    Shopper,
}

impl Caller {
    /// The security scheme of the OpenAPI document that names these credentials.
    pub fn scheme(self) -> Option<&'static str> {
        match self {
            Caller::Anyone => None,
            Caller::Office => Some("session"),
            Caller::Register => Some("device"),
            Caller::Shopper => Some("shopper"),
        }
    }
}

/// A status a route may answer beside those its policy implies, and what it means.
pub type Answer = (&'static str, &'static str);

/// Who may call a route and the limits it is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub caller: Caller,
    /// An integration's API key of this scope may call the route (instead of the caller).
    pub key: Option<Scope>,
    /// Every call counts against the client's address, whatever its outcome: sign-ins, and
    /// what tries a password or a token in their place.
    pub sign_in: bool,
    /// The shop's web pages, on another origin, may call it (CORS).
    pub shop_pages: bool,
    /// A body limit of its own, larger than the server's.
    pub body_limit: Option<usize>,
    /// What else it may answer (first, so their descriptions win over the generic ones).
    pub answers: &'static [Answer],
}

impl Policy {
    const fn of(caller: Caller) -> Policy {
        Policy { caller, key: None, sign_in: false, shop_pages: false, body_limit: None, answers: &[] }
    }

    pub const fn anyone() -> Policy {
        Policy::of(Caller::Anyone)
    }

    pub const fn office() -> Policy {
        Policy::of(Caller::Office)
    }

    pub const fn register() -> Policy {
        Policy::of(Caller::Register)
    }

    pub const fn shopper() -> Policy {
        Policy::of(Caller::Shopper)
    }

    pub const fn key(self, scope: Scope) -> Policy {
        Policy { key: Some(scope), ..self }
    }

    pub const fn sign_in(self) -> Policy {
        Policy { sign_in: true, ..self }
    }

    pub const fn shop_pages(self) -> Policy {
        Policy { shop_pages: true, ..self }
    }

    pub const fn body_limit(self, bytes: usize) -> Policy {
        Policy { body_limit: Some(bytes), ..self }
    }

    pub const fn answers(self, answers: &'static [Answer]) -> Policy {
        Policy { answers, ..self }
    }
}

/// Routes and their policies, as a context declares them: `Routes::new().route(policy,
/// routes!(handler))`, one handler a call.
pub struct Routes {
    router: OpenApiRouter<AppState>,
    policies: Vec<(Method, String, Policy)>,
    /// The tag of the document that groups these routes (their context's name).
    tag: Option<&'static str>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes").field("policies", &self.policies).finish()
    }
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes { router: OpenApiRouter::default(), policies: Vec::new(), tag: None }
    }

    /// Routes grouped under `tag` in the document.
    pub fn tagged(tag: &'static str) -> Routes {
        Routes { tag: Some(tag), ..Routes::new() }
    }

    /// Serves and documents `route` (from `utoipa_axum::routes!`) under `policy`.
    pub fn route(mut self, policy: Policy, mut route: UtoipaMethodRouter<AppState>) -> Routes {
        for (path, item) in route.1.paths.iter_mut() {
            for (method, operation) in operations(item) {
                let Some(operation) = operation else { continue };
                if let Some(tag) = self.tag {
                    operation.tags.get_or_insert_with(Vec::new).push(tag.to_owned());
                }
                self.policies.push((method, path.clone(), policy));
            }
        }
        let route = match policy.body_limit {
            Some(bytes) => route.layer(DefaultBodyLimit::max(bytes)),
            None => route,
        };
        self.router = self.router.routes(route);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.policies.extend(other.policies);
        self
    }

    /// The router, the document (`base` with every declared operation, its security and its
    /// policy's answers) and the table of policies.
    pub fn split(self, base: OpenApi) -> (Router<AppState>, OpenApi, Table) {
        let (router, declared) = self.router.split_for_parts();
        let mut doc = base;
        doc.merge(declared);
        let table = Table::new(self.policies);
        document(&mut doc, &table);
        (router, doc, table)
    }
}

/// Lets a context's declaration be merged into a plain router.
impl From<Routes> for Router<AppState> {
    fn from(routes: Routes) -> Self {
        routes.router.into()
    }
}

/// Each declared route's policy, by method and route (as axum's `MatchedPath` names it).
#[derive(Debug, Default)]
pub struct Table {
    policies: BTreeMap<(String, String), Policy>,
    /// The routes' paths, to find the route of a request not yet routed (CORS's).
    paths: matchit::Router<String>,
}

impl Table {
    fn new(declared: Vec<(Method, String, Policy)>) -> Table {
        let mut table = Table::default();
        for (method, path, policy) in declared {
            if !table.policies.keys().any(|(_, p)| *p == path) {
                // Each path is inserted once; a conflict (two templates one matcher cannot tell
                // apart) is a programming error that must stop the server, not pass silently.
                table
                    .paths
                    .insert(path.clone(), path.clone())
                    .unwrap_or_else(|e| panic!("the route {path} conflicts in the policy table: {e}"));
            }
            table.policies.insert((method.to_string(), path), policy);
        }
        table
    }

    /// The policy of `route` (a declared path, `/api/products/{sku}`) for `method`; a `HEAD`
    /// is its `GET`'s.
    pub fn policy(&self, method: &Method, route: &str) -> Option<&Policy> {
        let method = if method == Method::HEAD { &Method::GET } else { method };
        self.policies.get(&(method.to_string(), route.to_owned()))
    }

    /// The policy of the route a request's path (`/api/products/CAF-ESP-250`) would reach.
    pub fn policy_of_path(&self, method: &Method, path: &str) -> Option<&Policy> {
        let route = self.paths.at(path).ok()?.value;
        self.policy(method, route)
    }

    /// Every declared route: (method, path, policy).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Policy)> {
        self.policies.iter().map(|((method, path), policy)| (method.as_str(), path.as_str(), policy))
    }
}

/// A path item's operations, by method.
fn operations(item: &mut utoipa::openapi::PathItem) -> [(Method, Option<&mut Operation>); 5] {
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
    ]
}

/// Adds to the document what follows from the routes' policies, declared once here: the
/// security schemes and which operations need them, and the problems any route may answer
/// (a malformed or oversized request; refused credentials or role; a throttled or busy
/// server), so that a client, or a fuzzer, knows every status it can get.
fn document(doc: &mut OpenApi, table: &Table) {
    let components = doc.components.get_or_insert_with(Default::default);
    let bearer = |description: &str| {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(description.to_owned());
        SecurityScheme::Http(http)
    };
    components.add_security_scheme(
        "session",
        bearer(
            "A head-office session token from POST /api/auth/login. Head office's pages use the \
                 caisse_session cookie from POST /api/auth/session instead, and send its csrf value as \
                 X-CSRF-Token with every write.",
        ),
    );
    components.add_security_scheme("device", bearer("A register's device secret, from enrolment."));
    components.add_security_scheme(
        "shopper",
        bearer(
            "A shopper's access token (a JWT) from POST /api/shop/sessions or /api/shop/sessions/refresh.",
        ),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
            utoipa::openapi::security::ApiKeyValue::with_description(
                "X-Api-Key",
                "An integration's key (POST /api/api-keys), scoped and rate limited on its own.",
            ),
        )),
    );
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", Content::new(Some(utoipa::openapi::schema::Object::new())))
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            let Some(operation) = operation else { continue };
            let Some(policy) = table.policy(&method, path) else { continue };
            for (status, description) in answers(policy, path, operation) {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description).into());
            }
        }
    }
}

/// The problems an operation may answer under `policy`, setting its security requirement.
fn answers(policy: &Policy, path: &str, operation: &mut Operation) -> Vec<Answer> {
    let mut answers = vec![
        ("400", "The request is malformed (problem+json names the field)"),
        ("413", "The request is too large"),
        ("422", "A value is refused (problem+json names the field)"),
    ];
    answers.extend_from_slice(policy.answers);
    if let Some(scheme) = policy.caller.scheme() {
        operation.security = Some(vec![SecurityRequirement::new(scheme, Vec::<String>::new())]);
        answers.push(("401", "Missing, unknown, expired or revoked credentials"));
        answers.push(("403", "The role or register may not do this"));
    }
    if policy.key.is_some() {
        // An integration may call this route with a key of its scope instead.
        let mut either = operation.security.take().unwrap_or_default();
        if either.is_empty() {
            // A public route stays callable with no credentials at all.
            either.push(SecurityRequirement::default());
        }
        either.push(SecurityRequirement::new("api_key", Vec::<String>::new()));
        operation.security = Some(either);
        answers.push(("401", "Missing, unknown, expired or revoked credentials"));
        answers.push(("403", "The key lacks the route's scope"));
        answers.push(("429", "Over the rate limit: see Retry-After and RateLimit-Reset"));
    }
    if policy.caller == Caller::Shopper {
        answers.push(("429", "Over this shopper's rate limit: see Retry-After and RateLimit-Reset"));
    }
    if policy.sign_in {
        answers.push(("429", "Too many sign-ins from this address: see Retry-After"));
    }
    if path.contains('{') {
        answers.push(("404", "No such thing"));
    }
    let json_body = match &operation.request_body {
        Some(RefOr::T(body)) => body.content.contains_key("application/json"),
        _ => false,
    };
    if json_body {
        answers.push(("415", "The body is not sent as Content-Type: application/json"));
    }
    answers
}
