//! Finishing a migration: progress, the unmigrated tail, disconnecting the store, metadata repair, purge.

use super::account::*;
use crate::domain::email::normalize_email;
use crate::domain::error::AuthError;
use crate::legacy_store::http::HttpError;
use crate::legacy_store::{fdw, StoreError};
use crate::pg::legacy::{self, Store, StoreKind, Stores};
use crate::pg::sqlstate::Failure;
use crate::pg::storage;
use pgrx::JsonB;

/// Admin: removes every trace of an email — user, tokens, lockout state, events, tombstone. Returns
/// how many rows went.
pub fn forget_user(raw_email: &str) -> Result<i64, Failure> {
    let email = normalize_email(raw_email)?;
    crate::pg::lockout::forgive(&email);
    Ok(storage::forget_user(&email))
}

pub struct Progress {
    pub local: storage::LocalProgress,
    pub legacy_total: Option<i64>,
    pub legacy_remaining: Option<i64>,
}

impl Progress {
    pub fn percent_migrated(&self) -> Option<f64> {
        percent(self.legacy_total, self.legacy_remaining)
    }
}

/// How far the migration is for one connected store.
pub struct StoreProgress {
    pub store: String,
    pub store_kind: &'static str,
    /// The store's own count; None when it offers none or cannot count now.
    pub legacy_total: Option<i64>,
    /// Local users who came from it.
    pub migrated: i64,
    pub legacy_remaining: Option<i64>,
}

impl StoreProgress {
    pub fn percent_migrated(&self) -> Option<f64> {
        percent(self.legacy_total, self.legacy_remaining)
    }
}

fn percent(total: Option<i64>, remaining: Option<i64>) -> Option<f64> {
    match (total, remaining) {
        (Some(total), Some(remaining)) if total > 0 => Some(100.0 * (total - remaining) as f64 / total as f64),
        _ => None,
    }
}

/// Admin: how far the migration is, store by store. The legacy side counts where a store can: an FDW relation
/// exactly (an anti-join on the normalised email); an HTTP store through its optional count, minus the users that
/// came from it (and the bulk-imported ones, when it is the only store). A store that cannot count (down, or a bad
/// answer) has NULL legacy counts, with a warning: the rest of the report is still worth having.
pub fn store_progress() -> Result<Vec<StoreProgress>, Failure> {
    progress_of_stores(&storage::local_progress())
}

fn progress_of_stores(local: &storage::LocalProgress) -> Result<Vec<StoreProgress>, Failure> {
    let stores = legacy::configured_stores()?;
    let migrated_from = storage::migrated_per_store();
    let imported = local.imported_pending + local.imported_logged_in;
    let mut rows = Vec::new();
    for store in stores.all() {
        let legacy_total = match legacy::count_users(store) {
            Ok(total) => total,
            Err(Failure::Store(err)) => {
                pgrx::warning!(
                    "pg_trickle: the user count is unknown for legacy store {} ({err}); its legacy counts are NULL",
                    store.name
                );
                None
            }
            Err(other) => return Err(other),
        };
        let migrated = migrated_from.get(&store.name).copied().unwrap_or(0);
        let legacy_remaining = match (&store.kind, legacy_total) {
            (_, None) => None,
            (StoreKind::Fdw(fdw), Some(_)) => {
                Some(storage::legacy_count(&fdw::mapping::unmigrated_sql(&legacy::staged_rows(fdw), true)))
            }
            (StoreKind::Http(_), Some(total)) => {
                let imported_here = if stores.all().len() == 1 { imported } else { 0 };
                Some((total - migrated - imported_here).max(0))
            }
        };
        rows.push(StoreProgress {
            store: store.name.clone(),
            store_kind: store.adapter(),
            legacy_total,
            migrated,
            legacy_remaining,
        });
    }
    Ok(rows)
}

/// Admin: how far the migration is, over every connected store (legacy counts NULL when a store cannot count).
pub fn migration_progress() -> Result<Progress, Failure> {
    let local = storage::local_progress();
    let stores = progress_of_stores(&local)?;
    if stores.is_empty() {
        return Ok(Progress { local, legacy_total: None, legacy_remaining: None });
    }
    let sum = |part: fn(&StoreProgress) -> Option<i64>| stores.iter().map(part).sum::<Option<i64>>();
    Ok(Progress { local, legacy_total: sum(|s| s.legacy_total), legacy_remaining: sum(|s| s.legacy_remaining) })
}

/// Rows `read` gives for each FDW store, store by store in order, `limit` in all; 22023 when no store is an FDW
/// store. `read` gets the store, its staged rows and how many rows are still wanted.
fn from_fdw_stores<T>(limit: i64, read: impl Fn(&Store, &str, i64) -> Vec<T>) -> Result<Vec<T>, Failure> {
    let stores = legacy::configured_stores()?;
    let mut out = Vec::new();
    let mut any_fdw = false;
    for store in stores.all() {
        if let StoreKind::Fdw(fdw) = &store.kind {
            any_fdw = true;
            let left = (limit.max(0) - out.len() as i64).max(0);
            out.extend(read(store, &legacy::staged_rows(fdw), left));
        }
    }
    if any_fdw {
        Ok(out)
    } else {
        Err(AuthError::NotAnFdwStore.into())
    }
}

/// Admin (FDW stores): legacy users with no local user yet, `limit` at most, store by store in order.
pub fn unmigrated_users(limit: i64) -> Result<Vec<storage::UnmigratedUser>, Failure> {
    from_fdw_stores(limit, |_, staged, left| storage::unmigrated(&fdw::mapping::unmigrated_sql(staged, false), left))
}

/// Admin (FDW stores): legacy emails that several rows hold, store by store, `limit` at most: such users are refused
/// at login (`ambiguous_legacy_rows`) and at import (`duplicate_email`) until the rows are fixed.
pub fn duplicate_legacy_users(limit: i64) -> Result<Vec<(String, storage::DuplicateEmail)>, Failure> {
    from_fdw_stores(limit, |store, staged, left| {
        let found = storage::duplicates(&fdw::mapping::duplicates_sql(staged), left);
        found.into_iter().map(|d| (store.name.clone(), d)).collect()
    })
}

/// Admin: whether disconnecting the legacy stores cuts anyone off: (safe, remaining, a sample of them).
pub fn disconnect_check() -> Result<(Option<bool>, Option<i64>, JsonB), Failure> {
    let progress = migration_progress()?;
    let stores = legacy::configured_stores()?;
    let sample = if stores.all().iter().any(|s| matches!(s.kind, StoreKind::Fdw(_))) {
        unmigrated_users(10)?.into_iter().filter_map(|(_, email)| email).collect()
    } else {
        Vec::new()
    };
    let safe = progress.legacy_remaining.map(|r| r == 0);
    Ok((safe, progress.legacy_remaining, JsonB(serde_json::json!(sample))))
}

/// Admin: a legacy store (None: every store) goes quiet while import mode stays as it is: migrated and native
/// users log in as before, its unmigrated users get invalid_credentials (unless a later store knows them), signup
/// stops consulting it. Transactional; `reconnect_external_store` restores it. Returns the stores' names.
pub fn disconnect_external_store(store: Option<&str>) -> Result<String, Failure> {
    let names = storage::disconnect_store(store);
    if names.is_empty() {
        return Err(AuthError::NoLegacyStore.into());
    }
    Ok(names.join(", "))
}

pub fn reconnect_external_store(store: Option<&str>) -> Result<String, Failure> {
    let names = storage::reconnect_store(store);
    if names.is_empty() {
        return Err(AuthError::NothingDisconnected.into());
    }
    Ok(names.join(", "))
}

/// Admin: forgets a store's settings and secrets (its users keep its name).
pub fn remove_external_store(store: &str) -> Result<(), Failure> {
    if storage::remove_store(store) {
        Ok(())
    } else {
        Err(AuthError::NoSuchStore.into())
    }
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
    /// The local profile after the merge, and whether the store said what the metadata is (empty included).
    Merged { profile: JsonB, metadata_known: bool },
}

/// Re-reads one migrated user's profile from the first store that knows the email (getUser) and merges its
/// metadata under what the application has written since.
fn refill(stores: &Stores, email: &str) -> Result<Refill, Failure> {
    let mut found = None;
    for store in stores.serving(email) {
        found = legacy::get_user(store, email)?;
        if found.is_some() {
            break;
        }
    }
    let Some(legacy) = found else { return Ok(Refill::NotInStore) };
    let metadata_known = legacy.metadata_known;
    let object = |m: &serde_json::Map<String, serde_json::Value>| JsonB(serde_json::Value::Object(m.clone()));
    match storage::backfill_metadata(email, object(&legacy.user_metadata), object(&legacy.app_metadata), metadata_known)
    {
        Some(profile) => Ok(Refill::Merged { profile, metadata_known }),
        None => Err(AuthError::UserNotFound.into()),
    }
}

/// Admin: repairs up to `batch_size` migrated users flagged for missing metadata. Local keys win.
pub fn backfill_metadata(batch_size: i64) -> Result<BackfillReport, Failure> {
    let stores = legacy::configured_stores()?;
    if stores.is_empty() {
        return Err(AuthError::NoLegacyStore.into());
    }
    let mut report = BackfillReport { checked: 0, repaired: 0, still_missing: 0, not_in_store: 0 };
    for email in storage::incomplete_metadata(batch_size.max(0)) {
        report.checked += 1;
        match refill(&stores, &email)? {
            Refill::NotInStore => report.not_in_store += 1,
            Refill::Merged { metadata_known: false, .. } => report.still_missing += 1,
            Refill::Merged { metadata_known: true, .. } => report.repaired += 1,
        }
    }
    Ok(report)
}

/// Admin: re-reads one user's metadata from the legacy store, flagged or not; returns the profile.
pub fn repair_user(raw_email: &str) -> Result<JsonB, Failure> {
    let email = normalize_email(raw_email)?;
    existing_user(&email)?;
    let stores = legacy::configured_stores()?;
    if stores.is_empty() {
        return Err(AuthError::NoLegacyStore.into());
    }
    match refill(&stores, &email)? {
        Refill::Merged { profile, .. } => Ok(profile),
        Refill::NotInStore => Err(AuthError::UserNotFound.into()),
    }
}

/// One line of `auth.check_store()`.
pub struct StoreCheck {
    /// None: about the configuration as a whole.
    pub store: Option<String>,
    pub item: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// An address no legacy store holds (`.invalid` is reserved, RFC 2606): what the store answers about it shows
/// whether it is reachable, accepts pg_trickle's own credentials and speaks the contract.
const PROBE_EMAIL: &str = "pg-trickle-check@example.invalid";

/// Admin: asks each connected legacy store what a login and a look-up would, and says what went wrong where: for
/// an HTTP store reachability and TLS, pg_trickle's request credentials, the contract's not-found answer, a known
/// user's profile (`sample_email`), the count endpoint and the round trip; for an FDW store its reader role, the
/// relation and the hash format of a sample row. Nothing is migrated or recorded.
pub fn check_store(sample_email: Option<&str>) -> Result<Vec<StoreCheck>, Failure> {
    let overall = |ok, detail: String| StoreCheck { store: None, item: "configuration", ok, detail };
    let stores = match legacy::configured_stores() {
        Ok(stores) if stores.is_empty() => return Ok(vec![overall(false, "no legacy store is configured".into())]),
        Ok(stores) => stores,
        Err(err) => return Ok(vec![overall(false, err.to_string())]),
    };
    let sample_email = sample_email.map(normalize_email).transpose()?;
    let mut lines = vec![overall(true, format!("{} connected store(s), asked in this order", stores.all().len()))];
    for store in stores.all() {
        lines.extend(check_one_store(store, sample_email.as_deref())?);
    }
    Ok(lines)
}

fn check_one_store(store: &Store, sample_email: Option<&str>) -> Result<Vec<StoreCheck>, Failure> {
    let line = |item, ok, detail: String| StoreCheck { store: Some(store.name.clone()), item, ok, detail };
    let mut lines = vec![line("configuration", true, format!("{} store", store.adapter()))];
    match &store.kind {
        StoreKind::Http(_) => {
            let started = std::time::Instant::now();
            let probe = legacy::get_user(store, PROBE_EMAIL);
            let round_trip = started.elapsed().as_secs_f64() * 1000.0;
            let reached = !matches!(
                probe,
                Err(Failure::Store(StoreError::Http(
                    HttpError::Unreachable(_) | HttpError::Timeout(_) | HttpError::ConnectionFailed(_)
                )))
            );
            lines.push(match &probe {
                Err(err) if !reached => line("reachable", false, err.to_string()),
                _ => line("reachable", true, format!("answered in {round_trip:.1} ms")),
            });
            if reached {
                lines.push(match &probe {
                    Err(Failure::Store(StoreError::Http(HttpError::RequestRefused))) => {
                        line("request credentials", false, "refused (HTTP 401 with WWW-Authenticate)".into())
                    }
                    _ => line("request credentials", true, "accepted".into()),
                });
                lines.push(match probe {
                    Ok(None) => line("unknown user", true, "answered as not found".into()),
                    Ok(Some(_)) => line("unknown user", false, format!("the store returned a user for {PROBE_EMAIL}")),
                    Err(Failure::Store(StoreError::Http(HttpError::RequestRefused))) => {
                        line("unknown user", false, "not asked: the request credentials were refused".into())
                    }
                    Err(err) => line("unknown user", false, err.to_string()),
                });
            }
            if let Some(email) = sample_email.filter(|email| store.serves(email)) {
                lines.push(match legacy::get_user(store, email) {
                    Ok(Some(profile)) => line(
                        "sample user",
                        profile.enabled,
                        format!(
                            "profile with legacy id, {}{}",
                            if profile.metadata_known { "metadata" } else { "no metadata (flagged for backfill)" },
                            if profile.enabled { "" } else { "; the account is disabled" }
                        ),
                    ),
                    Ok(None) => line("sample user", false, "not found".into()),
                    Err(err) => line("sample user", false, err.to_string()),
                });
            }
            lines.push(match legacy::count_users(store) {
                Ok(Some(n)) => line("user count", true, format!("{n} users")),
                Ok(None) => line("user count", true, "not offered: progress shows no legacy totals".into()),
                Err(err) => line("user count", false, err.to_string()),
            });
        }
        StoreKind::Fdw(fdw) => {
            lines.push(line("reader role", true, storage::role_name(fdw.reader.into())));
            // Errors of the legacy database itself (down, no user mapping) are PostgreSQL's own and end the call.
            let count = legacy::count_users(store)?.unwrap_or(0);
            lines.push(line("relation", true, format!("{} readable as the reader: {count} rows", fdw.relation)));
            lines.push(match legacy::sample_hash_format(fdw) {
                Some(Ok(format)) => line("hash format", true, format!("a sample row's hash is {format}")),
                Some(Err(problem)) => line("hash format", false, format!("a sample row's hash is {problem}")),
                None => line("hash format", count == 0, "no row has a password hash".into()),
            });
        }
    }
    Ok(lines)
}
