//! The duties a gateway in front of the service used to have, done by the service itself so
//! that every instance applies them alike: API keys for integrations ([`keys`], in the
//! database every instance shares) and rate limits ([`limits`]).
//!
//! The limits are counted in memory, never by a database write per request (DESIGN §7): one
//! instance (on SQLite or PostgreSQL) needs nothing more, and a cluster's limit across its
//! instances is counted by HAProxy's stick tables, shared between balancers by `peers`
//! (`deploy/haproxy.cfg`), rather than by Redis, a second server to run for no gain.

pub mod keys;
pub mod limits;

/// What the gateway's functions answer when they refuse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is refused; `field` names it.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    /// The key is unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Error {
    fn invalid(field: &str, detail: impl std::fmt::Display) -> Error {
        Error::Invalid { field: field.to_owned(), detail: detail.to_string() }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
