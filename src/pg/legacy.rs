//! The legacy store seen from a backend: reads the import configuration; for HTTP keeps one client per
//! backend (reused while the configuration is unchanged) and supplies the interrupt check that lets a
//! query cancel, statement_timeout or backend termination stop a wait on the network; for FDW reads the
//! legacy relation through SPI (postgres_fdw checks for interrupts itself) and verifies the legacy hash.

use crate::domain::email::normalize_email;
use crate::domain::error::AuthError;
use crate::domain::legacy_hash;
use crate::legacy_store::fdw::{ColumnMapping, HashFormat};
use crate::legacy_store::http::{Contract, HttpAuth, HttpStore, HttpStoreConfig};
use crate::legacy_store::{LegacyProfile, LoginAnswer, Rejection, StoreError};
use crate::pg::privilege;
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

/// A legacy users relation and how to read it.
pub struct FdwStore {
    pub mapping: ColumnMapping,
    /// As PostgreSQL prints the regclass (quoted where needed).
    pub relation: String,
    /// The role the relation is read as (`pg::privilege::as_reader`): never a superuser.
    pub reader: pg_sys::Oid,
    lookup_sql: String,
    hash_sample_sql: String,
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

pub fn fdw_store_from_row(row: &ImportConfigRow) -> Result<FdwStore, AuthError> {
    let relation = row.fdw_relation.as_deref().ok_or_else(|| StoreError::InvalidConfig("no FDW relation".into()))?;
    let mapping = row.fdw_mapping.as_ref().ok_or_else(|| StoreError::InvalidConfig("no FDW mapping".into()))?;
    let mapping = ColumnMapping::from_json(&mapping.0)?;
    // Configured before 0.3.0 (read as the owner then), or the reader was dropped or made superuser since.
    let reader = match row.fdw_reader.as_deref().map(storage::reader_role) {
        None | Some(None) => return Err(AuthError::NoLegacyReader),
        Some(Some((_, true))) => return Err(AuthError::LegacyRelationRefused("its reader role is a superuser")),
        Some(Some((oid, false))) => oid,
    };
    let lookup_sql = mapping.lookup_sql(relation);
    let hash_sample_sql = mapping.hash_sample_sql(relation);
    Ok(FdwStore { mapping, relation: relation.to_string(), reader, lookup_sql, hash_sample_sql })
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
pub fn current_store() -> Result<LegacyStore, AuthError> {
    configured_store(true)
}

/// The store to consult now, or None when its configuration is being changed by an extension update (a login
/// that only needs to know the store must not wait for that).
pub fn current_store_without_waiting() -> Option<LegacyStore> {
    store_from_row(storage::load_import_config_without_waiting().ok()?, true).ok()
}

/// The connected store, whether import mode is on or not (for progress and checks); with
/// `in_import_mode`, only while import mode is on.
pub fn configured_store(in_import_mode: bool) -> Result<LegacyStore, AuthError> {
    store_from_row(storage::load_import_config(), in_import_mode)
}

fn store_from_row(row: Option<ImportConfigRow>, in_import_mode: bool) -> Result<LegacyStore, AuthError> {
    match row.filter(|row| row.import_mode || !in_import_mode) {
        Some(row) if row.store_kind == "http" => Ok(LegacyStore::Http(Box::new(http_config_from_row(&row)?))),
        Some(row) if row.store_kind == "fdw" => Ok(LegacyStore::Fdw(Box::new(fdw_store_from_row(&row)?))),
        _ => Ok(LegacyStore::Off),
    }
}

thread_local! {
    static HTTP_STORE: RefCell<Option<HttpStore>> = const { RefCell::new(None) };
    /// Per backend: one stored hash of the FDW store (keyed by its look-up and reader), verified when a login must
    /// cost what a legacy user's costs without having one. None inside: the relation holds no hash.
    static FDW_HASH_SAMPLE: RefCell<Option<(String, pg_sys::Oid, Option<HashSample>)>> = const { RefCell::new(None) };
}

struct HashSample {
    hash: String,
    format: String,
    params: serde_json::Value,
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
        raise_interrupt();
    }
    Ok(result?)
}

/// The legacy store's own count of users, when it can give one (FDW: the relation; HTTP: the optional
/// `GET /users/count`).
pub fn count_users(store: &LegacyStore) -> Result<Option<i64>, AuthError> {
    match store {
        LegacyStore::Off => Ok(None),
        LegacyStore::Http(config) => with_http_store(config, |s| s.count_users(&interrupt_pending)),
        LegacyStore::Fdw(fdw) => {
            let sql = format!("SELECT pg_catalog.count(*) FROM {}", fdw.relation);
            Ok(Some(privilege::as_reader(fdw.reader, || storage::legacy_count(&sql))))
        }
    }
}

pub fn login(store: &LegacyStore, email: &str, password: &str) -> Result<LoginAnswer, AuthError> {
    match store {
        LegacyStore::Off => Err(AuthError::NoLegacyStore),
        LegacyStore::Http(config) => with_http_store(config, |s| s.login(email, password, &interrupt_pending)),
        LegacyStore::Fdw(fdw) => fdw_login(fdw, email, password),
    }
}

pub fn get_user(store: &LegacyStore, email: &str) -> Result<Option<LegacyProfile>, AuthError> {
    match store {
        LegacyStore::Off => Err(AuthError::NoLegacyStore),
        LegacyStore::Http(config) => with_http_store(config, |s| s.get_user(email, &interrupt_pending)),
        LegacyStore::Fdw(fdw) => match fdw_row(fdw, email) {
            FdwLookup::Found(row) => Ok(Some(profile_from_row(&row, email)?)),
            FdwLookup::Missing => Ok(None),
            FdwLookup::Ambiguous => Err(StoreError::InvalidAnswer("several legacy rows have this email".into()).into()),
        },
    }
}

enum FdwLookup {
    Found(Box<storage::LegacyRow>),
    Missing,
    Ambiguous,
}

fn fdw_row(fdw: &FdwStore, email: &str) -> FdwLookup {
    let mut rows = privilege::as_reader(fdw.reader, || storage::legacy_rows(&fdw.lookup_sql, email));
    match rows.len() {
        0 => FdwLookup::Missing,
        1 => FdwLookup::Found(Box::new(rows.remove(0))),
        _ => FdwLookup::Ambiguous,
    }
}

/// A legacy row as a profile; the row's email must normalise to the one asked about.
fn profile_from_row(row: &storage::LegacyRow, requested: &str) -> Result<LegacyProfile, StoreError> {
    let invalid = |r: &str| StoreError::InvalidAnswer(format!("legacy row: {r}"));
    let email = row.email.as_deref().and_then(|e| normalize_email(e).ok()).ok_or_else(|| invalid("invalid email"))?;
    if email != requested {
        return Err(invalid("the email differs from the one requested"));
    }
    let object = |j: &storage::LegacyJson, what: &str| match j {
        Ok(None | Some(serde_json::Value::Null)) => Ok(serde_json::Map::new()),
        Ok(Some(serde_json::Value::Object(m))) => Ok(m.clone()),
        Ok(Some(_)) => Err(invalid(&format!("{what} is not a JSON object"))),
        Err(_) => {
            Err(invalid(&format!("{what} is JSON nested deeper than 128 levels or with a number beyond a double")))
        }
    };
    let [username, name, given_name, family_name, nickname, picture] = row.texts.clone();
    Ok(LegacyProfile {
        external_id: row.legacy_id.clone().filter(|id| !id.is_empty()).ok_or_else(|| invalid("no legacy id"))?,
        email,
        email_verified: row.email_verified,
        username,
        name,
        given_name,
        family_name,
        nickname,
        picture,
        user_metadata: object(&row.user_metadata, "user_metadata")?,
        app_metadata: object(&row.app_metadata, "app_metadata")?,
        // The row was read whole: NULL or empty metadata is what the legacy database holds.
        metadata_known: true,
        enabled: true,
    })
}

/// Reads the legacy row and verifies its hash in the database. A row whose hash is missing or
/// unverifiable is a rejection (recorded for the admin), never an error to the application. Every answer costs one
/// legacy hash verification, real or not, so the answer's timing does not tell whether the email is there.
fn fdw_login(fdw: &FdwStore, email: &str, password: &str) -> Result<LoginAnswer, AuthError> {
    let rejected = |reason: Rejection| {
        burn_legacy_verification(fdw, password);
        Ok(LoginAnswer::Rejected(reason))
    };
    let row = match fdw_row(fdw, email) {
        FdwLookup::Found(row) => row,
        FdwLookup::Missing => return rejected(Rejection::WrongCredentials),
        FdwLookup::Ambiguous => return rejected(Rejection::Ambiguous),
    };
    let Some(hash) = row.password_hash.as_deref().filter(|h| !h.trim().is_empty()) else {
        return rejected(Rejection::NoPassword);
    };
    let format = match &fdw.mapping.hash_format {
        HashFormat::Fixed(f) => f.as_str(),
        HashFormat::Column(_) => row.hash_format.as_deref().unwrap_or("auto"),
    };
    let Ok(params) = row.hash_params.clone().map(Option::unwrap_or_default) else {
        return rejected(Rejection::UnverifiableHash("bad_param"));
    };
    match verify_hash(password, hash, format, &params) {
        Ok(true) => Ok(LoginAnswer::Accepted(Box::new(profile_from_row(&row, email)?))),
        Ok(false) => Ok(LoginAnswer::Rejected(Rejection::WrongCredentials)),
        Err(err) => rejected(Rejection::UnverifiableHash(err.class())),
    }
}

/// The canonical format of one stored hash (parsed and bounded, not verified), or the class of what is wrong with
/// it; None when no row has a hash.
pub fn sample_hash_format(fdw: &FdwStore) -> Option<Result<&'static str, &'static str>> {
    let (hash, format, params) =
        privilege::as_reader(fdw.reader, || storage::legacy_hash_sample(&fdw.hash_sample_sql))?;
    let Ok(params) = params.map(Option::unwrap_or_default) else { return Some(Err("bad_param")) };
    let prepared =
        legacy_hash::prepare(&hash, format.as_deref().unwrap_or("auto"), &params, &crate::pg::settings::hash_budget());
    Some(prepared.map(|p| p.format).map_err(|err| err.class()))
}

/// Verifies `password` against one of the store's own hashes and ignores the result: what a failed login of a
/// legacy user costs, spent where there is no legacy user (an unknown email, a locked one, a local user's wrong
/// password in import mode). The sample is read once per backend and store (one row, as the reader); a relation
/// without hashes costs nothing, since no email in it can be told apart then.
pub fn burn_legacy_verification(fdw: &FdwStore, password: &str) {
    FDW_HASH_SAMPLE.with(|cell| {
        let mut cached = cell.borrow_mut();
        let current =
            cached.as_ref().is_some_and(|(sql, reader, _)| *sql == fdw.hash_sample_sql && *reader == fdw.reader);
        if !current {
            let sample = privilege::as_reader(fdw.reader, || storage::legacy_hash_sample(&fdw.hash_sample_sql));
            let sample = sample.map(|(hash, format, params)| HashSample {
                hash,
                format: format.unwrap_or_else(|| "auto".into()),
                params: params.ok().flatten().unwrap_or_default(),
            });
            *cached = Some((fdw.hash_sample_sql.clone(), fdw.reader, sample));
        }
        if let Some((_, _, Some(sample))) = cached.as_ref() {
            let _ = verify_hash(password, &sample.hash, &sample.format, &sample.params);
        }
    });
}
