//! What went wrong, in a form the screen can show: a code, a sentence, the field at fault.

use serde::Serialize;
use shared_model::tender::PaymentError;

use crate::error::RegisterError;
use crate::input::InputError;

/// What went wrong, for the screen: a stable code it can translate, the English sentence, and
/// the field at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
    /// When trying again makes sense (a cashier locked out after wrong PINs), so the screen can
    /// say it in its language and on its clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at_ms: Option<u64>,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>, field: Option<&'static str>) -> Problem {
        Problem { code, message: message.into(), field, retry_at_ms: None }
    }

    pub fn field(field: &'static str, message: impl Into<String>) -> Problem {
        Problem::new("invalid", message, Some(field))
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl From<RegisterError> for Problem {
    fn from(e: RegisterError) -> Problem {
        let code = match &e {
            RegisterError::NotEnrolled => "not_enrolled",
            RegisterError::AlreadyEnrolled(_) => "already_enrolled",
            RegisterError::NotSignedIn => "not_signed_in",
            RegisterError::BadPin => "bad_pin",
            RegisterError::LockedOut { .. } => "locked_out",
            RegisterError::UnknownProduct(_) => "unknown_product",
            RegisterError::Retired(_) => "retired",
            RegisterError::EmptySale => "empty_sale",
            RegisterError::NoSuchLine(_) => "no_such_line",
            RegisterError::NoSuchParkedSale(_) => "no_such_parked_sale",
            RegisterError::Offline(_) => "offline",
            RegisterError::Untrusted(_) => "untrusted_server",
            RegisterError::CaFile(_) => "ca_file",
            RegisterError::NotPrinted(_) => "printer",
            RegisterError::Invalid(_)
            | RegisterError::Sale(_)
            | RegisterError::Refused(_)
            | RegisterError::Rejected(_) => "refused",
            RegisterError::Database(_) | RegisterError::Corrupt(_) => "database",
        };
        let retry_at_ms = match e {
            RegisterError::LockedOut { until_ms, .. } => Some(until_ms),
            _ => None,
        };
        Problem { retry_at_ms, ..Problem::new(code, e.to_string(), None) }
    }
}

impl From<PaymentError> for Problem {
    fn from(e: PaymentError) -> Problem {
        Problem::new("payment", e.to_string(), Some("amount"))
    }
}

pub type Answer<T> = std::result::Result<T, Problem>;

impl From<InputError> for Problem {
    fn from(e: InputError) -> Problem {
        Problem::field(e.field, e.message)
    }
}
