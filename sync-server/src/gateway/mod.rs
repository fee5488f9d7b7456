//! The duties a gateway in front of the service used to have, done by the service itself so
//! that every instance applies them alike: API keys for integrations ([`keys`]) and rate
//! limits shared by every instance through the database ([`limits`]).
//!
//! The limits live in the database both engines share rather than in Redis: an instance on
//! SQLite (a single machine) needs no other server, a cluster's instances already share one
//! PostgreSQL, and a limit that holds across instances needs nothing more than one upsert on
//! a row per bucket.

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
