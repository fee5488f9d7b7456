//! The register library's one error type: each says in a sentence what is wrong, so the CLI
//! and the screen can show it as it is.

use shared_model::sale::SaleError;

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("this register is not enrolled: enrol it with a code from head office")]
    NotEnrolled,
    #[error("this register is already enrolled as {0}")]
    AlreadyEnrolled(String),
    #[error("no cashier is signed in")]
    NotSignedIn,
    #[error("wrong cashier number or PIN")]
    BadPin,
    #[error("no product has the code {0}")]
    UnknownProduct(String),
    #[error("product {0} can no longer be sold")]
    Retired(String),
    #[error("{0}")]
    Invalid(#[from] shared_model::Invalid),
    #[error("the sale has no lines")]
    EmptySale,
    #[error("there is no line {0} on this sale")]
    NoSuchLine(usize),
    #[error("there is no parked sale {0}")]
    NoSuchParkedSale(i64),
    #[error("{0}")]
    Sale(#[from] SaleError),
    #[error("the server cannot be reached: {0}")]
    Offline(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("the local database failed: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("the local database holds something unreadable: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, RegisterError>;

pub(crate) fn corrupt(e: impl std::fmt::Display) -> RegisterError {
    RegisterError::Corrupt(e.to_string())
}
