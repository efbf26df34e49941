//! The account flows: domain decisions (`crate::domain`) joined to table access (`storage`) and to
//! the legacy store (`legacy`). Each function takes already-non-NULL arguments and returns typed
//! errors; `auth_api` maps them to SQL.
//!
//! - `login`: verifying credentials, locally or through the legacy store, and lockout;
//! - `account`: signup, passwords, resets, profile and metadata, email changes;
//! - `migration`: the legacy store's part in those flows (getUser, profile migration, tombstones,
//!   events) and its configuration;
//! - `import`: hash-preserving bulk import;
//! - `operations`: progress, disconnecting, statistics' neighbours, repair and purge.

mod account;
mod import;
mod login;
mod migration;
mod operations;

pub use account::*;
pub use import::*;
pub use login::*;
pub use migration::*;
pub use operations::*;
