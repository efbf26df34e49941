//! The one place where pg_trickle's typed errors become PostgreSQL errors.
//!
//! Every SQLSTATE an application can see is chosen here and listed in docs/errors.md.
//! Messages say which rule was broken, never the password, hash or token involved.

use crate::domain::error::AuthError;
use pgrx::pg_sys::errcodes::PgSqlErrorCode;
use pgrx::pg_sys::panic::ErrorReport;

const FUNCNAME: &str = "pg_trickle";

impl From<AuthError> for ErrorReport {
    fn from(err: AuthError) -> Self {
        use PgSqlErrorCode::*;
        let (code, hint): (PgSqlErrorCode, Option<&str>) = match &err {
            AuthError::NullArgument(_) => (ERRCODE_NULL_VALUE_NOT_ALLOWED, None),
            AuthError::InvalidEmail(_) => (
                ERRCODE_INVALID_PARAMETER_VALUE,
                Some("Pass an address like name@example.com."),
            ),
            AuthError::PasswordTooShort { .. } => (
                ERRCODE_INVALID_PARAMETER_VALUE,
                Some("The minimum is the setting pg_trickle.password_min_length."),
            ),
            AuthError::PasswordTooLong { .. } => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::Duplicate(_) => (ERRCODE_UNIQUE_VIOLATION, None),
            AuthError::UserNotFound => (ERRCODE_NO_DATA_FOUND, None),
            AuthError::InvalidResetToken => (
                ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
                Some("Request a new token with auth.create_password_reset()."),
            ),
            AuthError::NotAnObject(_) => (ERRCODE_INVALID_PARAMETER_VALUE, Some("Pass a JSON object, e.g. '{}'.")),
            AuthError::InvalidSetting(_) => (ERRCODE_INVALID_PARAMETER_VALUE, None),
            AuthError::CorruptHash => (
                ERRCODE_DATA_CORRUPTED,
                Some("Reset the user's password with auth.set_password()."),
            ),
        };
        let report = ErrorReport::new(code, err.to_string(), FUNCNAME);
        match hint {
            Some(h) => report.set_hint(h),
            None => report,
        }
    }
}

/// Failures of our own SQL (a bug, not bad input) surface as internal errors with the statement's name.
pub fn internal(what: &str, err: impl std::fmt::Display) -> ErrorReport {
    ErrorReport::new(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("pg_trickle: {what} failed: {err}"),
        FUNCNAME,
    )
}
