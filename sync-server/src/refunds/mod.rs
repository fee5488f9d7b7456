//! Refunds owed to shoppers' cards, whatever decided them: an online order returned at a store
//! (the shop decides what it owes) or a claim resolved with a refund (claims decide). This
//! context keeps what is owed and asks the card processor for it, once; it knows neither the
//! shop nor claims: each tells it what is owed, and answers, through a [`Creditor`], the payment
//! to refund from and what to do once the processor has answered.
//!
//! | module | owns |
//! |---|---|
//! | [`owed`] | `order_refunds` (store returns) and `claim_refunds` (claims): what is owed, to whom, and what became of it |
//! | [`settle`] | nothing: the one loop that asks the processor for every refund owed, from any number of instances |
//! | [`status`] | nothing: [`RefundStatus`], the words stored and sent, and the one move allowed |
//!
//! Each refund's row key is the idempotency key the processor sees (`return-<record id>`, or
//! the claim's resolution): asking again after a crash, a lost answer, or from two instances
//! at once, refunds once.

pub mod owed;
pub mod settle;
pub mod status;

use std::sync::Arc;

use crate::db::Db;
use crate::payments::PaymentGateway;

pub use owed::{StoreRefund, owed_of_order, owed_of_receipt};
pub use settle::{Settled, settle_due, settle_kinds, spawn};
pub use status::RefundStatus;

/// Why a settling round stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// What a creditor answered: it could not look up a payment or record an answer.
    #[error(transparent)]
    Creditor(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What decided a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Goods of an online order brought back to a store (`order_refunds`).
    Return,
    /// A claim resolved with a refund (`claim_refunds`).
    Claim,
}

/// A refund owed, claimed for asking the processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub kind: Kind,
    /// Its row's key: the return's record id, or the claim resolution's refund key.
    pub key: String,
    /// What it came from: the store that took the goods back, or the claim's id.
    pub origin: String,
    pub order_number: Option<i64>,
    pub amount: i64,
}

impl Due {
    /// The key the processor sees, the same at every asking.
    pub fn idempotency_key(&self) -> String {
        match self.kind {
            Kind::Return => format!("return-{}", self.key),
            Kind::Claim => self.key.clone(),
        }
    }
}

/// Where a refund decided on a claim is paid.
#[derive(Debug, Clone)]
pub enum Payee {
    /// To the card that paid online order `number`, through the processor.
    Order(i64),
    /// At the counter of the store that printed the receipt.
    Receipt(String),
}

/// The context a refund is owed for, as the settling loop needs it.
#[async_trait::async_trait]
pub trait Creditor: Send + Sync + std::fmt::Debug {
    /// The processor's charge for online order `number`, which its refunds go back to.
    async fn payment_of(&self, db: &Db, number: i64) -> anyhow::Result<Option<String>>;

    /// Records the processor's last word on `due` (`Ok(refund id)` or `Err(why refused)`):
    /// [`owed::settle`] in the creditor's transaction, which answers false when another
    /// instance recorded it first, then whatever the creditor tells its customer or head office.
    async fn record(&self, db: &Db, due: &Due, outcome: Result<String, String>) -> anyhow::Result<()>;
}

/// Everything the settling loop needs: the processor, the lease each asking holds, and the
/// creditor of each kind of refund.
#[derive(Debug, Clone)]
pub struct Settler {
    pub gateway: Arc<dyn PaymentGateway>,
    /// How long one asking is left to its instance before another may ask again.
    pub lease: std::time::Duration,
    /// How often the loop looks for refunds owed.
    pub every: std::time::Duration,
    pub returns: Arc<dyn Creditor>,
    pub claims: Arc<dyn Creditor>,
}

impl Settler {
    fn creditor(&self, kind: Kind) -> &dyn Creditor {
        match kind {
            Kind::Return => self.returns.as_ref(),
            Kind::Claim => self.claims.as_ref(),
        }
    }
}
