//! The online shop's side of the tests: a server that sells through the local card
//! processor, and a shopper who signs up, fills a cart and checks out over HTTP.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared_model::catalogue::LocationInfo;
use shared_model::{LocationCode, LocationKind};
use sync_server::http::processor::{self, Ledger};
use sync_server::{Settings, catalogue, inventory};

use super::{Engine, TestServer};

/// The local processor on a loopback port; a hanging card's answer is held back 30 s.
pub async fn start_processor() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(processor::serve(listener, Duration::from_secs(30)));
    base
}

pub async fn ledger(http: &reqwest::Client, processor: &str) -> Ledger {
    http.get(format!("{processor}/v1/ledger")).send().await.unwrap().json().await.unwrap()
}

/// A server whose shop pays through `processor`, with short leases so the recovery acts soon,
/// the online channel WEB, and `stock` units of each product at the logistics centre LOG.
pub async fn shop_server(engine: Engine, processor: &str, stock: &[(&str, i64)]) -> TestServer {
    shop_server_with(engine, processor, stock, Settings::default()).await
}

/// [`shop_server`] with `base`'s other settings (where mail goes, say).
pub async fn shop_server_with(
    engine: Engine,
    processor: &str,
    stock: &[(&str, i64)],
    base: Settings,
) -> TestServer {
    // The server's errors show in a failing test's output.
    let _ = tracing_subscriber::fmt().with_env_filter("sync_server=warn").with_test_writer().try_init();
    let settings = Settings {
        payment_url: Some(processor.to_owned()),
        payment_timeout: Duration::from_secs(1),
        shop: sync_server::shop::Settings { lease: Duration::from_secs(2), ..Default::default() },
        ..base
    };
    let server = TestServer::start_with(engine, settings).await;
    let mut tx = server.db.begin().await.unwrap();
    let web = LocationInfo {
        code: LocationCode::parse("WEB").unwrap(),
        kind: LocationKind::Online,
        name: "Boutique en ligne".into(),
        address: "Montréal".into(),
    };
    catalogue::save_location(&mut tx, &web).await.unwrap();
    let moves: Vec<inventory::Move> = stock
        .iter()
        .map(|(sku, units)| inventory::Move {
            location: LocationCode::parse("LOG").unwrap(),
            sku: shared_model::Sku::parse(sku).unwrap(),
            delta: *units,
            kind: "opening",
            record_id: None,
        })
        .collect();
    inventory::apply(&mut tx, &moves).await.unwrap();
    tx.commit().await.unwrap();
    server
}

pub struct Shopper {
    pub access: String,
    pub refresh: String,
}

pub async fn sign_up_and_in(server: &TestServer, email: &str) -> Shopper {
    sign_up_in(server, email, "fr").await
}

/// A shopper who reads their messages in `language`.
pub async fn sign_up_in(server: &TestServer, email: &str, language: &str) -> Shopper {
    let password = "a long enough password";
    let response = server
        .http
        .post(format!("{}/api/shop/accounts", server.base))
        .json(&json!({ "email": email, "name": "Ana Tremblay", "password": password, "language": language }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    let response = server
        .http
        .post(format!("{}/api/shop/sessions", server.base))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    Shopper {
        access: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
    }
}

pub async fn send(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = server.http.request(method, format!("{}{path}", server.base)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

pub async fn add(server: &TestServer, shopper: &Shopper, sku: &str, quantity: i64) -> Value {
    let response = send(
        server,
        reqwest::Method::POST,
        "/api/shop/cart/lines",
        &shopper.access,
        Some(json!({ "sku": sku, "quantity": quantity })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

pub async fn checkout(server: &TestServer, shopper: &Shopper, key: &str, card: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/shop/checkout", server.base))
        .bearer_auth(&shopper.access)
        .header("Idempotency-Key", key)
        .json(&json!({ "card_number": card }))
        .send()
        .await
        .unwrap()
}
