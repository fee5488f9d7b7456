//! The second attacker's review, the parts about sockets and pushes, each run on SQLite and on
//! PostgreSQL: idle sockets from one machine once filled every connection slot and refused
//! every register's push; a NUL in an enum value or a member's name once made PostgreSQL answer
//! 500 when the refusal was parked, the same way at every retry, so the register's queue stuck;
//! and concurrent refused pushes once kept more payloads than the cap.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::{Engine, TestServer, at_path, batch_of, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared_model::testing::{Act, Pay, build_records, register_of};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

on_both_engines!(
    idle_sockets_from_one_machine_leave_room_for_registers,
    nul_in_any_string_or_name_of_any_record_is_refused_by_name,
    dead_letter_payloads_are_capped_exactly_under_concurrent_pushes,
);

/// A connection to `to` from the loopback address `from` (Linux routes all of 127/8 to the
/// loopback interface, so a test can play several machines).
async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    socket.connect(to).await
}

/// Whether the server has closed `stream` (read returns end of file or an error) within a
/// short look.
async fn closed(stream: &mut TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 64];
    matches!(
        tokio::time::timeout(std::time::Duration::from_millis(500), stream.read(&mut buffer)).await,
        Ok(Ok(0) | Err(_))
    )
}

async fn idle_sockets_from_one_machine_leave_room_for_registers(engine: Engine) {
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    let attacker = Ipv4Addr::new(127, 0, 0, 2);
    // More idle sockets than the server has slots: plain ones that send nothing, and some that
    // send HTTP/2's preface and then nothing.
    let cap = sync_server::listener::Limits::default().max_connections;
    let mut idle = Vec::new();
    for i in 0..cap + 76 {
        let Ok(mut stream) = connect_from(attacker, server.addr).await else { continue };
        if i % 3 == 0 {
            let _ = stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
        }
        idle.push(stream);
    }
    // The register, from its own address, still pushes and pulls.
    let records =
        build_records(&[vec![Act::Sale { lines: vec![(0, 1, None)], pay: Pay::Debit }, Act::Close]]);
    let answer = server.push(&secret, &records).await;
    assert_eq!(answer.holds, 2);
    server.pull(&secret, shared_model::protocol::Cursor::default()).await;
    let health = server.http.get(format!("{}/health", server.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // The attacker's sockets past its address's cap were closed at once.
    let per_address = sync_server::listener::Limits::default().max_connections_per_address;
    let mut open = 0;
    for stream in idle.iter_mut().rev().take(64) {
        if !closed(stream).await {
            open += 1;
        }
    }
    assert_eq!(open, 0, "the newest sockets past the cap of {per_address} are still open");
    drop(idle);
    server.finish().await;
}

/// One record of each kind, after the sale its return refers to.
fn kinds() -> Vec<Act> {
    vec![
        Act::Sale { lines: vec![(0, 2, Some(1_000)), (3, 1, None)], pay: Pay::Split { card_share: 40 } },
        Act::Return { register: 0, seq: 1, line: 0, quantity: 1, restock: true, cash: true },
        Act::Count { product: 1, counted: 7, expected: 5 },
        Act::Adjust { product: 2, delta: -3 },
        Act::Transfer { product: 4, quantity: 6 },
        Act::Replenish { product: 5, quantity: 12 },
        Act::Close,
    ]
}

/// Where a hostile byte can go in a record's JSON: a string's value, or a new member's name
/// in an object.
#[derive(Debug, Clone)]
enum Spot {
    Text(Vec<String>),
    Member(Vec<String>),
}

fn spots(value: &Value, at: &mut Vec<String>, out: &mut Vec<Spot>) {
    match value {
        Value::String(_) => out.push(Spot::Text(at.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(i.to_string());
                spots(item, at, out);
                at.pop();
            }
        }
        Value::Object(fields) => {
            out.push(Spot::Member(at.clone()));
            for (key, item) in fields {
                at.push(key.clone());
                spots(item, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// The record's wire form with a NUL put at `spot`.
fn poisoned(record: &shared_model::Record, spot: &Spot) -> Value {
    let mut value: Value = serde_json::from_str(&record.encode()).unwrap();
    match spot {
        Spot::Text(path) => {
            let text = at_path(&mut value, path);
            *text = json!(format!("{}\u{0}", text.as_str().unwrap()));
        }
        Spot::Member(path) => {
            at_path(&mut value, path).as_object_mut().unwrap().insert("n\u{0}".into(), json!(1));
        }
    }
    value
}

fn batch_of_values(records: &[Value]) -> String {
    let raw =
        records.iter().map(|r| serde_json::value::RawValue::from_string(r.to_string()).unwrap()).collect();
    shared_model::protocol::Message::encode(&shared_model::protocol::PushBatch { records: raw })
}

async fn nul_in_any_string_or_name_of_any_record_is_refused_by_name(engine: Engine) {
    let server = TestServer::start(engine).await;
    let register = register_of(0);
    let secret = server.enrol(&register).await;
    // Every spot of every kind of record.
    let templates = build_records(&[kinds()]);
    let mut cases = Vec::new();
    for (kind, record) in templates.iter().enumerate() {
        let mut found = Vec::new();
        spots(&serde_json::from_str(&record.encode()).unwrap(), &mut Vec::new(), &mut found);
        cases.extend(found.into_iter().map(|spot| (kind, spot)));
    }
    assert!(cases.len() > 60, "only {} spots found", cases.len());
    // The register's records: the sale its returns refer to, then for each case a good record,
    // the case's kind, and another good record.
    let kinds = kinds();
    let mut acts = vec![kinds[0].clone()];
    for (kind, _) in &cases {
        acts.extend([Act::Close, kinds[*kind].clone(), Act::Close]);
    }
    let records = build_records(&[acts]);
    server.push(&secret, &records[..1]).await;
    for (k, (kind, spot)) in cases.iter().enumerate() {
        let (good, bad, after) = (&records[1 + 3 * k], &records[2 + 3 * k], &records[3 + 3 * k]);
        let batch = batch_of_values(&[
            serde_json::from_str(&good.encode()).unwrap(),
            poisoned(bad, spot),
            serde_json::from_str(&after.encode()).unwrap(),
        ]);
        // Twice: a refusal already parked is refused the same way, never a 500.
        for _ in 0..2 {
            let response = server.push_raw(&secret, batch.clone()).await;
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "kind {kind}, {spot:?}: {body}");
            let refused = body["refused"].as_array().unwrap();
            assert_eq!(refused.len(), 1, "kind {kind}, {spot:?}: {body}");
            assert_eq!(refused[0]["index"], 1, "kind {kind}, {spot:?}: {body}");
            assert!(refused[0]["field"].as_str().unwrap().starts_with("records[1]"), "{body}");
        }
        // The register sets the refused record aside and pushes the others: they land.
        let answer = server.push(&secret, &[good.clone(), after.clone()]).await;
        assert_eq!(answer.holds, after.seq, "kind {kind}, {spot:?}");
    }
    // Every refusal is parked once, the NUL shown escaped, and head office reads them back.
    let parked: Vec<(String, String)> =
        sqlx::query_as("SELECT field, reason FROM dead_letters").fetch_all(server.db.pool()).await.unwrap();
    assert_eq!(parked.len(), cases.len());
    for (field, reason) in &parked {
        assert!(!field.contains('\u{0}') && !reason.contains('\u{0}'), "{field}: {reason}");
    }
    assert!(parked.iter().any(|(_, reason)| reason.contains("\\0")), "no NUL shown escaped");
    let letters = server.get_json("/api/dead-letters?limit=200").await;
    assert_eq!(letters.as_array().unwrap().len(), cases.len().min(200));
    server.finish().await;
}

async fn dead_letter_payloads_are_capped_exactly_under_concurrent_pushes(engine: Engine) {
    let server = std::sync::Arc::new(TestServer::start(engine).await);
    let secret = server.enrol(&register_of(0)).await;
    // Adjustments by zero are refused: 1,200 distinct refusals in 24 pushes made at once.
    let records = build_records(&[vec![Act::Adjust { product: 1, delta: 0 }; 1_200]]);
    let pushes = records.chunks(50).map(|chunk| {
        let (server, secret, batch) = (server.clone(), secret.clone(), batch_of(chunk));
        tokio::spawn(async move { server.push_raw(&secret, batch).await.status() })
    });
    for push in futures_util::future::join_all(pushes).await {
        assert_eq!(push.unwrap(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dead_letters WHERE payload <> ''")
        .fetch_one(server.db.pool())
        .await
        .unwrap();
    assert_eq!(kept, sync_server::sync::DEAD_LETTERS_WITH_PAYLOAD);
    assert_eq!(server.count("dead_letters").await, 1_200);
    let letter =
        problem(server.push_raw(&secret, batch_of(&records[..1])).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(letter["refused"].as_array().unwrap().len(), 1);
    std::sync::Arc::into_inner(server).unwrap().finish().await;
}
