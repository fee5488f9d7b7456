//! The gateway's duties in the service, on both engines: API keys (shown once, scoped, limited,
//! revoked), a shopper's and a signing-in address's limits with their headers, counted without
//! a database write, registers never limited, CORS for the shop's origins only, and `/health`
//! while draining.

mod common;

use common::shop::{send, shop_server_with, sign_up_and_in};
use common::{Engine, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared_model::testing::{Act, Pay, build_records, register_of};
use sync_server::Settings;
use sync_server::gateway::limits::Policy;
use sync_server::http::gateway::Gateway;

on_both_engines!(api_keys, shoppers_sign_ins_registers_and_cors, limited_requests_write_nothing);

async fn create_key(server: &TestServer, body: Value) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/api-keys", server.base))
        .bearer_auth(&server.admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn problem_field(response: reqwest::Response) -> String {
    let problem: Value = response.json().await.unwrap();
    problem["field"].as_str().unwrap_or_default().to_owned()
}

async fn api_keys(engine: Engine) {
    let server = TestServer::start(engine).await;
    // Bad input names its field and makes nothing.
    let bad = create_key(&server, json!({ "name": "BI", "scopes": ["everything"] })).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_field(bad).await, "scopes[0]");
    let bad = create_key(&server, json!({ "name": "BI", "scopes": ["shop"], "per_minute": 0 })).await;
    assert_eq!(problem_field(bad).await, "per_minute");
    let bad = create_key(&server, json!({ "name": " ", "scopes": ["shop"] })).await;
    assert_eq!(problem_field(bad).await, "name");
    let none: Value = server
        .http
        .get(format!("{}/api/api-keys", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]));

    // Made once: the secret is in this answer and never again.
    let created = create_key(
        &server,
        json!({ "name": "Catalogue feed", "scopes": ["catalogue_read"], "per_minute": 3 }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ck_") && secret.len() > 60, "{secret}");
    let listed = server
        .http
        .get(format!("{}/api/api-keys", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    let listed = listed.text().await.unwrap();
    assert!(!listed.contains(&secret), "a list shows a key's secret");
    assert!(listed.contains(&secret[..11]), "the list shows the key's prefix: {listed}");
    let stored: String =
        sqlx::query_scalar("SELECT secret_hash FROM api_keys").fetch_one(server.db.pool()).await.unwrap();
    assert_ne!(stored, secret);

    // In scope and under the limit: answered, with the limit's headers.
    let get = |path: &str, key: &str| {
        server.http.get(format!("{}{path}", server.base)).header("X-Api-Key", key.to_owned()).send()
    };
    for left in (0..3).rev() {
        let response = get("/api/products", &secret).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit-remaining"), Some(left.to_string()));
        assert_eq!(header(&response, "ratelimit-limit").as_deref(), Some("3"));
    }
    let over = get("/api/products", &secret).await.unwrap();
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        header(&over, "retry-after")
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| (1..=60).contains(&s))
    );
    assert_eq!(header(&over, "content-type").as_deref(), Some("application/problem+json"));
    // Out of its scope: refused whatever the limit.
    assert_eq!(get("/api/reports/sales", &secret).await.unwrap().status(), StatusCode::FORBIDDEN);
    let write = server
        .http
        .post(format!("{}/api/products", server.base))
        .header("X-Api-Key", &secret)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    // A reports key reads the report as head office does.
    let reports: Value = create_key(&server, json!({ "name": "BI tool", "scopes": ["reports_read"] }))
        .await
        .json()
        .await
        .unwrap();
    let reports_secret = reports["secret"].as_str().unwrap();
    let report = get("/api/reports/sales?from=2026-01-01&to=2026-01-31", reports_secret).await.unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    assert_eq!(header(&report, "ratelimit-policy").as_deref(), Some("100;w=60, 1000;w=3600"));
    // Unknown and revoked keys are refused.
    assert_eq!(get("/api/products", "ck_nope").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let id = reports["key"]["id"].as_str().unwrap();
    let revoked = server
        .http
        .post(format!("{}/api/api-keys/{id}/revoke", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let after: Value = revoked.json().await.unwrap();
    assert!(after["revoked_ms"].as_i64().is_some());
    assert_eq!(
        get("/api/reports/sales?from=2026-01-01&to=2026-01-31", reports_secret).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Only an admin makes keys; both changes are in the audit trail.
    sync_server::identity::create_user(
        &server.db,
        "marie",
        "a long enough password",
        sync_server::identity::Role::Manager,
    )
    .await
    .unwrap();
    let manager = common::login(&server.http, &server.base, "marie", "a long enough password").await;
    let refused = server
        .http
        .post(format!("{}/api/api-keys", server.base))
        .bearer_auth(&manager)
        .json(&json!({ "name": "x", "scopes": ["shop"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'api_key.%' ORDER BY seq")
            .fetch_all(server.db.pool())
            .await
            .unwrap();
    assert_eq!(actions, ["api_key.create", "api_key.create", "api_key.revoke"]);
    server.finish().await;
}

async fn shoppers_sign_ins_registers_and_cors(engine: Engine) {
    let processor = common::shop::start_processor().await;
    let settings = Settings {
        gateway: Gateway {
            shopper: Policy::new(5, 100),
            sign_in: Policy::new(4, 100),
            shop_origins: vec!["https://shop.example".into()],
            ..Gateway::default()
        },
        ..Settings::default()
    };
    let server = shop_server_with(engine, &processor, &[("CAF-ESP-250", 10)], settings).await;
    // The test server's admin signed in once already (TestServer::start); signing up and signing
    // in count too (the password is hashed alike): that makes three.
    let shopper = sign_up_and_in(&server, "ana@example.com").await;
    let wrong = |n: usize| {
        server
            .http
            .post(format!("{}/api/shop/sessions", server.base))
            .json(&json!({ "email": "ana@example.com", "password": format!("wrong password {n}") }))
            .send()
    };
    assert_eq!(wrong(1).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let refused = wrong(2).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "the fifth sign-in from one address");
    assert!(header(&refused, "retry-after").is_some());
    assert_eq!(header(&refused, "ratelimit-remaining").as_deref(), Some("0"));

    // A shopper's requests count against the shopper, whatever the route.
    for left in (0..5).rev() {
        let response = send(&server, Method::GET, "/api/shop/me", &shopper.access, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit-remaining"), Some(left.to_string()));
    }
    let over = server
        .http
        .get(format!("{}/api/shop/cart", server.base))
        .bearer_auth(&shopper.access)
        .header("Origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&over, "retry-after").is_some());
    // The shop's page may read the refusal: CORS wraps the gateway's own answers too.
    assert_eq!(header(&over, "access-control-allow-origin").as_deref(), Some("https://shop.example"));
    assert!(header(&over, "access-control-expose-headers").unwrap_or_default().contains("retry-after"));

    // A register's pushes are never limited.
    let sales = vec![Act::Sale { lines: vec![(0, 1, None)], pay: Pay::Debit }; 12];
    let records = build_records(&[sales]);
    let secret = server.enrol(&register_of(0)).await;
    for record in &records {
        let answer = server.push(&secret, std::slice::from_ref(record)).await;
        assert!(answer.verdicts.iter().all(|v| v.outcome == shared_model::protocol::Outcome::Accepted));
    }

    // CORS: the shop's origin may call the shop's API and read the catalogue; no other origin,
    // and no head-office route.
    let preflight = |origin: &str, path: &str| {
        server
            .http
            .request(Method::OPTIONS, format!("{}{path}", server.base))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
            .send()
    };
    let allowed = preflight("https://shop.example", "/api/shop/checkout").await.unwrap();
    assert_eq!(header(&allowed, "access-control-allow-origin").as_deref(), Some("https://shop.example"));
    assert!(header(&allowed, "access-control-allow-headers").unwrap_or_default().contains("idempotency-key"));
    assert_eq!(header(&allowed, "access-control-allow-credentials"), None);
    let other = preflight("https://evil.example", "/api/shop/checkout").await.unwrap();
    assert_eq!(header(&other, "access-control-allow-origin"), None);
    let office = preflight("https://shop.example", "/api/users").await.unwrap();
    assert_eq!(header(&office, "access-control-allow-origin"), None);
    let catalogue = server
        .http
        .get(format!("{}/api/products", server.base))
        .header("Origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&catalogue, "access-control-allow-origin").as_deref(), Some("https://shop.example"));

    // Draining: /health says so, for the load balancer to take the instance out.
    assert_eq!(
        server.http.get(format!("{}/health", server.base)).send().await.unwrap().status(),
        StatusCode::OK
    );
    server.state.readiness.drain();
    let health = server.http.get(format!("{}/health", server.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(health.json::<Value>().await.unwrap()["detail"].as_str().unwrap().starts_with("draining"));
    server.finish().await;
}

/// Counting writes nothing: an API key's, a shopper's and sign-ins' requests, let through or
/// refused, leave no row in `rate_windows` (where they were counted before, kept by the
/// released migrations) nor anywhere else a request would queue on.
async fn limited_requests_write_nothing(engine: Engine) {
    let processor = common::shop::start_processor().await;
    let settings = Settings {
        gateway: Gateway {
            shopper: Policy::new(2, 0),
            sign_in: Policy::new(100, 1_000),
            ..Gateway::default()
        },
        ..Settings::default()
    };
    let server = shop_server_with(engine, &processor, &[("CAF-ESP-250", 10)], settings).await;
    let shopper = sign_up_and_in(&server, "ana@example.com").await;
    let created: Value =
        create_key(&server, json!({ "name": "Feed", "scopes": ["catalogue_read"], "per_minute": 2 }))
            .await
            .json()
            .await
            .unwrap();
    let secret = created["secret"].as_str().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let read = server
            .http
            .get(format!("{}/api/products", server.base))
            .header("X-Api-Key", secret)
            .send()
            .await
            .unwrap();
        let me = send(&server, Method::GET, "/api/shop/me", &shopper.access, None).await;
        statuses.push((read.status().as_u16(), me.status().as_u16()));
    }
    assert_eq!(statuses, [(200, 200), (200, 200), (429, 429)]);
    assert_eq!(server.count("rate_windows").await, 0, "a limited request wrote a rate window");
    server.finish().await;
}
