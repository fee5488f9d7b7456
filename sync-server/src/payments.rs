//! Taking and giving back money: the [`PaymentGateway`] the checkout saga talks to, and
//! [`HttpProcessor`], its adapter for a card processor's HTTP API.
//!
//! Every call carries an idempotency key, so a call repeated after a lost answer is the same
//! call: the processor answers what it answered the first time and never charges or refunds
//! twice. A charge whose answer was lost (a timeout, a dropped connection, a 5xx) is
//! [`PaymentError::Ambiguous`]: the saga then asks the processor what became of that key
//! ([`PaymentGateway::find_charge`]) instead of guessing.
//!
//! Card numbers pass through here to the processor and are never stored: the database keeps
//! the processor's charge and refund ids.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shared_model::Money;

/// A card number: 12 to 19 digits with a valid Luhn check digit. Its `Debug` shows the last
/// four digits only, so it cannot leak into a log.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    pub fn parse(text: &str) -> Result<CardNumber, String> {
        let digits: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !(12..=19).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("a card number has 12 to 19 digits".into());
        }
        let sum: u32 = digits
            .bytes()
            .rev()
            .map(|b| u32::from(b - b'0'))
            .enumerate()
            .map(|(i, d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
            .sum();
        if !sum.is_multiple_of(10) {
            return Err("this card number's check digit is wrong: check the number".into());
        }
        Ok(CardNumber(digits))
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber(…{})", self.last4())
    }
}

/// What the processor decided about a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charge {
    Approved { id: String },
    Declined { id: String, reason: String },
}

/// Why a payment call gave no answer to act on.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The call may or may not have been carried out: ask again with the same key.
    #[error("the card processor did not answer: {0}")]
    Ambiguous(String),
    /// The processor refused the request itself (not the card): a bug or a setup error.
    #[error("the card processor refused the request: {0}")]
    Refused(String),
}

/// A card processor, seen from the checkout saga.
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync + fmt::Debug {
    /// Charges `amount` to `card`; the same `key` always names the same charge.
    async fn charge(&self, key: &str, amount: Money, card: &CardNumber) -> Result<Charge, PaymentError>;
    /// The charge made under `key`, if the processor has one.
    async fn find_charge(&self, key: &str) -> Result<Option<Charge>, PaymentError>;
    /// Gives `amount` of charge `charge` back; the same `key` always names the same refund.
    /// Answers the refund's id.
    async fn refund(&self, key: &str, charge: &str, amount: Money) -> Result<String, PaymentError>;
}

/// The subset of a processor's HTTP API Caisse speaks (the local processor in
/// `http::processor` speaks it too):
/// - `POST /v1/charges` `{amount_cents, currency, card_number}` with `Idempotency-Key`;
///   201 `{id, status: "succeeded"}`, or 402 `{id, status: "declined", decline_reason}`;
/// - `GET /v1/charges?idempotency_key=K` → `{data: [charge]}`;
/// - `POST /v1/refunds` `{charge, amount_cents}` with `Idempotency-Key` → 201 `{id}`.
#[derive(Debug, Clone)]
pub struct HttpProcessor {
    base: String,
    client: reqwest::Client,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ChargeBody {
    pub id: String,
    pub status: String,
    pub amount_cents: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
}

impl ChargeBody {
    fn into_charge(self) -> Result<Charge, PaymentError> {
        match self.status.as_str() {
            "succeeded" => Ok(Charge::Approved { id: self.id }),
            "declined" => Ok(Charge::Declined {
                id: self.id,
                reason: self.decline_reason.unwrap_or_else(|| "declined".into()),
            }),
            other => Err(PaymentError::Refused(format!("unknown charge status {other:?}"))),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ChargeList {
    pub data: Vec<ChargeBody>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RefundBody {
    pub id: String,
    pub charge: String,
    pub amount_cents: i64,
}

impl HttpProcessor {
    /// A processor at `base` (like `http://127.0.0.1:4242`), each call given up after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<HttpProcessor> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(HttpProcessor { base: base.trim_end_matches('/').to_owned(), client })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn lost(error: reqwest::Error) -> PaymentError {
    PaymentError::Ambiguous(error.to_string())
}

async fn read<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, PaymentError> {
    // A body that does not arrive or cannot be read is an answer lost on the way.
    response.json().await.map_err(lost)
}

#[async_trait::async_trait]
impl PaymentGateway for HttpProcessor {
    async fn charge(&self, key: &str, amount: Money, card: &CardNumber) -> Result<Charge, PaymentError> {
        let response = self
            .client
            .post(self.url("/v1/charges"))
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({
                "amount_cents": amount.as_cents(),
                "currency": "CAD",
                "card_number": card.digits(),
            }))
            .send()
            .await
            .map_err(lost)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(PaymentError::Ambiguous(format!("the processor answered {status}")));
        }
        if status.is_success() || status == reqwest::StatusCode::PAYMENT_REQUIRED {
            return read::<ChargeBody>(response).await?.into_charge();
        }
        Err(PaymentError::Refused(format!("{status}: {}", response.text().await.unwrap_or_default())))
    }

    async fn find_charge(&self, key: &str) -> Result<Option<Charge>, PaymentError> {
        let response = self
            .client
            .get(self.url("/v1/charges"))
            .query(&[("idempotency_key", key)])
            .send()
            .await
            .map_err(lost)?;
        let status = response.status();
        if !status.is_success() {
            return Err(PaymentError::Ambiguous(format!("the processor answered {status}")));
        }
        read::<ChargeList>(response).await?.data.into_iter().next().map(ChargeBody::into_charge).transpose()
    }

    async fn refund(&self, key: &str, charge: &str, amount: Money) -> Result<String, PaymentError> {
        let response = self
            .client
            .post(self.url("/v1/refunds"))
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({ "charge": charge, "amount_cents": amount.as_cents() }))
            .send()
            .await
            .map_err(lost)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(PaymentError::Ambiguous(format!("the processor answered {status}")));
        }
        if status.is_success() {
            return Ok(read::<RefundBody>(response).await?.id);
        }
        Err(PaymentError::Refused(format!("{status}: {}", response.text().await.unwrap_or_default())))
    }
}

/// No processor: a server started without one takes no payment, and says so.
#[derive(Debug, Clone, Copy)]
pub struct NoProcessor;

#[async_trait::async_trait]
impl PaymentGateway for NoProcessor {
    async fn charge(&self, _: &str, _: Money, _: &CardNumber) -> Result<Charge, PaymentError> {
        Err(PaymentError::Refused("no card processor is configured (--payment-url)".into()))
    }

    async fn find_charge(&self, _: &str) -> Result<Option<Charge>, PaymentError> {
        Ok(None)
    }

    async fn refund(&self, _: &str, _: &str, _: Money) -> Result<String, PaymentError> {
        Err(PaymentError::Refused("no card processor is configured (--payment-url)".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::CardNumber;

    #[test]
    fn card_numbers_need_their_check_digit() {
        assert!(CardNumber::parse("4242 4242 4242 4242").is_ok());
        assert!(CardNumber::parse("4242424242424241").is_err());
        assert!(CardNumber::parse("42424242").is_err());
        assert!(CardNumber::parse("4242-4242-4242-424x").is_err());
        assert_eq!(format!("{:?}", CardNumber::parse("4000000000000002").unwrap()), "CardNumber(…0002)");
    }
}
