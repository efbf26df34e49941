//! The legacy store as pg_trickle sees it: one interface (`Adapter`) that every kind of store implements, the record
//! it answers with (`record`), and its typed errors. Pure: no PostgreSQL in here — what an adapter needs from the
//! database (reading a legacy relation, verifying a hash within the memory budget, noticing a cancel) it asks of
//! its `Host`, which `crate::pg::legacy` implements.
//!
//! One folder per adapter: `http/` (contract presets, configuration, client), `fdw/` (column mapping, the SQL
//! built from it, the login decision over the rows read). `auth0` maps Auth0's bulk-import file onto the same
//! legacy rows a relation gives.

pub mod auth0;
pub mod fdw;
pub mod http;
pub mod record;
pub mod routing;

pub use record::LegacyUser;

use crate::domain::legacy_hash::HashError;
use thiserror::Error;

/// One legacy store, whatever its kind. `crate::pg::legacy` picks the configured one and calls it; the flows never
/// see which kind answers.
pub trait Adapter {
    /// Whether these credentials are valid, and the user when they are. A disabled user is a rejection.
    fn log_in(&self, host: &dyn Host, email: &str, password: &str) -> Result<LoginAnswer, StoreError>;
    /// The user with this email, if the store has one ("getUser").
    fn look_up(&self, host: &dyn Host, email: &str) -> Result<Option<LegacyUser>, StoreError>;
    /// The store's own count of users, when it can give one.
    fn count(&self, host: &dyn Host) -> Result<Option<i64>, StoreError>;
    /// The email of the one user a username names, for a login by username; None when the store has no such user,
    /// several, or one without a valid email (who cannot move over), or cannot look usernames up.
    fn email_of_username(&self, host: &dyn Host, username: &str) -> Result<Option<String>, StoreError>;
    /// Spends what a failed check of a legacy user's password costs, where there is no legacy user to check: a
    /// refusal must not tell by its duration whether the store knows the email. Nothing for a store that checks on
    /// its own side (the request itself costs that).
    fn spend_like_a_check(&self, host: &dyn Host, password: &str);
}

/// What an adapter needs from the database it runs in.
pub trait Host {
    /// True once the backend must stop what it is doing (cancel, statement_timeout, termination).
    fn interrupted(&self) -> bool;
    /// Verifies a legacy hash within the configured memory budget; an interrupt during the work is raised by the
    /// host.
    fn verify_hash(
        &self,
        password: &str,
        hash: &str,
        format: &str,
        params: &serde_json::Value,
    ) -> Result<bool, HashError>;
    /// Runs an FDW look-up (`$1` the email) as the store's reader role: `fdw::mapping::LOOKUP_ROWS` rows at most.
    fn legacy_rows(&self, reader: u32, sql: &str, email: &str) -> Vec<fdw::LegacyRow>;
    /// Runs an FDW count as the store's reader role.
    fn legacy_count(&self, reader: u32, sql: &str) -> i64;
    /// Runs an FDW hash sample as the store's reader role: one row's hash, format and parameters.
    fn legacy_hash_sample(&self, reader: u32, sql: &str) -> Option<fdw::HashSample>;
}

/// What the legacy store said about a pair of credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginAnswer {
    Accepted(Box<LegacyUser>),
    /// Nothing is migrated; the application sees `invalid_credentials` whatever the reason.
    Rejected(Rejection),
}

/// Why the legacy store did not accept a login; recorded for the admin in auth.migration_events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Wrong password or unknown user: the store does not say which (an HTTP store), so a later store may be asked.
    WrongCredentials,
    /// The store has no user with this email (an FDW store): a later store may be asked.
    UnknownUser,
    /// The store knows the user and the password is wrong: the first store that knows a user decides.
    WrongPassword,
    /// The legacy account is disabled.
    Disabled,
    /// The legacy row has no password hash.
    NoPassword,
    /// The legacy hash matches no supported format or is malformed (the class, never the hash).
    UnverifiableHash(&'static str),
    /// Several legacy rows have this email.
    Ambiguous,
    /// An identity provider accepted the password but wants another step of the user first (MFA, a new password,
    /// a confirmation): a password grant cannot pass it.
    ProviderStepRequired,
}

impl Rejection {
    /// Whether a later store may still accept the email: the store did not claim the user.
    pub fn leaves_the_email_to_later_stores(&self) -> bool {
        matches!(self, Rejection::WrongCredentials | Rejection::UnknownUser)
    }

    pub fn outcome(&self) -> &'static str {
        match self {
            Rejection::WrongCredentials | Rejection::UnknownUser | Rejection::WrongPassword => "invalid_credentials",
            Rejection::Disabled => "disabled",
            Rejection::NoPassword => "no_legacy_password",
            Rejection::UnverifiableHash(_) => "unverifiable_hash",
            Rejection::Ambiguous => "ambiguous_legacy_rows",
            Rejection::ProviderStepRequired => "provider_step_required",
        }
    }
}

/// Why a legacy store could not answer: an adapter's own error, or one every adapter can meet. Messages name the
/// cause, never a password or secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error(transparent)]
    Fdw(#[from] fdw::FdwError),
    /// The answer breaks the record's rules (an HTTP contract's user JSON).
    #[error("legacy store gave an invalid answer: {0}")]
    InvalidAnswer(String),
    #[error("invalid legacy store configuration: {0}")]
    InvalidConfig(String),
    /// The backend was asked to cancel or die; PostgreSQL raises the error itself.
    #[error("interrupted")]
    Interrupted,
}
