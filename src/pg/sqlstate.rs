//! The one place where pg_trickle's typed errors become PostgreSQL errors.
//!
//! Every SQLSTATE an application can see is chosen here and listed in docs/errors.md.
//! Messages say which rule was broken, never the password, hash or token involved.

use crate::domain::error::AuthError;
use crate::domain::legacy_hash::HashError;
use crate::legacy_store::fdw::FdwError;
use crate::legacy_store::http::HttpError;
use crate::legacy_store::StoreError;
use pgrx::pg_sys::errcodes::PgSqlErrorCode;
use pgrx::pg_sys::panic::ErrorReport;
use thiserror::Error;

const FUNCNAME: &str = "pg_trickle";

/// What the SQL surface can fail with: a rule of the core, or a legacy store that could not answer. Both flow
/// outwards to here; the core knows nothing of legacy stores.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Failure {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<HashError> for Failure {
    fn from(err: HashError) -> Self {
        Failure::Auth(err.into())
    }
}

impl From<Failure> for ErrorReport {
    fn from(failure: Failure) -> Self {
        let (message, (code, hint)) = match &failure {
            Failure::Auth(err) => (err.to_string(), auth_error_code(err)),
            Failure::Store(err) => (err.to_string(), store_error_code(err)),
        };
        let report = ErrorReport::new(code, message, FUNCNAME);
        match hint {
            Some(h) => report.set_hint(h),
            None => report,
        }
    }
}

impl From<AuthError> for ErrorReport {
    fn from(err: AuthError) -> Self {
        Failure::Auth(err).into()
    }
}

impl From<StoreError> for ErrorReport {
    fn from(err: StoreError) -> Self {
        Failure::Store(err).into()
    }
}

fn auth_error_code(err: &AuthError) -> (PgSqlErrorCode, Option<&'static str>) {
    use PgSqlErrorCode::*;
    match err {
            AuthError::NullArgument(_) => (ERRCODE_NULL_VALUE_NOT_ALLOWED, None),
            AuthError::ArgumentTooLong(_) => (ERRCODE_STRING_DATA_RIGHT_TRUNCATION, None),
            AuthError::UnreadableJson(_) => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::InvalidEmail(_) => {
                (ERRCODE_INVALID_PARAMETER_VALUE, Some("Pass an address like name@example.com."))
            }
            AuthError::InvalidUsername(_) => {
                (ERRCODE_INVALID_PARAMETER_VALUE, Some("Pass an email address, or a username without '@'."))
            }
            AuthError::PasswordTooShort { .. } => {
                (ERRCODE_INVALID_PARAMETER_VALUE, Some("The minimum is the setting pg_trickle.password_min_length."))
            }
            AuthError::PasswordTooLong { .. } => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::Duplicate(_) => (ERRCODE_UNIQUE_VIOLATION, None),
            AuthError::UserNotFound => (ERRCODE_NO_DATA_FOUND, None),
            AuthError::InvalidResetToken => (
                ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
                Some("Request a new token with auth.create_password_reset()."),
            ),
            AuthError::NotAnObject(_) => (ERRCODE_INVALID_PARAMETER_VALUE, Some("Pass a JSON object, e.g. '{}'.")),
            AuthError::InvalidSetting(_) => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::CorruptHash => {
                (ERRCODE_DATA_CORRUPTED, Some("Reset the user's password with auth.set_password()."))
            }
            AuthError::OutOfMemory => {
                (ERRCODE_OUT_OF_MEMORY, Some("Lower pg_trickle.argon2_memory_kib or pg_trickle.max_hash_memory."))
            }
            AuthError::LegacyHash(_) => (ERRCODE_INVALID_PARAMETER_VALUE, Some("See auth.legacy_hash_formats().")),
            AuthError::ExistsInLegacyStore => (ERRCODE_UNIQUE_VIOLATION, None),
            AuthError::LegacyProfileConflict => (
                ERRCODE_UNIQUE_VIOLATION,
                Some("Another local user of this legacy store holds this legacy id; see docs/operations.md."),
            ),
            AuthError::ReadOnlyMigration => (
                ERRCODE_READ_ONLY_SQL_TRANSACTION,
                Some("Send first logins of legacy users to the primary, in a read-write transaction."),
            ),
            AuthError::NoLegacyStore => (
                ERRCODE_INVALID_PARAMETER_VALUE,
                Some("Configure one with auth.configure_http_store() and turn import mode on."),
            ),
            AuthError::DisabledInLegacyStore => (ERRCODE_NO_DATA_FOUND, None),
            AuthError::NoImportSource => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::NotAnFdwStore => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::NothingDisconnected => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::NoSuchStore => {
                (ERRCODE_UNDEFINED_OBJECT, Some("The stores are listed in auth.import_configuration."))
            }
            AuthError::StatsUnavailable => (
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                Some("Add pg_trickle to shared_preload_libraries and restart the server."),
            ),
            AuthError::NotAnArray(_) => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::LockoutUnavailable => (
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                Some("Add pg_trickle to shared_preload_libraries and restart, or set pg_trickle.lockout_threshold = 0."),
            ),
            AuthError::LegacyRateLimited { .. } => (
                ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
                Some("Retry later; the limit is the setting pg_trickle.legacy_calls_per_second."),
            ),
            AuthError::RateLimitUnavailable => (
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                Some("Add pg_trickle to shared_preload_libraries and restart, or set pg_trickle.legacy_calls_per_second = 0."),
            ),
            AuthError::ImportRejected { .. } => (
                ERRCODE_INVALID_PARAMETER_VALUE,
                Some("Run without all_or_nothing to import the valid rows and get every rejection back."),
            ),
            AuthError::NoLegacyReader => (
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                Some("Configure it again: auth.configure_fdw_store(relation, mapping, read_as => 'a non-superuser role')."),
            ),
            AuthError::LegacyRelationRefused(_) => (
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                Some("The legacy relation is read as a non-superuser role the caller belongs to; see docs/security.md."),
            ),
            AuthError::LegacyRelationUnfit(_) => (ERRCODE_WRONG_OBJECT_TYPE, None),
            AuthError::ExtensionNotUpdated { .. } => {
                (ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, Some("Run ALTER EXTENSION pg_trickle UPDATE."))
            }
            AuthError::MappingColumnMissing(_) => {
                (ERRCODE_UNDEFINED_COLUMN, Some("Name the columns as the relation has them."))
            }
            AuthError::MappingColumnNotJson(_) => (
                ERRCODE_DATATYPE_MISMATCH,
                Some("Gather plain columns with user_metadata_columns / app_metadata_columns."),
            ),
        }
}

/// Class 08 for a store that cannot be reached or answer; 08P01 for one that answered wrongly.
fn store_error_code(err: &StoreError) -> (PgSqlErrorCode, Option<&'static str>) {
    use PgSqlErrorCode::*;
    const HTTP_CONTRACT: Option<&str> = Some("An HTTP store must follow docs/http-contract.md.");
    match err {
        StoreError::Http(HttpError::Unreachable(_)) => (
            ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
            Some("Check the legacy store's address (auth.import_configuration) and that it is up."),
        ),
        StoreError::Http(HttpError::Timeout(_) | HttpError::ConnectionFailed(_)) => (ERRCODE_CONNECTION_FAILURE, None),
        StoreError::Http(HttpError::Unavailable(_)) => {
            (ERRCODE_SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION, None)
        }
        StoreError::Http(HttpError::RequestRefused) => (
            ERRCODE_SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION,
            Some(
                "Check auth_kind, auth_secret and hmac_secret (an identity provider: its provider settings and \
                 provider_secret) in auth.configure_http_store().",
            ),
        ),
        StoreError::Http(HttpError::ProviderRefused(_)) => (
            ERRCODE_SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION,
            Some("Enable on the provider what docs/providers/ lists for it (the password grant or flow, the client)."),
        ),
        StoreError::Http(HttpError::AnswerTooLarge(_)) | StoreError::InvalidAnswer(_) => {
            (ERRCODE_PROTOCOL_VIOLATION, HTTP_CONTRACT)
        }
        StoreError::Fdw(FdwError::InvalidRow(_) | FdwError::Ambiguous) => {
            (ERRCODE_PROTOCOL_VIOLATION, Some("A legacy row must be as docs/fdw-adapter.md says."))
        }
        StoreError::Fdw(FdwError::InvalidMapping(_)) | StoreError::InvalidConfig(_) => {
            (ERRCODE_INVALID_PARAMETER_VALUE, None)
        }
        StoreError::Interrupted => (ERRCODE_QUERY_CANCELED, None),
    }
}

/// A write where nothing can be written: a read-only transaction, or a hot standby.
pub fn read_only(what: &str) -> ErrorReport {
    ErrorReport::new(
        PgSqlErrorCode::ERRCODE_READ_ONLY_SQL_TRANSACTION,
        format!("pg_trickle: cannot write ({what}) in a read-only transaction or on a standby"),
        FUNCNAME,
    )
    .set_hint(
        "Send signups, password changes and first logins of legacy users to the primary, in a read-write transaction.",
    )
}

/// Failures of our own SQL (a bug, not bad input) surface as internal errors with the statement's name.
pub fn internal(what: &str, err: impl std::fmt::Display) -> ErrorReport {
    ErrorReport::new(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("pg_trickle: {what} failed: {err}"), FUNCNAME)
}
