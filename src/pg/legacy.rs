//! The legacy store seen from a backend: picks the configured store from the import configuration and calls it
//! through the one adapter interface (`crate::legacy_store::Adapter`), as this backend's `Host`. For HTTP it keeps
//! one client per backend (reused while the configuration is unchanged) and supplies the interrupt check that lets
//! a query cancel, statement_timeout or backend termination stop a wait on the network; for FDW it reads the legacy
//! relation through SPI as the store's reader role (postgres_fdw checks for interrupts itself) and verifies legacy
//! hashes within pg_trickle.max_hash_memory.

use crate::domain::error::AuthError;
use crate::domain::legacy_hash;
use crate::legacy_store::fdw::{self, ColumnMapping, FdwStore, HashSample, LegacyRow};
use crate::legacy_store::http::{Contract, HttpAuth, HttpStore, HttpStoreConfig};
use crate::legacy_store::{Adapter, Host, LegacyUser, LoginAnswer, StoreError};
use crate::pg::privilege;
use crate::pg::sqlstate::Failure;
use crate::pg::storage::{self, ImportConfigRow};
use pgrx::pg_sys;
use std::cell::RefCell;

/// Where a login miss or a getUser goes.
pub enum LegacyStore {
    /// Import mode off, or no store connected: the legacy store is never asked.
    Off,
    Http(Box<HttpStoreConfig>),
    Fdw(Box<FdwStore>),
}

impl LegacyStore {
    /// The adapter's name in auth.migration_events.
    pub fn adapter(&self) -> &'static str {
        match self {
            LegacyStore::Off => "none",
            LegacyStore::Http(_) => "http",
            LegacyStore::Fdw(_) => "fdw",
        }
    }
}

pub fn fdw_store_from_row(row: &ImportConfigRow) -> Result<FdwStore, Failure> {
    let relation = row.fdw_relation.as_deref().ok_or_else(|| StoreError::InvalidConfig("no FDW relation".into()))?;
    let mapping = row.fdw_mapping.as_ref().ok_or_else(|| StoreError::InvalidConfig("no FDW mapping".into()))?;
    let mapping = ColumnMapping::from_json(&mapping.0)?;
    // Configured before 0.3.0 (read as the owner then), or the reader was dropped or made superuser since.
    let reader = match row.fdw_reader.as_deref().map(storage::reader_role) {
        None | Some(None) => Err(AuthError::NoLegacyReader)?,
        Some(Some((_, true))) => Err(AuthError::LegacyRelationRefused("its reader role is a superuser"))?,
        Some(Some((oid, false))) => oid,
    };
    Ok(FdwStore::new(mapping, relation, reader.to_u32()))
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
        row.http_allow_insecure,
    )
}

/// The store to consult now; read in the caller's snapshot, so a configuration change counts
/// from its commit on.
pub fn current_store() -> Result<LegacyStore, Failure> {
    configured_store(true)
}

/// The store to consult now, or None when its configuration is being changed by an extension update (a login
/// that only needs to know the store must not wait for that).
pub fn current_store_without_waiting() -> Option<LegacyStore> {
    store_from_row(storage::load_import_config_without_waiting().ok()?, true).ok()
}

/// The connected store, whether import mode is on or not (for progress and checks); with
/// `in_import_mode`, only while import mode is on.
pub fn configured_store(in_import_mode: bool) -> Result<LegacyStore, Failure> {
    store_from_row(storage::load_import_config(), in_import_mode)
}

fn store_from_row(row: Option<ImportConfigRow>, in_import_mode: bool) -> Result<LegacyStore, Failure> {
    match row.filter(|row| row.import_mode || !in_import_mode) {
        Some(row) if row.store_kind == "http" => Ok(LegacyStore::Http(Box::new(http_config_from_row(&row)?))),
        Some(row) if row.store_kind == "fdw" => Ok(LegacyStore::Fdw(Box::new(fdw_store_from_row(&row)?))),
        _ => Ok(LegacyStore::Off),
    }
}

thread_local! {
    static HTTP_STORE: RefCell<Option<HttpStore>> = const { RefCell::new(None) };
}

/// True once PostgreSQL wants this backend to stop what it is doing, or the postmaster has died. Only reads;
/// raising the error (or exiting) is left to `raise_interrupt` on the way out.
pub fn interrupt_pending() -> bool {
    // SAFETY: volatile reads of sig_atomic_t flags that signal handlers set, on the backend's own thread.
    let asked = unsafe {
        std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::QueryCancelPending)) != 0
            || std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::ProcDiePending)) != 0
    };
    asked || !postmaster_is_alive()
}

/// A backend is the postmaster's child: once the postmaster is gone, the backend has another parent. (A
/// single-user backend has no postmaster to lose.)
fn postmaster_is_alive() -> bool {
    // SAFETY: plain reads of globals set before any backend starts.
    let (under_postmaster, postmaster) = unsafe { (pg_sys::IsUnderPostmaster, pg_sys::PostmasterPid) };
    !under_postmaster || u32::try_from(postmaster).is_ok_and(|pid| std::os::unix::process::parent_id() == pid)
}

/// After a wait or a computation stopped by `interrupt_pending`: PostgreSQL raises 57014 or terminates the backend
/// (CHECK_FOR_INTERRUPTS); if the postmaster died, the backend exits as PostgreSQL's own waits do
/// (WL_EXIT_ON_PM_DEATH), so an orphan does not hold the shared memory that keeps a new server from starting.
pub fn raise_interrupt() {
    if !postmaster_is_alive() {
        // SAFETY: what PostgreSQL itself calls on postmaster death; runs the exit callbacks and never returns.
        unsafe { pg_sys::proc_exit(1) };
    }
    pgrx::check_for_interrupts!();
}

/// Verifies a legacy hash within pg_trickle.max_hash_memory; a cancel or timeout during the work that can be
/// split is raised here by PostgreSQL (57014), as it is during a wait on the legacy store.
pub fn verify_hash(
    password: &str,
    hash: &str,
    format: &str,
    params: &serde_json::Value,
) -> Result<bool, legacy_hash::HashError> {
    let result = legacy_hash::verify(password, hash, format, params, &crate::pg::settings::hash_budget());
    if matches!(result, Err(legacy_hash::HashError::Interrupted)) {
        raise_interrupt();
    }
    result
}

/// This backend, as the adapters' host.
struct Backend;

impl Host for Backend {
    fn interrupted(&self) -> bool {
        interrupt_pending()
    }

    fn verify_hash(
        &self,
        password: &str,
        hash: &str,
        format: &str,
        params: &serde_json::Value,
    ) -> Result<bool, legacy_hash::HashError> {
        verify_hash(password, hash, format, params)
    }

    fn legacy_rows(&self, reader: u32, sql: &str, email: &str) -> Vec<LegacyRow> {
        privilege::as_reader(reader.into(), || storage::legacy_rows(sql, email))
    }

    fn legacy_count(&self, reader: u32, sql: &str) -> i64 {
        privilege::as_reader(reader.into(), || storage::legacy_count(sql))
    }

    fn legacy_hash_sample(&self, reader: u32, sql: &str) -> Option<HashSample> {
        privilege::as_reader(reader.into(), || storage::legacy_hash_sample(sql))
    }
}

/// Calls the store's adapter (for HTTP, this backend's client for its configuration). None: import mode is off or
/// no store is connected.
fn with_adapter<T>(
    store: &LegacyStore,
    call: impl FnOnce(&dyn Adapter) -> Result<T, StoreError>,
) -> Result<Option<T>, Failure> {
    let result = match store {
        LegacyStore::Off => return Ok(None),
        LegacyStore::Fdw(fdw) => call(fdw.as_ref()),
        LegacyStore::Http(config) => HTTP_STORE.with(|cell| {
            let mut cached = cell.borrow_mut();
            if cached.as_ref().is_none_or(|client| client.config() != config.as_ref()) {
                *cached = Some(HttpStore::new(config.as_ref().clone())?);
            }
            call(cached.as_ref().expect("just ensured"))
        }),
    };
    if matches!(result, Err(StoreError::Interrupted)) {
        // PostgreSQL raises 57014 (cancel, statement_timeout) or terminates the backend here.
        raise_interrupt();
    }
    Ok(Some(result?))
}

/// The legacy store's own count of users, when it can give one (FDW: the relation; HTTP: the contract's optional
/// count call).
pub fn count_users(store: &LegacyStore) -> Result<Option<i64>, Failure> {
    Ok(with_adapter(store, |adapter| adapter.count(&Backend))?.flatten())
}

pub fn login(store: &LegacyStore, email: &str, password: &str) -> Result<LoginAnswer, Failure> {
    with_adapter(store, |adapter| adapter.log_in(&Backend, email, password))?.ok_or(AuthError::NoLegacyStore.into())
}

pub fn get_user(store: &LegacyStore, email: &str) -> Result<Option<LegacyUser>, Failure> {
    with_adapter(store, |adapter| adapter.look_up(&Backend, email))?.ok_or(AuthError::NoLegacyStore.into())
}

/// What a failed check of a legacy user's password costs in this store, spent (an unknown email, a locked one, a
/// local user's wrong password in import mode). Never an error: a refusal is on its way already.
pub fn spend_like_a_check(store: &LegacyStore, password: &str) {
    let _ = with_adapter(store, |adapter| {
        adapter.spend_like_a_check(&Backend, password);
        Ok(())
    });
}

/// The canonical format of one stored hash of an FDW store (parsed and bounded, not verified), or the class of
/// what is wrong with it; None when no row has a hash.
pub fn sample_hash_format(store: &FdwStore) -> Option<Result<&'static str, &'static str>> {
    store.sample_hash_format(&Backend, |hash, format, params| {
        legacy_hash::prepare(hash, format, params, &crate::pg::settings::hash_budget())
            .map(|prepared| prepared.format)
            .map_err(|err| err.class())
    })
}

/// The rows of an FDW store, staged in a temporary table read as its reader role; the SQL that reads them back.
pub fn staged_rows(store: &FdwStore) -> &'static str {
    storage::stage_legacy_rows(&store.scan_sql(), store.reader.into(), &fdw::mapping::row_columns_ddl())
}
