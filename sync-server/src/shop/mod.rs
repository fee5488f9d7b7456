//! The online shop: shoppers' accounts, the catalogue as shoppers see it, carts, the checkout
//! saga, orders and their fulfilment.
//!
//! | module | owns |
//! |---|---|
//! | [`accounts`] | customers, their sessions and refresh tokens, the key access tokens are signed with |
//! | [`cart`] | cart lines, priced at each read |
//! | [`catalogue`] | nothing: the catalogue as shoppers search it, with online availability |
//! | [`checkout`] | the checkout saga: reserve, create the order, pay, confirm; compensation |
//! | [`orders`] | orders: history, cancellation, picking and shipping |
//! | [`status`] | nothing: an order's status and a checkout's step, their words and allowed moves |
//! | [`recovery`] | sagas and cancellations left unfinished by a crash, resumed |
//! | [`store_returns`] | nothing: online orders returned at a store, and what they owe the shopper's card (kept by [`crate::refunds`]) |
//!
//! Online orders ship from the logistics centre. Stock and its reservations belong to
//! [`crate::inventory`], the channel's figures to [`crate::reporting`]: the shop reaches them
//! through their functions.

pub mod accounts;
pub mod cart;
pub mod catalogue;
pub mod checkout;
pub mod orders;
pub mod recovery;
pub mod status;
pub mod store_returns;

/// The card processor, which the shop pays and refunds through (kept at this path for its callers).
pub use crate::payments;

use std::sync::Arc;
use std::time::Duration;

use shared_model::{LocationCode, LocationKind};
use tokio::sync::OnceCell;

use crate::db::Db;
use crate::identity::PasswordSlots;

/// Why the shop refused, or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is refused; `field` names it.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    /// No token, or an expired, forged or revoked one.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what is there (an email taken, an order already shipped).
    #[error("{detail}")]
    Conflict { field: Option<String>, detail: String },
    /// Not enough stock for one line of the cart.
    #[error("not enough stock of {sku}: {available} available online, {wanted} in the cart")]
    OutOfStock { sku: String, available: i64, wanted: i64 },
    /// The card was declined: nothing was charged and the order is cancelled.
    #[error("the card was declined ({0}): nothing was charged")]
    Declined(String),
    /// The processor failed or could not be reached: nothing was charged.
    #[error("{0}")]
    PaymentFailed(String),
    /// Too many failed attempts: try again after `retry_after_s`.
    #[error("{detail}")]
    Throttled { detail: String, retry_after_s: u64 },
    /// Every password-hashing slot is taken: try again shortly.
    #[error("{detail}")]
    Busy { detail: String, retry_after_s: u64 },
    /// The shop cannot sell yet (no logistics centre to ship from).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Error::Invalid { field: field.into(), detail: detail.to_string() }
    }
}

impl From<crate::identity::Error> for Error {
    fn from(error: crate::identity::Error) -> Self {
        use crate::identity::Error as E;
        match error {
            E::Invalid { field, detail } => Error::Invalid { field, detail },
            E::Unauthorized(detail) | E::Forbidden(detail) => Error::Unauthorized(detail),
            E::NotFound(detail) => Error::NotFound(detail),
            E::Conflict(detail) => Error::Conflict { field: None, detail },
            E::Throttled { detail, retry_after_s } => Error::Throttled { detail, retry_after_s },
            E::Busy { detail, retry_after_s } => Error::Busy { detail, retry_after_s },
            E::Database(e) => Error::Database(e),
            E::Internal(e) => Error::Internal(e),
        }
    }
}

impl From<crate::catalogue::Error> for Error {
    fn from(error: crate::catalogue::Error) -> Self {
        use crate::catalogue::Error as E;
        match error {
            E::Malformed { field, detail } => Error::Invalid { field: field.into(), detail },
            E::NotFound(detail) => Error::NotFound(detail),
            E::Conflict(detail) => Error::Conflict { field: None, detail },
            E::Database(e) => Error::Database(e),
            E::Internal(e) => Error::Internal(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How the shop behaves; the defaults suit a real shop, tests shorten the waits.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long an access token is good for.
    pub access_ttl: Duration,
    /// How long a refresh token (and so a session) is good for.
    pub refresh_ttl: Duration,
    /// How long a checkout is left to the request that started it before the recovery takes
    /// it over (its reservations are released if it had not been paid). Longer than a
    /// payment call may take.
    pub lease: Duration,
    /// How often the recovery looks for unfinished sagas.
    pub sweep_every: Duration,
}

impl Settings {
    /// The lease in milliseconds, as the checkouts table keeps times.
    pub fn lease_ms(&self) -> Result<i64> {
        millis("the checkout lease", self.lease)
    }
}

/// A duration in milliseconds, or an error naming it when it does not fit a BIGINT.
pub(crate) fn millis(what: &'static str, duration: Duration) -> Result<i64> {
    Ok(crate::db::to_i64(what, duration.as_millis()).map_err(sqlx::Error::from)?)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            lease: Duration::from_secs(30),
            sweep_every: Duration::from_secs(2),
        }
    }
}

/// What the shop's functions share: the card processor, the signing key, its settings.
#[derive(Debug)]
pub struct Shop {
    pub gateway: Arc<dyn payments::PaymentGateway>,
    pub settings: Settings,
    pub passwords: Arc<PasswordSlots>,
    keys: OnceCell<accounts::Keys>,
    fulfilment: OnceCell<LocationCode>,
    channel: OnceCell<LocationCode>,
}

impl Shop {
    pub fn new(
        gateway: Arc<dyn payments::PaymentGateway>,
        settings: Settings,
        passwords: Arc<PasswordSlots>,
    ) -> Self {
        Shop {
            gateway,
            settings,
            passwords,
            keys: OnceCell::new(),
            fulfilment: OnceCell::new(),
            channel: OnceCell::new(),
        }
    }

    /// The key access tokens are signed with, made once for the whole chain and shared by
    /// every instance through the database.
    pub async fn keys(&self, db: &Db) -> Result<&accounts::Keys> {
        self.keys.get_or_try_init(|| accounts::Keys::load(db)).await
    }

    /// The location online orders ship from: the logistics centre.
    pub async fn fulfilment(&self, db: &Db) -> Result<&LocationCode> {
        self.location(db, &self.fulfilment, LocationKind::Logistics, "a logistics centre to ship from").await
    }

    /// The location the shop's sales are reported under.
    pub async fn channel(&self, db: &Db) -> Result<&LocationCode> {
        self.location(db, &self.channel, LocationKind::Online, "an online shop location").await
    }

    async fn location<'a>(
        &'a self,
        db: &Db,
        cell: &'a OnceCell<LocationCode>,
        kind: LocationKind,
        what: &str,
    ) -> Result<&'a LocationCode> {
        cell.get_or_try_init(|| async {
            crate::catalogue::location_of_kind(db, kind)
                .await?
                .ok_or_else(|| Error::Unavailable(format!("the shop is closed: the chain has no {what} yet")))
        })
        .await
    }
}
