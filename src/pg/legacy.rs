//! The legacy store seen from a backend: reads the import configuration, keeps one HTTP client per
//! backend (reused while the configuration is unchanged), and supplies the interrupt check that
//! lets a query cancel, statement_timeout or backend termination stop a wait on the network.

use crate::domain::error::AuthError;
use crate::legacy_store::http::{Contract, HttpAuth, HttpStore, HttpStoreConfig};
use crate::legacy_store::{LegacyProfile, LoginAnswer, StoreError};
use crate::pg::storage::{self, ImportConfigRow};
use pgrx::pg_sys;
use std::cell::RefCell;

/// Where a login miss or a getUser goes.
pub enum LegacyStore {
    /// Import mode off, or no store connected: the legacy store is never asked.
    Off,
    Http(Box<HttpStoreConfig>),
}

pub fn http_config_from_row(row: &ImportConfigRow) -> Result<HttpStoreConfig, StoreError> {
    let base_url = row.http_base_url.as_deref().ok_or_else(|| StoreError::InvalidConfig("no base URL".into()))?;
    HttpStoreConfig::new(
        base_url,
        Contract::parse(&row.http_contract)?,
        HttpAuth::parse(&row.http_auth_kind, row.http_auth_secret.as_deref(), row.http_auth_header.as_deref())?,
        row.http_hmac_secret.clone(),
        row.http_connect_timeout_ms.into(),
        row.http_timeout_ms.into(),
        row.http_lookup_retries.into(),
        row.http_max_response_bytes.into(),
        row.http_ca_bundle.clone(),
    )
}

/// The store to consult now; read in the caller's snapshot, so a configuration change counts
/// from its commit on.
pub fn current_store() -> Result<LegacyStore, AuthError> {
    match storage::load_import_config() {
        Some(row) if row.import_mode && row.store_kind == "http" => {
            Ok(LegacyStore::Http(Box::new(http_config_from_row(&row)?)))
        }
        _ => Ok(LegacyStore::Off),
    }
}

thread_local! {
    static HTTP_STORE: RefCell<Option<HttpStore>> = const { RefCell::new(None) };
}

/// True once PostgreSQL wants this backend to stop what it is doing. Only reads the flags; raising
/// the error is left to `check_for_interrupts!` on the way out.
fn interrupt_pending() -> bool {
    // SAFETY: volatile reads of sig_atomic_t flags that signal handlers set, on the backend's own thread.
    unsafe {
        std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::QueryCancelPending)) != 0
            || std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::ProcDiePending)) != 0
    }
}

fn with_http_store<T>(
    config: &HttpStoreConfig,
    call: impl FnOnce(&HttpStore) -> Result<T, StoreError>,
) -> Result<T, AuthError> {
    let result = HTTP_STORE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.as_ref().is_none_or(|store| store.config() != config) {
            *cached = Some(HttpStore::new(config.clone())?);
        }
        call(cached.as_ref().expect("just ensured"))
    });
    if matches!(result, Err(StoreError::Interrupted)) {
        // PostgreSQL raises 57014 (cancel, statement_timeout) or terminates the backend here.
        pgrx::check_for_interrupts!();
    }
    Ok(result?)
}

pub fn login(store: &LegacyStore, email: &str, password: &str) -> Result<LoginAnswer, AuthError> {
    match store {
        LegacyStore::Off => Err(AuthError::NoLegacyStore),
        LegacyStore::Http(config) => with_http_store(config, |s| s.login(email, password, &interrupt_pending)),
    }
}

pub fn get_user(store: &LegacyStore, email: &str) -> Result<Option<LegacyProfile>, AuthError> {
    match store {
        LegacyStore::Off => Err(AuthError::NoLegacyStore),
        LegacyStore::Http(config) => with_http_store(config, |s| s.get_user(email, &interrupt_pending)),
    }
}
