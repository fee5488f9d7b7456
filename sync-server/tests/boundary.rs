//! What an attacker's review found at the HTTP boundary (issue 24), each on both engines: a
//! JSON body sent as anything but JSON is refused with 415 and changes nothing (a page of
//! another site can send text/plain without a preflight: login CSRF); CORS opens only the
//! shop's routes and catalogue reads to the shop's origin, never head office's writes; and an
//! answer given without reading the request's body says `Connection: close`.

mod common;

use common::shop::{shop_server_with, sign_up_and_in};
use common::{ADMIN_PASSWORD, Engine, TestServer, problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sync_server::Settings;
use sync_server::http::gateway::Gateway;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_engines!(
    a_json_body_sent_as_anything_else_is_refused_and_changes_nothing,
    the_shop_s_origin_may_call_the_shop_but_not_head_office,
    an_answer_that_leaves_the_body_unread_closes_the_connection,
);

const SHOP: &str = "https://shop.example";

async fn shop(engine: Engine) -> TestServer {
    let processor = common::shop::start_processor().await;
    let settings = Settings {
        gateway: Gateway { shop_origins: vec![SHOP.into()], ..Gateway::default() },
        ..Settings::default()
    };
    shop_server_with(engine, &processor, &[("CAF-250", 10)], settings).await
}

/// Sends `body` with this `Content-Type` (none for `None`), as a page of another site can
/// without a CORS preflight.
async fn post_as(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = server.http.post(format!("{}{path}", server.base)).body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

async fn unsupported(response: reqwest::Response, what: &str) {
    assert!(response.headers().get("set-cookie").is_none(), "{what}: a refusal sets no cookie");
    let body = problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(body["expected"], "application/json", "{what}: {body}");
    assert!(body["detail"].as_str().unwrap().contains("application/json"), "{what}: {body}");
}

async fn a_json_body_sent_as_anything_else_is_refused_and_changes_nothing(engine: Engine) {
    let server = shop(engine).await;
    let shopper = sign_up_and_in(&server, "ana@example.com").await;
    let line = json!({ "sku": "CAF-250", "quantity": 1 });
    let sign_in = json!({ "username": "admin", "password": ADMIN_PASSWORD });
    let product = json!({ "sku": "NEW-1", "name": "New", "category": "Test", "price": "1.00", "tax_class": "standard", "reorder_threshold": 0 });
    let sign_up = json!({ "email": "eve@example.com", "name": "Eve", "password": "a long enough password" });
    let customers = server.count("customers").await;
    for content_type in
        [None, Some("text/plain"), Some("text/plain; charset=utf-8"), Some("application/jsonx")]
    {
        let what = format!("sent as {content_type:?}");
        // The shop: a shopper's cart, and opening an account.
        let added =
            post_as(&server, "/api/shop/cart/lines", Some(&shopper.access), content_type, &line).await;
        unsupported(added, &format!("a cart line {what}")).await;
        let opened = post_as(&server, "/api/shop/accounts", None, content_type, &sign_up).await;
        unsupported(opened, &format!("an account {what}")).await;
        // Signing in to head office's pages (the cookie) and its API.
        let session = post_as(&server, "/api/auth/session", None, content_type, &sign_in).await;
        unsupported(session, &format!("a page's sign-in {what}")).await;
        let login = post_as(&server, "/api/auth/login", None, content_type, &sign_in).await;
        unsupported(login, &format!("a sign-in {what}")).await;
        // Head office: a new product.
        let created = post_as(&server, "/api/products", Some(&server.admin), content_type, &product).await;
        unsupported(created, &format!("a product {what}")).await;
    }
    let cart = common::shop::send(&server, Method::GET, "/api/shop/cart", &shopper.access, None).await;
    let cart: Value = cart.json().await.unwrap();
    assert_eq!(cart["lines"], json!([]), "no line was added: {cart}");
    assert_eq!(server.count("customers").await, customers, "no account was opened");
    let missing = server.http.get(format!("{}/api/products/NEW-1", server.base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND, "no product was created");

    // JSON by any of its names is taken: with a charset, or a +json type.
    for content_type in ["application/json; charset=utf-8", "Application/JSON", "application/vnd.caisse+json"]
    {
        let session = post_as(&server, "/api/auth/session", None, Some(content_type), &sign_in).await;
        assert_eq!(session.status(), StatusCode::OK, "{content_type}");
        assert!(session.headers().get("set-cookie").is_some(), "{content_type}");
    }
    let added =
        post_as(&server, "/api/shop/cart/lines", Some(&shopper.access), Some("application/json"), &line)
            .await;
    assert_eq!(added.status(), StatusCode::OK);

    // The document says so, for a client (or a fuzzer) sending something else.
    let document: Value = server.get_public_json("/api/openapi.json").await;
    for (path, method) in
        [("/api/shop/cart/lines", "post"), ("/api/auth/session", "post"), ("/api/products", "post")]
    {
        assert!(
            document["paths"][path][method]["responses"].get("415").is_some(),
            "{method} {path} declares 415"
        );
    }
    assert!(
        document["paths"]["/api/shop/cart"]["get"]["responses"].get("415").is_none(),
        "a GET takes no body"
    );
    server.finish().await;
}

async fn the_shop_s_origin_may_call_the_shop_but_not_head_office(engine: Engine) {
    let server = shop(engine).await;
    let preflight = |method: &'static str, path: &str| {
        server
            .http
            .request(Method::OPTIONS, format!("{}{path}", server.base))
            .header("Origin", SHOP)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let allow_origin =
        |response: &reqwest::Response| response.headers().get("access-control-allow-origin").cloned();
    // Head office's writes: no page of the shop may make them, whatever it holds.
    for (method, path) in [
        ("POST", "/api/products"),
        ("PUT", "/api/products/CAF-250"),
        ("DELETE", "/api/products/CAF-250"),
        ("POST", "/api/users"),
        ("POST", "/api/auth/session"),
    ] {
        let answer = preflight(method, path).await.unwrap();
        assert_eq!(allow_origin(&answer), None, "preflight for {method} {path}");
    }
    // The shop's routes, its shoppers' sign-in included.
    for (method, path) in [
        ("POST", "/api/shop/cart/lines"),
        ("POST", "/api/shop/sessions"),
        ("POST", "/api/shop/accounts"),
        ("PUT", "/api/shop/cart/lines/CAF-250"),
        ("GET", "/api/products"),
    ] {
        let answer = preflight(method, path).await.unwrap();
        assert_eq!(
            allow_origin(&answer).as_ref().map(|v| v.to_str().unwrap()),
            Some(SHOP),
            "preflight for {method} {path}"
        );
    }
    // The actual answers alike: the catalogue may be read, not written.
    let read =
        server.http.get(format!("{}/api/products", server.base)).header("Origin", SHOP).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(allow_origin(&read).as_ref().map(|v| v.to_str().unwrap()), Some(SHOP));
    let write = server
        .http
        .post(format!("{}/api/products", server.base))
        .header("Origin", SHOP)
        .bearer_auth(&server.admin)
        .json(&json!({ "sku": "NEW-2", "name": "New", "category": "Test", "price": "1.00", "tax_class": "standard", "reorder_threshold": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&write), None, "a write to head office answered to the shop's origin");
    let shop = server
        .http
        .get(format!("{}/api/shop/products", server.base))
        .header("Origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&shop).as_ref().map(|v| v.to_str().unwrap()), Some(SHOP));
    server.finish().await;
}

/// One request written on `socket` as bytes; answers the response's head, lower-cased, and
/// its body (read by its `Content-Length`).
async fn exchange(socket: &mut tokio::net::TcpStream, request: &str) -> (String, String) {
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut read = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "the connection closed before the answer's head: {:?}",
            String::from_utf8_lossy(&read)
        );
        read.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&read[..end]).to_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
    while read.len() < end + length {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed in the answer's body");
        read.extend_from_slice(&chunk[..n]);
    }
    (head, String::from_utf8_lossy(&read[end..end + length]).into_owned())
}

fn post(path: &str, headers: &str, body: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: caisse\r\n{headers}Content-Length: {}\r\n\r\n{body}", body.len())
}

fn closes(head: &str) -> bool {
    head.lines().any(|l| l.trim_end() == "connection: close")
}

async fn an_answer_that_leaves_the_body_unread_closes_the_connection(engine: Engine) {
    let server = TestServer::start(engine).await;
    let product = json!({ "sku": "NEW-3", "name": "New", "category": "Test", "price": "1.00", "tax_class": "standard", "reorder_threshold": 0 }).to_string();
    let refusals = [
        // No credentials: refused before the body.
        ("401", post("/api/products", "Content-Type: application/json\r\n", &product)),
        // Not JSON: refused before the body.
        (
            "415",
            post(
                "/api/auth/login",
                "Content-Type: text/plain\r\n",
                "{\"username\":\"admin\",\"password\":\"x\"}",
            ),
        ),
        // Declared over the limit: refused before the body (which is never sent).
        (
            "413",
            format!(
                "POST /api/auth/login HTTP/1.1\r\nHost: caisse\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                64 * 1024 * 1024
            ),
        ),
    ];
    for (status, request) in refusals {
        let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (head, body) = exchange(&mut socket, &request).await;
        assert!(head.starts_with(&format!("http/1.1 {status}")), "{head}{body}");
        assert!(closes(&head), "a {status} that left the body unread keeps the connection: {head}");
    }
    // A body read to its end, even refused after, keeps the connection for the next request.
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let wrong = post(
        "/api/auth/login",
        "Content-Type: application/json\r\n",
        "{\"username\":\"admin\",\"password\":\"wrong\"}",
    );
    let (head, body) = exchange(&mut socket, &wrong).await;
    assert!(head.starts_with("http/1.1 401"), "{head}{body}");
    assert!(!closes(&head), "{head}");
    let (head, _) = exchange(&mut socket, "GET /health HTTP/1.1\r\nHost: caisse\r\n\r\n").await;
    assert!(head.starts_with("http/1.1 200"), "the same connection serves the next request: {head}");
    assert!(!closes(&head), "{head}");
    server.finish().await;
}
