//! The account flows: domain decisions (`crate::domain`) joined to table access (`storage`) and to
//! the legacy store (`legacy`). Each function takes already-non-NULL arguments and returns typed
//! errors; `auth_api` maps them to SQL.

use crate::domain::email::normalize_email;
use crate::domain::error::AuthError;
use crate::domain::legacy_hash;
use crate::domain::login::{self, LoginStatus, LoginStep, StoredCredentials};
use crate::domain::password::{argon2id, check_length_limit, check_new_password};
use crate::domain::reset_token;
use crate::domain::stats::StatEvent;
use crate::legacy_store::auth0;
use crate::legacy_store::fdw::{self, ColumnMapping};
use crate::legacy_store::{LegacyProfile, LoginAnswer, Rejection};
use crate::pg::legacy::{self, LegacyStore};
use crate::pg::storage::{self, Credentials};
use crate::pg::{settings, stats};
use pgrx::{JsonB, Uuid};
use std::time::Instant;

pub struct LoginResult {
    pub status: LoginStatus,
    pub user_id: Option<Uuid>,
    pub email: Option<String>,
    pub profile: Option<JsonB>,
}

impl LoginResult {
    fn refused(status: LoginStatus) -> Self {
        LoginResult { status, user_id: None, email: None, profile: None }
    }

    fn granted(status: LoginStatus, user_id: Uuid, email: String, profile: JsonB) -> Self {
        LoginResult { status, user_id: Some(user_id), email: Some(email), profile: Some(profile) }
    }
}

/// The outcome of checking a password.
enum Verdict {
    Authenticated {
        user_id: Uuid,
        upgraded_hash: Option<String>,
    },
    /// The legacy store accepted the password and the user now has a local argon2id hash.
    Migrated {
        user_id: Uuid,
        profile: JsonB,
    },
    /// A concurrent login migrated the same user first; the store accepted this password too.
    MigratedConcurrently {
        user_id: Uuid,
    },
    Refused(LoginStatus),
}

/// Verifies `password` for `email` (already normalised): locally, or — for a user the local store
/// has no password for, in import mode — by asking the legacy store and migrating on success.
/// Wrong credentials are a result, not an error, so the failure count survives the caller's transaction.
fn verify_credentials(email: &str, password: &str) -> Result<Verdict, AuthError> {
    check_length_limit(password)?;
    let params = settings::argon2_params();
    let stored = storage::find_credentials(email);
    let facts = stored.as_ref().map(|c| StoredCredentials {
        password_hash: c.password_hash.as_deref(),
        password_format: c.password_format.as_deref(),
        locked: c.locked,
    });
    let verified = match login::plan(facts.as_ref()) {
        LoginStep::RefuseLocked => return Ok(Verdict::Refused(LoginStatus::Locked)),
        LoginStep::NoLocalPassword => match legacy::current_store()? {
            LegacyStore::Off => dummy_verify(password, params),
            store => return migrate_on_login(&store, email, password, stored.as_ref()),
        },
        LoginStep::DummyVerify => dummy_verify(password, params),
        LoginStep::VerifyArgon2id(phc) => argon2id::verify_password(password, phc).unwrap_or_else(|_| {
            let user_id = stored.as_ref().map(|c| c.user_id.to_string()).unwrap_or_default();
            pgrx::log!("pg_trickle: user {user_id} has an unreadable argon2 hash; treated as a failed login");
            false
        }),
        LoginStep::VerifyLegacy { hash, format } => {
            let hash_params = stored.as_ref().and_then(|c| c.password_params.as_ref()).map(|p| p.0.clone());
            match legacy_hash::verify(password, hash, format, &hash_params.unwrap_or(serde_json::Value::Null)) {
                Ok(verified) => verified,
                Err(err) => {
                    record_event(
                        email,
                        "login",
                        "import",
                        Rejection::UnverifiableHash(err.class()).outcome(),
                        None,
                        Some(err.class()),
                    );
                    false
                }
            }
        }
    };
    let Some(user) = stored.as_ref() else {
        return Ok(Verdict::Refused(LoginStatus::InvalidCredentials));
    };
    if verified {
        // An imported legacy hash (any format but argon2id) is replaced on its first successful login.
        let upgraded_hash = match facts.as_ref().and_then(|f| f.password_hash) {
            Some(phc) if argon2id::needs_rehash(phc, params) => Some(argon2id::hash_password(password, params)),
            _ => None,
        };
        return Ok(Verdict::Authenticated { user_id: user.user_id, upgraded_hash });
    }
    record_failure(user.user_id);
    Ok(Verdict::Refused(LoginStatus::InvalidCredentials))
}

/// Same cost as a real verification, so an unknown email takes as long as a wrong password.
fn dummy_verify(password: &str, params: argon2id::Argon2Params) -> bool {
    let _ = argon2id::verify_password(password, &argon2id::dummy_hash(params));
    false
}

fn record_failure(user_id: Uuid) {
    if storage::transaction_is_read_only() {
        return;
    }
    let failures = storage::record_login_failure(user_id);
    if settings::lockout_policy().locks_at(failures) {
        storage::lock_user(user_id, settings::lockout_duration_secs());
    }
}

/// The trickle migration: the legacy store checks the password; on success the user gets an argon2id
/// hash of it, inside the caller's transaction. No lock is held while the store is asked.
fn migrate_on_login(
    store: &LegacyStore,
    email: &str,
    password: &str,
    existing: Option<&Credentials>,
) -> Result<Verdict, AuthError> {
    let started = Instant::now();
    let answer = counted(legacy::login(store, email, password), started)?;
    let latency = Some(started.elapsed().as_secs_f64() * 1000.0);
    let event =
        |outcome: &str, class: Option<&str>| record_event(email, "login", store.adapter(), outcome, latency, class);
    let profile = match answer {
        LoginAnswer::Accepted(profile) if profile.enabled => profile,
        LoginAnswer::Accepted(_) => {
            event(Rejection::Disabled.outcome(), None);
            return Ok(Verdict::Refused(LoginStatus::InvalidCredentials));
        }
        LoginAnswer::Rejected(reason) => {
            let class = match &reason {
                Rejection::UnverifiableHash(class) => Some(*class),
                _ => None,
            };
            event(reason.outcome(), class);
            if let Some(user) = existing {
                record_failure(user.user_id);
            }
            return Ok(Verdict::Refused(LoginStatus::InvalidCredentials));
        }
    };
    if storage::transaction_is_read_only() {
        return Err(AuthError::ReadOnlyMigration);
    }
    if existing.is_none() && !may_come_back(email) {
        event("tombstoned", None);
        return Ok(Verdict::Refused(LoginStatus::InvalidCredentials));
    }
    let hash = argon2id::hash_password(password, settings::argon2_params());
    let verdict = if let Some(user) = existing {
        // The profile moved earlier (admin migrate, password reset); now the password follows.
        let profile = storage::record_login_success(user.user_id, Some(&hash));
        Verdict::Migrated { user_id: user.user_id, profile }
    } else {
        match storage::insert_migrated_user(&profile, Some(&hash)) {
            Some((user_id, profile)) => Verdict::Migrated { user_id, profile },
            None => match storage::find_credentials(email) {
                Some(winner) => Verdict::MigratedConcurrently { user_id: winner.user_id },
                None => Err(AuthError::LegacyProfileConflict)?,
            },
        }
    };
    if matches!(verdict, Verdict::Migrated { .. }) {
        event("migrated", None);
    }
    Ok(verdict)
}

/// Counts a legacy store call for auth.stats: a miss with its latency, or a store error. Shared memory
/// keeps the count even when the error then aborts the caller's transaction.
fn counted<T>(result: Result<T, AuthError>, started: Instant) -> Result<T, AuthError> {
    match &result {
        Ok(_) => stats::record(StatEvent::Miss { latency_micros: started.elapsed().as_micros() as u64 }),
        Err(_) => stats::record(StatEvent::StoreError),
    }
    result
}

/// Whether a user the legacy store knows may be (re)created locally: not if an admin deleted them
/// and pg_trickle.remigrate_deleted_users is off. When they may, their tombstone goes.
fn may_come_back(email: &str) -> bool {
    if !storage::is_tombstoned(email) {
        return true;
    }
    if settings::remigrate_deleted_users() {
        storage::clear_tombstone(email);
        return true;
    }
    false
}

/// Appends to auth.migration_events, unless the transaction cannot write (the login still answers).
fn record_event(email: &str, flow: &str, adapter: &str, outcome: &str, latency_ms: Option<f64>, class: Option<&str>) {
    if !storage::transaction_is_read_only() {
        storage::record_migration_event(&storage::MigrationEvent {
            email,
            flow,
            adapter,
            outcome,
            latency_ms,
            error_class: class,
        });
    }
}

pub fn login(raw_email: &str, password: &str) -> Result<LoginResult, AuthError> {
    let email = normalize_email(raw_email)?;
    let (status, user_id, profile) = match verify_credentials(&email, password)? {
        Verdict::Refused(status) => {
            stats::record(match status {
                LoginStatus::Locked => StatEvent::Locked,
                _ => StatEvent::InvalidCredentials,
            });
            return Ok(LoginResult::refused(status));
        }
        Verdict::Migrated { user_id, profile } => {
            stats::record(StatEvent::Migration);
            (LoginStatus::Migrated, user_id, profile)
        }
        Verdict::Authenticated { user_id, upgraded_hash } => {
            (LoginStatus::Authenticated, user_id, login_bookkeeping(&email, user_id, upgraded_hash.as_deref()))
        }
        Verdict::MigratedConcurrently { user_id } => {
            (LoginStatus::Authenticated, user_id, login_bookkeeping(&email, user_id, None))
        }
    };
    if status == LoginStatus::Authenticated {
        stats::record(StatEvent::Hit);
    }
    Ok(LoginResult::granted(status, user_id, email, profile))
}

/// Records a successful local login and returns the profile. On a standby or in a read-only
/// transaction the login still succeeds; the bookkeeping waits for the next writable login.
fn login_bookkeeping(email: &str, user_id: Uuid, upgraded_hash: Option<&str>) -> JsonB {
    if storage::transaction_is_read_only() {
        storage::profile_by_email(email).expect("the user was just found")
    } else {
        storage::record_login_success(user_id, upgraded_hash)
    }
}

fn require_object(value: &JsonB, what: &'static str) -> Result<(), AuthError> {
    if value.0.is_object() {
        Ok(())
    } else {
        Err(AuthError::NotAnObject(what))
    }
}

fn new_password_hash(password: &str) -> Result<String, AuthError> {
    check_new_password(password, settings::password_min_length())?;
    Ok(argon2id::hash_password(password, settings::argon2_params()))
}

/// A getUser answer, with what its event records.
struct LegacyLookup {
    profile: Option<LegacyProfile>,
    adapter: &'static str,
    latency_ms: f64,
}

/// getUser in import mode: the legacy store's profile for an email that is not local. None when no
/// store is connected.
fn legacy_lookup(email: &str) -> Result<Option<LegacyLookup>, AuthError> {
    let store = legacy::current_store()?;
    if matches!(store, LegacyStore::Off) {
        return Ok(None);
    }
    let started = Instant::now();
    let profile = counted(legacy::get_user(&store, email), started)?;
    Ok(Some(LegacyLookup { profile, adapter: store.adapter(), latency_ms: started.elapsed().as_secs_f64() * 1000.0 }))
}

/// Whether the legacy store holds this email (signup, email change), recorded as an event.
fn exists_in_legacy_store(email: &str, flow: &str) -> Result<bool, AuthError> {
    let Some(lookup) = legacy_lookup(email)? else { return Ok(false) };
    let found = lookup.profile.is_some();
    let outcome = if found { "exists_in_legacy_store" } else { "not_in_legacy_store" };
    record_event(email, flow, lookup.adapter, outcome, Some(lookup.latency_ms), None);
    Ok(found)
}

pub fn signup(raw_email: &str, password: &str, user_metadata: JsonB) -> Result<Uuid, AuthError> {
    let email = normalize_email(raw_email)?;
    require_object(&user_metadata, "user_metadata")?;
    check_new_password(password, settings::password_min_length())?;
    // Cheap checks first, so a duplicate costs no hashing.
    if storage::user_id_by_email(&email).is_some() {
        return Err(AuthError::Duplicate("email"));
    }
    if exists_in_legacy_store(&email, "signup")? {
        return Err(AuthError::ExistsInLegacyStore);
    }
    let hash = new_password_hash(password)?;
    storage::insert_native_user(&email, &hash, user_metadata).ok_or(AuthError::Duplicate("email"))
}

/// false: wrong old password, unknown user or locked account (counted like a failed login).
pub fn change_password(raw_email: &str, old_password: &str, new_password: &str) -> Result<bool, AuthError> {
    let email = normalize_email(raw_email)?;
    check_new_password(new_password, settings::password_min_length())?;
    let user_id = match verify_credentials(&email, old_password)? {
        Verdict::Refused(_) => return Ok(false),
        Verdict::Authenticated { user_id, .. }
        | Verdict::Migrated { user_id, .. }
        | Verdict::MigratedConcurrently { user_id } => user_id,
    };
    storage::set_password_hash(user_id, &new_password_hash(new_password)?);
    Ok(true)
}

fn existing_user(email: &str) -> Result<Uuid, AuthError> {
    storage::user_id_by_email(email).ok_or(AuthError::UserNotFound)
}

pub fn set_password(raw_email: &str, new_password: &str) -> Result<(), AuthError> {
    let user_id = existing_user(&normalize_email(raw_email)?)?;
    storage::set_password_hash(user_id, &new_password_hash(new_password)?);
    Ok(())
}

/// Moves a legacy user's profile (no password) into `auth.users`; returns the local profile.
/// A user already local is left as is.
fn migrate_profile(email: &str, flow: &str) -> Result<Option<JsonB>, AuthError> {
    if let Some(profile) = storage::profile_by_email(email) {
        return Ok(Some(profile));
    }
    let Some(lookup) = legacy_lookup(email)? else { return Ok(None) };
    let event = |outcome: &str| record_event(email, flow, lookup.adapter, outcome, Some(lookup.latency_ms), None);
    let Some(legacy) = lookup.profile.as_ref() else {
        event("not_in_legacy_store");
        return Ok(None);
    };
    if !legacy.enabled {
        event(Rejection::Disabled.outcome());
        return Err(AuthError::DisabledInLegacyStore);
    }
    if storage::transaction_is_read_only() {
        return Err(AuthError::ReadOnlyMigration);
    }
    if !may_come_back(email) {
        event("tombstoned");
        return Ok(None);
    }
    match storage::insert_migrated_user(legacy, None) {
        Some((_, profile)) => {
            event("profile_migrated");
            Ok(Some(profile))
        }
        None => storage::profile_by_email(email).map(Some).ok_or(AuthError::LegacyProfileConflict),
    }
}

/// Returns a token whether or not the email has an account, so the outcome reveals nothing;
/// only a token issued for a real account is stored and can be redeemed. In import mode a legacy
/// user's profile moves over first, so someone who forgot the legacy password can still move.
pub fn create_password_reset(raw_email: &str) -> Result<String, AuthError> {
    let email = normalize_email(raw_email)?;
    match migrate_profile(&email, "reset") {
        Ok(_) | Err(AuthError::DisabledInLegacyStore) => {}
        Err(other) => return Err(other),
    }
    let issued = reset_token::issue();
    storage::create_reset_token(&email, issued.digest, settings::reset_token_ttl_secs());
    Ok(issued.token)
}

/// Admin: migrate a legacy user's profile ahead of any login.
pub fn migrate(raw_email: &str) -> Result<JsonB, AuthError> {
    let email = normalize_email(raw_email)?;
    if matches!(legacy::current_store()?, LegacyStore::Off) && storage::user_id_by_email(&email).is_none() {
        return Err(AuthError::NoLegacyStore);
    }
    migrate_profile(&email, "admin_migrate")?.ok_or(AuthError::UserNotFound)
}

pub fn reset_password(token: &str, new_password: &str) -> Result<(), AuthError> {
    // Policy first: a rejected new password must not burn the token.
    let hash = new_password_hash(new_password)?;
    let user_id = storage::consume_reset_token(reset_token::digest(token)).ok_or(AuthError::InvalidResetToken)?;
    storage::set_password_hash(user_id, &hash);
    Ok(())
}

pub fn get_user(raw_email: &str) -> Result<Option<JsonB>, AuthError> {
    Ok(storage::profile_by_email(&normalize_email(raw_email)?))
}

pub fn update_user_metadata(raw_email: &str, patch: JsonB) -> Result<JsonB, AuthError> {
    require_object(&patch, "user_metadata")?;
    storage::merge_user_metadata(&normalize_email(raw_email)?, patch).ok_or(AuthError::UserNotFound)
}

pub fn update_app_metadata(raw_email: &str, patch: JsonB) -> Result<JsonB, AuthError> {
    require_object(&patch, "app_metadata")?;
    storage::merge_app_metadata(&normalize_email(raw_email)?, patch).ok_or(AuthError::UserNotFound)
}

/// The new email must be free locally and, in import mode, in the legacy store.
pub fn change_email(raw_email: &str, raw_new_email: &str) -> Result<(), AuthError> {
    let email = normalize_email(raw_email)?;
    let new_email = normalize_email(raw_new_email)?;
    if new_email == email {
        // Same address in another spelling: nothing to change, and it stays verified.
        return existing_user(&email).map(drop);
    }
    if storage::user_id_by_email(&new_email).is_some() {
        return Err(AuthError::Duplicate("email"));
    }
    existing_user(&email)?;
    if exists_in_legacy_store(&new_email, "email_change")? {
        return Err(AuthError::ExistsInLegacyStore);
    }
    storage::change_email(&email, &new_email).map(drop).ok_or(AuthError::UserNotFound)
}

pub fn set_email_verified(raw_email: &str, verified: bool) -> Result<(), AuthError> {
    storage::set_email_verified(&normalize_email(raw_email)?, verified).map(drop).ok_or(AuthError::UserNotFound)
}

pub fn delete_user(raw_email: &str) -> Result<bool, AuthError> {
    Ok(storage::delete_user(&normalize_email(raw_email)?).is_some())
}

pub fn unlock_user(raw_email: &str) -> Result<(), AuthError> {
    storage::unlock_user(&normalize_email(raw_email)?).map(drop).ok_or(AuthError::UserNotFound)
}

/// Admin: import mode on or off (the legacy store configuration is kept either way).
pub fn set_import_mode(enabled: bool) {
    storage::set_import_mode(enabled);
}

/// Admin: points import mode at a legacy users relation (table, view or foreign table) with a column
/// mapping, validated against the relation's columns and planned once; takes effect at commit.
pub fn configure_fdw_store(relation: &str, mapping: JsonB) -> Result<(), AuthError> {
    let (oid, _) = validated_mapping(relation, &mapping)?;
    storage::save_fdw_store(oid, mapping);
    Ok(())
}

/// Checks a mapping against the relation's columns and plans its look-up once (a cast that cannot
/// work is PostgreSQL's own error); returns the relation's oid and the scan for a bulk import.
fn validated_mapping(relation: &str, mapping: &JsonB) -> Result<(pgrx::pg_sys::Oid, String), AuthError> {
    let parsed = ColumnMapping::from_json(&mapping.0)?;
    let (oid, relation_name) = storage::resolve_relation(relation);
    let columns = storage::relation_columns(oid);
    for (column, must_be_json) in parsed.columns() {
        match columns.iter().find(|(name, _)| name == column) {
            None => return Err(AuthError::MappingColumnMissing(column.to_string())),
            Some((_, is_json)) if must_be_json && !is_json => {
                return Err(AuthError::MappingColumnNotJson(column.to_string()))
            }
            Some(_) => {}
        }
    }
    storage::check_legacy_lookup(&parsed.lookup_sql(&relation_name));
    Ok((oid, parsed.scan_sql(&relation_name)))
}

pub struct ImportReport {
    pub inserted: i64,
    pub updated: i64,
    pub skipped: i64,
    pub rejected: i64,
    pub rejections: JsonB,
}

/// Admin: hash-preserving bulk import from a relation with a mapping, or (both NULL) from the
/// configured FDW store. Idempotent; see sql/queries/import_batch.sql for what is never overwritten.
pub fn import_users(
    source: Option<&str>,
    mapping: Option<JsonB>,
    all_or_nothing: bool,
    progress_every: i32,
) -> Result<ImportReport, AuthError> {
    let scan = match (source, mapping) {
        (Some(relation), Some(mapping)) => validated_mapping(relation, &mapping)?.1,
        (None, None) => match storage::load_import_config() {
            Some(row) if row.store_kind == "fdw" => {
                let store = legacy::fdw_store_from_row(&row)?;
                store.mapping.scan_sql(row.fdw_relation.as_deref().unwrap_or_default())
            }
            _ => return Err(AuthError::NoImportSource),
        },
        _ => return Err(AuthError::NoImportSource),
    };
    run_import(&fdw::staging_sql(&scan), None, all_or_nothing, progress_every)
}

/// Admin: bulk import of a JSON array in Auth0's bulk-import user schema.
pub fn import_users_json(users: JsonB, all_or_nothing: bool, progress_every: i32) -> Result<ImportReport, AuthError> {
    let serde_json::Value::Array(list) = &users.0 else { return Err(AuthError::NotAnArray("users")) };
    let rows = serde_json::Value::Array(list.iter().map(auth0::import_row).collect());
    let columns: Vec<String> = fdw::ROW_COLUMNS
        .iter()
        .map(|c| format!("{c} {}", fdw::row_column_type(c)))
        .chain(std::iter::once("preset_reason text".to_string()))
        .collect();
    let scan = format!("SELECT * FROM pg_catalog.jsonb_to_recordset($2) AS r({})", columns.join(", "));
    run_import(&fdw::staging_sql(&scan), Some(JsonB(rows)), all_or_nothing, progress_every)
}

fn run_import(
    staging_sql: &str,
    rows: Option<JsonB>,
    all_or_nothing: bool,
    progress_every: i32,
) -> Result<ImportReport, AuthError> {
    if progress_every < 1 {
        return Err(AuthError::InvalidSetting("progress_every must be at least 1".into()));
    }
    let formats =
        legacy_hash::FORMATS.iter().map(|f| f.name.to_string()).chain(std::iter::once("auto".into())).collect();
    storage::stage_import(staging_sql, formats, rows);
    let (total, importable, rejections) = storage::import_summary();
    let rejected = total - importable;
    if all_or_nothing && rejected > 0 {
        return Err(AuthError::ImportRejected { rejected, first: first_rejection(&rejections) });
    }
    let (mut inserted, mut updated) = (0, 0);
    let step = i64::from(progress_every);
    let mut after = 0;
    while after < total {
        let through = (after + step).min(total);
        let (i, u) = storage::import_batch(after, through);
        inserted += i;
        updated += u;
        pgrx::notice!("pg_trickle import: {through} of {total} rows done ({inserted} inserted, {updated} updated)");
        after = through;
    }
    Ok(ImportReport { inserted, updated, skipped: importable - inserted - updated, rejected, rejections })
}

fn first_rejection(rejections: &JsonB) -> String {
    rejections
        .0
        .get(0)
        .map(|r| format!("row {}: {}", r["row"], r["reason"].as_str().unwrap_or("?")))
        .unwrap_or_default()
}

/// Admin: validates and stores the HTTP legacy store; takes effect when the transaction commits.
pub fn configure_http_store(row: storage::ImportConfigRow) -> Result<(), AuthError> {
    legacy::http_config_from_row(&row)?;
    storage::save_http_store(&row);
    Ok(())
}

/// Admin: removes every trace of an email — user, tokens, lockout state, events, tombstone. Returns
/// how many rows went.
pub fn forget_user(raw_email: &str) -> Result<i64, AuthError> {
    Ok(storage::forget_user(&normalize_email(raw_email)?))
}

pub struct Progress {
    pub local: storage::LocalProgress,
    pub legacy_total: Option<i64>,
    pub legacy_remaining: Option<i64>,
}

impl Progress {
    pub fn percent_migrated(&self) -> Option<f64> {
        match (self.legacy_total, self.legacy_remaining) {
            (Some(total), Some(remaining)) if total > 0 => Some(100.0 * (total - remaining) as f64 / total as f64),
            _ => None,
        }
    }
}

/// Admin: how far the migration is. The legacy side counts where the store can: an FDW relation exactly
/// (an anti-join on the normalised email); an HTTP store through its optional count, minus the users
/// that came from it.
pub fn migration_progress() -> Result<Progress, AuthError> {
    let local = storage::local_progress();
    let store = legacy::configured_store(false)?;
    let legacy_total = legacy::count_users(&store)?;
    let legacy_remaining = match &store {
        LegacyStore::Fdw(fdw) => {
            Some(storage::legacy_count(&fdw::unmigrated_sql(&fdw.mapping.scan_sql(&fdw.relation), true)))
        }
        _ => legacy_total.map(|t| (t - local.migrated - local.imported_pending - local.imported_logged_in).max(0)),
    };
    Ok(Progress { local, legacy_total, legacy_remaining })
}

/// Admin (FDW stores): legacy users with no local user yet, `limit` at most.
pub fn unmigrated_users(limit: i64) -> Result<Vec<storage::UnmigratedUser>, AuthError> {
    match legacy::configured_store(false)? {
        LegacyStore::Fdw(fdw) => {
            Ok(storage::unmigrated(&fdw::unmigrated_sql(&fdw.mapping.scan_sql(&fdw.relation), false), limit.max(0)))
        }
        _ => Err(AuthError::NotAnFdwStore),
    }
}

/// Admin: whether disconnecting the legacy store cuts anyone off: (safe, remaining, a sample of them).
pub fn disconnect_check() -> Result<(Option<bool>, Option<i64>, JsonB), AuthError> {
    let progress = migration_progress()?;
    let sample = match legacy::configured_store(false)? {
        LegacyStore::Fdw(_) => unmigrated_users(10)?.into_iter().filter_map(|(_, email)| email).collect(),
        _ => Vec::new(),
    };
    let safe = progress.legacy_remaining.map(|r| r == 0);
    Ok((safe, progress.legacy_remaining, JsonB(serde_json::json!(sample))))
}

/// Admin: the legacy store goes quiet while import mode stays as it is: migrated and native users log
/// in as before, unmigrated users get invalid_credentials, signup stops consulting the store.
/// Transactional; `reconnect_external_store` restores the configuration.
pub fn disconnect_external_store() -> Result<String, AuthError> {
    storage::disconnect_store().ok_or(AuthError::NoLegacyStore)
}

pub fn reconnect_external_store() -> Result<String, AuthError> {
    storage::reconnect_store().ok_or(AuthError::NothingDisconnected)
}

/// What `backfill_metadata` did.
pub struct BackfillReport {
    pub checked: i64,
    pub repaired: i64,
    pub still_missing: i64,
    pub not_in_store: i64,
}

/// What the legacy store gave back for one user.
enum Refill {
    /// The store no longer knows the email.
    NotInStore,
    /// The local profile after the merge, and whether the store had any metadata to give.
    Merged { profile: JsonB, store_had_metadata: bool },
}

/// Re-reads one migrated user's profile from the legacy store (getUser) and merges its metadata under
/// what the application has written since.
fn refill(store: &LegacyStore, email: &str) -> Result<Refill, AuthError> {
    let Some(legacy) = legacy::get_user(store, email)? else { return Ok(Refill::NotInStore) };
    let store_had_metadata = !legacy.user_metadata.is_empty() || !legacy.app_metadata.is_empty();
    let object = |m: &serde_json::Map<String, serde_json::Value>| JsonB(serde_json::Value::Object(m.clone()));
    match storage::backfill_metadata(email, object(&legacy.user_metadata), object(&legacy.app_metadata)) {
        Some(profile) => Ok(Refill::Merged { profile, store_had_metadata }),
        None => Err(AuthError::UserNotFound),
    }
}

/// Admin: repairs up to `batch_size` migrated users flagged for missing metadata. Local keys win.
pub fn backfill_metadata(batch_size: i64) -> Result<BackfillReport, AuthError> {
    let store = legacy::configured_store(false)?;
    if matches!(store, LegacyStore::Off) {
        return Err(AuthError::NoLegacyStore);
    }
    let mut report = BackfillReport { checked: 0, repaired: 0, still_missing: 0, not_in_store: 0 };
    for email in storage::incomplete_metadata(batch_size.max(0)) {
        report.checked += 1;
        match refill(&store, &email)? {
            Refill::NotInStore => report.not_in_store += 1,
            Refill::Merged { store_had_metadata: false, .. } => report.still_missing += 1,
            Refill::Merged { store_had_metadata: true, .. } => report.repaired += 1,
        }
    }
    Ok(report)
}

/// Admin: re-reads one user's metadata from the legacy store, flagged or not; returns the profile.
pub fn repair_user(raw_email: &str) -> Result<JsonB, AuthError> {
    let email = normalize_email(raw_email)?;
    existing_user(&email)?;
    let store = legacy::configured_store(false)?;
    if matches!(store, LegacyStore::Off) {
        return Err(AuthError::NoLegacyStore);
    }
    match refill(&store, &email)? {
        Refill::Merged { profile, .. } => Ok(profile),
        Refill::NotInStore => Err(AuthError::UserNotFound),
    }
}
