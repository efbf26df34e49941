//! The HTTP adapter: contract presets (`contract`), identity providers' own APIs (`provider`), configuration validated before it is stored (`config`), the
//! client (`client`) and its typed errors (`error`). docs/http-contract.md.

pub mod client;
pub mod config;
pub mod contract;
pub mod error;
pub mod provider;

pub use client::HttpStore;
pub use config::{Contract, HttpAuth, HttpStoreConfig};
pub use error::HttpError;

use crate::legacy_store::{Adapter, Host, LegacyUser, LoginAnswer, StoreError};

impl Adapter for HttpStore {
    fn log_in(&self, host: &dyn Host, email: &str, password: &str) -> Result<LoginAnswer, StoreError> {
        self.login(email, password, &|| host.interrupted())
    }

    fn look_up(&self, host: &dyn Host, email: &str) -> Result<Option<LegacyUser>, StoreError> {
        self.get_user(email, &|| host.interrupted())
    }

    fn count(&self, host: &dyn Host) -> Result<Option<i64>, StoreError> {
        self.count_users(&|| host.interrupted())
    }

    /// Contracts and providers name users by email.
    fn email_of_username(&self, _: &dyn Host, _: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    /// The store verifies on its own side: the request costs what a check costs there.
    fn spend_like_a_check(&self, _: &dyn Host, _: &str) {}
}
