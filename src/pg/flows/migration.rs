//! The legacy store's part in the flows: getUser look-ups, profile migration, tombstones, events and
//! statistics, and the admin functions that configure the store.

use crate::domain::email::normalize_email;
use crate::domain::error::AuthError;
use crate::domain::stats::StatEvent;
use crate::domain::store_stats::StoreEvent;
use crate::legacy_store::fdw::ColumnMapping;
use crate::legacy_store::http::Contract;
use crate::legacy_store::{routing, LegacyUser, Rejection, StoreError};
use crate::pg::legacy::{self, Store, Stores};
use crate::pg::sqlstate::Failure;
use crate::pg::storage;
use crate::pg::{privilege, rate_limit, server_log, settings, stats};
use pgrx::pg_sys::panic::CaughtError;
use pgrx::pg_sys::Oid;
use pgrx::{JsonB, PgSqlErrorCode, PgTryBuilder, Uuid};
use std::panic::AssertUnwindSafe;
use std::time::Instant;

/// Makes a legacy store call on an application's behalf: first within pg_trickle.legacy_calls_per_second (53400
/// beyond it, and the store is not asked), then counted for auth.stats — a miss with its latency, or a store
/// error. Shared memory keeps the count even when the error then aborts the caller's transaction. An FDW store
/// fails with an ERROR raised inside PostgreSQL (the legacy database is down, its table is gone), not with a
/// returned error: that is counted too and rethrown unchanged.
/// What a legacy store call is for, in auth.stats(): a login (a miss) or a getUser look-up.
#[derive(Clone, Copy)]
pub(super) enum StoreCall {
    Login,
    Lookup,
}

pub(super) fn call_store<T>(
    kind: StoreCall,
    store: &Store,
    started: Instant,
    call: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    if let Err(limited) = rate_limit::admit_legacy_call() {
        stats::record(StatEvent::RateLimited);
        return Err(limited.into());
    }
    let result = PgTryBuilder::new(AssertUnwindSafe(call))
        .catch_others(|caught| {
            if let CaughtError::PostgresError(report) = &caught {
                if raised_by_the_store(report.sql_error_code()) {
                    stats::record(StatEvent::StoreError);
                    stats::record_store(&store.name, StoreEvent::Error);
                }
            }
            caught.rethrow()
        })
        .execute();
    match &result {
        Ok(_) => {
            let latency_micros = started.elapsed().as_micros() as u64;
            let (total, of_store) = match kind {
                StoreCall::Login => (StatEvent::Miss { latency_micros }, StoreEvent::Login { latency_micros }),
                StoreCall::Lookup => (StatEvent::Lookup { latency_micros }, StoreEvent::Lookup { latency_micros }),
            };
            stats::record(total);
            stats::record_store(&store.name, of_store);
        }
        Err(_) => {
            stats::record(StatEvent::StoreError);
            stats::record_store(&store.name, StoreEvent::Error);
        }
    }
    result
}

/// A cancel or shutdown (class 57), exhausted resources (53) or a serialization failure (40) is the
/// session's, not the legacy store's.
fn raised_by_the_store(code: PgSqlErrorCode) -> bool {
    // ERRCODE_TO_CATEGORY: the class is the low 12 bits of the packed SQLSTATE.
    let class = |code: PgSqlErrorCode| code as isize & 0xFFF;
    ![
        PgSqlErrorCode::ERRCODE_OPERATOR_INTERVENTION,
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
        PgSqlErrorCode::ERRCODE_TRANSACTION_ROLLBACK,
    ]
    .into_iter()
    .any(|session| class(session) == class(code))
}

/// Whether a user the legacy store knows may be (re)created locally: not if an admin deleted them
/// and pg_trickle.remigrate_deleted_users is off. When they may, their tombstone goes.
pub(super) fn may_come_back(email: &str) -> bool {
    if !storage::is_tombstoned(email) {
        return true;
    }
    if settings::remigrate_deleted_users() {
        storage::clear_tombstone(email);
        return true;
    }
    false
}

/// Who an event is about: a legacy store, or a hash a bulk import brought.
pub(super) enum Asked<'a> {
    Store(&'a Store),
    Import,
}

/// Appends to auth.migration_events, unless the transaction cannot write (the login still answers).
pub(super) fn record_event(
    email: &str,
    flow: &str,
    asked: Asked,
    outcome: &str,
    latency_ms: Option<f64>,
    class: Option<&str>,
) {
    let (adapter, store) = match asked {
        Asked::Store(store) => (store.adapter(), Some(store.name.as_str())),
        Asked::Import => ("import", None),
    };
    if !storage::transaction_is_read_only() {
        storage::record_migration_event(&storage::MigrationEvent {
            email,
            flow,
            adapter,
            outcome,
            latency_ms,
            error_class: class,
            store,
        });
    }
}

/// A getUser answer, with what its event records.
struct LegacyLookup<'a> {
    /// The user and the store that knows them (the first one in order).
    found: Option<(LegacyUser, &'a Store)>,
    /// The last store asked (the one that knows the user, when one does).
    asked: &'a Store,
    latency_ms: f64,
}

/// getUser in import mode: asks the stores that serve the email, in order, until one knows it. None when no store is
/// connected for it.
fn legacy_lookup<'a>(stores: &'a Stores, email: &'a str) -> Result<Option<LegacyLookup<'a>>, Failure> {
    let started = Instant::now();
    let mut asked = None;
    for store in stores.serving(email) {
        asked = Some(store);
        if let Some(user) = call_store(StoreCall::Lookup, store, started, || legacy::get_user(store, email))? {
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            return Ok(Some(LegacyLookup { found: Some((user, store)), asked: store, latency_ms }));
        }
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(asked.map(|asked| LegacyLookup { found: None, asked, latency_ms }))
}

/// Asks the legacy store about an email and forgets the answer: the same round trip as a look-up that matters.
pub(super) fn ask_legacy_store(email: &str) -> Result<(), Failure> {
    legacy_lookup(&legacy::current_stores()?, email).map(drop)
}

/// Whether the legacy store holds this email (signup, email change), recorded as an event.
pub(super) fn exists_in_legacy_store(email: &str, flow: &str) -> Result<bool, Failure> {
    let stores = legacy::current_stores()?;
    let Some(lookup) = legacy_lookup(&stores, email)? else { return Ok(false) };
    let found = lookup.found.is_some();
    let outcome = if found { "exists_in_legacy_store" } else { "not_in_legacy_store" };
    record_event(email, flow, Asked::Store(lookup.asked), outcome, Some(lookup.latency_ms), None);
    Ok(found)
}

/// What inserting a legacy user gave.
pub(super) enum Inserted {
    /// `notes`: what the migration event adds (`most_recent_of_duplicates`, `username_taken`), comma-separated.
    New { user_id: Uuid, profile: JsonB, notes: Option<String> },
    /// A concurrent migration of the same email won.
    Existing { user_id: Uuid },
}

/// Inserts a legacy user (with `password_hash`, or profile only). When another local user already holds their
/// username — two applications' users in one database — they move over without it (a login by email finds them;
/// the admin sees `username_taken` in the event) instead of failing every login with 23505. Any other conflict (a
/// legacy id another user of the store holds) stays 23505.
pub(super) fn insert_migrated(
    user: &LegacyUser,
    store: &Store,
    password_hash: Option<&str>,
) -> Result<Inserted, Failure> {
    let mut notes: Vec<&str> = user.migration_note().into_iter().collect();
    let username_taken =
        || user.text("username").and_then(storage::email_by_username).is_some_and(|holder| holder != user.email);
    let attempt =
        |user: &LegacyUser, notes: &[&str]| match storage::insert_migrated_user(user, &store.name, password_hash) {
            Some((user_id, profile)) => {
                Some(Inserted::New { user_id, profile, notes: (!notes.is_empty()).then(|| notes.join(",")) })
            }
            None => storage::user_id_by_email(&user.email).map(|user_id| Inserted::Existing { user_id }),
        };
    if let Some(inserted) = attempt(user, &notes) {
        return Ok(inserted);
    }
    if username_taken() {
        notes.push("username_taken");
        if let Some(inserted) = attempt(&user.without("username"), &notes) {
            return Ok(inserted);
        }
    }
    Err(AuthError::LegacyProfileConflict.into())
}

/// Moves a legacy user's profile (no password) into `auth.users`; returns the local profile.
/// A user already local is left as is.
pub(super) fn migrate_profile(email: &str, flow: &str) -> Result<Option<JsonB>, Failure> {
    if let Some(profile) = storage::profile_by_email(email) {
        return Ok(Some(profile));
    }
    let stores = legacy::current_stores()?;
    let Some(lookup) = legacy_lookup(&stores, email)? else { return Ok(None) };
    // Not in a store either: no event, since anyone may ask about any email (a reset) and so write rows at will.
    let Some((legacy, store)) = lookup.found.as_ref() else { return Ok(None) };
    let latency = Some(lookup.latency_ms);
    let event = |outcome: &str, note| record_event(email, flow, Asked::Store(store), outcome, latency, note);
    if !legacy.enabled {
        event(Rejection::Disabled.outcome(), None);
        return Err(AuthError::DisabledInLegacyStore.into());
    }
    if storage::transaction_is_read_only() {
        return Err(AuthError::ReadOnlyMigration.into());
    }
    if !may_come_back(email) {
        event("tombstoned", None);
        return Ok(None);
    }
    match insert_migrated(legacy, store, None)? {
        Inserted::New { profile, notes, .. } => {
            event("profile_migrated", notes.as_deref());
            Ok(Some(profile))
        }
        Inserted::Existing { .. } => Ok(storage::profile_by_email(email)),
    }
}

/// Admin: migrate a legacy user's profile ahead of any login.
pub fn migrate(raw_email: &str) -> Result<JsonB, Failure> {
    let email = normalize_email(raw_email)?;
    if legacy::current_stores()?.serving(&email).next().is_none() && storage::user_id_by_email(&email).is_none() {
        return Err(AuthError::NoLegacyStore.into());
    }
    migrate_profile(&email, "admin_migrate")?.ok_or(AuthError::UserNotFound.into())
}

/// Admin: import mode on or off (the legacy store configuration is kept either way).
pub fn set_import_mode(enabled: bool) {
    storage::set_import_mode(enabled);
}

/// Admin: points import mode at a legacy users relation (table, view or foreign table) with a column
/// mapping, validated against the relation's columns and planned once; takes effect at commit. The relation
/// is read as `read_as` from then on (see `legacy_reader`).
pub fn configure_fdw_store(
    caller: Oid,
    placement: StorePlacement,
    relation: &str,
    mapping: JsonB,
    read_as: Option<&str>,
) -> Result<(), Failure> {
    let placement = placement.checked()?;
    let reader = legacy_reader(caller, read_as);
    let checked = validated_mapping(caller, reader, relation, &mapping)?;
    storage::save_fdw_store(
        &placement.name,
        placement.ask_order,
        placement.email_domains,
        checked.relation,
        mapping,
        reader,
    );
    server_log::log(&format!(
        "pg_trickle: {} configured the FDW legacy store {}: relation {}, read as {}",
        storage::role_name(caller),
        placement.name,
        checked.relation_name,
        storage::role_name(reader)
    ));
    offer_check();
    Ok(())
}

/// Where a store goes among the others: its name, its place in the order (None: after the others, or where it
/// was) and the email domains it serves (None: every email).
pub struct StorePlacement {
    pub name: String,
    pub ask_order: Option<i32>,
    pub email_domains: Option<Vec<String>>,
}

impl StorePlacement {
    fn checked(self) -> Result<Self, Failure> {
        routing::check_store_name(&self.name)?;
        if self.ask_order.is_some_and(|p| p < 1) {
            return Err(AuthError::InvalidSetting("ask_order must be at least 1".into()).into());
        }
        let email_domains = self.email_domains.as_deref().map(routing::normalize_domains).transpose()?;
        Ok(StorePlacement { email_domains, ..self })
    }
}

/// Says how to check a store just configured: a wrong address or secret otherwise shows only as failed logins.
fn offer_check() {
    pgrx::notice!(
        "pg_trickle: SELECT * FROM auth.check_store() checks the legacy store (add a known email to see a profile)"
    );
}

/// The role a legacy relation is read as: the one named, else the caller — or, for a superuser caller,
/// trickle_admin, since a superuser is never a reader.
pub(super) fn legacy_reader(caller: Oid, read_as: Option<&str>) -> Oid {
    match read_as {
        Some(role) => storage::role_oid(role),
        None if privilege::is_superuser(caller) => storage::role_oid("trickle_admin"),
        None => caller,
    }
}

/// A legacy relation checked for use: its oid, printed name and how to read it.
pub(super) struct CheckedRelation {
    pub relation: Oid,
    pub relation_name: String,
    pub mapping: ColumnMapping,
}

/// Checks that `relation` may be read as `reader` for `caller` (see `storage::relation_facts`), then the mapping
/// against its columns, and plans its look-up once as the reader (a cast that cannot work is PostgreSQL's own
/// error).
pub(super) fn validated_mapping(
    caller: Oid,
    reader: Oid,
    relation: &str,
    mapping: &JsonB,
) -> Result<CheckedRelation, Failure> {
    let parsed = ColumnMapping::from_json(&mapping.0)?;
    let (oid, relation_name) = storage::resolve_relation(relation);
    let facts = storage::relation_facts(oid, caller, reader);
    let refusal = if facts.temporary {
        Some(AuthError::LegacyRelationUnfit("it is a temporary relation"))
    } else if facts.system {
        Some(AuthError::LegacyRelationUnfit("it is a system catalog"))
    } else if facts.pg_trickle_own {
        Some(AuthError::LegacyRelationUnfit("it belongs to pg_trickle"))
    } else if !facts.caller_may_select {
        Some(AuthError::LegacyRelationRefused("the calling role may not SELECT it"))
    } else if facts.reader_is_superuser {
        Some(AuthError::LegacyRelationRefused("its reader role is a superuser"))
    } else if !facts.caller_may_act_as_reader {
        Some(AuthError::LegacyRelationRefused("the calling role is not a member of the reader role"))
    } else if !facts.reader_may_select {
        Some(AuthError::LegacyRelationRefused("the reader role may not SELECT it"))
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return Err(refusal.into());
    }
    let columns = storage::relation_columns(oid);
    for (column, must_be_json) in parsed.columns() {
        match columns.iter().find(|(name, _)| name == column) {
            None => return Err(AuthError::MappingColumnMissing(column.to_string()).into()),
            Some((_, is_json)) if must_be_json && !is_json => {
                return Err(AuthError::MappingColumnNotJson(column.to_string()).into())
            }
            Some(_) => {}
        }
    }
    let lookup = parsed.lookup_sql(&relation_name);
    privilege::as_reader(reader, || storage::check_legacy_lookup(&lookup));
    Ok(CheckedRelation { relation: oid, relation_name, mapping: parsed })
}

/// Admin: validates and stores the HTTP legacy store; takes effect when the transaction commits.
pub fn configure_http_store(placement: StorePlacement, mut row: storage::StoreRow) -> Result<(), Failure> {
    let placement = placement.checked()?;
    let config = legacy::http_config_from_row(&row)?;
    (row.name, row.ask_order, row.email_domains) = (placement.name, placement.ask_order, placement.email_domains);
    if storage::sql_objects_know_stores() {
        storage::save_http_store(&row);
    } else if matches!(config.contract, Contract::Provider(_)) {
        // The SQL objects of 0.3.0 have nowhere to keep a provider's settings.
        Err(StoreError::InvalidConfig(
            "an identity provider needs the SQL objects of 0.4.0: run ALTER EXTENSION \
                                       pg_trickle UPDATE"
                .into(),
        ))?;
    } else {
        // SQL objects of 0.3.0 and before, not yet updated: their one store.
        storage::save_http_store_before_0_4(&row);
    }
    // Where future first-login passwords go is worth a line in the server log, for superusers to see.
    server_log::log(&format!(
        "pg_trickle: {} configured the HTTP legacy store {}: {}{}",
        storage::role_name(crate::pg::privilege::current_role()),
        row.name,
        row.http_base_url.as_deref().unwrap_or_default(),
        if row.http_allow_insecure { " (plain http allowed explicitly)" } else { "" }
    ));
    offer_check();
    Ok(())
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::{call_store, raised_by_the_store, StoreCall};
    use pgrx::prelude::*;
    use std::time::Instant;

    #[pg_test]
    fn only_the_store_s_errors_count_as_store_errors() {
        assert!(raised_by_the_store(PgSqlErrorCode::ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION));
        assert!(raised_by_the_store(PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE));
        assert!(raised_by_the_store(PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE), "the legacy table is gone");
        assert!(!raised_by_the_store(PgSqlErrorCode::ERRCODE_QUERY_CANCELED));
        assert!(!raised_by_the_store(PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN));
        assert!(!raised_by_the_store(PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE));
        assert!(!raised_by_the_store(PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY));
    }

    #[pg_test(error = "division by zero")]
    fn an_error_raised_during_the_store_call_reaches_the_caller_unchanged() {
        Spi::run("SELECT auth.configure_http_store('http://127.0.0.1:9')").unwrap();
        let stores = crate::pg::legacy::configured_stores().unwrap();
        let store = &stores.all()[0];
        let _ = call_store(StoreCall::Login, store, Instant::now(), || Ok(Spi::get_one::<i32>("SELECT 1 / 0")));
    }
}
