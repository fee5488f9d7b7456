//! Who may call the server: head-office users (argon2 passwords, roles, session tokens) and
//! registers (enrolled once with a code from head office, then holding a device secret bound
//! to one store). Secrets and tokens are random 256-bit values stored only as SHA-256 hashes:
//! they are not guessable, so a slow hash buys nothing there; passwords and PINs, which people
//! choose, get argon2.
//!
//! | file | holds |
//! |---|---|
//! | `passwords.rs` | argon2 hashes in bounded slots, and how strong a new password must be |
//! | `throttle.rs` | failed attempts counted per account, address and pair; delays and locks |
//! | `sessions.rs` | signing in and out, changing one's password, who a session token is |
//! | `accounts.rs` | head-office accounts as admins manage them |
//! | `registers.rs` | registers, their enrolment codes and device secrets, what the server holds of each |

mod accounts;
mod passwords;
mod registers;
mod sessions;
mod throttle;

use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use accounts::{
    Account, accounts, create_account, create_user, ensure_first_admin, reset_password, set_disabled,
    set_role,
};
pub use passwords::{
    MIN_PASSWORD, MIN_STRENGTH, PasswordSlots, decoy_hash, hash_password, verify_password, weakness,
    weakness_off_thread,
};
pub use registers::{
    ENROLMENT_MS, Reach, Register, RegisterStatus, add_register, create_register, enrol, enrol_as, holds,
    issue_enrolment_code, live_code_expiry, new_enrolment_code, note_pull, note_push, reach,
    register_of_secret, registers, revoke, unenrolled,
};
pub use sessions::{Session, Staff, change_password, csrf_of, log_in, log_out, staff_of_session};
pub use throttle::{
    Attempt, Backoff, MAX_LOCK_MS, PER_ACCOUNT, PER_ADDRESS, PER_ENROLLER, PER_PAIR, Throttle,
    attempt_succeeded, start_attempt, sweep_attempts,
};

/// Why identity refused, or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is refused; `field` names it.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    /// No credentials, or wrong, expired or revoked ones.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The account exists, or the change would leave the chain without an admin.
    #[error("{0}")]
    Conflict(String),
    /// Too many failed attempts: try again after `retry_after_s`.
    #[error("{detail}")]
    Throttled { detail: String, retry_after_s: u64 },
    /// Every password-hashing slot is taken: try again shortly.
    #[error("{detail}")]
    Busy { detail: String, retry_after_s: u64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    fn invalid(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Error::Invalid { field: field.into(), detail: detail.to_string() }
    }

    fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Internal(error.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest username and password read: argon2 is fed no megabyte passwords.
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD: usize = 1_024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Logistics,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Logistics => "logistics",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Manager, Role::Logistics].into_iter().find(|r| r.as_str() == text)
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A random token: 32 bytes as hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}
