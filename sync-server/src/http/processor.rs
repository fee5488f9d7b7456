//! A local card processor for the demo and the tests: the HTTP subset
//! [`crate::shop::payments::HttpProcessor`] speaks, with idempotency keys, kept in memory.
//!
//! Like a real processor's test mode, the card number decides what happens:
//!
//! | card | outcome |
//! |---|---|
//! | 4000 0000 0000 0002 | declined (`card_declined`) |
//! | 4000 0000 0000 9995 | declined (`insufficient_funds`) |
//! | 4000 0000 0000 0119 | 500, nothing charged |
//! | 4000 0000 0000 0341 | charged, then the answer is held back (a lost answer) |
//! | any other valid number | approved |
//!
//! `GET /v1/ledger` lists every charge and refund: the tests check Caisse's books against it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::shop::payments::{ChargeBody, ChargeList, RefundBody};

pub const DECLINED: &str = "4000000000000002";
pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
pub const FAILS: &str = "4000000000000119";
pub const HANGS: &str = "4000000000000341";
pub const APPROVED: &str = "4242424242424242";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChargeEntry {
    pub id: String,
    pub key: String,
    pub status: String,
    pub amount_cents: i64,
    #[serde(default)]
    pub decline_reason: Option<String>,
    /// What the card's number ended with: the full number is not kept here either.
    pub last4: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundEntry {
    pub id: String,
    pub key: String,
    pub charge: String,
    pub amount_cents: i64,
}

/// Everything the processor did: what the tests compare Caisse's books with.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ledger {
    pub charges: Vec<ChargeEntry>,
    pub refunds: Vec<RefundEntry>,
}

#[derive(Debug, Default)]
struct Books {
    ledger: Ledger,
    /// Idempotency key → the request's body, to refuse a key reused for another request.
    requests: HashMap<String, String>,
}

#[derive(Debug, Clone)]
struct Processor {
    books: Arc<Mutex<Books>>,
    /// How long a "hanging" card's answer is held back.
    hang: Duration,
}

impl Processor {
    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        // A panic while holding the lock leaves the books as they were: keep serving them.
        self.books.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The processor's routes; `hang` is how long a hanging card's answer is held back.
pub fn router(hang: Duration) -> Router {
    let processor = Processor { books: Arc::default(), hang };
    Router::new()
        .route("/v1/charges", post(charge).get(find_charges))
        .route("/v1/refunds", post(refund))
        .route("/v1/ledger", get(ledger))
        .with_state(processor)
}

/// Serves the processor on `listener` until the process ends.
pub async fn serve(listener: TcpListener, hang: Duration) -> std::io::Result<()> {
    axum::serve(listener, router(hang)).await
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": { "message": message } }))).into_response()
}

fn key_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")?
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .map(str::to_owned)
}

#[derive(Debug, Deserialize)]
struct ChargeRequest {
    amount_cents: i64,
    currency: String,
    card_number: String,
}

async fn charge(State(processor): State<Processor>, headers: HeaderMap, body: String) -> Response {
    let Some(key) = key_of(&headers) else {
        return error(StatusCode::BAD_REQUEST, "an Idempotency-Key header is required");
    };
    let Ok(request) = serde_json::from_str::<ChargeRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body must be {amount_cents, currency, card_number}");
    };
    if request.amount_cents <= 0 || request.currency != "CAD" {
        return error(StatusCode::BAD_REQUEST, "amount_cents must be positive and currency CAD");
    }
    let number = request.card_number.as_str();
    let answer = {
        let mut books = processor.books();
        if let Some(earlier) = books.requests.get(&key) {
            if *earlier != body {
                return error(StatusCode::CONFLICT, "this Idempotency-Key was used for another request");
            }
            let charge = books.ledger.charges.iter().find(|c| c.key == key).cloned();
            return match charge {
                Some(charge) => charge_response(charge),
                None => error(StatusCode::INTERNAL_SERVER_ERROR, "processing error"),
            };
        }
        if number == FAILS {
            // Nothing is recorded: asking again under this key finds no charge.
            return error(StatusCode::INTERNAL_SERVER_ERROR, "processing error");
        }
        let decline_reason = match number {
            DECLINED => Some("card_declined".to_owned()),
            INSUFFICIENT_FUNDS => Some("insufficient_funds".to_owned()),
            _ => None,
        };
        let entry = ChargeEntry {
            id: format!("ch_{}", uuid::Uuid::now_v7().simple()),
            key: key.clone(),
            status: if decline_reason.is_some() { "declined" } else { "succeeded" }.into(),
            amount_cents: request.amount_cents,
            decline_reason,
            last4: number.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect(),
        };
        books.requests.insert(key, body.clone());
        books.ledger.charges.push(entry.clone());
        entry
    };
    if number == HANGS {
        tokio::time::sleep(processor.hang).await;
    }
    charge_response(answer)
}

fn charge_response(charge: ChargeEntry) -> Response {
    let status =
        if charge.status == "succeeded" { StatusCode::CREATED } else { StatusCode::PAYMENT_REQUIRED };
    let body = ChargeBody {
        id: charge.id,
        status: charge.status,
        amount_cents: charge.amount_cents,
        decline_reason: charge.decline_reason,
    };
    (status, Json(body)).into_response()
}

#[derive(Debug, Deserialize)]
struct FindQuery {
    idempotency_key: String,
}

async fn find_charges(State(processor): State<Processor>, Query(query): Query<FindQuery>) -> Response {
    let books = processor.books();
    let data = books
        .ledger
        .charges
        .iter()
        .filter(|c| c.key == query.idempotency_key)
        .map(|c| ChargeBody {
            id: c.id.clone(),
            status: c.status.clone(),
            amount_cents: c.amount_cents,
            decline_reason: c.decline_reason.clone(),
        })
        .collect();
    Json(ChargeList { data }).into_response()
}

#[derive(Debug, Deserialize)]
struct RefundRequest {
    charge: String,
    amount_cents: i64,
}

async fn refund(State(processor): State<Processor>, headers: HeaderMap, body: String) -> Response {
    let Some(key) = key_of(&headers) else {
        return error(StatusCode::BAD_REQUEST, "an Idempotency-Key header is required");
    };
    let Ok(request) = serde_json::from_str::<RefundRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body must be {charge, amount_cents}");
    };
    let mut books = processor.books();
    if let Some(earlier) = books.requests.get(&key) {
        if *earlier != body {
            return error(StatusCode::CONFLICT, "this Idempotency-Key was used for another request");
        }
        if let Some(refund) = books.ledger.refunds.iter().find(|r| r.key == key).cloned() {
            return refund_response(refund);
        }
    }
    let Some(charge) =
        books.ledger.charges.iter().find(|c| c.id == request.charge && c.status == "succeeded")
    else {
        return error(StatusCode::BAD_REQUEST, "no such successful charge");
    };
    let refunded: i64 =
        books.ledger.refunds.iter().filter(|r| r.charge == request.charge).map(|r| r.amount_cents).sum();
    if request.amount_cents <= 0 || refunded + request.amount_cents > charge.amount_cents {
        return error(StatusCode::BAD_REQUEST, "a refund is positive and at most what is left of the charge");
    }
    let entry = RefundEntry {
        id: format!("re_{}", uuid::Uuid::now_v7().simple()),
        key: key.clone(),
        charge: request.charge,
        amount_cents: request.amount_cents,
    };
    books.requests.insert(key, body);
    books.ledger.refunds.push(entry.clone());
    refund_response(entry)
}

fn refund_response(refund: RefundEntry) -> Response {
    let body = RefundBody { id: refund.id, charge: refund.charge, amount_cents: refund.amount_cents };
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn ledger(State(processor): State<Processor>) -> Json<Ledger> {
    Json(processor.books().ledger.clone())
}
