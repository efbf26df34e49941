//! Typed errors of the core. `crate::pg::sqlstate` is the one place that turns them into SQLSTATEs (together with
//! the legacy store's own errors, which the core does not know).
//!
//! Messages never carry a password, hash or token: only which rule was broken.

use crate::domain::legacy_hash::HashError;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    #[error("argument \"{0}\" must not be NULL")]
    NullArgument(&'static str),
    #[error("argument \"{0}\" is too long")]
    ArgumentTooLong(&'static str),
    #[error(
        "argument \"{0}\" cannot be read: JSON nested deeper than 128 levels, or a number beyond double precision"
    )]
    UnreadableJson(&'static str),
    #[error("invalid email address: {0}")]
    InvalidEmail(&'static str),
    #[error("invalid username: {0}")]
    InvalidUsername(&'static str),
    #[error("password is too short: at least {min} characters are required")]
    PasswordTooShort { min: usize },
    #[error("password is too long: at most {max} bytes are accepted")]
    PasswordTooLong { max: usize },
    #[error("a user with this {0} already exists")]
    Duplicate(&'static str),
    #[error("no user with this email")]
    UserNotFound,
    #[error("password reset token is invalid, expired or already used")]
    InvalidResetToken,
    #[error("{0} must be a JSON object")]
    NotAnObject(&'static str),
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    #[error("stored password hash is unreadable")]
    CorruptHash,
    #[error("not enough memory to verify or hash a password")]
    OutOfMemory,
    #[error(transparent)]
    LegacyHash(#[from] HashError),
    /// Worded as a local duplicate: a signup must not tell where an account lives.
    #[error("a user with this email already exists")]
    ExistsInLegacyStore,
    #[error("the legacy profile conflicts with an existing user (same legacy id)")]
    LegacyProfileConflict,
    #[error("cannot migrate a user in a read-only transaction")]
    ReadOnlyMigration,
    #[error("no legacy store is connected")]
    NoLegacyStore,
    #[error("the user is disabled in the legacy store")]
    DisabledInLegacyStore,
    #[error("column \"{0}\" of the legacy relation does not exist")]
    MappingColumnMissing(String),
    #[error("column \"{0}\" of the legacy relation must be json or jsonb")]
    MappingColumnNotJson(String),
    #[error("this needs an FDW legacy store (auth.configure_fdw_store)")]
    NotAnFdwStore,
    #[error("no legacy store was disconnected")]
    NothingDisconnected,
    #[error("no legacy store has this name")]
    NoSuchStore,
    #[error("login statistics need pg_trickle in shared_preload_libraries")]
    StatsUnavailable,
    #[error("the legacy store's call limit of {per_second} per second is reached")]
    LegacyRateLimited { per_second: u32 },
    #[error("pg_trickle.legacy_calls_per_second needs pg_trickle in shared_preload_libraries")]
    RateLimitUnavailable,
    #[error("lockout needs pg_trickle in shared_preload_libraries; logins are refused without it")]
    LockoutUnavailable,
    #[error("name both a source relation and a mapping, or neither to import from the configured FDW store")]
    NoImportSource,
    #[error("{0} must be a JSON array")]
    NotAnArray(&'static str),
    #[error("the FDW legacy store has no reader role (configured before 0.3.0, or the role was dropped)")]
    NoLegacyReader,
    #[error("the legacy relation is refused: {0}")]
    LegacyRelationRefused(&'static str),
    #[error("the legacy relation is unfit: {0}")]
    LegacyRelationUnfit(&'static str),
    #[error("the pg_trickle library is {library} but the database has {installed}")]
    ExtensionNotUpdated { library: &'static str, installed: String },
    #[error("{rejected} rows were rejected, so nothing was imported (all_or_nothing); first: {first}")]
    ImportRejected { rejected: i64, first: String },
}
