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
    /// Too many wrong PINs in a row: the cashier may try again at `until_ms`.
    #[error(
        "too many wrong PINs in a row: this cashier may try again at {}, in {}",
        local_time(*.until_ms),
        minutes(.until_ms.saturating_sub(*.now_ms))
    )]
    LockedOut { until_ms: u64, now_ms: u64 },
    #[error("no product has the code {0}")]
    UnknownProduct(String),
    #[error("product {0} can no longer be sold")]
    Retired(String),
    #[error(transparent)]
    Invalid(#[from] shared_model::Invalid),
    #[error("the sale has no lines")]
    EmptySale,
    #[error("there is no line {0} on this sale")]
    NoSuchLine(usize),
    #[error("there is no parked sale {0}")]
    NoSuchParkedSale(i64),
    #[error(transparent)]
    Sale(#[from] SaleError),
    #[error("head office cannot be reached: {0}")]
    Offline(String),
    #[error(
        "head office's certificate is not trusted ({0}): a chain that runs its own certificate authority gives its CA file at enrolment (--ca-file or CAISSE_CA_FILE)"
    )]
    Untrusted(String),
    /// The CA certificate given at enrolment: missing, unreadable or not a certificate.
    #[error("{0}")]
    CaFile(String),
    /// Head office answered no; the sentence is its reason.
    #[error("head office refused: {0}")]
    Refused(String),
    /// This register refuses something it was asked to record; the sentence says why.
    #[error("{0}")]
    Rejected(String),
    /// The printer failed; what was printed stands and can be reprinted.
    #[error("receipt not printed: {0}")]
    NotPrinted(String),
    /// Not a `#[source]`: the sentence already carries SQLite's, and a chain printed with
    /// `{:#}` would say it twice.
    #[error("the local database failed: {0}")]
    Database(rusqlite::Error),
    #[error("the local database holds something unreadable: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for RegisterError {
    fn from(e: rusqlite::Error) -> RegisterError {
        RegisterError::Database(e)
    }
}

pub type Result<T> = std::result::Result<T, RegisterError>;

/// Hours and minutes on this machine's clock, as the cashier reads them.
fn local_time(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .unwrap_or_default()
}

/// A wait in whole minutes, rounded up: "1 minute", "5 minutes".
fn minutes(ms: u64) -> String {
    match ms.div_ceil(60_000).max(1) {
        1 => "1 minute".to_owned(),
        n => format!("{n} minutes"),
    }
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> RegisterError {
    RegisterError::Corrupt(e.to_string())
}
