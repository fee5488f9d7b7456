//! The OpenAPI document is what the server serves: every declared route is documented and
//! every documented operation is answered, over real HTTP, by the route it names (as the
//! request metrics' `route` label shows), refusing a caller without credentials exactly when
//! the document says it needs some, with a status the document declares. Paths and methods are
//! only ever declared in `src/http/routes.rs`'s builder, which the last test checks on the source.
//!
//! On SQLite only: routing and the document do not depend on the engine.

mod common;

use std::collections::BTreeSet;

use common::{Engine, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// A documented path with its parameters filled with values of the right shape (a known SKU,
/// a number, a user), so that a route's own 404 or 400 cannot pass for "not served".
fn concrete(path: &str) -> String {
    path.replace("{sku}", "CAF-250")
        .replace("{username}", "admin")
        .replace("{id}", "1")
        .replace("{number}", "1")
        .replace("{action}", "close")
        .replace("{step}", "pack")
}

/// (method, route) pairs the request metrics counted, from the Prometheus text.
fn counted_routes(metrics: &str) -> BTreeSet<(String, String)> {
    let label = |line: &str, name: &str| {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = start + line[start..].find('"')?;
        Some(line[start..end].to_owned())
    };
    metrics
        .lines()
        .filter(|line| line.starts_with("caisse_http_requests_total{"))
        .filter_map(|line| Some((label(line, "method")?.to_lowercase(), label(line, "route")?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_and_every_served_route_documented() {
    let server = TestServer::start(Engine::Sqlite).await;
    let doc: Value = server
        .http
        .get(format!("{}/api/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("the document's paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| (m.to_string(), path.clone()))
        })
        .collect();

    // The declaration the router is built from lists exactly the documented operations.
    let (_, _, table) = sync_server::http::declared().split(Default::default());
    let declared: BTreeSet<(String, String)> =
        table.iter().map(|(method, path, _)| (method.to_lowercase(), path.to_owned())).collect();
    assert_eq!(declared, documented, "declared routes and documented operations differ");
    assert!(documented.len() > 70, "the document lists {} operations", documented.len());

    for (method, path) in &documented {
        let operation = &paths[path][method];
        let url = format!("{}{}", server.base, concrete(path));
        let response = server
            .http
            .request(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), &url)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let security = operation["security"].as_array();
        let open = security
            .is_none_or(|alternatives| alternatives.iter().any(|a| a == &Value::Object(Default::default())));
        if open {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path} is documented as open");
        } else {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} needs credentials per the document"
            );
        }
        assert!(
            operation["responses"].get(status.as_str()).is_some(),
            "{method} {path} answered {status}, which its document does not declare"
        );
        assert!(
            !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {status}"
        );

        // Every other method on a documented path is refused as not allowed: the path serves
        // only what is documented.
        for other in METHODS.iter().filter(|m| paths[path].get(**m).is_none()) {
            let response = server
                .http
                .request(Method::from_bytes(other.to_uppercase().as_bytes()).unwrap(), &url)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{other} {path} is not documented");
        }
    }

    // Each call was answered by the very route the document names, not by the pages' fallback
    // or a neighbouring route.
    let metrics =
        server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    let counted = counted_routes(&metrics);
    let unserved: Vec<_> = documented.iter().filter(|op| !counted.contains(*op)).collect();
    assert!(unserved.is_empty(), "documented but not answered by their route: {unserved:?}");
    server.finish().await;
}

/// A route added to the router any other way than through the declaration would be served
/// and undocumented: the HTTP layer's files name no path to axum themselves.
#[test]
fn routes_are_only_declared_through_the_builder() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        // The card processor is another server (the demo's and the tests'), not this API.
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("processor.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let raw = [".route(\"", ".route_service(", ".nest(", ".nest_service(", "Router::new()"];
            if raw.iter().any(|r| code.contains(r)) {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "routes declared outside the builder:\n{}", offenders.join("\n"));
}

/// One row of the policy table as review reads it: method, path, caller, key scope, and the
/// flags and limits that differ from the default.
fn policy_row(method: &str, path: &str, policy: &sync_server::http::routes::Policy) -> String {
    let mut row = format!("{method} {path} {:?}", policy.caller);
    if let Some(scope) = policy.key {
        row.push_str(&format!(" key={scope:?}"));
    }
    if policy.sign_in {
        row.push_str(" sign_in");
    }
    if policy.shop_pages {
        row.push_str(" shop_pages");
    }
    if let Some(bytes) = policy.body_limit {
        row.push_str(&format!(" body_limit={bytes}"));
    }
    row
}

/// The whole policy table, pinned: who may call each route, with which key, under which limits.
/// A change to any route's policy changes this list, so it shows in review as a diff here.
#[test]
fn the_policy_table_is_pinned() {
    let (_, _, table) = sync_server::http::declared().split(Default::default());
    let actual: Vec<String> =
        table.iter().map(|(method, path, policy)| policy_row(method, path, policy)).collect();
    let expected: &[&str] = &[
        "DELETE /api/shop/cart/lines/{sku} Shopper key=Shop shop_pages",
        "DELETE /api/shop/sessions/current Shopper key=Shop shop_pages",
        "GET /api/alerts Office",
        "GET /api/api-keys Office",
        "GET /api/audit Office",
        "GET /api/audit/head Office",
        "GET /api/audit/verify Office",
        "GET /api/auth/me Office",
        "GET /api/catalogue Office key=CatalogueRead",
        "GET /api/chain-settings Office",
        "GET /api/claims Office",
        "GET /api/claims/statistics Office",
        "GET /api/claims/{id} Office",
        "GET /api/dashboard Office key=ReportsRead",
        "GET /api/dead-letters Office",
        "GET /api/events Office",
        "GET /api/fulfilment/orders Office",
        "GET /api/locations Anyone key=CatalogueRead",
        "GET /api/openapi.json Anyone",
        "GET /api/products Anyone key=CatalogueRead shop_pages",
        "GET /api/products/export Office",
        "GET /api/products/{sku} Anyone key=CatalogueRead shop_pages",
        "GET /api/products/{sku}/reach Office",
        "GET /api/registers Office",
        "GET /api/replenishments Office",
        "GET /api/reports/sales Office key=ReportsRead",
        "GET /api/shop/cart Shopper key=Shop shop_pages",
        "GET /api/shop/claims Shopper key=Shop shop_pages",
        "GET /api/shop/claims/{id} Shopper key=Shop shop_pages",
        "GET /api/shop/me Shopper key=Shop shop_pages",
        "GET /api/shop/orders Shopper key=Shop shop_pages",
        "GET /api/shop/orders/{number} Shopper key=Shop shop_pages",
        "GET /api/shop/products Anyone key=Shop shop_pages",
        "GET /api/shop/products/{sku} Anyone key=Shop shop_pages",
        "GET /api/stock Office key=CatalogueRead",
        "GET /api/stock/export Office",
        "GET /api/sync/orders/{number} Register",
        "GET /api/sync/sales/{id} Register",
        "GET /api/transfers Office",
        "GET /api/users Office",
        "GET /health Anyone",
        "GET /metrics Anyone",
        "POST /api/alerts/acknowledge Office",
        "POST /api/api-keys Office",
        "POST /api/api-keys/{id}/revoke Office",
        "POST /api/auth/login Anyone sign_in",
        "POST /api/auth/logout Office",
        "POST /api/auth/password Office",
        "POST /api/auth/session Anyone sign_in",
        "POST /api/cashiers Office",
        "POST /api/claims Office",
        "POST /api/claims/{id}/{action} Office",
        "POST /api/fulfilment/orders/{number}/{step} Office",
        "POST /api/products Office",
        "POST /api/products/import Office body_limit=268435456",
        "POST /api/registers Office",
        "POST /api/registers/enrol Anyone",
        "POST /api/registers/{id}/enrolment-code Office",
        "POST /api/registers/{id}/revoke Office",
        "POST /api/replenishments/{id}/decision Office",
        "POST /api/shop/accounts Anyone key=Shop sign_in shop_pages",
        "POST /api/shop/cart/lines Shopper key=Shop shop_pages",
        "POST /api/shop/checkout Shopper key=Shop shop_pages",
        "POST /api/shop/claims Shopper key=Shop shop_pages",
        "POST /api/shop/claims/{id}/reopen Shopper key=Shop shop_pages",
        "POST /api/shop/orders/{number}/cancel Shopper key=Shop shop_pages",
        "POST /api/shop/sessions Anyone key=Shop sign_in shop_pages",
        "POST /api/shop/sessions/refresh Anyone key=Shop sign_in shop_pages",
        "POST /api/stock/import Office body_limit=268435456",
        "POST /api/sync/pull Register",
        "POST /api/sync/push Register",
        "POST /api/transfers Office",
        "POST /api/users Office",
        "POST /api/users/{username}/disable Office",
        "POST /api/users/{username}/enable Office",
        "POST /api/users/{username}/password Office",
        "POST /api/users/{username}/role Office",
        "PUT /api/chain-settings Office",
        "PUT /api/products/{sku} Office",
        "PUT /api/shop/cart/lines/{sku} Shopper key=Shop shop_pages",
    ];
    assert_eq!(actual, expected, "the policy table changed: update this list if that is intended");
}
