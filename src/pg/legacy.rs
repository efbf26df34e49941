//! The legacy stores seen from a backend: reads the configured stores (in their ask order) from the import
//! configuration and calls each through the one adapter interface (`crate::legacy_store::Adapter`), as this
//! backend's `Host`. For HTTP it keeps one client per backend and store configuration (reused while it is unchanged)
//! and supplies the interrupt check that lets a query cancel, statement_timeout or backend termination stop a wait on
//! the network; for FDW it reads the legacy relation through SPI as the store's reader role (the FDW checks for
//! interrupts itself) and verifies legacy hashes within pg_trickle.max_hash_memory.

use crate::domain::error::AuthError;
use crate::domain::legacy_hash;
use crate::legacy_store::fdw::{self, ColumnMapping, FdwStore, HashSample, LegacyRow};
use crate::legacy_store::http::{Contract, HttpAuth, HttpError, HttpStore, HttpStoreConfig};
use crate::legacy_store::{routing, Adapter, Host, LegacyUser, LoginAnswer, StoreError};
use crate::pg::privilege;
use crate::pg::sqlstate::Failure;
use crate::pg::storage::{self, ImportConfig, StoreRow};
use crate::pg::subtransaction::{self, DataException};
use pgrx::pg_sys;
use std::cell::RefCell;

/// One configured legacy store.
pub struct Store {
    pub name: String,
    /// None: every email.
    email_domains: Option<Vec<String>>,
    pub kind: StoreKind,
}

pub enum StoreKind {
    Http(Box<HttpStoreConfig>),
    Fdw(Box<FdwStore>),
}

impl Store {
    /// The adapter's name in auth.migration_events.
    pub fn adapter(&self) -> &'static str {
        match self.kind {
            StoreKind::Http(_) => "http",
            StoreKind::Fdw(_) => "fdw",
        }
    }

    /// Whether this store is asked about a normalised email (its email domains).
    pub fn serves(&self, email: &str) -> bool {
        routing::serves(self.email_domains.as_deref(), email)
    }

    /// Whether a login by username asks this store (an FDW store whose mapping names a username column).
    pub fn looks_up_usernames(&self) -> bool {
        matches!(&self.kind, StoreKind::Fdw(fdw) if fdw.looks_up_usernames())
    }
}

/// The stores a login miss or a getUser asks, in order: none while import mode is off.
pub struct Stores(Vec<Store>);

impl Stores {
    /// The stores asked about this email, in order.
    pub fn serving<'a>(&'a self, email: &'a str) -> impl Iterator<Item = &'a Store> + 'a {
        self.0.iter().filter(move |store| store.serves(email))
    }

    pub fn all(&self) -> &[Store] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub fn fdw_store_from_row(row: &StoreRow) -> Result<FdwStore, Failure> {
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

pub fn http_config_from_row(row: &StoreRow) -> Result<HttpStoreConfig, StoreError> {
    let base_url = row.http_base_url.as_deref().ok_or_else(|| StoreError::InvalidConfig("no base URL".into()))?;
    HttpStoreConfig::new(
        base_url,
        Contract::parse(
            &row.http_contract,
            row.http_provider.as_ref().map(|settings| &settings.0),
            row.http_provider_secret.as_deref(),
            row.http_provider_admin_secret.as_deref(),
        )?,
        HttpAuth::parse(&row.http_auth_kind, row.http_auth_secret.as_deref(), row.http_auth_header.as_deref())?,
        row.http_hmac_secret.clone(),
        row.http_connect_timeout_ms.into(),
        row.http_timeout_ms.into(),
        row.http_lookup_retries.into(),
        row.http_max_response_bytes.into(),
        row.http_ca_bundle.clone(),
        row.http_allow_insecure,
    )?
    .with_pool_idle_ms(row.http_pool_idle_ms.into())
}

fn store_from_row(row: &StoreRow) -> Result<Store, Failure> {
    let kind = match row.store_kind.as_str() {
        "http" => StoreKind::Http(Box::new(http_config_from_row(row)?)),
        "fdw" => StoreKind::Fdw(Box::new(fdw_store_from_row(row)?)),
        _ => Err(StoreError::InvalidConfig(format!("store {} has no kind", row.name)))?,
    };
    Ok(Store { name: row.name.clone(), email_domains: row.email_domains.clone(), kind })
}

/// The stores to ask now; read in the caller's snapshot, so a configuration change counts from its commit on.
pub fn current_stores() -> Result<Stores, Failure> {
    stores_from(storage::load_import_config(), true)
}

/// The stores to ask now, or None when their configuration is being changed by an extension update (a login
/// that only needs to know the stores must not wait for that).
pub fn current_stores_without_waiting() -> Option<Stores> {
    stores_from(storage::load_import_config_without_waiting().ok()?, true).ok()
}

/// The connected stores, whether import mode is on or not (for progress and checks).
pub fn configured_stores() -> Result<Stores, Failure> {
    stores_from(storage::load_import_config(), false)
}

fn stores_from(config: ImportConfig, in_import_mode: bool) -> Result<Stores, Failure> {
    if in_import_mode && !config.import_mode {
        return Ok(Stores(Vec::new()));
    }
    let connected = config.stores.iter().filter(|row| !row.disconnected);
    Ok(Stores(connected.map(store_from_row).collect::<Result<_, _>>()?))
}

/// Clients kept per backend, one per HTTP store configuration (a few stores at most).
const HTTP_CLIENTS_KEPT: usize = 8;

thread_local! {
    static HTTP_CLIENTS: RefCell<Vec<HttpStore>> = const { RefCell::new(Vec::new()) };
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
fn with_adapter<T>(store: &Store, call: impl FnOnce(&dyn Adapter) -> Result<T, StoreError>) -> Result<T, Failure> {
    let result = match &store.kind {
        StoreKind::Fdw(fdw) => call(fdw.as_ref()),
        StoreKind::Http(config) => HTTP_CLIENTS.with(|cell| {
            let mut clients = cell.borrow_mut();
            let index = match clients.iter().position(|client| client.config() == config.as_ref()) {
                Some(index) => index,
                None => {
                    if clients.len() == HTTP_CLIENTS_KEPT {
                        clients.remove(0);
                    }
                    clients.push(HttpStore::new(config.as_ref().clone())?);
                    clients.len() - 1
                }
            };
            let result = call(&clients[index]);
            if matches!(result, Err(StoreError::Interrupted | StoreError::Http(HttpError::Timeout(_)))) {
                // The request left behind still holds its connection, and nothing drives the client's runtime
                // between calls: dropping the client (and its runtime) closes it now, not at the next call.
                clients.remove(index);
            }
            result
        }),
    };
    if matches!(result, Err(StoreError::Interrupted)) {
        // PostgreSQL raises 57014 (cancel, statement_timeout) or terminates the backend here.
        raise_interrupt();
    }
    Ok(result?)
}

/// The legacy store's own count of users, when it can give one (FDW: the relation; HTTP: the contract's optional
/// count call).
pub fn count_users(store: &Store) -> Result<Option<i64>, Failure> {
    with_adapter(store, |adapter| adapter.count(&Backend))
}

pub fn login(store: &Store, email: &str, password: &str) -> Result<LoginAnswer, Failure> {
    with_adapter(store, |adapter| adapter.log_in(&Backend, email, password))
}

pub fn get_user(store: &Store, email: &str) -> Result<Option<LegacyUser>, Failure> {
    with_adapter(store, |adapter| adapter.look_up(&Backend, email))
}

pub fn email_of_username(store: &Store, username: &str) -> Result<Option<String>, Failure> {
    with_adapter(store, |adapter| adapter.email_of_username(&Backend, username))
}

/// What a failed check of a legacy user's password costs in these stores, spent (an unknown email, a locked one, a
/// local user's wrong password in import mode). Never an error: a refusal is on its way already.
pub fn spend_like_a_check<'a>(stores: impl IntoIterator<Item = &'a Store>, password: &str) {
    for store in stores {
        let _ = with_adapter(store, |adapter| {
            adapter.spend_like_a_check(&Backend, password);
            Ok(())
        });
    }
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
/// A row the server cannot read (a data exception such as mysql_fdw's 22008 on a MySQL zero date) fails alone: the
/// relation is then read again one legacy id at a time, and each id whose rows still fail is staged as a rejection
/// `unreadable_row_<SQLSTATE>`.
pub fn staged_rows(store: &FdwStore) -> String {
    let reader = store.reader.into();
    storage::create_legacy_rows_table(Some(reader), &fdw::mapping::legacy_rows_table_ddl());
    let read = |scan: &str, first_n| {
        subtransaction::rolled_back_on_data_exception(|| storage::insert_legacy_rows(scan, Some(reader), first_n, None))
    };
    if let Err(DataException(sqlstate)) = read(&store.scan_sql(), 1) {
        pgrx::warning!(
            "pg_trickle: a row of {} cannot be read (SQLSTATE {sqlstate}); reading the relation one legacy id at a time",
            store.relation
        );
        let mut next_n = 1;
        for id in storage::legacy_texts(&store.mapping.ids_sql(&store.relation), reader) {
            match read(&store.mapping.scan_of_id_sql(&store.relation, id.as_deref()), next_n) {
                Ok(added) => next_n += added,
                Err(DataException(sqlstate)) => {
                    let reason = format!("unreadable_row_{sqlstate}");
                    storage::insert_unreadable_legacy_row(next_n, id.as_deref(), &reason);
                    next_n += 1;
                }
            }
        }
    }
    fdw::mapping::staged_rows_sql()
}

/// The rows of an import file (`row_columns()` keys), staged as a relation's rows are.
pub fn stage_file_rows(rows: pgrx::JsonB) {
    storage::create_legacy_rows_table(None, &fdw::mapping::legacy_rows_table_ddl());
    let scan = format!("SELECT * FROM pg_catalog.jsonb_to_recordset($1) AS r({})", fdw::mapping::row_columns_ddl());
    storage::insert_legacy_rows(&scan, None, 1, Some(rows));
}
