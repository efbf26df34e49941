//! What goes wrong with a legacy relation's mapping or rows. Messages name the column or rule, never a hash.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FdwError {
    /// The admin's column mapping is malformed.
    #[error("invalid legacy store configuration: FDW mapping: {0}")]
    InvalidMapping(String),
    /// A row the look-up found cannot be the user asked about (another email, no id, unreadable metadata).
    #[error("legacy store gave an invalid answer: legacy row: {0}")]
    InvalidRow(String),
    /// Several rows have the email: the store cannot say who the user is.
    #[error("legacy store gave an invalid answer: several legacy rows have this email")]
    Ambiguous,
}
