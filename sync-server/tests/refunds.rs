//! Issue 26, the refunds context, on SQLite and on PostgreSQL: a store return's refund asked by
//! two settling rounds at once is asked of the processor once and told to the shopper once;
//! a refund the processor refuses is marked failed and raises one alert for head office.
//! The card processor's own ledger is the oracle for money.

mod common;

use common::shop::{add, checkout, ledger, shop_server, sign_up_and_in, start_processor};
use common::{Engine, TestServer};
use serde_json::Value;
use sync_server::http::processor;
use sync_server::refunds::owed::{self, ReturnOwed};
use sync_server::refunds::{RefundStatus, Settled, settle_due};

/// A version-7 record id, as a register makes them.
const RECORD: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

/// An order paid online; its number and total.
async fn paid_order(server: &TestServer) -> (i64, i64) {
    let ana = sign_up_and_in(server, "ana@example.com").await;
    add(server, &ana, "CAF-250", 2).await;
    let response = checkout(server, &ana, "order-1", processor::APPROVED).await;
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    (order["number"].as_i64().unwrap(), order["total_cents"].as_i64().unwrap())
}

/// Writes what a return of `amount` at S1 owes on order `number`, as a pushed return would.
async fn owe(server: &TestServer, number: i64, amount: i64) {
    let mut tx = server.db.begin().await.unwrap();
    let owed = ReturnOwed {
        record_id: RECORD,
        order_number: number,
        store: "S1",
        amount,
        status: RefundStatus::Pending,
        reason: None,
    };
    owed::owe_return(&mut tx, &owed, server.db.now_ms()).await.unwrap();
    tx.commit().await.unwrap();
}

/// Two settling rounds at once, as two instances would run them; what both did together.
async fn settle_twice_at_once(server: &TestServer) -> Settled {
    let (a, b) = tokio::join!(
        settle_due(&server.state.refunds, &server.db),
        settle_due(&server.state.refunds, &server.db)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    Settled { refunded: a.refunded + b.refunded, failed: a.failed + b.failed, waiting: a.waiting + b.waiting }
}

async fn scalar(server: &TestServer, sql: &'static str) -> Value {
    let row: (String,) = sqlx::query_as(sql).bind(RECORD).fetch_one(server.db.pool()).await.unwrap();
    Value::String(row.0)
}

async fn count(server: &TestServer, sql: &'static str, value: &str) -> i64 {
    let row: (i64,) = sqlx::query_as(sql).bind(value).fetch_one(server.db.pool()).await.unwrap();
    row.0
}

/// The messages telling the shopper of the return's refund (`order-<n>-return-<record>-refunded`).
async fn told(server: &TestServer) -> i64 {
    let pattern = format!("order-%-return-{RECORD}-refunded");
    count(server, "SELECT COUNT(*) FROM outbox WHERE id LIKE $1", &pattern).await
}

async fn a_store_return_settled_twice_at_once_refunds_and_tells_once(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 50)]).await;
    let (number, total) = paid_order(&server).await;
    owe(&server, number, total - 100).await;

    let done = settle_twice_at_once(&server).await;
    // The lease gives the refund to one round; the other finds nothing owed.
    assert_eq!(done, Settled { refunded: 1, failed: 0, waiting: 0 });
    let books = ledger(&server.http, &processor).await;
    assert_eq!(books.refunds.len(), 1, "refunded once: {books:?}");
    assert_eq!(books.refunds[0].amount_cents, total - 100);
    assert_eq!(
        scalar(&server, "SELECT status FROM order_refunds WHERE record_id = $1").await,
        RefundStatus::Refunded.as_str()
    );
    assert_eq!(
        scalar(&server, "SELECT refund_id FROM order_refunds WHERE record_id = $1").await,
        books.refunds[0].id.as_str()
    );
    assert_eq!(told(&server).await, 1, "the shopper is told once");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM alerts WHERE subject = $1", RECORD).await, 0);

    // Settled: a later round asks nothing.
    assert_eq!(settle_twice_at_once(&server).await, Settled::default());
    assert_eq!(ledger(&server.http, &processor).await.refunds.len(), 1);
    server.finish().await;
}

async fn a_refused_store_return_refund_fails_and_alerts_once(engine: Engine) {
    let processor = start_processor().await;
    let server = shop_server(engine, &processor, &[("CAF-250", 50)]).await;
    let (number, total) = paid_order(&server).await;
    // More than the charge: the processor refuses it.
    owe(&server, number, total + 1).await;

    let done = settle_twice_at_once(&server).await;
    assert_eq!(done, Settled { refunded: 0, failed: 1, waiting: 0 });
    assert!(ledger(&server.http, &processor).await.refunds.is_empty());
    assert_eq!(
        scalar(&server, "SELECT status FROM order_refunds WHERE record_id = $1").await,
        RefundStatus::Failed.as_str()
    );
    let alerts = "SELECT COUNT(*) FROM alerts WHERE kind = 'refund_failed' AND subject = $1";
    assert_eq!(count(&server, alerts, RECORD).await, 1, "head office is alerted once");
    assert_eq!(told(&server).await, 0, "a refused refund is not told as refunded");

    assert_eq!(settle_twice_at_once(&server).await, Settled::default());
    server.finish().await;
}

on_both_engines!(
    a_store_return_settled_twice_at_once_refunds_and_tells_once,
    a_refused_store_return_refund_fails_and_alerts_once,
);
