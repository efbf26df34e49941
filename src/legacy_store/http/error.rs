//! What goes wrong talking HTTP to a legacy store. Messages name the cause, never a password or secret.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
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
    /// An identity provider refused the request for a reason of its own configuration (the grant or flow not
    /// enabled for the client, a rate limit): its code, never its free text.
    #[error("identity provider refused the request: {0}")]
    ProviderRefused(String),
    #[error("legacy store answer is larger than the limit of {0} bytes")]
    AnswerTooLarge(usize),
}
