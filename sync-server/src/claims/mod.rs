//! After-sales claims (réclamations), event-sourced: a claim is the fold of its events, and what
//! head office and shoppers read of claims are read models kept by projectors.
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | nothing: a claim's events, its fold, and the lifecycle's rules (pure) |
//! | [`store`] | the event store: claim events, the clock their positions come from |
//! | [`commands`] | nothing: each command rebuilds its claim, checks it, appends, writes the messages and the audit entry, in one transaction |
//! | [`purchase`] | nothing: the order or receipt a claim is about, and what may still be refunded of it |
//! | [`refunds`] | nothing: what the refunds loop asks of claims (the payment, recording the answer on the claim); the rows are [`crate::refunds`]' |
//! | [`projections`] | the read models (agents' queue, shoppers' claims, statistics), their checkpoints, replay |
//!
//! Claims reach the shop, the sales ledger, notifications and the audit trail through their
//! functions, never their tables.

pub mod commands;
pub mod model;
pub mod projections;
pub mod purchase;
pub mod refunds;
pub mod store;

/// Why a claim command was refused, or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is refused; `field` names it.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    #[error("{0}")]
    NotFound(String),
    /// The claim's state does not allow the command.
    #[error("{0}")]
    Refused(model::Refused),
    /// The claim changed since the caller read it: read it again and retry.
    #[error(
        "claim {id} changed since you read it (version {expected}, now {current}): reload it and try again"
    )]
    Stale { id: String, expected: i64, current: i64 },
    /// Anything else that conflicts with what is there.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
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

impl From<crate::shop::Error> for Error {
    fn from(error: crate::shop::Error) -> Self {
        use crate::shop::Error as E;
        match error {
            E::Invalid { field, detail } => Error::Invalid { field, detail },
            E::NotFound(detail) => Error::NotFound(detail),
            E::Database(e) => Error::Database(e),
            E::Internal(e) => Error::Internal(e),
            other => Error::Conflict(other.to_string()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
