//! The chain's receipt details (issue 29), on SQLite and on PostgreSQL: head office sets the
//! legal name and the GST and QST numbers, bad ones are refused naming their field and change
//! nothing, the change is audited, and every register pulls it.

mod common;

use common::{Engine, TestServer, login, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared_model::chain::ChainInfo;
use shared_model::protocol::{Change, Cursor};
use shared_model::testing::register_of;
use sync_server::identity::{self, Role};

on_both_engines!(head_office_sets_the_receipt_details_and_every_register_pulls_them);

async fn put(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    server
        .http
        .put(format!("{}/api/chain-settings", server.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The chain's details among pulled changes, if any.
fn chain_of(changes: &[Change]) -> Option<&ChainInfo> {
    changes.iter().rev().find_map(|c| match c {
        Change::Chain(info) => Some(info),
        _ => None,
    })
}

async fn audited(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'chain.settings'")
        .fetch_one(server.db.pool())
        .await
        .unwrap()
}

async fn head_office_sets_the_receipt_details_and_every_register_pulls_them(engine: Engine) {
    let server = TestServer::start(engine).await;
    let before = server.enrol(&register_of(0)).await;
    let (changes, cursor) = server.pull_all(&before, Cursor::default()).await;
    assert!(chain_of(&changes).is_none(), "nothing set yet: {changes:?}");
    let nothing = json!({ "legal_name": null, "gst_number": null, "qst_number": null });
    assert_eq!(server.get_json("/api/chain-settings").await, nothing);

    // Typed with extra spaces and in lower case; stored as receipts print them.
    let typed = json!({
        "legal_name": "  Épiceries Caisse inc. ",
        "gst_number": " 123456789rt 0001",
        "qst_number": "1234567890 tq  0001 ",
    });
    let saved = put(&server, &server.admin, &typed).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let stored = json!({
        "legal_name": "Épiceries Caisse inc.",
        "gst_number": "123456789 RT 0001",
        "qst_number": "1234567890 TQ 0001",
    });
    assert_eq!(saved.json::<Value>().await.unwrap(), stored);
    assert_eq!(server.get_json("/api/chain-settings").await, stored);
    assert_eq!(audited(&server).await, 1);

    // Bad forms are refused naming their field, and change nothing.
    for (field, value) in [
        ("gst_number", "12345678 RT 0001"),
        ("gst_number", "123456789 TQ 0001"),
        ("gst_number", "123456789 RT 01"),
        ("qst_number", "123456789 TQ 0001"),
        ("qst_number", "1234567890 RT 0001"),
        ("legal_name", "   "),
        ("legal_name", &"x".repeat(101)),
    ] {
        let mut body = stored.clone();
        body[field] = json!(value);
        let refused =
            problem(put(&server, &server.admin, &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refused["field"], field, "{value:?}: {refused}");
    }
    assert_eq!(server.get_json("/api/chain-settings").await, stored);
    assert_eq!(audited(&server).await, 1);

    // Only an admin sets them; every role reads them.
    identity::create_user(&server.db, "marie", "a long enough password", Role::Manager).await.unwrap();
    let manager = login(&server.http, &server.base, "marie", "a long enough password").await;
    problem(put(&server, &manager, &typed).await, StatusCode::FORBIDDEN).await;
    let read = server
        .http
        .get(format!("{}/api/chain-settings", server.base))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap();
    assert_eq!(read.json::<Value>().await.unwrap(), stored);

    // A register enrolled before pulls the change; one enrolled after gets it from scratch.
    let (changes, cursor) = server.pull_all(&before, cursor).await;
    let pulled = chain_of(&changes).expect("the details reach the register");
    assert_eq!(pulled.gst_number.as_ref().map(|n| n.as_str()), Some("123456789 RT 0001"));
    assert_eq!(pulled.qst_number.as_ref().map(|n| n.as_str()), Some("1234567890 TQ 0001"));
    assert_eq!(pulled.legal_name.as_ref().map(|n| n.as_str()), Some("Épiceries Caisse inc."));
    let after = server.enrol(&register_of(2)).await;
    let (changes, _) = server.pull_all(&after, Cursor::default()).await;
    assert_eq!(chain_of(&changes), Some(pulled));

    // Saving the same again publishes nothing; clearing the QST number does, as none.
    assert_eq!(put(&server, &server.admin, &stored).await.status(), StatusCode::OK);
    let (changes, cursor) = server.pull_all(&before, cursor).await;
    assert!(chain_of(&changes).is_none(), "{changes:?}");
    let cleared =
        json!({ "legal_name": "Épiceries Caisse inc.", "gst_number": "123456789 RT 0001", "qst_number": "" });
    assert_eq!(put(&server, &server.admin, &cleared).await.status(), StatusCode::OK);
    let (changes, _) = server.pull_all(&before, cursor).await;
    assert_eq!(chain_of(&changes).map(|c| c.qst_number.is_none()), Some(true), "{changes:?}");
    assert_eq!(audited(&server).await, 2);

    let doc: Value = server.get_public_json("/api/openapi.json").await;
    for method in ["get", "put"] {
        let route = &doc["paths"]["/api/chain-settings"][method];
        assert_eq!(route["security"][0]["session"], json!([]), "{method}: {route}");
    }
    assert!(doc["paths"]["/api/chain-settings"]["put"]["responses"]["422"].is_object());
    server.finish().await;
}
