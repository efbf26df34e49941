//! Logging in: verifying credentials locally (argon2id, or an imported legacy hash that is then upgraded),
//! lockout, and the trickle migration when the local store has no password for the user.

use super::migration::*;
use crate::domain::email::{login_name, LoginName};
use crate::domain::error::AuthError;
use crate::domain::login::{self, LoginStatus, LoginStep, Spent, StoredCredentials};
use crate::domain::password::{argon2id, check_length_limit};
use crate::domain::stats::StatEvent;
use crate::domain::store_stats::{Refusal, StoreEvent};
use crate::legacy_store::{LegacyUser, LoginAnswer, Rejection};
use crate::pg::bookkeeping::{self, Marked};
use crate::pg::legacy::{self, Store, Stores};
use crate::pg::lockout::{self, Gate};
use crate::pg::sqlstate::Failure;
use crate::pg::storage::{self, Credentials};
use crate::pg::{server_log, settings, stats};
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
pub(super) enum Verdict {
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

/// Verifies `password` for `email` (already normalised), under lockout: the attempt is counted for the email —
/// local user, legacy user or nobody — in shared memory before anything is verified, so neither the caller's
/// transaction nor concurrent guesses can get past the threshold, and a locked email never reaches the legacy
/// store. Wrong credentials are a result, not an error; every refusal costs the same work (`equalize`).
pub(super) fn verify_credentials(email: &str, password: &str) -> Result<Verdict, Failure> {
    under_lockout(email, password, |params| check_password(email, password, params))
}

/// A username no local user and no legacy store has: refused as an unknown email is — counted towards a lockout of
/// that username, at a refusal's cost.
fn refuse_unknown_username(username: &str, password: &str) -> Result<LoginStatus, Failure> {
    let refusal = LoginStatus::InvalidCredentials;
    match under_lockout(username, password, |_| Ok((Verdict::Refused(refusal), Spent::NOTHING)))? {
        Verdict::Refused(status) => Ok(status),
        _ => Ok(refusal),
    }
}

fn under_lockout(
    key: &str,
    password: &str,
    check: impl FnOnce(argon2id::Argon2Params) -> Result<(Verdict, Spent), Failure>,
) -> Result<Verdict, Failure> {
    check_length_limit(password)?;
    let params = settings::argon2_params()?;
    let reservation = match lockout::attempt(key)? {
        Gate::Open(reservation) => reservation,
        Gate::Locked => {
            // As long as a wrong password takes: a lock tells nothing about the account.
            equalize(Spent::NOTHING, key, password, params);
            return Ok(Verdict::Refused(LoginStatus::Locked));
        }
    };
    // An error on the way (the store is down, a cancel) drops the reservation: it counts neither way.
    let (verdict, spent) = check(params)?;
    match verdict {
        Verdict::Refused(_) => {
            equalize(spent, key, password, params);
            reservation.failed()
        }
        _ => reservation.succeeded(),
    }
    Ok(verdict)
}

/// Spends what a refusal has not spent yet (`Spent::missing`). Only refusals pay this, so a successful login never
/// reads the store configuration; nor does a refusal wait for it while an extension update holds it locked (the
/// legacy part is skipped then).
fn equalize(spent: Spent, email: &str, password: &str, params: argon2id::Argon2Params) {
    let missing = spent.missing();
    if missing.argon2id {
        let _ = argon2id::verify_password(password, &argon2id::dummy_hash(params), settings::hash_budget());
    }
    if missing.legacy_hash {
        if let Some(stores) = legacy::current_stores_without_waiting() {
            legacy::spend_like_a_check(stores.serving(email), password);
        }
    }
}

/// Checks the password locally, or — for a user the local store has no password for, in import mode — by asking
/// the legacy store and migrating on success. Says which verifications a refusal has done.
fn check_password(email: &str, password: &str, params: argon2id::Argon2Params) -> Result<(Verdict, Spent), Failure> {
    if password.is_empty() {
        // Never verified, never sent to the legacy store (which might accept it); it still costs a refusal's work.
        return Ok((Verdict::Refused(LoginStatus::InvalidCredentials), Spent::NOTHING));
    }
    let budget = settings::hash_budget();
    let stored = storage::find_credentials(email);
    let facts = stored.as_ref().map(|c| StoredCredentials {
        password_hash: c.password_hash.as_deref(),
        password_format: c.password_format.as_deref(),
    });
    let (verified, spent) = match login::plan(facts.as_ref()) {
        LoginStep::NoLocalPassword => match legacy::current_stores()? {
            stores if stores.serving(email).next().is_none() => (false, Spent::NOTHING),
            // Every store's answer costs one legacy verification (real, dummy, or on the store's side).
            stores => return Ok((migrate_on_login(&stores, email, password, stored.as_ref())?, Spent::LEGACY_HASH)),
        },
        LoginStep::DummyVerify => (false, Spent::NOTHING),
        LoginStep::VerifyArgon2id(phc) => {
            let verified = argon2id::verify_password(password, phc, budget).unwrap_or_else(|err| {
                let user_id = stored.as_ref().map(|c| c.user_id.to_string()).unwrap_or_default();
                let why =
                    if matches!(err, AuthError::LegacyHash(_)) { "is beyond the cost bounds" } else { "is unreadable" };
                server_log::log(&format!(
                    "pg_trickle: the argon2 hash of user {user_id} {why}; treated as a failed login"
                ));
                false
            });
            (verified, Spent::ARGON2ID)
        }
        LoginStep::VerifyLegacy { hash, format } => {
            let hash_params = stored.as_ref().and_then(|c| c.password_params.as_ref()).map(|p| p.0.clone());
            let verified = match legacy::verify_hash(password, hash, format, &hash_params.unwrap_or_default()) {
                Ok(verified) => verified,
                Err(err) => {
                    record_event(
                        email,
                        "login",
                        Asked::Import,
                        Rejection::UnverifiableHash(err.class()).outcome(),
                        None,
                        Some(err.class()),
                    );
                    false
                }
            };
            (verified, Spent::LEGACY_HASH)
        }
    };
    let Some(user) = stored.as_ref().filter(|_| verified) else {
        return Ok((Verdict::Refused(LoginStatus::InvalidCredentials), spent));
    };
    // An imported legacy hash (any format but argon2id) is replaced on its first successful login.
    let upgraded_hash = match facts.as_ref().and_then(|f| f.password_hash) {
        Some(phc) if argon2id::needs_rehash(phc, params) => Some(argon2id::hash_password(password, params, budget)?),
        _ => None,
    };
    Ok((Verdict::Authenticated { user_id: user.user_id, upgraded_hash }, spent))
}

/// The trickle migration: the stores that serve the email are asked in order, and the first to accept the password
/// is the one the user moves from (an argon2id hash of it, inside the caller's transaction). A store that knows the
/// user and refuses ends the search: the first store that knows a user decides. The stores not asked then spend
/// what a check costs, so a refusal's duration does not tell which store knows the email. No lock is held while a
/// store is asked; a store that cannot answer fails the login (a later store is never asked in its place).
fn migrate_on_login(
    stores: &Stores,
    email: &str,
    password: &str,
    existing: Option<&Credentials>,
) -> Result<Verdict, Failure> {
    let serving: Vec<&Store> = stores.serving(email).collect();
    let refused = Ok(Verdict::Refused(LoginStatus::InvalidCredentials));
    for (asked, store) in serving.iter().enumerate() {
        let started = Instant::now();
        let answer = call_store(StoreCall::Login, store, started, || legacy::login(store, email, password))?;
        let latency = Some(started.elapsed().as_secs_f64() * 1000.0);
        let event = |outcome: &str, class: Option<&str>| {
            record_event(email, "login", Asked::Store(store), outcome, latency, class)
        };
        let reason = match answer {
            LoginAnswer::Accepted(profile) if profile.enabled => {
                return move_user(store, &profile, email, password, existing, &event)
            }
            LoginAnswer::Accepted(_) => Rejection::Disabled,
            LoginAnswer::Rejected(reason) => reason,
        };
        let refusal = match reason {
            Rejection::UnknownUser => Refusal::UnknownUser,
            Rejection::WrongPassword => Refusal::WrongPassword,
            _ => Refusal::Other,
        };
        stats::record_store(&store.name, StoreEvent::Rejection(refusal));
        if reason.leaves_the_email_to_later_stores() {
            continue;
        }
        if reason == Rejection::WrongPassword {
            // Anyone can cause one for any email: a counter, not an event row each.
            stats::record(StatEvent::LegacyRejection);
        } else {
            let class = match &reason {
                Rejection::UnverifiableHash(class) => Some(*class),
                _ => None,
            };
            event(reason.outcome(), class);
        }
        legacy::spend_like_a_check(serving[asked + 1..].iter().copied(), password);
        return refused;
    }
    stats::record(StatEvent::LegacyRejection);
    refused
}

/// A store accepted the password: the user moves over from it.
fn move_user(
    store: &Store,
    profile: &LegacyUser,
    email: &str,
    password: &str,
    existing: Option<&Credentials>,
    event: &dyn Fn(&str, Option<&str>),
) -> Result<Verdict, Failure> {
    if storage::transaction_is_read_only() {
        return Err(AuthError::ReadOnlyMigration.into());
    }
    if existing.is_none() && !may_come_back(email) {
        event("tombstoned", None);
        return Ok(Verdict::Refused(LoginStatus::InvalidCredentials));
    }
    let hash = argon2id::hash_password(password, settings::argon2_params()?, settings::hash_budget())?;
    let (verdict, notes) = if let Some(user) = existing {
        // The profile moved earlier (admin migrate, password reset); now the password follows — unless the user
        // was deleted meanwhile.
        match storage::record_login_success(user.user_id, Some(&hash)) {
            Some(profile) => (Verdict::Migrated { user_id: user.user_id, profile }, None),
            None => (Verdict::Refused(LoginStatus::InvalidCredentials), None),
        }
    } else {
        match insert_migrated(profile, store, Some(&hash))? {
            Inserted::New { user_id, profile, notes } => (Verdict::Migrated { user_id, profile }, notes),
            Inserted::Existing { user_id } => (Verdict::MigratedConcurrently { user_id }, None),
        }
    };
    if matches!(verdict, Verdict::Migrated { .. }) {
        event("migrated", notes.as_deref());
        stats::record_store(&store.name, StoreEvent::Migration);
    }
    Ok(verdict)
}

/// Logs in by email, or by username (no '@'): a username is first turned into its user's email — the local user's,
/// else (import mode) that of the first store, in ask order, whose mapping names a username column and that has
/// the user — and the login then goes on by that email, so its lockout, legacy store and migration are the email's.
pub fn login(raw_name: &str, password: &str) -> Result<LoginResult, Failure> {
    let email = match login_name(raw_name)? {
        LoginName::Email(email) => email,
        LoginName::Username(username) => match email_of_username(&username)? {
            Some(email) => email,
            None => return Ok(refused(refuse_unknown_username(&username, password)?)),
        },
    };
    let verdict = verify_credentials(&email, password)?;
    let (status, user_id, profile) = match verdict {
        Verdict::Refused(status) => return Ok(refused(status)),
        Verdict::Migrated { user_id, profile } => {
            stats::record(StatEvent::Migration);
            (LoginStatus::Migrated, user_id, profile)
        }
        Verdict::Authenticated { user_id, upgraded_hash } => {
            match login_bookkeeping(&email, user_id, upgraded_hash.as_deref()) {
                Some(profile) => (LoginStatus::Authenticated, user_id, profile),
                None => return Ok(refused(LoginStatus::InvalidCredentials)),
            }
        }
        Verdict::MigratedConcurrently { user_id } => match login_bookkeeping(&email, user_id, None) {
            Some(profile) => (LoginStatus::Authenticated, user_id, profile),
            None => return Ok(refused(LoginStatus::InvalidCredentials)),
        },
    };
    if status == LoginStatus::Authenticated {
        stats::record(StatEvent::Hit);
    }
    Ok(LoginResult::granted(status, user_id, email, profile))
}

/// The email of the user a username names. A store's answer counts only for an email that store serves (its email
/// domains), so a username never leads to an email another store decides for.
fn email_of_username(username: &str) -> Result<Option<String>, Failure> {
    if let Some(email) = storage::email_by_username(username) {
        return Ok(Some(email));
    }
    for store in legacy::current_stores()?.all().iter().filter(|store| store.looks_up_usernames()) {
        let found =
            call_store(StoreCall::Lookup, store, Instant::now(), || legacy::email_of_username(store, username))?;
        if let Some(email) = found.filter(|email| store.serves(email)) {
            return Ok(Some(email));
        }
    }
    Ok(None)
}

fn refused(status: LoginStatus) -> LoginResult {
    stats::record(match status {
        LoginStatus::Locked => StatEvent::Locked,
        _ => StatEvent::InvalidCredentials,
    });
    LoginResult::refused(status)
}

/// Records a successful local login and returns the profile; None when the user was deleted by a concurrent
/// transaction after the password was checked (the login then fails like a wrong password). A plain success
/// writes nothing: its last_login_at waits in shared memory for the keeper (`pg::bookkeeping`), so the login is a
/// pure read. A rehash is written here, where the transaction can write (else at the next writable login).
fn login_bookkeeping(email: &str, user_id: Uuid, upgraded_hash: Option<&str>) -> Option<JsonB> {
    let writable = !storage::transaction_is_read_only();
    if let (Some(hash), true) = (upgraded_hash, writable) {
        return storage::record_login_success(user_id, Some(hash));
    }
    match bookkeeping::mark_login(user_id) {
        Marked::WriteItNow if writable => storage::record_login_success(user_id, None),
        _ => storage::profile_by_email(email),
    }
}
