//! The legacy store as pg_trickle sees it: the adapter protocol (log a user in, look a user up),
//! the profile it answers with, and its typed errors. Pure: no PostgreSQL in here.
//!
//! Adapters: `http` (this folder; the contract is docs/http-contract.md). The FDW adapter reads
//! a table through SPI, so it lives in `crate::pg`.

pub mod auth0;
pub mod fdw;
pub mod http;
pub mod profile;

pub use profile::LegacyProfile;

use thiserror::Error;

/// What the legacy store said about a pair of credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginAnswer {
    Accepted(Box<LegacyProfile>),
    /// Nothing is migrated; the application sees `invalid_credentials` whatever the reason.
    Rejected(Rejection),
}

/// Why the legacy store did not accept a login; recorded for the admin in auth.migration_events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Wrong password or unknown user.
    WrongCredentials,
    /// The legacy account is disabled.
    Disabled,
    /// The legacy row has no password hash.
    NoPassword,
    /// The legacy hash matches no supported format or is malformed (the class, never the hash).
    UnverifiableHash(&'static str),
    /// Several legacy rows have this email.
    Ambiguous,
}

impl Rejection {
    pub fn outcome(&self) -> &'static str {
        match self {
            Rejection::WrongCredentials => "invalid_credentials",
            Rejection::Disabled => "disabled",
            Rejection::NoPassword => "no_legacy_password",
            Rejection::UnverifiableHash(_) => "unverifiable_hash",
            Rejection::Ambiguous => "ambiguous_legacy_rows",
        }
    }
}

/// Why the legacy store could not answer. Messages name the cause, never a password or secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error("legacy store is unreachable: {0}")]
    Unreachable(String),
    #[error("legacy store did not answer within {0} ms")]
    Timeout(u64),
    #[error("connection to the legacy store failed: {0}")]
    ConnectionFailed(String),
    #[error("legacy store is unavailable: it answered HTTP {0}")]
    Unavailable(u16),
    #[error("legacy store refused pg_trickle's request credentials (HTTP 401 with WWW-Authenticate)")]
    RequestRefused,
    #[error("legacy store gave an invalid answer: {0}")]
    InvalidAnswer(String),
    #[error("legacy store answer is larger than the limit of {0} bytes")]
    AnswerTooLarge(usize),
    #[error("invalid legacy store configuration: {0}")]
    InvalidConfig(String),
    /// The backend was asked to cancel or die; PostgreSQL raises the error itself.
    #[error("interrupted")]
    Interrupted,
}
