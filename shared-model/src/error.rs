//! The one error type for values refused at the boundary.

use thiserror::Error;

use crate::text::quote;

/// Why a value could not be constructed. Each variant names what was wrong,
/// so a CLI or an HTTP problem can repeat it to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Invalid {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} \"{}\" is too long (at most {max} characters)", quote(.value))]
    TooLong { what: &'static str, value: String, max: usize },
    #[error("{what} \"{}\" has a character that is not allowed: {reason}", quote(.value))]
    BadCharacters { what: &'static str, value: String, reason: &'static str },
    #[error("{what} \"{}\" is not well formed: {reason}", quote(.value))]
    Malformed { what: &'static str, value: String, reason: &'static str },
    #[error("{what} {value} is out of range ({min} to {max})")]
    OutOfRange { what: &'static str, value: i128, min: i128, max: i128 },
    #[error("barcode \"{}\" has check digit {found}, expected {expected}", quote(.value))]
    CheckDigit { value: String, found: u8, expected: u8 },
}

pub(crate) fn out_of_range(
    what: &'static str,
    value: impl Into<i128>,
    min: impl Into<i128>,
    max: impl Into<i128>,
) -> Invalid {
    Invalid::OutOfRange { what, value: value.into(), min: min.into(), max: max.into() }
}
